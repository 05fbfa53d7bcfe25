"""Analytic scenes for the reference network's tests: rippled ellipsoids with exact depth and normals.

A "person" is the front half of an ellipsoid-like height field seen by a pinhole camera:
``z(u, v) = z0 - a * sqrt(1 - q) + A * sin(k_u u) * sin(k_v v)`` inside the ellipse ``q < 1`` of pixel radii
(ru, rv), background depth 0 (no value).  The smooth part is ``depth_base``, the ripple ``depth_detail``.
Normals are exact: the cross product of the analytic derivatives of ``P(u, v) = z(u, v) * K^-1 (u, v, 1)``.
Parts are vertical bands of the ellipse, joints sit at fixed fractions of it (joints3d back-projected).
"""

from __future__ import annotations

import numpy as np

from humandepth.baselines.reference.config import ModelConfig
from humandepth.data import Camera, Sample, write_samples

# a network small enough for unit tests (seconds per step on the CPU)
TINY = {"input_size": 64, "hg_features": 16, "hg_stacks": 2, "hg_levels": 2, "depth_features": 16,
        "depth_levels": 5, "normal_widths": [8, 8, 8, 8, 8, 8]}
TINY_TRAIN = {"batch_size": 2, "stage1_steps": 3, "stage2_steps": 2, "log_every": 1, "checkpoint_every": 2,
              "seed": 3}

# joint positions as (fraction of ru from the centre in x, fraction of rv in y); y grows downwards
_JOINTS_UV = [(0.0, 0.1), (-0.25, 0.15), (0.25, 0.15), (-0.3, 0.5), (0.3, 0.5), (0.0, -0.3), (-0.3, 0.85),
              (0.3, 0.85), (0.0, -0.55), (0.0, -0.8), (-0.4, -0.5), (0.4, -0.5), (-0.6, -0.2), (0.6, -0.2),
              (-0.7, 0.1), (0.7, 0.1)]


def tiny_model_config(architecture: str = "full") -> ModelConfig:
    return ModelConfig.from_dict({**TINY, "architecture": architecture})


def rippled_scene(sample_id: str, seed: int, height: int = 72, width: int = 60, ripple: float = 0.01) -> Sample:
    """One analytic sample (see the module docstring) with every field the reference network trains on."""
    rng = np.random.default_rng(seed)
    cam = Camera.from_focal(width, height, f_px=1.2 * max(width, height))
    fx, cx, cy = cam.fx, cam.cx, cam.cy
    z0 = rng.uniform(2.0, 3.0)
    a = rng.uniform(0.15, 0.3)
    cu = width / 2 + rng.uniform(-4, 4)
    cv = height / 2 + rng.uniform(-4, 4)
    ru, rv = rng.uniform(0.2, 0.32) * width, rng.uniform(0.33, 0.42) * height
    ku, kv = rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    q = ((u - cu) / ru) ** 2 + ((v - cv) / rv) ** 2
    mask = q < 0.95
    s = np.sqrt(np.clip(1 - q, 1e-6, None))
    base = np.where(mask, z0 - a * s, 0.0)
    detail = np.where(mask, ripple * np.sin(ku * u) * np.sin(kv * v), 0.0)
    z = base + detail
    # analytic dz/du, dz/dv
    dq_du, dq_dv = 2 * (u - cu) / ru**2, 2 * (v - cv) / rv**2
    zu = a * dq_du / (2 * s) + ripple * ku * np.cos(ku * u) * np.sin(kv * v)
    zv = a * dq_dv / (2 * s) + ripple * kv * np.sin(ku * u) * np.cos(kv * v)
    ray = np.stack([(u - cx) / fx, (v - cy) / fx, np.ones_like(u)], -1)
    pu = zu[..., None] * ray + z[..., None] * np.array([1 / fx, 0, 0])
    pv = zv[..., None] * ray + z[..., None] * np.array([0, 1 / fx, 0])
    n = np.cross(pv, pu)
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    n = np.where(norm > 0, n / np.where(norm > 0, norm, 1.0), 0.0)
    n[np.sum(n * ray, -1) > 0] *= -1
    n[~mask] = 0
    # parts: head (1) above -0.6 rv, torso (2) between, upper/lower legs (9-12) below, split left/right
    rel_v = (v - cv) / rv
    parts = np.zeros((height, width), np.uint8)
    right = u < cu
    parts[mask & (rel_v < -0.6)] = 1
    parts[mask & (rel_v >= -0.6) & (rel_v < 0.2)] = 2
    parts[mask & (rel_v >= 0.2) & (rel_v < 0.6)] = np.where(right, 9, 10)[mask & (rel_v >= 0.2) & (rel_v < 0.6)]
    parts[mask & (rel_v >= 0.6)] = np.where(right, 11, 12)[mask & (rel_v >= 0.6)]
    j2d = np.array([[cu + fu * ru, cv + fv * rv] for fu, fv in _JOINTS_UV], np.float64)
    ju = np.clip(np.round(j2d[:, 0]).astype(int), 0, width - 1)
    jv = np.clip(np.round(j2d[:, 1]).astype(int), 0, height - 1)
    jz = np.where(mask[jv, ju], z[jv, ju], z0) + 0.1  # joints lie inside the body
    j3d = np.stack([(j2d[:, 0] - cx) / fx * jz, (j2d[:, 1] - cy) / fx * jz, jz], -1)
    # RGB: Lambertian shading of an albedo over a textured background
    light = np.array([0.3, -0.4, -0.87])
    shade = np.clip(-(n @ -light), 0, 1) * 0.7 + 0.3
    albedo = rng.uniform(0.3, 0.9, 3)
    bg = rng.uniform(0.1, 0.9, 3) * (0.8 + 0.2 * np.sin(0.3 * u + 0.2 * v))[..., None]
    rgb = np.where(mask[..., None], shade[..., None] * albedo, bg)
    return Sample(
        id=sample_id, rgb=(np.clip(rgb, 0, 1) * 255).round().astype(np.uint8), depth=z.astype(np.float32),
        mask=mask, normal=n.astype(np.float32), parts=parts, depth_base=base.astype(np.float32),
        depth_detail=detail.astype(np.float32), joints2d=j2d.astype(np.float32), joints3d=j3d.astype(np.float32),
        camera=cam, meta={"generator": "tests/reference_helpers.rippled_scene", "seed": seed})


def write_scene_dataset(root, count: int = 6, seed: int = 0, **kwargs):
    """Write ``count`` rippled scenes as a humandepth dataset at ``root``; returns the path."""
    samples = [rippled_scene(f"s{i:03d}", seed * 1000 + i, **kwargs) for i in range(count)]
    return write_samples(root, samples, name="reference-test-scenes", kind="synthetic", shard_size=4,
                         generator={"helper": "rippled_scene", "count": count, "seed": seed})


def one_thread():
    """Generator for an autouse fixture: torch on one thread while a module runs (restored after).

    Tiny convolutions on two threads spend most of their time in thread barriers when the machine is
    shared; one thread is both faster and steadier for these tests."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

"""Analytic scenes and small real datasets / predictions files for the benchmark tests.

Scenes are exact: a sphere or a tilted plane seen by a pinhole camera (OpenCV frame), with planar
depth from ray intersection and analytic normals facing the camera.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from humandepth.data import Camera, PredictionsWriter, Sample, write_samples


def _shade(normal: np.ndarray, mask: np.ndarray) -> np.ndarray:
    light = np.array([0.3, -0.4, -0.866])
    v = np.clip(np.einsum("hwc,c->hw", normal, light), 0, 1)
    rgb = np.repeat((40 + 200 * v)[..., None], 3, axis=2)
    rgb[~mask] = (90, 110, 130)
    return rgb.astype(np.uint8)


def sphere_sample(sid: str, size: int = 48, centre=(0.0, 0.0, 2.0), radius: float = 0.35, f_px: float = 60.0) -> Sample:
    """A sphere of ``radius`` m centred at ``centre`` (camera frame, m): exact planar depth, mask, normals."""
    cam = Camera.from_focal(size, size, f_px)
    r = cam.rays()
    c = np.asarray(centre, np.float64)
    a = np.einsum("hwc,hwc->hw", r, r)
    b = r @ c
    disc = b * b - a * (c @ c - radius**2)
    mask = disc > 0
    t = np.where(mask, (b - np.sqrt(np.where(mask, disc, 0.0))) / a, 0.0)  # planar depth (rays have z = 1)
    normal = np.where(mask[..., None], (t[..., None] * r - c) / radius, 0.0)
    return Sample(id=sid, rgb=_shade(normal, mask), depth=t.astype(np.float32), mask=mask,
                  normal=normal.astype(np.float32), camera=cam, meta={"scene": "sphere", "centre": list(centre)})


def plane_sample(sid: str, size: int = 48, depth_at_centre: float = 2.5, tilt_deg: float = 20.0,
                 disc_px: float = 18.0, f_px: float = 60.0) -> Sample:
    """A plane through (0, 0, depth_at_centre) tilted about the y axis by ``tilt_deg``, seen inside a disc."""
    cam = Camera.from_focal(size, size, f_px)
    r = cam.rays()
    th = np.radians(tilt_deg)
    n = np.array([np.sin(th), 0.0, -np.cos(th)])  # faces the camera
    p0 = np.array([0.0, 0.0, depth_at_centre])
    t = (n @ p0) / (r @ n)
    u, v = np.meshgrid(np.arange(size), np.arange(size))
    mask = (u - cam.cx) ** 2 + (v - cam.cy) ** 2 < disc_px**2
    depth = np.where(mask, t, 0.0).astype(np.float32)
    normal = np.where(mask[..., None], n, 0.0).astype(np.float32)
    return Sample(id=sid, rgb=_shade(normal, mask), depth=depth, mask=mask, normal=normal, camera=cam,
                  meta={"scene": "plane", "tilt_deg": tilt_deg})


def scene_samples(n: int = 6, size: int = 48) -> list[Sample]:
    """``n`` samples alternating spheres and planes at different poses; ids ``s00``, ``s01``, ..."""
    out = []
    for i in range(n):
        if i % 2 == 0:
            out.append(sphere_sample(f"s{i:02d}", size, centre=(0.05 * i - 0.1, 0.02 * i, 1.8 + 0.1 * i)))
        else:
            out.append(plane_sample(f"s{i:02d}", size, depth_at_centre=2.0 + 0.1 * i, tilt_deg=10.0 + 5 * i))
    return out


def write_dataset(root, samples: list[Sample], name: str = "analytic") -> Path:
    """A real ``humandepth`` HDF5 dataset on disk (DatasetWriter), small shards so several exist."""
    return write_samples(root, samples, name=name, kind="synthetic", shard_size=4,
                         generator={"scenes": "analytic spheres and planes"}, license="CC0")


def write_predictions(path, depths: dict, method: str = "test-method", depth_kind: str = "metric",
                      normals: dict | None = None, order: list[str] | None = None) -> Path:
    """A predictions file via PredictionsWriter; ``order`` sets the order ids are written in."""
    normals = normals or {}
    with PredictionsWriter(path, method=method, depth_kind=depth_kind) as w:
        for sid in order or list(depths):
            w.add(sid, depths[sid], normal=normals.get(sid))
    return Path(path)


def write_raw_predictions(path, depths: dict, method: str = "raw", depth_kind: str = "metric") -> Path:
    """A predictions file written with h5py directly, keeping each array's dtype (PredictionsWriter casts)."""
    with h5py.File(path, "w") as f:
        f.attrs["method"] = method
        f.attrs["depth_kind"] = depth_kind
        g = f.create_group("depth")
        for sid, d in depths.items():
            g.create_dataset(sid, data=d)
    return Path(path)

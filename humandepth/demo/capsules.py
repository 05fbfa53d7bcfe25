"""An analytic stand-in person: capsules ray-cast exactly, for a demo and tests that need no renderer.

The figure is 16 joints (the paper's order, :data:`humandepth.data.JOINT_NAMES`) joined by
capsules, one per body part of the paper's 14; hands and head are spheres.  Depth and the part of
every pixel come from exact ray/capsule intersection.  Cloth-like ripples of a few millimetres are
then added to the torso and thighs, and normals are computed from the rippled depth with the
intrinsics (:func:`humandepth.data.normals_from_depth`), so depth and normals agree.
"""

from __future__ import annotations

import numpy as np

from humandepth.data.base_detail import split_base_detail
from humandepth.data.camera import Camera
from humandepth.data.geometry import normals_from_depth
from humandepth.data.sample import Sample

# Rest skeleton in a body frame: metres, +Y up, +Z towards the viewer, feet at y = 0.
REST_JOINTS = np.array([
    [0.00, 0.95, 0.0],   # pelvis
    [-0.10, 0.90, 0.0],  # right hip
    [0.10, 0.90, 0.0],   # left hip
    [-0.11, 0.50, 0.02],  # right knee
    [0.11, 0.50, 0.02],  # left knee
    [0.00, 1.25, 0.0],   # chest
    [-0.12, 0.08, 0.0],  # right foot
    [0.12, 0.08, 0.0],   # left foot
    [0.00, 1.48, 0.0],   # neck
    [0.00, 1.62, 0.0],   # head
    [-0.19, 1.43, 0.0],  # right shoulder
    [0.19, 1.43, 0.0],   # left shoulder
    [-0.24, 1.15, 0.0],  # right elbow
    [0.24, 1.15, 0.0],   # left elbow
    [-0.27, 0.88, 0.03],  # right hand
    [0.27, 0.88, 0.03],  # left hand
])

# (part label 1..14, joint a, joint b, radius m)
CAPSULES = (
    (1, 9, 9, 0.105),   # head
    (2, 0, 8, 0.150),   # torso
    (3, 10, 12, 0.050), (4, 11, 13, 0.050),  # upper arms
    (5, 12, 14, 0.042), (6, 13, 15, 0.042),  # lower arms
    (7, 14, 14, 0.048), (8, 15, 15, 0.048),  # hands
    (9, 1, 3, 0.075), (10, 2, 4, 0.075),     # upper legs
    (11, 3, 6, 0.058), (12, 4, 7, 0.058),    # lower legs
    (13, 6, 6, 0.060), (14, 7, 7, 0.060),    # feet
)
PART_COLOURS = np.array([
    [0, 0, 0], [224, 172, 138], [70, 110, 170], [70, 110, 170], [70, 110, 170], [224, 172, 138],
    [224, 172, 138], [224, 172, 138], [224, 172, 138], [60, 60, 75], [60, 60, 75], [60, 60, 75], [60, 60, 75],
    [30, 30, 30], [30, 30, 30],
], np.float64)


def _rot(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def posed_joints(rng: np.random.Generator) -> np.ndarray:
    """(16, 3) joints in the body frame with random arm/leg swings (within a comfortable range)."""
    j = REST_JOINTS.copy()
    for shoulder, elbow, hand, side in ((10, 12, 14, -1), (11, 13, 15, 1)):
        r = _rot("z", side * rng.uniform(0.0, 1.2)) @ _rot("x", rng.uniform(-0.6, 0.6))
        j[elbow] = j[shoulder] + r @ (REST_JOINTS[elbow] - REST_JOINTS[shoulder])
        r2 = r @ _rot("x", rng.uniform(-1.2, 0.0))
        j[hand] = j[elbow] + r2 @ (REST_JOINTS[hand] - REST_JOINTS[elbow])
    for hip, knee, foot in ((1, 3, 6), (2, 4, 7)):
        r = _rot("x", rng.uniform(-0.5, 0.4))
        j[knee] = j[hip] + r @ (REST_JOINTS[knee] - REST_JOINTS[hip])
        j[foot] = j[knee] + r @ _rot("x", rng.uniform(0.0, 0.7)) @ (REST_JOINTS[foot] - REST_JOINTS[knee])
    return j


def _capsule_hits(rd: np.ndarray, a: np.ndarray, b: np.ndarray, r: float) -> np.ndarray:
    """Distance t along unit rays ``rd`` (N, 3) from the origin to capsule (a, b, r); inf = miss."""
    ba = b - a
    oa = -a
    baba = float(ba @ ba)
    t = np.full(len(rd), np.inf)
    if baba > 1e-12:
        bard = rd @ ba
        baoa = float(ba @ oa)
        rdoa = rd @ oa
        oaoa = float(oa @ oa)
        qa = baba - bard**2
        qb = baba * rdoa - baoa * bard
        qc = baba * oaoa - baoa**2 - r * r * baba
        h = qb**2 - qa * qc
        ok = (h >= 0) & (qa > 1e-12)
        tb = np.where(ok, (-qb - np.sqrt(np.where(ok, h, 0))) / np.where(ok, qa, 1), np.inf)
        y = baoa + tb * bard
        body = ok & (y > 0) & (y < baba) & (tb > 0)
        t[body] = tb[body]
    for centre in (a, b):  # spherical caps (and spheres when a == b)
        oc = -centre
        b2 = rd @ oc
        c2 = float(oc @ oc) - r * r
        h2 = b2**2 - c2
        ts = np.where(h2 >= 0, -b2 - np.sqrt(np.where(h2 >= 0, h2, 0)), np.inf)
        ts[ts <= 0] = np.inf
        t = np.minimum(t, ts)
    return t


def render_capsule_person(seed: int, size: int = 128, distance_m: float = 2.2, fov_deg: float = 50.0,
                          ripple_mm: float = 4.0) -> Sample:
    """One sample of the capsule figure seen by a pinhole camera (OpenCV frame, camera at the origin).

    Returns a :class:`Sample` with rgb, depth (planar z, m), mask, normal, parts, depth_base,
    depth_detail, joints2d/joints3d, camera and meta (seed and every sampled parameter).
    """
    rng = np.random.default_rng(seed)
    joints = posed_joints(rng)
    yaw = rng.uniform(-0.8, 0.8)
    dist = distance_m * rng.uniform(0.9, 1.1)
    # body frame (+Y up) -> camera frame (y down, z forward): rotate about Y, flip y and z, push away
    body_to_cam = np.diag([1.0, -1.0, -1.0]) @ _rot("y", np.pi + yaw)
    centre = np.array([0.0, 0.85, 0.0])
    joints_cam = (joints - centre) @ body_to_cam.T + [rng.uniform(-0.1, 0.1), 0.0, dist]
    cam = Camera.from_fov(size, size, fov_deg)
    rays = cam.rays().reshape(-1, 3)
    rd = rays / np.linalg.norm(rays, axis=1, keepdims=True)
    best = np.full(len(rd), np.inf)
    parts = np.zeros(len(rd), np.uint8)
    for label, ja, jb, radius in CAPSULES:
        t = _capsule_hits(rd, joints_cam[ja], joints_cam[jb], radius)
        closer = t < best
        best[closer] = t[closer]
        parts[closer] = label
    hit = np.isfinite(best)
    depth = np.where(hit, best * rd[:, 2], 0.0).reshape(size, size)
    parts = parts.reshape(size, size)
    mask = hit.reshape(size, size)
    # cloth-like ripples on torso and thighs: a few mm, period ~6-10 px, random orientation
    period = rng.uniform(6.0, 10.0)
    angle = rng.uniform(0, np.pi)
    v, u = np.mgrid[0:size, 0:size]
    ripple = ripple_mm * 1e-3 * np.sin(2 * np.pi * (u * np.cos(angle) + v * np.sin(angle)) / period)
    clothed = np.isin(parts, (2, 9, 10))
    depth = np.where(clothed, depth + ripple, depth).astype(np.float32)
    normal = normals_from_depth(depth, cam.K, mask)
    base, detail = split_base_detail(depth, mask)
    light = np.array([0.3, -0.5, -0.8])
    light /= np.linalg.norm(light)
    shade = np.clip(normal @ light, 0.0, 1.0)[..., None] * 0.8 + 0.2  # light from the camera side
    colour = PART_COLOURS[parts] * shade
    top, bottom = rng.uniform(120, 230, 3), rng.uniform(40, 140, 3)
    grad = np.linspace(0, 1, size)[:, None, None]
    background = np.broadcast_to(top * (1 - grad) + bottom * grad, (size, size, 3))
    rgb = np.where(mask[..., None], colour, background).round().clip(0, 255).astype(np.uint8)
    joints2d = cam.project(joints_cam).astype(np.float32)
    meta = {"source": "capsule-figure", "seed": int(seed), "yaw_rad": float(yaw), "distance_m": float(dist),
            "ripple_mm": float(ripple_mm), "ripple_period_px": float(period), "generator": "humandepth.demo.capsules"}
    return Sample(id=f"capsule-{seed:05d}", rgb=rgb, depth=depth, mask=mask, normal=normal, parts=parts,
                  depth_base=base, depth_detail=detail, joints2d=joints2d,
                  joints3d=joints_cam.astype(np.float32), camera=cam, meta=meta)

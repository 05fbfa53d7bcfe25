"""Camera trajectories for simulated takes (world frame metres, +Y up; poses are ``cam_from_world``, OpenCV).

* ``orbit``: the operator walks an arc around the subject at a fixed horizontal ``distance`` from
  the vertical axis through ``target``, centred on the subject's front (+Z), with a slow height bob
  and smooth hand-held jitter (seeded), always looking at the target.
* ``static``: one fixed pose in front of the subject (a tripod).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from humandepth.data.camera import look_at

TRAJECTORIES = ("orbit", "static")


def _rotation(axis_angle: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(axis_angle)
    if angle < 1e-12:
        return np.eye(3)
    k = axis_angle / angle
    Kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * Kx + (1 - np.cos(angle)) * Kx @ Kx


def make_trajectory(kind: str, frames: int, seed: int, distance: float = 1.5, target=(0.0, 1.0, 0.0),
                    height: float = 1.35, arc_deg: float = 90.0, jitter_deg: float = 1.0,
                    jitter_m: float = 0.01) -> np.ndarray:
    """(frames, 4, 4) ``cam_from_world`` poses of the camera (the depth camera of a take)."""
    if kind not in TRAJECTORIES:
        raise ValueError(f"trajectory must be one of {TRAJECTORIES}, got {kind!r}")
    if frames < 1:
        raise ValueError(f"frames must be >= 1, got {frames}")
    if not distance > 0:
        raise ValueError(f"distance must be > 0, got {distance}")
    target = np.asarray(target, dtype=np.float64)
    if kind == "static":
        pose = look_at((target[0], height, target[2] + distance), target)
        return np.repeat(pose[None], frames, axis=0)
    rng = np.random.default_rng([seed, 2])
    s = np.linspace(-0.5, 0.5, frames) if frames > 1 else np.zeros(1)
    azimuth = np.radians(arc_deg) * s
    bob = 0.05 * np.sin(2 * np.pi * (s + 0.5))
    sigma = max(frames / 10.0, 1.0)

    def smooth_noise(scale, dims):
        n = ndimage.gaussian_filter1d(rng.standard_normal((frames, dims)), sigma, axis=0, mode="nearest")
        return n / max(n.std(), 1e-12) * scale if frames > 1 else n * 0

    rot_jitter = smooth_noise(np.radians(jitter_deg), 3)
    pos_jitter = smooth_noise(jitter_m, 3)
    poses = np.empty((frames, 4, 4))
    for i in range(frames):
        eye = target + np.array([distance * np.sin(azimuth[i]), 0.0, distance * np.cos(azimuth[i])])
        eye[1] = height + bob[i]
        eye = eye + pos_jitter[i]
        T = look_at(eye, target)
        R = _rotation(rot_jitter[i]) @ T[:3, :3]
        T[:3, :3] = R
        T[:3, 3] = -R @ eye
        poses[i] = T
    return poses

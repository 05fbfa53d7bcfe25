"""Back-projection and normals from depth: computed identically by every wing.

Two image models exist:

- pinhole (``K`` given): pixel (u, v) with planar depth z maps to
  ``((u - cx) z / fx, (v - cy) z / fy, z)`` in the OpenCV camera frame (metres);
- the normalised grid of Tang et al. 2019 (``K`` is None), used where no intrinsics exist (their
  released real test frames): pixel (row r, col c) maps to ``(2c/W, 2r/H, z)``, x/y unitless and z
  in metres, exactly as the authors' refinement layer and mesh export do.
"""

from __future__ import annotations

import numpy as np


def backproject(depth: np.ndarray, K: np.ndarray | None = None) -> np.ndarray:
    """(H, W) depth in metres -> (H, W, 3) float64 points (pinhole camera frame, or the normalised grid)."""
    depth = np.asarray(depth, dtype=np.float64)
    h, w = depth.shape
    u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    if K is None:
        return np.stack([2.0 * u / w, 2.0 * v / h, depth], axis=-1)
    K = np.asarray(K, dtype=np.float64)
    x = (u - K[0, 2]) / K[0, 0] * depth
    y = (v - K[1, 2]) / K[1, 1] * depth
    return np.stack([x, y, depth], axis=-1)


def _directional_derivative(points: np.ndarray, valid: np.ndarray, axis: int, max_jump: float) -> tuple:
    """Average of forward/backward differences along ``axis`` where the neighbour is valid and close in z."""
    n = points.shape[axis]
    lo = [slice(None)] * 2
    hi = [slice(None)] * 2
    lo[axis], hi[axis] = slice(0, n - 1), slice(1, n)
    lo, hi = tuple(lo), tuple(hi)
    diff = points[hi] - points[lo]
    ok = valid[hi] & valid[lo] & (np.abs(diff[..., 2]) <= max_jump)
    fwd = np.zeros_like(points)
    fwd_ok = np.zeros(valid.shape, bool)
    bwd = np.zeros_like(points)
    bwd_ok = np.zeros(valid.shape, bool)
    fwd[lo], fwd_ok[lo] = diff, ok  # forward difference stored at the lower index
    bwd[hi], bwd_ok[hi] = diff, ok  # backward difference stored at the upper index
    count = fwd_ok.astype(np.float64) + bwd_ok
    deriv = (fwd * fwd_ok[..., None] + bwd * bwd_ok[..., None]) / np.maximum(count, 1)[..., None]
    return deriv, count > 0


def normals_from_depth(
    depth: np.ndarray, K: np.ndarray | None = None, mask: np.ndarray | None = None, max_jump: float = 0.05
) -> np.ndarray:
    """Unit normals from a depth map, facing the camera.

    Args:
        depth: (H, W) planar depth, metres, 0 = no value.
        K: (3, 3) intrinsics, or None for the normalised grid of Tang et al. 2019 (module docstring).
        mask: optional (H, W) bool; pixels outside it get no normal.
        max_jump: neighbours further apart than this in z (metres) are treated as a discontinuity.

    Returns:
        (H, W, 3) float32 normals in the camera frame (OpenCV axes) with n . ray < 0, (0, 0, 0) where
        there is no value (no depth, outside the mask, or no valid neighbour along a direction).
    """
    depth = np.asarray(depth)
    valid = np.isfinite(depth) & (depth > 0)
    if mask is not None:
        valid &= np.asarray(mask, bool)
    pts = backproject(np.where(valid, depth, 0.0), K)
    du, ok_u = _directional_derivative(pts, valid, 1, max_jump)
    dv, ok_v = _directional_derivative(pts, valid, 0, max_jump)
    n = np.cross(dv, du)  # for a fronto-parallel plane: (0, 0, -1), facing the camera
    norm = np.linalg.norm(n, axis=-1)
    good = valid & ok_u & ok_v & (norm > 1e-12)
    n = n / np.where(good, norm, 1.0)[..., None]
    ray = pts if K is not None else np.broadcast_to(np.array([0.0, 0.0, 1.0]), pts.shape)
    flip = np.sum(n * ray, axis=-1) > 0
    n[flip] *= -1
    n[~good] = 0.0
    return n.astype(np.float32)


def angular_error_deg(n_pred: np.ndarray, n_gt: np.ndarray) -> np.ndarray:
    """Angle in degrees between (..., 3) vectors (normalised here; zero vectors give NaN)."""
    a = np.asarray(n_pred, np.float64)
    b = np.asarray(n_gt, np.float64)
    na = np.linalg.norm(a, axis=-1)
    nb = np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.sum(a * b, axis=-1) / (na * nb)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))

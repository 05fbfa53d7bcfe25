"""Edge-preserving denoising of raw depth before it is integrated.

A 3x3 median over the neighbours on the same surface: each pixel with depth becomes the median of the pixels
of its 3x3 neighbourhood (itself included) whose depth lies within ``max(step_m, step_rel * z)`` of its own;
pixels without depth stay without.  Neighbours across a depth step (the person's outline against the room, an
arm before the torso) are never mixed, so outlines do not move; on a surface the noise of a D400-like sensor
drops by about half.  On simulated takes (docs/fuse.md) it lowers the fused ground truth's error against the
exact truth by a quarter to a third and tightens the fused silhouette; only integration uses it (odometry,
the motion check, the support check and the silhouette's border read the raw frames).
"""

from __future__ import annotations

import numpy as np


def median3_same_surface(depth: np.ndarray, step_m: float = 0.03, step_rel: float = 0.03) -> np.ndarray:
    """(H, W) float32 depth (metres, 0 = none) filtered as the module docstring says."""
    from numpy.lib.stride_tricks import sliding_window_view

    z = np.asarray(depth, dtype=np.float32)
    h, w = z.shape
    win = sliding_window_view(np.pad(z, 1), (3, 3)).reshape(h, w, 9)
    tol = np.maximum(np.float32(step_m), np.float32(step_rel) * z)[..., None]
    same = (win > 0) & (np.abs(win - z[..., None]) <= tol)
    n = same.sum(axis=-1)  # >= 1 wherever z > 0 (the pixel itself)
    ordered = np.sort(np.where(same, win, np.inf), axis=-1)
    lo = np.take_along_axis(ordered, np.maximum((n - 1) // 2, 0)[..., None], axis=-1)[..., 0]
    hi = np.take_along_axis(ordered, np.minimum(n // 2, 8)[..., None], axis=-1)[..., 0]
    med = np.where(n % 2 == 1, lo, 0.5 * (lo + hi))
    return np.where(z > 0, med, 0).astype(np.float32)

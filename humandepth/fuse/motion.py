"""Residuals of raw depth against the fused surface, and detection of frames where the subject moved.

Fusion is rigid: a frame in which the person moved disagrees with the fused surface on the person
far beyond the sensor noise.  Per frame, the fused surface is ray-cast at the frame's depth camera
and compared with the raw depth on the person pixels that both have.  Stereo noise grows with
depth squared, so residuals are normalised by ``z**2`` before the noise level is estimated robustly
(1.4826 x the median absolute normalised residual over all frames still in use).  A pixel is an
outlier when ``|raw - fused| > max(k * sigma(z), floor)``, with ``floor`` one voxel (the mesh's own
resolution); a frame is moved when the fraction of outlier pixels exceeds ``max_outlier_fraction``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MotionParams:
    """``k``: outlier threshold in noise sigmas; ``max_outlier_fraction``: above it a frame is moved;
    ``rounds``: at most this many fuse -> check -> drop rounds; ``min_pixels``: frames with fewer
    comparable person pixels are not judged."""

    k: float = 3.0
    max_outlier_fraction: float = 0.25
    rounds: int = 3
    min_pixels: int = 200

    def __post_init__(self):
        if not self.k > 0:
            raise ValueError(f"--motion-k must be > 0 (noise sigmas), got {self.k}")
        if not 0 < self.max_outlier_fraction <= 1:
            raise ValueError(f"--motion-fraction must be in (0, 1], got {self.max_outlier_fraction}")
        if self.rounds < 1 or self.min_pixels < 1:
            raise ValueError(f"motion rounds and min_pixels must be >= 1, got {self.rounds} and {self.min_pixels}")

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def residual_arrays(raw: np.ndarray, fused_depth: np.ndarray, fused_mask: np.ndarray):
    """(r, z): residuals ``raw - fused`` (metres, float64) and fused depths on the comparable person pixels."""
    m = np.asarray(fused_mask, bool) & (raw > 0) & (fused_depth > 0)
    z = fused_depth[m].astype(np.float64)
    return raw[m].astype(np.float64) - z, z


def noise_sigma(normalised: list[np.ndarray]) -> float:
    """Robust sigma of ``r / z**2`` (1/m) pooled over frames."""
    allr = np.concatenate([a for a in normalised if len(a)]) if any(len(a) for a in normalised) else np.zeros(1)
    return float(1.4826 * np.median(np.abs(allr)))


def frame_statistics(r: np.ndarray, z: np.ndarray, sigma_n: float, k: float, floor: float) -> dict:
    """Per-frame residual figures for the report (mm) and the outlier fraction."""
    if len(r) == 0:
        return {"pixels": 0}
    thr = np.maximum(k * sigma_n * z**2, floor)
    return {
        "pixels": int(len(r)),
        "mean_abs_mm": round(float(np.mean(np.abs(r)) * 1000), 3),
        "median_abs_mm": round(float(np.median(np.abs(r)) * 1000), 3),
        "median_signed_mm": round(float(np.median(r) * 1000), 3),
        "outlier_fraction": round(float(np.mean(np.abs(r) > thr)), 4),
    }


def moved_frames(stats: dict, candidates: list[str], params: MotionParams) -> list[str]:
    """Ids among ``candidates`` whose outlier fraction exceeds the limit (judged frames only)."""
    out = []
    for fid in candidates:
        s = stats.get(fid, {})
        if s.get("pixels", 0) >= params.min_pixels and s["outlier_fraction"] > params.max_outlier_fraction:
            out.append(fid)
    return out

"""Exact truth beside a simulated take, and the error measures fusion reports against it.

A simulated take (``humandepth capture simulate``) holds two humandepth datasets, one sample per
depth frame with id ``frame-NNNNNN``: ``truth/depth`` (exact depth, person mask, true pose in the depth
camera) and ``truth/color`` (the same in the colour camera).  Their ``camera.cam_from_world`` are the
true poses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class Truth:
    """Readers of a take's truth datasets (``depth`` and ``color`` paths), by frame id."""

    def __init__(self, depth_root, color_root):
        from humandepth.data.store import HumanDepthDataset

        self.depth_root, self.color_root = Path(depth_root), Path(color_root)
        self._depth = HumanDepthDataset(depth_root)
        self._color = HumanDepthDataset(color_root)
        self._ids = set(self._depth.ids) & set(self._color.ids)

    def describe(self) -> dict:
        return {"depth": str(self.depth_root), "color": str(self.color_root),
                "depth_checksum": self._depth.checksum(), "color_checksum": self._color.checksum()}

    def has(self, frame_id: str) -> bool:
        return frame_id in self._ids

    def depth_pose(self, frame_id: str) -> np.ndarray:
        """(4, 4) true ``cam_from_world`` of the depth camera."""
        return self._depth.camera(frame_id).cam_from_world  # the camera table only, no image read

    def in_depth(self, frame_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Exact (depth (H, W) float32 metres, person mask (H, W) bool) in the depth camera."""
        s = self._depth.get(frame_id, fields=())
        return s.depth, s.mask

    def in_color(self, frame_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Exact (depth, person mask) in the colour camera."""
        s = self._color.get(frame_id, fields=())
        return s.depth, s.mask


def masked_mae_mm(estimate: np.ndarray, truth_depth: np.ndarray, truth_mask: np.ndarray) -> tuple[float, float]:
    """Mean absolute depth error in mm on the truth's person pixels where ``estimate`` has a value,
    and the fraction of those person pixels that have one (coverage).  (nan, 0) when none."""
    m = np.asarray(truth_mask, bool) & (truth_depth > 0)
    if not m.any():
        return float("nan"), 0.0
    have = m & (estimate > 0)
    cover = float(have.sum() / m.sum())
    if not have.any():
        return float("nan"), cover
    return float(np.mean(np.abs(estimate[have].astype(np.float64) - truth_depth[have])) * 1000.0), cover


def summarise(values: list[float]) -> dict:
    """Mean / median / max of per-frame figures (NaNs ignored), rounded for the report."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=np.float64)
    if len(v) == 0:
        return {"frames": 0}
    return {"mean": round(float(v.mean()), 3), "median": round(float(np.median(v)), 3),
            "max": round(float(v.max()), 3), "frames": int(len(v))}

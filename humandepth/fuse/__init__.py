"""TSDF fusion of RGB-D frames into per-frame ground truth (``humandepth fuse``).

Public API (heavy modules load on first use):

* :func:`read_input` (take / recording / ``captured`` dataset -> :class:`FrameSequence`),
  :func:`fuse_sequence` (frames -> :class:`FusionResult`), :func:`write_result` (-> dataset of kind
  ``fused`` + meshes + ``fusion_report.json``);
* :class:`Frame`, :class:`FrameSequence` (the internal frame interface), :class:`FuseConfig`,
  :class:`TSDFVolume`, :class:`FusedSurface`, :func:`odometry_poses`.

Guide: docs/fuse.md.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "Frame": "humandepth.fuse.frames",
    "FrameSequence": "humandepth.fuse.frames",
    "read_input": "humandepth.fuse.readers",
    "read_take": "humandepth.fuse.readers",
    "read_captured_dataset": "humandepth.fuse.readers",
    "FuseConfig": "humandepth.fuse.fusion",
    "FusionResult": "humandepth.fuse.fusion",
    "fuse_sequence": "humandepth.fuse.fusion",
    "write_result": "humandepth.fuse.output",
    "TSDFVolume": "humandepth.fuse.integrate",
    "TSDFParams": "humandepth.fuse.integrate",
    "FusedSurface": "humandepth.fuse.surface",
    "odometry_poses": "humandepth.fuse.poses",
    "known_poses": "humandepth.fuse.poses",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'humandepth.fuse' has no attribute {name!r}")

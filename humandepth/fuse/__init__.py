"""TSDF fusion of RGB-D frames into per-frame ground truth (``humandepth fuse``).

Public API (heavy modules load on first use):

* :func:`read_input` (take / recording / ``captured`` dataset -> :class:`FrameSequence`),
  :func:`fuse_sequence` (frames -> :class:`FusionResult`), :func:`write_result` (-> dataset of kind
  ``fused`` + meshes + ``fusion_report.json``); :func:`fuse_take` (all three for one take) and
  :func:`fuse_takes` (several takes, locally or one Ray task per take: ``humandepth fuse``);
* :class:`Frame`, :class:`FrameSequence` (the internal frame interface), :class:`FuseConfig`,
  :class:`TSDFVolume`, :class:`FusedSurface`, :func:`odometry_poses`.

Guide: docs/fuse.md.
"""

from __future__ import annotations

from humandepth._lazy import lazy_exports

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
    "fuse_take": "humandepth.fuse.takes",
    "fuse_takes": "humandepth.fuse.takes",
    "take_outputs": "humandepth.fuse.takes",
    "TSDFVolume": "humandepth.fuse.integrate",
    "TSDFParams": "humandepth.fuse.integrate",
    "FusedSurface": "humandepth.fuse.surface",
    "odometry_poses": "humandepth.fuse.camera_poses",
    "known_poses": "humandepth.fuse.camera_poses",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)

"""RealSense capture: live recording, deterministic import of recordings, and a simulated D400 sensor.

Public API (heavy modules load on first use):

* :func:`record_take` (live D400 -> take directory), :func:`import_take` (take -> dataset of kind
  ``captured``), :func:`simulate_take` (scene -> real SDK recording + exact truth datasets);
* :class:`Recording` (playback of every frame), :class:`D400Model` (sensor model),
  :class:`SimulationConfig`, :class:`Scene` / :func:`room_scene`, :func:`open_take` (a take, or a recording
  file), :func:`frame_id` (the sample id of a take's ``i``-th frame, shared by import, truth and fusion).

Take layout: :mod:`humandepth.capture.take`.  Guide: docs/capture.md.
"""

from __future__ import annotations

from humandepth._lazy import lazy_exports

_EXPORTS = {
    "record_take": "humandepth.capture.live",
    "import_take": "humandepth.capture.importer",
    "simulate_take": "humandepth.capture.simulate",
    "simulate_frames": "humandepth.capture.simulate",
    "SimulationConfig": "humandepth.capture.simulate",
    "Recording": "humandepth.capture.playback",
    "D400Model": "humandepth.capture.sensor_model",
    "Scene": "humandepth.capture.scene",
    "SceneObject": "humandepth.capture.scene",
    "room_scene": "humandepth.capture.scene",
    "open_take": "humandepth.capture.take",
    "frame_id": "humandepth.capture.take",
    "person_mask": "humandepth.capture.mask",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)

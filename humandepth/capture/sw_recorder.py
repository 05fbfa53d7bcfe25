"""Write a genuine RealSense recording from arrays, with no hardware (``rs.software_device`` + ``rs.recorder``).

The device looks like a D400 to the SDK: sensors named "Stereo Module" and "RGB Camera" (so playback
builds depth/colour sensor snapshots), a read-only ``depth_units`` option (so the playback device
exposes ``get_depth_scale()``), ``stereo_baseline`` (so disparity-domain filters work), name, serial,
firmware and product line camera info, and the depth->colour extrinsics registered on the stream
profiles (so ``rs.align`` works after playback).  The file is finalised when :meth:`close` drops the
recorder.
"""

from __future__ import annotations

import collections
import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humandepth.capture.sdk import make_extrinsics, make_intrinsics, recording_extension, rs


@dataclass
class StreamSpec:
    """One video stream: ``K`` (3, 3) pixels, size, frame rate."""

    K: np.ndarray
    width: int
    height: int
    fps: int = 30


class SoftwareRecording:
    """Record depth (z16) + colour (rgb8) frames to ``path`` through the SDK's own recorder.

    Args:
        path: the recording file; its extension must be the one the installed SDK writes
            (:func:`humandepth.capture.sdk.recording_extension`).
        depth, color: the two streams.
        depth_to_color: (4, 4) rigid transform taking depth-camera points to the colour camera (metres).
        depth_unit: metres per z16 step (0.001 on D400 by default).
        baseline_m: stereo baseline recorded as the ``stereo_baseline`` option (millimetres in the SDK).
        device_info: camera_info strings (name, serial_number, firmware_version, product_line).
        compress: let the recorder compress images (lossless zstd on SDK >= 2.58).  Off by default:
            noisy depth compresses only ~35 % and an uncompressed file plays back ~2x faster.
    """

    def __init__(self, path, depth: StreamSpec, color: StreamSpec, depth_to_color: np.ndarray,
                 depth_unit: float = 0.001, baseline_m: float = 0.05, device_info: dict | None = None,
                 compress: bool = False):
        r = rs()
        self.path = Path(path)
        ext = recording_extension()
        if self.path.suffix != ext:
            raise ValueError(f"recording {self.path}: the installed SDK writes {ext} files, not {self.path.suffix!r}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.depth, self.color, self.depth_unit = depth, color, float(depth_unit)
        self._dev = r.software_device()
        info = {"name": "humandepth simulated D400", "serial_number": "000000000000", "firmware_version": "0.0.0.0",
                "product_line": "D400"}
        info.update(device_info or {})
        for key, value in info.items():
            self._dev.register_info(getattr(r.camera_info, key), str(value))
        self._ds = self._dev.add_sensor("Stereo Module")
        self._cs = self._dev.add_sensor("RGB Camera")
        self._ds.add_read_only_option(r.option.depth_units, self.depth_unit)
        self._ds.add_read_only_option(r.option.stereo_baseline, float(baseline_m) * 1000.0)
        self._dp = self._add_stream(self._ds, r.stream.depth, 0, 2, r.format.z16, depth)
        self._cp = self._add_stream(self._cs, r.stream.color, 1, 3, r.format.rgb8, color)
        self._dp.register_extrinsics_to(self._cp, make_extrinsics(depth_to_color))
        self._dev.create_matcher(r.matchers.default)
        self._recorder = r.recorder(str(self.path), self._dev, bool(compress))  # before the sensors open
        self._sink = r.frame_queue(4)
        self._ds.open(self._dp)
        self._cs.open(self._cp)
        self._ds.start(self._sink)
        self._cs.start(self._sink)
        self._keep: collections.deque = collections.deque(maxlen=8)
        self.frames = 0

    @staticmethod
    def _add_stream(sensor, kind, uid, bpp, fmt, spec: StreamSpec):
        r = rs()
        v = r.video_stream()
        v.type, v.index, v.uid = kind, 0, uid
        v.width, v.height, v.fps, v.bpp, v.fmt = spec.width, spec.height, spec.fps, bpp, fmt
        v.intrinsics = make_intrinsics(spec.K, spec.width, spec.height)
        return sensor.add_video_stream(v, True).as_video_stream_profile()

    def _drain(self) -> None:
        while self._sink.poll_for_frame():
            pass

    def add(self, depth_units: np.ndarray, rgb: np.ndarray, timestamp_ms: float, frame_number: int) -> None:
        """Record one frame pair: ``depth_units`` (H, W) uint16 in depth units (0 = invalid) and
        ``rgb`` (h, w, 3) uint8, both stamped ``timestamp_ms`` (hardware clock) and ``frame_number``."""
        r = rs()
        d = np.ascontiguousarray(depth_units, dtype=np.uint16)
        c = np.ascontiguousarray(rgb, dtype=np.uint8)
        if d.shape != (self.depth.height, self.depth.width):
            raise ValueError(f"depth frame {frame_number}: shape {d.shape}, expected "
                             f"{(self.depth.height, self.depth.width)}")
        if c.shape != (self.color.height, self.color.width, 3):
            raise ValueError(f"colour frame {frame_number}: shape {c.shape}, expected "
                             f"{(self.color.height, self.color.width, 3)}")
        self._keep.append((d, c))  # keep the buffers alive while the SDK may still read them
        f = r.software_video_frame()
        f.pixels, f.stride, f.bpp = d, d.shape[1] * 2, 2
        clock = r.timestamp_domain.hardware_clock
        f.timestamp, f.domain, f.frame_number = float(timestamp_ms), clock, int(frame_number)
        f.profile, f.depth_units = self._dp, self.depth_unit
        self._ds.on_video_frame(f)
        g = r.software_video_frame()
        g.pixels, g.stride, g.bpp = c, c.shape[1] * 3, 3
        g.timestamp, g.domain, g.frame_number = float(timestamp_ms), clock, int(frame_number)
        g.profile = self._cp
        self._cs.on_video_frame(g)
        self._drain()
        self.frames += 1

    def close(self) -> Path:
        """Stop the sensors and finalise the file (the recorder writes its index when destroyed)."""
        if self._recorder is None:
            return self.path
        for s in (self._ds, self._cs):
            s.stop()
            s.close()
        self._drain()
        self._recorder.pause()
        self._recorder = None
        self._sink = None
        gc.collect()
        return self.path

    def __enter__(self) -> SoftwareRecording:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close()

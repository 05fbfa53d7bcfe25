"""Deterministic playback of a RealSense recording: every frame, in order, counted against the file.

Why not ``rs.pipeline``: its syncer sometimes drops the first frameset of a recording and, unless
``set_real_time(False)`` is applied between ``cfg.resolve`` and ``pipe.start``, drops frames at random.
Here the playback device's sensors are opened directly (no syncer) in non-real-time mode, so playback
waits for each callback; every depth frame is paired with the colour frame nearest in time, and the
pair is made into a frameset by a processing block so ``rs.align`` and the SDK post-processing filters
work on it exactly as on live frames.  For ``.db3`` files the number of image messages per stream is
read from the SQLite file first and the delivered counts must match it.
"""

from __future__ import annotations

import collections
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humandepth.capture.rosbag1 import count_rosbag1_images
from humandepth.capture.sdk import (
    check_sqlite_recording,
    extrinsics_to_matrix,
    intrinsics_to_dict,
    intrinsics_to_K,
    rs,
    sdk_version,
    sniff_recording,
)

FILTER_NAMES = ("decimation", "spatial", "temporal", "hole_filling")
ALIGN_MODES = ("color", "none")
STALL_SECONDS = 20.0


@dataclass
class FramePair:
    """One depth frame with its colour frame, after optional filtering and alignment.

    Attributes:
        index: 0-based position of the depth frame in the recording.
        depth: (H, W) float32 planar depth in metres, 0 = no value; in the colour camera when
            aligned (``rs.align`` output converted from depth-camera z to colour-camera z, see
            :meth:`Recording._color_z`), else in the depth camera (``depth_units * depth_scale``).
        depth_units: (H, W) uint16 values as the SDK returned them (depth-camera z in depth units).
        rgb: (H, W, 3) uint8 on the same pixel grid as ``depth`` (the colour image when aligned to
            colour, else colour re-projected onto the depth pixels by ``rs.align(depth)``).
        K: (3, 3) intrinsics of that pixel grid.
        meta: frame numbers and timestamps (ms) of both frames, timestamp domain.
        color: (h, w, 3) uint8 the colour frame as recorded (colour camera grid), whatever ``align``.
    """

    index: int
    depth: np.ndarray
    depth_units: np.ndarray
    rgb: np.ndarray
    K: np.ndarray
    meta: dict = field(default_factory=dict)
    color: np.ndarray | None = None


@dataclass
class RecordingInfo:
    """What the recording says about the camera."""

    path: Path
    format: str
    device: dict
    depth_scale: float
    depth: dict          # intrinsics_to_dict + fps + format
    color: dict
    depth_to_color: np.ndarray   # (4, 4) metres
    expected_frames: dict | None  # image messages per stream, from the file (.db3: SQLite; .bag: its index)

    def to_dict(self) -> dict:
        return {
            "file": self.path.name, "format": self.format, "device": self.device, "depth_scale": self.depth_scale,
            "depth": self.depth, "color": self.color, "depth_to_color": self.depth_to_color.tolist(),
            "expected_frames": self.expected_frames, "sdk_version": sdk_version(),
        }


def _stream_profiles(dev):
    r = rs()
    found = {}
    for sensor in dev.query_sensors():
        for p in sensor.get_stream_profiles():
            kind = p.stream_type()
            if kind in (r.stream.depth, r.stream.color) and kind not in found:
                found[kind] = (sensor, p.as_video_stream_profile())
    return found


def _device_info(dev) -> dict:
    r = rs()
    out = {}
    for key, name in (("name", "name"), ("serial", "serial_number"), ("firmware", "firmware_version"),
                      ("product_line", "product_line")):
        ci = getattr(r.camera_info, name)
        out[key] = dev.get_info(ci) if dev.supports(ci) else None
    return out


class Recording:
    """A recording file opened for playback.  ``Recording(path).frames(align="color")`` yields :class:`FramePair`.

    Raises ``FileNotFoundError`` / ``ValueError`` naming the file when it is missing, not a recording,
    damaged, or lacks a depth or colour stream.
    """

    def __init__(self, path):
        self.path = Path(path)
        fmt = sniff_recording(self.path)
        expected = check_sqlite_recording(self.path) if fmt == "rosbag2-sqlite" else count_rosbag1_images(self.path)
        r = rs()
        ctx = r.context()
        try:
            dev = ctx.load_device(str(self.path))
        except RuntimeError as e:
            raise ValueError(f"recording {self.path} cannot be opened by pyrealsense2 {sdk_version()}: {e}") from None
        profiles = _stream_profiles(dev)
        missing = [n for k, n in ((r.stream.depth, "depth"), (r.stream.color, "color")) if k not in profiles]
        if missing:
            raise ValueError(f"recording {self.path} has no {' and no '.join(missing)} stream")
        dsensor, dprof = profiles[r.stream.depth]
        _, cprof = profiles[r.stream.color]
        scale = dsensor.as_depth_sensor().get_depth_scale() if dsensor.is_depth_sensor() else 0.0
        if not scale > 0:
            raise ValueError(f"recording {self.path} does not record a depth scale (depth_units)")
        d_intr, c_intr = dprof.get_intrinsics(), cprof.get_intrinsics()
        try:
            d2c = extrinsics_to_matrix(dprof.get_extrinsics_to(cprof))
        except RuntimeError as e:
            raise ValueError(f"recording {self.path} lacks depth->colour extrinsics ({e})") from None
        self.info = RecordingInfo(
            path=self.path, format=fmt, device=_device_info(dev), depth_scale=float(scale),
            depth={**intrinsics_to_dict(d_intr), "fps": int(dprof.fps()), "format": str(dprof.format()).split(".")[-1]},
            color={**intrinsics_to_dict(c_intr), "fps": int(cprof.fps()), "format": str(cprof.format()).split(".")[-1]},
            depth_to_color=d2c,
            expected_frames={k: v for k, v in expected.items() if k in ("depth", "color")} if expected else None,
        )
        del dev, ctx

    # -- reading ----------------------------------------------------------------------------------

    def _raw_frames(self) -> Iterator[tuple[str, object]]:
        """Every frame of the depth and colour streams as ``(stream, rs.frame)``, in delivery order."""
        r = rs()
        ctx = r.context()  # keep the context alive as long as its playback device
        dev = ctx.load_device(str(self.path))
        playback = dev.as_playback()
        playback.set_real_time(False)
        profiles = _stream_profiles(dev)
        items: queue.Queue = queue.Queue(maxsize=8)
        stop_flag = threading.Event()

        def on_frame(frame):
            kind = "depth" if frame.profile.stream_type() == r.stream.depth else "color"
            while not stop_flag.is_set():
                try:
                    items.put((kind, frame), timeout=0.1)  # blocking: non-real-time playback waits for us
                    return
                except queue.Full:
                    continue

        sensors = []
        for kind in (r.stream.depth, r.stream.color):
            sensor, prof = profiles[kind]
            sensor.open(prof)
            sensors.append(sensor)
        playback.pause()  # no frame may be read before every sensor has its callback
        for sensor in sensors:
            sensor.start(on_frame)
        # resume() waits for the reader, which may wait for our (blocking) callback: resume on a
        # helper thread while this one consumes, and trust "stopped" only after resume returned
        resumer = threading.Thread(target=playback.resume, daemon=True)
        resumer.start()
        idle_since = None
        last_frame = time.monotonic()
        expected = self.info.expected_frames  # the file's own counts: playback ends at the last frame
        seen = {"depth": 0, "color": 0}
        try:
            while True:
                try:
                    item = items.get(timeout=0.05)
                except queue.Empty:
                    now = time.monotonic()
                    if not resumer.is_alive() and playback.current_status() == r.playback_status.stopped:
                        idle_since = idle_since or now
                        if now - idle_since > 0.25:
                            break
                    elif now - last_frame > STALL_SECONDS:
                        raise ValueError(
                            f"recording {self.path}: playback stalled (no frame for {STALL_SECONDS:.0f} s)"
                        ) from None
                    continue
                idle_since = None
                last_frame = time.monotonic()
                yield item
                seen[item[0]] += 1
                if expected and all(seen[k] >= expected.get(k, 0) for k in seen):
                    break  # every frame the file holds has come: no need to wait out the end-of-file check
        finally:
            stop_flag.set()
            stopper = threading.Thread(target=lambda: [(s.stop(), s.close()) for s in sensors], daemon=True)
            stopper.start()
            while stopper.is_alive():
                try:
                    items.get(timeout=0.05)
                except queue.Empty:
                    pass
            del dev, playback, ctx

    def _pairs(self) -> Iterator[tuple[object, object]]:
        """Each depth frame with the colour frame nearest in time (the colour frame may be reused)."""
        depth_fps = max(self.info.depth["fps"], 1)
        color_fps = max(self.info.color["fps"], 1)
        tolerance = 0.5 * 1000.0 / min(depth_fps, color_fps) + 1e-3
        pending: collections.deque = collections.deque()
        colors: collections.deque = collections.deque()
        self.delivered = {"depth": 0, "color": 0}
        self.unpaired = 0

        def emit(eof: bool):
            while pending:
                d = pending[0]
                t = d.get_timestamp()
                if not eof and not (colors and colors[-1].get_timestamp() >= t):
                    return
                pending.popleft()
                best = min(colors, key=lambda c: abs(c.get_timestamp() - t), default=None)
                if best is None or abs(best.get_timestamp() - t) > tolerance:
                    self.unpaired += 1
                    continue
                while colors and colors[0].get_timestamp() < best.get_timestamp():
                    colors.popleft()
                yield d, best

        for kind, frame in self._raw_frames():
            self.delivered[kind] += 1
            (pending if kind == "depth" else colors).append(frame)
            yield from emit(eof=False)
        yield from emit(eof=True)

    def frames(self, align: str = "color", filters=()) -> Iterator[FramePair]:
        """Yield every depth frame paired with colour, filtered (SDK filters, in the order of the
        RealSense guide) and aligned (``rs.align``) as asked; then check the counts against the file.

        Args:
            align: ``color`` (depth re-projected into the colour camera) or ``none`` (depth kept in the
                depth camera; colour re-projected onto the depth pixels).
            filters: names from :data:`FILTER_NAMES` (default none: hole filling and temporal
                smoothing invent depth).

        Raises ``ValueError`` naming the file when the delivered frame count differs from the file's.
        """
        if align not in ALIGN_MODES:
            raise ValueError(f"--align must be one of {ALIGN_MODES}, got {align!r}")
        chain = build_filters(filters)
        r = rs()
        aligner = r.align(r.stream.color if align == "color" else r.stream.depth)
        scale = self.info.depth_scale
        out = r.frame_queue(2, keep_frames=True)
        partner = {}

        def compose(frame, source):
            source.frame_ready(source.allocate_composite_frame([frame, partner["color"]]))

        block = r.processing_block(compose)
        block.start(out)
        for index, (d, c) in enumerate(self._pairs()):
            meta = {
                "frame_index": index,
                "depth_frame_number": int(d.get_frame_number()), "depth_timestamp_ms": float(d.get_timestamp()),
                "color_frame_number": int(c.get_frame_number()), "color_timestamp_ms": float(c.get_timestamp()),
                "timestamp_domain": str(d.get_frame_timestamp_domain()).split(".")[-1],
            }
            for f in chain:
                d = f.process(d)
            partner["color"] = c
            color = np.asanyarray(c.get_data()).copy()
            block.invoke(d)
            fs = aligner.process(out.wait_for_frame(5000).as_frameset())
            df, cf = fs.get_depth_frame(), fs.get_color_frame()
            units = np.asanyarray(df.get_data()).copy()
            rgb = np.asanyarray(cf.get_data()).copy()
            K = intrinsics_to_K(df.profile.as_video_stream_profile().get_intrinsics())
            del fs, df, cf, d, c
            depth = units.astype(np.float32) * np.float32(scale)
            if align == "color":
                depth = self._color_z(depth, K)
            yield FramePair(index, depth, units, rgb, K, meta, color)
        self.check_counts()

    def _color_z(self, z_depth: np.ndarray, K: np.ndarray) -> np.ndarray:
        """Re-express ``rs.align``'s output as colour-camera planar depth.

        ``rs.align`` (``align_z_to_other``) copies each depth pixel's *depth-camera* z into the colour
        pixels its footprint covers.  For the point ``P_c = z_c * r`` on the colour pixel's ray ``r``
        (z = 1), ``z_d = (R^T (P_c - t))_z``, so ``z_c = (z_d + (R^T t)_z) / (R^T r)_z`` exactly, with
        ``(R, t)`` the depth->colour extrinsics.
        """
        T = self.info.depth_to_color
        R, t = T[:3, :3], T[:3, 3]
        key = (z_depth.shape, tuple(K.ravel()))
        if getattr(self, "_rz_key", None) != key:
            h, w = z_depth.shape
            u, v = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
            rz = R[0, 2] * (u - K[0, 2]) / K[0, 0] + R[1, 2] * (v - K[1, 2]) / K[1, 1] + R[2, 2]  # (R^T r)_z
            self._rz_key, self._inv_rz = key, (1.0 / rz).astype(np.float32)
        z_c = (z_depth + np.float32((R.T @ t)[2])) * self._inv_rz
        return np.where(z_depth > 0, z_c, 0.0).astype(np.float32)

    def check_counts(self) -> dict:
        """Compare delivered frames with the file; raise ``ValueError`` naming the file on a mismatch."""
        exp = self.info.expected_frames
        if exp is not None:
            for kind in ("depth", "color"):
                if self.delivered[kind] != exp.get(kind, 0):
                    raise ValueError(
                        f"recording {self.path}: playback delivered {self.delivered[kind]} {kind} frames but the file "
                        f"holds {exp.get(kind, 0)} (damaged recording?)"
                    )
        return {"expected": exp, "delivered": dict(self.delivered), "unpaired_depth": self.unpaired}


def build_filters(names) -> list:
    """SDK post-processing blocks for ``names`` in the order the RealSense guide recommends:
    decimation -> depth-to-disparity -> spatial -> temporal -> disparity-to-depth -> hole filling."""
    names = [n.strip() for n in (names or []) if n and n.strip()]
    unknown = [n for n in names if n not in FILTER_NAMES]
    if unknown:
        raise ValueError(f"unknown filter(s) {unknown}; choose from {FILTER_NAMES}")
    r = rs()
    chain = []
    if "decimation" in names:
        chain.append(r.decimation_filter())
    disparity = "spatial" in names or "temporal" in names
    if disparity:
        chain.append(r.disparity_transform(True))
    if "spatial" in names:
        chain.append(r.spatial_filter())
    if "temporal" in names:
        chain.append(r.temporal_filter())
    if disparity:
        chain.append(r.disparity_transform(False))
    if "hole_filling" in names:
        chain.append(r.hole_filling_filter())
    return chain

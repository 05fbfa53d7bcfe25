"""``capture record``: record a take from a connected D400-series camera.

Protocol for ground truth (docs/capture.md): the subject holds still while the operator moves the
camera slowly around them at 1-2 m (or several cameras watch), in a room with textured surroundings.

The recording format follows the installed SDK (``.db3`` from 2.58, ``.bag`` before); the sidecar
``take.json`` records both intrinsics, the depth->colour extrinsics, the depth scale, the preset,
the device's name, serial, firmware and product line, and the SDK version.
"""

from __future__ import annotations

import time
from pathlib import Path

from humandepth.capture.sdk import (
    describe_devices,
    extrinsics_to_matrix,
    intrinsics_to_dict,
    recording_extension,
    recording_format,
    rs,
    sdk_version,
)
from humandepth.capture.take import RECORDING_STEM, check_take_out, write_sidecar, writing_take
from humandepth.errors import UserError

PRESETS = ("custom", "default", "edge_enhancement", "hand", "high_accuracy", "high_density", "medium_density",
           "remove_ir_pattern")


def parse_size(text: str, option: str) -> tuple[int, int]:
    """``'848x480'`` -> (848, 480); ``ValueError`` naming ``option`` otherwise."""
    try:
        w, h = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"{option} must look like WIDTHxHEIGHT (e.g. 848x480), got {text!r}") from None
    if w <= 0 or h <= 0:
        raise ValueError(f"{option} must be positive, got {text!r}")
    return w, h


def find_d400(serial: str | None = None) -> dict:
    """The D400 device to record from; ``ValueError`` listing what the SDK sees when there is none."""
    devices = describe_devices()
    seen = "; ".join(f"{d['name']} (serial {d['serial']}, product line {d['product_line']}, USB {d['usb']})"
                     for d in devices) or "no devices at all"
    candidates = [d for d in devices if d["product_line"] == "D400" or str(d["name"]).startswith("Intel RealSense D4")]
    if serial:
        candidates = [d for d in candidates if d["serial"] == serial]
    if not candidates:
        want = f"D400-series camera with serial {serial}" if serial else "D400-series camera"
        raise UserError(
            f"no {want} connected: pyrealsense2 {sdk_version()} sees {seen}. Check the USB 3 cable and port, "
            "the udev rules (librealsense's 99-realsense-libusb.rules), and that no other program holds the camera"
        )
    return candidates[0]


def record_take(out, depth_size=(848, 480), color_size=(1280, 720), fps: int = 30, preset: str = "high_accuracy",
                seconds: float = 10.0, warmup: float = 1.0, serial: str | None = None, overwrite: bool = False,
                log=print) -> Path:
    """Record ``seconds`` of depth + colour from a D400 into the take directory ``out``; return ``out``."""
    if preset not in PRESETS:
        raise ValueError(f"--preset must be one of {PRESETS}, got {preset!r}")
    if not seconds > 0:
        raise ValueError(f"--seconds must be > 0, got {seconds}")
    if not fps > 0 or not warmup >= 0:
        raise ValueError(f"--fps must be > 0 and --warmup >= 0, got {fps} and {warmup}")
    check_take_out(out, overwrite)
    r = rs()
    device = find_d400(serial)
    with writing_take(out, overwrite) as staging:  # becomes ``out`` when the recording is complete
        frames = _record(r, device, staging, depth_size, color_size, fps, preset, seconds, warmup, log)
    log(f"recorded {frames} framesets in {seconds:.1f} s -> {out}")
    return Path(out)


def _record(r, device: dict, root: Path, depth_size, color_size, fps: int, preset: str, seconds: float,
            warmup: float, log) -> int:
    """Stream, record ``root``/recording.* and write the sidecar; returns the framesets seen."""
    ext = recording_extension()
    rec_path = root / f"{RECORDING_STEM}{ext}"
    log(f"recording to {rec_path} ({recording_format()}: pyrealsense2 {sdk_version()} writes {ext} files)")
    pipe, cfg = r.pipeline(), r.config()
    cfg.enable_device(device["serial"])
    cfg.enable_stream(r.stream.depth, depth_size[0], depth_size[1], r.format.z16, fps)
    cfg.enable_stream(r.stream.color, color_size[0], color_size[1], r.format.rgb8, fps)
    cfg.enable_record_to_file(str(rec_path))
    try:
        profile = pipe.start(cfg)
    except RuntimeError as e:
        raise ValueError(f"camera {device['name']} ({device['serial']}) cannot stream depth {depth_size} + colour "
                         f"{color_size} at {fps} fps: {e}") from None
    frames = 0
    try:
        dev = profile.get_device()
        recorder = dev.as_recorder()
        recorder.pause()  # do not record while auto-exposure settles
        depth_sensor = dev.first_depth_sensor()
        if preset != "custom" and depth_sensor.supports(r.option.visual_preset):
            depth_sensor.set_option(r.option.visual_preset, int(getattr(r.rs400_visual_preset, preset)))
        t_end = time.monotonic() + warmup
        while time.monotonic() < t_end:
            pipe.wait_for_frames(5000)
        recorder.resume()
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            pipe.wait_for_frames(5000)
            frames += 1
        dprof = profile.get_stream(r.stream.depth).as_video_stream_profile()
        cprof = profile.get_stream(r.stream.color).as_video_stream_profile()
        scale = depth_sensor.get_depth_scale()
        d2c = extrinsics_to_matrix(dprof.get_extrinsics_to(cprof))
        baseline = depth_sensor.get_option(r.option.stereo_baseline) / 1000.0 \
            if depth_sensor.supports(r.option.stereo_baseline) else None
        d_intr, c_intr = dprof.get_intrinsics(), cprof.get_intrinsics()
    finally:
        pipe.stop()
    write_sidecar(root, {
        "source": "live",
        "recording": {"file": rec_path.name, "format": recording_format(),
                      "why": f"pyrealsense2 {sdk_version()} writes {ext} (.db3 from SDK 2.58.0 on, .bag up to 2.57)"},
        "sdk_version": sdk_version(),
        "device": {k: device[k] for k in ("name", "serial", "firmware", "product_line")},
        "preset": preset,
        "depth": {**intrinsics_to_dict(d_intr), "fps": fps, "format": "z16"},
        "color": {**intrinsics_to_dict(c_intr), "fps": fps, "format": "rgb8"},
        "depth_scale": float(scale),
        "depth_to_color": d2c.tolist(),
        "baseline_m": baseline,
        "frames": None,  # framesets seen live; the recording's own count is checked on import
        "framesets_seen": frames,
        "seconds": seconds,
    })
    return frames

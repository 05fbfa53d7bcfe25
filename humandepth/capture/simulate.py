"""The simulated sensor: render a scene from a moving camera, measure it with the D400 model, and write
a real RealSense recording plus the exact truth (see :mod:`humandepth.capture.take` for the layout).

Per frame ``i`` (``frame_number = i + 1``, ``timestamp = i * 1000 / fps`` ms):

1. the depth camera's pose comes from the trajectory; the colour camera's pose is
   ``depth_to_color @ depth pose``; the second stereo imager sits ``baseline_m`` along the depth
   camera's +x;
2. the scene is ray-cast exactly from the depth camera and from the colour camera;
3. the sensor model turns the exact depth into z16 units (noise in disparity, invalid pixels,
   quantisation, optional systematic error); colour gets mild Gaussian noise (``color_noise``);
4. depth + colour go into the recording through ``rs.software_device`` + ``rs.recorder`` with the
   intrinsics, depth units, baseline and extrinsics registered; the exact renders go to the truth datasets.

Everything is seeded: the same arguments give the same frames.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humandepth.capture.scene import RenderResult, Scene, room_scene
from humandepth.capture.sdk import recording_extension, recording_format, sdk_version
from humandepth.capture.sensor_model import D400Model
from humandepth.capture.take import (
    RECORDING_STEM,
    TRUTH_COLOR,
    TRUTH_DEPTH,
    check_take_out,
    frame_id,
    write_sidecar,
    writing_take,
)
from humandepth.capture.trajectory import make_trajectory
from humandepth.data.camera import Camera


def default_depth_to_color(baseline_hint: float = 0.015) -> np.ndarray:
    """A D435-like depth->colour transform: the colour imager 15 mm along +x, tilted 0.3 deg about y."""
    a = np.radians(0.3)
    T = np.eye(4)
    T[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    T[:3, 3] = (-baseline_hint, 0.0002, 0.0003)  # colour centre at +15 mm in the depth frame
    return T


@dataclass
class SimulationConfig:
    """Everything that defines a simulated take (recorded in ``take.json``).

    Cameras are pinhole with a centred principal point (``Camera.from_focal``); the defaults are a
    D435 depth stream at 640x480 (f = 385 px) and a colour stream at 640x480 with the same field
    of view (f = 385 px; a real D435 colour camera is narrower, which would crop a standing person
    at 1.5 m).
    """

    frames: int = 30
    seed: int = 0
    trajectory: str = "orbit"
    distance: float | None = None    # metres; None: the nearest that frames the whole person (framing_distance)
    arc_deg: float = 90.0
    height: float | None = None      # camera height (m); default: 0.3 m above the target
    target: tuple | None = None      # point looked at; default: centre of the person's bounding box
    fps: int = 30
    depth_size: tuple = (640, 480)
    depth_focal: float = 385.0
    color_size: tuple = (640, 480)
    color_focal: float = 385.0
    depth_to_color: np.ndarray = field(default_factory=default_depth_to_color)
    sensor: D400Model = field(default_factory=D400Model)
    color_noise: float = 2.0
    person: str = "auto"
    truth_normals: bool = False
    compress: bool = False

    def validate(self) -> None:
        """Raise ``ValueError`` naming the option of the first setting that cannot make a take."""
        from humandepth.capture.trajectory import TRAJECTORIES

        checks = (
            (self.frames >= 1, f"--frames must be >= 1, got {self.frames}"),
            (self.trajectory in TRAJECTORIES, f"--trajectory must be one of {TRAJECTORIES}, got {self.trajectory!r}"),
            (self.distance is None or (np.isfinite(self.distance) and self.distance > 0),
             f"--distance must be > 0 metres, got {self.distance}"),
            (np.isfinite(self.arc_deg), f"--arc must be a number of degrees, got {self.arc_deg}"),
            (self.fps > 0, f"fps must be > 0, got {self.fps}"),
            (all(int(v) > 0 for v in (*self.depth_size, *self.color_size)),
             f"--depth-size / --color-size must be positive, got {self.depth_size} / {self.color_size}"),
            (self.depth_focal > 0 and self.color_focal > 0,
             f"focal lengths must be > 0, got {self.depth_focal} / {self.color_focal}"),
            (np.isfinite(self.color_noise) and self.color_noise >= 0,
             f"color_noise must be >= 0, got {self.color_noise}"),
            (self.person in ("auto", "render", "mannequin"),
             f"--person must be auto, render or mannequin, got {self.person!r}"),
        )
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def cameras(self) -> tuple[Camera, Camera]:
        """The depth and colour cameras (``cam_from_world`` = identity; poses are per frame)."""
        return (Camera.from_focal(*self.depth_size, self.depth_focal),
                Camera.from_focal(*self.color_size, self.color_focal))

    def to_dict(self) -> dict:
        return {
            "frames": self.frames, "seed": self.seed, "trajectory": self.trajectory, "distance": self.distance,
            "arc_deg": self.arc_deg, "height": self.height, "fps": self.fps,
            "target": None if self.target is None else list(self.target),
            "depth_size": list(self.depth_size), "depth_focal": self.depth_focal, "color_size": list(self.color_size),
            "color_focal": self.color_focal, "depth_to_color": np.asarray(self.depth_to_color).tolist(),
            "sensor": self.sensor.to_dict(), "color_noise": self.color_noise, "person": self.person,
            "truth_normals": self.truth_normals, "compress": self.compress,
        }


@dataclass
class SimFrame:
    """One simulated frame: the measurement (what is recorded) and the exact renders."""

    index: int
    frame_number: int
    timestamp_ms: float
    depth_units: np.ndarray          # (H, W) uint16, what the sensor reports
    rgb: np.ndarray                  # (h, w, 3) uint8, what the colour camera reports
    depth_camera: Camera             # with the true pose
    color_camera: Camera
    truth_depth: RenderResult        # exact render from the depth camera
    truth_color: RenderResult        # exact render from the colour camera


def look_target(scene: Scene, cfg: SimulationConfig) -> tuple[np.ndarray, float]:
    """The point the camera looks at and the camera height: ``cfg.target`` / ``cfg.height`` when given,
    else the centre of the person's bounding box (of all meshes without a person) and 0.3 m above it."""
    if cfg.target is not None:
        target = np.asarray(cfg.target, dtype=np.float64)
    else:
        objs = [o for o in scene.objects if o.person] or scene.objects
        lo = np.min([o.mesh.bounds[0] for o in objs], axis=0)
        hi = np.max([o.mesh.bounds[1] for o in objs], axis=0)
        target = (lo + hi) / 2
    height = float(cfg.height) if cfg.height is not None else float(target[1]) + 0.3
    return target, height


FRAME_MARGIN = 0.04  # share of the image width / height kept clear of the person on every side


def _person_points(scene: Scene, at_most: int = 20000) -> np.ndarray:
    objs = [o for o in scene.objects if o.person] or scene.objects
    pts = np.concatenate([np.asarray(o.mesh.vertices, dtype=np.float64) for o in objs])
    return pts[:: max(1, len(pts) // at_most)]


def framing_distance(scene: Scene, cfg: SimulationConfig, step: float = 0.05) -> float:
    """The nearest camera distance (metres, in ``step``s from 0.8 m) at which every vertex of the person lies
    inside both cameras' images, :data:`FRAME_MARGIN` clear of the border, in every frame of the trajectory
    (the head and the feet included).  ``ValueError`` when none up to 10 m does."""
    pts = _person_points(scene)
    pts = np.c_[pts, np.ones(len(pts))]
    target, height = look_target(scene, cfg)
    d2c = np.asarray(cfg.depth_to_color, dtype=np.float64)
    for distance in np.arange(0.8, 10.0 + 1e-9, step):
        poses = make_trajectory(cfg.trajectory, cfg.frames, cfg.seed, distance=float(distance), target=target,
                                height=height, arc_deg=cfg.arc_deg)
        fits = True
        for pose in poses:
            for cam, cam_from_world in zip(cfg.cameras(), (pose, d2c @ pose), strict=True):
                p = pts @ cam_from_world[:3].T
                if np.any(p[:, 2] <= 1e-6):
                    fits = False
                    break
                uv = cam.project(p)
                mu, mv = FRAME_MARGIN * cam.width, FRAME_MARGIN * cam.height
                if (uv[:, 0].min() < mu - 0.5 or uv[:, 0].max() > cam.width - 0.5 - mu
                        or uv[:, 1].min() < mv - 0.5 or uv[:, 1].max() > cam.height - 0.5 - mv):
                    fits = False
                    break
            if not fits:
                break
        if fits:
            return round(float(distance), 2)
    raise ValueError("the person does not fit in the cameras' view from any distance up to 10 m; give --distance")


def with_distance(scene: Scene, cfg: SimulationConfig) -> SimulationConfig:
    """``cfg`` itself when it names a distance, else a copy with :func:`framing_distance`."""
    import dataclasses

    return cfg if cfg.distance is not None else dataclasses.replace(cfg, distance=framing_distance(scene, cfg))


def simulate_frames(scene: Scene, cfg: SimulationConfig) -> Iterator[SimFrame]:
    """Render and measure every frame of a take (deterministic in ``cfg.seed``)."""
    cfg = with_distance(scene, cfg)
    cam_d0, cam_c0 = cfg.cameras()
    target, height = look_target(scene, cfg)
    poses = make_trajectory(cfg.trajectory, cfg.frames, cfg.seed, distance=cfg.distance, target=target,
                            height=height, arc_deg=cfg.arc_deg)
    d2c = np.asarray(cfg.depth_to_color, dtype=np.float64)
    fixed = cfg.sensor.fixed_pattern(cam_d0.height, cam_d0.width, np.random.default_rng([cfg.seed, 3]))
    for i, pose in enumerate(poses):
        rng = np.random.default_rng([cfg.seed, 4, i])
        cam_d = Camera(cam_d0.K, cam_d0.width, cam_d0.height, pose)
        cam_c = Camera(cam_c0.K, cam_c0.width, cam_c0.height, d2c @ pose)
        rd = scene.render(cam_d)
        rc = scene.render(cam_c)
        occluded = None
        if cfg.sensor.occlusion:
            right = cam_d.world_from_cam @ np.array([cfg.sensor.baseline_m, 0.0, 0.0, 1.0])
            occluded = scene.occluded_from(rd.points.reshape(-1, 3), right[:3], (rd.depth > 0).reshape(-1))
            occluded = occluded.reshape(rd.depth.shape)
        units = cfg.sensor.apply(rd.depth, cam_d.fx, rng, rd.cos_incidence, occluded, fixed)
        rgb = rc.rgb
        if cfg.color_noise > 0:
            noisy = rgb.astype(np.float64) + rng.normal(0.0, cfg.color_noise, rgb.shape)
            rgb = np.clip(np.rint(noisy), 0, 255).astype(np.uint8)
        yield SimFrame(i, i + 1, i * 1000.0 / cfg.fps, units, rgb, cam_d, cam_c, rd, rc)


def _truth_sample(index: int, render: RenderResult, camera: Camera, which: str, frame: SimFrame,
                  normals: bool):
    from humandepth.data.sample import Sample

    return Sample(
        id=frame_id(index), rgb=render.rgb, depth=render.depth, mask=render.mask,
        normal=render.normal if normals else None, camera=camera,
        meta={"source": "simulated-truth", "camera": which, "frame_index": index,
              "frame_number": frame.frame_number, "timestamp_ms": frame.timestamp_ms},
    )


def simulate_take(out, cfg: SimulationConfig | None = None, scene: Scene | None = None, overwrite: bool = False,
                  progress=None) -> Path:
    """Write a simulated take to ``out`` (recording + truth datasets + ``take.json``); return ``out``.

    Args:
        cfg: the simulation (defaults: 30 frames, orbit, seed 0, at the distance that frames the whole person).
        scene: the scene; default :func:`humandepth.capture.scene.room_scene` (person + textured room).
        overwrite: replace an existing take at ``out``.
        progress: optional callable ``progress(done, total)``.
    """
    cfg = cfg or SimulationConfig()
    cfg.validate()
    check_take_out(out, overwrite)  # before the scene is built: a refused --out costs nothing
    scene = scene if scene is not None else room_scene(cfg.seed, cfg.person)
    chosen = cfg.distance is None
    cfg = with_distance(scene, cfg)
    with writing_take(out, overwrite) as staging:  # becomes ``out`` when complete
        _write_take(staging, Path(out).name, cfg, scene, progress, "framed" if chosen else "given")
    return Path(out)


def _write_take(root: Path, name: str, cfg: SimulationConfig, scene: Scene, progress, distance: str) -> None:
    """Write the recording, the truth datasets and the sidecar of a take called ``name`` into ``root``."""
    from humandepth.capture.sw_recorder import SoftwareRecording, StreamSpec
    from humandepth.data.store import DatasetWriter

    cam_d, cam_c = cfg.cameras()
    rec_path = root / f"{RECORDING_STEM}{recording_extension()}"
    d2c = np.asarray(cfg.depth_to_color, dtype=np.float64)
    device_info = {"name": "humandepth simulated D435", "serial_number": f"SIM{cfg.seed:09d}",
                   "firmware_version": "0.0.0.0", "product_line": "D400"}
    target, height = look_target(scene, cfg)
    generator = {"simulation": cfg.to_dict(), "scene": scene.description,
                 "look_at": {"target": target.tolist(), "camera_height": height, "distance": distance}}
    common = {"kind": "synthetic", "shard_size": 32, "generator": generator, "license": "CC0-1.0 (generated)",
              "base_detail_filter": None}
    recording = SoftwareRecording(rec_path, StreamSpec(cam_d.K, cam_d.width, cam_d.height, cfg.fps),
                                  StreamSpec(cam_c.K, cam_c.width, cam_c.height, cfg.fps), d2c,
                                  depth_unit=cfg.sensor.depth_unit, baseline_m=cfg.sensor.baseline_m,
                                  device_info=device_info, compress=cfg.compress)
    try:
        with DatasetWriter(root / TRUTH_DEPTH, name=f"{name}-truth-depth",
                           description="exact depth in the depth camera of a simulated take", **common) as wd, \
             DatasetWriter(root / TRUTH_COLOR, name=f"{name}-truth-color",
                           description="exact depth in the colour camera of a simulated take", **common) as wc:
            for frame in simulate_frames(scene, cfg):
                recording.add(frame.depth_units, frame.rgb, frame.timestamp_ms, frame.frame_number)
                wd.add(_truth_sample(frame.index, frame.truth_depth, frame.depth_camera, "depth", frame,
                                     cfg.truth_normals))
                wc.add(_truth_sample(frame.index, frame.truth_color, frame.color_camera, "color", frame,
                                     cfg.truth_normals))
                if progress:
                    progress(frame.index + 1, cfg.frames)
    finally:
        recording.close()

    def stream(cam: Camera) -> dict:
        return {"width": cam.width, "height": cam.height, "fps": cfg.fps, "K": cam.K.tolist(),
                "model": "brown_conrady", "coeffs": [0.0] * 5}

    write_sidecar(root, {
        "source": "simulated",
        "recording": {"file": rec_path.name, "format": recording_format(), "compressed": cfg.compress,
                      "why": f"pyrealsense2 {sdk_version()} writes {recording_extension()} "
                             "(.db3 from SDK 2.58.0 on, .bag up to 2.57)"},
        "sdk_version": sdk_version(),
        "device": {"name": device_info["name"], "serial": device_info["serial_number"],
                   "firmware": device_info["firmware_version"], "product_line": "D400"},
        "preset": None,
        "depth": {**stream(cam_d), "format": "z16"},
        "color": {**stream(cam_c), "format": "rgb8"},
        "depth_scale": cfg.sensor.depth_unit,
        "depth_to_color": d2c.tolist(),
        "baseline_m": cfg.sensor.baseline_m,
        "frames": cfg.frames,
        "simulation": generator,
        "truth": {"depth": TRUTH_DEPTH, "color": TRUTH_COLOR,
                  "poses": "camera.cam_from_world of each truth sample (world metres, +Y up, OpenCV camera)"},
    })

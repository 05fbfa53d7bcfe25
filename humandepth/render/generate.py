"""One synthetic sample: a sampled person, camera, lights and background rendered into every pass.

Each sample is a pure function of ``(seed, index, config)``: its random stream is
``numpy.random.default_rng([seed, index])``, so any worker renders any sample byte-identically.

Camera: a perspective pinhole with a focal length drawn from a full-frame-equivalent range (36 mm wide
sensor, default 24-85 mm), azimuth / elevation / roll ranges around the person, and the distance chosen so
the person's projected extent fills a sampled fraction of the frame (default 70-95 %, the person placed
off-centre within the frame).  The camera stays at least ``MIN_CAMERA_HEIGHT_M`` above the floor (the
person's lowest point): where a low elevation and a long distance would put it lower, the elevation is raised
just enough (a camera under the floor would see the floor's underside instead of the person).  With
probability ``cut_prob`` the framing is closer (the person's extent is 1.1-1.8 frames, aimed at the upper
body), so the frame edge cuts the person.  ``crop="tang2019"`` makes the paper's tight 256 x 256 crops: the
person fills 75-92 % of the frame and is centred exactly (the principal point is shifted, which is what
cropping a larger image does), never cut and never occluded.  By default such a crop's camera is aimed at the
person, so its pitch equals the elevation it sees the person from; with ``pitch_deg`` the camera keeps its own
pitch (drawn from that range, degrees below the horizon) while it still sees the person from the sampled
elevation, and the crop is an off-centre window of its frame -- what cropping a person out of a photograph or a
depth camera's frame is: the depth of an upright body then slopes with the camera's pitch, not with the
direction the person is seen from.

The picture: the person stands in a sampled place (:mod:`humandepth.render.places`: a room, outdoors, a
studio or one of the user's photographs, sometimes with an occluder in front that hides at most about half of
the person), lit by an environment and a key light with shadows (:mod:`humandepth.render.lighting`) and seen
through a camera with optical and sensor effects (:mod:`humandepth.render.camera_fx`), all rendered by
:func:`humandepth.render.photo.render_photo`.
The ground-truth passes hold the person only (the pixels where the person is visible).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from humandepth.data.base_detail import DEFAULT_FILTER, BaseDetailFilter, split_base_detail
from humandepth.data.camera import Camera, look_at
from humandepth.data.sample import Sample

SENSOR_WIDTH_MM = 36.0
MIN_CAMERA_HEIGHT_M = 0.3  # the camera's height above the person's lowest point (the floor, y = 0)
CROPS = ("none", "tang2019")


MAX_OFF_AXIS_DEG = 60.0  # pitch_deg: the most a crop's person may sit off the camera's axis (elevation - pitch)


@dataclass
class GeneratorConfig:
    """Everything that shapes a synthetic dataset (recorded in the dataset card)."""

    resolution: int = 256
    body: str = "anny"
    crop: str = "none"
    focal_mm: tuple[float, float] = (24.0, 85.0)
    fill: tuple[float, float] = (0.7, 0.95)
    azimuth_deg: tuple[float, float] = (-180.0, 180.0)
    elevation_deg: tuple[float, float] = (-10.0, 30.0)
    pitch_deg: tuple[float, float] | None = None
    roll_deg: tuple[float, float] = (-6.0, 6.0)
    clothed: bool = True
    outfit: tuple[str, ...] | None = None
    pose_variation: float = 1.0
    cut_prob: float = 0.25
    occluder_prob: float = 0.12
    background_dir: str | None = None
    smplx_model_path: str | None = None
    scan_dir: str | None = None
    scan_license: str | None = None
    base_detail_filter: dict = field(default_factory=DEFAULT_FILTER.to_dict)

    def __post_init__(self):
        if self.crop not in CROPS:
            raise ValueError(f"crop must be one of {CROPS}, got {self.crop!r}")
        if self.pitch_deg is not None:
            if self.crop != "tang2019":
                raise ValueError("--pitch-deg (pitch_deg) needs --crop tang2019 (a window of a larger frame); full "
                                 "frames are aimed at the person")
            lo, hi = (float(v) for v in self.pitch_deg)
            if not -45.0 <= lo <= hi <= 45.0:
                raise ValueError(f"--pitch-deg {lo:g} {hi:g}: expected LO <= HI, both within -45 and 45 degrees")
            off_axis = max(float(self.elevation_deg[1]) - lo, hi - float(self.elevation_deg[0]))
            if off_axis > MAX_OFF_AXIS_DEG:
                raise ValueError(f"--pitch-deg {lo:g} {hi:g} with --elevation-deg {self.elevation_deg[0]:g} "
                                 f"{self.elevation_deg[1]:g} puts the person up to {off_axis:g} degrees off the "
                                 f"camera's axis (at most {MAX_OFF_AXIS_DEG:g}): narrow one of the ranges")
            self.pitch_deg = (lo, hi)
        if self.crop == "tang2019":
            self.resolution = 256
            self.fill = (0.75, 0.92)
            self.cut_prob = 0.0
            self.occluder_prob = 0.0
        for name in ("cut_prob", "occluder_prob"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 16 <= int(self.resolution) <= 4096:
            raise ValueError(f"resolution must be 16..4096 pixels, got {self.resolution}")
        self.resolution = int(self.resolution)
        if self.outfit:
            from humandepth.render.garments import GARMENT_LAYER

            unknown = [g for g in self.outfit if g not in GARMENT_LAYER]
            if unknown:
                raise ValueError(f"unknown garment type(s) {unknown} in --outfit; known: {sorted(GARMENT_LAYER)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["outfit"] = list(self.outfit) if self.outfit else None
        if d["pitch_deg"] is None:  # recorded only when set: cards of earlier datasets stay as they were
            del d["pitch_deg"]
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items()}


def sample_camera(rng: np.random.Generator, vertices: np.ndarray, cfg: GeneratorConfig) -> tuple[Camera, dict]:
    """A camera that sees ``vertices`` (world) filling a sampled fraction of a square frame.

    Full frames place the person off-centre within the frame; a cut framing (``cfg.cut_prob``) makes the
    person 1.1-1.8 frames tall and aims at the upper body, so the frame edge cuts the legs (or more).  The
    camera is at least ``MIN_CAMERA_HEIGHT_M`` above the lowest vertex (the floor): a sampled elevation that
    would put it lower is raised (the recorded ``elevation_deg`` is the one used).  With ``cfg.pitch_deg`` (tang2019
    crops) the camera looks towards the person's azimuth at a pitch drawn from that range instead of at the person
    (``pitch_deg`` recorded; see the module docstring).
    """
    size = cfg.resolution
    focal_mm = float(rng.uniform(*cfg.focal_mm))
    f_px = focal_mm / SENSOR_WIDTH_MM * size
    az = np.radians(rng.uniform(*cfg.azimuth_deg))
    el = np.radians(rng.uniform(*cfg.elevation_deg))
    roll = np.radians(rng.uniform(*cfg.roll_deg))
    fill = float(rng.uniform(*cfg.fill))
    pitch = np.radians(rng.uniform(*cfg.pitch_deg)) if cfg.pitch_deg is not None else None
    cut = bool(rng.random() < cfg.cut_prob)
    if cut:
        fill = float(rng.uniform(1.1, 1.8))
    shift = rng.uniform(-1.0, 1.0, 2)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    target = 0.5 * (lo + hi)
    vertices = vertices[::3]  # the projected extent of every third vertex is within a pixel of all of them
    K = np.array([[f_px, 0, size / 2 - 0.5], [0, f_px, size / 2 - 0.5], [0, 0, 1.0]])

    def pose(eye: np.ndarray, look: np.ndarray) -> np.ndarray:
        """cam_from_world at ``eye``: aimed at ``look``, or with ``pitch`` along the person's azimuth."""
        if pitch is None:
            return look_at(eye, look, roll_rad=roll)
        ahead = np.array([-np.sin(az) * np.cos(pitch), -np.sin(pitch), -np.cos(az) * np.cos(pitch)])
        return look_at(eye, eye + ahead, roll_rad=roll)

    def fit(el: float) -> tuple[np.ndarray, float]:
        """The unit direction from the target to the camera at elevation ``el`` and the distance that makes
        the person's projected extent ``fill`` of the frame."""
        direction = np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
        dist = f_px * float(np.linalg.norm(hi - lo)) / (fill * size)
        for _ in range(3):  # refine the distance from the projected extent
            T = pose(target + dist * direction, target)
            pc = vertices @ T[:3, :3].T + T[:3, 3]
            uv = pc[:, :2] / pc[:, 2:3] * f_px
            extent = float(np.max(uv.max(axis=0) - uv.min(axis=0)))
            dist *= extent / (fill * size)
        return direction, dist

    aim = target
    if cut:  # aim so the top of the frame is just above the person's head
        aim = np.array([target[0], max(hi[1] + 0.06 - (hi[1] - lo[1]) * 0.5 / fill, target[1]), target[2]])
    direction, dist = fit(el)
    lowest = lo[1] + MIN_CAMERA_HEIGHT_M
    for _ in range(8):  # the camera stays above the floor: from below, the floor hides the whole person
        if aim[1] + dist * direction[1] >= lowest:
            break
        el = float(np.arcsin(np.clip((lowest + 0.01 - aim[1]) / dist, -1.0, 1.0)))
        direction, dist = fit(el)
    T = pose(aim + dist * direction, aim)
    if cfg.crop == "tang2019":  # centre the projected person exactly: a crop of a larger image
        pc = vertices @ T[:3, :3].T + T[:3, 3]
        uv = pc[:, :2] / pc[:, 2:3] * f_px
        mid = 0.5 * (uv.max(axis=0) + uv.min(axis=0))
        K[0, 2] -= mid[0]
        K[1, 2] -= mid[1]
    elif not cut:  # somewhere in the frame, not always in the middle
        pc = vertices @ T[:3, :3].T + T[:3, 3]
        uv = pc[:, :2] / pc[:, 2:3] * f_px
        mid = 0.5 * (uv.max(axis=0) + uv.min(axis=0))
        room = np.maximum(size - (uv.max(axis=0) - uv.min(axis=0)), 0.0) / 2 - 1.0
        K[0, 2] -= mid[0] - shift[0] * max(room[0], 0.0)
        K[1, 2] -= mid[1] - shift[1] * max(room[1], 0.0)
    cam = Camera(K, size, size, T)
    params = {"focal_mm_full_frame": round(focal_mm, 4), "focal_px": round(f_px, 4),
              "azimuth_deg": round(float(np.degrees(az)), 4), "elevation_deg": round(float(np.degrees(el)), 4),
              "roll_deg": round(float(np.degrees(roll)), 4), "distance_m": round(float(dist), 5),
              "fill": round(fill, 4), "cut_by_frame": cut, "crop": cfg.crop}
    if pitch is not None:
        params["pitch_deg"] = round(float(np.degrees(pitch)), 4)
    return cam, params


def sample_id(index: int) -> str:
    return f"{int(index):07d}"


def generate_sample(index: int, seed: int, cfg: GeneratorConfig | None = None, background_images=None) -> Sample:
    """Render sample ``index`` of the dataset with master ``seed`` (see module docstring)."""
    from humandepth.render.camera_fx import sample_camera_fx
    from humandepth.render.engine import gl_info
    from humandepth.render.lighting import sample_lighting
    from humandepth.render.person import sample_person
    from humandepth.render.photo import render_photo
    from humandepth.render.places import sample_place

    cfg = cfg or GeneratorConfig()
    rng = np.random.default_rng([int(seed), int(index)])
    person = sample_person(rng, cfg.body, clothed=cfg.clothed, outfit=cfg.outfit, pose_variation=cfg.pose_variation,
                           smplx_model_path=cfg.smplx_model_path, scan_dir=cfg.scan_dir,
                           scan_license=cfg.scan_license)
    all_vertices = np.concatenate([np.asarray(m.vertices) for m in person.meshes])
    camera, cam_params = sample_camera(rng, all_vertices, cfg)
    camera_pos = -camera.cam_from_world[:3, :3].T @ camera.cam_from_world[:3, 3]
    place = sample_place(rng, camera_pos, (camera.height, camera.width), background_images, cfg.occluder_prob,
                         person_points=all_vertices[::8])
    lighting = sample_lighting(rng, place.light_hints)
    fx = sample_camera_fx(rng, cam_params["focal_mm_full_frame"])
    photo = render_photo(person.meshes, person.surfaces, place, camera, lighting, fx, rng, person.cavity)
    out = photo["person"]
    mask = out["mask"]
    parts = None
    if all(fp is not None for fp in person.face_parts):
        parts = np.zeros(mask.shape, np.uint8)
        lut = np.concatenate(person.face_parts)
        offsets = np.cumsum([0] + [len(fp) for fp in person.face_parts])
        parts[mask] = lut[offsets[out["mesh_index"][mask]] + out["face_index"][mask]]
    flt = BaseDetailFilter.from_dict(cfg.base_detail_filter)
    depth_base, depth_detail = split_base_detail(out["depth"], mask, flt)
    body_depth = None
    if person.has_body:  # the unclothed body where the person is visible (occluders hide it too)
        body_depth = person.body_depth(camera, mask)
        bare = np.isin(person.kinds, ["body", "eyes"])  # where the skin or an eye is what is seen, it is the body
        seen = mask & bare[np.maximum(out["mesh_index"], 0)]
        body_depth[seen] = out["depth"][seen]
    R, t = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
    joints3d = joints2d = None
    if person.joints3d is not None:
        joints3d = (person.joints3d @ R.T + t).astype(np.float32)
        joints2d = camera.project(joints3d.astype(np.float64)).astype(np.float32)
    body = person.params.get("body", {})
    garments = person.params.get("garments", [])
    assets = list(person.params.get("assets", []))
    if place.params.get("license"):
        assets.append(place.params["license"])
    meta = {
        "source": "synthetic", "generator": "humandepth.render", "seed": int(seed), "index": int(index),
        "body_model": body.get("model", "scan"), "key_pose": body.get("key_pose", ""),
        "outfit": "+".join(g["type"] for g in garments), "focal_mm": cam_params["focal_mm_full_frame"],
        "azimuth_deg": cam_params["azimuth_deg"], "mask_fraction": round(float(mask.mean()), 5),
        "place_kind": place.kind, "person": person.params, "camera_sampling": cam_params, "place": place.params,
        "lighting": lighting, "camera_fx": fx, "photo": photo["stats"], "assets": assets, "renderer": gl_info(),
        "depth_type": "z", "depth_units": "m", "invalid_value": 0, "normal_frame": "opencv_camera",
        "base_detail_filter": flt.to_dict(), "config": cfg.to_dict(),
    }
    return Sample(
        id=sample_id(index), rgb=photo["rgb"], depth=out["depth"], mask=mask, normal=out["normal"], parts=parts,
        depth_base=depth_base, depth_detail=depth_detail, body_depth=body_depth,
        joints2d=joints2d, joints3d=joints3d, camera=camera, meta=meta,
    )

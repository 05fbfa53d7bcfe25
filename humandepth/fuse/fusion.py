"""Fusion of a frame sequence into a surface and per-frame ground truth (the core of ``humandepth fuse``).

Steps (:func:`fuse_sequence`):

1. validate the sequence; frames with (almost) no depth are rejected (``no_depth``);
2. poses: known, or odometry + keyframes + loop closures + pose graph (:mod:`humandepth.fuse.camera_poses`);
   frames that do not track are rejected (``tracking_lost``);
3. integrate the posed frames into a ``VoxelBlockGrid``; extract the mesh; cut the person;
4. ray-cast the fused surface at every frame's depth camera and compare with the raw depth on the
   person; frames where the subject moved are rejected (``subject_moved``) and 3-4 repeat without
   them, until no frame is dropped (:mod:`humandepth.fuse.motion`);
5. per used frame, ray-cast the final surface at the frame's colour camera: depth, normals and mask
   of the person (:class:`humandepth.fuse.surface.FusedSurface`);
6. with truth (simulated input): MAE on the person of a raw frame, of the fusion with the true poses,
   and of the fusion as run.

Nothing is written here; :mod:`humandepth.fuse.output` writes the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from humandepth.data.camera import Camera
from humandepth.fuse.camera_poses import OdometryParams, PoseResult, known_poses, odometry_poses, pose_errors
from humandepth.fuse.frames import FrameSequence, camera_rays, color_on_depth
from humandepth.fuse.integrate import TSDFParams, TSDFVolume
from humandepth.fuse.motion import MotionParams, frame_statistics, moved_frames, noise_sigma, residual_arrays
from humandepth.fuse.prefilter import median3_same_surface
from humandepth.fuse.reliability import ReliabilityParams, vertex_support
from humandepth.fuse.silhouette import SilhouetteParams, raw_depth_in_color, settle_border
from humandepth.fuse.surface import FusedSurface, Render, depth_steps, view_angles_deg
from humandepth.fuse.truth import masked_mae_mm, summarise

POSE_METHODS = ("known", "odometry")


@dataclass
class FuseConfig:
    """Everything that defines a fusion run (recorded in the report and the dataset card).

    ``depth_max``: None = automatic (median subject distance in the frames' centres + ``depth_margin``).
    ``roi_radius``: only depth within this many metres of the subject's centre, and not on the floor
    under it, is integrated (the room and the floor are left out, which keeps the voxel blocks, and
    so the time per frame, down); None integrates everything nearer than ``depth_max``.
    ``min_depth_fraction``: frames with a smaller fraction of valid depth pixels are rejected.
    ``color``: integrate colour too (vertex colours of the PLY meshes; slower).
    ``denoise``: integrate each depth image after an edge-preserving 3x3 median
    (:mod:`humandepth.fuse.prefilter`); the raw frames are used as they are everywhere else.
    ``reliability``: leave parts of the person the raw frames do not support out of the ground-truth
    mask (:mod:`humandepth.fuse.reliability`); None keeps them.
    ``edge_step``: pixels next to a depth step larger than this (metres) in the ground-truth render get
    no value: a TSDF places a step only to within a voxel, so depth right at an occluding edge (the
    silhouette too) is unreliable; None keeps them.
    ``max_view_angle``: pixels whose viewing ray meets the fused surface at more than this many degrees
    from its normal get no value (at grazing angles a voxel of lateral error is many millimetres of depth);
    None keeps them.
    ``silhouette``: settle the border of each frame's silhouette with the frame's own raw depth
    (:mod:`humandepth.fuse.silhouette`); None keeps the fused surface's.
    Pixels without a value stay in the person mask (depth 0): the mask is the person's silhouette.
    """

    poses: str = "odometry"
    denoise: bool = True
    voxel: float = 0.004
    trunc: float = 0.04
    device: str = "cpu"
    depth_max: float | None = None
    depth_margin: float = 1.0
    roi_radius: float | None = 1.2
    weight_threshold: float | None = None
    color: bool = False
    min_depth_fraction: float = 0.01
    odometry: OdometryParams = field(default_factory=OdometryParams)
    motion: MotionParams = field(default_factory=MotionParams)
    reliability: ReliabilityParams | None = field(default_factory=ReliabilityParams)
    edge_step: float | None = 0.03
    max_view_angle: float | None = 75.0
    silhouette: SilhouetteParams | None = field(default_factory=SilhouetteParams)
    compare_known_poses: bool = True

    def __post_init__(self):
        if self.poses not in POSE_METHODS:
            raise ValueError(f"--poses must be one of {POSE_METHODS}, got {self.poses!r}")
        TSDFParams(self.voxel, self.trunc)  # validates voxel / trunc

    def to_dict(self) -> dict:
        return {"poses": self.poses, "denoise": self.denoise, "voxel": self.voxel, "trunc": self.trunc,
                "device": self.device,
                "depth_max": self.depth_max, "depth_margin": self.depth_margin, "roi_radius": self.roi_radius,
                "weight_threshold": self.weight_threshold, "color": self.color,
                "min_depth_fraction": self.min_depth_fraction, "odometry": self.odometry.to_dict(),
                "motion": self.motion.to_dict(),
                "reliability": self.reliability.to_dict() if self.reliability else None,
                "edge_step": self.edge_step, "max_view_angle": self.max_view_angle,
                "silhouette": self.silhouette.to_dict() if self.silhouette else None}

    def gt_validity(self) -> str:
        """One line naming which person pixels get a ground-truth value (recorded in the dataset card)."""
        parts = []
        if self.reliability is not None:
            parts.append(f"supported by the raw frames (seen by {self.reliability.min_views} frames or more, median "
                         f"residual within {self.reliability.k:g} standard errors)")
        if self.edge_step:
            parts.append(f"not next to a depth step over {self.edge_step:g} m (the silhouette included)")
        if self.max_view_angle:
            parts.append(f"seen within {self.max_view_angle:g} deg of the surface normal")
        return "fused v2: person pixels " + (", ".join(parts) if parts else "all")


@dataclass
class FrameTruth:
    """Ground truth of one used frame in its colour camera."""

    id: str
    camera: Camera
    render: Render
    meta: dict


@dataclass
class FusionResult:
    """What :func:`fuse_sequence` produced: the surface, per-frame ground truth and the report."""

    surface: FusedSurface
    frames: list[FrameTruth]
    poses: dict
    report: dict


SUBJECT_PERCENTILE = 25.0  # of the depth in the image centre: the subject, even where the room shows past it


def _centre_depth(depth: np.ndarray, centre_fraction: float) -> float | None:
    """Depth (m) of the subject in the central ``centre_fraction`` of an image: the :data:`SUBJECT_PERCENTILE`
    percentile of the valid depth there (a thin or distant subject leaves much of the centre to the wall behind
    it, which a median would pick), None when it has none."""
    h, w = depth.shape
    h0, w0 = int(h * (1 - centre_fraction) / 2), int(w * (1 - centre_fraction) / 2)
    c = depth[h0:h - h0, w0:w - w0]
    c = c[c > 0]
    return float(np.percentile(c, SUBJECT_PERCENTILE)) if len(c) else None


def subject_distance(seq: FrameSequence, ids: list[str], centre_fraction: float = 0.3) -> float:
    """The subject's depth (m) in the central ``centre_fraction`` of the frames (where it is framed): the median
    over frames of :func:`_centre_depth`."""
    by_id = {f.id: f for f in seq.frames}
    values = [z for z in (_centre_depth(by_id[fid].depth, centre_fraction) for fid in ids) if z is not None]
    if not values:
        raise ValueError("no frame has depth in the centre of the image, where the subject should be")
    return float(np.median(values))


def subject_centre(seq: FrameSequence, ids: list[str], poses: dict, centre_fraction: float = 0.3) -> np.ndarray:
    """(3,) world point (metres): per frame, the point on the optical axis at the subject's depth in the
    image centre (:func:`_centre_depth`); the coordinate-wise median over frames (the subject is what the
    frames look at)."""
    by_id = {f.id: f for f in seq.frames}
    pts = []
    for fid in ids:
        z = _centre_depth(by_id[fid].depth, centre_fraction)
        if z is not None:
            wfc = np.linalg.inv(poses[fid])
            pts.append(wfc[:3, :3] @ np.array([0.0, 0.0, z]) + wfc[:3, 3])
    if not pts:
        raise ValueError("no frame has depth in the centre of the image, where the subject should be")
    return np.median(np.asarray(pts), axis=0)


def crop_to_roi(depth: np.ndarray, camera: Camera, cam_from_world: np.ndarray, centre: np.ndarray,
                radius: float, floor: dict | None = None) -> np.ndarray:
    """(H, W) float32 depth with pixels whose 3-D point lies farther than ``radius`` metres from
    ``centre`` (world) set to 0, and with ``floor`` (``{"normal", "offset", "margin"}``, world) also
    the points within ``margin`` of the floor plane or below it."""
    d = np.asarray(depth, dtype=np.float32).reshape(-1)
    x, y, r2 = _ray_parts(camera)  # ray (x, y, 1) per pixel and its squared length
    c = cam_from_world[:3, :3] @ np.asarray(centre, dtype=np.float64) + cam_from_world[:3, 3]
    # |d r - c|^2 = d^2 |r|^2 - 2 d (r . c) + |c|^2
    rc = x * np.float32(c[0]) + y * np.float32(c[1]) + np.float32(c[2])
    drop = d * (d * r2 - 2 * rc) > np.float32(radius**2 - c @ c)
    if floor is not None:
        n = cam_from_world[:3, :3] @ np.asarray(floor["normal"], dtype=np.float64)
        offset = floor["offset"] - float(n @ cam_from_world[:3, 3])  # plane n.p + offset = 0 in the camera
        rn = x * np.float32(n[0]) + y * np.float32(n[1]) + np.float32(n[2])
        drop |= d * rn < np.float32(floor["margin"] - offset)
    return np.where(drop, np.float32(0), d).reshape(depth.shape)


_RAY_PARTS: dict = {}


def _ray_parts(camera: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contiguous float32 (H*W,) x and y of the z = 1 rays and their squared lengths (cached)."""
    key = (camera.width, camera.height, *np.round(camera.K[:2].ravel(), 9))
    if key not in _RAY_PARTS:
        _RAY_PARTS.clear()
        r = camera_rays(camera)
        x, y = np.ascontiguousarray(r[:, 0]), np.ascontiguousarray(r[:, 1])
        _RAY_PARTS[key] = (x, y, x * x + y * y + np.float32(1))
    return _RAY_PARTS[key]


FLOOR_EXTENT_M = 0.25  # the floor seen around the subject's feet spans at least this both ways
FLOOR_BELOW_M = 0.3  # ... lies at least this far below the subject's centre
FLOOR_SEARCH_RADIUS_M = 1.6  # the floor is looked for this near the subject (or within the region, if larger):
# the region of interest's sphere meets a floor a metre below its centre in a small disc only
FLOOR_TILT_DEG = 35.0  # ... and is level to within this of the cameras' mean "up"


def cameras_up(poses: dict) -> np.ndarray:
    """(3,) unit world vector: the mean of the cameras' up directions (-y of the OpenCV camera frame).  A
    hand-held or tripod camera is held roughly level, so this is the world's up to a few tens of degrees."""
    up = np.sum([np.linalg.inv(p)[:3, :3] @ np.array([0.0, -1.0, 0.0]) for p in poses.values()], axis=0)
    return up / max(np.linalg.norm(up), 1e-12)


def find_floor(seq: FrameSequence, ids: list[str], poses: dict, centre: np.ndarray, radius: float,
               margin: float = 0.015, samples: int = 6) -> dict | None:
    """The floor under the subject: the largest plane among the region's points (a few frames, world
    frame) that spans at least :data:`FLOOR_EXTENT_M` both ways, is level (its normal within
    :data:`FLOOR_TILT_DEG` of :func:`cameras_up`) and lies at least :data:`FLOOR_BELOW_M` below the subject's
    centre, oriented so the centre is above it.  Larger planes RANSAC finds first (the person's front, walls)
    are passed over.  Leaving the floor out of integration keeps the voxel blocks to the person, and the person
    cut removes what is left of it near the plane.  None when there is no such plane."""
    from humandepth.fuse.surface import find_planes

    by_id = {f.id: f for f in seq.frames}
    cam = seq.depth_camera
    pts = []
    for fid in ids[:: max(1, len(ids) // samples)][:samples]:
        d = crop_to_roi(by_id[fid].depth, cam, poses[fid], centre, radius)
        p = (camera_rays(cam) * d.reshape(-1, 1))[d.reshape(-1) > 0][::7].astype(np.float64)
        wfc = np.linalg.inv(poses[fid])
        pts.append(p @ wfc[:3, :3].T + wfc[:3, 3])
    pts = np.concatenate(pts) if pts else np.zeros((0, 3))
    if len(pts) < 1000:
        return None
    up = cameras_up({fid: poses[fid] for fid in ids})
    for plane in find_planes(pts, margin, FLOOR_EXTENT_M, max_planes=4, min_fraction=0.03, centre=centre,
                             min_centre_distance=FLOOR_BELOW_M):
        n, off = np.asarray(plane["normal"]), plane["offset"]
        if n @ up < 0:
            n, off = -n, -off  # the normal points up
        if n @ up >= np.cos(np.radians(FLOOR_TILT_DEG)) and n @ centre + off >= FLOOR_BELOW_M:  # level, below
            return {"normal": n.tolist(), "offset": float(off), "margin": margin, "inliers": plane["inliers"],
                    "height_of_centre_m": round(float(n @ centre + off), 4)}
    return None


def integrate_frames(seq: FrameSequence, ids: list[str], poses: dict, params: TSDFParams, device: str,
                     color: bool, roi: tuple | None = None, denoise: bool = True) -> tuple[TSDFVolume, float]:
    """Integrate the frames ``ids`` at ``poses`` (cropped to ``roi = (centre, radius, floor)`` when
    given, see :func:`crop_to_roi`; with ``denoise``, each depth image first goes through
    :func:`humandepth.fuse.prefilter.median3_same_surface`); returns the volume and the seconds spent
    filtering, cropping and integrating."""
    vol = TSDFVolume(params, device=device, color=color)
    by_id = {f.id: f for f in seq.frames}
    spent = 0.0
    for fid in ids:
        f = by_id[fid]
        rgb = color_on_depth(seq, f) if color else None
        t0 = time.perf_counter()
        depth = median3_same_surface(f.depth) if denoise else f.depth
        depth = depth if roi is None else crop_to_roi(depth, seq.depth_camera, poses[fid], *roi)
        vol.integrate(depth, seq.depth_camera.K, poses[fid], rgb)
        spent += time.perf_counter() - t0
    return vol, spent


def build_surface(seq: FrameSequence, ids: list[str], poses: dict, params: TSDFParams, device: str,
                  color: bool, roi_radius: float | None = None, denoise: bool = True) -> tuple[FusedSurface, dict]:
    """Integrate, extract the mesh and cut the person; returns the surface and timing/cut facts."""
    roi = None
    centre = subject_centre(seq, ids, poses)
    floor = find_floor(seq, ids, poses, centre, max(roi_radius or 0.0, FLOOR_SEARCH_RADIUS_M))
    if roi_radius:
        roi = (centre, roi_radius, floor)
    vol, spent = integrate_frames(seq, ids, poses, params, device, color, roi, denoise)
    t0 = time.perf_counter()
    verts, tris, cols = vol.extract_mesh()
    t_mesh = time.perf_counter() - t0
    surface = FusedSurface(verts, tris, cols)
    by_id = {f.id: f for f in seq.frames}
    cams = [Camera(seq.depth_camera.K, seq.depth_camera.width, seq.depth_camera.height, poses[i]) for i in ids]
    hints = [by_id[i].person_hint for i in ids]
    t0 = time.perf_counter()
    cut = surface.cut_person(cams, hints if any(h is not None for h in hints) else None, centre=centre, floor=floor)
    facts = {"frames_integrated": len(ids),
             "roi": {"centre_m": np.round(roi[0], 4).tolist(), "radius_m": roi[1], "floor_left_out": roi[2]}
             if roi else None,
             "integrate_s": round(spent, 3),
             "integrate_frames_per_s": round(len(ids) / spent, 2) if spent > 0 else None,
             "weight_threshold": vol.weight_threshold(), "mesh_s": round(t_mesh, 3),
             "cut_s": round(time.perf_counter() - t0, 3), "cut": cut.to_dict()}
    return surface, facts


def residuals(seq: FrameSequence, surface: FusedSurface, ids: list[str], poses: dict):
    """Per frame: (r, z) of raw depth vs the fused person surface in the frame's depth camera, and
    the fused depth rendered there (H, W)."""
    by_id = {f.id: f for f in seq.frames}
    out, renders = {}, {}
    for fid in ids:
        cam = Camera(seq.depth_camera.K, seq.depth_camera.width, seq.depth_camera.height, poses[fid])
        rd = surface.render(cam)
        out[fid] = residual_arrays(by_id[fid].depth, rd.depth, rd.person)
        renders[fid] = rd.depth
    return out, renders


def apply_support(seq: FrameSequence, surface: FusedSurface, ids: list[str], poses: dict, sigma_n: float,
                  voxel: float, params: ReliabilityParams, renders: dict | None = None) -> dict:
    """Mark the person triangles the raw frames ``ids`` do not support (see
    :mod:`humandepth.fuse.reliability`); returns its statistics."""
    by_id = {f.id: f for f in seq.frames}
    cam_d = seq.depth_camera
    frames = []
    for fid in ids:
        cam = Camera(cam_d.K, cam_d.width, cam_d.height, poses[fid])
        fused = renders[fid] if renders is not None and fid in renders else surface.render(cam).depth
        frames.append((by_id[fid].depth, cam, fused))
    vids = np.unique(surface.tris[surface.person])
    supported, stats = vertex_support(surface.verts[vids], frames, sigma_n, voxel, params)
    surface.set_supported_vertices(vids, supported)
    stats["person_triangles_supported_fraction"] = round(
        float(np.sum(surface.person & surface.supported) / max(np.sum(surface.person), 1)), 4)
    return stats


def ground_truth_render(seq: FrameSequence, frame_id: str, surface: FusedSurface, cam: Camera, cfg: FuseConfig,
                        sigma_n: float) -> Render:
    """The fused person seen by ``cam`` (frame ``frame_id``'s colour camera): ``person`` is its silhouette (its
    border settled by the frame's raw depth), ``mask`` the pixels of it that get a ground-truth value
    (supported, not in the edge band, not seen at a grazing angle; see :class:`FuseConfig`)."""
    rd = surface.render(cam)
    if cfg.edge_step:
        rd.mask &= ~depth_steps(rd.depth, cfg.edge_step)
    if cfg.max_view_angle:
        rd.mask &= view_angles_deg(rd, cam) <= cfg.max_view_angle
    if cfg.silhouette is not None:
        frame = next(f for f in seq.frames if f.id == frame_id)
        raw = raw_depth_in_color(frame.depth, seq.depth_camera, seq.depth_to_color, cam)
        rd.person, _ = settle_border(rd.person, rd.depth, raw, sigma_n, cfg.silhouette)
        rd.mask &= rd.person
    return rd


def mask_agreement(masks: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """Precision, recall and IoU of estimated person masks against true ones, pooled over the pairs
    ``(estimate (H, W) bool, truth (H, W) bool)``, and per pair (mean / median / max of each)."""
    tp = fp = fn = 0
    per = {"precision": [], "recall": [], "iou": []}
    for est, true in masks:
        a, b = int(np.sum(est & true)), int(np.sum(est & ~true))
        c = int(np.sum(~est & true))
        tp, fp, fn = tp + a, fp + b, fn + c
        per["precision"].append(a / (a + b) if a + b else float("nan"))
        per["recall"].append(a / (a + c) if a + c else float("nan"))
        per["iou"].append(a / (a + b + c) if a + b + c else float("nan"))
    out = {"precision": round(tp / (tp + fp), 4) if tp + fp else None,
           "recall": round(tp / (tp + fn), 4) if tp + fn else None,
           "iou": round(tp / (tp + fp + fn), 4) if tp + fp + fn else None}
    return {**out, "per_frame": {k: summarise(v) for k, v in per.items()}, "frames": len(masks)}


def evaluated_pixels(frames: list[FrameTruth]) -> dict:
    """Person-silhouette pixels, those with a ground-truth value, and their ratio, over ``frames``."""
    person = int(sum(int(ft.render.person.sum()) for ft in frames))
    valid = int(sum(int((ft.render.person & ft.render.mask).sum()) for ft in frames))
    return {"person_px": person, "valid_px": valid, "fraction": round(valid / person, 4) if person else None}


def _coverage(mask: np.ndarray) -> float:
    """Fraction of the person's filled silhouette that has fused depth (holes lower it)."""
    from scipy import ndimage

    filled = ndimage.binary_fill_holes(mask)
    return float(mask.sum() / filled.sum()) if filled.any() else 0.0


def fuse_sequence(seq: FrameSequence, cfg: FuseConfig | None = None, progress=None) -> FusionResult:
    """Fuse ``seq`` into per-frame ground truth (see the module docstring).  Raises ``ValueError``
    with a message naming the input when it cannot be fused."""
    cfg = cfg or FuseConfig()
    say = progress or (lambda *a: None)
    t_start = time.perf_counter()
    seq.validate()
    from humandepth.fuse.integrate import o3d_device

    o3d_device(cfg.device)  # fail early on an unknown device, or CUDA asked for but missing
    rejected: dict = {}
    for f in seq.frames:
        frac = float(np.mean(f.depth > 0))
        if frac < cfg.min_depth_fraction:
            rejected[f.id] = {"reason": "no_depth", "valid_fraction": round(frac, 5)}
    usable = [f.id for f in seq.frames if f.id not in rejected]
    if len(usable) < 2:
        raise ValueError(f"{seq.source.get('path', 'the input')}: only {len(usable)} frame(s) have depth "
                         f"(at least {cfg.min_depth_fraction:.0%} valid pixels); fusion needs 2")
    # poses
    say("poses", cfg.poses)
    t0 = time.perf_counter()
    if cfg.poses == "known":
        pr = known_poses(seq)
    else:
        pr = odometry_poses(seq, cfg.odometry, skip=set(rejected))
    rejected.update(pr.rejected)
    t_poses = time.perf_counter() - t0
    posed = [fid for fid in usable if fid in pr.poses and fid not in rejected]
    if len(posed) < 2:
        raise ValueError(f"{seq.source.get('path', 'the input')}: only {len(posed)} frame(s) could be posed")
    # integration parameters
    d_subject = subject_distance(seq, posed)
    depth_max = cfg.depth_max if cfg.depth_max is not None else d_subject + cfg.depth_margin
    params = TSDFParams(cfg.voxel, cfg.trunc, depth_max, weight_threshold=cfg.weight_threshold)
    # fuse -> check motion -> drop, until stable
    used = list(posed)
    rounds = []
    sigma_n = 0.0
    while True:
        say("integrate", len(used))
        surface, facts = build_surface(seq, used, pr.poses, params, cfg.device, cfg.color, cfg.roi_radius,
                                       cfg.denoise)
        res, renders = residuals(seq, surface, posed, pr.poses)
        sigma_n = noise_sigma([r / z**2 for fid, (r, z) in res.items() if fid in used])
        stats = {fid: frame_statistics(r, z, sigma_n, cfg.motion.k, cfg.voxel) for fid, (r, z) in res.items()}
        moved = moved_frames(stats, used, cfg.motion)
        if len(used) - len(moved) < 2:  # never drop below two frames: keep the best two
            moved = sorted(moved, key=lambda i: stats[i]["outlier_fraction"])[2 - (len(used) - len(moved)):]
        rounds.append({"frames": len(used), "moved": moved, "noise_sigma_mm_at_1m": round(sigma_n * 1000, 3),
                       **facts})
        if not moved or len(rounds) >= cfg.motion.rounds:
            unresolved = moved  # still moving after the last allowed round: kept, and said so
            break
        for fid in moved:
            rejected[fid] = {"reason": "subject_moved", "round": len(rounds),
                             "outlier_fraction": stats[fid]["outlier_fraction"],
                             "median_abs_mm": stats[fid]["median_abs_mm"]}
        used = [fid for fid in used if fid not in moved]
    # keep only what the frames support, then per-frame ground truth in the colour cameras
    support = (apply_support(seq, surface, used, pr.poses, sigma_n, cfg.voxel, cfg.reliability, renders)
               if cfg.reliability is not None else None)
    say("ground truth", len(used))
    by_id = {f.id: f for f in seq.frames}
    frames_out, not_written = [], {}
    cam_c = seq.color_camera
    for fid in used:
        cam = Camera(cam_c.K, cam_c.width, cam_c.height, seq.color_pose(pr.poses[fid]))
        rd = ground_truth_render(seq, fid, surface, cam, cfg, sigma_n)
        if rd.person.sum() == 0:
            not_written[fid] = "person_not_in_view"
            continue
        frames_out.append(FrameTruth(fid, cam, rd, {**by_id[fid].meta, "frame_id": fid}))
    report = {
        "input": seq.source,
        "config": cfg.to_dict(),
        "frames": {
            "read": len(seq.frames), "used": len(used), "written": len(frames_out),
            "rejected": len(rejected),
            "rejected_frames": [{"id": k, **v} for k, v in sorted(rejected.items())],
            "not_written": [{"id": k, "reason": v} for k, v in sorted(not_written.items())],
            "used_ids": used,
            "moved_but_kept": unresolved,
        },
        "poses": pr.stats,
        "integration": {"depth_max_m": round(depth_max, 4), "subject_distance_m": round(d_subject, 4),
                        "rounds": rounds},
        "surface": surface.stats(),
        "support": support,
        "noise": {"sigma_mm_at_1m": round(sigma_n * 1000, 3),
                  "sigma_mm_at_subject": round(sigma_n * d_subject**2 * 1000, 3)},
        "residuals": {fid: stats[fid] for fid in posed},
        "residual_summary_mm": summarise([stats[fid].get("mean_abs_mm", np.nan) for fid in used]),
        "coverage": summarise([_coverage(ft.render.mask) for ft in frames_out]),
        "evaluated": evaluated_pixels(frames_out),
        "gt_validity": cfg.gt_validity(),
        "timing_s": {"poses": round(t_poses, 3)},
    }
    if seq.truth is not None:
        report["truth"] = truth_report(seq, cfg, pr, used, params, surface, frames_out, sigma_n)
    report["timing_s"]["total"] = round(time.perf_counter() - t_start, 3)
    return FusionResult(surface, frames_out, {fid: pr.poses[fid] for fid in used}, report)


def _fused_mae(seq: FrameSequence, frames: list[FrameTruth], unfiltered: bool = False) -> tuple[list, list, list]:
    """Per frame MAE (mm) on the truth mask where the fused depth has a value, coverage of the truth mask, and
    the (fused person silhouette, true person mask) pairs.  ``unfiltered``: the depth of the whole fused person
    (no support / edge / view-angle filter)."""
    maes, covers, masks = [], [], []
    for ft in frames:
        if not seq.truth.has(ft.id):
            continue
        td, tm = seq.truth.in_color(ft.id)
        r = ft.render
        est = np.where(r.person, r.depth, 0) if unfiltered else r.person_depth()
        mae, cover = masked_mae_mm(est, td, tm)
        maes.append(mae)
        covers.append(cover)
        masks.append((r.person, np.asarray(tm, bool) & (td > 0)))
    return maes, covers, masks


def truth_report(seq: FrameSequence, cfg: FuseConfig, pr: PoseResult, used: list[str], params: TSDFParams,
                 surface: FusedSurface, frames: list[FrameTruth], sigma_n: float) -> dict:
    """``gt_mae_mm`` (raw_frame, fused_known_poses, fused) on the truth's person mask, and more."""
    truth = seq.truth
    by_id = {f.id: f for f in seq.frames}
    raw = []
    for fid in used:
        if truth.has(fid):
            td, tm = truth.in_depth(fid)
            raw.append(masked_mae_mm(by_id[fid].depth, td, tm)[0])
    fused, covers, masks = _fused_mae(seq, frames)
    unfiltered, cover_unf, _ = _fused_mae(seq, frames, unfiltered=True)
    out = {"gt_mae_mm": {"raw_frame": summarise(raw)["mean"] if raw else None,
                         "fused": summarise(fused).get("mean")},
           "person_mask": mask_agreement(masks),
           "per_frame_mae_mm": {"raw_frame": summarise(raw), "fused": summarise(fused)},
           "fused_unfiltered": {"mae_mm": summarise(unfiltered), "coverage_of_truth_mask": summarise(cover_unf),
                                "what": "the whole fused person, without the support, edge and view-angle filters"},
           "fused_coverage_of_truth_mask": summarise(covers),
           "truth": truth.describe()}
    if cfg.poses == "known":
        out["gt_mae_mm"]["fused_known_poses"] = out["gt_mae_mm"]["fused"]
    elif cfg.compare_known_poses and all(truth.has(f) for f in used):
        true_poses = {fid: truth.depth_pose(fid) for fid in used}
        out["pose_error"] = pose_errors(pr.poses, true_poses)
        surf_k, _ = build_surface(seq, used, true_poses, params, cfg.device, cfg.color, cfg.roi_radius, cfg.denoise)
        if cfg.reliability is not None:
            apply_support(seq, surf_k, used, true_poses, sigma_n, cfg.voxel, cfg.reliability)
        cam_c = seq.color_camera
        frames_k = []
        for fid in used:
            c = Camera(cam_c.K, cam_c.width, cam_c.height, seq.color_pose(true_poses[fid]))
            frames_k.append(FrameTruth(fid, c, ground_truth_render(seq, fid, surf_k, c, cfg, sigma_n), {}))
        mk = _fused_mae(seq, frames_k)[0]
        out["gt_mae_mm"]["fused_known_poses"] = summarise(mk).get("mean")
        out["per_frame_mae_mm"]["fused_known_poses"] = summarise(mk)
    raw_mae, fused_mae = out["gt_mae_mm"]["raw_frame"], out["gt_mae_mm"]["fused"]
    if raw_mae and fused_mae:
        out["improvement_over_raw_frame"] = round(raw_mae / fused_mae, 2)
    return out

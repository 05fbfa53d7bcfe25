"""The frame sequence that fusion consumes, independent of where the frames came from.

Every reader (:mod:`humandepth.fuse.readers`) turns its input into a :class:`FrameSequence`; the
core (poses, integration, ground truth) sees nothing else, so it can be tested on frames made in
memory (an analytic scene ray-cast exactly).

Frames and cameras (humandepth conventions: metres, OpenCV camera axes, pixel centres at integer
coordinates):

* ``depth``: (H, W) float32 planar z in metres in the *depth* camera, 0 = no value;
* ``rgb``: (h, w, 3) uint8 in the *colour* camera (the image the ground truth is made for);
* ``depth_to_color``: (4, 4) float64, ``p_color = depth_to_color @ p_depth`` (metres);
* ``pose``: optional known (4, 4) ``cam_from_world`` of the *depth* camera (a calibrated rig, or
  the truth of a simulated take); the colour camera's pose is ``depth_to_color @ pose``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from humandepth.data.camera import Camera


@dataclass
class Frame:
    """One RGB-D frame.

    Attributes:
        id: unique frame id (``frame-NNNNNN`` for takes; the sample id for datasets).
        depth: (H, W) float32 metres, planar z in the depth camera, 0 = no value.
        rgb: (h, w, 3) uint8 in the colour camera.
        pose: (4, 4) float64 ``cam_from_world`` of the depth camera when known, else None.
        person_hint: optional (H, W) bool coarse person mask in the depth camera (e.g. from
            ``capture import``); used only to pick which fused component is the subject.
        meta: JSON-serialisable facts carried into the output (frame numbers, timestamps...).
    """

    id: str
    depth: np.ndarray
    rgb: np.ndarray
    pose: np.ndarray | None = None
    person_hint: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


@dataclass
class FrameSequence:
    """Frames from one rig: a depth camera and a colour camera with a fixed extrinsic.

    Attributes:
        depth_camera, color_camera: intrinsics and image sizes (their ``cam_from_world`` is unused;
            poses are per frame).
        depth_to_color: (4, 4) float64 metres, ``p_color = depth_to_color @ p_depth``.
        frames: in capture order.
        source: JSON description of the input (kind, path, sidecar facts).
        truth: exact truth for simulated input (:class:`humandepth.fuse.truth.Truth`), else None.
    """

    depth_camera: Camera
    color_camera: Camera
    depth_to_color: np.ndarray
    frames: list[Frame]
    source: dict = field(default_factory=dict)
    truth: object | None = None

    def __post_init__(self):
        self.depth_to_color = np.asarray(self.depth_to_color, dtype=np.float64)

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def has_known_poses(self) -> bool:
        return bool(self.frames) and all(f.pose is not None for f in self.frames)

    def color_pose(self, depth_pose: np.ndarray) -> np.ndarray:
        """``cam_from_world`` of the colour camera for a depth camera at ``depth_pose``."""
        return self.depth_to_color @ np.asarray(depth_pose, dtype=np.float64)

    def validate(self, min_frames: int = 2) -> None:
        """Raise ``ValueError`` naming the frame when the sequence cannot be fused.

        Checks: at least ``min_frames`` frames; unique ids; every depth (H, W) float32-compatible at
        the depth camera's size and every rgb (h, w, 3) uint8 at the colour camera's size; finite
        depth; at least one frame with depth; a rigid ``depth_to_color``; poses (when given) rigid.
        """
        n = len(self.frames)
        what = self.source.get("path", "the input")
        if n < min_frames:
            raise ValueError(
                f"{what} has {n} frame{'s' if n != 1 else ''}; fusion needs at least {min_frames} "
                "(a single frame has nothing to fuse: use it directly, or record more)"
            )
        seen = set()
        dh, dw = self.depth_camera.height, self.depth_camera.width
        ch, cw = self.color_camera.height, self.color_camera.width
        for f in self.frames:
            if f.id in seen:
                raise ValueError(f"{what}: frame id {f.id!r} appears twice")
            seen.add(f.id)
            if np.shape(f.depth) != (dh, dw):
                raise ValueError(f"{what}: frame {f.id!r} has depth of shape {np.shape(f.depth)}, but the depth "
                                 f"camera is {dw}x{dh} (inconsistent intrinsics / image sizes)")
            if np.shape(f.rgb) != (ch, cw, 3) or np.asarray(f.rgb).dtype != np.uint8:
                raise ValueError(f"{what}: frame {f.id!r} has rgb {np.shape(f.rgb)} {np.asarray(f.rgb).dtype}, but "
                                 f"the colour camera is {cw}x{ch} uint8 (inconsistent intrinsics / image sizes)")
            if not np.all(np.isfinite(f.depth)) or np.any(np.asarray(f.depth) < 0):
                raise ValueError(f"{what}: frame {f.id!r} has NaN, inf or negative depth (0 marks no value)")
            if f.pose is not None:
                _check_rigid(f.pose, f"{what}: pose of frame {f.id!r}")
        _check_rigid(self.depth_to_color, f"{what}: depth_to_color")
        if not any(np.any(np.asarray(f.depth) > 0) for f in self.frames):
            raise ValueError(f"{what}: no frame has depth (all {n} depth images are empty)")


def _check_rigid(T, what: str) -> None:
    T = np.asarray(T, dtype=np.float64)
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        raise ValueError(f"{what} must be a finite 4x4 matrix, got shape {T.shape}")
    R = T[:3, :3]
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-4) or not np.allclose(T[3], [0, 0, 0, 1]) \
            or np.linalg.det(R) < 0:
        raise ValueError(f"{what} is not a rigid transform (rotation + translation)")


def check_same_camera(reference: Camera, camera: Camera, what: str, reference_what: str) -> None:
    """Raise ``ValueError`` when ``camera``'s intrinsics or size differ from ``reference``'s."""
    if (camera.width, camera.height) != (reference.width, reference.height) or \
            not np.allclose(camera.K, reference.K, rtol=0, atol=1e-6):
        raise ValueError(
            f"{what} has intrinsics {np.round(camera.K, 3).tolist()} at {camera.width}x{camera.height}, but "
            f"{reference_what} has {np.round(reference.K, 3).tolist()} at {reference.width}x{reference.height}: "
            "inconsistent intrinsics (fusion needs one rig; split the input by camera)"
        )


def color_on_depth(seq: FrameSequence, frame: Frame, fill: bool = True, return_inside: bool = False):
    """(H, W, 3) uint8: the colour image sampled at each depth pixel's 3-D point (bilinear); where
    that falls outside the colour image (the colour camera's field of view is often narrower), the
    colour of the nearest pixel inside it with ``fill``, else 0.  With ``return_inside`` also the
    (H, W) bool mask of pixels that saw colour.  Pixels without depth take the depth of the nearest pixel
    that has one (``fill``; else they stay 0): black specks at every depth dropout would be strong
    false edges for photometric odometry.  Occlusion between the two cameras is ignored (a few
    pixels at depth edges); this is the colour that odometry and the mesh use."""
    from scipy import ndimage

    cam_d, cam_c = seq.depth_camera, seq.color_camera
    depth = np.asarray(frame.depth, dtype=np.float64)
    if fill and np.any(depth <= 0) and np.any(depth > 0):
        _, (ri, ci) = ndimage.distance_transform_edt(depth <= 0, return_indices=True)
        depth = depth[ri, ci]
    pts = cam_d.rays() * depth[..., None]
    pc = pts.reshape(-1, 3) @ seq.depth_to_color[:3, :3].T + seq.depth_to_color[:3, 3]
    valid = (depth.reshape(-1) > 0) & (pc[:, 2] > 1e-6)
    uv = np.zeros((len(pc), 2))
    uv[valid] = cam_c.project(pc[valid])
    u, v = uv[:, 0], uv[:, 1]
    inside = valid & (u >= 0) & (v >= 0) & (u <= cam_c.width - 1) & (v <= cam_c.height - 1)
    out = np.zeros((len(pc), 3), dtype=np.float64)
    if inside.any():
        u, v = u[inside], v[inside]
        u0 = np.minimum(np.floor(u).astype(np.int64), cam_c.width - 2) if cam_c.width > 1 else np.zeros_like(u, int)
        v0 = np.minimum(np.floor(v).astype(np.int64), cam_c.height - 2) if cam_c.height > 1 else np.zeros_like(v, int)
        fu, fv = (u - u0)[:, None], (v - v0)[:, None]
        img = np.asarray(frame.rgb, dtype=np.float64)
        u1 = np.minimum(u0 + 1, cam_c.width - 1)
        v1 = np.minimum(v0 + 1, cam_c.height - 1)
        out[inside] = (img[v0, u0] * (1 - fu) * (1 - fv) + img[v0, u1] * fu * (1 - fv)
                       + img[v1, u0] * (1 - fu) * fv + img[v1, u1] * fu * fv)
    out = out.reshape(cam_d.height, cam_d.width, 3)
    inside = inside.reshape(cam_d.height, cam_d.width)
    if fill and inside.any() and not inside.all():
        _, (ri, ci) = ndimage.distance_transform_edt(~inside, return_indices=True)
        out = out[ri, ci]
    rgb = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    return (rgb, inside) if return_inside else rgb

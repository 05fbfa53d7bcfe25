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


_RAYS: dict = {}


def camera_rays(camera: Camera) -> np.ndarray:
    """(H*W, 3) float32 rays with z = 1 through every pixel of ``camera`` (row-major), cached per intrinsics and
    size: fusion casts, colours and cuts the same few cameras thousands of times."""
    key = (camera.width, camera.height, *np.round(camera.K[:2].ravel(), 9))
    rays = _RAYS.get(key)
    if rays is None:
        if len(_RAYS) > 8:
            _RAYS.clear()
        rays = _RAYS[key] = np.ascontiguousarray(camera.rays().reshape(-1, 3), dtype=np.float32)
        rays.flags.writeable = False  # shared: nobody may change it in place
    return rays


def color_on_depth(seq: FrameSequence, frame: Frame, fill: bool = True, return_inside: bool = False):
    """(H, W, 3) uint8: the colour image sampled at each depth pixel's 3-D point (bilinear).

    With ``fill``: a pixel without depth is projected at the depth of the nearest pixel that has one
    (found on a 4x coarser grid), and a point outside the colour image (the colour camera's field
    of view is often narrower) takes the colour of the nearest image border pixel; black specks at
    depth dropouts and a black border would be strong false edges for photometric odometry.  Without
    ``fill`` those pixels are 0.  With ``return_inside`` also the (H, W) bool mask of pixels that
    really saw colour.  Occlusion between the two cameras is ignored (a few pixels at depth edges).
    """
    from scipy import ndimage

    cam_d, cam_c = seq.depth_camera, seq.color_camera
    depth = np.asarray(frame.depth, dtype=np.float32)
    has = depth > 0
    if fill and not has.all() and has.any():
        coarse = depth[::4, ::4]
        if (coarse > 0).any():
            _, (ri, ci) = ndimage.distance_transform_edt(coarse <= 0, return_indices=True)
            filled = np.repeat(np.repeat(coarse[ri, ci], 4, axis=0), 4, axis=1)[:depth.shape[0], :depth.shape[1]]
            depth = np.where(has, depth, filled)
    pts = camera_rays(cam_d) * depth.reshape(-1, 1)
    T = seq.depth_to_color.astype(np.float32)
    pc = pts @ T[:3, :3].T + T[:3, 3]
    z = pc[:, 2]
    valid = (depth.reshape(-1) > 0) & (z > 1e-6)
    zs = np.where(valid, z, np.float32(1))
    K = cam_c.K.astype(np.float32)
    u = pc[:, 0] / zs * K[0, 0] + K[0, 2]
    v = pc[:, 1] / zs * K[1, 1] + K[1, 2]
    W, H = cam_c.width, cam_c.height
    inside = valid & (u >= 0) & (v >= 0) & (u <= W - 1) & (v <= H - 1)
    u = np.clip(u, 0, W - 1)
    v = np.clip(v, 0, H - 1)
    u0 = np.minimum(np.floor(u).astype(np.int64), max(W - 2, 0))
    v0 = np.minimum(np.floor(v).astype(np.int64), max(H - 2, 0))
    u1, v1 = np.minimum(u0 + 1, W - 1), np.minimum(v0 + 1, H - 1)
    fu, fv = (u - u0)[:, None], (v - v0)[:, None]
    img = np.asarray(frame.rgb, dtype=np.float32)
    out = ((img[v0, u0] * (1 - fu) + img[v0, u1] * fu) * (1 - fv)
           + (img[v1, u0] * (1 - fu) + img[v1, u1] * fu) * fv)
    if not fill:
        out[~inside] = 0
    else:
        out[~valid] = 0
    rgb = np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(cam_d.height, cam_d.width, 3)
    inside = inside.reshape(cam_d.height, cam_d.width)
    return (rgb, inside) if return_inside else rgb

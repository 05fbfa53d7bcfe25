"""The person's silhouette in each colour frame: the fused surface's, settled at its border by the frame itself.

The fused person, ray-cast at a frame's colour camera, gives its silhouette to within about a pixel: a TSDF
places an occluding contour only to within a voxel, and noise and pose error move it further.  The frame's
own raw depth measured the person's outline at that very instant, so along the border (``band_px`` pixels,
8-connected, either side of the fused contour) it decides wherever it has a measurement:

- the raw depth is mapped into the colour camera (:func:`raw_depth_in_color`: every raw point projected
  with the depth-to-colour extrinsic, the nearest kept per pixel);
- a border pixel whose raw point lies within ``tau`` of the person's fused depth there (that of the nearest
  fused person pixel) is the person; one whose raw point lies more than ``tau`` beyond it saw past the
  person and is not; a pixel without a raw point keeps the fused decision.

``tau = max(k * sigma(z), min_tau_m)`` with the take's estimated noise ``sigma(z) = sigma_n * z**2``.  Pixels the
border adds have no fused depth, so they get no ground-truth value; they only complete the mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humandepth.data.camera import Camera
from humandepth.fuse.frames import camera_rays


@dataclass
class SilhouetteParams:
    band_px: int = 1
    k: float = 5.0
    min_tau_m: float = 0.03

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def raw_depth_in_color(depth: np.ndarray, depth_camera: Camera, depth_to_color: np.ndarray,
                       color_camera: Camera) -> np.ndarray:
    """(H, W) float32 planar depth (metres) in the colour camera of the raw points of ``depth`` (the depth
    camera's (h, w) float metres, 0 = none), the nearest point per pixel; ``inf`` where no point lands."""
    d = np.asarray(depth, dtype=np.float32).reshape(-1)
    have = d > 0
    T = np.asarray(depth_to_color, dtype=np.float64)
    p = (camera_rays(depth_camera)[have] * d[have, None]).astype(np.float64) @ T[:3, :3].T + T[:3, 3]
    out = np.full((color_camera.height, color_camera.width), np.inf, dtype=np.float32)
    p = p[p[:, 2] > 1e-6]
    if len(p) == 0:
        return out
    uv = np.rint(color_camera.project(p)).astype(np.int64)
    ok = (uv[:, 0] >= 0) & (uv[:, 1] >= 0) & (uv[:, 0] < color_camera.width) & (uv[:, 1] < color_camera.height)
    np.minimum.at(out, (uv[ok, 1], uv[ok, 0]), p[ok, 2].astype(np.float32))
    return out


def settle_border(person: np.ndarray, depth: np.ndarray, raw_in_color: np.ndarray, sigma_n: float,
                  params: SilhouetteParams) -> tuple[np.ndarray, dict]:
    """The silhouette ``person`` (H, W) bool with its border decided by the raw depth (see the module docstring).

    Args:
        person: (H, W) bool fused person silhouette.
        depth: (H, W) float32 fused depth (metres) of the first hit; read on ``person``.
        raw_in_color: (H, W) float32 from :func:`raw_depth_in_color`.
        sigma_n: noise as ``sigma(z) / z**2`` (1/m).

    Returns:
        the new (H, W) bool silhouette, and ``{"added_px", "removed_px"}``.
    """
    from scipy import ndimage

    person = np.asarray(person, bool)
    if not person.any():
        return person.copy(), {"added_px": 0, "removed_px": 0}
    square = np.ones((3, 3), bool)  # 8-neighbours: the border's corners belong to it too
    band = (ndimage.binary_dilation(person, square, iterations=params.band_px)
            & ~ndimage.binary_erosion(person, square, iterations=params.band_px, border_value=1))
    nearest = ndimage.distance_transform_edt(~person, return_distances=False, return_indices=True)
    z_person = np.asarray(depth, np.float32)[tuple(nearest)]  # the person's depth at, or nearest to, each pixel
    tau = np.maximum(params.k * sigma_n * z_person**2, params.min_tau_m)
    measured = np.isfinite(raw_in_color)
    is_person = band & measured & (np.abs(raw_in_color - z_person) <= tau)
    beyond = band & measured & (raw_in_color > z_person + tau)
    out = (person & ~beyond) | is_person
    return out, {"added_px": int(np.sum(out & ~person)), "removed_px": int(np.sum(person & ~out))}

"""Which parts of the fused person surface the raw frames actually support.

TSDF fusion averages signed distances, so structures thinner than the noise or the truncation
(fingers against the body, a gap between arm and torso) and occlusion boundaries come out blended:
a surface that no frame measured.  Such places are found from the frames themselves: every person
vertex is projected into every frame that sees it (its depth agrees with the fused surface rendered
at that frame), and the raw depths there are compared with the vertex's depth.  On a supported
surface the residuals are noise around zero; their median is off by no more than ``k`` standard
errors of a median (``1.2533 * sigma(z) / sqrt(n)``) plus half a voxel (the mesh's own resolution).
A vertex seen by fewer than ``min_views`` frames, or whose median residual is larger, is unsupported;
triangles touching one are left out of the ground-truth mask (they still occlude).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humandepth.data.camera import Camera


@dataclass
class ReliabilityParams:
    k: float = 3.0
    min_views: int = 3

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def vertex_support(verts: np.ndarray, frames: list[tuple[np.ndarray, Camera, np.ndarray]], sigma_n: float,
                   voxel: float, params: ReliabilityParams) -> tuple[np.ndarray, dict]:
    """(V,) bool: vertices supported by the raw frames, and statistics for the report.

    Args:
        verts: (V, 3) float64 world vertices (metres).
        frames: per frame ``(raw depth (H, W) m, depth camera with pose, fused depth rendered at that
            camera (H, W) m)``.
        sigma_n: noise level as ``sigma(z) / z**2`` (1/m), see :mod:`humandepth.fuse.motion`.
        voxel: voxel size (m).
    """
    V = len(verts)
    res = np.full((len(frames), V), np.nan, dtype=np.float32)
    for i, (raw, cam, fused) in enumerate(frames):
        p = verts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3]
        z = p[:, 2]
        ok = z > 1e-6
        uv = np.zeros((V, 2))
        uv[ok] = cam.project(p[ok])
        u = np.rint(uv[:, 0]).astype(np.int64)
        v = np.rint(uv[:, 1]).astype(np.int64)
        ok &= (u >= 0) & (v >= 0) & (u < cam.width) & (v < cam.height)
        idx = np.flatnonzero(ok)
        fz = fused[v[idx], u[idx]]
        seen = np.abs(fz - z[idx]) < max(2 * voxel, 0.01)  # not occluded by another part of the surface
        idx = idx[seen]
        rz = raw[v[idx], u[idx]]
        have = rz > 0
        res[i, idx[have]] = rz[have] - z[idx[have]]
    n = np.sum(np.isfinite(res), axis=0)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            bias = np.nanmedian(res, axis=0)
    depth = np.linalg.norm(verts - np.mean([np.linalg.inv(c.cam_from_world)[:3, 3] for _, c, _ in frames], axis=0),
                           axis=1)
    sigma = sigma_n * depth**2
    limit = params.k * 1.2533 * sigma / np.sqrt(np.maximum(n, 1)) + voxel / 2
    supported = (n >= params.min_views) & (np.abs(np.nan_to_num(bias, nan=np.inf)) <= limit)
    stats = {"vertices": int(V), "supported_fraction": round(float(supported.mean()), 4) if V else 0.0,
             "too_few_views": int(np.sum(n < params.min_views)),
             "median_views": float(np.median(n)) if V else 0.0, "params": params.to_dict()}
    return supported, stats

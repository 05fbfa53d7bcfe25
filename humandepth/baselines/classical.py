"""Classical baselines: floors and oracles that calibrate the leaderboard.

All predict planar depth in metres at the sample's resolution (float32, every pixel finite).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from humandepth.data.base_detail import split_base_detail
from humandepth.data.sample import Sample

ASSUMED_PERSON_HEIGHT_M = 1.70


class PlaneBaseline:
    """A fronto-parallel plane: the same depth at every pixel.

    Under the ``tang2019`` shift alignment this is the floor every method must beat; under
    ``affine`` its fit is degenerate and the benchmark reports it as such.
    """

    depth_kind = "relative"
    batch_size = 1

    def __init__(self, depth_m: float = 1.0):
        self.depth_m = float(depth_m)

    def predict(self, samples: list[Sample]):
        return [(np.full((s.height, s.width), self.depth_m, np.float32), None) for s in samples]


def inflate_mask(mask: np.ndarray, metres_per_px: float, base_m: float = 1.0) -> np.ndarray:
    """Silhouette inflation: each pixel bulges towards the camera like a circular cross-section.

    With ``d`` the distance (px) to the silhouette and ``R`` the local half-width (the largest ``d``
    within a window of the mask's half-thickness), the bulge is ``sqrt(d (2R - d))`` pixels, scaled
    to metres by ``metres_per_px``.  Returns (H, W) float32 depth: ``base_m - bulge`` inside the mask,
    ``base_m`` outside it.
    """
    mask = np.asarray(mask, bool)
    out = np.full(mask.shape, base_m, np.float32)
    if not mask.any():
        return out
    dist = ndimage.distance_transform_edt(mask)
    half = max(3, int(0.5 * dist.max()))
    local_r = ndimage.maximum_filter(dist, size=2 * half + 1)
    bulge = np.sqrt(np.clip(dist * (2.0 * local_r - dist), 0.0, None))
    out[mask] = base_m - metres_per_px * bulge[mask]
    return out


class InflateBaseline:
    """Silhouette inflation from the GT mask: a cheap rounded-body prior (Teddy/balloon idea).

    Scale: the mask's bounding-box height is taken to be a standing person of
    ``person_height_m`` (1.70 m), which fixes metres per pixel; no other ground truth is read.
    """

    depth_kind = "relative"
    batch_size = 1

    def __init__(self, person_height_m: float = ASSUMED_PERSON_HEIGHT_M):
        self.person_height_m = float(person_height_m)

    def predict(self, samples: list[Sample]):
        out = []
        for s in samples:
            rows = np.nonzero(s.mask.any(axis=1))[0]
            height_px = (rows[-1] - rows[0] + 1) if rows.size else s.height
            out.append((inflate_mask(s.mask, self.person_height_m / height_px), None))
        return out


class GTBaseBaseline:
    """Oracle: the ground truth's smooth base shape (``depth_base``, else the base/detail filter of
    the GT depth).  Perfect coarse shape and no detail at all: the reference point for the
    ``detail`` protocol."""

    depth_kind = "metric"
    batch_size = 1

    def predict(self, samples: list[Sample]):
        out = []
        for s in samples:
            base = s.depth_base if s.depth_base is not None else split_base_detail(s.depth, s.mask)[0]
            out.append((np.asarray(base, np.float32), None))
        return out

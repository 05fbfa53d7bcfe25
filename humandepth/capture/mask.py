"""A coarse person mask from depth alone: a depth band around the subject + the largest connected component.

This is deliberately simple (fusion refines it): it keeps whatever touches the person inside the band
-- typically a patch of floor around the feet -- and it assumes the subject is the largest surface
in the band.  A user box (pixels) restricts the search when the scene is cluttered.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def person_mask(depth: np.ndarray, box=None, depth_range=None, band_m: float = 0.5) -> tuple[np.ndarray, dict]:
    """(H, W) bool mask of the subject and a dict describing how it was found.

    Args:
        depth: (H, W) float32 planar depth in metres, 0 = no value.
        box: optional (x0, y0, x1, y1) pixel box (inclusive-exclusive) that contains the person.
        depth_range: optional (near, far) metres; default: the 20th percentile of the valid depth
            inside the box (or the central third of the image) +- ``band_m`` -- the nearest large
            surface there, which is the subject when it stands in front of its background.
    """
    depth = np.asarray(depth, dtype=np.float32)
    H, W = depth.shape
    check_mask_options(box, depth_range, (W, H))
    valid = depth > 0
    region = np.zeros_like(valid)
    if box is not None:
        x0, y0, x1, y1 = (int(v) for v in box)
        region[y0:y1, x0:x1] = True
    else:
        region[H // 3: H - H // 3, W // 3: W - W // 3] = True
    if depth_range is None:
        inside = depth[region & valid]
        if inside.size == 0:
            return np.zeros_like(valid), {"method": "depth band + largest component", "found": False}
        centre = float(np.percentile(inside, 20))
        depth_range = (max(centre - band_m, 0.0), centre + band_m)
    near, far = (float(v) for v in depth_range)
    band = valid & (depth >= near) & (depth <= far)
    if box is not None:
        band &= region
    labels, n = ndimage.label(band, structure=np.ones((3, 3), dtype=bool))
    info = {"method": "depth band + largest component", "range_m": [near, far], "box": list(box) if box else None}
    if n == 0:
        return np.zeros_like(valid), {**info, "found": False}
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return fill_holes(labels == int(np.argmax(sizes))), {**info, "found": True}


def check_mask_options(box=None, depth_range=None, size: tuple[int, int] | None = None) -> None:
    """``ValueError`` naming the option when ``box`` (x0, y0, x1, y1 pixels) is empty or, given the image
    ``size`` (width, height), outside it, or when ``depth_range`` (near, far metres) is not ``0 <= near < far``."""
    if box is not None:
        x0, y0, x1, y1 = (int(v) for v in box)
        W, H = size if size is not None else (float("inf"), float("inf"))
        if not (0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H):
            where = f"the {W}x{H} image" if size is not None else "the image"
            raise ValueError(f"--box {x0} {y0} {x1} {y1} is empty or outside {where} (needs 0 <= X0 < X1 <= width "
                             "and 0 <= Y0 < Y1 <= height)")
    if depth_range is not None:
        near, far = (float(v) for v in depth_range)
        if not 0 <= near < far:
            raise ValueError(f"--mask-range {near:g} {far:g}: needs 0 <= NEAR < FAR (metres)")


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``scipy.ndimage.binary_fill_holes``, by labelling instead of iterated dilation (the same result): a hole
    is a 4-connected component of the complement that does not touch the image border."""
    background, _ = ndimage.label(~mask)
    border = np.concatenate([background[0], background[-1], background[:, 0], background[:, -1]])
    outside = np.zeros(background.max() + 1, dtype=bool)
    outside[border] = True
    outside[0] = False  # label 0 is the mask itself
    return ~outside[background]

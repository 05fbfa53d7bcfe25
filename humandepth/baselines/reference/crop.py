"""The person crop: from a mask to a square box, image -> network input, network output -> image.

A box is ``(top, left, side)`` in integer pixels of the full image; it may extend past the borders
(outside pixels read as 0 / background).  As the authors' pre-processing: the mask's bounding box is
widened by 25 % of its width left and right and 10 % of its height top and bottom, and the square side is
the larger of the two, centred on the widened box.  A crop pixel (u, v) of an S x S input covers the
image point ``(left + (u + 0.5) * side / S - 0.5, top + (v + 0.5) * side / S - 0.5)``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

WIDEN_X = 0.25
WIDEN_Y = 0.10


def person_box(mask: np.ndarray, widen_x: float = WIDEN_X, widen_y: float = WIDEN_Y, jitter: float = 0.0,
               rng: np.random.Generator | None = None) -> tuple[int, int, int]:
    """(H, W) bool mask -> ``(top, left, side)`` square box; the whole image when the mask is empty.

    ``jitter`` > 0 with ``rng`` scales the side by U(1 - jitter, 1 + jitter) and shifts the centre by
    U(-jitter, jitter) * side in x and y (training augmentation)."""
    mask = np.asarray(mask, bool)
    h, w = mask.shape
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        side = max(h, w)
        return (h - side) // 2, (w - side) // 2, side
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    bw, bh = c1 - c0, r1 - r0
    width, height = bw * (1 + 2 * widen_x), bh * (1 + 2 * widen_y)
    side = max(width, height, 8.0)
    cy, cx = (r0 + r1) / 2.0, (c0 + c1) / 2.0
    if jitter > 0 and rng is not None:
        side *= rng.uniform(1 - jitter, 1 + jitter)
        cx += rng.uniform(-jitter, jitter) * side
        cy += rng.uniform(-jitter, jitter) * side
    side_i = int(round(side))
    return int(round(cy - side_i / 2.0)), int(round(cx - side_i / 2.0)), side_i


def scale_box(box: tuple[int, int, int], scale: float) -> tuple[int, int, int]:
    """The square box ``scale`` times as wide about the same centre (integer pixels, the side rounded)."""
    top, left, side = box
    new = max(1, int(round(side * scale)))
    return top + (side - new) // 2, left + (side - new) // 2, new


def cut(arr: np.ndarray, box: tuple[int, int, int], fill=0) -> np.ndarray:
    """The box's (side, side, ...) window of ``arr`` (H, W, ...), ``fill`` outside the image."""
    top, left, side = box
    h, w = arr.shape[:2]
    out = np.full((side, side, *arr.shape[2:]), fill, dtype=arr.dtype)
    r0, r1 = max(top, 0), min(top + side, h)
    c0, c1 = max(left, 0), min(left + side, w)
    if r1 > r0 and c1 > c0:
        out[r0 - top: r1 - top, c0 - left: c1 - left] = arr[r0:r1, c0:c1]
    return out


def resize_chw(t: torch.Tensor, size: int, mode: str) -> torch.Tensor:
    """(C, L, L) -> (C, size, size); ``mode`` ``area`` (antialiased bilinear) or ``nearest`` (centre-aligned)."""
    if t.shape[-1] == size:
        return t
    if mode == "nearest":
        return F.interpolate(t[None], size=(size, size), mode="nearest-exact")[0]
    return F.interpolate(t[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]


def crop_image(rgb: np.ndarray, box: tuple[int, int, int], size: int) -> torch.Tensor:
    """(H, W, 3) uint8 -> (3, size, size) float32 in [0, 1] of the box (black outside the image)."""
    t = torch.from_numpy(np.ascontiguousarray(cut(rgb, box).transpose(2, 0, 1))).float() / 255.0
    return resize_chw(t, size, "area").clamp(0.0, 1.0)


def to_crop_coords(points_px: np.ndarray, box: tuple[int, int, int], size: int) -> np.ndarray:
    """(N, 2) image pixel coords (x, y) -> crop coords at a size x size map (pixel centres at integers)."""
    top, left, side = box
    p = np.asarray(points_px, np.float64)
    return np.stack([(p[:, 0] - left + 0.5) * size / side - 0.5, (p[:, 1] - top + 0.5) * size / side - 0.5], -1)


def uncrop(pred: torch.Tensor, box: tuple[int, int, int], height: int, width: int, fill: float,
           mode: str = "bilinear") -> torch.Tensor:
    """Map a (C, S, S) crop prediction back to the (C, height, width) image; ``fill`` outside the box."""
    top, left, side = box
    dev = pred.device
    cols = torch.arange(width, device=dev, dtype=torch.float32)
    rows = torch.arange(height, device=dev, dtype=torch.float32)
    gx = 2.0 * (cols - left + 0.5) / side - 1.0  # grid_sample, align_corners=False: -1/+1 = outer edges
    gy = 2.0 * (rows - top + 0.5) / side - 1.0
    grid = torch.stack(torch.meshgrid(gy, gx, indexing="ij")[::-1], dim=-1)[None]
    out = F.grid_sample(pred[None].float(), grid, mode=mode, padding_mode="border", align_corners=False)[0]
    inside = ((gx.abs() <= 1.0)[None, :] & (gy.abs() <= 1.0)[:, None])[None]
    return torch.where(inside, out, torch.full_like(out, fill))

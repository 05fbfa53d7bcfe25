"""The released real test frames of Tang et al. 2019 (``data/`` of the authors' deep_human repository).

Layout: a folder of ``NNNN_img_resize.jpg`` (256x256 RGB tight crops) and ``NNNN_depth.npy``
(224x224 float32 absolute depth in metres, 0 = background).  Not every image has a depth file; a
sample exists where both files exist (id ``NNNN``).

As the authors' demo does, depth is brought to 256x256 by nearest neighbour (source index
``floor(dst * 224 / 256)``) and the person mask is ``depth > 1e-3``.  No intrinsics exist: ``camera`` is
None, and normals from depth use the paper's normalised grid (x = 2c/256, y = 2r/256, metric z;
:func:`humandepth.data.geometry.normals_from_depth` with ``K=None``).

Ground-truth validity (:func:`resize_blend_pixels`): the released depth maps were resized with
interpolation, so pixels along the silhouette (and around holes of the fused surface) are weighted means of
the person's depth and the zero background: values anywhere between a few millimetres and the person's
depth.  Such pixels keep their place in the person ``mask`` but get depth 0 (no value), so the benchmark
(which scores ``mask & depth > 0``) never compares a method with them.  The rule runs on the native 224x224
map, before the nearest-neighbour resize; ``sample.meta["gt_removed_px"]`` counts the mask pixels (at
256x256) it left without a value, and ``meta["gt_validity"]`` names the rule.  docs/benchmark.md gives
its reasoning and its effect on the development frames.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np

from humandepth.data.dataset_base import DepthDataset
from humandepth.data.images import read_npy, read_rgb
from humandepth.data.sample import Sample
from humandepth.data.store import sha256_file

_RGB = re.compile(r"^(\d+)_img_resize\.jpg$")
IMAGE_SIZE = 256
MASK_THRESHOLD_M = 1e-3
# A 2x2 block of real surface spans at most this much depth (99.7 % of the interior blocks of the development
# frames do); a pixel more than this in front of every supported neighbour is a blend with the background.
BLEND_TOLERANCE_M = 0.05
GT_VALIDITY = f"tang2019-resize-blend v1 (2x2 surface support, tolerance {BLEND_TOLERANCE_M} m)"


def resize_nearest(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize with OpenCV's INTER_NEAREST index rule (floor(dst * src / dst_size))."""
    h, w = arr.shape[:2]
    rows = np.minimum((np.arange(height) * h) // height, h - 1)
    cols = np.minimum((np.arange(width) * w) // width, w - 1)
    return arr[rows][:, cols]


def resize_blend_pixels(depth: np.ndarray, tolerance_m: float = BLEND_TOLERANCE_M) -> np.ndarray:
    """Foreground pixels whose depth is an interpolation with the zero background, as a resize makes them.

    A resized pixel is a weighted mean of source pixels; where some were background (0) its value is
    ``w * d`` with ``w < 1``: nearer than the surface around it, by ``(1 - w) * d``.  Real surface instead
    lies on patches of neighbouring pixels whose depths agree.  So a foreground pixel (``depth > 1e-3``) is
    *supported* when one of the four 2x2 blocks that contain it is all foreground and spans at most
    ``tolerance_m``.  An unsupported pixel is kept only when it is not more than ``tolerance_m`` in front of
    its nearest supported 8-neighbour (a noisy or steep real pixel lies among its neighbours; a blend only
    ever lies in front of them); otherwise it is a blend.  Real geometry in front of other geometry (an
    arm 20 cm before the torso) lies on its own supported blocks and is kept; a pixel at 1.1 m on a person at
    2.6 m, between the torso and the background, lies on none and is not.

    Args:
        depth: (H, W) float depth in metres, 0 (or <= 1e-3) = background.
        tolerance_m: the largest depth span of a 2x2 block of real surface, metres.

    Returns:
        (H, W) bool: the foreground pixels to be given no value.
    """
    from scipy.ndimage import minimum_filter

    d = np.asarray(depth, np.float64)
    fg = d > MASK_THRESHOLD_M
    a = np.where(fg, d, np.nan)
    blocks = np.stack([a[:-1, :-1], a[:-1, 1:], a[1:, :-1], a[1:, 1:]])  # block anchored at its top-left pixel
    with np.errstate(invalid="ignore"):
        span = np.max(blocks, axis=0) - np.min(blocks, axis=0)  # NaN where a block touches the background
    good = np.zeros((d.shape[0] + 1, d.shape[1] + 1), bool)
    good[1:-1, 1:-1] = span <= tolerance_m
    supported = fg & (good[:-1, :-1] | good[:-1, 1:] | good[1:, :-1] | good[1:, 1:])
    nearest = minimum_filter(np.where(supported, d, np.inf), size=3, mode="constant", cval=np.inf)
    return fg & ~supported & (d < nearest - tolerance_m)


def looks_like_tang2019(path) -> bool:
    path = Path(path)
    return path.is_dir() and any(_RGB.match(p.name) for p in path.iterdir())


class Tang2019Dataset(DepthDataset):
    format = "tang2019"
    kind = "external"
    gt_validity = GT_VALIDITY

    def __init__(self, root, name: str = "tang2019-real"):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"tang2019 folder not found: {self.root}")
        self.name = name
        ids = []
        for p in sorted(self.root.iterdir()):
            m = _RGB.match(p.name)
            if m and (self.root / f"{m.group(1)}_depth.npy").is_file():
                ids.append(m.group(1))
        if not ids:
            raise ValueError(
                f"{self.root} holds no tang2019 sample (a NNNN_img_resize.jpg with a NNNN_depth.npy beside it)"
            )
        self._ids = ids

    @property
    def ids(self) -> list[str]:
        return self._ids

    def get(self, sample_id: str, fields=None) -> Sample:
        if sample_id not in self._ids:
            raise KeyError(f"dataset {self.name!r} has no sample {sample_id!r}")
        rgb_path = self.root / f"{sample_id}_img_resize.jpg"
        depth_path = self.root / f"{sample_id}_depth.npy"
        rgb = read_rgb(rgb_path)
        if rgb.shape != (IMAGE_SIZE, IMAGE_SIZE, 3):
            raise ValueError(f"{rgb_path}: expected a {IMAGE_SIZE}x{IMAGE_SIZE} RGB crop, got {rgb.shape}")
        depth = read_npy(depth_path, "depth")
        if depth.ndim != 2 or not np.issubdtype(depth.dtype, np.floating):
            raise ValueError(f"{depth_path}: expected a 2-D float depth map in metres, got {depth.dtype} {depth.shape}")
        depth = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
        mask = resize_nearest(depth > MASK_THRESHOLD_M, IMAGE_SIZE, IMAGE_SIZE)
        valid = (depth > MASK_THRESHOLD_M) & ~resize_blend_pixels(depth)
        depth = resize_nearest(np.where(valid, depth, 0.0), IMAGE_SIZE, IMAGE_SIZE).astype(np.float32)
        removed = int(np.count_nonzero(mask & (depth == 0)))
        return Sample(id=sample_id, rgb=rgb, depth=depth, mask=mask,
                      meta={"source": "tang2019", "image_model": "normalised grid x=2c/W, y=2r/H, metric z",
                            "gt_validity": GT_VALIDITY, "gt_removed_px": removed,
                            "gt_mask_px": int(np.count_nonzero(mask))})

    def checksum(self) -> str:
        """sha256 of every file's sha256 and of the validity rule (the ground truth read depends on both)."""
        h = hashlib.sha256()
        h.update(f"gt_validity:{GT_VALIDITY}\n".encode())
        for sid in self._ids:
            for suffix in ("_img_resize.jpg", "_depth.npy"):
                h.update(f"{sid}{suffix}:{sha256_file(self.root / (sid + suffix))}\n".encode())
        return h.hexdigest()

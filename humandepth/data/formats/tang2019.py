"""The released real test frames of Tang et al. 2019 (``data/`` of the authors' deep_human repository).

Layout: a folder of ``NNNN_img_resize.jpg`` (256x256 RGB tight crops) and ``NNNN_depth.npy``
(224x224 float32 absolute depth in metres, 0 = background).  Not every image has a depth file; a
sample exists where both files exist (id ``NNNN``).

As the authors' demo does, depth is brought to 256x256 by nearest neighbour (source index
``floor(dst * 224 / 256)``) and the mask is ``depth > 1e-3``.  No intrinsics exist: ``camera`` is
None, and normals from depth use the paper's normalised grid (x = 2c/256, y = 2r/256, metric z;
:func:`humandepth.data.geometry.normals_from_depth` with ``K=None``).
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


def resize_nearest(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize with OpenCV's INTER_NEAREST index rule (floor(dst * src / dst_size))."""
    h, w = arr.shape[:2]
    rows = np.minimum((np.arange(height) * h) // height, h - 1)
    cols = np.minimum((np.arange(width) * w) // width, w - 1)
    return arr[rows][:, cols]


def looks_like_tang2019(path) -> bool:
    path = Path(path)
    return path.is_dir() and any(_RGB.match(p.name) for p in path.iterdir())


class Tang2019Dataset(DepthDataset):
    format = "tang2019"
    kind = "external"

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
        depth = resize_nearest(depth, IMAGE_SIZE, IMAGE_SIZE)
        mask = depth > MASK_THRESHOLD_M
        depth = np.where(mask, depth, 0.0).astype(np.float32)
        return Sample(id=sample_id, rgb=rgb, depth=depth, mask=mask,
                      meta={"source": "tang2019", "image_model": "normalised grid x=2c/W, y=2r/H, metric z"})

    def checksum(self) -> str:
        h = hashlib.sha256()
        for sid in self._ids:
            for suffix in ("_img_resize.jpg", "_depth.npy"):
                h.update(f"{sid}{suffix}:{sha256_file(self.root / (sid + suffix))}\n".encode())
        return h.hexdigest()

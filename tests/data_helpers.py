"""Small analytic samples for the data-contract tests (exact expectations)."""

from __future__ import annotations

import numpy as np

from humandepth.data import Camera, Sample, normals_from_depth, split_base_detail


def plane_sample(i: int, h: int = 24, w: int = 32, z: float = 2.0, with_optional: bool = True) -> Sample:
    """A fronto-parallel plane at ``z + 0.1 i`` metres seen through a box-shaped mask."""
    cam = Camera.from_focal(w, h, 30.0)
    depth = np.full((h, w), z + 0.1 * i, np.float32)
    mask = np.zeros((h, w), bool)
    mask[4:h - 4, 6:w - 6] = True
    depth[~mask] = 0
    rng = np.random.default_rng(i)
    kw = {}
    if with_optional:
        base, detail = split_base_detail(depth, mask)
        kw = dict(normal=normals_from_depth(depth, cam.K, mask), parts=(mask * 2).astype(np.uint8),
                  depth_base=base, depth_detail=detail, body_depth=(depth + 0.01 * mask).astype(np.float32),
                  joints2d=rng.uniform(0, w, (16, 2)).astype(np.float32),
                  joints3d=rng.normal(size=(16, 3)).astype(np.float32))
    return Sample(id=f"s{i:03d}", rgb=rng.integers(0, 255, (h, w, 3), dtype=np.uint8), depth=depth, mask=mask,
                  camera=cam, meta={"seed": i, "source": "plane"}, **kw)

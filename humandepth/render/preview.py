"""A contact sheet PNG of a dataset's first samples: RGB, depth, normals, parts, depth detail per row."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PART_PALETTE = np.array([
    [0, 0, 0], [230, 25, 75], [60, 180, 75], [255, 225, 25], [0, 130, 200], [245, 130, 48], [145, 30, 180],
    [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212], [0, 128, 128], [220, 190, 255],
    [170, 110, 40], [128, 0, 0]], np.uint8)


def depth_image(depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Near = bright grey ramp inside the mask, black outside."""
    out = np.zeros((*depth.shape, 3), np.uint8)
    if mask.any():
        d = depth[mask]
        lo, hi = float(d.min()), float(d.max())
        v = 1.0 - (depth - lo) / max(hi - lo, 1e-6)
        out[mask] = (np.clip(0.15 + 0.85 * v[mask], 0, 1)[:, None] * 255).astype(np.uint8)
    return out


def normal_image(normal: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """OpenCV camera-frame normals shown as the usual (x right, y up, z toward the viewer) colours."""
    n = normal * np.array([1.0, -1.0, -1.0])
    out = ((n * 0.5 + 0.5) * 255).astype(np.uint8)
    out[~mask] = 0
    return out


def detail_image(detail: np.ndarray, mask: np.ndarray, range_m: float = 0.01) -> np.ndarray:
    """Signed depth detail: red = farther than the base, blue = nearer, +-``range_m`` full scale."""
    t = np.clip(detail / range_m, -1, 1)
    out = np.full((*detail.shape, 3), 255, np.float64)
    out[..., 1] -= np.abs(t) * 255
    out[..., 0] -= np.clip(-t, 0, 1) * 255
    out[..., 2] -= np.clip(t, 0, 1) * 255
    out[~mask] = 0
    return out.astype(np.uint8)


def sample_row(sample) -> np.ndarray:
    m = sample.mask
    tiles = [sample.rgb, depth_image(sample.depth, m)]
    if sample.normal is not None:
        tiles.append(normal_image(sample.normal, m))
    if sample.parts is not None:
        tiles.append(PART_PALETTE[sample.parts])
    if sample.depth_detail is not None:
        tiles.append(detail_image(sample.depth_detail, m))
    return np.concatenate(tiles, axis=1)


def write_preview(dataset_dir, path=None, count: int = 8) -> Path:
    """Write ``preview.png`` (or ``path``) for the first ``count`` samples of the dataset at ``dataset_dir``."""
    from PIL import Image

    from humandepth.data.store import HumanDepthDataset

    ds = HumanDepthDataset(dataset_dir)
    rows = [sample_row(ds.get(i)) for i in ds.ids[:count]]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows]
    path = Path(path) if path else Path(dataset_dir) / "preview.png"
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    ds.close()
    return path

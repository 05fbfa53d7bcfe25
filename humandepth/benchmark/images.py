"""Error-map and RGB thumbnails for the leaderboard (numpy colour map, Pillow PNG; no matplotlib).

Error maps use a jet-like colour map over ``[0, ERROR_MAP_MAX_M]`` metres (0-0.2 m, as Tang et al.
render theirs); errors above the range saturate to dark red and pixels without a value (outside the
evaluated mask) are :data:`BACKGROUND`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

ERROR_MAP_MAX_M = 0.2
BACKGROUND = (40, 40, 40)
THUMB_MAX_SIDE = 128


def jet(x: np.ndarray) -> np.ndarray:
    """(...,) values in 0..1 -> (..., 3) uint8 RGB of the classic jet colour map (blue - cyan - yellow - red)."""
    x = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    r = np.clip(1.5 - np.abs(4.0 * x - 3.0), 0.0, 1.0)
    g = np.clip(1.5 - np.abs(4.0 * x - 2.0), 0.0, 1.0)
    b = np.clip(1.5 - np.abs(4.0 * x - 1.0), 0.0, 1.0)
    return np.round(np.stack([r, g, b], axis=-1) * 255.0).astype(np.uint8)


def colorize_error(err_m: np.ndarray, vmax_m: float = ERROR_MAP_MAX_M) -> np.ndarray:
    """(H, W) absolute error in metres, NaN = no value -> (H, W, 3) uint8 RGB."""
    err = np.asarray(err_m, np.float64)
    valid = np.isfinite(err)
    rgb = jet(np.where(valid, err, 0.0) / vmax_m)
    rgb[~valid] = BACKGROUND
    return rgb


def _thumbnail(rgb: np.ndarray, max_side: int, resample):
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8))
    scale = max_side / max(img.size)
    if scale < 1.0:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), resample)
    return img


def save_error_thumbnail(err_m: np.ndarray, path, max_side: int = THUMB_MAX_SIDE) -> Path:
    """Write the colourised error map as a PNG no larger than ``max_side`` (nearest-neighbour downscale)."""
    from PIL import Image

    path = Path(path)
    _thumbnail(colorize_error(err_m), max_side, Image.Resampling.NEAREST).save(path, format="PNG")
    return path


def save_rgb_thumbnail(rgb: np.ndarray, path, max_side: int = THUMB_MAX_SIDE) -> Path:
    """Write an (H, W, 3) uint8 image as a PNG no larger than ``max_side`` (area-averaged downscale)."""
    from PIL import Image

    path = Path(path)
    _thumbnail(rgb, max_side, Image.Resampling.BOX).save(path, format="PNG")
    return path


def css_gradient(stops: int = 9) -> str:
    """A CSS ``linear-gradient`` of the colour map (for the leaderboard's colour bar)."""
    cols = jet(np.linspace(0.0, 1.0, stops))
    return "linear-gradient(to right, " + ", ".join(f"rgb({r},{g},{b})" for r, g, b in cols) + ")"

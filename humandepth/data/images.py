"""Image files: 8-bit RGB/mask PNG/JPEG, 16-bit depth PNG in millimetres, OpenEXR depth.

Every reader raises ``ValueError`` naming the file when it cannot decode it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

DEPTH_PNG_SCALE = 1000.0  # 16-bit depth PNG: millimetres (1 unit = 1 mm), 0 = no value


def _open(path) -> Image.Image:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"image not found: {path}")
    try:
        img = Image.open(path)
        img.load()
    except Exception as e:  # Pillow raises several types for broken files
        raise ValueError(f"cannot decode image {path}: {e}") from None
    return img


def read_rgb(path) -> np.ndarray:
    """(H, W, 3) uint8."""
    return np.asarray(_open(path).convert("RGB"), dtype=np.uint8)


def write_rgb(path, rgb: np.ndarray) -> None:
    Image.fromarray(np.asarray(rgb, np.uint8), "RGB").save(path)


def read_mask(path) -> np.ndarray:
    """(H, W) bool: any non-zero pixel of the first channel."""
    img = _open(path)
    arr = np.asarray(img.convert("L") if img.mode not in ("1", "L", "I", "I;16") else img)
    return arr > 0


def write_mask(path, mask: np.ndarray) -> None:
    Image.fromarray(np.asarray(mask, bool).astype(np.uint8) * 255, "L").save(path)


def write_depth_png(path, depth_m: np.ndarray) -> None:
    """Write depth (metres, 0 = none) as a 16-bit PNG in millimetres (rounded; clipped to 65.535 m)."""
    mm = np.clip(np.round(np.asarray(depth_m, np.float64) * DEPTH_PNG_SCALE), 0, 65535).astype(np.uint16)
    Image.fromarray(mm).save(path)


def read_depth_png(path) -> np.ndarray:
    """16-bit PNG in millimetres -> (H, W) float32 metres."""
    img = _open(path)
    arr = np.asarray(img)
    if arr.ndim != 2 or arr.dtype not in (np.uint16, np.int32, np.uint8):
        raise ValueError(f"{path}: a depth PNG must be single-channel 16-bit millimetres, got {img.mode} {arr.shape}")
    return (arr.astype(np.float64) / DEPTH_PNG_SCALE).astype(np.float32)


def read_depth_exr(path) -> np.ndarray:
    """First channel (Z/Y/R or the only one) of an OpenEXR file -> (H, W) float32 metres."""
    import OpenEXR

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"depth file not found: {path}")
    try:
        with OpenEXR.File(str(path)) as f:
            channels = f.channels()
            for name in ("Z", "Y", "R", "depth", "Z.Z"):
                if name in channels:
                    arr = channels[name].pixels
                    break
            else:
                arr = next(iter(channels.values())).pixels
    except Exception as e:
        raise ValueError(f"cannot decode OpenEXR depth {path}: {e}") from None
    arr = np.asarray(arr, np.float32)
    if arr.ndim == 3:
        arr = arr[..., 0]
    return np.where(np.isfinite(arr), arr, 0.0).astype(np.float32)


def write_depth_exr(path, depth_m: np.ndarray) -> None:
    import OpenEXR

    header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage}
    with OpenEXR.File(header, {"Z": np.ascontiguousarray(depth_m, np.float32)}) as f:
        f.write(str(path))


def read_npy(path, what: str) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file not found: {path}")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as e:
        raise ValueError(f"cannot read {what} from {path}: {e}") from None

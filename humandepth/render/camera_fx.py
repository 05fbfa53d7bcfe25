"""What a real camera does to the light before it is a file, applied to the RGB image only (never to the
ground truth): depth-of-field defocus, motion blur, lateral chromatic aberration and vignetting (optics, on
linear light), then sensor noise (shot + read noise), and after tone mapping the camera's sharpening and JPEG
compression.

:func:`sample_camera_fx` draws every parameter from the sample's random stream (recorded in
``meta["camera_fx"]``); :func:`apply_optics`, :func:`add_sensor_noise`, :func:`sharpen` and :func:`jpeg`
apply them.
"""

from __future__ import annotations

import io

import numpy as np
from scipy import ndimage


def _r(x, k: int = 4):
    return round(float(x), k)


def sample_camera_fx(rng: np.random.Generator, focal_mm: float) -> dict:
    """Sample the optical and sensor effects (a longer lens gives a shallower depth of field)."""
    aperture = float(rng.uniform(0.0, 1.0) ** 3)  # most photographs are sharp; some have a blurred background
    return {
        "defocus_px_per_inv_m": _r(aperture * (focal_mm / 50.0) ** 2 * rng.uniform(1.0, 8.0)),
        "focus_blur_px": _r(rng.uniform(0.3, 0.7) if rng.random() < 0.25 else 0.0),
        "sharpen": _r(rng.uniform(0.2, 0.8) if rng.random() < 0.75 else 0.0),
        "motion_blur_px": _r(rng.uniform(1.0, 4.0) if rng.random() < 0.15 else 0.0),
        "motion_angle_rad": _r(rng.uniform(0, np.pi)),
        "chromatic_aberration": _r(rng.uniform(0.0, 0.004)),
        "vignetting": _r(rng.uniform(0.0, 0.45)),
        "shot_noise": _r(10 ** rng.uniform(-5.0, -3.0), 6),
        "read_noise": _r(10 ** rng.uniform(-3.3, -2.2), 6),
        "jpeg_quality": int(rng.integers(55, 96)) if rng.random() < 0.85 else None,
    }


def _line_kernel(length: float, angle: float) -> np.ndarray:
    n = int(np.ceil(length)) | 1
    k = np.zeros((n, n))
    c = n // 2
    for t in np.linspace(-length / 2, length / 2, 4 * n):
        k[int(round(c + t * np.sin(angle))), int(round(c + t * np.cos(angle)))] += 1
    return k / k.sum()


def apply_optics(image: np.ndarray, depth: np.ndarray, focus_m: float, fx: dict) -> np.ndarray:
    """(H, W, 3) linear image -> the same after defocus, motion blur, chromatic aberration and vignetting.

    Defocus: the blur radius (Gaussian sigma, pixels) grows with ``|1/z - 1/focus_m|`` (``depth`` of every
    pixel, 0 = nothing/sky: treated as far); it is applied as a per-pixel blend of the image blurred at the
    in-focus level and at the level of the far background.
    """
    img = image.astype(np.float32)
    h, w = depth.shape
    z = np.where(depth > 0, depth, 1e3)
    sigma = fx["focus_blur_px"] + fx["defocus_px_per_inv_m"] * np.abs(1.0 / z - 1.0 / focus_m)
    sigma = np.clip(sigma, 0.0, 4.0)
    lo, hi = float(sigma.min()), float(np.percentile(sigma, 95))
    if hi > 0.3:
        near = img if lo < 0.3 else ndimage.gaussian_filter(img, (lo, lo, 0), mode="nearest")
        far = ndimage.gaussian_filter(img, (hi, hi, 0), mode="nearest")
        t = np.clip((sigma - lo) / max(hi - lo, 1e-6), 0, 1)[..., None].astype(np.float32)
        img = near * (1 - t) + far * t
    if fx["motion_blur_px"] > 0:
        k = _line_kernel(fx["motion_blur_px"], fx["motion_angle_rad"])
        img = np.stack([ndimage.convolve(img[..., c], k, mode="nearest") for c in range(3)], -1)
    ca = fx["chromatic_aberration"]
    if ca > 0:  # red magnified, blue shrunk about the centre: a radial shift of ca * r (first order, < 1 px)
        yy, xx = np.ogrid[0:h, 0:w]
        ry, rx = (yy - (h - 1) / 2).astype(np.float32), (xx - (w - 1) / 2).astype(np.float32)
        img = img.copy()
        for c, sign in ((0, 1.0), (2, -1.0)):
            gy, gx = np.gradient(img[..., c])
            img[..., c] -= np.float32(sign * ca) * (rx * gx + ry * gy)
    if fx["vignetting"] > 0:
        yy, xx = np.ogrid[0:h, 0:w]
        r2 = ((xx - (w - 1) / 2) ** 2 + (yy - (h - 1) / 2) ** 2) / (((w - 1) / 2) ** 2 + ((h - 1) / 2) ** 2)
        img = img * (1 - fx["vignetting"] * r2 ** 1.5).astype(np.float32)[..., None]
    return img


def add_sensor_noise(image: np.ndarray, fx: dict, rng: np.random.Generator) -> np.ndarray:
    """Shot noise (variance proportional to the signal) plus read noise, per pixel and channel, in linear
    light after exposure (the image's mid grey is about 0.18)."""
    var = fx["shot_noise"] * np.clip(image, 0, None) + fx["read_noise"] ** 2
    return image + rng.standard_normal(image.shape, np.float32) * np.sqrt(var)


def sharpen(srgb: np.ndarray, fx: dict) -> np.ndarray:
    """The camera's own sharpening (an unsharp mask over 3 x 3 pixels, amount ``fx["sharpen"]``) on the
    display-referred image."""
    amount = fx.get("sharpen", 0.0)
    if amount <= 0:
        return srgb
    blurred = ndimage.uniform_filter(srgb, (3, 3, 1), mode="nearest")
    return srgb + amount * (srgb - blurred)


def jpeg(rgb: np.ndarray, quality: int | None) -> np.ndarray:
    """(H, W, 3) uint8 -> the same after a JPEG round trip at ``quality`` (None: unchanged)."""
    if quality is None:
        return rgb
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    with Image.open(buf) as im:
        return np.asarray(im.convert("RGB"), np.uint8).copy()

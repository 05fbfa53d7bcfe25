"""Appearance: skin tones, garment colours and procedural patterns, lights and backgrounds (all sampled).

Everything is procedural (no image assets) unless the user gives a folder of background images, so the
default data set has no third-party asset licences.  Every sampled value is returned as a JSON dict.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Skin tones (sRGB 0..1), light to dark, after the Monk Skin Tone scale's ten swatches (Apache-2.0, Google).
SKIN_TONES = np.array([
    [246, 237, 228], [243, 231, 219], [247, 234, 208], [234, 218, 186], [215, 189, 150],
    [160, 126, 86], [130, 92, 67], [96, 65, 52], [58, 49, 42], [41, 36, 32]], np.float64) / 255.0

PATTERNS = ("solid", "stripes", "checks", "noise")


def sample_skin(rng: np.random.Generator) -> dict:
    i = int(rng.integers(len(SKIN_TONES)))
    tone = np.clip(SKIN_TONES[i] * rng.uniform(0.92, 1.05, 3), 0, 1)
    return {"tone_index": i, "scale": "monk-skin-tone-10", "rgb": [round(float(c), 4) for c in tone]}


def _hsv_to_rgb(h: float, s: float, v: float) -> np.ndarray:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i])


def sample_garment_look(rng: np.random.Generator) -> dict:
    """Colour(s) and pattern of one garment."""
    def colour():
        return [round(float(c), 4) for c in _hsv_to_rgb(rng.random(), rng.uniform(0.05, 0.85), rng.uniform(0.12, 0.95))]

    pattern = str(rng.choice(PATTERNS, p=[0.45, 0.25, 0.15, 0.15]))
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    if rng.random() < 0.6:
        direction = np.array([0.0, 1.0, 0.0])  # horizontal stripes, the common case
    return {"colour": colour(), "colour2": colour(), "pattern": pattern,
            "pattern_period_m": round(float(rng.uniform(0.01, 0.08)), 4),
            "pattern_direction": [round(float(c), 4) for c in direction],
            "pattern_seed": int(rng.integers(2**31))}


def garment_colours(spec: dict, rest: np.ndarray) -> np.ndarray:
    """(N, 3) sRGB colours in [0, 1] at rest-pose points ``rest`` (metres) for the look in ``spec``."""
    look = spec["look"]
    c1, c2 = np.array(look["colour"]), np.array(look["colour2"])
    d = np.array(look["pattern_direction"])
    period = look["pattern_period_m"]
    kind = look["pattern"]
    if kind == "solid":
        t = np.zeros(len(rest))
    elif kind == "stripes":
        t = (np.sin(2 * np.pi * rest @ d / period) > 0).astype(np.float64)
    elif kind == "checks":
        other = np.cross(d, [0.3, 0.1, 0.95])
        other /= np.linalg.norm(other)
        t = ((np.sin(2 * np.pi * rest @ d / period) > 0) ^ (np.sin(2 * np.pi * rest @ other / period) > 0)).astype(
            np.float64)
    else:
        r = np.random.default_rng(look["pattern_seed"])
        dirs = r.normal(size=(6, 3))
        ks = 2 * np.pi / (period * r.uniform(0.5, 2.0, 6))
        t = 0.5 + 0.5 * np.sin(rest @ (dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * ks[:, None]).T
                               + r.uniform(0, 6.28, 6)).mean(axis=1) * 1.6
        t = np.clip(t, 0, 1)
    return c1[None] * (1 - t[:, None]) + c2[None] * t[:, None]


def sample_lights(rng: np.random.Generator, target: np.ndarray) -> list[dict]:
    """Ambient + 1-2 directional + 0-2 point lights (world frame), random intensity and colour."""
    def tint():
        temp = rng.uniform(-1, 1)
        return [round(float(c), 4) for c in np.clip([1 + 0.15 * temp, 1.0, 1 - 0.2 * temp], 0, 1.3)]

    lights = [{"type": "ambient", "color": tint(), "intensity": round(float(rng.uniform(0.15, 0.45)), 4)}]
    for _ in range(int(rng.integers(1, 3))):
        az, el = rng.uniform(-np.pi, np.pi), rng.uniform(0.1, 1.3)
        direction = -np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
        lights.append({"type": "directional", "direction": [round(float(c), 5) for c in direction],
                       "color": tint(), "intensity": round(float(rng.uniform(0.3, 1.0)), 4)})
    for _ in range(int(rng.integers(0, 3))):
        az, el, dist = rng.uniform(-np.pi, np.pi), rng.uniform(-0.2, 1.0), rng.uniform(1.0, 3.0)
        pos = target + dist * np.array([np.sin(az) * np.cos(el), np.sin(el), np.cos(az) * np.cos(el)])
        lights.append({"type": "point", "position": [round(float(c), 5) for c in pos], "color": tint(),
                       "intensity": round(float(rng.uniform(0.5, 3.0)), 4)})
    return lights


def list_background_images(folder) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"background folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"))
    if not files:
        raise FileNotFoundError(f"background folder {folder} holds no .png/.jpg/.jpeg/.bmp/.webp images")
    return files


def sample_background(rng: np.random.Generator, height: int, width: int, images: list[Path] | None = None):
    """``(image (H, W, 3) uint8, params)``: solid, gradient, procedural texture, or a random crop of an image."""
    kinds = ["solid", "gradient", "texture"] + (["image"] if images else [])
    probs = [0.2, 0.3, 0.5] if not images else [0.1, 0.15, 0.25, 0.5]
    kind = str(rng.choice(kinds, p=probs))
    c1 = _hsv_to_rgb(rng.random(), rng.uniform(0, 0.7), rng.uniform(0.1, 0.95))
    c2 = _hsv_to_rgb(rng.random(), rng.uniform(0, 0.7), rng.uniform(0.1, 0.95))
    params: dict = {"kind": kind, "colour": [round(float(c), 4) for c in c1]}
    if kind == "solid":
        img = np.broadcast_to(c1, (height, width, 3))
    elif kind == "gradient":
        yy, xx = np.mgrid[0:height, 0:width] / max(height, width)
        ang = rng.uniform(0, 2 * np.pi)
        t = np.clip((np.cos(ang) * xx + np.sin(ang) * yy) - min(0, np.cos(ang)) - min(0, np.sin(ang)), 0, 1)
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
        params.update(colour2=[round(float(c), 4) for c in c2], angle=round(float(ang), 4))
    elif kind == "texture":  # a sum of plane waves, evaluated on a quarter-resolution grid and upsampled
        from PIL import Image

        n = 12
        k = rng.uniform(2, 14, n)
        dirs = rng.normal(size=(n, 2))
        ph = rng.uniform(0, 6.28, n)
        hs, ws = max(height // 4, 2), max(width // 4, 2)
        ys, xs = np.mgrid[0:hs, 0:ws] / max(hs, ws)
        t = np.sin((xs[..., None] * dirs[:, 0] + ys[..., None] * dirs[:, 1]) * k + ph).mean(-1) * 1.5 + 0.5
        t = np.clip(t, 0, 1).astype(np.float32)
        t = np.asarray(Image.fromarray(t).resize((width, height), Image.BILINEAR), np.float64)
        img = c1 * (1 - t[..., None]) + c2 * t[..., None]
        params.update(colour2=[round(float(c), 4) for c in c2], waves=n)
    else:
        from PIL import Image

        path = images[int(rng.integers(len(images)))]
        with Image.open(path) as im:
            im = im.convert("RGB")
            scale = max(width / im.width, height / im.height) * rng.uniform(1.0, 1.5)
            im = im.resize((max(width, round(im.width * scale)), max(height, round(im.height * scale))),
                           Image.BILINEAR)
            x0 = int(rng.integers(0, im.width - width + 1))
            y0 = int(rng.integers(0, im.height - height + 1))
            img = np.asarray(im.crop((x0, y0, x0 + width, y0 + height)), np.float64) / 255.0
        params.update(image=path.name)
    return np.clip(np.round(np.asarray(img) * 255), 0, 255).astype(np.uint8), params

"""Appearance of skin and garments: skin tones, and per garment a material, colours, a pattern and a print.

Garment looks follow what people wear: jeans are mostly indigo denim, hoodies heathered knit, T-shirts plain
cotton in neutral or bright colours, sometimes with stripes, checks or a chest print.  The colours and pattern
become vertex colours (:func:`garment_colours`, in rest-body coordinates so they move with the body); the
material's fine structure (twill, knit, weave, leather grain, wear) is added per pixel by
:mod:`humandepth.render.fabric`.  Everything is procedural (no image assets); every value is returned as JSON.
"""

from __future__ import annotations

import colorsys

import numpy as np

from humandepth.render.places import list_background_images  # noqa: F401  (re-exported: the CLI checks folders)

# Skin tones (sRGB 0..1), light to dark, after the Monk Skin Tone scale's ten swatches (Apache-2.0, Google).
SKIN_TONES = np.array([
    [246, 237, 228], [243, 231, 219], [247, 234, 208], [234, 218, 186], [215, 189, 150],
    [160, 126, 86], [130, 92, 67], [96, 65, 52], [58, 49, 42], [41, 36, 32]], np.float64) / 255.0

PATTERNS = ("solid", "stripes", "checks", "noise")
# garment type -> [(material, probability)]
MATERIALS = {
    "tshirt": [("jersey", 0.85), ("knit", 0.15)], "tank": [("jersey", 1.0)],
    "longsleeve": [("knit", 0.5), ("jersey", 0.3), ("fleece", 0.2)],
    "trousers": [("denim", 0.5), ("twill", 0.35), ("synthetic", 0.15)],
    "shorts": [("denim", 0.4), ("twill", 0.4), ("synthetic", 0.2)],
    "skirt": [("twill", 0.4), ("denim", 0.2), ("satin", 0.2), ("knit", 0.2)],
    "dress": [("jersey", 0.4), ("satin", 0.3), ("twill", 0.3)],
    "jacket": [("denim", 0.2), ("leather", 0.2), ("synthetic", 0.3), ("wool", 0.15), ("fleece", 0.15)],
}


def sample_skin(rng: np.random.Generator) -> dict:
    i = int(rng.integers(len(SKIN_TONES)))
    tone = np.clip(SKIN_TONES[i] * rng.uniform(0.92, 1.05, 3), 0, 1)
    return {"tone_index": i, "scale": "monk-skin-tone-10", "rgb": [round(float(c), 4) for c in tone]}


def _rgb(h: float, s: float, v: float) -> list[float]:
    return [round(float(c), 4) for c in colorsys.hsv_to_rgb(h % 1.0, min(max(s, 0), 1), min(max(v, 0), 1))]


def _colour(rng: np.random.Generator, material: str) -> list[float]:
    """A garment colour: mostly neutrals and muted tones, some saturated ones; denim is indigo or black."""
    u = rng.uniform
    if material == "denim":
        k = rng.random()
        if k < 0.7:
            return _rgb(u(0.58, 0.63), u(0.35, 0.7), u(0.18, 0.6))  # indigo, dark to light wash
        return _rgb(0.6, u(0.0, 0.15), u(0.08, 0.3)) if k < 0.9 else _rgb(0.0, 0.0, u(0.55, 0.85))
    if material == "leather":
        return _rgb(u(0.03, 0.1), u(0.4, 0.8), u(0.06, 0.35)) if rng.random() < 0.5 else _rgb(0, 0, u(0.03, 0.12))
    k = rng.random()
    if k < 0.5:  # neutrals: white, black, greys, navy, beige, olive
        choice = int(rng.integers(6))
        return [_rgb(0, 0, u(0.82, 0.95)), _rgb(0, 0, u(0.04, 0.12)), _rgb(0, 0, u(0.25, 0.65)),
                _rgb(u(0.6, 0.65), u(0.4, 0.7), u(0.12, 0.3)), _rgb(u(0.08, 0.12), u(0.2, 0.4), u(0.55, 0.8)),
                _rgb(u(0.16, 0.22), u(0.3, 0.5), u(0.25, 0.45))][choice]
    if k < 0.9:  # muted colours (burgundy, forest green, dusty blue, ...)
        return _rgb(rng.random(), u(0.2, 0.55), u(0.2, 0.6))
    return _rgb(rng.random(), u(0.5, 0.85), u(0.45, 0.95))  # bright


def sample_garment_look(rng: np.random.Generator, kind: str = "tshirt") -> dict:
    """Material, colour(s), pattern and an optional print of one garment of type ``kind``."""
    names, probs = zip(*MATERIALS.get(kind, [("jersey", 1.0)]), strict=True)
    material = str(rng.choice(names, p=np.asarray(probs) / sum(probs)))
    colour, colour2 = _colour(rng, material), _colour(rng, "plain")
    plain_only = material in ("denim", "leather", "satin")
    pattern = "solid" if plain_only else str(rng.choice(PATTERNS, p=[0.7, 0.15, 0.08, 0.07]))
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    if rng.random() < 0.8:
        direction = np.array([0.0, 1.0, 0.0])  # horizontal stripes, the common case
    look = {"material": material, "colour": colour, "colour2": colour2, "pattern": pattern,
            "pattern_period_m": round(float(rng.uniform(0.012, 0.06)), 4),
            "pattern_direction": [round(float(c), 4) for c in direction],
            "pattern_seed": int(rng.integers(2**31)), "print": None}
    if kind in ("tshirt", "longsleeve", "tank", "dress") and material != "satin" and rng.random() < 0.3:
        look["print"] = {"shape": str(rng.choice(["block", "text", "circle"])), "colour": _colour(rng, "plain"),
                         "height": round(float(rng.uniform(0.55, 0.8)), 3),
                         "size_m": round(float(rng.uniform(0.05, 0.14)), 3), "back": bool(rng.random() < 0.25),
                         "seed": int(rng.integers(2**31))}
    return look


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
            np.float64) * 0.6
    else:
        r = np.random.default_rng(look["pattern_seed"])
        dirs = r.normal(size=(6, 3))
        ks = 2 * np.pi / (period * r.uniform(0.5, 2.0, 6))
        t = 0.5 + 0.5 * np.sin(rest @ (dirs / np.linalg.norm(dirs, axis=1, keepdims=True) * ks[:, None]).T
                               + r.uniform(0, 6.28, 6)).mean(axis=1) * 1.6
        t = np.clip(t, 0, 1)
    return c1[None] * (1 - t[:, None]) + c2[None] * t[:, None]

"""Socks and shoes with real geometry: sneakers, boots and flats over the foot.

Footwear is an offset shell (:func:`humandepth.render.garments.offset_shell`) over the body's own vertices of
the foot (about 1 cm apart: plenty for a shoe) and, for socks and boots, the lower shin: the upper is a few
millimetres thick with a fuller toe box, smoothed so it rounds over the toes; the sole is real volume, a flat
slab grown straight down from the foot by the sole's thickness (a heel adds more at the back for boots) with a
rim a few millimetres out around it.  A shoe's opening (the ankle collar, the instep of a flat) ends in a wall
like every garment hem.  Colours: the upper, a contrasting sole band, laces across the instep of sneakers and
boots, a ribbed top on socks.  After footwear the whole person is lifted so the soles stand on y = 0
(``sample_person``).

Footwear is built before trousers and skirts, so trouser legs fall over the shoes.  Everything is procedural
(the project's own licence); every parameter is recorded in the garment's ``params``.
"""

from __future__ import annotations

import colorsys

import numpy as np

from humandepth.render.body import PART
from humandepth.render.texture import smoothstep

FOOTWEAR = ("sneakers", "boots", "flats")


def _hsv(h, s, v) -> list[float]:
    return [round(c, 4) for c in colorsys.hsv_to_rgb(h % 1.0, s, v)]


def sample_footwear_spec(rng: np.random.Generator, kind: str) -> dict:
    """Shape and colour parameters of ``socks`` or one of :data:`FOOTWEAR`."""
    u = rng.uniform
    if kind == "socks":
        colour = [_hsv(0, 0, u(0.85, 0.95)), _hsv(0, 0, u(0.05, 0.15)), _hsv(0, 0, u(0.3, 0.6)),
                  _hsv(rng.random(), u(0.3, 0.8), u(0.3, 0.9))][int(rng.choice(4, p=[0.35, 0.35, 0.15, 0.15]))]
        return {"type": "socks", "top_s": round(u(0.72, 0.93), 4), "thickness_m": round(u(0.001, 0.002), 5),
                "colour": colour, "material": "knit", "seed": int(rng.integers(2**31))}
    sole = [_hsv(0, 0, u(0.85, 0.95)), _hsv(0, 0, u(0.05, 0.15)), _hsv(0.08, u(0.4, 0.6), u(0.4, 0.6))]
    if kind == "sneakers":
        upper = [_hsv(0, 0, u(0.85, 0.97)), _hsv(0, 0, u(0.05, 0.15)), _hsv(0, 0, u(0.35, 0.65)),
                 _hsv(rng.random(), u(0.3, 0.8), u(0.3, 0.9))][int(rng.choice(4, p=[0.35, 0.3, 0.2, 0.15]))]
        spec = {"top_s": round(u(0.965, 0.99), 4), "sole_m": round(u(0.02, 0.032), 4), "heel_m": 0.0,
                "upper_m": round(u(0.003, 0.006), 5), "sole_colour": sole[int(rng.choice(3, p=[0.7, 0.2, 0.1]))],
                "laces": True, "material": "canvas" if rng.random() < 0.4 else "synthetic"}
    elif kind == "boots":
        upper = [_hsv(0.07, u(0.5, 0.8), u(0.1, 0.35)), _hsv(0, 0, u(0.03, 0.1)), _hsv(0.09, u(0.4, 0.6), u(0.4, 0.7))][
            int(rng.choice(3, p=[0.45, 0.4, 0.15]))]
        spec = {"top_s": round(u(0.72, 0.88), 4), "sole_m": round(u(0.025, 0.035), 4), "heel_m": round(u(0.0, 0.02), 4),
                "upper_m": round(u(0.003, 0.005), 5), "sole_colour": sole[int(rng.choice(3, p=[0.1, 0.7, 0.2]))],
                "laces": bool(rng.random() < 0.6), "material": "leather"}
    else:
        upper = _hsv(rng.random(), u(0.0, 0.8), u(0.05, 0.8))
        spec = {"top_s": 1.0, "sole_m": round(u(0.008, 0.014), 4), "heel_m": round(u(0.0, 0.01), 4),
                "upper_m": round(u(0.0015, 0.003), 5), "sole_colour": sole[int(rng.choice(3, p=[0.2, 0.6, 0.2]))],
                "laces": False, "material": "leather"}
    spec.update(type=kind, colour=upper, rim_m=round(u(0.002, 0.006), 4), seed=int(rng.integers(2**31)))
    return spec


def build_footwear(dense, body, spec: dict, scene):
    """The socks or shoes of ``spec`` on both feet (one garment); see the module docstring."""
    from humandepth.render.garments import base_patch, offset_shell, spread_under

    nv = len(body.vertices)  # footwear uses the body's own vertices (~1 cm apart), not the subdivided ones
    p = dense.parts[:nv]
    rest = dense.rest[:nv]
    leg_s = np.nan_to_num(dense.coords["leg_s"][:nv], nan=-1.0)
    foot = np.isin(p, [PART["left_foot"], PART["right_foot"]])
    shin = np.isin(p, [PART["left_lower_leg"], PART["right_lower_leg"]])
    cover = foot | (shin & (leg_s >= spec["top_s"]))
    # per-side frame: the sole's height, the ankle (heel / toe direction) from the rest foot
    y_rel = np.zeros(len(rest))
    fwd = np.zeros(len(rest))
    for sign in (1.0, -1.0):
        side = (np.sign(rest[:, 0]) == sign) & (foot | shin)
        sole_y = rest[side & foot, 1].min()
        y_rel[side] = rest[side, 1] - sole_y
        z = rest[side & foot, 2]
        ankle_z = z.min() + 0.28 * (z.max() - z.min()) if len(z) else 0.0  # above the heel: a quarter of the foot
        fwd[side] = rest[side, 2] - ankle_z  # + toward the toes
    if spec["type"] == "flats":  # the instep stays open
        cover &= ~(foot & (y_rel > 0.035) & (fwd > -0.02))
    used, f, bedges = base_patch(dense, cover)
    yr, fw, r = y_rel[used], fwd[used], rest[used]
    if spec["type"] == "socks":
        extra = np.zeros(len(used))
        colour = np.tile(np.asarray(spec["colour"]), (len(used), 1))
        top = smoothstep(0.02, 0.0, (leg_s[used] - spec["top_s"]) * 0.45)  # a ribbed cuff
        colour *= (1 - 0.12 * top * (np.sin(r[:, 0] * 900) > 0))[:, None]
        g = offset_shell(dense, body, scene, spec, used, f, bedges, extra, spec["thickness_m"], colour)
        spread_under(dense)
        return g
    bottom = smoothstep(0.012, 0.0, yr)
    rim = smoothstep(0.03, 0.008, yr) * (1 - bottom)
    heel = bottom * smoothstep(-0.02, -0.06, fw) * spec["heel_m"]
    toe_box = smoothstep(0.05, 0.12, fw) * smoothstep(0.0, 0.02, yr) * 0.004  # room for the toes
    extra = bottom * spec["sole_m"] + rim * spec["rim_m"] + heel + toe_box
    # the sole grows straight down from the foot (a flat slab), the rest of the shoe along the normal, smoothed
    # over the foot (the toes' own normals point every way)
    down = np.zeros((len(used), 3))
    n = dense.normals[used].copy()
    i, j = f[:, [0, 1, 2, 0, 1, 2]].reshape(-1), f[:, [1, 2, 0, 2, 0, 1]].reshape(-1)
    deg = np.maximum(np.bincount(i, minlength=len(used)), 1)[:, None]
    for _ in range(8):
        n = 0.5 * n + 0.5 * np.stack([np.bincount(i, weights=n[j, k], minlength=len(used)) for k in range(3)], 1) / deg
        n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)
    for sign in (1.0, -1.0):  # per foot: the sole's mean outward normal is "down" for the shoe
        side = np.sign(r[:, 0]) == sign
        sole = side & (yr < 0.01)
        if sole.any():
            d = dense.normals[used][sole].mean(0)
            down[side] = d / max(np.linalg.norm(d), 1e-9)
    w = bottom[:, None]
    extra_dir = n * (1 - w) + down * w
    extra_dir /= np.maximum(np.linalg.norm(extra_dir, axis=1, keepdims=True), 1e-9)
    colour = np.tile(np.asarray(spec["colour"], np.float64), (len(used), 1))
    sole_band = smoothstep(0.018, 0.01, yr)
    colour = colour * (1 - sole_band[:, None]) + np.asarray(spec["sole_colour"]) * sole_band[:, None]
    if spec["laces"]:  # across the instep: stripes of a lighter or darker lace colour
        mid_x = np.zeros(len(used))
        for sign in (1.0, -1.0):
            side = np.sign(r[:, 0]) == sign
            if side.any():
                mid_x[side] = np.median(r[side & (yr < 0.05), 0])
        on = (np.abs(r[:, 0] - mid_x) < 0.014) & (fw > 0.0) & (fw < 0.09) & (yr > 0.035)
        stripes = on & (np.sin(fw * 2 * np.pi / 0.011) > 0.2)
        colour[stripes] = colour[stripes] * 0.75 + (0.2 if np.mean(spec["colour"]) > 0.5 else 0.8) * 0.25
    g = offset_shell(dense, body, scene, spec, used, f, bedges, extra, spec["upper_m"], colour, extra_dir, smooth=10,
                     normals=n)
    spread_under(dense)
    return g

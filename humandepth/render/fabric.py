"""Fabric as the camera sees it: per-pixel structure of each material on top of the garment's vertex colours.

A garment's :class:`~humandepth.render.surface.Surface` (:func:`garment_surface`) evaluates, at every pixel,
the rest-body point under it (interpolated from the garment's vertices, so the texture follows the body in any
pose) and adds the material's structure there:

- ``jersey`` / ``twill``: a fine, low-contrast grain; ``knit`` / ``fleece``: heathered mottling (fibres of
  several shades) and ribbed bands; ``wool``: tweed flecks;
- ``denim``: the diagonal twill of a white weft under indigo warp, lighter *wear* on fold ridges, thighs and
  knees, and seams along the outer leg;
- ``leather``: grain and a strong, tight highlight; ``satin`` / ``synthetic``: smooth with a broad sheen;
- prints: a graphic on the chest (or back) of tops: a block, a circle or lines of text-like marks.

The folds themselves are geometry; the shader lights them (key light, environment, occlusion in the creases)
and :func:`fold_visibility` darkens the creases of every garment a little more (per-vertex cavity).
"""

from __future__ import annotations

import numpy as np

from humandepth.render.surface import Surface, convexity, interpolate
from humandepth.render.texture import fade, fbm, noise3, smoothstep

# material -> (specular, shininess)
SHEEN = {"jersey": (0.02, 6), "knit": (0.015, 5), "fleece": (0.01, 4), "twill": (0.03, 8), "denim": (0.03, 8),
         "synthetic": (0.12, 14), "satin": (0.3, 28), "leather": (0.3, 30), "wool": (0.015, 5),
         "canvas": (0.03, 8), "cotton": (0.02, 6)}


def fold_convexity(mesh) -> np.ndarray:
    """(V,) :func:`~humandepth.render.surface.convexity` of a garment's (or hair's) vertices (metres)."""
    from humandepth.render.raster import vertex_normals

    return convexity(mesh.vertices, mesh.faces, vertex_normals(mesh.vertices, mesh.faces))


def fold_visibility(convex: np.ndarray) -> np.ndarray:
    """(V,) ambient visibility from :func:`fold_convexity`: 1 on ridges, down to 0.6 deep in creases."""
    return np.clip(1.0 + convex / 0.004 * 0.4, 0.6, 1.0)


def _print_region(rest: np.ndarray, spec: dict):
    """Centre (x, y) and facing (+1 front / -1 back) of a chest print in rest coordinates, or None."""
    torso = np.abs(rest[:, 0]) < 0.12
    if torso.sum() < 20:
        return None
    y0, y1 = np.percentile(rest[torso, 1], [2, 98])
    zf = np.percentile(rest[torso, 2], 50)
    return float(np.median(rest[torso, 0])), float(y0 + spec["height"] * (y1 - y0)), zf


def _print_mask(p: np.ndarray, spec: dict, region) -> np.ndarray:
    cx, cy, zmid = region
    facing = -1.0 if spec["back"] else 1.0
    on_side = (p[:, 2] - zmid) * facing > 0
    u = (p[:, 0] - cx) / spec["size_m"]
    v = (p[:, 1] - cy) / spec["size_m"]
    inside = on_side & (np.abs(u) < 0.5) & (np.abs(v) < 0.5)
    if spec["shape"] == "circle":
        r = np.hypot(u, v)
        return on_side & ((r < 0.3) | ((r > 0.4) & (r < 0.48)))
    if spec["shape"] == "text":
        row = np.floor((v + 0.5) * 4)
        mark = np.floor((u + 0.5) * 9 + row * 3.7)
        from humandepth.render.texture import cell_hash

        letters = cell_hash(mark, row, spec["seed"]) > 0.3
        in_row = ((v + 0.5) * 4 - row) < 0.7
        return inside & in_row & letters & (row < 3)
    return inside & (fbm(u * 3, v * 3, spec["seed"], 2) > 0.35)


def garment_surface(garment, convex: np.ndarray | None = None) -> Surface:
    """The photographic :class:`Surface` of a built garment (see the module docstring); ``convex``: its
    :func:`fold_convexity` (computed when needed and not given)."""
    params = garment.params
    look = params.get("look") or {"material": params.get("material", "cotton")}
    material = look["material"]
    specular, shininess = SHEEN.get(material, (0.02, 6))
    mesh = garment.mesh
    faces = np.asarray(mesh.faces)
    vc = np.asarray(mesh.visual.vertex_colors, np.float64)[:, :3] / 255.0
    rest = garment.rest if garment.rest is not None else np.asarray(mesh.vertices)
    seed = int(params.get("seed", 0)) % (2**31)
    wear = None
    if material == "denim":
        cx = fold_convexity(mesh) if convex is None else convex
        front = smoothstep(-0.02, 0.06, rest[:, 2] - np.median(rest[:, 2]))
        wear = np.clip(cx / 0.003, 0, 1) * 0.6 + 0.25 * front
    pr = look.get("print")
    region = _print_region(rest, pr) if pr else None

    def albedo(face, bary, world, fp):
        base = interpolate(vc, faces, face, bary)
        p = interpolate(rest, faces, face, bary)
        if material in ("knit", "fleece", "wool"):
            heather = 0.5 + (noise3(p, 0.004, seed, octaves=1) - 0.5) * fade(0.004, fp)
            blotch = noise3(p, 0.02, seed + 2, octaves=2)
            base = base * (0.86 + 0.14 * heather + 0.14 * blotch)[:, None]
            if material == "wool":
                fleck = (noise3(p, 0.004, seed + 1, octaves=1) > 0.8) & (fade(0.004, fp) > 0.5)
                base[fleck] = base[fleck] * 0.6 + 0.3
        elif material == "denim":
            twill = 0.5 + 0.5 * np.sin((p[:, 1] + 0.6 * p[:, 0] + 0.6 * p[:, 2]) * 2 * np.pi / 0.0025) * fade(
                0.0025, fp)
            slub = 0.5 + (noise3(p, 0.01, seed, octaves=2) - 0.5) * fade(0.01, fp)
            w = interpolate(wear, faces, face, bary) if wear is not None else 0.0
            white = np.clip(0.08 * twill + 0.12 * slub + 0.45 * w * (0.6 + 0.4 * slub), 0, 0.7)
            base = base * (1 - white[:, None]) + np.array([0.78, 0.8, 0.85]) * white[:, None]
            seam = np.abs(np.abs(np.arctan2(p[:, 0] - np.sign(p[:, 0]) * 0.1, p[:, 2])) - np.pi / 2) < 0.05
            base[seam] = base[seam] * 0.7 + np.array([0.55, 0.45, 0.25]) * 0.3
        elif material == "leather":
            grain = 0.5 + (noise3(p, 0.006, seed, octaves=2) - 0.5) * fade(0.006, fp)
            base = base * (0.85 + 0.3 * grain)[:, None]
        else:
            grain = 0.5 + (noise3(p, 0.003, seed, octaves=1) - 0.5) * fade(0.003, fp)
            base = base * (0.95 + 0.1 * grain)[:, None]
        if region is not None:
            m = _print_mask(p, pr, region)
            base[m] = np.asarray(pr["colour"])
        return np.clip(base, 0, 1)

    return Surface(material, albedo, specular=specular, shininess=shininess,
                   params={"material": material, "print": pr["shape"] if pr else None})

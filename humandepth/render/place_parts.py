"""The things places are made of: boxes, quads, cylinders and lumpy spheres; procedural looks of floors,
walls, posters, windows and plain materials; furniture standing on the floor.

Every look is a :class:`~humandepth.render.surface.Surface` whose albedo is a function of the world point
(:mod:`humandepth.render.texture`), faded where its detail is finer than a pixel.  :mod:`humandepth.render.places`
puts these together into rooms, outdoor scenes and studios.
"""

from __future__ import annotations

import colorsys

import numpy as np
import trimesh

from humandepth.render.surface import Surface
from humandepth.render.texture import cell_hash, fade, fbm, smoothstep


def rounded(x, k: int = 3):
    return [round(float(v), k) for v in np.ravel(x)] if np.ndim(x) else round(float(x), k)


def hsv(h: float, s: float, v: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


# --- meshes ------------------------------------------------------------------------------------------------

def yaw_frame(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


_BOX_CORNERS = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
_BOX_FACES = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],
                       [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])


def box(center, size, yaw: float = 0.0) -> trimesh.Trimesh:
    """An axis-aligned (in a frame turned by ``yaw`` about +Y) box mesh, faces outward."""
    v = (_BOX_CORNERS * np.asarray(size, np.float64)) @ yaw_frame(yaw).T + np.asarray(center, np.float64)
    return trimesh.Trimesh(v, _BOX_FACES, process=False)


def quad(corner, u, v) -> trimesh.Trimesh:
    c, u, v = (np.asarray(a, np.float64) for a in (corner, u, v))
    return trimesh.Trimesh(np.array([c, c + u, c + u + v, c + v]), np.array([[0, 1, 2], [0, 2, 3]]), process=False)


def cylinder(center, radius: float, height: float, sections: int = 16) -> trimesh.Trimesh:
    m = trimesh.creation.cylinder(radius=radius, height=height, sections=sections)
    m.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))
    m.apply_translation(np.asarray(center, np.float64))
    return m


def blob(center, radius: float, rng: np.random.Generator, subdivisions: int = 2) -> trimesh.Trimesh:
    """A lumpy sphere (foliage, a bush)."""
    m = trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)
    v = m.vertices
    lump = 1 + 0.18 * np.sin(v @ rng.normal(size=(3, 4)) * (6 / radius) + rng.uniform(0, 6, 4)).mean(1)
    m.vertices = v * lump[:, None] + np.asarray(center)
    return m


# --- materials ---------------------------------------------------------------------------------------------

def plain(colour, variation: float, scale_m: float, seed: int):
    colour = np.asarray(colour, np.float64)

    def fn(face, bary, world, fp):
        n = fbm(world[:, 0] / scale_m + world[:, 2] / scale_m, world[:, 1] / scale_m, seed, octaves=3)
        n = 0.5 + (n - 0.5) * fade(scale_m, fp)
        return np.clip(colour[None] * (1 - variation + 2 * variation * n[:, None]), 0, 1)

    return fn


def axes_uv(world: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return world @ axes[0], world @ axes[1]


def floor_material(rng: np.random.Generator, kind: str, yaw: float) -> tuple[Surface, np.ndarray]:
    """A floor look and its mean albedo.  Kinds: wood, tiles, carpet, concrete, lab (speckled floor with dark
    carpet mats), grass, asphalt, paving, sand."""
    seed = int(rng.integers(2**31))
    axes = yaw_frame(yaw)[:, [0, 2]].T  # the room's floor axes
    p: dict = {"kind": kind}
    if kind == "wood":
        base = hsv(rng.uniform(0.05, 0.11), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.8))
        width, length = rng.uniform(0.09, 0.2), rng.uniform(0.8, 2.0)
        p.update(colour=rounded(base), plank_width_m=rounded(width))

        def fn(face, bary, world, fp):
            u, v = axes_uv(world, axes)
            row = np.floor(v / width)
            col = np.floor(u / length + 0.37 * row)
            tint = 0.8 + 0.4 * cell_hash(row, col, seed)
            grain = 0.5 + (fbm(u * 3.0, v / width * 6.0, seed + 1, 3) - 0.5) * fade(width / 6, fp)
            gap = 1 - (1 - smoothstep(0.0, 0.04, np.minimum(v / width - row, 1 - (v / width - row)))) * fade(
                0.04 * width, fp)
            return np.clip(base[None] * (tint * (0.8 + 0.4 * grain) * (0.6 + 0.4 * gap))[:, None], 0, 1)
    elif kind in ("tiles", "paving"):
        size = rng.uniform(0.25, 0.6) if kind == "tiles" else rng.uniform(0.1, 0.3)
        c1 = hsv(rng.uniform(0.05, 0.6), rng.uniform(0, 0.15), rng.uniform(0.35, 0.9))
        c2 = c1 if rng.random() < 0.75 else hsv(rng.uniform(0.05, 0.6), rng.uniform(0, 0.15), rng.uniform(0.2, 0.9))
        grout = np.full(3, rng.uniform(0.3, 0.8))
        base = 0.5 * (c1 + c2)
        p.update(colour=rounded(c1), colour2=rounded(c2), tile_m=rounded(size))

        def fn(face, bary, world, fp):
            u, v = axes_uv(world, axes)
            i, j = np.floor(u / size), np.floor(v / size)
            fu, fv = u / size - i, v / size - j
            t = fade(size, fp)[:, None]
            c = np.where(((i + j) % 2 == 0)[:, None], c1, c2) * t + base * (1 - t)
            c = c * (1 + t * (0.2 * cell_hash(i, j, seed) - 0.1)[:, None]) * (0.9 + 0.2 * fbm(u * 8, v * 8, seed, 2))[
                :, None]
            line = (np.minimum(np.minimum(fu, 1 - fu), np.minimum(fv, 1 - fv)) < 0.004 / size * 2)[:, None]
            w = fade(0.008, fp)[:, None]
            mean = c * (1 - 0.016 / size) + grout * 0.016 / size
            return np.clip(np.where(line, grout * w + mean * (1 - w), c * w + mean * (1 - w)), 0, 1)
    elif kind == "lab":
        floor = np.full(3, rng.uniform(0.55, 0.8)) * np.array([1.0, 1.0, rng.uniform(0.95, 1.05)])
        mat = np.full(3, rng.uniform(0.12, 0.3)) * hsv(rng.uniform(0.5, 0.7), rng.uniform(0, 0.2), 1.0)
        mats = [(rng.uniform(-1.2, 0.6), rng.uniform(-1.2, 0.4), rng.uniform(0.8, 1.6), rng.uniform(0.8, 1.6))
                for _ in range(int(rng.integers(1, 4)))]
        base = floor * 0.7 + mat * 0.3
        p.update(colour=rounded(floor), mat_colour=rounded(mat), mats=[rounded(m) for m in mats])

        def fn(face, bary, world, fp):
            u, v = axes_uv(world, axes)
            speck = 0.5 + (fbm(u * 40, v * 40, seed, 2) - 0.5) * fade(0.025, fp)
            out = floor[None] * (0.85 + 0.3 * speck)[:, None] * (0.9 + 0.2 * fbm(u * 2, v * 2, seed + 3, 2))[:, None]
            on_mat = np.zeros(len(u), bool)
            for x0, z0, w, d in mats:
                on_mat |= (u > x0) & (u < x0 + w) & (v > z0) & (v < z0 + d)
            carpet = mat[None] * (1 + 0.3 * (fbm(u * 60, v * 60, seed + 5, 2) - 0.5) * fade(0.017, fp))[:, None]
            return np.clip(np.where(on_mat[:, None], carpet, out), 0, 1)
    else:
        palette = {"carpet": (rng.random(), rng.uniform(0.05, 0.35), rng.uniform(0.15, 0.6)),
                   "concrete": (0.1, rng.uniform(0, 0.1), rng.uniform(0.35, 0.7)),
                   "grass": (rng.uniform(0.2, 0.3), rng.uniform(0.45, 0.75), rng.uniform(0.2, 0.45)),
                   "asphalt": (0.6, rng.uniform(0, 0.08), rng.uniform(0.12, 0.3)),
                   "sand": (rng.uniform(0.08, 0.12), rng.uniform(0.2, 0.45), rng.uniform(0.55, 0.8))}[kind]
        base = hsv(*palette)
        scale = {"carpet": 0.01, "concrete": 0.4, "grass": 0.05, "asphalt": 0.02, "sand": 0.2}[kind]
        variation = {"carpet": 0.15, "concrete": 0.2, "grass": 0.35, "asphalt": 0.3, "sand": 0.2}[kind]
        p.update(colour=rounded(base))
        fine = plain(base, variation, scale, seed)
        coarse_var = 0.25 if kind in ("grass", "concrete", "sand") else 0.08

        def fn(face, bary, world, fp):
            c = fine(face, bary, world, fp)
            big = fbm(world[:, 0] / 1.5, world[:, 2] / 1.5, seed + 9, 2)
            return np.clip(c * (1 - coarse_var + 2 * coarse_var * big)[:, None], 0, 1)
    spec = {"wood": (0.08, 30), "tiles": (0.1, 40), "lab": (0.05, 20)}.get(kind, (0.01, 4))
    return Surface(f"{kind}_floor", fn, specular=spec[0], shininess=spec[1], cast_shadow=False, params=p), base


def wall_material(rng: np.random.Generator, axes_u: np.ndarray, skirting=None) -> tuple[Surface, np.ndarray]:
    """A painted (or brick) wall and its mean albedo; ``skirting``: ``(colour, height_m)`` of a painted band at the
    bottom of painted walls, or None."""
    seed = int(rng.integers(2**31))
    k = rng.random()
    if k < 0.75:  # white, off-white, light grey: most walls
        colour = hsv(rng.uniform(0.05, 0.6), rng.uniform(0.0, 0.08), rng.uniform(0.75, 0.97))
    elif k < 0.93:  # beige, pastel
        colour = hsv(rng.uniform(0.0, 0.6), rng.uniform(0.08, 0.25), rng.uniform(0.6, 0.9))
    else:
        colour = hsv(rng.random(), rng.uniform(0.2, 0.45), rng.uniform(0.35, 0.8))
    kind = "paint" if rng.random() < 0.85 else "brick"
    if kind == "paint":
        def fn(face, bary, world, fp):
            u = world @ axes_u
            n = fbm(u * 1.5, world[:, 1] * 1.5, seed, 3)
            out = np.clip(colour[None] * (0.94 + 0.1 * n)[:, None], 0, 1)
            if skirting is not None:
                out[world[:, 1] < skirting[1]] = skirting[0]
            return out
    else:
        colour = hsv(rng.uniform(0.0, 0.08), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.65))
        mortar = np.full(3, rng.uniform(0.55, 0.8))

        def fn(face, bary, world, fp):
            u, y = world @ axes_u, world[:, 1]
            row = np.floor(y / 0.075)
            col = np.floor(u / 0.22 + 0.5 * (row % 2))
            fu, fy = u / 0.22 + 0.5 * (row % 2) - col, y / 0.075 - row
            tint = 0.8 + 0.4 * cell_hash(row, col, seed)
            w = fade(0.03, fp)[:, None]
            c = colour[None] * (tint[:, None] * w + (1 - w)) * (0.9 + 0.2 * fbm(u * 30, y * 30, seed, 2))[:, None]
            line = ((np.minimum(fu, 1 - fu) < 0.045) | (np.minimum(fy, 1 - fy) < 0.12))[:, None]
            mean = c * 0.75 + mortar * 0.25
            return np.clip(np.where(line, mortar * w + mean * (1 - w), c * w + mean * (1 - w)), 0, 1)
    return Surface(f"{kind}_wall", fn, specular=0.01, shininess=4, cast_shadow=False,
                   params={"kind": kind, "colour": rounded(colour)}), colour


def solid(name: str, colour, specular: float = 0.02, shininess: float = 8.0, variation: float = 0.08,
           seed: int = 0, scale_m: float = 0.3, emission: float = 0.0, cast_shadow: bool = True) -> Surface:
    return Surface(name, plain(colour, variation, scale_m, seed), specular=specular, shininess=shininess,
                   emission=emission, cast_shadow=cast_shadow, params={"colour": rounded(colour)})


def poster(rng: np.random.Generator, centre, axes_u) -> Surface:
    """A framed picture: blocks of colour, stripes or a blurred landscape (procedural)."""
    seed = int(rng.integers(2**31))
    c1, c2, c3 = (hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.95)) for _ in range(3))
    centre = np.asarray(centre)

    def fn(face, bary, world, fp):
        u, y = (world - centre) @ axes_u, world[:, 1] - centre[1]
        n = fbm(u * 4, y * 4, seed, 3)
        t = (n + 0.4 * (y > 0.1 * np.sin(u * 8))) / 1.4
        out = np.where((t < 0.45)[:, None], c1, np.where((t < 0.7)[:, None], c2, c3))
        return np.clip(out * (0.9 + 0.2 * fbm(u * 30, y * 30, seed + 1, 1))[:, None], 0, 1)

    return Surface("poster", fn, specular=0.15, shininess=40, cast_shadow=False,
                   params={"colours": [rounded(c1), rounded(c2)]})


def window(rng: np.random.Generator, centre, axes_u, size) -> Surface:
    """Bright glass with mullions: the outside seen through it (a sky gradient) emits light."""
    bars = int(rng.integers(1, 4))
    frame = np.full(3, rng.uniform(0.3, 0.95))
    centre = np.asarray(centre)
    glass = hsv(rng.uniform(0.5, 0.62), rng.uniform(0.05, 0.3), 1.0)
    w, h = size

    def fn(face, bary, world, fp):
        u, y = (world - centre) @ axes_u / w + 0.5, (world[:, 1] - centre[1]) / h + 0.5
        bar = (np.abs((u * bars) - np.round(u * bars)) < 0.02 * bars) | (np.abs(y - 0.5) < 0.015)
        edge = (u < 0.03) | (u > 0.97) | (y < 0.04) | (y > 0.96)
        sky = glass[None] * (0.75 + 0.25 * y)[:, None]
        return np.where((bar | edge)[:, None], frame * 0.25, sky)

    return Surface("window", fn, specular=0.0, emission=rng.uniform(1.5, 4.0), cast_shadow=False,
                   params={"bars": bars})


# --- rooms -------------------------------------------------------------------------------------------------

FURNITURE = ("table", "chair", "cabinet", "boxes", "sofa", "plant", "bin", "shelf")


def furniture(place, rng: np.random.Generator, kind: str, pos: np.ndarray, yaw: float,
               occluder: bool = False) -> float:
    """Add one piece of furniture standing on the floor at ``pos`` (x, z); returns its footprint radius."""
    seed = int(rng.integers(2**31))
    wood = hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.25, 0.8))
    paint = hsv(rng.random(), rng.uniform(0, 0.12) if rng.random() < 0.6 else rng.uniform(0.1, 0.55),
                 rng.uniform(0.2, 0.95))
    metal = np.full(3, rng.uniform(0.3, 0.8))
    R = yaw_frame(yaw)

    def at(local):
        return np.array([pos[0], 0, pos[1]]) + R @ np.asarray(local, np.float64)

    def add(mesh, surface):
        place.add(mesh, surface, kind, occluder)

    if kind == "table":
        w, d, h = rng.uniform(0.8, 1.8), rng.uniform(0.5, 0.9), rng.uniform(0.7, 0.78)
        top = solid("wood", wood if rng.random() < 0.6 else paint, 0.1, 30, seed=seed)
        add(box(at([0, h - 0.02, 0]), [w, 0.04, d], yaw), top)
        legs = solid("metal", metal, 0.3, 40, seed=seed)
        for sx in (-1, 1):
            for sz in (-1, 1):
                add(box(at([sx * (w / 2 - 0.05), (h - 0.04) / 2, sz * (d / 2 - 0.05)]), [0.04, h - 0.04, 0.04], yaw),
                    legs)
        return max(w, d) / 2
    if kind == "chair":
        s = rng.uniform(0.4, 0.5)
        mat = solid("plastic", paint, 0.15, 30, seed=seed)
        add(box(at([0, 0.45, 0]), [s, 0.05, s], yaw), mat)
        add(box(at([0, 0.7, -s / 2 + 0.02]), [s, 0.45, 0.04], yaw), mat)
        legs = solid("metal", metal, 0.3, 40, seed=seed)
        for sx in (-1, 1):
            for sz in (-1, 1):
                add(box(at([sx * (s / 2 - 0.03), 0.21, sz * (s / 2 - 0.03)]), [0.03, 0.42, 0.03], yaw), legs)
        return s * 0.75
    if kind in ("cabinet", "shelf"):
        w, d, h = rng.uniform(0.5, 1.6), rng.uniform(0.3, 0.6), rng.uniform(0.8, 2.1)
        body = solid("cabinet", wood if rng.random() < 0.5 else paint, 0.05, 20, seed=seed)
        add(box(at([0, h / 2, 0]), [w, h, d], yaw), body)
        if kind == "shelf":  # items on top and a dark front band per shelf
            for k in range(int(rng.integers(1, 4))):
                iw = rng.uniform(0.1, min(0.35, w / 2))
                add(box(at([rng.uniform(-w / 2 + iw / 2, w / 2 - iw / 2), h + 0.1, 0]), [iw, 0.2, d * 0.8], yaw),
                    solid("item", hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.2, 0.95)), seed=seed + k))
        return max(w, d) / 2
    if kind == "boxes":
        cardboard = hsv(rng.uniform(0.07, 0.1), rng.uniform(0.35, 0.55), rng.uniform(0.5, 0.75))
        y, r = 0.0, 0.0
        for k in range(int(rng.integers(1, 4))):
            w, d, h = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.5), rng.uniform(0.2, 0.45)
            off = rng.uniform(-0.05, 0.05, 2)
            add(box(at([off[0], y + h / 2, off[1]]), [w, h, d], yaw + rng.uniform(-0.2, 0.2)),
                solid("cardboard", cardboard * rng.uniform(0.9, 1.1), 0.01, 4, 0.05, seed + k, 0.1))
            y += h
            r = max(r, max(w, d) / 2 + 0.05)
        return r
    if kind == "sofa":
        w, d = rng.uniform(1.4, 2.2), rng.uniform(0.8, 1.0)
        fabric = solid("upholstery", paint * 0.8, 0.02, 6, 0.15, seed, 0.05)
        add(box(at([0, 0.22, 0]), [w, 0.44, d], yaw), fabric)
        add(box(at([0, 0.6, -d / 2 + 0.12]), [w, 0.5, 0.24], yaw), fabric)
        for sx in (-1, 1):
            add(box(at([sx * (w / 2 - 0.1), 0.55, 0]), [0.2, 0.3, d], yaw), fabric)
        return max(w, d) / 2
    if kind == "plant":
        r = rng.uniform(0.12, 0.25)
        add(cylinder(at([0, 0.2, 0]), r, 0.4), solid("pot", paint, 0.1, 20, seed=seed))
        leaf = hsv(rng.uniform(0.22, 0.35), rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.55))
        add(blob(at([0, 0.4 + r * 2.5, 0]), r * 2.5, rng), solid("foliage", leaf, 0.05, 10, 0.35, seed, 0.05))
        return r * 2.5
    r = rng.uniform(0.15, 0.25)  # bin
    add(cylinder(at([0, 0.3, 0]), r, 0.6), solid("bin", paint, 0.2, 30, seed=seed))
    return r

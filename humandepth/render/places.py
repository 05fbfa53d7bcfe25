"""Places to stand in: rooms, outdoor ground under a sky, studios, or the user's photographs.

A :class:`Place` is geometry around the person (world frame: metres, +Y up, the person at the origin standing
on y = 0): a floor a millimetre below the soles, walls, a ceiling with lamp panels, wall items (whiteboards,
posters, windows, doors, skirting, shelves), furniture-like objects (tables, chairs, cabinets, cardboard
boxes, sofas, plants, bins) and, sometimes, an occluder between the camera and the person.  Outdoors: a
ground plane (grass, asphalt, paving, sand), buildings, trees, hedges, fences and benches, and a sky with
clouds.  Every surface has a procedural per-pixel albedo (:mod:`humandepth.render.texture`), so the place
costs no image assets and has no third-party licence.  The place is rendered in the same exact pass as the
person, so occlusion between them is exact; the ground-truth passes keep only the person's pixels.

``--backgrounds DIR`` adds ``photo`` places: a random crop of one of the user's images behind the person
(no geometry); the lighting is tinted toward the photograph's mean colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import trimesh

from humandepth.render.surface import Surface
from humandepth.render.texture import cell_hash, fade, fbm, smoothstep

LICENSE = {"id": "humandepth-procedural-places", "source": "humandepth.render.places (procedural)",
           "license": "Apache-2.0", "attribution": "humandepth"}
FLOOR_Y = -0.001  # the floor sits a millimetre under the soles: no depth fighting at the contact


@dataclass
class Place:
    """Geometry and look of where the person stands.

    Attributes:
        kind: ``room``, ``outdoor``, ``studio`` or ``photo``.
        meshes: world-frame meshes (rendered after the person's).
        surfaces: one :class:`Surface` per mesh.
        sky: ``fn(directions (P, 3) world) -> (P, 3) linear radiance`` for pixels that see no surface, or None.
        image: (H, W, 3) uint8 background photograph (``photo``), else None.
        light_hints: what :func:`humandepth.render.lighting.sample_lighting` needs (kind, albedos, lamps,
            windows, the photograph's mean colour).
        occluders: indices into ``meshes`` placed between the camera and the person.
        params: JSON description (recorded as ``meta["place"]``).
    """

    kind: str
    meshes: list = field(default_factory=list)
    surfaces: list = field(default_factory=list)
    sky: object = None
    image: np.ndarray | None = None
    light_hints: dict = field(default_factory=dict)
    occluders: list = field(default_factory=list)
    params: dict = field(default_factory=dict)

    def merged(self) -> tuple[trimesh.Trimesh | None, np.ndarray]:
        """All meshes as one (one draw call instead of dozens) and the (F,) index of each face's mesh."""
        if not self.meshes:
            return None, np.zeros(0, np.int64)
        counts = [len(m.faces) for m in self.meshes]
        offsets = np.cumsum([0] + [len(m.vertices) for m in self.meshes])
        verts = np.concatenate([np.asarray(m.vertices, np.float64) for m in self.meshes])
        faces = np.concatenate([np.asarray(m.faces, np.int64) + o for m, o in zip(self.meshes, offsets, strict=False)])
        return trimesh.Trimesh(verts, faces, process=False), np.repeat(np.arange(len(counts)), counts)

    def truncate(self, count: int) -> None:
        """Drop the meshes added after the first ``count``."""
        del self.meshes[count:], self.surfaces[count:], self.params["objects"][count:]
        self.occluders = [i for i in self.occluders if i < count]

    def add(self, mesh: trimesh.Trimesh, surface: Surface, what: str, occluder: bool = False) -> None:
        if occluder:
            self.occluders.append(len(self.meshes))
        self.meshes.append(mesh)
        self.surfaces.append(surface)
        self.params.setdefault("objects", []).append(what)


def _r(x, k: int = 3):
    return [round(float(v), k) for v in np.ravel(x)] if np.ndim(x) else round(float(x), k)


def _hsv(h: float, s: float, v: float) -> np.ndarray:
    import colorsys

    return np.array(colorsys.hsv_to_rgb(h % 1.0, s, v))


# --- meshes ------------------------------------------------------------------------------------------------

def _frame(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


_BOX_CORNERS = np.array([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
_BOX_FACES = np.array([[0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5], [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],
                       [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3]])


def box(center, size, yaw: float = 0.0) -> trimesh.Trimesh:
    """An axis-aligned (in a frame turned by ``yaw`` about +Y) box mesh, faces outward."""
    v = (_BOX_CORNERS * np.asarray(size, np.float64)) @ _frame(yaw).T + np.asarray(center, np.float64)
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

def _plain(colour, variation: float, scale_m: float, seed: int):
    colour = np.asarray(colour, np.float64)

    def fn(face, bary, world, fp):
        n = fbm(world[:, 0] / scale_m + world[:, 2] / scale_m, world[:, 1] / scale_m, seed, octaves=3)
        n = 0.5 + (n - 0.5) * fade(scale_m, fp)
        return np.clip(colour[None] * (1 - variation + 2 * variation * n[:, None]), 0, 1)

    return fn


def _axes_uv(world: np.ndarray, axes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return world @ axes[0], world @ axes[1]


def floor_material(rng: np.random.Generator, kind: str, yaw: float) -> tuple[Surface, np.ndarray]:
    """A floor look and its mean albedo.  Kinds: wood, tiles, carpet, concrete, lab (speckled floor with dark
    carpet mats), grass, asphalt, paving, sand."""
    seed = int(rng.integers(2**31))
    axes = _frame(yaw)[:, [0, 2]].T  # the room's floor axes
    p: dict = {"kind": kind}
    if kind == "wood":
        base = _hsv(rng.uniform(0.05, 0.11), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.8))
        width, length = rng.uniform(0.09, 0.2), rng.uniform(0.8, 2.0)
        p.update(colour=_r(base), plank_width_m=_r(width))

        def fn(face, bary, world, fp):
            u, v = _axes_uv(world, axes)
            row = np.floor(v / width)
            col = np.floor(u / length + 0.37 * row)
            tint = 0.8 + 0.4 * cell_hash(row, col, seed)
            grain = 0.5 + (fbm(u * 3.0, v / width * 6.0, seed + 1, 3) - 0.5) * fade(width / 6, fp)
            gap = 1 - (1 - smoothstep(0.0, 0.04, np.minimum(v / width - row, 1 - (v / width - row)))) * fade(
                0.04 * width, fp)
            return np.clip(base[None] * (tint * (0.8 + 0.4 * grain) * (0.6 + 0.4 * gap))[:, None], 0, 1)
    elif kind in ("tiles", "paving"):
        size = rng.uniform(0.25, 0.6) if kind == "tiles" else rng.uniform(0.1, 0.3)
        c1 = _hsv(rng.uniform(0.05, 0.6), rng.uniform(0, 0.15), rng.uniform(0.35, 0.9))
        c2 = c1 if rng.random() < 0.75 else _hsv(rng.uniform(0.05, 0.6), rng.uniform(0, 0.15), rng.uniform(0.2, 0.9))
        grout = np.full(3, rng.uniform(0.3, 0.8))
        base = 0.5 * (c1 + c2)
        p.update(colour=_r(c1), colour2=_r(c2), tile_m=_r(size))

        def fn(face, bary, world, fp):
            u, v = _axes_uv(world, axes)
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
        mat = np.full(3, rng.uniform(0.12, 0.3)) * _hsv(rng.uniform(0.5, 0.7), rng.uniform(0, 0.2), 1.0)
        mats = [(rng.uniform(-1.2, 0.6), rng.uniform(-1.2, 0.4), rng.uniform(0.8, 1.6), rng.uniform(0.8, 1.6))
                for _ in range(int(rng.integers(1, 4)))]
        base = floor * 0.7 + mat * 0.3
        p.update(colour=_r(floor), mat_colour=_r(mat), mats=[_r(m) for m in mats])

        def fn(face, bary, world, fp):
            u, v = _axes_uv(world, axes)
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
        base = _hsv(*palette)
        scale = {"carpet": 0.01, "concrete": 0.4, "grass": 0.05, "asphalt": 0.02, "sand": 0.2}[kind]
        variation = {"carpet": 0.15, "concrete": 0.2, "grass": 0.35, "asphalt": 0.3, "sand": 0.2}[kind]
        p.update(colour=_r(base))
        fine = _plain(base, variation, scale, seed)
        coarse_var = 0.25 if kind in ("grass", "concrete", "sand") else 0.08

        def fn(face, bary, world, fp):
            c = fine(face, bary, world, fp)
            big = fbm(world[:, 0] / 1.5, world[:, 2] / 1.5, seed + 9, 2)
            return np.clip(c * (1 - coarse_var + 2 * coarse_var * big)[:, None], 0, 1)
    spec = {"wood": (0.08, 30), "tiles": (0.1, 40), "lab": (0.05, 20)}.get(kind, (0.01, 4))
    return Surface(f"{kind}_floor", fn, specular=spec[0], shininess=spec[1], cast_shadow=False, params=p), base


def wall_material(rng: np.random.Generator, axes_u: np.ndarray) -> tuple[Surface, np.ndarray]:
    seed = int(rng.integers(2**31))
    k = rng.random()
    if k < 0.75:  # white, off-white, light grey: most walls
        colour = _hsv(rng.uniform(0.05, 0.6), rng.uniform(0.0, 0.08), rng.uniform(0.75, 0.97))
    elif k < 0.93:  # beige, pastel
        colour = _hsv(rng.uniform(0.0, 0.6), rng.uniform(0.08, 0.25), rng.uniform(0.6, 0.9))
    else:
        colour = _hsv(rng.random(), rng.uniform(0.2, 0.45), rng.uniform(0.35, 0.8))
    kind = "paint" if rng.random() < 0.85 else "brick"
    if kind == "paint":
        def fn(face, bary, world, fp):
            u = world @ axes_u
            n = fbm(u * 1.5, world[:, 1] * 1.5, seed, 3)
            return np.clip(colour[None] * (0.94 + 0.1 * n)[:, None], 0, 1)
    else:
        colour = _hsv(rng.uniform(0.0, 0.08), rng.uniform(0.4, 0.7), rng.uniform(0.35, 0.65))
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
                   params={"kind": kind, "colour": _r(colour)}), colour


def _solid(name: str, colour, specular: float = 0.02, shininess: float = 8.0, variation: float = 0.08,
           seed: int = 0, scale_m: float = 0.3, emission: float = 0.0, cast_shadow: bool = True) -> Surface:
    return Surface(name, _plain(colour, variation, scale_m, seed), specular=specular, shininess=shininess,
                   emission=emission, cast_shadow=cast_shadow, params={"colour": _r(colour)})


def _poster(rng: np.random.Generator, centre, axes_u) -> Surface:
    """A framed picture: blocks of colour, stripes or a blurred landscape (procedural)."""
    seed = int(rng.integers(2**31))
    c1, c2, c3 = (_hsv(rng.random(), rng.uniform(0.2, 0.9), rng.uniform(0.2, 0.95)) for _ in range(3))
    centre = np.asarray(centre)

    def fn(face, bary, world, fp):
        u, y = (world - centre) @ axes_u, world[:, 1] - centre[1]
        n = fbm(u * 4, y * 4, seed, 3)
        t = (n + 0.4 * (y > 0.1 * np.sin(u * 8))) / 1.4
        out = np.where((t < 0.45)[:, None], c1, np.where((t < 0.7)[:, None], c2, c3))
        return np.clip(out * (0.9 + 0.2 * fbm(u * 30, y * 30, seed + 1, 1))[:, None], 0, 1)

    return Surface("poster", fn, specular=0.15, shininess=40, cast_shadow=False, params={"colours": [_r(c1), _r(c2)]})


def _window(rng: np.random.Generator, centre, axes_u, size) -> Surface:
    """Bright glass with mullions: the outside seen through it (a sky gradient) emits light."""
    bars = int(rng.integers(1, 4))
    frame = np.full(3, rng.uniform(0.3, 0.95))
    centre = np.asarray(centre)
    glass = _hsv(rng.uniform(0.5, 0.62), rng.uniform(0.05, 0.3), 1.0)
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


def _furniture(place: Place, rng: np.random.Generator, kind: str, pos: np.ndarray, yaw: float,
               occluder: bool = False) -> float:
    """Add one piece of furniture standing on the floor at ``pos`` (x, z); returns its footprint radius."""
    seed = int(rng.integers(2**31))
    wood = _hsv(rng.uniform(0.05, 0.12), rng.uniform(0.3, 0.6), rng.uniform(0.25, 0.8))
    paint = _hsv(rng.random(), rng.uniform(0, 0.12) if rng.random() < 0.6 else rng.uniform(0.1, 0.55),
                 rng.uniform(0.2, 0.95))
    metal = np.full(3, rng.uniform(0.3, 0.8))
    R = _frame(yaw)

    def at(local):
        return np.array([pos[0], 0, pos[1]]) + R @ np.asarray(local, np.float64)

    def add(mesh, surface):
        place.add(mesh, surface, kind, occluder)

    if kind == "table":
        w, d, h = rng.uniform(0.8, 1.8), rng.uniform(0.5, 0.9), rng.uniform(0.7, 0.78)
        top = _solid("wood", wood if rng.random() < 0.6 else paint, 0.1, 30, seed=seed)
        add(box(at([0, h - 0.02, 0]), [w, 0.04, d], yaw), top)
        legs = _solid("metal", metal, 0.3, 40, seed=seed)
        for sx in (-1, 1):
            for sz in (-1, 1):
                add(box(at([sx * (w / 2 - 0.05), (h - 0.04) / 2, sz * (d / 2 - 0.05)]), [0.04, h - 0.04, 0.04], yaw),
                    legs)
        return max(w, d) / 2
    if kind == "chair":
        s = rng.uniform(0.4, 0.5)
        mat = _solid("plastic", paint, 0.15, 30, seed=seed)
        add(box(at([0, 0.45, 0]), [s, 0.05, s], yaw), mat)
        add(box(at([0, 0.7, -s / 2 + 0.02]), [s, 0.45, 0.04], yaw), mat)
        legs = _solid("metal", metal, 0.3, 40, seed=seed)
        for sx in (-1, 1):
            for sz in (-1, 1):
                add(box(at([sx * (s / 2 - 0.03), 0.21, sz * (s / 2 - 0.03)]), [0.03, 0.42, 0.03], yaw), legs)
        return s * 0.75
    if kind in ("cabinet", "shelf"):
        w, d, h = rng.uniform(0.5, 1.6), rng.uniform(0.3, 0.6), rng.uniform(0.8, 2.1)
        body = _solid("cabinet", wood if rng.random() < 0.5 else paint, 0.05, 20, seed=seed)
        add(box(at([0, h / 2, 0]), [w, h, d], yaw), body)
        if kind == "shelf":  # items on top and a dark front band per shelf
            for k in range(int(rng.integers(1, 4))):
                iw = rng.uniform(0.1, min(0.35, w / 2))
                add(box(at([rng.uniform(-w / 2 + iw / 2, w / 2 - iw / 2), h + 0.1, 0]), [iw, 0.2, d * 0.8], yaw),
                    _solid("item", _hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.2, 0.95)), seed=seed + k))
        return max(w, d) / 2
    if kind == "boxes":
        cardboard = _hsv(rng.uniform(0.07, 0.1), rng.uniform(0.35, 0.55), rng.uniform(0.5, 0.75))
        y, r = 0.0, 0.0
        for k in range(int(rng.integers(1, 4))):
            w, d, h = rng.uniform(0.3, 0.7), rng.uniform(0.25, 0.5), rng.uniform(0.2, 0.45)
            off = rng.uniform(-0.05, 0.05, 2)
            add(box(at([off[0], y + h / 2, off[1]]), [w, h, d], yaw + rng.uniform(-0.2, 0.2)),
                _solid("cardboard", cardboard * rng.uniform(0.9, 1.1), 0.01, 4, 0.12, seed + k, 0.1))
            y += h
            r = max(r, max(w, d) / 2 + 0.05)
        return r
    if kind == "sofa":
        w, d = rng.uniform(1.4, 2.2), rng.uniform(0.8, 1.0)
        fabric = _solid("upholstery", paint * 0.8, 0.02, 6, 0.15, seed, 0.05)
        add(box(at([0, 0.22, 0]), [w, 0.44, d], yaw), fabric)
        add(box(at([0, 0.6, -d / 2 + 0.12]), [w, 0.5, 0.24], yaw), fabric)
        for sx in (-1, 1):
            add(box(at([sx * (w / 2 - 0.1), 0.55, 0]), [0.2, 0.3, d], yaw), fabric)
        return max(w, d) / 2
    if kind == "plant":
        r = rng.uniform(0.12, 0.25)
        add(cylinder(at([0, 0.2, 0]), r, 0.4), _solid("pot", paint, 0.1, 20, seed=seed))
        leaf = _hsv(rng.uniform(0.22, 0.35), rng.uniform(0.4, 0.8), rng.uniform(0.2, 0.55))
        add(blob(at([0, 0.4 + r * 2.5, 0]), r * 2.5, rng), _solid("foliage", leaf, 0.05, 10, 0.35, seed, 0.05))
        return r * 2.5
    r = rng.uniform(0.15, 0.25)  # bin
    add(cylinder(at([0, 0.3, 0]), r, 0.6), _solid("bin", paint, 0.2, 30, seed=seed))
    return r


def _free(pos: np.ndarray, radius: float, taken: list, camera_xz: np.ndarray) -> bool:
    """Away from the person (origin), from what is already placed and from the camera's line of sight."""
    if np.linalg.norm(pos) < radius + 0.55:
        return False
    for p, r in taken:
        if np.linalg.norm(pos - p) < radius + r + 0.05:
            return False
    seg = camera_xz
    t = np.clip(pos @ seg / max(seg @ seg, 1e-9), 0.0, 1.0)
    return np.linalg.norm(pos - t * seg) > radius + 0.45 and np.linalg.norm(pos - camera_xz) > radius + 0.4


def room(rng: np.random.Generator, camera_pos: np.ndarray, floor_kind: str | None = None) -> Place:
    """A room around the person and the camera: floor, walls (the camera inside), ceiling, items, furniture."""
    place = Place("room")
    cam_xz = camera_pos[[0, 2]]
    back = -cam_xz / max(np.linalg.norm(cam_xz), 1e-6)
    yaw0 = np.arctan2(back[0], back[1])
    yaw = yaw0 + rng.uniform(-0.6, 0.6)
    R = _frame(yaw)  # room frame: +z away from the camera (roughly), +x to the side
    c_local = R.T @ camera_pos
    z_back = rng.uniform(0.7, 4.5)
    z_front = min(c_local[2], -0.8) - rng.uniform(0.4, 2.0)
    x_left = min(c_local[0], -0.8) - rng.uniform(0.4, 3.0)
    x_right = max(c_local[0], 0.8) + rng.uniform(0.4, 3.0)
    height = max(rng.uniform(2.5, 3.6), camera_pos[1] + 0.4)
    floor_kind = floor_kind or str(rng.choice(["wood", "tiles", "carpet", "concrete", "lab"],
                                              p=[0.3, 0.2, 0.15, 0.15, 0.2]))
    floor_surface, floor_albedo = floor_material(rng, floor_kind, yaw)

    def world(x, y, z):
        return R @ np.array([x, y, z], np.float64)

    ex, ez = R[:, 0], R[:, 2]
    place.add(quad(world(x_left, FLOOR_Y, z_front), (x_right - x_left) * ex, (z_back - z_front) * ez), floor_surface,
              "floor")
    walls = [("back", world(x_left, 0, z_back), (x_right - x_left) * ex, True),
             ("left", world(x_left, 0, z_front), (z_back - z_front) * ez, False),
             ("right", world(x_right, 0, z_front), (z_back - z_front) * ez, False),
             ("front", world(x_left, 0, z_front), (x_right - x_left) * ex, True)]
    wall_surface, wall_albedo = wall_material(rng, ex)
    up = np.array([0.0, height, 0.0])
    skirting = _solid("skirting", np.full(3, rng.uniform(0.1, 0.9)), 0.1, 20, seed=int(rng.integers(2**31)))
    windows, lamps = [], []

    def on_wall(centre, along_x: bool, width: float, high: float, depth: float) -> trimesh.Trimesh:
        size = [width, high, depth] if along_x else [depth, high, width]
        return box(centre, size, yaw)

    for name, corner, span, along_x in walls:
        surface = wall_surface
        if name != "back" and rng.random() < 0.3:
            surface, _ = wall_material(rng, ez if not along_x else ex)
        place.add(quad(corner, span, up), surface, f"wall_{name}")
        length = float(np.linalg.norm(span))
        along = span / length
        inward = np.cross(up, along)
        inward /= np.linalg.norm(inward)
        if inward @ -(corner + span / 2) < 0:
            inward = -inward
        place.add(on_wall(corner + span / 2 + inward * 0.008 + [0, 0.045, 0], along_x, length, 0.09, 0.016),
                  skirting, "skirting")
        if name == "front":
            continue
        # wall items, left to right without overlaps
        cursor = rng.uniform(0.1, 0.8)
        while cursor < length - 0.6:
            kind = str(rng.choice(["whiteboard", "poster", "window", "door", "none"], p=[0.2, 0.3, 0.2, 0.1, 0.2]))
            w = {"whiteboard": rng.uniform(1.0, 2.5), "poster": rng.uniform(0.4, 1.2), "window": rng.uniform(0.8, 2.0),
                 "door": rng.uniform(0.8, 1.0), "none": rng.uniform(0.3, 1.5)}[kind]
            if cursor + w > length - 0.1:
                break
            h = {"whiteboard": rng.uniform(0.9, 1.2), "poster": rng.uniform(0.5, 1.2), "window": rng.uniform(1.0, 1.6),
                 "door": 2.05, "none": 0}[kind]
            y0 = {"whiteboard": rng.uniform(0.8, 1.0), "poster": rng.uniform(1.1, 1.5), "window": rng.uniform(0.8, 1.0),
                  "door": 0.0, "none": 0}[kind]
            c = corner + along * (cursor + w / 2) + np.array([0, y0 + h / 2, 0]) + inward * 0.012
            if kind == "whiteboard":
                place.add(on_wall(c, along_x, w, h, 0.02), _solid(
                    "whiteboard", np.full(3, rng.uniform(0.85, 0.97)), 0.4, 60, 0.04, int(rng.integers(2**31)), 0.5),
                    "whiteboard")
            elif kind == "poster":
                place.add(on_wall(c, along_x, w, h, 0.02), _poster(rng, c, along), "poster")
            elif kind == "window" and y0 + h < height - 0.1:
                place.add(on_wall(c, along_x, w, h, 0.02), _window(rng, c, along, (w, h)), "window")
                windows.append(-inward + np.array([0, 0.3, 0]))
            elif kind == "door":
                place.add(on_wall(c, along_x, w, h, 0.02), _solid(
                    "door", _hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.3, 0.9)), 0.1, 30,
                    seed=int(rng.integers(2**31))), "door")
            cursor += w + rng.uniform(0.2, 1.2)
    ceiling = _solid("ceiling", np.full(3, rng.uniform(0.8, 0.95)), 0.0, 4, 0.03, cast_shadow=False)
    place.add(quad(world(x_left, height, z_front), (x_right - x_left) * ex, (z_back - z_front) * ez), ceiling,
              "ceiling")
    for _ in range(int(rng.integers(1, 5))):  # lamp panels
        lx, lz = rng.uniform(x_left + 0.5, x_right - 0.5), rng.uniform(z_front + 0.5, z_back - 0.2)
        place.add(box(world(lx, height - 0.01, lz), [0.6, 0.02, 0.6], yaw),
                  _solid("lamp_panel", np.ones(3), 0.0, 4, 0.0, emission=rng.uniform(3.0, 6.0), cast_shadow=False),
                  "lamp")
        lamps.append(world(lx, height, lz) - np.array([0, 1.0, 0]))
    taken: list = []
    for _ in range(int(rng.integers(1, 8))):
        kind = str(rng.choice(FURNITURE, p=[0.18, 0.14, 0.16, 0.16, 0.08, 0.12, 0.06, 0.1]))
        for _try in range(6):  # along a wall, else anywhere free
            side = rng.random()
            if side < 0.5:
                local = np.array([rng.uniform(x_left + 0.4, x_right - 0.4), z_back - rng.uniform(0.3, 0.6)])
                fyaw = yaw + np.pi
            elif side < 0.75:
                local = np.array([x_left + rng.uniform(0.3, 0.6), rng.uniform(z_front + 0.5, z_back - 0.3)])
                fyaw = yaw + np.pi / 2
            else:
                local = np.array([x_right - rng.uniform(0.3, 0.6), rng.uniform(z_front + 0.5, z_back - 0.3)])
                fyaw = yaw - np.pi / 2
            pos = (R @ np.array([local[0], 0, local[1]]))[[0, 2]]
            radius = 0.5 if kind != "sofa" else 1.1
            if _free(pos, radius, taken, cam_xz):
                first = len(place.meshes)
                r = _furniture(place, rng, kind, pos, fyaw)
                near = min(float(np.linalg.norm(m.vertices[:, [0, 2]], axis=1).min()) for m in place.meshes[first:])
                if near < 0.45:  # larger than planned: it would stand in the person
                    place.truncate(first)
                    continue
                taken.append((pos, r))
                break
    place.light_hints = {"kind": "indoor", "floor": list(floor_albedo), "walls": list(wall_albedo),
                         "lamps": [list(v) for v in lamps],
                         "windows": [list(v) for v in windows]}
    place.params.update(floor=floor_surface.params, wall=wall_surface.params, height_m=_r(height),
                        extent_m=_r([x_right - x_left, z_back - z_front]), yaw_rad=_r(yaw))
    return place


def studio(rng: np.random.Generator, camera_pos: np.ndarray) -> Place:
    """A seamless backdrop: floor and back wall in one colour."""
    place = Place("studio")
    colour = (_hsv(rng.random(), rng.uniform(0, 0.08), rng.uniform(0.15, 0.95)) if rng.random() < 0.7
              else _hsv(rng.random(), rng.uniform(0.1, 0.45), rng.uniform(0.3, 0.9)))
    s = _solid("backdrop", colour, 0.01, 4, 0.05, int(rng.integers(2**31)), 0.8, cast_shadow=False)
    back = -camera_pos[[0, 2]] / max(np.linalg.norm(camera_pos[[0, 2]]), 1e-6)
    side = np.array([back[1], 0, -back[0]])
    b3 = np.array([back[0], 0, back[1]])
    dist = rng.uniform(1.0, 4.0)
    place.add(quad(-side * 12 - b3 * 12 + [0, FLOOR_Y, 0], side * 24, b3 * (12 + dist)), s, "floor")
    place.add(quad(-side * 12 + b3 * dist, side * 24, np.array([0, 8.0, 0])), s, "backdrop")
    place.light_hints = {"kind": "studio", "floor": list(colour), "walls": list(colour),
                         "lamps": [list(-b3 * 2 + side * rng.uniform(-3, 3) + [0, 2.5, 0]) for _ in range(2)]}
    place.params.update(colour=_r(colour), distance_m=_r(dist))
    return place


def outdoor(rng: np.random.Generator, camera_pos: np.ndarray) -> Place:
    """Ground to the horizon, buildings, trees, hedges, fences, benches and a sky with clouds."""
    place = Place("outdoor")
    kind = str(rng.choice(["grass", "asphalt", "paving", "sand", "concrete"], p=[0.3, 0.2, 0.25, 0.1, 0.15]))
    ground, ground_albedo = floor_material(rng, kind, rng.uniform(0, np.pi))
    place.add(quad([-60, FLOOR_Y, -60], [120, 0, 0], [0, 0, 120]), ground, "ground")
    cam_xz = camera_pos[[0, 2]]
    back = -cam_xz / max(np.linalg.norm(cam_xz), 1e-6)
    taken: list = []
    for _ in range(int(rng.integers(2, 9))):
        what = str(rng.choice(["building", "tree", "hedge", "fence", "bench", "car"], p=[0.3, 0.3, 0.1, 0.1, 0.1, 0.1]))
        ang = np.arctan2(back[0], back[1]) + rng.uniform(-1.2, 1.2)
        dist = {"building": rng.uniform(8, 35), "tree": rng.uniform(3, 25)}.get(what, rng.uniform(2.5, 12))
        pos = dist * np.array([np.sin(ang), np.cos(ang)])
        yaw = ang + rng.uniform(-0.3, 0.3)
        if not _free(pos, 1.0, taken, cam_xz):
            continue
        taken.append((pos, 1.0))
        seed = int(rng.integers(2**31))
        p3 = np.array([pos[0], 0, pos[1]])
        if what == "building":
            w, d, h = rng.uniform(8, 30), rng.uniform(6, 15), rng.uniform(6, 40)
            wall = _hsv(rng.uniform(0, 0.15), rng.uniform(0, 0.35), rng.uniform(0.35, 0.9))
            glass = _hsv(rng.uniform(0.5, 0.65), rng.uniform(0.1, 0.4), rng.uniform(0.15, 0.45))
            R = _frame(yaw)
            wx, wy = rng.uniform(1.5, 3.5), rng.uniform(2.8, 3.6)

            def facade(face, bary, world, fp, R=R, p3=p3, wall=wall, glass=glass, wx=wx, wy=wy, seed=seed):
                loc = (world - p3) @ R
                u = loc[:, 0] + loc[:, 2]
                fu, fy = (u / wx) % 1.0, (world[:, 1] / wy) % 1.0
                win = (fu > 0.2) & (fu < 0.8) & (fy > 0.3) & (fy < 0.85) & (world[:, 1] > 2.5)
                lit = cell_hash(np.floor(u / wx), np.floor(world[:, 1] / wy), seed)
                c = np.where(win[:, None], glass * (0.7 + 0.6 * lit)[:, None], wall)
                return np.clip(c * (0.9 + 0.2 * fbm(u * 0.5, world[:, 1] * 0.5, seed, 2))[:, None], 0, 1)

            place.add(box(p3 + [0, h / 2, 0], [w, h, d], yaw), Surface("facade", facade, 0.05, 20), "building")
        elif what == "tree":
            r = rng.uniform(1.2, 3.5)
            trunk_h = rng.uniform(1.5, 3.0)
            place.add(cylinder(p3 + [0, trunk_h / 2, 0], rng.uniform(0.1, 0.3), trunk_h, 10),
                      _solid("bark", _hsv(0.07, 0.4, rng.uniform(0.15, 0.35)), 0.02, 4, 0.2, seed, 0.1), "tree")
            leaf = _hsv(rng.uniform(0.18, 0.33), rng.uniform(0.4, 0.8), rng.uniform(0.15, 0.5))
            place.add(blob(p3 + [0, trunk_h + r * 0.8, 0], r, rng, 3),
                      _solid("foliage", leaf, 0.03, 8, 0.4, seed, 0.15), "tree")
        elif what == "hedge":
            leaf = _hsv(rng.uniform(0.2, 0.33), rng.uniform(0.4, 0.8), rng.uniform(0.15, 0.45))
            place.add(box(p3 + [0, 0.6, 0], [rng.uniform(2, 8), 1.2, 0.8], yaw),
                      _solid("hedge", leaf, 0.02, 6, 0.4, seed, 0.08), "hedge")
        elif what == "fence":
            c = _hsv(rng.random(), rng.uniform(0, 0.4), rng.uniform(0.2, 0.9))
            place.add(box(p3 + [0, 0.5, 0], [rng.uniform(3, 10), 1.0, 0.05], yaw),
                      _solid("fence", c, 0.1, 20, seed=seed), "fence")
        elif what == "bench":
            place.add(box(p3 + [0, 0.45, 0], [1.6, 0.06, 0.45], yaw),
                      _solid("wood", _hsv(0.08, 0.5, rng.uniform(0.3, 0.7)), 0.05, 20, seed=seed), "bench")
            place.add(box(p3 + [0, 0.22, 0], [1.4, 0.44, 0.1], yaw), _solid("metal", np.full(3, 0.3), 0.3, 40), "bench")
        else:
            c = _hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.1, 0.9))
            place.add(box(p3 + [0, 0.55, 0], [4.2, 0.8, 1.8], yaw), _solid("car", c, 0.5, 60, 0.03, seed), "car")
            place.add(box(p3 + [0, 1.2, 0], [2.2, 0.55, 1.6], yaw),
                      _solid("car_glass", np.full(3, 0.08), 0.8, 80), "car")
    seed = int(rng.integers(2**31))
    zenith = _hsv(rng.uniform(0.55, 0.62), rng.uniform(0.3, 0.7), 1.0)
    horizon = _hsv(rng.uniform(0.55, 0.6), rng.uniform(0.05, 0.2), 1.0)
    clouds = rng.uniform(0.0, 0.8)
    brightness = rng.uniform(1.2, 2.5)

    def sky(d):
        up = np.clip(d[:, 1], 0, 1)
        c = horizon[None] * (1 - up[:, None] ** 0.5) + zenith[None] * up[:, None] ** 0.5
        q = d[:, [0, 2]] / np.maximum(d[:, 1:2] + 0.15, 0.05)
        cl = smoothstep(1 - clouds, 1.0, fbm(q[:, 0] * 1.5, q[:, 1] * 1.5, seed, 4))
        c = c * (1 - cl[:, None]) + np.array([0.95, 0.95, 0.97]) * cl[:, None]
        return (c ** 2.2) * brightness

    place.sky = sky
    place.light_hints = {"kind": "outdoor", "floor": list(ground_albedo)}
    place.params.update(ground=ground.params, clouds=_r(clouds), sky_brightness=_r(brightness))
    return place


def add_occluder(place: Place, rng: np.random.Generator, camera_pos: np.ndarray) -> None:
    """Put an object between the camera and the person: a box, table, chair, plant or pillar."""
    cam_xz = camera_pos[[0, 2]]
    dist = np.linalg.norm(cam_xz)
    t = rng.uniform(0.3, 0.65)
    side = np.array([cam_xz[1], -cam_xz[0]]) / max(dist, 1e-6)
    pos = cam_xz * t + side * rng.uniform(-0.45, 0.45)
    if np.linalg.norm(pos) < 0.6 or np.linalg.norm(pos - cam_xz) < 0.5:
        pos = cam_xz * 0.55
    kind = str(rng.choice(["boxes", "table", "chair", "plant", "pillar"], p=[0.25, 0.25, 0.2, 0.15, 0.15]))
    yaw = rng.uniform(-np.pi, np.pi)
    if kind == "pillar":
        w = rng.uniform(0.15, 0.4)
        colour = _hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.3, 0.95))
        place.add(box([pos[0], 1.5, pos[1]], [w, 3.0, w], yaw), _solid("pillar", colour, 0.05, 10,
                                                                      seed=int(rng.integers(2**31))),
                  "pillar", occluder=True)
    else:
        _furniture(place, rng, kind, pos, yaw, occluder=True)
    place.params["occluder"] = {"kind": kind, "position_m": _r(pos)}


def list_background_images(folder) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"background folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"))
    if not files:
        raise FileNotFoundError(f"background folder {folder} holds no .png/.jpg/.jpeg/.bmp/.webp images")
    return files


def photo(rng: np.random.Generator, height: int, width: int, images: list[Path]) -> Place:
    """A random crop (scaled 1-1.5x, always covering the frame) of one of the user's images."""
    from PIL import Image

    path = images[int(rng.integers(len(images)))]
    with Image.open(path) as im:
        im = im.convert("RGB")
        scale = max(width / im.width, height / im.height) * rng.uniform(1.0, 1.5)
        im = im.resize((max(width, round(im.width * scale)), max(height, round(im.height * scale))), Image.BILINEAR)
        x0 = int(rng.integers(0, im.width - width + 1))
        y0 = int(rng.integers(0, im.height - height + 1))
        img = np.asarray(im.crop((x0, y0, x0 + width, y0 + height)), np.uint8).copy()
    place = Place("photo", image=img)
    mean = img.reshape(-1, 3).mean(0) / 255.0
    place.light_hints = {"kind": "photo", "floor": list(mean * 0.8), "walls": list(mean), "image_mean": list(mean)}
    place.params.update(image=path.name, crop=[x0, y0], scale=_r(scale))
    return place


PLACE_KINDS = ("room", "outdoor", "studio")


def sample_place(rng: np.random.Generator, camera_pos: np.ndarray, resolution: tuple[int, int],
                 images: list[Path] | None = None, occluder_prob: float = 0.0) -> Place:
    """A place around the person (origin) that the camera at ``camera_pos`` (world) stands in."""
    kinds = ["room", "outdoor", "studio"] + (["photo"] if images else [])
    probs = [0.58, 0.28, 0.14] if not images else [0.3, 0.14, 0.06, 0.5]
    kind = str(rng.choice(kinds, p=probs))
    if kind == "photo":
        place = photo(rng, resolution[0], resolution[1], images)
    elif kind == "room":
        place = room(rng, camera_pos)
    elif kind == "outdoor":
        place = outdoor(rng, camera_pos)
    else:
        place = studio(rng, camera_pos)
    if kind != "photo" and rng.random() < occluder_prob:
        add_occluder(place, rng, camera_pos)
    place.params["kind"] = kind
    place.params["license"] = LICENSE
    return place

"""Places to stand in: rooms, outdoor ground under a sky, studios, or the user's photographs.

A :class:`Place` is geometry around the person (world frame: metres, +Y up, the person at the origin standing
on y = 0): a floor a millimetre below the soles, walls, a ceiling with lamp panels, wall items (whiteboards,
posters, windows, doors, skirting boards, shelves), furniture-like objects (tables, chairs, cabinets, cardboard
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

from humandepth.render.place_parts import (
    FURNITURE,
    blob,
    box,
    cylinder,
    floor_material,
    furniture,
    hsv,
    poster,
    quad,
    rounded,
    solid,
    wall_material,
    window,
    yaw_frame,
)
from humandepth.render.surface import Surface
from humandepth.render.texture import cell_hash, fbm, smoothstep

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
    R = yaw_frame(yaw)  # room frame: +z away from the camera (roughly), +x to the side
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
    skirting = (np.full(3, rng.uniform(0.1, 0.9)), rng.uniform(0.06, 0.12)) if rng.random() < 0.7 else None
    wall_surface, wall_albedo = wall_material(rng, ex, skirting)
    up = np.array([0.0, height, 0.0])
    windows, lamps = [], []

    def on_wall(centre, along_x: bool, width: float, high: float, depth: float) -> trimesh.Trimesh:
        size = [width, high, depth] if along_x else [depth, high, width]
        return box(centre, size, yaw)

    for name, corner, span, along_x in walls:
        surface = wall_surface
        if name != "back" and rng.random() < 0.3:
            surface, _ = wall_material(rng, ez if not along_x else ex, skirting)
        place.add(quad(corner, span, up), surface, f"wall_{name}")
        length = float(np.linalg.norm(span))
        along = span / length
        inward = np.cross(up, along)
        inward /= np.linalg.norm(inward)
        if inward @ -(corner + span / 2) < 0:
            inward = -inward
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
                place.add(on_wall(c, along_x, w, h, 0.02), solid(
                    "whiteboard", np.full(3, rng.uniform(0.85, 0.97)), 0.4, 60, 0.04, int(rng.integers(2**31)), 0.5),
                    "whiteboard")
            elif kind == "poster":
                place.add(on_wall(c, along_x, w, h, 0.02), poster(rng, c, along), "poster")
            elif kind == "window" and y0 + h < height - 0.1:
                place.add(on_wall(c, along_x, w, h, 0.02), window(rng, c, along, (w, h)), "window")
                windows.append(-inward + np.array([0, 0.3, 0]))
            elif kind == "door":
                place.add(on_wall(c, along_x, w, h, 0.02), solid(
                    "door", hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.3, 0.9)), 0.1, 30,
                    seed=int(rng.integers(2**31))), "door")
            cursor += w + rng.uniform(0.2, 1.2)
    ceiling = solid("ceiling", np.full(3, rng.uniform(0.8, 0.95)), 0.0, 4, 0.03, cast_shadow=False)
    place.add(quad(world(x_left, height, z_front), (x_right - x_left) * ex, (z_back - z_front) * ez), ceiling,
              "ceiling")
    for _ in range(int(rng.integers(1, 5))):  # lamp panels
        lx, lz = rng.uniform(x_left + 0.5, x_right - 0.5), rng.uniform(z_front + 0.5, z_back - 0.2)
        place.add(box(world(lx, height - 0.01, lz), [0.6, 0.02, 0.6], yaw),
                  solid("lamp_panel", np.ones(3), 0.0, 4, 0.0, emission=rng.uniform(3.0, 6.0), cast_shadow=False),
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
                r = furniture(place, rng, kind, pos, fyaw)
                near = min(float(np.linalg.norm(m.vertices[:, [0, 2]], axis=1).min()) for m in place.meshes[first:])
                if near < 0.45:  # larger than planned: it would stand in the person
                    place.truncate(first)
                    continue
                taken.append((pos, r))
                break
    place.light_hints = {"kind": "indoor", "floor": list(floor_albedo**2.2), "walls": list(wall_albedo**2.2),
                         "lamps": [list(v) for v in lamps],
                         "windows": [list(v) for v in windows]}
    place.params.update(floor=floor_surface.params, wall=wall_surface.params, height_m=rounded(height),
                        extent_m=rounded([x_right - x_left, z_back - z_front]), yaw_rad=rounded(yaw))
    return place


def studio(rng: np.random.Generator, camera_pos: np.ndarray) -> Place:
    """A seamless backdrop: floor and back wall in one colour."""
    place = Place("studio")
    colour = (hsv(rng.random(), rng.uniform(0, 0.08), rng.uniform(0.15, 0.95)) if rng.random() < 0.8
              else hsv(rng.random(), rng.uniform(0.1, 0.35), rng.uniform(0.3, 0.9)))
    s = solid("backdrop", colour, 0.01, 4, 0.05, int(rng.integers(2**31)), 0.8, cast_shadow=False)
    back = -camera_pos[[0, 2]] / max(np.linalg.norm(camera_pos[[0, 2]]), 1e-6)
    side = np.array([back[1], 0, -back[0]])
    b3 = np.array([back[0], 0, back[1]])
    dist = rng.uniform(1.0, 4.0)
    place.add(quad(-side * 12 - b3 * 12 + [0, FLOOR_Y, 0], side * 24, b3 * (12 + dist)), s, "floor")
    place.add(quad(-side * 12 + b3 * dist, side * 24, np.array([0, 8.0, 0])), s, "backdrop")
    place.light_hints = {"kind": "studio", "floor": list(colour**2.2), "walls": list(colour**2.2),
                         "lamps": [list(-b3 * 2 + side * rng.uniform(-3, 3) + [0, 2.5, 0]) for _ in range(2)]}
    place.params.update(colour=rounded(colour), distance_m=rounded(dist))
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
            wall = hsv(rng.uniform(0, 0.15), rng.uniform(0, 0.35), rng.uniform(0.35, 0.9))
            glass = hsv(rng.uniform(0.5, 0.65), rng.uniform(0.1, 0.4), rng.uniform(0.15, 0.45))
            R = yaw_frame(yaw)
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
                      solid("bark", hsv(0.07, 0.4, rng.uniform(0.15, 0.35)), 0.02, 4, 0.2, seed, 0.1), "tree")
            leaf = hsv(rng.uniform(0.18, 0.33), rng.uniform(0.4, 0.8), rng.uniform(0.15, 0.5))
            place.add(blob(p3 + [0, trunk_h + r * 0.8, 0], r, rng, 3),
                      solid("foliage", leaf, 0.03, 8, 0.4, seed, 0.15), "tree")
        elif what == "hedge":
            leaf = hsv(rng.uniform(0.2, 0.33), rng.uniform(0.4, 0.8), rng.uniform(0.15, 0.45))
            place.add(box(p3 + [0, 0.6, 0], [rng.uniform(2, 8), 1.2, 0.8], yaw),
                      solid("hedge", leaf, 0.02, 6, 0.4, seed, 0.08), "hedge")
        elif what == "fence":
            c = hsv(rng.random(), rng.uniform(0, 0.4), rng.uniform(0.2, 0.9))
            place.add(box(p3 + [0, 0.5, 0], [rng.uniform(3, 10), 1.0, 0.05], yaw),
                      solid("fence", c, 0.1, 20, seed=seed), "fence")
        elif what == "bench":
            place.add(box(p3 + [0, 0.45, 0], [1.6, 0.06, 0.45], yaw),
                      solid("wood", hsv(0.08, 0.5, rng.uniform(0.3, 0.7)), 0.05, 20, seed=seed), "bench")
            place.add(box(p3 + [0, 0.22, 0], [1.4, 0.44, 0.1], yaw), solid("metal", np.full(3, 0.3), 0.3, 40), "bench")
        else:
            c = hsv(rng.random(), rng.uniform(0, 0.8), rng.uniform(0.1, 0.9))
            place.add(box(p3 + [0, 0.55, 0], [4.2, 0.8, 1.8], yaw), solid("car", c, 0.5, 60, 0.03, seed), "car")
            place.add(box(p3 + [0, 1.2, 0], [2.2, 0.55, 1.6], yaw),
                      solid("car_glass", np.full(3, 0.08), 0.8, 80), "car")
    seed = int(rng.integers(2**31))
    zenith = hsv(rng.uniform(0.55, 0.62), rng.uniform(0.3, 0.7), 1.0)
    horizon = hsv(rng.uniform(0.55, 0.6), rng.uniform(0.05, 0.2), 1.0)
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
    place.light_hints = {"kind": "outdoor", "floor": list(ground_albedo**2.2)}
    place.params.update(ground=ground.params, clouds=rounded(clouds), sky_brightness=rounded(brightness))
    return place


MAX_HIDDEN = 0.5  # an occluder may hide at most this fraction of the person's points from the camera


def hidden_fraction(points: np.ndarray, eye: np.ndarray, meshes: list) -> float:
    """Fraction of ``points`` (N, 3) whose straight line to ``eye`` (3,) passes through one of ``meshes``
    (world frame; exact segment-triangle tests in float64, so the same on every machine)."""
    points = np.asarray(points, np.float64)
    if len(points) == 0:
        return 0.0
    d = np.asarray(eye, np.float64)[None] - points  # (N, 3) segment directions, t in (0, 1)
    hit = np.zeros(len(points), bool)
    for mesh in meshes:
        v = np.asarray(mesh.vertices, np.float64)
        lo, hi = v.min(0), v.max(0)
        # segments whose bounding box misses the mesh's cannot cross it
        near = ~hit & (np.minimum(points, points + d) <= hi).all(1) & (np.maximum(points, points + d) >= lo).all(1)
        if not near.any():
            continue
        tri = v[np.asarray(mesh.faces)]
        p0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]  # (F, 3)
        o, r = points[near][:, None], d[near][:, None]  # (M, 1, 3)
        pvec = np.cross(r, e2[None])
        det = np.einsum("fk,mfk->mf", e1, pvec)
        ok = np.abs(det) > 1e-12
        inv = 1.0 / np.where(ok, det, 1.0)
        tvec = o - p0[None]
        b1 = np.einsum("mfk,mfk->mf", tvec, pvec) * inv
        qvec = np.cross(tvec, e1[None])
        b2 = np.einsum("mk,mfk->mf", r[:, 0], qvec) * inv
        t = np.einsum("fk,mfk->mf", e2, qvec) * inv
        crosses = ok & (b1 >= 0) & (b2 >= 0) & (b1 + b2 <= 1) & (t > 1e-9) & (t < 1.0)
        hit[np.flatnonzero(near)[crosses.any(1)]] = True
    return float(hit.mean())


def add_occluder(place: Place, rng: np.random.Generator, camera_pos: np.ndarray,
                 person_points: np.ndarray | None = None) -> None:
    """Put an object between the camera and the person that hides part of them: a box, a table or a chair
    (the legs and more), or a narrow pillar to one side.  It stands 15-45 % of the way from the person to the
    camera, so it looks at most about 1.8 times its own size next to the person.

    With ``person_points`` (N, 3 world: points on the person), the object is taken away again when the lines of
    sight from more than ``MAX_HIDDEN`` of them to the camera cross it: the person always stays in view.  The
    kept occluder is recorded as ``params["occluder"]`` (with ``hides_fraction``), one taken away as
    ``params["occluder_removed"]``."""
    first = len(place.meshes)
    cam_xz = camera_pos[[0, 2]]
    dist = np.linalg.norm(cam_xz)
    t = rng.uniform(0.15, 0.45)
    side = np.array([cam_xz[1], -cam_xz[0]]) / max(dist, 1e-6)
    kind = str(rng.choice(["box", "table", "chair", "pillar"], p=[0.3, 0.3, 0.2, 0.2]))
    offset = rng.uniform(-0.35, 0.35) if kind != "pillar" else rng.choice([-1.0, 1.0]) * rng.uniform(0.15, 0.4)
    pos = cam_xz * t + side * offset
    if np.linalg.norm(pos) < 0.45 or np.linalg.norm(pos - cam_xz) < 0.5:
        pos = cam_xz * 0.4
    yaw = rng.uniform(-np.pi, np.pi)
    seed = int(rng.integers(2**31))
    if kind == "pillar":
        w = rng.uniform(0.12, 0.3)
        colour = hsv(rng.random(), rng.uniform(0, 0.3), rng.uniform(0.3, 0.95))
        place.add(box([pos[0], 1.5, pos[1]], [w, 3.0, w], yaw), solid("pillar", colour, 0.05, 10, seed=seed),
                  "pillar", occluder=True)
    elif kind == "box":
        size = [rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.5)]
        colour = hsv(rng.uniform(0.07, 0.1), rng.uniform(0.35, 0.55), rng.uniform(0.5, 0.75)) if rng.random() < 0.6 \
            else hsv(rng.random(), rng.uniform(0, 0.5), rng.uniform(0.2, 0.9))
        place.add(box([pos[0], size[1] / 2, pos[1]], size, yaw), solid("box", colour, 0.03, 8, 0.05, seed, 0.1),
                  "box", occluder=True)
    else:
        furniture(place, rng, kind, pos, yaw, occluder=True)
    info = {"kind": kind, "position_m": rounded(pos), "fraction_to_camera": rounded(t)}
    if person_points is not None:
        info["hides_fraction"] = rounded(hidden_fraction(person_points, camera_pos, place.meshes[first:]))
        if info["hides_fraction"] > MAX_HIDDEN:
            place.truncate(first)
            place.params["occluder_removed"] = info
            return
    place.params["occluder"] = info


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
    place.light_hints = {"kind": "photo", "floor": list((mean * 0.8)**2.2), "walls": list(mean**2.2),
                         "image_mean": list(mean)}
    place.params.update(image=path.name, crop=[x0, y0], scale=rounded(scale))
    return place


PLACE_KINDS = ("room", "outdoor", "studio")


def sample_place(rng: np.random.Generator, camera_pos: np.ndarray, resolution: tuple[int, int],
                 images: list[Path] | None = None, occluder_prob: float = 0.0,
                 person_points: np.ndarray | None = None) -> Place:
    """A place around the person (origin) that the camera at ``camera_pos`` (world) stands in; ``person_points``
    (N, 3 world points on the person) keep an occluder from hiding most of the person (:func:`add_occluder`)."""
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
        add_occluder(place, rng, camera_pos, person_points)
    place.params["kind"] = kind
    place.params["license"] = LICENSE
    return place

"""Garments with real geometry, built on the posed body: tops, trousers/shorts, skirts, dresses, jackets.

Fitted garments (tops, sleeves, trousers, shorts, the jacket layer) are *offset surfaces*: the body is
subdivided once (edge midpoints, ~0.7 cm spacing), the vertices a garment covers are chosen by rest-pose
coordinates (:mod:`humandepth.render.body`: how far along the arm or leg, how high on the torso, the angle
around), and each is pushed out along the body normal by an offset made of

- ``clearance + thickness`` (the layers underneath are added first, so layers never swap),
- ease: ``looseness`` growing from the hanging points (shoulders, waist) toward the hems,
- drape folds: vertical folds around the torso / legs / sleeves whose amplitude grows toward the hem
  (loose garments),
- compression folds: ripples across the limb at the elbows and knees, stronger on the inner side and with the
  joint's bend, and around the waist,
- fine noise: a sum of random short-wavelength sinusoids (~1 mm),
- hems, cuffs and collars as real steps: a band near every opening is thicker, and every opening ends in a
  wall that goes back down to the layer underneath.

Every displacement is non-negative.  Afterwards every garment vertex is tested against the closed body
surface (ray parity, confirmed by the side of the closest body surface it lies on); the ones inside
(concave places such as armpits, creases where skinning folds the skin)
are moved out to the clearance, and the faces of any vertex that still cannot get out (fabric squeezed inside
a limb resting on the torso, which no camera can see) are removed.  The counts are recorded
(``vertices_moved_out_of_body``, ``faces_removed_inside_body``, ``inside_vertices`` = 0 by construction).

Skirts (and the skirt of a dress) hang instead of following the legs: rings from the waist down whose radius
in each direction is the largest body extent above that ring plus ease and flare, with drape folds.

Every sampled parameter is recorded in :attr:`Garment.params`.  All geometry is procedural (no assets), so
the licence is the project's own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from humandepth.render.body import PART, BodyInstance
from humandepth.render.collision import _scene
from humandepth.render.raster import vertex_normals

LICENSE = {"id": "humandepth-procedural-garments", "source": "humandepth.render.garments (procedural)",
           "license": "Apache-2.0", "attribution": "humandepth"}

# garment type -> layer (innermost first); footwear goes on before trousers so trouser legs fall over it
GARMENT_LAYER = {"socks": -2, "sneakers": -1, "boots": -1, "flats": -1, "trousers": 0, "shorts": 0, "tshirt": 1,
                 "longsleeve": 1, "tank": 1, "dress": 1, "skirt": 2, "jacket": 3, "cap": 5, "hood": 5}
FOOTWEAR = ("socks", "sneakers", "boots", "flats")
HEADWEAR = ("cap", "hood")
CLEARANCE = 0.002  # metres between the skin and the innermost garment
LAYER_GAP = 0.002  # metres between stacked garments


@dataclass
class Garment:
    """One garment: a mesh in the world frame with per-face part labels and its parameters."""

    name: str
    mesh: trimesh.Trimesh
    face_parts: np.ndarray
    params: dict = field(default_factory=dict)
    kept_vertices: np.ndarray | None = None  # which of the built vertices survived the inside-the-body check
    rest: np.ndarray | None = None  # (V, 3) rest-pose position under each vertex (textures follow the body)
    convexity: np.ndarray | None = None  # (V,) metres above (+, ridges) or below (-, creases) the neighbours


class DenseBody:
    """The body subdivided once (every edge split at its midpoint); topology cached per body model."""

    _topology: dict = {}
    _labels: dict = {}

    def __init__(self, body: BodyInstance):
        key = (body.faces.shape, int(body.faces[:50].sum()), len(body.vertices))
        if key not in DenseBody._topology:
            DenseBody._topology[key] = _subdivision_topology(body.faces)
        edges, faces, face_parent, self.face_edges, self.edge_faces = DenseBody._topology[key]
        a, b = edges[:, 0], edges[:, 1]
        self.edges, self.faces, self.face_parent = edges, faces, face_parent
        self.base_faces = body.faces
        base_n = _body_normals(body)
        self.vertices = np.concatenate([body.vertices, 0.5 * (body.vertices[a] + body.vertices[b])])
        n = np.concatenate([base_n, base_n[a] + base_n[b]])
        self.normals = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
        self.rest = np.concatenate([body.rest_vertices, 0.5 * (body.rest_vertices[a] + body.rest_vertices[b])])
        labels_key = (key, id(body.coords), id(body.vertex_parts))
        if labels_key not in DenseBody._labels:  # part labels and rest coordinates are fixed per body model
            coords = {}
            for k, v in body.coords.items():
                if k == "around":
                    c = np.cos(v[a]) + np.cos(v[b])
                    s = np.sin(v[a]) + np.sin(v[b])
                    coords[k] = np.concatenate([v, np.arctan2(s, c)])
                else:  # a midpoint between a limb and the torso keeps the limb's coordinate
                    va, vb = v[a], v[b]
                    mid = np.where(np.isnan(va), vb, np.where(np.isnan(vb), va, 0.5 * (va + vb)))
                    coords[k] = np.concatenate([v, mid])
            DenseBody._labels[labels_key] = (np.concatenate([body.vertex_parts, body.vertex_parts[a]]), coords,
                                             body.coords, body.vertex_parts)
        self.parts, self.coords = DenseBody._labels[labels_key][:2]
        self.under = np.zeros(len(self.vertices))  # outer offset of what is already worn, per vertex


def _subdivision_topology(faces: np.ndarray):
    nv = int(faces.max()) + 1
    pairs = np.sort(faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    edges, inverse = np.unique(pairs, axis=0, return_inverse=True)
    mid = nv + inverse.reshape(-1, 3)
    a, b, c = faces.T
    m01, m12, m20 = mid.T
    new = np.concatenate([np.stack([a, m01, m20], 1), np.stack([m01, b, m12], 1),
                          np.stack([m20, m12, c], 1), np.stack([m01, m12, m20], 1)])
    parent = np.tile(np.arange(len(faces)), 4)
    new = new.astype(np.int64)
    # the dense mesh's own edges: each face's three edge ids and each edge's (up to two) faces
    dpairs = np.sort(new[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2), axis=1)
    _, dinv = np.unique(dpairs, axis=0, return_inverse=True)
    face_edges = dinv.reshape(-1, 3)
    edge_faces = np.full((int(dinv.max()) + 1, 2), -1, np.int64)
    order = np.argsort(dinv, kind="stable")
    sorted_edges = dinv[order]
    first = np.r_[True, sorted_edges[1:] != sorted_edges[:-1]]
    owner = order // 3
    edge_faces[sorted_edges[first], 0] = owner[first]
    edge_faces[sorted_edges[~first], 1] = owner[~first]
    return edges, new, parent, face_edges, edge_faces


def _noise(rng: np.random.Generator, points: np.ndarray, wavelength: tuple[float, float], n: int = 8) -> np.ndarray:
    """Smooth noise in [0, 1] from ``n`` random plane waves with wavelengths in ``wavelength`` (metres)."""
    dirs = rng.normal(size=(n, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    k = 2 * np.pi / rng.uniform(*wavelength, size=n)
    phase = rng.uniform(0, 2 * np.pi, size=n)
    return 0.5 + 0.5 * np.sin(points @ (dirs * k[:, None]).T + phase).mean(axis=1) * np.sqrt(2.0)


def _ripple(rng: np.random.Generator, x: np.ndarray, wavelength: float, around: np.ndarray) -> np.ndarray:
    """Folds across a coordinate ``x`` (metres), phase wobbling with the angle around: values in [0, 1]."""
    wobble = sum(rng.uniform(-0.6, 0.6) * np.sin(k * around + rng.uniform(0, 2 * np.pi)) for k in (1, 2, 3))
    return 0.5 + 0.5 * np.sin(2 * np.pi * x / wavelength + wobble)


def _window(x: np.ndarray, centre: float, width: float) -> np.ndarray:
    return np.exp(-(((x - centre) / width) ** 2))


def _bend(pose: dict, joint: str) -> float:
    return float(np.clip(abs(pose.get(joint, (0.0, 0.0, 0.0))[0]) / 90.0, 0.0, 1.5))


def sample_outfit(rng: np.random.Generator, kinds: tuple[str, ...] | None = None) -> list[dict]:
    """Sample an outfit: a list of garment specs (type + shape parameters), innermost first."""
    outfit: list[dict] = []
    if kinds:
        choice = list(kinds)
    else:
        if rng.random() < 0.15:
            choice = ["dress"]
        else:
            choice = [str(rng.choice(["tshirt", "longsleeve", "tank"], p=[0.45, 0.4, 0.15])),
                      str(rng.choice(["trousers", "shorts", "skirt"], p=[0.55, 0.25, 0.2]))]
            if choice[0] != "tank" and rng.random() < 0.3:
                choice.append("jacket")
        if rng.random() < 0.93:
            choice.append(str(rng.choice(["sneakers", "boots", "flats"], p=[0.6, 0.2, 0.2])))
            if rng.random() < 0.6 and "trousers" not in choice:  # under trousers socks would not be seen
                choice.append("socks")
        headwear = rng.random()
        if headwear < 0.07:
            choice.append("cap")
        elif headwear < 0.11 and ("longsleeve" in choice or "jacket" in choice):
            choice.append("hood")
    order = GARMENT_LAYER
    unknown = [c for c in choice if c not in order]
    if unknown:
        raise ValueError(f"unknown garment type(s) {unknown}; known: {sorted(order)}")
    from humandepth.render.footwear import sample_footwear_spec
    from humandepth.render.hair import sample_headwear_spec

    for kind in sorted(choice, key=lambda c: order[c]):
        if kind in FOOTWEAR:
            outfit.append(sample_footwear_spec(rng, kind))
        elif kind in HEADWEAR:
            tops = [g["look"] for g in outfit if g["type"] in ("jacket", "longsleeve")]
            outfit.append(sample_headwear_spec(rng, kind, tops[-1] if tops else None))
        else:
            outfit.append(_sample_spec(rng, kind, choice))
    return outfit


def _sample_spec(rng: np.random.Generator, kind: str, outfit: list[str]) -> dict:
    u = rng.uniform
    spec: dict = {"type": kind, "thickness_m": round(u(0.0015, 0.004), 5), "looseness_m": round(u(0.0, 0.03), 5),
                  "fold_amplitude_m": round(u(0.003, 0.012), 5), "fold_wavelength_m": round(u(0.025, 0.05), 5),
                  "drape_folds": int(rng.integers(5, 12)), "noise_amplitude_m": round(u(0.0005, 0.0015), 5),
                  "hem_band_m": round(u(0.015, 0.035), 5), "hem_step_m": round(u(0.0015, 0.004), 5),
                  "seed": int(rng.integers(2**31))}
    from humandepth.render.appearance import sample_garment_look

    spec["look"] = sample_garment_look(rng, kind)
    tucked = "skirt" in outfit
    if kind in ("tshirt", "longsleeve", "tank", "dress", "jacket"):
        spec["hem_h"] = round(u(0.3, 0.42) if tucked or kind == "dress" else u(-0.05, 0.25), 4)
        spec["sleeve_s"] = round({"tshirt": u(0.25, 0.45), "longsleeve": u(0.88, 0.97), "tank": -1.0,
                                  "dress": u(-1.0, 0.35), "jacket": u(0.9, 0.98)}[kind], 4)
        spec["neck_h"] = round(u(0.9, 0.97), 4)
        spec["neck_drop"] = round(u(0.02, 0.2), 4)
        spec["neck_half_width_m"] = round(u(0.07, 0.11), 4)
        spec["collar_m"] = round(u(0.003, 0.007), 5) if kind in ("jacket", "longsleeve") else 0.0
        if kind == "jacket":
            spec["hem_h"] = round(u(0.43, 0.5) if tucked else u(-0.1, 0.15), 4)  # cropped over a skirt
            spec["open_front_rad"] = round(u(0.0, 0.45), 4)
            spec["looseness_m"] = round(u(0.01, 0.035), 5)
            spec["thickness_m"] = round(u(0.006, 0.012), 5)
    if kind in ("trousers", "shorts"):
        spec["waist_h"] = round(u(0.25, 0.42), 4)
        spec["leg_s"] = round(u(0.9, 0.98) if kind == "trousers" else u(0.25, 0.55), 4)
    if kind in ("skirt", "dress"):
        spec["waist_h"] = round(u(0.3, 0.42), 4)
        spec["skirt_length_s"] = round(u(0.15, 0.85), 4)  # down the leg, 0 = hip joint, 1 = ankle
        spec["flare"] = round(u(0.0, 0.35), 4)
        if kind == "dress":  # the bodice ends just below where the skirt hangs from
            spec["hem_h"] = round(spec["waist_h"] - 0.03, 4)
        spec["drape_amplitude"] = round(u(0.02, 0.08), 4)
    return spec


def build_outfit(body: BodyInstance, outfit: list[dict], rng: np.random.Generator, hair: dict | None = None,
                 scene=None):
    """Build every garment of ``outfit`` on ``body`` (innermost first) and the ``hair`` (a
    :func:`humandepth.render.hair.sample_hair_spec`, built after the clothes and before head coverings).
    ``scene``: the body's ray-casting scene (:func:`humandepth.render.collision._scene`) if the caller has one.

    Returns ``(garments, check summary, hair)`` with ``hair`` the :func:`humandepth.render.hair.build_hair`
    tuple or None.
    """
    from humandepth.render.footwear import build_footwear
    from humandepth.render.hair import build_hair, build_headwear

    dense = DenseBody(body)
    scene = _scene(body.vertices, body.faces) if scene is None else scene
    pose = body.params.get("pose_deg", {})
    garments = []
    hair_out = None
    pending_hair = hair is not None
    for spec in outfit:
        g_rng = np.random.default_rng(spec["seed"])
        kind = spec["type"]
        if pending_hair and GARMENT_LAYER[kind] >= GARMENT_LAYER["cap"]:
            hair_out, pending_hair = build_hair(dense, body, hair, scene), False
        if kind in FOOTWEAR:
            garments.append(build_footwear(dense, body, spec, scene))
        if kind in HEADWEAR:
            garments.append(build_headwear(dense, body, spec, scene))
        if kind in ("tshirt", "longsleeve", "tank", "jacket", "dress"):
            garments.append(_fitted(dense, body, spec, g_rng, pose, "upper", scene))
        if kind in ("trousers", "shorts"):
            garments.append(_fitted(dense, body, spec, g_rng, pose, "lower", scene))
        if kind in ("skirt", "dress"):
            garments.append(_skirt(dense, body, spec, g_rng, scene))
    if pending_hair:
        hair_out = build_hair(dense, body, hair, scene)
    inside = sum(g.params["inside_vertices"] for g in garments)
    moved = sum(g.params["vertices_moved_out_of_body"] for g in garments)
    removed = sum(g.params["faces_removed_inside_body"] for g in garments)
    return garments, {"inside_vertices": inside, "vertices_moved_out_of_body": moved,
                      "faces_removed_inside_body": removed,
                      "test": "every garment vertex: ray parity, confirmed by the closest body surface's side"}, \
        hair_out


def _closest(scene, body: BodyInstance, points: np.ndarray):
    """Signed distance of ``points`` to the body (negative inside) with the closest points, the smooth
    (interpolated vertex) normal there, and the closest body face."""
    import open3d as o3d

    ans = scene.compute_closest_points(o3d.core.Tensor(np.ascontiguousarray(points, np.float32)))
    closest = ans["points"].numpy().astype(np.float64)
    prim = ans["primitive_ids"].numpy().astype(np.int64)
    uv = ans["primitive_uvs"].numpy().astype(np.float64)
    vn = _body_normals(body)[body.faces[prim]]
    n = vn[:, 0] * (1 - uv[:, :1] - uv[:, 1:]) + vn[:, 1] * uv[:, :1] + vn[:, 2] * uv[:, 1:]
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-30)
    diff = points - closest
    sd = np.linalg.norm(diff, axis=1) * np.where(np.einsum("ij,ij->i", diff, n) < 0, -1.0, 1.0)
    return sd, (closest, n, prim)


def _body_normals(body: BodyInstance) -> np.ndarray:
    cached = getattr(body, "_normals", None)
    if cached is None:
        cached = vertex_normals(body.vertices, body.faces)
        body._normals = cached
    return cached


def _occupied(scene, points: np.ndarray) -> np.ndarray:
    """(P,) bool: inside the closed body surface by ray parity (see :func:`_inside`)."""
    import open3d as o3d

    if len(points) == 0:
        return np.zeros(0, bool)
    return scene.compute_occupancy(o3d.core.Tensor(np.ascontiguousarray(points, np.float32))).numpy() > 0.5


def _inside(scene, body: BodyInstance, points: np.ndarray):
    """``(inside, (closest, normal))`` for (P, 3) points: inside the body by ray parity *and* behind the closest
    body surface (its smooth normal).  Parity alone is fooled where the posed body overlaps itself anywhere
    along the ray (skin folded by skinning at a shoulder); the closest-surface test alone by creases."""
    inside = _occupied(scene, points)
    closest = np.zeros((len(points), 3))
    normal = np.zeros((len(points), 3))
    idx = np.flatnonzero(inside)
    if idx.size:
        sd, (c, n, _) = _closest(scene, body, points[idx])
        inside[idx] = sd < 0
        closest[idx], normal[idx] = c, n
    return inside, (closest, normal)


def _push_out(scene, body: BodyInstance, points: np.ndarray, clearance: float, directions: np.ndarray,
              project: bool = True):
    """Move the points that lie inside the body (:func:`_inside`) out of it.

    An inside point first moves to ``clearance`` outside the closest body point (along the smooth surface
    normal there; skipped with ``project=False``, which keeps a shoe's rounded toe box from taking the toes'
    shape); points that does not free are marched along ``directions`` (unit, outward; P x 3) in 4 mm
    steps, up to 4 cm.  Returns ``(points, inside, moved)``: the points, the (P,) bool of those still inside,
    and how many had to move.
    """
    points = points.copy()
    inside, (closest, normal) = _inside(scene, body, points)
    idx = np.flatnonzero(inside)
    moved = int(idx.size)
    for _ in range(2 if project else 0):
        if idx.size == 0:
            break
        points[idx] = closest[idx] + normal[idx] * clearance
        still, (c, n) = _inside(scene, body, points[idx])
        closest[idx], normal[idx] = c, n
        idx = idx[still]
    if idx.size:  # all steps of every stuck point in one query; each takes its first free step
        steps = 0.004 * np.arange(1, 11)
        cand = points[idx][None] + steps[:, None, None] * directions[idx][None]
        free = ~_inside(scene, body, cand.reshape(-1, 3))[0].reshape(len(steps), len(idx))
        first = np.argmax(free, axis=0)
        ok = free[first, np.arange(len(idx))]
        points[idx[ok]] = cand[first[ok], np.flatnonzero(ok)]
        idx = idx[~ok]
    inside = np.zeros(len(points), bool)
    inside[idx] = True
    return points, inside, moved


def _coverage(dense: DenseBody, spec: dict, region: str) -> np.ndarray:
    c, p = dense.coords, dense.parts
    torso = (p == PART["torso"])
    arms = np.isin(p, [PART[f"{s}_{k}"] for s in ("left", "right") for k in ("upper_arm", "lower_arm")])
    legs = np.isin(p, [PART[f"{s}_{k}"] for s in ("left", "right") for k in ("upper_leg", "lower_leg")])
    if region == "upper":
        front = np.clip(np.cos(c["around"]), 0.0, 1.0) ** 2
        neck = spec["neck_h"] - spec["neck_drop"] * front
        # the neck opening: high *and* near the midline (the tops of the shoulders stay covered)
        neck_hole = (c["torso_h"] > neck) & (np.abs(dense.rest[:, 0]) < spec["neck_half_width_m"])
        cover = torso & (c["torso_h"] >= spec["hem_h"]) & ~neck_hole
        cover |= legs & (c["torso_h"] >= spec["hem_h"])
        cover |= arms & (np.nan_to_num(c["arm_s"], nan=9.0) <= spec["sleeve_s"])
        if spec.get("open_front_rad", 0.0) > 0:
            cover &= ~((np.abs(c["around"]) < spec["open_front_rad"]) & (torso | legs))
        return cover
    cover = (torso | legs) & (c["torso_h"] <= spec["waist_h"])
    cover &= ~legs | (np.nan_to_num(c["leg_s"], nan=9.0) <= spec["leg_s"])
    cover &= ~(torso & (c["torso_h"] < -0.6))
    return cover


def patch(dense: DenseBody, cover_v: np.ndarray):
    """The dense faces whose three vertices are covered: ``(used, faces, boundary_edges)`` with ``used`` the dense
    vertex ids in use, ``faces`` re-indexed into ``used`` and the opening's edges (directed as in their face)."""
    covered = np.all(cover_v[dense.faces], axis=1)
    faces = dense.faces[covered]
    used = _used_vertices(faces, len(dense.vertices))
    remap = np.full(len(dense.vertices), -1, np.int64)
    remap[used] = np.arange(len(used))
    f = remap[faces]
    # openings: dense edges with exactly one covered face, directed as in that face
    fe = dense.face_edges[covered]
    ef = dense.edge_faces[fe]  # (Fc, 3, 2) the faces on both sides of each edge
    count = covered[ef[..., 0]].astype(np.int64) + np.where(ef[..., 1] >= 0, covered[np.maximum(ef[..., 1], 0)], False)
    fi, k = np.nonzero(count == 1)
    return used, f, np.stack([f[fi, k], f[fi, (k + 1) % 3]], axis=1)


def base_patch(dense: DenseBody, cover_v: np.ndarray):
    """As :func:`patch` on the body's own (not subdivided) faces: ``cover_v`` (V,) over the base vertices, which
    keep their ids in the dense body.  For small garments (footwear) where ~1 cm spacing is plenty."""
    faces = dense.base_faces[np.all(cover_v[dense.base_faces], axis=1)]
    used = _used_vertices(faces, len(cover_v))
    remap = np.full(len(cover_v), -1, np.int64)
    remap[used] = np.arange(len(used))
    f = remap[faces]
    return used, f, _boundary_edges(f)


def spread_under(dense: DenseBody) -> None:
    """After a garment on base vertices: every edge midpoint of the dense body is worn over at least as far as
    the lower of its two ends (so later garments on the dense body stay outside it)."""
    a, b = dense.edges[:, 0], dense.edges[:, 1]
    mid = len(dense.under) - len(dense.edges) + np.arange(len(dense.edges))
    dense.under[mid] = np.maximum(dense.under[mid], np.minimum(dense.under[a], dense.under[b]))


def offset_shell(dense: DenseBody, body: BodyInstance, scene, spec: dict, used: np.ndarray, f: np.ndarray,
                 bedges: np.ndarray, extra: np.ndarray, thickness: float, rgb: np.ndarray,
                 extra_dir: np.ndarray | None = None, smooth: int = 0, normals: np.ndarray | None = None,
                 pinned: np.ndarray | None = None, check: bool = True) -> Garment:
    """A garment over the dense vertices ``used`` (faces ``f``): pushed out along the body normal by what is
    worn underneath + clearance + ``thickness``, then by ``extra`` (per vertex, >= 0) along the normal or the
    unit ``extra_dir`` (N, 3), with a wall at every opening down to the layer underneath, moved out of the body
    where needed (:func:`_push_out`); ``rgb`` (N, 3) sRGB per used vertex (walls get 85 %).  ``smooth``:
    Laplacian smoothing iterations of the outer surface (the opening and the ``pinned`` vertices stay put),
    e.g. to round a shoe over the toes.  ``normals``: (N, 3) unit directions to use instead of the body's
    vertex normals.  ``check=False`` skips the inside-the-body test (for a shell over a convex part, such as
    hair over the scalp, which the offset alone keeps outside).  Updates ``dense.under``."""
    x, n = dense.vertices[used], dense.normals[used] if normals is None else normals
    base = dense.under[used] + (CLEARANCE if not dense.under[used].any() else LAYER_GAP) + thickness
    outer = x + n * base[:, None] + (n if extra_dir is None else extra_dir) * extra[:, None]
    if smooth:
        i = f[:, [0, 1, 2, 0, 1, 2]].reshape(-1)
        j = f[:, [1, 2, 0, 2, 0, 1]].reshape(-1)
        deg = np.maximum(np.bincount(i, minlength=len(used)), 1)[:, None]
        free = np.ones(len(used), bool)
        free[bedges.reshape(-1)] = False
        if pinned is not None:
            free &= ~pinned
        for _ in range(smooth):  # round the surface, never below the offset it must keep over its own point
            mean = np.stack([np.bincount(i, weights=outer[j, k], minlength=len(used)) for k in range(3)], 1) / deg
            outer[free] += 0.6 * (mean[free] - outer[free])
            below = base - np.einsum("ij,ij->i", outer - x, n)
            outer += n * np.maximum(below, 0.0)[:, None]
    verts, faces_all, wall_src = _add_hem_walls(outer, f, x + n * (base - thickness)[:, None], bedges)
    directions = np.concatenate([n, n[wall_src]])
    if check:
        verts, inside, moved = _push_out(scene, body, verts, CLEARANCE, directions, project=not smooth)
    else:
        inside, moved = np.zeros(len(verts), bool), 0
    d_eff = np.einsum("ij,ij->i", verts[: len(used)] - x, n)
    dense.under[used] = np.maximum(dense.under[used], d_eff)
    labels = dense.parts[used]
    nlab = len(verts) - len(labels)
    labels_all = np.concatenate([labels, labels[wall_src][:nlab]]) if nlab else labels
    if nlab:
        rgb = np.concatenate([rgb, rgb[wall_src][:nlab] * 0.85])
    colours = np.concatenate([np.clip(np.round(rgb * 255), 0, 255), np.full((len(rgb), 1), 255)], 1).astype(np.uint8)
    g = _finish(spec["type"], spec, verts, faces_all, labels_all, colours, inside, moved)
    g.rest = np.concatenate([dense.rest[used], dense.rest[used][wall_src][:nlab]])[g.kept_vertices]
    # folds: how far each vertex stands above (ridge, > 0) or below (crease) its neighbours' mean offset
    deg = np.maximum(np.bincount(f.reshape(-1), minlength=len(used)), 1) * 2
    nbr = np.bincount(f[:, [0, 1, 2, 0, 1, 2]].reshape(-1), weights=d_eff[f[:, [1, 2, 0, 2, 0, 1]]].reshape(-1),
                      minlength=len(used)) / deg
    g.convexity = np.concatenate([d_eff - nbr, np.zeros(nlab)])[g.kept_vertices]
    return g


def _fitted(dense: DenseBody, body: BodyInstance, spec: dict, rng: np.random.Generator, pose: dict,
            region: str, scene) -> Garment:
    c = dense.coords
    used, f, bedges = patch(dense, _coverage(dense, spec, region))
    rest = dense.rest[used]
    h = c["torso_h"][used]
    arm_s = np.nan_to_num(c["arm_s"][used], nan=-1.0)
    leg_s = np.nan_to_num(c["leg_s"][used], nan=-1.0)
    around = c["around"][used]
    on_arm = arm_s >= 0
    on_leg = (leg_s >= 0) & ~on_arm
    on_torso = ~on_arm & ~on_leg
    loose, amp, wl = spec["looseness_m"], spec["fold_amplitude_m"], spec["fold_wavelength_m"]

    # ease grows away from where the garment hangs (shoulders / waist)
    if region == "upper":
        g_torso = np.clip((0.75 - h) / max(0.75 - spec["hem_h"], 0.1), 0.0, 1.0)
        g_arm = np.clip(arm_s / 0.9, 0.0, 1.0)
        g = np.where(on_arm, g_arm, g_torso)
    else:
        g = np.where(on_leg, np.clip(leg_s, 0.0, 1.0), np.clip((spec["waist_h"] - h) / 0.4, 0.0, 1.0) * 0.4)
    ease = loose * (0.25 + 0.75 * g)
    # drape: vertical folds, stronger toward the hems and with looseness
    k = spec["drape_folds"]
    drape_phase = _ripple(rng, around * k / (2 * np.pi) * 0.05, 0.05, rest[:, 1] * 6.0)
    drape = (loose + 0.004) * g**1.5 * drape_phase
    # compression folds at elbows, knees and the waist
    comp = np.zeros(len(used))
    for side, sign in (("l", 1.0), ("r", -1.0)):
        on_side = np.sign(rest[:, 0]) == sign
        elbow = on_arm & on_side
        if elbow.any():
            inner = 0.5 + 0.5 * np.cos(around[elbow])
            w = _window(arm_s[elbow], 0.5, 0.12) * (0.35 + _bend(pose, f"{side}_elbow")) * (0.4 + 0.6 * inner)
            comp[elbow] += amp * w * _ripple(rng, arm_s[elbow] * 0.55, wl, around[elbow])
        knee = on_leg & on_side
        if knee.any():
            inner = 0.5 - 0.5 * np.cos(around[knee])
            w = _window(leg_s[knee], 0.5, 0.1) * (0.3 + _bend(pose, f"{side}_knee")) * (0.4 + 0.6 * inner)
            comp[knee] += amp * w * _ripple(rng, leg_s[knee] * 0.85, wl, around[knee])
            hipfold = _window(leg_s[knee], 0.05, 0.08) * _bend(pose, f"{side}_hip") * (0.5 + 0.5 * np.cos(around[knee]))
            comp[knee] += amp * hipfold * _ripple(rng, leg_s[knee] * 0.85, wl * 0.8, around[knee])
    waist_h = spec.get("waist_h", spec.get("hem_h", 0.3) + 0.1)
    trunk_bend = 0.3 + _bend(pose, "spine")
    comp[on_torso] += amp * 0.6 * trunk_bend * _window(h[on_torso], waist_h, 0.08) * _ripple(
        rng, h[on_torso] * 0.5, wl, around[on_torso])
    noise = spec["noise_amplitude_m"] * _noise(rng, rest, (0.008, 0.03))

    # hem / cuff / collar bands: a step up near every opening
    band = np.zeros(len(used))
    bw = spec["hem_band_m"]
    if region == "upper":
        band += (on_torso | on_leg) & ((h - spec["hem_h"]) * 0.5 < bw)
        band += on_arm & ((spec["sleeve_s"] - arm_s) * 0.55 < bw)
        collar = spec.get("collar_m", 0.0)
        neck_line = spec["neck_h"] - spec["neck_drop"] * np.clip(np.cos(around), 0, 1) ** 2
        near_neck = on_torso & ((neck_line - h) * 0.5 < bw) & (np.abs(rest[:, 0]) < spec["neck_half_width_m"] + bw)
    else:
        band += on_torso & ((waist_h - h) * 0.5 < bw * 1.3)
        band += on_leg & ((spec["leg_s"] - leg_s) * 0.85 < bw)
        near_neck, collar = np.zeros(len(used), bool), 0.0
    band = np.minimum(band, 1.0) * spec["hem_step_m"] + near_neck * collar

    from humandepth.render.appearance import garment_colours

    return offset_shell(dense, body, scene, spec, used, f, bedges, ease + drape + comp + noise + band,
                        spec["thickness_m"], garment_colours(spec, rest))


def _finish(name: str, spec: dict, verts, faces, vertex_labels, vertex_colours, inside, moved: int) -> Garment:
    """Drop the faces touching a vertex still inside the body (fabric squeezed inside a limb resting on the
    torso, which no camera can see), then assemble the garment with its labels, colours and check results."""
    keep = ~np.any(inside[faces], axis=1)
    faces = faces[keep]
    used = _used_vertices(faces, len(verts))
    kept_vertices = used
    remap = np.full(len(verts), -1, np.int64)
    remap[used] = np.arange(len(used))
    faces = remap[faces]
    verts, vertex_labels, vertex_colours = verts[used], vertex_labels[used], vertex_colours[used]
    inside = inside[used]
    fp = vertex_labels[faces]
    face_parts = np.where(fp[:, 1] == fp[:, 2], fp[:, 1], fp[:, 0]).astype(np.uint8)
    mesh = trimesh.Trimesh(verts, faces, process=False)
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=vertex_colours)
    params = {k: v for k, v in spec.items()}
    params.update(type=name, vertices=int(len(verts)), faces=int(len(faces)), license=LICENSE,
                  vertices_moved_out_of_body=moved, faces_removed_inside_body=int((~keep).sum()),
                  inside_vertices=int(inside.sum()))
    return Garment(name, mesh, face_parts, params, kept_vertices=kept_vertices)


def _used_vertices(faces: np.ndarray, n: int) -> np.ndarray:
    """Sorted ids of the vertices ``faces`` use (as ``np.unique(faces)``, without sorting)."""
    return np.flatnonzero(np.bincount(faces.reshape(-1), minlength=n))


def _boundary_edges(faces: np.ndarray) -> np.ndarray:
    e = faces[:, [0, 1, 1, 2, 2, 0]].reshape(-1, 2)
    n = int(faces.max()) + 1
    key = np.sort(e[:, 0] * n + e[:, 1])
    reverse = e[:, 1] * n + e[:, 0]
    pos = np.clip(np.searchsorted(key, reverse), 0, len(key) - 1)
    return e[key[pos] != reverse]


def _add_hem_walls(outer: np.ndarray, faces: np.ndarray, inner: np.ndarray, bedges: np.ndarray | None = None):
    """Append a wall (two triangles per boundary edge) from the boundary to ``inner`` positions; wall
    vertices are separate copies so the wall keeps its own normals.

    Returns ``(vertices, faces, wall_src)``: ``wall_src`` (2B,) gives the original vertex each appended wall
    vertex copies (the B boundary vertices, twice: top then bottom row).
    """
    bedges = _boundary_edges(faces) if bedges is None else bedges
    if len(bedges) == 0:
        return outer, faces, np.zeros(0, np.int64)
    bverts = _used_vertices(bedges, len(outer))
    nb = len(bverts)
    outer, inner = outer.copy(), inner.copy()
    a, b = bedges[:, 0], bedges[:, 1]
    deg = np.bincount(np.concatenate([a, b]), minlength=len(outer))[bverts][:, None]
    for _ in range(3):  # smooth the opening's outline along itself (the subdivided mesh's zig-zag)
        for arr in (outer, inner):
            nb_sum = np.stack([np.bincount(np.concatenate([a, b]), weights=np.concatenate([arr[b, k], arr[a, k]]),
                                           minlength=len(arr)) for k in range(3)], axis=1)
            arr[bverts] = 0.5 * arr[bverts] + 0.5 * nb_sum[bverts] / np.maximum(deg, 1)
    top = np.full(len(outer), -1, np.int64)
    bot = np.full(len(outer), -1, np.int64)
    top[bverts] = len(outer) + np.arange(nb)
    bot[bverts] = len(outer) + nb + np.arange(nb)
    wall = np.concatenate([np.stack([top[a], bot[b], top[b]], 1), np.stack([top[a], bot[a], bot[b]], 1)])
    verts = np.concatenate([outer, outer[bverts], inner[bverts]])
    return verts, np.concatenate([faces, wall]), np.concatenate([bverts, bverts])


def _skirt(dense: DenseBody, body: BodyInstance, spec: dict, rng: np.random.Generator, scene) -> Garment:
    """A hanging skirt (rings from the waist down), wrapped over whatever is already worn."""
    c = dense.coords
    worn = dense.vertices + dense.normals * dense.under[:, None]
    pelvis = body.joints3d[0]
    legs = np.isin(dense.parts, [PART[f"{s}_{k}"] for s in ("left", "right")
                                 for k in ("upper_leg", "lower_leg", "foot")])
    torso = dense.parts == PART["torso"]
    near_waist = torso & (np.abs(c["torso_h"] - spec["waist_h"]) < 0.03)
    y_waist = float(worn[near_waist, 1].mean())
    hip_y = 0.5 * (body.joints3d[1, 1] + body.joints3d[2, 1])
    ankle_y = 0.5 * (body.joints3d[6, 1] + body.joints3d[7, 1])
    y_hem = hip_y - spec["skirt_length_s"] * (hip_y - ankle_y)
    n_ang = 144
    n_ring = max(int((y_waist - y_hem) / 0.008), 8)
    ys = np.linspace(y_waist, y_hem, n_ring)
    theta = np.linspace(-np.pi, np.pi, n_ang, endpoint=False)
    cand = (torso | legs) & (worn[:, 1] <= y_waist + 0.01) & (worn[:, 1] >= y_hem - 0.05)
    pts = worn[cand]
    rel = pts[:, [0, 2]] - pelvis[[0, 2]]
    r_pts = np.linalg.norm(rel, axis=1)
    ang = np.arctan2(rel[:, 0], rel[:, 1])
    bins = np.floor((ang + np.pi) / (2 * np.pi) * n_ang).astype(np.int64) % n_ang
    order = np.argsort(-pts[:, 1])  # from the top down
    ring_of = np.clip(np.searchsorted(-ys, -pts[order, 1]), 0, n_ring - 1)
    prof = np.zeros((n_ring, n_ang))
    np.maximum.at(prof, (ring_of, bins[order]), r_pts[order])
    prof = np.maximum.accumulate(prof, axis=0)  # fabric hangs: never narrower than above
    spread = np.zeros_like(prof)
    for s in range(-6, 7):  # fabric spans gaps between bins
        spread = np.maximum(spread, np.roll(prof, s, axis=1) * np.cos(np.radians(s * 2.5)))
    depth = (y_waist - ys)[:, None]
    frac = depth / max(y_waist - y_hem, 1e-3)
    loose = spec["looseness_m"]
    r = spread + CLEARANCE + spec["thickness_m"] + loose * frac + spec["flare"] * depth * frac
    k = spec["drape_folds"] + 4
    wob = _ripple(rng, theta[None, :] * k / (2 * np.pi) * 0.05, 0.05, ys[:, None] * 3.0)
    r *= 1.0 + spec["drape_amplitude"] * frac**1.2 * (wob - 0.5) * 2.0
    r = np.maximum(r, spread + CLEARANCE + spec["thickness_m"])
    r += spec["noise_amplitude_m"] * (_noise(rng, np.stack([np.cos(theta)[None].repeat(n_ring, 0).ravel(),
                                                               ys[:, None].repeat(n_ang, 1).ravel(),
                                                               np.sin(theta)[None].repeat(n_ring, 0).ravel()], 1) * 0.3,
                                              (0.004, 0.01)).reshape(n_ring, n_ang))
    # waistband and hem band: steps
    bw = spec["hem_band_m"]
    r += spec["hem_step_m"] * ((depth < bw) | ((y_hem - ys)[:, None] > -bw))
    verts = np.stack([pelvis[0] + r * np.sin(theta), ys[:, None].repeat(n_ang, 1), pelvis[2] + r * np.cos(theta)],
                     axis=-1).reshape(-1, 3)
    ii, jj = np.meshgrid(np.arange(n_ring - 1), np.arange(n_ang), indexing="ij")
    v00 = ii * n_ang + jj
    v01 = ii * n_ang + (jj + 1) % n_ang
    v10 = v00 + n_ang
    v11 = v01 + n_ang
    faces = np.concatenate([np.stack([v00, v10, v11], -1).reshape(-1, 3), np.stack([v00, v11, v01], -1).reshape(-1, 3)])
    inner = verts.copy()
    inner_r = np.linalg.norm((inner - pelvis)[:, [0, 2]], axis=1, keepdims=True)
    scale = np.maximum(inner_r - spec["thickness_m"] - spec["hem_step_m"], 1e-3) / np.maximum(inner_r, 1e-9)
    inner[:, [0, 2]] = pelvis[[0, 2]] + (inner - pelvis)[:, [0, 2]] * scale
    all_v, all_f, wall_src = _add_hem_walls(verts, faces, inner)
    nlab = len(all_v) - len(verts)
    radial = all_v - pelvis
    radial[:, 1] = 0.0
    radial /= np.maximum(np.linalg.norm(radial, axis=1, keepdims=True), 1e-9)
    all_v, inside, moved = _push_out(scene, body, all_v, CLEARANCE, radial)
    labels = _nearest_body_labels(body, all_v)
    h_coord = ys[:, None].repeat(n_ang, 1).ravel()
    around = np.tile(theta, n_ring)
    rest_like = np.stack([np.sin(around) * 0.15, h_coord - y_waist, np.cos(around) * 0.15], 1)
    name = "skirt" if spec["type"] == "skirt" else "dress_skirt"
    g = _finish(name, spec, all_v, all_f, labels, _colours(spec, rest_like, wall_src, nlab), inside, moved)
    g.rest = np.concatenate([rest_like, rest_like[wall_src][:nlab]])[g.kept_vertices]
    return g


def _nearest_body_labels(body: BodyInstance, points: np.ndarray) -> np.ndarray:
    """Part label of the body vertex nearest to each point (the part a hanging garment covers)."""
    from scipy.spatial import cKDTree

    sel = np.flatnonzero(np.isin(body.vertex_parts, [PART["torso"]] + [
        PART[f"{s}_{k}"] for s in ("left", "right") for k in ("upper_leg", "lower_leg", "foot")]))
    _, nearest = cKDTree(body.vertices[sel]).query(points)
    return body.vertex_parts[sel[nearest]]


def _colours(spec: dict, rest: np.ndarray, wall_src: np.ndarray, nwall: int) -> np.ndarray:
    """Per-vertex RGBA uint8: a garment colour with a procedural pattern (solid, stripes, checks, noise)."""
    from humandepth.render.appearance import garment_colours

    rgb = garment_colours(spec, rest)
    if nwall:
        rgb = np.concatenate([rgb, rgb[wall_src][:nwall] * 0.85])
    return np.concatenate([np.clip(np.round(rgb * 255), 0, 255), np.full((len(rgb), 1), 255)], 1).astype(np.uint8)

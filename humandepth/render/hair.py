"""Hair and head coverings as geometry: styles none, buzz, short, curly, long, ponytail and bun; caps and hoods.

Hair is built on the subdivided body (:class:`humandepth.render.garments.DenseBody`) like a garment, so depth
and normals include it as a depth camera sees it:

- the *scalp shell* covers the head above a hairline (in a head frame measured on the rest body: high on the
  forehead, above the ears, low at the nape, with a sampled recession) and is pushed out by the style's
  thickness (fading toward the hairline), with strand-like relief: grooves along the strands (meridians from
  the crown), clumps, and for curly hair lumps a few centimetres across;
- *long* hair adds a sheet hanging from the back of the head, draped outward over the shoulders and back
  (its radius at every height and angle around the neck is at least the body's and clothes' widest extent
  above, as skirts hang); a *ponytail* is a tapering tube falling down the back; a *bun* a lumpy ellipsoid.

The strand direction (for the shader's anisotropic highlight) and a fine strand pattern (per-pixel albedo
streaks across the strands) come with the mesh (:func:`hair_surface`).  Head coverings are garments: a *cap*
(a dome over the hair with a brim) and a *hood* (up: a loose shell around the head leaving the face open).
Everything is procedural (the project's licence); every parameter is in the returned ``params``.
"""

from __future__ import annotations

import colorsys

import numpy as np
import trimesh

from humandepth.render.body import PART, rigid_fit
from humandepth.render.texture import smoothstep

STYLES = ("none", "buzz", "short", "curly", "long", "ponytail", "bun")
HAIR_COLOURS = {  # sRGB, natural hair
    "black": (0.035, 0.03, 0.028), "dark_brown": (0.1, 0.065, 0.045), "brown": (0.25, 0.16, 0.1),
    "blonde": (0.62, 0.48, 0.3), "red": (0.42, 0.17, 0.08), "grey": (0.55, 0.54, 0.52)}


def sample_hair_spec(rng: np.random.Generator, gender: float = 0.5) -> dict:
    """Style, colour and shape of the hair (``gender`` 0 = female .. 1 = male makes long styles rarer)."""
    long_w = 1.0 - 0.8 * gender
    w = np.array([0.06 + 0.06 * gender, 0.06 + 0.12 * gender, 0.25 + 0.15 * gender, 0.12,
                  0.3 * long_w, 0.15 * long_w, 0.1 * long_w])
    style = str(rng.choice(STYLES, p=w / w.sum()))
    colour = str(rng.choice(list(HAIR_COLOURS), p=[0.38, 0.28, 0.14, 0.1, 0.04, 0.06]))
    rgb = np.clip(np.asarray(HAIR_COLOURS[colour]) * rng.uniform(0.8, 1.2, 3), 0, 1)
    u = rng.uniform
    thickness = {"none": 0.0, "buzz": u(0.0015, 0.003), "short": u(0.006, 0.02), "curly": u(0.02, 0.05),
                 "long": u(0.008, 0.016), "ponytail": u(0.004, 0.008), "bun": u(0.004, 0.008)}[style]
    return {"style": style, "colour_name": colour, "colour": [round(float(c), 4) for c in rgb],
            "thickness_m": round(float(thickness), 5), "recession_m": round(float(u(0.0, 0.025) * gender), 4),
            "nape_m": round(float(u(-0.01, 0.02)), 4), "grooves": int(rng.integers(28, 44)),
            "groove_depth": round(float(u(0.1, 0.25)), 3), "length_m": round(float(u(0.12, 0.45)), 3),
            "lump_m": round(float(u(0.012, 0.03)), 4), "seed": int(rng.integers(2**31))}


class HeadFrame:
    """The head measured on the rest body: skull centre, eye height, and the rest -> posed head rotation."""

    def __init__(self, dense):
        head = dense.parts == PART["head"]
        self.index = np.flatnonzero(head)
        r = dense.rest[head]
        top = float(r[:, 1].max())
        size = top - float(r[:, 1].min())  # head and upper neck, ~0.27 m
        cranium = r[r[:, 1] > top - 0.3 * size]
        self.centre = np.array([0.5 * (cranium[:, 0].min() + cranium[:, 0].max()), top - 0.37 * size,
                                0.5 * (cranium[:, 2].min() + cranium[:, 2].max())])
        self.eye_y = top - 0.43 * size
        self.radius = 0.5 * float(cranium[:, 0].max() - cranium[:, 0].min())
        self.R, self.t = rigid_fit(r, dense.vertices[head])  # rest -> posed, rigidly with the head

    def pose(self, rest_points: np.ndarray) -> np.ndarray:
        """Rest-frame points carried rigidly with the head into the posed world."""
        return rest_points @ self.R.T + self.t

    def angles(self, rest_points: np.ndarray):
        """``(theta, height)``: angle around the vertical (0 = the face) and height above the eyes (metres)."""
        rel = rest_points - self.centre
        return np.arctan2(rel[:, 0], rel[:, 2]), rest_points[:, 1] - self.eye_y


CROWN = np.array([0.0, 1.0, -0.45]) / np.linalg.norm([0.0, 1.0, -0.45])


def strand_coords(frame: HeadFrame, rest_points: np.ndarray):
    """``(psi, phi)``: azimuth around the crown axis and angle away from the crown (strands run along phi)."""
    rel = rest_points - frame.centre
    rel = rel / np.maximum(np.linalg.norm(rel, axis=1, keepdims=True), 1e-9)
    phi = np.arccos(np.clip(rel @ CROWN, -1, 1))
    e1 = np.cross(CROWN, [1.0, 0.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(CROWN, e1)
    return np.arctan2(rel @ e2, rel @ e1), phi


def hairline(spec: dict, theta: np.ndarray) -> np.ndarray:
    """Height above the eyes (metres) where the hair starts, around the head (``a + b cos + c cos 2``
    through the forehead, the sides above the ears and the nape)."""
    front, side, back = 0.068 + spec["recession_m"], 0.0, -(0.085 + spec["nape_m"])
    a = 0.5 * (0.5 * (front + back) + side)
    c = 0.5 * (0.5 * (front + back) - side)
    return a + 0.5 * (front - back) * np.cos(theta) + c * np.cos(2 * theta)


def _scalp(frame: HeadFrame, dense, spec: dict, lift_m: float = 0.0) -> np.ndarray:
    """(V,) bool: dense vertices on the scalp (above the hairline, ``lift_m`` higher; ears excluded)."""
    idx = frame.index
    theta, height = frame.angles(dense.rest[idx])
    rel = dense.rest[idx] - frame.centre
    ear = (np.abs(rel[:, 0]) > frame.radius * 0.92) & (np.abs(height) < 0.035) & (np.abs(np.cos(theta)) < 0.5)
    out = np.zeros(len(dense.rest), bool)
    out[idx] = (height > hairline(spec, theta) + lift_m) & ~ear
    return out


def _colour_rgb(spec: dict, n: int) -> np.ndarray:
    return np.tile(np.asarray(spec["colour"], np.float64), (n, 1))


def _hanging(frame: HeadFrame, dense, body, spec: dict, rng: np.random.Generator, start_y: float,
             half_angle: tuple[float, float], length: float, thickness: float, radius0=None):
    """A sheet hanging from ``start_y`` (world) down ``length`` around the neck's vertical axis, behind the head
    over ``+-half_angle`` (top, bottom) radians about the back, never inside what is worn."""
    worn = dense.vertices + dense.normals * dense.under[:, None]
    neck = body.joints3d[8]
    back_w = frame.R @ np.array([0.0, 0.0, -1.0])
    back = np.arctan2(back_w[0], back_w[2])
    n_ang, n_ring = 40, max(int(length / 0.008), 6)
    ys = np.linspace(start_y, start_y - length, n_ring)
    frac = np.linspace(0, 1, n_ring)[:, None]
    span = half_angle[0] * (1 - frac) + half_angle[1] * frac
    s = np.linspace(-1, 1, n_ang)[None, :]
    ang = back + span * s  # (n_ring, n_ang)
    near = (worn[:, 1] <= start_y + 0.02) & (worn[:, 1] >= ys[-1] - 0.01)
    rel = worn[near][:, [0, 2]] - neck[[0, 2]]
    r_pts = np.linalg.norm(rel, axis=1)
    # angular bins of 0.1 rad around the neck: the widest extent per bin and ring, then per sheet column
    n_bins = 63
    bins = np.floor((np.arctan2(rel[:, 0], rel[:, 1]) + np.pi) / (2 * np.pi) * n_bins).astype(np.int64) % n_bins
    ring = np.clip(np.searchsorted(-ys, -worn[near, 1]), 0, n_ring - 1)
    table = np.zeros((n_ring, n_bins))
    np.maximum.at(table, (ring, bins), r_pts)
    table = np.maximum(table, np.roll(table, 1, axis=1))
    table = np.maximum(table, np.roll(table, -1, axis=1))
    col = np.floor((ang + np.pi) / (2 * np.pi) * n_bins).astype(np.int64) % n_bins
    prof = np.take_along_axis(table, col, axis=1)
    prof = np.maximum.accumulate(prof, axis=0)
    r = prof + 0.004 + thickness
    if radius0 is not None:  # the back of the head, narrowing to the nape
        drop = (start_y - ys)[:, None]
        r = np.maximum(r, radius0 * np.sqrt(np.clip(1 - (drop / 0.07) ** 2, 0, 1)))
    wob = 0.006 * np.sin(ang * spec["grooves"] * 1.3 + ys[:, None] * 40 + rng.uniform(0, 6))
    r = r + np.abs(wob)
    verts = np.stack([neck[0] + r * np.sin(ang), np.repeat(ys[:, None], n_ang, 1), neck[2] + r * np.cos(ang)], -1)
    ragged = rng.uniform(0.0, 0.3 * length, n_ang)  # uneven ends
    over = np.clip(frac * length - (length - ragged[None, :]), 0.0, None)
    verts[..., 1] += over
    ii, jj = np.meshgrid(np.arange(n_ring - 1), np.arange(n_ang - 1), indexing="ij")
    v00 = ii * n_ang + jj
    faces = np.concatenate([np.stack([v00, v00 + n_ang, v00 + n_ang + 1], -1).reshape(-1, 3),
                            np.stack([v00, v00 + n_ang + 1, v00 + 1], -1).reshape(-1, 3)])
    tangent = np.zeros((n_ring, n_ang, 3))
    tangent[..., 1] = -1.0
    return verts.reshape(-1, 3), faces, tangent.reshape(-1, 3)


def _tube(points: np.ndarray, radii: np.ndarray, sides: int = 14):
    """A tube along the polyline ``points`` (N, 3) with per-point radii; returns (verts, faces, tangents)."""
    t = np.gradient(points, axis=0)
    t /= np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)
    ref = np.array([1.0, 0.0, 0.0])
    n1 = np.cross(t, ref)
    n1 /= np.maximum(np.linalg.norm(n1, axis=1, keepdims=True), 1e-9)
    n2 = np.cross(t, n1)
    a = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    ring = np.cos(a)[None, :, None] * n1[:, None] + np.sin(a)[None, :, None] * n2[:, None]
    groove = 1 + 0.08 * np.sin(a * 5)[None, :, None]
    verts = points[:, None] + ring * (radii[:, None, None] * groove)
    n = len(points)
    ii, jj = np.meshgrid(np.arange(n - 1), np.arange(sides), indexing="ij")
    v00 = ii * sides + jj
    v01 = ii * sides + (jj + 1) % sides
    faces = np.concatenate([np.stack([v00, v00 + sides, v01 + sides], -1).reshape(-1, 3),
                            np.stack([v00, v01 + sides, v01], -1).reshape(-1, 3)])
    tang = np.repeat(t[:, None], sides, axis=1)
    return verts.reshape(-1, 3), faces, tang.reshape(-1, 3)


def build_hair(dense, body, spec: dict, scene):
    """The hair of ``spec`` on the dressed body: ``(mesh, face_parts, tangents (V, 3), rest (V, 3), params,
    convexity (V,))`` or None for ``style == "none"``.  Vertex colours carry the hair colour with strand-wise
    variation; ``convexity`` is the strand relief (metres above the neighbours' mean, 0 off the scalp)."""
    from humandepth.render.garments import offset_shell, patch

    if spec["style"] == "none":
        return None
    rng = np.random.default_rng(spec["seed"])
    frame = HeadFrame(dense)
    scalp = _scalp(frame, dense, spec)
    used, f, bedges = patch(dense, scalp)
    rest = dense.rest[used]
    theta, height = frame.angles(rest)
    psi, phi = strand_coords(frame, rest)
    fade = smoothstep(0.0, 0.035, height - hairline(spec, theta))
    thick = spec["thickness_m"] * (0.35 + 0.65 * fade)
    k = spec["grooves"]
    wave = 0.35 * np.sin(phi * 7 + rng.uniform(0, 6))
    groove = 0.5 + 0.5 * np.sin(psi * k + wave)
    clump = 0.5 + 0.5 * np.sin(psi * k * 0.37 + phi * 3 + rng.uniform(0, 6))
    relief = thick * spec["groove_depth"] * (0.6 * groove + 0.4 * clump)
    if spec["style"] == "curly":
        from humandepth.render.texture import noise3

        relief = relief + thick * 0.5 * noise3(rest, spec["lump_m"], spec["seed"], octaves=2) * fade
    spec_shell = {**spec, "type": "hair"}
    from humandepth.render.texture import value_noise

    fine = value_noise(psi * 90 / np.pi, phi * 5, spec["seed"])
    rgb = _colour_rgb(spec, len(used)) * (0.75 + 0.25 * groove + 0.25 * fine)[:, None]
    shell = offset_shell(dense, body, scene, spec_shell, used, f, bedges, thick * 0.6 + relief,
                         thick * 0.4 + 1e-4, rgb, check=False)  # outward over the skull: never inside
    verts, faces = np.asarray(shell.mesh.vertices), np.asarray(shell.mesh.faces)
    colours = np.asarray(shell.mesh.visual.vertex_colors)[:, :3] / 255.0
    rest_all = shell.rest
    # strands run away from the crown: the direction of increasing phi on the rest head, posed with the head
    rel = rest_all - frame.centre
    rel /= np.maximum(np.linalg.norm(rel, axis=1, keepdims=True), 1e-9)
    t_rest = (rel @ CROWN)[:, None] * rel - CROWN[None]
    tangents = (t_rest / np.maximum(np.linalg.norm(t_rest, axis=1, keepdims=True), 1e-9)) @ frame.R.T
    parts = [(verts, faces, tangents, colours, rest_all)]
    convex = [shell.convexity]
    extra = {}
    if spec["style"] == "long":
        nape_y = frame.pose(np.array([[0, frame.eye_y + hairline(spec, np.array([np.pi]))[0], 0]]))[0, 1]
        start = float(frame.pose(frame.centre[None])[0, 1]) - 0.05  # from under the back of the scalp
        length = spec["length_m"] + (start - nape_y)
        v, fc, tg = _hanging(frame, dense, body, spec, rng, start, (1.25, 0.75), length,
                             spec["thickness_m"], radius0=frame.radius * 0.9)
        parts.append((v, fc, tg, _colour_rgb(spec, len(v)) * (0.85 + 0.3 * rng.random((len(v), 1))),
                      np.repeat(frame.centre[None], len(v), 0)))
        convex.append(np.zeros(len(v)))
        extra["hanging_length_m"] = round(float(length), 3)
    if spec["style"] in ("ponytail", "bun"):
        back = frame.centre + np.array([0.0, 0.01 if spec["style"] == "ponytail" else 0.05,
                                        -(frame.radius * 1.05 + spec["thickness_m"])])
        anchor = frame.pose(back[None])[0]
        out_dir = frame.R @ np.array([0.0, 0.1, -1.0])
        out_dir /= np.linalg.norm(out_dir)
        if spec["style"] == "ponytail":
            L = spec["length_m"]
            s = np.linspace(0, 1, 18)
            pts = anchor[None] + out_dir[None] * (0.04 * np.minimum(s * 4, 1))[:, None]
            pts[:, 1] -= np.clip(s - 0.15, 0, None) * L
            pts += (out_dir * np.array([1, 0, 1]))[None] * (0.02 * s)[:, None]
            radii = 0.022 * (1 - 0.65 * s) + 0.006
            v, fc, tg = _tube(pts, radii)
        else:
            r = rng.uniform(0.03, 0.045)
            ball = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
            bv = np.asarray(ball.vertices)
            swirl = 1 + 0.1 * np.sin(np.arctan2(bv[:, 0], bv[:, 1]) * 6 + bv[:, 2] * 8)
            v = anchor[None] + out_dir[None] * r * 0.7 + bv * r * swirl[:, None] * np.array([1.0, 0.85, 0.9])
            fc = np.asarray(ball.faces)
            tg = np.cross(bv, out_dir[None])
        parts.append((v, fc, tg, _colour_rgb(spec, len(v)) * (0.8 + 0.4 * rng.random((len(v), 1))),
                      np.repeat(frame.centre[None], len(v), 0)))
        convex.append(np.zeros(len(v)))
    if len(parts) > 1:  # the hanging parts must not enter the body either
        from humandepth.render.garments import _push_out

        for i in range(1, len(parts)):
            v, fc, tg, col, rs = parts[i]
            out = v - body.joints3d[8]
            out[:, 1] = 0.0
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
            v, inside, _ = _push_out(scene, body, v, 0.003, out)
            keep = ~np.any(inside[fc], axis=1)
            parts[i] = (v, fc[keep], tg, col, rs)
    offsets = np.cumsum([0] + [len(p[0]) for p in parts])
    verts = np.concatenate([p[0] for p in parts])
    faces = np.concatenate([p[1] + o for p, o in zip(parts, offsets, strict=False)])
    tang = np.concatenate([p[2] for p in parts])
    tang /= np.maximum(np.linalg.norm(tang, axis=1, keepdims=True), 1e-9)
    cols = np.clip(np.concatenate([p[3] for p in parts]), 0, 1)
    rest_all = np.concatenate([p[4] for p in parts])
    mesh = trimesh.Trimesh(verts, faces, process=False)
    mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=np.concatenate(
        [np.round(cols * 255), np.full((len(cols), 1), 255)], 1).astype(np.uint8))
    params = {**{k: v for k, v in spec.items()}, **extra, "vertices": int(len(verts)), "faces": int(len(faces))}
    return mesh, np.full(len(faces), PART["head"], np.uint8), tang, rest_all, params, np.concatenate(convex)


def hair_surface(mesh, tangents: np.ndarray, rest: np.ndarray, spec: dict):
    """The shader's view of hair: its vertex colours (strand-wise variation) and an anisotropic highlight along
    ``tangents`` (Kajiya-Kay)."""
    from humandepth.render.surface import Surface, interpolate

    faces = np.asarray(mesh.faces)

    def tangent(face, bary, world):
        t = interpolate(tangents, faces, face, bary)
        return t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-9)

    return Surface("hair", None, specular=0.02, shininess=80.0, tangent=tangent,
                   params={"style": spec["style"], "colour": spec["colour_name"]})


# --- head coverings (garments) ---------------------------------------------------------------------------

def sample_headwear_spec(rng: np.random.Generator, kind: str, top_look: dict | None = None) -> dict:
    u = rng.uniform
    if kind == "cap":
        colour = colorsys.hsv_to_rgb(rng.random(), u(0, 0.8), u(0.05, 0.9))
        return {"type": "cap", "colour": [round(c, 4) for c in colour], "brim_m": round(u(0.055, 0.08), 4),
                "brim_yaw_rad": round(u(-0.2, 0.2) if rng.random() < 0.85 else np.pi, 4),
                "thickness_m": round(u(0.002, 0.004), 5), "material": "cotton", "seed": int(rng.integers(2**31))}
    colour = top_look["colour"] if top_look else list(colorsys.hsv_to_rgb(rng.random(), u(0, 0.7), u(0.1, 0.9)))
    return {"type": "hood", "colour": [round(float(c), 4) for c in colour], "looseness_m": round(u(0.01, 0.03), 4),
            "thickness_m": round(u(0.004, 0.008), 5), "material": "knit", "seed": int(rng.integers(2**31))}


def build_headwear(dense, body, spec: dict, scene):
    """A cap or a hood (up) over whatever is on the head already."""
    from humandepth.render.garments import offset_shell, patch

    frame = HeadFrame(dense)
    theta, height = frame.angles(dense.rest)
    on_head = dense.parts == PART["head"]
    rel = dense.rest - frame.centre
    if spec["type"] == "cap":
        cover = on_head & (height > 0.045 + 0.015 * np.cos(theta) - 0.01 * (np.cos(theta) < -0.3))
        ear = (np.abs(rel[:, 0]) > frame.radius * 0.92) & (height < 0.04)
        cover &= ~ear
        used, f, bedges = patch(dense, cover)
        rgb = np.tile(np.asarray(spec["colour"]), (len(used), 1))
        th, _ = frame.angles(dense.rest[used])
        panel = (np.sin(th * 3) > 0.97)
        rgb[panel] *= 0.8  # seams between the panels
        g = offset_shell(dense, body, scene, spec, used, f, bedges, np.full(len(used), 0.002), spec["thickness_m"],
                         rgb)
        # the brim: a gently curved plate ahead of the forehead edge
        yaw = spec["brim_yaw_rad"]
        a = np.linspace(-1.0, 1.0, 15)
        rr = np.linspace(0.0, 1.0, 6)
        A, Rr = np.meshgrid(a, rr, indexing="ij")
        edge_r = frame.radius * 1.08 + dense.under[used].max() * 0.5
        ang = A + yaw
        x = np.sin(ang) * (edge_r + Rr * spec["brim_m"] * np.cos(A * 0.9))
        z = np.cos(ang) * (edge_r + Rr * spec["brim_m"] * np.cos(A * 0.9))
        y = 0.045 + 0.015 - 0.01 * Rr - 0.006 * A**2
        pts = frame.centre + np.stack([x, frame.eye_y - frame.centre[1] + y, z], -1).reshape(-1, 3)
        bv = frame.pose(pts)
        n_a, n_r = len(a), len(rr)
        ii, jj = np.meshgrid(np.arange(n_a - 1), np.arange(n_r - 1), indexing="ij")
        v00 = ii * n_r + jj
        bf = np.concatenate([np.stack([v00, v00 + n_r, v00 + n_r + 1], -1).reshape(-1, 3),
                             np.stack([v00, v00 + n_r + 1, v00 + 1], -1).reshape(-1, 3)])
        verts = np.concatenate([np.asarray(g.mesh.vertices), bv])
        faces = np.concatenate([np.asarray(g.mesh.faces), bf + len(g.mesh.vertices)])
        cols = np.concatenate([np.asarray(g.mesh.visual.vertex_colors),
                               np.tile(np.asarray(g.mesh.visual.vertex_colors)[:1], (len(bv), 1))])
        mesh = trimesh.Trimesh(verts, faces, process=False)
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=cols)
        g.mesh = mesh
        g.face_parts = np.concatenate([g.face_parts, np.full(len(bf), PART["head"], np.uint8)])
        g.rest = np.concatenate([g.rest, pts])
        g.convexity = np.concatenate([g.convexity, np.zeros(len(pts))])
        g.params["faces"] = int(len(faces))
        return g
    # hood (up): the head and neck except an oval around the face
    face_open = (np.abs(theta) < 1.0) & (height < 0.075) & (height > -0.14)
    cover = on_head & ~face_open
    used, f, bedges = patch(dense, cover)
    th, hh = frame.angles(dense.rest[used])
    loose = spec["looseness_m"] * smoothstep(-0.05, 0.08, hh) * (0.6 + 0.4 * np.abs(np.sin(th)))
    rim = np.abs(np.abs(th) - 1.0) < 0.15
    extra = loose + 0.004 * rim
    rgb = np.tile(np.asarray(spec["colour"]), (len(used), 1))
    return offset_shell(dense, body, scene, spec, used, f, bedges, extra, spec["thickness_m"], rgb)

"""``render_mesh``: exact float depth / normal / mask (and a shaded RGB) of triangle meshes seen by a Camera.

How the passes are made (no anti-aliasing anywhere):

1. *Visibility* is rasterised by pyrender (OSMesa or EGL, :mod:`humandepth.render.engine`): every triangle is
   drawn flat in a unique 24-bit colour (its index + 1) with multisampling off, so each pixel holds the id of
   the triangle visible at its centre, or 0 for the background.
2. *Depth* is then computed exactly in float64: the pixel's ray ``K^-1 (u, v, 1)`` (pixel centres at integer
   coordinates, camera ``K`` convention) is intersected with the plane of that triangle (Moeller-Trumbore),
   giving planar z (the ray has z = 1) and barycentric coordinates.  It does not use the 24-bit z-buffer.
3. *Normals* interpolate the mesh's float vertex normals with those barycentrics (or use the face normal where
   the mesh is not smooth there: see ``crease_angle_deg``), rotated into the OpenCV camera frame, unit length,
   flipped to face the camera (``n . ray < 0``).
4. *RGB* is shaded per pixel in numpy from the same visibility: albedo from the mesh's visual (vertex colours,
   face colours or a texture image with UVs; grey otherwise), Lambert diffuse plus a weak Blinn-Phong
   highlight from ambient / directional / point lights in linear light, encoded to sRGB and composited over the
   background with the same mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import trimesh

from humandepth.data.camera import Camera

DEFAULT_GREY = np.array([0.62, 0.62, 0.62])


def default_lights() -> list[dict]:
    """An ambient term plus a light from the camera (a 'headlight'), in the camera frame."""
    return [
        {"type": "ambient", "color": [1.0, 1.0, 1.0], "intensity": 0.35},
        {"type": "directional", "direction": [0.0, 0.0, 1.0], "color": [1.0, 1.0, 1.0], "intensity": 0.8,
         "frame": "camera"},
    ]


def _as_meshes(mesh) -> list[trimesh.Trimesh]:
    meshes = [mesh] if isinstance(mesh, trimesh.Trimesh) else list(mesh)
    if not meshes:
        raise ValueError("render_mesh needs at least one mesh")
    for i, m in enumerate(meshes):
        if not isinstance(m, trimesh.Trimesh):
            raise ValueError(f"render_mesh: item {i} is a {type(m).__name__}, not a trimesh.Trimesh")
        if len(m.faces) == 0:
            raise ValueError(f"render_mesh: mesh {i} has no faces")
    return meshes


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) unit area-weighted vertex normals (float64); isolated vertices get (0, 0, 0)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    fn = _cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    idx = f.T.reshape(-1)
    out = np.stack([np.bincount(idx, weights=np.tile(fn[:, k], 3), minlength=len(v)) for k in range(3)], axis=1)
    norm = np.sqrt(_dot(out, out))[:, None]
    return np.where(norm > 0, out / np.maximum(norm, 1e-300), 0.0)


def rasterize_ids(verts_cam: Sequence[np.ndarray], faces: Sequence[np.ndarray], camera: Camera,
                  znear: float | None = None, zfar: float | None = None) -> np.ndarray:
    """(H, W) int64 global triangle id visible at each pixel centre, -1 for the background.

    ``verts_cam``: per mesh (N, 3) vertices in the OpenCV camera frame (metres); ``faces``: per mesh (F, 3).
    Global ids count the triangles of all meshes in order.
    """
    from humandepth.render.engine import get_renderer, pyrender_module

    pyrender = pyrender_module()
    zs = np.concatenate([v[:, 2] for v in verts_cam])
    front = zs[zs > 1e-6]
    if front.size == 0:
        return np.full((camera.height, camera.width), -1, np.int64)
    if znear is None:  # the nearest point of a triangle is one of its vertices unless it crosses z = 0
        znear = max(float(front.min()) * 0.5, 1e-3) if zs.min() > 1e-6 else 0.01
    if zfar is None:
        zfar = float(zs.max()) * 1.5 + 1e-3
    total = sum(len(f) for f in faces)
    if total >= (1 << 24) - 1:
        raise ValueError(f"render_mesh supports at most {(1 << 24) - 2} triangles")
    # one draw call for everything: global triangle ids are gl_PrimitiveID directly
    starts = np.cumsum([0] + [len(v) for v in verts_cam])
    positions = np.concatenate(verts_cam).astype(np.float32) * np.array([1.0, -1.0, -1.0], np.float32)
    indices = np.concatenate([np.asarray(f, np.int64) + s for f, s in zip(faces, starts, strict=False)])
    material = pyrender.MetallicRoughnessMaterial(baseColorFactor=np.array([0.0, 0.0, 0.0, 1.0]), doubleSided=True)
    prims = [pyrender.Primitive(positions=positions, indices=indices.astype(np.uint32), material=material)]
    scene = pyrender.Scene(bg_color=[0.0, 0.0, 0.0, 1.0], ambient_light=[0.0, 0.0, 0.0])
    scene.add(pyrender.Mesh(prims))
    K = camera.K
    scene.add(pyrender.IntrinsicsCamera(fx=K[0, 0], fy=K[1, 1], cx=K[0, 2] + 0.5, cy=K[1, 2] + 0.5,
                                        znear=znear, zfar=zfar), pose=np.eye(4))
    r = get_renderer(camera.width, camera.height)
    colour, _ = r.render(scene, flags=pyrender.RenderFlags.FLAT)
    c = colour[..., :3].astype(np.int64)
    return (c[..., 0] | (c[..., 1] << 8) | (c[..., 2] << 16)) - 1


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (P, 3) arrays (np.cross without its generic overhead)."""
    return np.stack([a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1], a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2],
                     a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]], axis=1)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1] + a[:, 2] * b[:, 2]


def _normalise(a: np.ndarray) -> np.ndarray:
    return a / np.maximum(np.sqrt(_dot(a, a)), 1e-30)[:, None]


def _intersect(tri: np.ndarray, rays: np.ndarray):
    """Ray (origin 0, direction ``rays`` with z=1) x triangle ``tri`` (P, 3, 3) -> (t, b1, b2, ok, e1, e2)."""
    p0, e1, e2 = tri[:, 0], tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]
    pvec = _cross(rays, e2)
    det = _dot(e1, pvec)
    ok = np.abs(det) > 1e-14
    inv = 1.0 / np.where(ok, det, 1.0)
    tvec = -p0
    b1 = _dot(tvec, pvec) * inv
    qvec = _cross(tvec, e1)
    b2 = _dot(rays, qvec) * inv
    t = _dot(e2, qvec) * inv
    return t, b1, b2, ok & (t > 0), e1, e2


def _srgb_to_linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def mesh_albedo(mesh: trimesh.Trimesh, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """(P, 3) sRGB albedo in [0, 1] at the given faces/barycentrics of ``mesh``."""
    visual = mesh.visual
    kind = getattr(visual, "kind", None)
    if kind == "texture" and getattr(visual, "uv", None) is not None:
        material = visual.material
        image = getattr(material, "image", None)
        if image is None and hasattr(material, "baseColorTexture"):
            image = material.baseColorTexture
        if image is not None:
            tex = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
            uv = np.einsum("pk,pkj->pj", bary, np.asarray(visual.uv, np.float64)[mesh.faces[face]])
            h, w = tex.shape[:2]
            uv = np.where((uv >= 0.0) & (uv <= 1.0), uv, np.mod(uv, 1.0))  # repeat outside, clamp at the edges
            x = uv[:, 0] * w - 0.5
            y = (1.0 - uv[:, 1]) * h - 0.5
            x0, y0 = np.floor(x).astype(np.int64), np.floor(y).astype(np.int64)
            fx, fy = (x - x0)[:, None], (y - y0)[:, None]
            x0, x1 = np.clip(x0, 0, w - 1), np.clip(x0 + 1, 0, w - 1)
            y0, y1 = np.clip(y0, 0, h - 1), np.clip(y0 + 1, 0, h - 1)
            return ((tex[y0, x0] * (1 - fx) + tex[y0, x1] * fx) * (1 - fy)
                    + (tex[y1, x0] * (1 - fx) + tex[y1, x1] * fx) * fy)
    if kind == "vertex":
        vc = np.asarray(visual.vertex_colors, np.float64)[:, :3] / 255.0
        return np.einsum("pk,pkj->pj", bary, vc[mesh.faces[face]])
    if kind == "face":
        return np.asarray(visual.face_colors, np.float64)[face, :3] / 255.0
    return np.broadcast_to(DEFAULT_GREY, (len(face), 3))


def _shade(albedo_srgb, normal, points, lights, rot, trans, specular: float = 0.08, shininess: float = 24.0):
    """Linear-light Lambert + Blinn-Phong.  ``normal``/``points`` (P, 3) in the camera frame."""
    alb = _srgb_to_linear(albedo_srgb)
    diffuse = np.zeros_like(alb)
    spec = np.zeros_like(alb)
    view = -points / np.linalg.norm(points, axis=1, keepdims=True)
    for light in lights:
        colour = np.asarray(light.get("color", (1.0, 1.0, 1.0)), np.float64) * float(light.get("intensity", 1.0))
        kind = light["type"]
        if kind == "ambient":
            diffuse += colour
            continue
        in_camera = light.get("frame", "world") == "camera"
        if kind == "directional":
            d = np.asarray(light["direction"], np.float64)
            d = d if in_camera else rot @ d
            to_light = np.broadcast_to(-d / np.linalg.norm(d), points.shape)
            falloff = 1.0
        elif kind == "point":
            p = np.asarray(light["position"], np.float64)
            p = p if in_camera else rot @ p + trans
            vec = p - points
            dist = np.linalg.norm(vec, axis=1, keepdims=True)
            to_light = vec / dist
            falloff = 1.0 / np.maximum(dist, 1e-3) ** 2
        else:
            raise ValueError(f"unknown light type {kind!r} (ambient, directional or point)")
        ndl = np.clip(np.einsum("ij,ij->i", normal, to_light), 0.0, None)[:, None]
        diffuse += colour * ndl * falloff
        half = to_light + view
        half /= np.maximum(np.linalg.norm(half, axis=1, keepdims=True), 1e-12)
        ndh = np.clip(np.einsum("ij,ij->i", normal, half), 0.0, None)[:, None]
        spec += colour * specular * (ndh**shininess) * (ndl > 0) * falloff
    return _linear_to_srgb(alb * diffuse + spec)


def _background(background, height: int, width: int) -> np.ndarray:
    if background is None:
        return np.zeros((height, width, 3), np.uint8)
    bg = np.asarray(background)
    if bg.shape == (3,):
        value = bg * 255.0 if bg.dtype.kind == "f" and bg.max() <= 1.0 else bg
        return np.broadcast_to(np.clip(np.round(value), 0, 255).astype(np.uint8), (height, width, 3)).copy()
    if bg.shape != (height, width, 3):
        raise ValueError(f"background must be an RGB colour or a ({height}, {width}, 3) image, got {bg.shape}")
    return bg.astype(np.uint8, copy=True)


def visible_surface(meshes, camera: Camera, *, sample=None, normals: bool = True, smooth=True,
                    crease_angle_deg: float = 45.0, znear: float | None = None, zfar: float | None = None) -> dict:
    """Rasterised visibility of ``meshes`` (a list of world-frame trimeshes) and the exact surface at pixel centres.

    ``sample``: optional ``fn(pixel (N,) flat index, mesh (N,)) -> (N,) bool`` choosing which covered pixels get
    the exact samples (default: all).  Returns ``mesh_index`` (H, W) int16 of every covered pixel (-1 none) and,
    over the P sampled pixels where the ray meets the face's plane: ``pixel`` (P,) int64 flat index
    ``v * W + u``, ``mesh`` (P,) int64, ``face`` (P,) int64 (of that mesh), ``bary`` (P, 3) float64,
    ``point`` (P, 3) float64 camera-frame hit points (planar depth is ``point[:, 2]``) and, with ``normals``,
    ``normal`` (P, 3) float64 unit camera-frame normals facing the camera (see :func:`render_mesh`; ``smooth``
    may be a list with one flag per mesh, False giving face normals).
    """
    rot, trans = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
    verts = [np.asarray(m.vertices, np.float64) @ rot.T + trans for m in meshes]
    faces = [np.asarray(m.faces, np.int64) for m in meshes]
    ids = rasterize_ids(verts, faces, camera, znear, zfar)
    h, w = camera.height, camera.width
    offsets = np.cumsum([0] + [len(f) for f in faces])
    ids[ids >= offsets[-1]] = -1  # never happens with an exact id pass; guards against a corrupted read-back
    flat = ids.reshape(-1)
    covered = np.flatnonzero(flat >= 0)
    mesh_index = np.full(h * w, -1, np.int16)
    mesh_index[covered] = np.searchsorted(offsets, flat[covered], side="right") - 1
    pix = covered if sample is None else covered[sample(covered, mesh_index[covered].astype(np.int64))]
    gid = flat[pix]
    mesh_of = mesh_index[pix].astype(np.int64)
    local = gid - offsets[mesh_of]
    u = (pix % w).astype(np.float64)
    v = (pix // w).astype(np.float64)
    rays = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones_like(u)], axis=1)
    vstart = np.cumsum([0] + [len(v) for v in verts])
    all_faces = np.concatenate([f + vstart[i] for i, f in enumerate(faces)])
    tri = np.concatenate(verts)[all_faces[gid]]
    t, b1, b2, ok, e1, e2 = _intersect(tri, rays)
    bary = np.stack([1.0 - b1 - b2, b1, b2], axis=1)
    bary = np.clip(bary, 0.0, None)
    bary /= bary.sum(axis=1, keepdims=True)
    n = None
    if normals:
        face_n = _normalise(_cross(e1, e2))
        flags = np.broadcast_to(np.asarray(smooth, bool), (len(meshes),))
        n = face_n
        if flags.any():
            vn = np.concatenate([vertex_normals(m.vertices, m.faces) @ rot.T if f else np.zeros((len(m.vertices), 3))
                                 for m, f in zip(meshes, flags, strict=True)])
            sm = flags[mesh_of]
            ns = _normalise(np.einsum("pk,pkj->pj", bary[sm], vn[all_faces[gid[sm]]]))
            fs = face_n[sm]
            crease = np.abs(_dot(ns, fs)) < np.cos(np.radians(crease_angle_deg))
            ns[crease] = fs[crease] * np.sign(_dot(ns[crease], fs[crease]) + 1e-30)[:, None]
            n = face_n.copy()
            n[sm] = ns
        n[_dot(n, rays) > 0] *= -1
    keep = ok & np.isfinite(t)
    if not keep.all():
        pix, mesh_of, local, t, bary, rays = (a[keep] for a in (pix, mesh_of, local, t, bary, rays))
        n = n[keep] if n is not None else None
    out = {"mesh_index": mesh_index.reshape(h, w), "pixel": pix, "mesh": mesh_of, "face": local, "bary": bary,
           "point": rays * t[:, None]}
    if n is not None:
        out["normal"] = n
    return out


def render_mesh(mesh, camera: Camera, *, rgb: bool = True, normal: bool = True, lights: list[dict] | None = None,
                background=None, smooth: bool = True, crease_angle_deg: float = 45.0, znear: float | None = None,
                zfar: float | None = None, surface: bool = False) -> dict:
    """Render one ``trimesh.Trimesh`` (or a list of them) with ``camera``; no anti-aliasing.

    Args:
        mesh: a mesh or a list of meshes in the world frame (metres; the camera's ``cam_from_world`` maps
            them to the camera).  Back faces are drawn (open surfaces such as garments are fine).
        camera: :class:`humandepth.data.Camera` (OpenCV frame, pixel centres at integer coordinates).
        rgb: also shade an RGB image.
        normal: also return normals (``rgb`` needs them and implies it).
        lights: list of ``{"type": "ambient"|"directional"|"point", "color": [r, g, b] (0..1), "intensity": f,
            "direction": [x, y, z] (directional, the way the light travels) | "position": [x, y, z] (point,
            falls off with 1/d^2), "frame": "world" (default) | "camera"}``; default :func:`default_lights`.
        background: None (black), an RGB colour (0..1 floats or 0..255) or an (H, W, 3) uint8 image.
        smooth: interpolate vertex normals; False uses face normals everywhere.
        crease_angle_deg: where the interpolated vertex normal deviates from the face normal by more than this
            (a crease, e.g. a box edge or a garment hem), the face normal is used.
        znear, zfar: clip planes in metres (default: from the meshes' extent; they only bound visibility).
        surface: also return ``surface``, the per-pixel samples a separate shader needs (see Returns).

    Returns:
        dict with ``depth`` (H, W) float32 planar z in metres, 0 = background; ``normal`` (H, W, 3) float32 unit
        vectors in the OpenCV camera frame facing the camera, 0 = background; ``mask`` (H, W) bool;
        ``mesh_index`` (H, W) int16 (which mesh, -1 = background); ``face_index`` (H, W) int32 (triangle of
        that mesh, -1 = background); and with ``rgb=True`` ``rgb`` (H, W, 3) uint8 composited over
        ``background`` with ``mask``.  With ``surface=True``, ``surface`` is a dict over the P covered pixels:
        ``pixel`` (P,) int64 flat index ``v * W + u``, ``mesh`` (P,) int64, ``face`` (P,) int64 (of that mesh),
        ``bary`` (P, 3) float64 barycentric weights of the face's vertices, ``point`` (P, 3) float64 camera-frame
        hit points (metres) and ``normal`` (P, 3) float64 (the normals of the ``normal`` pass).
    """
    meshes = _as_meshes(mesh)
    rot, trans = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
    vis = visible_surface(meshes, camera, normals=normal or rgb or surface, smooth=smooth,
                          crease_angle_deg=crease_angle_deg, znear=znear, zfar=zfar)
    h, w = camera.height, camera.width
    pix, mesh_of, local, bary, point = vis["pixel"], vis["mesh"], vis["face"], vis["bary"], vis["point"]
    t = point[:, 2]
    n = vis.get("normal")
    depth = np.zeros(h * w, np.float32)
    depth[pix] = t
    mesh_index = np.full(h * w, -1, np.int16)
    mesh_index[pix] = mesh_of
    face_index = np.full(h * w, -1, np.int32)
    face_index[pix] = local
    out = {
        "depth": depth.reshape(h, w),
        "mask": (mesh_index >= 0).reshape(h, w),
        "mesh_index": mesh_index.reshape(h, w),
        "face_index": face_index.reshape(h, w),
    }
    if normal:
        normals = np.zeros((h * w, 3), np.float32)
        normals[pix] = n
        out["normal"] = normals.reshape(h, w, 3)
    if surface:
        out["surface"] = {"pixel": pix, "mesh": mesh_of, "face": local, "bary": bary, "point": point, "normal": n}
    if rgb:
        albedo = np.empty((len(pix), 3))
        for i, m in enumerate(meshes):
            sel = mesh_of == i
            if sel.any():
                albedo[sel] = mesh_albedo(m, local[sel], bary[sel])
        shaded = _shade(albedo, n, point, default_lights() if lights is None else lights, rot, trans)
        image = _background(background, h, w).reshape(-1, 3)
        image[pix] = np.round(shaded * 255.0).astype(np.uint8)
        out["rgb"] = image.reshape(h, w, 3)
    return out

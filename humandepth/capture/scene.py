"""Scenes of trimesh meshes for the simulated sensor, rendered exactly by ray casting (Open3D).

World frame: metres, right-handed, +Y up (the humandepth convention).  A :class:`Scene` is a list of
:class:`SceneObject` (a mesh + an albedo function).  :meth:`Scene.render` casts one ray per pixel
through pixel centres (``Camera.rays``, z = 1 in the camera), so the hit parameter is planar depth,
exact to float32; colour is albedo times a fixed world light (so it does not change with the camera).

:func:`room_scene` builds the default take scene: a person standing at the origin (feet at y = 0,
facing +Z) inside a room with a textured floor, walls and ceiling, so odometry has texture to track.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import trimesh
from scipy import ndimage

from humandepth.data.camera import Camera

# albedo(points_world (N,3), face_ids (N,), barycentric uv (N,2)) -> (N,3) float in [0, 1]
Albedo = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
LIGHT_DIR = np.array([0.35, 1.0, 0.55]) / np.linalg.norm([0.35, 1.0, 0.55])
AMBIENT = 0.45


def constant_albedo(rgb) -> Albedo:
    c = np.asarray(rgb, dtype=np.float64).reshape(1, 3)
    return lambda p, f, uv: np.repeat(c, len(p), axis=0)


def mesh_albedo(mesh: trimesh.Trimesh, default=(0.6, 0.6, 0.6)) -> Albedo:
    """Albedo from a mesh's own visual: texture (UV-interpolated lookup), vertex or face colours."""
    visual = mesh.visual
    faces = np.asarray(mesh.faces)
    if getattr(visual, "kind", None) == "texture" and getattr(visual, "uv", None) is not None:
        image = getattr(visual.material, "image", None) or getattr(visual.material, "baseColorTexture", None)
        if image is not None:
            tex = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
            vuv = np.asarray(visual.uv, dtype=np.float64)

            def from_texture(p, f, uv):
                tri = vuv[faces[f]]  # (N, 3, 2)
                w = np.stack([1 - uv[:, 0] - uv[:, 1], uv[:, 0], uv[:, 1]], axis=1)[..., None]
                t = (tri * w).sum(axis=1) % 1.0
                cols = np.clip((t[:, 0] * (tex.shape[1] - 1)).round().astype(int), 0, tex.shape[1] - 1)
                rows = np.clip(((1 - t[:, 1]) * (tex.shape[0] - 1)).round().astype(int), 0, tex.shape[0] - 1)
                return tex[rows, cols]

            return from_texture
    if getattr(visual, "kind", None) == "vertex":
        vc = np.asarray(visual.vertex_colors, dtype=np.float64)[:, :3] / 255.0

        def from_vertices(p, f, uv):
            w = np.stack([1 - uv[:, 0] - uv[:, 1], uv[:, 0], uv[:, 1]], axis=1)[..., None]
            return (vc[faces[f]] * w).sum(axis=1)

        return from_vertices
    if getattr(visual, "kind", None) == "face":
        fc = np.asarray(visual.face_colors, dtype=np.float64)[:, :3] / 255.0
        return lambda p, f, uv: fc[f]
    return constant_albedo(default)


def texture_image(rng: np.random.Generator, height: int, width: int, palette) -> np.ndarray:
    """(H, W, 3) float64 in [0, 1]: multi-octave smooth noise coloured from ``palette`` plus random
    rectangles (posters, tiles) -- enough texture at every scale for feature and photometric tracking."""
    base = np.zeros((height, width))
    for cell, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        coarse = rng.random((height // cell + 2, width // cell + 2))
        up = ndimage.zoom(coarse, cell, order=1)[:height, :width]
        base += weight * up
    palette = np.asarray(palette, dtype=np.float64)
    pos = np.clip(base, 0, 0.999) * (len(palette) - 1)
    lo = np.floor(pos).astype(int)
    frac = (pos - lo)[..., None]
    img = palette[lo] * (1 - frac) + palette[np.minimum(lo + 1, len(palette) - 1)] * frac
    for _ in range(max(1, height * width // 20000)):
        h, w = rng.integers(height // 20 + 1, height // 4 + 2), rng.integers(width // 20 + 1, width // 4 + 2)
        r0, c0 = rng.integers(0, max(height - h, 1)), rng.integers(0, max(width - w, 1))
        img[r0:r0 + h, c0:c0 + w] = rng.random(3) * 0.8 + 0.1
    return np.clip(img, 0, 1)


def planar_albedo(texture: np.ndarray, origin, u_axis, v_axis, texel_m: float) -> Albedo:
    """Albedo of a plane textured with ``texture`` (H, W, 3): texel (r, c) covers
    ``origin + (c * u_axis + r * v_axis) * texel_m`` (tiled beyond the image)."""
    o, u, v = (np.asarray(a, dtype=np.float64) for a in (origin, u_axis, v_axis))
    h, w = texture.shape[:2]

    def sample(p, f, uv):
        d = np.asarray(p, dtype=np.float64) - o
        cols = np.floor(d @ u / texel_m).astype(np.int64) % w
        rows = np.floor(d @ v / texel_m).astype(np.int64) % h
        return texture[rows, cols]

    return sample


@dataclass
class SceneObject:
    """A mesh (world frame, metres) with its albedo; ``person`` marks the subject (for masks)."""

    name: str
    mesh: trimesh.Trimesh
    albedo: Albedo
    person: bool = False


@dataclass
class RenderResult:
    """Exact render of a scene from one camera.

    depth: (H, W) float32 planar z (metres), 0 where no surface.  normal: (H, W, 3) float32 unit,
    camera frame, facing the camera.  mask: (H, W) bool person pixels.  rgb: (H, W, 3) uint8.
    object_id: (H, W) int32 index into ``Scene.objects``, -1 = nothing.  cos_incidence: (H, W) float32.
    points: (H, W, 3) float64 world points (valid where depth > 0).
    """

    depth: np.ndarray
    normal: np.ndarray
    mask: np.ndarray
    rgb: np.ndarray
    object_id: np.ndarray
    cos_incidence: np.ndarray
    points: np.ndarray


@dataclass
class Scene:
    """A set of meshes ray-cast with ``open3d.t.geometry.RaycastingScene``."""

    objects: list[SceneObject]
    description: dict = field(default_factory=dict)

    def __post_init__(self):
        import open3d as o3d

        self._o3d = o3d
        self._rc = o3d.t.geometry.RaycastingScene()
        self._gid_to_obj = {}
        for i, obj in enumerate(self.objects):
            v = o3d.core.Tensor(np.asarray(obj.mesh.vertices, dtype=np.float32))
            t = o3d.core.Tensor(np.asarray(obj.mesh.faces, dtype=np.uint32))
            self._gid_to_obj[int(self._rc.add_triangles(v, t))] = i

    def cast(self, origins: np.ndarray, directions: np.ndarray) -> dict:
        """Cast (N, 3) rays; returns ``t`` (N,) float64 (inf = miss), ``obj`` (N,) int (-1 = miss),
        ``face`` (N,), ``uv`` (N, 2) barycentric, ``normal`` (N, 3) world face normals."""
        rays = np.concatenate([origins, directions], axis=1).astype(np.float32)
        ans = self._rc.cast_rays(self._o3d.core.Tensor(rays))
        t = ans["t_hit"].numpy().astype(np.float64)
        gid = ans["geometry_ids"].numpy().astype(np.int64)
        lut = np.full(max(self._gid_to_obj) + 2, -1, dtype=np.int64)
        for g, i in self._gid_to_obj.items():
            lut[g] = i
        miss = ~np.isfinite(t)
        obj = np.where(miss, -1, lut[np.clip(gid, 0, len(lut) - 1)])
        return {"t": t, "obj": obj, "face": ans["primitive_ids"].numpy().astype(np.int64),
                "uv": ans["primitive_uvs"].numpy().astype(np.float64),
                "normal": ans["primitive_normals"].numpy().astype(np.float64)}

    def occluded_from(self, points: np.ndarray, viewpoint: np.ndarray, valid: np.ndarray, eps: float = 2e-3):
        """(N,) bool: True where the segment from ``viewpoint`` to a valid point hits something first."""
        out = np.zeros(len(points), dtype=bool)
        idx = np.flatnonzero(valid)
        if len(idx) == 0:
            return out
        d = points[idx] - viewpoint[None]
        dist = np.linalg.norm(d, axis=1)
        hit = self.cast(np.repeat(viewpoint[None], len(idx), axis=0), d / dist[:, None])
        out[idx] = hit["t"] < dist - eps
        return out

    def render(self, camera: Camera, colour: bool = True) -> RenderResult:
        """Render depth, normals, person mask, colour and world points from ``camera`` (exact, no AA)."""
        H, W = camera.height, camera.width
        rays_cam = camera.rays().reshape(-1, 3)
        wfc = camera.world_from_cam
        dirs = rays_cam @ wfc[:3, :3].T
        origin = wfc[:3, 3]
        hit = self.cast(np.repeat(origin[None], len(dirs), axis=0), dirs)
        t = hit["t"]
        valid = np.isfinite(t)
        depth = np.where(valid, t, 0.0)
        points = origin[None] + dirs * depth[:, None]
        n_cam = hit["normal"] @ camera.cam_from_world[:3, :3].T
        unit_rays = rays_cam / np.linalg.norm(rays_cam, axis=1, keepdims=True)
        facing = np.sum(n_cam * unit_rays, axis=1)
        n_cam = np.where(facing[:, None] > 0, -n_cam, n_cam)
        n_cam[~valid] = 0
        cos_inc = np.where(valid, np.abs(facing), 0.0)
        obj = hit["obj"]
        person_ids = [i for i, o in enumerate(self.objects) if o.person]
        mask = np.isin(obj, person_ids) & valid
        rgb = np.zeros((len(dirs), 3), dtype=np.uint8)
        if colour:
            albedo = np.zeros((len(dirs), 3))
            for i, o in enumerate(self.objects):
                sel = obj == i
                if sel.any():
                    albedo[sel] = o.albedo(points[sel], hit["face"][sel], hit["uv"][sel])
            n_world = n_cam @ camera.cam_from_world[:3, :3]
            shade = AMBIENT + (1 - AMBIENT) * np.clip(n_world @ LIGHT_DIR, 0, 1)
            rgb = np.where(valid[:, None], np.clip(albedo * shade[:, None] * 255.0 + 0.5, 0, 255), 0).astype(np.uint8)
        return RenderResult(
            depth=depth.reshape(H, W).astype(np.float32), normal=n_cam.reshape(H, W, 3).astype(np.float32),
            mask=mask.reshape(H, W), rgb=rgb.reshape(H, W, 3), object_id=obj.reshape(H, W).astype(np.int32),
            cos_incidence=cos_inc.reshape(H, W).astype(np.float32), points=points.reshape(H, W, 3),
        )


# --- the default take scene --------------------------------------------------------------------

def _quad(corner, u, v) -> trimesh.Trimesh:
    c, u, v = (np.asarray(a, dtype=np.float64) for a in (corner, u, v))
    verts = np.array([c, c + u, c + u + v, c + v])
    return trimesh.Trimesh(verts, np.array([[0, 1, 2], [0, 2, 3]]), process=False)


def room_objects(rng: np.random.Generator, half_x: float = 2.5, half_z: float = 2.3, height: float = 2.8,
                 texel_m: float = 0.01, center_z: float = 0.0) -> list[SceneObject]:
    """Floor, four walls and a ceiling of a box room centred on (0, 0, ``center_z``) (floor at y = 0),
    each with its own procedural texture (1 texel = ``texel_m`` metres)."""
    wall_palette = [(0.85, 0.82, 0.75), (0.55, 0.6, 0.7), (0.9, 0.7, 0.5), (0.35, 0.4, 0.35), (0.95, 0.95, 0.9)]
    floor_palette = [(0.45, 0.3, 0.18), (0.65, 0.45, 0.28), (0.3, 0.2, 0.12), (0.75, 0.6, 0.4)]
    x, z, h, c = half_x, half_z, height, center_z
    specs = [  # name, corner, u, v (u, v span the quad; texture axes follow them)
        ("floor", (-x, 0, c - z), (2 * x, 0, 0), (0, 0, 2 * z), floor_palette),
        ("ceiling", (-x, h, c - z), (2 * x, 0, 0), (0, 0, 2 * z), wall_palette[-1:] * 2),
        ("wall_back", (-x, 0, c - z), (2 * x, 0, 0), (0, h, 0), wall_palette),
        ("wall_front", (-x, 0, c + z), (2 * x, 0, 0), (0, h, 0), wall_palette),
        ("wall_left", (-x, 0, c - z), (0, 0, 2 * z), (0, h, 0), wall_palette),
        ("wall_right", (x, 0, c - z), (0, 0, 2 * z), (0, h, 0), wall_palette),
    ]
    objects = []
    for name, corner, u, v, palette in specs:
        u_len, v_len = np.linalg.norm(u), np.linalg.norm(v)
        tex = texture_image(rng, int(v_len / texel_m), int(u_len / texel_m), palette)
        if name == "ceiling":
            tex = np.clip(0.9 + 0.05 * (tex - tex.mean()), 0, 1)
        albedo = planar_albedo(tex, corner, np.asarray(u) / u_len, np.asarray(v) / v_len, texel_m)
        objects.append(SceneObject(name, _quad(corner, u, v), albedo))
    return objects


def mannequin(seed: int = 0) -> trimesh.Trimesh:
    """A simple clothed-looking figure from primitives (used when the render wing is unavailable):
    feet at y = 0, +Y up, facing +Z, about 1.75 m tall, per-face colours for skin, shirt and trousers."""
    rng = np.random.default_rng(seed)
    shirt = (rng.random(3) * 0.6 + 0.2)
    trousers = (rng.random(3) * 0.4 + 0.1)
    skin = np.array([0.87, 0.7, 0.58]) * (0.7 + 0.3 * rng.random())
    parts = []

    def add(mesh, colour, transform):
        mesh.apply_transform(transform)
        mesh.visual.face_colors = np.append(np.asarray(colour) * 255, 255).astype(np.uint8)
        parts.append(mesh)

    def at(x, y, z, rx=0.0, rz=0.0):
        T = trimesh.transformations.euler_matrix(np.pi / 2 + rx, 0, rz, "sxyz")  # capsule axis z -> y
        T[:3, 3] = (x, y, z)
        return T

    for side in (-1, 1):
        add(trimesh.creation.capsule(height=0.78, radius=0.065, count=[16, 16]), trousers, at(0.1 * side, 0.46, 0))
        add(trimesh.creation.box((0.1, 0.06, 0.24)), trousers * 0.5, trimesh.transformations.translation_matrix(
            (0.1 * side, 0.03, 0.04)))
        add(trimesh.creation.capsule(height=0.55, radius=0.045, count=[16, 16]), shirt,
            at(0.25 * side, 1.2, 0.02, rz=0.18 * side))
        add(trimesh.creation.icosphere(2, 0.045), skin, trimesh.transformations.translation_matrix(
            (0.3 * side, 0.9, 0.03)))
    add(trimesh.creation.capsule(height=0.45, radius=0.17, count=[24, 24]), shirt, at(0, 1.15, 0))
    add(trimesh.creation.cylinder(radius=0.05, height=0.12, sections=16), skin, at(0, 1.5, 0))
    add(trimesh.creation.icosphere(3, 0.11), skin, trimesh.transformations.translation_matrix((0, 1.64, 0.01)))
    mesh = trimesh.util.concatenate(parts)
    mesh.apply_translation((0, -mesh.bounds[0, 1], 0))
    return mesh


def person_mesh(seed: int, source: str = "auto") -> tuple[trimesh.Trimesh, dict]:
    """The subject: ``humandepth.render.sample_person(seed).mesh`` when ``source`` is ``auto`` (and the
    render wing is importable) or ``render``; :func:`mannequin` when ``mannequin`` (or ``auto`` without
    the render wing).  Returns the mesh and a description for the take's metadata."""
    if source not in ("auto", "render", "mannequin"):
        raise ValueError(f"person source must be auto, render or mannequin, got {source!r}")
    if source in ("auto", "render"):
        try:
            from humandepth.render import sample_person
        except ImportError as e:
            if source == "render":
                raise ValueError(f"--person render: humandepth.render.sample_person is not available ({e})") from None
        else:
            person = sample_person(seed)
            info = {"source": "humandepth.render.sample_person", "seed": int(seed), "params": person.params}
            return person.mesh, info
    return mannequin(seed), {"source": "humandepth.capture.scene.mannequin", "seed": int(seed)}


def room_scene(seed: int, person: str | trimesh.Trimesh | None = "auto") -> Scene:
    """The default take scene: the person (see :func:`person_mesh`; a mesh; or ``None`` for an empty
    room) standing at the origin inside a textured 5 x 4.6 x 2.8 m room that extends 2.8 m in front of the
    person (+Z, where the camera orbits) and 1.8 m behind, so the back wall stays within the sensor's
    4 m range from the usual 1-2 m camera distances."""
    rng = np.random.default_rng([seed, 1])
    room = {"half_x": 2.5, "half_z": 2.3, "height": 2.8, "center_z": 0.5}
    objects = room_objects(rng, **room)
    desc = {"room": room, "seed": int(seed)}
    if person is not None:
        if isinstance(person, trimesh.Trimesh):
            mesh, info = person, {"source": "given mesh"}
        else:
            mesh, info = person_mesh(seed, person)
        objects.append(SceneObject("person", mesh, mesh_albedo(mesh), person=True))
        desc["person"] = {**info, "faces": int(len(mesh.faces)), "bounds": np.asarray(mesh.bounds).tolist()}
    return Scene(objects, desc)

"""``sample_person``: a clothed person in the world frame (the render wing's public scene-building API).

World frame: metres, +Y up, the person facing +Z (own left at +X), feet on y = 0, pelvis above the origin.
The capture wing's simulator places the returned meshes in its own room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import trimesh

BODIES = ("anny", "smplx", "scan")
_MODELS: dict = {}


@dataclass
class Person:
    """A sampled person.

    Attributes:
        meshes: ``[body, garment, ...]`` world-frame trimeshes with vertex colours (the body first).
        face_parts: per mesh, (F_i,) uint8 part label of every face (1..14, ``humandepth.data.PART_NAMES``);
            None for scans (no body model, no labels).
        body_vertex_parts: (V,) uint8 part label of every body vertex (None for scans).
        joints3d: (16, 3) float64 world-frame positions of ``humandepth.data.JOINT_NAMES`` (None for scans).
        params: JSON dict of everything sampled (body model, phenotype, pose, garments, skin) and every asset
            with its licence (``params["assets"]``).
        has_body: False for scans (the body under the clothes is unknown: no ``body_depth``).
        kinds: per mesh, what it is: ``body``, ``eyes``, ``garment`` (clothes, footwear, head coverings),
            ``hair`` or ``scan``.
        surfaces: per mesh, its :class:`~humandepth.render.surface.Surface` (how the photographic shader sees it).
        cavity: per mesh, (V,) float ambient visibility of every vertex in [0, 1] (creases and folds are
            darker), or None.
    """

    meshes: list[trimesh.Trimesh]
    face_parts: list[np.ndarray]
    body_vertex_parts: np.ndarray
    joints3d: np.ndarray
    params: dict = field(default_factory=dict)
    has_body: bool = True
    kinds: list[str] | None = None
    surfaces: list | None = None
    cavity: list | None = None
    body_scene: tuple | None = None  # (Open3D ray-casting scene of the body, offset (3,) to add to its points)

    def __post_init__(self):
        from humandepth.render.surface import Surface

        if self.kinds is None:
            self.kinds = ["body" if self.has_body else "scan"] + ["garment"] * (len(self.meshes) - 1)
        if self.surfaces is None:
            self.surfaces = [Surface("skin" if k == "body" else k, specular=0.04, shininess=12) for k in self.kinds]
        if len(self.kinds) != len(self.meshes) or len(self.surfaces) != len(self.meshes):
            raise ValueError("Person: kinds and surfaces need one entry per mesh")

    @property
    def body_mesh(self) -> trimesh.Trimesh:
        """The unclothed body (for scans: the scan itself)."""
        return self.meshes[0]

    @property
    def garment_meshes(self) -> list[trimesh.Trimesh]:
        """Clothes, footwear and head coverings (not hair, not the eyes)."""
        return [m for m, k in zip(self.meshes, self.kinds, strict=True) if k == "garment"]

    def body_depth(self, camera, mask: np.ndarray) -> np.ndarray:
        """(H, W) float32 planar depth (metres) of the unclothed body at the ``mask`` pixels, 0 elsewhere and where
        the body is not hit: rays through the pixel centres cast into the body's ray-casting scene (float32,
        the scene the garments were checked against) or, without one, :func:`render_mesh` of
        :attr:`body_meshes`."""
        if self.body_scene is None:
            from humandepth.render.raster import render_mesh

            depth = render_mesh(self.body_meshes, camera, rgb=False, normal=False)["depth"]
            return np.where(mask, depth, 0.0).astype(np.float32)
        import open3d as o3d

        scene, offset = self.body_scene
        R, t = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
        pix = np.flatnonzero(mask.reshape(-1))
        u, v = pix % camera.width, pix // camera.width
        d = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones(len(pix))], 1) @ R
        origin = -R.T @ t - offset  # the camera centre in the scene's (unlifted) frame
        rays = np.concatenate([np.broadcast_to(origin, d.shape), d], 1).astype(np.float32)
        hit = scene.cast_rays(o3d.core.Tensor(rays))["t_hit"].numpy()  # along d, whose camera z is 1: planar z
        out = np.zeros(mask.size, np.float32)
        out[pix] = np.where(np.isfinite(hit), hit, 0.0)
        return out.reshape(mask.shape)

    @property
    def body_meshes(self) -> list[trimesh.Trimesh]:
        """The unclothed person: the body (or the scan) and the eyes."""
        return [m for m, k in zip(self.meshes, self.kinds, strict=True) if k in ("body", "eyes", "scan")]

    @cached_property
    def mesh(self) -> trimesh.Trimesh:
        """Body and garments as one trimesh (vertex colours kept); :attr:`mesh_face_parts` labels its faces."""
        if len(self.meshes) == 1:
            return self.meshes[0]
        return trimesh.util.concatenate(self.meshes)

    @property
    def mesh_face_parts(self) -> np.ndarray | None:
        if any(fp is None for fp in self.face_parts):
            return None
        return np.concatenate(self.face_parts)

    @property
    def vertex_parts(self) -> np.ndarray | None:
        """Part label per vertex of :attr:`mesh` (a face's label is given to its vertices); None for scans."""
        if self.mesh_face_parts is None:
            return None
        out = np.zeros(len(self.mesh.vertices), np.uint8)
        out[self.mesh.faces.reshape(-1)] = np.repeat(self.mesh_face_parts, 3)
        return out


def body_model(name: str = "anny", **options):
    """The process-wide body model ``name`` (loaded once per process and option set)."""
    if name not in BODIES:
        raise ValueError(f"unknown body {name!r}; choose one of {', '.join(BODIES)}")
    key = (name, tuple(sorted((k, str(v)) for k, v in options.items())))
    if key not in _MODELS:
        if name == "anny":
            from humandepth.render.bodies.anny_body import AnnyBody

            _MODELS[key] = AnnyBody()
        elif name == "smplx":
            from humandepth.render.bodies.smplx_body import SmplxBody

            _MODELS[key] = SmplxBody(**options)
        else:
            from humandepth.render.bodies.scan import ScanSource

            _MODELS[key] = ScanSource(**options)
    return _MODELS[key]


def sample_person(seed, body: str = "anny", *, clothed: bool = True, outfit: tuple[str, ...] | None = None,
                  phenotype_ranges: dict | None = None, key_poses: tuple[str, ...] | None = None,
                  pose_variation: float = 1.0, penetration_tolerance_m: float = 0.015,
                  smplx_model_path=None, smplx_gender: str = "neutral", scan_dir=None,
                  scan_license: str | None = None) -> Person:
    """Sample a (clothed) person deterministically from ``seed`` (an int or a ``numpy.random.Generator``).

    Args:
        body: ``anny`` (default, needs ``humandepth render setup`` once), ``smplx`` (needs
            ``smplx_model_path``, see :mod:`humandepth.render.bodies.smplx_body`) or ``scan`` (needs
            ``scan_dir``; scans carry their own clothing, so no garments are added; ``scan_license`` is
            recorded as each scan's licence).
        clothed: add garments (bodies only).
        outfit: garment types to wear, exactly (``tshirt``, ``longsleeve``, ``tank``, ``trousers``, ``shorts``,
            ``skirt``, ``dress``, ``jacket``, ``socks``, ``sneakers``, ``boots``, ``flats``, ``cap``, ``hood``);
            default: sampled (footwear most of the time, sometimes a cap or a hood).
        phenotype_ranges: anny phenotype -> (low, high) overrides.
        key_poses: restrict the key poses the pose sampler starts from (:data:`poses.KEY_POSES`).
        pose_variation: scale of the random joint-angle variation (0 = the key pose exactly).
        penetration_tolerance_m: deepest allowed limb-into-torso penetration before a pose is redrawn.
    """
    from humandepth.render.appearance import sample_skin
    from humandepth.render.garments import build_outfit, sample_outfit

    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if body == "scan":
        options = {"folder": scan_dir}
        if scan_license:
            options["license_note"] = scan_license
        return body_model("scan", **options).sample(rng)
    if body == "smplx":
        model = body_model("smplx", model_path=smplx_model_path, gender=smplx_gender)
        inst = model.sample(rng, key_poses=key_poses, pose_variation=pose_variation,
                            penetration_tolerance_m=penetration_tolerance_m)
    else:
        model = body_model(body)
        inst = model.sample(rng, phenotype_ranges=phenotype_ranges, key_poses=key_poses,
                            pose_variation=pose_variation, penetration_tolerance_m=penetration_tolerance_m)
    from humandepth.render.hair import build_hair, hair_surface, sample_hair_spec
    from humandepth.render.skin import MASKS_LICENSE, eyeballs, sample_face_spec, skin_colours, skin_surface
    from humandepth.render.surface import Surface

    skin = sample_skin(rng)
    gender = float(inst.params.get("phenotype", {}).get("gender", 0.5))
    face = sample_face_spec(rng, gender)
    hair_spec = sample_hair_spec(rng, gender)
    specs = sample_outfit(rng, outfit) if clothed else []
    from humandepth.render.collision import _scene
    from humandepth.render.garments import DenseBody

    scene = _scene(inst.vertices, inst.faces)  # the body for the garments' checks, and later for body_depth
    garments, check, hair = build_outfit(inst, specs, rng, hair_spec, scene) if specs else \
        ([], {"inside_vertices": 0}, build_hair(DenseBody(inst), inst, hair_spec, scene))
    from humandepth.render.skin import eye_openings

    keep = ~eye_openings(inst)
    body_mesh = trimesh.Trimesh(inst.vertices, inst.faces[keep], process=False)
    hair_rgb = hair_spec["colour"] if hair_spec["style"] not in ("none",) else [0.12, 0.08, 0.06]
    body_mesh.visual = trimesh.visual.ColorVisuals(body_mesh, vertex_colors=skin_colours(rng, inst, skin, face,
                                                                                         hair_rgb))
    meshes, face_parts, kinds = [body_mesh], [inst.face_parts[keep]], ["body"]
    surfaces = [skin_surface(body_mesh, inst.rest_vertices, {"tone_index": skin["tone_index"], "seed": face["seed"]})]
    garments_params: list[dict] = []
    from humandepth.render.fabric import fold_convexity, fold_visibility, garment_surface

    cavity = [None] * len(meshes)
    for g in garments:
        convex = g.convexity if g.convexity is not None else fold_convexity(g.mesh)
        meshes.append(g.mesh)
        face_parts.append(g.face_parts)
        kinds.append("garment")
        surfaces.append(garment_surface(g, convex))
        cavity.append(fold_visibility(convex))
        garments_params.append(g.params)
    hair_params = {"style": "none", **{k: hair_spec[k] for k in ("colour_name", "colour")}}
    if hair is not None:
        hmesh, hparts, htangents, hrest, hair_params, hconvex = hair
        meshes.append(hmesh)
        face_parts.append(hparts)
        kinds.append("hair")
        surfaces.append(hair_surface(hmesh, htangents, hrest, hair_spec))
        cavity.append(fold_visibility(hconvex))
    # the lowest point of the person (a sole, or a foot) stands on y = 0
    shift = -min(float(np.asarray(m.vertices)[:, 1].min()) for m in meshes)
    if shift != 0.0:
        for m in meshes:
            m.vertices = np.asarray(m.vertices) + [0.0, shift, 0.0]
        inst.joints3d = inst.joints3d + [0.0, shift, 0.0]
        inst.vertices = inst.vertices + [0.0, shift, 0.0]
        inst.params["world_from_model"]["translation"][1] += shift
    eyes = eyeballs(inst, face)  # on the lifted body
    if eyes is not None:
        meshes.insert(1, eyes[0])
        face_parts.insert(1, np.full(len(eyes[0].faces), 1, np.uint8))
        kinds.insert(1, "eyes")
        surfaces.insert(1, Surface("eye", eyes[1], specular=0.6, shininess=120, params=eyes[2]))
        cavity.insert(1, None)
    assets = [inst.params["license"]] + ([garments_params[0]["license"]] if garments_params else [])
    if inst.vertex_uv is not None:
        assets.append(MASKS_LICENSE)
    params = {"body": inst.params, "skin": skin, "face": face, "hair": hair_params, "garments": garments_params,
              "garment_check": check, "assets": assets}
    person = Person(meshes=meshes, face_parts=face_parts, body_vertex_parts=inst.vertex_parts,
                    joints3d=inst.joints3d, params=params, has_body=True, kinds=kinds, surfaces=surfaces,
                    cavity=cavity)
    person.body_scene = (scene, np.array([0.0, shift, 0.0]))
    return person

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
    """

    meshes: list[trimesh.Trimesh]
    face_parts: list[np.ndarray]
    body_vertex_parts: np.ndarray
    joints3d: np.ndarray
    params: dict = field(default_factory=dict)
    has_body: bool = True

    @property
    def body_mesh(self) -> trimesh.Trimesh:
        """The unclothed body (for scans: the scan itself)."""
        return self.meshes[0]

    @property
    def garment_meshes(self) -> list[trimesh.Trimesh]:
        return self.meshes[1:]

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


def _skin_colours(rng: np.random.Generator, rest: np.ndarray, skin: dict) -> np.ndarray:
    from humandepth.render.garments import _noise

    tone = np.array(skin["rgb"])
    var = 0.94 + 0.08 * _noise(rng, rest, (0.03, 0.12), n=6)
    rgb = np.clip(tone[None] * var[:, None], 0, 1)
    return np.concatenate([np.round(rgb * 255), np.full((len(rgb), 1), 255)], 1).astype(np.uint8)


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
        outfit: garment types to wear (``tshirt``, ``longsleeve``, ``tank``, ``trousers``, ``shorts``, ``skirt``,
            ``dress``, ``jacket``); default: sampled.
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
    skin = sample_skin(rng)
    body_mesh = inst.mesh()
    body_mesh.visual = trimesh.visual.ColorVisuals(body_mesh, vertex_colors=_skin_colours(rng, inst.rest_vertices,
                                                                                        skin))
    meshes, face_parts = [body_mesh], [inst.face_parts]
    garments_params: list[dict] = []
    check: dict = {"inside_vertices": 0}
    if clothed:
        specs = sample_outfit(rng, outfit)
        garments, check = build_outfit(inst, specs, rng)
        for g in garments:
            meshes.append(g.mesh)
            face_parts.append(g.face_parts)
            garments_params.append(g.params)
    assets = [inst.params["license"]] + ([garments_params[0]["license"]] if garments_params else [])
    params = {"body": inst.params, "skin": skin, "garments": garments_params, "garment_check": check,
              "assets": assets}
    return Person(meshes=meshes, face_parts=face_parts, body_vertex_parts=inst.vertex_parts,
                  joints3d=inst.joints3d, params=params, has_body=True)

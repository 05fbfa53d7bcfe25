"""Shared fixtures of the render tests: the anny cache (built once per machine) and small synthetic models."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def anny_ready():
    """Build the anny cache if this machine lacks it (about a minute, once; idempotent)."""
    from humandepth.render.cache import setup_anny

    return setup_anny(log=lambda msg: None)


# SMPL's 24 joints (T-pose, metres, Y up, facing +Z) and parents: the synthetic model's skeleton.
SMPL_JOINTS = np.array([
    [0, 0.95, 0], [0.09, 0.87, 0], [-0.09, 0.87, 0], [0, 1.05, 0], [0.1, 0.5, 0], [-0.1, 0.5, 0],
    [0, 1.18, 0], [0.1, 0.08, 0], [-0.1, 0.08, 0], [0, 1.3, 0], [0.1, 0.02, 0.12], [-0.1, 0.02, 0.12],
    [0, 1.48, 0], [0.08, 1.42, 0], [-0.08, 1.42, 0], [0, 1.6, 0], [0.2, 1.42, 0], [-0.2, 1.42, 0],
    [0.46, 1.42, 0], [-0.46, 1.42, 0], [0.7, 1.42, 0], [-0.7, 1.42, 0], [0.78, 1.42, 0], [-0.78, 1.42, 0]])
SMPL_PARENTS = [-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]


def _capsule_body(n_vertices: int, n_joints: int):
    """Capsule limbs along SMPL's 23 bones, padded with unused vertex copies to ``n_vertices``; weights to the
    bone's parent joint (``n_joints`` columns)."""
    import trimesh

    verts, faces, weights = [], [], []
    for j, parent in enumerate(SMPL_PARENTS):
        if parent < 0:
            continue
        a, b = SMPL_JOINTS[parent], SMPL_JOINTS[j]
        length = float(np.linalg.norm(b - a))
        radius = 0.06 if parent in (0, 3, 6, 9) else 0.045
        tube = trimesh.creation.capsule(height=max(length, 1e-3), radius=radius, count=[10, 10])
        direction = (b - a) / max(length, 1e-9)
        tube.apply_transform(trimesh.geometry.align_vectors([0, 0, 1], direction))
        tube.apply_translation((a + b) / 2)
        faces.append(tube.faces + sum(len(v) for v in verts))
        verts.append(tube.vertices)
        w = np.zeros((len(tube.vertices), n_joints))
        w[:, parent] = 1.0
        weights.append(w)
    v = np.concatenate(verts)
    f = np.concatenate(faces)
    w = np.concatenate(weights)
    # smplx selects extra joints by the real models' vertex ids: pad with copies that no face uses
    pad = np.arange(n_vertices - len(v)) % len(v)
    return np.concatenate([v, v[pad]]), f.astype(np.int64), np.concatenate([w, w[pad]])


def _regressor(v: np.ndarray, joints: np.ndarray) -> np.ndarray:
    jreg = np.zeros((len(joints), len(v)))
    for j, pos in enumerate(joints):
        near = np.argsort(np.linalg.norm(v - pos, axis=1))[:8]
        jreg[j, near] = 1.0 / 8
    return jreg


def write_synthetic_smpl(folder: Path) -> Path:
    """Write ``folder/smpl/SMPL_NEUTRAL.pkl``: a capsule-limbed stand-in body with SMPL's layout (plain numpy
    arrays): every bone is a tube skinned to its parent joint, each joint regressed from the vertices nearest
    to it.  Not the licensed SMPL model; only its file format."""
    v, f, w = _capsule_body(6890, 24)
    jreg = _regressor(v, SMPL_JOINTS)
    model = {
        "v_template": v, "f": f, "weights": w, "J_regressor": jreg,
        "posedirs": np.zeros((len(v), 3, 207)), "shapedirs": np.zeros((len(v), 3, 10)),
        "kintree_table": np.array([[2**32 - 1 if p < 0 else p for p in SMPL_PARENTS], list(range(24))]),
    }
    out = folder / "smpl" / "SMPL_NEUTRAL.pkl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        pickle.dump(model, fh)
    return out


def write_synthetic_smplx(folder: Path) -> Path:
    """Write ``folder/smplx/SMPLX_NEUTRAL.npz`` with SMPL-X's layout (55 joints: SMPL's first 22, jaw, eyes,
    15 joints per hand) on the same capsule body.  Not the licensed SMPL-X model; only its file format."""
    v, f, w = _capsule_body(10475, 55)
    joints = np.concatenate([SMPL_JOINTS[:22], [[0, 1.62, 0.06], [0.03, 1.66, 0.08], [-0.03, 1.66, 0.08]]])
    parents = SMPL_PARENTS[:22] + [15, 15, 15]
    for wrist, hand in ((20, SMPL_JOINTS[22]), (21, SMPL_JOINTS[23])):
        for finger in range(5):
            prev = wrist
            for k in range(3):
                joints = np.concatenate([joints, [hand + [np.sign(hand[0]) * 0.02 * k, 0, 0.02 * (finger - 2)]]])
                parents.append(prev)
                prev = len(parents) - 1
    n_faces = len(f)
    model = {
        "v_template": v, "f": f, "weights": w, "J_regressor": _regressor(v, joints),
        "posedirs": np.zeros((len(v), 3, 486)), "shapedirs": np.zeros((len(v), 3, 20)),
        "kintree_table": np.array([[2**32 - 1 if p < 0 else p for p in parents], list(range(55))]),
        "hands_componentsl": np.eye(45), "hands_componentsr": np.eye(45),
        "hands_meanl": np.zeros(45), "hands_meanr": np.zeros(45),
        "lmk_faces_idx": np.arange(51) % n_faces, "lmk_bary_coords": np.full((51, 3), 1 / 3),
        "dynamic_lmk_faces_idx": np.zeros((79, 17), np.int64), "dynamic_lmk_bary_coords": np.full((79, 17, 3), 1 / 3),
    }
    out = folder / "smplx" / "SMPLX_NEUTRAL.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(out, **model)
    return out


def write_scan_folder(folder: Path) -> Path:
    """A THuman-style folder with one textured-free scan in centimetres: ``folder/0001/0001.obj``."""
    import trimesh

    body = trimesh.creation.capsule(height=140.0, radius=22.0, count=[16, 16])  # z-up capsule, cm
    body.apply_transform(trimesh.transformations.rotation_matrix(-np.pi / 2, [1, 0, 0]))  # -> y up
    body.apply_translation([30.0, 90.0, -12.0])
    path = folder / "0001" / "0001.obj"
    path.parent.mkdir(parents=True, exist_ok=True)
    body.export(path)
    return path

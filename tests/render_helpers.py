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


def write_synthetic_smpl(folder: Path) -> Path:
    """Write ``folder/smpl/SMPL_NEUTRAL.pkl``: a capsule-limbed stand-in body with SMPL's layout (plain numpy
    arrays, random nothing): every bone is a tube skinned to its parent joint, each joint regressed from a
    small ring of vertices around it.  Not the licensed SMPL model; only its file format."""
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
        w = np.zeros((len(tube.vertices), 24))
        w[:, parent] = 1.0
        weights.append(w)
    v = np.concatenate(verts)
    f = np.concatenate(faces)
    w = np.concatenate(weights)
    # smplx selects extra joints by SMPL's vertex ids (up to 6889): pad to SMPL's 6890 vertices with copies
    # that no face uses
    pad = np.arange(6890 - len(v)) % len(v)
    v, w = np.concatenate([v, v[pad]]), np.concatenate([w, w[pad]])
    jreg = np.zeros((24, len(v)))
    for j in range(24):
        near = np.argsort(np.linalg.norm(v - SMPL_JOINTS[j], axis=1))[:8]
        jreg[j, near] = 1.0 / 8
    model = {
        "v_template": v, "f": f.astype(np.int64), "weights": w, "J_regressor": jreg,
        "posedirs": np.zeros((len(v), 3, 207)), "shapedirs": np.zeros((len(v), 3, 10)),
        "kintree_table": np.array([[2**32 - 1 if p < 0 else p for p in SMPL_PARENTS], list(range(24))]),
    }
    out = folder / "smpl" / "SMPL_NEUTRAL.pkl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh:
        pickle.dump(model, fh)
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

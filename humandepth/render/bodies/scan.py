"""Clothed scans (textured OBJ / PLY) from a folder, e.g. THuman2.1's ``<id>/<id>.obj`` layout.

Scans carry their own clothing: no garments are added, no ``body_depth`` is rendered, and there is no body
model, so no part labels or joints either (those fields are absent from a scan dataset).  Each scan is
normalised to the world frame: ``up_axis`` (default ``y``) becomes +Y, units are guessed from the height
(> 300 -> millimetres, > 3 -> centimetres), the lowest point goes to y = 0 and the centre of the bounding
box above the origin.  The scan's licence is whatever its dataset's is; it is recorded as ``license_note``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import trimesh

SUFFIXES = (".obj", ".ply")


class ScanSource:
    name = "scan"

    def __init__(self, folder=None, up_axis: str = "y", license_note: str = "see the scan dataset's licence"):
        if folder is None:
            raise FileNotFoundError("--body scan needs --scan-dir: a folder of OBJ/PLY scans (e.g. THuman2.1)")
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise FileNotFoundError(f"scan folder {self.folder} does not exist")
        self.files = sorted(p for p in self.folder.rglob("*") if p.suffix.lower() in SUFFIXES)
        if not self.files:
            raise FileNotFoundError(f"scan folder {self.folder} holds no .obj or .ply files")
        if up_axis not in ("y", "z"):
            raise ValueError(f"up_axis must be 'y' or 'z', got {up_axis!r}")
        self.up_axis = up_axis
        self.license_note = license_note

    def load(self, path: Path) -> tuple[trimesh.Trimesh, dict]:
        try:
            mesh = trimesh.load(path, force="mesh", process=False)
        except Exception as e:  # trimesh raises many types for broken files
            raise ValueError(f"cannot read scan {path}: {e}") from None
        if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
            raise ValueError(f"scan {path} holds no triangles")
        v = np.asarray(mesh.vertices, np.float64)
        if self.up_axis == "z":
            v = v @ np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]).T
        height = float(np.ptp(v[:, 1]))
        scale = 0.001 if height > 300 else 0.01 if height > 3 else 1.0
        v = v * scale
        lo, hi = v.min(axis=0), v.max(axis=0)
        shift = np.array([-(lo[0] + hi[0]) / 2, -lo[1], -(lo[2] + hi[2]) / 2])
        mesh.vertices = v + shift
        return mesh, {"file": str(path.relative_to(self.folder)), "scale": scale, "up_axis": self.up_axis,
                      "translation": shift.tolist()}

    def sample(self, rng: np.random.Generator):
        from humandepth.render.person import Person

        path = self.files[int(rng.integers(len(self.files)))]
        mesh, info = self.load(path)
        asset = {"id": info["file"], "source": str(self.folder), "license": self.license_note, "attribution": ""}
        params = {"body": {"model": "scan", **info}, "garments": [], "assets": [asset]}
        return Person(meshes=[mesh], face_parts=[None], body_vertex_parts=None, joints3d=None, params=params,
                      has_body=False)

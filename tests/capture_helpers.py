"""Shared builders for the capture tests: analytic scenes with exact expectations and small takes."""

from __future__ import annotations

import numpy as np
import trimesh

from humandepth.capture.scene import Scene, SceneObject, constant_albedo, planar_albedo, texture_image
from humandepth.capture.sensor_model import D400Model
from humandepth.capture.simulate import SimulationConfig

# A wall facing +Z (the camera looks at it from +Z), tilted about the vertical axis.
WALL_POINT = np.array([0.0, 1.0, -0.2])
WALL_TILT_DEG = 20.0


def wall_normal() -> np.ndarray:
    a = np.radians(WALL_TILT_DEG)
    return np.array([np.sin(a), 0.0, np.cos(a)])


def wall_mesh(size: float = 8.0, point=WALL_POINT, normal=None) -> trimesh.Trimesh:
    """A large square (2 triangles) through ``point`` with unit ``normal`` (default: the tilted wall)."""
    n = wall_normal() if normal is None else np.asarray(normal, dtype=np.float64)
    n = n / np.linalg.norm(n)
    u = np.cross([0.0, 1.0, 0.0], n)
    if np.linalg.norm(u) < 1e-9:
        u = np.array([1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(n, u)
    p = np.asarray(point, dtype=np.float64)
    h = size / 2
    verts = np.array([p - h * u - h * v, p + h * u - h * v, p + h * u + h * v, p - h * u + h * v])
    return trimesh.Trimesh(verts, [[0, 1, 2], [0, 2, 3]], process=False)


def textured(mesh: trimesh.Trimesh, seed: int = 0) -> SceneObject:
    """The mesh with a procedural texture (so colour has structure) - planar mapping along x/y."""
    tex = texture_image(np.random.default_rng(seed), 400, 400, [(0.2, 0.3, 0.4), (0.9, 0.8, 0.6), (0.5, 0.1, 0.1)])
    return SceneObject("wall", mesh, planar_albedo(tex, (-4, -4, 0), (1, 0, 0), (0, 1, 0), 0.02))


def plane_scene() -> Scene:
    """Only the tilted wall: every depth/colour pixel has an analytic depth."""
    return Scene([textured(wall_mesh())])


def box_scene(box_center=(0.0, 1.0, -0.6), box_size=(0.4, 0.6, 0.3)) -> Scene:
    """A fronto-parallel wall at z = -2 and a box (marked as the 'person') in front of it."""
    wall = textured(wall_mesh(point=(0.0, 1.0, -2.0), normal=(0.0, 0.0, 1.0)))
    box = trimesh.creation.box(box_size)
    box.apply_translation(box_center)
    return Scene([wall, SceneObject("box", box, constant_albedo((0.8, 0.3, 0.2)), person=True)])


def small_config(frames: int = 6, sensor: D400Model | None = None, seed: int = 3, **kw) -> SimulationConfig:
    """A fast take: 160x120 depth (f = 96.25, the D435 640x480 field of view) and 200x150 colour."""
    base = dict(frames=frames, seed=seed, trajectory="orbit", distance=1.5, arc_deg=20.0, height=1.0,
                target=(0.0, 1.0, -0.2), depth_size=(160, 120), depth_focal=96.25, color_size=(200, 150),
                color_focal=140.0, sensor=sensor or D400Model())
    base.update(kw)
    return SimulationConfig(**base)


def plane_depth(camera, point=WALL_POINT, normal=None) -> np.ndarray:
    """(H, W) analytic planar depth of the plane (world ``point``, ``normal``) seen by ``camera``."""
    n_w = wall_normal() if normal is None else np.asarray(normal, dtype=np.float64)
    R, t = camera.cam_from_world[:3, :3], camera.cam_from_world[:3, 3]
    n_c = R @ n_w
    d_c = n_c @ (R @ np.asarray(point, dtype=np.float64) + t)
    rays = camera.rays()
    return d_c / (rays @ n_c)

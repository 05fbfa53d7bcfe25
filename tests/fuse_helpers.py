"""Analytic scenes for the fuse tests: exact depth by ray casting with Open3D's RaycastingScene."""

from __future__ import annotations

import numpy as np
import trimesh

from humandepth.data.camera import Camera, look_at
from humandepth.fuse.frames import Frame, FrameSequence


class AnalyticScene:
    """A floor (y = 0), a box standing on it and a sphere resting on the box: the box + sphere is the
    subject.  ``render(camera)`` ray-casts exact planar depth, the subject mask and a colour image."""

    def __init__(self, box=(0.4, 0.5, 0.3), radius=0.15, floor_half=2.0):
        import open3d as o3d

        self.box = trimesh.creation.box(box)
        self.box.apply_translation((0, box[1] / 2, 0))
        self.sphere = trimesh.creation.icosphere(subdivisions=4, radius=radius)
        self.sphere.apply_translation((0.05, box[1] + 0.6 * radius, 0.02))  # sunk into the box: one solid
        f = floor_half
        self.floor = trimesh.Trimesh([[-f, 0, -f], [f, 0, -f], [f, 0, f], [-f, 0, f]], [[0, 2, 1], [0, 3, 2]])
        self.target = np.array([0.0, box[1] * 0.8, 0.0])
        self._o3d = o3d
        self.scene = o3d.t.geometry.RaycastingScene()
        self.ids = {}
        for name, mesh in (("box", self.box), ("sphere", self.sphere), ("floor", self.floor)):
            gid = self.scene.add_triangles(o3d.core.Tensor(np.asarray(mesh.vertices, np.float32)),
                                           o3d.core.Tensor(np.asarray(mesh.faces, np.uint32)))
            self.ids[name] = int(gid)

    def render(self, cam: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(depth (H, W) float32 m, subject mask (H, W) bool, rgb (H, W, 3) uint8) from ``cam``."""
        rays = cam.rays().reshape(-1, 3)
        wfc = cam.world_from_cam
        dirs = rays @ wfc[:3, :3].T
        org = np.broadcast_to(wfc[:3, 3], dirs.shape)
        ans = self.scene.cast_rays(self._o3d.core.Tensor(np.concatenate([org, dirs], 1).astype(np.float32)))
        t = ans["t_hit"].numpy().astype(np.float64)
        gid = ans["geometry_ids"].numpy()
        hit = np.isfinite(t)
        depth = np.where(hit, t, 0).astype(np.float32).reshape(cam.height, cam.width)
        mask = (hit & ((gid == self.ids["box"]) | (gid == self.ids["sphere"]))).reshape(cam.height, cam.width)
        p = org + dirs * np.where(hit, t, 0)[:, None]
        checker = ((np.floor(p[:, 0] / 0.05) + np.floor(p[:, 1] / 0.05) + np.floor(p[:, 2] / 0.05)) % 2)
        rgb = np.where(hit[:, None], 60 + 140 * checker[:, None] * np.array([1.0, 0.8, 0.6]), 0)
        return depth, mask, rgb.astype(np.uint8).reshape(cam.height, cam.width, 3)


def orbit_poses(scene: AnalyticScene, n: int, distance=1.2, height=0.9, arc_deg=120.0) -> list[np.ndarray]:
    az = np.radians(np.linspace(-arc_deg / 2, arc_deg / 2, n))
    return [look_at(scene.target + [distance * np.sin(a), 0, distance * np.cos(a)] * np.array([1, 0, 1])
                    + [0, height, 0], scene.target) for a in az]


def analytic_sequence(n=8, size=(240, 180), f=220.0, noise_m=0.0, seed=0, d2c=None, with_pose=True):
    """A :class:`FrameSequence` of the analytic scene (exact depth, or Gaussian noise of ``noise_m``),
    with the truth renders in the colour cameras returned alongside: ``(seq, scene, truths)`` where
    ``truths[id] = (depth, mask)``."""
    scene = AnalyticScene()
    cam_d = Camera.from_focal(*size, f)
    cam_c = Camera.from_focal(*size, f * 1.05)
    d2c = np.eye(4) if d2c is None else np.asarray(d2c)
    rng = np.random.default_rng(seed)
    frames, truths = [], {}
    for i, pose in enumerate(orbit_poses(scene, n)):
        depth, _, _ = scene.render(Camera(cam_d.K, cam_d.width, cam_d.height, pose))
        if noise_m > 0:
            depth = np.where(depth > 0, depth + rng.normal(0, noise_m, depth.shape), 0).astype(np.float32)
        cc = Camera(cam_c.K, cam_c.width, cam_c.height, d2c @ pose)
        td, tm, rgb = scene.render(cc)
        fid = f"frame-{i:06d}"
        truths[fid] = (td, tm)
        frames.append(Frame(fid, depth, rgb, pose if with_pose else None))
    seq = FrameSequence(cam_d, cam_c, d2c, frames, {"kind": "analytic", "path": "analytic scene"})
    return seq, scene, truths


def sensor_sequence(n=10, moved=(), shift=(0.0, 0.0, 0.06), size=(320, 240), f=192.5, seed=0, arc_deg=40.0,
                    distance=1.5):
    """Frames of the capture wing's room scene (its mannequin, so no render-wing dependency) measured
    with its D400 sensor model at true poses, the person shifted by ``shift`` metres in the frames
    ``moved`` (the subject moved).  Returns ``(seq, truths)`` with ``truths[id] = (depth, mask)``
    exact in the (shared) camera."""
    from humandepth.capture.scene import mannequin, room_scene
    from humandepth.capture.sensor_model import D400Model
    from humandepth.capture.trajectory import make_trajectory

    person = mannequin(seed)
    still = room_scene(seed, person)
    shifted = person.copy()
    shifted.apply_translation(shift)
    moving = room_scene(seed, shifted)
    poses = make_trajectory("orbit", n, seed, distance=distance, target=(0.0, 0.95, 0.0), arc_deg=arc_deg)
    cam = Camera.from_focal(*size, f)
    model = D400Model()
    frames, truths = [], {}
    for i, pose in enumerate(poses):
        scene = moving if i in moved else still
        r = scene.render(Camera(cam.K, cam.width, cam.height, pose))
        units = model.apply(r.depth, f, np.random.default_rng([seed, i]), r.cos_incidence)
        fid = f"frame-{i:06d}"
        frames.append(Frame(fid, (units * model.depth_unit).astype(np.float32), r.rgb, pose))
        truths[fid] = (r.depth, r.mask)
    return FrameSequence(cam, cam, np.eye(4), frames, {"kind": "sensor-model", "path": "simulated frames"}), truths

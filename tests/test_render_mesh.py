"""render_mesh on analytic scenes: exact depth, normals, pixel-centre convention, masks, ids, RGB."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from humandepth.data import Camera
from humandepth.data.camera import look_at
from humandepth.data.geometry import angular_error_deg
from humandepth.render import render_mesh


def _quad(half_w: float, half_h: float) -> trimesh.Trimesh:
    v = np.array([[-half_w, -half_h, 0], [half_w, -half_h, 0], [half_w, half_h, 0], [-half_w, half_h, 0.0]])
    return trimesh.Trimesh(v, [[0, 1, 2], [0, 2, 3]], process=False)


def test_slanted_plane_depth_and_normal_are_exact():
    cam = Camera.from_fov(160, 120, 60)  # identity pose: world = OpenCV camera frame
    plane = _quad(8.0, 8.0)
    rot = trimesh.transformations.rotation_matrix(np.radians(35), [0, 1, 0])
    plane.apply_transform(rot)
    plane.apply_translation([0.2, 0.1, 2.5])
    out = render_mesh(plane, cam)
    n_true = rot[:3, :3] @ [0, 0, 1.0]
    n_true = -n_true if n_true[2] > 0 else n_true  # facing the camera
    rays = cam.rays()
    t = (np.array([0.2, 0.1, 2.5]) @ n_true) / (rays @ n_true)
    assert out["mask"].all()
    assert np.abs(out["depth"] - t).max() < 1e-4
    assert np.abs(out["depth"] - t).mean() < 1e-6
    err = angular_error_deg(out["normal"], np.broadcast_to(n_true, out["normal"].shape))
    assert err.mean() < 0.5 and err.max() < 0.01


def _sphere_scene():
    centre_world = np.array([0.3, 1.2, -0.4])
    cam_pos = centre_world + np.array([1.5, 0.6, 1.9])
    T = look_at(cam_pos, centre_world + [0.05, -0.03, 0.0], roll_rad=np.radians(7))
    cam = Camera(np.array([[210.0, 0, 95.3], [0, 205.0, 71.8], [0, 0, 1]]), 192, 144, T)
    sphere = trimesh.creation.icosphere(subdivisions=6, radius=0.45)
    sphere.apply_translation(centre_world)
    return cam, sphere, centre_world, 0.45


def test_sphere_depth_and_normals_match_the_analytic_sphere():
    cam, sphere, centre_world, r = _sphere_scene()
    out = render_mesh(sphere, cam)
    c = cam.cam_from_world[:3, :3] @ centre_world + cam.cam_from_world[:3, 3]
    rays = cam.rays()
    a = (rays**2).sum(-1)
    b = -2 * rays @ c
    disc = b * b - 4 * a * (c @ c - r * r)
    hit = disc > 0
    t = np.where(hit, (-b - np.sqrt(np.maximum(disc, 0))) / (2 * a), 0.0)
    n_true = (rays * t[..., None] - c) / r
    view = -rays / np.linalg.norm(rays, axis=-1, keepdims=True)
    frontal = hit & out["mask"] & ((n_true * view).sum(-1) > 0.5)  # away from grazing silhouettes
    assert frontal.sum() > 3000
    assert np.abs(out["depth"] - t)[frontal].max() < 1e-4
    err = angular_error_deg(out["normal"][frontal], n_true[frontal])
    assert err.mean() < 0.5
    # the silhouette: the mask differs from the analytic disc only in a thin ring
    assert (out["mask"] != hit).sum() < 0.02 * hit.sum()


def test_depth_agrees_with_open3d_ray_casting_of_the_same_mesh():
    import open3d as o3d

    cam, sphere, _, _ = _sphere_scene()
    out = render_mesh(sphere, cam, rgb=False)
    v_cam = sphere.vertices @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3]
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(v_cam.astype(np.float32)), o3d.core.Tensor(sphere.faces.astype(np.uint32)))
    rays = cam.rays().reshape(-1, 3)
    ans = scene.cast_rays(o3d.core.Tensor(np.concatenate([np.zeros_like(rays), rays], 1).astype(np.float32)))
    t = ans["t_hit"].numpy().reshape(cam.height, cam.width)
    both = out["mask"] & np.isfinite(t)
    assert both.sum() > 0.97 * out["mask"].sum()
    diff = np.abs(out["depth"][both] - t[both])
    # identical up to float32 except where the rasteriser's fixed-point edge test picked the neighbouring
    # triangle of a pixel centre lying within ~1/256 px of a shared edge (grazing silhouette pixels)
    assert np.percentile(diff, 99) < 1e-5 and diff.max() < 2e-3


@pytest.mark.parametrize("u0,v0", [(37, 21), (150, 100)])
def test_a_known_point_lands_on_its_pixel(u0, v0):
    """A square 0.3 px in half-size around a 3D point projecting exactly onto pixel centre (u0, v0) covers
    that pixel and no other: checks K and the pixel-centre convention (off-centre principal point)."""
    K = np.array([[180.0, 0, 70.25], [0, 190.0, 61.5], [0, 0, 1]])
    T = look_at(np.array([0.5, 1.0, 3.0]), np.array([0.4, 1.1, 0.0]))
    cam = Camera(K, 176, 128, T)
    z = 2.7
    p_cam = np.array([(u0 - K[0, 2]) / K[0, 0] * z, (v0 - K[1, 2]) / K[1, 1] * z, z])
    half = 0.3 * z / K[0, 0]
    square = _quad(half, half)
    square.apply_translation(p_cam)
    square.apply_transform(cam.world_from_cam)
    out = render_mesh(square, cam)
    assert np.argwhere(out["mask"]).tolist() == [[v0, u0]]
    assert abs(out["depth"][v0, u0] - z) < 1e-6
    np.testing.assert_allclose(cam.project((cam.cam_from_world[:3, :3] @ square.vertices.mean(0)
                                            + cam.cam_from_world[:3, 3])[None]), [[u0, v0]], atol=1e-6)


def test_occlusion_ids_and_conventions():
    cam = Camera.from_fov(96, 96, 50)
    far = _quad(2, 2)
    far.apply_translation([0, 0, 3.0])
    near = _quad(0.2, 0.2)
    near.apply_translation([0, 0, 1.5])
    out = render_mesh([far, near], cam)
    m = out["mask"]
    assert m.all() and np.array_equal(m, out["depth"] > 0)
    centre = out["mesh_index"][48, 48]
    assert centre == 1 and out["mesh_index"][2, 2] == 0
    assert abs(out["depth"][48, 48] - 1.5) < 1e-6 and abs(out["depth"][2, 2] - 3.0) < 1e-6
    assert set(np.unique(out["face_index"])) <= {0, 1}
    n = out["normal"]
    np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1.0, atol=1e-6)
    assert ((n * cam.rays()).sum(-1) < 0).all()  # facing the camera
    assert out["depth"].dtype == np.float32 and n.dtype == np.float32 and out["rgb"].dtype == np.uint8


def test_rgb_uses_vertex_colours_and_the_same_mask_over_the_background():
    cam = Camera.from_fov(64, 48, 50)
    quad = _quad(0.3, 0.3)
    quad.apply_translation([0, 0, 2.0])
    quad.visual = trimesh.visual.ColorVisuals(quad, vertex_colors=np.tile([200, 40, 10, 255], (4, 1)))
    out = render_mesh(quad, cam, lights=[{"type": "ambient", "color": [1, 1, 1], "intensity": 1.0}],
                      background=(0, 0, 255))
    m = out["mask"]
    assert 0 < m.sum() < m.size
    assert (out["rgb"][m] == [200, 40, 10]).all()
    assert (out["rgb"][~m] == [0, 0, 255]).all()
    lit = render_mesh(quad, cam, lights=[{"type": "directional", "direction": [0, 0, 1], "intensity": 0.5,
                                          "frame": "camera"}])["rgb"]
    assert (lit[m][:, 0] < out["rgb"][m][:, 0]).all()  # half the light: a darker red


def test_bad_input_is_named():
    cam = Camera.from_fov(32, 32, 50)
    with pytest.raises(ValueError, match="not a trimesh"):
        render_mesh([np.zeros((3, 3))], cam)
    with pytest.raises(ValueError, match="background"):
        render_mesh(_quad(1, 1), cam, background=np.zeros((5, 5, 3), np.uint8))


def test_texture_colours_are_sampled_with_uvs():
    from PIL import Image

    cam = Camera.from_fov(64, 64, 40)
    quad = _quad(0.5, 0.5)
    quad.apply_translation([0, 0, 2.0])
    tex = np.zeros((2, 2, 3), np.uint8)
    tex[:, 0] = [255, 0, 0]  # left half red
    tex[:, 1] = [0, 0, 255]  # right half blue
    uv = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    quad.visual = trimesh.visual.TextureVisuals(uv=uv, image=Image.fromarray(tex))
    out = render_mesh(quad, cam, lights=[{"type": "ambient", "intensity": 1.0}])
    rows, cols = np.nonzero(out["mask"])
    left = out["rgb"][rows.mean().astype(int), cols.min() + 1]
    right = out["rgb"][rows.mean().astype(int), cols.max() - 1]
    assert left[0] > 200 and left[2] < 60 and right[2] > 200 and right[0] < 60


def test_nothing_in_view_gives_empty_passes():
    cam = Camera.from_fov(32, 24, 50)
    behind = _quad(0.3, 0.3)
    behind.apply_translation([0, 0, -2.0])
    out = render_mesh(behind, cam, background=(0.5, 0.5, 0.5))
    assert not out["mask"].any() and (out["depth"] == 0).all() and (out["normal"] == 0).all()
    assert (out["rgb"] == 128).all()

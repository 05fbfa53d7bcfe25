"""Fusion on analytic scenes (exact depth by ray casting): accuracy within one voxel, the person cut,
and the pixel convention of the integration kernel."""

from __future__ import annotations

import numpy as np
import pytest
from fuse_helpers import analytic_sequence
from scipy import ndimage

from humandepth.data.camera import Camera
from humandepth.fuse.fusion import FuseConfig, fuse_sequence
from humandepth.fuse.integrate import TSDFParams, TSDFVolume

VOXEL = 0.005


@pytest.fixture(scope="module")
def fused_box_sphere():
    d2c = np.eye(4)
    d2c[:3, 3] = (-0.015, 0.0, 0.0)  # colour camera 15 mm to the right, as on a D435
    seq, scene, truths = analytic_sequence(n=12, d2c=d2c)
    result = fuse_sequence(seq, FuseConfig(poses="known", voxel=VOXEL, trunc=0.03))
    return seq, truths, result


def test_fused_depth_within_one_voxel_of_truth(fused_box_sphere):
    seq, truths, result = fused_box_sphere
    assert [f.id for f in result.frames] == [f.id for f in seq.frames]
    for ft in result.frames:
        td, tm = truths[ft.id]
        # away from silhouettes and depth steps (a TSDF rounds edges sharper than a voxel)
        steps = (np.abs(ndimage.sobel(td, 0)) + np.abs(ndimage.sobel(td, 1))) > 0.08
        interior = ndimage.binary_erosion(tm, iterations=2) & ~ndimage.binary_dilation(steps, iterations=2)
        interior &= ft.render.mask
        err = np.abs(ft.render.depth[interior] - td[interior])
        assert interior.sum() > 1000, ft.id
        assert np.median(err) < VOXEL / 5, ft.id
        # the orbit's two end frames see faces that only they observe, at grazing angles
        end = ft.id in (result.frames[0].id, result.frames[-1].id)
        assert np.percentile(err, 95 if end else 99) < VOXEL, ft.id
        # the frame's camera is the colour camera at the frame's pose
        np.testing.assert_allclose(ft.camera.cam_from_world, seq.color_pose(seq.frames[int(ft.id[-6:])].pose))


def test_person_cut_keeps_the_subject_and_drops_the_floor(fused_box_sphere):
    seq, truths, result = fused_box_sphere
    facts = result.report["integration"]["rounds"][-1]
    floor = facts["roi"]["floor_left_out"]  # found in the frames and left out of integration
    assert floor is not None and abs(floor["normal"][1]) > 0.99 and abs(floor["offset"]) < 0.005
    person_verts = result.surface.verts[np.unique(result.surface.tris[result.surface.person])]
    assert person_verts[:, 1].min() > 0.005  # nothing of the floor
    low = person_verts[person_verts[:, 1] < 0.45]  # below the sphere: the box's footprint, 0.4 x 0.3 m
    assert np.all(np.abs(low[:, [0, 2]]) < [0.2 + 2 * VOXEL, 0.15 + 2 * VOXEL])
    for ft in result.frames[3:-3]:  # the middle of the orbit sees every visible face several times
        td, tm = truths[ft.id]
        m = ft.render.person  # the cut component (the GT mask also leaves out edges and unsupported parts)
        assert (m & ~tm).sum() < 0.02 * m.sum(), ft.id  # nothing but box + sphere
        assert (m & tm).sum() > 0.85 * tm.sum(), ft.id  # and most of them
        assert (ft.render.mask & tm).sum() > 0.7 * tm.sum(), ft.id
        m = ft.render.mask
        n = ft.render.normal[m]
        np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1.0, atol=1e-4)
        rays = Camera(ft.camera.K, ft.camera.width, ft.camera.height).rays()[m]
        assert np.all(np.sum(n * rays, axis=1) < 0)  # facing the camera
    top = person_verts[:, 1].max()
    assert abs(top - 0.5 - 0.6 * 0.15 - 0.15) < VOXEL  # the sphere's top is part of the person
    report = result.report
    assert report["frames"]["read"] == 12 and report["frames"]["used"] == 12 and report["frames"]["rejected"] == 0
    assert report["poses"]["method"] == "known"


def test_integration_uses_pixel_centres_on_a_sloped_plane():
    """A plane at 45 deg integrated from one view: the mesh lies on it (no half-pixel bias)."""
    cam = Camera.from_focal(240, 180, 220)
    rays = cam.rays()
    slope = 1.0  # z = 1.5 + x
    depth = (1.5 / (1 - slope * rays[..., 0])).astype(np.float32)
    vol = TSDFVolume(TSDFParams(VOXEL, 0.03, 3.0, weight_threshold=1.0), color=False)
    for _ in range(3):
        vol.integrate(depth, cam.K, np.eye(4))
    verts, _, _ = vol.extract_mesh()
    sel = np.abs(verts[:, 0]) < 0.3
    residual = verts[sel, 2] - (1.5 + slope * verts[sel, 0])
    assert abs(np.median(residual)) < 0.0005  # 3.4 mm with the kernel's own pixel convention
    assert np.percentile(np.abs(residual), 99) < VOXEL


def test_empty_volume_is_a_clear_error():
    vol = TSDFVolume(TSDFParams(VOXEL, 0.03, 1.0), color=False)
    cam = Camera.from_focal(64, 48, 60)
    vol.integrate(np.full((48, 48 * 4 // 3), 2.0, np.float32)[:, :64], cam.K, np.eye(4))  # beyond depth_max
    with pytest.raises(ValueError, match="no surface"):
        vol.extract_mesh()


def test_region_crop_matches_the_geometry():
    """crop_to_roi keeps exactly the points within the radius and above the floor margin."""
    from humandepth.fuse.fusion import crop_to_roi

    cam = Camera.from_focal(64, 48, 60.0)
    depth = np.random.default_rng(0).uniform(0.5, 3.0, (48, 64)).astype(np.float32)
    pose = np.eye(4)
    pose[:3, :3] = [[0.8, 0, 0.6], [0, 1, 0], [-0.6, 0, 0.8]]
    pose[:3, 3] = (0.1, -0.2, 0.3)
    centre = np.array([0.0, 0.1, 1.5])
    floor = {"normal": [0.0, -1.0, 0.0], "offset": 0.4, "margin": 0.015}
    out = crop_to_roi(depth, cam, pose, centre, 0.8, floor)
    world = (cam.rays() * depth[..., None]).reshape(-1, 3) - pose[:3, 3]
    world = world @ pose[:3, :3]  # camera -> world (pose is cam_from_world)
    keep = (np.linalg.norm(world - centre, axis=1) <= 0.8) & (world @ [0, -1, 0] + 0.4 >= 0.015)
    assert keep.sum() > 50 and (~keep).sum() > 50
    np.testing.assert_array_equal(out.reshape(-1) > 0, keep)
    np.testing.assert_array_equal(out.reshape(-1)[keep], depth.reshape(-1)[keep])

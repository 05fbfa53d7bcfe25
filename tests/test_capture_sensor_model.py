"""The D400 sensor model on rendered analytic scenes (no SDK involved)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from capture_helpers import box_scene, textured, wall_mesh

from humandepth.capture.scene import Scene
from humandepth.capture.sensor_model import D400Model, depth_edges
from humandepth.capture.trajectory import make_trajectory
from humandepth.data.camera import Camera, look_at

SPEC_MM = {1.0: 4.2, 1.5: 9.4, 2.0: 16.6}  # sigma_z = z^2 * 0.08 / (385 * 0.05), the 4 / 9 / 17 mm


def _wall_at(z: float) -> tuple[np.ndarray, Camera]:
    scene = Scene([textured(wall_mesh(size=20.0, point=(0.0, 1.0, 0.0), normal=(0.0, 0.0, 1.0)))])
    camera = Camera.from_focal(640, 480, 385.0, look_at((0.0, 1.0, z), (0.0, 1.0, 0.0)))
    return scene.render(camera).depth, camera


@pytest.mark.parametrize("z", sorted(SPEC_MM))
def test_noise_spread_on_a_flat_wall_matches_the_specification(z):
    depth, camera = _wall_at(z)
    np.testing.assert_allclose(depth, z, atol=1e-5)  # the render is exact
    model = D400Model(edge_dropout=0.0, random_dropout=0.0)
    units = model.apply(depth, camera.fx, np.random.default_rng(0))
    valid = units > 0
    assert valid.mean() > 0.99
    err_mm = (units[valid] * model.depth_unit - depth[valid]) * 1000
    spread = err_mm.std()
    expected = model.sigma_z(z, camera.fx) * 1000
    assert abs(expected - SPEC_MM[z]) < 0.05  # the model's formula gives the specified numbers
    assert abs(spread - expected) < 0.03 * expected  # 300k samples: the measured spread agrees within 3 %
    # disparity-domain noise biases depth by z * (sigma_d / d)^2 to second order (0.14 mm at 2 m); nothing else
    bias_mm = z * (model.subpixel_px * z / (camera.fx * model.baseline_m)) ** 2 * 1000
    assert abs(np.mean(err_mm) - bias_mm) < 0.1


def test_spread_grows_with_distance_squared():
    spreads = {}
    for z in (1.0, 2.0):
        depth, camera = _wall_at(z)
        units = D400Model(edge_dropout=0.0, random_dropout=0.0).apply(depth, camera.fx, np.random.default_rng(1))
        spreads[z] = (units[units > 0] * 0.001 - z).std()
    assert spreads[2.0] / spreads[1.0] == pytest.approx(4.0, rel=0.06)


def test_exact_model_only_quantises_to_the_depth_unit():
    depth, camera = _wall_at(1.2342)
    for unit in (0.001, 0.0001):
        units = D400Model.exact(depth_unit=unit).apply(depth, camera.fx, np.random.default_rng(0))
        np.testing.assert_array_equal(units, np.rint(depth.astype(np.float64) / unit).astype(np.uint16))
        assert np.abs(units * unit - depth).max() <= unit / 2 + 1e-7


def test_beyond_range_and_grazing_surfaces_are_invalid():
    floor = wall_mesh(size=40.0, point=(0.0, 0.0, 0.0), normal=(0.0, 1.0, 0.0))
    scene = Scene([textured(floor)])
    camera = Camera.from_focal(320, 240, 192.5, look_at((0.0, 1.2, 0.0), (0.0, 0.7, -3.0)))
    r = scene.render(camera)
    model = D400Model(subpixel_px=0.0, edge_dropout=0.0, random_dropout=0.0, max_z=4.0, grazing_deg=80.0)
    units = model.apply(r.depth, camera.fx, np.random.default_rng(0), r.cos_incidence)
    hit = r.depth > 0
    far = hit & (r.depth > 4.0 + 0.001)
    grazing = hit & (r.cos_incidence < np.cos(np.radians(80.0)))
    assert far.any() and grazing.any()
    assert not units[far].any() and not units[grazing].any()
    good = hit & ~far & ~grazing & (r.depth < 3.99)
    assert good.sum() > 1000 and (units[good] > 0).all()


def test_stereo_occlusion_shadow_lies_left_of_a_foreground_box_with_the_predicted_width():
    scene = box_scene(box_center=(0.0, 1.0, -1.0), box_size=(0.4, 0.4, 0.1))
    camera = Camera.from_focal(640, 480, 385.0, look_at((0.0, 1.0, 0.0), (0.0, 1.0, -1.0)))
    r = scene.render(camera)
    baseline = 0.05
    right = camera.world_from_cam @ np.array([baseline, 0.0, 0.0, 1.0])
    occ = scene.occluded_from(r.points.reshape(-1, 3), right[:3], (r.depth > 0).reshape(-1)).reshape(r.depth.shape)
    row = 240
    box_cols = np.flatnonzero(r.mask[row])
    shadow_cols = np.flatnonzero(occ[row])
    assert len(shadow_cols) > 0 and shadow_cols.max() < box_cols.min()  # shadow on the left of the box
    z_fg, z_bg = 0.95, 2.0  # front face of the box, the wall at z = -2 seen from z = 0
    expected = 385.0 * baseline * (1 / z_fg - 1 / z_bg)
    assert abs(len(shadow_cols) - expected) <= 1.5
    units = D400Model(edge_dropout=0.0, random_dropout=0.0).apply(r.depth, camera.fx, np.random.default_rng(0),
                                                                   r.cos_incidence, occ)
    assert not units[occ].any()


def test_edges_and_random_dropout_remove_pixels_only_where_specified():
    scene = box_scene(box_center=(0.0, 1.0, -1.0))
    camera = Camera.from_focal(320, 240, 192.5, look_at((0.0, 1.0, 0.0), (0.0, 1.0, -1.0)))
    r = scene.render(camera)
    edges = depth_edges(r.depth, 0.04)
    assert edges[r.mask].any() and not edges[100:140, 5:40].any()
    model = D400Model(subpixel_px=0.0, edge_dropout=1.0, random_dropout=0.0, occlusion=False)
    units = model.apply(r.depth, camera.fx, np.random.default_rng(0))
    assert not units[edges].any() and (units[~edges & (r.depth > 0)] > 0).all()
    drop = dataclasses.replace(model, edge_dropout=0.0, random_dropout=0.05)
    frac = (drop.apply(r.depth, camera.fx, np.random.default_rng(0)) == 0).mean()
    assert 0.04 < frac < 0.06


def test_systematic_error_is_the_same_in_every_frame_and_survives_averaging():
    depth, camera = _wall_at(1.5)
    depth = depth[::4, ::4]
    model = D400Model(edge_dropout=0.0, random_dropout=0.0, systematic_px=0.05)
    fp = model.fixed_pattern(*depth.shape, np.random.default_rng(7))
    np.testing.assert_array_equal(fp, model.fixed_pattern(*depth.shape, np.random.default_rng(7)))
    assert fp.std() == pytest.approx(0.05, rel=1e-6)
    frames = np.stack([model.apply(depth, 385.0, np.random.default_rng(i), fixed_pattern=fp) for i in range(40)])
    mean_err = frames.mean(axis=0) * 0.001 - depth
    predicted = -(depth**2) * fp / (385.0 * 0.05)  # first order: dz = -z^2 dd / (f B)
    assert np.corrcoef(mean_err.ravel(), predicted.ravel())[0, 1] > 0.9
    assert np.allclose(D400Model().fixed_pattern(8, 8, np.random.default_rng(0)), 0)


def test_same_seed_same_measurement_and_trajectories_are_seeded():
    depth, camera = _wall_at(1.0)
    a = D400Model().apply(depth, camera.fx, np.random.default_rng(5))
    b = D400Model().apply(depth, camera.fx, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(make_trajectory("orbit", 5, 1), make_trajectory("orbit", 5, 1))
    assert not np.array_equal(make_trajectory("orbit", 5, 1), make_trajectory("orbit", 5, 2))
    poses = make_trajectory("orbit", 9, 0, distance=1.5, target=(0, 1, 0), arc_deg=90, jitter_m=0.0)
    centres = np.array([np.linalg.inv(p)[:3, 3] for p in poses])
    np.testing.assert_allclose(np.hypot(centres[:, 0], centres[:, 2]), 1.5, atol=1e-9)
    static = make_trajectory("static", 4, 0)
    assert np.array_equal(static[0], static[3])


def test_fill_holes_equals_scipy_on_random_masks():
    from scipy import ndimage

    from humandepth.capture.mask import fill_holes

    rng = np.random.default_rng(0)
    for i in range(100):
        m = ndimage.binary_opening(rng.random((40, 50)) < 0.55)
        if i % 3 == 0:
            m[0, :] = True  # the mask touching the border
        np.testing.assert_array_equal(fill_holes(m), ndimage.binary_fill_holes(m))

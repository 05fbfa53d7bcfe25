"""The fused person's silhouette: cut from the floor, settled at its border by each frame's own depth, and
measured against the simulator's exact person mask (precision / recall / IoU beside gt_mae_mm)."""

from __future__ import annotations

import numpy as np
import pytest
from fuse_helpers import sensor_sequence

from humandepth.data.camera import Camera
from humandepth.fuse.fusion import FuseConfig, cameras_up, fuse_sequence, mask_agreement
from humandepth.fuse.silhouette import SilhouetteParams, raw_depth_in_color, settle_border
from humandepth.fuse.surface import Render, find_planes, view_angles_deg


def _plane_points(rng, origin, u, v, su, sv, n):
    a, b = rng.uniform(-0.5, 0.5, (2, n))
    return np.asarray(origin) + np.outer(a * su, u) + np.outer(b * sv, v)


def test_the_floor_is_found_behind_a_larger_slab_of_the_person():
    """The person's front (a 0.4 x 1.6 m slab through the subject, most of the points) is RANSAC's first plane;
    the search must go on to the floor (1.0 x 0.6 m, 1 m below the subject's centre) instead of stopping."""
    rng = np.random.default_rng(0)
    centre = np.array([0.0, 1.0, 0.0])
    slab = _plane_points(rng, (0.0, 0.9, 0.05), (1, 0, 0), (0, 1, 0), 0.4, 1.6, 6000)
    floor = _plane_points(rng, (0.0, 0.0, 0.3), (1, 0, 0), (0, 0, 1), 1.0, 0.6, 3000)
    pts = np.concatenate([slab, floor]) + rng.normal(0, 0.002, (9000, 3))
    planes = find_planes(pts, 0.015, 0.5, max_planes=3, min_fraction=0.05, centre=centre)
    assert len(planes) == 1
    assert abs(planes[0]["normal"][1]) > 0.999 and abs(planes[0]["offset"]) < 0.005
    assert planes[0]["inliers"] > 2700  # all but the strip the slab took (within 1.5 cm of it)


def test_cameras_up_is_the_world_up_of_level_cameras():
    from fuse_helpers import look_at

    poses = {i: look_at((2 * np.sin(a), 1.4, 2 * np.cos(a)), (0, 0.9, 0)) for i, a in enumerate((-0.6, 0.0, 0.6))}
    up = cameras_up(poses)
    assert up[1] > np.cos(np.radians(15)) and abs(np.linalg.norm(up) - 1) < 1e-12


def test_raw_depth_lands_on_the_colour_pixels_of_its_points():
    cam_d = Camera.from_focal(40, 30, 35.0)
    cam_c = Camera.from_focal(50, 40, 48.0)
    d2c = np.eye(4)
    d2c[:3, 3] = (-0.015, 0.0, 0.0)
    depth = np.zeros((30, 40), np.float32)
    depth[10:20, 12:30] = 2.0
    out = raw_depth_in_color(depth, cam_d, d2c, cam_c)
    pts = (cam_d.rays()[depth > 0] * 2.0) + d2c[:3, 3]
    uv = np.rint(cam_c.project(pts)).astype(int)
    assert np.all(out[uv[:, 1], uv[:, 0]] == pytest.approx(2.0))
    assert np.isinf(out).sum() == out.size - len({(int(u), int(v)) for u, v in uv})


def _box(shape, half_h, half_w, cy=24, cx=32):
    out = np.zeros(shape, bool)
    out[cy - half_h : cy + half_h + 1, cx - half_w : cx + half_w + 1] = True
    return out


def test_the_border_is_settled_by_the_frame_where_it_measured():
    shape = (48, 64)
    true = _box(shape, 10, 14)
    raw = np.where(true, np.float32(2.0), np.float32(3.5))  # the person at 2 m before a wall at 3.5 m
    params = SilhouetteParams()
    for fused in (_box(shape, 9, 13), _box(shape, 11, 15)):  # a pixel short of the truth, a pixel beyond it
        depth = np.where(fused, np.float32(2.0), np.float32(0.0))
        out, facts = settle_border(fused, depth, raw, 0.004, params)
        np.testing.assert_array_equal(out, true)
        assert facts["added_px"] + facts["removed_px"] == int((fused ^ true).sum()) > 0
    # where the frame measured nothing the fused border stands; the border is one pixel wide
    fused = _box(shape, 9, 13)
    depth = np.where(fused, np.float32(2.0), np.float32(0.0))
    out, _ = settle_border(fused, depth, np.full(shape, np.inf, np.float32), 0.004, params)
    np.testing.assert_array_equal(out, fused)
    small = _box(shape, 7, 11)
    out, _ = settle_border(small, np.where(small, np.float32(2.0), 0), raw, 0.004, params)
    np.testing.assert_array_equal(out, _box(shape, 8, 12))  # grows by the one-pixel border only


def test_view_angle_of_a_tilted_plane():
    cam = Camera.from_focal(32, 24, 30.0)
    n = np.array([np.sin(np.radians(80)), 0.0, -np.cos(np.radians(80))])  # 80 degrees from the optical axis
    normals = np.broadcast_to(n, (24, 32, 3)).astype(np.float32)
    rd = Render(np.ones((24, 32), np.float32), np.ones((24, 32), bool), normals)
    ang = view_angles_deg(rd, cam)
    rays = cam.rays()
    expected = np.minimum(np.degrees(np.arccos(-(rays @ n) / np.linalg.norm(rays, axis=-1))), 90.0)  # 90: back side
    np.testing.assert_allclose(ang, expected, atol=1e-3)
    assert ang[12, 16] == pytest.approx(80.0, abs=1.0)


def test_mask_agreement_counts():
    est = np.zeros((4, 4), bool)
    est[:2] = True  # 8 px
    true = np.zeros((4, 4), bool)
    true[1:3] = True  # 8 px, 4 shared
    m = mask_agreement([(est, true), (true, true)])
    assert (m["precision"], m["recall"], m["iou"]) == (0.75, 0.75, 0.6)
    assert m["per_frame"]["iou"]["max"] == 1.0 and m["frames"] == 2


@pytest.fixture(scope="module")
def noisy_take():
    """The capture wing's mannequin in its room, D400 noise, true poses, 320x240: fused with the defaults."""
    seq, truths = sensor_sequence(n=10, size=(320, 240), f=192.5, seed=0, arc_deg=60.0, distance=1.5)
    return seq, truths, fuse_sequence(seq, FuseConfig(poses="known"))


def test_person_cut_from_the_floor_and_measured(noisy_take):
    seq, truths, result = noisy_take
    floor = result.report["integration"]["rounds"][-1]["roi"]["floor_left_out"]
    assert floor is not None and abs(floor["normal"][1]) > 0.99
    cut = result.report["integration"]["rounds"][-1]["cut"]["planes_removed"]
    assert cut[0]["floor"] is True
    s = result.surface
    heights = s.verts[np.unique(s.tris[s.person])] @ np.asarray(floor["normal"]) + floor["offset"]
    assert heights.min() > floor["margin"]  # nothing of the floor is the person
    m = mask_agreement([(ft.render.person, truths[ft.id][1]) for ft in result.frames])
    assert m["precision"] >= 0.98 and m["recall"] >= 0.9  # 320x240: a pixel of border is 4-5 % of the person
    for ft in result.frames:
        r = ft.render
        assert not (r.mask & ~r.person).any()  # a value only on the person
        assert (r.person & ~r.mask).sum() > 0.05 * r.person.sum()  # the edge band, unsupported and grazing parts
    ev = result.report["evaluated"]
    assert ev["valid_px"] == sum(int(ft.render.mask.sum()) for ft in result.frames)
    assert ev["person_px"] == sum(int(ft.render.person.sum()) for ft in result.frames)


def test_unsupported_pixels_have_no_value_but_stay_in_the_mask(noisy_take, tmp_path):
    from humandepth.data import open_dataset
    from humandepth.fuse.output import write_result

    seq, _, result = noisy_take
    write_result(result, seq, tmp_path / "ds")
    ds = open_dataset(tmp_path / "ds")
    rule = ds.card["generator"]["gt_validity"]
    assert "75 deg" in rule and "0.03 m" in rule and "3 frames or more" in rule
    for sid in ds.ids[:3]:
        s = ds.get(sid)
        r = next(ft.render for ft in result.frames if ft.id == sid)
        np.testing.assert_array_equal(s.mask, r.person)
        np.testing.assert_array_equal(s.depth > 0, r.mask)
        assert s.meta["gt_removed_px"] == int((r.person & ~r.mask).sum())


@pytest.mark.slow
def test_demo_take_mask_meets_the_targets(tmp_path):
    """The demo's simulated take (16 frames at 640x480, framed whole, odometry poses): precision >= 0.98 and
    recall >= 0.95 of the fused person mask against the simulator's (docs/fuse.md)."""
    import json

    from humandepth.cli import main

    take, out = tmp_path / "take", tmp_path / "fused"
    assert main(["capture", "simulate", "--out", str(take), "--frames", "16", "--seed", "0"]) == 0
    assert main(["fuse", str(take), "--out", str(out), "--no-known-comparison", "--quiet"]) == 0
    m = json.loads((out / "fusion_report.json").read_text())["truth"]["person_mask"]
    assert m["precision"] >= 0.98 and m["recall"] >= 0.95, m


def test_denoising_keeps_steps_and_halves_the_noise():
    from humandepth.fuse.prefilter import median3_same_surface

    rng = np.random.default_rng(0)
    truth = np.where(np.arange(64)[None, :] < 32, 2.0, 2.4) * np.ones((48, 1))  # an arm 40 cm before a wall
    noisy = (truth + rng.normal(0, 0.008, truth.shape)).astype(np.float32)
    noisy[20:23, 10:13] = 0  # a hole stays a hole
    out = median3_same_surface(noisy)
    assert np.all(out[20:23, 10:13] == 0) and np.all(out[noisy > 0] > 0)
    assert np.abs(out - truth)[noisy > 0].max() < 0.04  # nothing mixed across the step
    flat = (noisy > 0) & (np.abs(np.arange(64) - 31.5)[None, :] > 2)
    assert np.std((out - truth)[flat]) < 0.6 * np.std((noisy - truth)[flat])
    np.testing.assert_array_equal(median3_same_surface(truth.astype(np.float32)), truth.astype(np.float32))


def test_the_subject_is_found_where_the_room_shows_past_it():
    """A thin subject covering a third of the image centre, the wall behind the rest: the subject's depth."""
    from humandepth.fuse.fusion import _centre_depth

    depth = np.full((120, 160), 3.4, np.float32)  # the wall
    depth[:, 70:88] = 1.8  # an 18 px wide subject: 37.5 % of the central 30 % (48 px wide) window
    depth[5:10, 5:10] = 0  # no depth somewhere: ignored
    assert _centre_depth(depth, 0.3) == pytest.approx(1.8)

"""End to end on a simulated take (the capture wing's simulator writes a real SDK recording and the
exact truth): ``humandepth fuse`` finds the truth beside the take and reports its accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from humandepth.cli import main
from humandepth.data.store import HumanDepthDataset


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    from humandepth.capture.simulate import SimulationConfig, simulate_take

    cfg = SimulationConfig(frames=10, seed=3, distance=1.5, arc_deg=40.0, depth_size=(320, 240), depth_focal=192.5,
                           color_size=(320, 240), color_focal=210.0, person="mannequin")
    return simulate_take(tmp_path_factory.mktemp("fuse") / "take", cfg)


@pytest.fixture(scope="module")
def fused(take, tmp_path_factory):
    out = tmp_path_factory.mktemp("fused") / "ds"
    assert main(["fuse", str(take), "--out", str(out), "--quiet"]) == 0
    return out, json.loads((out / "fusion_report.json").read_text())


def test_take_fused_with_odometry_beats_a_raw_frame(fused):
    out, report = fused
    assert report["poses"]["method"] == "odometry"
    assert report["poses"]["nodes"] == 10 and report["poses"]["loop_closures_tried"] >= 1
    assert report["frames"]["read"] == 10 and report["frames"]["rejected"] == 0
    truth = report["truth"]
    assert truth["pose_error"]["translation_mm_max"] < 15
    mae = truth["gt_mae_mm"]
    assert set(mae) == {"raw_frame", "fused", "fused_known_poses"}
    # 320x240 doubles the noise of the 640x480 headline setting (sigma_z ~ 19 mm at 1.5 m)
    assert mae["raw_frame"] > 8
    assert mae["fused"] < 6 and mae["fused"] < mae["raw_frame"] / 2
    assert mae["fused_known_poses"] < 6
    assert truth["fused_coverage_of_truth_mask"]["mean"] > 0.5
    # the person mask (the silhouette) against the simulator's: the floor and the room are cut away
    mask = truth["person_mask"]
    assert mask["precision"] > 0.97 and mask["recall"] > 0.9 and mask["iou"] > 0.88
    assert mask["per_frame"]["precision"]["frames"] == 10
    assert 0.6 < report["evaluated"]["fraction"] < 1.0  # unsupported, edge and grazing pixels have no value


def test_output_is_a_fused_dataset_with_meshes(fused, take):
    out, report = fused
    ds = HumanDepthDataset(out)
    assert ds.kind == "fused" and len(ds) == report["output"]["samples"] == 10
    assert set(ds.fields) >= {"rgb", "depth", "mask", "normal", "depth_base", "depth_detail"}
    s = ds.get("frame-000004")
    assert s.camera.width == 320 and s.camera.fx == pytest.approx(210.0)
    valid = s.mask & (s.depth > 0)
    assert valid.sum() > 0.6 * s.mask.sum() and np.all(s.depth[valid] > 1.0) and np.all(s.depth[~s.mask] == 0)
    assert s.meta["gt_removed_px"] == int((s.mask & (s.depth == 0)).sum()) > 0  # the person keeps its outline
    np.testing.assert_allclose(s.depth_base + s.depth_detail, s.depth, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(s.normal[valid], axis=1), 1, atol=1e-4)
    assert not s.normal[s.mask & ~valid].any()
    assert "fused v2" in ds.card["generator"]["gt_validity"]
    truth = HumanDepthDataset(take / "truth" / "color").get("frame-000004")
    np.testing.assert_array_equal(s.rgb.shape, truth.rgb.shape)
    assert s.meta["frame_id"] == "frame-000004" and "residual_mean_abs_mm" in s.meta
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(str(out / "person_mesh.ply"))
    assert len(mesh.triangles) == report["surface"]["person_triangles"]
    extent = mesh.get_max_bound() - mesh.get_min_bound()
    assert 1.5 < extent[1] < 1.9  # the mannequin's height (world = first camera, roughly upright)
    assert (out / "fused_mesh.ply").stat().st_size > 0


def test_recording_file_finds_its_truth_and_known_poses(take, tmp_path):
    rec = next(take.glob("recording.*"))
    out = tmp_path / "ds"
    assert main(["fuse", str(rec), "--out", str(out), "--poses", "known", "--max-frames", "6", "--quiet"]) == 0
    report = json.loads((out / "fusion_report.json").read_text())
    assert report["poses"]["method"] == "known" and report["frames"]["read"] == 6
    mae = report["truth"]["gt_mae_mm"]
    assert mae["fused"] == mae["fused_known_poses"] < mae["raw_frame"] / 2


def test_captured_dataset_input(take, tmp_path):
    from humandepth.capture.importer import import_take

    cap = tmp_path / "cap"
    import_take(take, cap, align="color")
    out = tmp_path / "ds"
    assert main(["fuse", str(cap), "--out", str(out), "--poses", "known", "--stride", "2", "--quiet"]) == 0
    report = json.loads((out / "fusion_report.json").read_text())
    assert report["input"]["kind"] == "captured-dataset" and report["frames"]["read"] == 5
    assert report["truth"]["gt_mae_mm"]["fused"] < report["truth"]["gt_mae_mm"]["raw_frame"]

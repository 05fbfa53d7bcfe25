"""The detail protocol: base removal and normal metrics on scenes with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from benchmark_helpers import plane_sample

from humandepth.benchmark.protocols import SampleView, make_protocol


def square_scene(size=32, inner=24, depth=2.0):
    mask = np.zeros((size, size), bool)
    o = (size - inner) // 2
    mask[o : o + inner, o : o + inner] = True
    gt = np.where(mask, depth, 0.0).astype(np.float32)
    return gt, mask


def test_detail_residual_of_a_checkerboard_is_its_amplitude():
    # GT: a flat plane (no detail).  Prediction: the plane plus a +-1 mm checkerboard, which the
    # 4 px bilateral base cannot follow, so the whole checkerboard is detail: |residual| ~ 1 mm.
    gt, mask = square_scene()
    rows, cols = np.indices(gt.shape)
    pred = gt + np.where((rows + cols) % 2 == 0, 0.001, -0.001).astype(np.float32)
    sc = make_protocol("detail").score(SampleView("c", gt, mask, pred, "metric"))
    assert sc.params["shift_m"] == pytest.approx(0.0, abs=1e-7)  # median of equal +-1 mm halves
    assert sc.metrics["detail_mae_mm"] == pytest.approx(1.0, rel=0.1)
    assert sc.metrics["detail_rmse_mm"] == pytest.approx(1.0, rel=0.1)


def test_detail_ignores_smooth_errors_that_tang2019_counts():
    # a 5 cm ramp across the person is a base-shape error: large under tang2019, small as detail
    gt, mask = square_scene()
    ramp = np.linspace(0.0, 0.05, gt.shape[1], dtype=np.float32)[None, :]
    pred = gt + ramp
    v = SampleView("r", gt, mask, pred, "relative")
    tang_mm = 10 * make_protocol("tang2019").score(v).metrics["mae_cm"]
    detail_mm = make_protocol("detail").score(v).metrics["detail_mae_mm"]
    assert tang_mm > 8.0  # ~ a quarter of the 3.9 cm ramp seen inside the mask
    assert detail_mm < 0.2 * tang_mm


def test_submitted_normals_are_scored_against_stored_gt_normals():
    gt, mask = square_scene()
    gt_n = np.zeros((*gt.shape, 3), np.float32)
    gt_n[mask] = (0, 0, -1)
    a, b = np.radians(10.0), np.radians(40.0)
    pred_n = np.zeros_like(gt_n)
    left = mask & (np.indices(gt.shape)[1] < 16)
    pred_n[left] = (np.sin(a), 0, -np.cos(a))
    pred_n[mask & ~left] = (np.sin(b), 0, -np.cos(b))
    sc = make_protocol("detail").score(SampleView("n", gt, mask, gt, "metric", pred_normal=pred_n, gt_normal=gt_n))
    assert sc.params["normals_submitted"] == 1
    assert sc.params["normal_px"] == mask.sum()
    assert sc.metrics["normal_mean_deg"] == pytest.approx(25.0, abs=1e-4)  # half 10, half 40 degrees
    assert sc.metrics["normal_median_deg"] == pytest.approx(25.0, abs=1e-4)
    for k in ("normal_11.25", "normal_22.5", "normal_30"):
        assert sc.metrics[k] == pytest.approx(50.0)
    # pixels without a predicted normal count as 90 degrees, and are counted
    pred_n[mask & (np.indices(gt.shape)[0] < 10)] = 0
    sc2 = make_protocol("detail").score(SampleView("n", gt, mask, gt, "metric", pred_normal=pred_n, gt_normal=gt_n))
    missing = int((mask & (np.indices(gt.shape)[0] < 10)).sum())
    assert sc2.params["normal_missing_px"] == missing
    assert sc2.metrics["normal_mean_deg"] > sc.metrics["normal_mean_deg"]


def test_normals_from_predicted_depth_of_an_exact_tilted_plane():
    s = plane_sample("p", size=40, tilt_deg=30.0)
    pred = s.depth + np.float32(0.3)  # a relative prediction: right shape, wrong distance
    sc = make_protocol("detail").score(
        SampleView("p", s.depth, s.mask, pred, "relative", K=s.camera.K, gt_normal=s.normal))
    assert sc.params["normals_submitted"] == 0
    assert sc.params["normal_missing_px"] == 0
    assert sc.metrics["normal_mean_deg"] < 0.05  # derived at the aligned (GT) distance: exact up to float32
    assert sc.metrics["normal_30"] == 100.0
    # without stored GT normals, they come from GT depth too
    sc2 = make_protocol("detail").score(SampleView("p", s.depth, s.mask, pred, "relative", K=s.camera.K))
    assert sc2.metrics["normal_mean_deg"] < 0.05

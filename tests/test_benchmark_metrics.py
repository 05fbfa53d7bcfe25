"""Protocol metrics against values worked out by hand, and the alignments against planted parameters."""

from __future__ import annotations

import numpy as np
import pytest

from humandepth.benchmark import align, metrics
from humandepth.benchmark.protocols import SampleView, add_sums, make_protocol


def view(gt, pred, mask=None, depth_kind="metric", **kw) -> SampleView:
    gt = np.asarray(gt, np.float32).reshape(1, -1)
    pred = np.asarray(pred, np.float32).reshape(1, -1)
    mask = np.ones(gt.shape, bool) if mask is None else np.asarray(mask, bool).reshape(1, -1)
    return SampleView("x", gt, mask, pred, depth_kind, **kw)


# ---------------------------------------------------------------- tang2019, worked by hand
# gt = 2 m everywhere; pred = 1 m + signed offsets (dyadic, so float32 holds them exactly):
#   gt - pred = [1, 1 - 1/128, 1 + 3/128, 1 - 1/32, 0.5]  -> sorted median t = 1 - 1/128
#   e = |pred + t - gt| = [1/128, 0, 4/128, 3/128, 63/128] m
#   mae = 71/128/5 m = 11.09375 cm
#   e < 1.25 cm: {1/128, 0} -> 40 %;  < 2.5 cm: + 3/128 -> 60 %;  < 5 cm: + 4/128 -> 80 %
#   5 mm bins: 0 -> bin 0, 1/128 -> 1, 3/128 -> 4, 4/128 -> 6, 63/128 -> 98
#   cumulative c_k = share of e < 5k mm: k=1: .2; k=2..4: .4; k=5..6: .6; k=7..98: .8; k=99..100: 1
#   auc = (0.2 + 3 * 0.4 + 2 * 0.6 + 92 * 0.8 + 2 * 1.0) / 100 = 0.782
TANG_GT = [2.0] * 5
TANG_PRED = [1.0, 1.0 + 1 / 128, 1.0 - 3 / 128, 1.0 + 1 / 32, 1.5]


def test_tang2019_metrics_by_hand():
    sc = make_protocol("tang2019").score(view(TANG_GT, TANG_PRED))
    assert sc.params["shift_m"] == 1 - 1 / 128
    assert sc.params["n_px"] == 5
    assert sc.metrics["mae_cm"] == pytest.approx(11.09375, abs=1e-12)
    assert sc.metrics["acc_1.25cm"] == pytest.approx(40.0)
    assert sc.metrics["acc_2.5cm"] == pytest.approx(60.0)
    assert sc.metrics["acc_5cm"] == pytest.approx(80.0)
    assert sc.metrics["auc_0.5m"] == pytest.approx(0.782, abs=1e-12)


def test_tang2019_ignores_pixels_outside_mask_and_without_gt_depth():
    gt = TANG_GT + [2.0, 0.0]
    pred = TANG_PRED + [99.0, -5.0]  # outside the mask / no GT depth: must not count
    mask = [True] * 5 + [False, True]
    sc = make_protocol("tang2019").score(view(gt, pred, mask))
    assert sc.params["n_px"] == 5
    assert sc.metrics["mae_cm"] == pytest.approx(11.09375, abs=1e-12)


def test_tang2019_pooled_weights_pixels_not_samples():
    p = make_protocol("tang2019")
    a = p.score(view(TANG_GT, TANG_PRED))  # 5 px, mae 11.09375 cm
    b = p.score(view([2.0] * 15, [1.0] * 15))  # 15 px, mae 0
    pooled = p.pooled(add_sums(add_sums({}, a.sums), b.sums))
    assert pooled["mae_cm"] == pytest.approx(11.09375 * 5 / 20)
    assert pooled["acc_1.25cm"] == pytest.approx(100.0 * (2 + 15) / 20)
    # auc of the pooled histogram: c_k over 20 px; the 15 zero errors count below every edge
    assert pooled["auc_0.5m"] == pytest.approx((0.782 * 5 + 15) / 20)


def test_empty_mask_gives_nan_with_a_note():
    sc = make_protocol("tang2019").score(view([0.0, 0.0], [1.0, 1.0]))
    assert all(np.isnan(v) for v in sc.metrics.values())
    assert "empty" in sc.note


# ---------------------------------------------------------------- affine / metric, worked by hand
# gt = [1, 2, 4, 1], pred = [1.04, 1.9, 5.0, 0.0] (metric, no alignment):
#   |d|/gt = [0.04, 0.05, 0.25, 1.0] -> absrel = 1.34 / 4 = 0.335
#   rmse = sqrt((0.04^2 + 0.1^2 + 1 + 1) / 4) = sqrt(0.5029) m
#   ratios max(p/g, g/p) = [1.04, 1.0526, 1.25, inf (pred <= 0)]
#   delta_1.05: 1 of 4 -> 25 %; delta_1.10: 2 -> 50 %; delta_1.25 (strictly below): 2 -> 50 %
def test_metric_protocol_by_hand():
    sc = make_protocol("metric").score(view([1, 2, 4, 1], [1.04, 1.9, 5.0, 0.0]))
    assert sc.metrics["absrel"] == pytest.approx(0.335, rel=1e-6)
    assert sc.metrics["rmse_mm"] == pytest.approx(1000 * np.sqrt(0.5029), rel=1e-6)
    assert sc.metrics["delta_1.05"] == 25.0
    assert sc.metrics["delta_1.10"] == 50.0
    assert sc.metrics["delta_1.25"] == 50.0


def test_affine_recovers_planted_scale_and_shift_exactly():
    rng = np.random.default_rng(3)
    gt = rng.uniform(1.5, 3.0, 500)
    pred = (gt - 0.7) / 1.3  # gt = 1.3 * pred + 0.7
    fit = align.fit_affine(pred, gt)
    assert fit.ok
    assert fit.scale == pytest.approx(1.3, abs=1e-12)
    assert fit.shift == pytest.approx(0.7, abs=1e-12)
    # through the protocol (float32 storage of gt/pred bounds the residual to ~1e-7 relative)
    sc = make_protocol("affine").score(view(gt, pred, depth_kind="relative"))
    assert sc.params["scale"] == pytest.approx(1.3, rel=1e-6)
    assert sc.params["shift"] == pytest.approx(0.7, abs=1e-6)
    assert sc.metrics["absrel"] < 1e-6
    assert sc.metrics["delta_1.05"] == 100.0


def test_affine_in_inverse_depth_for_inverse_relative():
    rng = np.random.default_rng(4)
    gt = rng.uniform(1.5, 3.0, 400)
    disparity = (1.0 / gt - 0.05) / 4.0  # 1/gt = 4 * pred + 0.05
    sc = make_protocol("affine").score(view(gt, disparity, depth_kind="inverse_relative"))
    assert sc.params["scale"] == pytest.approx(4.0, rel=1e-5)
    assert sc.params["shift"] == pytest.approx(0.05, abs=1e-6)
    assert sc.params["clamped_px"] == 0
    assert sc.metrics["absrel"] < 1e-5
    # the same numbers taken as depth would not fit: the depth-space affine error is clearly larger
    depth_space = make_protocol("affine").score(view(gt, disparity, depth_kind="relative"))
    assert depth_space.metrics["absrel"] > 100 * sc.metrics["absrel"]


def test_affine_degenerate_fit_is_nan_and_reported():
    sc = make_protocol("affine").score(view([1.0, 2.0, 3.0], [0.5, 0.5, 0.5], depth_kind="relative"))
    assert all(np.isnan(v) for v in sc.metrics.values())
    assert sc.params["degenerate"] == 1
    assert "degenerate" in sc.note
    assert not align.fit_affine(np.array([1.0]), np.array([2.0])).ok


def test_protocols_refuse_depth_kinds_they_cannot_score():
    with pytest.raises(ValueError, match="metric.*relative"):
        make_protocol("metric").check_kind("relative", "preds.h5")
    with pytest.raises(ValueError, match="tang2019.*inverse_relative"):
        make_protocol("tang2019").check_kind("inverse_relative", "preds.h5")
    make_protocol("affine").check_kind("inverse_relative", "preds.h5")
    with pytest.raises(ValueError, match="unknown protocol"):
        make_protocol("kitti")


# ---------------------------------------------------------------- the authors' grid search
def authors_shift(gt: np.ndarray, pred: np.ndarray) -> float:
    """Tang et al.'s released evaluation (utils/util.py::new_compute_depth_err_auc), re-implemented:
    start from median(gt) - median(pred), then try extra offsets in [-0.2, 0.2] m in 2.5 mm steps and keep
    the one with the smallest mean absolute error."""
    base = np.median(gt) - np.median(pred)
    offsets = -0.2 + 0.0025 * np.arange(161)
    errs = [np.mean(np.abs(pred + base + o - gt)) for o in offsets]
    return float(base + offsets[int(np.argmin(errs))])


@pytest.mark.parametrize("seed", range(6))
def test_median_shift_matches_the_authors_grid_search(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    gt = 2.0 + rng.normal(0, 0.15, n)
    # a skewed error (so median(gt) - median(pred) is not the L1-optimal shift) plus a global offset
    pred = gt - 0.9 + rng.exponential(0.04, n) * rng.choice([-1.0, 3.0], n) + rng.normal(0, 0.01, n)
    ours = align.median_shift(gt, pred)
    theirs = authors_shift(gt, pred)
    naive = np.median(gt) - np.median(pred)
    assert abs(ours - naive) > 0.0025  # the grid search has real work to do here
    assert abs(ours - theirs) <= 0.0025 + 1e-12
    # ours is the exact L1 optimum: never worse than the grid's best
    assert np.mean(np.abs(pred + ours - gt)) <= np.mean(np.abs(pred + theirs - gt)) + 1e-12


# ---------------------------------------------------------------- histogram / normal helpers
def test_cumulative_curve_edges_and_overflow():
    e = np.array([0.0, 0.0049, 0.005, 0.4999, 0.5, 3.0])
    hist = metrics.error_histogram(e)
    assert hist.shape == (metrics.HIST_BINS + 1,)
    assert hist[0] == 2 and hist[1] == 1 and hist[99] == 1 and hist[100] == 2
    cum = metrics.cumulative_from_histogram(hist)
    assert cum[0] == pytest.approx(2 / 6)  # e < 5 mm
    assert cum[-1] == pytest.approx(4 / 6)  # e < 0.5 m: 0.5 and 3.0 are not below
    assert metrics.cumulative_edges_m()[[0, -1]] == pytest.approx([0.005, 0.5])


def test_angles_and_missing_normals():
    gt = np.tile([0.0, 0.0, -1.0], (4, 1))
    th = np.radians(10.0)
    pred = np.array([[0, 0, -1], [np.sin(th), 0, -np.cos(th)], [0, 0, 1], [0, 0, 0]], float)
    assert metrics.angles_deg(pred, gt) == pytest.approx([0.0, 10.0, 180.0, 90.0])
    h = metrics.angle_histogram(np.array([10.0, 10.0, 40.0]))
    assert metrics.median_from_angle_histogram(h) == pytest.approx(10.005)


def test_bootstrap_interval_is_seeded_and_brackets_the_mean():
    from humandepth.benchmark.run import bootstrap_ci

    v = np.random.default_rng(5).normal(3.0, 1.0, 400)
    a = bootstrap_ci(v, seed=7, resamples=2000)
    assert a == bootstrap_ci(v, seed=7, resamples=2000)
    assert a[0] < v.mean() < a[1]
    se = v.std(ddof=1) / np.sqrt(v.size)  # the normal-theory 95% half width is 1.96 standard errors
    assert (a[1] - a[0]) / 2 == pytest.approx(1.96 * se, rel=0.15)
    assert bootstrap_ci(np.array([2.0, 2.0, np.nan]), seed=0, resamples=100) == (2.0, 2.0)
    assert all(np.isnan(bootstrap_ci(np.array([np.nan]), seed=0)))


def test_thumbnail_ids_are_fixed_and_evenly_spaced():
    from humandepth.benchmark.run import thumbnail_ids

    ids = [f"{i:03d}" for i in range(10)]
    assert thumbnail_ids(list(reversed(ids)), 4) == ["000", "003", "006", "009"]
    assert thumbnail_ids(ids[:2], 4) == ["000", "001"]
    assert thumbnail_ids(ids, 0) == []

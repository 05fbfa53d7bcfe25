"""The reference network can learn: on 8 analytic scenes a few hundred CPU steps bring the base and the detail
errors on those scenes far below the levels of a prediction that knows nothing, and the same check fails
when the pipeline is broken (the images blanked on the way), so a silent regression cannot pass it."""

import numpy as np
import pytest
from reference_helpers import TINY, one_thread, rippled_scene

from humandepth.baselines.reference.config import ModelConfig, TrainConfig
from humandepth.baselines.reference.diagnose import overfit

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)

STEPS = 120
# the small preset's architecture and loss weights, at the tests' tiny size
MODEL = ModelConfig.from_dict({**TINY, "prior_channels": 8, "image_skip": True, "mask_head": True})
TRAIN = TrainConfig(lr=1e-3)


def _scenes(blank: bool = False):
    out = []
    for i in range(8):
        s = rippled_scene(f"s{i}", 100 + i, height=64, width=64, ripple=0.01)
        if blank:
            s.rgb = np.zeros_like(s.rgb)
        out.append(s)
    return out


@pytest.fixture(scope="module")
def fitted():
    return overfit(_scenes(), MODEL, TRAIN, STEPS)


def test_base_and_detail_fit_far_below_the_trivial_levels(fitted):
    r = fitted
    assert r["base_l1_cm"] < 0.5 * r["base_const_cm"], r
    assert r["detail_l1_cm"] < 0.8 * r["detail_zero_cm"], r
    assert r["detail_corr"] > 0.6, r
    assert r["composed_mae_cm"] < 0.5 * r["base_const_cm"], r
    assert r["mask_iou"] > 0.9, r


def test_the_check_fails_when_the_images_never_reach_the_network(fitted):
    broken = overfit(_scenes(blank=True), MODEL, TRAIN, STEPS)
    # the detail of each scene is only in its shading: without the image no weight can fit it
    assert broken["detail_l1_cm"] > 0.95 * broken["detail_zero_cm"], broken
    assert broken["detail_corr"] < 0.3, broken
    assert broken["detail_l1_cm"] > fitted["detail_l1_cm"] + 0.05, (broken, fitted)


def test_depth_tilt_of_an_analytic_plane():
    from humandepth.baselines.reference.diagnose import depth_tilt

    yy, xx = np.mgrid[0:64, 0:48].astype(np.float64)
    mask = np.zeros((64, 48), bool)
    mask[8:58, 10:30] = True  # a person 50 px tall
    depth = 2.0 + 0.004 * yy - 0.002 * xx  # 4 mm per row down, 2 mm per column right
    vertical, horizontal = depth_tilt(depth, mask)
    assert vertical == pytest.approx(0.004 * 50) and horizontal == pytest.approx(-0.002 * 50)
    with pytest.raises(ValueError, match="3 mask pixels"):
        depth_tilt(depth, np.zeros_like(mask))


def test_tilt_decomposition_separates_the_plane_from_the_shape():
    from humandepth.baselines.reference.diagnose import tilt_decomposition

    yy, xx = np.mgrid[0:64, 0:48].astype(np.float64)
    mask = np.zeros((64, 48), bool)
    mask[8:58, 10:30] = True  # 50 px tall
    shape = 0.03 * np.sin(0.5 * yy) * np.cos(0.4 * xx)
    truth = 2.0 + 0.004 * yy + 0.006 * xx + shape
    wrong_tilt = 1.5 - 0.002 * yy + shape  # the shape exactly, another plane
    r = tilt_decomposition(truth, wrong_tilt, mask)
    assert r["pred"] > 0.02 and r["true_tilt"] == pytest.approx(0.0, abs=1e-9)
    assert 0 < r["true_vertical_tilt"] < r["pred"]  # the horizontal slope is still wrong
    assert r["true_plane"] == pytest.approx(float(np.mean(np.abs(shape[mask] - np.median(shape[mask])))), abs=2e-3)
    assert r["truth_vertical"] == pytest.approx(0.004 * 50, abs=0.01)
    assert r["pred_vertical"] == pytest.approx(-0.002 * 50, abs=0.01)
    assert r["pred_horizontal"] == pytest.approx(0, abs=0.01)
    with pytest.raises(ValueError, match="3 mask pixels"):
        tilt_decomposition(truth, truth, np.zeros_like(mask))

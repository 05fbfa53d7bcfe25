import numpy as np
import pytest
from data_helpers import plane_sample

from humandepth.baselines.classical import InflateBaseline, inflate_mask
from humandepth.baselines.registry import BASELINES, get_baseline
from humandepth.baselines.run import run_baseline
from humandepth.data import Predictions, open_dataset, write_samples


def test_inflation_of_a_disc_is_a_hemisphere():
    v, u = np.mgrid[0:101, 0:101]
    mask = (u - 50) ** 2 + (v - 50) ** 2 <= 40**2
    depth = inflate_mask(mask, metres_per_px=0.01, base_m=1.0)
    # centre bulges by the radius (40 px = 0.40 m); the rim does not bulge
    assert depth[50, 50] == pytest.approx(1.0 - 0.40, abs=0.015)
    assert depth[50, 10] > 0.9 and np.all(depth[~mask] == 1.0)
    # nearer towards the centre along a radius
    row = depth[50, 10:51]
    assert np.all(np.diff(row) <= 1e-6)


def test_inflate_scale_from_mask_height():
    s = plane_sample(1)  # a 16-row box mask: metres per pixel = 1.70 m / 16 px
    (depth, normal), = InflateBaseline().predict([s])
    assert depth.shape == s.depth.shape and depth.dtype == np.float32 and normal is None
    assert np.all(np.isfinite(depth)) and np.all(depth[~s.mask] == 1.0)
    bulge_px = np.sqrt(np.clip(_dist(s.mask) * (2 * _dist(s.mask).max() - _dist(s.mask)), 0, None))
    assert depth[s.mask].min() == pytest.approx(1.0 - 1.70 / 16 * bulge_px.max(), rel=0.05)


def _dist(mask):
    from scipy import ndimage

    return ndimage.distance_transform_edt(mask)


def test_registry_lists_every_baseline_and_rejects_unknown():
    assert {"plane", "inflate", "gt-base", "reference", "reference-single-branch", "reference-no-refine",
            "reference-no-priors", "reference-geonet-refine"} <= set(BASELINES)
    with pytest.raises(KeyError, match="unknown baseline 'nope'"):
        get_baseline("nope")


@pytest.mark.parametrize("name", ["plane", "inflate", "gt-base"])
def test_run_writes_a_valid_predictions_file(tmp_path, name):
    ds = open_dataset(write_samples(tmp_path / "ds", [plane_sample(i) for i in range(3)], name="planes"))
    out = run_baseline(name, ds, tmp_path / f"{name}.h5", progress=False)
    with Predictions(out) as p:
        assert p.method == name and p.ids == ds.ids
        for sid in ds.ids:
            d = p.depth(sid)
            assert d.shape == (24, 32) and d.dtype == np.float32 and np.all(np.isfinite(d))
        if name == "gt-base":
            assert p.depth_kind == "metric"
            np.testing.assert_array_equal(p.depth("s001"), ds.get("s001").depth_base)
    assert not (tmp_path / f"{name}.h5.partial").exists()


def test_a_checkpoint_for_a_baseline_without_weights_is_refused(tmp_path, capsys):
    from humandepth.cli import main

    root = write_samples(tmp_path / "ds", [plane_sample(0)], name="p", kind="synthetic")
    assert main(["baselines", "run", "plane", "--dataset", str(root), "--checkpoint", "ck", "--out",
                 str(tmp_path / "p.h5")]) == 2
    assert "baseline 'plane' takes no --checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "p.h5").exists()

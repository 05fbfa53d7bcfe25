"""Submission validation: each bad input gives its own error naming the sample; nothing is written."""

from __future__ import annotations

import numpy as np
import pytest
from benchmark_helpers import scene_samples, write_dataset, write_predictions, write_raw_predictions

from humandepth.benchmark import SubmissionError, run_benchmark, validate_predictions
from humandepth.data import HumanDepthDataset, Predictions


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_validate") / "ds"
    write_dataset(root, scene_samples(4, size=24))
    return HumanDepthDataset(root)


@pytest.fixture(scope="module")
def good(dataset):
    return {sid: dataset.get(sid).depth + np.float32(0.1) for sid in dataset.ids}


def problems_of(dataset, path) -> list[tuple[str, str]]:
    with Predictions(path) as p, pytest.raises(SubmissionError) as ei:
        validate_predictions(dataset, p)
    assert dataset.name in str(ei.value) and str(path) in str(ei.value)
    return ei.value.problems


def test_valid_predictions_pass_and_extra_ids_are_listed(dataset, good, tmp_path):
    preds = dict(good, extra_1=np.ones((3, 3), np.float32))
    path = write_predictions(tmp_path / "p.h5", preds)
    with Predictions(path) as p:
        ids = validate_predictions(dataset, p)
    assert ids.extra == ["extra_1"] and ids.missing == []


def test_missing_id(dataset, good, tmp_path):
    preds = {k: v for k, v in good.items() if k != "s02"}
    probs = problems_of(dataset, write_predictions(tmp_path / "p.h5", preds))
    assert probs == [("s02", "no prediction in the file (missing /depth/<id>)")]


def test_wrong_shape(dataset, good, tmp_path):
    preds = dict(good, s01=good["s01"][:-1])
    [(sid, msg)] = problems_of(dataset, write_predictions(tmp_path / "p.h5", preds))
    assert sid == "s01" and "shape (23, 24)" in msg and "(24, 24)" in msg


def test_nan_inside_mask_is_an_error_but_not_outside(dataset, good, tmp_path):
    s = dataset.get("s03")
    d = good["s03"].copy()
    d[~s.mask] = np.nan  # outside the mask: allowed
    ok = write_predictions(tmp_path / "ok.h5", dict(good, s03=d))
    with Predictions(ok) as p:
        validate_predictions(dataset, p)
    r, c = np.argwhere(s.mask)[0]
    d[r, c] = np.nan
    [(sid, msg)] = problems_of(dataset, write_predictions(tmp_path / "bad.h5", dict(good, s03=d)))
    assert sid == "s03" and "NaN at 1 pixel" in msg


def test_inf_inside_mask(dataset, good, tmp_path):
    s = dataset.get("s00")
    d = good["s00"].copy()
    d[s.mask] = np.inf
    [(sid, msg)] = problems_of(dataset, write_predictions(tmp_path / "p.h5", dict(good, s00=d)))
    assert sid == "s00" and f"inf at {int(s.mask.sum())} pixel" in msg


def test_integer_dtype(dataset, good, tmp_path):
    preds = dict(good, s01=np.round(good["s01"] * 1000).astype(np.int32))
    [(sid, msg)] = problems_of(dataset, write_raw_predictions(tmp_path / "p.h5", preds))
    assert sid == "s01" and "dtype int32" in msg


def test_bad_normals(dataset, good, tmp_path):
    s = dataset.get("s02")
    n = np.zeros((*s.mask.shape, 3), np.float32)
    n[s.mask] = (0, 0, -1)
    n_nan = n.copy()
    n_nan[s.mask] = np.nan
    path = write_predictions(tmp_path / "p.h5", good, normals={"s02": n_nan, "s00": n[:, :, :2]})
    probs = problems_of(dataset, path)
    assert [p[0] for p in probs] == ["s00", "s02"]
    assert "normal has shape (24, 24, 2)" in probs[0][1] and "normal holds NaN" in probs[1][1]


def test_all_problems_are_collected_and_nothing_is_written(dataset, good, tmp_path):
    bad = {k: v for k, v in good.items() if k != "s00"}
    bad["s01"] = good["s01"][:, :5]
    d = good["s03"].copy()
    d[dataset.get("s03").mask] = np.nan
    bad["s03"] = d
    path = write_predictions(tmp_path / "p.h5", bad)
    out = tmp_path / "run"
    with pytest.raises(SubmissionError) as ei:
        run_benchmark(dataset, path, ["tang2019"], out, progress=False)
    assert [p[0] for p in ei.value.problems] == ["s00", "s01", "s03"]
    msg = str(ei.value)
    assert "3 problem(s)" in msg and "'s00'" in msg and "'s01'" in msg and "'s03'" in msg
    assert not out.exists()

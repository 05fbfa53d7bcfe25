"""End to end: a real HDF5 dataset of analytic scenes, real predictions files, the run directory and CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from benchmark_helpers import scene_samples, write_dataset, write_predictions
from PIL import Image

from humandepth.benchmark import run_benchmark
from humandepth.benchmark.protocols import PROTOCOL_NAMES, make_protocol
from humandepth.cli import main
from humandepth.data import HumanDepthDataset
from humandepth.data.store import sha256_file

ALL = list(PROTOCOL_NAMES)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_run")
    samples = scene_samples(6, size=48)
    write_dataset(root / "ds", samples)
    ds = HumanDepthDataset(root / "ds")
    gt = {s.id: s.depth for s in samples}
    # a different planted offset per sample, written in reverse id order: pairing must go by id
    shifts = {sid: 0.0113 * (i + 1) for i, sid in enumerate(sorted(gt))}
    exact = write_predictions(root / "exact.h5", {k: v + np.float32(shifts[k]) for k, v in gt.items()},
                              method="exact-shift", depth_kind="metric", order=sorted(gt, reverse=True))
    run = root / "run_exact"
    summary = run_benchmark(ds, exact, ALL, run, progress=False, workers=1)
    return {"root": root, "ds": ds, "gt": gt, "shifts": shifts, "exact": exact, "run": run, "summary": summary}


def test_run_directory_contents(setup):
    run, ds, summary = setup["run"], setup["ds"], setup["summary"]
    for name in ("per_sample.csv", "summary.json", "leaderboard.md", "cumulative_error.csv"):
        assert (run / name).is_file(), name
    on_disk = json.loads((run / "summary.json").read_text())
    assert on_disk["method"] == "exact-shift"
    assert on_disk["dataset"]["name"] == "analytic" and on_disk["dataset"]["sha256"] == ds.checksum()
    assert on_disk["predictions"]["sha256"] == sha256_file(setup["exact"])
    table = pd.read_csv(run / "per_sample.csv", dtype={"id": str})
    assert table["id"].tolist() == ds.ids
    for name in ALL:
        p = make_protocol(name)
        entry = on_disk["protocols"][name]
        assert entry["version"] == p.version
        for m in p.metric_names:
            assert f"{name}.{m}" in table.columns
            assert entry["metrics"][m] == pytest.approx(table[f"{name}.{m}"].mean(), rel=1e-9, abs=1e-12)
            assert m in entry["pooled"]
        for param in p.param_names:
            assert f"{name}.{param}" in table.columns
        ci = entry["ci95"]
        assert ci["metric"] == p.metric_names[0]
        assert ci["low"] <= entry["metrics"][p.metric_names[0]] <= ci["high"]
        assert entry["n_nan"] == 0
    assert summary["protocols"]["tang2019"]["version"] == on_disk["protocols"]["tang2019"]["version"]
    assert "exact-shift" in (run / "leaderboard.md").read_text()


def test_scores_of_planted_offsets(setup):
    table = pd.read_csv(setup["run"] / "per_sample.csv", dtype={"id": str}).set_index("id")
    for sid, shift in setup["shifts"].items():
        assert table.loc[sid, "tang2019.shift_m"] == pytest.approx(-shift, abs=1e-6)  # paired by id
        assert table.loc[sid, "tang2019.mae_cm"] < 1e-4
        assert table.loc[sid, "tang2019.auc_0.5m"] == 1.0
        assert table.loc[sid, "metric.rmse_mm"] == pytest.approx(1000 * shift, abs=1e-3)
        assert table.loc[sid, "affine.scale"] == pytest.approx(1.0, abs=1e-5)
        assert table.loc[sid, "detail.detail_mae_mm"] < 1e-3
    cum = pd.read_csv(setup["run"] / "cumulative_error.csv")
    assert sorted(cum["protocol"].unique()) == ["affine", "metric", "tang2019"]
    tang = cum[cum["protocol"] == "tang2019"]
    assert len(tang) == 100 and (tang["cumulative_pct"] == 100.0).all()
    metric = cum[cum["protocol"] == "metric"].set_index("error_m")["cumulative_pct"]
    # offsets are 1.13 .. 6.78 cm (never on a 5 mm bin edge): none below 1 cm, all below 7 cm
    assert metric.loc[0.01] == 0.0 and metric.loc[0.07] == 100.0
    assert 0.0 < metric.loc[0.015] < 100.0


def test_thumbnails(setup):
    summary = setup["summary"]
    assert [t["id"] for t in summary["thumbnails"]] == ["s00", "s02", "s03", "s05"]  # evenly spaced, fixed
    assert summary["error_maps"]["protocol"] == "tang2019"
    for t in summary["thumbnails"]:
        for key in ("rgb", "error"):
            with Image.open(setup["run"] / t[key]) as im:
                assert im.format == "PNG" and im.size == (48, 48) and im.mode == "RGB"
    err = np.asarray(Image.open(setup["run"] / summary["thumbnails"][0]["error"]))
    mask = setup["ds"].get("s00").mask
    assert (err[~mask] == (40, 40, 40)).all()  # background colour outside the mask
    assert (err[mask][:, 2] > err[mask][:, 0]).all()  # ~0 error: the blue end of the colour map


def test_workers_do_not_change_results(setup, tmp_path):
    run_benchmark(setup["ds"], setup["exact"], ["tang2019", "affine"], tmp_path / "w2", progress=False, workers=2)
    a = pd.read_csv(setup["run"] / "per_sample.csv", dtype={"id": str})
    b = pd.read_csv(tmp_path / "w2" / "per_sample.csv", dtype={"id": str})
    cols = [c for c in b.columns if c.startswith(("id", "tang2019.", "affine."))]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_noisy_and_degenerate_methods(setup, tmp_path):
    rng = np.random.default_rng(0)
    gt = setup["gt"]
    noisy = write_predictions(tmp_path / "noisy.h5",
                              {k: v + np.float32(0.3) + rng.normal(0, 0.01, v.shape).astype(np.float32)
                               for k, v in gt.items()}, method="noisy", depth_kind="relative")
    s = run_benchmark(setup["ds"], noisy, ["tang2019", "affine"], tmp_path / "noisy", progress=False)
    # |N(0, 1 cm)| has mean 0.798 cm; 1.25 cm is 1.25 sigma -> ~79 % of pixels
    assert s["protocols"]["tang2019"]["metrics"]["mae_cm"] == pytest.approx(0.798, rel=0.1)
    assert s["protocols"]["tang2019"]["metrics"]["acc_1.25cm"] == pytest.approx(78.9, abs=4)
    plane = write_predictions(tmp_path / "plane.h5", {k: np.full_like(v, 2.0) for k, v in gt.items()},
                              method="plane", depth_kind="relative")
    s = run_benchmark(setup["ds"], plane, ["tang2019", "affine"], tmp_path / "plane", progress=False)
    aff = s["protocols"]["affine"]
    assert aff["n_nan"] == 6 and aff["n_degenerate"] == 6
    assert set(aff["nan_samples"]) == set(gt) and all("degenerate" in v for v in aff["nan_samples"].values())
    assert np.isnan(aff["metrics"]["absrel"])  # never hidden behind a number
    on_disk = json.loads((tmp_path / "plane" / "summary.json").read_text())
    assert on_disk["protocols"]["affine"]["metrics"]["absrel"] is None
    assert s["protocols"]["tang2019"]["n_nan"] == 0


def test_refusals(setup, tmp_path):
    with pytest.raises(FileExistsError, match="already holds a finished benchmark run"):
        run_benchmark(setup["ds"], setup["exact"], ["tang2019"], setup["run"], progress=False)
    rel = write_predictions(tmp_path / "rel.h5", setup["gt"], method="rel", depth_kind="relative")
    with pytest.raises(ValueError, match="protocol 'metric' cannot score"):
        run_benchmark(setup["ds"], rel, ["metric"], tmp_path / "r", progress=False)
    with pytest.raises(ValueError, match="unknown protocol"):
        run_benchmark(setup["ds"], rel, ["kitti"], tmp_path / "r", progress=False)


def test_cli_benchmark_and_leaderboard(setup, tmp_path, capsys):
    ds_path = str(setup["root"] / "ds")
    out = tmp_path / "cli_run"
    rc = main(["benchmark", "--dataset", ds_path, "--predictions", str(setup["exact"]), "--protocol", "tang2019",
               "--protocol", "affine", "--out", str(out), "--quiet"])
    assert rc == 0
    assert "exact-shift | tang2019 v2.0: mae_cm" in capsys.readouterr().out
    assert set(json.loads((out / "summary.json").read_text())["protocols"]) == {"tang2019", "affine"}
    bad = dict(setup["gt"])
    bad["s04"] = bad["s04"][:10]
    bad_path = write_predictions(tmp_path / "bad.h5", bad)
    rc = main(["benchmark", "--dataset", ds_path, "--predictions", str(bad_path), "--protocol", "tang2019",
               "--out", str(tmp_path / "bad_run"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "sample 's04'" in err and "shape (10, 48)" in err
    rc = main(["leaderboard", str(out), str(setup["run"]), "--out", str(tmp_path / "board")])
    assert rc == 0
    assert (tmp_path / "board" / "index.html").is_file()


def test_help_has_examples(capsys):
    for cmd in ("benchmark", "leaderboard"):
        with pytest.raises(SystemExit):
            main([cmd, "--help"])
        assert "example" in capsys.readouterr().out


def test_cli_protocol_all_skips_protocols_undefined_for_the_depth_kind(setup, tmp_path, capsys):
    rel = write_predictions(tmp_path / "rel.h5", {k: v + np.float32(1.0) for k, v in setup["gt"].items()},
                            method="rel", depth_kind="relative")
    out = tmp_path / "all"
    rc = main(["benchmark", "--dataset", str(setup["root"] / "ds"), "--predictions", str(rel), "--protocol", "all",
               "--out", str(out), "--quiet"])
    assert rc == 0
    assert "skips metric" in capsys.readouterr().err
    assert list(json.loads((out / "summary.json").read_text())["protocols"]) == ["tang2019", "affine", "detail"]


def test_overwrite_replaces_the_whole_run(setup, tmp_path):
    out = tmp_path / "run"
    run_benchmark(setup["ds"], setup["exact"], ["tang2019"], out, progress=False)
    assert (out / "cumulative_error.csv").is_file()
    run_benchmark(setup["ds"], setup["exact"], ["detail"], out, progress=False, overwrite=True, n_thumbnails=2)
    assert not (out / "cumulative_error.csv").exists()  # detail has no depth-error curve: no stale file
    assert sorted(p.name for p in (out / "thumbs").iterdir()) == ["error_00.png", "error_01.png", "rgb_00.png",
                                                                  "rgb_01.png"]
    assert list(json.loads((out / "summary.json").read_text())["protocols"]) == ["detail"]


def test_tang2019_layout_through_the_cli(tmp_path, capsys):
    # the authors' released layout: NNNN_img_resize.jpg (256x256) + NNNN_depth.npy (224x224 metres), no camera
    from humandepth.data import open_dataset

    folder = tmp_path / "tang"
    folder.mkdir()
    rows, cols = np.indices((224, 224))
    for k, z in enumerate((2.2, 2.6)):
        r2 = (rows - 112.0) ** 2 + (cols - 112.0) ** 2
        depth = np.where(r2 < 80**2, z - 0.3 * np.sqrt(np.clip(1 - r2 / 80**2, 0, 1)), 0.0).astype(np.float32)
        np.save(folder / f"{k:04d}_depth.npy", depth)
        Image.fromarray(np.full((256, 256, 3), 128, np.uint8)).save(folder / f"{k:04d}_img_resize.jpg")
    ds = open_dataset(folder)
    gt = {sid: ds.get(sid).depth for sid in ds.ids}
    preds = write_predictions(tmp_path / "p.h5", {k: v + np.float32(0.4) for k, v in gt.items()}, method="shift",
                              depth_kind="relative")
    out = tmp_path / "run"
    assert main(["benchmark", "--dataset", str(folder), "--predictions", str(preds), "--protocol", "tang2019",
                 "--protocol", "detail", "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["dataset"]["format"] == "tang2019" and s["dataset"]["sha256"] == ds.checksum()
    assert s["protocols"]["tang2019"]["metrics"]["mae_cm"] < 1e-4
    # normals on the normalised grid (no intrinsics) from the aligned prediction equal those from GT depth
    assert s["protocols"]["detail"]["metrics"]["normal_mean_deg"] < 0.01


def test_progress_and_extra_ids_go_to_stderr(setup, tmp_path, capsys):
    preds = dict(setup["gt"], zz_extra=np.ones((48, 48), np.float32))
    path = write_predictions(tmp_path / "extra.h5", preds, method="extra", depth_kind="relative")
    s = run_benchmark(setup["ds"], path, ["tang2019"], tmp_path / "run", progress=True)
    err = capsys.readouterr().err
    assert "6/6 samples" in err and "samples/s" in err
    assert "1 prediction id(s) not in dataset 'analytic' are ignored: 'zz_extra'" in err
    assert s["predictions"]["extra_ids"] == ["zz_extra"] and s["dataset"]["count"] == 6

"""Leaderboard merging: ranking, files, refusals (protocol versions, dataset checksums), HTML escaping."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from benchmark_helpers import scene_samples, write_dataset, write_predictions

from humandepth.benchmark import run_benchmark, write_leaderboard
from humandepth.data import HumanDepthDataset

EVIL = '<script>alert("x")</script> | <img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench_board")
    samples = scene_samples(4, size=32)
    write_dataset(root / "ds", samples)
    ds = HumanDepthDataset(root / "ds")
    rng = np.random.default_rng(1)
    gt = {s.id: s.depth for s in samples}
    methods = {
        "good": {k: v + np.float32(0.2) + rng.normal(0, 0.002, v.shape).astype(np.float32) for k, v in gt.items()},
        "bad": {k: v + np.float32(0.2) + rng.normal(0, 0.03, v.shape).astype(np.float32) for k, v in gt.items()},
        EVIL: {k: v + rng.normal(0, 0.01, v.shape).astype(np.float32) for k, v in gt.items()},
    }
    dirs = {}
    for i, (name, preds) in enumerate(methods.items()):
        path = write_predictions(root / f"p{i}.h5", preds, method=name, depth_kind="relative")
        dirs[name] = root / f"run{i}"
        run_benchmark(ds, path, ["tang2019", "affine"], dirs[name], progress=False)
    # the same method scored on another dataset (different ground truth)
    write_dataset(root / "ds2", scene_samples(3, size=32), name="other")
    ds2 = HumanDepthDataset(root / "ds2")
    p2 = write_predictions(root / "p_other.h5", {s: ds2.get(s).depth for s in ds2.ids}, method="good",
                           depth_kind="relative")
    dirs["other"] = root / "run_other"
    run_benchmark(ds2, p2, ["tang2019"], dirs["other"], progress=False)
    return root, dirs


def test_merge_ranks_and_writes_files(runs, tmp_path):
    _, dirs = runs
    paths = write_leaderboard([dirs["bad"], dirs[EVIL], dirs["good"]], tmp_path / "board")
    csv = pd.read_csv(paths["csv"])
    assert len(csv) == 3 and {"tang2019.mae_cm", "affine.absrel", "tang2019.mae_cm.ci95_low"} <= set(csv.columns)
    md = paths["md"].read_text()
    tang = md.split("## tang2019")[1].split("## affine")[0]
    rows = [line for line in tang.splitlines() if line.startswith("| 1 ") or line.startswith("| 3 ")]
    assert "good" in rows[0] and "bad" in rows[1]  # lower mae ranks first
    html = paths["html"].read_text()
    # cumulative curves and per-sample distributions, for tang2019 and affine each
    assert html.count('aria-label="cumulative error curves') == 2 and html.count('aria-label="per-sample') == 2
    strip = html.split('aria-label="per-sample tang2019.mae_cm"')[1].split("</svg>")[0]
    assert strip.count("<circle") == 3 * 4  # a dot per method and sample
    assert "<script" not in html.lower().replace("&lt;script", "")
    imgs = [p for p in (tmp_path / "board" / "thumbs").rglob("*.png")]
    assert len(imgs) == 3 * 4 + 4  # error maps per method and sample, plus the input row once
    for rel in [s.split('"')[0] for s in html.split('<img src="')[1:]]:
        assert (tmp_path / "board" / rel).is_file()


def test_html_and_markdown_escape_method_names(runs, tmp_path):
    _, dirs = runs
    paths = write_leaderboard([dirs[EVIL], dirs["good"]], tmp_path / "board")
    html = paths["html"].read_text()
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    md = paths["md"].read_text()
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "\\| &lt;img" in md  # the pipe cannot break the table


def test_refuses_mixed_protocol_versions(runs, tmp_path):
    _, dirs = runs
    bumped = tmp_path / "bumped"
    shutil.copytree(dirs["bad"], bumped)
    s = json.loads((bumped / "summary.json").read_text())
    s["protocols"]["tang2019"]["version"] = "9.9"
    (bumped / "summary.json").write_text(json.dumps(s))
    with pytest.raises(ValueError, match=r"protocol 'tang2019' version 2.0 .* version 9.9") as ei:
        write_leaderboard([dirs["good"], bumped], tmp_path / "board")
    assert str(bumped) in str(ei.value)
    assert not (tmp_path / "board").exists()


def test_refuses_mixed_protocol_configs(runs, tmp_path):
    _, dirs = runs
    changed = tmp_path / "changed"
    shutil.copytree(dirs["bad"], changed)
    s = json.loads((changed / "summary.json").read_text())
    s["protocols"]["affine"]["config"]["inverse_depth_cap"] = 100.0
    (changed / "summary.json").write_text(json.dumps(s))
    with pytest.raises(ValueError, match="protocol 'affine'.*same settings"):
        write_leaderboard([dirs["good"], changed], tmp_path / "board")


def test_refuses_mixed_datasets(runs, tmp_path):
    _, dirs = runs
    with pytest.raises(ValueError, match="different ground truth.*'analytic'.*'other'"):
        write_leaderboard([dirs["good"], dirs["other"]], tmp_path / "board")


def test_not_a_run_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a benchmark run"):
        write_leaderboard([tmp_path], tmp_path / "board")



def test_a_damaged_per_sample_table_names_the_run(runs, tmp_path):
    _, dirs = runs
    broken = tmp_path / "broken"
    shutil.copytree(dirs["good"], broken)
    (broken / "per_sample.csv").write_text("")
    with pytest.raises(ValueError, match=r"broken/per_sample.csv cannot be read"):
        write_leaderboard([dirs["bad"], broken], tmp_path / "board")

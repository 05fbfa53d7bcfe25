"""Paired differences between two runs, and the leaderboard column that reports them against the best method
that does not read ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_benchmark_leaderboard import runs  # noqa: F401  (the module-scoped fixture of scored runs)

from humandepth.benchmark import write_leaderboard
from humandepth.benchmark.paired import paired_difference

COL = "tang2019.mae_cm"


def table(values: dict[str, float]) -> pd.DataFrame:
    return pd.DataFrame({"id": list(values), COL: list(values.values())})


def test_a_constant_offset_is_significant_and_exact():
    rng = np.random.default_rng(0)
    base = {f"{i:03d}": float(v) for i, v in enumerate(rng.uniform(5, 15, 40))}
    d = paired_difference(table(base), table({k: v + 1.0 for k, v in base.items()}), COL)
    assert d.mean == pytest.approx(-1.0) and d.low == pytest.approx(-1.0) and d.high == pytest.approx(-1.0)
    assert d.significant and d.n == 40 and d.a_better == 40
    # the same data compared unpaired would overlap completely: the pairing is what makes it decidable
    assert np.ptp(list(base.values())) > 5


def test_too_few_samples_are_never_significant():
    d = paired_difference(table({"a": 1.0, "b": 2.0}), table({"a": 1.3, "b": 2.3}), COL)
    assert d.n == 2 and d.mean == pytest.approx(-0.3) and d.high < 0 and not d.significant


def test_symmetric_differences_are_a_tie():
    base = {f"{i:03d}": 10.0 for i in range(40)}
    other = {k: 10.0 + (0.5 if i % 2 else -0.5) for i, k in enumerate(base)}
    d = paired_difference(table(base), table(other), COL)
    assert d.mean == pytest.approx(0.0) and d.low < 0 < d.high and not d.significant
    assert d.a_better == 20


def test_only_samples_scored_by_both_count_and_direction_follows_the_metric():
    a = table({"a": 1.0, "b": 2.0, "c": float("nan"), "d": 4.0})
    b = table({"a": 2.0, "b": 1.0, "c": 3.0, "e": 9.0})
    d = paired_difference(a, b, COL)
    assert d.n == 2 and d.mean == pytest.approx(0.0) and d.a_better == 1
    up = paired_difference(table({"a": 0.9, "b": 0.8}), table({"a": 0.5, "b": 0.6}), COL, higher_is_better=True)
    assert up.a_better == 2 and up.mean == pytest.approx(0.3)
    assert paired_difference(a, b, "no.such_metric") is None
    assert paired_difference(table({"x": 1.0}), table({"y": 1.0}), COL) is None


def test_leaderboard_reports_each_method_against_the_first(runs, tmp_path):  # noqa: F811
    _, dirs = runs
    paths = write_leaderboard([dirs["bad"], dirs["good"]], tmp_path / "board")
    md = paths["md"].read_text()
    tang = md.split("## tang2019")[1].split("## affine")[0]
    first = next(line for line in tang.splitlines() if line.startswith("| 1 "))
    second = next(line for line in tang.splitlines() if line.startswith("| 2 "))
    assert "good" in first and first.rstrip(" |").endswith("-")
    cell = second.rstrip(" |").rsplit("|", 1)[1].strip()
    assert cell.startswith("+") and cell.endswith("n=4, too few")  # worse on all 4 samples, but only 4
    csv = pd.read_csv(paths["csv"])
    bad = csv[csv["method"] == "bad"].iloc[0]
    assert bad["tang2019.mae_cm.paired_diff"] > 0 and bad["tang2019.mae_cm.paired_n"] == 4
    assert bad["tang2019.mae_cm.paired_low"] <= bad["tang2019.mae_cm.paired_diff"]
    assert bad["tang2019.paired_reference"] == "good"
    assert "mae_cm vs good, paired [95% CI]" in paths["html"].read_text()


def test_an_oracle_at_the_top_is_not_the_reference_of_the_comparison(tmp_path):
    from benchmark_helpers import scene_samples, write_dataset, write_predictions

    from humandepth.benchmark import run_benchmark
    from humandepth.data import HumanDepthDataset

    samples = scene_samples(4, size=32)
    ds = HumanDepthDataset(write_dataset(tmp_path / "ds", samples))
    rng = np.random.default_rng(2)
    run_dirs = []
    for name, noise, attrs in (("oracle", 0.0, {"oracle_uses_gt": "depth"}), ("good", 0.002, {}),
                               ("bad", 0.03, {})):
        preds = {s.id: s.depth + np.float32(0.2) + rng.normal(0, noise, s.depth.shape).astype(np.float32)
                 for s in samples}
        path = write_predictions(tmp_path / f"{name}.h5", preds, method=name, depth_kind="relative")
        if attrs:
            import h5py

            with h5py.File(path, "r+") as f:
                f.attrs.update(attrs)
        run_benchmark(ds, path, ["tang2019"], tmp_path / f"run_{name}", progress=False)
        run_dirs.append(tmp_path / f"run_{name}")
    md = write_leaderboard(run_dirs, tmp_path / "board")["md"].read_text()
    assert "mae_cm vs good, paired [95% CI]" in md
    rows = {line.split("|")[2].strip(): line for line in md.splitlines() if line.startswith("| ")
            and line.split("|")[1].strip().isdigit()}
    assert rows["oracle"].split("|")[1].strip() == "1"  # the oracle still ranks first
    assert rows["good"].rstrip(" |").endswith("-") and rows["oracle"].rstrip(" |").rsplit("|", 1)[1].strip()[0] == "-"


def test_a_large_benchmark_draws_quantiles_not_every_sample():
    from humandepth.benchmark.board_html import MAX_DOTS, _dots

    few = [3.0, 1.0, 2.0]
    assert _dots(few) == few
    many = list(np.random.default_rng(0).normal(10, 2, 5000))
    dots = _dots(many)
    assert len(dots) == MAX_DOTS and dots[0] == min(many) and dots[-1] == max(many)
    assert np.median(dots) == pytest.approx(np.median(many), abs=0.05)

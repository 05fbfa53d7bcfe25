"""Canonical test splits: build, fingerprint, tolerance, refusal naming the samples, and the leaderboard's split
check.  The library tests render with a stand-in (analytic scenes written as a real dataset); the command-line test
renders a tiny split with the render wing."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from benchmark_helpers import scene_samples, sphere_sample, write_predictions

from humandepth.benchmark import run_benchmark, write_leaderboard
from humandepth.cli import main
from humandepth.data import open_dataset, write_samples
from humandepth.data.splits import (
    SPLIT_MARKER,
    TOLERANCE,
    SplitMismatch,
    SplitSpec,
    build_split,
    compare,
    fingerprint_samples,
    verified_split,
)

SIZE = 96


def analytic_render(changes: dict | None = None, calls: list | None = None):
    """A stand-in for the render wing: ``count`` analytic samples (spheres, exact depth) for a seed; ``changes``
    maps a sample index to a function altering it (a rasterizer's few pixels, or another sample altogether)."""
    def render(out, count, seed, options, workers, overwrite, progress):
        if calls is not None:
            calls.append((count, seed, dict(options)))
        if overwrite and out.exists():
            shutil.rmtree(out)
        size = options.get("resolution", SIZE)
        samples = [sphere_sample(f"s{i:02d}", size, centre=(0.03 * i - 0.1, 0.02 * i, 1.8 + 0.07 * i), f_px=1.6 * size)
                   for i in range(count)]
        for i, s in enumerate(samples):
            if changes and i in changes:
                changes[i](s)
        write_samples(out, samples, name=out.name, kind="synthetic", shard_size=4, generator={"seed": seed})
    return render


def spec(tmp_path, count=6) -> SplitSpec:
    return SplitSpec("tiny", {"count": count, "seed": 7, "resolution": SIZE}, tmp_path / "splits" / "tiny.json")


def silhouette_pixels_flipped(s, n=3) -> None:
    """What another rasterizer does: ``n`` pixels on the silhouette decided the other way."""
    from scipy import ndimage

    edge = s.mask & ~ndimage.binary_erosion(s.mask)
    ys, xs = np.nonzero(edge)
    pick = np.linspace(0, len(ys) - 1, n).astype(int)  # spread round the outline
    for y, x in zip(ys[pick], xs[pick], strict=True):
        s.mask[y, x] = False
        s.depth[y, x] = 0.0
        s.normal[y, x] = 0.0


def test_build_writes_then_checks_the_fingerprint(tmp_path):
    sp = spec(tmp_path)
    calls = []
    report = build_split(sp, tmp_path / "a", analytic_render(calls=calls), write=True, progress=False)
    assert calls == [(6, 7, {"resolution": SIZE})] and sp.fingerprint.is_file()
    doc = json.loads(sp.fingerprint.read_text())
    assert doc["split"] == "tiny" and len(doc["samples"]) == 6 and doc["tolerance"] == TOLERANCE
    assert report["identical"] == 6
    # a rebuild elsewhere: the same arrays, bit for bit
    report = build_split(sp, tmp_path / "b", analytic_render(), progress=False)
    assert (report["identical"], report["within_tolerance"]) == (6, 0)
    marker = json.loads((tmp_path / "b" / SPLIT_MARKER).read_text())
    ds = open_dataset(tmp_path / "b")
    assert marker["dataset_sha256"] == ds.checksum() == report["dataset_sha256"]
    assert verified_split(ds) == {"name": "tiny", "fingerprint_sha256": report["fingerprint_sha256"]}
    # a finished build is checked again, not rendered again
    calls.clear()
    build_split(sp, tmp_path / "b", analytic_render(calls=calls), progress=False)
    assert calls == []


def test_a_few_silhouette_pixels_are_within_the_tolerance(tmp_path):
    sp = spec(tmp_path)
    build_split(sp, tmp_path / "a", analytic_render(), write=True, progress=False)
    flipped = {1: silhouette_pixels_flipped, 4: silhouette_pixels_flipped}
    report = build_split(sp, tmp_path / "b", analytic_render(flipped), progress=False)
    assert (report["identical"], report["within_tolerance"]) == (4, 2)
    assert 0 < report["max_deviation"]["mask_px"] <= 3


def test_a_different_sample_is_refused_and_named(tmp_path):
    sp = spec(tmp_path)
    build_split(sp, tmp_path / "a", analytic_render(), write=True, progress=False)

    def moved(s):  # another sample: the scene 3 cm farther away
        s.depth[s.mask] += np.float32(0.03)

    def reposed(s):  # a bigger difference of silhouette than any rasterizer makes
        silhouette_pixels_flipped(s, n=40)

    with pytest.raises(SplitMismatch) as ei:
        build_split(sp, tmp_path / "b", analytic_render({2: moved, 5: reposed}), progress=False)
    text = str(ei.value)
    assert "2 sample(s) outside the tolerance" in text and "'tiny'" in text
    import re

    assert re.search(r"s02: [^;]*depth_p05_m", text) and re.search(r"s05: [^;]*mask_px", text) and "s01" not in text
    assert not (tmp_path / "b" / SPLIT_MARKER).exists()
    assert verified_split(open_dataset(tmp_path / "b")) is None
    # fewer samples than the fingerprint: the missing ids are named
    with pytest.raises(SplitMismatch, match=r"missing \['s05'\]"):
        build_split(spec(tmp_path, count=5), tmp_path / "c", analytic_render(), progress=False)


def test_missing_fingerprint_is_refused_before_rendering(tmp_path):
    calls = []
    with pytest.raises(FileNotFoundError, match="tiny.json"):
        build_split(spec(tmp_path), tmp_path / "a", analytic_render(calls=calls), progress=False)
    assert calls == [] and not (tmp_path / "a").exists()


def test_a_modified_build_is_no_longer_the_split(tmp_path):
    sp = spec(tmp_path)
    build_split(sp, tmp_path / "a", analytic_render(), write=True, progress=False)
    marker = json.loads((tmp_path / "a" / SPLIT_MARKER).read_text())
    marker["dataset_sha256"] = "0" * 64  # the dataset changed after it was verified
    (tmp_path / "a" / SPLIT_MARKER).write_text(json.dumps(marker))
    assert verified_split(open_dataset(tmp_path / "a")) is None


def test_compare_statistics_and_limits():
    ds_stats = {"s": {"mask_px": 1000, "depth_p50_m": 2.0, "sha256": "a"}}
    ok = {"s": {"mask_px": 1005, "depth_p50_m": 2.0015, "sha256": "b"}}
    bad = {"s": {"mask_px": 1011, "depth_p50_m": 2.0, "sha256": "b"}}  # beyond max(8, 0.5 % of 1000)
    assert compare(ds_stats, ok)["within"] == ["s"]
    assert list(compare(ds_stats, bad)["mismatched"]) == ["s"]
    assert compare(ds_stats, {"s": {**ok["s"], "sha256": "a"}})["identical"] == ["s"]


def _run(tmp_path, out, preds, name):
    return run_benchmark(open_dataset(out), preds, ["tang2019"], tmp_path / "runs" / name, progress=False,
                         n_thumbnails=0, bootstrap_resamples=100)


def test_leaderboard_names_the_split_and_refuses_other_fingerprints(tmp_path):
    sp = spec(tmp_path)
    build_split(sp, tmp_path / "a", analytic_render(), write=True, progress=False)
    build_split(sp, tmp_path / "b", analytic_render({1: silhouette_pixels_flipped}), progress=False)
    ds_a, ds_b = open_dataset(tmp_path / "a"), open_dataset(tmp_path / "b")
    assert ds_a.checksum() != ds_b.checksum()  # two machines: a few pixels differ, the split is the same
    depth = {s.id: np.where(s.mask, s.depth + np.float32(0.01), 0) for s in ds_a}
    preds = write_predictions(tmp_path / "p.h5", depth, method="m", depth_kind="metric")
    _run(tmp_path, tmp_path / "a", preds, "a")
    summary = _run(tmp_path, tmp_path / "b", preds, "b")
    assert summary["dataset"]["split"] == verified_split(ds_b)
    paths = write_leaderboard([tmp_path / "runs" / "a", tmp_path / "runs" / "b"], tmp_path / "board")
    md = paths["md"].read_text()
    assert "Test split tiny, fingerprint sha256 " + summary["dataset"]["split"]["fingerprint_sha256"] in md
    assert "test split" in paths["html"].read_text().lower()
    # the split's maintainers change the fingerprint: a run on the new one is not merged with the old
    other = tmp_path / "runs" / "c"
    shutil.copytree(tmp_path / "runs" / "b", other)
    s = json.loads((other / "summary.json").read_text())
    s["dataset"]["split"]["fingerprint_sha256"] = "f" * 64
    (other / "summary.json").write_text(json.dumps(s))
    with pytest.raises(ValueError, match=r"different test splits.*fingerprint ffffffffffff") as ei:
        write_leaderboard([tmp_path / "runs" / "a", other], tmp_path / "board2")
    assert str(other) in str(ei.value)


REGISTRY = """datasets:
  - name: tiny-crops
    kind: synthetic
    format: humandepth
    path: $HUMANDEPTH_DATA/tiny-crops
    description: d
    license: l
    citation: c
    obtain: humandepth datasets build tiny-crops
    split:
      render: {count: 2, seed: 5, resolution: 64}
      fingerprint: splits/tiny-crops.json
  - name: plain
    kind: synthetic
    format: humandepth
    path: /nonexistent
    description: d
    license: l
    citation: c
    obtain: o
"""


def test_cli_builds_a_rendered_split_and_refuses_a_changed_one(tmp_path, monkeypatch, capsys):
    reg = tmp_path / "datasets.yaml"
    reg.write_text(REGISTRY)
    monkeypatch.setenv("HUMANDEPTH_REGISTRY", str(reg))
    monkeypatch.setenv("HUMANDEPTH_DATA", str(tmp_path / "data"))
    assert main(["datasets", "build", "tiny-crops", "--write-fingerprint", "--quiet"]) == 0
    assert (tmp_path / "splits" / "tiny-crops.json").is_file()
    # rebuilt from scratch elsewhere: the same samples, bit for bit on this machine
    assert main(["datasets", "build", "tiny-crops", "--out", str(tmp_path / "again"), "--quiet"]) == 0
    out = capsys.readouterr()
    report = json.loads(out.out.strip().splitlines()[-1])
    assert (report["samples"], report["identical"]) == (2, 2) and "2 bit-identical" in out.err
    # the fingerprint says otherwise for one sample: refused, naming it, in one line
    fp = json.loads((tmp_path / "splits" / "tiny-crops.json").read_text())
    fp["samples"]["0000001"]["mask_px"] += 100
    fp["samples"]["0000001"]["sha256"] = "0" * 64
    (tmp_path / "splits" / "tiny-crops.json").write_text(json.dumps(fp))
    assert main(["datasets", "build", "tiny-crops", "--out", str(tmp_path / "again"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0000001: mask_px" in err[0] and "0000000:" not in err[0]
    assert not (tmp_path / "again" / SPLIT_MARKER).exists()
    # not a split, unknown name: one line each
    assert main(["datasets", "build", "plain"]) == 2
    assert "is not a split" in capsys.readouterr().err
    assert main(["datasets", "build", "nope"]) == 2
    assert "no dataset named 'nope'" in capsys.readouterr().err


def test_fingerprint_statistics_read_every_sample(tmp_path):
    samples = scene_samples(3, size=SIZE)
    ds = open_dataset(write_samples(tmp_path / "d", samples, name="d", kind="synthetic"))
    stats = fingerprint_samples(ds)
    s = samples[0]
    d = s.depth[s.mask].astype(np.float64)
    assert stats["s00"]["mask_px"] == int(s.mask.sum())
    assert stats["s00"]["depth_p50_m"] == pytest.approx(np.percentile(d, 50))
    assert stats["s00"]["rgb_mean"] == pytest.approx(s.rgb.reshape(-1, 3).mean(axis=0).tolist())
    assert stats["s00"]["K"] == pytest.approx(s.camera.K.reshape(-1).tolist())

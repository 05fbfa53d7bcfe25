"""The benchmark's ground-truth reader returns exactly what dataset.get returns, for any DepthDataset."""

from __future__ import annotations

import numpy as np
from benchmark_helpers import scene_samples, write_dataset, write_predictions

from humandepth.benchmark import run_benchmark
from humandepth.benchmark.reading import read_ground_truth
from humandepth.data import DepthDataset, HumanDepthDataset


class InMemoryDataset(DepthDataset):
    """A DepthDataset that is not the HDF5 format (exercises the generic dataset.get path)."""

    name = "in-memory"

    def __init__(self, samples):
        self._s = {s.id: s for s in samples}

    @property
    def ids(self):
        return sorted(self._s)

    def get(self, sample_id):  # no field selection, like a minimal third-party reader
        return self._s[sample_id]

    def checksum(self):
        return "0" * 64


def test_fast_path_equals_dataset_get(tmp_path):
    samples = scene_samples(9, size=20)
    samples[4].camera = None  # a sample without intrinsics
    write_dataset(tmp_path / "ds", samples)
    ds = HumanDepthDataset(tmp_path / "ds")
    order = ["s07", "s00", "s01", "s02", "s08", "s04", "s05"]  # several shards, runs and gaps
    got = list(read_ground_truth(ds, order, ("depth", "mask", "normal"), rgb_ids=frozenset({"s01"})))
    assert [g.id for g in got] == order
    for g in got:
        s = ds.get(g.id)
        assert np.array_equal(g.depth, s.depth) and g.depth.dtype == np.float32
        assert np.array_equal(g.mask, s.mask) and g.mask.dtype == bool
        assert np.array_equal(g.normal, s.normal)
        if s.camera is None:
            assert g.K is None
        else:
            assert np.array_equal(g.K, s.camera.K)
        assert (g.rgb is not None) == (g.id == "s01")
    assert next(read_ground_truth(ds, ["s03"])).normal is None  # not asked for


def test_run_on_a_generic_dataset(tmp_path):
    samples = scene_samples(3, size=20)
    ds = InMemoryDataset(samples)
    preds = write_predictions(tmp_path / "p.h5", {s.id: s.depth + np.float32(0.5) for s in samples},
                              depth_kind="relative")
    s = run_benchmark(ds, preds, ["tang2019", "detail"], tmp_path / "run", progress=False)
    assert s["dataset"]["name"] == "in-memory"
    assert s["protocols"]["tang2019"]["metrics"]["mae_cm"] < 1e-4
    assert (tmp_path / "run" / "thumbs" / "rgb_00.png").is_file()

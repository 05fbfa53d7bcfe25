"""The demo reuses a predictions file only when it is what the baseline would predict now."""

from __future__ import annotations

from benchmark_helpers import scene_samples, write_dataset

from humandepth.baselines.run import run_baseline
from humandepth.data import open_dataset
from humandepth.data.predictions import Predictions
from humandepth.demo.run import predictions_current


def test_predictions_of_other_weights_or_another_dataset_are_not_reused(tmp_path):
    ds_path = write_dataset(tmp_path / "ds", scene_samples(2, size=32))
    ds = open_dataset(ds_path)
    plane = run_baseline("plane", ds, tmp_path / "plane.h5", progress=False)
    ref = run_baseline("reference-no-refine", ds, tmp_path / "ref.h5", progress=False)
    with Predictions(ref) as p:
        assert len(p.attrs["weights_sha256"]) == 64  # the shipped checkpoint's weights are recorded
    assert predictions_current(plane, "plane", ds_path) and predictions_current(ref, "reference-no-refine", ds_path)
    assert not predictions_current(plane, "inflate", ds_path)  # another baseline's file
    # the same file after an upgrade shipped other weights
    import h5py

    with h5py.File(ref, "r+") as f:
        f.attrs["weights_sha256"] = "0" * 64
    assert not predictions_current(ref, "reference-no-refine", ds_path)
    # another dataset under the same path
    other = write_dataset(tmp_path / "ds2", scene_samples(3, size=32), name="other")
    assert not predictions_current(plane, "plane", other)
    (tmp_path / "broken.h5").write_bytes(b"not hdf5")
    assert not predictions_current(tmp_path / "broken.h5", "plane", ds_path)

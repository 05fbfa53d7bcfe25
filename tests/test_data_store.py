import json

import h5py
import numpy as np
import pandas as pd
import pytest
from data_helpers import plane_sample

from humandepth.data import DatasetWriter, HumanDepthDataset, Sample, open_dataset
from humandepth.data.verify import verify_humandepth


def _write(root, n=5, shard_size=2, **kw):
    with DatasetWriter(root, name="planes", kind="synthetic", shard_size=shard_size, generator={"seed": 1}, **kw) as w:
        for i in range(n):
            w.add(plane_sample(i))
    return root


def test_round_trip_every_field_bit_exact(tmp_path):
    root = _write(tmp_path / "ds")
    ds = open_dataset(root)
    assert len(ds) == 5 and ds.ids == [f"s{i:03d}" for i in range(5)]
    for i in range(5):
        a, b = plane_sample(i), ds.get(f"s{i:03d}")
        for name in a.present_fields():
            got, want = getattr(b, name), getattr(a, name)
            assert got.dtype == want.dtype and np.array_equal(got, want), name
        assert b.camera == a.camera and b.meta == a.meta
        assert ds.camera(f"s{i:03d}") == a.camera  # the camera table alone
    assert ds[-1].id == "s004"
    with pytest.raises(KeyError, match="no sample 'nope'"):
        ds.get("nope")
    with pytest.raises(KeyError, match="no sample 'nope'"):
        ds.camera("nope")
    with pytest.raises(IndexError):
        ds[5]


def test_card_shards_and_index(tmp_path):
    root = _write(tmp_path / "ds")
    card = json.loads((root / "dataset.json").read_text())
    assert card["count"] == 5 and card["kind"] == "synthetic" and len(card["shards"]) == 3
    assert card["resolution"] == {"height": 24, "width": 32}
    assert card["conventions"]["units"] == "metres" and card["base_detail_filter"]["name"] == "masked_bilateral"
    with h5py.File(root / card["shards"][0]["file"]) as f:
        assert f["depth"].chunks == (1, 24, 32) and f["depth"].compression == "gzip"
        assert f["rgb"].shape == (2, 24, 32, 3)
    index = pd.read_csv(root / "index.csv")
    assert list(index.columns[:3]) == ["id", "shard", "row"] and "seed" in index.columns
    assert verify_humandepth(root) == []


def test_same_input_gives_identical_arrays(tmp_path):
    a, b = _write(tmp_path / "a"), _write(tmp_path / "b")
    for s in json.loads((a / "dataset.json").read_text())["shards"]:
        with h5py.File(a / s["file"]) as fa, h5py.File(b / s["file"]) as fb:
            for k in ("depth", "rgb", "normal", "depth_detail"):
                assert fa[k][()].tobytes() == fb[k][()].tobytes()


def test_resume_after_interrupted_write(tmp_path):
    root = tmp_path / "ds"
    with pytest.raises(RuntimeError):
        with DatasetWriter(root, name="planes", shard_size=2, generator={"seed": 1}) as w:
            for i in range(5):
                if i == 3:
                    raise RuntimeError("killed")
                w.add(plane_sample(i))
    # one complete shard survives; the in-progress sample is lost; no card yet
    assert not (root / "dataset.json").exists()
    with pytest.raises(FileNotFoundError, match="unfinished"):
        HumanDepthDataset(root)
    with DatasetWriter(root, name="planes", shard_size=2, generator={"seed": 1}) as w:
        assert w.done_ids == {"s000", "s001"}
        for i in range(5):
            if f"s{i:03d}" not in w.done_ids:
                w.add(plane_sample(i))
    ds = open_dataset(root)
    assert ds.ids == [f"s{i:03d}" for i in range(5)] and verify_humandepth(root) == []
    assert not list((root / "shards").glob(".*partial"))


def test_shards_written_by_another_worker_are_kept_and_bad_shard_files_are_named(tmp_path):
    from humandepth.data.store import write_shard

    root = tmp_path / "ds"
    w = DatasetWriter(root, name="planes", shard_size=2)
    w.add(plane_sample(9))  # buffered: its shard is not written yet
    write_shard(w.shard_path(0), [plane_sample(0), plane_sample(1)])  # meanwhile, another worker writes shard 0
    (root / "shards" / "shard-00000 (copy).h5").write_bytes(b"a stray copy, not a shard")
    w.close()
    assert open_dataset(root).ids == ["s000", "s001", "s009"]  # shard 0 kept, the buffered sample in shard 1
    (root / "shards" / "shard-00001.h5").write_bytes(b"damaged")
    (root / "dataset.json").unlink()
    with pytest.raises(OSError, match=r"shard .*shard-00001\.h5 cannot be read"):
        DatasetWriter(root, name="planes", shard_size=2)


def test_resume_refuses_a_different_config(tmp_path):
    root = tmp_path / "ds"
    w = DatasetWriter(root, name="planes", shard_size=2, generator={"seed": 1})
    w.add(plane_sample(0))
    w.add(plane_sample(1))
    with pytest.raises(ValueError, match="different configuration"):
        DatasetWriter(root, name="planes", shard_size=2, generator={"seed": 2})


def test_finished_dataset_is_not_overwritten_silently(tmp_path):
    root = _write(tmp_path / "ds", n=2)
    with pytest.raises(FileExistsError):
        DatasetWriter(root, name="planes")
    _write(root, n=3, overwrite=True)
    assert len(open_dataset(root)) == 3


def test_bad_samples_are_refused_naming_them(tmp_path):
    w = DatasetWriter(tmp_path / "ds", name="x")
    bad = plane_sample(0)
    bad.depth = bad.depth.astype(np.float64)
    with pytest.raises(ValueError, match=r"sample 's000'.*depth.*float32"):
        w.add(bad)
    nan = plane_sample(1)
    nan.depth[5, 5] = np.nan
    with pytest.raises(ValueError, match="s001.*NaN"):
        w.add(nan)
    w.add(plane_sample(2))
    with pytest.raises(ValueError, match="fields"):
        w.add(plane_sample(3, with_optional=False))
    with pytest.raises(ValueError, match="already"):
        w.add(plane_sample(2))


def test_verify_catches_a_corrupted_shard(tmp_path):
    root = _write(tmp_path / "ds")
    shard = root / "shards" / "shard-00001.h5"
    data = bytearray(shard.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(b ^ 0xFF for b in data[mid : mid + 64])
    shard.write_bytes(bytes(data))
    problems = verify_humandepth(root)
    assert problems and all("shard-00001" in p for p in problems)
    assert any("sha256" in p for p in problems)


def test_torch_view(tmp_path):
    import torch

    ds = open_dataset(_write(tmp_path / "ds", n=3)).torch()
    item = ds[1]
    assert item["rgb"].shape == (3, 24, 32) and item["rgb"].dtype == torch.float32 and item["rgb"].max() <= 1
    assert item["depth"].shape == (1, 24, 32) and item["normal"].shape == (3, 24, 32)
    assert item["parts"].dtype == torch.int64 and item["K"].shape == (3, 3) and item["id"] == "s001"
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))
    assert batch["depth"].shape == (3, 1, 24, 32)


def test_sample_without_optional_fields(tmp_path):
    s = Sample(id="a", rgb=np.zeros((4, 4, 3), np.uint8), depth=np.ones((4, 4), np.float32),
               mask=np.ones((4, 4), bool))
    with DatasetWriter(tmp_path / "ds", name="min") as w:
        w.add(s)
    got = open_dataset(tmp_path / "ds")[0]
    assert got.normal is None and got.camera is None and got.present_fields() == ["rgb", "depth", "mask"]


@pytest.mark.parametrize("compression", ["lzf", "none"])
def test_compression_options_round_trip(tmp_path, compression):
    root = _write(tmp_path / "ds", n=3, compression=compression)
    card = json.loads((root / "dataset.json").read_text())
    assert card["compression"] == compression
    with h5py.File(root / card["shards"][0]["file"]) as f:
        assert f["depth"].compression == (None if compression == "none" else compression)
    np.testing.assert_array_equal(open_dataset(root).get("s002").depth, plane_sample(2).depth)
    with pytest.raises(ValueError, match="compression must be one of"):
        DatasetWriter(tmp_path / "other", name="x", compression="zip")


def test_bulk_read_equals_get(tmp_path):
    ds = open_dataset(_write(tmp_path / "ds", n=5, shard_size=2))
    ids = ["s004", "s000", "s001", "s003"]
    got = list(ds.read_arrays(ids, ("depth", "normal")))
    assert [sid for sid, _ in got] == ids
    for sid, arrays in got:
        s = ds.get(sid)
        np.testing.assert_array_equal(arrays["depth"], s.depth)
        np.testing.assert_array_equal(arrays["normal"], s.normal)
        np.testing.assert_array_equal(arrays["K"], s.camera.K)
    with pytest.raises(KeyError, match="no field"):
        next(ds.read_arrays(ids, ("nope",)))
    # lazy: the first sample comes before the other shards are opened (memory stays one run of rows)
    fresh = open_dataset(ds.root)
    first = next(fresh.read_arrays(["s000", "s001", "s002", "s004"], ("depth",)))
    assert first[0] == "s000" and len(fresh._handles) == 1


def test_a_shard_adopted_from_its_record_is_indexed_without_reading_it(tmp_path):
    from humandepth.data.store import sha256_file, shard_record, write_shard

    (tmp_path / "elsewhere").mkdir()
    elsewhere = write_shard(tmp_path / "elsewhere" / "shard-00001.h5", [plane_sample(2), plane_sample(3)])
    record = shard_record(elsewhere)
    assert record["ids"] == ["s002", "s003"] and record["sha256"] == sha256_file(elsewhere)
    w = DatasetWriter(tmp_path / "ds", name="planes", shard_size=2)
    w.add(plane_sample(0))
    w.add(plane_sample(1))
    w.adopt_shard(1, record)
    assert w.done_ids == {"s000", "s001", "s002", "s003"}
    w.close()
    card = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert [s["file"] for s in card["shards"]] == ["shards/shard-00000.h5", "shards/shard-00001.h5"]
    assert card["shards"][1]["sha256"] == record["sha256"] and card["count"] == 4
    other = DatasetWriter(tmp_path / "ds2", name="planes", shard_size=2)
    other.adopt_shard(0, record)
    with pytest.raises(ValueError, match=r"shard-00001.h5: resolution \(1, 1\) differs"):
        other.adopt_shard(1, {**record, "resolution": [1, 1]})

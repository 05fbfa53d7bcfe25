"""capture import straight into object storage: a real S3 server on loopback (the fixture of test_data_remote)."""

from __future__ import annotations

import numpy as np
from capture_helpers import box_scene, small_config
from test_data_remote import BUCKET, s3  # noqa: F401  (module-scoped moto server with checked credentials)

from humandepth.capture.importer import import_take
from humandepth.capture.simulate import simulate_take
from humandepth.data import open_dataset
from humandepth.data.store import HumanDepthDataset


def test_import_to_an_s3_url_equals_a_local_import(s3, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("HUMANDEPTH_CACHE", str(tmp_path / "cache"))
    take = simulate_take(tmp_path / "take", small_config(frames=5), scene=box_scene())
    local = import_take(take, tmp_path / "local", shard_size=2)
    url = f"s3://{BUCKET}/captured/box"
    remote = import_take(take, url, shard_size=2)
    assert remote["dataset"] == url and remote["frames"] == local["frames"] == 5
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="captured/box/")["Contents"]}
    assert {"captured/box/dataset.json", "captured/box/index.csv", "captured/box/shards/shard-00002.h5"} <= keys
    a, b = HumanDepthDataset(tmp_path / "local"), open_dataset(url)
    assert a.ids == b.ids and b.card["kind"] == "captured"
    for sid in a.ids:
        sa, sb = a.get(sid), b.get(sid)
        np.testing.assert_array_equal(sa.depth, sb.depth)
        np.testing.assert_array_equal(sa.rgb, sb.rgb)
        np.testing.assert_array_equal(sa.mask, sb.mask)

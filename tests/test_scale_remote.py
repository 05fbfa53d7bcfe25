"""render --out s3://...: locally and on a real loopback Ray cluster (whose workers upload their shards), the
dataset in object storage equals a local render (moto S3 server on loopback, credentials checked)."""

from __future__ import annotations

import json

import pytest
from render_helpers import anny_ready  # noqa: F401
from scale_helpers import connected_cluster
from test_data_remote import BUCKET, s3  # noqa: F401

SEED, COUNT, SHARD, RES = 5, 4, 2, 64


@pytest.fixture(scope="module")
def cluster(s3, tmp_path_factory):  # noqa: F811  (s3 first: the nodes inherit its credentials and endpoint)
    with connected_cluster(tmp_path_factory.mktemp("ray")) as (c, _):
        yield c


def _card(s3_client, key: str) -> dict:
    card = json.loads(s3_client.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    card.pop("created_utc")
    card.pop("name")
    return card


def test_render_to_s3_locally_and_on_ray_equals_a_local_render(s3, cluster, tmp_path, monkeypatch,  # noqa: F811
                                                              anny_ready):  # noqa: F811
    from humandepth.cli import main
    from humandepth.data import open_dataset
    from humandepth.data.store import HumanDepthDataset
    from humandepth.render.cache import anny_cache_dir

    anny = anny_cache_dir()  # the machine's built body model, seen from this test's own cache (staging, mirrors)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "anny").symlink_to(anny)
    monkeypatch.setenv("HUMANDEPTH_CACHE", str(tmp_path / "cache"))
    common = ["render", "--count", str(COUNT), "--seed", str(SEED), "--resolution", str(RES), "--shard-size",
              str(SHARD), "--quiet"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", f"s3://{BUCKET}/render/plain"]) == 0
    from humandepth.data.remote import RemoteDatasetWriter

    fetched = []  # shards the driver downloads back: none, each task reports its shard's record instead
    sync = RemoteDatasetWriter._sync_staging
    monkeypatch.setattr(RemoteDatasetWriter, "_sync_staging",
                        lambda self, progress, shards: (fetched.extend(shards), sync(self, progress, shards)))
    assert main([*common, "--out", f"s3://{BUCKET}/render/ray", "--executor", "ray", "--address",
                 cluster.address, "--preview"]) == 0
    assert fetched == []
    local = json.loads((tmp_path / "local" / "dataset.json").read_text())
    local.pop("created_utc")
    local.pop("name")
    # the cards list every shard's sha256: equal cards mean byte-identical shards and index
    assert _card(s3, "render/plain/dataset.json") == local
    assert _card(s3, "render/ray/dataset.json") == local
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="render/ray/")["Contents"]}
    assert "render/ray/preview.png" in keys and not any(k.endswith("_progress.json") for k in keys)
    ds = open_dataset(f"s3://{BUCKET}/render/ray")
    ref = HumanDepthDataset(tmp_path / "local")
    assert ds.ids == ref.ids and (ds.get(ds.ids[-1]).depth == ref.get(ref.ids[-1]).depth).all()

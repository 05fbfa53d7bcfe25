"""Datasets in object storage: a real S3 server on loopback (moto's ThreadedMotoServer, with credentials
checked), the staged writer, the cached reader, kill-and-resume, and errors that name the URL."""

import json

import numpy as np
import pytest

from humandepth.data import Camera, Sample, open_dataset, write_samples
from humandepth.data.remote import RemoteDatasetWriter, dataset_writer, is_remote, open_remote
from humandepth.data.store import DatasetWriter, HumanDepthDataset
from humandepth.data.verify import verify_humandepth

BUCKET = "humandepth-test"
WRITER = {"name": "remote-test", "kind": "synthetic", "shard_size": 2, "generator": {"helper": "tiny", "seed": 1},
          "license": "CC0", "description": "object storage test"}


@pytest.fixture(scope="module")
def s3():
    """A moto S3 server on 127.0.0.1 that checks credentials: one IAM user with an allow-all policy.

    Yields (endpoint, key id, secret); the environment points boto at it for the module."""
    import boto3
    import moto.settings
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its accounts, users and buckets per process: start from empty even when another test module
    # already ran this fixture (it is imported by the capture, fuse and scale object-storage tests too)
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10).close()
    anon = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "setup",
            "aws_secret_access_key": "setup"}
    iam = boto3.client("iam", **anon)
    iam.create_user(UserName="humandepth")
    iam.put_user_policy(UserName="humandepth", PolicyName="all", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName="humandepth")["AccessKey"]
    creds = {**anon, "aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    client = boto3.client("s3", **creds)
    client.create_bucket(Bucket=BUCKET)
    client.create_bucket(Bucket=BUCKET + "-versioned")
    client.put_bucket_versioning(Bucket=BUCKET + "-versioned", VersioningConfiguration={"Status": "Enabled"})
    before = moto.settings.INITIAL_NO_AUTH_ACTION_COUNT
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = 0  # from now on every request must be signed by a known key
    mp = pytest.MonkeyPatch()
    for k in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        mp.delenv(k, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", creds["aws_access_key_id"])
    mp.setenv("AWS_SECRET_ACCESS_KEY", creds["aws_secret_access_key"])
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("HUMANDEPTH_S3_ENDPOINT", endpoint)
    _fresh_clients()
    yield client
    mp.undo()
    moto.settings.INITIAL_NO_AUTH_ACTION_COUNT = before
    _fresh_clients()
    server.stop()


def _fresh_clients():
    """s3fs caches filesystem instances (and their credentials) per process; start from new ones."""
    import s3fs

    s3fs.S3FileSystem.clear_instance_cache()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANDEPTH_CACHE", str(tmp_path / "cache"))


def make_sample(i: int) -> Sample:
    rng = np.random.default_rng(i)
    h, w = 12, 10
    mask = np.zeros((h, w), bool)
    mask[2:10, 3:8] = True
    depth = np.where(mask, 2.0 + 0.01 * rng.standard_normal((h, w)), 0).astype(np.float32)
    normal = np.zeros((h, w, 3), np.float32)
    normal[mask] = (0.0, 0.0, -1.0)
    return Sample(id=f"s{i:03d}", rgb=rng.integers(0, 256, (h, w, 3), dtype=np.uint8), depth=depth, mask=mask,
                  normal=normal, camera=Camera.from_focal(w, h, f_px=20.0), meta={"seed": i, "pose": "tiny"})


def _keys(client, bucket, prefix):
    return sorted(o["Key"][len(prefix):] for o in client.list_objects_v2(Bucket=bucket, Prefix=prefix).get(
        "Contents", []))


def _same_dataset(a: HumanDepthDataset, b: HumanDepthDataset) -> None:
    assert a.ids == b.ids
    for sid in a.ids:
        x, y = a.get(sid), b.get(sid)
        for name in x.present_fields():
            assert np.array_equal(getattr(x, name), getattr(y, name)), (sid, name)
        assert x.meta == y.meta and np.array_equal(x.camera.K, y.camera.K)
    ca, cb = dict(a.card), dict(b.card)
    assert ca.pop("created_utc") and cb.pop("created_utc")
    assert ca == cb  # the same card as a local write: shards, sha256, index hash, fields, generator...


def test_is_remote():
    from pathlib import Path

    assert is_remote("s3://bucket/ds") and is_remote("gs://b/p") and is_remote("memory://x")
    assert not is_remote("/data/ds") and not is_remote("data/ds") and not is_remote("file:///data/ds")
    assert not is_remote(Path("/data/s3:/x"))


def test_staged_write_uploads_shards_as_they_finish_and_reads_back_like_a_local_write(s3, tmp_path):
    samples = [make_sample(i) for i in range(5)]
    local = open_dataset(write_samples(tmp_path / "local", samples, **WRITER))
    url = f"s3://{BUCKET}/runs/ds"
    with dataset_writer(url, **WRITER) as w:
        assert isinstance(w, RemoteDatasetWriter)
        assert _keys(s3, BUCKET, "runs/ds/") == ["_progress.json"]
        for s in samples[:3]:
            w.add(s)
        # the first shard (2 samples) is in the bucket as soon as it is complete; no card yet
        assert _keys(s3, BUCKET, "runs/ds/") == ["_progress.json", "shards/shard-00000.h5"]
        with pytest.raises(FileNotFoundError, match="unfinished write"):
            open_dataset(url)
        for s in samples[3:]:
            w.add(s)
    assert _keys(s3, BUCKET, "runs/ds/") == ["dataset.json", "index.csv", "shards/shard-00000.h5",
                                              "shards/shard-00001.h5", "shards/shard-00002.h5"]
    assert not w.staging.exists()  # removed after a successful close

    remote = open_dataset(url)
    assert isinstance(remote, HumanDepthDataset) and remote.url == url
    assert str(remote.root).startswith(str(tmp_path / "cache"))
    _same_dataset(remote, local)
    assert remote.checksum() == local.checksum()
    assert verify_humandepth(remote.root) == []
    # a second open reuses the checked mirror (no download: the files are untouched)
    stamp = {p: p.stat().st_mtime_ns for p in remote.root.rglob("*.h5")}
    again = open_remote(url)
    assert {p: p.stat().st_mtime_ns for p in again.root.rglob("*.h5")} == stamp
    # a shard damaged in the bucket is refused against the card's sha256 (in a fresh cache)
    s3.put_object(Bucket=BUCKET, Key="runs/ds/shards/shard-00001.h5", Body=b"not the shard")
    with pytest.raises(OSError, match=r"s3://humandepth-test/runs/ds/shards/shard-00001.h5.*does not match"):
        open_remote(url, cache=tmp_path / "fresh")
    assert not list((tmp_path / "fresh").rglob("*.download"))  # no half-checked temporary is left behind
    # a card may only name files inside the dataset: nothing is written outside the cache
    card = json.loads(s3.get_object(Bucket=BUCKET, Key="runs/ds/dataset.json")["Body"].read())
    card["shards"][0]["file"] = "../../escaped.h5"
    s3.put_object(Bucket=BUCKET, Key="runs/evil/dataset.json", Body=json.dumps(card).encode())
    with pytest.raises(ValueError, match=r"runs/evil/dataset.json lists the file '../../escaped.h5'"):
        open_remote(f"s3://{BUCKET}/runs/evil", cache=tmp_path / "evil" / "a" / "b")
    assert not (tmp_path / "evil" / "escaped.h5").exists()
    # a finished dataset is never replaced without overwrite
    with pytest.raises(FileExistsError, match=f"{url} already holds a finished dataset"):
        RemoteDatasetWriter(url, **WRITER)
    with RemoteDatasetWriter(url, overwrite=True, **{**WRITER, "name": "again"}) as w2:
        w2.add(samples[0])
    assert open_dataset(url).card["name"] == "again" and len(open_dataset(url)) == 1


def test_a_killed_write_resumes_from_the_bucket_uploading_only_missing_shards(s3, tmp_path):
    bucket = BUCKET + "-versioned"  # every upload of a key is a new version: counts re-uploads
    url = f"s3://{bucket}/ds"
    samples = [make_sample(i) for i in range(7)]
    first = RemoteDatasetWriter(url, staging=tmp_path / "node-a", **WRITER)
    for s in samples[:5]:  # two shards finished and uploaded, the fifth sample is in the lost buffer
        first.add(s)
    del first  # killed: never closed
    assert _keys(s3, bucket, "ds/") == ["_progress.json", "shards/shard-00000.h5", "shards/shard-00001.h5"]

    # another configuration refuses to mix datasets, naming the URL
    with pytest.raises(ValueError, match=f"{url}: .*different configuration"):
        RemoteDatasetWriter(url, staging=tmp_path / "node-x", **{**WRITER, "shard_size": 3})

    # restarted on another machine: a fresh staging directory, resumed from what the bucket holds
    second = RemoteDatasetWriter(url, staging=tmp_path / "node-b", **WRITER)
    assert second.done_ids == {s.id for s in samples[:4]}
    for s in samples:
        if s.id not in second.done_ids:
            second.add(s)
    second.close()
    assert second.uploaded_now == ["shard-00002.h5", "shard-00003.h5"]
    versions = s3.list_object_versions(Bucket=bucket, Prefix="ds/shards/")["Versions"]
    assert sorted(v["Key"] for v in versions) == [f"ds/shards/shard-0000{i}.h5" for i in range(4)]  # one each
    local = open_dataset(write_samples(tmp_path / "local", samples, **WRITER))
    _same_dataset(open_dataset(url), local)

    # a shard finished in staging but not uploaded (killed between the two) is uploaded on restart
    url2 = f"s3://{BUCKET}/ds-gap"
    w = RemoteDatasetWriter(url2, staging=tmp_path / "node-c", **WRITER)
    for s in samples[:2]:
        w.add(s)
    s3.delete_object(Bucket=BUCKET, Key="ds-gap/shards/shard-00000.h5")
    del w
    w = RemoteDatasetWriter(url2, staging=tmp_path / "node-c", **WRITER)
    assert w.uploaded_now == ["shard-00000.h5"] and w.done_ids == {"s000", "s001"}
    assert "shards/shard-00000.h5" in _keys(s3, BUCKET, "ds-gap/")

    # ... but never a staged shard of another configuration: the URL was restarted as another dataset meanwhile
    url3 = f"s3://{BUCKET}/ds-restarted"
    w = RemoteDatasetWriter(url3, staging=tmp_path / "node-d", **WRITER)
    for s in samples[:2]:
        w.add(s)
    del w
    for key in _keys(s3, BUCKET, "ds-restarted/"):
        s3.delete_object(Bucket=BUCKET, Key="ds-restarted/" + key)
    other = {**WRITER, "name": "another"}
    del_me = RemoteDatasetWriter(url3, staging=tmp_path / "node-e", **other)  # started elsewhere, nothing yet
    del del_me
    w = RemoteDatasetWriter(url3, staging=tmp_path / "node-d", **other)
    assert w.uploaded_now == [] and w.done_ids == set()
    assert _keys(s3, BUCKET, "ds-restarted/") == ["_progress.json"]


def test_missing_bucket_and_bad_credentials_name_the_url(s3, tmp_path, monkeypatch):
    url = "s3://no-such-bucket-here/ds"
    with pytest.raises(FileNotFoundError, match=f"{url}: .*does the bucket exist"):
        RemoteDatasetWriter(url, **WRITER)
    with pytest.raises(FileNotFoundError, match=url):
        open_dataset(url)
    with pytest.raises(FileNotFoundError, match=f"s3://{BUCKET}/nothing-here is not a humandepth dataset"):
        open_dataset(f"s3://{BUCKET}/nothing-here")

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    _fresh_clients()
    try:
        with pytest.raises(PermissionError, match=f"s3://{BUCKET}/ds-denied: .*AWS_ACCESS_KEY_ID"):
            RemoteDatasetWriter(f"s3://{BUCKET}/ds-denied", **WRITER)
        with pytest.raises(PermissionError, match=f"s3://{BUCKET}/ds-denied: .*access denied"):
            open_dataset(f"s3://{BUCKET}/ds-denied")
    finally:
        monkeypatch.undo()
        _fresh_clients()


def test_local_paths_keep_the_local_writer(tmp_path):
    w = dataset_writer(tmp_path / "ds", staging=tmp_path / "unused", **WRITER)
    assert type(w) is DatasetWriter
    w.add(make_sample(0))
    w.close()
    assert len(open_dataset(tmp_path / "ds")) == 1
    assert open_dataset(f"file://{tmp_path / 'ds'}").ids == ["s000"]


def test_shards_written_by_independent_workers_join_the_card(s3, tmp_path):
    """The Ray render path: the driver's writer hands out shard numbers; a worker on this machine writes its shard
    into staging, a worker elsewhere uploads its own; the card covers both, as a local write of the same shards."""
    from humandepth.data.remote import upload_shard
    from humandepth.data.store import write_shard

    samples = [make_sample(i) for i in range(6)]
    url = f"s3://{BUCKET}/ray"
    w = RemoteDatasetWriter(url, **WRITER)
    write_shard(w.shard_path(1), samples[2:4])  # a local worker
    assert w.upload_finished() == ["shard-00001.h5"]
    (tmp_path / "elsewhere").mkdir()
    remote_worker = write_shard(tmp_path / "elsewhere" / "shard-00002.h5", samples[4:6])
    assert upload_shard(remote_worker, w.shard_url(2)) == f"{url}/shards/shard-00002.h5"
    for s in samples[:2]:  # the driver's own samples fill the gap: shard 0
        w.add(s)
    w.close()
    assert _keys(s3, BUCKET, "ray/shards/") == ["shard-00000.h5", "shard-00001.h5", "shard-00002.h5"]
    local = open_dataset(write_samples(tmp_path / "local", samples, **WRITER))
    _same_dataset(open_dataset(url), local)


def test_a_staging_directory_given_by_the_caller_keeps_its_other_files(s3, tmp_path):
    url = f"s3://{BUCKET}/runs/own-staging"
    staging = tmp_path / "mine"
    staging.mkdir()
    (staging / "notes.txt").write_text("the caller's file")
    with RemoteDatasetWriter(url, staging=staging, **WRITER) as w:
        for i in range(3):
            w.add(make_sample(i))
    assert (staging / "notes.txt").read_text() == "the caller's file"
    assert sorted(p.name for p in staging.iterdir()) == ["notes.txt"]  # the writer's own files are gone
    assert len(open_dataset(url)) == 3

"""The executor interface, the command-line options and the store's out-of-order shards, without a cluster."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401

from humandepth.cli import main
from humandepth.scale.executor import LocalExecutor, Task, make_executor


def _square(x: int) -> int:
    return x * x


def test_local_executor_keeps_task_order_and_reports_each():
    seen = []
    results = LocalExecutor().run([Task(f"t{i}", _square, (i,)) for i in range(5)],
                                  on_done=lambda i, task, r: seen.append((i, task.key, r)))
    assert results == [0, 1, 4, 9, 16]
    assert seen == [(i, f"t{i}", i * i) for i in range(5)]


def test_executor_choices_are_checked():
    with pytest.raises(ValueError, match="--executor must be one of local, ray"):
        make_executor("dask")
    with pytest.raises(ValueError, match="--address is only used with --executor ray"):
        make_executor("local", address="127.0.0.1:6379")


def _dead_address() -> str:
    from scale_helpers import free_port

    return f"127.0.0.1:{free_port()}"  # nothing listens there


def test_an_unreachable_cluster_fails_fast_naming_the_address():
    from humandepth.scale.ray_cluster import connect

    address = _dead_address()
    t0 = time.perf_counter()
    with pytest.raises(ConnectionError, match=f"cannot connect to the Ray cluster at {address}"):
        connect(address)
    assert time.perf_counter() - t0 < 30  # not Ray's minutes of retries
    with pytest.raises(ValueError, match="not HOST:PORT"):
        connect("headnode")
    with pytest.raises(ValueError, match="ray://"):
        connect("ray://headnode:10001")


def test_render_with_a_wrong_address_is_one_line_and_writes_nothing(tmp_path, capsys):
    address = _dead_address()
    out = tmp_path / "ds"
    assert main(["render", "--out", str(out), "--count", "2", "--executor", "ray", "--address", address,
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert address in err and len(err.strip().splitlines()) == 1
    assert not out.exists()
    assert main(["render", "--out", str(out), "--count", "2", "--address", address]) == 2
    assert "--address is only used with --executor ray" in capsys.readouterr().err


def test_fuse_names_one_output_per_take(tmp_path, capsys):
    from humandepth.fuse.takes import take_outputs

    assert take_outputs(["takes/a"], "out") == ["out"]  # one take: --out is the dataset, as before
    (tmp_path / "alice").mkdir()
    (tmp_path / "bob").mkdir()
    assert take_outputs([str(tmp_path / "alice"), str(tmp_path / "bob"), "x/carol.db3"], "o") == \
        ["o/alice", "o/bob", "o/carol"]
    assert take_outputs(["t/alice", "t/bob"], "s3://bucket/fused/") == ["s3://bucket/fused/alice",
                                                                        "s3://bucket/fused/bob"]
    with pytest.raises(ValueError, match="would both be written to"):
        take_outputs(["a/recording.db3", "b/recording.db3"], "o")
    assert main(["fuse", str(tmp_path / "alice"), str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "nope does not exist" in capsys.readouterr().err
    assert main(["fuse", str(tmp_path / "alice"), str(tmp_path / "bob"), "--out", str(tmp_path / "o"),
                 "--name", "x"]) == 2
    assert "--name names one dataset" in capsys.readouterr().err


def test_help_shows_the_executor_options(capsys):
    for command in ("render", "fuse", "benchmark"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "--executor {local,ray}" in text and "--address HOST:PORT" in text and "--max-retries" in text


def test_writer_resumes_shards_that_finished_out_of_order(tmp_path):
    """A Ray run whose shards 0 and 2 finished and shard 1 did not: a local resume writes shard 1 into the gap,
    and the dataset is byte-identical to one written in one go."""
    from data_helpers import plane_sample

    from humandepth.data.store import DatasetWriter, HumanDepthDataset, sha256_file, write_samples, write_shard

    samples = [plane_sample(i) for i in range(6)]
    kw = {"name": "d", "shard_size": 2, "generator": {"g": 1}}
    write_samples(tmp_path / "whole", samples, **kw)
    out = tmp_path / "d"
    w = DatasetWriter(out, **kw)
    write_shard(w.shard_path(0), samples[0:2])  # what two workers wrote, out of order
    write_shard(w.shard_path(2), samples[4:6])
    resumed = DatasetWriter(out, **kw)
    assert sorted(resumed.finished_shards()) == [0, 2]
    assert resumed.done_ids == {s.id for s in samples[:2] + samples[4:]}
    for s in samples:
        if s.id not in resumed.done_ids:
            resumed.add(s)
    resumed.close()
    for k in range(3):
        name = f"shards/shard-{k:05d}.h5"
        assert sha256_file(out / name) == sha256_file(tmp_path / "whole" / name), name
    ds = HumanDepthDataset(out)
    assert ds.ids == [s.id for s in samples] and ds.card["count"] == 6
    assert np.array_equal(ds.get(samples[3].id).depth, samples[3].depth)


def test_a_shard_of_mixed_samples_is_refused_naming_the_sample(tmp_path):
    from data_helpers import plane_sample

    from humandepth.data.store import write_shard

    a, b = plane_sample(0), plane_sample(1, with_optional=False)
    with pytest.raises(ValueError, match=f"sample {b.id!r}: fields"):
        write_shard(tmp_path / "shard-00000.h5", [a, b])
    assert not list(tmp_path.iterdir())


class _Stop(Exception):
    pass


class _RecordingExecutor(LocalExecutor):
    """Records the tasks it is given instead of running them (a cluster that reports ``gpus`` GPUs)."""

    name = "ray"

    def __init__(self, gpus: float):
        from humandepth.scale.ray_cluster import ClusterInfo

        self.cluster = ClusterInfo("10.0.0.1:6379", "10.0.0.1:6379", False, 2, 8.0, gpus)
        self.tasks = []

    def run(self, tasks, on_done=None):
        self.tasks = list(tasks)
        raise _Stop


@pytest.mark.parametrize("gpus", [0.0, 4.0])
def test_render_tasks_ask_for_a_gpu_with_egl_when_the_cluster_has_gpus(tmp_path, gpus):
    from humandepth.render.dataset import render_dataset, render_shard
    from humandepth.render.generate import GeneratorConfig

    ex = _RecordingExecutor(gpus)
    with pytest.raises(_Stop):
        render_dataset(tmp_path / "ds", 5, seed=1, cfg=GeneratorConfig(resolution=32), shard_size=2, progress=False,
                       executor=ex)
    assert [t.key for t in ex.tasks] == ["render-shard-00000", "render-shard-00001", "render-shard-00002"]
    assert [t.args[1:3] for t in ex.tasks] == [(0, 2), (2, 4), (4, 5)]  # shard k = samples [2k, 2k+2)
    assert all(t.fn is render_shard and t.args[0] == str((tmp_path / "ds" / "shards" / f"shard-{k:05d}.h5").resolve())
               for k, t in enumerate(ex.tasks))
    for t in ex.tasks:
        assert t.num_cpus == 1
        assert (t.num_gpus, t.env) == ((1, {"PYOPENGL_PLATFORM": "egl"}) if gpus else (0, {}))


def test_a_failed_cluster_task_is_one_line_at_the_command_line(monkeypatch, capsys):
    """A task that failed on Ray (worker dead more often than --max-retries) ends the command with one line naming
    the task, not a traceback."""
    import humandepth.render.dataset as render_dataset_module
    from humandepth.scale.executor import TaskFailedError

    def failing(*args, **kwargs):
        raise TaskFailedError("render-shard-00001 failed on the Ray cluster (1 of 3 tasks failed): WorkerCrashedError")

    monkeypatch.setattr(render_dataset_module, "render_dataset", failing)
    assert main(["render", "--out", "/tmp/never-written", "--count", "3", "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("humandepth: error: render-shard-00001 failed") and "Traceback" not in err


def test_shards_written_out_of_sight_of_the_driver_fail_the_render(tmp_path, anny_ready):  # noqa: F811
    """A task that 'succeeds' but writes its shard where the driver cannot see it (another node's disk) fails the
    render with an error naming the missing shard, instead of a card that silently lacks those samples."""
    from dataclasses import replace

    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    elsewhere = tmp_path / "other-node"
    elsewhere.mkdir()

    class OtherNodeDisk(LocalExecutor):
        def run(self, tasks, on_done=None):
            moved = [replace(t, args=(str(elsewhere / Path(t.args[0]).name), *t.args[1:])) if t.key.endswith("1")
                     else t for t in tasks]
            return super().run(moved, on_done)

    with pytest.raises(FileNotFoundError, match=r"1 shard\(s\) .*shard-00001\.h5.*every node sees"):
        render_dataset(tmp_path / "ds", 2, seed=0, cfg=GeneratorConfig(resolution=64), shard_size=1, progress=False,
                       executor=OtherNodeDisk())
    assert (elsewhere / "shard-00001.h5").is_file() and not (tmp_path / "ds" / "dataset.json").exists()

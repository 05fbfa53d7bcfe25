"""Render and score through a REAL Ray cluster on loopback (a head and a worker node started with ``ray start``),
compared byte for byte with the local executor; a worker killed during a shard's task is retried."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401
from scale_helpers import connected_cluster

SEED, COUNT, SHARD, RES = 3, 6, 2, 64


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster per module: 1 CPU on the head + 1 CPU on a second node (two worker processes at most)."""
    with connected_cluster(tmp_path_factory.mktemp("ray")) as (c, info):
        assert info.nodes == 2 and info.cpus == 2 and info.gpus == 0
        yield c


@pytest.fixture(scope="module")
def local_render(tmp_path_factory, anny_ready):  # noqa: F811
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    out = tmp_path_factory.mktemp("local") / "ds"
    render_dataset(out, COUNT, seed=SEED, cfg=GeneratorConfig(resolution=RES), shard_size=SHARD, progress=False)
    return out


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_same_dataset(a, b) -> None:
    shards_a = sorted(p.name for p in (a / "shards").iterdir())
    assert shards_a == sorted(p.name for p in (b / "shards").iterdir()) == [f"shard-{k:05d}.h5" for k in range(3)]
    for name in shards_a:
        assert _sha(a / "shards" / name) == _sha(b / "shards" / name), name
    assert (a / "index.csv").read_bytes() == (b / "index.csv").read_bytes()
    card_a, card_b = (json.loads((d / "dataset.json").read_text()) for d in (a, b))
    assert card_a.pop("created_utc") and card_b.pop("created_utc")
    assert card_a == card_b


def test_render_on_ray_is_byte_identical_and_a_killed_worker_is_retried(cluster, local_render, tmp_path):
    from humandepth.cli import main

    (cluster.fault_dir / "render-shard-00001").touch()  # the first attempt of shard 1's task kills its worker
    out = tmp_path / "ds"  # the card names the dataset after its directory, as the local one
    assert main(["render", "--out", str(out), "--count", str(COUNT), "--seed", str(SEED), "--resolution", str(RES),
                 "--shard-size", str(SHARD), "--quiet", "--executor", "ray", "--address", cluster.address]) == 0
    assert (cluster.fault_dir / "render-shard-00001.fired").exists(), "the fault was never injected"
    _assert_same_dataset(local_render, out)


def test_a_dead_worker_loses_only_its_shard_and_the_run_resumes(cluster, local_render, tmp_path):
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig
    from humandepth.scale.executor import TaskFailedError

    cfg = GeneratorConfig(resolution=RES)
    out = tmp_path / "ds"  # the card names the dataset after its directory, as the local one
    (cluster.fault_dir / "render-shard-00001").touch()
    with pytest.raises(TaskFailedError, match=r"render-shard-00001 failed on the Ray cluster \(1 of 3 tasks"):
        render_dataset(out, COUNT, seed=SEED, cfg=cfg, shard_size=SHARD, progress=False, executor="ray",
                       address=cluster.address, max_retries=0)
    # shards 0 and 2 finished (not contiguous), shard 1 is missing, no card yet
    assert sorted(p.name for p in (out / "shards").iterdir()) == ["shard-00000.h5", "shard-00002.h5"]
    assert not (out / "dataset.json").exists()
    # a rerun resumes: one task, for shard 1 only
    summary = render_dataset(out, COUNT, seed=SEED, cfg=cfg, shard_size=SHARD, progress=False, executor="ray",
                             address=cluster.address)
    assert summary["shard_tasks"] == 1 and summary["rendered"] == SHARD and summary["skipped_existing"] == 4
    _assert_same_dataset(local_render, out)


def test_benchmark_on_ray_equals_local(cluster, tmp_path):
    from benchmark_helpers import scene_samples, write_dataset, write_predictions

    from humandepth.benchmark.run import SCORE_BLOCK, run_benchmark
    from humandepth.data import open_dataset

    samples = scene_samples(3 * SCORE_BLOCK - 5)  # three blocks (three Ray tasks), the last one short
    ds = open_dataset(write_dataset(tmp_path / "ds", samples))
    rng = np.random.default_rng(0)
    preds = write_predictions(tmp_path / "p.h5", {
        s.id: (s.depth + np.float32(0.2) + rng.normal(0, 0.01, s.depth.shape).astype(np.float32)) for s in samples},
        normals={s.id: s.normal for s in samples}, depth_kind="relative")
    protocols = ["tang2019", "affine", "detail"]
    local = run_benchmark(ds, preds, protocols, tmp_path / "local", progress=False, workers=1)
    remote = run_benchmark(ds, preds, protocols, tmp_path / "ray", progress=False, executor="ray",
                           address=cluster.address)
    assert remote["run"]["executor"] == "ray" and local["run"]["executor"] == "local"
    a, b = (tmp_path / "local", tmp_path / "ray")
    assert (a / "per_sample.csv").read_bytes() == (b / "per_sample.csv").read_bytes()
    assert (a / "cumulative_error.csv").read_bytes() == (b / "cumulative_error.csv").read_bytes()
    sa, sb = (json.loads((d / "summary.json").read_text()) for d in (a, b))
    assert sa.pop("run") != sb.pop("run")  # timestamps, executor and workers only
    assert sa == sb
    assert sa["protocols"]["tang2019"]["n_samples"] == len(samples)
    for png in sorted((a / "thumbs").iterdir()):
        assert png.read_bytes() == (b / "thumbs" / png.name).read_bytes(), png.name


def test_fuse_two_takes_on_ray_as_locally(cluster, tmp_path):
    from humandepth.capture.simulate import SimulationConfig, simulate_take
    from humandepth.cli import main

    takes = []
    for i in range(2):
        cfg = SimulationConfig(frames=6, seed=3 + i, arc_deg=30.0, depth_size=(320, 240), depth_focal=192.5,
                               color_size=(320, 240), color_focal=210.0, person="mannequin")
        takes.append(str(simulate_take(tmp_path / "takes" / f"take{i}", cfg)))
    args = ["fuse", *takes, "--poses", "known", "--quiet"]
    assert main([*args, "--out", str(tmp_path / "local")]) == 0
    assert main([*args, "--out", str(tmp_path / "ray"), "--executor", "ray", "--address", cluster.address]) == 0
    for name in ("take0", "take1"):
        a, b = tmp_path / "local" / name, tmp_path / "ray" / name
        ra, rb = (json.loads((d / "fusion_report.json").read_text()) for d in (a, b))
        assert ra["truth"]["gt_mae_mm"] == rb["truth"]["gt_mae_mm"]
        assert ra["truth"]["gt_mae_mm"]["fused"] < ra["truth"]["gt_mae_mm"]["raw_frame"] / 2
        for shard in sorted((a / "shards").iterdir()):
            assert _sha(shard) == _sha(b / "shards" / shard.name), (name, shard.name)


def test_task_environment_and_task_errors_on_ray(cluster):
    import os

    from humandepth.scale.executor import RayExecutor, Task

    with RayExecutor(cluster.address) as ex:  # reuses this process's connection (and leaves it open)
        probe = ("HUMANDEPTH_SCALE_PROBE",)
        # the GPU render path starts its workers with PYOPENGL_PLATFORM=egl this way (Ray runtime_env env_vars)
        assert ex.run([Task("env", os.getenv, probe, env={"HUMANDEPTH_SCALE_PROBE": "egl"}),
                       Task("plain", os.getenv, probe)]) == ["egl", None]
        # an exception raised by the task is not retried and keeps its type, naming the task
        with pytest.raises(ValueError, match=r"parse-2: invalid literal .*\(1 of 3 tasks failed"):
            ex.run([Task(f"parse-{i}", int, (text,)) for i, text in enumerate(["1", "2", "x"])])

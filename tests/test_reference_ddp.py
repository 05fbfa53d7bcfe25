"""DDP training of the reference network: two gloo ranks on loopback give the weights of the equivalent
single-process run (same global batch in the same two parts), rank 0 alone writes and prints, resume works on
every rank, and --ddp outside torchrun is refused with the launch command."""

import io
import json
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
from reference_helpers import TINY, one_thread, write_scene_dataset

from humandepth.baselines.reference.checkpoint import load_checkpoint
from humandepth.baselines.reference.train import DDP_ENV, read_log, train
from humandepth.cli import main as cli_main

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)

# the global batch of 4 is two parts of 2 (BatchNorm needs more than one value per channel at 1x1)
DDP_TRAIN = {"batch_size": 4, "stage1_steps": 3, "stage2_steps": 2, "log_every": 1, "checkpoint_every": 2, "seed": 3}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank_main(rank: int, world: int, ports: list[int], data: str, out: str, logs: str) -> None:
    """One DDP rank, as torchrun would start it: the environment names the group, train() joins it.

    Trains 3 of 5 steps, then resumes to the end (a fresh process group per call, as two torchrun launches)."""
    torch.set_num_threads(1)
    for call, port in enumerate(ports):
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(world),
                          LOCAL_RANK=str(rank))
        with open(os.path.join(logs, f"rank{rank}-call{call}.txt"), "w") as stream:
            train(data, out, model_overrides=TINY, overrides=DDP_TRAIN, device="cpu", ddp=True, log_stream=stream,
                  max_steps=3 if call == 0 else None, resume=call > 0, command="ddp test")


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return write_scene_dataset(tmp_path_factory.mktemp("ddp") / "scenes", count=6)


def test_two_gloo_ranks_train_the_weights_of_one_process(scenes, tmp_path):
    out, logs = tmp_path / "ddp", tmp_path / "logs"
    logs.mkdir()
    mp.start_processes(_rank_main, args=(2, [_free_port(), _free_port()], str(scenes), str(out), str(logs)),
                       nprocs=2, join=True, start_method="spawn")
    single = train(scenes, tmp_path / "single", model_overrides=TINY, overrides=DDP_TRAIN, device="cpu",
                   micro_batches=2, log_stream=io.StringIO())

    ddp_state, single_state = load_checkpoint(out)[0].state_dict(), load_checkpoint(single)[0].state_dict()
    assert ddp_state.keys() == single_state.keys()
    for k in ddp_state:  # weights, BatchNorm running statistics and counters
        assert torch.allclose(ddp_state[k].double(), single_state[k].double(), rtol=1e-6, atol=1e-7), k
    # ... and not by accident: the plain one-process step (BatchNorm over all 4 images) gives other weights
    plain = train(scenes, tmp_path / "plain", model_overrides=TINY, overrides=DDP_TRAIN, device="cpu",
                  log_stream=io.StringIO())
    plain_state = load_checkpoint(plain)[0].state_dict()
    assert not all(torch.allclose(plain_state[k].double(), single_state[k].double(), rtol=1e-6, atol=1e-7)
                   for k in plain_state)

    # rank 0 wrote the log of the global losses (the mean over ranks), the same as the one-process run's
    ddp_log, single_log = read_log(out / "log.csv"), read_log(single / "log.csv")
    assert [r["step"] for r in ddp_log] == [r["step"] for r in single_log] == ["1", "2", "3", "4", "5"]
    for a, b in zip(ddp_log, single_log, strict=True):
        assert float(a["total"]) == pytest.approx(float(b["total"]), rel=1e-5)
    cfg = json.loads((out / "config.json").read_text())["training"]
    assert cfg["complete"] and cfg["step"] == 5 and cfg["images_seen"] == 20
    assert cfg["parallel"] == {"ddp_world_size": 2, "backend": "gloo", "per_rank_batch": 2}
    # progress lines from rank 0 only, in both calls (the second resumed at step 3)
    assert "step 3/5" in (logs / "rank0-call0.txt").read_text()
    assert "step 5/5" in (logs / "rank0-call1.txt").read_text()
    assert (logs / "rank1-call0.txt").read_text() == (logs / "rank1-call1.txt").read_text() == ""
    assert not list(out.glob(".*partial"))


def test_ddp_outside_torchrun_names_the_launch_command(scenes, tmp_path, monkeypatch, capsys):
    for k in DDP_ENV:
        monkeypatch.delenv(k, raising=False)
    with pytest.raises(ValueError, match=r"torchrun --nproc-per-node N -m humandepth baselines train reference"):
        train(scenes, tmp_path / "x", model_overrides=TINY, overrides=DDP_TRAIN, ddp=True)
    rc = cli_main(["baselines", "train", "reference", "--data", str(scenes), "--out", str(tmp_path / "y"), "--ddp"])
    assert rc == 2
    assert "missing: RANK, WORLD_SIZE" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()
    with pytest.raises(ValueError, match="must be >= 1 and divide the batch size 4"):
        train(scenes, tmp_path / "z", model_overrides=TINY, overrides=DDP_TRAIN, micro_batches=3)


def test_torchrun_launches_the_cli_with_ddp(scenes, tmp_path):
    """The documented launch: torchrun, two CPU ranks, the small config; one progress stream, one checkpoint."""
    import subprocess
    import sys
    from pathlib import Path

    torchrun = Path(sys.executable).with_name("torchrun")
    out = tmp_path / "ck"
    cmd = [str(torchrun), "--nproc-per-node", "2", "--master-addr", "127.0.0.1", "--master-port", str(_free_port()),
           "-m", "humandepth", "baselines", "train", "reference", "--data", str(scenes), "--out", str(out), "--ddp",
           "--stage1-steps", "1", "--stage2-steps", "1", "--batch-size", "4", "--threads", "1", "--device", "cpu"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("wrote checkpoint") == 1
    assert proc.stderr.count("step 1/2") == proc.stderr.count("step 2/2") == 1  # rank 0 only
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["input_size"] == 128 and cfg["training"]["command"].endswith("--ddp")
    assert cfg["training"]["parallel"]["ddp_world_size"] == 2
    assert [r["step"] for r in read_log(out / "log.csv")] == ["1", "2"]

"""Training packs and the GPU-machine path: a pack reads back as the samples it was cut from, training runs
from a pack, weights are written in chunks and joined on load, a wall-clock budget fits the run's length,
and the training code imports without the rendering stack."""

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from reference_helpers import TINY, TINY_TRAIN, one_thread, write_scene_dataset

from humandepth.baselines.reference.checkpoint import WEIGHTS, load_checkpoint, weights_bytes
from humandepth.baselines.reference.config import ModelConfig
from humandepth.baselines.reference.pack import (
    CARD,
    PackDataset,
    crop_sample,
    decode_depth,
    decode_detail,
    encode_depth,
    encode_detail,
    looks_like_pack,
    pack_dataset,
)
from humandepth.baselines.reference.targets import make_item
from humandepth.baselines.reference.train import RunOptions, _fit_to_budget, read_log, train
from humandepth.cli import main as cli_main
from humandepth.data import open_dataset

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return write_scene_dataset(tmp_path_factory.mktemp("pack") / "scenes", count=4, height=80, width=64)


@pytest.fixture(scope="module")
def pack(scenes, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "p"
    pack_dataset(scenes, out, side=77, quiet=True)
    return out


def test_depth_and_detail_codes_round_trip_to_their_steps():
    depth = np.array([[0.0, 2.0, 2.31234], [1.5, 0.0, 4.9]], np.float32)
    back = decode_depth(encode_depth(depth, median=2.2), median=2.2)
    assert np.array_equal(back > 0, depth > 0)
    assert np.abs(back - depth).max() <= 0.5e-4 + 1e-6  # 0.1 mm steps
    detail = np.array([[-0.02, 0.0, 0.0123456]], np.float32)
    assert np.abs(decode_detail(encode_detail(detail)) - detail).max() <= 0.5e-5 + 1e-7  # 0.01 mm steps


def test_a_pack_reads_back_as_the_crops_it_was_cut_from(scenes, pack):
    ds = open_dataset(scenes)
    p = PackDataset(pack)
    assert looks_like_pack(pack) and not looks_like_pack(scenes)
    assert p.ids == ds.ids and len(p) == 4
    card = json.loads((pack / CARD).read_text())
    assert card["side"] == 77 and card["source"]["checksum"] == ds.checksum()
    for sid in ds.ids:
        src = ds.get(sid)
        crop, median = crop_sample(src, 77)
        got = p.get(sid)
        assert got.rgb.shape == (77, 77, 3) and got.depth.shape == (77, 77)
        assert np.array_equal(got.mask, crop.mask)
        assert np.abs(got.depth - crop.depth).max() < 1e-4
        assert np.abs(got.depth_detail - crop.depth_detail).max() < 1e-5
        assert np.allclose(got.depth_base + got.depth_detail, got.depth, atol=1e-6)
        assert np.array_equal(got.parts, crop.parts)
        assert np.allclose(got.joints2d, crop.joints2d) and np.allclose(got.joints3d, src.joints3d)
        # every stored depth value is one of the source's pixels (nearest resampling)
        vals = np.unique(src.depth[src.mask].astype(np.float64))
        pix = got.depth[got.mask].astype(np.float64)
        i = np.clip(np.searchsorted(vals, pix), 1, len(vals) - 1)
        nearest = np.minimum(np.abs(vals[i] - pix), np.abs(vals[i - 1] - pix))
        assert nearest.max() <= 0.5e-4 + 1e-6
        # the crop's intrinsics project the camera-frame joints onto the crop's 2-D joints (the scenes' joints3d
        # are back-projections of their joints2d)
        cam = got.camera
        proj = got.joints3d[:, :2] / got.joints3d[:, 2:] * [cam.fx, cam.fy] + [cam.cx, cam.cy]
        assert np.allclose(proj, got.joints2d, atol=1e-3)
        # normals come from the depth and face the camera
        n = got.normal[got.mask & (np.linalg.norm(got.normal, axis=-1) > 0)]
        assert len(n) > 0.8 * got.mask.sum() and (n[:, 2] < 0).all()
        # the training targets of a pack sample are those of its source, up to the box rounding
        mcfg = ModelConfig.from_dict(TINY)
        a, b = make_item(got, mcfg), make_item(src, mcfg)
        assert (a["mask"] == b["mask"]).float().mean() > 0.97


def test_pack_refuses_bad_input_and_keeps_a_finished_pack(scenes, pack, tmp_path, capsys):
    before = (pack / CARD).read_bytes()
    assert cli_main(["baselines", "pack", "reference", "--data", str(scenes), "--out", str(pack), "--quiet"]) != 0
    assert "--overwrite" in capsys.readouterr().err
    assert cli_main(["baselines", "pack", "reference", "--data", str(scenes), "--out", str(pack), "--margin", "-1",
                     "--overwrite"]) != 0
    assert "--margin" in capsys.readouterr().err
    assert (pack / CARD).read_bytes() == before
    assert cli_main(["baselines", "pack", "reference", "--data", str(tmp_path / "nothing"), "--out",
                     str(tmp_path / "p2")]) != 0
    assert "not found" in capsys.readouterr().err and not (tmp_path / "p2").exists()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / CARD).write_text(json.dumps({"format": "humandepth-reference-pack", "count": 1, "side": 8}))
    with pytest.raises(ValueError, match="arrays.npz"):
        PackDataset(broken)


def test_training_runs_from_a_pack_and_writes_chunked_weights(pack, tmp_path):
    out = tmp_path / "ckpt"
    train(pack, out, model_overrides=TINY, overrides=TINY_TRAIN, log_stream=io.StringIO(),
          options=RunOptions(chunk_bytes=64 * 1024))
    chunks = sorted(out.glob(f"{WEIGHTS}.*"))
    assert len(chunks) > 1 and not (out / WEIGHTS).exists()
    assert all(c.stat().st_size <= 64 * 1024 for c in chunks)
    model, cfg = load_checkpoint(out)
    assert cfg["training"]["data"]["checksum"] == PackDataset(pack).checksum()
    assert cfg["training"]["complete"]
    # the joined chunks are one safetensors file: loading equals loading the whole file
    whole = tmp_path / "whole"
    whole.mkdir()
    (whole / WEIGHTS).write_bytes(weights_bytes(out))
    (whole / "config.json").write_text((out / "config.json").read_text())
    again, _ = load_checkpoint(whole)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values(),
                                                   strict=True))
    # a missing chunk is named
    chunks[1].unlink()
    with pytest.raises(FileNotFoundError, match="chunks"):
        load_checkpoint(out)


def test_a_budget_scales_both_stages_and_keeps_their_ratio():
    from humandepth.baselines.reference.config import TrainConfig

    t = TrainConfig(stage1_steps=300, stage2_steps=100)
    fitted = _fit_to_budget(t, seconds_left=1000.0, step_s=(0.5, 1.0))
    # 300 * 0.5 + 100 * 1.0 = 250 s per unit; 970 s usable -> factor 3.88
    assert (fitted.stage1_steps, fitted.stage2_steps) == (1164, 388)
    with pytest.raises(ValueError, match="budget"):
        _fit_to_budget(t, seconds_left=-5.0, step_s=(0.5, 1.0))


def test_budget_run_records_fitted_steps(pack, tmp_path):
    out = tmp_path / "b"
    train(pack, out, model_overrides=TINY, overrides={**TINY_TRAIN, "stage1_steps": 30, "stage2_steps": 10},
          log_stream=io.StringIO(), options=RunOptions(budget_s=20.0))
    _, cfg = load_checkpoint(out)
    t = cfg["train"]
    assert cfg["budget"]["budget_s"] == 20.0 and t["stage1_steps"] >= 1
    assert 3 * t["stage2_steps"] <= t["stage1_steps"] <= 3 * t["stage2_steps"] + 2  # one factor, floored
    assert int(read_log(out / "log.csv")[-1]["step"]) == t["stage1_steps"] + t["stage2_steps"]


def test_bad_run_options_are_refused_before_any_output(pack, tmp_path, capsys):
    base = ["baselines", "train", "reference", "--data", str(pack), "--out", str(tmp_path / "o")]
    for extra, word in ((["--budget-s", "0"], "--budget-s"), (["--chunk-mb", "-1"], "--chunk-mb"),
                        (["--budget-s", "10", "--max-steps", "3"], "--budget-s"), (["--threads", "0"], "--threads"),
                        (["--resume"], "--resume")):
        assert cli_main(base + extra) != 0, extra
        assert word in capsys.readouterr().err, extra
    if not torch.cuda.is_available():
        assert cli_main(base + ["--device", "cuda"]) != 0
        err = capsys.readouterr().err
        assert "--device cuda" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


BLOCKED = ("pandas", "trimesh", "pyrender", "open3d", "anny", "smplx", "pyrealsense2", "ray", "OpenGL", "warp")


def test_training_imports_without_the_rendering_stack(tmp_path):
    """The GPU machine has torch, numpy, scipy, h5py, safetensors, yaml and Pillow only: the CLI, the training
    code and the pack reader must import with every other dependency unavailable."""
    code = (
        "import sys, importlib.abc\n"
        f"BLOCKED = {BLOCKED!r}\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ImportError(f'{name} is blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import humandepth.baselines.reference.train, humandepth.baselines.reference.pack\n"
        "import humandepth.baselines.reference.predict\n"
        "from humandepth.cli import main\n"
        "sys.exit(main(['baselines', 'train', 'reference', '--help']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "--budget-s" in r.stdout


def _with_an_empty_sample(root, record_fraction: bool):
    from reference_helpers import rippled_scene

    from humandepth.data import write_samples

    samples = [rippled_scene(f"s{i:03d}", i) for i in range(3)]
    empty = rippled_scene("s003", 3)
    empty.mask = np.zeros_like(empty.mask)
    empty.depth = np.zeros_like(empty.depth)
    for s in (*samples, empty):
        if record_fraction:
            s.meta["mask_fraction"] = float(s.mask.mean())
    return write_samples(root, [*samples, empty], name="with-empty", kind="synthetic", shard_size=4)


def test_samples_without_a_person_are_left_out_and_recorded(tmp_path):
    data = _with_an_empty_sample(tmp_path / "d", record_fraction=True)
    out = train(data, tmp_path / "c", model_overrides=TINY, overrides=TINY_TRAIN, log_stream=io.StringIO())
    _, cfg = load_checkpoint(out)
    assert cfg["training"]["data"]["left_out"] == ["s003"]
    pack_dataset(data, tmp_path / "p", side=40, quiet=True)
    p = PackDataset(tmp_path / "p")
    assert p.ids == ["s000", "s001", "s002"] and p.card["left_out"] == ["s003"]


def test_an_error_in_a_loader_worker_is_one_line_naming_the_sample(tmp_path, capsys):
    data = _with_an_empty_sample(tmp_path / "d", record_fraction=False)  # nothing says s003 is empty
    code = cli_main(["baselines", "train", "reference", "--data", str(data), "--out", str(tmp_path / "c"),
                     "--workers", "1", "--stage1-steps", "4", "--stage2-steps", "0", "--batch-size", "4",
                     "--set", "seed=3"])
    err = capsys.readouterr().err
    assert code != 0 and "s003" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err

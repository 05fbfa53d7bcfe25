"""Training the reference network on analytic scenes: loss goes down, runs reproduce, resume is exact,
checkpoints round-trip, bad input is refused with a message that names it."""

import io
import json

import numpy as np
import pytest
import torch
from reference_helpers import TINY, TINY_TRAIN, one_thread, rippled_scene, tiny_model_config, write_scene_dataset
from safetensors import safe_open

from humandepth.baselines.reference.checkpoint import load_checkpoint, load_train_state, save_checkpoint
from humandepth.baselines.reference.config import ModelConfig, TrainConfig
from humandepth.baselines.reference.losses import compute_losses, gaussian_volumes, two_hot
from humandepth.baselines.reference.model import ReferenceNet
from humandepth.baselines.reference.targets import make_item
from humandepth.baselines.reference.train import StepSchedule, read_log, train
from humandepth.cli import main as cli_main
from humandepth.data import open_dataset, write_samples

QUIET = io.StringIO

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    return write_scene_dataset(tmp_path_factory.mktemp("ref") / "scenes", count=4)


def _train(data, out, **kw):
    overrides = {**TINY_TRAIN, **kw.pop("overrides", {})}
    return train(data, out, model_overrides=TINY, overrides=overrides, log_stream=QUIET(), **kw)


def _state(path):
    model, _ = load_checkpoint(path)
    return model.state_dict()


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_targets_follow_the_authors_conventions():
    s = rippled_scene("t", 5)
    item = make_item(s, tiny_model_config())
    fg = item["mask"]
    assert torch.allclose(item["depth"][~fg], torch.tensor(0.60))
    # relative depth: the median of the person is ~0.10 (nearest resize keeps values)
    assert float(item["depth"][fg].median()) == pytest.approx(0.10, abs=0.01)
    # base + detail = relative depth inside the mask
    assert torch.allclose((item["base"] + item["detail"])[fg], item["depth"][fg], atol=1e-5)
    # the pelvis is joint 0 and sits at the middle depth bin
    assert float(item["joints"][0, 2]) == pytest.approx(9.0)
    assert set(torch.unique(item["parts"]).tolist()) <= {0, 1, 2, 9, 10, 11, 12}


def test_a_mirrored_item_swaps_sides_and_mirroring_twice_is_the_identity():
    from humandepth.baselines.reference.targets import JOINT_MIRROR, PART_MIRROR, mirror_item
    from humandepth.data.conventions import JOINT_NAMES, PART_NAMES

    assert PART_NAMES[PART_MIRROR[PART_NAMES.index("right_upper_leg")]] == "left_upper_leg"
    assert JOINT_NAMES[JOINT_MIRROR[JOINT_NAMES.index("left_shoulder")]] == "right_shoulder"
    assert JOINT_MIRROR[JOINT_NAMES.index("head")] == JOINT_NAMES.index("head")
    item = make_item(rippled_scene("m", 6), tiny_model_config())
    item["parts"][0, :3] = -100  # unlabelled pixels stay unlabelled
    m = mirror_item(item)
    h = item["parts"].shape[-1]
    assert torch.equal(m["rgb"], item["rgb"].flip(-1)) and torch.equal(m["depth"], item["depth"].flip(-1))
    assert torch.equal(m["normal"][0], -item["normal"][0].flip(-1))
    assert torch.equal(m["normal"][1:], item["normal"][1:].flip(-1))
    right_leg, left_leg = PART_NAMES.index("right_upper_leg"), PART_NAMES.index("left_upper_leg")
    assert torch.equal(m["parts"] == left_leg, (item["parts"] == right_leg).flip(-1))
    assert bool((m["parts"][0, -3:] == -100).all())
    r, left = JOINT_NAMES.index("right_hip"), JOINT_NAMES.index("left_hip")
    assert float(m["joints"][left, 0]) == pytest.approx(h - 1 - float(item["joints"][r, 0]))
    assert float(m["joints"][left, 1]) == float(item["joints"][r, 1])  # y and depth bin unchanged
    back = mirror_item(m)
    assert all(torch.allclose(back[k].float(), item[k].float(), atol=1e-5) for k in item)
    # mirror_prob 0 draws nothing from the augmentation stream: runs without mirroring are unchanged
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    a = make_item(rippled_scene("m", 6), tiny_model_config(), rng=rng_a, jitter=0.2)
    b = make_item(rippled_scene("m", 6), tiny_model_config(), rng=rng_b, jitter=0.2, mirror_prob=0.0)
    assert torch.equal(a["rgb"], b["rgb"]) and rng_a.uniform() == rng_b.uniform()


def test_loss_helpers():
    vol = gaussian_volumes(torch.tensor([[[5.0, 7.0, 9.0]] * 16]), 16)
    assert vol.shape == (1, 16, 19 * 16 * 16)
    assert torch.allclose(vol.sum(-1), torch.ones(1, 16))
    assert int(vol[0, 0].argmax()) == 9 * 256 + 7 * 16 + 5
    labels = two_hot(torch.tensor([[[[0.09]]]]))  # halfway between bins 1 (0.06) and 2 (0.12) of k*0.06
    assert labels[0, 10, 0, 0].item() == pytest.approx(0.5) and labels[0, 11, 0, 0].item() == pytest.approx(0.5)


def test_a_few_training_steps_lower_the_loss(scenes, tmp_path):
    ds = open_dataset(scenes)
    cfg = tiny_model_config()
    items = [make_item(ds[i], cfg) for i in range(2)]
    batch = {k: torch.stack([x[k] for x in items]) for k in items[0]}

    def losses(model):
        model.train()  # batch statistics, as in training
        with torch.no_grad():
            out = model(batch["rgb"], mask=batch["mask"], refinement="none")
            return {s: float(compute_losses(out, batch, TrainConfig(), s, True)["total"]) for s in (1, 2)}

    two = write_samples(tmp_path / "two", [ds[0], ds[1]], name="two", kind="synthetic")
    out = _train(two, tmp_path / "ck", overrides={"stage1_steps": 12, "stage2_steps": 4, "lr": 1e-3, "jitter": 0.0,
                                                 "background_prob": 0.0, "crop_jitter": 0.0})
    trained, _ = load_checkpoint(out)
    torch.manual_seed(TINY_TRAIN["seed"])
    before = losses(ReferenceNet(trained.cfg))  # an untrained network of the same kind (the preset's heads)
    after = losses(trained)
    assert after[1] < 0.9 * before[1]
    assert after[2] < 0.9 * before[2]
    log = read_log(out / "log.csv")
    assert [int(r["step"]) for r in log] == list(range(1, 17))
    assert {r["stage"] for r in log} == {"1", "2"}
    assert all(float(r["img_per_s"]) > 0 for r in log)


def test_training_reproduces_and_resume_is_exact(scenes, tmp_path):
    a = _train(scenes, tmp_path / "a")
    b = _train(scenes, tmp_path / "b")
    assert _same(_state(a), _state(b))
    # interrupted after 2 of 5 steps (stage 1), resumed across the switch to stage 2
    c = _train(scenes, tmp_path / "c", max_steps=2)
    assert int(load_train_state(c)["step"]) == 2
    assert not _same(_state(a), _state(c))
    _train(scenes, tmp_path / "c", resume=True)
    assert _same(_state(a), _state(c))
    assert [int(r["step"]) for r in read_log(c / "log.csv")] == [1, 2, 3, 4, 5]
    cfg = json.loads((c / "config.json").read_text())
    assert cfg["training"]["complete"] and cfg["training"]["step"] == 5 and cfg["training"]["seed"] == 3
    assert cfg["training"]["data"]["checksum"] == open_dataset(scenes).checksum()
    # data loader worker processes read the same items (augmentation is seeded per image)
    w = _train(scenes, tmp_path / "w", workers=1)
    assert _same(_state(a), _state(w))
    # another seed gives another network
    d = _train(scenes, tmp_path / "d", overrides={"seed": 4})
    assert not _same(_state(a), _state(d))


def test_checkpoint_round_trip(tmp_path):
    torch.manual_seed(0)
    model = ReferenceNet(tiny_model_config("single-branch")).eval()
    save_checkpoint(tmp_path / "ck", model, {"note": "round trip"}, train_state={"step": torch.tensor(7)})
    loaded, cfg = load_checkpoint(tmp_path / "ck" / "model.safetensors")
    assert _same(model.state_dict(), loaded.state_dict())
    assert cfg["note"] == "round trip" and cfg["model"]["architecture"] == "single-branch"
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(x)["depth"], loaded(x)["depth"])
    with safe_open(str(tmp_path / "ck" / "model.safetensors"), "pt") as f:
        assert f.metadata()["format"] == "humandepth-reference"
    assert int(load_train_state(tmp_path / "ck")["step"]) == 7


def test_bad_checkpoints_and_data_are_refused(scenes, tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_checkpoint(tmp_path / "nothing")
    ck = save_checkpoint(tmp_path / "ck", ReferenceNet(tiny_model_config()), {})
    (ck / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="cannot read weights"):
        load_checkpoint(ck)
    other = save_checkpoint(tmp_path / "other", ReferenceNet(tiny_model_config()), {})
    cfg = json.loads((other / "config.json").read_text())
    cfg["model"]["depth_features"] = 8
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match="do not match"):
        load_checkpoint(other)
    (other / "config.json").write_text("[1, 2]")  # valid JSON, not a config
    with pytest.raises(ValueError, match=r"other/config.json is not a humandepth reference checkpoint"):
        load_checkpoint(other)
    del cfg["model"]
    (other / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match=r"other/config.json lacks its 'model' section"):
        load_checkpoint(other)
    # training settings that would train nothing, or divide by zero, are refused before any work
    for bad, match in (({"stage1_steps": 0, "stage2_steps": 0}, "at least one step"),
                       ({"log_every": 0}, "log_every must be >= 1"), ({"batch_size": 0}, "batch_size must be >= 1")):
        with pytest.raises(ValueError, match=match):
            _train(scenes, tmp_path / "none", overrides=bad)
    with pytest.raises(ValueError, match="max_steps must be >= 1"):
        _train(scenes, tmp_path / "none", max_steps=0)
    assert not (tmp_path / "none").exists()
    # a dataset without the training fields
    s = rippled_scene("bare", 1)
    s.parts = s.joints2d = s.joints3d = None
    bare = write_samples(tmp_path / "bare", [s], name="bare", kind="synthetic")
    with pytest.raises(ValueError, match=r"lacks fields \['parts', 'joints2d', 'joints3d'\]"):
        _train(bare, tmp_path / "x")
    # an existing checkpoint is never overwritten without --resume; resume needs the same config
    out = _train(scenes, tmp_path / "run", max_steps=1)
    with pytest.raises(FileExistsError, match="--resume"):
        _train(scenes, out)
    with pytest.raises(ValueError, match="another configuration"):
        _train(scenes, out, resume=True, overrides={"lr": 1e-2})
    # weights and optimizer state of different steps (a save cut between its renames) are refused on resume
    torn = tmp_path / "torn"
    import shutil

    shutil.copytree(out, torn)
    state = torch.load(torn / "train_state.pt", weights_only=True)
    torch.save({**state, "step": int(state["step"]) + 5}, torn / "train_state.pt")
    with pytest.raises(ValueError, match=r"torn is inconsistent: model.safetensors is from step 1"):
        _train(scenes, torn, resume=True)
    with pytest.raises(ValueError, match="only changes inference"):
        _train(scenes, tmp_path / "y", variant="no-refine")


def test_step_schedule_visits_every_sample_once_per_epoch():
    sched = StepSchedule(5, seed=1)
    epoch0 = [sched.item(k)[0] for k in range(5)]
    epoch1 = [sched.item(k)[0] for k in range(5, 10)]
    assert sorted(epoch0) == sorted(epoch1) == list(range(5)) and epoch0 != epoch1
    assert len({sched.item(k)[1] for k in range(10)}) == 10
    assert sched.item(3) == StepSchedule(5, seed=1).item(3)


def test_cli_trains_the_small_config(scenes, tmp_path, capsys):
    out = tmp_path / "cli"
    rc = cli_main(["baselines", "train", "reference", "--data", str(scenes), "--config", "small", "--out", str(out),
                   "--stage1-steps", "1", "--stage2-steps", "1", "--batch-size", "2", "--seed", "5"])
    assert rc == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["input_size"] == 128 and cfg["train"]["seed"] == 5
    assert cfg["training"]["command"].startswith("humandepth baselines train reference --data ")
    assert "--seed 5" in cfg["training"]["command"]
    assert "img/s" in capsys.readouterr().err
    assert cli_main(["baselines", "train", "reference", "--data", str(tmp_path / "missing"), "--out",
                     str(tmp_path / "z")]) == 2


def test_cli_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        cli_main(["baselines", "train", "--help"])
    text = capsys.readouterr().out
    assert "examples:" in text and "--resume" in text and np.char.count(text, "humandepth baselines train") > 0


def test_learning_rate_follows_a_half_cosine_per_stage():
    from humandepth.baselines.reference.train import _lr_for

    cfg = TrainConfig(lr=1e-3, stage1_steps=100, stage2_steps=40, stage2_lr_scale=0.5, lr_final_scale=0.1)
    assert _lr_for(0, cfg) == pytest.approx(1e-3)
    assert _lr_for(50, cfg) == pytest.approx(1e-3 * (0.1 + 0.9 * 0.5))  # half-way: the mean of both ends
    assert _lr_for(99, cfg) == pytest.approx(1e-4, rel=0.01)
    assert _lr_for(100, cfg) == pytest.approx(5e-4)  # stage 2 restarts at lr * stage2_lr_scale
    assert _lr_for(139, cfg) == pytest.approx(5e-5, rel=0.02)
    flat = TrainConfig(lr=1e-3, stage1_steps=100, stage2_steps=40, lr_final_scale=1.0)
    assert {_lr_for(k, flat) for k in range(100)} == {1e-3}


def test_stage2_keeps_the_base_terms_unless_disabled():
    cfg = tiny_model_config()
    torch.manual_seed(0)
    model = ReferenceNet(cfg)
    items = [make_item(rippled_scene("x", i), cfg) for i in range(2)]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    with torch.no_grad():
        out = model(batch["rgb"], mask=batch["mask"], refinement="none")
    kept = compute_losses(out, batch, TrainConfig(), 2, True)
    assert {"base", "base_ce", "composed"} <= set(kept) and "detail" not in kept
    dropped = compute_losses(out, batch, TrainConfig(stage2_base=False), 2, True)
    assert "base" not in dropped and "composed" in dropped
    w = TrainConfig()
    assert float(kept["total"]) == pytest.approx(
        float(dropped["total"] + w.w_base * kept["base"] + w.w_base_ce * kept["base_ce"]), rel=1e-5)


def test_the_mask_term_is_the_silhouette_cross_entropy_and_needs_the_mask_head():
    cfg = ModelConfig.from_dict({**tiny_model_config().to_dict(), "mask_head": True})
    torch.manual_seed(0)
    items = [make_item(rippled_scene("x", i), cfg) for i in range(2)]
    batch = {k: torch.stack([it[k] for it in items]) for k in items[0]}
    with torch.no_grad():
        out = ReferenceNet(cfg)(batch["rgb"], mask=batch["mask"], refinement="none")
        plain = ReferenceNet(tiny_model_config())(batch["rgb"], mask=batch["mask"], refinement="none")
    terms = compute_losses(out, batch, TrainConfig(w_mask=2.0), 1, True)
    p = torch.sigmoid(out["mask_logit"].double())
    m = batch["mask"].double()
    bce = -(m * p.log() + (1 - m) * (1 - p).log()).mean()
    assert float(terms["mask"]) == pytest.approx(float(bce), rel=1e-5)
    without = {k: v for k, v in terms.items() if k not in ("mask", "total")}
    assert float(terms["total"]) == pytest.approx(float(sum(v * getattr(TrainConfig(), f"w_{k}")
                                                            for k, v in without.items()) + 2.0 * terms["mask"]),
                                                  rel=1e-5)
    assert "mask" not in compute_losses(plain, batch, TrainConfig(), 1, True)


def test_set_option_types_every_train_config_field_and_names_a_bad_one():
    from humandepth.baselines.reference.cli import parse_settings

    assert parse_settings(["w_base_ce=1.0", "stage2_base=false", "stage1-steps=7"]) == {
        "w_base_ce": 1.0, "stage2_base": False, "stage1_steps": 7}
    with pytest.raises(ValueError, match="'nope=1'.*w_base_ce"):
        parse_settings(["nope=1"])
    with pytest.raises(ValueError, match="not a valid float"):
        parse_settings(["lr=fast"])
    with pytest.raises(ValueError, match="not a valid bool"):
        parse_settings(["stage2_base=maybe"])

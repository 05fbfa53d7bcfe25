"""Prediction with the reference network: crop geometry, the registered baselines and a valid predictions file."""

import dataclasses

import numpy as np
import pytest
import torch
from reference_helpers import one_thread, rippled_scene, tiny_model_config, write_scene_dataset

from humandepth.baselines.reference import predict as predict_module
from humandepth.baselines.reference.checkpoint import save_checkpoint
from humandepth.baselines.reference.crop import (
    crop_image,
    cut,
    person_box,
    resize_chw,
    scale_box,
    to_crop_coords,
    uncrop,
)
from humandepth.baselines.reference.model import ReferenceNet
from humandepth.baselines.reference.predict import ReferenceBaseline
from humandepth.baselines.run import run_baseline
from humandepth.benchmark.validate import validate_predictions
from humandepth.data import Predictions, open_dataset

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("refpred")
    torch.manual_seed(0)
    full = save_checkpoint(root / "full", ReferenceNet(tiny_model_config("full")), {"note": "untrained"})
    single = save_checkpoint(root / "single", ReferenceNet(tiny_model_config("single-branch")), {})
    data = write_scene_dataset(root / "scenes", count=3, height=70, width=52)
    return {"full": full, "single": single, "data": data}


def test_person_box_widens_the_mask_box_and_is_square():
    mask = np.zeros((100, 80), bool)
    mask[20:80, 30:50] = True  # 60 tall, 20 wide
    top, left, side = person_box(mask)
    assert side == round(60 * 1.2)  # height * (1 + 2 * 10 %) beats width * (1 + 2 * 25 %)
    assert (top + side / 2, left + side / 2) == pytest.approx((50, 40), abs=0.5)
    assert person_box(np.zeros((30, 50), bool)) == (-10, 0, 50)  # empty mask: the whole image, centred


def test_crop_and_uncrop_are_inverse_on_a_linear_ramp():
    h, w = 90, 70
    v, u = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = 0.01 * u + 0.02 * v
    box = (10, 5, 60)
    crop = resize_chw(torch.from_numpy(cut(ramp, box)[None]), 40, "area")
    back = uncrop(crop, box, h, w, fill=-1.0)[0].numpy()
    inside = np.zeros((h, w), bool)
    inside[10:70, 5:65] = True
    interior = np.zeros((h, w), bool)
    interior[12:68, 7:63] = True  # away from the bilinear border clamp
    assert np.abs(back - ramp)[interior].max() < 1e-3  # < 0.1 px of the ramp (antialiased resampling)
    assert np.all(back[~inside] == -1.0)
    # a point maps to the crop coordinate where the same value sits
    uv = to_crop_coords(np.array([[30.0, 40.0]]), box, 40)[0]
    assert crop[0, int(round(uv[1])), int(round(uv[0]))].item() == pytest.approx(0.01 * 30 + 0.02 * 40, abs=0.02)
    img = crop_image(np.full((h, w, 3), 255, np.uint8), (-20, -20, 40), 16)
    assert img.shape == (3, 16, 16) and float(img[:, 0, 0].max()) == 0.0
    assert float(img[:, -1, -1].min()) == pytest.approx(1.0)


def test_run_reference_writes_a_valid_predictions_file(checkpoints, tmp_path):
    ds = open_dataset(checkpoints["data"])
    out = run_baseline("reference", ds, tmp_path / "ref.h5", options={"checkpoint": str(checkpoints["full"])},
                       progress=False)
    with Predictions(out) as preds:
        assert preds.method == "reference" and preds.depth_kind == "relative"
        assert preds.ids == ds.ids
        validate_predictions(ds, preds)
        for sid in ds.ids:
            d, n = preds.depth(sid), preds.normal(sid)
            assert d.shape == (70, 52) and d.dtype == np.float32 and np.all(np.isfinite(d))
            assert n.shape == (70, 52, 3) and np.all(np.isfinite(n))
            norms = np.linalg.norm(n, axis=-1)
            assert np.all((np.abs(norms - 1) < 1e-4) | (norms == 0))
            assert np.all(n[norms > 0][:, 2] < 0)  # facing the camera
            assert -0.6 <= d.min() and d.max() <= 0.6 + 1e-5  # the base bins' range (+ the /100 detail)


@pytest.mark.parametrize("name", ["reference-no-refine", "reference-geonet-refine"])
def test_inference_only_ablations_run_a_full_checkpoint(checkpoints, name):
    ds = open_dataset(checkpoints["data"])
    base = ReferenceBaseline(checkpoint=checkpoints["full"], crop="mask")
    from humandepth.baselines.registry import get_baseline

    method = get_baseline(name).create(checkpoint=checkpoints["full"], crop="mask")
    samples = [ds[0]]
    (d_full, n_full), = base.predict(samples)
    (d_var, n_var), = method.predict(samples)
    assert np.array_equal(n_full, n_var)  # same network, only the refinement differs
    assert d_var.shape == d_full.shape and not np.array_equal(d_var, d_full)


def test_variant_needs_a_matching_checkpoint(checkpoints):
    with pytest.raises(ValueError, match="trained as 'full'"):
        ReferenceBaseline(checkpoint=checkpoints["full"], variant="single-branch")
    single = ReferenceBaseline(checkpoint=checkpoints["single"], variant="single-branch", crop="mask")
    (depth, _), = single.predict([rippled_scene("x", 9, height=40, width=64)])
    assert depth.shape == (40, 64)
    with pytest.raises(ValueError, match="unknown reference variant"):
        ReferenceBaseline(checkpoint=checkpoints["full"], variant="bogus")
    with pytest.raises(ValueError, match="unknown crop source"):
        ReferenceBaseline(checkpoint=checkpoints["full"], crop="box")
    with pytest.raises(ValueError, match="crop_passes"):
        ReferenceBaseline(checkpoint=checkpoints["full"], crop_passes=0)


def test_segmentation_crop_passes_each_see_the_previous_box(checkpoints, monkeypatch):
    base = ReferenceBaseline(checkpoint=checkpoints["full"], crop_passes=3)
    s = rippled_scene("x", 2, height=80, width=64)
    seen = []
    original = base.person_mask

    def spy(rgb, box=None):
        seen.append(box)
        return original(rgb, box) | s.mask  # a person is always found, so every pass runs

    monkeypatch.setattr(base, "person_mask", spy)
    (box,) = base.boxes([s])
    assert len(seen) == 3 and seen[0] is None and seen[1] is not None and box == person_box(spy(s.rgb, seen[2]))


def test_gt_mask_crop_puts_background_outside_the_box(checkpoints):
    s = rippled_scene("x", 4, height=120, width=90)
    (depth, normal), = ReferenceBaseline(checkpoint=checkpoints["full"], crop="mask").predict([s])
    widest = max(scale for scale, _ in predict_module.TTA_VIEWS["flip-scale"])  # the default views' widest box
    top, left, side = scale_box(person_box(s.mask), widest)
    outside = np.ones(s.mask.shape, bool)
    outside[max(top, 0):top + side, max(left, 0):left + side] = False
    assert outside.any() and np.all(depth[outside] == pytest.approx(0.60))
    assert np.all(normal[outside] == 0)


def test_missing_checkpoint_says_how_to_get_one(monkeypatch, tmp_path):
    monkeypatch.setattr(predict_module, "SHIPPED", tmp_path / "none")
    with pytest.raises(FileNotFoundError, match="baselines train reference"):
        ReferenceBaseline()


def test_shipped_checkpoint_is_small_documented_and_runs():
    shipped = predict_module.default_checkpoint()
    assert (shipped / "model.safetensors").is_file(), "the package must ship the small checkpoint"
    assert (shipped / "model.safetensors").stat().st_size <= 20 * 2**20
    assert not (shipped / "train_state.pt").exists()
    readme = (shipped / "README.md").read_text()
    method = ReferenceBaseline()  # the default: the shipped checkpoint
    training = method.config["training"]
    assert training["complete"] and training["command"].startswith("humandepth baselines train reference")
    assert training["seed"] == method.config["train"]["seed"] and training["data"]["checksum"] in readme
    assert (shipped / "log.csv").read_text().count("\n") > 10
    (depth, normal), = method.predict([rippled_scene("x", 1, height=96, width=80)])
    assert depth.shape == (96, 80) and normal.shape == (96, 80, 3) and np.all(np.isfinite(depth))


def test_extend_person_depth_copies_the_nearest_person_pixel():
    from humandepth.baselines.reference.predict import extend_person_depth

    depth = torch.full((6, 7), 0.60)
    person = torch.zeros(6, 7, dtype=torch.bool)
    person[2:4, 1:3] = True
    depth[2:4, 1:3] = torch.tensor([[0.1, 0.2], [0.3, 0.4]])
    out = extend_person_depth(depth, person)
    assert torch.equal(out[person], depth[person])  # the person is untouched
    assert out[0, 0] == pytest.approx(0.1) and out[5, 6] == pytest.approx(0.4) and out[2, 6] == pytest.approx(0.2)
    assert float(out.max()) <= 0.4 + 1e-6  # no background value is left inside the crop
    assert torch.equal(extend_person_depth(depth, torch.zeros_like(person)), depth)


def test_a_variant_without_its_checkpoint_says_how_to_train_one(monkeypatch, tmp_path):
    monkeypatch.setattr(predict_module, "SHIPPED", tmp_path / "small")  # an install whose checkpoints are gone
    with pytest.raises(FileNotFoundError, match="--variant no-priors"):
        ReferenceBaseline(variant="no-priors")


@pytest.mark.parametrize("variant", ["single-branch", "no-priors"])
def test_trained_ablations_default_to_their_own_shipped_checkpoint(variant):
    ckpt = predict_module.default_checkpoint(variant)
    assert ckpt != predict_module.default_checkpoint("full") == predict_module.default_checkpoint("no-refine")
    assert (ckpt / "model.safetensors").is_file(), f"the package must ship the {variant} checkpoint"
    method = ReferenceBaseline(variant=variant)
    assert method.model.cfg.architecture == variant and method.config["training"]["complete"]
    assert (ckpt / "model.safetensors").stat().st_size <= 20 * 2**20 and not (ckpt / "train_state.pt").exists()


def test_a_run_that_crops_with_the_true_mask_is_marked_as_reading_it(tmp_path):
    from humandepth.data import Predictions, open_dataset

    ds = open_dataset(write_scene_dataset(tmp_path / "ds", 1))
    plain = run_baseline("reference-no-refine", ds, tmp_path / "seg.h5", progress=False)
    oracle = run_baseline("reference-no-refine", ds, tmp_path / "mask.h5", options={"crop": "mask"}, progress=False)
    with Predictions(plain) as p, Predictions(oracle) as q:
        assert p.attrs["oracle_uses_gt"] == "" and q.attrs["oracle_uses_gt"] == "mask"


def _mirrored(sample):
    return dataclasses.replace(sample, rgb=np.ascontiguousarray(sample.rgb[:, ::-1]))


def test_test_time_views_average_the_mirror_image_and_a_wider_box(checkpoints):
    sample = rippled_scene("v", 5, height=64, width=64)
    box = (12, 12, 40)  # centred: the mirror image has the same box, and so has the 10 % wider one (10, 10, 44)
    preds = {}
    for tta in ("none", "flip", "flip-scale"):
        b = ReferenceBaseline(checkpoint=checkpoints["full"], tta=tta)
        (d, n), = b.predict_in_boxes([sample], [box])
        (dm, nm), = b.predict_in_boxes([_mirrored(sample)], [box])
        preds[tta] = (d, n, dm, nm)
        assert np.all(d[:10] == np.float32(0.60)) and np.all(n[:10] == 0)  # outside every view's box
        symmetric = np.allclose(dm, d[:, ::-1], atol=1e-5) and np.allclose(nm, n[:, ::-1] * [-1, 1, 1], atol=1e-4)
        # a view and its mirror image together see the mirrored sample as the mirror of the sample
        assert symmetric == (tta != "none"), tta
    d1, _, d1m, _ = preds["none"]
    inside = np.zeros((64, 64), bool)
    inside[12:52, 12:52] = True
    expected = 0.5 * (d1 + d1m[:, ::-1])
    assert np.allclose(preds["flip"][0][inside], expected[inside], atol=1e-5)
    ring = np.zeros((64, 64), bool)
    ring[10:54, 10:54] = True
    ring &= ~inside  # only the wider views cover it: their mean, never the background value
    assert np.all(np.abs(preds["flip-scale"][0][ring] - 0.60) > 1e-6)


def test_test_time_views_are_checked_and_recorded(checkpoints, tmp_path, capsys):
    from humandepth.cli import main

    with pytest.raises(ValueError, match="unknown test-time views 'twice'"):
        ReferenceBaseline(checkpoint=checkpoints["full"], tta="twice")
    ds = open_dataset(checkpoints["data"])
    out = run_baseline("reference", ds, tmp_path / "one.h5",
                       options={"checkpoint": str(checkpoints["full"]), "tta": "none"}, progress=False)
    with Predictions(out) as preds:
        assert preds.attrs["setting.tta"] == "none" and preds.attrs["setting.crop"] == "segmentation"
    rc = main(["baselines", "run", "plane", "--dataset", str(checkpoints["data"]), "--out", str(tmp_path / "p.h5"),
               "--tta", "flip"])
    assert rc != 0 and "takes no --tta" in capsys.readouterr().err
    assert not (tmp_path / "p.h5").exists()

"""Published-model adapters (transformers, DAViD ONNX, Sapiens TorchScript) on tiny models with random or exact
weights written in the real file formats: load, preprocess, predict, resize back, predictions file, benchmark."""

import numpy as np
import pandas as pd
import pytest
from data_helpers import plane_sample

from humandepth.baselines.models import tiny
from humandepth.baselines.models.common import ModelError, parse_axes, require
from humandepth.baselines.registry import MODEL_BASELINES, get_baseline
from humandepth.baselines.run import run_baseline
from humandepth.benchmark import make_protocol, run_benchmark, validate_predictions
from humandepth.benchmark.protocols import PROTOCOL_NAMES
from humandepth.cli import main
from humandepth.data import Predictions, Sample, open_dataset, write_samples

H, W = 40, 56  # landscape, not a multiple of any patch size: exercises aspect handling and the resize back


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = write_samples(tmp_path_factory.mktemp("ds") / "planes", [plane_sample(i, h=H, w=W) for i in range(3)],
                         name="planes", kind="synthetic")
    return open_dataset(root)


def ramp_dataset(root) -> tuple:
    """One sample whose R, G and B channels are different linear ramps (exact under bilinear/bicubic resizing)."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    ramps = np.stack([30 + 3 * u, 200 - 2 * v, 20 + 2 * u + 3 * v], axis=-1)  # R, G, B on the 0..255 scale
    s = plane_sample(0, h=H, w=W)
    s = Sample(id="ramp", rgb=ramps.round().astype(np.uint8), depth=s.depth, mask=s.mask, camera=s.camera,
               normal=s.normal)
    return open_dataset(write_samples(root, [s], name="ramp", kind="synthetic")), ramps.round()


def score_all_that_fit(ds, preds, out_dir) -> dict:
    """Validate and score under every protocol defined for the file's depth_kind (as the demo does)."""
    with Predictions(preds) as p:
        validate_predictions(ds, p)
        kind = p.depth_kind
    protocols = [n for n in PROTOCOL_NAMES if kind in make_protocol(n).depth_kinds]
    summary = run_benchmark(ds, preds, protocols, out_dir, progress=False, bootstrap_resamples=50, n_thumbnails=1)
    assert list(summary["protocols"]) == protocols
    return summary


def run_cli(*args) -> int:
    return main(["baselines", "run", *map(str, args)])


# ---------------------------------------------------------------------------------------------- listing, weights


def test_list_shows_each_model_with_licence_weights_and_what_it_reads(capsys):
    assert main(["baselines", "list"]) == 0
    out = capsys.readouterr().out
    for name, e in MODEL_BASELINES.items():
        block = out[out.index(f"\n{name} "):]
        assert e.licence in block and e.weights_from in block and "reads: the RGB image only" in block
    assert "CC-BY-NC-4.0" in out and "MIT" in out and "--weights PATH" in out


@pytest.mark.parametrize("name", list(MODEL_BASELINES))
def test_without_weights_one_line_names_the_option_and_the_source(tmp_path, dataset, name, capsys, monkeypatch):
    monkeypatch.delenv("HUMANDEPTH_WEIGHTS", raising=False)
    assert run_cli(name, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--weights PATH" in err and f"baseline {name!r}" in err
    assert get_baseline(name).weights_from in err
    assert not list(tmp_path.iterdir())


def test_a_wrong_weights_path_and_an_option_a_baseline_does_not_take(tmp_path, dataset, capsys):
    out = tmp_path / "p.h5"
    assert run_cli("david", "--weights", tmp_path / "nope.onnx", "--dataset", dataset.root, "--out", out) == 2
    err = capsys.readouterr().err
    assert "--weights" in err and "nope.onnx: no such file" in err and "aka.ms/DAViD" in err
    assert run_cli("zoedepth", "--weights", tmp_path, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    assert "has no config.json: not a transformers model folder" in capsys.readouterr().err
    assert run_cli("plane", "--weights", "x", "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    assert "baseline 'plane' takes no --weights" in capsys.readouterr().err
    assert run_cli("dpt", "--input-size", "8x8", "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    assert "baseline 'dpt' takes no --input-size" in capsys.readouterr().err
    assert not (tmp_path / "p.h5").exists()


def test_weights_from_the_yaml_file_named_by_the_environment(tmp_path, dataset, monkeypatch):
    onnx_file = tiny.save_tiny_david(tmp_path / "multi.onnx", "multitask", size=64)
    table = tmp_path / "weights.yaml"
    table.write_text(f"david:\n  weights: {onnx_file}\nsapiens: /nowhere.pt2\n")
    monkeypatch.setenv("HUMANDEPTH_WEIGHTS", str(table))
    out = run_baseline("david", dataset, tmp_path / "d.h5", progress=False)
    with Predictions(out) as p:
        assert p.depth_kind == "relative" and p.has_normals("s000")
    with pytest.raises(ModelError, match=r"--weights /nowhere.pt2: no such file"):
        run_baseline("sapiens", dataset, tmp_path / "s.h5", progress=False)
    table.write_text("david: [1, 2\n")
    with pytest.raises(ModelError, match="is not valid YAML"):
        run_baseline("david", dataset, tmp_path / "d2.h5", progress=False)


def test_option_parsing_and_missing_packages_are_one_line_errors():
    assert parse_axes("x,-y,-z")[0] == (0, 1, 2) and parse_axes("-z,x,y")[0] == (2, 0, 1)
    for bad in ("x,y", "x,x,z", "x,y,w", "xy,y,z"):
        with pytest.raises(ModelError, match="--normal-axes must name x, y and z"):
            parse_axes(bad)
    with pytest.raises(ModelError, match=r"needs the Python package 'no_such_pkg': pip install 'humandepth\[models\]'"):
        require("no_such_pkg.sub", "david")


# ---------------------------------------------------------------------------------------------- transformers

KINDS = [("depth_anything", False, "inverse_relative", "depth-anything-v2"),
         ("depth_anything", True, "metric", "depth-anything-v2"),
         ("dpt", False, "inverse_relative", "dpt"),
         ("zoedepth", False, "metric", "zoedepth"),
         ("glpn", False, "metric", "hf-depth"),
         ("depth_pro", False, "metric", "depth-pro")]


@pytest.mark.parametrize("model_type,metric,kind,name", KINDS)
def test_transformers_folder_predicts_at_the_dataset_resolution_and_is_scored_by_its_kind(
        tmp_path, dataset, model_type, metric, kind, name):
    folder = tiny.save_tiny_transformers(tmp_path / "model", model_type, metric=metric)
    assert run_cli(name, "--weights", folder, "--device", "cpu", "--dataset", dataset.root,
                   "--out", tmp_path / "p.h5") == 0
    with Predictions(tmp_path / "p.h5") as p:
        assert p.depth_kind == kind and p.method == name and len(p.attrs["weights_sha256"]) == 64
        for sid in dataset.ids:
            d = p.depth(sid)
            assert d.shape == (H, W) and d.dtype == np.float32 and np.isfinite(d).all() and np.ptp(d) > 0
            assert not p.has_normals(sid)
    summary = score_all_that_fit(dataset, tmp_path / "p.h5", tmp_path / "run")
    assert ("metric" in summary["protocols"]) == (kind == "metric")
    assert ("tang2019" in summary["protocols"]) == (kind != "inverse_relative")
    assert np.isfinite(summary["protocols"]["affine"]["metrics"]["absrel"])


def test_depth_anything_input_size_is_its_authors_lower_bound_resize():
    from humandepth.baselines.models.hf import depth_anything_input_size

    assert depth_anything_input_size(480, 640, 518) == (518, 686)  # shorter side 518; 690.7 -> 686 (49 x 14)
    assert depth_anything_input_size(40, 56, 518) == (518, 728)  # small images are enlarged, not fitted inside
    assert depth_anything_input_size(720, 1280, 518) == (518, 924)  # 920.9 -> 924 (66 x 14)
    assert depth_anything_input_size(40, 56, 70) == (70, 98)


def test_transformers_adapter_matches_the_libraries_own_pipeline(tmp_path, dataset):
    import torch
    import transformers as T

    from humandepth.baselines.models.hf import TransformersDepthBaseline

    folder = tiny.save_tiny_transformers(tmp_path / "m", "dpt")
    rgb = dataset.get("s001").rgb
    proc = T.AutoImageProcessor.from_pretrained(folder)
    model = T.AutoModelForDepthEstimation.from_pretrained(folder).eval()
    pixels = proc(images=rgb, return_tensors="pt")["pixel_values"]
    assert pixels.shape[-2:] == (64, 64)
    with torch.no_grad():
        want = proc.post_process_depth_estimation(model(pixel_values=pixels), target_sizes=[(H, W)])
    got, normal = TransformersDepthBaseline(folder, device="cpu").predict_rgb(rgb)
    np.testing.assert_allclose(got, want[0]["predicted_depth"].numpy(), rtol=1e-5, atol=1e-6)
    assert normal is None


def test_transformers_wrong_model_kind_and_wrong_input_size(tmp_path, dataset, capsys):
    zoe = tiny.save_tiny_transformers(tmp_path / "zoe", "zoedepth")
    assert run_cli("depth-anything-v2", "--weights", zoe, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith("holds a 'zoedepth' model; baseline 'depth-anything-v2' runs 'depth_anything' "
                        "depth-estimation models") and len(err.splitlines()) == 1
    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "config.json").write_text('{"model_type": "vit"}')
    vit = tmp_path / "vit"
    assert run_cli("hf-depth", "--weights", vit, "--dataset", dataset.root, "--out", tmp_path / "x.h5") == 2
    assert "holds a 'vit' model; baseline 'hf-depth' runs 'depth_anything' or 'dpt'" in capsys.readouterr().err
    pro = tiny.save_tiny_transformers(tmp_path / "pro", "depth_pro", size=128)
    cfg = (pro / "preprocessor_config.json").read_text().replace('"height": 128', '"height": 256')
    (pro / "preprocessor_config.json").write_text(cfg.replace('"width": 128', '"width": 256'))
    assert run_cli("depth-pro", "--weights", pro, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
    assert "input size 256x256 does not fit the model, whose patch encoder needs 128x128" in capsys.readouterr().err
    assert not (tmp_path / "p.h5").exists()


# ---------------------------------------------------------------------------------------------- DAViD (ONNX)


def test_david_reads_bgr_in_0_1_pads_to_a_square_and_comes_back_aligned(tmp_path):
    ds, ramps = ramp_dataset(tmp_path / "ramp")
    # depth = the input's first channel (B of BGR); normal = a constant (0, 0, 1) in the model's axes
    onnx_file = tiny.save_tiny_david(tmp_path / "m.onnx", "multitask", depth_weights=[1, 0, 0],
                                     normal_weights=np.zeros((3, 3)), normal_bias=[0, 0, 1])
    out = run_baseline("david", ds, tmp_path / "p.h5", options={"weights": onnx_file}, progress=False)
    with Predictions(out) as p:
        depth, normal = p.depth("ramp"), p.normal("ramp")
    assert depth.shape == (H, W) and normal.shape == (H, W, 3)
    inner = (slice(3, -3), slice(3, -3))  # bicubic reaches 2 px past the edge-padded border
    np.testing.assert_allclose(depth[inner], ramps[..., 2][inner] / 255, atol=2e-3)
    # default axes x,-y,-z: the model's +z (towards the camera) is OpenCV's -z
    np.testing.assert_allclose(normal, np.broadcast_to([0, 0, -1], normal.shape), atol=1e-6)
    out = run_baseline("david", ds, tmp_path / "q.h5", options={"weights": onnx_file, "normal_axes": "x,y,z"},
                       progress=False)
    with Predictions(out) as p:
        np.testing.assert_allclose(p.normal("ramp"), np.broadcast_to([0, 0, 1], normal.shape), atol=1e-6)


def test_david_depth_plus_normal_models_are_scored_with_their_normals(tmp_path, dataset):
    depth = tiny.save_tiny_david(tmp_path / "depth.onnx", "depth", size=128)
    normal = tiny.save_tiny_david(tmp_path / "normal.onnx", "normal", size=128, seed=1)
    assert run_cli("david", "--weights", depth, "--normal-weights", normal, "--dataset", dataset.root,
                   "--out", tmp_path / "p.h5") == 0
    with Predictions(tmp_path / "p.h5") as p:
        n = p.normal("s000")
        np.testing.assert_allclose(np.linalg.norm(n, axis=-1), 1, atol=1e-4)
    summary = score_all_that_fit(dataset, tmp_path / "p.h5", tmp_path / "run")
    assert set(summary["protocols"]) == {"tang2019", "affine", "detail"}
    per = pd.read_csv(tmp_path / "run" / "per_sample.csv")
    assert (per["detail.normals_submitted"] == 1).all() and per["detail.normal_mean_deg"].notna().all()


def test_david_wrong_kind_wrong_input_size_and_not_onnx(tmp_path, dataset, capsys):
    normal = tiny.save_tiny_david(tmp_path / "normal.onnx", "normal", size=64)
    depth = tiny.save_tiny_david(tmp_path / "depth.onnx", "depth", size=64)
    multi = tiny.save_tiny_david(tmp_path / "multi.onnx", "multitask", size=64)
    oblong = tiny.save_tiny_david(tmp_path / "oblong.onnx", "depth", size=(64, 48))
    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    cases = [(("--weights", normal), "is a DAViD normal model (one (1, 3, S, S) output): give it as --normal-weights"),
             (("--weights", depth, "--normal-weights", depth), "is a DAViD depth model, not a normal model"),
             (("--weights", multi, "--normal-weights", normal), "is the multi-task model, which predicts normals"),
             (("--weights", oblong), "takes 64x48 images; DAViD models take a square input"),
             (("--weights", tmp_path / "junk.onnx"), "is not an ONNX model onnxruntime can load"),
             (("--weights", depth, "--normal-axes", "x,y"), "--normal-axes must name x, y and z")]
    for args, message in cases:
        assert run_cli("david", *args, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "p.h5").exists()


# ---------------------------------------------------------------------------------------------- Sapiens (TorchScript)


def test_sapiens_reads_rgb_normalised_at_1024x768_and_comes_back_aligned(tmp_path):
    ds, ramps = ramp_dataset(tmp_path / "ramp")
    depth = tiny.save_tiny_sapiens(tmp_path / "d.pt2", "depth", channel=0)  # the R channel, 0..255
    normal = tiny.save_tiny_sapiens(tmp_path / "n.pt2", "normal", channel=1)  # G in every channel
    out = run_baseline("sapiens", ds, tmp_path / "p.h5", options={"weights": depth, "normal_weights": normal},
                       progress=False)
    with Predictions(out) as p:
        d, n = p.depth("ramp"), p.normal("ramp")
        assert p.depth_kind == "relative"
    inner = (slice(1, -1), slice(1, -1))
    np.testing.assert_allclose(d[inner], ramps[..., 0][inner], atol=0.05)
    # (g, g, g) / |.| in the model's axes x,-y,-z -> OpenCV (1, -1, -1) / sqrt(3)
    np.testing.assert_allclose(n, np.broadcast_to(np.array([1, -1, -1]) / np.sqrt(3), n.shape), atol=1e-4)
    summary = score_all_that_fit(ds, out, tmp_path / "run")
    assert set(summary["protocols"]) == {"tang2019", "affine", "detail"}


def test_sapiens_input_size_wrong_kind_and_not_torchscript(tmp_path, dataset, capsys):
    fixed = tiny.save_tiny_sapiens(tmp_path / "fixed.pt2", "depth", expect_size=(64, 48))
    normal = tiny.save_tiny_sapiens(tmp_path / "normal.pt2", "normal")
    (tmp_path / "junk.pt2").write_bytes(b"not a model")
    cases = [(("--weights", fixed), "rejects a 1x3x1024x768 input (position embeddings are for 64x48 inputs); give "
              "the size it was exported for with --input-size HxW"),
             (("--weights", fixed, "--input-size", "64by48"), "--input-size must be HEIGHTxWIDTH"),
             (("--weights", normal), "is a Sapiens normal model (3 output channels): give it as --normal-weights"),
             (("--weights", tmp_path / "junk.pt2"), "is neither a TorchScript nor a torch.export file")]
    for args, message in cases:
        assert run_cli("sapiens", *args, "--dataset", dataset.root, "--out", tmp_path / "p.h5") == 2
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "p.h5").exists()
    assert run_cli("sapiens", "--weights", fixed, "--input-size", "64x48", "--dataset", dataset.root,
                   "--out", tmp_path / "p.h5") == 0
    with Predictions(tmp_path / "p.h5") as p:
        assert p.depth("s002").shape == (H, W) and not p.has_normals("s002")

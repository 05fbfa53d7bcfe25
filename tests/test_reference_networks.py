"""Shapes and invariants of every sub-network of the reference network (Tang et al. 2019)."""

import pytest
import torch
from reference_helpers import one_thread, tiny_model_config

from humandepth.baselines.reference.config import (
    DEPTH_BIN_M,
    JOINT_BINS,
    N_JOINTS,
    N_PARTS,
    ModelConfig,
    preset,
)
from humandepth.baselines.reference.model import ReferenceNet
from humandepth.baselines.reference.subnets import (
    DepthNet,
    NormalNet,
    SegmentationNet,
    SkeletonNet,
    depth_bin_values,
    soft_argmax_depth,
    soft_argmax_joints,
)

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return tiny_model_config()


def test_skeleton_and_segmentation_shapes(tiny):
    x = torch.rand(2, 3, 64, 64)
    vols, feat = SkeletonNet(tiny)(x)
    assert len(vols) == tiny.hg_stacks
    assert all(v.shape == (2, N_JOINTS * JOINT_BINS, 16, 16) for v in vols)
    assert feat.shape == (2, tiny.hg_features, 16, 16)
    parts, _ = SegmentationNet(tiny)(x)
    assert [tuple(p.shape) for p in parts] == [(2, N_PARTS, 16, 16)] * tiny.hg_stacks


def test_soft_argmax_joints_reads_a_peaked_volume():
    vol = torch.full((1, N_JOINTS * JOINT_BINS, 16, 16), -50.0)
    for j in range(N_JOINTS):
        vol[0, j * JOINT_BINS + (j % JOINT_BINS), j % 16, (3 * j) % 16] = 50.0
    out = soft_argmax_joints(vol)
    assert out.shape == (1, N_JOINTS, 3)
    for j in range(N_JOINTS):
        assert out[0, j].tolist() == pytest.approx([(3 * j) % 16, j % 16, j % JOINT_BINS], abs=1e-3)


def test_depth_bins_and_soft_argmax():
    bins = depth_bin_values()
    assert bins.shape == (20,)
    assert bins[0].item() == pytest.approx(-9 * DEPTH_BIN_M) and bins[-1].item() == pytest.approx(0.60)
    logits = torch.full((1, 20, 2, 2), -40.0)
    logits[0, 3] = 40.0
    assert torch.allclose(soft_argmax_depth(logits), torch.full((1, 1, 2, 2), (3 - 9) * DEPTH_BIN_M))


@pytest.mark.parametrize("arch,channels", [("full", 322), ("no-priors", 3), ("single-branch", 322)])
def test_depth_net_branches(arch, channels):
    cfg = tiny_model_config(arch)
    assert cfg.depth_input_channels == channels
    net = DepthNet(cfg).eval()  # the 64-px tiny net ends at 1x1: BatchNorm needs eval mode for batch 1
    with torch.no_grad():
        out = net(torch.rand(1, channels, 64, 64))
    for k in ("base", "detail", "composed"):
        assert out[k].shape == (1, 1, 64, 64)
    assert out["base_logits"].shape == (1, 20, 64, 64)
    assert torch.allclose(out["composed"], out["base"] + out["detail"])
    assert float(out["base"].min()) >= -0.54 - 1e-6 and float(out["base"].max()) <= 0.60 + 1e-6
    if arch == "single-branch":
        assert torch.count_nonzero(out["detail"]) == 0
    else:
        assert torch.count_nonzero(out["detail"]) > 0


def test_paper_depth_net_takes_322_channels_and_downsamples_five_times():
    cfg, _ = preset("paper")
    assert (cfg.input_size, cfg.heatmap_size, cfg.hg_features, cfg.hg_stacks) == (256, 64, 256, 2)
    net = DepthNet(cfg)
    assert net.stem[0][0].in_channels == 322
    assert len(net.trunk.downs) == 5
    assert all(d[0].stride == (2, 2) for d in net.trunk.downs)


def test_normal_net_gives_unit_normals_facing_the_camera(tiny):
    n = NormalNet(tiny)(torch.rand(2, 3, 64, 64), torch.ones(2, 1, 64, 64))
    assert n.shape == (2, 3, 64, 64)
    assert torch.allclose(n.norm(dim=1), torch.ones(2, 64, 64), atol=1e-5)
    assert bool((n[:, 2] < 0).all())


@pytest.mark.parametrize("refinement", ["tang", "geonet", "none"])
def test_whole_network_outputs(tiny, refinement):
    net = ReferenceNet(tiny).eval()
    with torch.no_grad():
        out = net(torch.rand(1, 3, 64, 64), refinement=refinement)
    assert out["joints"].shape == (1, 16, 3)
    assert out["mask"].shape == (1, 1, 64, 64) and out["mask"].dtype == torch.bool
    assert out["depth"].shape == (1, 1, 64, 64) and bool(torch.isfinite(out["depth"]).all())
    if refinement == "none":
        assert torch.equal(out["depth"], out["composed"])


def test_the_mask_head_gives_the_silhouette_downstream():
    cfg = ModelConfig.from_dict({**tiny_model_config().to_dict(), "mask_head": True})
    torch.manual_seed(0)
    net = ReferenceNet(cfg).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = net(x, refinement="none")
        assert out["mask_logit"].shape == (1, 1, 64, 64) and out["mask_logit"].dtype == torch.float32
        assert torch.equal(out["mask"], out["mask_logit"] > 0)
        given = torch.zeros(1, 1, 64, 64, dtype=torch.bool)
        given[..., 10:50, 20:40] = True
        assert torch.equal(net(x, mask=given, refinement="none")["mask"], given)  # a given mask wins
    assert "mask_logit" not in ReferenceNet(tiny_model_config()).eval()(x, refinement="none")


def test_the_refinement_settings_of_the_config_reach_the_layer():
    from humandepth.baselines.reference.refine import tang_refine

    x = torch.rand(1, 3, 64, 64)
    for iterations, lam in ((0, 0.2), (3, 0.5)):
        cfg = ModelConfig.from_dict({**tiny_model_config().to_dict(), "refine_iterations": iterations,
                                     "refine_lambda": lam})
        torch.manual_seed(0)
        with torch.no_grad():
            out = ReferenceNet(cfg).eval()(x, refinement="tang")
        want = tang_refine(out["composed"], out["normal"], out["mask"], iterations, lam)
        assert torch.equal(out["depth"], want)
        assert torch.equal(out["depth"], out["composed"]) == (iterations == 0)


def test_no_priors_network_has_no_skeleton_and_wrong_input_size_is_refused():
    net = ReferenceNet(tiny_model_config("no-priors"))
    assert net.skeleton is None
    with pytest.raises(ValueError, match="expects \\(64, 64\\)"):
        net(torch.rand(1, 3, 32, 32))


def test_config_validation():
    with pytest.raises(ValueError, match="architecture"):
        ModelConfig(architecture="bogus")
    with pytest.raises(ValueError, match="divisible"):
        ModelConfig(input_size=100)
    with pytest.raises(ValueError, match="refine_iterations"):
        ModelConfig(refine_iterations=-1)
    with pytest.raises(ValueError, match="refine_lambda"):
        ModelConfig(refine_lambda=1.5)
    with pytest.raises(ValueError, match="unknown reference config"):
        preset("huge")
    with pytest.raises(ValueError, match="unknown reference variant"):
        preset("small", "bogus")
    small, _ = preset("small", "no-refine")
    assert small.architecture == "full" and small.input_size == 128

"""Tiny models with random (or given) weights in each adapter's file format, through the same libraries.

Used by the tests and ``benchmarks/bench_models.py``, and handy to check an install offline: each function writes
what the real model's download holds, so the adapter's whole path (load, preprocess, predict, resize back) runs
on it.  None of these models predicts anything meaningful.

- :func:`save_tiny_transformers`: ``save_pretrained`` of a small Depth Anything / DPT / ZoeDepth / GLPN / Depth Pro
  config with its image processor (``preprocessor_config.json``).
- :func:`save_tiny_david`: an ONNX graph with DAViD's layout (one (1, 3, S, S) input; outputs (1, S, S) depth,
  (1, 3, S, S) normals, or the multi-task three).
- :func:`save_tiny_sapiens`: a scripted module (``torch.jit.save``) with Sapiens' layout ((1, 3, H, W) in,
  (1, C, H/2, W/2) out).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
TRANSFORMERS_TYPES = ("depth_anything", "dpt", "zoedepth", "glpn", "depth_pro")


def _vit(**kw) -> dict:
    return dict(hidden_size=32, num_hidden_layers=4, num_attention_heads=2, intermediate_size=64, **kw)


def _stages() -> dict:
    return dict(out_features=["stage1", "stage2", "stage3", "stage4"], reshape_hidden_states=False)


def _depth_anything(T, metric: bool, size: int):
    cfg = T.DepthAnythingConfig(backbone_config=T.Dinov2Config(**_vit(patch_size=14, image_size=56), **_stages()),
                                neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16, head_hidden_size=8,
                                reassemble_hidden_size=32, depth_estimation_type="metric" if metric else "relative",
                                max_depth=20 if metric else 1)
    # Depth-Anything-V2-*-hf: shorter side to 518, aspect kept, multiple of 14, bicubic, ImageNet mean/std
    proc = T.DPTImageProcessor(size={"height": size, "width": size}, keep_aspect_ratio=True, ensure_multiple_of=14,
                               resample=3, image_mean=IMAGENET_MEAN, image_std=IMAGENET_STD)
    return T.DepthAnythingForDepthEstimation(cfg), proc


def _dpt(T, size: int):
    cfg = T.DPTConfig(**_vit(image_size=64, patch_size=16), neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16,
                      backbone_out_indices=[0, 1, 2, 3], head_in_index=-1)
    # Intel/dpt-large: 384 x 384 (a plain ViT DPT needs a square input), bicubic, mean = std = 0.5
    proc = T.DPTImageProcessor(size={"height": size, "width": size}, keep_aspect_ratio=False, resample=3,
                               image_mean=[0.5] * 3, image_std=[0.5] * 3)
    return T.DPTForDepthEstimation(cfg), proc


def _zoedepth(T, size: int):
    backbone = T.BeitConfig(**_vit(image_size=64, patch_size=16), use_relative_position_bias=True, **_stages())
    cfg = T.ZoeDepthConfig(backbone_config=backbone, neck_hidden_sizes=[8, 16, 32, 32], fusion_hidden_size=16,
                           reassemble_hidden_size=32, bottleneck_features=16, num_attractors=[4, 4, 4, 4],
                           bin_embedding_dim=16, num_relative_features=8)
    # Intel/zoedepth-*: reflect padding, then 384 x 512 with the aspect kept, multiple of 32
    proc = T.ZoeDepthImageProcessor(size={"height": size, "width": size * 4 // 3}, keep_aspect_ratio=True,
                                    ensure_multiple_of=32, do_pad=True)
    return T.ZoeDepthForDepthEstimation(cfg), proc


def _glpn(T, size: int):
    cfg = T.GLPNConfig(hidden_sizes=[8, 16, 32, 32], num_attention_heads=[1, 1, 2, 2], depths=[1, 1, 1, 1],
                       decoder_hidden_size=16, head_in_index=-1)
    return T.GLPNForDepthEstimation(cfg), T.GLPNImageProcessor(size_divisor=32)


def _depth_pro(T, size: int):
    sub = dict(model_type="dinov2", **_vit(patch_size=16, image_size=size // 2))
    cfg = T.DepthProConfig(fusion_hidden_size=16, patch_size=size // 2, intermediate_hook_ids=[3, 1],
                           intermediate_feature_dims=[16, 16], scaled_images_ratios=[0.5, 1],
                           scaled_images_overlap_ratios=[0.0, 0.25], scaled_images_feature_dims=[32, 16],
                           use_fov_model=True, image_model_config=dict(sub), patch_model_config=dict(sub),
                           fov_model_config=dict(sub))
    # apple/DepthPro-hf: 1536 x 1536 bilinear, mean = std = 0.5 (its processor class needs torchvision: plain JSON)
    proc = {"image_processor_type": "DepthProImageProcessor", "do_resize": True,
            "size": {"height": size, "width": size}, "resample": 2, "do_rescale": True, "rescale_factor": 1 / 255,
            "do_normalize": True, "image_mean": [0.5] * 3, "image_std": [0.5] * 3}
    return T.DepthProForDepthEstimation(cfg), proc


def save_tiny_transformers(folder, model_type: str, seed: int = 0, metric: bool = False,
                           size: int | None = None) -> Path:
    """Write a tiny random ``model_type`` model folder (config.json, model.safetensors, preprocessor_config.json).

    ``size``: the processor's input size (default: small, for speed; the real models use 518 / 384 / 384x512 /
    1536).  ``metric`` makes a metric Depth Anything.
    """
    import transformers as T

    T.utils.logging.set_verbosity_error()  # not the notice that the PIL image processors stand in for torchvision's
    torch.manual_seed(seed)
    defaults = {"depth_anything": 70, "dpt": 64, "zoedepth": 64, "glpn": 64, "depth_pro": 128}
    size = size or defaults[model_type]
    if model_type == "depth_anything":
        model, proc = _depth_anything(T, metric, size)
    else:
        model, proc = {"dpt": _dpt, "zoedepth": _zoedepth, "glpn": _glpn, "depth_pro": _depth_pro}[model_type](T, size)
    with torch.no_grad():  # unit-variance activations (transformers' init, std 0.02, predicts a near-constant map)
        for p in model.parameters():
            if p.ndim > 1:
                p.normal_(0.0, 1.0 / np.sqrt(p[0].numel()))
        if model_type == "depth_pro":  # a positive inverse depth and a field of view near 60 degrees
            model.head.layers[4].bias.fill_(1.0)
            model.fov_model.head.layers[4].weight.mul_(0.01)
            model.fov_model.head.layers[4].bias.fill_(60.0)
    folder = Path(folder)
    model.eval().save_pretrained(folder)
    if isinstance(proc, dict):
        (folder / "preprocessor_config.json").write_text(json.dumps(proc, indent=2))
    else:
        proc.save_pretrained(folder)
    return folder


def save_tiny_david(path, role: str = "depth", size: int | tuple[int, int] = 512, seed: int = 0, depth_weights=None,
                    normal_weights=None, normal_bias=None) -> Path:
    """Write a DAViD-layout ONNX file: input ``image`` (1, 3, size, size) BGR in [0, 1]; ``role`` ``depth``
    (output (1, size, size)), ``normal`` ((1, 3, size, size)) or ``multitask`` (depth, normal, foreground).
    ``size`` may be (height, width) (DAViD's own models are square: a test of the adapter's refusal).

    By default each head is a random 3x3 conv (8 channels), ReLU, 1x1 conv.  ``depth_weights`` (3,) and
    ``normal_weights`` (3, 3) / ``normal_bias`` (3,) instead make exact 1x1 heads: depth = w . bgr, normal = W bgr + b.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    h, w = (size, size) if isinstance(size, int) else size
    nodes, inits = [], []

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr, np.float32), name))
        return name

    def head(name, out_c, w=None, b=None):
        if w is not None:
            wt = const(f"{name}_w", np.asarray(w, np.float32).reshape(out_c, 3, 1, 1))
            bt = const(f"{name}_b", np.zeros(out_c) if b is None else b)
            nodes.append(helper.make_node("Conv", ["image", wt, bt], [f"{name}_conv"]))
            return f"{name}_conv"
        w1 = const(f"{name}_w1", rng.normal(0, 0.3, (8, 3, 3, 3)))
        b1 = const(f"{name}_b1", rng.normal(0, 0.1, 8))
        w2 = const(f"{name}_w2", rng.normal(0, 0.3, (out_c, 8, 1, 1)))
        b2 = const(f"{name}_b2", 1.0 + rng.normal(0, 0.1, out_c))
        nodes.append(helper.make_node("Conv", ["image", w1, b1], [f"{name}_h"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"{name}_h"], [f"{name}_r"]))
        nodes.append(helper.make_node("Conv", [f"{name}_r", w2, b2], [f"{name}_conv"]))
        return f"{name}_conv"

    outputs = []
    if role in ("depth", "multitask"):
        d = head("depth", 1, depth_weights)
        inits.append(numpy_helper.from_array(np.array([1], np.int64), "squeeze_axes"))
        nodes.append(helper.make_node("Squeeze", [d, "squeeze_axes"], ["depth"]))
        outputs.append(helper.make_tensor_value_info("depth", TensorProto.FLOAT, [1, h, w]))
    if role in ("normal", "multitask"):
        n = head("normal", 3, normal_weights, normal_bias)
        nodes.append(helper.make_node("Identity", [n], ["normal"]))
        outputs.append(helper.make_tensor_value_info("normal", TensorProto.FLOAT, [1, 3, h, w]))
    if role == "multitask":
        f = head("foreground", 1)
        nodes.append(helper.make_node("Sigmoid", [f], ["foreground"]))
        outputs.append(helper.make_tensor_value_info("foreground", TensorProto.FLOAT, [1, 1, h, w]))
    if not outputs:
        raise ValueError(f"role must be depth, normal or multitask, got {role!r}")
    image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, h, w])
    graph = helper.make_graph(nodes, f"tiny-david-{role}", [image], outputs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return Path(path)


class _TinySapiens(nn.Module):
    """(1, 3, H, W) -> (1, C, H/2, W/2): a stride-2 3x3 conv, ReLU, 1x1 conv; or, with ``channel`` >= 0, the
    de-normalised input channel (0..255) average-pooled 2x2.  ``expect`` (h, w) > 0 rejects other input sizes,
    as a traced ViT with fixed position embeddings does."""

    def __init__(self, out_channels: int, channel: int = -1, expect_h: int = 0, expect_w: int = 0):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, out_channels, 1)
        self.channel, self.expect_h, self.expect_w = channel, expect_h, expect_w
        self.register_buffer("mean", torch.tensor([123.5, 116.5, 103.5]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([58.5, 57.0, 57.5]).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.expect_h > 0 and (x.shape[2] != self.expect_h or x.shape[3] != self.expect_w):
            raise RuntimeError(f"position embeddings are for {self.expect_h}x{self.expect_w} inputs")
        if self.channel >= 0:
            c = x * self.std + self.mean
            c = c[:, self.channel : self.channel + 1]
            return nn.functional.avg_pool2d(c, 2).repeat(1, self.conv2.out_channels, 1, 1)
        return self.conv2(torch.relu(self.conv1(x)))


def save_tiny_sapiens(path, role: str = "depth", seed: int = 0, channel: int = -1,
                      expect_size: tuple[int, int] | None = None) -> Path:
    """Write a scripted Sapiens-layout module (``torch.jit.save``): ``role`` ``depth`` (1 output channel) or
    ``normal`` (3).  ``channel`` >= 0: the output is that RGB input channel on the 0..255 scale (an exact check of
    the preprocessing); ``expect_size`` (h, w): the module rejects other input sizes."""
    torch.manual_seed(seed)
    h, w = expect_size or (0, 0)
    module = _TinySapiens({"depth": 1, "normal": 3}[role], channel, h, w).eval()
    with warnings.catch_warnings():  # TorchScript is deprecated in torch, but it is Sapiens-Lite's format
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(module), str(path))
    return Path(path)

"""Meta's Sapiens depth and normal models (ECCV 2024; CC-BY-NC-4.0), as released for Sapiens-Lite: TorchScript
files (``*_torchscript.pt2``, ``torch.jit.load``) or ``torch.export`` files (``*_bfloat16.pt2``).

Preprocessing is Sapiens-Lite's (``lite/demo/vis_depth.py``, ``vis_normal.py``, ``adhoc_image_dataset.py``):
the whole image is resized, without keeping its aspect ratio, to 1024 x 768 (height x width; bilinear), as
RGB, normalised with mean (123.5, 116.5, 103.5) and std (58.5, 57.0, 57.5) on the 0..255 scale, float32.  The
output, (1, 1, h, w) relative depth (growing away from the camera; scored under scale and shift, Sapiens
issue #199) or (1, 3, h, w) normals, is resized to the image (bilinear) and normals are divided by
``|n| + 1e-5``.  Sapiens normals are in camera coordinates (issue #50) with x right, y up and z towards the
camera (the default ``--normal-axes x,-y,-z``), converted to humandepth's OpenCV camera frame.

A model exported for another input size is run with ``--input-size HxW``; the adapter runs one zero image at
load time, so a size the model rejects, or a normal model given as the depth model, is reported before any
prediction is written.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch

from humandepth.baselines.models.common import (
    ModelBaseline,
    ModelError,
    WeightsSpec,
    first_line,
    parse_size,
    pick_device,
    resize,
    resolve_weights,
    rgb_tensor,
    sha256_of,
    to_opencv_normals,
    unit_normals,
)

INPUT_SIZE = (1024, 768)
MEAN = torch.tensor([123.5, 116.5, 103.5]).view(3, 1, 1)
STD = torch.tensor([58.5, 57.0, 57.5]).view(3, 1, 1)
DEFAULT_AXES = "x,-y,-z"
DEPTH_SPEC = WeightsSpec("--weights", "a Sapiens depth TorchScript file (sapiens_*_render_people_*_torchscript.pt2)")
NORMAL_SPEC = WeightsSpec("--normal-weights", "a Sapiens normal TorchScript file "
                          "(sapiens_*_normal_render_people_*_torchscript.pt2)")


def load_module(path, spec: WeightsSpec, device: torch.device):
    """A TorchScript (``torch.jit.load``) or ``torch.export`` (``torch.export.load(...).module()``) file."""
    try:
        with warnings.catch_warnings():  # torch marks TorchScript deprecated; Sapiens-Lite is released in it
            warnings.simplefilter("ignore", DeprecationWarning)
            return torch.jit.load(str(path), map_location=device).eval()
    except (RuntimeError, ValueError):
        pass
    try:
        return torch.export.load(str(path)).module().to(device)
    except Exception as e:  # torch.export raises many types for a file that is not an exported program
        raise ModelError(f"{spec.option} {path} is neither a TorchScript nor a torch.export file "
                         f"({first_line(e)})") from None


def script_error(e: BaseException) -> str:
    """The message of the error a TorchScript graph raised (its text ends with ``...Error: message``)."""
    raised = [ln.split("Error: ", 1)[1] for ln in str(e).splitlines() if "Error: " in ln]
    return raised[-1].strip() if raised else first_line(e)


class SapiensModel:
    """One Sapiens file: the module, its input size and its role (``depth``: 1 channel, ``normal``: 3)."""

    def __init__(self, path, spec: WeightsSpec, device: torch.device, size: tuple[int, int]):
        self.module = load_module(path, spec, device)
        self.device, self.size, self.path = device, size, path
        try:
            out = self.forward(torch.zeros(1, 3, *size, device=device))
        except Exception as e:  # whatever the scripted graph raises for an input it does not take
            raise ModelError(f"{spec.option} {path} rejects a 1x3x{size[0]}x{size[1]} input ({script_error(e)}); "
                             "give the size it was exported for with --input-size HxW") from None
        if out.ndim != 4 or out.shape[1] not in (1, 3):
            raise ModelError(f"{spec.option} {path} outputs shape {tuple(out.shape)}; a Sapiens depth model outputs "
                             "(1, 1, h, w), a normal model (1, 3, h, w)")
        self.role = "depth" if out.shape[1] == 1 else "normal"

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.module(x)
        return out[0] if isinstance(out, (tuple, list)) else out


class SapiensBaseline(ModelBaseline):
    """Sapiens relative depth, and normals when ``normal_weights`` is given.

    Args:
        weights: a depth model file (``--weights``).
        normal_weights: a normal model file (``--normal-weights``).
        input_size: (height, width) or ``"HxW"``; default 1024x768, the released models' size.
        normal_axes: the model's normal channels in OpenCV camera axes (:func:`~.common.parse_axes`).
        device: ``cpu`` / ``cuda`` / None (CUDA when available).
    """

    depth_kind = "relative"

    def __init__(self, weights=None, normal_weights=None, input_size=None, normal_axes: str = DEFAULT_AXES,
                 device=None, baseline: str = "sapiens"):
        depth_path = resolve_weights(baseline, weights, DEPTH_SPEC)
        normal_path = resolve_weights(baseline, normal_weights, NORMAL_SPEC, required=False)
        to_opencv_normals(np.zeros((1, 1, 3), np.float32), normal_axes)  # refuse a bad --normal-axes now
        size = parse_size(input_size) or INPUT_SIZE
        self.device = pick_device(device)
        self.depth_model = SapiensModel(depth_path, DEPTH_SPEC, self.device, size)
        if self.depth_model.role != "depth":
            raise ModelError(f"--weights {depth_path} is a Sapiens normal model (3 output channels): give it as "
                             "--normal-weights, and a depth model as --weights")
        self.normal_model = None
        if normal_path is not None:
            self.normal_model = SapiensModel(normal_path, NORMAL_SPEC, self.device, size)
            if self.normal_model.role != "normal":
                raise ModelError(f"--normal-weights {normal_path} is a Sapiens depth model (1 output channel), not "
                                 "a normal model")
        self.size, self.normal_axes = size, normal_axes
        self.mean, self.std = MEAN.to(self.device), STD.to(self.device)
        self.weights_sha256 = sha256_of([p for p in (depth_path, normal_path) if p is not None])

    def predict_rgb(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        img = rgb_tensor(rgb).to(self.device)
        h, w = img.shape[1:]
        x = ((resize(img, self.size, "bilinear") - self.mean) / self.std)[None]
        depth = resize(self.depth_model.forward(x)[0].float(), (h, w), "bilinear")[0]
        normal = None
        if self.normal_model is not None:
            n = resize(self.normal_model.forward(x)[0].float(), (h, w), "bilinear")
            normal = to_opencv_normals(unit_normals(n.cpu().numpy().transpose(1, 2, 0), 1e-5), self.normal_axes)
        return depth.cpu().numpy().astype(np.float32), normal

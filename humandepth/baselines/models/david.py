"""Microsoft DAViD (ICCV 2025; MIT licence) depth, normal and multi-task models, released as ONNX, run with
onnxruntime.

The conventions are those of DAViD's runtime (``runtime/utils.py``, ``pixelwise_estimator.py``) and model
cards: the model's first input is (1, 3, S, S) float32, **BGR** in [0, 1] (uint8 / 255), S = 512 (the
runtime's ROI size; a model that declares another square size gets that one).  The image is padded to a
square by repeating its border rows/columns (the shorter side's padding split in half, the odd pixel at the
bottom/right), halved by a Gaussian pyramid step while it is over 3 S, and resized to S x S (bilinear).  The
outputs come back by position: a depth model has one output, (1, S, S) or (1, 1, S, S), relative depth that
grows away from the camera (the runtime negates it only to display it); a normal model one (1, 3, S, S); the
multi-task model three, [depth, normal, foreground].  Each is resized to the padded square (bicubic), the
padding is cut off, and normals are divided by ``|n| + 1e-8``.

The normals' axes are not documented by DAViD; the default ``x,-y,-z`` (x right, y up, z towards the camera,
the OpenGL camera frame of its renderer) is converted to the OpenCV camera frame of humandepth.  Change it with
``--normal-axes`` if the ``detail`` protocol's normal errors show a flipped axis (mean angle near 90 or 180
degrees).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import ndimage

from humandepth.baselines.models.common import (
    ModelBaseline,
    ModelError,
    WeightsSpec,
    first_line,
    require,
    resize,
    resolve_weights,
    rgb_tensor,
    sha256_of,
    to_opencv_normals,
    unit_normals,
)

ROI_SIZE = 512
DEFAULT_AXES = "x,-y,-z"
DEPTH_SPEC = WeightsSpec("--weights", "a DAViD depth or multi-task ONNX file (depth-model-vitl16_384.onnx or "
                         "multi-task-model-vitl16_384.onnx)")
NORMAL_SPEC = WeightsSpec("--normal-weights", "a DAViD normal ONNX file (normal-model-vitl16_384.onnx)")
PYR_KERNEL = np.array([1, 4, 6, 4, 1], np.float32) / 16  # OpenCV's pyrDown kernel


def pad_to_square(img: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """(H, W, C) -> (S, S, C), S = max(H, W), border rows/columns repeated; pads (top, left, bottom, right)."""
    h, w = img.shape[:2]
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    pads = (top, left, side - h - top, side - w - left)
    return np.pad(img, ((pads[0], pads[2]), (pads[1], pads[3]), (0, 0)), mode="edge"), pads


def pyr_down(img: np.ndarray) -> np.ndarray:
    """OpenCV's ``pyrDown``: 5-tap Gaussian (reflect-101 border), then every second pixel; (H, W, C)."""
    out = ndimage.convolve1d(img, PYR_KERNEL, axis=0, mode="mirror")
    out = ndimage.convolve1d(out, PYR_KERNEL, axis=1, mode="mirror")
    return out[::2, ::2]


def uncrop(out: torch.Tensor, side: int, pads: tuple[int, int, int, int]) -> torch.Tensor:
    """(C, S', S') model output -> (C, H, W): bicubic to the padded square, padding cut off."""
    full = resize(out, (side, side), "bicubic")
    top, left, bottom, right = pads
    return full[:, top : side - bottom, left : side - right]


class OnnxModel:
    """One DAViD ONNX file in an onnxruntime session: its role (depth / normal / multitask) and input size."""

    def __init__(self, path, spec: WeightsSpec, baseline: str, providers: list[str]):
        ort = require("onnxruntime", baseline)
        try:
            self.session = ort.InferenceSession(str(path), providers=providers)
        except Exception as e:  # onnxruntime raises its own exception types for a file it cannot load
            raise ModelError(f"{spec.option} {path} is not an ONNX model onnxruntime can load "
                             f"({first_line(e)})") from None
        self.path = path
        inputs = self.session.get_inputs()
        shape = list(inputs[0].shape)
        where = f"{spec.option} {path}"
        if len(inputs) != 1 or len(shape) != 4:
            raise ModelError(f"{where} takes {len(inputs)} input(s) of shape {shape}; DAViD models take one "
                             "(1, 3, S, S) BGR image")
        if isinstance(shape[1], int) and shape[1] != 3:
            raise ModelError(f"{where} takes {shape[1]}-channel images; DAViD models take 3 (BGR)")
        h, w = shape[2], shape[3]
        if isinstance(h, int) and isinstance(w, int):
            if h != w:
                raise ModelError(f"{where} takes {h}x{w} images; DAViD models take a square input (the image is "
                                 "padded to a square)")
            self.size = h
        else:
            self.size = ROI_SIZE
        self.input_name = inputs[0].name
        self.role = self._role([list(o.shape) for o in self.session.get_outputs()])

    def _role(self, shapes: list[list]) -> str:
        if len(shapes) == 3:
            return "multitask"
        if len(shapes) != 1:
            raise ModelError(f"{self.path} has {len(shapes)} outputs; DAViD models have 1 (depth or normal) or 3 "
                             "(multi-task: depth, normal, foreground)")
        shape = shapes[0]
        if not (len(shape) == 3 or (len(shape) == 4 and isinstance(shape[1], int))):
            shape = list(self.run(np.zeros((self.size, self.size, 3), np.float32))[0].shape)  # symbolic: look
        if len(shape) == 3 or (len(shape) == 4 and shape[1] == 1):
            return "depth"
        if len(shape) == 4 and shape[1] == 3:
            return "normal"
        raise ModelError(f"{self.path} outputs shape {shape}; a DAViD depth model outputs (1, S, S) or (1, 1, S, S), "
                         "a normal model (1, 3, S, S)")

    def run(self, square: np.ndarray) -> list[np.ndarray]:
        """(S, S, 3) BGR float32 in [0, 1] -> the model's outputs, as numpy arrays."""
        x = np.ascontiguousarray(square.transpose(2, 0, 1)[None], dtype=np.float32)
        return self.session.run(None, {self.input_name: x})


class DavidBaseline(ModelBaseline):
    """DAViD relative depth (and normals, from the multi-task model or a normal model).

    Args:
        weights: a depth or multi-task ONNX file (``--weights``).
        normal_weights: a normal ONNX file (``--normal-weights``; not with a multi-task model).
        normal_axes: the model's normal channels in OpenCV camera axes (:func:`~.common.parse_axes`).
        device: ``cpu`` (default) or ``cuda`` (needs onnxruntime's CUDA provider, i.e. ``onnxruntime-gpu``).
    """

    depth_kind = "relative"

    def __init__(self, weights=None, normal_weights=None, normal_axes: str = DEFAULT_AXES, device=None,
                 baseline: str = "david"):
        depth_path = resolve_weights(baseline, weights, DEPTH_SPEC)
        normal_path = resolve_weights(baseline, normal_weights, NORMAL_SPEC, required=False)
        to_opencv_normals(np.zeros((1, 1, 3), np.float32), normal_axes)  # refuse a bad --normal-axes now
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            ort = require("onnxruntime", baseline)
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ModelError("--device cuda: this onnxruntime has no CUDA provider (install onnxruntime-gpu)")
            providers.insert(0, "CUDAExecutionProvider")
        elif device not in (None, "cpu"):
            raise ModelError(f"--device must be cpu or cuda, got {device!r}")
        self.depth_model = OnnxModel(depth_path, DEPTH_SPEC, baseline, providers)
        if self.depth_model.role == "normal":
            raise ModelError(f"--weights {depth_path} is a DAViD normal model (one (1, 3, S, S) output): give it "
                             "as --normal-weights, and a depth or multi-task model as --weights")
        self.normal_model = None
        if normal_path is not None:
            if self.depth_model.role == "multitask":
                raise ModelError(f"--weights {depth_path} is the multi-task model, which predicts normals itself; "
                                 "drop --normal-weights")
            self.normal_model = OnnxModel(normal_path, NORMAL_SPEC, baseline, providers)
            if self.normal_model.role != "normal":
                raise ModelError(f"--normal-weights {normal_path} is a DAViD {self.normal_model.role} model, not a "
                                 "normal model (one (1, 3, S, S) output)")
        self.normal_axes = normal_axes
        self.weights_sha256 = sha256_of([p for p in (depth_path, normal_path) if p is not None])

    @staticmethod
    def prepare(rgb: np.ndarray, size: int) -> tuple[np.ndarray, int, tuple[int, int, int, int]]:
        """(H, W, 3) uint8 RGB -> ((size, size, 3) BGR float32 in [0, 1], padded side, pads)."""
        bgr = rgb_tensor(rgb).numpy().transpose(1, 2, 0)[..., ::-1] / np.float32(255)
        square, pads = pad_to_square(np.clip(bgr, 0, 1).astype(np.float32))
        side = square.shape[0]
        while square.shape[0] > 3 * size and square.shape[1] > 3 * size:
            square = pyr_down(square)
        x = resize(torch.from_numpy(np.ascontiguousarray(square.transpose(2, 0, 1))), (size, size), "bilinear")
        return x.numpy().transpose(1, 2, 0), side, pads

    def _normals(self, out: np.ndarray, side: int, pads) -> np.ndarray:
        n = uncrop(torch.from_numpy(np.asarray(out, np.float32).reshape(3, *out.shape[-2:])), side, pads)
        return to_opencv_normals(unit_normals(n.numpy().transpose(1, 2, 0), 1e-8), self.normal_axes)

    def predict_rgb(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        x, side, pads = self.prepare(rgb, self.depth_model.size)
        outs = self.depth_model.run(x)
        d = np.asarray(outs[0], np.float32)
        depth = uncrop(torch.from_numpy(d.reshape(1, *d.shape[-2:])), side, pads)[0].numpy()
        normal = None
        if self.depth_model.role == "multitask":
            normal = self._normals(outs[1][0], side, pads)
        elif self.normal_model is not None:
            xn = x if self.normal_model.size == self.depth_model.size else self.prepare(rgb, self.normal_model.size)[0]
            normal = self._normals(self.normal_model.run(xn)[0][0], side, pads)
        return depth.astype(np.float32), normal

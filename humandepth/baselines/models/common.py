"""What the model adapters share: finding the weights, optional imports, image resizing, normal axes.

Images inside the adapters are float32 torch tensors (C, H, W); resizing uses ``torch.nn.functional.interpolate``
with ``align_corners=False`` (pixel centres at half-integers, as OpenCV's ``resize``), no antialiasing.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

WEIGHTS_FILE_ENV = "HUMANDEPTH_WEIGHTS"  # a YAML file: baseline name -> weights path(s)
EXTRA = "humandepth[models]"


class ModelError(ValueError):
    """A model adapter cannot run with what it was given; the message names the option or file (one line)."""


@dataclass(frozen=True)
class WeightsSpec:
    """How a baseline's weights are given and where they come from (for messages).

    option: the command-line option (``--weights``); what: what it must point to; source: where to download it
    once (default: the registry's ``weights_from``); folder: True for a folder (transformers), False for a file.
    """

    option: str
    what: str
    source: str = ""  # "" = the baseline's registry entry (``weights_from``)
    folder: bool = False


def require(module: str, baseline: str):
    """Import an optional dependency or raise a ModelError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ModelError(f"baseline {baseline!r} needs the Python package {module.split('.')[0]!r}: "
                         f"pip install '{EXTRA}'") from None


def configured_weights(baseline: str) -> dict:
    """The weights the file named by ``$HUMANDEPTH_WEIGHTS`` gives ``baseline``: ``{"weights": ..., ...}``.

    The file is YAML, one entry per baseline: a path (its ``--weights``) or a mapping of option names without
    the dashes (``weights``, ``normal_weights``) to paths.  Empty when the variable is unset or names no entry.
    """
    where = os.environ.get(WEIGHTS_FILE_ENV)
    if not where:
        return {}
    import yaml

    path = Path(where).expanduser()
    if not path.is_file():
        raise ModelError(f"{WEIGHTS_FILE_ENV}={where}: no such file")
    try:
        table = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as e:
        raise ModelError(f"{path} is not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(table, dict):
        raise ModelError(f"{path} must map baseline names to weights paths")
    entry = table.get(baseline)
    if entry is None:
        return {}
    if isinstance(entry, str):
        return {"weights": entry}
    if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
        raise ModelError(f"{path}: the entry for {baseline!r} must be a path or a mapping of option names to paths")
    return {str(k).replace("-", "_"): v for k, v in entry.items()}


def resolve_weights(baseline: str, given, spec: WeightsSpec, required: bool = True) -> Path | None:
    """The weights path for ``spec.option``: ``given`` (the command line), else the ``$HUMANDEPTH_WEIGHTS`` entry.

    Raises a ModelError naming the option and where to get the weights when none is given (and ``required``),
    the path does not exist, or it is a file where a folder is needed (or the other way round).
    """
    key = spec.option.lstrip("-").replace("-", "_")
    if not spec.source:
        from humandepth.baselines.registry import MODEL_BASELINES

        entry = MODEL_BASELINES.get(baseline)
        spec = WeightsSpec(spec.option, spec.what, entry.weights_from if entry else "the model's authors", spec.folder)
    if given is None:
        given = configured_weights(baseline).get(key)
    if given is None:
        if not required:
            return None
        raise ModelError(f"baseline {baseline!r} needs its weights: pass {spec.option} PATH, {spec.what}, "
                         f"downloaded once from {spec.source}")
    path = Path(given).expanduser()
    if not path.exists():
        raise ModelError(f"{spec.option} {path}: no such {'folder' if spec.folder else 'file'}; it must be "
                         f"{spec.what}, downloaded once from {spec.source}")
    if spec.folder and not path.is_dir():
        raise ModelError(f"{spec.option} {path} is a file; it must be {spec.what}")
    if not spec.folder and path.is_dir():
        raise ModelError(f"{spec.option} {path} is a folder; it must be {spec.what}")
    return path


def first_line(e: BaseException) -> str:
    """The first non-empty line of an exception's text (library errors can span many lines)."""
    lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
    return lines[0] if lines else type(e).__name__


def parse_size(text, option: str = "--input-size") -> tuple[int, int] | None:
    """``"1024x768"`` (height x width) -> (1024, 768); None stays None."""
    if text is None or isinstance(text, tuple):
        return text
    try:
        h, w = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ModelError(f"{option} must be HEIGHTxWIDTH in pixels (e.g. 1024x768), got {text!r}") from None
    if h < 1 or w < 1:
        raise ModelError(f"{option} must be positive, got {text!r}")
    return h, w


def parse_axes(text: str) -> tuple[tuple[int, ...], np.ndarray]:
    """A model's normal channels in OpenCV camera axes -> (axis of each channel, sign of each channel).

    ``"x,-y,-z"`` means channel 0 points right (+x), channel 1 up (-y), channel 2 towards the camera (-z):
    the OpenGL camera frame most normal-estimation models use.  The OpenCV frame itself is ``"x,y,z"``.
    """
    parts = [p.strip().lower() for p in str(text).split(",")]
    axes = tuple("xyz".find(p.lstrip("+-")) for p in parts)
    if len(parts) != 3 or sorted(axes) != [0, 1, 2] or any(len(p.lstrip("+-")) != 1 for p in parts):
        raise ModelError(f"--normal-axes must name x, y and z once each, with an optional '-' (e.g. x,-y,-z), "
                         f"got {text!r}")
    return axes, np.array([-1.0 if p.startswith("-") else 1.0 for p in parts], np.float32)


def to_opencv_normals(normal: np.ndarray, axes_spec: str) -> np.ndarray:
    """(H, W, 3) normals in the model's channels -> (H, W, 3) float32 in the OpenCV camera frame."""
    axes, signs = parse_axes(axes_spec)
    out = np.empty_like(normal, dtype=np.float32)
    for c, a in enumerate(axes):
        out[..., a] = signs[c] * normal[..., c]
    return out


def unit_normals(normal: np.ndarray, eps: float) -> np.ndarray:
    """(H, W, 3) -> unit vectors, dividing by ``|n| + eps`` as the model authors' runtimes do."""
    return (normal / (np.linalg.norm(normal, axis=-1, keepdims=True) + eps)).astype(np.float32)


def resize(img: torch.Tensor, size: tuple[int, int], mode: str) -> torch.Tensor:
    """(C, H, W) float -> (C, h, w) with ``mode`` ``bilinear`` | ``bicubic`` (align_corners=False)."""
    if tuple(img.shape[-2:]) == tuple(size):
        return img
    return F.interpolate(img[None], size=tuple(size), mode=mode, align_corners=False)[0]


def rgb_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (3, H, W) float32 in 0..255, checking the shape."""
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ModelError(f"expected an (H, W, 3) RGB image, got shape {rgb.shape}")
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float()


def pick_device(device) -> torch.device:
    """``cpu``, ``cuda`` or None (CUDA when available); a CUDA device that is not there is refused."""
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelError("--device cuda: no CUDA device is available (torch.cuda.is_available() is False)")
    return dev


def sha256_of(paths) -> str:
    """sha256 of one weights file, or of the sorted (name, sha256) list of several (a model folder)."""
    import hashlib

    from humandepth.data.store import sha256_file

    paths = sorted(Path(p) for p in paths)
    if len(paths) == 1:
        return sha256_file(paths[0])
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.name}:{sha256_file(p)}\n".encode())
    return h.hexdigest()


class ModelBaseline:
    """Base of the adapters: one image at a time, depth (H, W) float32 and normals (H, W, 3) or None at the
    sample's resolution.  Subclasses set ``depth_kind`` and ``weights_sha256`` and implement :meth:`predict_rgb`.
    """

    batch_size = 1
    depth_kind = "relative"
    weights_sha256 = ""

    def predict(self, samples) -> list[tuple[np.ndarray, np.ndarray | None]]:
        return [self.predict_rgb(s.rgb) for s in samples]

    def predict_rgb(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        raise NotImplementedError

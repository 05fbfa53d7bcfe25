"""Any local ``transformers`` depth-estimation folder (``AutoModelForDepthEstimation``) as a baseline.

The folder is what ``save_pretrained`` writes and what the model's page on the Hugging Face Hub holds:
``config.json``, the weights (``model.safetensors``) and ``preprocessor_config.json``.  Nothing is downloaded:
everything loads with ``local_files_only=True``.

Preprocessing and the resize back to the sample's resolution are the model's own image processor
(``AutoImageProcessor`` reading ``preprocessor_config.json``, i.e. the authors' published settings, and its
``post_process_depth_estimation``), with three changes that follow the authors' inference code:

- Depth Anything is resized as its authors' ``infer_image`` does: both sides at least 518 (the processor's size),
  aspect kept, multiples of 14, bicubic; the output back with bilinear ``align_corners=True``.  (The processor
  fits the longer side instead when the image is smaller than 518 px.)
- ZoeDepth is run on the image and on its mirror image and the two are averaged (the ZoeDepth authors'
  ``infer_pil`` default and the transformers ``outputs_flipped`` argument); its reflect padding is removed.
- Depth Pro's processor needs torchvision, which humandepth does not install, so its three steps are done here
  exactly as transformers' and Apple's code do them: resize to the processor's size (bilinear), scale to
  [-1, 1] (mean 0.5, std 0.5); then ``f_px = 0.5 W / tan(fov / 2)`` from the predicted field of view, the
  canonical inverse depth times ``W / f_px``, resized to H x W (bilinear), depth = 1 / clamp(., 1e-4, 1e4).

The output kind comes from the model type (:data:`FAMILIES`): relative Depth Anything and DPT/MiDaS predict
disparity up to scale and shift (``inverse_relative``); metric Depth Anything, ZoeDepth, GLPN and Depth Pro
(with its field-of-view head) predict metres (``metric``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from humandepth.baselines.models.common import (
    ModelBaseline,
    ModelError,
    WeightsSpec,
    first_line,
    pick_device,
    require,
    resize,
    resolve_weights,
    rgb_tensor,
    sha256_of,
)

INVERSE, METRIC, RELATIVE = "inverse_relative", "metric", "relative"


def _depth_anything_kind(cfg) -> str:
    return METRIC if getattr(cfg, "depth_estimation_type", "relative") == "metric" else INVERSE


def _depth_pro_kind(cfg) -> str:
    # without the field-of-view head the focal length is unknown: depth up to scale
    return METRIC if getattr(cfg, "use_fov_model", False) else RELATIVE


# model_type -> its output kind (a function of the config)
FAMILIES = {
    "depth_anything": _depth_anything_kind,
    "dpt": lambda cfg: INVERSE,
    "zoedepth": lambda cfg: METRIC,
    "glpn": lambda cfg: METRIC,
    "depth_pro": _depth_pro_kind,
}

HF_SPEC = WeightsSpec("--weights", "a transformers depth-estimation model folder (config.json, model.safetensors, "
                      "preprocessor_config.json)", folder=True)
WEIGHT_FILES = ("*.safetensors", "*.bin")


def read_json(path: Path, what: str) -> dict:
    if not path.is_file():
        raise ModelError(f"{path.parent} has no {path.name}: not a transformers model folder ({what})")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path} is not readable JSON ({first_line(e)})") from None
    if not isinstance(data, dict):
        raise ModelError(f"{path} is not a JSON object")
    return data


class TransformersDepthBaseline(ModelBaseline):
    """A local transformers depth-estimation model.

    Args:
        weights: the model folder (``--weights``; else the ``$HUMANDEPTH_WEIGHTS`` entry).
        model_types: the model types this baseline accepts (None: every type in :data:`FAMILIES`); a folder
            holding another type is refused, naming both.
        baseline: the baseline's name, for messages.
        device: ``cpu`` / ``cuda`` / None (CUDA when available).
    """

    def __init__(self, weights=None, model_types: tuple[str, ...] | None = None, baseline: str = "hf-depth",
                 device=None):
        folder = resolve_weights(baseline, weights, HF_SPEC)
        cfg_json = read_json(folder / "config.json", "save_pretrained writes config.json")
        model_type = cfg_json.get("model_type")
        accepted = tuple(model_types or FAMILIES)
        if model_type not in accepted:
            what = f"a {model_type!r} model" if model_type else "a config.json without a model_type"
            raise ModelError(f"--weights {folder} holds {what}; baseline {baseline!r} runs "
                             f"{' or '.join(repr(t) for t in accepted)} depth-estimation models")
        read_json(folder / "preprocessor_config.json", "the authors' preprocessing is read from it")
        files = [p for pattern in WEIGHT_FILES for p in folder.glob(pattern)]
        if not files:
            raise ModelError(f"{folder} has no weights file (model.safetensors or pytorch_model.bin)")
        transformers = require("transformers", baseline)
        transformers.utils.logging.disable_progress_bar()  # one line per error, no progress bars on stderr
        self.device = pick_device(device)
        try:
            self.model = transformers.AutoModelForDepthEstimation.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError, RuntimeError, KeyError, TypeError) as e:
            raise ModelError(f"--weights {folder}: transformers cannot load the model ({first_line(e)})") from None
        self.model.eval().to(self.device)
        self.model_type = model_type
        self.depth_kind = FAMILIES[model_type](self.model.config)
        self.weights_sha256 = sha256_of(files)
        if model_type == "depth_pro":
            self.processor = DepthProProcessing(folder / "preprocessor_config.json", self.model.config)
        else:
            verbosity = transformers.utils.logging.get_verbosity()
            transformers.utils.logging.set_verbosity_error()  # not the notice that the PIL processor is used
            try:
                self.processor = transformers.AutoImageProcessor.from_pretrained(folder, local_files_only=True)
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise ModelError(f"--weights {folder}: its preprocessor_config.json does not load "
                                 f"({first_line(e)})") from None
            finally:
                transformers.utils.logging.set_verbosity(verbosity)
        self.folder = folder

    @torch.no_grad()
    def predict_rgb(self, rgb: np.ndarray) -> tuple[np.ndarray, None]:
        h, w = np.shape(rgb)[:2]
        if self.model_type == "depth_pro":
            depth = self.processor.predict(self.model, rgb, self.device)
            return depth.cpu().numpy().astype(np.float32), None
        if self.model_type == "depth_anything":
            return depth_anything_predict(self.model, self.processor, rgb, self.device), None
        pixels = self.processor(images=np.asarray(rgb), return_tensors="pt")["pixel_values"].to(self.device)
        out = self.model(pixel_values=pixels)
        if self.model_type == "zoedepth":
            flipped = self.model(pixel_values=torch.flip(pixels, dims=[3])).predicted_depth
            depth = zoedepth_unpad(out.predicted_depth, flipped, (h, w), getattr(self.processor, "do_pad", True))
        else:
            depth = self.processor.post_process_depth_estimation(out, target_sizes=[(h, w)])[0]["predicted_depth"]
        return depth.reshape(h, w).float().cpu().numpy(), None


def depth_anything_input_size(h: int, w: int, size: int, multiple: int = 14) -> tuple[int, int]:
    """Depth Anything's own resize (``Resize(..., keep_aspect_ratio=True, resize_method="lower_bound")``): one
    scale that makes both sides at least ``size``, each side rounded to a multiple of ``multiple`` (up when
    rounding would go below ``size``)."""
    scale = max(size / h, size / w)

    def side(x: float) -> int:
        y = round(x / multiple) * multiple
        return int(np.ceil(x / multiple) * multiple) if y < size else int(y)

    return side(scale * h), side(scale * w)


def depth_anything_predict(model, processor, rgb: np.ndarray, device) -> np.ndarray:
    """Depth Anything V1/V2 as its authors run it (``infer_image``): RGB / 255, both sides at least the processor's
    size (518) with the aspect kept and multiples of 14, bicubic, ImageNet normalisation; the output resized to
    (H, W) bilinearly with ``align_corners=True``.  The transformers processor differs for images smaller than
    518 px (it fits the longer side), so only its size and normalisation are read.  Returns (H, W) float32."""
    x = rgb_tensor(rgb) / 255.0
    h, w = x.shape[1:]
    size = min(processor.size["height"], processor.size["width"])
    x = resize(x, depth_anything_input_size(h, w, size, processor.ensure_multiple_of or 14), "bicubic")
    mean = torch.tensor(processor.image_mean, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(processor.image_std, dtype=torch.float32).view(3, 1, 1)
    out = model(pixel_values=((x - mean) / std)[None].to(device)).predicted_depth
    depth = torch.nn.functional.interpolate(out.reshape(1, 1, *out.shape[-2:]).float(), size=(h, w),
                                            mode="bilinear", align_corners=True)
    return depth.reshape(h, w).cpu().numpy().astype(np.float32)


def zoedepth_unpad(pred: torch.Tensor, flipped: torch.Tensor, size: tuple[int, int], padded: bool) -> torch.Tensor:
    """ZoeDepth's post-processing (transformers' ``post_process_depth_estimation``, whose no-torchvision version
    cannot run): the mean of the prediction and the mirrored prediction of the mirror image, resized (bicubic) to
    the reflect-padded source size, the padding ``int(sqrt(side / 2) * 3)`` cut off.  (1, h', w') -> (H, W)."""
    depth = (pred + torch.flip(flipped, dims=[-1])) / 2
    h, w = size
    ph, pw = (int(np.sqrt(h / 2) * 3), int(np.sqrt(w / 2) * 3)) if padded else (0, 0)
    depth = resize(depth.reshape(1, *depth.shape[-2:]).float(), (h + 2 * ph, w + 2 * pw), "bicubic")
    return depth[0, ph : ph + h, pw : pw + w]


class DepthProProcessing:
    """Depth Pro's pre- and post-processing (transformers' ``DepthProImageProcessor`` and Apple's ``infer``).

    Reads ``size``, ``image_mean``, ``image_std`` and ``rescale_factor`` from ``preprocessor_config.json``; the
    size must be the one the model's patch encoder tiles: ``patch_size / min(scaled_images_ratios)``.
    """

    def __init__(self, path: Path, cfg):
        pp = json.loads(path.read_text())
        size = pp.get("size", {"height": 1536, "width": 1536})
        self.size = (int(size["height"]), int(size["width"]))
        need = round(cfg.patch_size / min(cfg.scaled_images_ratios))
        if self.size != (need, need):
            raise ModelError(f"{path}: input size {self.size[0]}x{self.size[1]} does not fit the model, whose "
                             f"patch encoder needs {need}x{need} (patch_size {cfg.patch_size}, smallest scale "
                             f"{min(cfg.scaled_images_ratios)})")
        self.mean = torch.tensor(pp.get("image_mean", [0.5] * 3), dtype=torch.float32).view(3, 1, 1)
        self.std = torch.tensor(pp.get("image_std", [0.5] * 3), dtype=torch.float32).view(3, 1, 1)
        self.rescale = float(pp.get("rescale_factor", 1 / 255))

    def predict(self, model, rgb: np.ndarray, device) -> torch.Tensor:
        """(H, W, 3) uint8 -> (H, W) depth (metres with the field-of-view head, else up to scale)."""
        x = rgb_tensor(rgb)
        h, w = x.shape[1:]
        x = (resize(x * self.rescale, self.size, "bilinear") - self.mean) / self.std
        out = model(pixel_values=x[None].to(device))
        inverse = out.predicted_depth.reshape(1, *out.predicted_depth.shape[-2:]).float()
        if out.field_of_view is not None:
            f_px = 0.5 * w / torch.tan(0.5 * torch.deg2rad(out.field_of_view.reshape(()).float()))
            inverse = inverse * w / f_px
        inverse = resize(inverse, (h, w), "bilinear")[0]
        return 1.0 / torch.clamp(inverse, min=1e-4, max=1e4)

"""The registry of baselines: name -> where it lives, what it outputs, what it needs.

A baseline is a class with this interface (imported only when used, so listing stays cheap)::

    class MyBaseline:
        depth_kind = "relative"          # or "metric" / "inverse_relative": the predictions file's kind
        batch_size = 1                   # samples per predict() call
        def __init__(self, **options): ...          # options from the command line (e.g. checkpoint)
        def predict(self, samples: list[Sample]) -> list[tuple[np.ndarray, np.ndarray | None]]:
            '''One (depth (H, W) float32, normal (H, W, 3) float32 or None) per sample, at the
            sample's resolution.  Methods may only read sample.rgb unless `uses_gt` says otherwise.'''

:data:`BASELINES` run as installed (``humandepth demo`` runs them all); :data:`MODEL_BASELINES` run published
models from weights the user downloaded once (``--weights PATH``), so they are listed and run by name but are
not part of the demo.  :func:`get_baseline` finds both.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BaselineEntry:
    name: str
    target: str  # "module:Class"
    description: str
    uses_gt: tuple[str, ...] = ()  # ground-truth fields the method reads (oracles, mask-based priors)
    options: dict = field(default_factory=dict)  # fixed constructor kwargs (ablation switches)
    needs_checkpoint: bool = False
    # model baselines (weights downloaded by the user): the options they take, the weights' licence and source
    accepts: tuple[str, ...] = ()  # command-line options beyond --dataset/--out, e.g. ("weights", "device")
    licence: str = ""
    weights_from: str = ""
    output: str = ""  # what the predictions hold, e.g. "inverse_relative depth" or "relative depth + normals"

    @property
    def oracle(self) -> bool:
        return bool(self.uses_gt)

    def create(self, **user_options):
        module_name, cls_name = self.target.split(":")
        cls = getattr(importlib.import_module(module_name), cls_name)
        return cls(**self.options, **user_options)


_REF = "humandepth.baselines.reference.predict:ReferenceBaseline"

BASELINES: dict[str, BaselineEntry] = {
    e.name: e
    for e in (
        BaselineEntry("plane", "humandepth.baselines.classical:PlaneBaseline",
                      "constant depth: a fronto-parallel plane (the floor under tang2019's shift alignment)"),
        BaselineEntry("inflate", "humandepth.baselines.classical:InflateBaseline",
                      "silhouette inflation: depth from the distance transform of the GT mask (rounded-body prior)",
                      uses_gt=("mask",)),
        BaselineEntry("gt-base", "humandepth.baselines.classical:GTBaseBaseline",
                      "oracle: the GT depth_base (upper bound for coarse shape; no detail at all)",
                      uses_gt=("depth", "mask", "depth_base")),
        BaselineEntry("reference", _REF, "Tang et al. 2019: two-branch base/detail Depth-Net + normal refinement",
                      needs_checkpoint=True),
        BaselineEntry("reference-single-branch", _REF, "ablation: one depth branch, no base/detail split",
                      options={"variant": "single-branch"}, needs_checkpoint=True),
        BaselineEntry("reference-no-refine", _REF, "ablation: composed depth, refinement layer off",
                      options={"variant": "no-refine"}, needs_checkpoint=True),
        BaselineEntry("reference-no-priors", _REF, "ablation: no skeleton or segmentation inputs",
                      options={"variant": "no-priors"}, needs_checkpoint=True),
        BaselineEntry("reference-geonet-refine", _REF,
                      "compared refinement: GeoNet kernel regression (7x7, centre normal, hard threshold, one pass)",
                      options={"variant": "geonet-refine"}, needs_checkpoint=True),
    )
}


_HF = "humandepth.baselines.models.hf:TransformersDepthBaseline"
_HF_OPTS = ("weights", "device")
_RGB = "the RGB image only"

MODEL_BASELINES: dict[str, BaselineEntry] = {
    e.name: e
    for e in (
        BaselineEntry("depth-anything-v2", _HF, "Depth Anything V2 (transformers folder *-hf): relative disparity, or "
                      "metres for the Metric-* models", options={"model_types": ("depth_anything",),
                                                                  "baseline": "depth-anything-v2"},
                      accepts=_HF_OPTS, licence="Apache-2.0 (Small); CC-BY-NC-4.0 (Base, Large)",
                      weights_from="huggingface.co/depth-anything/Depth-Anything-V2-Small-hf (or -Base-hf, -Large-hf, "
                      "Metric-*-hf)", output="inverse_relative depth (metric for the Metric-* models)"),
        BaselineEntry("depth-pro", _HF, "Apple Depth Pro (transformers folder): metres, focal length from its "
                      "predicted field of view", options={"model_types": ("depth_pro",), "baseline": "depth-pro"},
                      accepts=_HF_OPTS, licence="Apple Machine Learning Research Model licence (research only)",
                      weights_from="huggingface.co/apple/DepthPro-hf", output="metric depth"),
        BaselineEntry("zoedepth", _HF, "ZoeDepth (transformers folder): metres, mirror-averaged as its authors run it",
                      options={"model_types": ("zoedepth",), "baseline": "zoedepth"}, accepts=_HF_OPTS, licence="MIT",
                      weights_from="huggingface.co/Intel/zoedepth-nyu-kitti (or zoedepth-nyu, zoedepth-kitti)",
                      output="metric depth"),
        BaselineEntry("dpt", _HF, "DPT / MiDaS 3 (transformers folder): relative disparity",
                      options={"model_types": ("dpt",), "baseline": "dpt"}, accepts=_HF_OPTS, licence="Apache-2.0",
                      weights_from="huggingface.co/Intel/dpt-large (or Intel/dpt-hybrid-midas)",
                      output="inverse_relative depth"),
        BaselineEntry("hf-depth", _HF, "any local transformers AutoModelForDepthEstimation folder (depth_anything, "
                      "dpt, zoedepth, glpn, depth_pro); output kind from its config", options={"baseline": "hf-depth"},
                      accepts=_HF_OPTS, licence="the model's", weights_from="the model's page on huggingface.co",
                      output="depth of the kind its model type predicts"),
        BaselineEntry("david", "humandepth.baselines.models.david:DavidBaseline", "Microsoft DAViD (ONNX): human "
                      "relative depth; normals from the multi-task model or --normal-weights",
                      accepts=("weights", "normal_weights", "normal_axes", "device"), licence="MIT",
                      weights_from="aka.ms/DAViD (github.com/microsoft/DAViD: depth-, normal-, "
                      "multi-task-model-vitl16_384.onnx)", output="relative depth (+ normals)"),
        BaselineEntry("sapiens", "humandepth.baselines.models.sapiens:SapiensBaseline", "Meta Sapiens (TorchScript "
                      ".pt2): human relative depth; normals with --normal-weights",
                      accepts=("weights", "normal_weights", "input_size", "normal_axes", "device"),
                      licence="CC-BY-NC-4.0 (Sapiens licence, non-commercial)",
                      weights_from="huggingface.co/facebook/sapiens-depth-0.3b-torchscript (normals: "
                      "sapiens-normal-0.3b-torchscript; also 0.6b, 1b, 2b)", output="relative depth (+ normals)"),
    )
}


def get_baseline(name: str) -> BaselineEntry:
    entry = BASELINES.get(name) or MODEL_BASELINES.get(name)
    if entry is None:
        raise KeyError(f"unknown baseline {name!r}; registered: {', '.join([*BASELINES, *MODEL_BASELINES])}")
    return entry

"""The registry of baselines: name -> where it lives, what it outputs, what it needs.

A baseline is a class with this interface (imported only when used, so listing stays cheap)::

    class MyBaseline:
        depth_kind = "relative"          # or "metric" / "inverse_relative": the predictions file's kind
        batch_size = 1                   # samples per predict() call
        def __init__(self, **options): ...          # options from the command line (e.g. checkpoint)
        def predict(self, samples: list[Sample]) -> list[tuple[np.ndarray, np.ndarray | None]]:
            '''One (depth (H, W) float32, normal (H, W, 3) float32 or None) per sample, at the
            sample's resolution.  Methods may only read sample.rgb unless `uses_gt` says otherwise.'''
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


def get_baseline(name: str) -> BaselineEntry:
    try:
        return BASELINES[name]
    except KeyError:
        raise KeyError(f"unknown baseline {name!r}; registered: {', '.join(BASELINES)}") from None

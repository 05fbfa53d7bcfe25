"""Run a registered baseline over a dataset into a predictions file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humandepth.baselines.registry import get_baseline
from humandepth.data.predictions import PredictionsWriter
from humandepth.progress import Progress


def run_baseline(name: str, dataset, out, options: dict | None = None, progress: bool = True) -> Path:
    """Predict every sample of ``dataset`` with baseline ``name`` and write ``out`` (HDF5 predictions).

    The file is written to ``out.partial`` and renamed at the end, so an interrupted run leaves no
    half-written predictions file under the final name.  Its root attributes record the baseline, the
    dataset's sha256 and, for a learned baseline, the sha256 of its weights (``weights_sha256``) and its inference
    settings (``setting.<name>``, e.g. the reference network's crop source and test-time views).
    """
    entry = get_baseline(name)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    method = entry.create(**options)
    ids = list(dataset.ids)
    n = len(ids)
    bar = Progress(name, n, enabled=progress, every_s=2.0)
    attrs = {"baseline": name, "dataset": dataset.name, "dataset_sha256": dataset.checksum(),
             "oracle_uses_gt": ",".join(dict.fromkeys([*entry.uses_gt, *getattr(method, "uses_gt", ())]))}
    if getattr(method, "weights_sha256", None):  # learned baselines: which weights made these predictions
        attrs["weights_sha256"] = method.weights_sha256
    for key, value in (getattr(method, "settings", None) or {}).items():  # e.g. the reference's crop and views
        attrs[f"setting.{key}"] = value
    with PredictionsWriter(out, method=name, depth_kind=method.depth_kind, attrs=attrs) as writer:
        bs = max(1, int(getattr(method, "batch_size", 1)))
        for start in range(0, n, bs):
            samples = [dataset.get(i) for i in ids[start : start + bs]]
            preds = method.predict(samples)
            if len(preds) != len(samples):
                raise RuntimeError(f"baseline {name!r} returned {len(preds)} predictions for {len(samples)} samples")
            for s, (depth, normal) in zip(samples, preds, strict=True):
                if np.shape(depth) != (s.height, s.width):
                    raise RuntimeError(f"baseline {name!r} predicted shape {np.shape(depth)} for sample {s.id!r} "
                                       f"of shape {(s.height, s.width)}")
                writer.add(s.id, depth, normal)
            bar.update(len(samples))
    return Path(out)

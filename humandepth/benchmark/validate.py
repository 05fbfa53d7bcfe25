"""Validation of a predictions file against a dataset, before anything is scored.

Rules (``docs/benchmark.md``): every dataset id has a prediction (ids only in the predictions file
are listed, not fatal); ``/depth/<id>`` has the ground truth's (H, W) shape and a floating-point
dtype and is finite (no NaN, no inf) inside the GT mask; ``/normal/<id>``, when present, is
(H, W, 3), floating point, finite inside the GT mask.  All problems are collected and reported
together in one :class:`SubmissionError`; nothing is ever repaired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from humandepth.benchmark.reading import read_ground_truth

MAX_LISTED = 20  # problems spelled out in the error message (all are kept in .problems)


class SubmissionError(ValueError):
    """The predictions do not match the dataset.  ``problems``: list of (sample id, problem) pairs."""

    def __init__(self, predictions_path, dataset_name: str, problems: list[tuple[str, str]]):
        self.problems = list(problems)
        shown = "; ".join(f"sample {sid!r}: {msg}" for sid, msg in self.problems[:MAX_LISTED])
        more = len(self.problems) - MAX_LISTED
        tail = f"; ... and {more} more" if more > 0 else ""
        super().__init__(
            f"predictions file {predictions_path} does not match dataset {dataset_name!r} "
            f"({len(self.problems)} problem(s)): {shown}{tail}"
        )


@dataclass
class IdCheck:
    """Result of comparing id sets: ``missing`` (dataset ids without a prediction) and ``extra``."""

    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def check_ids(dataset_ids, prediction_ids) -> IdCheck:
    """Compare the dataset's ids with the predictions file's (pairing is by id, never by order)."""
    have = set(prediction_ids)
    want = set(dataset_ids)
    return IdCheck(sorted(i for i in want if i not in have), sorted(i for i in have if i not in want))


def _check_finite(arr: np.ndarray, gt_mask: np.ndarray, what: str) -> list[str]:
    vals = arr[gt_mask]
    bad_nan = int(np.count_nonzero(np.isnan(vals)))
    bad_inf = int(np.count_nonzero(np.isinf(vals)))
    out = []
    if bad_nan:
        out.append(f"{what} holds NaN at {bad_nan} pixel(s) inside the ground-truth mask")
    if bad_inf:
        out.append(f"{what} holds inf at {bad_inf} pixel(s) inside the ground-truth mask")
    return out


def check_sample(gt_mask: np.ndarray, depth, normal=None) -> list[str]:
    """Problems (strings) with one sample's prediction; empty when it is valid.

    Args:
        gt_mask: (H, W) bool ground-truth mask; its shape is the ground truth's.
        depth: the submitted ``/depth/<id>`` array.
        normal: the submitted ``/normal/<id>`` array, or None.
    """
    problems = []
    depth = np.asarray(depth)
    h, w = gt_mask.shape
    if not np.issubdtype(depth.dtype, np.floating):
        problems.append(f"depth has dtype {depth.dtype}, expected a floating-point dtype (float32)")
    if depth.shape != (h, w):
        problems.append(f"depth has shape {depth.shape}, expected the ground truth's {(h, w)} (no resizing is done)")
    if not problems:
        problems += _check_finite(depth, gt_mask, "depth")
    if normal is not None:
        normal = np.asarray(normal)
        ok = True
        if not np.issubdtype(normal.dtype, np.floating):
            problems.append(f"normal has dtype {normal.dtype}, expected a floating-point dtype (float32)")
            ok = False
        if normal.shape != (h, w, 3):
            problems.append(f"normal has shape {normal.shape}, expected {(h, w, 3)}")
            ok = False
        if ok:
            problems += _check_finite(normal, gt_mask, "normal")
    return problems


def validate_predictions(dataset, predictions) -> IdCheck:
    """Check every prediction against ``dataset`` (a DepthDataset); raise :class:`SubmissionError` listing
    every problem, else return the :class:`IdCheck` (its ``extra`` ids are ignored by scoring)."""
    ids = check_ids(dataset.ids, predictions.ids)
    problems = [(sid, "no prediction in the file (missing /depth/<id>)") for sid in ids.missing]
    missing = set(ids.missing)
    for gt in read_ground_truth(dataset, [i for i in sorted(dataset.ids) if i not in missing]):
        problems += [(gt.id, p) for p in check_sample(gt.mask, predictions.depth(gt.id), predictions.normal(gt.id))]
    if problems:
        raise SubmissionError(predictions.path, dataset.name, problems)
    return ids

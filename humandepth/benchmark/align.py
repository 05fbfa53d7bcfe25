"""Alignment of a prediction to the ground truth before scoring (all in float64, closed form).

All functions take 1-D arrays of the evaluated pixels (metres for depth) and return the fitted
parameters; they never look at pixels outside the evaluation mask.

- :func:`median_shift`: ``t = median(gt - pred)``, the exact minimiser of ``mean |pred + t - gt|``
  (the L1-optimal shift).  Tang et al.'s released code (``utils/util.py::new_compute_depth_err_auc``)
  approximates the same quantity: it starts from ``median(gt) - median(pred)`` and grid-searches an
  extra offset in [-0.2, +0.2] m in 2.5 mm steps for the smallest mean absolute error, so its result
  lies within one 2.5 mm step of ours (the test suite checks this against that grid search).
- :func:`fit_affine`: least-squares ``s, t`` minimising ``sum (s * x + t - y)^2``.  A degenerate fit
  (fewer than two pixels, or a prediction with no spread: ``var(x) <= DEGENERATE_REL_VAR * mean(x^2)``,
  e.g. a constant plane) returns ``ok=False`` and NaN parameters; the caller scores the sample NaN and
  reports it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEGENERATE_REL_VAR = 1e-12


def median_shift(gt: np.ndarray, pred: np.ndarray) -> float:
    """L1-optimal shift ``t`` (metres) such that ``pred + t`` best matches ``gt``; NaN when empty."""
    if gt.size == 0:
        return float("nan")
    return float(np.median(np.asarray(gt, np.float64) - np.asarray(pred, np.float64)))


@dataclass(frozen=True)
class AffineFit:
    """``y ~ scale * x + shift``; ``ok`` is False for a degenerate fit (then both are NaN)."""

    scale: float
    shift: float
    ok: bool


def fit_affine(x: np.ndarray, y: np.ndarray) -> AffineFit:
    """Least-squares scale and shift mapping ``x`` onto ``y`` (1-D arrays of equal length), float64.

    Solved in centred form (``s = cov(x, y) / var(x)``, ``t = mean(y) - s * mean(x)``), which is the
    normal-equation solution without its cancellation problems.
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n = x.size
    if n < 2:
        return AffineFit(float("nan"), float("nan"), False)
    mx, my = x.mean(), y.mean()
    xc = x - mx
    var = float(np.sum(xc * xc)) / n
    if not np.isfinite(var) or var <= DEGENERATE_REL_VAR * (mx * mx + var):
        return AffineFit(float("nan"), float("nan"), False)
    s = float(np.sum(xc * (y - my))) / n / var
    return AffineFit(s, float(my - s * mx), True)

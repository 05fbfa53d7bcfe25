"""Per-pixel error statistics used by the benchmark protocols.

Every function takes 1-D arrays of the evaluated pixels only (already masked and aligned), in float64,
and returns a Python float.  Depth is in metres; the unit of each result is in its name (``cm``,
``mm``, ``deg``) or stated (``percent``: 0..100, ``fraction``: 0..1).  An empty input gives NaN.

The cumulative error curve of Tang et al. 2019 is built from a histogram of absolute errors with
:data:`HIST_BINS` bins over ``[0, HIST_MAX_M)`` metres: bin ``j`` holds errors in
``[j * w, (j + 1) * w)`` with ``w = HIST_MAX_M / HIST_BINS`` (errors >= ``HIST_MAX_M`` go to an overflow
bin).  The curve's value at edge ``k`` (k = 1..100) is the fraction of pixels with error ``< k * w``;
``auc_0.5m`` is the mean of those 100 values, i.e. the area under the step curve normalised to 0..1.
"""

from __future__ import annotations

import numpy as np

HIST_MAX_M = 0.5
HIST_BINS = 100
HIST_WIDTH_M = HIST_MAX_M / HIST_BINS
ANGLE_BIN_DEG = 0.01  # resolution of the pooled-pixel normal median
ANGLE_BINS = int(round(180.0 / ANGLE_BIN_DEG))


def _empty(x: np.ndarray) -> bool:
    return x.size == 0


def mean_abs(e: np.ndarray) -> float:
    """mean(|e|), same unit as ``e``."""
    return float(np.mean(np.abs(e))) if not _empty(e) else float("nan")


def rms(e: np.ndarray) -> float:
    """sqrt(mean(e^2)), same unit as ``e``."""
    return float(np.sqrt(np.mean(np.square(e)))) if not _empty(e) else float("nan")


def percent_below(x: np.ndarray, threshold: float) -> float:
    """Percent (0..100) of entries strictly below ``threshold``."""
    return float(100.0 * np.count_nonzero(x < threshold) / x.size) if not _empty(x) else float("nan")


def error_histogram(abs_err_m: np.ndarray) -> np.ndarray:
    """(HIST_BINS + 1,) int64 counts of absolute errors (metres); the last entry counts errors >= HIST_MAX_M."""
    idx = np.minimum((abs_err_m * (1.0 / HIST_WIDTH_M)).astype(np.int64), HIST_BINS)
    return np.bincount(idx, minlength=HIST_BINS + 1)


def cumulative_from_histogram(hist: np.ndarray) -> np.ndarray:
    """(HIST_BINS,) fraction 0..1 of pixels with error below each bin's upper edge (edges k * HIST_WIDTH_M)."""
    total = hist.sum()
    if total == 0:
        return np.full(HIST_BINS, np.nan)
    return np.cumsum(hist[:HIST_BINS]) / total


def auc_from_histogram(hist: np.ndarray) -> float:
    """Area under the cumulative error curve over [0, HIST_MAX_M], normalised to 0..1 (module docstring)."""
    return float(np.mean(cumulative_from_histogram(hist)))


def cumulative_edges_m() -> np.ndarray:
    """(HIST_BINS,) the upper bin edges, metres, at which :func:`cumulative_from_histogram` is evaluated."""
    return np.arange(1, HIST_BINS + 1) * HIST_WIDTH_M


def abs_rel(pred: np.ndarray, gt: np.ndarray) -> float:
    """mean(|pred - gt| / gt) (ratio; gt > 0)."""
    return float(np.mean(np.abs(pred - gt) / gt)) if not _empty(gt) else float("nan")


def delta_ratio(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """max(pred/gt, gt/pred) per pixel; +inf where pred <= 0 (such a pixel is never within any threshold)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.maximum(pred / gt, gt / pred)
    return np.where(pred > 0, r, np.inf)


def angles_deg(n_pred: np.ndarray, n_gt: np.ndarray) -> np.ndarray:
    """(N,) angle in degrees between (N, 3) vectors.

    ``n_gt`` must be non-zero.  A zero ``n_pred`` (no predicted normal) gives 90 degrees: it carries
    no information, and it is never rewarded by being skipped.
    """
    a = np.asarray(n_pred, np.float64)
    b = np.asarray(n_gt, np.float64)
    na = np.sqrt(np.einsum("ij,ij->i", a, a))
    nb = np.sqrt(np.einsum("ij,ij->i", b, b))
    cos = np.einsum("ij,ij->i", a, b) / (np.where(na > 0, na, 1.0) * nb)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def angle_histogram(theta_deg: np.ndarray) -> np.ndarray:
    """(ANGLE_BINS,) int64 counts of angles in ANGLE_BIN_DEG bins over [0, 180] degrees."""
    idx = np.minimum((theta_deg * (1.0 / ANGLE_BIN_DEG)).astype(np.int64), ANGLE_BINS - 1)
    return np.bincount(idx, minlength=ANGLE_BINS)


def median_from_angle_histogram(hist: np.ndarray) -> float:
    """Median angle (degrees) from :func:`angle_histogram` counts, to ANGLE_BIN_DEG (bin centre)."""
    total = hist.sum()
    if total == 0:
        return float("nan")
    k = int(np.searchsorted(np.cumsum(hist), 0.5 * total))
    return float((k + 0.5) * ANGLE_BIN_DEG)

"""The four scoring protocols: ``tang2019``, ``affine``, ``metric`` and ``detail``.

A protocol aligns one prediction to its ground truth and scores it over the evaluated pixels
``M = GT mask & GT depth > 0``.  Each has a ``name`` and a ``version``: any change to its mask,
alignment or metric definitions, or to which ground-truth pixels the readers give a value (version 2.0: the
``tang2019`` reader's resize-blend rule, fused ground truth's unsupported pixels), bumps the version, and the
leaderboard refuses to mix versions.
Definitions (formulas, units) are in ``docs/benchmark.md``; in short:

- ``tang2019`` (Tang et al. 2019): shift-only alignment ``t = median(gt - pred)`` over M (see
  :mod:`humandepth.benchmark.align`), ``e = |pred + t - gt|``; ``mae_cm``, ``acc_1.25cm``,
  ``acc_2.5cm``, ``acc_5cm`` (percent of pixels with e below), ``auc_0.5m`` (0..1, see
  :mod:`humandepth.benchmark.metrics`).
- ``affine``: least-squares scale and shift (in inverse depth for ``inverse_relative``
  predictions, then inverted); ``absrel``, ``rmse_mm``, ``delta_1.05``, ``delta_1.10``,
  ``delta_1.25`` (percent).  A degenerate fit scores the sample NaN.
- ``metric``: no alignment, the same metrics (metric predictions only).
- ``detail``: after the ``tang2019`` shift, the smooth base is removed from prediction and GT with
  :func:`humandepth.data.split_base_detail` and the residuals are compared (``detail_mae_mm``,
  ``detail_rmse_mm``); normals (submitted, else from the aligned predicted depth) against GT normals
  (stored, else from GT depth): ``normal_mean_deg``, ``normal_median_deg`` and percent within
  11.25 / 22.5 / 30 degrees.

Each protocol returns per-sample metrics, the fitted alignment parameters, and additive pixel sums
from which :meth:`Protocol.pooled` computes the pooled-pixel values over a whole dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from humandepth.benchmark import align, metrics
from humandepth.data.base_detail import DEFAULT_FILTER, BaseDetailFilter, split_base_detail
from humandepth.data.geometry import normals_from_depth

NAN = float("nan")
# Aligned inverse depth is clamped to >= 1 / (INVERSE_DEPTH_CAP * max GT depth of the sample) before it
# is inverted, so no aligned depth exceeds ten times the sample's farthest pixel; clamped pixels are counted.
INVERSE_DEPTH_CAP = 10.0
GT_NORMAL_MIN_NORM = 0.5  # GT normals shorter than this mean "no value" (stored as (0, 0, 0))


class SampleView:
    """One sample's ground truth and prediction, with what several protocols share computed once.

    Attributes:
        id: sample id.
        gt: (H, W) float32 GT depth, metres (planar z), 0 = none.
        mask: (H, W) bool evaluated pixels M = GT mask & GT depth > 0.
        pred: (H, W) float array as submitted (already validated: finite inside the GT mask).
        depth_kind: the predictions file's ``depth_kind``.
        K: (3, 3) intrinsics, or None (the normalised grid of :mod:`humandepth.data.geometry`).
        pred_normal: (H, W, 3) submitted normals or None.
        gt_normal: (H, W, 3) stored GT normals (camera frame, (0,0,0) = none) or None.
    """

    def __init__(self, sample_id: str, gt, gt_mask, pred, depth_kind: str, K=None, pred_normal=None,
                 gt_normal=None):
        self.id = sample_id
        self.gt = np.asarray(gt)
        self.mask = np.asarray(gt_mask, bool) & (self.gt > 0)
        self.pred = np.asarray(pred)
        self.depth_kind = depth_kind
        self.K = K
        self.pred_normal = pred_normal
        self.gt_normal = gt_normal

    @cached_property
    def g(self) -> np.ndarray:
        """(N,) float64 GT depth at the evaluated pixels, metres."""
        return self.gt[self.mask].astype(np.float64)

    @cached_property
    def p(self) -> np.ndarray:
        """(N,) float64 prediction at the evaluated pixels."""
        return self.pred[self.mask].astype(np.float64)

    @cached_property
    def tang_shift(self) -> float:
        return align.median_shift(self.g, self.p)

    def full(self, values: np.ndarray) -> np.ndarray:
        """Scatter (N,) values at the evaluated pixels into an (H, W) float64 map, NaN elsewhere."""
        out = np.full(self.gt.shape, np.nan)
        out[self.mask] = values
        return out


@dataclass
class SampleScore:
    """One sample under one protocol.

    ``metrics``: name -> value (NaN when it cannot be computed; ``note`` says why).  ``params``: the
    fitted alignment and pixel counts (numbers).  ``sums``: additive pixel sums (floats or int arrays)
    for :meth:`Protocol.pooled`.  ``aligned``: (N,) aligned prediction at the evaluated pixels
    (depth protocols), used for error maps.
    """

    metrics: dict[str, float]
    params: dict[str, float]
    sums: dict = field(default_factory=dict)
    aligned: np.ndarray | None = None
    note: str = ""


def add_sums(total: dict, sums: dict) -> dict:
    """Accumulate ``sums`` into ``total`` (in place) and return it."""
    for k, v in sums.items():
        total[k] = total[k] + v if k in total else (v.copy() if isinstance(v, np.ndarray) else v)
    return total


class Protocol:
    """Base class.  Subclasses set the class attributes and implement :meth:`score` and :meth:`pooled`."""

    name: str = ""
    version: str = ""
    metric_names: tuple[str, ...] = ()
    higher_is_better: frozenset[str] = frozenset()
    depth_kinds: tuple[str, ...] = ("metric", "relative", "inverse_relative")
    description: str = ""
    param_names: tuple[str, ...] = ()

    def config(self) -> dict:
        """Parameters that define the protocol beyond its version (recorded in summary.json)."""
        return {}

    def check_kind(self, depth_kind: str, where: str) -> None:
        if depth_kind not in self.depth_kinds:
            raise ValueError(
                f"protocol {self.name!r} cannot score {where}: its depth_kind is {depth_kind!r}, and "
                f"{self.name!r} needs one of {list(self.depth_kinds)}"
            )

    def score(self, view: SampleView) -> SampleScore:
        raise NotImplementedError

    def pooled(self, sums: dict) -> dict[str, float]:
        raise NotImplementedError

    def _nan(self, note: str, params: dict | None = None) -> SampleScore:
        p = {k: NAN for k in self.param_names}
        p.update(params or {})
        return SampleScore({m: NAN for m in self.metric_names}, p, {}, None, note)


def _ratio(num: float, den: float, scale: float = 1.0) -> float:
    return float(scale * num / den) if den else NAN


class Tang2019Protocol(Protocol):
    name = "tang2019"
    version = "2.0"
    metric_names = ("mae_cm", "acc_1.25cm", "acc_2.5cm", "acc_5cm", "auc_0.5m")
    higher_is_better = frozenset({"acc_1.25cm", "acc_2.5cm", "acc_5cm", "auc_0.5m"})
    depth_kinds = ("metric", "relative")
    description = "Tang et al. 2019: shift-only (median) alignment, absolute error in the mask"
    param_names = ("shift_m", "n_px")
    thresholds_m = {"acc_1.25cm": 0.0125, "acc_2.5cm": 0.025, "acc_5cm": 0.05}

    def score(self, view: SampleView) -> SampleScore:
        n = view.g.size
        if n == 0:
            return self._nan("no ground-truth pixels (mask & depth > 0 is empty)", {"n_px": 0})
        t = view.tang_shift
        aligned = view.p + t
        e = np.abs(aligned - view.g)
        hist = metrics.error_histogram(e)
        m = {"mae_cm": 100.0 * float(e.mean())}
        sums = {"n": n, "abs_sum": float(e.sum()), "hist": hist}
        for name, thr in self.thresholds_m.items():
            below = int(np.count_nonzero(e < thr))
            m[name] = 100.0 * below / n
            sums[name] = below
        m["auc_0.5m"] = metrics.auc_from_histogram(hist)
        return SampleScore(m, {"shift_m": t, "n_px": n}, sums, aligned)

    def pooled(self, sums: dict) -> dict[str, float]:
        n = sums.get("n", 0)
        if not n:
            return {k: NAN for k in self.metric_names}
        out = {"mae_cm": _ratio(sums["abs_sum"], n, 100.0)}
        for name in self.thresholds_m:
            out[name] = _ratio(sums[name], n, 100.0)
        out["auc_0.5m"] = metrics.auc_from_histogram(sums["hist"])
        return out


class _DepthErrorProtocol(Protocol):
    """Shared metrics of ``affine`` and ``metric``: absrel, rmse_mm, delta_* (percent)."""

    metric_names = ("absrel", "rmse_mm", "delta_1.05", "delta_1.10", "delta_1.25")
    higher_is_better = frozenset({"delta_1.05", "delta_1.10", "delta_1.25"})
    deltas = {"delta_1.05": 1.05, "delta_1.10": 1.10, "delta_1.25": 1.25}

    def _depth_score(self, aligned: np.ndarray, g: np.ndarray, params: dict) -> SampleScore:
        n = g.size
        diff = aligned - g
        rel_sum = float(np.sum(np.abs(diff) / g))
        sq_sum = float(np.sum(diff * diff))
        ratio = metrics.delta_ratio(aligned, g)
        m = {"absrel": rel_sum / n, "rmse_mm": 1000.0 * np.sqrt(sq_sum / n)}
        sums = {"n": n, "rel_sum": rel_sum, "sq_sum": sq_sum, "hist": metrics.error_histogram(np.abs(diff))}
        for name, tau in self.deltas.items():
            below = int(np.count_nonzero(ratio < tau))
            m[name] = 100.0 * below / n
            sums[name] = below
        return SampleScore(m, params, sums, aligned)

    def pooled(self, sums: dict) -> dict[str, float]:
        n = sums.get("n", 0)
        if not n:
            return {k: NAN for k in self.metric_names}
        out = {"absrel": sums["rel_sum"] / n, "rmse_mm": 1000.0 * float(np.sqrt(sums["sq_sum"] / n))}
        for name in self.deltas:
            out[name] = 100.0 * sums[name] / n
        return out


class AffineProtocol(_DepthErrorProtocol):
    name = "affine"
    version = "2.0"
    description = "least-squares scale and shift (in inverse depth for inverse_relative), float64"
    param_names = ("scale", "shift", "degenerate", "clamped_px", "n_px")

    def config(self) -> dict:
        return {"degenerate_rel_var": align.DEGENERATE_REL_VAR, "inverse_depth_cap": INVERSE_DEPTH_CAP}

    def score(self, view: SampleView) -> SampleScore:
        n = view.g.size
        if n == 0:
            return self._nan("no ground-truth pixels (mask & depth > 0 is empty)", {"n_px": 0, "degenerate": 0})
        inverse = view.depth_kind == "inverse_relative"
        fit = align.fit_affine(view.p, 1.0 / view.g if inverse else view.g)
        if not fit.ok:
            return self._nan("degenerate affine fit (the prediction has no spread over the mask)",
                             {"degenerate": 1, "clamped_px": 0, "n_px": n})
        clamped = 0
        if inverse:
            disparity = fit.scale * view.p + fit.shift
            floor = 1.0 / (INVERSE_DEPTH_CAP * float(view.g.max()))
            low = disparity < floor
            clamped = int(np.count_nonzero(low))
            aligned = 1.0 / np.where(low, floor, disparity)
        else:
            aligned = fit.scale * view.p + fit.shift
        params = {"scale": fit.scale, "shift": fit.shift, "degenerate": 0, "clamped_px": clamped, "n_px": n}
        return self._depth_score(aligned, view.g, params)


class MetricProtocol(_DepthErrorProtocol):
    name = "metric"
    version = "2.0"
    depth_kinds = ("metric",)
    description = "no alignment: the prediction is taken as metric depth"
    param_names = ("n_px",)

    def score(self, view: SampleView) -> SampleScore:
        n = view.g.size
        if n == 0:
            return self._nan("no ground-truth pixels (mask & depth > 0 is empty)", {"n_px": 0})
        return self._depth_score(view.p, view.g, {"n_px": n})


class DetailProtocol(Protocol):
    name = "detail"
    version = "2.0"
    metric_names = ("detail_mae_mm", "detail_rmse_mm", "normal_mean_deg", "normal_median_deg", "normal_11.25",
                    "normal_22.5", "normal_30")
    higher_is_better = frozenset({"normal_11.25", "normal_22.5", "normal_30"})
    depth_kinds = ("metric", "relative")
    description = "tang2019 shift, then base removed by the base/detail filter; residual and normal errors"
    param_names = ("shift_m", "n_px", "normal_px", "normal_missing_px", "normals_submitted")
    angle_thresholds = {"normal_11.25": 11.25, "normal_22.5": 22.5, "normal_30": 30.0}

    def __init__(self, base_detail_filter: BaseDetailFilter = DEFAULT_FILTER):
        self.filter = base_detail_filter

    def config(self) -> dict:
        return {"base_detail_filter": self.filter.to_dict(), "gt_normal_min_norm": GT_NORMAL_MIN_NORM,
                "angle_bin_deg_for_pooled_median": metrics.ANGLE_BIN_DEG}

    def _detail(self, depth: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Detail layer of ``depth`` inside ``mask`` (metres).  The filter is shift-invariant, so the depth is
        lifted to be positive in the mask first (split_base_detail ignores depth <= 0) without changing it."""
        lift = max(0.0, 1e-3 - float(np.min(depth[mask])))
        _, detail = split_base_detail((depth + lift).astype(np.float32), mask, self.filter)
        return detail

    def score(self, view: SampleView) -> SampleScore:
        n = view.g.size
        if n == 0:
            return self._nan("no ground-truth pixels (mask & depth > 0 is empty)", {"n_px": 0})
        mask = view.mask
        t = view.tang_shift
        aligned_full = np.where(mask, view.pred.astype(np.float64) + t, 0.0)
        r = self._detail(aligned_full, mask)[mask].astype(np.float64) - self._detail(view.gt, mask)[mask]
        m = {"detail_mae_mm": 1000.0 * float(np.mean(np.abs(r))),
             "detail_rmse_mm": 1000.0 * float(np.sqrt(np.mean(r * r)))}
        sums = {"n": n, "r_abs_sum": float(np.sum(np.abs(r))), "r_sq_sum": float(np.sum(r * r))}

        submitted = view.pred_normal is not None
        n_pred = (np.asarray(view.pred_normal) if submitted
                  else normals_from_depth(aligned_full.astype(np.float32), view.K, mask))
        n_gt = view.gt_normal if view.gt_normal is not None else normals_from_depth(view.gt, view.K, mask)
        gt_ok = mask & (np.einsum("hwc,hwc->hw", n_gt, n_gt) > GT_NORMAL_MIN_NORM**2)
        a, b = n_pred[gt_ok], n_gt[gt_ok]
        missing = int(np.count_nonzero(~np.any(a != 0, axis=1)))
        nn = int(a.shape[0])
        params = {"shift_m": t, "n_px": n, "normal_px": nn, "normal_missing_px": missing,
                  "normals_submitted": int(submitted)}
        note = ""
        if nn == 0:
            m.update({k: NAN for k in self.metric_names if k.startswith("normal_")})
            note = "no pixel with a ground-truth normal"
        else:
            theta = metrics.angles_deg(a, b)
            m["normal_mean_deg"] = float(theta.mean())
            m["normal_median_deg"] = float(np.median(theta))
            sums.update({"nn": nn, "angle_sum": float(theta.sum()), "angle_hist": metrics.angle_histogram(theta)})
            for name, thr in self.angle_thresholds.items():
                below = int(np.count_nonzero(theta < thr))
                m[name] = 100.0 * below / nn
                sums[name] = below
        return SampleScore(m, params, sums, view.p + t, note)

    def pooled(self, sums: dict) -> dict[str, float]:
        out = {k: NAN for k in self.metric_names}
        n = sums.get("n", 0)
        if n:
            out["detail_mae_mm"] = 1000.0 * sums["r_abs_sum"] / n
            out["detail_rmse_mm"] = 1000.0 * float(np.sqrt(sums["r_sq_sum"] / n))
        nn = sums.get("nn", 0)
        if nn:
            out["normal_mean_deg"] = sums["angle_sum"] / nn
            out["normal_median_deg"] = metrics.median_from_angle_histogram(sums["angle_hist"])
            for name in self.angle_thresholds:
                out[name] = 100.0 * sums[name] / nn
        return out


PROTOCOLS: dict[str, type[Protocol]] = {
    p.name: p for p in (Tang2019Protocol, AffineProtocol, MetricProtocol, DetailProtocol)
}
PROTOCOL_NAMES = tuple(PROTOCOLS)


def make_protocol(name: str, base_detail_filter: BaseDetailFilter | None = None) -> Protocol:
    """The protocol called ``name``; ``detail`` uses ``base_detail_filter`` (default: DEFAULT_FILTER)."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; choose from {list(PROTOCOL_NAMES)}")
    if name == "detail":
        return DetailProtocol(base_detail_filter or DEFAULT_FILTER)
    return PROTOCOLS[name]()

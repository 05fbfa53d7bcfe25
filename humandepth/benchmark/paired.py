"""Paired comparison of two runs on the same dataset: is one method really better than the other?

Two methods scored on the same samples are compared sample by sample: the per-sample differences of a
metric share the samples' difficulty, so their mean has a far tighter interval than the two methods'
own intervals suggest.  The leaderboard reports, for every method, its paired difference to the
best-ranked one that does not read ground truth, with a seeded bootstrap 95 % interval; an interval that
contains 0 (or fewer than ten shared samples) is a tie.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from humandepth.benchmark.run import BOOTSTRAP_RESAMPLES, bootstrap_ci

PAIRED_SEED = 0  # fixed, so the same two runs always give the same interval
MIN_PAIRED_SAMPLES = 10  # below this, no difference is called significant


@dataclass(frozen=True)
class PairedDifference:
    """``mean`` of ``a - b`` over ``n`` samples scored by both, its bootstrap 95 % interval
    [``low``, ``high``], and on how many samples ``a`` was better (lower, or higher when
    ``higher_is_better``)."""

    mean: float
    low: float
    high: float
    n: int
    a_better: int

    @property
    def significant(self) -> bool:
        """The interval excludes 0, over at least :data:`MIN_PAIRED_SAMPLES` samples (a bootstrap of one or two
        differences is no interval at all)."""
        return self.n >= MIN_PAIRED_SAMPLES and math.isfinite(self.low) and (self.low > 0 or self.high < 0)


def paired_difference(a, b, column: str, higher_is_better: bool = False,
                      resamples: int = BOOTSTRAP_RESAMPLES) -> PairedDifference | None:
    """Paired ``a - b`` of ``column`` between two per-sample tables (pandas, with an ``id`` column).

    Samples are matched by id; those missing from either table or not finite in either are left out.
    Returns None when no sample is left or either table lacks ``column``.
    """
    if a is None or b is None or column not in a or column not in b:
        return None
    joined = a[["id", column]].merge(b[["id", column]], on="id", suffixes=("_a", "_b"))
    d = joined[f"{column}_a"].to_numpy(np.float64) - joined[f"{column}_b"].to_numpy(np.float64)
    d = d[np.isfinite(d)]
    if d.size == 0:
        return None
    low, high = bootstrap_ci(d, PAIRED_SEED, resamples)
    better = int((d > 0).sum() if higher_is_better else (d < 0).sum())
    return PairedDifference(float(d.mean()), low, high, int(d.size), better)

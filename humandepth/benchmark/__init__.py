"""The standardized benchmark: submission validation, alignment, metrics, protocols, runs and leaderboards.

Entry points: :func:`run_benchmark` (``humandepth benchmark``) and :func:`write_leaderboard`
(``humandepth leaderboard``).  Protocol definitions: :mod:`humandepth.benchmark.protocols` and
``docs/benchmark.md``.
"""

from humandepth.benchmark.leaderboard import write_leaderboard
from humandepth.benchmark.protocols import PROTOCOL_NAMES, make_protocol
from humandepth.benchmark.run import run_benchmark
from humandepth.benchmark.validate import SubmissionError, validate_predictions

__all__ = ["PROTOCOL_NAMES", "SubmissionError", "make_protocol", "run_benchmark", "validate_predictions",
           "write_leaderboard"]

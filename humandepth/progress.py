"""The one progress printer of every long command (render, fuse, benchmark, baselines, export).

``LABEL: done/total UNIT  rate UNIT/s  ETA Ns`` on stderr, at most once per ``every_s`` seconds and always at
the end.  Imported by every layer; imports nothing of humandepth.
"""

from __future__ import annotations

import sys
import time


class Progress:
    """Counts finished work units and prints ``LABEL: done/total UNIT  rate UNIT/s  ETA`` on stderr now and then.

    Args:
        label: the command (``"render"``), first on every line.
        total: units to do; ``update`` calls add up to it.
        unit: what is counted (``"samples"``, ``"takes"``).
        enabled: False prints nothing (``--quiet``).
        every_s: the least time between two lines (0: a line per update).
    """

    def __init__(self, label: str, total: int, unit: str = "samples", enabled: bool = True, every_s: float = 1.0):
        self.label, self.total, self.unit, self.enabled, self.every_s = label, total, unit, enabled, every_s
        self.stream = sys.stderr
        self.done = 0
        self.t0 = self.last = time.perf_counter()

    def update(self, n: int, note: str = "") -> None:
        """``n`` more units are done; ``note`` is shown after the line (e.g. which task finished)."""
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self.last >= self.every_s or self.done >= self.total):
            self.last = now
            rate = self.done / max(now - self.t0, 1e-9)
            eta = (self.total - self.done) / rate if rate > 0 else float("inf")
            eta_s = "?" if eta == float("inf") else f"{eta:.0f}s"
            extra = f"  ({note})" if note else ""
            print(f"{self.label}: {self.done}/{self.total} {self.unit}  {rate:.2f} {self.unit}/s  ETA {eta_s}{extra}",
                  file=self.stream, flush=True)

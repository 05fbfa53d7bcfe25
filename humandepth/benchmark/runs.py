"""Benchmark runs on disk: load a run folder, check that runs can be merged, and rank them.

A run is a folder written by :func:`humandepth.benchmark.run.run_benchmark`.  Runs are merged only when they
scored the same ground truth (equal dataset sha256) and every protocol they share has the same version and
configuration; otherwise :func:`check_compatible` refuses, saying which runs differ.  Ranking: by each
protocol's first metric (its direction from the run), with paired per-sample differences to the best run
that does not read ground truth (:mod:`humandepth.benchmark.paired`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from humandepth.benchmark.paired import PairedDifference, paired_difference
from humandepth.benchmark.run import SUMMARY_NAME


@dataclass
class Run:
    """One run directory: its path, its ``summary.json`` and its cumulative error curves (pandas or None)."""

    dir: Path
    summary: dict
    curves: object = None
    per_sample: object = None  # pandas DataFrame of per_sample.csv, or None

    @property
    def method(self) -> str:
        return str(self.summary.get("method", "?"))


def load_run(run_dir) -> Run:
    """Read a run directory; FileNotFoundError / ValueError name the directory when it is not a run."""
    import pandas as pd

    run_dir = Path(run_dir)
    if run_dir.is_file():
        hint = f"pass the run folder {run_dir.parent}" if run_dir.name == SUMMARY_NAME else \
            "pass a run folder written by `humandepth benchmark ... --out DIR`"
        raise ValueError(f"{run_dir} is a file; {hint}")
    path = run_dir / SUMMARY_NAME
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a benchmark run: {SUMMARY_NAME} is missing "
                                "(write one with `humandepth benchmark ... --out DIR`)")
    try:
        summary = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    for key in ("method", "dataset", "protocols"):
        if key not in summary:
            raise ValueError(f"{path} lacks the field {key!r}; was it written by `humandepth benchmark`?")
    curves = None
    name = summary.get("cumulative_error")
    if name and (run_dir / name).is_file():
        curves = pd.read_csv(run_dir / name)
    per_sample = None
    if (run_dir / "per_sample.csv").is_file():
        try:
            per_sample = pd.read_csv(run_dir / "per_sample.csv", dtype={"id": str})
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise ValueError(f"{run_dir / 'per_sample.csv'} cannot be read ({e}); rerun `humandepth benchmark`") \
                from None
    return Run(run_dir, summary, curves, per_sample)


def check_compatible(runs: list[Run]) -> None:
    """Raise ValueError unless all runs share the dataset checksum (or, for builds of a canonical test split, the
    split and its fingerprint) and each shared protocol's version/config."""
    if not runs:
        raise ValueError("no benchmark runs to merge")
    ref = runs[0]
    for r in runs[1:]:
        a, b = ref.summary["dataset"], r.summary["dataset"]
        sa, sb = a.get("split") or {}, b.get("split") or {}
        if sa and sb:  # two builds of canonical splits: the same split and fingerprint, whatever machine built them
            if (sa.get("name"), sa.get("fingerprint_sha256")) != (sb.get("name"), sb.get("fingerprint_sha256")):
                raise ValueError(
                    f"cannot merge runs on different test splits: {ref.dir} scored split {sa.get('name')!r} "
                    f"(fingerprint {str(sa.get('fingerprint_sha256'))[:12]}...) but {r.dir} scored split "
                    f"{sb.get('name')!r} (fingerprint {str(sb.get('fingerprint_sha256'))[:12]}...); rebuild the "
                    "split with `humandepth datasets build NAME` from one humandepth version and score both on it"
                )
            continue
        if a.get("sha256") != b.get("sha256"):
            raise ValueError(
                f"cannot merge runs scored on different ground truth: {ref.dir} scored dataset {a.get('name')!r} "
                f"(sha256 {str(a.get('sha256'))[:12]}...) but {r.dir} scored {b.get('name')!r} "
                f"(sha256 {str(b.get('sha256'))[:12]}...); score every method on the same dataset"
            )
    seen: dict[str, tuple[Run, dict]] = {}
    for r in runs:
        for name, entry in r.summary["protocols"].items():
            if name not in seen:
                seen[name] = (r, entry)
                continue
            first_run, first = seen[name]
            if first.get("version") != entry.get("version"):
                raise ValueError(
                    f"cannot merge protocol {name!r} version {first.get('version')} ({first_run.dir}) with version "
                    f"{entry.get('version')} ({r.dir}): scores under different protocol versions are not "
                    "comparable; re-score both with the same humandepth version"
                )
            if first.get("config") != entry.get("config"):
                raise ValueError(
                    f"cannot merge protocol {name!r}: {first_run.dir} ran it with {first.get('config')} but {r.dir} "
                    f"with {entry.get('config')}; re-score both with the same settings"
                )


def protocol_names(runs: list[Run]) -> list[str]:
    names: list[str] = []
    for r in runs:
        names += [n for n in r.summary["protocols"] if n not in names]
    return names


def labels(runs: list[Run]) -> list[str]:
    """Display names: the method, plus the run directory's name where two runs share a method name."""
    counts: dict[str, int] = {}
    for r in runs:
        counts[r.method] = counts.get(r.method, 0) + 1
    return [r.method if counts[r.method] == 1 else f"{r.method} [{r.dir.name}]" for r in runs]


def num(v) -> float:
    return float(v) if isinstance(v, int | float) and v is not None else float("nan")


def fmt(v) -> str:
    """A metric value for tables: 'n/a' for missing, otherwise 0-4 decimals by magnitude."""
    v = num(v)
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 100 else f"{v:.2f}" if a >= 1 else f"{v:.4f}"


def ranked(runs: list[Run], name: str) -> list[int]:
    """Indices of the runs that have protocol ``name``, best first by its first metric (n/a last)."""
    idx = [i for i, r in enumerate(runs) if name in r.summary["protocols"]]
    entry = runs[idx[0]].summary["protocols"][name]
    first = entry["ci95"]["metric"] if "ci95" in entry else next(iter(entry["metrics"]))
    sign = -1.0 if first in entry.get("higher_is_better", []) else 1.0

    def key(i):
        v = num(runs[i].summary["protocols"][name]["metrics"].get(first))
        return (0, sign * v) if math.isfinite(v) else (1, 0.0)

    return sorted(idx, key=key)


def uses_gt(run: Run) -> bool:
    """Whether the run's predictions read ground truth (an oracle baseline: ``oracle_uses_gt`` recorded)."""
    attrs = (run.summary.get("predictions") or {}).get("attrs") or {}
    return bool(str(attrs.get("oracle_uses_gt", "") or "").strip())


def paired_reference(runs: list[Run], name: str) -> int:
    """Index of the run the others are compared with under protocol ``name``: the best-ranked run whose
    predictions do not read ground truth (an oracle at #1 would make every comparison say the same), else #1."""
    order = ranked(runs, name)
    return next((i for i in order if not uses_gt(runs[i])), order[0])


def paired_to_best(runs: list[Run], name: str) -> dict[int, PairedDifference | None]:
    """For each run with protocol ``name`` except the reference (:func:`paired_reference`): its paired difference
    to the reference on the protocol's first metric (``run - reference``, over the samples both scored)."""
    order = ranked(runs, name)
    ref = paired_reference(runs, name)
    entry = runs[order[0]].summary["protocols"][name]
    metric = next(iter(entry["metrics"]))
    higher = metric in entry.get("higher_is_better", [])
    best = runs[ref].per_sample
    return {i: paired_difference(runs[i].per_sample, best, f"{name}.{metric}", higher) for i in order if i != ref}


def all_paired(runs: list[Run]) -> dict[str, dict[int, PairedDifference | None]]:
    """:func:`paired_to_best` for every protocol (the bootstraps are the slow part: compute them once and hand
    the result to the csv, Markdown and HTML renderers)."""
    return {name: paired_to_best(runs, name) for name in protocol_names(runs)}

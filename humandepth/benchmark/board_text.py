"""A leaderboard as text: the Markdown page (``leaderboard.md``) and the table (``leaderboard.csv``)."""

from __future__ import annotations

import html
import math

from humandepth.benchmark.paired import MIN_PAIRED_SAMPLES, PairedDifference
from humandepth.benchmark.runs import (
    Run,
    all_paired,
    check_compatible,
    fmt,
    labels,
    num,
    paired_reference,
    paired_to_best,
    protocol_names,
    ranked,
)


def fmt_paired(d: PairedDifference | None) -> str:
    """``+0.43 [+0.07, +0.80]`` (and `` tie`` when the interval contains 0); ``n/a`` without per-sample data."""
    if d is None:
        return "n/a"
    finite = [abs(v) for v in (d.mean, d.low, d.high) if math.isfinite(v)]
    digits = 2 if max(finite, default=0.0) >= 0.1 else 4  # one precision for the three numbers

    def signed(v: float) -> str:
        return f"{v:+.{digits}f}"

    text = f"{signed(d.mean)} [{signed(d.low)}, {signed(d.high)}]" if math.isfinite(d.low) else signed(d.mean)
    if d.n < MIN_PAIRED_SAMPLES:
        return f"{text} n={d.n}, too few"
    return text if d.significant else f"{text} tie"


def arrow(entry: dict, metric: str) -> str:
    return "↑" if metric in entry.get("higher_is_better", []) else "↓"


def leaderboard_frame(runs: list[Run], paired: dict | None = None):
    """pandas DataFrame, one row per run: identity columns, then ``<protocol>.<metric>`` means, the first
    metric's bootstrap interval and pooled value, and ``<protocol>.n_nan``."""
    import pandas as pd

    rows = []
    for r, label in zip(runs, labels(runs), strict=True):
        s = r.summary
        row = {"method": label, "depth_kind": s.get("depth_kind"), "run": str(r.dir),
               "predictions_sha256": s.get("predictions", {}).get("sha256"), "dataset": s["dataset"].get("name"),
               "dataset_sha256": s["dataset"].get("sha256"),
               "evaluated_fraction": num(s["dataset"].get("evaluated_fraction")),
               "split": (s["dataset"].get("split") or {}).get("name"),
               "split_fingerprint_sha256": (s["dataset"].get("split") or {}).get("fingerprint_sha256")}
        for name, entry in s["protocols"].items():
            row[f"{name}.version"] = entry.get("version")
            for m, v in entry["metrics"].items():
                row[f"{name}.{m}"] = num(v)
            ci = entry.get("ci95", {})
            if ci:
                row[f"{name}.{ci['metric']}.ci95_low"] = num(ci.get("low"))
                row[f"{name}.{ci['metric']}.ci95_high"] = num(ci.get("high"))
                row[f"{name}.{ci['metric']}.pooled"] = num(entry.get("pooled", {}).get(ci["metric"]))
            row[f"{name}.n_nan"] = entry.get("n_nan")
        rows.append(row)
    names = labels(runs)
    paired = paired or all_paired(runs)
    for name in protocol_names(runs):
        metric = next(iter(runs[ranked(runs, name)[0]].summary["protocols"][name]["metrics"]))
        reference = names[paired_reference(runs, name)]
        for i, d in paired[name].items():
            if d is not None:
                rows[i].update({f"{name}.{metric}.paired_diff": d.mean, f"{name}.{metric}.paired_low": d.low,
                                f"{name}.{metric}.paired_high": d.high, f"{name}.{metric}.paired_n": d.n,
                                f"{name}.paired_reference": reference})
    return pd.DataFrame(rows)


PAIRED_NOTE = ("Last column: the method's per-sample difference, on the protocol's first metric, to the best-ranked "
               "method that does not read ground truth (the one named in the header; #1 when every method reads "
               "it): method minus that one, over the samples both scored, its mean and bootstrap 95% interval; "
               "'tie' marks an interval that contains 0, 'too few' fewer than ten shared samples.")


def md_text(s: str) -> str:
    """Escape a name for a Markdown table cell (HTML special characters, pipes, newlines)."""
    return html.escape(str(s), quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def split_text(ds: dict) -> str:
    """'Test split NAME, fingerprint sha256 ...' for a run on a verified split build, else ""."""
    split = ds.get("split") or {}
    if not split:
        return ""
    return (f"Test split {split.get('name')}, fingerprint sha256 {split.get('fingerprint_sha256')} (rebuilt with "
            "`humandepth datasets build` and checked against it; runs on other fingerprints are refused).")


def evaluated_text(ds: dict) -> str:
    """'Evaluated: 93.9 % of the person-mask pixels (N of M) have a ground-truth value (rule: ...).' from a
    summary's dataset entry; "" for a run written before the fraction was recorded."""
    frac, n, total = num(ds.get("evaluated_fraction")), ds.get("evaluated_px"), ds.get("mask_px")
    if not math.isfinite(frac):
        return ""
    rule = str(ds.get("gt_validity") or "")
    return (f"Evaluated: {100 * frac:.1f} % of the person-mask pixels ({n} of {total}) have a ground-truth value"
            f"{f' (rule: {rule})' if rule else ''}; the rest are scored by no protocol.")


def render_markdown(runs: list[Run], paired: dict | None = None) -> str:
    check_compatible(runs)
    ds = runs[0].summary["dataset"]
    names = labels(runs)
    lines = [f"# Leaderboard: {md_text(ds.get('name'))}", "",
             f"Dataset sha256 `{ds.get('sha256')}`, {ds.get('count')} samples. Values are means over samples "
             "(↓ lower is better, ↑ higher is better); the first metric shows its bootstrap 95% interval in "
             "brackets and its pooled-pixel value; `NaN` counts samples that could not be scored.", ""]
    for text in (split_text(ds), evaluated_text(ds)):
        if text:
            lines += [md_text(text), ""]
    for name in protocol_names(runs):
        order = ranked(runs, name)
        entry = runs[order[0]].summary["protocols"][name]
        mets = list(entry["metrics"])
        lines += [f"## {name} (version {entry.get('version')})", "", md_text(entry.get("description", "")), ""]
        head = ["rank", "method", *[f"{m} {arrow(entry, m)}" for m in mets], f"{mets[0]} pooled", "NaN",
                f"{mets[0]} vs {md_text(names[paired_reference(runs, name)])}, paired [95% CI]"]
        lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        deltas = paired[name] if paired else paired_to_best(runs, name)
        for rank, i in enumerate(order, 1):
            e = runs[i].summary["protocols"][name]
            cells = [fmt(e["metrics"].get(m)) for m in mets]
            ci = e.get("ci95") or {}
            if math.isfinite(num(ci.get("low"))):
                cells[0] += f" [{fmt(ci.get('low'))}, {fmt(ci.get('high'))}]"
            lines.append("| " + " | ".join([str(rank), md_text(names[i]), *cells,
                                            fmt(e.get("pooled", {}).get(mets[0])), str(e.get("n_nan", 0)),
                                            fmt_paired(deltas[i]) if i in deltas else "-"]) + " |")
        lines.append("")
    lines.append(PAIRED_NOTE)
    return "\n".join(lines)

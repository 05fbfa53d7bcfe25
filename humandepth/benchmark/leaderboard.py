"""Merge benchmark runs into one leaderboard: ``leaderboard.md``, ``leaderboard.csv`` and ``index.html``.

A run is a directory written by :func:`humandepth.benchmark.run.run_benchmark`.  Runs are merged only
when they scored the same ground truth (equal dataset sha256) and every protocol they share has the
same version and configuration; otherwise :func:`check_compatible` refuses, saying which runs differ.

The HTML page is static and self-contained apart from the thumbnail PNGs copied beside it: tables,
error-map thumbnails per method, cumulative error curves as inline SVG; no JavaScript, no network.
Every string that comes from a predictions file (method names, attributes) is HTML-escaped.
"""

from __future__ import annotations

import html
import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from humandepth.benchmark.images import ERROR_MAP_MAX_M, css_gradient
from humandepth.benchmark.paired import MIN_PAIRED_SAMPLES, PairedDifference, paired_difference
from humandepth.outdir import OutputKind, check_out_whole, staged

SUMMARY_NAME = "summary.json"
# what a leaderboard folder holds; anything else there is someone else's and never replaced
LEADERBOARD_OUTPUT = OutputKind("leaderboard", "leaderboard.csv", ("leaderboard.md", "index.html", "thumbs"))
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


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
    """Raise ValueError unless all runs share the dataset checksum and each shared protocol's version/config."""
    if not runs:
        raise ValueError("no benchmark runs to merge")
    ref = runs[0]
    for r in runs[1:]:
        a, b = ref.summary["dataset"], r.summary["dataset"]
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


def _num(v) -> float:
    return float(v) if isinstance(v, int | float) and v is not None else float("nan")


def fmt(v) -> str:
    """A metric value for tables: 'n/a' for missing, otherwise 0-4 decimals by magnitude."""
    v = _num(v)
    if not math.isfinite(v):
        return "n/a"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 100 else f"{v:.2f}" if a >= 1 else f"{v:.4f}"


def _ranked(runs: list[Run], name: str) -> list[int]:
    """Indices of the runs that have protocol ``name``, best first by its first metric (n/a last)."""
    idx = [i for i, r in enumerate(runs) if name in r.summary["protocols"]]
    entry = runs[idx[0]].summary["protocols"][name]
    first = entry["ci95"]["metric"] if "ci95" in entry else next(iter(entry["metrics"]))
    sign = -1.0 if first in entry.get("higher_is_better", []) else 1.0

    def key(i):
        v = _num(runs[i].summary["protocols"][name]["metrics"].get(first))
        return (0, sign * v) if math.isfinite(v) else (1, 0.0)

    return sorted(idx, key=key)




def uses_gt(run: Run) -> bool:
    """Whether the run's predictions read ground truth (an oracle baseline: ``oracle_uses_gt`` recorded)."""
    attrs = (run.summary.get("predictions") or {}).get("attrs") or {}
    return bool(str(attrs.get("oracle_uses_gt", "") or "").strip())


def paired_reference(runs: list[Run], name: str) -> int:
    """Index of the run the others are compared with under protocol ``name``: the best-ranked run whose
    predictions do not read ground truth (an oracle at #1 would make every comparison say the same), else #1."""
    order = _ranked(runs, name)
    return next((i for i in order if not uses_gt(runs[i])), order[0])


def paired_to_best(runs: list[Run], name: str) -> dict[int, PairedDifference | None]:
    """For each run with protocol ``name`` except the reference (:func:`paired_reference`): its paired difference
    to the reference on the protocol's first metric (``run - reference``, over the samples both scored)."""
    order = _ranked(runs, name)
    ref = paired_reference(runs, name)
    entry = runs[order[0]].summary["protocols"][name]
    metric = next(iter(entry["metrics"]))
    higher = metric in entry.get("higher_is_better", [])
    best = runs[ref].per_sample
    return {i: paired_difference(runs[i].per_sample, best, f"{name}.{metric}", higher) for i in order if i != ref}


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


def _arrow(entry: dict, metric: str) -> str:
    return "↑" if metric in entry.get("higher_is_better", []) else "↓"


def all_paired(runs: list[Run]) -> dict[str, dict[int, PairedDifference | None]]:
    """:func:`paired_to_best` for every protocol (the bootstraps are the slow part: compute them once and hand
    the result to the csv, Markdown and HTML renderers)."""
    return {name: paired_to_best(runs, name) for name in protocol_names(runs)}


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
               "evaluated_fraction": _num(s["dataset"].get("evaluated_fraction"))}
        for name, entry in s["protocols"].items():
            row[f"{name}.version"] = entry.get("version")
            for m, v in entry["metrics"].items():
                row[f"{name}.{m}"] = _num(v)
            ci = entry.get("ci95", {})
            if ci:
                row[f"{name}.{ci['metric']}.ci95_low"] = _num(ci.get("low"))
                row[f"{name}.{ci['metric']}.ci95_high"] = _num(ci.get("high"))
                row[f"{name}.{ci['metric']}.pooled"] = _num(entry.get("pooled", {}).get(ci["metric"]))
            row[f"{name}.n_nan"] = entry.get("n_nan")
        rows.append(row)
    names = labels(runs)
    paired = paired or all_paired(runs)
    for name in protocol_names(runs):
        metric = next(iter(runs[_ranked(runs, name)[0]].summary["protocols"][name]["metrics"]))
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


def _md_text(s: str) -> str:
    """Escape a name for a Markdown table cell (HTML special characters, pipes, newlines)."""
    return html.escape(str(s), quote=False).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def evaluated_text(ds: dict) -> str:
    """'Evaluated: 93.9 % of the person-mask pixels (N of M) have a ground-truth value (rule: ...).' from a
    summary's dataset entry; "" for a run written before the fraction was recorded."""
    frac, n, total = _num(ds.get("evaluated_fraction")), ds.get("evaluated_px"), ds.get("mask_px")
    if not math.isfinite(frac):
        return ""
    rule = str(ds.get("gt_validity") or "")
    return (f"Evaluated: {100 * frac:.1f} % of the person-mask pixels ({n} of {total}) have a ground-truth value"
            f"{f' (rule: {rule})' if rule else ''}; the rest are scored by no protocol.")


def render_markdown(runs: list[Run], paired: dict | None = None) -> str:
    check_compatible(runs)
    ds = runs[0].summary["dataset"]
    names = labels(runs)
    lines = [f"# Leaderboard: {_md_text(ds.get('name'))}", "",
             f"Dataset sha256 `{ds.get('sha256')}`, {ds.get('count')} samples. Values are means over samples "
             "(↓ lower is better, ↑ higher is better); the first metric shows its bootstrap 95% interval in "
             "brackets and its pooled-pixel value; `NaN` counts samples that could not be scored.", ""]
    if evaluated_text(ds):
        lines += [_md_text(evaluated_text(ds)), ""]
    for name in protocol_names(runs):
        order = _ranked(runs, name)
        entry = runs[order[0]].summary["protocols"][name]
        mets = list(entry["metrics"])
        lines += [f"## {name} (version {entry.get('version')})", "", _md_text(entry.get("description", "")), ""]
        head = ["rank", "method", *[f"{m} {_arrow(entry, m)}" for m in mets], f"{mets[0]} pooled", "NaN",
                f"{mets[0]} vs {_md_text(names[paired_reference(runs, name)])}, paired [95% CI]"]
        lines += ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
        deltas = paired[name] if paired else paired_to_best(runs, name)
        for rank, i in enumerate(order, 1):
            e = runs[i].summary["protocols"][name]
            cells = [fmt(e["metrics"].get(m)) for m in mets]
            ci = e.get("ci95") or {}
            if math.isfinite(_num(ci.get("low"))):
                cells[0] += f" [{fmt(ci.get('low'))}, {fmt(ci.get('high'))}]"
            lines.append("| " + " | ".join([str(rank), _md_text(names[i]), *cells,
                                            fmt(e.get("pooled", {}).get(mets[0])), str(e.get("n_nan", 0)),
                                            fmt_paired(deltas[i]) if i in deltas else "-"]) + " |")
        lines.append("")
    lines.append(PAIRED_NOTE)
    return "\n".join(lines)


def _curve_range(runs: list[Run], protocol: str) -> float:
    """x extent of the plot: where every curve has reached 99 %, rounded up to 5 cm (0.05 .. 0.5 m)."""
    reach = 0.05
    for r in runs:
        if r.curves is None:
            continue
        c = r.curves[r.curves["protocol"] == protocol]
        above = c[c["cumulative_pct"] >= 99.0]["error_m"]
        reach = max(reach, float(above.min()) if len(above) else 0.5)
    return min(0.5, math.ceil(round(reach / 0.05, 6)) * 0.05)


def _svg_curves(runs: list[Run], names: list[str], protocol: str) -> str:
    """Inline SVG of the cumulative error curves (percent of pixels with |error| below x) for one protocol."""
    w, h, left, right, top, bottom = 520, 300, 50, 10, 10, 40
    pw, ph = w - left - right, h - top - bottom
    x_max = _curve_range(runs, protocol)

    def sx(x):
        return left + pw * x / x_max

    def sy(y):
        return top + ph * (1.0 - y / 100.0)

    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="cumulative error curves, {e(protocol)}">',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="#fff" stroke="#888"/>']
    for k in range(0, 5):
        y = 25 * k
        parts.append(f'<line x1="{left}" x2="{left + pw}" y1="{sy(y):.1f}" y2="{sy(y):.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 6}" y="{sy(y) + 4:.1f}" font-size="11" text-anchor="end">{y}%</text>')
    for k in range(0, 6):
        x = x_max * k / 5
        parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>'
                     f'<text x="{sx(x):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle">'
                     f"{100 * x:.0f} cm</text>")
    parts.append(f'<text x="{left + pw / 2}" y="{h - 4}" font-size="12" text-anchor="middle">'
                 "absolute depth error after alignment</text>")
    for i, r in enumerate(runs):
        if r.curves is None:
            continue
        c = r.curves[r.curves["protocol"] == protocol]
        if c.empty:
            continue
        c = c[c["error_m"] <= x_max + 1e-9]
        pts = [(0.0, 0.0), *zip(c["error_m"].astype(float), c["cumulative_pct"].astype(float), strict=True)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts if math.isfinite(y))
        parts.append(f'<polyline fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="2" '
                     f'points="{path}"><title>{e(names[i])}</title></polyline>')
    parts.append("</svg>")
    return "".join(parts)


MAX_DOTS = 400  # a strip-plot row shows at most this many dots (quantiles of the samples beyond it)


def _dots(values: list[float]) -> list[float]:
    """The values to draw as dots: all of them, or :data:`MAX_DOTS` evenly spaced quantiles when there are more
    (the same shape, a page that stays small for a 10 000-sample benchmark)."""
    if len(values) <= MAX_DOTS:
        return values
    return np.quantile(np.asarray(values, np.float64), np.linspace(0.0, 1.0, MAX_DOTS)).tolist()


def _svg_distribution(runs: list[Run], names: list[str], protocol: str, metric: str) -> str | None:
    """Inline SVG strip plot of one metric's per-sample values: a row per method, a dot per sample, a tick at
    the median.  None when no run has per-sample values for it."""
    column = f"{protocol}.{metric}"
    values = []
    for r in runs:
        v = r.per_sample[column].to_numpy(float) if r.per_sample is not None and column in r.per_sample else []
        values.append([x for x in v if math.isfinite(x)])
    finite = [x for v in values for x in v]
    if not finite:
        return None
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    label_w, w, row_h, top, bottom = 190, 720, 22, 10, 34
    pw = w - label_w - 20
    h = top + row_h * len(runs) + bottom

    def sx(x):
        return label_w + pw * (x - lo) / (hi - lo)

    e = html.escape
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" '
             f'aria-label="per-sample {e(column)}">']
    for k in range(6):
        x = lo + (hi - lo) * k / 5
        parts.append(f'<line x1="{sx(x):.1f}" x2="{sx(x):.1f}" y1="{top}" y2="{h - bottom}" stroke="#eee"/>'
                     f'<text x="{sx(x):.1f}" y="{h - bottom + 14}" font-size="11" text-anchor="middle">{x:.3g}</text>')
    many = max(len(v) for v in values) > MAX_DOTS
    parts.append(f'<text x="{label_w + pw / 2}" y="{h - 4}" font-size="12" text-anchor="middle">{e(column)} '
                 f"per sample (tick: median{f'; {MAX_DOTS} evenly spaced quantiles per row' if many else ''})</text>")
    for i, v in enumerate(values):
        y = top + row_h * i + row_h / 2
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<text x="{label_w - 8}" y="{y + 4:.1f}" font-size="12" text-anchor="end">{e(names[i])}</text>')
        parts += [f'<circle cx="{sx(x):.1f}" cy="{y:.1f}" r="3" fill="{colour}" fill-opacity="0.55"/>'
                  for x in _dots(v)]
        if v:
            med = float(np.median(v))
            parts.append(f'<line x1="{sx(med):.1f}" x2="{sx(med):.1f}" y1="{y - 8:.1f}" y2="{y + 8:.1f}" '
                         f'stroke="#222" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


CSS = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: right; font-size: 14px; }
td.name, th.name { text-align: left; }
.thumbs td { text-align: center; vertical-align: top; font-size: 12px; }
.thumbs img { image-rendering: pixelated; width: 128px; }
.swatch { display: inline-block; width: 14px; height: 4px; margin-right: 6px; vertical-align: middle; }
.bar { display: inline-block; width: 240px; height: 12px; vertical-align: middle; margin: 0 6px; }
code { font-size: 12px; }
"""


def render_html(runs: list[Run], thumb_paths: dict, rgb_paths: dict, paired: dict | None = None) -> str:
    """The static page.  ``thumb_paths[(run index, sample id)]`` and ``rgb_paths[sample id]``: relative PNG paths."""
    check_compatible(runs)
    e = html.escape
    names = labels(runs)
    ds = runs[0].summary["dataset"]
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f"<title>humandepth leaderboard: {e(str(ds.get('name')))}</title>", f"<style>{CSS}</style></head><body>",
           f"<h1>Leaderboard: {e(str(ds.get('name')))}</h1>",
           f"<p>Dataset sha256 <code>{e(str(ds.get('sha256')))}</code>, {e(str(ds.get('count')))} samples. Values "
           "are means over samples (&darr; lower is better, &uarr; higher is better); the first metric shows its "
           "bootstrap 95% interval and its pooled-pixel value.</p>"]
    if evaluated_text(ds):
        out.append(f"<p>{e(evaluated_text(ds))}</p>")
    for name in protocol_names(runs):
        order = _ranked(runs, name)
        entry = runs[order[0]].summary["protocols"][name]
        mets = list(entry["metrics"])
        out.append(f"<h2>{e(name)} <small>(version {e(str(entry.get('version')))})</small></h2>")
        out.append(f"<p>{e(str(entry.get('description', '')))}</p><table><thead><tr><th>rank</th>"
                   '<th class="name">method</th>')
        out += [f"<th>{e(m)} {'&uarr;' if _arrow(entry, m) == '↑' else '&darr;'}</th>" for m in mets]
        out.append(f"<th>{e(mets[0])} 95% CI</th><th>{e(mets[0])} pooled</th><th>NaN</th>"
                   f"<th>{e(mets[0])} vs {e(names[paired_reference(runs, name)])}, paired [95% CI]</th>"
                   "</tr></thead><tbody>")
        deltas = paired[name] if paired else paired_to_best(runs, name)
        for rank, i in enumerate(order, 1):
            en = runs[i].summary["protocols"][name]
            ci = en.get("ci95") or {}
            cells = "".join(f"<td>{e(fmt(en['metrics'].get(m)))}</td>" for m in mets)
            out.append(f'<tr><td>{rank}</td><td class="name">{e(names[i])}</td>{cells}'
                       f"<td>[{e(fmt(ci.get('low')))}, {e(fmt(ci.get('high')))}]</td>"
                       f"<td>{e(fmt(en.get('pooled', {}).get(mets[0])))}</td>"
                       f"<td>{e(str(en.get('n_nan', 0)))}</td>"
                       f"<td>{e(fmt_paired(deltas[i]) if i in deltas else '-')}</td></tr>")
        out.append("</tbody></table>")
    out.append(f"<p>{e(PAIRED_NOTE)}</p>")
    curve_protocols = [p for p in protocol_names(runs)
                       if any(r.curves is not None and (r.curves["protocol"] == p).any() for r in runs)]
    if curve_protocols:
        out.append("<h2>Cumulative error curves</h2><p>Percent of evaluated pixels (pooled over the dataset) whose "
                   "absolute depth error after the protocol's alignment is below x, up to where every curve reaches "
                   "99 % (each run's cumulative_error.csv holds the full 0-50 cm curve).</p>")
        legend = "".join(f'<div><span class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></span>'
                         f"{e(names[i])}</div>" for i in range(len(runs)))
        for p in curve_protocols:
            out.append(f"<h3>{e(p)}</h3>{_svg_curves(runs, names, p)}{legend}")
    distributions = []
    for p in protocol_names(runs):
        first = list(runs[_ranked(runs, p)[0]].summary["protocols"][p]["metrics"])[0]
        svg = _svg_distribution(runs, names, p, first)
        if svg:
            distributions.append(f"<h3>{e(p)}: {e(first)}</h3>{svg}")
    if distributions:
        out.append("<h2>Per-sample distributions</h2><p>Each protocol's first metric, one dot per sample: the spread "
                   "behind the means in the tables.</p>" + "".join(distributions))
    sample_ids = []
    for r in runs:
        sample_ids += [t["id"] for t in r.summary.get("thumbnails", []) if t["id"] not in sample_ids]
    if sample_ids:
        map_protocols = sorted({str((r.summary.get("error_maps") or {}).get("protocol")) for r in runs})
        out.append("<h2>Error maps</h2><p>|aligned prediction &minus; ground truth| under the "
                   f"{e(', '.join(map_protocols))} alignment, 0"
                   f'<span class="bar" style="background:{css_gradient()}"></span>{100 * ERROR_MAP_MAX_M:.0f} cm '
                   "and above; grey: outside the evaluated mask.</p>")
        out.append('<table class="thumbs"><thead><tr><th class="name">method</th>')
        out += [f"<th>{e(sid)}</th>" for sid in sample_ids]
        out.append('</tr></thead><tbody><tr><td class="name">input</td>')
        out += [f'<td><img src="{e(rgb_paths[sid])}" alt="input {e(sid)}"></td>' if sid in rgb_paths else "<td></td>"
                for sid in sample_ids]
        out.append("</tr>")
        for i in range(len(runs)):
            out.append(f'<tr><td class="name">{e(names[i])}</td>')
            out += [f'<td><img src="{e(thumb_paths[(i, sid)])}" alt="error map {e(sid)}"></td>'
                    if (i, sid) in thumb_paths else "<td></td>" for sid in sample_ids]
            out.append("</tr>")
        out.append("</tbody></table>")
    out.append("<h2>Runs</h2><table><thead><tr><th class=\"name\">method</th><th class=\"name\">depth_kind</th>"
               '<th class="name">predictions sha256</th><th class="name">run</th></tr></thead><tbody>')
    for i, r in enumerate(runs):
        s = r.summary
        out.append(f'<tr><td class="name">{e(names[i])}</td><td class="name">{e(str(s.get("depth_kind")))}</td>'
                   f'<td class="name"><code>{e(str(s.get("predictions", {}).get("sha256")))}</code></td>'
                   f'<td class="name">{e(str(r.dir))}</td></tr>')
    out.append("</tbody></table><p>Generated by <code>humandepth leaderboard</code>.</p></body></html>")
    return "\n".join(out)


def write_leaderboard(run_dirs, out_dir, overwrite: bool = False) -> dict[str, Path]:
    """Merge ``run_dirs`` into ``out_dir``: leaderboard.md, leaderboard.csv, index.html and copied thumbnails.

    The folder is written beside ``out_dir`` and moved there when complete; a leaderboard already there (or a
    folder of the same file names, such as someone's ``index.html``) is replaced only with ``overwrite``, and a
    folder holding anything else is refused (:func:`humandepth.outdir.staged`).  Returns the final paths."""
    final = Path(out_dir)
    check_out_whole(final, LEADERBOARD_OUTPUT, overwrite)  # before the runs are read
    runs = [load_run(d) for d in run_dirs]
    check_compatible(runs)
    with staged(final, LEADERBOARD_OUTPUT, overwrite) as tmp:
        _write_board(runs, tmp)
    return {"md": final / "leaderboard.md", "csv": final / "leaderboard.csv", "html": final / "index.html"}


def _write_board(runs: list[Run], out_dir: Path) -> None:
    """leaderboard.md, leaderboard.csv, index.html and the thumbnails they show, into ``out_dir``."""
    thumb_paths, rgb_paths = {}, {}
    for i, r in enumerate(runs):
        for t in r.summary.get("thumbnails", []):
            for key in ("error", "rgb"):
                src = t.get(key)
                if not src or not (r.dir / src).is_file():
                    continue
                if key == "rgb" and t["id"] in rgb_paths:
                    continue
                rel = f"thumbs/run_{i:02d}/{Path(src).name}"
                (out_dir / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(r.dir / src, out_dir / rel)
                if key == "rgb":
                    rgb_paths[t["id"]] = rel
                else:
                    thumb_paths[(i, t["id"])] = rel
    paths = {"md": out_dir / "leaderboard.md", "csv": out_dir / "leaderboard.csv", "html": out_dir / "index.html"}
    paired = all_paired(runs)
    paths["md"].write_text(render_markdown(runs, paired))
    leaderboard_frame(runs, paired).to_csv(paths["csv"], index=False)
    paths["html"].write_text(render_html(runs, thumb_paths, rgb_paths, paired), encoding="utf-8")

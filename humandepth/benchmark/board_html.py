"""A leaderboard as a static web page (``index.html``): tables, error-map thumbnails per method, cumulative
error curves and per-sample distributions as inline SVG; no JavaScript, no network.  Every string that comes
from a predictions file (method names, attributes) is HTML-escaped."""

from __future__ import annotations

import html
import math

import numpy as np

from humandepth.benchmark.board_text import PAIRED_NOTE, arrow, evaluated_text, fmt_paired, split_text
from humandepth.benchmark.images import ERROR_MAP_MAX_M, css_gradient
from humandepth.benchmark.runs import (
    Run,
    check_compatible,
    fmt,
    labels,
    paired_reference,
    paired_to_best,
    protocol_names,
    ranked,
)

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
           "#bcbd22")


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
    for text in (split_text(ds), evaluated_text(ds)):
        if text:
            out.append(f"<p>{e(text)}</p>")
    for name in protocol_names(runs):
        order = ranked(runs, name)
        entry = runs[order[0]].summary["protocols"][name]
        mets = list(entry["metrics"])
        out.append(f"<h2>{e(name)} <small>(version {e(str(entry.get('version')))})</small></h2>")
        out.append(f"<p>{e(str(entry.get('description', '')))}</p><table><thead><tr><th>rank</th>"
                   '<th class="name">method</th>')
        out += [f"<th>{e(m)} {'&uarr;' if arrow(entry, m) == '↑' else '&darr;'}</th>" for m in mets]
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
        first = list(runs[ranked(runs, p)[0]].summary["protocols"][p]["metrics"])[0]
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

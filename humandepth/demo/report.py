"""The demo's report page: one static HTML file that links each dataset's leaderboard and shows the data
contact sheet and the fusion report.  No scripts, no network; every text from a file is HTML-escaped."""

from __future__ import annotations

import html
import shutil
from pathlib import Path

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%;border:1px solid #ddd}"""


def fusion_figures(report: dict) -> list[tuple[str, object]]:
    """The headline figures of a ``fusion_report.json`` (see docs/fuse.md), as (label, value) rows."""
    frames = report.get("frames", {})
    rows = [("frames read", frames.get("read")), ("frames used", frames.get("used")),
            ("frames rejected (subject moved)", frames.get("rejected")),
            ("person coverage, mean", (report.get("coverage") or {}).get("mean")),
            ("raw-depth residual vs fused surface, mean (mm)", (report.get("residual_summary_mm") or {}).get("mean"))]
    rows.append(("person pixels with a ground-truth value", (report.get("evaluated") or {}).get("fraction")))
    for key, value in ((report.get("truth") or {}).get("gt_mae_mm") or {}).items():
        rows.append((f"MAE vs exact truth on the person, {key} (mm)", value))
    for key, value in ((report.get("truth") or {}).get("person_mask") or {}).items():
        if key in ("precision", "recall", "iou"):
            rows.append((f"person mask vs exact truth, {key}", value))
    return [(k, v) for k, v in rows if v is not None]


def _fusion_table(report: dict) -> str:
    body = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                   for k, v in fusion_figures(report))
    return f"<table><tr><th>fusion</th><th>value</th></tr>{body}</table>"


def write_report(out_dir, boards: dict[str, Path], contact_sheet: Path | None, fusion_report: dict | None) -> Path:
    """Write ``out_dir/index.html``; ``boards`` maps a dataset label to its leaderboard directory
    (which holds ``index.html`` and ``leaderboard.md``).  Returns the page's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>humandepth demo</title>"
             f"<style>{STYLE}</style></head><body><h1>humandepth demo</h1>",
             "<p>Every registered baseline scored on a rendered synthetic benchmark and on ground truth fused "
             "from a simulated RealSense capture. Protocols and metrics: docs/benchmark.md.</p>",
             "<h2>Leaderboards</h2><ul>"]
    for label, board in boards.items():
        board = Path(board).resolve()
        rel = board.relative_to(out.resolve()) if board.is_relative_to(out.resolve()) else board
        parts.append(f"<li><a href='{html.escape(str(rel / 'index.html'))}'>{html.escape(label)}</a> "
                     f"(<a href='{html.escape(str(rel / 'leaderboard.md'))}'>Markdown</a>)</li>")
    parts.append("</ul>")
    if fusion_report:
        parts.append("<h2>Fused ground truth, measured</h2>" + _fusion_table(fusion_report))
    if contact_sheet is not None and Path(contact_sheet).is_file():
        shutil.copyfile(contact_sheet, out / "contact_sheet.png")
        parts.append("<h2>Synthetic data</h2><p>RGB, depth, normals, parts and detail of the first samples.</p>"
                     "<img src='contact_sheet.png' alt='contact sheet of the synthetic data'>")
    parts.append("</body></html>")
    page = out / "index.html"
    page.write_text("\n".join(parts))
    return page

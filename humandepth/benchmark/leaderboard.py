"""Merge benchmark runs into one leaderboard folder: ``leaderboard.md``, ``leaderboard.csv`` and ``index.html``.

Loading and ranking the runs: :mod:`humandepth.benchmark.runs`; the Markdown and CSV:
:mod:`humandepth.benchmark.board_text`; the web page: :mod:`humandepth.benchmark.board_html`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from humandepth.benchmark.board_html import render_html
from humandepth.benchmark.board_text import leaderboard_frame, render_markdown
from humandepth.benchmark.runs import Run, all_paired, check_compatible, load_run
from humandepth.outdir import OutputKind, check_out_whole, staged

__all__ = ["LEADERBOARD_OUTPUT", "check_compatible", "load_run", "render_markdown", "write_leaderboard"]


# what a leaderboard folder holds; anything else there is someone else's and never replaced
LEADERBOARD_OUTPUT = OutputKind("leaderboard", "leaderboard.csv", ("leaderboard.md", "index.html", "thumbs"))


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

"""The main job on built-in defaults: data -> baselines -> benchmark -> leaderboard.

Until the render wing's synthetic humans take its place, the demo's data is the analytic capsule
figure (:mod:`humandepth.demo.capsules`) written in the ``folder`` format.  Every step reuses what a
previous run left complete, so a rerun is fast.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from humandepth.demo.capsules import render_capsule_person

PROTOCOLS = ("tang2019", "affine", "metric", "detail")
DEMO_BASELINES = ("plane", "inflate", "gt-base")


def _cli(*argv: str) -> None:
    from humandepth.cli import main

    rc = main([str(a) for a in argv])
    if rc != 0:
        raise RuntimeError(f"step failed (exit {rc}): humandepth {' '.join(map(str, argv))}")


def _step(n: int, total: int, text: str) -> None:
    print(f"\n[{n}/{total}] {text}", file=sys.stderr, flush=True)


def applicable_protocols(predictions_path) -> list[str]:
    """The protocols of :data:`PROTOCOLS` that accept the file's ``depth_kind`` (``metric`` needs metric depth)."""
    from humandepth.benchmark.protocols import make_protocol
    from humandepth.data.predictions import Predictions

    with Predictions(predictions_path) as p:
        kind = p.depth_kind
    return [name for name in PROTOCOLS if kind in make_protocol(name).depth_kinds]


def write_capsule_folder(out: Path, count: int, size: int, seed: int) -> Path:
    """Write ``count`` capsule-figure samples as a folder-format dataset (skipping complete ones)."""
    import json

    from humandepth.data.conventions import CONVENTIONS
    from humandepth.data.export import export_sample

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    written = 0
    for i in range(count):
        sid = f"capsule-{seed + i:05d}"
        if (out / sid).is_dir():
            continue
        export_sample(render_capsule_person(seed + i, size), out)
        written += 1
    info = {"format": "folder", "name": "demo-capsules", "kind": "synthetic", "count": count,
            "generator": {"module": "humandepth.demo.capsules", "seed": seed, "count": count, "size": size},
            "conventions": CONVENTIONS}
    (out / "folder.json").write_text(json.dumps(info, indent=1))
    dt = time.perf_counter() - t0
    print(f"data: {written} new, {count - written} reused samples in {out} ({dt:.1f} s)", file=sys.stderr)
    return out


def run_demo(out_dir="demo_output", count: int = 24, size: int = 128, seed: int = 0) -> Path:
    out = Path(out_dir)
    total = 4
    _step(1, total, f"writing a {count}-sample analytic dataset ({size}x{size}) in the folder format")
    data = write_capsule_folder(out / "data" / "capsules", count, size, seed)
    _step(2, total, f"running baselines: {', '.join(DEMO_BASELINES)}")
    preds = {}
    for name in DEMO_BASELINES:
        path = out / "predictions" / f"{name}.h5"
        if not path.is_file():
            _cli("baselines", "run", name, "--dataset", data, "--out", path)
        else:
            print(f"{name}: reusing {path}", file=sys.stderr)
        preds[name] = path
    _step(3, total, f"scoring under protocols: {', '.join(PROTOCOLS)}")
    runs = []
    for name, path in preds.items():
        run_dir = out / "runs" / name
        summary = run_dir / "summary.json"
        if not summary.is_file() or summary.stat().st_mtime < path.stat().st_mtime:
            protos = [a for p in applicable_protocols(path) for a in ("--protocol", p)]
            _cli("benchmark", "--dataset", data, "--predictions", path, *protos, "--out", run_dir)
        else:
            print(f"{name}: reusing {run_dir}", file=sys.stderr)
        runs.append(run_dir)
    _step(4, total, "building the leaderboard")
    board = out / "leaderboard"
    _cli("leaderboard", *runs, "--out", board)
    print((board / "leaderboard.md").read_text())
    lines = [f"written under {out.resolve()}:", f"  data         {data}", f"  predictions  {out / 'predictions'}",
             f"  runs         {out / 'runs'}", f"  leaderboard  {board / 'leaderboard.md'}",
             f"  report       {board / 'index.html'}"]
    print("\n".join(lines))
    print("next:\n  humandepth datasets list\n  humandepth baselines list\n"
          f"  humandepth data verify {data}\n  humandepth demo --count 200 --size 256   # a larger run")
    return board

"""The main job on built-in defaults, end to end on a CPU.

1. render a small synthetic benchmark (clothed anny humans, default render settings);
2. simulate a short RealSense capture of one clothed person and fuse it into ground truth, printing
   the fusion's own error against the simulator's exact truth;
3. run every registered baseline whose inputs exist (classical ones; the reference network and its
   ablations, from the shipped checkpoints) on both datasets;
4. score each under every protocol its depth kind allows and build one leaderboard per dataset
   (Markdown + HTML) and a report page that links them with the render contact sheet and the
   fusion report.

Each step calls the wings' library functions and prints, before it runs, the ``humandepth`` command that
does the same, so every step can be rerun or scaled by hand.  A rerun reuses whatever a previous run
completed.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from humandepth.benchmark import PROTOCOL_NAMES
from humandepth.errors import USER_ERRORS, UserError, message


@dataclass(frozen=True)
class DemoSize:
    """How big each step is.  The defaults run in a few minutes on a 2-core CPU."""

    render_count: int = 16
    resolution: int = 256
    take_frames: int = 16
    take_distance_m: float | None = None  # None: the nearest distance that frames the whole person
    seed: int = 0

    def validate(self) -> None:
        """``ValueError`` naming the option of the first size no step can run with (checked before any step)."""
        from humandepth.capture.simulate import SimulationConfig

        if self.render_count < 1 or self.take_frames < 2 or self.resolution < 64:
            raise ValueError("--render-count must be >= 1, --take-frames >= 2 and --resolution >= 64")
        try:  # the capture step's own checks, with the demo's option names
            SimulationConfig(frames=self.take_frames, distance=self.take_distance_m, seed=self.seed).validate()
        except ValueError as e:
            raise ValueError(str(e).replace("--distance", "--take-distance").replace("--frames", "--take-frames")) \
                from None


def _command(argv: tuple, fn: Callable[..., object], *args, allow_fail: bool = False) -> bool:
    """Print ``$ humandepth ARGV`` (the command that does what ``fn(*args)`` does) and run ``fn(*args)``.

    A user error stops the demo in one line naming the command; with ``allow_fail`` the error is printed as the
    command prints it and False is returned."""
    text = " ".join(str(a) for a in argv)
    print(f"$ humandepth {text}", file=sys.stderr, flush=True)
    try:
        fn(*args)
    except USER_ERRORS as e:
        if not allow_fail:
            raise UserError(f"the demo stopped: `humandepth {text}` failed: {message(e)}") from e
        if os.environ.get("HUMANDEPTH_DEBUG"):
            raise
        print(f"humandepth: error: {message(e)}", file=sys.stderr)
        return False
    return True


def _render(out: Path, size: DemoSize, workers: int) -> None:
    """``humandepth render`` at the demo's size (every other option at its default)."""
    from humandepth.render.cache import require_anny_cache
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    require_anny_cache()  # before anything is written
    summary = render_dataset(str(out), size.render_count, seed=size.seed,
                             cfg=GeneratorConfig(resolution=size.resolution), workers=workers, preview=True)
    print(json.dumps(summary, indent=1))


def _simulate(out: Path, size: DemoSize) -> None:
    """``humandepth capture simulate --overwrite`` at the demo's size (every other option at its default)."""
    from humandepth.capture.sdk import recording_extension, sdk_version
    from humandepth.capture.simulate import SimulationConfig, simulate_take

    def progress(done, total):
        if done == total or done % 10 == 0:
            print(f"  frame {done}/{total}", flush=True)

    cfg = SimulationConfig(frames=size.take_frames, seed=size.seed, distance=size.take_distance_m)
    cfg.validate()
    print(f"simulating {cfg.frames} frames; pyrealsense2 {sdk_version()} records {recording_extension()}")
    root = simulate_take(str(out), cfg, overwrite=True, progress=progress)
    print(f"wrote take {root} (recording, take.json, truth/depth, truth/color)")


def _fuse(take: Path, out: Path) -> None:
    """``humandepth fuse TAKE --out OUT --overwrite`` (every other option at its default)."""
    from humandepth.fuse.fusion import FuseConfig
    from humandepth.fuse.takes import fuse_takes

    fuse_takes([str(take)], str(out), FuseConfig(), overwrite=True,
               on_line=lambda line: print(json.dumps(line), flush=True))


def _predict(name: str, dataset: Path, out: Path) -> None:
    """``humandepth baselines run NAME --dataset DATASET --out OUT``."""
    from humandepth.baselines.run import run_baseline
    from humandepth.data import open_dataset

    ds = open_dataset(str(dataset))
    print(f"wrote {run_baseline(name, ds, str(out))} ({len(ds)} samples of {ds.name!r}, method {name})")


def _benchmark(dataset: Path, predictions: Path, protocols: list[str], out: Path) -> None:
    """``humandepth benchmark --dataset DATASET --predictions PREDICTIONS --protocol P... --out OUT --overwrite``."""
    from humandepth.benchmark.run import headline_lines, run_benchmark
    from humandepth.data import open_dataset

    summary = run_benchmark(open_dataset(str(dataset)), str(predictions), protocols, str(out), overwrite=True)
    for line in headline_lines(summary):
        print(line)
    print(f"wrote {out}/summary.json, per_sample.csv, leaderboard.md", file=sys.stderr)


def _leaderboard(runs: list[Path], out: Path) -> None:
    """``humandepth leaderboard RUN... --out OUT --overwrite``."""
    from humandepth.benchmark import write_leaderboard

    paths = write_leaderboard([str(r) for r in runs], str(out), overwrite=True)
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['html']}")


def _step(n: int, total: int, text: str) -> float:
    print(f"\n[{n}/{total}] {text}", file=sys.stderr, flush=True)
    return time.perf_counter()


def _done(t0: float) -> None:
    print(f"      ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)


def applicable_protocols(predictions_path) -> list[str]:
    """The benchmark's protocols that accept the file's ``depth_kind`` (``metric`` needs metric depth)."""
    from humandepth.benchmark import make_protocol
    from humandepth.data.predictions import Predictions

    with Predictions(predictions_path) as p:
        kind = p.depth_kind
    return [name for name in PROTOCOL_NAMES if kind in make_protocol(name).depth_kinds]


def demo_baselines() -> list[str]:
    """Every registered baseline, in registry order."""
    from humandepth.baselines.registry import BASELINES

    return list(BASELINES)


def predictions_current(path: Path, name: str, dataset: Path) -> bool:
    """Whether the predictions at ``path`` were made by baseline ``name`` as it is now (same weights, e.g. not
    a shipped checkpoint from before an upgrade) on ``dataset`` as it is now."""
    from humandepth.baselines.registry import get_baseline
    from humandepth.data import open_dataset
    from humandepth.data.predictions import Predictions

    try:
        with Predictions(path) as p:
            attrs = p.attrs
    except (OSError, ValueError):
        return False
    if attrs.get("baseline") != name or attrs.get("dataset_sha256") != open_dataset(dataset).checksum():
        return False
    if "weights_sha256" not in attrs:
        return True
    try:
        method = get_baseline(name).create()
    except (FileNotFoundError, ValueError):
        return False
    return getattr(method, "weights_sha256", None) == attrs["weights_sha256"]


def run_baselines(dataset: Path, pred_dir: Path, skipped: list[str]) -> dict[str, Path]:
    """Predict ``dataset`` with every baseline that can run; skip (and say why, and add to ``skipped``) the ones
    that cannot."""
    preds = {}
    for name in demo_baselines():
        path = pred_dir / f"{name}.h5"
        if path.is_file() and predictions_current(path, name, dataset):
            print(f"{name}: reusing {path}", file=sys.stderr)
        elif not _command(("baselines", "run", name, "--dataset", dataset, "--out", path),
                          _predict, name, dataset, path, allow_fail=True):
            print(f"{name}: skipped (see the error above)", file=sys.stderr)
            skipped.append(f"{name} on {Path(dataset).name}")
            continue
        preds[name] = path
    return preds


def score(dataset: Path, preds: dict[str, Path], run_root: Path) -> list[Path]:
    runs = []
    for name, path in preds.items():
        run_dir = run_root / name
        summary = run_dir / "summary.json"
        if summary.is_file() and summary.stat().st_mtime >= path.stat().st_mtime:
            print(f"{name}: reusing {run_dir}", file=sys.stderr)
        else:
            protocols = applicable_protocols(path)
            _command(("benchmark", "--dataset", dataset, "--predictions", path,
                      *[a for p in protocols for a in ("--protocol", p)], "--out", run_dir, "--overwrite"),
                     _benchmark, dataset, path, protocols, run_dir)
        runs.append(run_dir)
    return runs


def check_reusable(out: Path, size: DemoSize) -> None:
    """Refuse (naming the folder) to reuse a rendered set or a take that ``out`` holds at another size or seed."""
    def refuse(what: Path, have: str, want: str) -> None:
        raise UserError(f"{what} holds {have}, not the {want} asked for; delete it (or give another --out) to "
                        "make it again")

    card = out / "synthetic" / "dataset.json"
    if card.is_file():
        c = json.loads(card.read_text())
        have = (c.get("count"), (c.get("resolution") or {}).get("width"), (c.get("generator") or {}).get("seed"))
        if have != (size.render_count, size.resolution, size.seed):
            refuse(card.parent, f"{have[0]} samples at {have[1]} px (seed {have[2]})",
                   f"{size.render_count} at {size.resolution} px (seed {size.seed})")
    sidecar = out / "capture" / "take" / "take.json"
    if sidecar.is_file():
        generator = json.loads(sidecar.read_text()).get("simulation") or {}
        sim = generator.get("simulation") or {}
        framed = (generator.get("look_at") or {}).get("distance") == "framed"
        have = (sim.get("frames"), sim.get("seed"), None if framed else sim.get("distance"))
        if have != (size.take_frames, size.seed, size.take_distance_m):
            def at(d):
                return "framing distance" if d is None else f"{d} m"

            refuse(sidecar.parent, f"a {have[0]}-frame take (seed {have[1]}, {at(have[2])})",
                   f"{size.take_frames}-frame take (seed {size.seed}, {at(size.take_distance_m)})")


def run_demo(out_dir="demo_output", size: DemoSize = DemoSize()) -> Path:
    out = Path(out_dir)
    total = 4
    synthetic = out / "synthetic"
    take = out / "capture" / "take"
    fused = out / "capture" / "fused"

    size.validate()
    check_reusable(out, size)  # before any work: a folder made at another size is never silently reused
    t0 = _step(1, total, f"rendering {size.render_count} clothed humans at {size.resolution}x{size.resolution}")
    if not (synthetic / "dataset.json").is_file():
        workers = 2 if size.render_count >= 8 else 1
        _command(("render", "--out", synthetic, "--count", size.render_count, "--seed", size.seed,
                  "--resolution", size.resolution, "--workers", workers, "--preview"),
                 _render, synthetic, size, workers)
    else:
        print(f"reusing {synthetic}", file=sys.stderr)
    _done(t0)

    at = "the distance that frames the whole person" if size.take_distance_m is None else f"{size.take_distance_m} m"
    t0 = _step(2, total, f"simulating a {size.take_frames}-frame capture at {at} and fusing it")
    if not (take / "take.json").is_file():
        distance = () if size.take_distance_m is None else ("--distance", size.take_distance_m)
        _command(("capture", "simulate", "--out", take, "--frames", size.take_frames, "--seed", size.seed, *distance,
                  "--overwrite"), _simulate, take, size)
    else:
        print(f"reusing {take}", file=sys.stderr)
    if not (fused / "dataset.json").is_file():
        _command(("fuse", take, "--out", fused, "--overwrite"), _fuse, take, fused)
    else:
        print(f"reusing {fused}", file=sys.stderr)
    report = json.loads((fused / "fusion_report.json").read_text())
    from humandepth.demo.report import fusion_figures

    for label, value in fusion_figures(report):
        print(f"fusion: {label}: {value}", file=sys.stderr)
    _done(t0)

    t0 = _step(3, total, "running the baselines on both datasets")
    skipped: list[str] = []
    preds = {"synthetic": run_baselines(synthetic, out / "predictions" / "synthetic", skipped),
             "fused": run_baselines(fused, out / "predictions" / "fused", skipped)}
    _done(t0)

    t0 = _step(4, total, f"scoring under {', '.join(PROTOCOL_NAMES)} and building the leaderboards")
    boards = {}
    for ds_name, ds_path in (("synthetic", synthetic), ("fused", fused)):
        runs = score(ds_path, preds[ds_name], out / "runs" / ds_name)
        boards[ds_name] = out / "report" / ds_name
        _command(("leaderboard", *runs, "--out", boards[ds_name], "--overwrite"),
                 _leaderboard, runs, boards[ds_name])
    from humandepth.demo.report import write_report

    index = write_report(out / "report", boards, synthetic / "preview.png", report)
    _done(t0)

    for ds_name, board in boards.items():
        print(f"\n# {ds_name}\n")
        print((board / "leaderboard.md").read_text())
    lines = [f"written under {out.resolve()}:",
             f"  synthetic data  {synthetic}   (contact sheet: {synthetic / 'preview.png'})",
             f"  capture         {take}   (a real SDK recording + exact truth)",
             f"  fused GT        {fused}   (fusion_report.json, fused mesh)",
             f"  predictions     {out / 'predictions'}",
             f"  runs            {out / 'runs'}",
             f"  report          {index}"]
    print("\n".join(lines))
    if skipped:
        print(f"skipped (failed, see above): {', '.join(skipped)}")
    print("next:\n  humandepth datasets list\n  humandepth baselines list\n"
          f"  humandepth data verify {synthetic}\n"
          "  humandepth demo --out demo_large --render-count 200 --take-frames 60   # a larger run (demo --help)")
    return index

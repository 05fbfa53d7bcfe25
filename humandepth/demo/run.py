"""The main job on built-in defaults, end to end on a CPU.

1. render a small synthetic benchmark (clothed anny humans, default render settings);
2. simulate a short RealSense capture of one clothed person and fuse it into ground truth, printing
   the fusion's own error against the simulator's exact truth;
3. run every registered baseline whose inputs exist (classical ones; the reference network and its
   ablations, from the shipped checkpoints) on both datasets;
4. score each under every protocol its depth kind allows and build one leaderboard per dataset
   (Markdown + HTML) and a report page that links them with the render contact sheet and the
   fusion report.

Each step is a ``humandepth`` command (printed before it runs), so every step can be rerun or scaled
by hand.  A rerun reuses whatever a previous run completed.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from humandepth.benchmark import PROTOCOL_NAMES
from humandepth.errors import UserError


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


def _cli(*argv, allow_fail: bool = False) -> bool:
    from humandepth.cli import main

    args = [str(a) for a in argv]
    print(f"$ humandepth {' '.join(args)}", file=sys.stderr, flush=True)
    rc = main(args)
    if rc != 0 and not allow_fail:  # the step printed its own error just above
        raise UserError(f"the demo stopped: `humandepth {' '.join(args)}` failed (exit {rc}, its error is above)")
    return rc == 0


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
        elif not _cli("baselines", "run", name, "--dataset", dataset, "--out", path, allow_fail=True):
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
            protos = [a for p in applicable_protocols(path) for a in ("--protocol", p)]
            _cli("benchmark", "--dataset", dataset, "--predictions", path, *protos, "--out", run_dir, "--overwrite")
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
        _cli("render", "--out", synthetic, "--count", size.render_count, "--seed", size.seed,
             "--resolution", size.resolution, "--workers", 2 if size.render_count >= 8 else 1, "--preview")
    else:
        print(f"reusing {synthetic}", file=sys.stderr)
    _done(t0)

    at = "the distance that frames the whole person" if size.take_distance_m is None else f"{size.take_distance_m} m"
    t0 = _step(2, total, f"simulating a {size.take_frames}-frame capture at {at} and fusing it")
    if not (take / "take.json").is_file():
        distance = () if size.take_distance_m is None else ("--distance", size.take_distance_m)
        _cli("capture", "simulate", "--out", take, "--frames", size.take_frames, "--seed", size.seed, *distance,
             "--overwrite")
    else:
        print(f"reusing {take}", file=sys.stderr)
    if not (fused / "dataset.json").is_file():
        _cli("fuse", take, "--out", fused, "--overwrite")
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
        _cli("leaderboard", *runs, "--out", boards[ds_name], "--overwrite")
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

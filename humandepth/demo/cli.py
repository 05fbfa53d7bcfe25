"""``humandepth demo``."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="the main job end to end on built-in defaults",
        description="Run the main job end to end on built-in defaults, on a CPU, offline: (1) render a small "
        "synthetic benchmark of clothed humans; (2) simulate a RealSense capture of one person and fuse it into "
        "ground truth, with the fusion's error against the exact truth; (3) run every registered baseline on both "
        "datasets; (4) score them under every protocol and build the leaderboards and an HTML report. A rerun "
        "reuses whatever is complete; delete OUT (or a part of it) to redo a step.",
        epilog="examples:\n  humandepth demo\n"
        "  humandepth demo --out /tmp/demo --render-count 200 --take-frames 60   # scale up\n\n"
        "Scaling each step by hand: `humandepth render --count N --workers W`, `humandepth capture simulate "
        "--frames N`,\n`humandepth fuse TAKE --voxel 0.004`, `humandepth baselines run NAME`, `humandepth benchmark`.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo_output", help="output directory (default: demo_output)")
    p.add_argument("--render-count", type=int, default=16, help="synthetic samples to render (default: 16)")
    p.add_argument("--resolution", type=int, default=256, help="synthetic image size in pixels (default: 256)")
    p.add_argument("--take-frames", type=int, default=16, help="frames of the simulated capture (default: 16)")
    p.add_argument("--take-distance", type=float, default=None,
                   help="capture distance in metres (default: the nearest that frames the whole person)")
    p.add_argument("--seed", type=int, default=0, help="seed of every step (default: 0)")
    p.set_defaults(func=_demo)


def _demo(args) -> int:
    from humandepth.demo.run import DemoSize, run_demo

    run_demo(args.out, DemoSize(args.render_count, args.resolution, args.take_frames, args.take_distance, args.seed))
    return 0

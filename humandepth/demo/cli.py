"""``humandepth demo``."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser(
        "demo", help="the main job on built-in defaults (data, baselines, benchmark, leaderboard)",
        description="Run the main job end to end on built-in defaults: write a small synthetic dataset (analytic "
        "capsule figures with exact depth, normals, parts and base/detail, in the folder format), run the "
        "classical baselines on it, score them under every protocol and build the leaderboard (Markdown + HTML). "
        "A rerun reuses whatever is already complete.",
        epilog="examples:\n  humandepth demo\n  humandepth demo --out /tmp/demo --count 200 --size 256   # scale up\n",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="demo_output", help="output directory (default: demo_output)")
    p.add_argument("--count", type=int, default=24, help="samples in the demo dataset (default: 24)")
    p.add_argument("--size", type=int, default=128, help="image size in pixels (default: 128)")
    p.add_argument("--seed", type=int, default=0, help="seed of the first sample (default: 0)")
    p.set_defaults(func=_demo)


def _demo(args) -> int:
    from humandepth.demo.run import run_demo

    if args.count < 1 or args.size < 32:
        raise ValueError("--count must be >= 1 and --size >= 32")
    run_demo(args.out, count=args.count, size=args.size, seed=args.seed)
    return 0

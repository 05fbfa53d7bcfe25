"""``humandepth benchmark`` and ``humandepth leaderboard`` subcommands (heavy imports inside the handlers)."""

from __future__ import annotations

import argparse
import sys

from humandepth.benchmark.protocols import PROTOCOL_NAMES  # the package is imported already (cheap here)

RAW = argparse.RawDescriptionHelpFormatter
PROTOCOL_CHOICES = (*PROTOCOL_NAMES, "all")


def register(sub) -> None:
    p = sub.add_parser(
        "benchmark", help="score a predictions file on a dataset",
        description="Validate a predictions file against a dataset (every id present, shapes equal to the ground "
        "truth, float dtype, no NaN/inf in the mask; nothing is repaired) and score it under one or more "
        "protocols:\n"
        "  tang2019  shift-only (median) alignment; mae_cm, acc_1.25cm/2.5cm/5cm, auc_0.5m  (Tang et al. 2019)\n"
        "  affine    least-squares scale+shift (inverse depth for inverse_relative); absrel, rmse_mm, delta_*\n"
        "  metric    no alignment (metric predictions only); the same metrics as affine\n"
        "  detail    tang2019 shift, then the smooth base removed; detail_mae_mm, detail_rmse_mm, normal_*\n"
        "Writes OUT/per_sample.csv, summary.json, cumulative_error.csv, leaderboard.md and thumbs/. "
        "A validation failure exits 2 naming each sample and problem.",
        epilog="examples:\n"
        "  humandepth benchmark --dataset tang2019-real --predictions preds.h5 --protocol tang2019 --out runs/mine\n"
        "  humandepth benchmark --dataset data/render-256 --predictions inflate.h5 \\\n"
        "      --protocol tang2019 --protocol affine --protocol detail --out runs/inflate\n"
        "  humandepth benchmark --dataset /shared/render-1m --predictions /shared/preds.h5 --protocol all \\\n"
        "      --out runs/big --executor ray --address 10.0.0.1:6379   # one Ray task per block of 16 samples\n"
        "  humandepth leaderboard runs/* --out board/",
        formatter_class=RAW,
    )
    p.add_argument("--dataset", required=True, metavar="NAME|PATH",
                   help="registered dataset name (datasets.yaml) or a dataset directory")
    p.add_argument("--predictions", required=True, metavar="FILE",
                   help="predictions file (HDF5, see docs/benchmark.md)")
    p.add_argument("--protocol", action="append", required=True, choices=PROTOCOL_CHOICES, metavar="P",
                   help=f"{' | '.join(PROTOCOL_CHOICES)} (all: those defined for the file's depth_kind); repeat "
                   "for several")
    p.add_argument("--out", required=True, metavar="DIR", help="run directory to write")
    p.add_argument("--workers", type=int, default=None,
                   help="scoring processes (default: 1 for small datasets, else the CPU count, max 8)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals (default 0)")
    p.add_argument("--thumbnails", type=int, default=4, help="fixed samples with error-map thumbnails (default 4)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing run in --out (swapped in when the new one is complete)")
    p.add_argument("--allow-other-dataset", action="store_true",
                   help="score a predictions file although it records (dataset_sha256) that it was made on another "
                   "dataset (refused by default: ids can match by name only)")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    from humandepth.scale.options import add_executor_options

    add_executor_options(p, "one block of 16 samples")
    p.set_defaults(func=_benchmark)

    p = sub.add_parser(
        "leaderboard", help="merge benchmark runs into one leaderboard (md, csv, html)",
        description="Merge run directories written by `humandepth benchmark` into OUT/leaderboard.md, "
        "OUT/leaderboard.csv and a static OUT/index.html (tables, error-map thumbnails per method, cumulative "
        "error curves as inline SVG; no JavaScript, no network). Refuses runs scored on different datasets "
        "(dataset sha256) or with different protocol versions, and says which.",
        epilog="example:\n  humandepth leaderboard runs/plane runs/inflate runs/reference --out board/\n"
        "  xdg-open board/index.html",
        formatter_class=RAW,
    )
    p.add_argument("runs", nargs="+", metavar="RUN_DIR", help="run directories (each holds summary.json)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="output folder (new or empty; written beside it and moved in when complete)")
    p.add_argument("--overwrite", action="store_true", help="replace a leaderboard already in --out")
    p.set_defaults(func=_leaderboard)


def _benchmark(args) -> int:
    from humandepth.benchmark.protocols import make_protocol
    from humandepth.benchmark.run import headline_lines, run_benchmark
    from humandepth.data import open_dataset
    from humandepth.scale.options import check_executor_options

    check_executor_options(args)
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.thumbnails < 0:
        raise ValueError(f"--thumbnails must be >= 0, got {args.thumbnails}")
    protocols = list(dict.fromkeys(args.protocol))
    if "all" in protocols:  # every protocol that applies to the file's depth_kind
        from humandepth.data import Predictions

        with Predictions(args.predictions) as p:
            kind = p.depth_kind
        usable = [n for n in PROTOCOL_NAMES if kind in make_protocol(n).depth_kinds]
        skipped = [n for n in PROTOCOL_NAMES if n not in usable]
        if skipped:
            print(f"benchmark: --protocol all skips {', '.join(skipped)} (not defined for depth_kind {kind!r})",
                  file=sys.stderr)
        protocols = list(dict.fromkeys(usable + [n for n in protocols if n != "all"]))
    dataset = open_dataset(args.dataset)
    summary = run_benchmark(dataset, args.predictions, protocols, args.out, workers=args.workers, seed=args.seed,
                            n_thumbnails=args.thumbnails, progress=not args.quiet, overwrite=args.overwrite,
                            executor=args.executor, address=args.address, max_retries=args.max_retries,
                            allow_other_dataset=args.allow_other_dataset)
    for line in headline_lines(summary):
        print(line)
    print(f"wrote {args.out}/summary.json, per_sample.csv, leaderboard.md", file=sys.stderr)
    return 0


def _leaderboard(args) -> int:
    from humandepth.benchmark.leaderboard import write_leaderboard

    paths = write_leaderboard(args.runs, args.out, overwrite=args.overwrite)
    print(f"wrote {paths['md']}, {paths['csv']}, {paths['html']}")
    return 0

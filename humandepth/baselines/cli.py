"""``humandepth baselines list|run|train``."""

from __future__ import annotations

import argparse

RAW = argparse.RawDescriptionHelpFormatter


def register(sub) -> None:
    b = sub.add_parser(
        "baselines", help="list, run and train baselines",
        description="Baselines write predictions files for the benchmark: classical floors and oracles, and the "
        "reference network of Tang et al. 2019 with its ablations.",
        epilog="examples:\n  humandepth baselines list\n"
        "  humandepth baselines run inflate --dataset demo_output/synthetic --out preds/inflate.h5\n"
        "  humandepth baselines run reference --dataset DS --out preds/reference.h5",
        formatter_class=RAW)
    bsub = b.add_subparsers(dest="baselines_command", metavar="ACTION", required=True)
    p = bsub.add_parser("list", help="every registered baseline", description="List every registered baseline.",
                        epilog="example:\n  humandepth baselines list", formatter_class=RAW)
    p.set_defaults(func=_list)
    p = bsub.add_parser(
        "run", help="predict a dataset into a predictions file",
        description="Run baseline NAME over every sample of a dataset and write an HDF5 predictions file "
        "(method, depth_kind, /depth/<id>, optional /normal/<id>).",
        epilog="examples:\n  humandepth baselines run plane --dataset tang2019-real --out preds/plane.h5\n"
        "  humandepth baselines run reference --dataset DS --checkpoint ckpt/ --out preds/ref.h5",
        formatter_class=RAW)
    p.add_argument("name", help="baseline name (see `humandepth baselines list`)")
    p.add_argument("--dataset", required=True, help="dataset path or registered name")
    p.add_argument("--out", required=True, help="predictions file to write (.h5)")
    p.add_argument("--checkpoint", help="checkpoint for the reference network (default: the shipped one)")
    p.set_defaults(func=_run)
    from humandepth.baselines.reference.cli import register_train

    register_train(bsub)


def _list(args) -> int:
    from humandepth.baselines.registry import BASELINES

    width = max(len(n) for n in BASELINES)
    for e in BASELINES.values():
        tags = []
        if e.oracle:
            tags.append(f"reads GT: {', '.join(e.uses_gt)}")
        if e.needs_checkpoint:
            tags.append("checkpoint")
        suffix = f"  [{'; '.join(tags)}]" if tags else ""
        print(f"{e.name.ljust(width)}  {e.description}{suffix}")
    return 0


def _run(args) -> int:
    from humandepth.baselines.registry import get_baseline
    from humandepth.baselines.run import run_baseline
    from humandepth.data.open import open_dataset

    if args.checkpoint and not get_baseline(args.name).needs_checkpoint:
        raise ValueError(f"baseline {args.name!r} takes no --checkpoint (it has no learned weights)")
    ds = open_dataset(args.dataset)
    out = run_baseline(args.name, ds, args.out, options={"checkpoint": args.checkpoint})
    print(f"wrote {out} ({len(ds)} samples of {ds.name!r}, method {args.name})")
    return 0

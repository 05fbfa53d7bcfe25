"""``humandepth baselines train reference``: the training subcommand (registered by baselines/cli.py)."""

from __future__ import annotations

import argparse
import os
import shlex

EPILOG = """examples:
  humandepth render --out data/train --count 400 --seed 1
  humandepth baselines train reference --data data/train --config small --out ckpt/ref-small
  humandepth baselines train reference --data data/train --out ckpt/ref-small --resume
  humandepth baselines train reference --data data/train --variant single-branch --out ckpt/ref-single
  humandepth baselines run reference --checkpoint ckpt/ref-small --dataset data/test --out preds/ref.h5
  # DistributedDataParallel, one process per GPU (NCCL) or per CPU process (gloo); --batch-size is global
  torchrun --nproc-per-node 2 -m humandepth baselines train reference --data data/train --out ckpt/ddp --ddp

Stage 1 trains every branch on its own target, stage 2 fine-tunes jointly with a truncated loss on the
composed depth.  Writes DIR/model.safetensors, DIR/config.json, DIR/train_state.pt and DIR/log.csv.
Losses, weights and optimiser: docs/reference.md.
"""


def register_train(subparsers) -> None:
    """Add ``train`` to the ``humandepth baselines`` subcommands."""
    p = subparsers.add_parser(
        "train", help="train the reference network (Tang et al. 2019) on a dataset",
        description="Train the reference network or one of its trainable ablations on a humandepth dataset "
        "(fields rgb, depth, mask, normal, parts, depth_base, depth_detail, joints2d, joints3d).",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=["reference"], help="the trainable baseline")
    p.add_argument("--data", required=True, help="training dataset: path or registered name")
    p.add_argument("--config", default="small", choices=["small", "paper"],
                   help="network size: small (128 px, CPU) or paper (256 px, as the authors); default small")
    p.add_argument("--variant", default="full", choices=["full", "single-branch", "no-priors"],
                   help="architecture to train (no-refine / geonet-refine run a full checkpoint); default full")
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--resume", action="store_true", help="continue the checkpoint in --out")
    p.add_argument("--seed", type=int, help="seed of initialisation, data order and augmentation (default 0)")
    p.add_argument("--stage1-steps", type=int, help="steps of stage 1 (default from --config)")
    p.add_argument("--stage2-steps", type=int, help="steps of stage 2 (default from --config)")
    p.add_argument("--batch-size", type=int, help="images per step (default from --config)")
    p.add_argument("--lr", type=float, help="RMSProp learning rate of stage 1 (default from --config)")
    p.add_argument("--log-every", type=int, help="steps between progress lines / log rows")
    p.add_argument("--checkpoint-every", type=int, help="steps between checkpoints")
    p.add_argument("--max-steps", type=int, help="stop after this many steps in this call (resume later)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:N (default: cuda when available)")
    p.add_argument("--workers", type=int, default=0, help="data loader worker processes (default 0)")
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--ddp", action="store_true",
                   help="run as one rank of a DistributedDataParallel job started by torchrun (NCCL on GPUs, gloo "
                   "on CPUs); --batch-size stays the global batch, split over the ranks")
    p.add_argument("--micro-batches", type=int, default=1, metavar="M",
                   help="split each batch into M parts with averaged gradients: the one-process equivalent of an "
                   "M-rank --ddp run (default 1)")
    p.add_argument("--compile", action="store_true", help="run the network through torch.compile (GPU training)")
    p.add_argument("--budget-s", type=float, metavar="SECONDS",
                   help="finish within this wall-clock budget: a few calibration steps time the network, then both "
                   "stages are scaled (ratio kept) to fit; config.json records the fitted step counts")
    p.add_argument("--chunk-mb", type=float, metavar="MB",
                   help="write the weights as model.safetensors.000, .001, ... of at most MB mebibytes each (for "
                   "channels that cap file sizes; loading joins them)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="settings",
                   help="any other TrainConfig field, e.g. --set w_base_ce=1.0 (repeatable; see docs/reference.md)")
    p.set_defaults(func=_train)


PACK_EPILOG = """examples:
  humandepth render --out data/crops --count 2000 --seed 1 --crop tang2019 --workers 2
  humandepth baselines pack reference --data data/crops --out packs/crops-154 --side 154
  humandepth baselines train reference --data packs/crops-154 --out ckpt/ref-small

A pack holds each sample's person crop (widened by --margin of its side) as a JPEG, 16-bit depth / detail PNGs and
an 8-bit part PNG, plus one arrays.npz (crop intrinsics, joints, median depth) and pack.json, written last.  It
reads with numpy and Pillow alone: the way to move a corpus to a training machine (docs/reference.md).  The
default side is the network input of --config plus the margin: 154 px for small, 308 for paper.
"""


def register_pack(subparsers) -> None:
    """Add ``pack`` to the ``humandepth baselines`` subcommands."""
    p = subparsers.add_parser(
        "pack", help="write a compact training pack of a dataset's person crops (for training elsewhere)",
        description="Write a training pack: every sample's person crop in small JPEG/PNG files that the reference "
        "network's training reads with numpy and Pillow only.",
        epilog=PACK_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", choices=["reference"], help="the trainable baseline")
    p.add_argument("--data", required=True, help="source dataset: path or registered name (humandepth format, with "
                   "depth_detail, parts, joints2d/joints3d and camera)")
    p.add_argument("--out", required=True, help="pack folder to write")
    p.add_argument("--config", default="small", choices=["small", "paper"],
                   help="the network the pack is for; sets the default --side (default small)")
    p.add_argument("--side", type=int, help="crop side in pixels (default: input size of --config x (1 + 2 margin))")
    p.add_argument("--margin", type=float, default=None, help="widening of the person box on every side, as a "
                   "fraction of its side (default 0.1)")
    p.add_argument("--count", type=int, help="pack only the first COUNT samples (default: all)")
    p.add_argument("--overwrite", action="store_true", help="replace a finished pack at --out")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=_pack)


def _pack(args) -> int:
    from humandepth.baselines.reference.config import preset
    from humandepth.baselines.reference.pack import DEFAULT_MARGIN, pack_dataset

    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    if not 0 <= margin <= 1:
        raise ValueError(f"--margin must be in [0, 1], got {margin}")
    side = args.side or int(round(preset(args.config)[0].input_size * (1 + 2 * margin)))
    if side < 16:
        raise ValueError(f"--side must be at least 16 pixels, got {side}")
    if args.count is not None and args.count < 1:
        raise ValueError(f"--count must be >= 1, got {args.count}")
    out = pack_dataset(args.data, args.out, side=side, margin=margin, count=args.count, overwrite=args.overwrite,
                       quiet=args.quiet)
    print(f"wrote training pack {out}")
    return 0


def _command_line(args) -> str:
    """The equivalent command line, recorded in the checkpoint (reproducible from its README)."""
    parts = ["humandepth", "baselines", "train", "reference", "--data", str(args.data), "--config", args.config,
             "--variant", args.variant, "--out", str(args.out)]
    for name in ("seed", "stage1_steps", "stage2_steps", "batch_size", "lr", "log_every", "checkpoint_every",
                 "device", "workers", "threads", "budget_s", "chunk_mb"):
        value = getattr(args, name)
        if value is not None and not (name == "workers" and value == 0):
            parts += [f"--{name.replace('_', '-')}", str(value)]
    if getattr(args, "micro_batches", 1) != 1:
        parts += ["--micro-batches", str(args.micro_batches)]
    if getattr(args, "ddp", False):
        parts.append("--ddp")
    if getattr(args, "compile", False):
        parts.append("--compile")
    for setting in args.settings:
        parts += ["--set", setting]
    return " ".join(shlex.quote(p) for p in parts)


def parse_settings(settings: list[str]) -> dict:
    """``["w_base_ce=1.0", "stage2_base=false"]`` -> TrainConfig overrides, each value converted to the type of
    the field's default; ValueError naming the setting for an unknown field or a bad value."""
    from dataclasses import fields

    from humandepth.baselines.reference.config import TrainConfig

    types = {f.name: type(f.default) for f in fields(TrainConfig)}
    out = {}
    for setting in settings:
        key, sep, raw = setting.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in types:
            raise ValueError(f"--set {setting!r}: expected KEY=VALUE with KEY one of {', '.join(sorted(types))}")
        kind = types[key]
        try:
            if kind is bool:
                if raw.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(raw)
                out[key] = raw.lower() in ("true", "1")
            else:
                out[key] = kind(raw)
        except ValueError:
            raise ValueError(f"--set {setting!r}: {raw!r} is not a valid {kind.__name__}") from None
    return out


def _train(args) -> int:
    import torch

    from humandepth.baselines.reference.train import RunOptions, train

    if args.threads is not None and args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    if args.threads:
        torch.set_num_threads(args.threads)
    overrides = {k: v for k, v in {
        "seed": args.seed, "stage1_steps": args.stage1_steps, "stage2_steps": args.stage2_steps,
        "batch_size": args.batch_size, "lr": args.lr, "log_every": args.log_every,
        "checkpoint_every": args.checkpoint_every}.items() if v is not None}
    overrides = {**parse_settings(args.settings), **overrides}  # TrainConfig checks their values
    if args.max_steps is not None and args.max_steps < 1:
        raise ValueError(f"--max-steps must be >= 1, got {args.max_steps}")
    if args.chunk_mb is not None and args.chunk_mb <= 0:
        raise ValueError(f"--chunk-mb must be > 0, got {args.chunk_mb}")
    if args.workers < 0:
        raise ValueError(f"--workers must be >= 0, got {args.workers}")
    options = RunOptions(compile=args.compile, budget_s=args.budget_s,
                         chunk_bytes=int(args.chunk_mb * 2**20) if args.chunk_mb else None)
    command = _command_line(args)
    out = train(args.data, args.out, config=args.config, variant=args.variant, resume=args.resume,
                overrides=overrides, device=args.device, workers=args.workers, command=command,
                max_steps=args.max_steps, ddp=args.ddp, micro_batches=args.micro_batches, options=options)
    if not args.ddp or int(os.environ.get("RANK", "0")) == 0:
        print(f"wrote checkpoint {out}")
    return 0

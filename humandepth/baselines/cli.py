"""``humandepth baselines list|run|train``."""

from __future__ import annotations

import argparse

RAW = argparse.RawDescriptionHelpFormatter
MODEL_OPTIONS = ("weights", "normal_weights", "input_size", "normal_axes", "device")  # for published models


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
        "  humandepth baselines run reference --dataset DS --checkpoint ckpt/ --out preds/ref.h5\n"
        "  humandepth baselines run depth-anything-v2 --weights models/Depth-Anything-V2-Small-hf --dataset DS "
        "--out preds/dav2.h5\n"
        "  humandepth baselines run david --weights multi-task-model-vitl16_384.onnx --dataset DS --out preds/david.h5",
        formatter_class=RAW)
    p.add_argument("name", help="baseline name (see `humandepth baselines list`)")
    p.add_argument("--dataset", required=True, help="dataset path or registered name")
    p.add_argument("--out", required=True, help="predictions file to write (.h5)")
    p.add_argument("--checkpoint", help="checkpoint for the reference network (default: the shipped one)")
    p.add_argument("--tta", choices=("none", "flip", "flip-scale"),
                   help="reference network: test-time views averaged per image -- flip-scale (default: the box and a "
                   "10%% wider one, each also mirrored), flip (the box and its mirror) or none")
    m = p.add_argument_group("published models (see docs/baselines.md)")
    m.add_argument("--weights", metavar="PATH", help="the model's weights: a transformers folder, a DAViD .onnx or a "
                   "Sapiens .pt2 file (default: its entry in the YAML file named by $HUMANDEPTH_WEIGHTS)")
    m.add_argument("--normal-weights", metavar="PATH", help="DAViD / Sapiens normal model, for normals")
    m.add_argument("--input-size", metavar="HxW", help="Sapiens input size (default 1024x768, the released models')")
    m.add_argument("--normal-axes", metavar="AXES", help="the model's normal channels in OpenCV camera axes "
                   "(default x,-y,-z: right, up, towards the camera)")
    m.add_argument("--device", choices=("cpu", "cuda"), help="where the model runs (default: CUDA when available)")
    p.set_defaults(func=_run)
    from humandepth.baselines.reference.cli import register_pack, register_train

    register_train(bsub)
    register_pack(bsub)


def _list(args) -> int:
    from humandepth.baselines.registry import BASELINES, MODEL_BASELINES

    width = max(len(n) for n in [*BASELINES, *MODEL_BASELINES])
    for e in BASELINES.values():
        tags = []
        if e.oracle:
            tags.append(f"reads GT: {', '.join(e.uses_gt)}")
        if e.needs_checkpoint:
            tags.append("checkpoint")
        suffix = f"  [{'; '.join(tags)}]" if tags else ""
        print(f"{e.name.ljust(width)}  {e.description}{suffix}")
    print("\npublished models: weights downloaded once, given with --weights PATH (nothing is downloaded at run "
          "time; needs pip install 'humandepth[models]')")
    pad = " " * (width + 2)
    for e in MODEL_BASELINES.values():
        print(f"{e.name.ljust(width)}  {e.description}")
        print(f"{pad}writes: {e.output}; reads: the RGB image only")
        print(f"{pad}licence: {e.licence}")
        print(f"{pad}weights: {e.weights_from}")
    return 0


def _run(args) -> int:
    from humandepth.baselines.registry import get_baseline
    from humandepth.baselines.run import run_baseline
    from humandepth.data.open import open_dataset

    entry = get_baseline(args.name)
    if args.checkpoint and not entry.needs_checkpoint:
        what = "it has no learned weights" if not entry.accepts else "give its weights with --weights"
        raise ValueError(f"baseline {args.name!r} takes no --checkpoint ({what})")
    options = {"checkpoint": args.checkpoint}
    if args.tta is not None:
        if not entry.needs_checkpoint:
            raise ValueError(f"baseline {args.name!r} takes no --tta (only the reference network averages views)")
        options["tta"] = args.tta
    for key in MODEL_OPTIONS:
        value = getattr(args, key)
        if value is not None and key not in entry.accepts:
            raise ValueError(f"baseline {args.name!r} takes no --{key.replace('_', '-')}")
        options[key] = value
    ds = open_dataset(args.dataset)
    out = run_baseline(args.name, ds, args.out, options=options)
    print(f"wrote {out} ({len(ds)} samples of {ds.name!r}, method {args.name})")
    return 0

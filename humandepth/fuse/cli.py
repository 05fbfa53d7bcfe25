"""``humandepth fuse INPUT --out DATASET`` (heavy imports happen inside the handler)."""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  humandepth capture simulate --out takes/sim0 --frames 30
  humandepth fuse takes/sim0 --out data/sim0-fused                  # odometry poses, truth found beside the take
  humandepth fuse takes/sim0 --out data/sim0-known --poses known    # the simulator's true poses
  humandepth fuse data/alice --out data/alice-fused --voxel 0.005   # a dataset from 'capture import'
  humandepth fuse takes/alice/recording.db3 --out data/alice-fused --stride 2 --device cuda
  humandepth fuse takes/alice takes/bob takes/carol --out data/fused --executor ray   # one Ray task per take

INPUT is a take directory, the recording inside one (.db3/.bag), a bare recording, or a dataset of
kind 'captured'.  The output is a dataset of kind 'fused' (one sample per used colour frame: rgb,
fused depth, normals and mask of the person, base/detail, camera), fused_mesh.ply, person_mesh.ply
and fusion_report.json (frames read/used/rejected with reasons, pose graph, residuals, coverage and,
for a simulated take, gt_mae_mm of a raw frame, of the fusion with known poses and as run).
The subject must hold still: frames where they moved are detected and dropped (see docs/fuse.md).

With several INPUTs, --out is a directory that receives one output per take, OUT/<name> (a directory input's
name, a file input's stem), each exactly what a single-take run writes.  --executor ray fuses them in parallel,
one Ray task per take (one GPU each with --device cuda); outputs must be on a path every node sees.
"""


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return v


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "fuse", help="TSDF-fuse a take or captured dataset into per-frame ground truth (kind fused)",
        description="Fuse RGB-D frames (known or odometry poses) with Open3D's VoxelBlockGrid, cut the person "
                    "out of the fused mesh and ray-cast it at every colour frame: depth, normals and mask.",
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=EPILOG)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="take directory, recording file, or 'captured' dataset (several: one output per take)")
    p.add_argument("--out", required=True,
                   help="output dataset directory (kind fused); with several INPUTs the directory that holds "
                   "one per take")
    p.add_argument("--poses", choices=("known", "odometry"), default="odometry",
                   help="camera poses: 'odometry' (RGB-D odometry + loop closures + pose graph; default) or "
                        "'known' (the input's own, e.g. a simulated take's truth)")
    p.add_argument("--voxel", type=_positive_float, default=0.004, help="voxel size in metres (default 0.004)")
    p.add_argument("--trunc", type=_positive_float, default=0.04, help="TSDF truncation in metres (default 0.04)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="Open3D device for integration (default cpu; cuda needs an Open3D CUDA build)")
    p.add_argument("--depth-max", type=_positive_float, default=None,
                   help="integrate depth nearer than this (m; default: subject distance + 1 m)")
    p.add_argument("--roi-radius", type=float, default=1.2,
                   help="integrate only within this radius (m) of the subject's centre (default 1.2; 0 = off)")
    p.add_argument("--weight-threshold", type=float, default=None,
                   help="mesh voxels observed at least this often (default min(2, frames/2); parts seen by "
                        "fewer than 3 frames get no ground-truth value)")
    p.add_argument("--motion-k", type=float, default=3.0,
                   help="a raw pixel disagrees with the fused surface beyond k noise sigmas (default 3)")
    p.add_argument("--motion-fraction", type=float, default=0.25,
                   help="a frame where more of the person disagrees is dropped as 'subject moved' (default 0.25)")
    p.add_argument("--stride", type=int, default=1, help="use every N-th frame (default 1)")
    p.add_argument("--max-frames", type=int, default=None, help="use at most this many frames")
    p.add_argument("--color", action="store_true", help="integrate colour too (coloured PLY meshes; slower)")
    p.add_argument("--no-denoise", action="store_true",
                   help="integrate the raw depth as it is (default: after an edge-preserving 3x3 median)")
    p.add_argument("--no-known-comparison", action="store_true",
                   help="with truth and --poses odometry, skip the second fusion with the true poses")
    p.add_argument("--name", help="dataset name for the card (default: the --out directory name)")
    p.add_argument("--overwrite", action="store_true", help="replace a dataset already at --out")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    from humandepth.scale.options import add_executor_options

    add_executor_options(p, "one take")
    p.set_defaults(func=_fuse)


def _config(args):
    from humandepth.fuse.fusion import FuseConfig
    from humandepth.fuse.motion import MotionParams

    if args.roi_radius is not None and args.roi_radius < 0:
        raise ValueError(f"--roi-radius must be >= 0, got {args.roi_radius}")
    return FuseConfig(poses=args.poses, voxel=args.voxel, trunc=args.trunc, device=args.device,
                      depth_max=args.depth_max, roi_radius=args.roi_radius or None,
                      weight_threshold=args.weight_threshold, color=args.color,
                      motion=MotionParams(k=args.motion_k, max_outlier_fraction=args.motion_fraction),
                      compare_known_poses=not args.no_known_comparison, denoise=not args.no_denoise)


def fuse_take(input_path: str, out: str, cfg, stride: int = 1, max_frames: int | None = None,
              name: str | None = None, overwrite: bool = False, quiet: bool = False) -> dict:
    """Fuse one take (``input_path``) into the dataset ``out`` with ``cfg`` (a FuseConfig); return the summary
    line printed by ``humandepth fuse``.  Runs in this process or as a Ray task (one per take)."""
    from humandepth.fuse.fusion import fuse_sequence
    from humandepth.fuse.integrate import o3d_device
    from humandepth.fuse.output import check_out, write_result
    from humandepth.fuse.readers import read_input

    check_out(out, overwrite)
    o3d_device(cfg.device)

    def say(stage, value):
        if not quiet:
            print(f"fuse: {stage} {value}", file=sys.stderr, flush=True)

    seq = read_input(input_path, stride, max_frames)
    say("frames read", len(seq))
    if seq.truth is not None:
        say("truth found", seq.truth.describe()["color"])
    result = fuse_sequence(seq, cfg, progress=say)
    summary = write_result(result, seq, out, overwrite=overwrite, name=name)
    r = result.report
    line = {"dataset": summary["dataset"], "frames_read": r["frames"]["read"], "frames_used": r["frames"]["used"],
            "rejected": {x["id"]: x["reason"] for x in r["frames"]["rejected_frames"]},
            "samples": summary["samples"], "evaluated_fraction": r["evaluated"]["fraction"]}
    if "truth" in r:
        line["gt_mae_mm"] = r["truth"]["gt_mae_mm"]
        line["person_mask"] = {k: r["truth"]["person_mask"][k] for k in ("precision", "recall", "iou")}
    return line


def take_outputs(inputs: list[str], out: str) -> list[str]:
    """The output directory of each input: ``out`` itself for one input, else ``out/<name>`` (a directory's name,
    a file's stem).  Two inputs with the same name are refused, naming both."""
    from pathlib import Path

    from humandepth.data.remote import is_remote

    if len(inputs) == 1:
        return [out]

    def under(name: str) -> str:  # a URL keeps its '//' (Path would fold s3://b into s3:/b)
        return f"{str(out).rstrip('/')}/{name}" if is_remote(out) else str(Path(out) / name)

    seen: dict[str, str] = {}
    outs = []
    for inp in inputs:
        path = Path(inp)
        name = path.name if path.is_dir() or not path.suffix else path.stem
        if name in seen:
            raise ValueError(f"takes {seen[name]} and {inp} would both be written to {under(name)}; "
                             "give take directories with distinct names (or fuse them one at a time)")
        seen[name] = inp
        outs.append(under(name))
    return outs


def _fuse(args) -> int:
    import json
    from pathlib import Path

    from humandepth.data.remote import is_remote
    from humandepth.fuse.output import check_out
    from humandepth.scale.options import check_executor_options

    check_executor_options(args)
    if args.name and len(args.inputs) > 1:
        raise ValueError("--name names one dataset; with several INPUTs each output is named after its take")
    outs = take_outputs(args.inputs, args.out)
    for inp in args.inputs:
        if not Path(inp).exists():
            raise FileNotFoundError(f"fuse input {inp} does not exist (give a take directory, a .db3/.bag recording "
                                    "or a 'captured' dataset)")
    for out in outs:
        check_out(out, args.overwrite)  # refuse before any take is fused
    cfg = _config(args)
    options = {"stride": args.stride, "max_frames": args.max_frames, "name": args.name, "overwrite": args.overwrite}
    if args.executor == "local":
        for inp, out in zip(args.inputs, outs, strict=True):
            print(json.dumps(fuse_take(inp, out, cfg, quiet=args.quiet, **options)), flush=True)
        return 0
    from humandepth.progress import Progress
    from humandepth.scale.executor import Task, make_executor

    tasks = [Task(key=f"fuse-take-{k:04d}", fn=fuse_take,
                  args=(str(Path(inp).resolve()), out if is_remote(out) else str(Path(out).resolve()), cfg),
                  kwargs={**options, "quiet": True},
                  num_cpus=1, num_gpus=1 if cfg.device == "cuda" else 0)
             for k, (inp, out) in enumerate(zip(args.inputs, outs, strict=True))]
    with make_executor("ray", args.address, args.max_retries) as ex:
        if not args.quiet:
            print(f"fuse: {ex.describe()}; {len(tasks)} take task(s)", file=sys.stderr, flush=True)
        bar = Progress("fuse", len(tasks), unit="takes", enabled=not args.quiet, every_s=0.0)
        lines = ex.run(tasks, on_done=lambda i, task, line: bar.update(1, note=args.inputs[i]))
    for line in lines:  # in input order
        print(json.dumps(line), flush=True)
    return 0

"""``humandepth fuse INPUT --out DATASET``: options for :func:`humandepth.fuse.takes.fuse_takes` (heavy imports
happen inside the handler)."""

from __future__ import annotations

import argparse

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


def _fuse(args) -> int:
    import json

    from humandepth.fuse.takes import fuse_takes
    from humandepth.scale.options import check_executor_options

    check_executor_options(args)
    fuse_takes(args.inputs, args.out, _config(args), stride=args.stride, max_frames=args.max_frames,
               name=args.name, overwrite=args.overwrite, quiet=args.quiet, executor=args.executor,
               address=args.address, max_retries=args.max_retries,
               on_line=lambda line: print(json.dumps(line), flush=True))
    return 0

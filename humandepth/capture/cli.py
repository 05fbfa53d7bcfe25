"""``humandepth capture record | import | simulate`` (heavy imports happen inside the handlers)."""

from __future__ import annotations

import argparse

RAW = argparse.RawDescriptionHelpFormatter

RECORD_EPILOG = """examples:
  humandepth capture record --out takes/alice --seconds 20
  humandepth capture record --out takes/bob --depth 640x480 --color 640x480 --preset high_density

Ground-truth protocol: the subject holds still while the operator walks the camera slowly around them
at 1-2 m, in a room with textured surroundings (see docs/capture.md).  The recording is .db3 on
pyrealsense2 >= 2.58 and .bag before; the command says which.
"""

IMPORT_EPILOG = """examples:
  humandepth capture import takes/alice --out data/alice
  humandepth capture import takes/alice --out data/alice-raw --align none
  humandepth capture import recording.db3 --out data/viewer --filters spatial,temporal --box 200 40 460 470

Every frame is played back (non-real-time, no syncer) and counted against the file; the command
fails naming the file when frames are missing.  Filters are off by default (hole filling and
temporal smoothing invent depth).  The person mask is coarse: a depth band + largest component.
"""

SIMULATE_EPILOG = """examples:
  humandepth capture simulate --out takes/sim0 --frames 60 --seed 0
  humandepth capture simulate --out takes/tripod --frames 30 --trajectory static --distance 2.0
  humandepth capture simulate --out takes/biased --frames 30 --systematic-px 0.03

Writes TAKE/recording.db3 (a real SDK recording), TAKE/take.json and the exact truth as datasets
TAKE/truth/depth and TAKE/truth/color (noise-free depth + true poses).  Sensor: D435-like, depth noise
in disparity (sigma_z = z^2 * 0.08 px / (f * B): 4.2 mm at 1 m, 9.4 at 1.5 m, 16.6 at 2 m).
"""


CAPTURE_EPILOG = """examples:
  humandepth capture simulate --out takes/sim0 --frames 60 --seed 0
  humandepth capture import takes/sim0 --out data/sim0
  humandepth capture record --out takes/alice --seconds 20
"""


def _size(text: str):
    from humandepth.capture.live import parse_size

    try:
        return parse_size(text, "size")
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def register(subparsers) -> None:
    p = subparsers.add_parser("capture", help="RealSense capture, recording import and the simulated sensor",
                              description="Record from a RealSense D400, import recordings as datasets, or "
                                          "simulate a take with exact ground truth.", formatter_class=RAW,
                              epilog=CAPTURE_EPILOG)
    p.set_defaults(func=lambda args: p.print_help())
    sub = p.add_subparsers(dest="capture_command", metavar="SUBCOMMAND")

    r = sub.add_parser("record", help="record a take from a connected D400 camera", formatter_class=RAW,
                       description="Record depth + colour from a connected D400-series camera into a take "
                                   "directory (recording + take.json sidecar).", epilog=RECORD_EPILOG)
    r.add_argument("--out", required=True, help="take directory to create")
    r.add_argument("--depth", default="848x480", help="depth stream size (default 848x480, the D435 optimum)")
    r.add_argument("--color", default="1280x720", help="colour stream size (default 1280x720)")
    r.add_argument("--fps", type=int, default=30, help="frame rate of both streams (default 30)")
    r.add_argument("--preset", default="high_accuracy", help="D400 visual preset (default high_accuracy)")
    r.add_argument("--seconds", type=float, default=10.0, help="recording length (default 10)")
    r.add_argument("--warmup", type=float, default=1.0, help="seconds streamed but not recorded first (default 1)")
    r.add_argument("--serial", help="serial number of the camera to use (default: the first D400)")
    r.add_argument("--overwrite", action="store_true", help="replace an existing take at --out")
    r.set_defaults(func=_record)

    i = sub.add_parser("import", help="play a take back and write a dataset (kind captured)", formatter_class=RAW,
                       description="Play a take (directory or .db3/.bag file) back deterministically and write a "
                                   "humandepth dataset of kind 'captured'.", epilog=IMPORT_EPILOG)
    i.add_argument("take", help="take directory or recording file")
    i.add_argument("--out", required=True, help="dataset directory to write, or an object-storage URL (s3://bucket/path)")
    i.add_argument("--align", default="color", choices=("color", "none"),
                   help="color: depth re-projected into the colour camera (rs.align, default); none: raw depth "
                        "in the depth camera, colour re-projected onto it")
    i.add_argument("--filters", default="", help="comma-separated SDK filters: decimation, spatial, temporal, "
                                                 "hole_filling (default: none)")
    i.add_argument("--box", type=int, nargs=4, metavar=("X0", "Y0", "X1", "Y1"),
                   help="pixel box containing the person (for the coarse mask)")
    i.add_argument("--mask-range", type=float, nargs=2, metavar=("NEAR", "FAR"),
                   help="depth band of the person in metres (default: 20th percentile of the central depth +- 0.5 m)")
    i.add_argument("--name", help="dataset name (default: TAKE-captured)")
    i.add_argument("--overwrite", action="store_true", help="replace a finished dataset at --out")
    i.add_argument("--compression", default="none", choices=("none", "lzf", "gzip"),
                   help="dataset chunk compression (default none: captured frames shrink only ~30%% with lzf, "
                        "which halves the import speed; gzip: portable, smaller, slowest)")
    i.set_defaults(func=_import)

    s = sub.add_parser("simulate", help="simulate a take: real SDK recording + exact truth", formatter_class=RAW,
                       description="Render a person in a textured room from a moving camera, apply a D400-like "
                                   "sensor model and write a real RealSense recording plus the exact truth.",
                       epilog=SIMULATE_EPILOG)
    s.add_argument("--out", required=True, help="take directory to create")
    s.add_argument("--frames", type=int, default=30, help="number of frames (default 30)")
    s.add_argument("--seed", type=int, default=0, help="seed for the person, room, trajectory and noise (default 0)")
    s.add_argument("--trajectory", default="orbit", choices=("orbit", "static"), help="camera motion (default orbit)")
    s.add_argument("--distance", type=float, default=None,
                   help="camera distance from the person in m (default: the nearest that frames the whole person, "
                        "head to feet, in every frame; about 2 m for an adult with the default cameras)")
    s.add_argument("--arc", type=float, default=90.0, help="orbit arc in degrees (default 90)")
    s.add_argument("--depth-size", type=_size, default=(640, 480), help="depth stream size (default 640x480)")
    s.add_argument("--color-size", type=_size, default=(640, 480), help="colour stream size (default 640x480)")
    s.add_argument("--person", default="auto", choices=("auto", "render", "mannequin"),
                   help="auto: the render wing's sample_person when available, else a primitive mannequin")
    s.add_argument("--subpixel", type=float, default=0.08, help="disparity noise sigma in px (default 0.08)")
    s.add_argument("--systematic-px", type=float, default=0.0,
                   help="std of a fixed-pattern disparity error in px, the same in every frame (default 0: off)")
    s.add_argument("--truth-normals", action="store_true", help="also store normals in the truth datasets")
    s.add_argument("--compress", action="store_true",
                   help="compress the recording (zstd; ~35%% smaller for noisy depth, ~2x slower to play back)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing take at --out")
    s.set_defaults(func=_simulate)


def _record(args) -> int:
    from humandepth.capture.live import parse_size, record_take

    record_take(args.out, parse_size(args.depth, "--depth"), parse_size(args.color, "--color"), args.fps,
                args.preset, args.seconds, args.warmup, args.serial, args.overwrite)
    return 0


def _import(args) -> int:
    from humandepth.capture.importer import import_take

    filters = [f.strip() for f in args.filters.split(",") if f.strip()]
    summary = import_take(args.take, args.out, align=args.align, filters=filters, box=args.box,
                          depth_range=args.mask_range, name=args.name, overwrite=args.overwrite,
                          compression=args.compression)
    exp = summary["expected"]
    counted = (f"the file holds {exp['depth']} depth / {exp['color']} colour frames" if exp
               else "the file's own count is not available for ROS1 .bag recordings")
    print(f"imported {summary['frames']} frames -> {summary['dataset']} ({counted}; delivered "
          f"{summary['delivered']['depth']} / {summary['delivered']['color']}; "
          f"{summary['unpaired_depth']} depth frames without a colour partner)")
    return 0


def _simulate(args) -> int:
    import dataclasses

    from humandepth.capture.sdk import recording_extension, sdk_version
    from humandepth.capture.sensor_model import D400Model
    from humandepth.capture.simulate import SimulationConfig, simulate_take

    base = SimulationConfig()
    scale_d = args.depth_size[0] / base.depth_size[0]
    scale_c = args.color_size[0] / base.color_size[0]
    cfg = SimulationConfig(
        frames=args.frames, seed=args.seed, trajectory=args.trajectory, distance=args.distance, arc_deg=args.arc,
        depth_size=tuple(args.depth_size), depth_focal=base.depth_focal * scale_d,
        color_size=tuple(args.color_size), color_focal=base.color_focal * scale_c,
        sensor=dataclasses.replace(D400Model(), subpixel_px=args.subpixel, systematic_px=args.systematic_px),
        person=args.person, truth_normals=args.truth_normals, compress=args.compress,
    )

    def progress(done, total):
        if done == total or done % 10 == 0:
            print(f"  frame {done}/{total}", flush=True)

    cfg.validate()  # before the first line of output
    print(f"simulating {args.frames} frames; pyrealsense2 {sdk_version()} records {recording_extension()}")
    root = simulate_take(args.out, cfg, overwrite=args.overwrite, progress=progress)
    print(f"wrote take {root} (recording, take.json, truth/depth, truth/color)")
    return 0

"""``humandepth render ...``: render a synthetic dataset, or ``humandepth render setup`` (one-time cache build)."""

from __future__ import annotations

import argparse
import json

RAW = argparse.RawDescriptionHelpFormatter

EPILOG = """examples:
  humandepth render setup                                  # once per machine: build the anny body cache
  humandepth render --out data/render-256 --count 1000 --seed 0 --workers 2 --preview
  humandepth render --out data/tang-crops --count 500 --crop tang2019
  humandepth render --out data/smplx --count 100 --body smplx --smplx-model-path ~/models
  humandepth render --out data/scans --count 100 --body scan --scans thuman2.1   # a registered scan set
  humandepth render --out data/r --count 640 --executor ray                       # a local Ray cluster, all CPUs
  humandepth render --out /shared/r --count 100000 --executor ray --address 10.0.0.1:6379  # one task per shard

Every sample is a pure function of (seed, index): reruns and any --workers give byte-identical arrays; a
rerun of an interrupted command resumes (finished shards are kept).  With --executor ray each Ray task renders
one shard (on one GPU with EGL when the cluster has GPUs, else one CPU) and writes it to --out, which must be a
path every node sees (a shared filesystem); the shards are byte-identical to a local run's (docs/scale.md).
Environment: HUMANDEPTH_CACHE (default ~/.cache/humandepth) holds the anny cache; HUMANDEPTH_GL=auto|egl|osmesa
picks the OpenGL platform (auto: EGL when an NVIDIA GPU is present, else OSMesa); the renderer in use
(GL_RENDERER) is stored in each sample.
"""


def register(sub) -> None:
    p = sub.add_parser(
        "render", help="render synthetic clothed humans into a dataset (or: render setup)",
        description="Render photographs of synthetic people (anny body by default; garments, shoes and hair "
        "with real geometry; rooms, outdoor scenes or studios; light with shadows; a camera's blur, noise and "
        "JPEG) into a humandepth dataset: rgb, depth, normal, mask, parts, depth_base/depth_detail, body_depth, "
        "joints2d/joints3d, camera and meta per sample; the ground truth is the person only. 'humandepth render "
        "setup' builds the body model cache once per machine.",
        epilog=EPILOG, formatter_class=RAW)
    p.add_argument("action", nargs="?", choices=["setup"], help="'setup': build the anny cache (idempotent)")
    p.add_argument("--out", help="output dataset directory")
    p.add_argument("--count", type=int, default=100, help="number of samples (default 100)")
    p.add_argument("--seed", type=int, default=0, help="master seed (default 0)")
    p.add_argument("--resolution", type=int, default=256, help="square image size in pixels (default 256)")
    p.add_argument("--body", choices=["anny", "smplx", "scan"], default="anny", help="body source (default anny)")
    p.add_argument("--workers", type=int, default=None,
                   help="parallel worker processes (default 1); with --executor ray and no --address: the CPUs "
                   "of the local Ray cluster (default all)")
    p.add_argument("--preview", action="store_true", help="also write OUT/preview.png (a contact sheet)")
    p.add_argument("--crop", choices=["none", "tang2019"], default="none",
                   help="tang2019: the paper's tight, centred 256x256 person crops")
    p.add_argument("--shard-size", type=int, default=64, help="samples per HDF5 shard (default 64)")
    p.add_argument("--name", help="dataset name for the card (default: the directory name)")
    p.add_argument("--overwrite", action="store_true", help="replace a finished dataset at --out")
    p.add_argument("--unclothed", action="store_true", help="no garments")
    p.add_argument("--outfit", help="comma-separated garment types to wear, exactly these, e.g. tshirt,trousers,"
                   "sneakers (default: sampled, with footwear and sometimes a cap or a hood)")
    p.add_argument("--backgrounds", help="folder of your photographs: half of the samples stand in front of a crop "
                   "of one (default: procedural rooms, outdoor scenes and studios only)")
    p.add_argument("--smplx-model-path", help="folder with smplx/SMPLX_NEUTRAL.npz (for --body smplx)")
    p.add_argument("--scans", "--scan-dir", dest="scans",
                   help="registered scan dataset name (datasets.yaml, format scans) or a folder of OBJ/PLY scans "
                   "(for --body scan)")
    p.add_argument("--elevation-deg", type=float, nargs=2, metavar=("LO", "HI"),
                   help="camera elevation above the person's centre, drawn uniformly from [LO, HI] degrees "
                        "(default -10 30)")
    p.add_argument("--pitch-deg", type=float, nargs=2, metavar=("LO", "HI"),
                   help="with --crop tang2019: the camera's own pitch below the horizon, drawn uniformly from [LO, HI] "
                        "degrees, so each crop is an off-centre window of a frame from a camera that looks ahead, as "
                        "crops of photographs are (default: the camera is aimed at the person; docs/render.md)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    from humandepth.scale.options import add_executor_options

    add_executor_options(p, "one shard")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from humandepth.errors import UserError

    if args.action == "setup":
        from humandepth.render.cache import setup_anny

        summary = setup_anny()
        print(json.dumps(summary, indent=1))
        return 0
    if not args.out:
        raise UserError("humandepth render needs --out DIR (or the action 'setup')")
    from humandepth.scale.options import check_executor_options

    check_executor_options(args)
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    scan_dir, scan_license = _resolve_scans(args.scans) if args.scans else (None, None)
    if args.body == "scan" and not scan_dir:
        raise UserError("--body scan needs --scans NAME|DIR (a registered scan dataset or a folder of OBJ/PLY files)")
    if args.elevation_deg is not None:
        lo, hi = args.elevation_deg
        if not (-80.0 <= lo <= hi <= 80.0):
            raise UserError(f"--elevation-deg {lo:g} {hi:g}: expected LO <= HI, both within -80 and 80 degrees")
    cfg = GeneratorConfig(
        resolution=args.resolution, body=args.body, crop=args.crop, clothed=not args.unclothed,
        outfit=tuple(s.strip() for s in args.outfit.split(",") if s.strip()) if args.outfit else None,
        background_dir=args.backgrounds, smplx_model_path=args.smplx_model_path, scan_dir=scan_dir,
        scan_license=scan_license,
        **({"elevation_deg": tuple(args.elevation_deg)} if args.elevation_deg is not None else {}),
        **({"pitch_deg": tuple(args.pitch_deg)} if args.pitch_deg is not None else {}))
    if args.body == "anny":  # fail before creating anything
        from humandepth.render.cache import require_anny_cache

        require_anny_cache()
    if args.body == "smplx":
        from humandepth.render.bodies.smplx_body import resolve_model

        resolve_model(args.smplx_model_path)
    if args.body == "scan":
        from humandepth.render.bodies.scan import ScanSource

        ScanSource(scan_dir)  # a folder without scans fails here, before anything is created
    if args.backgrounds:
        from humandepth.render.appearance import list_background_images

        list_background_images(args.backgrounds)  # fail before any rendering
    summary = render_dataset(args.out, args.count, seed=args.seed, cfg=cfg, workers=args.workers,
                             shard_size=args.shard_size, name=args.name, overwrite=args.overwrite,
                             progress=not args.quiet, preview=args.preview, executor=args.executor,
                             address=args.address, max_retries=args.max_retries)
    print(json.dumps(summary, indent=1))
    return 0


def _resolve_scans(name_or_dir: str) -> tuple[str, str | None]:
    """A folder, or a registry entry of format ``scans`` -> (its local folder, its licence)."""
    from pathlib import Path

    from humandepth.errors import UserError

    if Path(name_or_dir).expanduser().is_dir():
        return str(Path(name_or_dir).expanduser()), None
    from humandepth.data.registry import load_registry

    registry = load_registry()
    entry = registry.get(name_or_dir)
    if entry is None:
        raise UserError(f"--scans {name_or_dir!r} is neither a folder nor a registered dataset "
                        f"(known: {', '.join(registry)})")
    if entry.format != "scans":
        raise UserError(f"dataset {entry.name!r} has format {entry.format!r}, not 'scans'")
    if not entry.is_present():
        raise FileNotFoundError(f"scan dataset {entry.name!r} is not at {entry.local_path}. {entry.obtain}")
    return str(entry.local_path), entry.license

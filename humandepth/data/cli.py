"""``humandepth data ...`` and ``humandepth datasets ...`` subcommands."""

from __future__ import annotations

import argparse
import sys

RAW = argparse.RawDescriptionHelpFormatter


def register(sub) -> None:
    data = sub.add_parser(
        "data", help="inspect, verify and export datasets",
        description="Inspect, verify and export datasets (humandepth HDF5 shards, tang2019 or folder format).",
        epilog="examples:\n  humandepth data info demo_output/synthetic\n"
        "  humandepth data verify demo_output/synthetic\n"
        "  humandepth data export demo_output/synthetic --format folder --out /tmp/synthetic_folder",
        formatter_class=RAW,
    )
    dsub = data.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    p = dsub.add_parser(
        "verify", help="check schema and checksums; exit 1 naming the bad shard/sample",
        description="Check a dataset: the card's schema, every shard's sha256, every sample's arrays (dtype, shape, "
        "NaN/inf), the index table. Exits 1 and lists each problem with its shard and sample.",
        epilog="example:\n  humandepth data verify ~/.humandepth/data/render-256", formatter_class=RAW)
    p.add_argument("path", help="dataset directory or registered name")
    p.set_defaults(func=_verify)

    p = dsub.add_parser(
        "export", help="export to plain files (folder format)",
        description="Export every sample to OUT/<id>/: rgb.png, depth.png (uint16 mm), depth.npy (float32 m), "
        "normal.npy (float32), mask.png, camera.json, meta.json and any other arrays as .npy/.png.",
        epilog="example:\n  humandepth data export demo_output/synthetic --format folder --out /tmp/exported",
        formatter_class=RAW)
    p.add_argument("path", help="dataset directory or registered name")
    p.add_argument("--format", choices=["folder"], default="folder", help="output format (default: folder)")
    p.add_argument("--out", required=True, help="output folder (new or empty; written beside it and moved in when "
                   "complete)")
    p.add_argument("--overwrite", action="store_true", help="replace a finished export at --out")
    p.set_defaults(func=_export)

    p = dsub.add_parser(
        "info", help="print a dataset's card summary",
        description="Print name, kind, format, count, resolution, fields and checksum of a dataset.",
        epilog="example:\n  humandepth data info tang2019-real", formatter_class=RAW)
    p.add_argument("path", help="dataset directory or registered name")
    p.set_defaults(func=_info)

    ds = sub.add_parser(
        "datasets", help="the dataset registry (datasets.yaml)",
        description="The registry of named datasets (datasets.yaml): built-in ones and external ones you obtain.",
        epilog="example:\n  humandepth datasets list", formatter_class=RAW)
    dssub = ds.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    p = dssub.add_parser(
        "list", help="every registered dataset and whether it is present locally",
        description="List every registry entry with its kind, format, local path and presence. "
        "Paths may use $HUMANDEPTH_DATA (default ~/.humandepth/data).",
        epilog="example:\n  humandepth datasets list\n  humandepth datasets list --verbose", formatter_class=RAW)
    p.add_argument("--verbose", "-v", action="store_true", help="also print description, license and how to obtain")
    p.set_defaults(func=_list)
    p = dssub.add_parser(
        "build", help="render a registered test split and check it against its committed fingerprint",
        description="Render a canonical test split (a registry entry with a 'split:' section: generator options, "
        "count and seed) into its path, then check every sample against the fingerprint committed in the "
        "repository (per-sample statistics; the tolerance allows a few silhouette pixels decided differently by "
        "another OpenGL rasterizer). A match writes split.json beside the card, which the benchmark and the "
        "leaderboard read; a mismatch names the samples and fails. A finished build is checked, not rendered "
        "again.",
        epilog="examples:\n  humandepth datasets build test-crops-256\n"
        "  humandepth datasets build test-full-256 --out /data/splits/test-full-256 --workers 2",
        formatter_class=RAW)
    p.add_argument("name", help="registered split name (see `humandepth datasets list`)")
    p.add_argument("--out", help="where to build it (default: the registry entry's path)")
    p.add_argument("--workers", type=int, default=None, help="render processes (default 1)")
    p.add_argument("--overwrite", action="store_true", help="render again over a finished build at the path")
    p.add_argument("--write-fingerprint", action="store_true",
                   help="maintainers: write the committed fingerprint from this build instead of checking against "
                   "it (after a deliberate change of the generator)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=_build)


def _verify(args) -> int:
    from pathlib import Path

    from humandepth.data.open import open_dataset
    from humandepth.data.verify import verify_dataset

    path = Path(args.path).expanduser()
    root = path if path.exists() else open_dataset(args.path).root  # a registered name: its local folder
    problems = verify_dataset(root)  # a damaged card is a problem to list, not a reason to stop
    if problems:
        for p in problems:
            print(f"FAIL {p}")
        print(f"{root}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    ds = open_dataset(root)
    print(f"OK {ds.root}: {len(ds)} samples, format {ds.format}, checksum {ds.checksum()}")
    return 0


def _export(args) -> int:
    from humandepth.data.export import check_export_out, export_folder
    from humandepth.data.open import open_dataset

    check_export_out(args.out, args.overwrite)  # before the dataset is opened
    ds = open_dataset(args.path)
    out = export_folder(ds, args.out, overwrite=args.overwrite)
    print(f"exported {len(ds)} samples of {ds.name!r} to {out}")
    return 0


def _info(args) -> int:
    from humandepth.data.open import open_dataset

    ds = open_dataset(args.path)
    first = ds[0]
    print(f"name:       {ds.name}\nkind:       {ds.kind}\nformat:     {ds.format}\nsamples:    {len(ds)}")
    print(f"resolution: {first.height}x{first.width}\nfields:     {', '.join(first.present_fields())}")
    print(f"camera:     {'yes' if first.camera is not None else 'no (normalised grid)'}\nchecksum:   {ds.checksum()}")
    return 0


def _list(args) -> int:
    from humandepth.data.registry import load_registry, registry_path
    from humandepth.data.splits import SPLIT_MARKER

    def present(e) -> str:
        if not e.is_present():
            return "no"
        if e.split is None:
            return "yes"
        return "yes, verified" if (e.local_path / SPLIT_MARKER).is_file() else "yes, unverified"

    reg = load_registry()
    rows = [(e.name, e.kind, e.format, present(e), str(e.local_path)) for e in reg.values()]
    head = ("name", "kind", "format", "present", "path")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"registry: {registry_path()}")
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if args.verbose:
        for e in reg.values():
            print(f"\n{e.name}: {e.description}\n  license:  {e.license}\n  citation: {e.citation}\n"
                  f"  obtain:   {e.obtain}")
            if e.split is not None:
                print(f"  split:    render {e.split.render}; fingerprint {e.split.fingerprint}")
    return 0


def _render_split(out, count: int, seed: int, options: dict, workers, overwrite: bool, progress: bool) -> None:
    """Render a split with the render wing (what `humandepth render --count COUNT --seed SEED ...` does)."""
    from pathlib import Path

    from humandepth.render import GeneratorConfig
    from humandepth.render.dataset import render_dataset

    render_dataset(out, count, seed=seed, cfg=GeneratorConfig(**options), workers=workers, overwrite=overwrite,
                   progress=progress, name=Path(out).name)


def _build(args) -> int:
    import json
    import time

    from humandepth.data.registry import get_entry
    from humandepth.data.splits import build_split

    entry = get_entry(args.name)
    if entry.split is None:
        raise ValueError(f"dataset {args.name!r} is not a split (no 'split:' section in the registry); "
                         f"splits: see `humandepth datasets list`")
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    t0 = time.perf_counter()
    report = build_split(entry.split, args.out or entry.local_path, _render_split, workers=args.workers,
                         overwrite=args.overwrite, write=args.write_fingerprint, progress=not args.quiet)
    report["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(report))
    print(f"split {args.name!r}: {report['samples']} samples, {report['identical']} bit-identical to the "
          f"fingerprint, {report['within_tolerance']} within its tolerance; fingerprint sha256 "
          f"{report['fingerprint_sha256'][:12]}...; {report['dataset']}", file=sys.stderr)
    return 0

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

    reg = load_registry()
    rows = [(e.name, e.kind, e.format, "yes" if e.is_present() else "no", str(e.local_path)) for e in reg.values()]
    head = ("name", "kind", "format", "present", "path")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print(f"registry: {registry_path()}")
    for r in [head, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    if args.verbose:
        for e in reg.values():
            print(f"\n{e.name}: {e.description}\n  license:  {e.license}\n  citation: {e.citation}\n"
                  f"  obtain:   {e.obtain}")
    return 0

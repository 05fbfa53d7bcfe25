"""The ``humandepth`` command.  Each wing registers its own subcommands (cheap imports only here)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from humandepth.errors import USER_ERRORS, UserError, is_interrupt, message

__all__ = ["UserError", "build_parser", "main"]

# Each module's ``register(subparsers)`` adds its subcommands.  Heavy imports
# happen inside the handlers, so ``humandepth --help`` stays fast.
WINGS = (
    "humandepth.data.cli",
    "humandepth.benchmark.cli",
    "humandepth.baselines.cli",
    "humandepth.render.cli",
    "humandepth.capture.cli",
    "humandepth.fuse.cli",
    "humandepth.demo.cli",
)

EPILOG = """examples:
  humandepth demo                                   # the main job on built-in defaults
  humandepth datasets list                          # every registered dataset, present or not
  humandepth baselines run inflate --dataset DS --out preds.h5
  humandepth benchmark --dataset DS --predictions preds.h5 --protocol tang2019 --out runs/inflate
  humandepth leaderboard runs/* --out board/

Conventions (units, camera frame, depth, normals) are in README.md and docs/conventions.md.
Set HUMANDEPTH_DEBUG=1 to see Python tracebacks instead of one-line errors.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="humandepth",
        description="Detailed human depth from a single image: data, capture, fusion, benchmark, baselines "
        "(after Tang et al., ICCV 2019).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from humandepth import __version__

    parser.add_argument("--version", action="version", version=f"humandepth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in WINGS:
        importlib.import_module(module_name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as e:
        if os.environ.get("HUMANDEPTH_DEBUG"):
            raise
        print(f"humandepth: error: {message(e)}", file=sys.stderr)
        return 2
    except Exception as e:
        if not is_interrupt(e):
            raise
        print("interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``--executor``, ``--address`` and ``--max-retries`` options shared by render, fuse and benchmark."""

from __future__ import annotations

from humandepth.scale.executor import DEFAULT_MAX_RETRIES, EXECUTORS


def add_executor_options(parser, unit: str) -> None:
    """Add the options to an argparse ``parser``; ``unit`` says what one task is (``one shard``...)."""
    g = parser.add_argument_group("scale-out (Ray)")
    g.add_argument("--executor", choices=EXECUTORS, default="local",
                   help=f"local (default) or ray: {unit} per Ray task")
    g.add_argument("--address", default=None, metavar="HOST:PORT",
                   help="with --executor ray: the running cluster's head address (as `ray start --head` prints; "
                   "'auto' = the cluster on this machine); default: start a local Ray cluster")
    g.add_argument("--max-retries", type=int, default=DEFAULT_MAX_RETRIES, metavar="N",
                   help=f"with --executor ray: resubmit a task whose worker died up to N times "
                   f"(default {DEFAULT_MAX_RETRIES})")


def check_executor_options(args) -> None:
    """Refuse ``--address`` without ``--executor ray`` and a negative ``--max-retries`` (before any work)."""
    if args.address and args.executor != "ray":
        raise ValueError("--address is only used with --executor ray")
    if args.max_retries < 0:
        raise ValueError(f"--max-retries must be >= 0, got {args.max_retries}")

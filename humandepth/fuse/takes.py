"""Fuse whole takes into datasets of kind ``fused``: one take in this process, or several, one Ray task per take.

:func:`fuse_take` is the pipeline of one take (read the input, :func:`~humandepth.fuse.fusion.fuse_sequence`,
:func:`~humandepth.fuse.output.write_result`) and the body of each Ray task; :func:`fuse_takes` checks every
input and output first, then fuses the takes locally in input order or on Ray; :func:`take_outputs` names the
output of each take.  ``humandepth fuse`` (:mod:`humandepth.fuse.cli`) parses options and calls these.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from humandepth.data.remote import is_remote
from humandepth.scale.executor import DEFAULT_MAX_RETRIES


def fuse_take(input_path: str, out: str, cfg, stride: int = 1, max_frames: int | None = None,
              name: str | None = None, overwrite: bool = False, quiet: bool = False) -> dict:
    """Fuse one take (``input_path``) into the dataset ``out`` with ``cfg`` (a FuseConfig); return the summary
    line printed by ``humandepth fuse``.  Runs in this process or as a Ray task (one per take).

    ``stride``/``max_frames``: use every ``stride``-th frame, at most ``max_frames`` of them; ``name``: the
    dataset card's name; ``quiet``: no ``fuse: STAGE VALUE`` progress lines on stderr.  The line holds
    ``dataset``, ``frames_read``, ``frames_used``, ``rejected`` ({frame id: reason}), ``samples``,
    ``evaluated_fraction`` and, for a take with truth, ``gt_mae_mm`` and ``person_mask`` (precision, recall,
    IoU).
    """
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


def fuse_takes(inputs: list[str], out: str, cfg, *, stride: int = 1, max_frames: int | None = None,
               name: str | None = None, overwrite: bool = False, quiet: bool = False, executor: str = "local",
               address: str | None = None, max_retries: int = DEFAULT_MAX_RETRIES,
               on_line: Callable[[dict], None] | None = None) -> list[dict]:
    """Fuse each take of ``inputs`` into its output (:func:`take_outputs`); return their lines in input order.

    Every input must exist and every output be free (or ``overwrite``) before any take is fused.
    ``executor``: ``"local"`` fuses the takes one after another in this process; ``"ray"`` runs one Ray task
    per take (one GPU each with ``cfg.device == "cuda"``; outputs must be on a path every node sees), with
    ``address``/``max_retries`` as in :class:`humandepth.scale.executor.RayExecutor`.  ``on_line(line)`` is
    called with each take's line (:func:`fuse_take`) as soon as it is known: after each take locally, in
    input order once all tasks are done on Ray.  Other arguments: as :func:`fuse_take`.
    """
    from humandepth.fuse.output import check_out

    if name and len(inputs) > 1:
        raise ValueError("--name names one dataset; with several INPUTs each output is named after its take")
    outs = take_outputs(inputs, out)
    for inp in inputs:
        if not Path(inp).exists():
            raise FileNotFoundError(f"fuse input {inp} does not exist (give a take directory, a .db3/.bag recording "
                                    "or a 'captured' dataset)")
    for o in outs:
        check_out(o, overwrite)  # refuse before any take is fused
    options = {"stride": stride, "max_frames": max_frames, "name": name, "overwrite": overwrite}
    emit = on_line or (lambda line: None)
    if executor == "local":
        if address:
            raise ValueError("--address is only used with --executor ray")
        lines = []
        for inp, o in zip(inputs, outs, strict=True):
            lines.append(fuse_take(inp, o, cfg, quiet=quiet, **options))
            emit(lines[-1])
        return lines
    from humandepth.progress import Progress
    from humandepth.scale.executor import Task, make_executor

    tasks = [Task(key=f"fuse-take-{k:04d}", fn=fuse_take,
                  args=(str(Path(inp).resolve()), o if is_remote(o) else str(Path(o).resolve()), cfg),
                  kwargs={**options, "quiet": True},
                  num_cpus=1, num_gpus=1 if cfg.device == "cuda" else 0)
             for k, (inp, o) in enumerate(zip(inputs, outs, strict=True))]
    with make_executor(executor, address, max_retries) as ex:
        if not quiet:
            print(f"fuse: {ex.describe()}; {len(tasks)} take task(s)", file=sys.stderr, flush=True)
        bar = Progress("fuse", len(tasks), unit="takes", enabled=not quiet, every_s=0.0)
        lines = ex.run(tasks, on_done=lambda i, task, line: bar.update(1, note=inputs[i]))
    for line in lines:  # in input order
        emit(line)
    return lines

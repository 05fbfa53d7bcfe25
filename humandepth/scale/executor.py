"""Run a list of independent tasks, in this process or as Ray tasks, with results in task order.

A :class:`Task` is a module-level function with its arguments (picklable), a key that names it in progress and
errors (``"render shard 00003"``), and the resources it asks of Ray (CPUs, GPUs, environment variables of the
worker process).  :meth:`Executor.run` returns the results in task order whatever order they finish in, and
calls ``on_done(index, task, result)`` in the driver as each one finishes (for progress).

- :class:`LocalExecutor` runs the tasks one after another in this process.
- :class:`RayExecutor` submits every task to a Ray cluster at once.  A task whose worker process dies (killed,
  out of memory, its node lost) is resubmitted by Ray up to ``max_retries`` times (Ray's own retry of system
  failures); an exception raised by the task itself is not retried.  When tasks fail, the others still run to
  the end (their outputs are kept), then one :class:`TaskFailedError` (or the task's own ``ValueError`` /
  ``FileNotFoundError`` ...) names the first failed task and how many failed.  Tasks run in the driver's working
  directory when that directory exists on the worker's node (a shared filesystem), so relative paths mean the
  same thing as locally.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from humandepth.errors import UserError
from humandepth.scale.ray_cluster import ClusterInfo, connect, disconnect

EXECUTORS = ("local", "ray")
DEFAULT_MAX_RETRIES = 3
_PLAIN_ERRORS = (ValueError, FileNotFoundError, FileExistsError, KeyError, UserError)  # re-raised as themselves


@dataclass(frozen=True)
class Task:
    """One independent unit of work.

    Attributes:
        key: names the task in progress, errors and fault injection (no ``/``).
        fn: a module-level function (pickled by reference to the worker).
        args, kwargs: its arguments (picklable; on Ray they travel through the object store).
        num_cpus, num_gpus: what the task asks of Ray's scheduler (ignored locally).
        env: environment variables of the Ray worker process that runs it (Ray ``runtime_env``; workers with
            different ``env`` are different processes).  Ignored locally.
    """

    key: str
    fn: Callable
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    env: dict = field(default_factory=dict)


class TaskFailedError(UserError):
    """One or more tasks failed (after Ray's retries for a dead worker); the message names the first.  A
    :class:`humandepth.errors.UserError`, so the command line prints it as one line (exit 2)."""


def _run_task(key: str, fn: Callable, args: tuple, kwargs: dict, cwd: str | None):
    """The body of every Ray task (``key`` names it): the driver's working directory, then ``fn``."""
    if cwd and os.path.isdir(cwd):
        os.chdir(cwd)
    return fn(*args, **kwargs)


class Executor:
    """Interface: :meth:`run` a list of tasks; :meth:`close` releases what the executor holds."""

    name = ""
    parallelism = 1  # tasks that can run at once

    def run(self, tasks: Sequence[Task], on_done: Callable[[int, Task, object], None] | None = None) -> list:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalExecutor(Executor):
    """Run the tasks in this process, in order (an exception stops the run at that task)."""

    name = "local"

    def run(self, tasks, on_done=None) -> list:
        out = []
        for i, t in enumerate(tasks):
            result = t.fn(*t.args, **t.kwargs)
            out.append(result)
            if on_done:
                on_done(i, t, result)
        return out

    def describe(self) -> str:
        return "local (this process)"


class RayExecutor(Executor):
    """Run the tasks on a Ray cluster.

    Args:
        address: ``HOST:PORT`` of a running cluster, ``"auto"``, or None to start a local cluster here.
        max_retries: how often Ray resubmits a task whose worker process died (system failures only).
        num_cpus: CPUs of a local cluster started here (None: all); ignored with ``address``.
    """

    name = "ray"

    def __init__(self, address: str | None = None, max_retries: int = DEFAULT_MAX_RETRIES,
                 num_cpus: int | None = None):
        if max_retries < 0:
            raise ValueError(f"--max-retries must be >= 0, got {max_retries}")
        self.max_retries = int(max_retries)
        self.cluster: ClusterInfo = connect(address, num_cpus=num_cpus)
        self.parallelism = max(1, int(self.cluster.cpus))

    def describe(self) -> str:
        return self.cluster.describe()

    def run(self, tasks, on_done=None) -> list:
        import ray
        from ray.exceptions import RayError, RayTaskError

        remote = ray.remote(_run_task)
        cwd = os.getcwd()
        refs = []
        for t in tasks:
            opts = {"num_cpus": t.num_cpus, "num_gpus": t.num_gpus, "max_retries": self.max_retries,
                    "retry_exceptions": False, "name": t.key}
            if t.env:
                opts["runtime_env"] = {"env_vars": {k: str(v) for k, v in t.env.items()}}
            refs.append(remote.options(**opts).remote(t.key, t.fn, t.args, t.kwargs, cwd))
        where = {ref: i for i, ref in enumerate(refs)}
        results: list = [None] * len(tasks)
        errors: dict[int, BaseException] = {}
        pending = list(refs)
        try:
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    i = where[ref]
                    try:
                        results[i] = ray.get(ref)
                    except RayTaskError as e:  # the task raised
                        errors[i] = e.cause if isinstance(getattr(e, "cause", None), BaseException) else e
                    except RayError as e:  # its worker died more often than max_retries, or its node was lost
                        errors[i] = e
                    else:
                        if on_done:
                            on_done(i, tasks[i], results[i])
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
        if errors:
            first = min(errors)
            cause = errors[first]
            more = f" ({len(errors)} of {len(tasks)} tasks failed; the others' outputs are kept)"
            if type(cause) in _PLAIN_ERRORS:
                raise type(cause)(f"{tasks[first].key}: {cause}{more}") from None
            raise TaskFailedError(f"{tasks[first].key} failed on the Ray cluster{more}: "
                                  f"{type(cause).__name__}: {_first_line(cause)}")
        return results

    def close(self) -> None:
        disconnect(self.cluster)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else repr(e)


def make_executor(kind: str = "local", address: str | None = None, max_retries: int = DEFAULT_MAX_RETRIES,
                  num_cpus: int | None = None) -> Executor:
    """``local`` or ``ray`` (connecting to ``address``, or starting a local cluster with ``num_cpus``)."""
    if kind not in EXECUTORS:
        raise ValueError(f"--executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    if kind == "local":
        if address:
            raise ValueError("--address is only used with --executor ray")
        return LocalExecutor()
    return RayExecutor(address, max_retries=max_retries, num_cpus=num_cpus)

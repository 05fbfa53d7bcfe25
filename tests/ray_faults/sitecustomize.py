"""Fault injection for the Ray tests, loaded by every Python process of the test cluster's nodes (``PYTHONPATH``
names this folder; see ``tests/scale_helpers.py``).  Nothing in humandepth itself knows about it.

When ``HUMANDEPTH_TEST_FAULT_DIR`` is set and a file ``DIR/<task key>`` exists as a Ray task of
:mod:`humandepth.scale.executor` starts, the task renames it to ``<task key>.fired`` and its worker process exits
at once (``os._exit(1)``), as a crashed worker would; Ray's retry finds no file and runs normally.  The hook wraps
the executor's task body (``_run_task``) when that module is imported, so other processes pay nothing.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
from pathlib import Path

FAULT_ENV = "HUMANDEPTH_TEST_FAULT_DIR"
TARGET = "humandepth.scale.executor"


def _patch(module) -> None:
    run_task = module._run_task

    def _run_task(key, *args, **kwargs):
        marker = Path(os.environ[FAULT_ENV]) / key
        try:
            os.rename(marker, marker.with_name(marker.name + ".fired"))
        except OSError:
            return run_task(key, *args, **kwargs)
        os._exit(1)

    module._run_task = _run_task


class _Finder(importlib.abc.MetaPathFinder):
    """Finds nothing itself; wraps the real loader of the executor module so the patch follows its import."""

    def find_spec(self, name, path=None, target=None):
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return None
        exec_module = spec.loader.exec_module

        def exec_and_patch(module):
            exec_module(module)
            _patch(module)

        spec.loader.exec_module = exec_and_patch
        return spec


if os.environ.get(FAULT_ENV):
    sys.meta_path.insert(0, _Finder())

"""Lazy public names for a package: ``import humandepth.render`` stays cheap (no OpenGL, Open3D or SDK)."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str]):
    """Return ``(__getattr__, __all__)`` for ``package``: each name in ``exports`` (name -> module) is
    imported from its module on first access."""

    def __getattr__(name: str):
        if name in exports:
            return getattr(importlib.import_module(exports[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__, sorted(exports)

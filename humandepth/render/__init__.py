"""Synthetic clothed humans rendered into RGB / depth / normal / mask / parts / base-detail datasets.

Public API (imports are lazy, so ``import humandepth.render`` stays cheap and never touches OpenGL):

- :func:`render_mesh` (:mod:`humandepth.render.raster`): exact float passes of any trimesh and Camera.
- :func:`sample_person` / :class:`Person` (:mod:`humandepth.render.person`): a clothed body in the world frame.
- :func:`generate_sample` (:mod:`humandepth.render.generate`): one complete dataset :class:`~humandepth.data.Sample`.
- :func:`gl_info` (:mod:`humandepth.render.engine`): the OpenGL platform and ``GL_RENDERER`` in use.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "render_mesh": "humandepth.render.raster",
    "default_lights": "humandepth.render.raster",
    "gl_info": "humandepth.render.engine",
    "sample_person": "humandepth.render.person",
    "Person": "humandepth.render.person",
    "generate_sample": "humandepth.render.generate",
    "GeneratorConfig": "humandepth.render.generate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'humandepth.render' has no attribute {name!r}")

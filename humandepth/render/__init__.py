"""Synthetic clothed humans rendered into RGB / depth / normal / mask / parts / base-detail datasets.

Public API (imports are lazy, so ``import humandepth.render`` stays cheap and never touches OpenGL):

- :func:`render_mesh` (:mod:`humandepth.render.raster`): exact float passes of any trimesh and Camera.
- :func:`sample_person` / :class:`Person` (:mod:`humandepth.render.person`): a clothed body in the world frame.
- :func:`generate_sample` (:mod:`humandepth.render.generate`): one complete dataset :class:`~humandepth.data.Sample`.
- :func:`gl_info` (:mod:`humandepth.render.engine`): the OpenGL platform and ``GL_RENDERER`` in use.
"""

from __future__ import annotations

from humandepth._lazy import lazy_exports

_EXPORTS = {
    "render_mesh": "humandepth.render.raster",
    "default_lights": "humandepth.render.raster",
    "gl_info": "humandepth.render.engine",
    "sample_person": "humandepth.render.person",
    "Person": "humandepth.render.person",
    "generate_sample": "humandepth.render.generate",
    "GeneratorConfig": "humandepth.render.generate",
}

__getattr__, __all__ = lazy_exports(__name__, _EXPORTS)

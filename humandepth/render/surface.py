"""How a mesh looks to the photographic shader (:mod:`humandepth.render.photo`): a :class:`Surface` per mesh.

A surface gives the per-pixel albedo (sRGB, [0, 1]) from the visible face, its barycentric coordinates, the
world-frame hit point and the pixel's footprint (metres per pixel there: detail finer than that is faded out
with :func:`humandepth.render.texture.fade` instead of aliasing); without an albedo function the mesh's own
texture, vertex or face colours are used (:func:`humandepth.render.raster.mesh_albedo`).  It also gives the
highlight (``specular``, ``shininess``), an optional strand direction (hair) and whether it casts shadows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

# albedo(face (P,), bary (P, 3), world (P, 3), footprint (P,) metres per pixel) -> (P, 3) sRGB in [0, 1]
AlbedoFn = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


@dataclass
class Surface:
    """Appearance of one mesh.

    Attributes:
        material: a name recorded in the metadata (``skin``, ``denim``, ``hair``, ``wood_floor``, ...).
        albedo: per-pixel sRGB albedo function (see ``AlbedoFn``); None: the mesh's own colours.
        specular: strength of the key light's highlight (0 = matte).
        shininess: Blinn-Phong exponent (larger = smaller, sharper highlight).
        tangent: ``fn(face, bary, world) -> (P, 3)`` unit strand directions (world) for an anisotropic (hair)
            highlight, or None.
        emission: linear radiance added per unit albedo (windows, lamp panels, the sky through a window).
        cast_shadow: whether the surface's vertices go into the key light's shadow map.
        params: JSON description recorded in the sample's metadata.
    """

    material: str
    albedo: AlbedoFn | None = None
    specular: float = 0.02
    shininess: float = 8.0
    tangent: Callable | None = None
    emission: float = 0.0
    cast_shadow: bool = True
    params: dict = field(default_factory=dict)


def interpolate(values: np.ndarray, faces: np.ndarray, face: np.ndarray, bary: np.ndarray) -> np.ndarray:
    """Per-vertex ``values`` (V, ...) interpolated at the given faces and barycentric weights."""
    v = values[faces[face]]  # (P, 3, ...)
    return np.einsum("pk,pk...->p...", bary, v)


def convexity(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """(V,) signed distance (metres) of each vertex from the mean of its neighbours along its normal: positive on
    ridges (fold crests), negative in creases and valleys."""
    f = np.asarray(faces, np.int64)
    i = f[:, [0, 1, 2, 0, 1, 2]].T.reshape(-1)
    j = f[:, [1, 2, 0, 2, 0, 1]].T.reshape(-1)
    v = np.asarray(vertices, np.float64)
    deg = np.maximum(np.bincount(i, minlength=len(v)), 1)
    mean = np.stack([np.bincount(i, weights=v[j, k], minlength=len(v)) for k in range(3)], 1) / deg[:, None]
    return np.einsum("ij,ij->i", v - mean, normals)

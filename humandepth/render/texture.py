"""Procedural texture primitives evaluated per pixel: cell hashes, value noise and fractal noise.

Everything is a pure function of its coordinates and an integer seed (no image assets; one fixed table of
random lattice values), so a texture looks the same from any camera and in any worker.
"""

from __future__ import annotations

import numpy as np

_TABLE = np.random.default_rng(20190829).random(1 << 16)  # a fixed lattice of random values (256 x 256 cells)


def cell_hash(i: np.ndarray, j: np.ndarray, seed: int = 0) -> np.ndarray:
    """Pseudo-random values in [0, 1) for integer lattice cells ``(i, j)`` (arrays of equal shape); the pattern
    repeats every 256 cells and ``seed`` shifts it."""
    a = (int(seed) * 2654435761) & 0xFFFF
    i = (np.asarray(i, np.int64) + (a & 255)) & 255
    j = (np.asarray(j, np.int64) + (a >> 8)) & 255
    return _TABLE[(i << 8) | j]


def value_noise(u: np.ndarray, v: np.ndarray, seed: int = 0) -> np.ndarray:
    """Smooth noise in [0, 1] with features of size ~1 at coordinates ``(u, v)`` (any shape)."""
    i0 = np.floor(u)
    j0 = np.floor(v)
    fu = u - i0
    fv = v - j0
    fu = fu * fu * (3 - 2 * fu)
    fv = fv * fv * (3 - 2 * fv)
    i0 = i0.astype(np.int64)
    j0 = j0.astype(np.int64)
    a = cell_hash(i0, j0, seed)
    b = cell_hash(i0 + 1, j0, seed)
    c = cell_hash(i0, j0 + 1, seed)
    d = cell_hash(i0 + 1, j0 + 1, seed)
    return (a * (1 - fu) + b * fu) * (1 - fv) + (c * (1 - fu) + d * fu) * fv


def fbm(u: np.ndarray, v: np.ndarray, seed: int = 0, octaves: int = 3, gain: float = 0.5) -> np.ndarray:
    """Fractal (multi-octave) value noise in about [0, 1]; the first octave has features of size ~1."""
    total = np.zeros(np.shape(u))
    amp, norm = 1.0, 0.0
    for k in range(octaves):
        f = 2.0**k
        total += amp * value_noise(u * f + 17.1 * k, v * f - 9.3 * k, seed + 101 * k)
        norm += amp
        amp *= gain
    return total / norm


def noise3(p: np.ndarray, scale_m: float, seed: int = 0, octaves: int = 2) -> np.ndarray:
    """(N,) fractal noise in about [0, 1] of 3D points ``p`` (N, 3) with features of ``scale_m`` metres
    (the mean of two orthogonal 2D projections: cheap, and free of the stretching of a single projection)."""
    q = np.asarray(p, np.float64) / scale_m
    return 0.5 * (fbm(q[:, 0], q[:, 1], seed, octaves) + fbm(q[:, 2] + 31.7, q[:, 1] - 12.9, seed + 7, octaves))


def fade(scale_m: float, footprint: np.ndarray) -> np.ndarray:
    """Weight in [0, 1] of detail of size ``scale_m`` seen with pixels of ``footprint`` metres: 1 when a feature
    spans two pixels or more, 0 when it is smaller than a pixel (it would only alias)."""
    return np.clip(scale_m / np.maximum(footprint, 1e-9) - 1.0, 0.0, 1.0)


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    c = np.clip(c, 0.0, 1.0)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)

"""Depth refinement from normals: the parameter-free layer of Tang et al. 2019 and GeoNet's kernel regression.

Image model (as the authors' code): pixel (row r, col c) of an H x W map is the point
``p = (x, y, z) = (2c/W, 2r/H, depth)`` -- an orthographic-style normalised grid with x, y unitless and z in
metres.  Normals are read in the same (x, y, z) axes (OpenCV camera frame, facing the camera: n_z < 0).
For a 256-px crop of a ~2 m tall person one grid unit is ~1.1 m, so the mix of units is nearly metric;
for other crops it is not, which is the authors' choice and is reproduced here as is.

Tang et al. layer (``network/depth_optimization.py::optimize_depth`` of the release), per pixel i and each
j in the 5-point cross N(i) = {i, left, right, up, down} (indices clamped at the borders)::

    z_ji^(j) = (n_j . p_j - n_j^x x_i - n_j^y y_i) / (n_j^z + eps)   # plane through p_j with normal n_j
    z_ji^(i) = (n_i . p_j - n_i^x x_i - n_i^y y_i) / (n_i^z + eps)   # plane through p_j with normal n_i
    z_ji     = (z_ji^(i) + z_ji^(j)) / 2,    w_ij = n_i . n_j
    z_i     <- lam * z_i^(0) + (1 - lam) * sum_j w_ij z_ji / (sum_j w_ij + eps)

with lam = 0.2, eps = 1e-8 and 5 iterations, each using the previous output for p_j and the same
composed depth z^(0) and normals.  Two guards the release does not have (they change nothing where the
normals are sane): weights are clamped at 0 (opposite-facing neighbours are ignored instead of cancelling
the sum), and ``|n^z|`` is floored at ``min_nz`` so a grazing normal cannot divide by ~0.  With a
``mask``, neighbours outside it get weight 0 and pixels outside it keep their depth (the authors run on
the full crop and cut by the silhouette afterwards; ``mask=None`` reproduces that).

GeoNet (Qi et al. 2018) kernel regression, the paper's comparison [30] (``utils/util_kernel_regression.py``):
a (2*beta+1)^2 window (beta = 3: 7x7), only the centre normal n_i (z_ji = z_ji^(i)), weights
w_ij = n_i . n_j hard-thresholded to 0 when <= delta (0.95), one pass, no term keeping the input depth.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

LAMBDA = 0.2
ITERATIONS = 5
EPS = 1e-8


def normalised_grid(h: int, w: int, device=None, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """(1, 1, H, W) x = 2c/W and y = 2r/H of the authors' normalised image grid."""
    y, x = torch.meshgrid(torch.arange(h, device=device, dtype=dtype), torch.arange(w, device=device, dtype=dtype),
                          indexing="ij")
    return (2.0 * x / w).view(1, 1, h, w), (2.0 * y / h).view(1, 1, h, w)


def _safe_nz(nz: torch.Tensor, min_nz: float) -> torch.Tensor:
    """n_z with |n_z| >= min_nz, sign kept (normals face the camera, so normally negative)."""
    sign = torch.where(nz > 0, torch.ones_like(nz), -torch.ones_like(nz))
    return sign * nz.abs().clamp_min(min_nz)


_CROSS = ((0, 0), (0, -1), (0, 1), (-1, 0), (1, 0))  # (dy, dx): i, left, right, up, down


def _shift(t: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Value at (r + dy, c + dx) for every (r, c), indices clamped to the border.  t: (B, C, H, W)."""
    if dy == 0 and dx == 0:
        return t
    p = F.pad(t, (1, 1, 1, 1), mode="replicate")
    h, w = t.shape[-2:]
    return p[..., 1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]


def _tang_terms(normal: torch.Tensor, mask: torch.Tensor | None, min_nz: float) -> tuple:
    """What the Tang layer needs besides the depth, which depends only on the normals, the mask and the grid:
    the weights w_ij of the five neighbours (each (B, 1, H, W); 0 outside ``mask``) and
    ``offset = sum_j w_ij rise_ij``, where ``rise_ij = (z_ji^(i) + z_ji^(j)) / 2 - z_j`` is the mean of the two
    planes' rise from p_j to pixel i (depth-free: x, y come from the grid)."""
    h, w = normal.shape[-2:]
    xi, yi = normalised_grid(h, w, normal.device)
    xi, yi = xi.expand(normal.shape[0], 1, h, w), yi.expand(normal.shape[0], 1, h, w)
    niz = _safe_nz(normal[:, 2:3], min_nz)
    m = mask.float() if mask is not None else None
    weights, offset = [], torch.zeros_like(xi)
    for dy, dx in _CROSS:
        nj = _shift(normal, dy, dx)
        njz = _safe_nz(nj[:, 2:3], min_nz)
        ddx, ddy = _shift(xi, dy, dx) - xi, _shift(yi, dy, dx) - yi
        rise = 0.5 * ((nj[:, 0:1] * ddx + nj[:, 1:2] * ddy) / njz + (normal[:, 0:1] * ddx + normal[:, 1:2] * ddy) / niz)
        wij = (normal * nj).sum(dim=1, keepdim=True).clamp_min(0.0)
        if m is not None:
            wij = wij * _shift(m, dy, dx)
        weights.append(wij)
        offset = offset + wij * rise
    return weights, offset, m


def _tang_pass(z: torch.Tensor, z0: torch.Tensor, terms: tuple, lam: float) -> torch.Tensor:
    """One pass with the :func:`_tang_terms` ``terms``: z_i <- lam z0_i + (1 - lam) (sum_j w_ij z_j + offset_i) /
    sum_j w_ij (z_i kept where the weights sum to 0 and, with a mask, outside it)."""
    weights, offset, m = terms
    h, w = z.shape[-2:]
    p = F.pad(z, (1, 1, 1, 1), mode="replicate")
    num = offset.clone()
    den = torch.zeros_like(z)
    for wij, (dy, dx) in zip(weights, _CROSS, strict=True):
        num += wij * p[..., 1 + dy: 1 + dy + h, 1 + dx: 1 + dx + w]
        den += wij
    zhat = torch.where(den > EPS, num / (den + EPS), z)
    out = lam * z0 + (1.0 - lam) * zhat
    return torch.where(m > 0, out, z) if m is not None else out


def tang_refine_step(z: torch.Tensor, z0: torch.Tensor, normal: torch.Tensor, mask: torch.Tensor | None = None,
                     lam: float = LAMBDA, min_nz: float = 1e-3) -> torch.Tensor:
    """One pass of the Tang et al. layer.

    Args:
        z: (B, 1, H, W) current depth (metres); z0: (B, 1, H, W) the composed depth (anchor).
        normal: (B, 3, H, W) unit normals (facing the camera).  mask: optional (B, 1, H, W) bool.
    Returns:
        (B, 1, H, W) refined depth.
    """
    return _tang_pass(z.float(), z0.float(), _tang_terms(normal.float(), mask, min_nz), lam)


def tang_refine(z0: torch.Tensor, normal: torch.Tensor, mask: torch.Tensor | None = None,
                iterations: int = ITERATIONS, lam: float = LAMBDA, min_nz: float = 1e-3) -> torch.Tensor:
    """The Tang et al. refinement layer: :func:`tang_refine_step` chained ``iterations`` times.

    z0 (B, 1, H, W) composed depth in metres, normal (B, 3, H, W) unit normals -> (B, 1, H, W) depth.
    The weights and the planes' offsets depend only on the normals, so they are computed once for all passes
    (40 passes at 128 px: 7 ms instead of 67 when each pass recomputed them)."""
    z0 = z0.float()
    terms = _tang_terms(normal.float(), mask, min_nz)
    z = z0
    for _ in range(iterations):
        z = _tang_pass(z, z0, terms, lam)
    return z


def geonet_refine(z0: torch.Tensor, normal: torch.Tensor, mask: torch.Tensor | None = None, beta: int = 3,
                  delta: float = 0.95, min_nz: float = 1e-3) -> torch.Tensor:
    """GeoNet's normal-to-depth kernel regression (one pass, (2*beta+1)^2 window, centre normal only,
    weights n_i . n_j hard-thresholded at ``delta``).  Shapes as :func:`tang_refine`; borders clamp."""
    z0, normal = z0.float(), normal.float()
    b, _, h, w = z0.shape
    k = 2 * beta + 1
    xi, yi = normalised_grid(h, w, z0.device)

    def windows(t: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, C, k*k, H, W), border clamped
        c = t.shape[1]
        p = F.pad(t, (beta,) * 4, mode="replicate")
        return F.unfold(p, k).view(b, c, k * k, h, w)

    zj = windows(z0)
    nj = windows(normal)
    xj = windows(xi.expand(b, 1, h, w))
    yj = windows(yi.expand(b, 1, h, w))
    ni = normal.unsqueeze(2)
    niz = _safe_nz(ni[:, 2:3], min_nz)
    z_ji = zj + (ni[:, 0:1] * (xj - xi.unsqueeze(2)) + ni[:, 1:2] * (yj - yi.unsqueeze(2))) / niz
    wij = (ni * nj).sum(dim=1, keepdim=True)
    wij = torch.where(wij > delta, wij, torch.zeros_like(wij))
    if mask is not None:
        wij = wij * windows(mask.float())
    den = wij.sum(dim=2)
    out = torch.where(den > EPS, (wij * z_ji).sum(dim=2) / (den + EPS), z0)
    if mask is not None:
        out = torch.where(mask, out, z0)
    return out


def refine(kind: str, z0: torch.Tensor, normal: torch.Tensor, mask: torch.Tensor | None = None,
           iterations: int = ITERATIONS, lam: float = LAMBDA) -> torch.Tensor:
    """Dispatch: ``tang`` (``iterations`` passes with anchor weight ``lam``) | ``geonet`` | ``none`` (returns
    ``z0``)."""
    if kind == "tang":
        return tang_refine(z0, normal, mask, iterations, lam)
    if kind == "geonet":
        return geonet_refine(z0, normal, mask)
    if kind == "none":
        return z0.float()
    raise ValueError(f"unknown refinement {kind!r}; choose tang, geonet or none")

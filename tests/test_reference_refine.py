"""The depth refinement layer of Tang et al. 2019 and GeoNet's kernel regression on analytic surfaces.

Surfaces live on the authors' normalised grid (x = 2c/W, y = 2r/H, z metres); their exact normals in the
same axes are (dz/dx, dz/dy, -1) normalised (facing the camera).
"""

import math

import pytest
import torch
from reference_helpers import one_thread

from humandepth.baselines.reference.refine import (
    geonet_refine,
    normalised_grid,
    refine,
    tang_refine,
    tang_refine_step,
)

H, W = 40, 56

_one_thread = pytest.fixture(autouse=True, scope="module")(one_thread)


def _surface(dzdx, dzdy, z):
    n = torch.cat([dzdx.expand_as(z), dzdy.expand_as(z), -torch.ones_like(z)], dim=1)
    return z, n / n.norm(dim=1, keepdim=True)


def tilted_plane(a=0.15, b=-0.1, c=0.3):
    x, y = normalised_grid(H, W)
    return _surface(torch.tensor(a), torch.tensor(b), a * x + b * y + c)


def sine_along_x(amplitude=0.05, cycles=2.0):
    x, y = normalised_grid(H, W)
    w = 2 * math.pi * cycles
    z = 0.3 + amplitude * torch.sin(w * x) + 0 * y
    return _surface(amplitude * w * torch.cos(w * x), torch.zeros_like(x), z)


def noisy(z, sigma=0.01, seed=0):
    g = torch.Generator().manual_seed(seed)
    return z + sigma * torch.randn(z.shape, generator=g)


def mae(a, b):
    return float((a - b).abs().mean())


def test_grid_is_the_authors_normalised_grid():
    x, y = normalised_grid(4, 8)
    assert x[0, 0, 0].tolist() == pytest.approx([2 * c / 8 for c in range(8)])
    assert y[0, 0, :, 0].tolist() == pytest.approx([2 * r / 4 for r in range(4)])


@pytest.mark.parametrize("layer", [tang_refine, geonet_refine])
def test_tilted_plane_with_exact_normals_is_a_fixed_point(layer):
    z, n = tilted_plane()
    assert float((layer(z, n) - z).abs().max()) < 1e-5


def test_one_step_of_the_layer_matches_the_formula_at_one_pixel():
    """z_i <- 0.2 z0_i + 0.8 sum_j w_ij z_ji / sum_j w_ij, z_ji the mean of both plane depths."""
    g = torch.Generator().manual_seed(1)
    z = 0.3 + 0.02 * torch.rand(1, 1, 5, 6, generator=g)
    n = torch.cat([0.3 * torch.rand(1, 2, 5, 6, generator=g) - 0.15, -torch.ones(1, 1, 5, 6)], 1)
    n = n / n.norm(dim=1, keepdim=True)
    r, c = 2, 3
    xs, ys = normalised_grid(5, 6)
    p = lambda rr, cc: torch.tensor([xs[0, 0, rr, cc], ys[0, 0, rr, cc], z[0, 0, rr, cc]])  # noqa: E731
    nv = lambda rr, cc: n[0, :, rr, cc]  # noqa: E731
    xi, yi = xs[0, 0, r, c], ys[0, 0, r, c]
    num = den = 0.0
    for rr, cc in [(r, c), (r, c - 1), (r, c + 1), (r - 1, c), (r + 1, c)]:
        nj, ni, pj = nv(rr, cc), nv(r, c), p(rr, cc)
        zj = (nj @ pj - nj[0] * xi - nj[1] * yi) / nj[2]
        zi = (ni @ pj - ni[0] * xi - ni[1] * yi) / ni[2]
        w = float(ni @ nj)
        num += w * 0.5 * (zi + zj)
        den += w
    z0 = z + 0.01 * torch.rand(1, 1, 5, 6, generator=g)  # the anchor differs from the current depth
    want = 0.2 * z0[0, 0, r, c] + 0.8 * num / den
    got = tang_refine_step(z, z0, n)[0, 0, r, c]
    assert float(got) == pytest.approx(float(want), abs=1e-6)


@pytest.mark.parametrize("layer", [tang_refine, geonet_refine])
def test_noisy_plane_moves_toward_the_truth(layer):
    z, n = tilted_plane()
    zn = noisy(z)
    out = layer(zn, n)
    assert mae(out, z) < 0.5 * mae(zn, z)


def test_more_iterations_keep_improving_and_the_anchor_keeps_the_input():
    z, n = tilted_plane()
    zn = noisy(z, seed=2)
    errs = [mae(tang_refine(zn, n, iterations=k), z) for k in (1, 3, 5)]
    assert errs[0] > errs[1] > errs[2]
    # lambda = 1 returns the composed depth unchanged
    assert torch.allclose(tang_refine(zn, n, lam=1.0), zn)


@pytest.mark.parametrize("with_mask", [False, True])
def test_the_layer_equals_its_single_pass_chained(with_mask):
    """tang_refine computes the normals' terms once and runs the passes on them, anchored at the composed
    depth: it must give what chaining the single pass (checked against the formula above) gives."""
    g = torch.Generator().manual_seed(4)
    z0 = 0.1 * torch.rand(2, 1, 40, 36, generator=g)
    n = torch.randn(2, 3, 40, 36, generator=g) * 0.4
    n[:, 2] -= 1.0
    n = n / n.norm(dim=1, keepdim=True)
    mask = torch.rand(2, 1, 40, 36, generator=g) > 0.3 if with_mask else None
    for iterations, lam in ((5, 0.2), (40, 0.02)):
        z = z0
        for _ in range(iterations):
            z = tang_refine_step(z, z0, n, mask, lam)
        assert torch.allclose(tang_refine(z0, n, mask, iterations, lam), z, atol=1e-6, rtol=0)
    assert torch.equal(tang_refine(z0, n, mask, iterations=0), z0)


def test_sine_curve_tang_keeps_it_geonet_flattens_it():
    """The paper's Fig. 3: with exact normals, the Tang layer leaves a sine curve in place while GeoNet's
    single-pass, centre-normal kernel regression distorts it."""
    z, n = sine_along_x()
    tang_err, geonet_err = mae(tang_refine(z, n), z), mae(geonet_refine(z, n), z)
    assert tang_err < 2e-4
    assert geonet_err > 10 * tang_err
    zn = noisy(z, seed=3)
    assert mae(tang_refine(zn, n), z) < mae(geonet_refine(zn, n), z) < mae(zn, z)


def test_mask_keeps_the_outside_and_ignores_it_as_neighbour():
    z, n = tilted_plane()
    zn = noisy(z, seed=4)
    mask = torch.zeros(1, 1, H, W, dtype=torch.bool)
    mask[..., 10:30, 10:40] = True
    background = torch.where(mask, zn, torch.full_like(zn, 0.6))  # far background outside the person
    for kind in ("tang", "geonet"):
        out = refine(kind, background, n, mask)
        assert torch.equal(out[~mask.expand_as(out)], background[~mask.expand_as(out)])
        assert mae(out[mask], z[mask]) < 0.6 * mae(zn[mask], z[mask])  # the 0.6 background did not leak in
    assert torch.equal(refine("none", zn, n), zn)
    with pytest.raises(ValueError, match="unknown refinement"):
        refine("bilateral", zn, n)

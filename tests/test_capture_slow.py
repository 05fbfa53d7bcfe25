"""Slow end-to-end check: the default take scene (render wing's person when available) at 640x480."""

from __future__ import annotations

import numpy as np
import pytest

from humandepth.capture.importer import import_take
from humandepth.capture.sensor_model import D400Model
from humandepth.capture.simulate import SimulationConfig, simulate_take
from humandepth.data.store import HumanDepthDataset


@pytest.mark.slow
def test_default_take_at_full_resolution_imports_with_the_modelled_noise(tmp_path):
    cfg = SimulationConfig(frames=6, seed=0, distance=2.0)
    take = simulate_take(tmp_path / "take", cfg)
    summary = import_take(take, tmp_path / "raw", align="none")
    assert summary["frames"] == 6 and summary["delivered"] == {"depth": 6, "color": 6}
    ds, truth = HumanDepthDataset(tmp_path / "raw"), HumanDepthDataset(take / "truth" / "depth")
    model = D400Model()
    for i in range(len(ds)):
        s, t = ds[i], truth[i]
        interior = t.mask & (s.depth > 0)
        err = s.depth[interior] - t.depth[interior]
        sigma = model.sigma_z(t.depth[interior], t.camera.fx)
        z = err / sigma  # standardised error: ~N(0, 1) away from edges
        assert 0.8 < np.median(np.abs(z)) / 0.6745 < 1.25
        assert interior.sum() > 0.8 * t.mask.sum()
    import_take(take, tmp_path / "aligned", align="color")
    a = HumanDepthDataset(tmp_path / "aligned")
    tc = HumanDepthDataset(take / "truth" / "color")
    s, t = a[3], tc[3]
    both = t.mask & (s.depth > 0)
    assert np.median(np.abs(s.depth[both] - t.depth[both])) < 2 * model.sigma_z(2.0, t.camera.fx)

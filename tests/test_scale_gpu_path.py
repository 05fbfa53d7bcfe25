"""The GPU branch of the Ray render path, on a loopback cluster whose worker node advertises one (logical) GPU:
every task asks for it, its worker renders with EGL (Mesa's EGL on this machine; an NVIDIA GPU on a real node),
and every array equals the local OSMesa render's.  Slow: a cluster of its own."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401
from scale_helpers import connected_cluster

pytestmark = pytest.mark.slow


def test_render_tasks_take_the_gpu_and_render_with_egl(tmp_path, anny_ready):  # noqa: F811
    from humandepth.data import HumanDepthDataset
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    cfg = GeneratorConfig(resolution=64)
    local = render_dataset(tmp_path / "local", 4, seed=5, cfg=cfg, shard_size=2, progress=False)
    assert local["renderer"]["platform"] == "osmesa"
    with connected_cluster(tmp_path / "ray", worker_gpus=1) as (c, info):
        assert info.gpus == 1
        remote = render_dataset(tmp_path / "egl", 4, seed=5, cfg=cfg, shard_size=2, progress=False,
                                executor="ray", address=c.address)
    assert remote["shard_tasks"] == 2 and remote["renderer"]["platform"] == "egl"
    a, b = HumanDepthDataset(tmp_path / "local"), HumanDepthDataset(tmp_path / "egl")
    assert a.ids == b.ids
    for sid in a.ids:
        sa, sb = a.get(sid), b.get(sid)
        assert sb.meta["renderer"]["platform"] == "egl"
        assert sorted(sa.present_fields()) == sorted(sb.present_fields())
        for name in sa.present_fields():
            assert np.array_equal(getattr(sa, name), getattr(sb, name)), (sid, name)

"""A simulated take frames the whole person by default (head to feet, in every frame of the orbit)."""

from __future__ import annotations

import json

import numpy as np

from humandepth.capture.scene import room_scene
from humandepth.capture.simulate import FRAME_MARGIN, SimulationConfig, framing_distance, simulate_take
from humandepth.data.store import HumanDepthDataset

SMALL = dict(frames=4, seed=2, depth_size=(160, 120), depth_focal=96.25, color_size=(160, 120), color_focal=96.25,
             person="mannequin")


def _border_px(mask: np.ndarray, margin: float) -> int:
    h, w = mask.shape
    my, mx = int(margin * h), int(margin * w)
    inner = np.zeros_like(mask)
    inner[my:h - my, mx:w - mx] = True
    return int((mask & ~inner).sum())


def test_the_default_take_holds_the_whole_person(tmp_path):
    take = simulate_take(tmp_path / "take", SimulationConfig(**SMALL))
    side = json.loads((take / "take.json").read_text())["simulation"]
    assert side["look_at"]["distance"] == "framed"
    d = side["simulation"]["distance"]
    assert 1.5 < d < 3.0
    for which in ("color", "depth"):
        ds = HumanDepthDataset(take / "truth" / which)
        for sid in ds.ids:
            s = ds.get(sid)
            assert s.mask.sum() > 500
            assert _border_px(s.mask, FRAME_MARGIN * 0.9) == 0, (which, sid)  # clear of every border
    # the distance is what frames it: a given distance is honoured as given, and 40 cm nearer the person
    # reaches into the margin
    scene = room_scene(2, "mannequin")
    cfg = SimulationConfig(**SMALL)
    assert framing_distance(scene, cfg) == d
    near = simulate_take(tmp_path / "near", SimulationConfig(**{**SMALL, "distance": round(d - 0.4, 2)}))
    side = json.loads((near / "take.json").read_text())["simulation"]
    assert side["look_at"]["distance"] == "given" and side["simulation"]["distance"] == round(d - 0.4, 2)
    ds = HumanDepthDataset(near / "truth" / "color")
    assert any(_border_px(ds.get(i).mask, FRAME_MARGIN) > 0 for i in ds.ids)  # 40 cm nearer: not clear any more

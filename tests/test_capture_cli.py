"""``humandepth capture simulate | import`` end to end through the command line, plus --help texts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from humandepth.capture.sensor_model import D400Model
from humandepth.cli import build_parser, main
from humandepth.data.store import HumanDepthDataset


def test_every_capture_subcommand_has_a_description_and_examples():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["capture"]
    commands = next(a for a in sub._actions if a.dest == "capture_command").choices
    assert set(commands) == {"record", "import", "simulate"}
    for p in [sub, *commands.values()]:
        text = p.format_help()
        assert p.description and "examples:" in text and "humandepth capture" in text


def test_simulate_then_import_from_the_command_line(tmp_path, capsys):
    take = tmp_path / "take"
    rc = main(["capture", "simulate", "--out", str(take), "--frames", "3", "--seed", "1", "--depth-size", "160x120",
               "--color-size", "160x120", "--person", "mannequin", "--arc", "10"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "records .db3" in out and "wrote take" in out
    side = json.loads((take / "take.json").read_text())
    assert side["frames"] == 3 and side["simulation"]["scene"]["person"]["source"].endswith("mannequin")
    assert side["depth"]["K"][0][0] == pytest.approx(385.0 / 4)  # focal scaled with the stream width
    truth = HumanDepthDataset(take / "truth" / "color")
    assert truth[0].mask.any() and truth[0].mask.mean() < 0.5  # the person is in view, not everywhere

    rc = main(["capture", "import", str(take), "--out", str(tmp_path / "ds"), "--align", "none"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "imported 3 frames" in out and "the file holds 3 depth / 3 colour frames" in out
    ds = HumanDepthDataset(tmp_path / "ds")
    assert ds.kind == "captured" and ds.ids == ["frame-000000", "frame-000001", "frame-000002"]
    td = HumanDepthDataset(take / "truth" / "depth")
    s, t = ds[1], td[1]
    both = (s.depth > 0) & (t.depth > 0) & t.mask
    err = np.abs(s.depth[both] - t.depth[both])
    # a noisy measurement of the true person depth: at 160x120 (f = 96 px) sigma is ~37 mm at 1.5 m
    sigma = D400Model().sigma_z(np.median(t.depth[both]), td[1].camera.fx)
    assert 0.5 * 0.6745 * sigma < np.median(err) < 1.3 * 0.6745 * sigma
    # the coarse mask holds the person plus the floor around the feet (same depth band), nothing else
    measured = s.depth > 0  # person pixels the sensor invalidated (edges, shadow) cannot be found
    assert (s.mask & t.mask & measured).sum() > 0.95 * (t.mask & measured).sum()
    upper = slice(0, s.mask.shape[0] * 3 // 4)
    assert (s.mask[upper] & ~t.mask[upper]).sum() < 0.1 * t.mask[upper].sum()

    # resuming an interrupted import is refused only on a finished dataset without --overwrite
    assert main(["capture", "import", str(take), "--out", str(tmp_path / "ds")]) == 2
    assert "already holds a finished dataset" in capsys.readouterr().err

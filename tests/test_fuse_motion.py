"""Frames where the subject moved are detected against the fused surface and dropped."""

from __future__ import annotations

import numpy as np
import pytest
from fuse_helpers import sensor_sequence

from humandepth.fuse.fusion import FuseConfig, fuse_sequence


@pytest.fixture(scope="module")
def moved_take():
    # the capture wing's room, mannequin and D400 model; the subject steps 6 cm towards the camera
    # in frames 7 and 8 (about 3 noise sigmas at 1.5 m and 320x240)
    seq, truths = sensor_sequence(n=10, moved=(7, 8), shift=(0.0, 0.0, 0.06))
    return seq, truths, fuse_sequence(seq, FuseConfig(poses="known"))


def test_moved_frames_are_rejected_and_listed(moved_take):
    seq, truths, result = moved_take
    report = result.report
    rejected = {r["id"]: r for r in report["frames"]["rejected_frames"]}
    assert set(rejected) == {"frame-000007", "frame-000008"}
    assert all(r["reason"] == "subject_moved" for r in rejected.values())
    assert report["frames"]["read"] == 10 and report["frames"]["used"] == 8
    assert [f.id for f in result.frames] == [f.id for f in seq.frames if f.id not in rejected]
    # every frame keeps its residual in the report; the moved ones stand out by an order of magnitude
    res = report["residuals"]
    still = [res[f.id]["outlier_fraction"] for f in seq.frames if f.id not in rejected]
    assert max(still) < 0.05
    assert min(rejected[i]["outlier_fraction"] for i in rejected) > 0.3
    assert res["frame-000007"]["median_signed_mm"] < -30  # nearer than the fused surface


def test_fusion_without_the_moved_frames_matches_the_still_subject(moved_take):
    seq, truths, result = moved_take
    for ft in result.frames:
        td, tm = truths[ft.id]
        m = tm & ft.render.mask
        assert m.sum() > 0.5 * tm.sum()  # at 320x240 the edge and support filters take a good share
        assert np.mean(np.abs(ft.render.depth[m] - td[m])) < 0.008  # vs 6 cm had the moved frames stayed


def test_a_still_take_loses_no_frame():
    seq, _ = sensor_sequence(n=6, moved=())
    report = fuse_sequence(seq, FuseConfig(poses="known")).report
    assert report["frames"]["rejected"] == 0 and report["frames"]["used"] == 6

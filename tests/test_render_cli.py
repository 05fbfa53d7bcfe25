"""``humandepth render``: a real dataset on disk, resume, preview, errors, setup."""

from __future__ import annotations

import json

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401  (session fixture)

from humandepth.cli import main


def test_render_writes_a_dataset_that_resumes(tmp_path, anny_ready, capsys, monkeypatch):  # noqa: F811
    import humandepth.render.dataset as rd
    from humandepth.data import HumanDepthDataset

    out = tmp_path / "ds"
    args = ["render", "--out", str(out), "--seed", "5", "--resolution", "96", "--shard-size", "2", "--quiet",
            "--count", "3"]
    real = rd._render_one

    def crash_at_two(index):
        if index == 2:
            raise KeyboardInterrupt
        return real(index)

    monkeypatch.setattr(rd, "_render_one", crash_at_two)
    assert main(args) == 130  # interrupted after the first shard (samples 0 and 1) was written
    assert not (out / "dataset.json").exists()
    shard = (out / "shards" / "shard-00000.h5").read_bytes()
    monkeypatch.setattr(rd, "_render_one", real)
    capsys.readouterr()
    assert main(args + ["--preview"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["skipped_existing"] == 2 and summary["rendered"] == 1
    assert (out / "shards" / "shard-00000.h5").read_bytes() == shard
    assert (out / "preview.png").stat().st_size > 1000
    ds = HumanDepthDataset(out)
    assert ds.card["kind"] == "synthetic" and ds.ids == ["0000000", "0000001", "0000002"]
    assert ds.resolution == (96, 96)
    assert set(ds.fields) >= {"rgb", "depth", "normal", "mask", "parts", "depth_base", "depth_detail",
                              "body_depth", "joints2d", "joints3d"}
    s0 = ds.get("0000000")
    assert s0.camera is not None and s0.meta["renderer"]["gl_renderer"]
    from humandepth.render.generate import GeneratorConfig, generate_sample

    again = generate_sample(1, 5, GeneratorConfig(resolution=96))
    assert np.array_equal(ds.get("0000001").depth, again.depth)
    assert np.array_equal(ds.get("0000001").rgb, again.rgb)


def test_user_errors_are_one_line(tmp_path, capsys):
    assert main(["render", "--count", "1"]) == 2
    assert "--out" in capsys.readouterr().err
    assert main(["render", "--out", str(tmp_path / "x"), "--backgrounds", str(tmp_path / "none")]) == 2
    assert "background folder" in capsys.readouterr().err


def test_elevation_and_pitch_ranges_reach_the_cameras(tmp_path, anny_ready, capsys):  # noqa: F811
    from humandepth.data import HumanDepthDataset

    out = tmp_path / "flat"
    assert main(["render", "--out", str(out), "--count", "2", "--seed", "3", "--resolution", "64", "--quiet",
                 "--crop", "tang2019", "--elevation-deg", "4", "4", "--pitch-deg", "7", "7"]) == 0
    ds = HumanDepthDataset(out)
    assert ds.card["generator"]["config"]["elevation_deg"] == [4.0, 4.0]
    assert ds.card["generator"]["config"]["pitch_deg"] == [7.0, 7.0]
    for i in ds.ids:  # 4 degrees keeps these cameras above the floor, so none is raised
        sample = ds.get(i)
        assert sample.meta["camera_sampling"]["elevation_deg"] == pytest.approx(4.0, abs=1e-3)
        assert sample.meta["camera_sampling"]["pitch_deg"] == pytest.approx(7.0, abs=1e-3)
        assert sample.camera.cam_from_world[2, 1] == pytest.approx(-np.sin(np.radians(7.0)), abs=1e-6)
    capsys.readouterr()
    for bad_args, says in ((["--elevation-deg", "20", "5"], "--elevation-deg 20 5"),
                           (["--pitch-deg", "0", "5"], "--pitch-deg (pitch_deg) needs --crop tang2019"),
                           (["--crop", "tang2019", "--pitch-deg", "9", "2"], "--pitch-deg 9 2")):
        bad = tmp_path / "bad"
        assert main(["render", "--out", str(bad), "--count", "1", *bad_args]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and says in err[0] and not bad.exists(), err


def test_setup_is_idempotent(anny_ready, capsys):  # noqa: F811
    assert main(["render", "setup"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["built"] is False and any(f.startswith("build_compact") for f in summary["files"])


@pytest.mark.slow
def test_two_workers_give_byte_identical_shards(tmp_path, anny_ready):  # noqa: F811
    from humandepth.data import HumanDepthDataset
    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig

    cfg = GeneratorConfig(resolution=64)
    render_dataset(tmp_path / "w1", 3, seed=2, cfg=cfg, workers=1, progress=False)
    render_dataset(tmp_path / "w2", 3, seed=2, cfg=cfg, workers=2, progress=False)
    a, b = HumanDepthDataset(tmp_path / "w1"), HumanDepthDataset(tmp_path / "w2")
    for sid in a.ids:
        sa, sb = a.get(sid), b.get(sid)
        for name in sa.present_fields():
            assert np.array_equal(getattr(sa, name), getattr(sb, name)), (sid, name)


def test_scans_from_a_registered_name(tmp_path, monkeypatch, capsys):
    from render_helpers import write_scan_folder

    from humandepth.data import HumanDepthDataset

    write_scan_folder(tmp_path / "scans")
    registry = tmp_path / "datasets.yaml"
    registry.write_text(f"""datasets:
  - name: myscans
    kind: external
    format: scans
    path: {tmp_path / 'scans'}
    description: test scans
    license: "test licence: research only"
    citation: none
    obtain: nothing to obtain
""")
    monkeypatch.setenv("HUMANDEPTH_REGISTRY", str(registry))
    out = tmp_path / "scan-ds"
    assert main(["render", "--out", str(out), "--count", "1", "--body", "scan", "--scans", "myscans",
                 "--resolution", "64", "--quiet"]) == 0
    s = HumanDepthDataset(out).get("0000000")
    assert s.mask.any() and s.body_depth is None
    assert s.meta["assets"][0]["license"] == "test licence: research only"
    assert main(["render", "--out", str(tmp_path / "x"), "--body", "scan", "--scans", "nosuch"]) == 2
    assert "nosuch" in capsys.readouterr().err


def test_missing_models_fail_before_anything_is_written(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HUMANDEPTH_SMPLX_PATH", raising=False)
    out = tmp_path / "never"
    assert main(["render", "--out", str(out), "--body", "smplx"]) == 2
    assert "smpl-x.is.tue.mpg.de" in capsys.readouterr().err
    monkeypatch.setenv("HUMANDEPTH_CACHE", str(tmp_path / "empty-cache"))
    assert main(["render", "--out", str(out)]) == 2
    assert "humandepth render setup" in capsys.readouterr().err
    assert main(["render", "--out", str(out), "--outfit", "cape"]) == 2
    assert not out.exists()

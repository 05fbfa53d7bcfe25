"""Bad input gives a clear error that names the problem (and nothing is written)."""

from __future__ import annotations

import numpy as np
import pytest
from fuse_helpers import analytic_sequence

from humandepth.cli import main
from humandepth.data.camera import Camera
from humandepth.data.sample import Sample
from humandepth.data.store import DatasetWriter
from humandepth.fuse.frames import Frame
from humandepth.fuse.fusion import FuseConfig, fuse_sequence
from humandepth.fuse.readers import read_captured_dataset, read_input


@pytest.fixture
def small():
    return analytic_sequence(n=3, size=(80, 60), f=75.0)


def test_no_frame_has_depth(small):
    seq, _, _ = small
    for f in seq.frames:
        f.depth = np.zeros_like(f.depth)
    with pytest.raises(ValueError, match="no frame has depth"):
        fuse_sequence(seq, FuseConfig(poses="known"))


def test_a_single_frame():
    seq, _, _ = analytic_sequence(n=1, size=(80, 60), f=75.0)
    with pytest.raises(ValueError, match="1 frame; fusion needs at least 2"):
        fuse_sequence(seq, FuseConfig(poses="known"))


def test_frame_size_differs_from_the_camera():
    seq, _, _ = analytic_sequence(n=2, size=(80, 60), f=75.0)
    seq.frames[1].depth = seq.frames[1].depth[:, :70]
    with pytest.raises(ValueError, match="frame 'frame-000001'.*inconsistent intrinsics"):
        fuse_sequence(seq, FuseConfig(poses="known"))


def test_known_poses_missing():
    seq, _, _ = analytic_sequence(n=2, size=(80, 60), f=75.0, with_pose=False)
    with pytest.raises(ValueError, match="--poses known.*no known pose.*--poses odometry"):
        fuse_sequence(seq, FuseConfig(poses="known"))


def test_non_rigid_pose():
    seq, _, _ = analytic_sequence(n=2, size=(80, 60), f=75.0)
    seq.frames[0].pose = seq.frames[0].pose * np.array([[2.0], [1], [1], [1]])
    with pytest.raises(ValueError, match="pose of frame 'frame-000000' is not a rigid transform"):
        fuse_sequence(seq, FuseConfig(poses="known"))


def test_cuda_asked_on_a_cpu_build(small):
    seq, _, _ = small
    with pytest.raises(ValueError, match="--device cuda: .*--device cpu"):
        fuse_sequence(seq, FuseConfig(poses="known", device="cuda"))


def test_bad_parameters():
    with pytest.raises(ValueError, match="--trunc"):
        FuseConfig(voxel=0.01, trunc=0.005)
    with pytest.raises(ValueError, match="--poses"):
        FuseConfig(poses="gps")


def _captured(root, cameras):
    with DatasetWriter(root, name="cap", kind="captured", base_detail_filter=None) as w:
        for i, cam in enumerate(cameras):
            depth = np.full((cam.height, cam.width), 1.5, np.float32)
            w.add(Sample(id=f"frame-{i:06d}", rgb=np.zeros((cam.height, cam.width, 3), np.uint8), depth=depth,
                         mask=np.zeros_like(depth, bool), camera=cam, meta={"pose_known": False}))
    return root


def test_captured_dataset_with_inconsistent_intrinsics(tmp_path):
    a = Camera.from_focal(64, 48, 60.0)
    b = Camera.from_focal(64, 48, 61.5)
    root = _captured(tmp_path / "cap", [a, a, b])
    with pytest.raises(ValueError, match="sample 'frame-000002' has intrinsics .*inconsistent intrinsics"):
        read_captured_dataset(root)


def test_captured_dataset_reads_as_one_grid(tmp_path):
    cam = Camera.from_focal(64, 48, 60.0)
    seq = read_input(_captured(tmp_path / "cap", [cam, cam]))
    assert len(seq) == 2 and seq.depth_camera == seq.color_camera
    assert np.array_equal(seq.depth_to_color, np.eye(4)) and not seq.has_known_poses
    assert seq.truth is None and isinstance(seq.frames[0], Frame)


def test_cli_errors_are_one_line_and_write_nothing(tmp_path, capsys):
    assert main(["fuse", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
    cam = Camera.from_focal(64, 48, 60.0)
    root = _captured(tmp_path / "cap", [cam])  # a single frame
    assert main(["fuse", str(root), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert "fusion needs at least 2" in capsys.readouterr().err
    assert not (tmp_path / "out" / "dataset.json").exists()
    # an existing dataset is never replaced without --overwrite
    assert main(["fuse", str(root), "--out", str(root), "--quiet"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (root / "dataset.json").exists()


@pytest.mark.parametrize("option", [["--motion-k", "-1"], ["--motion-fraction", "1.5"], ["--motion-fraction", "0"]])
def test_motion_options_out_of_range_are_refused(option, tmp_path, capsys):
    (tmp_path / "take").mkdir()
    assert main(["fuse", str(tmp_path / "take"), "--out", str(tmp_path / "o"), *option]) == 2
    assert option[0] in capsys.readouterr().err and not (tmp_path / "o").exists()

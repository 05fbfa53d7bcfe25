"""SMPL(-X) through smplx with a synthetic model file, and scans from a folder."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import write_scan_folder, write_synthetic_smpl, write_synthetic_smplx

from humandepth.data import JOINT_NAMES


def test_smplx_without_model_files_says_where_they_come_from(tmp_path, monkeypatch):
    from humandepth.render import sample_person

    monkeypatch.delenv("HUMANDEPTH_SMPLX_PATH", raising=False)
    with pytest.raises(FileNotFoundError, match="smpl-x.is.tue.mpg.de.*non-commercial|non-commercial.*smpl-x"):
        sample_person(0, body="smplx")
    with pytest.raises(FileNotFoundError, match="SMPLX_NEUTRAL.npz"):
        sample_person(0, body="smplx", smplx_model_path=tmp_path)


def test_synthetic_smpl_model_gives_a_labelled_posed_body(tmp_path):
    from humandepth.render import sample_person
    from humandepth.render.generate import GeneratorConfig, generate_sample

    write_synthetic_smpl(tmp_path)
    p = sample_person(1, body="smplx", smplx_model_path=tmp_path, clothed=False, key_poses=("a_pose",),
                      pose_variation=0.0)
    v = p.body_mesh.vertices
    assert abs(v[:, 1].min()) < 1e-6 and 1.4 < v[:, 1].max() < 1.9
    j = dict(zip(JOINT_NAMES, p.joints3d, strict=True))
    assert j["left_shoulder"][0] > 0 > j["right_shoulder"][0]
    assert j["left_hand"][1] < j["left_shoulder"][1] - 0.2  # A-pose: the hands hang below the shoulders
    assert {1, 2, 3, 4, 9, 10} <= set(np.unique(p.body_vertex_parts))
    assert "non-commercial" in p.params["assets"][0]["license"]
    s = generate_sample(0, 3, GeneratorConfig(resolution=64, body="smplx", smplx_model_path=str(tmp_path),
                                              clothed=False))
    s.validate()
    assert s.mask.any() and np.array_equal(s.parts > 0, s.mask) and s.body_depth is not None


def test_scans_are_normalised_and_render_without_body_fields(tmp_path):
    from humandepth.render import sample_person
    from humandepth.render.generate import GeneratorConfig, generate_sample

    write_scan_folder(tmp_path / "scans")
    p = sample_person(0, body="scan", scan_dir=tmp_path / "scans")
    v = p.body_mesh.vertices
    assert abs(v[:, 1].min()) < 1e-9 and abs(v[:, 1].max() - 1.84) < 0.01  # centimetres -> metres
    assert abs(v[:, 0].min() + v[:, 0].max()) < 1e-9 and p.params["body"]["scale"] == 0.01
    s = generate_sample(0, 0, GeneratorConfig(resolution=64, body="scan", scan_dir=str(tmp_path / "scans")))
    s.validate()
    assert s.mask.any() and s.body_depth is None and s.parts is None and s.joints3d is None
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no .obj or .ply"):
        sample_person(0, body="scan", scan_dir=tmp_path / "empty")


def test_synthetic_smplx_npz_gives_a_labelled_clothed_body(tmp_path):
    from humandepth.render import sample_person

    write_synthetic_smplx(tmp_path)
    p = sample_person(2, body="smplx", smplx_model_path=tmp_path, key_poses=("relaxed",), pose_variation=0.0,
                      outfit=("tshirt", "trousers"))
    assert p.params["body"]["model"] == "smplx"
    j = dict(zip(JOINT_NAMES, p.joints3d, strict=True))
    assert j["left_hand"][1] < j["left_elbow"][1] < j["left_shoulder"][1]  # relaxed: arms down
    assert j["left_hand"][0] > 0 > j["right_hand"][0]
    assert {7, 8} <= set(np.unique(p.body_vertex_parts))  # hands from the wrist and finger joints
    assert [g["type"] for g in p.params["garments"]] == ["trousers", "tshirt"]
    assert p.params["garment_check"]["inside_vertices"] == 0

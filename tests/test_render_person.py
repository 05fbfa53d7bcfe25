"""sample_person with the anny body: world frame, labels, joints, garments outside the body, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401  (session fixture)

from humandepth.data import JOINT_NAMES


@pytest.fixture(scope="module")
def a_pose_person(anny_ready):  # noqa: F811
    from humandepth.render import sample_person

    return sample_person(11, key_poses=("a_pose",), pose_variation=0.0, outfit=("tshirt", "trousers", "jacket"))


def test_world_frame_joints_and_parts(a_pose_person):
    p = a_pose_person
    body = p.body_mesh
    assert abs(body.vertices[:, 1].min()) < 1e-9  # feet on y = 0
    assert 1.2 < body.vertices[:, 1].max() < 2.2  # metres, +Y up
    j = dict(zip(JOINT_NAMES, p.joints3d, strict=True))
    assert p.joints3d.shape == (16, 3)
    assert j["head"][1] > j["neck"][1] > j["chest"][1] > j["pelvis"][1] > j["left_knee"][1] > j["left_foot"][1]
    assert j["left_shoulder"][0] > 0 > j["right_shoulder"][0]  # own left at +X
    assert j["left_hand"][0] > j["left_elbow"][0] > j["left_shoulder"][0]
    nose_side = body.vertices[p.body_vertex_parts == 1]
    assert nose_side[:, 2].max() > j["head"][2] + 0.05  # the face is toward +Z
    assert set(np.unique(p.body_vertex_parts)) == set(range(1, 15))
    for fp, m in zip(p.face_parts, p.meshes, strict=True):
        assert len(fp) == len(m.faces) and fp.min() >= 1 and fp.max() <= 14
    assert len(p.mesh.faces) == sum(len(m.faces) for m in p.meshes)


def test_garments_are_outside_the_body_and_recorded(a_pose_person):
    import open3d as o3d

    p = a_pose_person
    assert [g["type"] for g in p.params["garments"]] == ["trousers", "tshirt", "jacket"]
    assert p.params["garment_check"]["inside_vertices"] == 0
    scene = o3d.t.geometry.RaycastingScene()  # an independent check: ray-parity occupancy
    scene.add_triangles(o3d.core.Tensor(p.body_mesh.vertices.astype(np.float32)),
                        o3d.core.Tensor(p.body_mesh.faces.astype(np.uint32)))
    for g in p.garment_meshes:
        occ = scene.compute_occupancy(o3d.core.Tensor(np.asarray(g.vertices, np.float32))).numpy()
        assert occ.mean() < 0.002
    json.dumps(p.params)
    assert any("CC0" in a["license"] for a in p.params["assets"])
    for g in p.params["garments"]:
        assert {"looseness_m", "thickness_m", "fold_amplitude_m", "look", "license"} <= set(g)


def test_garments_carry_folds_and_hem_steps(a_pose_person):
    """Garment offsets from the body vary by millimetres to centimetres (folds, hems), not a constant shell."""
    import open3d as o3d

    p = a_pose_person
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(p.body_mesh.vertices.astype(np.float32)),
                        o3d.core.Tensor(p.body_mesh.faces.astype(np.uint32)))
    tshirt = p.garment_meshes[1]
    d = scene.compute_distance(o3d.core.Tensor(np.asarray(tshirt.vertices, np.float32))).numpy()
    assert np.percentile(d, 1) >= 0.001 and np.percentile(d, 95) - np.percentile(d, 5) > 0.005


def test_same_seed_same_person_and_poses_vary(anny_ready):  # noqa: F811
    from humandepth.render import sample_person

    a, b, c = sample_person(3), sample_person(3), sample_person(4)
    for m1, m2 in zip(a.meshes, b.meshes, strict=True):
        assert np.array_equal(m1.vertices, m2.vertices) and np.array_equal(m1.faces, m2.faces)
    assert a.params == b.params
    assert a.params["body"]["pose_deg"] != c.params["body"]["pose_deg"]


def test_unknown_options_are_named(anny_ready):  # noqa: F811
    from humandepth.render import sample_person

    with pytest.raises(ValueError, match="unknown body"):
        sample_person(0, body="mannequin")
    with pytest.raises(ValueError, match="cape"):
        sample_person(0, outfit=("cape",))

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


def test_hair_shoes_and_eyes_are_geometry_outside_the_body(anny_ready):  # noqa: F811
    import open3d as o3d

    from humandepth.render import sample_person
    from humandepth.render.body import PART

    p = sample_person(5, key_poses=("a_pose",), pose_variation=0.0, outfit=("sneakers", "shorts", "tshirt", "cap"))
    assert [g["type"] for g in p.params["garments"]] == ["sneakers", "shorts", "tshirt", "cap"]
    lowest = min(float(m.vertices[:, 1].min()) for m in p.meshes)
    assert abs(lowest) < 1e-9  # the soles stand on y = 0 ...
    assert p.body_mesh.vertices[:, 1].min() > 0.008  # ... and lift the feet by the sole
    shoes = p.garment_meshes[0]
    assert shoes.vertices[:, 1].max() < 0.2 and set(p.face_parts[p.meshes.index(shoes)]) <= {PART["left_foot"],
                                                                                             PART["right_foot"],
                                                                                             PART["left_lower_leg"],
                                                                                             PART["right_lower_leg"]}
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(p.body_mesh.vertices.astype(np.float32)),
                        o3d.core.Tensor(p.body_mesh.faces.astype(np.uint32)))
    for m in p.garment_meshes:
        assert scene.compute_occupancy(o3d.core.Tensor(np.asarray(m.vertices, np.float32))).numpy().mean() < 0.01
    assert "eyes" in p.kinds
    eyes = p.meshes[p.kinds.index("eyes")]
    assert abs(eyes.vertices[:, 1].mean() - p.joints3d[9][1]) < 0.08  # at the height of the head
    if "hair" in p.kinds:
        hair = p.meshes[p.kinds.index("hair")]
        assert hair.vertices[:, 1].mean() > p.joints3d[8][1]  # above the neck
        assert (p.face_parts[p.kinds.index("hair")] == PART["head"]).all()


def test_hair_styles_make_different_geometry(anny_ready):  # noqa: F811
    from humandepth.render.garments import DenseBody, _scene
    from humandepth.render.hair import build_hair, sample_hair_spec
    from humandepth.render.person import body_model

    model = body_model("anny")
    body = model.build(model.sample_phenotype(np.random.default_rng(0)), {})
    scene = _scene(body.vertices, body.faces)
    spec = sample_hair_spec(np.random.default_rng(0))
    extents = {}
    for style in ("buzz", "short", "curly", "long", "ponytail", "bun"):
        out = build_hair(DenseBody(body), body, {**spec, "style": style, "thickness_m": 0.012}, scene)
        mesh, parts, tangents, rest, params, convexity = out
        assert len(convexity) == len(mesh.vertices) and np.abs(convexity).max() < 0.05
        assert len(parts) == len(mesh.faces) and np.allclose(np.linalg.norm(tangents, axis=1), 1.0, atol=1e-6)
        extents[style] = float(body.vertices[:, 1].max() - mesh.vertices[:, 1].min())
    assert build_hair(DenseBody(body), body, {**spec, "style": "none"}, scene) is None
    assert extents["long"] > extents["short"] + 0.1 and extents["ponytail"] > extents["short"] + 0.05


def test_every_mesh_comes_with_a_surface_and_a_matching_cavity(anny_ready):  # noqa: F811
    from humandepth.render import sample_person

    for seed in range(6):
        p = sample_person(seed)
        assert len(p.surfaces) == len(p.meshes) == len(p.cavity) == len(p.kinds)
        for m, c in zip(p.meshes, p.cavity, strict=True):
            assert c is None or (len(c) == len(m.vertices) and 0.0 <= c.min() and c.max() <= 1.0)

import numpy as np
import pytest

from humandepth.data import Camera, backproject, normals_from_depth, split_base_detail
from humandepth.data.geometry import angular_error_deg


def test_centred_principal_point_and_projection():
    cam = Camera.from_focal(64, 48, 50.0)
    assert cam.cx == 31.5 and cam.cy == 23.5
    # a point on the optical axis lands on the image centre; one 1 m right at 2 m lands fx/2 px right
    uv = cam.project(np.array([[0.0, 0.0, 2.0], [1.0, -0.5, 2.0]]))
    np.testing.assert_allclose(uv, [[31.5, 23.5], [31.5 + 25.0, 23.5 - 12.5]])


def test_backproject_inverts_projection():
    cam = Camera.from_fov(40, 30, 60.0)
    depth = np.full((30, 40), 1.7, np.float32)
    pts = backproject(depth, cam.K).reshape(-1, 3)
    uv = cam.project(pts)
    v, u = np.mgrid[0:30, 0:40]
    np.testing.assert_allclose(uv, np.stack([u.ravel(), v.ravel()], 1), atol=1e-9)


def test_resized_keeps_pixel_centre_convention():
    cam = Camera.from_focal(64, 64, 100.0).resized(128, 128)
    assert cam.cx == 63.5 and cam.fx == 200.0


def test_camera_json_round_trip_and_bad_input():
    cam = Camera.from_fov(20, 10, 45.0, cam_from_world=np.diag([1, -1, -1, 1.0]))
    assert Camera.from_json(cam.to_json()) == cam
    with pytest.raises(ValueError, match="3x3"):
        Camera(np.eye(2), 10, 10)
    with pytest.raises(ValueError, match="needs K"):
        Camera.from_dict({"width": 3})


def test_normals_of_tilted_plane_are_exact():
    cam = Camera.from_focal(64, 48, 60.0)
    n_true = np.array([0.3, -0.2, -1.0])
    n_true /= np.linalg.norm(n_true)
    # plane n . X = d  ->  depth along each ray r (z=1): t = d / (n . r)
    rays = cam.rays()
    depth = (-2.0 / (rays @ n_true)).astype(np.float32)
    n = normals_from_depth(depth, cam.K)
    err = angular_error_deg(n[2:-2, 2:-2], np.broadcast_to(n_true, n[2:-2, 2:-2].shape))
    assert err.max() < 0.05
    assert np.all(np.sum(n * rays, -1) < 0)  # facing the camera


def test_normals_on_normalised_grid_and_missing_values():
    depth = np.zeros((16, 16), np.float32)
    depth[4:12, 4:12] = 2.0
    n = normals_from_depth(depth)  # K=None: the paper's grid
    np.testing.assert_allclose(n[6, 6], [0, 0, -1], atol=1e-6)
    assert np.all(n[0, 0] == 0)


def test_base_detail_removes_ripples_and_keeps_plane():
    h = w = 64
    v, u = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    mask[8:56, 8:56] = True
    plane = 2.0 + 0.002 * u
    ripple = 0.004 * np.sin(2 * np.pi * u / 6.0)
    depth = np.where(mask, plane + ripple, 0).astype(np.float32)
    base, detail = split_base_detail(depth, mask)
    inner = np.zeros_like(mask)
    inner[16:48, 16:48] = True
    # the base follows the plane, the detail carries the ripple
    assert np.abs(base[inner] - plane[inner]).max() < 0.0015
    assert np.corrcoef(detail[inner], ripple[inner])[0, 1] > 0.95
    assert np.all(base[~mask] == 0) and np.all(detail[~mask] == 0)
    np.testing.assert_allclose(base + detail, depth, atol=1e-6)


def test_base_detail_preserves_depth_discontinuity():
    depth = np.full((32, 32), 2.0, np.float32)
    depth[:, 16:] = 2.3  # an arm 30 cm in front of the torso
    base, _ = split_base_detail(depth, np.ones_like(depth, bool))
    assert abs(base[10, 15] - 2.0) < 1e-3 and abs(base[10, 16] - 2.3) < 1e-3


def test_look_at_is_one_definition_with_exact_geometry():
    from humandepth.data.camera import look_at

    eye, target = np.array([0.4, 1.6, 2.5]), np.array([0.1, 1.0, 0.0])
    T = look_at(eye, target)
    R = T[:3, :3]
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-12)
    assert np.linalg.det(R) == pytest.approx(1.0)
    cam = Camera.from_focal(64, 48, 50.0, T)
    np.testing.assert_allclose(cam.world_from_cam[:3, 3], eye, atol=1e-12)  # the camera stands at eye
    (u, v), = cam.project((T @ [*target, 1.0])[None, :3])
    assert (u, v) == pytest.approx((cam.cx, cam.cy))  # and sees the target at the principal point
    (_, v_up), = cam.project((T @ [*(target + [0, 0.1, 0]), 1.0])[None, :3])
    assert v_up < v  # world +Y is up in the image (OpenCV: v grows downwards)
    # roll turns the image: +90 degrees maps the camera's x axis onto its former y axis
    np.testing.assert_allclose(look_at(eye, target, roll_rad=np.pi / 2)[0, :3], R[1], atol=1e-12)
    # straight down is defined (image right = world +X), never an error or a NaN
    down = look_at([0.0, 3.0, 0.0], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(down[:3, :3], [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-12)
    with pytest.raises(ValueError, match="cannot look at the point it stands on"):
        look_at(eye, eye)

"""Camera framing, places, light, shadows, occlusion and camera effects (no body model needed)."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh
from PIL import Image

from humandepth.data import Camera
from humandepth.data.camera import look_at
from humandepth.render.camera_fx import add_sensor_noise, apply_optics, jpeg, sample_camera_fx
from humandepth.render.generate import GeneratorConfig, sample_camera
from humandepth.render.lighting import ShadowMap, sample_lighting, screen_space_ao, sh_coefficients, sh_irradiance
from humandepth.render.places import FLOOR_Y, list_background_images, room, sample_place
from humandepth.render.surface import Surface


def _person_points(rng):
    """A person-sized box surface sampled on a grid, each point 3 times (the sampler uses every third)."""
    g = np.stack(np.meshgrid(np.linspace(-0.2, 0.2, 9), np.linspace(0, 1.75, 30), np.linspace(-0.12, 0.12, 7),
                             indexing="ij"), -1).reshape(-1, 3)
    g += rng.normal(size=3) * 0.02
    return np.repeat(g, 3, axis=0)


def _project(cam, pts):
    return cam.project(pts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3])


@pytest.mark.parametrize("seed", range(5))
def test_camera_fills_the_sampled_fraction_and_sees_everything(seed):
    rng = np.random.default_rng(seed)
    pts = _person_points(rng)
    cfg = GeneratorConfig(resolution=200, cut_prob=0.0)
    cam, params = sample_camera(np.random.default_rng(seed + 100), pts, cfg)
    pc = pts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3]
    assert (pc[:, 2] > 0).all()
    uv = cam.project(pc)
    extent = float(np.max(uv.max(0) - uv.min(0)))
    assert abs(extent / 200 - params["fill"]) < 0.03 and 0.7 <= params["fill"] <= 0.95
    assert (uv >= -0.5).all() and (uv <= 199.5).all()  # off-centre, but inside the frame
    assert 24 <= params["focal_mm_full_frame"] <= 85 and -10 <= params["elevation_deg"] <= 30
    np.testing.assert_allclose(cam.fx, params["focal_mm_full_frame"] / 36 * 200, rtol=1e-4)


def test_cut_framing_is_larger_than_the_frame_and_keeps_the_head():
    pts = _person_points(np.random.default_rng(0))
    cfg = GeneratorConfig(resolution=128, cut_prob=1.0)
    for seed in range(5):
        cam, params = sample_camera(np.random.default_rng(seed), pts, cfg)
        uv = _project(cam, pts)
        assert params["cut_by_frame"] and 1.1 <= params["fill"] <= 1.8
        assert uv[:, 1].max() > 127.5  # the feet leave the frame ...
        top = uv[pts[:, 1] > pts[:, 1].max() - 0.05]
        assert ((top[:, 1] >= -0.5) & (top[:, 1] <= 127.5)).mean() > 0.9  # ... the head stays


def test_tang2019_crop_centres_the_person_exactly_and_never_cuts_or_occludes():
    pts = _person_points(np.random.default_rng(0))
    cfg = GeneratorConfig(crop="tang2019")
    assert cfg.cut_prob == 0.0 and cfg.occluder_prob == 0.0
    cam, _ = sample_camera(np.random.default_rng(1), pts, cfg)
    uv = _project(cam, pts)
    np.testing.assert_allclose((uv.max(0) + uv.min(0)) / 2, [127.5, 127.5], atol=1e-6)
    assert 0.75 * 256 - 1 <= np.max(uv.max(0) - uv.min(0)) <= 0.92 * 256 + 1
    with pytest.raises(ValueError, match="occluder_prob"):
        GeneratorConfig(occluder_prob=1.5)


@pytest.mark.parametrize("pitch", [-4.0, 0.0, 9.0])
def test_a_pitched_crop_camera_looks_ahead_and_still_centres_the_person(pitch):
    """With pitch_deg the tang2019 camera is not aimed at the person: its optical axis has the drawn pitch, the
    person is seen from the drawn elevation, and the crop (principal point shifted) still centres and frames them;
    an upright plank then has depth that slopes with the pitch alone."""
    pts = _person_points(np.random.default_rng(0))
    cfg = GeneratorConfig(crop="tang2019", elevation_deg=(25.0, 25.0), pitch_deg=(pitch, pitch), roll_deg=(0.0, 0.0))
    cam, params = sample_camera(np.random.default_rng(1), pts, cfg)
    assert params["pitch_deg"] == pytest.approx(pitch) and params["elevation_deg"] == pytest.approx(25.0)
    axis = cam.cam_from_world[2, :3]  # the optical axis in world coordinates (y up)
    assert axis[1] == pytest.approx(-np.sin(np.radians(pitch)), abs=1e-9)
    uv = _project(cam, pts)
    np.testing.assert_allclose((uv.max(0) + uv.min(0)) / 2, [127.5, 127.5], atol=1e-6)
    assert 0.75 * 256 - 1 <= np.max(uv.max(0) - uv.min(0)) <= 0.92 * 256 + 1
    assert cam.K[1, 2] < 127.5 - 40  # seen from 25 degrees above, the person sits low in the camera's frame
    # the axis points along the person's azimuth, pitched; the camera depth (z) of an upright body's top and
    # bottom then differ by height * sin(pitch), whatever the elevation it is seen from
    top, bottom = np.array([[0.0, 1.75, 0.0]]), np.array([[0.0, 0.0, 0.0]])
    z = [float((p @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3])[0, 2]) for p in (top, bottom)]
    azimuth = np.radians(params["azimuth_deg"])
    facing = np.array([np.sin(azimuth), 0.0, np.cos(azimuth)])  # horizontal, towards the camera
    assert abs(axis @ -facing) == pytest.approx(np.cos(np.radians(pitch)), abs=1e-9)
    assert z[0] - z[1] == pytest.approx(-1.75 * np.sin(np.radians(pitch)), abs=1e-9)


def test_pitch_is_only_for_crops_and_recorded_only_when_set():
    with pytest.raises(ValueError, match="needs --crop tang2019"):
        GeneratorConfig(pitch_deg=(0.0, 5.0))
    with pytest.raises(ValueError, match="--pitch-deg 10 5: expected"):
        GeneratorConfig(crop="tang2019", pitch_deg=(10.0, 5.0))
    with pytest.raises(ValueError, match="up to 70 degrees off the camera's axis"):
        GeneratorConfig(crop="tang2019", elevation_deg=(-10.0, 60.0), pitch_deg=(-10.0, 10.0))
    assert "pitch_deg" not in GeneratorConfig(crop="tang2019").to_dict()
    assert GeneratorConfig(crop="tang2019", pitch_deg=(-5, 15)).to_dict()["pitch_deg"] == [-5.0, 15.0]
    cam, params = sample_camera(np.random.default_rng(1), _person_points(np.random.default_rng(0)),
                                GeneratorConfig(crop="tang2019"))
    assert "pitch_deg" not in params  # the default camera is aimed at the person, as before


def test_rooms_hold_the_camera_and_keep_clear_of_the_person():
    for seed in range(8):
        rng = np.random.default_rng(seed)
        cam_pos = np.array([rng.uniform(-4, 4), rng.uniform(0.5, 2.5), rng.uniform(1.5, 5)])
        place = room(rng, cam_pos)
        floor = place.meshes[0]
        assert np.allclose(floor.vertices[:, 1], FLOOR_Y)
        lo, hi = floor.vertices.min(0), floor.vertices.max(0)
        assert (lo[[0, 2]] < cam_pos[[0, 2]]).all() and (hi[[0, 2]] > cam_pos[[0, 2]]).all()
        assert (lo[[0, 2]] < -0.5).all() and (hi[[0, 2]] > 0.5).all()
        for m, what in zip(place.meshes, place.params["objects"], strict=True):
            if what in ("table", "chair", "cabinet", "shelf", "boxes", "sofa", "plant", "bin"):
                assert np.linalg.norm(m.vertices[:, [0, 2]], axis=1).min() > 0.3  # nothing stands in the person
        assert len(place.surfaces) == len(place.meshes) and all(isinstance(s, Surface) for s in place.surfaces)
        merged, face_object = place.merged()
        assert len(merged.faces) == len(face_object) == sum(len(m.faces) for m in place.meshes)


def test_places_are_deterministic_and_varied():
    kinds = set()
    for seed in range(30):
        a = sample_place(np.random.default_rng(seed), np.array([0.0, 1.5, 3.0]), (64, 64))
        b = sample_place(np.random.default_rng(seed), np.array([0.0, 1.5, 3.0]), (64, 64))
        assert a.params == b.params and all(np.array_equal(m.vertices, n.vertices)
                                            for m, n in zip(a.meshes, b.meshes, strict=True))
        kinds.add(a.kind)
        assert a.params["license"]["license"] == "Apache-2.0"
    assert kinds == {"room", "outdoor", "studio"}


def test_background_photos_from_a_folder(tmp_path):
    Image.fromarray(np.full((30, 40, 3), [10, 200, 30], np.uint8)).save(tmp_path / "green.png")
    images = list_background_images(tmp_path)
    got = [sample_place(np.random.default_rng(s), np.array([0.0, 1.5, 3.0]), (64, 64), images) for s in range(20)]
    photos = [p for p in got if p.kind == "photo"]
    assert photos and all(p.params["image"] == "green.png" for p in photos)
    assert (np.abs(photos[0].image.astype(int) - [10, 200, 30]) <= 1).all()
    with pytest.raises(FileNotFoundError, match="no .png"):
        (tmp_path / "sub").mkdir()
        list_background_images(tmp_path / "sub")


def test_spherical_harmonics_of_a_uniform_sky_give_uniform_irradiance():
    env = {"sky": [0.5, 0.4, 0.3], "horizon": [0.5, 0.4, 0.3], "ground": [0.5, 0.4, 0.3], "lobes": []}
    n = np.random.default_rng(0).normal(size=(50, 3))
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    np.testing.assert_allclose(sh_irradiance(sh_coefficients(env), n), np.tile([0.5, 0.4, 0.3], (50, 1)), rtol=0.02)
    sky = {"sky": [1.0, 1.0, 1.0], "horizon": [0.2, 0.2, 0.2], "ground": [0.0, 0.0, 0.0], "lobes": []}
    up, down = sh_irradiance(sh_coefficients(sky), np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]]))
    assert up[0] > 3 * down[0]  # a surface facing the sky gets more light than one facing the ground
    lighting = sample_lighting(np.random.default_rng(1), {"kind": "indoor", "lamps": [[0, 2, 0]], "windows": []})
    assert np.isclose(np.linalg.norm(lighting["key"]["direction"]), 1.0, atol=1e-3)
    assert len(lighting["sh"]) == 9 and lighting["white_balance"][1] == 1.0


def test_splatted_shadow_map_shades_what_is_under_an_occluder():
    ball = trimesh.creation.icosphere(subdivisions=4, radius=0.2)
    ball.apply_translation([0.0, 1.0, 0.0])
    smap = ShadowMap(np.asarray(ball.vertices), [0.0, -1.0, 0.0])  # light from straight above
    up = np.tile([0.0, 1.0, 0.0], (3, 1))
    floor = np.array([[0.0, 0.0, 0.0], [0.5, 0.0, 0.0], [0.12, 0.0, 0.0]])
    vis = smap.visibility(floor, up, softness_m=0.005)
    assert vis[0] == 0.0 and vis[1] == 1.0 and vis[2] == 0.0
    top = smap.visibility(np.array([[0.0, 1.2, 0.0]]), up[:1], softness_m=0.005)
    assert top[0] == 1.0  # no self-shadowing on the lit side


def test_screen_space_occlusion_darkens_a_corner_not_a_plane():
    K = np.array([[100.0, 0, 31.5], [0, 100.0, 31.5], [0, 0, 1]])
    cam = Camera(K, 64, 64, look_at(np.array([0.0, 0.5, 2.0]), np.array([0.0, 0.5, 0.0])))
    rays = cam.rays()
    wall_z = 2.0 * np.ones((64, 64))  # a wall facing the camera ...
    normal = np.zeros((64, 64, 3))
    normal[..., 2] = -1.0
    flat = screen_space_ao(wall_z[::2, ::2], normal[::2, ::2], K, (64, 64))
    assert flat.min() > 0.99
    # ... and a floor meeting it: the floor (y = 0 in the world, +y down in the camera) below the image centre
    t_floor = 0.5 / np.maximum(rays[..., 1], 1e-9)
    on_floor = (rays[..., 1] > 0) & (t_floor < 2.0)
    depth = np.where(on_floor, t_floor, wall_z)
    normal[on_floor] = [0.0, -1.0, 0.0]
    vis = screen_space_ao(depth[::2, ::2], normal[::2, ::2], K, (64, 64))
    row = int(np.argmax(on_floor[:, 32]))  # the first floor row: the corner
    assert vis[row - 8:row + 4, 24:40].min(axis=0).max() < 0.85 and vis[5:15, 24:40].min() > 0.99


def test_camera_effects_are_sampled_deterministically_and_act_on_rgb():
    fx = sample_camera_fx(np.random.default_rng(3), 50.0)
    assert fx == sample_camera_fx(np.random.default_rng(3), 50.0)
    img = np.full((32, 32, 3), 0.18)
    img[:, 16:] = 0.6
    depth = np.full((32, 32), 3.0)
    fx.update(defocus_px_per_inv_m=0.0, focus_blur_px=1.0, motion_blur_px=0.0, chromatic_aberration=0.0,
              vignetting=0.3)
    out = apply_optics(img, depth, 3.0, fx)
    assert 0.18 < out[16, 15, 0] < 0.6 and out[0, 0, 0] < out[16, 8, 0]  # blurred edge, darker corners
    noisy = add_sensor_noise(out, {"shot_noise": 1e-3, "read_noise": 1e-2}, np.random.default_rng(0))
    assert 0.005 < np.std(noisy - out) < 0.05
    rgb = (np.random.default_rng(0).random((32, 32, 3)) * 255).astype(np.uint8)
    assert np.array_equal(jpeg(rgb, None), rgb) and not np.array_equal(jpeg(rgb, 60), rgb)
    assert np.array_equal(jpeg(rgb, 60), jpeg(rgb, 60))


def test_fabric_detail_shows_where_pixels_resolve_it_and_fades_where_they_cannot():
    from humandepth.render.fabric import SHEEN, garment_surface
    from humandepth.render.garments import Garment
    from humandepth.render.texture import fade

    assert fade(0.004, np.array([0.001]))[0] == 1.0 and fade(0.004, np.array([0.01]))[0] == 0.0
    grid = trimesh.creation.box(extents=[0.4, 0.6, 0.02])
    grid = grid.subdivide().subdivide().subdivide()
    grid.visual = trimesh.visual.ColorVisuals(grid, vertex_colors=np.tile([120, 60, 60, 255], (len(grid.vertices), 1)))
    rng = np.random.default_rng(0)
    face = rng.integers(len(grid.faces), size=4000)
    bary = rng.dirichlet([1, 1, 1], size=4000)
    world = np.einsum("pk,pkj->pj", bary, grid.vertices[grid.faces[face]])
    stds = {}
    for material in ("knit", "denim", "leather", "jersey"):
        look = {"material": material, "colour": [0.5, 0.2, 0.2], "colour2": [0.5, 0.2, 0.2], "pattern": "solid"}
        g = Garment(material, grid, np.ones(len(grid.faces), np.uint8), {"look": look, "seed": 3},
                    rest=np.asarray(grid.vertices), convexity=np.zeros(len(grid.vertices)))
        surface = garment_surface(g, g.convexity)
        assert surface.material == material and 0 <= surface.specular < 1
        fine = surface.albedo(face, bary, world, np.full(4000, 0.0005))
        coarse = surface.albedo(face, bary, world, np.full(4000, 0.05))
        assert fine.shape == (4000, 3) and (fine >= 0).all() and (fine <= 1).all()
        stds[material] = (fine.std(0).mean(), coarse.std(0).mean())
        assert stds[material][0] > stds[material][1]  # structure at fine pixels, faded (not aliased) at coarse
    assert stds["knit"][0] > stds["jersey"][0]  # heathered knit is visibly more textured than jersey
    assert SHEEN["leather"][0] > SHEEN["jersey"][0]  # and leather shines

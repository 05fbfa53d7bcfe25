"""Every sample shows its person: the camera stays above the floor, an occluder never hides most of the
person, and the photograph has no NaN or inf (no numeric warnings).  The renders that once showed no person
are rendered again through the library."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import trimesh
from render_helpers import anny_ready  # noqa: F401  (session fixture)

from humandepth.render.generate import MIN_CAMERA_HEIGHT_M, GeneratorConfig, sample_camera
from humandepth.render.lighting import tone_map
from humandepth.render.place_parts import box, quad
from humandepth.render.places import FLOOR_Y, MAX_HIDDEN, Place, add_occluder, hidden_fraction
from humandepth.render.raster import visible_surface


def _grid(mesh: trimesh.Trimesh, n: int = 12) -> np.ndarray:
    """(n**3, 3) points filling the bounding box of ``mesh`` (stand-ins for a person's vertices)."""
    lo, hi = mesh.bounds
    axes = [np.linspace(lo[k], hi[k], n) for k in range(3)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)


@pytest.mark.parametrize("crop", ["tang2019", "none"])
def test_a_low_long_shot_stays_above_the_floor_and_sees_the_person(crop):
    """A crouching person with the arms out (1.4 m wide, 1 m tall) seen from the front at -10 degrees with an
    85 mm lens: the camera would be 3.5-4.5 m away and 0.1-0.3 m under the floor, from where the floor hides the
    whole person.  The elevation is raised just enough instead."""
    person = box([0.0, 0.5, 0.0], [1.4, 1.0, 0.5])
    pts = np.repeat(_grid(person), 3, axis=0)
    cfg = GeneratorConfig(crop=crop, focal_mm=(85.0, 85.0), azimuth_deg=(0.0, 0.0), elevation_deg=(-10.0, -10.0),
                          cut_prob=0.0)
    floor = quad([-30, FLOOR_Y, -30], [60, 0, 0], [0, 0, 60])
    for seed in range(4):
        cam, params = sample_camera(np.random.default_rng(seed), pts, cfg)
        eye = -cam.cam_from_world[:3, :3].T @ cam.cam_from_world[:3, 3]
        # the sampled framing would have put the camera under the floor ...
        d = params["distance_m"]
        assert 0.5 - d * np.sin(np.radians(10.0)) < -0.05
        # ... the camera used is above it, with the elevation raised no more than needed
        assert MIN_CAMERA_HEIGHT_M <= eye[1] < MIN_CAMERA_HEIGHT_M + 0.05
        assert -10.0 < params["elevation_deg"] < 0.0
        alone = visible_surface([person], cam, normals=False)["mesh_index"] >= 0
        both = visible_surface([person, floor], cam, normals=False)["mesh_index"] == 0
        assert alone.sum() > 0.1 * alone.size and np.array_equal(alone, both)  # nothing of the person hidden
        uv = cam.project(pts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3])
        extent = float(np.max(uv.max(0) - uv.min(0)))
        assert abs(extent / cfg.resolution - params["fill"]) < 0.03  # still the sampled framing


def test_the_camera_height_limit_leaves_other_framings_unchanged():
    """Elevations that keep the camera high enough are used exactly as sampled."""
    pts = np.repeat(_grid(box([0.0, 0.88, 0.0], [0.45, 1.76, 0.3])), 3, axis=0)
    for seed in range(6):
        cam, params = sample_camera(np.random.default_rng(seed), pts, GeneratorConfig(elevation_deg=(5.0, 30.0)))
        rng = np.random.default_rng(seed)
        rng.uniform(), rng.uniform()  # focal length, azimuth
        assert params["elevation_deg"] == round(float(rng.uniform(5.0, 30.0)), 4)


def test_hidden_fraction_counts_lines_of_sight_through_a_mesh():
    eye = np.array([0.0, 1.0, 5.0])
    g = np.stack(np.meshgrid(np.linspace(-0.975, 0.975, 40), np.linspace(0.025, 1.975, 40)), -1).reshape(-1, 2)
    points = np.column_stack([g, np.zeros(len(g))])  # a 2 x 2 m grid in the plane z = 0 (no point on an edge)
    wall = quad([-0.5, 0.5, 2.5], [1.0, 0, 0], [0, 1.0, 0])  # 1 x 1 m halfway to the eye: shadows 2 x 2 m at z = 0
    assert hidden_fraction(points, eye, [wall]) == 1.0
    assert hidden_fraction(points + [3.0, 0, 0], eye, [wall]) == 0.0  # beside it
    assert hidden_fraction(points, [0.0, 1.0, 2.0], [wall]) == 0.0  # the eye in front of the wall
    small = quad([-0.25, 0.75, 2.5], [0.5, 0, 0], [0, 0.5, 0])  # shadows |x| < 0.5, |y - 1| < 0.5 at z = 0
    inside = (np.abs(points[:, 0]) < 0.5) & (np.abs(points[:, 1] - 1.0) < 0.5)
    assert hidden_fraction(points, eye, [small]) == inside.mean() == 0.25


def test_an_occluder_that_would_hide_most_of_the_person_is_taken_away():
    """A person crouching low and a camera 2.5 m away at knee height: tables, chairs and boxes in between hide
    most of them; such an occluder is removed (and recorded), any kept one hides at most MAX_HIDDEN."""
    person = box([0.0, 0.3, 0.0], [0.5, 0.6, 0.4])
    pts = _grid(person)
    eye = np.array([0.0, 0.4, 2.5])
    removed = kept = 0
    for seed in range(24):
        place = Place("room")
        add_occluder(place, np.random.default_rng(seed), eye, pts)
        if "occluder_removed" in place.params:
            info = place.params["occluder_removed"]
            assert info["hides_fraction"] > MAX_HIDDEN and not place.meshes and not place.occluders
            assert "occluder" not in place.params
            removed += 1
        else:
            info = place.params["occluder"]
            assert info["hides_fraction"] <= MAX_HIDDEN and place.occluders == list(range(len(place.meshes)))
            assert info["hides_fraction"] == round(hidden_fraction(pts, eye, place.meshes), 3)
            kept += 1
    assert removed > 0 and kept > 0


@pytest.mark.parametrize("shoulder", [1.0, 0.99995, 0.9, 0.6, 0.0])
def test_tone_curve_is_finite_for_any_shoulder_and_any_light(shoulder):
    """A shoulder sampled at 1.0 once divided by zero (NaN pixels, cast to uint8 as black); a shoulder just
    under 1 overflowed exp.  Neither can happen now, for float32 or float64 light up to inf."""
    for dtype in (np.float32, np.float64):
        big = np.finfo(dtype).max
        x = np.sort(np.array([0.0, 1e-4, 0.5, shoulder, np.nextafter(dtype(shoulder), dtype(2)), 1.0, 2.0, 1e3,
                              big, np.inf], dtype))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # any numpy RuntimeWarning fails the test
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                for contrast in (0.0, 0.7):
                    y = tone_map(x, shoulder, contrast)
                    assert np.isfinite(y).all() and (y >= 0).all() and (y <= 1.0 + 1e-6).all()
                    assert (np.diff(y) >= -1e-7).all()  # monotonic
                    rgb = np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)
        assert rgb[-1] >= rgb[-3] >= 200  # the brightest light is white, not black


# (seed, index, crop) of renders that showed no person: a crouch seen from 3.6 m at -10 degrees put the camera
# 8 mm under the floor (the floor hid everything); two full frames had an occluder (a pillar, a bush) over the
# whole person
EMPTY_ONCE = [(1, 2530, "tang2019"), (9002, 95, "none"), (9002, 155, "none")]


@pytest.mark.parametrize("seed,index,crop", EMPTY_ONCE)
def test_renders_that_once_showed_no_person_show_it(anny_ready, seed, index, crop):  # noqa: F811
    from humandepth.render.generate import generate_sample

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow, no invalid value, no NaN cast
        s = generate_sample(index, seed, GeneratorConfig(crop=crop))
    s.validate()
    eye = -s.camera.cam_from_world[:3, :3].T @ s.camera.cam_from_world[:3, 3]
    assert eye[1] >= MIN_CAMERA_HEIGHT_M - 1e-9
    assert s.mask.mean() > 0.05 and np.array_equal(s.mask, s.depth > 0)
    if crop == "tang2019":  # tight, centred, never cut: the whole person is in the crop
        rows, cols = np.nonzero(s.mask)
        assert 0.74 * 256 < max(np.ptp(rows), np.ptp(cols)) + 1 <= 256
        assert abs((rows.max() + rows.min()) / 2 - 127.5) < 4 and abs((cols.max() + cols.min()) / 2 - 127.5) < 4
        assert rows.min() > 0 and cols.min() > 0 and rows.max() < 255 and cols.max() < 255
    else:
        place = s.meta["place"]
        occ = place.get("occluder") or place.get("occluder_removed")
        assert occ is not None and occ["hides_fraction"] is not None
        assert "occluder_removed" in place or occ["hides_fraction"] <= MAX_HIDDEN

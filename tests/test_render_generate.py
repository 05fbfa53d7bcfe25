"""A complete clothed sample: consistent passes, garments in front of the body, detail, joints, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from render_helpers import anny_ready  # noqa: F401  (session fixture)

from humandepth.data.geometry import angular_error_deg, normals_from_depth


@pytest.fixture(scope="module")
def samples(anny_ready):  # noqa: F811
    from humandepth.render.generate import GeneratorConfig, generate_sample

    cfg = GeneratorConfig(resolution=192, outfit=("longsleeve", "trousers"))
    return [generate_sample(i, 7, cfg) for i in range(2)], cfg


def test_passes_are_consistent(samples):
    for s in samples[0]:
        s.validate()
        m = s.mask
        assert 0.03 < m.mean() < 0.6
        assert np.array_equal(m, s.depth > 0)
        n = np.linalg.norm(s.normal, axis=-1)
        np.testing.assert_allclose(n[m], 1.0, atol=1e-5)
        assert (n[~m] == 0).all()
        assert ((s.normal * s.camera.rays()).sum(-1)[m] < 0).all()  # facing the camera
        assert np.array_equal(s.parts > 0, m)  # every label lies inside the mask, every mask pixel labelled
        assert s.parts.max() <= 14


def test_rendered_normals_agree_with_normals_of_the_depth_on_smooth_interior_pixels(samples):
    for s in samples[0]:
        nd = normals_from_depth(s.depth, s.camera.K, s.mask, max_jump=0.01)
        ok = (np.linalg.norm(nd, axis=-1) > 0) & s.mask
        # smooth interior: away from the silhouette and from depth steps (a 5x5 neighbourhood all valid)
        from scipy.ndimage import binary_erosion

        interior = binary_erosion(ok, np.ones((5, 5), bool))
        err = angular_error_deg(nd[interior], s.normal[interior])
        assert interior.sum() > 0.1 * s.mask.sum()
        assert np.median(err) < 6.0


def test_garments_cover_the_body_and_carry_millimetre_detail(samples):
    from scipy.ndimage import binary_erosion

    for s in samples[0]:
        m = s.mask
        body = s.body_depth
        in_front = m & (body > 0) & (s.depth < body - 0.002)
        assert in_front.sum() > 0.3 * m.sum()  # clothing adds geometry over most of the person
        assert (s.depth[m & (body > 0)] <= body[m & (body > 0)] + 1e-4).all()  # never behind the skin
        inner = binary_erosion(m, np.ones((9, 9), bool))
        spread = np.percentile(s.depth_detail[inner], 95) - np.percentile(s.depth_detail[inner], 5)
        assert 0.001 < spread < 0.05
        np.testing.assert_allclose(s.depth_base[m] + s.depth_detail[m], s.depth[m], atol=1e-6)


def test_joints_project_and_meta_is_complete(samples):
    for s in samples[0]:
        np.testing.assert_allclose(s.camera.project(s.joints3d.astype(np.float64)), s.joints2d, atol=1e-3)
        assert (s.joints3d[:, 2] > 0).all()
        meta = s.meta
        assert meta["renderer"]["gl_renderer"] and meta["renderer"]["anti_aliasing"] is False
        assert meta["seed"] == 7 and meta["outfit"] == "trousers+longsleeve"
        assert meta["assets"] and all("license" in a for a in meta["assets"])
        assert 24 <= meta["camera_sampling"]["focal_mm_full_frame"] <= 85


def test_same_seed_gives_identical_arrays(samples):
    from humandepth.render.generate import generate_sample

    again = generate_sample(1, 7, samples[1])
    first = samples[0][1]
    for name in first.present_fields():
        assert np.array_equal(getattr(first, name), getattr(again, name)), name
    assert first.camera == again.camera


def test_tang2019_crop_is_tight_and_centred(anny_ready):  # noqa: F811
    from humandepth.render.generate import GeneratorConfig, generate_sample

    s = generate_sample(0, 1, GeneratorConfig(crop="tang2019", outfit=("tshirt", "shorts")))
    rows, cols = np.nonzero(s.mask)
    assert s.rgb.shape == (256, 256, 3)
    extent = max(rows.max() - rows.min(), cols.max() - cols.min()) + 1
    assert 0.74 * 256 < extent <= 256
    centre = ((rows.max() + rows.min()) / 2, (cols.max() + cols.min()) / 2)
    assert abs(centre[0] - 127.5) < 4 and abs(centre[1] - 127.5) < 4


def test_an_occluder_hides_part_of_the_person_and_the_rest_stays_exact(anny_ready):  # noqa: F811
    """The same person and camera with and without an occluder in front: the ground truth keeps only the
    person's visible pixels, with the very same depth there."""
    from humandepth.render.generate import GeneratorConfig, generate_sample

    hidden = 0
    for index in range(4):
        a = generate_sample(index, 3, GeneratorConfig(resolution=96, occluder_prob=0.0, cut_prob=0.0))
        b = generate_sample(index, 3, GeneratorConfig(resolution=96, occluder_prob=1.0, cut_prob=0.0))
        assert "occluder" in b.meta["place"] and "occluder" not in a.meta["place"]
        assert not (b.mask & ~a.mask).any()
        assert np.array_equal(a.depth[b.mask], b.depth[b.mask]) and np.array_equal(b.mask, b.depth > 0)
        assert np.array_equal(b.parts > 0, b.mask) and (b.body_depth[~b.mask] == 0).all()
        hidden += int((a.mask & ~b.mask).sum())
    assert hidden > 0


def test_photographic_meta_records_place_light_camera_and_licences(samples):
    s = samples[0][0]
    meta = s.meta
    assert meta["place_kind"] in ("room", "outdoor", "studio")
    assert {"environment", "sh", "key", "exposure_ev", "white_balance"} <= set(meta["lighting"])
    assert {"shot_noise", "read_noise", "jpeg_quality", "vignetting", "chromatic_aberration"} <= set(meta["camera_fx"])
    ids = {a["id"] for a in meta["assets"]}
    assert {"anny-0.6.2", "humandepth-procedural-places", "makehuman-face-masks"} <= ids
    assert meta["person"]["hair"]["style"] in ("none", "buzz", "short", "curly", "long", "ponytail", "bun")
    assert s.rgb.std() > 10  # a picture, not a flat colour

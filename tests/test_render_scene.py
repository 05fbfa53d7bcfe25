"""Camera sampling, lights and backgrounds (no body model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from humandepth.render.appearance import list_background_images, sample_background, sample_lights
from humandepth.render.generate import GeneratorConfig, sample_camera


def _person_points(rng):
    """A person-sized box surface sampled on a grid, each point 3 times (the sampler uses every third)."""
    g = np.stack(np.meshgrid(np.linspace(-0.2, 0.2, 9), np.linspace(0, 1.75, 30), np.linspace(-0.12, 0.12, 7),
                             indexing="ij"), -1).reshape(-1, 3)
    g += rng.normal(size=3) * 0.02
    return np.repeat(g, 3, axis=0)


@pytest.mark.parametrize("seed", range(5))
def test_camera_fills_the_sampled_fraction_and_sees_everything(seed):
    rng = np.random.default_rng(seed)
    pts = _person_points(rng)
    cfg = GeneratorConfig(resolution=200)
    cam, params = sample_camera(np.random.default_rng(seed + 100), pts, cfg)
    pc = pts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3]
    assert (pc[:, 2] > 0).all()
    uv = cam.project(pc)
    extent = float(np.max(uv.max(0) - uv.min(0)))
    assert abs(extent / 200 - params["fill"]) < 0.03
    assert (uv >= -0.5).all() and (uv <= 199.5).all()
    assert 24 <= params["focal_mm_full_frame"] <= 85 and -10 <= params["elevation_deg"] <= 30
    np.testing.assert_allclose(cam.fx, params["focal_mm_full_frame"] / 36 * 200, rtol=1e-4)


def test_tang2019_crop_centres_the_person_exactly():
    pts = _person_points(np.random.default_rng(0))
    cam, _ = sample_camera(np.random.default_rng(1), pts, GeneratorConfig(crop="tang2019"))
    uv = cam.project(pts @ cam.cam_from_world[:3, :3].T + cam.cam_from_world[:3, 3])
    np.testing.assert_allclose((uv.max(0) + uv.min(0)) / 2, [127.5, 127.5], atol=1e-6)
    assert 0.85 * 256 - 1 <= np.max(uv.max(0) - uv.min(0)) <= 0.95 * 256 + 1


def test_lights_and_procedural_backgrounds():
    rng = np.random.default_rng(3)
    kinds = set()
    for _ in range(30):
        lights = sample_lights(rng, np.array([0, 1, 0.0]))
        assert lights[0]["type"] == "ambient" and any(li["type"] == "directional" for li in lights)
        for li in lights:
            assert 0 < li["intensity"] and len(li["color"]) == 3
        img, params = sample_background(rng, 48, 64)
        assert img.shape == (48, 64, 3) and img.dtype == np.uint8
        kinds.add(params["kind"])
    assert kinds == {"solid", "gradient", "texture"}


def test_background_images_from_a_folder(tmp_path):
    Image.fromarray(np.full((30, 40, 3), [10, 200, 30], np.uint8)).save(tmp_path / "green.png")
    images = list_background_images(tmp_path)
    rng = np.random.default_rng(0)
    got = [sample_background(rng, 64, 64, images) for _ in range(20)]
    from_image = [img for img, p in got if p["kind"] == "image"]
    assert from_image and all(p["image"] == "green.png" for _, p in got if p["kind"] == "image")
    assert (np.abs(from_image[0].astype(int) - [10, 200, 30]) <= 1).all()
    with pytest.raises(FileNotFoundError, match="no .png"):
        list_background_images(tmp_path / "sub") if (tmp_path / "sub").mkdir() is None else None

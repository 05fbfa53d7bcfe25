"""The tang2019 reader's ground-truth validity rule on fixtures made the way the authors' resize makes them.

A person at 2.4-2.6 m (a curved torso, a head, an arm 20 cm in front of the torso that crosses its
silhouette, a 2-px gap in the surface) is drawn at 515x515 and brought to 224x224 with bilinear interpolation
(OpenCV's INTER_LINEAR rule), so every pixel whose interpolation footprint reaches the zero background is a
weighted mean ``w * d`` of the person's depth and 0: exactly what the released depth maps hold.  Resizing the
person's indicator the same way gives each pixel's weight ``w``, hence which pixels are blends and by how much.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import minimum_filter

from humandepth.benchmark import run_benchmark
from humandepth.data import PredictionsWriter, open_dataset
from humandepth.data.formats.tang2019 import BLEND_TOLERANCE_M, resize_blend_pixels, resize_nearest

SRC = 515  # 515 -> 224: a non-integer factor, so the blend weights take many values


def resize_bilinear(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """OpenCV INTER_LINEAR: source coordinate (dst + 0.5) * src / dst - 0.5, clamped; 2x2 weights; float64."""
    def axis(n_dst, n_src):
        s = np.clip((np.arange(n_dst) + 0.5) * n_src / n_dst - 0.5, 0, n_src - 1)
        i0 = np.minimum(np.floor(s).astype(int), n_src - 2)
        return i0, s - i0

    (r0, fr), (c0, fc) = axis(h, a.shape[0]), axis(w, a.shape[1])
    a = np.asarray(a, np.float64)
    top = a[r0][:, c0] * (1 - fc) + a[r0][:, c0 + 1] * fc
    bottom = a[r0 + 1][:, c0] * (1 - fc) + a[r0 + 1][:, c0 + 1] * fc
    return top * (1 - fr[:, None]) + bottom * fr[:, None]


def person_scene(n: int = SRC):
    """depth (n, n) float64 metres (0 = background), arm and torso (n, n) bool: torso, head, arm in front, a gap."""
    y, x = np.mgrid[0:n, 0:n] / n
    depth = np.zeros((n, n))
    q = ((x - 0.5) / 0.22) ** 2 + ((y - 0.55) / 0.4) ** 2
    torso = q < 1
    depth[torso] = 2.6 - 0.12 * np.sqrt(1 - q[torso])  # a convex front, nearest at its centre
    depth[((x - 0.5) / 0.09) ** 2 + ((y - 0.1) / 0.09) ** 2 < 1] = 2.55
    arm = (np.abs(y - 0.45 - 0.3 * (x - 0.3)) < 0.045) & (x > 0.2) & (x < 0.85)  # crosses both torso edges
    depth[arm] = np.where(torso, depth, 2.6)[arm] - 0.2  # 20 cm in front of the torso
    depth[(np.abs(x - 0.62) < 0.004) & (np.abs(y - 0.75) < 0.1)] = 0.0  # a thin hole in the fused surface
    return depth, arm, torso


@pytest.fixture(scope="module")
def resized():
    """The scene at 224x224 as the authors' resize makes it, with each pixel's person weight and blend error."""
    depth, arm, torso = person_scene()
    out = resize_bilinear(depth, 224, 224)
    weight = resize_bilinear(depth > 0, 224, 224)  # the share of the person in each pixel's footprint
    unblended = np.where(weight > 0, out / np.maximum(weight, 1e-12), 0.0)  # the person's own depth there
    arm_px = resize_bilinear(arm, 224, 224) >= 1 - 1e-9
    off_torso = resize_bilinear(torso, 224, 224) <= 1e-9
    return {"depth": out.astype(np.float32), "weight": weight, "error": unblended - out, "arm": arm_px,
            "off_torso": off_torso}


def test_blends_removed_and_real_surface_kept(resized):
    d, w, err = resized["depth"], resized["weight"], resized["error"]
    fg = d > 1e-3
    blend = resize_blend_pixels(d)
    pure = fg & (w >= 1 - 1e-9)  # footprint entirely on the person: real surface (steps between surfaces too)
    assert (fg & ~pure).sum() > 300  # the fixture really has blends, all around the silhouette and the gap
    assert not (blend & pure).any()  # no real surface pixel is removed
    assert blend[fg & (err > 2 * BLEND_TOLERANCE_M)].all()  # every blend off by more than 10 cm is removed
    assert err[fg & ~blend].max() < 1.5 * BLEND_TOLERANCE_M  # what is kept is within ~tolerance of the surface
    assert (blend & (err > 0.5)).sum() > 100  # e.g. pixels at ~1.1-2 m on a person at 2.6 m


def test_arm_in_front_step_survives(resized):
    d, arm = resized["depth"], resized["arm"]
    blend = resize_blend_pixels(d)
    torso_next_to_arm = (d > 2.5) & np.roll(arm, 3, axis=0)  # torso pixels 3 rows below the arm
    assert torso_next_to_arm.sum() > 50 and arm.sum() > 1000
    assert (d[torso_next_to_arm].mean() - d[arm].mean()) > 0.15  # a real ~20 cm step
    assert not blend[arm].any()
    # the arm beyond the torso, up to its own silhouette pixels that touch the background, is kept
    beyond = arm & resized["off_torso"]
    touching = beyond & (minimum_filter(d, size=3) <= 1e-3)
    assert beyond.sum() > 200 and touching.sum() > 20
    assert not blend[beyond].any()
    # a hand-made frame: a 4-px arm 20 cm in front of a torso at 2.6 m, touching the background on its left
    f = np.zeros((12, 12), np.float32)
    f[2:10, 3:10] = 2.6
    f[4:8, 1:6] = 2.4
    assert not resize_blend_pixels(f).any()


def test_single_blended_pixel_between_torso_and_background():
    f = np.zeros((10, 10), np.float32)
    f[2:8, 4:9] = 2.6
    f[5, 3] = 1.1  # half person, half background: its neighbours are the torso edge and the background
    f[3, 6] = 0.66  # a hole of the surface blended into one pixel, inside the person
    blend = resize_blend_pixels(f)
    assert blend[5, 3] and blend[3, 6] and blend.sum() == 2


def write_tang2019(root, depths: dict) -> None:
    """The authors' layout: NNNN_img_resize.jpg (256x256) and NNNN_depth.npy (224x224 float32 m, 0 bg)."""
    root.mkdir(parents=True, exist_ok=True)
    for sid, d in depths.items():
        Image.fromarray(np.full((256, 256, 3), 120, np.uint8)).save(root / f"{sid}_img_resize.jpg")
        np.save(root / f"{sid}_depth.npy", d.astype(np.float32))


def test_loader_gives_blends_no_value_and_keeps_the_silhouette(resized, tmp_path):
    d = resized["depth"]
    write_tang2019(tmp_path / "t", {"0000": d})
    s = open_dataset(tmp_path / "t").get("0000")
    blend = resize_nearest(resize_blend_pixels(d), 256, 256)
    np.testing.assert_array_equal(s.mask, resize_nearest(d > 1e-3, 256, 256))  # the person keeps its outline
    np.testing.assert_array_equal(s.depth == 0, ~s.mask | blend)
    np.testing.assert_array_equal(s.depth[~blend], resize_nearest(d, 256, 256)[~blend] * s.mask[~blend])
    assert s.meta["gt_removed_px"] == int(blend.sum()) == int((s.mask & (s.depth == 0)).sum()) > 0
    assert s.meta["gt_mask_px"] == int(s.mask.sum()) and "resize-blend" in s.meta["gt_validity"]


def test_benchmark_reports_the_evaluated_fraction(resized, tmp_path):
    d = resized["depth"]
    write_tang2019(tmp_path / "t", {"0000": d, "0001": np.where(d > 0, d + np.float32(0.1), 0)})
    ds = open_dataset(tmp_path / "t")
    with PredictionsWriter(tmp_path / "plane.h5", method="plane", depth_kind="relative") as w:
        for sid in ds.ids:
            w.add(sid, np.full((256, 256), 2.0, np.float32))
    summary = run_benchmark(ds, tmp_path / "plane.h5", ["tang2019"], tmp_path / "run", progress=False)
    samples = [ds.get(i) for i in ds.ids]
    mask_px = sum(int(s.mask.sum()) for s in samples)
    removed = sum(s.meta["gt_removed_px"] for s in samples)
    info = summary["dataset"]
    assert (info["mask_px"], info["evaluated_px"]) == (mask_px, mask_px - removed)
    assert info["evaluated_fraction"] == pytest.approx(1 - removed / mask_px) and info["evaluated_fraction"] < 0.99
    assert info["gt_validity"] == ds.gt_validity
    # the plane's error is measured on the valid pixels only: median shift, then mean |error|
    g = samples[0].depth[samples[0].depth > 0].astype(np.float64)
    expected = 100 * np.mean(np.abs(g - np.median(g)))
    per_sample = (tmp_path / "run" / "per_sample.csv").read_text().splitlines()
    assert "gt.evaluated_px" in per_sample[0]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["dataset"]["evaluated_px"] == mask_px - removed
    import pandas as pd

    row = pd.read_csv(tmp_path / "run" / "per_sample.csv", dtype={"id": str}).set_index("id").loc["0000"]
    assert row["tang2019.mae_cm"] == pytest.approx(expected, rel=1e-9)
    assert f"{100 * info['evaluated_fraction']:.1f} % of the person-mask pixels" in \
        (tmp_path / "run" / "leaderboard.md").read_text()

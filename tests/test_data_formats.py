import json

import numpy as np
import pytest
from data_helpers import plane_sample
from PIL import Image

from humandepth.data import open_dataset, write_samples
from humandepth.data.export import export_folder
from humandepth.data.formats.tang2019 import Tang2019Dataset, resize_nearest
from humandepth.data.images import read_depth_png, write_depth_exr


def write_tang2019_fixture(root, n=3, missing_depth=(1,)):
    """The authors' layout: NNNN_img_resize.jpg (256x256) and NNNN_depth.npy (224x224 float32 m, 0 bg)."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    depths = {}
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (256, 256, 3), dtype=np.uint8)).save(root / f"{i:04d}_img_resize.jpg")
        if i in missing_depth:
            continue
        d = np.zeros((224, 224), np.float32)
        d[40:200, 70:150] = 2.0 + 0.001 * np.arange(80)[None, :] + 0.1 * i
        np.save(root / f"{i:04d}_depth.npy", d)
        depths[f"{i:04d}"] = d
    return depths


def test_tang2019_loader(tmp_path):
    depths = write_tang2019_fixture(tmp_path / "t")
    ds = open_dataset(tmp_path / "t")
    assert isinstance(ds, Tang2019Dataset) and ds.ids == ["0000", "0002"]  # 0001 has no depth file
    s = ds.get("0002")
    assert s.rgb.shape == (256, 256, 3) and s.depth.shape == (256, 256) and s.camera is None
    # nearest neighbour with the floor(dst * 224 / 256) rule
    assert s.depth[100, 100] == depths["0002"][100 * 224 // 256, 100 * 224 // 256]
    np.testing.assert_array_equal(s.mask, s.depth > 1e-3)
    assert s.mask.sum() == (resize_nearest(depths["0002"], 256, 256) > 1e-3).sum()
    assert len(ds.checksum()) == 64


def test_tang2019_bad_files(tmp_path):
    write_tang2019_fixture(tmp_path / "t", n=1, missing_depth=())
    np.save(tmp_path / "t" / "0000_depth.npy", np.zeros((5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="0000_depth.npy"):
        open_dataset(tmp_path / "t")[0]
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "0000_img_resize.jpg").write_bytes(b"x")
    with pytest.raises(ValueError, match="no tang2019 sample"):
        Tang2019Dataset(tmp_path / "e")


def test_export_and_folder_round_trip(tmp_path):
    src = open_dataset(write_samples(tmp_path / "ds", [plane_sample(i) for i in range(3)], name="planes"))
    out = export_folder(src, tmp_path / "folder", progress=False)
    files = sorted(p.name for p in (out / "s001").iterdir())
    assert files == sorted(["rgb.png", "depth.png", "depth.npy", "mask.png", "normal.npy", "depth_base.npy",
                            "depth_detail.npy", "body_depth.npy", "parts.png", "camera.json", "meta.json"])
    depth_png = np.asarray(Image.open(out / "s001" / "depth.png"))
    assert depth_png.dtype == np.uint16 and depth_png[12, 16] == 2100  # 2.1 m in millimetres
    back = open_dataset(out)
    assert back.format == "folder" and back.ids == src.ids and back.name == "planes"
    for sid in src.ids:
        a, b = src.get(sid), back.get(sid)
        for name in a.present_fields():
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), err_msg=name)
        assert b.camera == a.camera


def test_folder_depth_variants(tmp_path):
    s = plane_sample(0, with_optional=False)
    for kind in ("png", "exr"):
        d = tmp_path / kind / "a"
        d.mkdir(parents=True)
        Image.fromarray(s.rgb).save(d / "rgb.jpg")
        if kind == "png":
            Image.fromarray(np.round(s.depth * 1000).astype(np.uint16)).save(d / "depth.png")
        else:
            write_depth_exr(d / "depth.exr", s.depth)
        got = open_dataset(tmp_path / kind)[0]
        np.testing.assert_allclose(got.depth, s.depth, atol=5e-4 if kind == "png" else 0)
        np.testing.assert_array_equal(got.mask, s.depth > 0)  # no mask file: depth > 0
    flat = tmp_path / "flat"
    flat.mkdir()
    Image.fromarray(s.rgb).save(flat / "x7_rgb.png")
    np.save(flat / "x7_depth.npy", s.depth)
    (flat / "x7_camera.json").write_text(json.dumps(s.camera.to_dict()))
    got = open_dataset(flat).get("x7")
    assert got.camera == s.camera and np.array_equal(got.depth, s.depth)


def test_folder_errors_name_the_file(tmp_path):
    d = tmp_path / "f" / "a"
    d.mkdir(parents=True)
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(d / "rgb.png")
    with pytest.raises(FileNotFoundError, match="no depth file"):
        open_dataset(tmp_path / "f")[0]
    np.save(d / "depth.npy", np.ones((4, 4), np.float32))
    with pytest.raises(ValueError, match="differ in size"):
        open_dataset(tmp_path / "f")[0]
    (d / "depth.npy").unlink()
    (d / "depth.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="depth.png"):
        open_dataset(tmp_path / "f")[0]


def test_depth_png_is_millimetres(tmp_path):
    Image.fromarray(np.array([[0, 1500]], np.uint16)).save(tmp_path / "d.png")
    np.testing.assert_array_equal(read_depth_png(tmp_path / "d.png"), np.array([[0, 1.5]], np.float32))

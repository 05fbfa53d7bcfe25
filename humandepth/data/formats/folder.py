"""The ``folder`` format: plain image files, one folder per sample (what ``humandepth data export`` writes).

Per sample, either a sub-folder ``DIR/<id>/`` holding ``NAME.ext`` files, or flat files ``DIR/<id>_NAME.ext``:

============  =====================================================================================
``rgb``       ``.png`` / ``.jpg`` / ``.jpeg`` (required)
``depth``     ``.npy`` float metres, else ``.exr`` (first of Z/Y/R) metres, else ``.png`` uint16 millimetres
              (required; the first that exists is read; 0 = no value)
``mask``      ``.png`` (non-zero = person); absent: ``depth > 0``
``normal``    ``.npy`` float32 (H, W, 3), OpenCV camera frame, facing the camera
``parts``     ``.png`` 8-bit labels 0..14
``depth_base`` / ``depth_detail`` / ``body_depth``  ``.npy`` float metres
``camera``    ``.json``: ``{"K": 3x3, "width": W, "height": H, "cam_from_world": 4x4}``
``meta``      ``.json``: ``{"meta": {...}, "joints2d": 16x2, "joints3d": 16x3}`` (optional)
============  =====================================================================================

A ``folder.json`` at the top (optional) names the dataset and its kind.  The dataset checksum is the
sha256 over every file that is read.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from humandepth.data.camera import Camera
from humandepth.data.dataset_base import DepthDataset
from humandepth.data.images import read_depth_exr, read_depth_png, read_mask, read_npy, read_rgb
from humandepth.data.sample import Sample
from humandepth.data.store import sha256_file

INFO_NAME = "folder.json"
RGB_EXTS = (".png", ".jpg", ".jpeg")
NPY_FIELDS = ("normal", "depth_base", "depth_detail", "body_depth")
_FLAT_RGB = re.compile(r"^(.+)_rgb\.(png|jpe?g)$", re.IGNORECASE)


def looks_like_folder_dataset(path) -> bool:
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / INFO_NAME).is_file():
        return True
    return any(_FLAT_RGB.match(p.name) for p in path.iterdir()) or any(
        p.is_dir() and any((p / f"rgb{e}").is_file() for e in RGB_EXTS) for p in path.iterdir()
    )


class FolderDataset(DepthDataset):
    format = "folder"

    def __init__(self, root, name: str | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"folder dataset not found: {self.root}")
        info = {}
        if (self.root / INFO_NAME).is_file():
            try:
                info = json.loads((self.root / INFO_NAME).read_text())
            except json.JSONDecodeError as e:
                raise ValueError(f"{self.root / INFO_NAME} is not valid JSON: {e}") from None
        self.info = info
        self.name = name or info.get("name") or self.root.name
        self.kind = info.get("kind", "external")
        self._files: dict[str, Callable] = {}
        for p in sorted(self.root.iterdir()):
            if p.is_dir() and any((p / f"rgb{e}").is_file() for e in RGB_EXTS):
                self._files[p.name] = lambda stem, exts, d=p: _first(d, [f"{stem}{e}" for e in exts])
            else:
                m = _FLAT_RGB.match(p.name)
                if m:
                    sid = m.group(1)
                    self._files[sid] = lambda stem, exts, s=sid: _first(self.root, [f"{s}_{stem}{e}" for e in exts])
        if not self._files:
            raise ValueError(f"{self.root} holds no sample: expected <id>/rgb.png folders or <id>_rgb.png files")
        self._ids = sorted(self._files)

    @property
    def ids(self) -> list[str]:
        return self._ids

    def _paths(self, sample_id: str) -> dict[str, Path]:
        find = self._files[sample_id]
        paths = {"rgb": find("rgb", RGB_EXTS), "depth": find("depth", (".npy", ".exr", ".png"))}
        if paths["depth"] is None:
            raise FileNotFoundError(f"folder dataset {self.root}: sample {sample_id!r} has no depth file "
                                    f"(depth.npy, depth.exr or depth.png)")
        for stem, exts in (("mask", (".png",)), ("parts", (".png",)), ("camera", (".json",)), ("meta", (".json",))):
            paths[stem] = find(stem, exts)
        for stem in NPY_FIELDS:
            paths[stem] = find(stem, (".npy",))
        return {k: v for k, v in paths.items() if v is not None}

    def get(self, sample_id: str, fields=None) -> Sample:
        if sample_id not in self._files:
            raise KeyError(f"dataset {self.name!r} has no sample {sample_id!r}")
        paths = self._paths(sample_id)
        rgb = read_rgb(paths["rgb"])
        dp = paths["depth"]
        if dp.suffix == ".npy":
            depth = read_npy(dp, "depth")
        elif dp.suffix == ".exr":
            depth = read_depth_exr(dp)
        else:
            depth = read_depth_png(dp)
        if depth.ndim != 2:
            raise ValueError(f"{dp}: depth must be 2-D (H, W), got shape {depth.shape}")
        if depth.shape != rgb.shape[:2]:
            raise ValueError(f"sample {sample_id!r}: depth {depth.shape} and rgb {rgb.shape[:2]} differ in size ({dp})")
        depth = np.where(np.isfinite(depth), depth, 0.0).astype(np.float32)
        mask = read_mask(paths["mask"]) if "mask" in paths else depth > 0
        kw = {}
        for stem in NPY_FIELDS:
            if stem in paths:
                kw[stem] = read_npy(paths[stem], stem).astype(np.float32)
        if "parts" in paths:
            kw["parts"] = np.asarray(Image.open(paths["parts"]), dtype=np.uint8)
        meta = {"source": "folder"}
        if "meta" in paths:
            extra = _read_json(paths["meta"])
            meta.update(extra.get("meta", {}))
            for j in ("joints2d", "joints3d"):
                if extra.get(j) is not None:
                    kw[j] = np.asarray(extra[j], np.float32)
        camera = Camera.from_dict(_read_json(paths["camera"])) if "camera" in paths else None
        sample = Sample(id=sample_id, rgb=rgb, depth=depth, mask=mask, camera=camera, meta=meta, **kw)
        try:
            sample.validate()
        except ValueError as e:
            raise ValueError(f"folder dataset {self.root}: {e}") from None
        return sample

    def checksum(self) -> str:
        h = hashlib.sha256()
        for sid in self._ids:
            for key, p in sorted(self._paths(sid).items()):
                h.update(f"{sid}/{key}:{sha256_file(p)}\n".encode())
        return h.hexdigest()


def _first(directory: Path, names: list[str]) -> Path | None:
    for n in names:
        p = directory / n
        if p.is_file():
            return p
    return None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


"""Export any dataset to the ``folder`` format (:mod:`humandepth.data.formats.folder`)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

from humandepth.data.conventions import CONVENTIONS
from humandepth.data.images import write_depth_png, write_mask, write_rgb
from humandepth.data.sample import Sample


def export_sample(sample: Sample, out_dir) -> Path:
    """Write one sample as ``out_dir/<id>/``: rgb.png, depth.png (uint16 mm), depth.npy (float32 m),
    mask.png, normal.npy, the other present arrays, camera.json and meta.json.  Written to a
    temporary folder and renamed, so a folder that exists is complete."""
    final = Path(out_dir) / sample.id
    tmp = Path(out_dir) / f".{sample.id}.partial"
    tmp.mkdir(parents=True, exist_ok=True)
    write_rgb(tmp / "rgb.png", sample.rgb)
    write_depth_png(tmp / "depth.png", sample.depth)
    np.save(tmp / "depth.npy", sample.depth.astype(np.float32))
    write_mask(tmp / "mask.png", sample.mask)
    for name in ("normal", "depth_base", "depth_detail", "body_depth"):
        arr = getattr(sample, name)
        if arr is not None:
            np.save(tmp / f"{name}.npy", arr.astype(np.float32))
    if sample.parts is not None:
        Image.fromarray(sample.parts.astype(np.uint8), "L").save(tmp / "parts.png")
    if sample.camera is not None:
        (tmp / "camera.json").write_text(json.dumps(sample.camera.to_dict(), indent=1))
    meta = {"meta": sample.meta}
    for j in ("joints2d", "joints3d"):
        arr = getattr(sample, j)
        if arr is not None:
            meta[j] = arr.tolist()
    (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
    if final.exists():
        for p in final.iterdir():
            p.unlink()
        final.rmdir()
    os.replace(tmp, final)
    return final


def export_folder(dataset, out_dir, progress: bool = True) -> Path:
    """Export every sample of ``dataset`` (any :class:`DepthDataset`) to ``out_dir`` in the folder format."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    info = {"format": "folder", "name": dataset.name, "kind": dataset.kind, "source_checksum": dataset.checksum(),
            "conventions": CONVENTIONS, "depth_png": "uint16 millimetres, 0 = no value", "count": len(dataset)}
    t0 = time.perf_counter()
    n = len(dataset)
    for i, sample in enumerate(dataset):
        export_sample(sample, out)
        if progress and (i + 1 == n or (i + 1) % 50 == 0):
            rate = (i + 1) / max(time.perf_counter() - t0, 1e-9)
            print(f"export: {i + 1}/{n} samples ({rate:.1f}/s)", file=sys.stderr)
    (out / "folder.json").write_text(json.dumps(info, indent=1))
    return out

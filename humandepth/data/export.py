"""Export any dataset to the ``folder`` format (:mod:`humandepth.data.formats.folder`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from humandepth.data.conventions import CONVENTIONS
from humandepth.data.formats.folder import INFO_NAME
from humandepth.data.images import write_depth_png, write_mask, write_rgb
from humandepth.data.sample import Sample
from humandepth.outdir import OutputKind, check_out_whole, staged
from humandepth.progress import Progress

# an export holds folder.json (written last: its presence means complete) and one folder per sample (named by the
# sample's id, holding rgb.png); anything else there is someone else's and is never replaced
EXPORT_OUTPUT = OutputKind("folder export", INFO_NAME, (".*.partial",), folders_with="rgb.png")


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


def check_export_out(out_dir, overwrite: bool = False) -> None:
    """Refuse, before any work, an ``out_dir`` that is a file, or holds files (an export or not) without
    ``overwrite`` (:func:`humandepth.outdir.check_out_whole`)."""
    check_out_whole(out_dir, EXPORT_OUTPUT, overwrite)


def export_folder(dataset, out_dir, progress: bool = True, overwrite: bool = False) -> Path:
    """Export every sample of ``dataset`` (any :class:`DepthDataset`) to ``out_dir`` in the folder format.

    The export is written beside ``out_dir`` and moved there when every sample is written (``folder.json``
    last), so an export that fails (a damaged sample) or is interrupted leaves nothing under ``out_dir``; a
    finished export there is replaced only with ``overwrite`` (:func:`humandepth.outdir.staged`)."""
    out = Path(out_dir)
    info = {"format": "folder", "name": dataset.name, "kind": dataset.kind, "source_checksum": dataset.checksum(),
            "conventions": CONVENTIONS, "depth_png": "uint16 millimetres, 0 = no value", "count": len(dataset)}
    bar = Progress("export", len(dataset), enabled=progress, every_s=2.0)
    with staged(out, EXPORT_OUTPUT, overwrite) as tmp:
        for sample in dataset:
            export_sample(sample, tmp)
            bar.update(1)
        (tmp / INFO_NAME).write_text(json.dumps(info, indent=1))
    return out

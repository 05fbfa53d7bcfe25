"""Write a fusion result: a humandepth dataset of kind ``fused``, the meshes and ``fusion_report.json``.

Layout of ``--out DATASET``::

    dataset.json, index.csv, shards/   the dataset (one sample per used RGB frame, id = frame id):
                                       rgb (the colour frame), depth (fused, planar z in the colour
                                       camera, metres; 0 off the person and on person pixels the fusion
                                       does not support), mask (the person's silhouette), normal (camera
                                       frame, facing the camera, where depth has a value), depth_base / depth_detail
                                       (humandepth.data.split_base_detail), camera (colour K and the
                                       frame's cam_from_world in the fusion's world frame), meta
    fused_mesh.ply                     the whole fused surface (world metres, vertex colours)
    person_mesh.ply                    the person alone
    fusion_report.json                 frames read / used / rejected with reasons, poses, residuals,
                                       coverage, and gt_mae_mm when the input has truth

``--out`` may also be an object-storage URL (``s3://bucket/path``): the dataset goes through
:class:`humandepth.data.remote.RemoteDatasetWriter` and the three side files are uploaded before the card.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from humandepth.fuse.fusion import FusionResult
from humandepth.fuse.surface import write_ply

REPORT_NAME = "fusion_report.json"
MESH_NAME = "fused_mesh.ply"
PERSON_MESH_NAME = "person_mesh.ply"
SIDE_FILES = (REPORT_NAME, MESH_NAME, PERSON_MESH_NAME, f".{REPORT_NAME}.partial")  # beside the dataset


def check_out(out, overwrite: bool):
    """Refuse early (before any work) a ``--out`` that is a file, holds other files, or holds a finished dataset
    without ``overwrite`` (:func:`humandepth.outdir.check_out`).  Returns ``out`` as a Path, or as the URL string
    for object storage (whose writer refuses a finished dataset itself)."""
    from humandepth.data.remote import is_remote

    if is_remote(out):
        return str(out).rstrip("/")
    from humandepth.data.store import DATASET_OUTPUT
    from humandepth.outdir import check_out as check_out_dir

    out = Path(out)
    check_out_dir(out, DATASET_OUTPUT.with_entries(*SIDE_FILES), overwrite)
    return out


def _json_default(o):
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, np.floating):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def write_result(result: FusionResult, seq, out, overwrite: bool = False, name: str | None = None,
                 shard_size: int = 32) -> dict:
    """Write ``result`` (from :func:`humandepth.fuse.fusion.fuse_sequence` on ``seq``) to ``out``.
    Returns a short summary (paths and counts)."""
    from humandepth.data.base_detail import DEFAULT_FILTER, split_base_detail
    from humandepth.data.remote import dataset_writer, is_remote, upload_file
    from humandepth.data.sample import Sample

    out = check_out(out, overwrite)
    remote = is_remote(out)
    if not result.frames:
        raise ValueError("fusion kept no frame in which the person is visible; nothing to write")
    by_id = {f.id: f for f in seq.frames}
    report = result.report
    generator = {"fuse": report["config"], "input": report["input"], "poses": report["poses"],
                 "report": REPORT_NAME, "gt_validity": report.get("gt_validity", ""),
                 "evaluated": report.get("evaluated")}
    with dataset_writer(out, name=name or str(out).rstrip("/").rsplit("/", 1)[-1], kind="fused", shard_size=shard_size,
                       generator=json.loads(json.dumps(generator, default=_json_default)),
                       license="as the input recording",
                       description="TSDF-fused ground truth (Open3D VoxelBlockGrid, mesh ray-cast per colour frame)",
                       base_detail_filter=DEFAULT_FILTER, overwrite=overwrite, side_files=SIDE_FILES) as writer:
        for ft in result.frames:
            if ft.id in writer.done_ids:
                continue
            r = ft.render
            valid = r.mask & r.person
            depth = np.where(valid, r.depth, 0).astype(np.float32)
            normal = np.where(valid[..., None], r.normal, 0).astype(np.float32)
            base, detail = split_base_detail(depth, valid, DEFAULT_FILTER)
            residual = report["residuals"].get(ft.id, {})
            meta = {"source": "fused", "frame_id": ft.id, "poses": report["config"]["poses"],
                    "residual_mean_abs_mm": residual.get("mean_abs_mm"),
                    "gt_removed_px": int(np.count_nonzero(r.person & ~valid)),
                    **{k: v for k, v in ft.meta.items() if k != "frame_id"}}
            writer.add(Sample(id=ft.id, rgb=by_id[ft.id].rgb, depth=depth, mask=r.person, normal=normal,
                              depth_base=base.astype(np.float32), depth_detail=detail.astype(np.float32),
                              camera=ft.camera, meta=json.loads(json.dumps(meta, default=_json_default))))
        # the side files go in before the writer closes, so that the card is the last thing to appear
        report = {**report, "output": {"dataset": str(out), "mesh": MESH_NAME, "person_mesh": PERSON_MESH_NAME,
                                       "samples": len(result.frames)}}
        with tempfile.TemporaryDirectory(prefix="humandepth-fuse-") as tmpdir:
            side = Path(tmpdir) if remote else Path(writer.root)  # beside the card (staged when replacing)
            _write_side_files(result, report, side)
            if remote:
                for file in (MESH_NAME, PERSON_MESH_NAME, REPORT_NAME):
                    upload_file(side / file, f"{out}/{file}")
    return {"dataset": str(out), "samples": len(result.frames), "report": f"{out}/{REPORT_NAME}"}


def _write_side_files(result: FusionResult, report: dict, directory: Path) -> None:
    """The two meshes and the report into ``directory`` (the report written atomically)."""
    s = result.surface
    write_ply(directory / MESH_NAME, s.verts, s.tris, s.colors)
    write_ply(directory / PERSON_MESH_NAME, *s.person_mesh())
    tmp = directory / f".{REPORT_NAME}.partial"
    tmp.write_text(json.dumps(report, indent=1, default=_json_default))
    os.replace(tmp, directory / REPORT_NAME)

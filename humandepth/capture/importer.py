"""``capture import``: play a take back and write a humandepth dataset of kind ``captured``.

Per depth frame (id ``frame-NNNNNN``, the same ids as a simulated take's truth): ``depth`` (float32
metres; in the colour camera with ``align="color"``, raw in the depth camera with ``align="none"``),
``rgb`` on the same pixel grid, ``mask`` (the coarse :func:`~humandepth.capture.mask.person_mask`),
``camera`` (that grid's K; ``cam_from_world`` is identity because the pose is unknown until fusion),
``meta`` (frame numbers, timestamps, timestamp domain, take, alignment, filters, mask method).
The card's ``generator`` records the recording's device, both intrinsics, the extrinsics, the depth
scale and the frame counts (expected from the file and delivered).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humandepth.capture.mask import check_mask_options, person_mask
from humandepth.capture.playback import ALIGN_MODES, Recording, build_filters
from humandepth.capture.take import frame_id, open_take
from humandepth.data.remote import is_remote
from humandepth.data.store import DATASET_OUTPUT
from humandepth.outdir import check_out


def import_take(take, out, align: str = "color", filters=(), box=None, depth_range=None, name: str | None = None,
                overwrite: bool = False, shard_size: int = 64, progress=None, compression: str = "none") -> dict:
    """Import every frame of ``take`` (a take directory or a recording file) into a dataset at ``out``.

    Returns a summary: frames written, counts expected from the file and delivered, unpaired depth
    frames, the dataset path.  Raises ``ValueError`` naming the file when frames are missing.  A
    rerun after an interruption resumes (frames already in finished shards are skipped).
    ``compression`` is the dataset's chunk compression (:data:`humandepth.data.store.COMPRESSIONS`);
    none by default: camera frames (sensor-noisy depth, photographic colour) shrink only ~30 % with lzf,
    which would halve the import speed (gzip: a quarter).  Playback and alignment run here, the mask and
    the HDF5 writing in a second process (:class:`~humandepth.data.writer_process.BackgroundDatasetWriter`).
    """
    from humandepth.data.camera import Camera
    from humandepth.data.sample import Sample
    from humandepth.data.writer_process import BackgroundDatasetWriter

    if align not in ALIGN_MODES:
        raise ValueError(f"--align must be one of {ALIGN_MODES}, got {align!r}")
    build_filters(filters)  # validate names before any work
    check_mask_options(box, depth_range)
    if not is_remote(out):
        check_out(out, DATASET_OUTPUT, overwrite)
    t = open_take(take)
    rec = Recording(t.recording)
    filters = [f for f in (filters or []) if f]
    if align == "color" or "decimation" not in filters:  # the grid the mask is computed on is known
        grid = rec.info.color if align == "color" else rec.info.depth
        check_mask_options(box, depth_range, (int(grid["width"]), int(grid["height"])))
    generator = {
        "take": str(Path(take).resolve()), "take_sidecar": t.sidecar, "recording": rec.info.to_dict(),
        "align": align, "filters": filters, "mask": {"box": list(box) if box else None,
                                                    "depth_range": list(depth_range) if depth_range else None},
    }
    writer_kwargs = dict(root=out, name=name or f"{t.name}-captured", kind="captured", shard_size=shard_size,
                         generator=generator, license="as the recording", base_detail_filter=None,
                         description=f"frames of {t.recording.name} played back by pyrealsense2 "
                                     f"(align={align}, filters={filters or 'none'})", overwrite=overwrite,
                         compression=compression)
    base_meta = {"source": "captured", "take": t.name, "recording": t.recording.name, "align": align,
                 "filters": filters, "depth_scale": rec.info.depth_scale, "pose_known": False}

    def make_sample(sid: str, arrays: dict, info: dict) -> Sample:
        """In the writer process: the coarse mask, then the sample (arrays copied out of the shared slot)."""
        depth = arrays["depth"].copy()
        mask, mask_info = person_mask(depth, box=box, depth_range=depth_range)
        h, w = depth.shape
        return Sample(id=sid, rgb=arrays["rgb"].copy(), depth=depth, mask=mask, camera=Camera(info["K"], w, h),
                      meta={**base_meta, "mask": mask_info, **info["meta"]})

    written = skipped = 0
    # playback + alignment here, mask + HDF5 writing in a second process: the two halves cost about the same
    with BackgroundDatasetWriter(writer_kwargs, make_sample) as writer:
        for pair in rec.frames(align=align, filters=filters):
            sid = frame_id(pair.index)
            if sid in writer.done_ids:
                skipped += 1
                continue
            writer.add(sid, {"depth": pair.depth.astype(np.float32, copy=False), "rgb": pair.rgb},
                       {"K": pair.K, "meta": pair.meta})
            written += 1
            if progress:
                progress(pair.index + 1)
        counts = rec.check_counts()
        total = written + skipped
        if t.sidecar and t.sidecar.get("frames") is not None and counts["delivered"]["depth"] != t.sidecar["frames"]:
            raise ValueError(f"take {t.root}: take.json records {t.sidecar['frames']} frames but {t.recording.name} "
                             f"played back {counts['delivered']['depth']}")
        if total == 0:
            raise ValueError(f"recording {t.recording} produced no depth frame paired with colour")
    return {"dataset": str(out), "frames": total, "written": written, "resumed_skipped": skipped, **counts}

"""Readers that turn fusion input into a :class:`~humandepth.fuse.frames.FrameSequence`.

Inputs:

* a take directory (``take.json`` + recording), or the recording file inside one, or a bare
  ``.db3``/``.bag`` recording: played back once, unaligned, with :class:`humandepth.capture.Recording` (the
  raw depth in the depth camera and the colour frame as recorded); intrinsics, depth scale and depth->colour
  extrinsics come from the recording;
* a humandepth dataset of kind ``captured`` (``capture import``): depth and rgb share one pixel grid
  (the colour camera with ``--align color``, the depth camera with ``--align none``), so both cameras
  are that grid's camera and the extrinsic is the identity; its coarse masks become person hints.

The truth of a simulated take is found without flags: beside the recording (``take.json`` ->
``truth``), or through the take a captured dataset was imported from (its card's ``generator.take``).
With truth, every frame also gets its true pose (``--poses known``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humandepth.data.camera import Camera
from humandepth.fuse.frames import Frame, FrameSequence, check_same_camera


def _select(n: int, stride: int, max_frames: int | None) -> list[int]:
    if stride < 1:
        raise ValueError(f"--stride must be >= 1, got {stride}")
    idx = list(range(0, n, stride))
    if max_frames is not None:
        if max_frames < 1:
            raise ValueError(f"--max-frames must be >= 1, got {max_frames}")
        idx = idx[:max_frames]
    return idx


def _take_truth(take, depth_camera: str = "depth", color_camera: str = "color"):
    """The :class:`~humandepth.fuse.truth.Truth` of a take, or None when it has none (live take)."""
    from humandepth.fuse.truth import Truth

    if take is None or take.sidecar is None or "truth" not in take.sidecar:
        return None
    d, c = take.truth_path(depth_camera), take.truth_path(color_camera)
    if d is None or c is None:
        return None
    for p in (d, c):
        if not (p / "dataset.json").is_file():
            raise FileNotFoundError(f"take {take.root}: take.json names the truth dataset {p}, but it is missing")
    return Truth(d, c)


def read_take(path, stride: int = 1, max_frames: int | None = None, progress=None) -> FrameSequence:
    """A take directory or recording file -> frames (raw depth in the depth camera, original colour)."""
    from humandepth.capture import Recording, frame_id, open_take

    path = Path(path)
    take = open_take(path)
    rec = Recording(take.recording)
    info = rec.info
    cam_d = Camera(np.asarray(info.depth["K"]), info.depth["width"], info.depth["height"])
    cam_c = Camera(np.asarray(info.color["K"]), info.color["width"], info.color["height"])
    truth = _take_truth(take)
    _select(1, stride, max_frames)  # validate the options before playback
    # one playback: raw depth in the depth camera, and the colour frame as recorded (``FramePair.color``);
    # only the selected frames are kept, and every frame is still read so the counts are checked
    frames, n = [], 0
    for pair in rec.frames(align="none"):
        n += 1
        i = pair.index
        if i % stride == 0 and (max_frames is None or i // stride < max_frames):
            if pair.color is None:
                raise ValueError(f"recording {take.recording}: depth frame {i} has no colour frame")
            fid = frame_id(i)
            pose = truth.depth_pose(fid) if truth is not None and truth.has(fid) else None
            frames.append(Frame(fid, pair.depth.astype(np.float32), pair.color, pose, None,
                                {**pair.meta, "frame_index": i}))
        if progress:
            progress("read", i + 1)
    source = {"kind": "take" if take.root else "recording", "path": str(take.root or take.recording),
              "recording": info.to_dict(), "frames_in_recording": n,
              "selection": {"stride": stride, "max_frames": max_frames},
              "simulated": bool(take.sidecar and take.sidecar.get("source") == "simulated")}
    if truth is not None:
        source["poses_from"] = "truth of the simulated take"
    return FrameSequence(cam_d, cam_c, info.depth_to_color, frames, source, truth)


def read_captured_dataset(path, stride: int = 1, max_frames: int | None = None) -> FrameSequence:
    """A humandepth dataset (kind ``captured``) -> frames on its single pixel grid.

    Raises ``ValueError`` naming the sample whose intrinsics or size differ from the first's.
    """
    from humandepth.data.store import HumanDepthDataset

    ds = HumanDepthDataset(path)
    if ds.kind not in ("captured", "synthetic"):
        raise ValueError(f"{path} is a dataset of kind {ds.kind!r}; fuse reads kind 'captured' (from "
                         "'humandepth capture import') or a take / recording")
    ids = [ds.ids[i] for i in _select(len(ds.ids), stride, max_frames)]
    gen = ds.card.get("generator", {}) or {}
    align = gen.get("align", "color")
    frames, camera, first = [], None, None
    for sid in ids:
        s = ds.get(sid, fields=("rgb", "depth", "mask"))
        if s.camera is None:
            raise ValueError(f"dataset {path}: sample {sid!r} has no camera (intrinsics are needed to fuse)")
        cam = Camera(s.camera.K, s.camera.width, s.camera.height)
        if camera is None:
            camera, first = cam, sid
        else:
            check_same_camera(camera, cam, f"dataset {path}: sample {sid!r}", f"sample {first!r}")
        pose = s.camera.cam_from_world if s.meta.get("pose_known") else None
        hint = s.mask if s.mask is not None and s.mask.any() else None
        frames.append(Frame(sid, s.depth.astype(np.float32), s.rgb, pose, hint, dict(s.meta)))
    if camera is None:
        raise ValueError(f"dataset {path} has no samples")
    truth = None
    take_path = gen.get("take")
    if take_path and (Path(take_path) / "take.json").is_file():
        from humandepth.capture import open_take

        grid = "color" if align == "color" else "depth"
        truth = _take_truth(open_take(take_path), grid, grid)
    if truth is not None:
        for f in frames:
            if f.pose is None and truth.has(f.id):
                f.pose = truth.depth_pose(f.id)
    source = {"kind": "captured-dataset", "path": str(path), "name": ds.name, "align": align,
              "dataset_checksum": ds.checksum(), "selection": {"stride": stride, "max_frames": max_frames},
              "recording": gen.get("recording")}
    if truth is not None:
        source["poses_from"] = "truth of the simulated take the dataset was imported from"
    return FrameSequence(camera, camera, np.eye(4), frames, source, truth)


def read_input(path, stride: int = 1, max_frames: int | None = None, progress=None) -> FrameSequence:
    """Dispatch on what ``path`` is: a humandepth dataset, a take directory, or a recording file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"fuse input {path} does not exist (give a take directory, a .db3/.bag recording "
                                "or a 'captured' dataset)")
    if path.is_dir() and (path / "dataset.json").is_file():
        return read_captured_dataset(path, stride, max_frames)
    if path.is_dir() and (path / "_progress.json").is_file():
        raise FileNotFoundError(f"{path} is an unfinished dataset (rerun the command that made it)")
    return read_take(path, stride, max_frames, progress)

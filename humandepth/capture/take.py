"""The layout of a take directory (what ``capture record`` and ``capture simulate`` write).

::

    TAKE/
      take.json          sidecar, written last (its presence marks a finished take): format
                         "humandepth-take", source (live | simulated), recording file and format,
                         SDK version, device (name, serial, firmware, product line), preset,
                         depth / color streams (width, height, fps, K, distortion model + coeffs),
                         depth_scale (m per unit), depth_to_color (4x4, metres, p_color = T p_depth),
                         baseline_m, frames (depth frames recorded); simulated takes add
                         "simulation" (seed, trajectory, sensor model, scene) and "truth".
      recording.db3      the RealSense recording (``recording.bag`` when the SDK is <= 2.57)
      truth/depth/       simulated takes only: humandepth dataset (kind synthetic), one sample per
                         recorded frame, id ``frame-NNNNNN``: exact noise-free depth, clean colour,
                         person mask and normals in the *depth* camera, ``camera.cam_from_world`` =
                         the true pose of the depth camera
      truth/color/       the same seen from the *colour* camera (pose = depth_to_color @ depth pose)

Sample ids ``frame-NNNNNN`` count depth frames from 0 in recording order; ``capture import`` gives
its samples the same ids, so truth and captured frames pair by id.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from humandepth.outdir import OutputKind, check_out, staged

SIDECAR = "take.json"
TAKE_FORMAT = "humandepth-take"
TAKE_FORMAT_VERSION = "1.0"
RECORDING_STEM = "recording"
TRUTH_DEPTH = "truth/depth"
TRUTH_COLOR = "truth/color"
# what a take folder may hold: anything else there is someone else's and is never replaced
TAKE_OUTPUT = OutputKind("take", SIDECAR, (f"{RECORDING_STEM}.*", "truth", f".{SIDECAR}.partial"))


def frame_id(index: int) -> str:
    """Sample id of the ``index``-th depth frame (0-based) of a take."""
    return f"frame-{index:06d}"


@dataclass
class Take:
    """A take on disk: ``root`` (None for a bare recording file), its ``recording`` and ``sidecar`` (dict or None)."""

    root: Path | None
    recording: Path
    sidecar: dict | None

    @property
    def name(self) -> str:
        return self.root.name if self.root else self.recording.stem

    def truth_path(self, camera: str = "color") -> Path | None:
        if not self.sidecar or "truth" not in self.sidecar or self.root is None:
            return None
        return self.root / self.sidecar["truth"][camera]


def open_take(path) -> Take:
    """A take directory (with ``take.json``), the recording file of one (which opens the whole take), or a bare
    recording file (e.g. from the RealSense Viewer: no sidecar).

    Raises ``FileNotFoundError`` / ``ValueError`` naming the path when it is neither, or unfinished.
    """
    path = Path(path)
    if path.is_file():
        if (path.parent / SIDECAR).is_file():
            take = open_take(path.parent)
            if take.recording.resolve() == path.resolve():
                return take
        return Take(None, path, None)
    if not path.is_dir():
        raise FileNotFoundError(f"take {path} does not exist (give a take directory or a .db3/.bag recording)")
    sidecar_path = path / SIDECAR
    if not sidecar_path.is_file():
        partial = sorted(p.name for p in path.glob(f"{RECORDING_STEM}.*"))
        hint = f" (it holds {partial}: an unfinished take; rerun the command that made it)" if partial else ""
        raise FileNotFoundError(f"{path} is not a take: {SIDECAR} is missing{hint}")
    try:
        sidecar = json.loads(sidecar_path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{sidecar_path} is not valid JSON: {e}") from None
    if sidecar.get("format") != TAKE_FORMAT:
        raise ValueError(f"{sidecar_path} is not a humandepth take sidecar (format {sidecar.get('format')!r})")
    recording = path / sidecar["recording"]["file"]
    if not recording.is_file():
        raise FileNotFoundError(f"take {path}: its recording {recording.name} is missing")
    return Take(path, recording, sidecar)


def write_sidecar(root, sidecar: dict) -> Path:
    """Write ``take.json`` atomically (temporary name, then rename)."""
    root = Path(root)
    body = {"format": TAKE_FORMAT, "format_version": TAKE_FORMAT_VERSION, **sidecar}
    tmp = root / f".{SIDECAR}.partial"
    tmp.write_text(json.dumps(body, indent=1))
    os.replace(tmp, root / SIDECAR)
    return root / SIDECAR


def check_take_out(out, overwrite: bool) -> None:
    """Refuse, before any work, a ``--out`` that is a file, holds files that are not a take's, or holds a finished
    take without ``overwrite`` (:func:`humandepth.outdir.check_out`)."""
    check_out(out, TAKE_OUTPUT, overwrite)


def writing_take(out, overwrite: bool):
    """Context manager: the folder to write a take into.  It is built beside ``out`` (``.NAME.staging``) and
    becomes ``out`` only when the block ends without an error, so a failed or interrupted take leaves nothing
    behind and a replaced take (``overwrite``) is intact until then (:func:`humandepth.outdir.staged`)."""
    return staged(out, TAKE_OUTPUT, overwrite)

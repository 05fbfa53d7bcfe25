"""Training packs: a dataset's person crops in a few compact files, for training anywhere.

A pack holds what the reference network trains on, already cut around each person, in small standard
files, so that thousands of samples travel to a training machine in tens of megabytes and are read there
with numpy and Pillow only (no h5py, pandas or renderer)::

    PACK/
      pack.json            the card (written last): format, count, crop side, margin, source dataset record,
                           base/detail filter, sha256 of arrays.npz and of every image file
      arrays.npz           ids (N,) str; K (N, 3, 3) float64 crop intrinsics (pixels, pixel centres at integers);
                           joints2d (N, 16, 2) float32 crop pixels; joints3d (N, 16, 3) float32 camera frame,
                           metres; median (N,) float64 metres, the person's median depth
      images/<id>.jpg      RGB crop, JPEG (quality 95)
      images/<id>.depth.png  uint16: 0 = no value, else 32768 + (depth - median) / 0.1 mm
      images/<id>.detail.png uint16: 32768 + depth_detail / 0.01 mm (0 outside the person)
      images/<id>.parts.png  uint8 part labels 0..14

The crop is the person box of :func:`humandepth.baselines.reference.crop.person_box` widened on every side by
``margin`` of its side (so the training crop jitter stays inside the pack), resized to ``side`` pixels:
RGB with antialiasing, depth, detail and parts by nearest neighbour, so every stored depth and detail value
is one of the source's pixels.  Read back, a pack sample obeys the data contract (metres, OpenCV frame):
``depth_base = depth - depth_detail``; normals are computed from the depth with the crop intrinsics
(:func:`humandepth.data.geometry.normals_from_depth`; on rendered people their median angle to the rendered
normals is about 2 degrees, larger only at depth discontinuities).  Depth is quantised to 0.1 mm and
detail to 0.01 mm.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image

from humandepth.baselines.reference.crop import cut, person_box
from humandepth.data.camera import Camera
from humandepth.data.geometry import normals_from_depth
from humandepth.data.sample import Sample
from humandepth.outdir import OutputKind, staged

FORMAT = "humandepth-reference-pack"
FORMAT_VERSION = "1"
CARD = "pack.json"
ARRAYS = "arrays.npz"
IMAGES = "images"
DEPTH_STEP_M = 1e-4
DETAIL_STEP_M = 1e-5
ZERO = 32768
JPEG_QUALITY = 95
DEFAULT_MARGIN = 0.1
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
# a pack holds its card (written last), arrays.npz and images/; anything else in --out is someone else's
PACK_OUTPUT = OutputKind("training pack", CARD, (ARRAYS, IMAGES))


def looks_like_pack(path) -> bool:
    """True when ``path`` is a folder holding a pack card."""
    card = Path(path) / CARD
    if not card.is_file():
        return False
    try:
        return json.loads(card.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def crop_box(mask: np.ndarray, margin: float) -> tuple[int, int, int]:
    """(top, left, side) of the pack crop: the person box widened by ``margin`` of its side on every side."""
    top, left, side = person_box(mask)
    pad = int(round(side * margin))
    return top - pad, left - pad, side + 2 * pad


def _resize(arr: np.ndarray, side: int, nearest: bool) -> np.ndarray:
    img = Image.fromarray(arr)
    return np.asarray(img.resize((side, side), Image.Resampling.NEAREST if nearest else Image.Resampling.LANCZOS))


def _nearest_index(src: int, dst: int) -> np.ndarray:
    """Source index of each destination pixel for a nearest-neighbour resize src -> dst (pixel centres)."""
    return np.minimum(((np.arange(dst) + 0.5) * src / dst).astype(np.int64), src - 1)


def _nearest(arr: np.ndarray, side: int) -> np.ndarray:
    idx = _nearest_index(arr.shape[0], side)
    return arr[idx][:, idx]


def crop_sample(sample: Sample, side: int, margin: float = DEFAULT_MARGIN) -> tuple[Sample, float]:
    """The pack crop of ``sample`` at ``side`` x ``side`` pixels and the person's median depth (metres).

    Needs rgb, depth, mask, depth_detail, parts, joints2d, joints3d and camera (ValueError naming the sample
    otherwise)."""
    need = ("depth_detail", "parts", "joints2d", "joints3d", "camera")
    missing = [f for f in need if getattr(sample, f) is None]
    if missing:
        raise ValueError(f"sample {sample.id!r} lacks {missing}, which a training pack needs")
    fg = np.asarray(sample.mask, bool) & (sample.depth > 0) & np.isfinite(sample.depth)
    if not fg.any():
        raise ValueError(f"sample {sample.id!r}: the mask holds no pixel with depth")
    median = float(np.median(sample.depth[fg]))
    box = crop_box(fg, margin)
    top, left, s = box
    rgb = _resize(cut(sample.rgb, box), side, nearest=False)
    fg_c = _nearest(cut(fg, box), side)
    depth = np.where(fg_c, _nearest(cut(sample.depth, box), side), 0.0).astype(np.float32)
    detail = np.where(fg_c, _nearest(cut(sample.depth_detail, box), side), 0.0).astype(np.float32)
    parts = _nearest(cut(sample.parts, box), side)
    scale = side / s
    K = np.asarray(sample.camera.K, np.float64).copy()
    K[0, 0] *= scale
    K[1, 1] *= scale
    K[0, 2] = (K[0, 2] - left + 0.5) * scale - 0.5
    K[1, 2] = (K[1, 2] - top + 0.5) * scale - 0.5
    j2d = np.stack([(sample.joints2d[:, 0] - left + 0.5) * scale - 0.5,
                    (sample.joints2d[:, 1] - top + 0.5) * scale - 0.5], axis=1).astype(np.float32)
    cam = Camera(K, side, side)
    crop = Sample(id=sample.id, rgb=rgb, depth=depth, mask=fg_c, parts=parts, depth_detail=detail,
                  depth_base=np.where(fg_c, depth - detail, 0.0).astype(np.float32), joints2d=j2d,
                  joints3d=np.asarray(sample.joints3d, np.float32), camera=cam)
    return crop, median


def encode_depth(depth: np.ndarray, median: float) -> np.ndarray:
    """(H, W) metres -> uint16 (0 = no value, else ZERO + (depth - median) / DEPTH_STEP_M)."""
    q = np.round((depth.astype(np.float64) - median) / DEPTH_STEP_M) + ZERO
    return np.where(depth > 0, np.clip(q, 1, 65535), 0).astype(np.uint16)


def decode_depth(code: np.ndarray, median: float) -> np.ndarray:
    return np.where(code > 0, (code.astype(np.float64) - ZERO) * DEPTH_STEP_M + median, 0.0).astype(np.float32)


def encode_detail(detail: np.ndarray) -> np.ndarray:
    return np.clip(np.round(detail.astype(np.float64) / DETAIL_STEP_M) + ZERO, 0, 65535).astype(np.uint16)


def decode_detail(code: np.ndarray) -> np.ndarray:
    return ((code.astype(np.float64) - ZERO) * DETAIL_STEP_M).astype(np.float32)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_pack(dataset, out, side: int, margin: float = DEFAULT_MARGIN, ids=None, progress=None,
               source: dict | None = None) -> Path:
    """Write the pack of ``dataset`` (an object with ``ids`` and ``get``) into the empty folder ``out``.

    Args:
        side: crop side in pixels (e.g. 1.2 x the network input for the default margin).
        margin: widening of the person box on every side, as a fraction of its side.
        ids: the samples to pack (default: all, in dataset order).
        progress: optional :class:`humandepth.progress.Progress`.
        source: the dataset's record (name, count, checksum) stored in the card.
    Returns:
        ``out``.  The card is written last, so a folder without it is not a pack.
    """
    if side < 16:
        raise ValueError(f"pack side must be at least 16 pixels, got {side}")
    if not 0 <= margin <= 1:
        raise ValueError(f"pack margin must be in [0, 1], got {margin}")
    out = Path(out)
    images = out / IMAGES
    images.mkdir(parents=True, exist_ok=True)
    ids = list(dataset.ids if ids is None else ids)
    bad = [i for i in ids if not _SAFE_ID.match(str(i))]
    if bad:
        raise ValueError(f"sample id {bad[0]!r} cannot name a file (letters, digits, '.', '_', '-' only)")
    K, j2d, j3d, med, kept, skipped = [], [], [], [], [], []
    files: dict[str, str] = {}
    filt = None
    for sid in ids:
        sample = dataset.get(sid)
        if not (np.asarray(sample.mask, bool) & (sample.depth > 0)).any():
            skipped.append(sid)  # a render can hide its person: nothing to train on
            if progress is not None:
                progress.update(1)
            continue
        kept.append(sid)
        crop, median = crop_sample(sample, side, margin)
        filt = filt or (sample.meta or {}).get("base_detail_filter")
        stem = images / sid
        Image.fromarray(crop.rgb).save(f"{stem}.jpg", quality=JPEG_QUALITY)
        Image.fromarray(encode_depth(crop.depth, median)).save(f"{stem}.depth.png")
        Image.fromarray(encode_detail(crop.depth_detail)).save(f"{stem}.detail.png")
        Image.fromarray(crop.parts.astype(np.uint8)).save(f"{stem}.parts.png")
        for suffix in (".jpg", ".depth.png", ".detail.png", ".parts.png"):
            files[f"{IMAGES}/{sid}{suffix}"] = _sha256(Path(f"{stem}{suffix}"))
        K.append(crop.camera.K)
        j2d.append(crop.joints2d)
        j3d.append(crop.joints3d)
        med.append(median)
        if progress is not None:
            progress.update(1)
    if not kept:
        raise ValueError(f"no sample to pack: none of the {len(ids)} shows a person")
    np.savez(out / ARRAYS, ids=np.array(kept, dtype=str), K=np.array(K, np.float64).reshape(-1, 3, 3),
             joints2d=np.array(j2d, np.float32).reshape(-1, 16, 2),
             joints3d=np.array(j3d, np.float32).reshape(-1, 16, 3), median=np.array(med, np.float64))
    card = {"format": FORMAT, "format_version": FORMAT_VERSION, "count": len(kept), "left_out": skipped,
            "side": side, "margin": margin,
            "source": source or {}, "base_detail_filter": filt, "depth_step_m": DEPTH_STEP_M,
            "detail_step_m": DETAIL_STEP_M, "jpeg_quality": JPEG_QUALITY, "arrays_sha256": _sha256(out / ARRAYS),
            "files_sha256": files}
    (out / CARD).write_text(json.dumps(card, indent=1, sort_keys=True))
    return out


def pack_dataset(data, out, side: int, margin: float = DEFAULT_MARGIN, count: int | None = None,
                 overwrite: bool = False, quiet: bool = False) -> Path:
    """Write the pack of dataset ``data`` (path, registered name or dataset object) to ``out``.

    The pack is built in a staging folder beside ``out`` and moved there only when complete, so a failure or
    ``--overwrite`` never loses a finished pack (humandepth.outdir)."""
    from humandepth.data.open import open_dataset
    from humandepth.progress import Progress

    dataset = data if hasattr(data, "get") and hasattr(data, "ids") else open_dataset(data)
    ids = list(dataset.ids)[: count or None]
    if not ids:
        raise ValueError(f"dataset {getattr(dataset, 'name', data)!r} holds no sample to pack")
    fields = getattr(dataset, "fields", None)
    if fields is not None:
        missing = [f for f in ("depth_detail", "parts", "joints2d", "joints3d") if f not in fields]
        if missing:
            raise ValueError(f"dataset {getattr(dataset, 'name', data)!r} lacks {missing}, which a training pack "
                             "needs; render one with `humandepth render`")
    source = {"name": getattr(dataset, "name", ""), "count": len(dataset), "packed": len(ids)}
    try:
        source["checksum"] = dataset.checksum()
    except NotImplementedError:
        pass
    progress = Progress("pack", len(ids), enabled=not quiet)
    with staged(out, PACK_OUTPUT, overwrite) as tmp:
        write_pack(dataset, tmp, side, margin, ids=ids, progress=progress, source=source)
    return Path(out)


class PackDataset:
    """A training pack read back as samples of the data contract (see the module docstring).

    ``get(id)`` returns a :class:`~humandepth.data.sample.Sample` with rgb, depth, mask, normal, parts,
    depth_base, depth_detail, joints2d, joints3d and camera (the crop's), all at ``side`` x ``side``."""

    format = "pack"
    kind = "synthetic"

    def __init__(self, root):
        self.root = Path(root)
        card_path = self.root / CARD
        if not card_path.is_file():
            raise FileNotFoundError(f"training pack not found: {self.root} has no {CARD}")
        try:
            self.card = json.loads(card_path.read_text())
        except ValueError as e:
            raise ValueError(f"{card_path} is not valid JSON: {e}") from None
        if not isinstance(self.card, dict) or self.card.get("format") != FORMAT:
            raise ValueError(f"{card_path} is not a humandepth training pack card")
        try:
            with np.load(self.root / ARRAYS) as z:
                self._arrays = {k: z[k] for k in ("ids", "K", "joints2d", "joints3d", "median")}
        except (OSError, KeyError, ValueError) as e:
            raise ValueError(f"{self.root / ARRAYS} is damaged or incomplete: {e}") from None
        self._ids = [str(i) for i in self._arrays["ids"]]
        if len(self._ids) != int(self.card.get("count", -1)):
            raise ValueError(f"{self.root}: {CARD} says {self.card.get('count')} samples, {ARRAYS} holds "
                             f"{len(self._ids)}")
        self._row = {sid: i for i, sid in enumerate(self._ids)}
        self.name = (self.card.get("source") or {}).get("name") or self.root.name
        self.fields = ("rgb", "depth", "mask", "normal", "parts", "depth_base", "depth_detail", "joints2d",
                       "joints3d")

    @property
    def ids(self) -> list[str]:
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def checksum(self) -> str:
        """sha256 of the card (which holds the sha256 of every other file)."""
        return _sha256(self.root / CARD)

    def _image(self, name: str) -> np.ndarray:
        path = self.root / IMAGES / name
        try:
            with Image.open(path) as img:
                return np.asarray(img)
        except FileNotFoundError:
            raise FileNotFoundError(f"training pack {self.root} lacks {IMAGES}/{name}") from None
        except OSError as e:
            raise ValueError(f"cannot decode {path}: {e}") from None

    def get(self, sample_id: str, fields=None) -> Sample:
        if sample_id not in self._row:
            raise KeyError(f"training pack {self.root} has no sample {sample_id!r}")
        i = self._row[sample_id]
        a = self._arrays
        median = float(a["median"][i])
        rgb = self._image(f"{sample_id}.jpg")
        depth = decode_depth(self._image(f"{sample_id}.depth.png"), median)
        mask = depth > 0
        detail = np.where(mask, decode_detail(self._image(f"{sample_id}.detail.png")), 0.0).astype(np.float32)
        side = int(self.card["side"])
        if rgb.shape != (side, side, 3) or depth.shape != (side, side):
            raise ValueError(f"training pack {self.root}: sample {sample_id!r} is not {side}x{side}")
        cam = Camera(a["K"][i], side, side)
        return Sample(id=sample_id, rgb=rgb, depth=depth, mask=mask, normal=normals_from_depth(depth, cam.K, mask),
                      parts=self._image(f"{sample_id}.parts.png"), depth_detail=detail,
                      depth_base=np.where(mask, depth - detail, 0.0).astype(np.float32),
                      joints2d=a["joints2d"][i].copy(), joints3d=a["joints3d"][i].copy(), camera=cam,
                      meta={"source": "pack", "median_depth_m": median})

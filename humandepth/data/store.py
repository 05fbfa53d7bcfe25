"""The ``humandepth`` dataset format: a card, HDF5 shards and an index table.

Layout of a dataset directory::

    dataset.json        the card (name, version, kind, count, resolution, fields, conventions,
                        generator config, license summary, base/detail filter, sha256 per shard)
    shards/shard-NNNNN.h5   stacked per-field arrays (N, ...), one sample per chunk, gzip-compressed;
                        ``ids`` (N,) strings, ``camera/K`` (N,3,3), ``camera/cam_from_world`` (N,4,4),
                        ``camera/size`` (N,2) [width, height], ``meta`` (N,) JSON strings
    index.csv           id, shard, row and scalar per-sample attributes (pandas.read_csv)
    _progress.json      only while a write is unfinished: the config it was started with

A shard is written to ``.shard-NNNNN.h5.partial`` and renamed when complete, so an interrupted job
loses at most the shard in progress; reopening the writer with the same config resumes (the caller
skips ids in :attr:`DatasetWriter.done_ids`).  Arrays are stored bit-exactly and HDF5 time stamps are
off, so the same samples give the same array bytes.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import h5py
import numpy as np

from humandepth.data.base_detail import DEFAULT_FILTER
from humandepth.data.camera import Camera
from humandepth.data.conventions import CONVENTIONS
from humandepth.data.dataset_base import DepthDataset
from humandepth.data.sample import ARRAY_FIELDS, FIELD_SCHEMA, REQUIRED_FIELDS, Sample, expected_shape
from humandepth.outdir import OutputKind, check_out, staging_path, swap_in

CARD_NAME = "dataset.json"
INDEX_NAME = "index.csv"
PROGRESS_NAME = "_progress.json"
SHARD_DIR = "shards"
# what a dataset folder may hold (a caller adds its side files, e.g. preview.png): anything else is not ours
DATASET_OUTPUT = OutputKind("dataset", CARD_NAME, (INDEX_NAME, PROGRESS_NAME, SHARD_DIR, f".{CARD_NAME}.partial"),
                            inside=((SHARD_DIR, ("shard-*.h5", ".shard-*.h5.*")),))  # .partial, .download
FORMAT_VERSION = "1.0"
KINDS = ("synthetic", "captured", "fused", "external")
# Per-field chunk compression.  gzip level 1 + shuffle (default): readable by any HDF5 library.  lzf: faster
# to write, h5py-only.  none: for write-bound jobs (capture import; docs/capture.md has the measured rates).
COMPRESSIONS = {
    "gzip": {"compression": "gzip", "compression_opts": 1, "shuffle": True},
    "lzf": {"compression": "lzf", "shuffle": True},
    "none": {},
}


CARD_KEYS = ("name", "version", "kind", "count", "resolution", "fields", "conventions", "generator", "license",
             "shards")


def card_problems(card, required: tuple[str, ...] = CARD_KEYS) -> list[str]:
    """What makes a parsed ``dataset.json`` unusable: not a JSON object, a ``required`` key missing, or a key
    of the wrong type (``fields`` a list of names, ``resolution`` positive ``height``/``width``, ``count`` a
    whole number, ``shards`` a list of objects with ``file``, ``sha256`` and ``count``).  Empty: usable."""
    if not isinstance(card, dict):
        kind = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(type(card), "null")
        return [f"not a dataset card: a JSON {kind}, not an object"]
    missing = [k for k in required if k not in card]
    if missing:
        return [f"the card lacks {missing}"]
    problems = []
    if "fields" in card and not (isinstance(card["fields"], list) and all(isinstance(f, str) for f in card["fields"])):
        problems.append(f"'fields' must be a list of field names, got {card['fields']!r:.60}")
    res = card.get("resolution", {"height": 1, "width": 1})
    if not (isinstance(res, dict) and all(type(res.get(k)) is int and res[k] > 0 for k in ("height", "width"))):
        problems.append(f"'resolution' must be {{\"height\": H, \"width\": W}} in pixels, got {res!r:.60}")
    if "count" in card and not (type(card["count"]) is int and card["count"] >= 0):
        problems.append(f"'count' must be a whole number, got {card['count']!r:.60}")
    shards = card.get("shards", [])
    if not isinstance(shards, list):
        return [*problems, f"'shards' must be a list of shard entries, got {shards!r:.60}"]
    for i, entry in enumerate(shards):
        if not isinstance(entry, dict):
            problems.append(f"shard entry {i} must be an object with file, sha256 and count, got {entry!r:.60}")
            continue
        lacks = [k for k in ("file", "sha256", "count") if k not in entry]
        if lacks:
            problems.append(f"shard entry {i} ({entry.get('file', 'no file')}) lacks {lacks}")
        elif not (isinstance(entry["file"], str) and isinstance(entry["sha256"], str)
                  and type(entry["count"]) is int):
            problems.append(f"shard entry {i}: file and sha256 must be strings and count a whole number")
    return problems


def sha256_file(path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _shard_name(number: int) -> str:
    return f"shard-{number:05d}.h5"


SHARD_FILE = re.compile(r"shard-\d{5}\.h5")


@contextlib.contextmanager
def _open_shard(path: Path):
    """``h5py.File(path, "r")``, with an error that names the shard when it is not a readable HDF5 file."""
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise OSError(f"shard {path} cannot be read as HDF5 (damaged or not a shard): {e}") from None
    with f:
        yield f


def shard_number(path) -> int:
    """The number ``k`` of a shard file named ``shard-0000k.h5``."""
    return int(Path(path).stem.split("-")[1])


def write_shard(path, samples: list[Sample], fields: list[str] | None = None, compression: str = "gzip") -> Path:
    """Write ``samples`` (in order) as one shard file at ``path``; return ``path``.

    The one function that writes shard files, whoever calls it (:class:`DatasetWriter`, or a worker that renders
    one shard on its own), so the same samples give the same bytes.  ``fields`` defaults to the first sample's
    present fields (sorted); every sample must have exactly those fields and the first one's resolution.  The
    file is written as ``.NAME.partial`` beside ``path`` and renamed when complete.
    """
    path = Path(path)
    if not samples:
        raise ValueError(f"shard {path}: no samples to write")
    if compression not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {list(COMPRESSIONS)}, got {compression!r}")
    fields = sorted(samples[0].present_fields()) if fields is None else list(fields)
    size = (samples[0].height, samples[0].width)
    for s in samples:
        if sorted(s.present_fields()) != fields:
            raise ValueError(f"sample {s.id!r}: fields {sorted(s.present_fields())} differ from the shard's {fields}")
        if (s.height, s.width) != size:
            raise ValueError(f"sample {s.id!r}: resolution {(s.height, s.width)} differs from the shard's {size}")
    tmp = path.parent / f".{path.name}.partial"
    n = len(samples)
    with h5py.File(tmp, "w", track_order=False) as f:
        for field_name in fields:
            first = getattr(samples[0], field_name)
            dset = f.create_dataset(field_name, shape=(n, *first.shape), dtype=FIELD_SCHEMA[field_name][0],
                                    chunks=(1, *first.shape), track_times=False, **COMPRESSIONS[compression])
            for i, s in enumerate(samples):
                dset[i] = getattr(s, field_name)
        str_dt = h5py.string_dtype("utf-8")
        f.create_dataset("ids", data=np.array([s.id for s in samples], dtype=object), dtype=str_dt,
                         track_times=False)
        f.create_dataset("meta", data=np.array([json.dumps(s.meta, sort_keys=True) for s in samples],
                                               dtype=object), dtype=str_dt, track_times=False)
        has_cam = np.array([s.camera is not None for s in samples])
        eye = Camera(np.eye(3), 1, 1)
        cams = [s.camera if s.camera is not None else eye for s in samples]
        g = f.create_group("camera", track_order=False)
        g.create_dataset("present", data=has_cam, track_times=False)
        g.create_dataset("K", data=np.stack([c.K for c in cams]), track_times=False)
        g.create_dataset("cam_from_world", data=np.stack([c.cam_from_world for c in cams]), track_times=False)
        g.create_dataset("size", data=np.array([[c.width, c.height] for c in cams], np.int32), track_times=False)
    os.replace(tmp, path)
    return path


def shard_record(path, sha256: str | None = None) -> dict:
    """What a dataset's index and card need of a finished shard file: ``ids``, ``metas`` (dicts), ``fields``,
    ``resolution`` (h, w), ``sha256`` (computed unless given).  A worker that uploads its shard elsewhere returns
    this to the writer (:meth:`DatasetWriter.adopt_shard`), which then never has to read the shard back."""
    path = Path(path)
    with _open_shard(path) as f:
        ids = [s.decode() for s in f["ids"][()]]
        metas = [json.loads(m) for m in f["meta"][()]]
        fields = sorted(k for k in f.keys() if k in FIELD_SCHEMA)
        resolution = [int(n) for n in f["depth"].shape[1:3]]
    return {"ids": ids, "metas": metas, "fields": fields, "resolution": resolution,
            "sha256": sha256 or sha256_file(path)}


def _scalar_attrs(meta: dict) -> dict:
    """Top-level scalar entries of ``meta`` (for the index table)."""
    reserved = ("id", "shard", "row")
    return {k: v for k, v in meta.items() if isinstance(v, str | int | float | bool) and k not in reserved}


class DatasetWriter:
    """Write a dataset in the ``humandepth`` format, shard by shard, resumable.

    Args:
        root: the dataset directory (created).
        name: dataset name for the card.
        kind: one of ``synthetic``, ``captured``, ``fused``, ``external``.
        shard_size: samples per shard.
        generator: JSON-serialisable config of what produced the data (seed, options...).  A
            resumed write must be started with the same ``name``, ``kind``, ``shard_size`` and
            ``generator``; otherwise it refuses rather than mixing two datasets.
        license: license summary for the card.
        description: one line for the card.
        base_detail_filter: parameters of the filter that produced ``depth_base`` (recorded).
        overwrite: replace a finished dataset at ``root``.  The new one is written in ``.NAME.staging`` beside
            it and swapped in by :meth:`close`, so a failure or an interruption leaves the old one as it was (a
            rerun with ``overwrite`` resumes the staged write).
        compression: ``gzip`` (default, level 1), ``lzf`` (faster, h5py-only) or ``none``; recorded in the card.
        side_files: glob patterns of files the caller writes beside the dataset (``preview.png``): ``root``
            may hold them; any other file there that is not part of a dataset is refused (never replaced).

    Every sample must have the same set of fields and resolution as the first.  ``root`` is checked by
    :func:`humandepth.outdir.check_out` (a file, a folder of someone else's files, or a finished dataset without
    ``overwrite`` is refused before anything is written).  A write that fails before finishing any shard leaves
    nothing behind (:meth:`discard_if_empty`); one that fails later keeps its finished shards for a rerun.
    """

    def __init__(self, root, name: str, kind: str = "synthetic", shard_size: int = 64, generator: dict | None = None,
                 license: str = "", description: str = "", base_detail_filter=DEFAULT_FILTER,
                 overwrite: bool = False, compression: str = "gzip", side_files: tuple[str, ...] = ()):
        if kind not in KINDS:
            raise ValueError(f"dataset kind must be one of {KINDS}, got {kind!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"compression must be one of {list(COMPRESSIONS)}, got {compression!r}")
        if shard_size < 1:
            raise ValueError(f"shard_size must be >= 1, got {shard_size}")
        self.final = Path(root)  # where the dataset is when closed; ``root`` differs while replacing one
        self.config = {
            "name": name, "kind": kind, "shard_size": int(shard_size), "generator": generator or {},
            "license": license, "description": description,
            "base_detail_filter": base_detail_filter.to_dict() if base_detail_filter else None,
            "compression": compression,
        }
        json.dumps(self.config)  # fail early on a config that cannot be recorded
        state = check_out(self.final, DATASET_OUTPUT.with_entries(*side_files), overwrite)
        self.root = staging_path(self.final) if state == "finished" else self.final
        if self.root != self.final and (self.root / CARD_NAME).exists():
            shutil.rmtree(self.root)  # a staged write that finished but was never swapped in: start it again
        self.shard_dir = self.root / SHARD_DIR
        progress = self.root / PROGRESS_NAME
        if progress.exists() and _read_progress(progress) != json.loads(json.dumps(self.config)):
            if not overwrite:
                raise ValueError(
                    f"{self.root} holds an unfinished dataset written with a different configuration; "
                    f"rerun with the original settings, or pass --overwrite to start it again ({progress})"
                )
            _clear_unfinished(self.root)  # ours (an unfinished write of another configuration): start again
        self.shard_dir.mkdir(parents=True, exist_ok=True)
        if not progress.exists():
            progress.write_text(json.dumps(self.config, indent=1))
        for stale in self.shard_dir.glob(".*.partial"):
            stale.unlink()
        self._buffer: list[Sample] = []
        self._fields: list[str] | None = None
        self._resolution: tuple[int, int] | None = None
        self.done_ids: set[str] = set()
        self._next_shard = 0  # the lowest shard number not yet written (gaps are filled first)
        self._finished: set[int] = set()
        self._adopted: dict[str, dict] = {}  # shard name -> shard_record of a shard not on this disk
        self._sha256: dict[str, tuple[int, int, str]] = {}  # shard name -> (size, mtime_ns, sha256) hashed at write
        for number, ids in self.finished_shards().items():
            self.done_ids.update(ids)
            self._finished.add(number)

    def finished_shards(self) -> dict[int, list[str]]:
        """``{shard number: its sample ids}`` of every complete shard file now in ``shards/``.

        Shards need not be contiguous: workers that write shards independently (e.g. on a Ray cluster) may
        finish shard 3 before shard 2.  Each shard's fields and resolution are checked against the dataset's.
        """
        out = {}
        for path in self._shard_files():
            with _open_shard(path) as f:
                out[shard_number(path)] = [s.decode() for s in f["ids"][()]]
                fields = sorted(k for k in f.keys() if k in FIELD_SCHEMA)
                self._check_layout(path.name, fields, tuple(f["depth"].shape[1:3]))
        return out

    def _shard_files(self) -> list[Path]:
        """The shard files in ``shards/`` (names ``shard-NNNNN.h5``; anything else there is not a shard)."""
        return sorted(p for p in self.shard_dir.glob("shard-*.h5") if SHARD_FILE.fullmatch(p.name))

    def shard_path(self, number: int) -> Path:
        """Where shard ``number`` of this dataset is (or will be) written."""
        return self.shard_dir / _shard_name(number)

    def _check_layout(self, what: str, fields: list[str], resolution: tuple[int, int]) -> None:
        if self._fields is None:
            self._fields, self._resolution = fields, resolution
            return
        if fields != self._fields:
            raise ValueError(f"{what}: fields {fields} differ from the dataset's {self._fields}")
        if resolution != self._resolution:
            raise ValueError(f"{what}: resolution {resolution} differs from the dataset's {self._resolution}")

    def add(self, sample: Sample) -> None:
        """Queue one sample; a full shard is written immediately."""
        sample.validate()
        if sample.id in self.done_ids or any(s.id == sample.id for s in self._buffer):
            raise ValueError(f"sample id {sample.id!r} is already in dataset {self.root}")
        self._check_layout(f"sample {sample.id!r}", sorted(sample.present_fields()), (sample.height, sample.width))
        json.dumps(sample.meta)
        self._buffer.append(sample)
        if len(self._buffer) >= self.config["shard_size"]:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        samples, self._buffer = self._buffer, []
        # a resume of a run whose later shards finished first, or a shard another worker wrote meanwhile
        while self._next_shard in self._finished or self.shard_path(self._next_shard).exists():
            self._next_shard += 1
        path = write_shard(self.shard_dir / _shard_name(self._next_shard), samples, self._fields,
                           self.config["compression"])
        # hash now, while the file is in the page cache and the producer is still busy (close() reuses it)
        st = path.stat()
        self._sha256[path.name] = (st.st_size, st.st_mtime_ns, sha256_file(path))
        self.done_ids.update(s.id for s in samples)
        self._finished.add(self._next_shard)
        self._next_shard += 1

    def adopt_shard(self, number: int, record: dict) -> None:
        """Count shard ``number`` as written from its :func:`shard_record` alone: a worker wrote it somewhere this
        writer does not read (object storage), so :meth:`close` indexes it without fetching it."""
        name = _shard_name(number)
        self._check_layout(name, list(record["fields"]), tuple(record["resolution"]))
        self._adopted[name] = record
        self.done_ids.update(record["ids"])
        self._finished.add(number)

    @property
    def adopted(self) -> set[str]:
        """Names of the shards known from their records only (:meth:`adopt_shard`)."""
        return set(self._adopted)

    def _shard_sha256(self, path: Path) -> str:
        """sha256 of a shard file: the hash taken when this writer wrote it, if the file is unchanged since."""
        st = path.stat()
        cached = self._sha256.get(path.name)
        if cached is not None and cached[:2] == (st.st_size, st.st_mtime_ns):
            return cached[2]
        return sha256_file(path)

    def close(self) -> Path:
        """Write the last shard, the index table and the card; return the card's path."""
        self._flush()
        records = dict(self._adopted)  # shards described by their writers (not on this disk)
        for path in self._shard_files():  # also those written by other processes
            records[path.name] = shard_record(path, self._shard_sha256(path))
        shards, rows = [], []
        for name in sorted(records):
            rec = records[name]
            self._check_layout(name, rec["fields"], tuple(rec["resolution"]))
            ids = rec["ids"]
            self.done_ids.update(ids)
            shards.append({"file": f"{SHARD_DIR}/{name}", "count": len(ids), "sha256": rec["sha256"],
                           "first_id": ids[0], "last_id": ids[-1]})
            for row, (sid, meta) in enumerate(zip(ids, rec["metas"], strict=True)):
                rows.append({"id": sid, "shard": f"{SHARD_DIR}/{name}", "row": row, **_scalar_attrs(meta)})
        if not rows:
            raise ValueError(f"no samples were written to {self.root}")
        import pandas as pd  # imported here: reading shards needs only h5py (a training machine may lack pandas)

        index = pd.DataFrame(rows)
        index.to_csv(self.root / INDEX_NAME, index=False)
        h, w = self._resolution
        cfg = self.config
        card = {
            "format": "humandepth", "format_version": FORMAT_VERSION,
            "name": cfg["name"], "version": FORMAT_VERSION, "kind": cfg["kind"], "description": cfg["description"],
            "count": len(index), "resolution": {"height": h, "width": w}, "fields": self._fields,
            "conventions": CONVENTIONS, "generator": cfg["generator"], "license": cfg["license"],
            "base_detail_filter": cfg["base_detail_filter"], "shard_size": cfg["shard_size"],
            "compression": cfg["compression"],
            "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "index": INDEX_NAME, "index_sha256": sha256_file(self.root / INDEX_NAME), "shards": shards,
        }
        tmp = self.root / f".{CARD_NAME}.partial"
        tmp.write_text(json.dumps(card, indent=1))
        os.replace(tmp, self.root / CARD_NAME)
        (self.root / PROGRESS_NAME).unlink(missing_ok=True)
        if self.root != self.final:  # replacing a finished dataset: the new one is complete, swap it in
            swap_in(self.root, self.final)
            self.root, self.shard_dir = self.final, self.final / SHARD_DIR
        return self.root / CARD_NAME

    def discard_if_empty(self) -> bool:
        """After a failure: remove what this write created when it finished no shard (nothing to resume), so
        that bad input leaves no trace; returns whether it did.  Finished shards are always kept."""
        if self._adopted:
            return False
        return discard_unstarted(self.root)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:  # completed shards stay, the in-progress buffer is dropped; a rerun resumes
            self.discard_if_empty()


def _read_progress(path: Path):
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return None


def _clear_unfinished(root: Path) -> None:
    """Remove an unfinished write's files from ``root`` (progress file, shards, partial card)."""
    for name in (PROGRESS_NAME, f".{CARD_NAME}.partial", INDEX_NAME):
        (root / name).unlink(missing_ok=True)
    shutil.rmtree(root / SHARD_DIR, ignore_errors=True)


def discard_unstarted(root) -> bool:
    """Remove an unfinished dataset write at ``root`` that holds no finished shard (its progress file, its
    partial shards, and ``root`` itself when that leaves it empty); returns whether it did.  A finished dataset,
    a folder with finished shards or with anything else is left alone."""
    root = Path(root)
    shard_dir = root / SHARD_DIR
    if not (root / PROGRESS_NAME).is_file() or (root / CARD_NAME).exists():
        return False
    if shard_dir.is_dir() and any(not p.name.endswith(".partial") for p in shard_dir.iterdir()):
        return False
    _clear_unfinished(root)
    with contextlib.suppress(OSError):
        root.rmdir()  # only when empty
    return True


class HumanDepthDataset(DepthDataset):
    """Reader of the ``humandepth`` format.  Shards open lazily, once per process."""

    format = "humandepth"

    def __init__(self, root):
        self.root = Path(root)
        card_path = self.root / CARD_NAME
        if not card_path.is_file():
            unfinished = (self.root / PROGRESS_NAME).exists()
            hint = " (an unfinished write: rerun the command that makes it)" if unfinished else ""
            raise FileNotFoundError(f"{self.root} is not a humandepth dataset: {CARD_NAME} is missing{hint}")
        try:
            self.card = json.loads(card_path.read_text())
        except json.JSONDecodeError as e:
            raise ValueError(f"{card_path} is not valid JSON: {e}") from None
        problems = card_problems(self.card, required=("resolution", "shards"))
        if problems:
            raise ValueError(f"{card_path}: {problems[0]} (`humandepth data verify {self.root}` lists every problem)")
        self.name = self.card.get("name", self.root.name)
        self.kind = self.card.get("kind", "external")
        index_path = self.root / self.card.get("index", INDEX_NAME)
        if not index_path.is_file():
            raise FileNotFoundError(f"{self.root}: the index table {index_path.name} is missing")
        import pandas as pd

        self.index = pd.read_csv(index_path, dtype={"id": str, "shard": str})
        self.index = self.index.sort_values("id", kind="stable").reset_index(drop=True)
        self._ids = self.index["id"].tolist()
        self._loc = dict(zip(self._ids, zip(self.index["shard"], self.index["row"], strict=True), strict=True))
        self.fields = list(self.card.get("fields", []))
        self._handles: dict = {}
        self._pid = os.getpid()

    @property
    def ids(self) -> list[str]:
        return self._ids

    @property
    def resolution(self) -> tuple[int, int]:
        """(height, width) of every sample."""
        r = self.card["resolution"]
        return int(r["height"]), int(r["width"])

    def checksum(self) -> str:
        h = hashlib.sha256()
        for s in self.card["shards"]:
            h.update(f"{s['file']}:{s['sha256']}\n".encode())
        return h.hexdigest()

    def _shard(self, rel: str) -> h5py.File:
        if os.getpid() != self._pid:  # forked into a DataLoader worker: never share HDF5 handles
            self._handles, self._pid = {}, os.getpid()
        f = self._handles.get(rel)
        if f is None:
            path = self.root / rel
            try:
                f = h5py.File(path, "r")
            except (OSError, FileNotFoundError) as e:
                raise OSError(f"dataset {self.name!r}: cannot open shard {path} ({e})") from None
            self._handles[rel] = f
        return f

    def get(self, sample_id: str, fields: tuple[str, ...] | None = None) -> Sample:
        """The sample with this id.  ``fields`` limits which arrays are read (required ones always are)."""
        try:
            rel, row = self._loc[sample_id]
        except KeyError:
            raise KeyError(f"dataset {self.name!r} has no sample {sample_id!r}") from None
        f = self._shard(rel)
        wanted = self.fields if fields is None else [n for n in self.fields if n in fields or n in REQUIRED_FIELDS]
        arrays = {}
        for name in wanted:
            try:
                arrays[name] = f[name][row]
            except (OSError, KeyError) as e:
                raise OSError(f"dataset {self.name!r}: cannot read field {name!r} of sample {sample_id!r} "
                              f"from {rel} ({e})") from None
        meta = json.loads(f["meta"][row])
        return Sample(id=sample_id, camera=self._camera_at(f, row), meta=meta, **arrays)

    def camera(self, sample_id: str) -> Camera | None:
        """The sample's camera alone (intrinsics, size, ``cam_from_world``), read without any image; None when
        the sample has none."""
        try:
            rel, row = self._loc[sample_id]
        except KeyError:
            raise KeyError(f"dataset {self.name!r} has no sample {sample_id!r}") from None
        return self._camera_at(self._shard(rel), row)

    @staticmethod
    def _camera_at(f, row: int) -> Camera | None:
        if "camera" not in f or not bool(f["camera/present"][row]):
            return None
        w, h = f["camera/size"][row]
        return Camera(f["camera/K"][row], int(w), int(h), f["camera/cam_from_world"][row])

    def read_arrays(self, ids, fields=("depth", "mask")):
        """Yield ``(id, arrays)`` for ``ids`` in order, reading only ``fields`` (names of the card's fields).

        ``arrays`` maps each requested field to its array and ``"K"`` to the (3, 3) float64 intrinsics
        (None for a sample without camera).  Each run of ids that are consecutive rows of one shard is read
        as one slice and yielded before the next is read (memory: one run), each shard's camera table once,
        so this is the fast path for bulk reads (scoring, statistics) -- give the ids in dataset order for
        long runs; :meth:`get` is the path for whole samples.
        """
        unknown = [n for n in fields if n not in self.fields]
        if unknown:
            raise KeyError(f"dataset {self.name!r} has no field(s) {unknown}; it has {self.fields}")
        cameras: dict[str, tuple] = {}  # shard -> (present, K) tables, read once

        def read_run(rel: str, rows: list[int], sids: list[str]):
            f = self._shard(rel)
            if rel not in cameras:
                cameras[rel] = (f["camera/present"][()] if "camera/present" in f else None,
                                f["camera/K"][()] if "camera/K" in f else None)
            present, cams = cameras[rel]
            r0, r1 = rows[0], rows[-1] + 1
            try:
                block = {name: f[name][r0:r1] for name in fields}
            except OSError as e:
                raise OSError(f"dataset {self.name!r}: cannot read rows {r0}..{r1 - 1} of {rel} ({e})") from None
            for row, sid in zip(rows, sids, strict=True):
                arrays = {name: block[name][row - r0] for name in fields}
                has_cam = cams is not None and (present is None or bool(present[row]))
                arrays["K"] = np.asarray(cams[row], np.float64) if has_cam else None
                yield sid, arrays

        # runs of consecutive rows of one shard, in the order asked: one slice each, yielded as soon as read
        run_rel, rows, sids = None, [], []
        for sid in ids:
            try:
                rel, row = self._loc[sid]
            except KeyError:
                raise KeyError(f"dataset {self.name!r} has no sample {sid!r}") from None
            if rows and (rel != run_rel or int(row) != rows[-1] + 1):
                yield from read_run(run_rel, rows, sids)
                rows, sids = [], []
            run_rel = rel
            rows.append(int(row))
            sids.append(sid)
        if rows:
            yield from read_run(run_rel, rows, sids)

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles = {}

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_handles"] = {}
        return state


def is_humandepth_dataset(path) -> bool:
    return (Path(path) / CARD_NAME).is_file()


def write_samples(root, samples, **writer_kwargs) -> Path:
    """Write an iterable of samples as a dataset (convenience over :class:`DatasetWriter`)."""
    with DatasetWriter(root, **writer_kwargs) as w:
        for s in samples:
            if s.id not in w.done_ids:
                w.add(s)
    return Path(root)


__all__ = ["ARRAY_FIELDS", "DatasetWriter", "HumanDepthDataset", "expected_shape", "sha256_file", "shard_number",
           "shard_record", "write_samples", "write_shard"]

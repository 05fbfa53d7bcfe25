"""The predictions file: what a method submits to the benchmark.

HDF5 with root attributes ``method`` and ``depth_kind`` (``metric`` | ``relative`` |
``inverse_relative``), ``/depth/<sample id>`` float32 (H, W) at the ground truth's resolution and
optionally ``/normal/<sample id>`` float32 (H, W, 3) (conventions of :mod:`humandepth.data.conventions`).
Baselines write it with :class:`PredictionsWriter`; the benchmark reads it with :class:`Predictions`.
Neither ever repairs values: checking them is the benchmark's validation step.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path

import h5py
import numpy as np

DEPTH_KINDS = ("metric", "relative", "inverse_relative")
FORMAT_VERSION = "1.0"


class PredictionsWriter:
    """Write a predictions file atomically (to ``<path>.partial``, renamed on :meth:`close`).

    Use as a context manager::

        with PredictionsWriter("preds.h5", method="plane", depth_kind="relative") as w:
            w.add("0001", depth, normal=None)
    """

    def __init__(self, path, method: str, depth_kind: str, attrs: dict | None = None):
        if depth_kind not in DEPTH_KINDS:
            raise ValueError(f"depth_kind must be one of {DEPTH_KINDS}, got {depth_kind!r}")
        if not method:
            raise ValueError("a predictions file needs a method name")
        self.path = Path(path)
        if self.path.is_dir():  # found now, not when the finished file cannot be renamed onto it
            raise FileExistsError(f"--out {self.path} is a folder; give the predictions file's name, e.g. "
                                  f"{self.path / (method + '.h5')}")
        if self.path.parent.exists() and not self.path.parent.is_dir():
            raise FileExistsError(f"--out {self.path}: {self.path.parent} is a file, not a folder")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(self.path.name + ".partial")
        self._f = h5py.File(self._tmp, "w")
        self._f.attrs["method"] = method
        self._f.attrs["depth_kind"] = depth_kind
        self._f.attrs["format_version"] = FORMAT_VERSION
        self._f.attrs["created_utc"] = _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
        for k, v in (attrs or {}).items():
            self._f.attrs[k] = v
        self._depth = self._f.create_group("depth")
        self._normal = None

    def add(self, sample_id: str, depth: np.ndarray, normal: np.ndarray | None = None) -> None:
        """Store one sample's prediction: depth (H, W) and optional normal (H, W, 3), as float32."""
        if sample_id in self._depth:
            raise ValueError(f"prediction for sample {sample_id!r} written twice")
        depth = np.asarray(depth, np.float32)
        # one chunk per array: a prediction is always read whole (25% less CPU per read than h5py's auto chunks)
        self._depth.create_dataset(sample_id, data=depth, chunks=depth.shape or None, compression="gzip",
                                   compression_opts=1)
        if normal is not None:
            if self._normal is None:
                self._normal = self._f.create_group("normal")
            normal = np.asarray(normal, np.float32)
            self._normal.create_dataset(sample_id, data=normal, chunks=normal.shape or None, compression="gzip",
                                        compression_opts=1)

    def close(self) -> Path:
        self._f.close()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        self._f.close()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> PredictionsWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class Predictions:
    """Read-only view of a predictions file.  Arrays are returned exactly as stored."""

    def __init__(self, path):
        self.path = Path(path)
        if self.path.is_dir():
            raise ValueError(f"--predictions {self.path} is a folder; give the predictions file (.h5) that "
                             "`humandepth baselines run` or your method wrote")
        if not self.path.is_file():
            raise FileNotFoundError(f"predictions file not found: {self.path}")
        try:
            self._f = h5py.File(self.path, "r")
        except OSError as e:
            raise ValueError(f"{self.path} is not a readable HDF5 predictions file ({e})") from None
        attrs = self._f.attrs
        for key in ("method", "depth_kind"):
            if key not in attrs:
                raise ValueError(f"{self.path}: root attribute {key!r} is missing (see the predictions format)")
        self.method = str(attrs["method"])
        self.depth_kind = str(attrs["depth_kind"])
        if self.depth_kind not in DEPTH_KINDS:
            raise ValueError(f"{self.path}: depth_kind {self.depth_kind!r} is not one of {DEPTH_KINDS}")
        if "depth" not in self._f:
            raise ValueError(f"{self.path}: group /depth is missing")
        self.attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in attrs.items()}

    @property
    def ids(self) -> list[str]:
        return sorted(self._f["depth"].keys())

    def has_normals(self, sample_id: str) -> bool:
        return "normal" in self._f and sample_id in self._f["normal"]

    def depth(self, sample_id: str) -> np.ndarray:
        return self._f["depth"][sample_id][()]

    def normal(self, sample_id: str) -> np.ndarray | None:
        return self._f["normal"][sample_id][()] if self.has_normals(sample_id) else None

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> Predictions:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

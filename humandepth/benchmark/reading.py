"""Ground truth for scoring: only the fields the protocols need, read as fast as the format allows.

For the ``humandepth`` HDF5 format the arrays are read straight from the shards described in
:mod:`humandepth.data.store` (``dataset.index`` gives id -> shard, row; each shard holds stacked
per-field arrays and ``camera/K``, ``camera/present``), one slice per run of consecutive rows, with the
shard's camera table read once per call.  This skips what scoring does not need (RGB, metadata, per-sample
camera look-ups), which is most of the cost of :meth:`HumanDepthDataset.get` at 256x256.  Every
other reader goes through ``dataset.get``.  ``tests/test_benchmark_reading.py`` checks that both paths
return identical arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class GroundTruth:
    """What scoring reads of one sample.

    Attributes:
        id: sample id.
        depth: (H, W) float32 metres, 0 = none.  mask: (H, W) bool.
        normal: (H, W, 3) float32 camera-frame normals or None.  K: (3, 3) float64 or None (no camera).
        rgb: (H, W, 3) uint8 when asked for, else None.
    """

    id: str
    depth: np.ndarray
    mask: np.ndarray
    normal: np.ndarray | None
    K: np.ndarray | None
    rgb: np.ndarray | None = None


def _via_get(dataset, sample_id: str, fields: tuple[str, ...]) -> GroundTruth:
    try:
        s = dataset.get(sample_id, fields=fields)
    except TypeError:  # a reader without field selection
        s = dataset.get(sample_id)
    return GroundTruth(sample_id, s.depth, s.mask, s.normal if "normal" in fields else None,
                       s.camera.K if s.camera is not None else None, s.rgb if "rgb" in fields else None)


def _open_shard(path: Path):
    """(h5py.File, camera present (N,) or None, K (N, 3, 3) or None) of one shard; the caller closes it."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise OSError(f"cannot open shard {path} ({e})") from None
    present = f["camera/present"][()] if "camera/present" in f else None
    K = f["camera/K"][()] if "camera/K" in f else None
    return f, present, K


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Index ranges [i, j) of ``rows`` in which rows are consecutive integers."""
    out, start = [], 0
    for i in range(1, len(rows) + 1):
        if i == len(rows) or rows[i] != rows[i - 1] + 1:
            out.append((start, i))
            start = i
    return out


_LOCATIONS: dict = {}  # id(dataset) -> (dataset, {sample id: (shard, row)})


def _locations(dataset) -> dict[str, tuple[str, int]]:
    entry = _LOCATIONS.get(id(dataset))
    if entry is None or entry[0] is not dataset:
        idx = dataset.index
        table = dict(zip(idx["id"], zip(idx["shard"], (int(r) for r in idx["row"]), strict=True), strict=True))
        _LOCATIONS.clear()
        entry = _LOCATIONS[id(dataset)] = (dataset, table)
    return entry[1]


def _read_humandepth(dataset, ids: list[str], fields: tuple[str, ...]) -> Iterator[GroundTruth]:
    loc = _locations(dataset)
    wanted = ["depth", "mask"] + [n for n in ("normal",) if n in fields and n in getattr(dataset, "fields", ())]
    by_shard: dict[str, list[tuple[int, str]]] = {}
    for sid in ids:
        try:
            shard, row = loc[sid]
        except KeyError:
            raise KeyError(f"dataset {dataset.name!r} has no sample {sid!r}") from None
        by_shard.setdefault(shard, []).append((row, sid))
    out = {}
    for shard, items in by_shard.items():
        items.sort()
        rows = [r for r, _ in items]
        f, present, K = _open_shard(Path(dataset.root) / shard)
        with f:  # opened per call: a handle never outlives the read (nor a rewrite of the dataset, nor a fork)
            for a, b in _runs(rows):
                r0, r1 = rows[a], rows[b - 1] + 1
                block = {name: f[name][r0:r1] for name in wanted}
                for k in range(a, b):
                    r, sid = items[k]
                    j = r - r0
                    cam_k = K[r] if K is not None and (present is None or bool(present[r])) else None
                    out[sid] = GroundTruth(sid, block["depth"][j], block["mask"][j],
                                           block["normal"][j] if "normal" in block else None,
                                           None if cam_k is None else np.asarray(cam_k, np.float64))
    for sid in ids:
        yield out[sid]


def read_ground_truth(dataset, ids: list[str], fields: tuple[str, ...] = ("depth", "mask"),
                      rgb_ids: frozenset[str] = frozenset()) -> Iterator[GroundTruth]:
    """Yield :class:`GroundTruth` for ``ids`` in that order.

    Args:
        dataset: any :class:`humandepth.data.DepthDataset`.
        ids: sample ids (each must exist).
        fields: besides depth and mask, ``"normal"`` to read stored normals.
        rgb_ids: ids whose RGB image is needed as well (thumbnails).
    """
    from humandepth.data.store import HumanDepthDataset

    if not isinstance(dataset, HumanDepthDataset):
        for sid in ids:
            yield _via_get(dataset, sid, fields + (("rgb",) if sid in rgb_ids else ()))
        return
    plain = [i for i in ids if i not in rgb_ids]
    fast = dict((g.id, g) for g in _read_humandepth(dataset, plain, fields))
    for sid in ids:
        yield fast[sid] if sid in fast else _via_get(dataset, sid, fields + ("rgb",))

"""Ground truth for scoring: only the fields the protocols need, read as fast as the format allows.

For the ``humandepth`` HDF5 format the bulk reader :meth:`HumanDepthDataset.read_arrays` reads only
depth, mask (and normals), one slice per run of consecutive rows; it skips what scoring does not need
(RGB, metadata, per-sample camera look-ups), which is most of the cost of :meth:`HumanDepthDataset.get`
at 256x256.  Every other reader goes through ``dataset.get``.  ``tests/test_benchmark_reading.py``
checks that both paths return identical arrays.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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


def _read_humandepth(dataset, ids: list[str], fields: tuple[str, ...]) -> Iterator[GroundTruth]:
    wanted = ("depth", "mask") + tuple(n for n in ("normal",) if n in fields and n in dataset.fields)
    for sid, a in dataset.read_arrays(ids, wanted):
        yield GroundTruth(sid, a["depth"], a["mask"], a.get("normal"), a["K"])


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

"""A ``torch.utils.data.Dataset`` view of any :class:`~humandepth.data.dataset_base.DepthDataset`."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset

from humandepth.data.sample import FIELD_SCHEMA


class TorchDataset(Dataset):
    """Items are dicts of tensors, channels first for images.

    ``rgb`` -> float32 (3, H, W) in [0, 1]; ``depth``/``depth_base``/``depth_detail``/``body_depth``
    -> float32 (1, H, W) metres; ``mask`` -> bool (1, H, W); ``normal`` -> float32 (3, H, W);
    ``parts`` -> int64 (H, W); ``joints2d``/``joints3d`` -> float32 (16, 2|3); ``K`` -> float32 (3, 3)
    when the sample has a camera; ``id`` -> str.  ``fields`` selects which arrays to load (default:
    every field the dataset has).  ``transform`` (optional) maps the dict to a dict.
    Readers open their files lazily per process, so DataLoader workers are safe.
    """

    def __init__(self, dataset, fields: tuple[str, ...] | None = None, transform=None):
        self.dataset = dataset
        self.ids = list(dataset.ids)
        unknown = set(fields or ()) - set(FIELD_SCHEMA)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}; known: {list(FIELD_SCHEMA)}")
        self.fields = fields
        self.transform = transform

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> dict:
        s = self.dataset.get(self.ids[index])
        item: dict = {"id": s.id}
        names = self.fields or tuple(s.present_fields())
        for name in names:
            arr = getattr(s, name)
            if arr is None:
                raise KeyError(f"sample {s.id!r} has no field {name!r}")
            if name == "rgb":
                t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1))).float() / 255.0
            elif name == "normal":
                t = torch.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
            elif name == "parts":
                t = torch.from_numpy(arr.astype(np.int64))
            elif arr.ndim == 2 and name not in ("joints2d", "joints3d"):
                t = torch.from_numpy(np.ascontiguousarray(arr))[None]
            else:
                t = torch.from_numpy(np.ascontiguousarray(arr))
            item[name] = t
        if s.camera is not None:
            item["K"] = torch.from_numpy(s.camera.K.astype(np.float32))
        return self.transform(item) if self.transform else item

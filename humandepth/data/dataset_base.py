"""What every dataset reader offers, whatever its format on disk."""

from __future__ import annotations

from collections.abc import Iterator

from humandepth.data.sample import Sample


class DepthDataset:
    """Base class of dataset readers (``humandepth`` HDF5 shards, ``tang2019``, ``folder``).

    Subclasses set ``name``, ``kind``, ``root`` and implement :attr:`ids`, :meth:`get` and
    :meth:`checksum`.  Integer indexing follows the order of :attr:`ids` (sorted, stable).
    """

    name: str = ""
    kind: str = "external"
    format: str = ""

    @property
    def ids(self) -> list[str]:
        raise NotImplementedError

    def get(self, sample_id: str) -> Sample:
        raise NotImplementedError

    def checksum(self) -> str:
        """sha256 (hex) identifying the exact ground truth, recorded with every score."""
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index: int) -> Sample:
        ids = self.ids
        if not isinstance(index, int | slice) and hasattr(index, "__index__"):
            index = index.__index__()
        if not isinstance(index, int):
            raise TypeError(f"dataset index must be an int, got {type(index).__name__}; use .get(id) for ids")
        if not -len(ids) <= index < len(ids):
            raise IndexError(f"index {index} out of range for dataset {self.name!r} with {len(ids)} samples")
        return self.get(ids[index])

    def __iter__(self) -> Iterator[Sample]:
        for sample_id in self.ids:
            yield self.get(sample_id)

    def torch(self, fields: tuple[str, ...] | None = None, transform=None):
        """A ``torch.utils.data.Dataset`` over this dataset (:class:`~humandepth.data.torch_dataset.TorchDataset`)."""
        from humandepth.data.torch_dataset import TorchDataset

        return TorchDataset(self, fields=fields, transform=transform)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, kind={self.kind!r}, samples={len(self)})"

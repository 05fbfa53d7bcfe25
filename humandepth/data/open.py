"""``open_dataset``: one entry point for a registered name or a path in any supported format."""

from __future__ import annotations

from pathlib import Path

from humandepth.data.dataset_base import DepthDataset


def open_path(path, format: str | None = None, name: str | None = None) -> DepthDataset:
    """Open the dataset at ``path``; ``format`` is detected when None (humandepth, tang2019, folder)."""
    from humandepth.data.formats.folder import FolderDataset, looks_like_folder_dataset
    from humandepth.data.formats.tang2019 import Tang2019Dataset, looks_like_tang2019
    from humandepth.data.store import HumanDepthDataset, is_humandepth_dataset

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"dataset path not found: {path}")
    if format is None:
        if is_humandepth_dataset(path):
            format = "humandepth"
        elif looks_like_tang2019(path):
            format = "tang2019"
        elif looks_like_folder_dataset(path):
            format = "folder"
        else:
            raise ValueError(
                f"{path} is not a dataset: expected dataset.json (humandepth), NNNN_img_resize.jpg + NNNN_depth.npy "
                f"(tang2019) or <id>/rgb.png + depth files (folder)"
            )
    if format == "humandepth":
        ds = HumanDepthDataset(path)
        if name:
            ds.name = name
        return ds
    if format == "tang2019":
        return Tang2019Dataset(path, name=name or "tang2019-real")
    if format == "folder":
        return FolderDataset(path, name=name)
    raise ValueError(f"unknown dataset format {format!r} for {path}")


def open_dataset(name_or_path, format: str | None = None) -> DepthDataset:
    """A registered dataset name (``datasets.yaml``) or a path -> a :class:`DepthDataset`.

    The result has ``len()``, integer indexing returning :class:`~humandepth.data.sample.Sample`,
    ``.ids``, ``.get(id)``, ``.checksum()`` and ``.torch()``.  A URL (``s3://bucket/path``; any fsspec
    protocol but ``file://``) opens a humandepth dataset in object storage through a local sha256-checked
    mirror under ``$HUMANDEPTH_CACHE`` (:func:`humandepth.data.remote.open_remote`).
    """
    from humandepth.data.registry import get_entry
    from humandepth.data.remote import is_remote, open_remote

    if is_remote(name_or_path):
        if format not in (None, "humandepth"):
            raise ValueError(f"{name_or_path}: only the humandepth format can be read from object storage")
        return open_remote(str(name_or_path))
    if str(name_or_path).startswith("file://"):
        name_or_path = str(name_or_path)[len("file://"):]

    p = Path(str(name_or_path)).expanduser()
    if p.exists():
        return open_path(p, format)
    text = str(name_or_path)
    if "/" in text or text.startswith("."):
        raise FileNotFoundError(f"dataset path not found: {p}")
    entry = get_entry(text)  # an unknown name raises, listing the known ones
    if entry.format == "scans":
        raise ValueError(f"{entry.name!r} is a scan collection for `humandepth render --body scan`, not an image "
                         "dataset")
    if not entry.is_present():
        raise FileNotFoundError(
            f"dataset {entry.name!r} is not present at {entry.local_path}. How to obtain it: {entry.obtain}"
        )
    return open_path(entry.local_path, entry.format, name=entry.name)

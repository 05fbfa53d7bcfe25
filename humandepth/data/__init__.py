"""The data contract in code: cameras, samples, datasets on disk, the registry, predictions files.

Every other wing imports this package; it imports none of them.  Conventions:
:mod:`humandepth.data.conventions`.
"""

from humandepth.data.base_detail import DEFAULT_FILTER, BaseDetailFilter, split_base_detail
from humandepth.data.camera import Camera
from humandepth.data.conventions import CONVENTIONS, JOINT_NAMES, PART_NAMES
from humandepth.data.dataset_base import DepthDataset
from humandepth.data.geometry import backproject, normals_from_depth
from humandepth.data.open import open_dataset
from humandepth.data.predictions import Predictions, PredictionsWriter
from humandepth.data.sample import FIELD_SCHEMA, Sample
from humandepth.data.store import DatasetWriter, HumanDepthDataset, write_samples

__all__ = [
    "CONVENTIONS", "DEFAULT_FILTER", "FIELD_SCHEMA", "JOINT_NAMES", "PART_NAMES", "BaseDetailFilter", "Camera",
    "DatasetWriter", "DepthDataset", "HumanDepthDataset", "Predictions", "PredictionsWriter", "Sample",
    "backproject", "normals_from_depth", "open_dataset", "split_base_detail", "write_samples",
]

"""One sample of the data contract, and the schema of its fields."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from humandepth.data.camera import Camera

# name -> (dtype, shape with "H"/"W" placeholders).  ``rgb``, ``depth`` and ``mask`` are required.
FIELD_SCHEMA: dict[str, tuple[np.dtype, tuple]] = {
    "rgb": (np.dtype(np.uint8), ("H", "W", 3)),
    "depth": (np.dtype(np.float32), ("H", "W")),
    "mask": (np.dtype(np.bool_), ("H", "W")),
    "normal": (np.dtype(np.float32), ("H", "W", 3)),
    "parts": (np.dtype(np.uint8), ("H", "W")),
    "depth_base": (np.dtype(np.float32), ("H", "W")),
    "depth_detail": (np.dtype(np.float32), ("H", "W")),
    "body_depth": (np.dtype(np.float32), ("H", "W")),
    "joints2d": (np.dtype(np.float32), (16, 2)),
    "joints3d": (np.dtype(np.float32), (16, 3)),
}
REQUIRED_FIELDS = ("rgb", "depth", "mask")
ARRAY_FIELDS = tuple(FIELD_SCHEMA)


def expected_shape(name: str, height: int, width: int) -> tuple[int, ...]:
    """The shape field ``name`` must have for an image of ``height`` x ``width``."""
    return tuple(height if s == "H" else width if s == "W" else s for s in FIELD_SCHEMA[name][1])


@dataclass
class Sample:
    """One image with its ground truth.  Shapes and dtypes: :data:`FIELD_SCHEMA`; meaning: conventions.

    ``meta`` holds the source kind, seed, generator config, per-asset id + license + attribution and
    the renderer name; it must be JSON-serialisable.
    """

    id: str
    rgb: np.ndarray
    depth: np.ndarray
    mask: np.ndarray
    normal: np.ndarray | None = None
    parts: np.ndarray | None = None
    depth_base: np.ndarray | None = None
    depth_detail: np.ndarray | None = None
    body_depth: np.ndarray | None = None
    joints2d: np.ndarray | None = None
    joints3d: np.ndarray | None = None
    camera: Camera | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def height(self) -> int:
        return int(self.depth.shape[0])

    @property
    def width(self) -> int:
        return int(self.depth.shape[1])

    def present_fields(self) -> list[str]:
        """Names of the array fields that hold a value."""
        return [f.name for f in fields(self) if f.name in FIELD_SCHEMA and getattr(self, f.name) is not None]

    def validate(self) -> None:
        """Raise ``ValueError`` naming the sample and field when a field breaks the schema."""
        if not isinstance(self.id, str) or not self.id or "/" in self.id:
            raise ValueError(f"sample id must be a non-empty string without '/', got {self.id!r}")
        if self.depth is None or np.ndim(self.depth) != 2:
            raise ValueError(f"sample {self.id!r}: depth must be (H, W), got {np.shape(self.depth)}")
        h, w = self.height, self.width
        for name in self.present_fields():
            arr = getattr(self, name)
            want_dtype = FIELD_SCHEMA[name][0]
            want_shape = expected_shape(name, h, w)
            if not isinstance(arr, np.ndarray) or arr.dtype != want_dtype or arr.shape != want_shape:
                got = (getattr(arr, "dtype", type(arr).__name__), np.shape(arr))
                raise ValueError(
                    f"sample {self.id!r}: field {name!r} must be {want_dtype} {want_shape}, got {got[0]} {got[1]}"
                )
        for name in ("depth", "depth_base", "depth_detail", "body_depth", "normal"):
            arr = getattr(self, name)
            if arr is not None and not np.all(np.isfinite(arr)):
                raise ValueError(f"sample {self.id!r}: field {name!r} holds NaN or inf (use 0 for 'no value')")
        if self.camera is not None and (self.camera.width, self.camera.height) != (w, h):
            raise ValueError(
                f"sample {self.id!r}: camera is {self.camera.width}x{self.camera.height} but images are {w}x{h}"
            )

"""Small facts about the installed RealSense SDK (pyrealsense2) and conversions to humandepth types.

* Recording format: librealsense up to 2.57 writes ROS1 bags (``.bag``); from 2.58 it refuses ``.bag``
  and writes ROS2 rosbag2/SQLite (``.db3``).  :func:`recording_extension` picks the extension from the
  installed version; :func:`sniff_recording` tells the format of a file from its first bytes.
* Intrinsics: ``rs.intrinsics`` <-> (3, 3) ``K`` in pixels (the SDK's ``ppx``/``ppy`` already use
  pixel centres at integer coordinates, the humandepth convention).
* Extrinsics: ``rs.extrinsics`` (rotation column-major, translation metres; ``p_to = R p_from + t``)
  <-> a (4, 4) float64 ``to_from_from`` matrix.
"""

from __future__ import annotations

import functools
import importlib.metadata
import sqlite3
from pathlib import Path

import numpy as np

ROSBAG2_MAGIC = b"SQLite format 3\x00"
ROSBAG1_MAGIC = b"#ROSBAG V2.0"
FORMATS = {"rosbag2-sqlite": ".db3", "rosbag1": ".bag"}


def rs():
    """Import pyrealsense2 with an error that says how to fix a missing system library."""
    try:
        import pyrealsense2
    except ImportError as e:
        raise ImportError(
            f"pyrealsense2 cannot be imported ({e}); on Debian/Ubuntu it needs libusb: "
            "apt-get install libusb-1.0-0"
        ) from e
    return pyrealsense2


@functools.cache
def sdk_version() -> str:
    """Version of the installed pyrealsense2, e.g. ``'2.59.1'`` (``rs.__version__`` exists only from 2.58)."""
    version = getattr(rs(), "__version__", None)
    if not version:
        version = importlib.metadata.version("pyrealsense2")
    return ".".join(version.split(".")[:3])


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".")[:3] if p.isdigit())


def recording_format(version: str | None = None) -> str:
    """The format this SDK version records: ``rosbag2-sqlite`` from 2.58.0, ``rosbag1`` before."""
    return "rosbag2-sqlite" if _version_tuple(version or sdk_version()) >= (2, 58, 0) else "rosbag1"


def recording_extension(version: str | None = None) -> str:
    """``.db3`` from SDK 2.58.0 on (the SDK refuses ``.bag`` there), ``.bag`` up to 2.57.x."""
    return FORMATS[recording_format(version)]


def sniff_recording(path) -> str:
    """The format of a recording from its first bytes: ``rosbag2-sqlite`` or ``rosbag1``.

    Raises ``FileNotFoundError`` when it is missing and ``ValueError`` (naming the file) when it is
    empty or neither format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recording {path} does not exist")
    with open(path, "rb") as f:
        head = f.read(len(ROSBAG2_MAGIC))
    if head.startswith(ROSBAG2_MAGIC):
        return "rosbag2-sqlite"
    if head.startswith(ROSBAG1_MAGIC):
        return "rosbag1"
    what = "is empty" if not head else f"starts with {head[:12]!r}"
    raise ValueError(f"recording {path} is not a RealSense recording (.db3 SQLite or ROS1 .bag): it {what}")


def check_sqlite_recording(path) -> dict[str, int]:
    """Integrity-check a ``.db3`` recording and count its image messages per stream.

    Returns ``{"depth": n, "color": m, ...}`` keyed by the lower-cased stream name of every
    ``/device_*/sensor_*/<Stream>_<i>/image/data*`` topic.  Raises ``ValueError`` naming the file when
    SQLite reports damage (truncated or corrupted file) or when it holds no image topics.
    """
    path = Path(path)
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = con.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(check.splitlines()[-1] if "\n" in check else check)
            rows = con.execute(
                "SELECT topics.name, COUNT(*) FROM messages JOIN topics ON messages.topic_id = topics.id "
                "GROUP BY topics.name"
            ).fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        first = str(e).splitlines()[0][:200]
        raise ValueError(f"recording {path} is damaged (truncated or corrupted): SQLite says {first!r}") from None
    from humandepth.capture.rosbag1 import image_stream

    counts: dict[str, int] = {}
    for topic, n in rows:
        stream = image_stream(topic)
        if stream is not None:
            counts[stream] = counts.get(stream, 0) + int(n)
    if not counts:
        raise ValueError(f"recording {path} holds no image streams")
    return counts


def intrinsics_to_K(intr) -> np.ndarray:
    """``rs.intrinsics`` -> (3, 3) float64 K in pixels."""
    return np.array([[intr.fx, 0.0, intr.ppx], [0.0, intr.fy, intr.ppy], [0.0, 0.0, 1.0]], dtype=np.float64)


def intrinsics_to_dict(intr) -> dict:
    """``rs.intrinsics`` -> JSON-able dict (width, height, K, distortion model name, coeffs)."""
    return {
        "width": int(intr.width), "height": int(intr.height), "K": intrinsics_to_K(intr).tolist(),
        "model": str(intr.model).split(".")[-1], "coeffs": [float(c) for c in intr.coeffs],
    }


def make_intrinsics(K: np.ndarray, width: int, height: int, coeffs=(0.0, 0.0, 0.0, 0.0, 0.0)):
    """(3, 3) K (pixels) -> ``rs.intrinsics`` with the Brown-Conrady model."""
    r = rs()
    i = r.intrinsics()
    i.width, i.height = int(width), int(height)
    i.fx, i.fy, i.ppx, i.ppy = float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2])
    i.model = r.distortion.brown_conrady
    i.coeffs = [float(c) for c in coeffs]
    return i


def extrinsics_to_matrix(ext) -> np.ndarray:
    """``rs.extrinsics`` (column-major rotation) -> (4, 4) float64 ``to_from_from``."""
    T = np.eye(4)
    T[:3, :3] = np.asarray(ext.rotation, dtype=np.float64).reshape(3, 3).T
    T[:3, 3] = np.asarray(ext.translation, dtype=np.float64)
    return T


def make_extrinsics(T: np.ndarray):
    """(4, 4) ``to_from_from`` -> ``rs.extrinsics`` (rotation stored column-major, as the SDK does)."""
    e = rs().extrinsics()
    e.rotation = [float(x) for x in np.asarray(T, dtype=np.float64)[:3, :3].T.reshape(-1)]
    e.translation = [float(x) for x in np.asarray(T, dtype=np.float64)[:3, 3]]
    return e


def describe_devices() -> list[dict]:
    """Every device the SDK sees now: name, serial, product line, firmware, USB type (missing -> '?')."""
    r = rs()
    out = []
    for dev in r.context().query_devices():
        info = {}
        for key, field in (("name", "name"), ("serial", "serial_number"), ("product_line", "product_line"),
                           ("firmware", "firmware_version"), ("usb", "usb_type_descriptor")):
            ci = getattr(r.camera_info, field)
            info[key] = dev.get_info(ci) if dev.supports(ci) else "?"
        out.append(info)
    return out

"""Message counts of a ROS1 ``.bag`` recording (SDK releases up to 2.57), from the bag's own index.

A ROS1 bag (format 2.0) ends with an index the recorder writes when it closes the file: one connection record
per topic and one chunk-info record per chunk, counting the messages of each connection in that chunk.  The
``rosbags`` library reads it (:class:`rosbags.rosbag1.Reader`: ``connection.msgcount``), so the number of
messages per topic is known without reading any message.  A bag whose recorder never finished has no index: it
is reported as truncated rather than guessed at.
"""

from __future__ import annotations

from pathlib import Path

MAGIC = b"#ROSBAG V2.0\n"


def image_stream(topic: str) -> str | None:
    """``depth`` / ``color`` / ... for a RealSense image topic ``/device_*/sensor_*/<Stream>_<i>/image/data``
    (the same layout in ``.bag`` and ``.db3``), else ``None``."""
    parts = topic.strip("/").split("/")
    if len(parts) >= 5 and parts[3] == "image" and parts[4] == "data":
        return parts[2].rsplit("_", 1)[0].lower()
    return None


def count_rosbag1_images(path) -> dict[str, int]:
    """Image messages per stream of a ROS1 bag, from its index: ``{"depth": n, "color": m, ...}``.

    Raises ``ValueError`` naming the file when it is not a ROS1 bag, has no index (the recorder did not
    finish: a truncated recording), its index is damaged, or it holds no image topics.
    """
    from rosbags.rosbag1 import Reader, ReaderError

    path = Path(path)
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"recording {path} is not a ROS1 bag (no {MAGIC!r} at its start)")
    try:
        with Reader(path) as bag:
            topics = [(c.topic, c.msgcount) for c in bag.connections]
    except ReaderError as e:
        if "not indexed" in str(e):
            raise ValueError(f"recording {path} has no index (the recorder did not finish writing it: truncated "
                             "recording?)") from None
        raise ValueError(f"recording {path} is damaged (truncated or corrupted): {e}") from None
    counts: dict[str, int] = {}
    for topic, n in topics:
        stream = image_stream(topic)
        if stream is not None:
            counts[stream] = counts.get(stream, 0) + n
    if not counts:
        raise ValueError(f"recording {path} holds no image streams")
    return counts

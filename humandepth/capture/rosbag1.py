"""Message counts of a ROS1 ``.bag`` recording (SDK releases up to 2.57), read from the bag's own index.

A ROS1 bag (format 2.0) is a sequence of records ``<u32 header_len><header><u32 data_len><data>``; a
header is a list of ``<u32 len>name=value`` fields, ``op`` giving the record type.  The first record is
the *bag header* (op 0x03: ``index_pos``, ``conn_count``, ``chunk_count``).  The recorder writes the
index when it closes the file, at ``index_pos``: one *connection* record per topic (op 0x07: ``conn``,
``topic``) and one *chunk info* record per chunk (op 0x06, its data a list of ``<u32 conn><u32 count>``
pairs).  Summing the chunk infos gives the number of messages per topic without reading any message.

A bag whose recorder never finished has ``index_pos`` 0 (or pointing past the end): it is reported as
truncated rather than guessed at.  Reference: the ROS bag format 2.0 specification (wiki.ros.org/Bags/Format/2.0).
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path

MAGIC = b"#ROSBAG V2.0\n"
OP_BAG_HEADER, OP_CHUNK_INFO, OP_CONNECTION = 0x03, 0x06, 0x07


def image_stream(topic: str) -> str | None:
    """``depth`` / ``color`` / ... for a RealSense image topic ``/device_*/sensor_*/<Stream>_<i>/image/data``
    (the same layout in ``.bag`` and ``.db3``), else ``None``."""
    parts = topic.strip("/").split("/")
    if len(parts) >= 5 and parts[3] == "image" and parts[4] == "data":
        return parts[2].rsplit("_", 1)[0].lower()
    return None


def _fields(header: bytes) -> dict[str, bytes]:
    out, pos = {}, 0
    while pos < len(header):
        (n,) = struct.unpack_from("<I", header, pos)
        name, _, value = header[pos + 4: pos + 4 + n].partition(b"=")
        out[name.decode("ascii", "replace")] = value
        pos += 4 + n
    return out


def _read_record(buf: mmap.mmap, pos: int, path: Path) -> tuple[dict[str, bytes], bytes, int]:
    """The record at ``pos``: (header fields, data, position of the next record)."""
    try:
        (hlen,) = struct.unpack_from("<I", buf, pos)
        header = bytes(buf[pos + 4: pos + 4 + hlen])
        (dlen,) = struct.unpack_from("<I", buf, pos + 4 + hlen)
    except struct.error:
        raise ValueError(f"recording {path} is damaged (truncated or corrupted): a record at byte {pos} is cut off") \
            from None
    start = pos + 8 + hlen
    if len(header) != hlen or start + dlen > len(buf):
        raise ValueError(f"recording {path} is damaged (truncated or corrupted): the record at byte {pos} runs past "
                         f"the end of the file")
    return _fields(header), buf[start: start + dlen], start + dlen


def count_rosbag1_images(path) -> dict[str, int]:
    """Image messages per stream of a ROS1 bag, from its index: ``{"depth": n, "color": m, ...}``.

    Raises ``ValueError`` naming the file when it is not a ROS1 bag, has no index (the recorder did not
    finish: a truncated recording), its index is damaged, or it holds no image topics.
    """
    path = Path(path)
    with open(path, "rb") as f:
        if f.read(len(MAGIC)) != MAGIC:
            raise ValueError(f"recording {path} is not a ROS1 bag (no {MAGIC!r} at its start)")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:  # only the header and index are read
            try:
                topics, messages = _index(data, path)
            except (struct.error, KeyError, IndexError) as e:  # a field missing or cut short
                raise ValueError(f"recording {path} is damaged (truncated or corrupted): its header or index "
                                 f"cannot be read ({type(e).__name__}: {e})") from None
    counts: dict[str, int] = {}
    for conn, topic in topics.items():
        stream = image_stream(topic)
        if stream is not None:
            counts[stream] = counts.get(stream, 0) + messages.get(conn, 0)
    if not counts:
        raise ValueError(f"recording {path} holds no image streams")
    return counts


def _index(buf: mmap.mmap, path: Path) -> tuple[dict[int, str], dict[int, int]]:
    """``({conn: topic}, {conn: messages})`` from the bag header and the index records."""
    head, _, _ = _read_record(buf, len(MAGIC), path)
    if head.get("op") != bytes([OP_BAG_HEADER]):
        raise ValueError(f"recording {path} is damaged: its first record is not a bag header")
    (index_pos,) = struct.unpack("<Q", head["index_pos"])
    (conn_count,) = struct.unpack("<i", head["conn_count"])
    (chunk_count,) = struct.unpack("<i", head["chunk_count"])
    if index_pos == 0 or index_pos >= len(buf):
        raise ValueError(f"recording {path} has no index (the recorder did not finish writing it: truncated "
                         f"recording?)")
    topics: dict[int, str] = {}
    messages: dict[int, int] = {}
    chunks = 0
    pos = index_pos
    while pos < len(buf):
        fields, body, pos = _read_record(buf, pos, path)
        op = fields.get("op", b"\x00")[0]
        if op == OP_CONNECTION:
            topics[struct.unpack("<i", fields["conn"])[0]] = fields["topic"].decode("utf-8", "replace")
        elif op == OP_CHUNK_INFO:
            chunks += 1
            (n,) = struct.unpack("<i", fields["count"])
            for k in range(n):
                conn, count = struct.unpack_from("<iI", body, 8 * k)
                messages[conn] = messages.get(conn, 0) + count
    if len(topics) != conn_count or chunks != chunk_count:
        raise ValueError(f"recording {path} is damaged: its index lists {len(topics)} of {conn_count} connections "
                         f"and {chunks} of {chunk_count} chunks")
    return topics, messages

"""ROS1 .bag frame counts from the bag's own index (bags written here byte by byte to the 2.0 format)."""

from __future__ import annotations

import struct

import pytest

from humandepth.capture.rosbag1 import MAGIC, count_rosbag1_images, image_stream

DEPTH = "/device_0/sensor_0/Depth_0/image/data"
COLOR = "/device_0/sensor_1/Color_0/image/data"
META = "/device_0/sensor_0/Depth_0/image/metadata"


def record(fields: dict[str, bytes], data: bytes = b"") -> bytes:
    header = b"".join(struct.pack("<I", len(k) + 1 + len(v)) + k.encode() + b"=" + v for k, v in fields.items())
    return struct.pack("<I", len(header)) + header + struct.pack("<I", len(data)) + data


def write_bag(path, chunks: list[dict[int, int]], topics: dict[int, str], with_index: bool = True) -> None:
    """A bag whose chunks hold ``{conn: messages}``; message bodies are dummies (only the index is read)."""
    body = b""
    chunk_pos = []
    for chunk in chunks:
        chunk_pos.append(len(MAGIC) + 4096 + len(body))
        payload = b"".join(record({"op": b"\x02", "conn": struct.pack("<i", c), "time": bytes(8)}, b"x" * 16)
                           for c, n in chunk.items() for _ in range(n))
        body += record({"op": b"\x05", "compression": b"none", "size": struct.pack("<I", len(payload))}, payload)
    index_pos = len(MAGIC) + 4096 + len(body)
    index = b"".join(record({"op": b"\x07", "conn": struct.pack("<i", c), "topic": t.encode()},
                            b"") for c, t in topics.items())
    for pos, chunk in zip(chunk_pos, chunks, strict=True):
        pairs = b"".join(struct.pack("<iI", c, n) for c, n in chunk.items())
        index += record({"op": b"\x06", "ver": struct.pack("<i", 1), "chunk_pos": struct.pack("<Q", pos),
                         "start_time": bytes(8), "end_time": bytes(8), "count": struct.pack("<i", len(chunk))}, pairs)
    head = record({"op": b"\x03", "index_pos": struct.pack("<Q", index_pos if with_index else 0),
                   "conn_count": struct.pack("<i", len(topics)), "chunk_count": struct.pack("<i", len(chunks))})
    head += b" " * (4096 - len(head))
    path.write_bytes(MAGIC + head + body + (index if with_index else b""))


def test_counts_every_image_message_per_stream(tmp_path):
    bag = tmp_path / "take.bag"
    write_bag(bag, [{0: 3, 1: 2, 2: 3}, {0: 4, 1: 5}], {0: DEPTH, 1: COLOR, 2: META})
    assert count_rosbag1_images(bag) == {"depth": 7, "color": 7}


def test_image_topics_of_both_formats():
    assert image_stream(DEPTH) == "depth" and image_stream(COLOR) == "color"
    assert image_stream(META) is None and image_stream("/file_version") is None


def test_unfinished_and_damaged_bags_name_the_file(tmp_path):
    bag = tmp_path / "cut.bag"
    write_bag(bag, [{0: 2, 1: 2}], {0: DEPTH, 1: COLOR}, with_index=False)
    with pytest.raises(ValueError, match=r"cut\.bag has no index .*truncated"):
        count_rosbag1_images(bag)
    whole = tmp_path / "whole.bag"
    write_bag(whole, [{0: 2, 1: 2}], {0: DEPTH, 1: COLOR})
    short = tmp_path / "short.bag"
    short.write_bytes(whole.read_bytes()[:-10])
    with pytest.raises(ValueError, match=r"short\.bag is damaged"):
        count_rosbag1_images(short)
    other = tmp_path / "other.bag"
    other.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(ValueError, match=r"other\.bag is not a ROS1 bag"):
        count_rosbag1_images(other)
    for i, junk in enumerate([b"\x02\x00\x00\x00ab" + bytes(4), b"\x05\x00\x00\x00op=\x03" + bytes(8)]):
        bad = tmp_path / f"junk{i}.bag"
        bad.write_bytes(MAGIC + junk)  # a header field cut short; a bag header without its fields
        with pytest.raises(ValueError, match=rf"junk{i}\.bag is damaged"):
            count_rosbag1_images(bad)
    no_images = tmp_path / "imu.bag"
    write_bag(no_images, [{0: 5}], {0: "/device_0/sensor_2/Accel_0/imu/data"})
    with pytest.raises(ValueError, match="no image streams"):
        count_rosbag1_images(no_images)

"""ROS1 .bag frame counts from the bag's own index, on real bags written with the rosbags library (sensor_msgs
Image messages on the RealSense topics), finished, cut short, unfinished or not bags at all."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from rosbags.rosbag1 import Writer
from rosbags.typesys import Stores, get_typestore

from humandepth.capture.rosbag1 import count_rosbag1_images, image_stream

DEPTH = "/device_0/sensor_0/Depth_0/image/data"
COLOR = "/device_0/sensor_1/Color_0/image/data"
META = "/device_0/sensor_0/Depth_0/image/metadata"
IMU = "/device_0/sensor_2/Accel_0/imu/data"
TYPES = get_typestore(Stores.ROS1_NOETIC)
IMAGE = TYPES.types["sensor_msgs/msg/Image"]
HEADER = TYPES.types["std_msgs/msg/Header"]
TIME = TYPES.types["builtin_interfaces/msg/Time"]
STRING = TYPES.types["std_msgs/msg/String"]


def _image(i: int) -> bytes:
    msg = IMAGE(header=HEADER(seq=i, stamp=TIME(sec=i // 30, nanosec=(i % 30) * 33_333_333), frame_id=""),
                height=2, width=3, encoding="16UC1", is_bigendian=0, step=6, data=np.full(12, i, np.uint8))
    return TYPES.serialize_ros1(msg, IMAGE.__msgtype__)


def _text(i: int) -> bytes:
    return TYPES.serialize_ros1(STRING(data=f"frame {i}"), STRING.__msgtype__)


def write_bag(path, messages: dict[str, int], chunk_bytes: int = 256, unfinished_copy=None) -> None:
    """A real ROS1 bag: ``messages[topic]`` messages on each topic (images on image topics, strings elsewhere),
    interleaved, in chunks of about ``chunk_bytes``.  ``unfinished_copy``: also copy the file as it is before
    the writer closes it (a recorder that never finished: no index)."""
    writer = Writer(path)
    writer.chunk_threshold = chunk_bytes
    writer.open()
    conns = {t: writer.add_connection(t, (IMAGE if image_stream(t) else STRING).__msgtype__, typestore=TYPES)
             for t in messages}
    for i in range(max(messages.values())):
        for topic, n in messages.items():
            if i < n:
                writer.write(conns[topic], i * 33_333_333, _image(i) if image_stream(topic) else _text(i))
    if unfinished_copy is not None:
        shutil.copyfile(path, unfinished_copy)
    writer.close()


def test_counts_every_image_message_per_stream(tmp_path):
    bag = tmp_path / "take.bag"
    write_bag(bag, {DEPTH: 7, COLOR: 6, META: 7})
    assert count_rosbag1_images(bag) == {"depth": 7, "color": 6}


def test_image_topics_of_both_formats():
    assert image_stream(DEPTH) == "depth" and image_stream(COLOR) == "color"
    assert image_stream(META) is None and image_stream("/file_version") is None


def test_unfinished_and_damaged_bags_name_the_file(tmp_path):
    whole, cut = tmp_path / "whole.bag", tmp_path / "cut.bag"
    write_bag(whole, {DEPTH: 4, COLOR: 4}, unfinished_copy=cut)
    assert count_rosbag1_images(whole) == {"depth": 4, "color": 4}
    with pytest.raises(ValueError, match=r"cut\.bag has no index .*truncated"):
        count_rosbag1_images(cut)
    short = tmp_path / "short.bag"
    short.write_bytes(whole.read_bytes()[:-10])  # a copy cut short inside the index
    with pytest.raises(ValueError, match=r"short\.bag is damaged"):
        count_rosbag1_images(short)
    other = tmp_path / "other.bag"
    other.write_bytes(b"SQLite format 3\x00" + bytes(100))
    with pytest.raises(ValueError, match=r"other\.bag is not a ROS1 bag"):
        count_rosbag1_images(other)
    no_images = tmp_path / "imu.bag"
    write_bag(no_images, {IMU: 5})
    with pytest.raises(ValueError, match="no image streams"):
        count_rosbag1_images(no_images)

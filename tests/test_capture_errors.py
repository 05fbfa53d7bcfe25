"""Bad input gives a clear error naming the file: damaged recordings, missing takes, no camera."""

from __future__ import annotations

import json
import shutil

import pytest
from capture_helpers import box_scene, small_config

from humandepth.capture.importer import import_take
from humandepth.capture.playback import Recording
from humandepth.capture.sdk import describe_devices, recording_extension, sniff_recording
from humandepth.capture.simulate import simulate_take
from humandepth.capture.sw_recorder import SoftwareRecording, StreamSpec
from humandepth.cli import main
from humandepth.data.camera import Camera
from humandepth.errors import UserError


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    return simulate_take(tmp_path_factory.mktemp("take") / "t", small_config(frames=8), scene=box_scene())


def _copy(take, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(take, dst)
    return dst, dst / json.loads((dst / "take.json").read_text())["recording"]["file"]


def test_truncated_recording_names_the_file(take, tmp_path):
    root, rec = _copy(take, tmp_path)
    data = rec.read_bytes()
    rec.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="damaged") as e:
        import_take(root, tmp_path / "out")
    assert str(rec) in str(e.value)
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_corrupted_recording_names_the_file(take, tmp_path):
    root, rec = _copy(take, tmp_path)
    data = bytearray(rec.read_bytes())
    for i in range(4096, len(data), 3001):  # flip bytes all through the file, header intact
        data[i] ^= 0xFF
    rec.write_bytes(bytes(data))
    with pytest.raises(ValueError) as e:
        import_take(root, tmp_path / "out")
    assert str(rec) in str(e.value)
    assert not (tmp_path / "out" / "dataset.json").exists()


def test_frames_missing_from_playback_are_reported_against_the_file(take, tmp_path):
    import sqlite3

    root, rec = _copy(take, tmp_path)
    con = sqlite3.connect(rec)  # a well-formed file whose last colour message is gone
    topic = con.execute("SELECT id FROM topics WHERE name LIKE '%Color_0/image/data%'").fetchone()[0]
    con.execute("DELETE FROM messages WHERE id = (SELECT MAX(id) FROM messages WHERE topic_id = ?)", (topic,))
    con.commit()
    con.close()
    r = Recording(rec)
    assert r.info.expected_frames == {"depth": 8, "color": 7}
    summary = import_take(root / "recording.db3", tmp_path / "bare")  # bare file: counts against the file only
    assert summary["delivered"] == {"depth": 8, "color": 7}
    assert summary["frames"] == 7 and summary["unpaired_depth"] == 1  # frame 8 has no colour within 1/2 period
    with pytest.raises(ValueError, match="take.json records"):  # the take's sidecar says 8 frames
        json_side = json.loads((root / "take.json").read_text())
        json_side["frames"] = 9
        (root / "take.json").write_text(json.dumps(json_side))
        import_take(root, tmp_path / "out")


def test_not_a_recording_and_missing_paths(tmp_path):
    text = tmp_path / "notes.db3"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a RealSense recording") as e:
        sniff_recording(text)
    assert str(text) in str(e.value)
    empty = tmp_path / "empty.bag"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        Recording(empty)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        import_take(tmp_path / "nothing", tmp_path / "out")
    half = tmp_path / "half"
    half.mkdir()
    (half / "recording.db3").write_bytes(b"SQLite format 3\x00")
    with pytest.raises(FileNotFoundError, match="unfinished take"):
        import_take(half, tmp_path / "out")


def test_cli_prints_one_line_errors(tmp_path, capsys):
    assert main(["capture", "import", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "missing" in err
    with pytest.raises(SystemExit) as e:  # argparse rejects a malformed size with usage + exit 2
        main(["capture", "simulate", "--out", str(tmp_path / "s"), "--depth-size", "640by480"])
    assert e.value.code == 2 and "must look like WIDTHxHEIGHT" in capsys.readouterr().err


def test_no_camera_gives_a_clear_error_listing_what_the_sdk_sees(tmp_path):
    if any(d["product_line"] == "D400" for d in describe_devices()):
        pytest.skip("a D400 camera is connected")
    from humandepth.capture.live import record_take

    with pytest.raises(UserError, match="no D400-series camera connected: pyrealsense2 .* sees") as e:
        record_take(tmp_path / "take", seconds=1)
    assert "no devices at all" in str(e.value) or "serial" in str(e.value)
    assert not (tmp_path / "take").exists()  # nothing written
    with pytest.raises(ValueError, match="--preset"):
        record_take(tmp_path / "take", preset="nope")


def test_recording_extension_follows_the_sdk_version(tmp_path):
    from humandepth.capture.sdk import recording_format

    assert recording_extension("2.57.7") == ".bag" and recording_format("2.56.5") == "rosbag1"
    assert recording_extension("2.58.0") == ".db3" and recording_extension("2.59.1") == ".db3"
    cam = Camera.from_focal(8, 6, 5.0)
    wrong = ".bag" if recording_extension() == ".db3" else ".db3"
    with pytest.raises(ValueError, match="writes"):
        SoftwareRecording(tmp_path / f"x{wrong}", StreamSpec(cam.K, 8, 6), StreamSpec(cam.K, 8, 6), __import__(
            "numpy").eye(4))


def test_refuses_to_overwrite_a_take_or_a_foreign_directory(take, tmp_path):
    with pytest.raises(FileExistsError, match="already holds a finished take; .* pass --overwrite"):
        simulate_take(take, small_config(frames=1), scene=box_scene())
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    with pytest.raises(FileExistsError, match="holds 'thesis.tex', which is not part of a take"):
        simulate_take(foreign, small_config(frames=1), scene=box_scene(), overwrite=True)
    assert (foreign / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # nothing staged beside it

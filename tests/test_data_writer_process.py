"""BackgroundDatasetWriter: the same bytes as a DatasetWriter, errors from either side keep finished shards."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from humandepth.data import Camera, Sample
from humandepth.data.store import DatasetWriter, HumanDepthDataset, sha256_file
from humandepth.data.writer_process import BackgroundDatasetWriter
from humandepth.errors import UserError

H, W = 24, 32


def arrays_of(i: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(i)
    depth = (1.0 + 0.5 * rng.random((H, W))).astype(np.float32)
    depth[:2] = 0.0
    return {"depth": depth, "rgb": rng.integers(0, 255, (H, W, 3), dtype=np.uint8)}


def make_sample(sid: str, arrays: dict, info: dict) -> Sample:
    depth = arrays["depth"].copy()
    K = np.array([[30.0, 0, W / 2 - 0.5], [0, 30.0, H / 2 - 0.5], [0, 0, 1]])
    return Sample(id=sid, rgb=arrays["rgb"].copy(), depth=depth, mask=depth > 1.2, camera=Camera(K, W, H),
                  meta={"frame": info["frame"]})


def kwargs(root, **over) -> dict:
    return {"root": root, "name": "bg", "kind": "captured", "shard_size": 3, "compression": "lzf", **over}


def test_same_shards_as_a_plain_writer(tmp_path):
    n = 8
    with DatasetWriter(**kwargs(tmp_path / "plain")) as w:
        for i in range(n):
            w.add(make_sample(f"s{i:02d}", arrays_of(i), {"frame": i}))
    with BackgroundDatasetWriter(kwargs(tmp_path / "bg"), make_sample, slots=2) as bw:
        for i in range(n):
            bw.add(f"s{i:02d}", arrays_of(i), {"frame": i})
    assert bw.card == str(tmp_path / "bg" / "dataset.json")
    plain, bg = HumanDepthDataset(tmp_path / "plain"), HumanDepthDataset(tmp_path / "bg")
    assert bg.ids == plain.ids and len(bg) == n
    shards = sorted(p.name for p in (tmp_path / "plain" / "shards").glob("shard-*.h5"))
    assert len(shards) == 3
    for name in shards:
        assert sha256_file(tmp_path / "bg" / "shards" / name) == sha256_file(tmp_path / "plain" / "shards" / name)
    s = bg.get("s05")
    np.testing.assert_array_equal(s.depth, arrays_of(5)["depth"])
    assert s.meta == {"frame": 5}


def test_error_in_the_child_names_the_sample_and_keeps_finished_shards(tmp_path):
    def failing(sid, arrays, info):
        if info["frame"] == 4:
            raise ValueError("cannot make this one")
        return make_sample(sid, arrays, info)

    root = tmp_path / "ds"
    with pytest.raises(UserError, match=r"sample 's04': cannot make this one") as ei:  # bad input: one line
        with BackgroundDatasetWriter(kwargs(root), failing, slots=2) as bw:
            for i in range(8):
                bw.add(f"s{i:02d}", arrays_of(i), {"frame": i})
    assert "\n" not in str(ei.value) and "Traceback" not in str(ei.value)
    assert not (root / "dataset.json").exists()
    assert [p.name for p in (root / "shards").glob("shard-*.h5")] == ["shard-00000.h5"]
    # a rerun resumes: the finished shard's ids are reported as done and the dataset completes
    with BackgroundDatasetWriter(kwargs(root), make_sample) as bw:
        assert bw.done_ids == {"s00", "s01", "s02"}
        for i in range(3, 8):
            bw.add(f"s{i:02d}", arrays_of(i), {"frame": i})
    assert HumanDepthDataset(root).ids == [f"s{i:02d}" for i in range(8)]


def test_error_in_the_producer_aborts_without_a_card(tmp_path):
    root = tmp_path / "ds"
    with pytest.raises(OSError, match="truncated"):
        with BackgroundDatasetWriter(kwargs(root), make_sample) as bw:
            for i in range(7):
                bw.add(f"s{i:02d}", arrays_of(i), {"frame": i})
            raise OSError("recording truncated")
    assert not (root / "dataset.json").exists()
    assert json.loads((root / "_progress.json").read_text())["name"] == "bg"
    assert len(list((root / "shards").glob("shard-*.h5"))) == 2  # 6 of the 7 queued samples are safe


def test_bad_input_is_refused_in_the_producer(tmp_path):
    with pytest.raises(ValueError, match="compression"):
        BackgroundDatasetWriter(kwargs(tmp_path / "a", compression="zstd"), make_sample)
    with BackgroundDatasetWriter(kwargs(tmp_path / "b"), make_sample) as bw:
        bw.add("s00", arrays_of(0), {"frame": 0})
        wrong = {"depth": np.zeros((H + 1, W), np.float32), "rgb": arrays_of(1)["rgb"]}
        with pytest.raises(ValueError, match=r"item 's01'.*differ"):
            bw.add("s01", wrong, {"frame": 1})


def test_a_killed_producer_leaves_no_orphan_and_keeps_finished_shards(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    root = tmp_path / "ds"
    script = f"""
import sys, time
sys.path.insert(0, {str(Path(__file__).parent)!r})
from test_data_writer_process import arrays_of, kwargs, make_sample
from humandepth.data.writer_process import BackgroundDatasetWriter
w = BackgroundDatasetWriter(kwargs({str(root)!r}), make_sample)
for i in range(7):
    w.add(f"s{{i:02d}}", arrays_of(i), {{"frame": i}})
print(w._proc.pid, flush=True)
time.sleep(60)
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    deadline = time.monotonic() + 20
    while len(list((root / "shards").glob("shard-*.h5"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    while Path(f"/proc/{child}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{child}/stat").read_text().split()[2] if Path(f"/proc/{child}/stat").exists() else "X"
        if state == "Z":  # exited, waiting for its new parent to reap it
            break
        time.sleep(0.1)
    stat = Path(f"/proc/{child}/stat")
    assert not stat.exists() or stat.read_text().split()[2] == "Z", "the writer process outlived its producer"
    assert len(list((root / "shards").glob("shard-*.h5"))) == 2 and not (root / "dataset.json").exists()

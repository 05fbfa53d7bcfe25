"""Nothing already written is lost: bad input, a foreign folder or Ctrl-C leaves ``--out`` exactly as it was, and
``--overwrite`` swaps the new output in only when it is complete.  Real commands on real datasets and takes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from render_helpers import anny_ready  # noqa: F401  (session fixture)

from humandepth.cli import main

SMALL_RENDER = ["--count", "2", "--resolution", "64", "--quiet"]
SMALL_TAKE = ["--frames", "3", "--depth-size", "160x120", "--color-size", "160x120", "--person", "mannequin",
              "--arc", "10"]


def digest(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (hidden ones too), by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def one_line_error(capsys) -> str:
    """The command's stderr, which must be a single 'humandepth: error: ...' line (no traceback)."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("humandepth: error: ") and "\n" not in err, err
    return err


@pytest.fixture(scope="module")
def originals(tmp_path_factory, anny_ready):  # noqa: F811
    """A finished render, a finished take and its import, made once; tests work on copies."""
    root = tmp_path_factory.mktemp("originals")
    assert main(["render", "--out", str(root / "r"), *SMALL_RENDER]) == 0
    assert main(["capture", "simulate", "--out", str(root / "t"), *SMALL_TAKE]) == 0
    assert main(["capture", "import", str(root / "t"), "--out", str(root / "c")]) == 0
    return root


@pytest.fixture
def work(originals, tmp_path):
    """Copies of the originals in a fresh folder (``r``, ``t``, ``c``)."""
    for name in ("r", "t", "c"):
        shutil.copytree(originals / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("bad, named", [
    (["--box", "300", "10", "100", "5000"], "--box 300 10 100 5000"),
    (["--box", "10", "10", "100", "5000"], "outside the 160x120 image"),
    (["--mask-range", "3", "1"], "--mask-range 3 1"),
])
def test_import_overwrite_with_a_bad_mask_option_keeps_the_dataset(work, capsys, bad, named):
    before = digest(work / "c")
    assert main(["capture", "import", str(work / "t"), "--out", str(work / "c"), "--overwrite", *bad]) == 2
    assert named in one_line_error(capsys)
    assert digest(work / "c") == before
    assert sorted(p.name for p in work.iterdir()) == ["c", "r", "t"]  # no staging folder left beside it


@pytest.mark.parametrize("bad, named", [
    (["--distance", "-1"], "--distance must be > 0"),
    (["--subpixel", "-0.5"], "subpixel_px (--subpixel) must be >= 0, got -0.5"),
    (["--frames", "0"], "--frames must be >= 1"),
])
def test_simulate_overwrite_with_a_bad_option_keeps_the_take(work, capsys, bad, named):
    before = digest(work / "t")
    assert main(["capture", "simulate", "--out", str(work / "t"), "--overwrite", *SMALL_TAKE[2:], *bad]) == 2
    err = one_line_error(capsys)
    assert named in err and "D400Model(" not in err  # the option, not the model's repr
    assert digest(work / "t") == before
    assert sorted(p.name for p in work.iterdir()) == ["c", "r", "t"]
    capsys.readouterr()
    # and a bad option on a new --out leaves no stub that would block the next run
    assert main(["capture", "simulate", "--out", str(work / "new"), *bad]) == 2
    assert not (work / "new").exists()


def test_simulate_overwrite_replaces_a_take_only_when_the_new_one_is_complete(work, capsys):
    old = json.loads((work / "t" / "take.json").read_text())
    assert main(["capture", "simulate", "--out", str(work / "t"), "--overwrite", *SMALL_TAKE, "--seed", "5"]) == 0
    new = json.loads((work / "t" / "take.json").read_text())
    assert old["simulation"]["simulation"]["seed"] == 0 and new["simulation"]["simulation"]["seed"] == 5
    assert json.loads((work / "t" / "truth" / "depth" / "dataset.json").read_text())["name"] == "t-truth-depth"
    assert sorted(p.name for p in work.iterdir()) == ["c", "r", "t"]


def test_render_overwrite_with_an_empty_scan_folder_keeps_the_dataset(work, capsys):
    (work / "empty").mkdir()
    before = digest(work / "r")
    assert main(["render", "--out", str(work / "r"), "--overwrite", "--body", "scan", "--scans", str(work / "empty"),
                 *SMALL_RENDER]) == 2
    assert "holds no .obj or .ply files" in one_line_error(capsys)
    assert digest(work / "r") == before
    assert sorted(p.name for p in work.iterdir()) == ["c", "empty", "r", "t"]


def test_render_refusals_name_the_option_and_touch_nothing(work, capsys):
    before = digest(work / "r")
    assert main(["render", "--out", str(work / "r"), *SMALL_RENDER]) == 2
    err = one_line_error(capsys)
    assert "already holds a finished dataset" in err and "--overwrite" in err and "overwrite=True" not in err
    # a folder with someone else's files is refused, with or without --overwrite, and nothing in it is touched
    (work / "r" / "notes.txt").write_text("mine")
    for extra in ([], ["--overwrite"]):
        assert main(["render", "--out", str(work / "r"), *SMALL_RENDER, *extra]) == 2
        assert "holds 'notes.txt', which is not part of a dataset" in one_line_error(capsys)
    assert digest(work / "r") == {**before, "notes.txt": hashlib.sha256(b"mine").hexdigest()}
    (work / "r" / "notes.txt").unlink()
    (work / "r" / "shards" / "README").write_text("mine too")  # inside the dataset's own shards/ folder
    assert main(["render", "--out", str(work / "r"), *SMALL_RENDER, "--overwrite"]) == 2
    assert "holds 'shards/README', which is not part of a dataset" in one_line_error(capsys)
    assert (work / "r" / "shards" / "README").read_text() == "mine too"
    foreign = work / "photos"
    foreign.mkdir()
    (foreign / "a.jpg").write_bytes(b"\xff\xd8")
    assert main(["render", "--out", str(foreign), *SMALL_RENDER, "--overwrite"]) == 2
    assert "holds 'a.jpg'" in one_line_error(capsys)
    assert [p.name for p in foreign.iterdir()] == ["a.jpg"]
    # --out that is a file
    assert main(["render", "--out", str(foreign / "a.jpg"), *SMALL_RENDER]) == 2
    assert "is a file, not a folder" in one_line_error(capsys)


def test_an_output_where_nothing_can_be_created_is_one_line(tmp_path, capsys):
    # /sys refuses new entries to everyone (EPERM for root, EACCES for others): a read-only place
    assert main(["render", "--out", "/sys/humandepth-test/r", *SMALL_RENDER]) == 2
    assert "cannot create anything in /sys" in one_line_error(capsys)
    assert main(["capture", "simulate", "--out", "/sys/humandepth-test/t", *SMALL_TAKE]) == 2
    assert "cannot create anything in /sys" in one_line_error(capsys)


def test_render_overwrite_interrupted_keeps_the_old_dataset_and_resumes(work):
    out = work / "r"
    before = digest(out)
    staging = work / ".r.staging"
    cmd = [sys.executable, "-m", "humandepth", "render", "--out", str(out), "--overwrite", "--count", "6",
           "--shard-size", "1", "--resolution", "64", "--seed", "7", "--quiet"]
    # a suite started in the background by a non-interactive shell inherits SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: give the command the default disposition a terminal would
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300
    while not (staging / "shards" / "shard-00000.h5").exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)  # Ctrl-C while the replacement is half made
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err
    assert digest(out) == before  # the old dataset is whole
    finished = sorted(p.name for p in (staging / "shards").glob("shard-*.h5"))
    assert finished and len(finished) < 6
    # the rerun resumes the staged write, then swaps it in
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["skipped_existing"] == len(finished) and summary["rendered"] == 6 - len(finished)
    card = json.loads((out / "dataset.json").read_text())
    assert card["count"] == 6 and card["generator"]["seed"] == 7
    assert not staging.exists() and sorted(p.name for p in work.iterdir()) == ["c", "r", "t"]


def _writer(root, name="plane", **kw):
    from humandepth.data import DatasetWriter

    return DatasetWriter(root, name=name, kind="synthetic", shard_size=2, **kw)


def test_an_overwrite_of_another_configuration_restarts_its_staged_write(tmp_path):
    from data_helpers import plane_sample

    from humandepth.data import HumanDepthDataset

    out = tmp_path / "ds"
    with _writer(out) as w:
        for i in range(3):
            w.add(plane_sample(i))
    before = digest(out)
    with pytest.raises(KeyboardInterrupt):  # an overwrite cut short after one finished shard
        with _writer(out, name="second", overwrite=True) as w:
            for i in range(3):
                w.add(plane_sample(i, z=3.0))
            raise KeyboardInterrupt
    assert digest(out) == before and (tmp_path / ".ds.staging" / "shards" / "shard-00000.h5").is_file()
    # a third configuration with --overwrite starts the staged write again; the same one would resume it
    with _writer(out, name="third", overwrite=True) as w:
        assert w.done_ids == set()
        for i in range(4):
            w.add(plane_sample(i, z=4.0))
    ds = HumanDepthDataset(out)
    assert ds.name == "third" and len(ds) == 4 and float(ds[0].depth.max()) == pytest.approx(4.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]
    # a write that fails before finishing any shard leaves nothing behind, in place or staged
    for target, overwrite in ((tmp_path / "new", False), (out, True)):
        with pytest.raises(ValueError, match="bad sample"):
            with _writer(target, name="fourth", overwrite=overwrite):
                raise ValueError("bad sample")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"] and HumanDepthDataset(out).name == "third"


def test_a_swap_cut_between_its_two_renames_is_repaired_by_the_next_command(tmp_path, capsys):
    from data_helpers import plane_sample

    out = tmp_path / "ds"
    with _writer(out) as w:
        w.add(plane_sample(0))
    before = digest(out)
    out.rename(tmp_path / ".ds.replaced")  # the old output moved aside, the new one never arrived
    assert main(["data", "export", str(tmp_path / "ds"), "--out", str(tmp_path / "e")]) == 2  # not there...
    capsys.readouterr()
    with pytest.raises(FileExistsError, match="already holds a finished dataset"):
        _writer(out)  # ...until a command writes to that --out: then the old output is back, whole
    assert digest(out) == before and not (tmp_path / ".ds.replaced").exists()

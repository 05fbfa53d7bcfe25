"""Every bad input gets one clear line naming the thing (never a traceback or a bare errno) and loses nothing:
damaged dataset cards, exports cut short, outputs that are files or someone else's folders, a predictions file
made on another dataset, out-of-range options.  Real datasets, real predictions files, the real command line."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from benchmark_helpers import scene_samples, write_dataset

from humandepth.cli import main


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("humandepth: error: ") and "\n" not in err, err
    assert "Traceback" not in err and "[Errno" not in err, err
    return err


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """Two analytic datasets with the same ids but other depths, predictions of the first, and a benchmark run."""
    root = tmp_path_factory.mktemp("bad_inputs")
    samples = scene_samples(6)
    write_dataset(root / "ds", samples)
    for s in samples:
        s.depth = np.where(s.mask, s.depth + np.float32(0.5), 0).astype(np.float32)
    write_dataset(root / "other", samples, name="other")
    assert main(["baselines", "run", "plane", "--dataset", str(root / "ds"), "--out", str(root / "plane.h5")]) == 0
    assert main(["benchmark", "--dataset", str(root / "ds"), "--predictions", str(root / "plane.h5"), "--protocol",
                 "tang2019", "--out", str(root / "run"), "--quiet"]) == 0
    return root


def _card_variant(made, tmp_path, edit) -> Path:
    ds = tmp_path / "ds"
    shutil.copytree(made / "ds", ds)
    card = json.loads((ds / "dataset.json").read_text())
    (ds / "dataset.json").write_text(json.dumps(edit(card)))
    return ds


@pytest.mark.parametrize("edit, named", [
    (lambda c: [c], "not a dataset card: a JSON list, not an object"),
    (lambda c: "dataset", "not a dataset card: a JSON string, not an object"),
    (lambda c: {**c, "shards": "x"}, "'shards' must be a list of shard entries, got 'x'"),
    (lambda c: {**c, "shards": [{k: v for k, v in c["shards"][0].items() if k != "file"}]},
     "shard entry 0 (no file) lacks ['file']"),
])
def test_verify_lists_a_damaged_card_and_other_commands_name_it(made, tmp_path, capsys, edit, named):
    ds = _card_variant(made, tmp_path, edit)
    capsys.readouterr()
    assert main(["data", "verify", str(ds)]) == 1
    out = capsys.readouterr()
    assert f"FAIL {ds / 'dataset.json'}: {named}" in out.out and "Traceback" not in out.err
    # a command that reads the dataset says what is wrong with it in one line
    assert main(["data", "info", str(ds)]) == 2
    assert named in one_line_error(capsys)


def test_an_export_cut_short_by_a_damaged_shard_leaves_nothing(made, tmp_path, capsys):
    ds = tmp_path / "ds"
    write_dataset(ds, scene_samples(6))
    card = json.loads((ds / "dataset.json").read_text())
    shard = ds / card["shards"][0]["file"]
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])  # truncated (a copy cut short)
    assert main(["data", "export", str(ds), "--out", str(tmp_path / "e")]) == 2
    assert "cannot" in one_line_error(capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]  # no half export, no staging folder
    # a folder export whose folder.json promises more samples than it holds fails verify
    assert main(["data", "export", str(made / "ds"), "--out", str(tmp_path / "good")]) == 0
    shutil.rmtree(tmp_path / "good" / "s03")
    capsys.readouterr()
    assert main(["data", "verify", str(tmp_path / "good")]) == 1
    assert "folder.json records 6 samples but the folder holds 5" in capsys.readouterr().out


def test_export_and_leaderboard_refuse_a_file_or_someone_elses_folder(made, tmp_path, capsys):
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<h1>my site</h1>")
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "a.jpg").write_bytes(b"\xff\xd8")
    for cmd in (["data", "export", str(made / "ds")], ["leaderboard", str(made / "run")]):
        assert main([*cmd, "--out", str(file)]) == 2
        assert "is a file, not a folder" in one_line_error(capsys)
        assert main([*cmd, "--out", str(photos), "--overwrite"]) == 2
        assert "holds 'a.jpg', which is not part of a" in one_line_error(capsys)
    assert main(["leaderboard", str(made / "run"), "--out", str(site)]) == 2
    assert "holds files but no leaderboard.csv" in one_line_error(capsys)
    assert (site / "index.html").read_text() == "<h1>my site</h1>" and file.read_text() == "mine"
    assert [p.name for p in photos.iterdir()] == ["a.jpg"]
    # a finished leaderboard is replaced only with --overwrite, and then whole
    assert main(["leaderboard", str(made / "run"), "--out", str(site), "--overwrite"]) == 0
    assert "my site" not in (site / "index.html").read_text() and (site / "leaderboard.csv").is_file()
    capsys.readouterr()
    assert main(["leaderboard", str(made / "run"), "--out", str(site)]) == 2
    assert "already holds a finished leaderboard" in one_line_error(capsys)
    assert main(["data", "export", str(made / "ds"), "--out", str(tmp_path / "e")]) == 0
    before = digest(tmp_path / "e")
    capsys.readouterr()
    assert main(["data", "export", str(made / "ds"), "--out", str(tmp_path / "e")]) == 2
    assert "already holds a finished folder export" in one_line_error(capsys)
    assert digest(tmp_path / "e") == before


def test_an_output_where_nothing_can_be_created(made, capsys):
    # /sys refuses new entries to everyone (EPERM for root, EACCES for others)
    for cmd in (["leaderboard", str(made / "run")], ["data", "export", str(made / "ds")],
                ["benchmark", "--dataset", str(made / "ds"), "--predictions", str(made / "plane.h5"), "--protocol",
                 "tang2019", "--quiet"]):
        assert main([*cmd, "--out", "/sys/humandepth-test/x"]) == 2
        assert "cannot create anything in /sys" in one_line_error(capsys)


def test_leaderboard_of_a_summary_file_says_to_pass_the_run_folder(made, capsys):
    assert main(["leaderboard", str(made / "run" / "summary.json"), "--out", "/tmp/unused-board"]) == 2
    assert f"pass the run folder {made / 'run'}" in one_line_error(capsys)
    assert not Path("/tmp/unused-board").exists()


def test_benchmark_refuses_predictions_made_on_another_dataset(made, tmp_path, capsys):
    args = ["benchmark", "--dataset", str(made / "other"), "--predictions", str(made / "plane.h5"), "--protocol",
            "tang2019", "--quiet", "--out"]
    assert main([*args, str(tmp_path / "r")]) == 2
    err = one_line_error(capsys)
    assert "was made on dataset 'analytic'" in err and "not on 'other'" in err and "--allow-other-dataset" in err
    assert not (tmp_path / "r").exists()
    assert main([*args, str(tmp_path / "r"), "--allow-other-dataset"]) == 0
    assert "warning: predictions file" in capsys.readouterr().err
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["dataset"]["name"] == "other"


@pytest.mark.parametrize("extra, named", [
    (["--workers", "0"], "--workers must be >= 1, got 0"),
    (["--thumbnails", "-1"], "--thumbnails must be >= 0, got -1"),
])
def test_benchmark_refuses_out_of_range_options(made, tmp_path, capsys, extra, named):
    assert main(["benchmark", "--dataset", str(made / "ds"), "--predictions", str(made / "plane.h5"), "--protocol",
                 "tang2019", "--out", str(tmp_path / "r"), "--quiet", *extra]) == 2
    assert named in one_line_error(capsys)
    assert not (tmp_path / "r").exists()


def test_benchmark_predictions_that_are_a_folder(made, tmp_path, capsys):
    assert main(["benchmark", "--dataset", str(made / "ds"), "--predictions", str(tmp_path), "--protocol",
                 "tang2019", "--out", str(tmp_path / "r")]) == 2
    assert f"--predictions {tmp_path} is a folder; give the predictions file" in one_line_error(capsys)


def test_benchmark_run_folder_of_other_files_is_refused(made, tmp_path, capsys):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "thesis.tex").write_text("precious")
    assert main(["benchmark", "--dataset", str(made / "ds"), "--predictions", str(made / "plane.h5"), "--protocol",
                 "tang2019", "--out", str(tmp_path / "r"), "--quiet", "--overwrite"]) == 2
    assert "holds 'thesis.tex', which is not part of a benchmark run" in one_line_error(capsys)
    assert [p.name for p in (tmp_path / "r").iterdir()] == ["thesis.tex"]


def test_baselines_run_out_that_is_a_folder_fails_before_predicting(made, tmp_path, capsys):
    assert main(["baselines", "run", "plane", "--dataset", str(made / "ds"), "--out", str(tmp_path)]) == 2
    assert f"--out {tmp_path} is a folder; give the predictions file's name" in one_line_error(capsys)
    assert list(tmp_path.iterdir()) == []  # no .partial left


def test_demo_checks_every_option_before_any_step(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--take-distance", "0"]) == 2
    assert "--take-distance must be > 0" in one_line_error(capsys)
    assert main(["demo", "--out", str(out), "--take-frames", "1"]) == 2
    assert "--take-frames >= 2" in one_line_error(capsys)
    assert not out.exists()


def test_ctrl_c_inside_a_ctypes_call_is_an_interruption():
    # Ctrl-C while PyOpenGL converts an argument reaches Python as ctypes.ArgumentError; the command line
    # treats it as the interruption it is (exit 130, "interrupted"), not as a crash with a traceback
    import ctypes

    from humandepth.errors import is_interrupt

    class CtrlC:
        @property
        def _as_parameter_(self):
            raise KeyboardInterrupt

    with pytest.raises(ctypes.ArgumentError) as ei:
        ctypes.CDLL(None).abs(CtrlC())
    assert is_interrupt(ei.value)
    with pytest.raises(ctypes.ArgumentError) as ei:
        ctypes.CDLL(None).abs(object())  # a plain conversion error
    assert not is_interrupt(ei.value)

import pandas as pd

from humandepth.demo.run import DEMO_BASELINES, run_demo


def test_demo_end_to_end_at_smallest_size_and_rerun_reuses(tmp_path, capsys):
    board = run_demo(tmp_path / "demo", count=3, size=48, seed=5)
    table = pd.read_csv(board / "leaderboard.csv")
    assert set(DEMO_BASELINES) <= set(table["method"])
    html = (board / "index.html").read_text()
    assert all(name in html for name in DEMO_BASELINES)
    out = capsys.readouterr().out
    assert "| rank | method |" in out and "next:" in out
    preds = tmp_path / "demo" / "predictions" / "plane.h5"
    stamp = preds.stat().st_mtime_ns
    run_demo(tmp_path / "demo", count=3, size=48, seed=5)
    assert preds.stat().st_mtime_ns == stamp
    assert "reusing" in capsys.readouterr().err

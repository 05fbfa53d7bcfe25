import pandas as pd
from browser import Browser

from humandepth.baselines.registry import BASELINES
from humandepth.demo.run import DemoSize, run_demo

SMALLEST = DemoSize(render_count=2, resolution=64, take_frames=3, take_distance_m=1.5, seed=3)


def test_demo_end_to_end_at_smallest_size_and_rerun_reuses(tmp_path, capsys):
    out = tmp_path / "demo"
    index = run_demo(out, SMALLEST)
    for ds in ("synthetic", "fused"):
        table = pd.read_csv(out / "report" / ds / "leaderboard.csv")
        assert set(table["method"]) == set(BASELINES), ds  # every registered baseline ran: none was skipped
    page = index.read_text()
    assert "synthetic/index.html" in page and "fused/index.html" in page and "exact truth" in page
    assert (out / "report" / "contact_sheet.png").is_file()
    # the report as a person sees it: a real headless browser, no console errors, every image shown,
    # every method in the table
    with Browser() as browser:
        for page in (index, out / "report" / "synthetic" / "index.html", out / "report" / "fused" / "index.html"):
            shown = browser.load(page)
            assert shown["errors"] == [], (page, shown["errors"])
            assert shown["images"] and all(ok for _, ok in shown["images"]), (page, shown["images"])
        for ds in ("synthetic", "fused"):
            methods = pd.read_csv(out / "report" / ds / "leaderboard.csv")["method"]
            text = browser.load(out / "report" / ds / "index.html")["text"]
            assert all(m in text for m in methods), ds
    printed = capsys.readouterr().out
    assert "| rank | method |" in printed and "next:" in printed
    preds = out / "predictions" / "synthetic" / "plane.h5"
    stamp = preds.stat().st_mtime_ns
    run_demo(out, SMALLEST)
    assert preds.stat().st_mtime_ns == stamp
    assert "reusing" in capsys.readouterr().err
    # asked for another size, the rerun refuses instead of re-scoring the old data
    import pytest

    from humandepth.errors import UserError

    with pytest.raises(UserError, match=r"synthetic holds 2 samples at 64 px \(seed 3\), not the 3"):
        run_demo(out, DemoSize(3, 64, 3, 1.5, 3))

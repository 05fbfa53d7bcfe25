import pandas as pd
from PIL import Image
from web_helpers import IMAGES_SHOWN, browser, page  # noqa: F401  (fixtures)

from humandepth.baselines.registry import BASELINES
from humandepth.demo.run import DemoSize, run_demo

SMALLEST = DemoSize(render_count=2, resolution=64, take_frames=3, take_distance_m=1.5, seed=3)


def test_demo_end_to_end_at_smallest_size_and_rerun_reuses(tmp_path, capsys, page):  # noqa: F811
    out = tmp_path / "demo"
    index = run_demo(out, SMALLEST)
    for ds in ("synthetic", "fused"):
        table = pd.read_csv(out / "report" / ds / "leaderboard.csv")
        assert set(table["method"]) == set(BASELINES), ds  # every registered baseline ran: none was skipped
    html = index.read_text()
    assert "synthetic/index.html" in html and "fused/index.html" in html and "exact truth" in html
    assert (out / "report" / "contact_sheet.png").is_file()
    # the report as a person sees it in a real browser: no console errors, every image shown, and each link
    # leads to a leaderboard that names every method
    page.goto(index.as_uri())
    shown = page.eval_on_selector_all("img", IMAGES_SHOWN)
    assert shown and all(ok for _, ok in shown), shown
    for ds in ("synthetic", "fused"):
        page.goto(index.as_uri())
        page.click(f"a:text-is('{ds}')")
        page.wait_for_selector("h2:has-text('Error maps')")
        assert page.url == (out / "report" / ds / "index.html").resolve().as_uri()
        shown = page.eval_on_selector_all("img", IMAGES_SHOWN)
        assert shown and all(ok for _, ok in shown), (ds, shown)
        text = page.inner_text("body")
        methods = pd.read_csv(out / "report" / ds / "leaderboard.csv")["method"]
        assert all(m in text for m in methods), ds
        shot = tmp_path / f"{ds}.png"
        page.screenshot(path=shot, full_page=True)
        with Image.open(shot) as im:  # a rendered page: tall (tables, curves, thumbnails), not blank
            assert im.height > 900 and len(im.convert("L").getcolors(1 << 16)) > 16, (ds, im.size)
    assert page.errors == [], page.errors
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

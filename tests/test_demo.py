import pandas as pd
from PIL import Image
from web_helpers import IMAGES_SHOWN, browser, page  # noqa: F401  (fixtures)

from humandepth.baselines.registry import BASELINES
from humandepth.demo.run import DemoSize, run_demo

SMALLEST = DemoSize(render_count=2, resolution=64, take_frames=3, take_distance_m=1.5, seed=3)


def test_demo_end_to_end_at_smallest_size_and_rerun_reuses(tmp_path, capsys, page):  # noqa: F811
    out = tmp_path / "demo"
    index = run_demo(out, SMALLEST)
    first = capsys.readouterr()
    check_printed_commands(first.err, out, tmp_path / "by-hand")
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
    printed = first.out
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


def check_printed_commands(err: str, out, again):
    """The demo calls library functions and prints the command of each step: every printed command is one the
    command line accepts, and run by hand (into ``again``) it makes what the demo's step made."""
    import filecmp
    import json
    from pathlib import Path

    from humandepth.cli import build_parser, main
    from humandepth.data import open_dataset

    commands = [line.split()[2:] for line in err.splitlines() if line.startswith("$ humandepth ")]
    kinds = [c[0] if c[0] not in ("capture", "baselines") else " ".join(c[:2]) for c in commands]
    assert kinds == ["render", "capture simulate", "fuse", *["baselines run"] * (2 * len(BASELINES)),
                     *(["benchmark"] * len(BASELINES) + ["leaderboard"]) * 2], kinds
    parser = build_parser()
    for c in commands:
        parser.parse_args(c)  # argparse exits on an option the command line does not have

    def by_hand(command: list[str]) -> Path:
        made = Path(command[command.index("--out") + 1])
        mirror = again / made.relative_to(out)
        assert main([mirror.as_posix() if a == str(made) else a for a in command]) == 0, command
        return mirror

    # the synthetic set and the take: byte-identical arrays
    made = by_hand(commands[kinds.index("render")])
    assert open_dataset(made).checksum() == open_dataset(out / "synthetic").checksum()
    made = by_hand(commands[kinds.index("capture simulate")])
    for truth in ("depth", "color"):
        assert open_dataset(made / "truth" / truth).checksum() == \
            open_dataset(out / "capture" / "take" / "truth" / truth).checksum()
    # the fusion: the same configuration and frames (odometry itself varies in its last digits run to run)
    made = by_hand(commands[kinds.index("fuse")])
    mine, theirs = (json.loads((d / "fusion_report.json").read_text()) for d in (made, out / "capture" / "fused"))
    assert mine["config"] == theirs["config"] and mine["frames"] == theirs["frames"]
    assert mine["truth"]["gt_mae_mm"]["fused_known_poses"] == theirs["truth"]["gt_mae_mm"]["fused_known_poses"]
    # a benchmark run and a leaderboard: the same files
    benchmark = commands[kinds.index("benchmark")]
    made = by_hand(benchmark)
    run = Path(benchmark[benchmark.index("--out") + 1])
    assert filecmp.cmp(made / "per_sample.csv", run / "per_sample.csv", shallow=False)
    made = by_hand(commands[kinds.index("leaderboard")])
    assert filecmp.cmp(made / "leaderboard.csv", out / "report" / "synthetic" / "leaderboard.csv", shallow=False)

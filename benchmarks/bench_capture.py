"""Import speed of ``humandepth capture import`` on simulated recordings (frames per second).

For each depth resolution (640x480 and 848x480, colour 640x480) it renders a few frames of the default
take scene, writes a recording of ``--frames`` frames (the rendered frames cycled, real SDK
recording), then times, on the same file:

* playback   -- every frame played back, paired, raw depth + colour re-projected onto it (``--align none``)
* align      -- the same with depth aligned to colour (``rs.align`` + colour-camera z)
* import     -- the whole ``import_take`` (align color + coarse mask + HDF5 dataset writing)

Usage:  python benchmarks/bench_capture.py [--frames 150] [--distinct 8] [--compression lzf|none|gzip]
Target (issue 4): import >= 60 frames/s on the 2-core CPU machine.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from humandepth.capture.importer import import_take
from humandepth.capture.playback import Recording
from humandepth.capture.scene import room_scene
from humandepth.capture.sdk import recording_extension, sdk_version
from humandepth.capture.simulate import SimulationConfig, simulate_frames
from humandepth.capture.sw_recorder import SoftwareRecording, StreamSpec


def make_recording(path: Path, depth_size, frames: int, distinct: int, scene, compress: bool) -> float:
    """Write ``frames`` frames cycling ``distinct`` simulated ones; return the seconds it took."""
    cfg = SimulationConfig(frames=distinct, depth_size=depth_size, depth_focal=385.0 * depth_size[1] / 480,
                           color_size=(640, 480))
    sims = list(simulate_frames(scene, cfg))
    cam_d, cam_c = cfg.cameras()
    t0 = time.perf_counter()
    with SoftwareRecording(path, StreamSpec(cam_d.K, *depth_size), StreamSpec(cam_c.K, 640, 480),
                           cfg.depth_to_color, compress=compress) as rec:
        for i in range(frames):
            f = sims[i % distinct]
            rec.add(f.depth_units, f.rgb, i * 1000.0 / 30, i + 1)
    return time.perf_counter() - t0

def time_it(fn) -> tuple[float, int]:
    t0 = time.perf_counter()
    n = fn()
    return time.perf_counter() - t0, n

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--distinct", type=int, default=8)
    ap.add_argument("--compression", default="none", choices=("none", "lzf", "gzip"),
                    help="chunk compression of the imported dataset (default none, as capture import)")
    args = ap.parse_args()
    scene = room_scene(0)
    work = Path(tempfile.mkdtemp(prefix="bench_capture_"))
    print(f"pyrealsense2 {sdk_version()} ({recording_extension()}), {args.frames} frames per recording")
    print(f"{'depth':>9} {'recording':>10} {'record fps':>10} {'playback fps':>13} {'align fps':>10} "
          f"{'import fps':>11} {'MB/frame':>9}")
    try:
        for size in ((640, 480), (848, 480)):
            for compress in (False, True):
                path = work / f"rec_{size[0]}_{int(compress)}{recording_extension()}"
                t_rec = make_recording(path, size, args.frames, args.distinct, scene, compress)
                rec = Recording(path)
                t_play, n_play = time_it(lambda rec=rec: sum(1 for _ in rec.frames(align="none")))
                t_align, n_align = time_it(lambda rec=rec: sum(1 for _ in rec.frames(align="color")))
                out = work / f"ds_{size[0]}"

                def do_import(path=path, out=out):
                    return import_take(path, out, align="color", overwrite=True, compression=args.compression)["frames"]

                t_imp, n_imp = time_it(do_import)
                assert n_play == n_align == n_imp == args.frames, (n_play, n_align, n_imp)
                mb = path.stat().st_size / 1e6 / args.frames
                kind = "zstd" if compress else "plain"
                print(f"{size[0]}x{size[1]:<5} {kind:>10} {args.frames / t_rec:10.1f} {n_play / t_play:13.1f} "
                      f"{n_align / t_align:10.1f} {n_imp / t_imp:11.1f} {mb:9.2f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("playback: every frame, raw depth + colour mapped onto it; align: depth aligned to colour;")
    print("import: align + coarse mask + dataset writing in a second process (uncompressed HDF5 unless --compression);")
    print(".db3 playback ends at the last frame the file holds.  Colour is 640x480 throughout.")


if __name__ == "__main__":
    main()

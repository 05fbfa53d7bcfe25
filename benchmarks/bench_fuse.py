"""Figures of `humandepth fuse`: integration speed and the accuracy of fused ground truth.

1. Integration frames/s at 640x480 with 4 mm voxels (``TSDFVolume.integrate`` on the frames of a
   simulated take at 1.5 m, true poses): as ``fuse`` runs it (depth cropped to the region around the
   subject, the crop timed too) and on the full frame (everything nearer than 3 m).
2. The headline: simulated takes (the capture wing's D400-like sensor, a clothed person from the
   render wing, a textured room, an orbit around the subject) at 1 m, 1.5 m and 2 m, fused with
   ``--poses odometry``; the fused ground truth's mean absolute error against the exact truth on the
   person, next to a single raw frame and to the same fusion with the true poses; the fused person mask's
   precision / recall / IoU against the true one, and the fraction of it that has a value.

Takes are simulated into ``--takes`` (reused when already there; a 640x480 take of 30 frames takes
one to three minutes to simulate on 2 cores), so a rerun only fuses.

    python benchmarks/bench_fuse.py                        # everything (about 10-15 min on 2 cores)
    python benchmarks/bench_fuse.py --only speed
    python benchmarks/bench_fuse.py --distances 1.5 --frames 30 --takes /tmp/fuse_takes
    python benchmarks/bench_fuse.py --device cuda          # where an Open3D CUDA build and a GPU exist
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def get_take(root: Path, distance: float, frames: int, seed: int) -> Path:
    from humandepth.capture.simulate import SimulationConfig, simulate_take

    path = root / f"take-{distance:.2f}m-{frames}f-s{seed}"
    if (path / "take.json").is_file():
        return path
    t0 = time.perf_counter()
    simulate_take(path, SimulationConfig(frames=frames, seed=seed, distance=distance), overwrite=True)
    print(f"  simulated {path.name} in {time.perf_counter() - t0:.0f} s")
    return path


def speed(take: Path, device: str, repeats: int) -> None:
    from humandepth.fuse.fusion import crop_to_roi, find_floor, subject_centre
    from humandepth.fuse.integrate import TSDFParams, TSDFVolume
    from humandepth.fuse.readers import read_input

    seq = read_input(take)
    poses = {f.id: f.pose for f in seq.frames}
    ids = list(poses)
    cam = seq.depth_camera
    centre = subject_centre(seq, ids, poses)
    d_subject = float(np.linalg.norm(centre - np.linalg.inv(poses[ids[0]])[:3, 3]))
    floor = find_floor(seq, ids, poses, centre, 1.2)
    print(f"integration: {len(ids)} frames of {cam.width}x{cam.height}, voxel 4 mm, trunc 4 cm, device {device}")
    for label, depth_max, roi in (("as fuse runs it (ROI 1.2 m without the floor, depth_max subject + 1 m)",
                                   d_subject + 1.0, 1.2),
                                  ("full frame, depth_max 3 m", 3.0, None)):
        rates, blocks = [], 0
        for _ in range(repeats):
            vol = TSDFVolume(TSDFParams(0.004, 0.04, depth_max), device=device, color=False)
            t0 = time.perf_counter()
            for fid in ids:
                f = seq.frames[ids.index(fid)]
                depth = f.depth if roi is None else crop_to_roi(f.depth, cam, poses[fid], centre, roi, floor)
                vol.integrate(depth, cam.K, poses[fid])
            rates.append(len(ids) / (time.perf_counter() - t0))
            blocks = vol.vbg.hashmap().size()
        print(f"  {label}: {np.median(rates):6.1f} frames/s (median of {repeats}; best {max(rates):.1f}); "
              f"{blocks} voxel blocks")


def accuracy(take: Path, device: str, distance: float) -> dict:
    from humandepth.fuse.fusion import FuseConfig, fuse_sequence
    from humandepth.fuse.readers import read_input

    seq = read_input(take)
    t0 = time.perf_counter()
    res = fuse_sequence(seq, FuseConfig(poses="odometry", device=device))
    seconds = time.perf_counter() - t0
    r = res.report
    tr = r["truth"]
    mae = tr["gt_mae_mm"]
    row = {"distance_m": distance, "frames": r["frames"]["read"], "used": r["frames"]["used"],
           "raw_frame_mm": mae["raw_frame"], "fused_mm": mae["fused"], "fused_known_poses_mm": mae["fused_known_poses"],
           "x_better_than_raw": tr.get("improvement_over_raw_frame"),
           "coverage": tr["fused_coverage_of_truth_mask"].get("mean"),
           "mask_precision": tr["person_mask"]["precision"], "mask_recall": tr["person_mask"]["recall"],
           "mask_iou": tr["person_mask"]["iou"], "evaluated_fraction": r["evaluated"]["fraction"],
           "unfiltered_mm": tr["fused_unfiltered"]["mae_mm"].get("mean"),
           "unfiltered_coverage": tr["fused_unfiltered"]["coverage_of_truth_mask"].get("mean"),
           "pose_err_mm_mean": tr.get("pose_error", {}).get("translation_mm_mean"),
           "pose_err_deg_mean": tr.get("pose_error", {}).get("rotation_deg_mean"),
           "loop_closures": f"{r['poses']['loop_closures_accepted']}/{r['poses']['loop_closures_tried']}",
           "noise_mm_at_subject": r["noise"]["sigma_mm_at_subject"], "seconds": round(seconds, 1)}
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--takes", help="directory for the simulated takes (default: a temporary one)")
    ap.add_argument("--distances", default="1.0,1.5,2.0", help="subject distances in metres")
    ap.add_argument("--frames", type=int, default=30, help="frames per take (default 30: one second at 30 fps)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--repeats", type=int, default=3, help="integration speed repeats")
    ap.add_argument("--only", choices=("speed", "accuracy"), help="run one part")
    ap.add_argument("--json", help="also write the accuracy rows here")
    args = ap.parse_args()
    import open3d as o3d

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; open3d {o3d.__version__} "
          f"(CUDA build: {bool(o3d._build_config.get('BUILD_CUDA_MODULE'))})")
    root = Path(args.takes) if args.takes else Path(tempfile.mkdtemp(prefix="bench_fuse_"))
    root.mkdir(parents=True, exist_ok=True)
    distances = [float(d) for d in args.distances.split(",") if d.strip()]
    if args.only != "accuracy":
        speed(get_take(root, 1.5, args.frames, args.seed), args.device, args.repeats)
    if args.only == "speed":
        return
    rows = []
    for d in distances:
        rows.append(accuracy(get_take(root, d, args.frames, args.seed), args.device, d))
        print("  " + json.dumps(rows[-1]))
    print("\nfused ground truth vs exact truth on the person (MAE, mm; --poses odometry, D400-like noise, "
          f"{args.frames} frames on a 90 deg orbit, 640x480):")
    print(f"{'distance':>8} {'raw frame':>9} {'fused':>7} {'known poses':>11} {'x better':>8} {'coverage':>8} "
          f"{'unfiltered':>10} {'pose err':>12} {'mask P / R / IoU':>18} {'evaluated':>9}")
    for r in rows:
        print(f"{r['distance_m']:>7.1f}m {r['raw_frame_mm']:>9.2f} {r['fused_mm']:>7.2f} "
              f"{r['fused_known_poses_mm']:>11.2f} "
              f"{r['x_better_than_raw']:>8.2f} {r['coverage']:>8.3f} {r['unfiltered_mm']:>10.2f} "
              f"{r['pose_err_mm_mean']:>6.2f}mm/{r['pose_err_deg_mean']:.3f}d "
              f"{r['mask_precision']:.3f} / {r['mask_recall']:.3f} / {r['mask_iou']:.3f} "
              f"{r['evaluated_fraction']:>9.3f}")
    print("targets at 1.5 m: fused <= 1.5 mm with odometry, and >= 4x better than a raw frame; person mask "
          "precision >= 0.98 and recall >= 0.95 at every distance")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()

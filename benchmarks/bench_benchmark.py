"""Throughput of `humandepth benchmark`: samples/s scoring N samples of SxS under each protocol.

Writes a synthetic dataset (a rippled ellipsoid "body" per sample, exact planar depth, normals) and a
predictions file into a temporary directory first, and reports that build time separately.  Then it
times :func:`humandepth.benchmark.run_benchmark` end to end (read + validate + score + write) per
protocol, with the default worker count and with one process, and the in-memory scoring alone
(arrays already loaded) to separate I/O from arithmetic.

    python benchmarks/bench_benchmark.py               # 1,000 samples of 256x256
    python benchmarks/bench_benchmark.py --n 200 --size 128 --protocols tang2019
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from humandepth.benchmark import run_benchmark
from humandepth.benchmark.protocols import PROTOCOL_NAMES, SampleView, make_protocol
from humandepth.benchmark.run import _auto_workers
from humandepth.data import Camera, DatasetWriter, HumanDepthDataset, Predictions, PredictionsWriter, Sample


def body_sample(i: int, size: int, rng: np.random.Generator) -> tuple[Sample, np.ndarray]:
    """A rippled ellipsoid at ~2-3 m (exact planar depth, approximate normals) and a predicted depth for it."""
    cam = Camera.from_focal(size, size, 1.1 * size)
    r = cam.rays()
    centre = np.array([rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1), rng.uniform(2.0, 3.0)])
    axes = np.array([rng.uniform(0.25, 0.35), rng.uniform(0.6, 0.8), 0.2])
    ra, ca = r / axes, centre / axes
    a = np.einsum("hwc,hwc->hw", ra, ra)
    b = ra @ ca
    disc = b * b - a * (ca @ ca - 1.0)
    mask = disc > 0
    t = np.where(mask, (b - np.sqrt(np.where(mask, disc, 0.0))) / a, 0.0)
    u, v = np.meshgrid(np.arange(size), np.arange(size))
    ripple = 0.008 * np.sin(u / 3.0 + i) * np.cos(v / 5.0)  # cloth-like detail, +-8 mm
    depth = np.where(mask, t + ripple, 0.0).astype(np.float32)
    p = t[..., None] * r - centre
    n = p / axes**2
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    normal = np.where(mask[..., None], n, 0.0).astype(np.float32)
    shade = np.clip(-normal[..., 2], 0, 1)
    rgb = np.where(mask[..., None], (60 + 180 * shade)[..., None], 120).repeat(3, axis=2).astype(np.uint8)
    sample = Sample(id=f"{i:05d}", rgb=rgb, depth=depth, mask=mask, normal=normal, camera=cam)
    smooth_err = 0.02 * np.sin(u / 40.0 + 0.3 * i)  # a base-shape error of +-2 cm
    pred = np.where(mask, t + 0.15 + smooth_err + rng.normal(0, 0.004, t.shape), 0.6).astype(np.float32)
    return sample, pred


def build(root: Path, n: int, size: int) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    preds = {}
    with DatasetWriter(root / "ds", name=f"bench-{n}x{size}", kind="synthetic", shard_size=64,
                       generator={"bench": "rippled ellipsoids", "n": n, "size": size}) as w:
        for i in range(n):
            sample, pred = body_sample(i, size, rng)
            w.add(sample)
            preds[sample.id] = pred
    t_ds = time.perf_counter() - t0
    t0 = time.perf_counter()
    with PredictionsWriter(root / "preds.h5", method="bench-noisy", depth_kind="metric") as pw:
        for sid, pred in preds.items():
            pw.add(sid, pred)
    return t_ds, time.perf_counter() - t0


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process and its finished children (the scoring workers)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def time_run(ds, preds: Path, protocols: list[str], out: Path, workers: int | None) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one end-to-end run."""
    c0, t0 = _cpu_s(), time.perf_counter()
    run_benchmark(ds, preds, protocols, out, workers=workers, progress=False, overwrite=True)
    return time.perf_counter() - t0, _cpu_s() - c0


def time_in_memory(ds, preds_path: Path, name: str, limit: int) -> float:
    """Seconds per sample for protocol.score alone, arrays already in memory (one process)."""
    ids = ds.ids[:limit]
    with Predictions(preds_path) as p:
        data = [(ds.get(i, fields=("depth", "mask", "normal")), p.depth(i)) for i in ids]
    proto = make_protocol(name)
    t0 = time.perf_counter()
    for s, d in data:
        proto.score(SampleView(s.id, s.depth, s.mask, d, "metric", K=s.camera.K, gt_normal=s.normal))
    return (time.perf_counter() - t0) / len(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="samples (default 1000)")
    ap.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    ap.add_argument("--protocols", nargs="+", default=list(PROTOCOL_NAMES), choices=PROTOCOL_NAMES)
    ap.add_argument("--keep", type=Path, default=None,
                    help="build into this directory and keep it; a later run with the same --keep reuses it")
    args = ap.parse_args()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU(s), "
          f"python {platform.python_version()}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory(prefix="bench_benchmark_") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if args.keep and (root / "ds" / "dataset.json").is_file() and (root / "preds.h5").is_file():
            print(f"build: reusing {root} (delete it to rebuild)")
        else:
            t_ds, t_pred = build(root, args.n, args.size)
            print(f"build: dataset {args.n} x {args.size}x{args.size} in {t_ds:.1f} s, predictions in {t_pred:.1f} s")
        ds = HumanDepthDataset(root / "ds")
        args.n = len(ds)
        auto = _auto_workers(args.n)
        print(f"load average before timing: {os.getloadavg()[0]:.2f} (other processes share the CPUs)")
        print("end to end (read + validate + score + write); samples per CPU-second is what one free core does")
        print(f"{'protocol':<10} {'workers':>7} {'samples/s':>10} {'ms CPU/sample':>14} {'samples/CPU-s':>14}")
        rows = [([name], name, w) for name in args.protocols for w in dict.fromkeys([auto, 1])]
        if len(args.protocols) > 1:
            rows.append((args.protocols, "all", auto))
        for protocols, label, workers in rows:
            wall, cpu = time_run(ds, root / "preds.h5", protocols, root / f"run_{label}_{workers}", workers)
            print(f"{label:<10} {workers:>7} {args.n / wall:>10.1f} {1e3 * cpu / args.n:>14.2f} {args.n / cpu:>14.1f}",
                  flush=True)
        print(f"load average after timing: {os.getloadavg()[0]:.2f}")
        print("in-memory scoring only (one process, arrays preloaded):")
        for name in args.protocols:
            per = time_in_memory(ds, root / "preds.h5", name, min(args.n, 200 if name != "detail" else 40))
            print(f"{name:<10} {1.0 / per:>10.1f} samples/s  ({1e3 * per:.2f} ms/sample)", flush=True)


if __name__ == "__main__":
    main()

"""Render throughput through the executors: local, and Ray with 1 and 2 workers on this machine.

For each configuration it renders ``--count`` samples at ``--resolution`` (default 256x256) into a temporary
dataset with the same code path as ``humandepth render`` (``render_dataset``) and prints samples/s over the
render (cluster start excluded, Ray worker start and model loading included: the workers are fresh processes),
the seconds to start the local Ray cluster, CPU seconds per sample (the rendering processes' CPU time, all
threads, which stays meaningful when other jobs share the machine), and whether the shards are byte-identical to
the local run's.
Ray runs start a local cluster in this process (``ray.init(num_cpus=N)``), one per configuration.  Needs
``humandepth render setup`` once.

    python benchmarks/bench_scale.py                        # 24 samples, shard size 4
    python benchmarks/bench_scale.py --count 64 --shard-size 8 --ray-workers 1 2 4
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import tempfile
import time
from pathlib import Path


def shard_hashes(root: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((root / "shards").glob("*.h5"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=24, help="samples per configuration (default 24)")
    ap.add_argument("--resolution", type=int, default=256, help="image size in pixels (default 256)")
    ap.add_argument("--shard-size", type=int, default=4, help="samples per shard = per Ray task (default 4)")
    ap.add_argument("--ray-workers", type=int, nargs="+", default=[1, 2], help="Ray cluster CPUs (default 1 2)")
    ap.add_argument("--local-workers", type=int, nargs="+", default=[1], help="local processes (default 1)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    from humandepth.render.dataset import render_dataset
    from humandepth.render.generate import GeneratorConfig
    from humandepth.scale.executor import RayExecutor

    cfg = GeneratorConfig(resolution=args.resolution)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"{args.count} samples at {args.resolution}x{args.resolution}, shard size {args.shard_size}, "
          f"seed {args.seed}")
    rows, reference = [], None
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        for w in args.local_workers:
            out = Path(tmp) / f"local{w}"
            c0 = time.process_time()
            s = render_dataset(out, args.count, seed=args.seed, cfg=cfg, workers=w, shard_size=args.shard_size,
                               progress=False)
            cpu = time.process_time() - c0 if w == 1 else float("nan")  # worker processes' CPU is not seen here
            reference = reference or shard_hashes(out)
            rows.append((f"local, {w} process(es)", s["samples_per_s"], None, cpu / args.count,
                         shard_hashes(out) == reference, s["renderer"]["gl_renderer"]))
        for w in args.ray_workers:
            out = Path(tmp) / f"ray{w}"
            t0 = time.perf_counter()
            ex = RayExecutor(None, num_cpus=w)
            start_s = time.perf_counter() - t0
            try:
                s = render_dataset(out, args.count, seed=args.seed, cfg=cfg, shard_size=args.shard_size,
                                   progress=False, executor=ex)
            finally:
                ex.close()
            rows.append((f"ray, {w} worker(s)", s["samples_per_s"], start_s, s["task_cpu_seconds"] / args.count,
                         shard_hashes(out) == reference, s["renderer"]["gl_renderer"]))
    print(f"{'executor':<24} {'samples/s':>10} {'cluster start s':>16} {'CPU s/sample':>13} {'shards == local':>16}"
          "  GL_RENDERER")
    for name, rate, start_s, cpu, same, gl in rows:
        start = f"{start_s:.1f}" if start_s is not None else "-"
        print(f"{name:<24} {rate:>10.3f} {start:>16} {cpu:>13.3f} {str(same):>16}  {gl}")


if __name__ == "__main__":
    main()

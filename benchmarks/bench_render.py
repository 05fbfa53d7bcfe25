"""Throughput of ``humandepth render``: complete samples per second (body + garments + every pass + writing).

For each resolution and worker count it renders ``--count`` samples into a temporary dataset with the same
code path as the CLI and prints two figures: *steady* samples/s (from the first written sample to the last,
i.e. without process start and model loading) and *total* samples/s (everything, start-up included).
With one worker it also prints the CPU seconds per sample (all threads of the process, writing included),
which stays meaningful when other jobs share the machine.  The OpenGL renderer in use (GL_RENDERER) is
printed first.  Needs ``humandepth render setup`` once.

    python benchmarks/bench_render.py                     # 256 and 512 px, 1 and 2 workers
    python benchmarks/bench_render.py --count 200 --workers 1 2 4 8 16 --resolutions 512
"""

from __future__ import annotations

import os

# one BLAS / OpenMP thread, as in the render workers (set before numpy starts in this process)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402


def run(out: Path, count: int, resolution: int, workers: int, seed: int) -> dict:
    import humandepth.render.dataset as rd
    from humandepth.data.store import DatasetWriter
    from humandepth.render.generate import GeneratorConfig

    cfg = GeneratorConfig(resolution=resolution)
    stamps: list[float] = []
    cpu = None
    t0 = time.time()
    with DatasetWriter(out, name=out.name, kind="synthetic", generator={"bench": True}) as writer:
        if workers == 1:
            rd._init_worker(cfg.to_dict(), seed)
            writer.add(rd._render_one(0))  # warm-up: model loading and the GL context
            stamps.append(time.time())
            c0 = time.process_time()
            for i in range(1, count):
                writer.add(rd._render_one(i))
                stamps.append(time.time())
            cpu = (time.process_time() - c0) / max(count - 1, 1)
        else:
            with rd.worker_pool(workers, cfg.to_dict(), seed) as pool:
                for sample in pool.imap(rd._render_one, range(count), chunksize=1):
                    writer.add(sample)
                    stamps.append(time.time())
    t_end = time.time()
    steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else float("nan")
    return {"resolution": resolution, "workers": workers, "count": count,
            "steady_samples_per_s": round(steady, 3), "total_samples_per_s": round(count / (t_end - t0), 3),
            "seconds": round(t_end - t0, 2), "cpu_s_per_sample": round(cpu, 4) if cpu is not None else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=24, help="samples per configuration (default 24)")
    ap.add_argument("--resolutions", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", help="also write the results to this JSON file")
    args = ap.parse_args()

    from humandepth.render.engine import gl_info

    info = gl_info()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"GL {info['platform']}: {info['gl_renderer']}")
    results = []
    print(f"load average before: {os.getloadavg()[0]:.2f} (other processes share these CPUs)")
    print(f"{'res':>5} {'workers':>7} {'count':>5} {'steady/s':>9} {'total/s':>8} {'seconds':>8} {'cpu s/sample':>12}")
    for res in args.resolutions:
        for w in args.workers:
            with tempfile.TemporaryDirectory() as tmp:
                r = run(Path(tmp) / f"bench-{res}-{w}", args.count, res, w, args.seed)
            results.append(r)
            cpu = f"{r['cpu_s_per_sample']:.3f}" if r["cpu_s_per_sample"] is not None else "-"
            print(f"{res:>5} {w:>7} {args.count:>5} {r['steady_samples_per_s']:>9.2f} "
                  f"{r['total_samples_per_s']:>8.2f} {r['seconds']:>8.1f} {cpu:>12}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"gl": info, "results": results}, indent=1))


if __name__ == "__main__":
    main()

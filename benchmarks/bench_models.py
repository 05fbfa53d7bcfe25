"""CPU time per 256x256 image of each published-model adapter, on tiny random models (humandepth.baselines.models.tiny).

The models are tiny, so the time is mostly the adapter's own work: reading the weights is excluded, and each line
splits the time per image into the model's forward pass(es) and the rest (preprocessing, resizing back, normals).
The inputs are sized as the real models' are (Depth Anything V2 518, DPT 384, ZoeDepth 384x512, Depth Pro 1536,
DAViD 512, Sapiens 1024x768), so the preprocessing and resizing cost is the real one.  Median of --repeats runs.

    python benchmarks/bench_models.py
    python benchmarks/bench_models.py --repeats 5 --threads 1
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from humandepth.baselines.models import tiny
from humandepth.baselines.models.david import DavidBaseline
from humandepth.baselines.models.hf import TransformersDepthBaseline
from humandepth.baselines.models.sapiens import SapiensBaseline

REAL_SIZES = {"depth_anything": 518, "dpt": 384, "zoedepth": 384, "glpn": None, "depth_pro": 1536}


class ForwardTimer:
    """Wraps a callable and adds up the seconds spent in it."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - t0


def build(root: Path) -> dict:
    """name -> (baseline, [timers around every model call])."""
    out = {}
    for model_type, size in REAL_SIZES.items():
        b = TransformersDepthBaseline(tiny.save_tiny_transformers(root / model_type, model_type, size=size),
                                      device="cpu")
        timer = ForwardTimer(b.model.forward)
        b.model.forward = timer
        out[f"transformers {model_type}"] = (b, [timer])
    multi = DavidBaseline(tiny.save_tiny_david(root / "multi.onnx", "multitask"))
    pair = DavidBaseline(tiny.save_tiny_david(root / "depth.onnx", "depth"),
                         normal_weights=tiny.save_tiny_david(root / "normal.onnx", "normal"))
    for name, b in (("onnx DAViD multi-task", multi), ("onnx DAViD depth + normal", pair)):
        timers = []
        for m in (b.depth_model, b.normal_model):
            if m is not None:
                timers.append(ForwardTimer(m.session.run))
                m.session = _Session(m.session, timers[-1])
        out[name] = (b, timers)
    b = SapiensBaseline(tiny.save_tiny_sapiens(root / "d.pt2"), tiny.save_tiny_sapiens(root / "n.pt2", "normal"),
                        device="cpu")
    timers = []
    for m in (b.depth_model, b.normal_model):
        timers.append(ForwardTimer(m.module))
        m.module = timers[-1]
    out["torchscript Sapiens depth + normal"] = (b, timers)
    return out


class _Session:
    """An onnxruntime session whose ``run`` is timed."""

    def __init__(self, session, timer):
        self._session, self.run = session, timer

    def __getattr__(self, name):
        return getattr(self._session, name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    rgb = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    print(f"# {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}; "
          f"256x256 RGB, median of {args.repeats}")
    print(f"{'adapter':36s} {'ms/image':>9s} {'model':>8s} {'adapter':>8s}  output")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (baseline, timers) in build(Path(tmp)).items():
            baseline.predict_rgb(rgb)  # warm-up
            total, model = [], []
            for _ in range(args.repeats):
                for t in timers:
                    t.seconds = 0.0
                t0 = time.perf_counter()
                depth, normal = baseline.predict_rgb(rgb)
                total.append(time.perf_counter() - t0)
                model.append(sum(t.seconds for t in timers))
            tot, mod = 1000 * np.median(total), 1000 * np.median(model)
            what = f"{baseline.depth_kind} depth{' + normals' if normal is not None else ''} {depth.shape}"
            print(f"{name:36s} {tot:9.1f} {mod:8.1f} {tot - mod:8.1f}  {what}")


if __name__ == "__main__":
    main()

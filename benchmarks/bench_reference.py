"""Speed of the reference network (Tang et al. 2019): training images/s and inference ms per image.

Prints one line per config: parameters, weight size, training img/s (stage-1 and stage-2 steps, RMSProp,
batch from the preset unless --batch-size) and inference ms per image (batch 1, the whole network with
the Tang refinement layer, at the config's input size).  The inputs are an analytic rippled ellipsoid
(exact depth, base/detail, normals, parts, joints) cropped by the training pipeline, so the data path is
the real one but no dataset is read.  Training runs as `baselines train` does: channels_last, bfloat16 autocast
where the device computes bf16 natively (CUDA; CPUs with AVX512-BF16/AMX); inference in float32.

    python benchmarks/bench_reference.py                    # small and paper on the CPU
    python benchmarks/bench_reference.py --configs small --steps 10 --threads 2
    python benchmarks/bench_reference.py --configs small --slow --model-set prior_channels=0   # the old path
    python benchmarks/bench_reference.py --configs paper --device cuda --batch-size 32
    python benchmarks/bench_reference.py --configs small --predict --threads 2   # + the baseline, per test-time views

``--predict`` also times the registered baseline end to end with the shipped checkpoint: ms per 256 x 256 image
(the segmentation pass that finds the box, the crops, every test-time view, the map back to the image), once per
``--tta`` choice.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from humandepth.baselines.reference.config import ModelConfig, preset
from humandepth.baselines.reference.devices import autocast_dtype
from humandepth.baselines.reference.losses import compute_losses
from humandepth.baselines.reference.model import ReferenceNet, count_parameters
from humandepth.baselines.reference.targets import make_item
from humandepth.data import Camera, Sample


def analytic_sample(size: int = 256, seed: int = 0) -> Sample:
    """A rippled half-ellipsoid person (depth, base/detail, normals from the depth, parts, joints)."""
    from humandepth.data.geometry import normals_from_depth

    rng = np.random.default_rng(seed)
    cam = Camera.from_focal(size, size, 1.2 * size)
    v, u = np.mgrid[0:size, 0:size].astype(np.float64)
    q = ((u - size / 2) / (0.25 * size)) ** 2 + ((v - size / 2) / (0.42 * size)) ** 2
    mask = q < 0.95
    base = np.where(mask, 2.5 - 0.25 * np.sqrt(np.clip(1 - q, 0, None)), 0.0)
    detail = np.where(mask, 0.01 * np.sin(0.4 * u) * np.sin(0.3 * v), 0.0)
    depth = (base + detail).astype(np.float32)
    parts = np.where(mask, 1 + (v * 14 // size).astype(np.uint8) % 14, 0).astype(np.uint8)
    j2d = np.stack([size / 2 + rng.uniform(-0.2, 0.2, 16) * size, size / 2 + rng.uniform(-0.4, 0.4, 16) * size], 1)
    jz = 2.4 + rng.uniform(-0.2, 0.2, 16)
    j3d = np.stack([(j2d[:, 0] - cam.cx) / cam.fx * jz, (j2d[:, 1] - cam.cy) / cam.fy * jz, jz], 1)
    rgb = (rng.uniform(0, 1, (size, size, 3)) * 255).astype(np.uint8)
    return Sample(id=f"bench{seed}", rgb=rgb, depth=depth, mask=mask, normal=normals_from_depth(depth, cam.K, mask),
                  parts=parts, depth_base=base.astype(np.float32), depth_detail=detail.astype(np.float32),
                  joints2d=j2d.astype(np.float32), joints3d=j3d.astype(np.float32), camera=cam)


def bench(config: str, steps: int, reps: int, batch_size: int | None, device: torch.device, fast: bool = True,
          model_overrides: dict | None = None) -> dict:
    """Training img/s and inference ms of ``config``; ``fast`` False turns off bf16 autocast and channels_last
    (the training path before 2026-12-07), for a before/after comparison on the same machine."""
    mcfg, tcfg = preset(config)
    if model_overrides:
        mcfg = ModelConfig.from_dict({**mcfg.to_dict(), **model_overrides})
    bs = batch_size or tcfg.batch_size
    torch.manual_seed(0)
    layout = torch.channels_last if fast else torch.contiguous_format
    model = ReferenceNet(mcfg).to(device, memory_format=layout)
    sample = analytic_sample()
    t0 = time.perf_counter()
    items = [make_item(sample, mcfg, rng=np.random.default_rng(i), jitter=tcfg.jitter,
                       background_prob=tcfg.background_prob, crop_jitter=tcfg.crop_jitter) for i in range(bs)]
    item_ms = (time.perf_counter() - t0) / bs * 1e3
    batch = {k: torch.stack([it[k] for it in items]).to(device) for k in items[0]}
    batch["rgb"] = batch["rgb"].contiguous(memory_format=layout)
    opt = torch.optim.RMSprop(model.parameters(), lr=tcfg.lr, alpha=tcfg.rmsprop_alpha, eps=tcfg.rmsprop_eps)
    amp_dtype = autocast_dtype(device) if fast else None

    def step(stage: int) -> None:
        with torch.autocast(device_type=device.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            out = model(batch["rgb"], mask=batch["mask"], refinement="none", detach_priors=stage == 1)
        loss = compute_losses(out, batch, tcfg, stage, mcfg.two_branch)["total"]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    model.train()
    step(1)  # warm-up (kernel selection, allocations)
    sync()
    times = []
    for i in range(steps):
        t = time.perf_counter()
        step(1 if i < (steps + 1) // 2 else 2)
        sync()
        times.append(time.perf_counter() - t)
    train_ips = bs / float(np.median(times))
    model.eval()
    x = batch["rgb"][:1]
    with torch.no_grad():
        model(x)
        sync()
        inf = []
        for _ in range(reps):
            t = time.perf_counter()
            model(x)
            sync()
            inf.append(time.perf_counter() - t)
    n = count_parameters(model)
    return {"config": config, "input": mcfg.input_size, "params_M": n / 1e6, "weights_MB": n * 4 / 2**20,
            "batch": bs, "train_img_s": train_ips, "infer_ms": float(np.median(inf)) * 1e3, "item_ms": item_ms,
            "mode": (f"{str(amp_dtype).removeprefix('torch.') if amp_dtype else 'float32'}, channels_last" if fast
                     else "float32, NCHW")}


def bench_predict(reps: int, device: torch.device) -> dict[str, float]:
    """Median ms per 256 x 256 image of :class:`ReferenceBaseline.predict` with the shipped checkpoint, per
    test-time views setting."""
    from humandepth.baselines.reference.predict import TTA_VIEWS, ReferenceBaseline

    sample = analytic_sample(256)
    out = {}
    for tta in TTA_VIEWS:
        method = ReferenceBaseline(device=str(device), tta=tta, batch_size=1)
        method.predict([sample])  # warm-up
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            method.predict([sample])
            if device.type == "cuda":
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        out[tta] = float(np.median(times)) * 1e3
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--configs", nargs="+", default=["small", "paper"], choices=["small", "paper"])
    ap.add_argument("--steps", type=int, default=4, help="timed training steps (median)")
    ap.add_argument("--reps", type=int, default=5, help="timed inference passes (median)")
    ap.add_argument("--batch-size", type=int, help="training batch (default: the preset's)")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--slow", action="store_true",
                    help="float32 and NCHW, no autocast: the training path before 2026-12-07 (for before/after)")
    ap.add_argument("--model-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a ModelConfig field, e.g. prior_channels=0 (repeatable; JSON values)")
    ap.add_argument("--predict", action="store_true",
                    help="also time the reference baseline end to end (shipped checkpoint), per --tta choice")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    dev = torch.device(args.device)
    name = torch.cuda.get_device_name(dev) if dev.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"reference network speed on {name} (torch {torch.__version__})")
    overrides = {k: json.loads(v) for k, _, v in (m.partition("=") for m in args.model_set)}
    for config in args.configs:
        r = bench(config, args.steps, args.reps, args.batch_size, dev, fast=not args.slow, model_overrides=overrides)
        print(f"{r['config']:>5}: input {r['input']}px  {r['params_M']:.2f} M params ({r['weights_MB']:.1f} MB fp32)  "
              f"train {r['train_img_s']:.2f} img/s (batch {r['batch']}, {r['mode']}, targets {r['item_ms']:.1f} "
              f"ms/img)  inference {r['infer_ms']:.1f} ms/image (float32)", flush=True)
    if args.predict:
        ms = bench_predict(args.reps, dev)
        print("baseline `reference` (shipped small checkpoint), 256x256 image, end to end: "
              + ", ".join(f"tta {k} {v:.1f} ms" for k, v in ms.items()), flush=True)


if __name__ == "__main__":
    main()

"""Training of the reference network: two stages, RMSProp, augmentation, checkpoints, resume, CSV log.

``train(data, out, config="small", variant="full")`` (also ``humandepth baselines train reference``).

- Stage 1 (``stage1_steps``): every branch on its own target (losses.py); Depth-Net's skeleton and
  segmentation inputs are detached, so each sub-network learns only its own task.
- Stage 2 (``stage2_steps``): joint fine-tuning, gradients flow through the priors; the depth loss is the
  truncated L1 on the composed depth (base + detail), learning rate ``lr * stage2_lr_scale``.
- Data order and augmentation are a pure function of ``(seed, step)``: the k-th image seen is sample
  ``perm_e[k mod N]`` of the seeded permutation of epoch ``e = k // N`` with its own augmentation seed.
  So a run is reproducible on the CPU and a resumed run sees exactly the batches the uninterrupted one would.
- Output directory: the checkpoint (checkpoint.py), ``log.csv`` (one row per logged step: stage, lr,
  every loss term, img/s, elapsed seconds) and ``progress`` lines on stderr.
- ``ddp=True`` (under ``torchrun``): DistributedDataParallel, NCCL on CUDA devices and gloo on the CPU. Rank r of
  W takes images ``r*b .. r*b + b - 1`` (b = batch_size / W) of every global batch, with the same per-image
  augmentation seeds as one process; gradients are averaged over the ranks; rank 0 alone writes the checkpoint
  and the log and prints progress; a resumed run loads the same checkpoint on every rank.
- ``micro_batches=M`` in one process splits every global batch into the same M parts and averages their
  gradients: the exact single-process equivalent of an M-rank DDP run (BatchNorm normalises each part on its
  own statistics and the running statistics follow part 0, as DDP's rank 0 with ``broadcast_buffers``).
"""

from __future__ import annotations

import csv
import functools
import math
import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from humandepth.baselines.reference.checkpoint import (
    TRAIN_STATE,
    has_weights,
    load_checkpoint,
    load_train_state,
    read_config,
    save_checkpoint,
)
from humandepth.baselines.reference.config import REFINEMENT_OF, ModelConfig, TrainConfig, preset
from humandepth.baselines.reference.devices import autocast_dtype
from humandepth.baselines.reference.losses import compute_losses
from humandepth.baselines.reference.model import ReferenceNet
from humandepth.baselines.reference.targets import fields_needed, make_item

LOG = "log.csv"
STAGE1 = "stage1"  # subfolder: the checkpoint at the end of stage 1 (weights and config only)
LOG_TERMS = ("total", "skeleton_volume", "skeleton_integral", "segmentation", "base", "base_ce", "detail", "normal",
             "composed", "mask")


def open_training_data(data):
    """A dataset object from a path / registered name, a training pack folder (pack.py), or the object itself."""
    if hasattr(data, "ids") and hasattr(data, "get"):
        return data
    from humandepth.baselines.reference.pack import PackDataset, looks_like_pack

    if looks_like_pack(data):
        return PackDataset(data)
    from humandepth.data.open import open_dataset

    return open_dataset(data)


def check_fields(dataset, cfg: ModelConfig) -> None:
    """Raise ValueError naming the dataset and the fields it lacks for training ``cfg``."""
    have = getattr(dataset, "fields", None)
    if have is None and len(dataset):
        have = dataset.get(dataset.ids[0]).present_fields()
    missing = [f for f in fields_needed(cfg) if f not in (have or [])]
    if missing:
        raise ValueError(f"dataset {getattr(dataset, 'name', dataset)!r} lacks fields {missing} needed to train the "
                         f"reference network ({cfg.architecture}); render one with `humandepth render`")


class StepSchedule:
    """Which sample and augmentation seed the k-th training image uses (k counts from 0 over the run)."""

    def __init__(self, n: int, seed: int):
        if n < 1:
            raise ValueError("cannot train on an empty dataset")
        self.n, self.seed = n, seed
        self._perms: dict[int, np.ndarray] = {}

    def item(self, k: int) -> tuple[int, int]:
        epoch, pos = divmod(k, self.n)
        if epoch not in self._perms:
            self._perms = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n)}
        return int(self._perms[epoch][pos]), int(np.random.SeedSequence([self.seed, 1, k]).generate_state(1)[0])


def usable_ids(dataset) -> tuple[list[str], list[str]]:
    """(ids to train on, ids left out): samples whose index records ``mask_fraction == 0`` show no person (a
    render can hide its person) and give no target; datasets without that column keep every sample."""
    index = getattr(dataset, "index", None)
    ids = list(dataset.ids)
    if index is None or not hasattr(index, "columns") or "mask_fraction" not in index.columns:
        return ids, []
    empty = set(index.loc[index["mask_fraction"] <= 0, "id"].astype(str))
    return [i for i in ids if i not in empty], [i for i in ids if i in empty]


def _worker_errors(loader):
    """Iterate ``loader``; an error raised in a worker process comes out as its own one-line message (torch
    prefixes it with the worker's traceback text)."""
    it = iter(loader)
    while True:
        try:
            batch = next(it)
        except StopIteration:
            return
        except Exception as e:
            text = str(e)
            if "Original Traceback" not in text:
                raise
            last = [line for line in text.strip().splitlines() if line.strip()][-1]
            kind, _, msg = last.partition(": ")
            raise (type(e) if type(e).__name__ == kind else RuntimeError)(msg or last) from None
        yield batch


class TrainingItems(Dataset):
    """Items ``(index, aug_seed) -> make_item(...)`` with the training augmentation of ``tcfg``."""

    def __init__(self, dataset, mcfg: ModelConfig, tcfg: TrainConfig):
        self.dataset, self.mcfg, self.tcfg = dataset, mcfg, tcfg
        self.ids, self.skipped = usable_ids(dataset)
        if not self.ids:
            raise ValueError(f"dataset {getattr(dataset, 'name', dataset)!r}: no sample shows a person "
                             f"(mask_fraction is 0 for all {len(self.skipped)})")
        self.fields = fields_needed(mcfg)
        from humandepth.data.store import HumanDepthDataset

        self._partial = isinstance(dataset, HumanDepthDataset)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, key):
        index, seed = key
        sid = self.ids[index]
        sample = self.dataset.get(sid, fields=self.fields) if self._partial else self.dataset.get(sid)
        rng = np.random.default_rng(seed)
        t = self.tcfg
        return make_item(sample, self.mcfg, rng=rng, jitter=t.jitter, background_prob=t.background_prob,
                         crop_jitter=t.crop_jitter, mirror_prob=t.mirror_prob)


class _Batches:
    """Batch sampler yielding the (index, seed) keys of steps ``start .. stop - 1``.

    With ``rank`` / ``world_size`` it yields only that rank's part of each global batch of ``batch_size``:
    images ``rank * b .. rank * b + b - 1`` with ``b = batch_size // world_size``, so the ranks' parts are
    disjoint and together are exactly the batch one process would see."""

    def __init__(self, schedule: StepSchedule, batch_size: int, start: int, stop: int, rank: int = 0,
                 world_size: int = 1):
        self.schedule, self.bs, self.start, self.stop = schedule, batch_size, start, stop
        self.part = batch_size // world_size
        self.offset = rank * self.part

    def __iter__(self):
        for step in range(self.start, self.stop):
            yield [self.schedule.item(step * self.bs + self.offset + i) for i in range(self.part)]

    def __len__(self) -> int:
        return max(self.stop - self.start, 0)


def _lr_for(step: int, tcfg: TrainConfig) -> float:
    """The learning rate of ``step``: per stage a half cosine from the stage's rate to ``lr_final_scale`` x it."""
    if step < tcfg.stage1_steps:
        peak, pos, length = tcfg.lr, step, tcfg.stage1_steps
    else:
        peak, pos, length = tcfg.lr * tcfg.stage2_lr_scale, step - tcfg.stage1_steps, tcfg.stage2_steps
    frac = pos / max(length, 1)
    return peak * (tcfg.lr_final_scale + (1.0 - tcfg.lr_final_scale) * 0.5 * (1.0 + math.cos(math.pi * frac)))


def _pick_device(device) -> torch.device:
    """``device`` as a torch device (None / ``auto``: CUDA when available); ValueError naming ``--device`` when
    it is not a device name or asks for CUDA that this machine's torch cannot use."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise ValueError(f"--device {device!r} is not a device; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        why = "has no CUDA support" if torch.version.cuda is None else "sees no GPU"
        raise ValueError(f"--device {device}: this torch ({torch.__version__}) {why}; use --device cpu")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) are visible")
    return dev


@dataclass(frozen=True)
class RunOptions:
    """How a training run executes (not what it learns; recorded in the checkpoint's ``training`` record).

    Attributes:
        compile: run the network through ``torch.compile`` (kernels fused and tuned for the device).
        budget_s: a wall-clock budget in seconds for the whole run: a few calibration steps measure the step
            time, then the stage lengths are scaled (keeping their ratio) so that training ends within the
            budget; the fitted lengths are what config.json records (so the run is repeatable without it).
        chunk_bytes: write the weights as chunks of at most this many bytes (checkpoint.py).
    """

    compile: bool = False
    budget_s: float | None = None
    chunk_bytes: int | None = None


DDP_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
LAUNCH_HINT = "torchrun --nproc-per-node N -m humandepth baselines train reference --data D --out O --ddp"


class _Ranks:
    """Where this process stands in a DDP run (rank 0 of 1 without one)."""

    def __init__(self, rank: int = 0, world_size: int = 1, backend: str = "", owns_group: bool = False):
        self.rank, self.world_size, self.backend, self.owns_group = rank, world_size, backend, owns_group

    @property
    def main(self) -> bool:
        return self.rank == 0

    def close(self) -> None:
        if self.owns_group:
            import torch.distributed as dist

            dist.destroy_process_group()
            self.owns_group = False


def _ddp_setup(device) -> tuple[torch.device, _Ranks]:
    """Join torchrun's process group (or use one already initialised): NCCL on CUDA, gloo on the CPU.

    The device is ``cuda:LOCAL_RANK`` when CUDA is available (or ``device`` is ``cuda``), else the CPU;
    ValueError with the launch command when torchrun's environment variables are missing."""
    import torch.distributed as dist

    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed; --ddp is unavailable")
    if not dist.is_initialized():
        missing = [k for k in DDP_ENV if k not in os.environ]
        if missing:
            raise ValueError(f"--ddp runs one process per device under torchrun, which sets {', '.join(DDP_ENV)} "
                             f"(missing: {', '.join(missing)}); launch it as `{LAUNCH_HINT}`")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device in (None, "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        dev = torch.device("cuda", local_rank)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    owns = False
    if not dist.is_initialized():
        dist.init_process_group("nccl" if dev.type == "cuda" else "gloo")
        owns = True
    return dev, _Ranks(dist.get_rank(), dist.get_world_size(), str(dist.get_backend()), owns)


def _mean_over_ranks(terms: dict, ranks: _Ranks, dev: torch.device) -> dict:
    """The loss terms averaged over the ranks (detached; for the log and the finite check)."""
    if ranks.world_size == 1:
        return terms
    import torch.distributed as dist

    keys = sorted(terms)
    vec = torch.stack([terms[k].detach().float() for k in keys]).to(dev)
    dist.all_reduce(vec)
    vec /= ranks.world_size
    return dict(zip(keys, vec.unbind(), strict=True))


def _micro_step(model, run, batch: dict, micro: int, opt, step: int, tcfg: TrainConfig) -> dict:
    """Forward and backward ``batch`` in ``micro`` equal parts with gradients averaged (``loss / micro`` each).

    BatchNorm running statistics keep the update of part 0 only, as rank 0 of a DDP run with
    ``broadcast_buffers``. Returns the loss terms averaged over the parts (detached)."""
    n = next(iter(batch.values())).shape[0]
    part = n // micro
    kept = None
    sums: dict[str, torch.Tensor] = {}
    opt.zero_grad(set_to_none=True)
    for j in range(micro):
        chunk = {k: v[j * part:(j + 1) * part].clone() for k, v in batch.items()}
        terms = run(chunk)
        if j == 0:
            kept = [b.detach().clone() for b in model.buffers()]
        if not torch.isfinite(terms["total"]):
            raise FloatingPointError(f"reference training: loss became {terms['total'].item()} at step {step}; "
                                     f"lower --lr (now {tcfg.lr})")
        (terms["total"] / micro).backward()
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + v.detach()
    with torch.no_grad():
        for b, k in zip(model.buffers(), kept, strict=True):
            b.copy_(k)
    return {k: v / micro for k, v in sums.items()}


def _barrier() -> None:
    import torch.distributed as dist

    dist.barrier()


def _dataset_record(dataset) -> dict:
    rec = {"name": getattr(dataset, "name", ""), "count": len(dataset), "root": str(getattr(dataset, "root", ""))}
    if getattr(dataset, "url", None):
        rec["url"] = dataset.url  # read from object storage through a local mirror (root)
    try:
        rec["checksum"] = dataset.checksum()
    except NotImplementedError:  # a format without a checksum; a damaged dataset raises, naming the file
        rec["checksum"] = None
    return rec


def train(data, out, config: str = "small", variant: str = "full", resume: bool = False,
          overrides: dict | None = None, model_overrides: dict | None = None, device=None, workers: int = 0,
          command: str = "", log_stream=None, max_steps: int | None = None, ddp: bool = False,
          micro_batches: int = 1, options: RunOptions | None = None) -> Path:
    """Train the reference network on ``data`` and write the checkpoint to ``out`` (a directory).

    Args:
        data: dataset path, registered name or dataset object (humandepth format with rgb, depth, mask,
            normal, parts, depth_base, depth_detail, joints2d, joints3d).
        config: preset ``small`` | ``paper``; ``overrides`` / ``model_overrides`` replace TrainConfig /
            ModelConfig fields (e.g. ``{"stage1_steps": 10}``).
        variant: a training architecture: ``full``, ``single-branch`` or ``no-priors`` (``no-refine`` and
            ``geonet-refine`` only change inference: train ``full``).
        resume: continue from the checkpoint in ``out`` (same configuration required).
        max_steps: stop after this many steps in this call (the checkpoint is resumable).
        ddp: run as one rank of a DistributedDataParallel job launched by ``torchrun`` (or inside a process
            group the caller initialised); ``batch_size`` stays the global batch and must divide by the
            number of ranks. Only rank 0 writes files and prints.
        micro_batches: split every batch into this many equal parts, forwarded one by one with averaged
            gradients: the single-process equivalent of a ``micro_batches``-rank DDP run (and a way to fit a
            large batch in memory). 1 (default) is the plain single-process step.
        options: :class:`RunOptions` (torch.compile, a wall-clock budget, chunked weights).
    Returns:
        the checkpoint directory.
    """
    log_stream = log_stream or sys.stderr
    if variant in ("no-refine", "geonet-refine"):
        raise ValueError(f"variant {variant!r} only changes inference; train --variant full and run "
                         f"reference-{variant} with that checkpoint")
    mcfg, tcfg = preset(config, variant)
    if model_overrides:
        mcfg = ModelConfig.from_dict({**mcfg.to_dict(), **model_overrides})
    if overrides:
        tcfg = TrainConfig.from_dict({**tcfg.to_dict(), **overrides})
    out = Path(out)
    if max_steps is not None and max_steps < 1:
        raise ValueError(f"max_steps must be >= 1, got {max_steps}")
    if micro_batches < 1 or tcfg.batch_size % micro_batches:
        raise ValueError(f"--micro-batches {micro_batches} must be >= 1 and divide the batch size {tcfg.batch_size}")
    if ddp and micro_batches > 1:
        raise ValueError("--micro-batches emulates DDP ranks in one process; do not combine it with --ddp")
    options = options or RunOptions()
    if options.budget_s is not None:
        if options.budget_s <= 0:
            raise ValueError(f"--budget-s must be > 0, got {options.budget_s}")
        if resume or ddp or max_steps is not None:
            raise ValueError("--budget-s fits the run's length when it starts; do not combine it with --resume, "
                             "--ddp or --max-steps")
    if options.chunk_bytes is not None and options.chunk_bytes < 1024:
        raise ValueError(f"--chunk-mb must be at least 0.001 (1 KiB), got {options.chunk_bytes} bytes")
    if resume and not has_weights(out):
        raise FileNotFoundError(f"--resume: {out} holds no checkpoint to continue; drop --resume to start a new run")
    if ddp:
        dev, ranks = _ddp_setup(device)
        if tcfg.batch_size % ranks.world_size:
            ranks.close()
            raise ValueError(f"--batch-size {tcfg.batch_size} (the global batch) must divide by the "
                             f"{ranks.world_size} DDP ranks")
        try:
            return _train(data, out, config, variant, resume, mcfg, tcfg, dev, workers, command,
                          log_stream if ranks.main else None, max_steps, ranks, 1, options)
        finally:
            ranks.close()
    return _train(data, out, config, variant, resume, mcfg, tcfg, _pick_device(device), workers, command, log_stream,
                  max_steps, _Ranks(), micro_batches, options)


def _train(data, out: Path, config: str, variant: str, resume: bool, mcfg: ModelConfig, tcfg: TrainConfig,
           dev: torch.device, workers: int, command: str, log_stream, max_steps: int | None, ranks: _Ranks,
           micro: int, options: RunOptions) -> Path:
    """The training run of :func:`train` (one rank of ``ranks``; ``log_stream`` None: print nothing)."""
    t_start = time.perf_counter()
    first_on_node = int(os.environ.get("LOCAL_RANK", 0)) == 0
    if ranks.world_size > 1 and not first_on_node:
        _barrier()  # local rank 0 opens first: a dataset in object storage is fetched once per node
    dataset = open_training_data(data)
    if ranks.world_size > 1 and first_on_node:
        _barrier()
    check_fields(dataset, mcfg)
    total = tcfg.stage1_steps + tcfg.stage2_steps

    torch.manual_seed(tcfg.seed)
    model = ReferenceNet(mcfg)
    start = 0
    train_state = None
    if has_weights(out):
        if not resume:
            raise FileExistsError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another "
                                  f"--out")
        prev = read_config(out)
        if prev["model"] != mcfg.to_dict() or prev.get("train") != tcfg.to_dict():
            raise ValueError(f"{out}: the checkpoint was trained with another configuration (see its config.json); "
                             f"resume with the same --config/--variant/options")
        model, _ = load_checkpoint(out)
        train_state = load_train_state(out)
        if train_state is None:
            raise FileNotFoundError(f"{out} lacks {TRAIN_STATE}; it is a shipped checkpoint and cannot be resumed")
        start = int(train_state["step"])
    model.to(dev, memory_format=torch.channels_last).train()  # NHWC: oneDNN's and cuDNN's fast layout
    opt = torch.optim.RMSprop(model.parameters(), lr=_lr_for(start, tcfg), alpha=tcfg.rmsprop_alpha,
                              eps=tcfg.rmsprop_eps, weight_decay=tcfg.weight_decay)
    if train_state is not None:
        opt.load_state_dict(train_state["optimizer"])
    stop = total if max_steps is None else min(total, start + max_steps)
    record = {"variant": mcfg.architecture, "config": config, "train": tcfg.to_dict(),
              "refinement": REFINEMENT_OF[variant], "training": {}}
    parallel = {}
    if ranks.backend:
        parallel = {"ddp_world_size": ranks.world_size, "backend": ranks.backend,
                    "per_rank_batch": tcfg.batch_size // ranks.world_size}
    elif micro > 1:
        parallel = {"micro_batches": micro}
    if start >= total:
        if log_stream is not None:
            print(f"reference: {out} already finished {total} steps", file=log_stream)
        return out

    items = TrainingItems(dataset, mcfg, tcfg)
    schedule = StepSchedule(len(items), tcfg.seed)
    net = model
    if ranks.backend:
        from torch.nn.parallel import DistributedDataParallel

        # broadcasts rank 0's weights and buffers now, averages gradients in backward
        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    if options.compile:
        net = torch.compile(net)
    amp_dtype = autocast_dtype(dev) if tcfg.amp else None

    def loader_for(first: int, last: int) -> DataLoader:
        return DataLoader(items, batch_sampler=_Batches(schedule, tcfg.batch_size, first, last, ranks.rank,
                                                        ranks.world_size),
                          num_workers=workers, persistent_workers=False, pin_memory=dev.type == "cuda")

    t_win, imgs_win = time.perf_counter(), 0
    step = start
    sums: dict[str, float] = {}
    counts: dict[str, int] = {}

    def checkpoint(where: Path | None = None) -> None:
        """Save to ``out`` (resumable), or the weights alone to ``where``."""
        if not ranks.main:
            return
        record["training"] = {"step": step, "stage": 1 if step <= tcfg.stage1_steps else 2, "total_steps": total,
                              "images_seen": step * tcfg.batch_size, "complete": step >= total,
                              "seed": tcfg.seed, "data": {**_dataset_record(dataset), "left_out": items.skipped},
                              "command": command,
                              "device": str(dev), "torch": torch.__version__,
                              "autocast": str(amp_dtype).removeprefix("torch.") if amp_dtype else "none"}
        if parallel:
            record["training"]["parallel"] = parallel
        if where is not None:
            save_checkpoint(where, model, record, chunk_bytes=options.chunk_bytes)
            return
        state = {"optimizer": opt.state_dict(), "step": torch.tensor(step)}
        save_checkpoint(out, model, record, train_state=state, chunk_bytes=options.chunk_bytes)

    def run(chunk: dict, stage: int) -> dict:
        """Forward ``chunk`` through the (DDP-wrapped) network; the loss terms of ``stage``."""
        rgb = chunk["rgb"].contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=dev.type, dtype=amp_dtype or torch.float32, enabled=amp_dtype is not None):
            outputs = net(rgb, mask=chunk["mask"], refinement="none", detach_priors=(stage == 1))
        return compute_losses(outputs, chunk, tcfg, stage, mcfg.two_branch)

    if options.budget_s is not None:
        step_s = _calibrate(model, opt, run, loader_for(0, CALIBRATION_STEPS), dev)
        tcfg = _fit_to_budget(tcfg, options.budget_s - (time.perf_counter() - t_start), step_s)
        total = stop = tcfg.stage1_steps + tcfg.stage2_steps
        record["train"] = tcfg.to_dict()
        record["budget"] = {"budget_s": options.budget_s, "step_s": {"stage1": step_s[0], "stage2": step_s[1]}}
        if log_stream is not None:
            print(f"reference: {step_s[0]:.3f} s per stage-1 step, {step_s[1]:.3f} s per stage-2 step -> "
                  f"{tcfg.stage1_steps} + {tcfg.stage2_steps} steps fit the {options.budget_s:.0f} s budget",
                  file=log_stream, flush=True)
    if ranks.main:
        out.mkdir(parents=True, exist_ok=True)
        _prepare_log(out / LOG, start)
    loader = loader_for(start, stop)
    t_run = time.perf_counter()
    def log_window(stage: int) -> None:
        nonlocal t_win, imgs_win, sums, counts
        if not counts or not ranks.main:
            return
        now = time.perf_counter()
        rate = imgs_win / max(now - t_win, 1e-9)
        means = {k: v / counts[k] for k, v in sums.items()}
        _append_log(out / LOG, step, stage, opt.param_groups[0]["lr"], means, rate, now - t_run)
        shown = " ".join(f"{k} {means[k]:.3f}" for k in LOG_TERMS if k in means and k != "total")
        print(f"reference [{mcfg.architecture}] stage {stage} step {step}/{total} loss {means['total']:.4f} "
              f"({shown}) {rate:.2f} img/s", file=log_stream, flush=True)
        t_win, imgs_win, sums, counts = now, 0, {}, {}

    if items.skipped and log_stream is not None:
        print(f"reference: {len(items.skipped)} sample(s) show no person and are left out "
              f"(first: {items.skipped[0]})", file=log_stream, flush=True)
    for batch in _worker_errors(loader):
        stage = 1 if step < tcfg.stage1_steps else 2
        if step == tcfg.stage1_steps:
            log_window(1)  # never mix the two stages' terms in one log row
        for g in opt.param_groups:
            g["lr"] = _lr_for(step, tcfg)
        batch = {k: v.to(dev, non_blocking=True) for k, v in batch.items()}
        if micro > 1:
            terms = _micro_step(model, functools.partial(run, stage=stage), batch, micro, opt, step, tcfg)
        else:
            local = run(batch, stage)
            terms = _mean_over_ranks(local, ranks, dev)  # the same values on every rank
            if not torch.isfinite(terms["total"]):
                raise FloatingPointError(f"reference training: loss became {terms['total'].item()} at step {step}; "
                                         f"lower --lr (now {tcfg.lr})")
            opt.zero_grad(set_to_none=True)
            local["total"].backward()
        opt.step()
        step += 1
        imgs_win += tcfg.batch_size
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
            counts[k] = counts.get(k, 0) + 1
        if step % tcfg.log_every == 0 or step == stop:
            log_window(stage)
        if step % tcfg.checkpoint_every == 0 and step < stop:
            checkpoint()
        if step == tcfg.stage1_steps and tcfg.stage2_steps > 0 and ranks.main:
            checkpoint(out / STAGE1)  # the weights before joint fine-tuning, to measure what stage 2 adds
    checkpoint()
    if ranks.world_size > 1:
        _barrier()  # every rank returns once rank 0's checkpoint is complete
    return out


CALIBRATION_STEPS = 8  # for --budget-s: 2 warm-up and 2 timed steps of each stage
BUDGET_RESERVE = 0.03  # of the budget, kept for the last checkpoint and the process's exit


def _calibrate(model, opt, run, batches, dev: torch.device) -> tuple[float, float]:
    """Seconds per stage-1 and per stage-2 step (each the mean of 2 steps after 2 warm-up steps, which also
    trigger torch.compile), measured on the run's first batches; the weights, buffers and optimiser state
    are put back afterwards, so the run itself starts from the same initialisation."""
    import copy

    saved_model = copy.deepcopy(model.state_dict())
    saved_opt = copy.deepcopy(opt.state_dict())
    times = {1: [], 2: []}
    for k, batch in enumerate(batches):
        stage = 1 if k < CALIBRATION_STEPS // 2 else 2
        batch = {key: v.to(dev, non_blocking=True) for key, v in batch.items()}
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        t = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        run(batch, stage)["total"].backward()
        opt.step()
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        if k % (CALIBRATION_STEPS // 2) >= 2:
            times[stage].append(time.perf_counter() - t)
    model.load_state_dict(saved_model)
    opt.load_state_dict(saved_opt)
    return float(np.mean(times[1])), float(np.mean(times[2]))


def _fit_to_budget(tcfg: TrainConfig, seconds_left: float, step_s: tuple[float, float]) -> TrainConfig:
    """``tcfg`` with both stage lengths scaled by one factor (their ratio kept) so that they take
    ``seconds_left`` (less :data:`BUDGET_RESERVE`) at ``step_s`` seconds per stage-1 / stage-2 step."""
    usable = seconds_left * (1.0 - BUDGET_RESERVE)
    per_unit = tcfg.stage1_steps * step_s[0] + tcfg.stage2_steps * step_s[1]
    if usable <= 0 or per_unit <= 0:
        raise ValueError(f"--budget-s leaves {seconds_left:.0f} s after start-up; give a larger budget")
    factor = usable / per_unit
    s1, s2 = int(tcfg.stage1_steps * factor), int(tcfg.stage2_steps * factor)
    if s1 + s2 < 1:
        raise ValueError(f"--budget-s: one step takes {max(step_s):.1f} s, more than the {seconds_left:.0f} s left")
    return replace(tcfg, stage1_steps=s1, stage2_steps=s2)


def _prepare_log(path: Path, start: int) -> None:
    """Create the CSV log, or on resume drop rows written after the checkpoint being resumed."""
    header = ["step", "stage", "lr", *LOG_TERMS, "img_per_s", "elapsed_s"]
    rows = []
    if start > 0 and path.exists():
        with path.open(newline="") as f:
            rows = [r for r in csv.DictReader(f) if int(r["step"]) <= start]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)


def _append_log(path: Path, step: int, stage: int, lr: float, means: dict, rate: float, elapsed: float) -> None:
    with path.open("a", newline="") as f:
        w = csv.writer(f)
        w.writerow([step, stage, f"{lr:.3g}", *(f"{means[k]:.6f}" if k in means else "" for k in LOG_TERMS),
                    f"{rate:.3f}", f"{elapsed:.1f}"])


def read_log(path) -> list[dict]:
    """The CSV training log as a list of dicts (strings as written)."""
    with Path(path).open(newline="") as f:
        return list(csv.DictReader(f))


__all__ = ["StepSchedule", "TrainingItems", "check_fields", "read_log", "train"]

"""Checkpoints: weights in safetensors, configuration in JSON, optimizer state for resuming.

A checkpoint is a directory::

    model.safetensors   the network's state_dict (float32 weights, BatchNorm statistics)
    config.json         {"format": "humandepth-reference", "format_version", "model": ModelConfig,
                         "train": TrainConfig, "training": {step, stage, images_seen, data, ...}}
    train_state.pt      (training only) optimizer state, step and stage; read with ``weights_only=True``

Nothing is unpickled beyond plain tensors and containers, so loading a checkpoint cannot run code.
Every file is written to a temporary name and renamed, so an interrupted save keeps the previous one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from humandepth.baselines.reference.config import ModelConfig
from humandepth.baselines.reference.model import ReferenceNet

FORMAT = "humandepth-reference"
FORMAT_VERSION = "1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
TRAIN_STATE = "train_state.pt"


def save_checkpoint(directory, model: ReferenceNet, config: dict, train_state: dict | None = None) -> Path:
    """Write ``model`` and ``config`` (JSON-serialisable; ``model`` key added here) into ``directory``, and
    ``train_state`` when given.

    Every file is written in full as a ``.partial`` first and the three are renamed into place only then, so a
    save interrupted while writing leaves the previous checkpoint whole.  The weights record the training step
    (``train_state["step"]``), which :func:`load_train_state` checks, so a save interrupted between the renames
    is refused on resume rather than pairing one step's weights with another's optimizer state."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION}
    if train_state is not None:
        meta["step"] = str(int(train_state["step"]))
    parts = {WEIGHTS: d / f".{WEIGHTS}.partial", CONFIG: d / f".{CONFIG}.partial"}
    save_file(state, str(parts[WEIGHTS]), metadata=meta)
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **config, "model": model.cfg.to_dict()}
    parts[CONFIG].write_text(json.dumps(full, indent=1, sort_keys=True))
    if train_state is not None:
        parts[TRAIN_STATE] = d / f".{TRAIN_STATE}.partial"
        torch.save(train_state, parts[TRAIN_STATE])
    for name, tmp in parts.items():
        os.replace(tmp, d / name)
    return d


def _resolve(path) -> Path:
    p = Path(path)
    if p.is_file() and p.name == WEIGHTS:
        p = p.parent
    if not p.is_dir():
        raise FileNotFoundError(f"reference checkpoint not found: {path} (expected a directory with {WEIGHTS} "
                                f"and {CONFIG})")
    for name in (WEIGHTS, CONFIG):
        if not (p / name).is_file():
            raise FileNotFoundError(f"reference checkpoint {p} lacks {name}")
    return p


def read_config(path) -> dict:
    """The checkpoint's config.json as a dict (``path``: the directory or its model.safetensors)."""
    p = _resolve(path)
    try:
        cfg = json.loads((p / CONFIG).read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{p / CONFIG} is not valid JSON: {e}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        what = cfg.get("format") if isinstance(cfg, dict) else type(cfg).__name__
        raise ValueError(f"{p / CONFIG} is not a humandepth reference checkpoint (format {what!r})")
    if not isinstance(cfg.get("model"), dict):
        raise ValueError(f"{p / CONFIG} lacks its 'model' section (a damaged or hand-edited checkpoint)")
    return cfg


def load_checkpoint(path, device: str | torch.device = "cpu") -> tuple[ReferenceNet, dict]:
    """(network in eval mode on ``device``, config dict) from a checkpoint directory."""
    p = _resolve(path)
    cfg = read_config(p)
    model = ReferenceNet(ModelConfig.from_dict(cfg["model"]))
    try:
        state = load_file(str(p / WEIGHTS))
    except Exception as e:  # safetensors raises its own error types on corrupt files
        raise ValueError(f"cannot read weights {p / WEIGHTS}: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f"weights {p / WEIGHTS} do not match the network of {p / CONFIG}: {e}") from None
    return model.to(device).eval(), cfg


def load_train_state(path) -> dict | None:
    """The optimizer/step state saved next to the weights, or None when absent (tensors only)."""
    p = _resolve(path)
    f = p / TRAIN_STATE
    if not f.is_file():
        return None
    state = torch.load(f, map_location="cpu", weights_only=True)
    with safe_open(str(p / WEIGHTS), "pt") as w:
        weights_step = (w.metadata() or {}).get("step")
    if weights_step is not None and int(weights_step) != int(state["step"]):
        raise ValueError(f"checkpoint {p} is inconsistent: {WEIGHTS} is from step {weights_step} but {TRAIN_STATE} "
                         f"from step {state['step']} (a save was interrupted); train again into a new --out")
    return state

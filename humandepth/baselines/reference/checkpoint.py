"""Checkpoints: weights in safetensors, configuration in JSON, optimizer state for resuming.

A checkpoint is a directory::

    model.safetensors   the network's state_dict (float32 weights, normalisation statistics); or, written with
                        ``chunk_bytes``, the same bytes cut into model.safetensors.000, .001, ... (each at most
                        ``chunk_bytes``: for channels that cap file sizes), joined again on load
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
from safetensors.torch import load, save

from humandepth.baselines.reference.config import ModelConfig
from humandepth.baselines.reference.model import ReferenceNet

FORMAT = "humandepth-reference"
FORMAT_VERSION = "1"
WEIGHTS = "model.safetensors"
CONFIG = "config.json"
TRAIN_STATE = "train_state.pt"


def _chunk_names(d: Path) -> list[Path]:
    """The weight chunks model.safetensors.000, .001, ... present in ``d``, in order."""
    return sorted(p for p in d.glob(f"{WEIGHTS}.[0-9][0-9][0-9]"))


def weights_bytes(directory) -> bytes:
    """The bytes of the checkpoint's safetensors weights: model.safetensors, or its chunks joined."""
    d = Path(directory)
    if (d / WEIGHTS).is_file():
        return (d / WEIGHTS).read_bytes()
    chunks = _chunk_names(d)
    expected = [d / f"{WEIGHTS}.{i:03d}" for i in range(len(chunks))]
    if not chunks or chunks != expected:
        raise FileNotFoundError(f"reference checkpoint {d} lacks {WEIGHTS} (or its chunks .000, .001, ... in order)")
    return b"".join(p.read_bytes() for p in chunks)


def save_checkpoint(directory, model: ReferenceNet, config: dict, train_state: dict | None = None,
                    chunk_bytes: int | None = None) -> Path:
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
    blob = save(state, metadata=meta)
    parts = {CONFIG: d / f".{CONFIG}.partial"}
    if chunk_bytes:
        for i, start in enumerate(range(0, len(blob), chunk_bytes)):
            name = f"{WEIGHTS}.{i:03d}"
            parts[name] = d / f".{name}.partial"
            parts[name].write_bytes(blob[start:start + chunk_bytes])
    else:
        parts[WEIGHTS] = d / f".{WEIGHTS}.partial"
        parts[WEIGHTS].write_bytes(blob)
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **config, "model": model.cfg.to_dict()}
    parts[CONFIG].write_text(json.dumps(full, indent=1, sort_keys=True))
    if train_state is not None:
        parts[TRAIN_STATE] = d / f".{TRAIN_STATE}.partial"
        torch.save(train_state, parts[TRAIN_STATE])
    stale = [p for p in [d / WEIGHTS, *_chunk_names(d)] if p.name not in parts and p.is_file()]
    for name, tmp in parts.items():
        os.replace(tmp, d / name)
    for p in stale:  # weights of the other layout (chunked vs whole) or surplus chunks of a larger save
        p.unlink()
    return d


def _resolve(path) -> Path:
    p = Path(path)
    if p.is_file() and (p.name == WEIGHTS or p.name == CONFIG):
        p = p.parent
    if not p.is_dir():
        raise FileNotFoundError(f"reference checkpoint not found: {path} (expected a directory with {WEIGHTS} "
                                f"and {CONFIG})")
    if not (p / CONFIG).is_file():
        raise FileNotFoundError(f"reference checkpoint {p} lacks {CONFIG}")
    if not (p / WEIGHTS).is_file() and not (p / f"{WEIGHTS}.000").is_file():
        raise FileNotFoundError(f"reference checkpoint {p} lacks {WEIGHTS}")
    return p


def has_weights(directory) -> bool:
    """True when ``directory`` holds reference weights (whole or in chunks)."""
    d = Path(directory)
    return (d / WEIGHTS).is_file() or (d / f"{WEIGHTS}.000").is_file()


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
        state = load(weights_bytes(p))
    except FileNotFoundError:
        raise
    except Exception as e:  # safetensors raises its own error types on corrupt files
        raise ValueError(f"cannot read weights {p / WEIGHTS}: {e}") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f"weights {p / WEIGHTS} do not match the network of {p / CONFIG}: {e}") from None
    return model.to(device).eval(), cfg


def weights_metadata(path) -> dict:
    """The metadata stored in the checkpoint's safetensors header (format, and the step for training saves)."""
    p = _resolve(path)
    if (p / WEIGHTS).is_file():
        with safe_open(str(p / WEIGHTS), "pt") as w:
            return dict(w.metadata() or {})
    blob = weights_bytes(p)
    n = int.from_bytes(blob[:8], "little")  # safetensors: 8-byte header length, then the JSON header
    return dict(json.loads(blob[8:8 + n]).get("__metadata__") or {})


def load_train_state(path) -> dict | None:
    """The optimizer/step state saved next to the weights, or None when absent (tensors only)."""
    p = _resolve(path)
    f = p / TRAIN_STATE
    if not f.is_file():
        return None
    state = torch.load(f, map_location="cpu", weights_only=True)
    weights_step = weights_metadata(p).get("step")
    if weights_step is not None and int(weights_step) != int(state["step"]):
        raise ValueError(f"checkpoint {p} is inconsistent: {WEIGHTS} is from step {weights_step} but {TRAIN_STATE} "
                         f"from step {state['step']} (a save was interrupted); train again into a new --out")
    return state

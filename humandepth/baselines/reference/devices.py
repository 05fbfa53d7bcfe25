"""Where the reference network computes: the device and the mixed precision it supports.

Training runs under bfloat16 autocast where the hardware computes bf16 natively: every CUDA device that
torch reports bf16-capable, and x86 CPUs with AVX512-BF16 or AMX-BF16 (on other CPUs torch would emulate
bf16 and run slower than float32, so they train in float32).  Weights, optimizer state, losses and the
soft-argmax read-outs stay float32; autocast only lowers the convolutions and matrix products.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_supports_bf16() -> bool:
    """True when this CPU advertises native bf16 arithmetic (Linux ``/proc/cpuinfo`` flags; False elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return any(f in flags for f in CPU_BF16_FLAGS)
    return False


def autocast_dtype(device: torch.device) -> torch.dtype | None:
    """``torch.bfloat16`` when ``device`` computes bf16 natively (see the module docstring), else None."""
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return torch.bfloat16 if cpu_supports_bf16() else None
    return None

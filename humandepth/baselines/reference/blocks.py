"""Building blocks shared by the sub-networks: the bottleneck residual block and the hourglass.

All tensors are NCHW float32.  Spatial sizes are noted as (H, W) of the input.

Every block takes ``norm``: ``batch`` (BatchNorm, the authors' choice) or ``group`` (GroupNorm with
:func:`group_count` groups: statistics of one image, so a batch of 4 crops or a DDP rank of 2 trains and
predicts with the same normalisation).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

NORMS = ("batch", "group")
GROUPS = 8  # GroupNorm groups at most (fewer when the channel count is not a multiple of 8)


def group_count(channels: int) -> int:
    """GroupNorm groups for ``channels``: the largest divisor of ``channels`` that is at most :data:`GROUPS`."""
    return max(g for g in range(1, GROUPS + 1) if channels % g == 0)


def norm2d(kind: str, channels: int) -> nn.Module:
    """A normalisation layer over ``channels``: ``batch`` -> BatchNorm2d, ``group`` -> GroupNorm."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "group":
        return nn.GroupNorm(group_count(channels), channels)
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, got {kind!r}")


def _bn_relu_conv(c_in: int, c_out: int, k: int, norm: str) -> nn.Sequential:
    return nn.Sequential(norm2d(norm, c_in), nn.ReLU(inplace=True),
                         nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False))


class Residual(nn.Module):
    """Pre-activation bottleneck: N-ReLU-1x1 (n/2) -> N-ReLU-3x3 (n/2) -> N-ReLU-1x1 (n), plus a skip
    (a 1x1 conv when the channel count changes); N is ``norm``.  (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int, norm: str = "batch"):
        super().__init__()
        mid = max(c_out // 2, 1)
        self.body = nn.Sequential(_bn_relu_conv(c_in, mid, 1, norm), _bn_relu_conv(mid, mid, 3, norm),
                                  _bn_relu_conv(mid, c_out, 1, norm))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class ConvBnRelu(nn.Sequential):
    """Conv (k x k, ``stride``) -> normalisation -> ReLU."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, norm: str = "batch"):
        super().__init__(nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2, bias=False),
                         norm2d(norm, c_out), nn.ReLU(inplace=True))


class Hourglass(nn.Module):
    """Newell et al.'s recursive hourglass with ``levels`` max-pool downsamplings and additive skips.
    (B, F, H, W) -> (B, F, H, W); H and W must be divisible by 2**levels."""

    def __init__(self, levels: int, features: int, norm: str = "batch"):
        super().__init__()
        self.up1 = Residual(features, features, norm)
        self.low1 = Residual(features, features, norm)
        self.low2 = Hourglass(levels - 1, features, norm) if levels > 1 else Residual(features, features, norm)
        self.low3 = Residual(features, features, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.low3(self.low2(self.low1(F.max_pool2d(x, 2))))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode="nearest")


class StackedHourglass(nn.Module):
    """Stacked hourglass with intermediate supervision (the backbone of Skeleton-Net and Segmentation-Net).

    Stem: 7x7/2 conv -> F/4, residual -> F/2, 2x2 max-pool, residual, residual -> F; so an (S, S) input
    gives (S/4, S/4) outputs.  ``forward`` returns one (B, out_channels, S/4, S/4) tensor per stack
    (the last is the prediction; all are supervised) and the last stack's features (B, F, S/4, S/4).
    """

    def __init__(self, in_channels: int, out_channels: int, features: int, stacks: int, levels: int,
                 norm: str = "batch"):
        super().__init__()
        f4, f2 = max(features // 4, 8), max(features // 2, 8)
        self.stem = nn.Sequential(ConvBnRelu(in_channels, f4, 7, stride=2, norm=norm), Residual(f4, f2, norm),
                                  nn.MaxPool2d(2), Residual(f2, f2, norm), Residual(f2, features, norm))
        self.hourglasses = nn.ModuleList(Hourglass(levels, features, norm) for _ in range(stacks))
        self.features = nn.ModuleList(nn.Sequential(Residual(features, features, norm),
                                                    ConvBnRelu(features, features, 1, norm=norm))
                                      for _ in range(stacks))
        self.heads = nn.ModuleList(nn.Conv2d(features, out_channels, 1) for _ in range(stacks))
        self.merge_features = nn.ModuleList(nn.Conv2d(features, features, 1) for _ in range(stacks - 1))
        self.merge_preds = nn.ModuleList(nn.Conv2d(out_channels, features, 1) for _ in range(stacks - 1))

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        x = self.stem(x)
        outputs = []
        feat = x
        for i, hg in enumerate(self.hourglasses):
            feat = self.features[i](hg(x))
            out = self.heads[i](feat)
            outputs.append(out)
            if i < len(self.hourglasses) - 1:
                x = x + self.merge_features[i](feat) + self.merge_preds[i](out)
        return outputs, feat

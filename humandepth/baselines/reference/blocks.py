"""Building blocks shared by the sub-networks: the bottleneck residual block and the hourglass.

All tensors are NCHW float32.  Spatial sizes are noted as (H, W) of the input.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _bn_relu_conv(c_in: int, c_out: int, k: int) -> nn.Sequential:
    return nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(inplace=True),
                         nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False))


class Residual(nn.Module):
    """Pre-activation bottleneck: BN-ReLU-1x1 (n/2) -> BN-ReLU-3x3 (n/2) -> BN-ReLU-1x1 (n), plus a skip
    (a 1x1 conv when the channel count changes).  (B, c_in, H, W) -> (B, c_out, H, W)."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        mid = max(c_out // 2, 1)
        self.body = nn.Sequential(_bn_relu_conv(c_in, mid, 1), _bn_relu_conv(mid, mid, 3),
                                  _bn_relu_conv(mid, c_out, 1))
        self.skip = nn.Identity() if c_in == c_out else nn.Conv2d(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) + self.skip(x)


class ConvBnRelu(nn.Sequential):
    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1):
        super().__init__(nn.Conv2d(c_in, c_out, k, stride=stride, padding=(k - 1) // 2, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class Hourglass(nn.Module):
    """Newell et al.'s recursive hourglass with ``levels`` max-pool downsamplings and additive skips.
    (B, F, H, W) -> (B, F, H, W); H and W must be divisible by 2**levels."""

    def __init__(self, levels: int, features: int):
        super().__init__()
        self.up1 = Residual(features, features)
        self.low1 = Residual(features, features)
        self.low2 = Hourglass(levels - 1, features) if levels > 1 else Residual(features, features)
        self.low3 = Residual(features, features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.low3(self.low2(self.low1(F.max_pool2d(x, 2))))
        return self.up1(x) + F.interpolate(low, scale_factor=2, mode="nearest")


class StackedHourglass(nn.Module):
    """Stacked hourglass with intermediate supervision (the backbone of Skeleton-Net and Segmentation-Net).

    Stem: 7x7/2 conv -> F/4, residual -> F/2, 2x2 max-pool, residual, residual -> F; so an (S, S) input
    gives (S/4, S/4) outputs.  ``forward`` returns one (B, out_channels, S/4, S/4) tensor per stack
    (the last is the prediction; all are supervised) and the last stack's features (B, F, S/4, S/4).
    """

    def __init__(self, in_channels: int, out_channels: int, features: int, stacks: int, levels: int):
        super().__init__()
        f4, f2 = max(features // 4, 8), max(features // 2, 8)
        self.stem = nn.Sequential(ConvBnRelu(in_channels, f4, 7, stride=2), Residual(f4, f2), nn.MaxPool2d(2),
                                  Residual(f2, f2), Residual(f2, features))
        self.hourglasses = nn.ModuleList(Hourglass(levels, features) for _ in range(stacks))
        self.features = nn.ModuleList(nn.Sequential(Residual(features, features), ConvBnRelu(features, features, 1))
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

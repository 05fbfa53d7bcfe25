"""The four sub-networks of Tang et al. 2019: Skeleton-Net, Segmentation-Net, Depth-Net, Normal-Net.

Shapes for an input side S (``ModelConfig.input_size``; 256 in the paper) and heatmap side h = S/4:

- Skeleton-Net: RGB (B, 3, S, S) -> per stack (B, 16*19, h, h) joint-volume logits (channel j*19 + k is
  joint j, depth bin k); :func:`soft_argmax_joints` reads (B, 16, 3) = (x px, y px at h, depth bin 0..18).
- Segmentation-Net: RGB -> per stack (B, 15, h, h) part logits (0 = background).
- Depth-Net: (B, 3 [+ 15 + 304], S, S) -> base (B, 1, S, S) m, detail (B, 1, S, S) m and the base logits
  (B, 20, S, S); relative depth, background 0.60; optionally the silhouette logit (B, 1, S, S).
- Normal-Net: RGB + mask (B, 4, S, S) -> (B, 3, S, S) unit normals, OpenCV camera frame, n_z < 0.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from humandepth.baselines.reference.blocks import ConvBnRelu, Residual, StackedHourglass, norm2d
from humandepth.baselines.reference.config import (
    DEPTH_BIN_FIRST,
    DEPTH_BIN_M,
    DEPTH_BINS,
    JOINT_BINS,
    N_JOINTS,
    N_PARTS,
    ModelConfig,
)


def depth_bin_values(device=None, dtype=torch.float32) -> torch.Tensor:
    """(20,) metres: the base branch's bin centres k * 0.06 m, k = -9..10."""
    k = torch.arange(DEPTH_BIN_FIRST, DEPTH_BIN_FIRST + DEPTH_BINS, device=device, dtype=dtype)
    return k * DEPTH_BIN_M


def soft_argmax_depth(logits: torch.Tensor) -> torch.Tensor:
    """(B, 20, H, W) bin logits -> (B, 1, H, W) expected depth in metres (softmax over bins)."""
    p = torch.softmax(logits.float(), dim=1)
    return (p * depth_bin_values(logits.device).view(1, -1, 1, 1)).sum(dim=1, keepdim=True)


def soft_argmax_joints(volume_logits: torch.Tensor) -> torch.Tensor:
    """Integral regression over joint volumes.

    Args:
        volume_logits: (B, 16*19, h, h), channel j*19 + k = joint j, depth bin k.
    Returns:
        (B, 16, 3) float32: x and y in heatmap pixels (pixel centres at integers), depth bin index in
        0..18 (bin 9 = the pelvis depth; one bin = 0.045 m).
    """
    b, _, h, w = volume_logits.shape
    v = volume_logits.float().reshape(b, N_JOINTS, JOINT_BINS * h * w)
    p = torch.softmax(v, dim=-1).view(b, N_JOINTS, JOINT_BINS, h, w)
    xs = torch.arange(w, device=v.device, dtype=torch.float32)
    ys = torch.arange(h, device=v.device, dtype=torch.float32)
    zs = torch.arange(JOINT_BINS, device=v.device, dtype=torch.float32)
    x = (p.sum(dim=(2, 3)) * xs).sum(-1)
    y = (p.sum(dim=(2, 4)) * ys).sum(-1)
    z = (p.sum(dim=(3, 4)) * zs).sum(-1)
    return torch.stack([x, y, z], dim=-1)


class SkeletonNet(StackedHourglass):
    """Stacked hourglass predicting 16 joint volumes of 19 depth bins at (S/4, S/4)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(3, N_JOINTS * JOINT_BINS, cfg.hg_features, cfg.hg_stacks, cfg.hg_levels, cfg.norm)


class SegmentationNet(StackedHourglass):
    """Stacked hourglass predicting 15 part logits (background + 14 parts) at (S/4, S/4)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__(3, N_PARTS, cfg.hg_features, cfg.hg_stacks, cfg.hg_levels, cfg.norm)


class EncoderDecoder(nn.Module):
    """U-Net/hourglass hybrid with stride-2 2x2 conv downsamplings, 2x2 transposed-conv upsamplings and
    *additive* residual skips.  (B, widths[0], H, W) -> (B, widths[0], H, W); ``widths[i]`` is the width
    after i downsamplings; two residual blocks at the bottom."""

    def __init__(self, widths: tuple[int, ...], norm: str = "batch"):
        super().__init__()
        levels = len(widths) - 1
        self.skips = nn.ModuleList(Residual(widths[i], widths[i], norm) for i in range(levels))
        self.downs = nn.ModuleList(nn.Sequential(nn.Conv2d(widths[i], widths[i + 1], 2, stride=2),
                                                 Residual(widths[i + 1], widths[i + 1], norm)) for i in range(levels))
        self.bottom = nn.Sequential(Residual(widths[-1], widths[-1], norm), Residual(widths[-1], widths[-1], norm))
        self.ups = nn.ModuleList(nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in range(levels))
        self.merges = nn.ModuleList(Residual(widths[i], widths[i], norm) for i in range(levels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for skip, down in zip(self.skips, self.downs, strict=True):
            skips.append(skip(x))
            x = down(x)
        x = self.bottom(x)
        for i in reversed(range(len(self.ups))):
            x = self.merges[i](self.ups[i](x) + skips[i])
        return x


class DepthNet(nn.Module):
    """Depth-Net with the base branch (20-bin classification read out by soft-argmax) and the detail
    branch (one channel divided by 100).  With ``two_branch=False`` only the base-style branch exists and
    it regresses the whole relative depth (the ``single-branch`` ablation)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        f, nm = cfg.depth_features, cfg.norm
        self.stem = nn.Sequential(ConvBnRelu(cfg.depth_input_channels, max(f // 2, 8), 7, stride=2, norm=nm),
                                  Residual(max(f // 2, 8), f, nm))
        self.trunk = EncoderDecoder((f,) * (cfg.depth_levels + 1), nm)
        self.up = nn.ConvTranspose2d(f, f, 2, stride=2)
        self.feature = Residual(f, f, nm)
        # optional full-resolution path from the RGB channels (ModelConfig.image_skip)
        self.image_skip = (nn.Sequential(ConvBnRelu(3, max(f // 2, 8), 3, norm=nm),
                                         nn.Conv2d(max(f // 2, 8), f, 3, padding=1))
                           if cfg.image_skip else None)
        self.base_head = nn.Sequential(Residual(f, f, nm), norm2d(nm, f), nn.ReLU(inplace=True),
                                       nn.Conv2d(f, DEPTH_BINS, 1))
        self.two_branch = cfg.two_branch
        if self.two_branch:
            self.detail_head = nn.Sequential(Residual(f, f, nm), norm2d(nm, f), nn.ReLU(inplace=True),
                                             nn.Conv2d(f, 1, 1))
        self.mask_head = (nn.Sequential(Residual(f, f, nm), norm2d(nm, f), nn.ReLU(inplace=True), nn.Conv2d(f, 1, 1))
                          if cfg.mask_head else None)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """(B, C_in, S, S) (whitened RGB first) -> ``base`` (B,1,S,S) m, ``detail`` (B,1,S,S) m (zeros for one branch),
        ``composed`` = base + detail, ``base_logits`` (B,20,S,S); with the mask head also ``mask_logit`` (B,1,S,S)
        float32 (person where > 0)."""
        up = self.up(self.trunk(self.stem(x)))
        if self.image_skip is not None:
            up = up + self.image_skip(x[:, :3])
        feat = self.feature(up)
        logits = self.base_head(feat)
        base = soft_argmax_depth(logits)
        detail = self.detail_head(feat).float() / 100.0 if self.two_branch else torch.zeros_like(base)
        out = {"base_logits": logits, "base": base, "detail": detail, "composed": base + detail}
        if self.mask_head is not None:
            out["mask_logit"] = self.mask_head(feat).float()
        return out


class NormalNet(nn.Module):
    """U-Net on RGB + foreground mask -> unit normals facing the camera (OpenCV frame, n_z < 0).

    The z component is produced as ``-softplus(raw) - 1e-3`` before normalisation, so every normal faces
    the camera (n . (0, 0, 1) < 0) by construction."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        w, nm = cfg.normal_widths, cfg.norm
        self.stem = nn.Sequential(ConvBnRelu(4, w[0], 7, stride=2, norm=nm), Residual(w[0], w[0], nm))
        self.trunk = EncoderDecoder(tuple(w), nm)
        self.up = nn.ConvTranspose2d(w[0], w[0], 2, stride=2)
        self.head = nn.Sequential(Residual(w[0], w[0], nm), norm2d(nm, w[0]), nn.ReLU(inplace=True),
                                  nn.Conv2d(w[0], 3, 1))

    def forward(self, rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """rgb (B, 3, S, S) normalised, mask (B, 1, S, S) float 0/1 -> (B, 3, S, S) float32 unit normals."""
        raw = self.head(self.up(self.trunk(self.stem(torch.cat([rgb, mask], dim=1))))).float()
        n = torch.cat([raw[:, :2], -F.softplus(raw[:, 2:]) - 1e-3], dim=1)
        return n / n.norm(dim=1, keepdim=True)

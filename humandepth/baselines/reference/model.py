"""The whole reference network: Skeleton-Net + Segmentation-Net -> Depth-Net, Normal-Net, refinement.

Input: a square crop (B, 3, S, S) RGB in [0, 1] (whitened inside with :data:`RGB_MEAN`/:data:`RGB_STD`).
Outputs (all float32, relative depth in metres with background 0.60, see ``config.py``):

- ``joint_volumes``: list per stack of (B, 304, S/4, S/4) logits; ``joints`` (B, 16, 3) soft-argmax
  (x, y heatmap px, depth bin);
- ``part_logits``: list per stack of (B, 15, S/4, S/4); ``mask`` (B, 1, S, S) bool foreground used
  downstream (the given one, else ``mask_logit > 0`` with the mask head, else ``argmax != background``
  upsampled); ``mask_logit`` (B, 1, S, S) with the mask head (``ModelConfig.mask_head``);
- ``base_logits`` (B, 20, S, S), ``base``, ``detail``, ``composed`` (B, 1, S, S) metres;
- ``normal`` (B, 3, S, S) unit normals facing the camera;
- ``depth`` (B, 1, S, S): the refined depth (``refinement`` = tang | geonet | none).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from humandepth.baselines.reference.config import JOINT_BINS, N_JOINTS, N_PARTS, ModelConfig
from humandepth.baselines.reference.refine import refine
from humandepth.baselines.reference.subnets import DepthNet, NormalNet, SegmentationNet, SkeletonNet, soft_argmax_joints

RGB_MEAN = (0.5, 0.5, 0.5)
RGB_STD = (0.25, 0.25, 0.25)


class ReferenceNet(nn.Module):
    """Tang et al. 2019 reference network with the sizes of ``cfg`` (see :class:`ModelConfig`)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.skeleton = SkeletonNet(cfg) if cfg.uses_priors else None
        # optional 1x1 projection of the 15 + 304 prior logits at the heatmap resolution (ModelConfig.prior_channels)
        self.prior_projection = (nn.Conv2d(N_PARTS + N_JOINTS * JOINT_BINS, cfg.prior_channels, 1)
                                 if cfg.uses_priors and cfg.prior_channels else None)
        self.segmentation = SegmentationNet(cfg)
        self.depth = DepthNet(cfg)
        self.normal = NormalNet(cfg)
        self.register_buffer("rgb_mean", torch.tensor(RGB_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("rgb_std", torch.tensor(RGB_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, rgb: torch.Tensor, mask: torch.Tensor | None = None, refinement: str = "tang",
                detach_priors: bool = False, refine_in_mask: bool = True) -> dict:
        """rgb (B, 3, S, S) in [0, 1]; mask optional (B, 1, S, S) bool (the GT mask in training).

        ``detach_priors`` stops Depth-Net gradients at its skeleton/segmentation inputs (stage 1);
        ``refine_in_mask`` restricts the refinement to the foreground (see refine.py)."""
        s = self.cfg.input_size
        if rgb.shape[-2:] != (s, s):
            raise ValueError(f"reference network expects ({s}, {s}) inputs, got {tuple(rgb.shape[-2:])}")
        x = (rgb - self.rgb_mean) / self.rgb_std
        out: dict = {}
        part_logits, _ = self.segmentation(x)
        out["part_logits"] = part_logits
        depth_in = [x]
        if self.skeleton is not None:
            volumes, _ = self.skeleton(x)
            out["joint_volumes"] = volumes
            out["joints"] = soft_argmax_joints(volumes[-1])
            priors = torch.cat([part_logits[-1], volumes[-1]], dim=1)
            if detach_priors:
                priors = priors.detach()
            if self.prior_projection is not None:
                priors = self.prior_projection(priors)
            depth_in.append(F.interpolate(priors, size=(s, s), mode="bilinear", align_corners=False))
        out.update(self.depth(torch.cat(depth_in, dim=1)))
        if mask is None:
            if "mask_logit" in out:
                mask = out["mask_logit"] > 0
            else:
                fg = (part_logits[-1].argmax(dim=1, keepdim=True) != 0).float()
                mask = F.interpolate(fg, size=(s, s), mode="nearest") > 0.5
        out["mask"] = mask
        out["normal"] = self.normal(x, mask.to(x.dtype))
        out["depth"] = refine(refinement, out["composed"], out["normal"], mask if refine_in_mask else None,
                              iterations=self.cfg.refine_iterations, lam=self.cfg.refine_lambda)
        return out


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

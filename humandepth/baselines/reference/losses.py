"""Training losses of the reference network (all documented in docs/reference.md).

Depth errors are measured in centimetres so that the terms have comparable magnitudes.

Stage 1 (each branch on its own target):
    L1 = w_skeleton_volume * CE(softmax volume, normalised 3D Gaussian)   (every stack)
       + w_skeleton_integral * L1(soft-argmax joints)                     (x, y / h and bin / 19)
       + w_segmentation * CE(part logits, parts)                          (every stack)
       + w_base * L1_cm(base, base target)    (foreground weight 1, background ``background_weight``)
       + w_base_ce * CE(base logits, two-hot bin labels of the base target)    (foreground)
       + w_detail * L1_cm(detail, detail target)                          (foreground)
       + w_normal * mean angular error in degrees                         (valid normals)
       + w_mask * BCE(silhouette logit, mask)                             (with ModelConfig.mask_head)
    (single-branch: the base terms use the whole relative depth and there is no detail term.)
Stage 2 (joint fine-tuning):
    L2 = w_composed * mean min(|composed - depth|_cm, truncation_cm)     (fg 1, bg ``background_weight``)
       + the base and base_ce terms of stage 1 when ``stage2_base`` (default)
       + the skeleton, segmentation, normal and mask terms of stage 1.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from humandepth.baselines.reference.config import (
    DEPTH_BIN_FIRST,
    DEPTH_BIN_M,
    DEPTH_BINS,
    JOINT_BINS,
    N_JOINTS,
    TrainConfig,
)

JOINT_SIGMA_64 = 2.0  # Gaussian sigma of joint targets in pixels of a 64x64 heatmap (scaled with h)
JOINT_SIGMA_BINS = 1.0  # along depth: about 5 bins wide, as the authors'


def gaussian_volumes(joints: torch.Tensor, h: int) -> torch.Tensor:
    """(B, 16, 3) joints (x, y px at h, depth bin) -> (B, 16, 19*h*h) normalised 3D Gaussians."""
    sig = JOINT_SIGMA_64 * h / 64.0
    ar = torch.arange(h, dtype=torch.float32, device=joints.device)
    zs = torch.arange(JOINT_BINS, dtype=torch.float32, device=joints.device)
    gx = torch.exp(-((ar - joints[..., 0:1]) ** 2) / (2 * sig**2))  # (B, 16, h)
    gy = torch.exp(-((ar - joints[..., 1:2]) ** 2) / (2 * sig**2))
    gz = torch.exp(-((zs - joints[..., 2:3]) ** 2) / (2 * JOINT_SIGMA_BINS**2))
    vol = gz[..., :, None, None] * gy[..., None, :, None] * gx[..., None, None, :]
    vol = vol.flatten(2)
    return vol / vol.sum(-1, keepdim=True).clamp_min(1e-12)


def skeleton_losses(volumes: list[torch.Tensor], joints_pred: torch.Tensor, batch: dict) -> tuple:
    """(volume CE summed over stacks, integral L1) over valid joints; zeros when none is valid."""
    valid = batch["joints_valid"].float()  # (B, 16)
    nvalid = valid.sum().clamp_min(1.0)
    h = volumes[0].shape[-1]
    target = gaussian_volumes(batch["joints"], h)
    ce = volumes[0].new_zeros(())
    for v in volumes:
        logp = torch.log_softmax(v.float().reshape(v.shape[0], N_JOINTS, -1), dim=-1)
        ce = ce + (-(target * logp).sum(-1) * valid).sum() / nvalid
    scale = torch.tensor([h, h, JOINT_BINS], dtype=torch.float32, device=joints_pred.device)
    l1 = ((joints_pred - batch["joints"]).abs() / scale).sum(-1)
    return ce, (l1 * valid).sum() / nvalid


def segmentation_loss(part_logits: list[torch.Tensor], parts: torch.Tensor) -> torch.Tensor:
    if bool((parts == -100).all()):
        return part_logits[0].new_zeros(())
    return sum(F.cross_entropy(p.float(), parts, ignore_index=-100) for p in part_logits)


def _weighted_mean(err: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (err * weight).sum() / weight.sum().clamp_min(1e-6)


def two_hot(depth: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) metres -> (B, 20, H, W) labels splitting the mass between the two nearest bins."""
    pos = (depth / DEPTH_BIN_M - DEPTH_BIN_FIRST).clamp(0, DEPTH_BINS - 1)
    lo = pos.floor().clamp(max=DEPTH_BINS - 2)
    frac = pos - lo
    out = torch.zeros(depth.shape[0], DEPTH_BINS, *depth.shape[2:], device=depth.device)
    out.scatter_(1, lo.long(), 1.0 - frac)
    out.scatter_add_(1, lo.long() + 1, frac)
    return out


def normal_loss(normal: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean angular error in degrees over ``valid`` (the authors' Normal-Net loss; acos clamped)."""
    cos = (normal.float() * target).sum(1, keepdim=True).clamp(-0.9999, 0.9999)
    if not bool(valid.any()):
        return cos.new_zeros(())
    return torch.rad2deg(torch.acos(cos))[valid].mean()


def compute_losses(out: dict, batch: dict, cfg: TrainConfig, stage: int, two_branch: bool) -> dict:
    """Every loss term (tensors) and ``total`` for ``stage`` 1 or 2; see the module docstring."""
    terms: dict[str, torch.Tensor] = {}
    if "joint_volumes" in out:
        terms["skeleton_volume"], terms["skeleton_integral"] = skeleton_losses(out["joint_volumes"], out["joints"],
                                                                               batch)
    terms["segmentation"] = segmentation_loss(out["part_logits"], batch["parts"])
    terms["normal"] = normal_loss(out["normal"], batch["normal"], batch["normal_valid"])
    fg = batch["mask"].float()
    if "mask_logit" in out:
        terms["mask"] = F.binary_cross_entropy_with_logits(out["mask_logit"].float(), fg)
    pix_w = fg + cfg.background_weight * (1.0 - fg)
    if stage == 1 or cfg.stage2_base:
        base_target = batch["base"] if two_branch else batch["depth"]
        terms["base"] = _weighted_mean((out["base"] - base_target).abs() * 100.0, pix_w)
        ce = -(two_hot(base_target) * torch.log_softmax(out["base_logits"].float(), dim=1)).sum(1, keepdim=True)
        terms["base_ce"] = _weighted_mean(ce, fg)
        if two_branch and stage == 1:
            terms["detail"] = _weighted_mean((out["detail"] - batch["detail"]).abs() * 100.0, fg)
    if stage == 2:
        err = ((out["composed"] - batch["depth"]).abs() * 100.0).clamp(max=cfg.truncation_m * 100.0)
        terms["composed"] = _weighted_mean(err, pix_w)
    weights = {"skeleton_volume": cfg.w_skeleton_volume, "skeleton_integral": cfg.w_skeleton_integral,
               "segmentation": cfg.w_segmentation, "normal": cfg.w_normal, "base": cfg.w_base,
               "base_ce": cfg.w_base_ce, "detail": cfg.w_detail, "composed": cfg.w_composed, "mask": cfg.w_mask}
    terms["total"] = sum(weights[k] * v for k, v in terms.items())
    return terms

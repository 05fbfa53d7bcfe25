"""Training targets from a sample of the data contract, cropped to the network input.

Relative depth (the authors' convention): ``d_rel = depth - median(depth over the mask) + 0.10`` in the
mask and 0.60 outside.  ``depth_base`` is shifted by the same median (so base + detail = d_rel in the
mask); ``depth_detail`` is kept as is (0 outside).  Joint volumes: x, y from ``joints2d`` mapped into the
heatmap, depth bin ``(z_j - z_pelvis) / 0.045 + 9`` from ``joints3d`` (clamped to 0..18).
"""

from __future__ import annotations

import numpy as np
import torch

from humandepth.baselines.reference.config import (
    BACKGROUND_DEPTH,
    DEPTH_BIN_FIRST,
    DEPTH_BIN_M,
    DEPTH_BINS,
    FOREGROUND_OFFSET,
    JOINT_BIN_M,
    JOINT_BINS,
    ModelConfig,
)
from humandepth.baselines.reference.crop import crop_image, cut, person_box, resize_chw, to_crop_coords
from humandepth.data.conventions import JOINT_NAMES, PART_NAMES

BASE_MIN = DEPTH_BIN_FIRST * DEPTH_BIN_M
BASE_MAX = (DEPTH_BIN_FIRST + DEPTH_BINS - 1) * DEPTH_BIN_M


def _mirror_order(names: tuple[str, ...]) -> np.ndarray:
    """Index of each name's left/right counterpart (itself for names without a side)."""
    def other(name: str) -> str:
        if name.startswith("right_"):
            return "left_" + name[len("right_"):]
        if name.startswith("left_"):
            return "right_" + name[len("left_"):]
        return name

    return np.array([names.index(other(n)) for n in names])


JOINT_MIRROR = _mirror_order(JOINT_NAMES)  # joint j of a mirrored image is joint JOINT_MIRROR[j] of the original
PART_MIRROR = _mirror_order(PART_NAMES)  # part label k becomes PART_MIRROR[k] in a mirrored image


def mirror_item(item: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The training item of the left-right mirror image of ``item`` (:func:`make_item`'s keys): every map flipped,
    normals' x negated, left and right parts and joints swapped, joint x mirrored in the heatmap."""
    out = {k: v.flip(-1) for k, v in item.items() if k not in ("parts", "joints", "joints_valid", "normal")}
    out["normal"] = item["normal"].flip(-1) * torch.tensor([-1.0, 1.0, 1.0]).view(3, 1, 1)
    parts = item["parts"].flip(-1)
    labelled = parts >= 0
    out["parts"] = torch.where(labelled, torch.from_numpy(PART_MIRROR)[parts.clamp_min(0)], parts)
    h = item["parts"].shape[-1]
    joints = item["joints"][torch.from_numpy(JOINT_MIRROR)].clone()
    joints[:, 0] = (h - 1) - joints[:, 0]  # heatmap pixel centres at 0 .. h-1
    out["joints"] = joints
    out["joints_valid"] = item["joints_valid"][torch.from_numpy(JOINT_MIRROR)]
    return out


def fields_needed(cfg: ModelConfig) -> tuple[str, ...]:
    """The dataset fields training ``cfg`` needs (rgb, depth, mask are always present)."""
    need = ["rgb", "depth", "mask", "normal", "parts"]
    if cfg.two_branch:
        need += ["depth_base", "depth_detail"]
    if cfg.uses_priors:
        need += ["joints2d", "joints3d"]
    return tuple(need)


def relative(depth: np.ndarray, valid: np.ndarray, median: float, background: float = BACKGROUND_DEPTH) -> np.ndarray:
    """depth - median + 0.10 where ``valid``, ``background`` elsewhere; float32."""
    return np.where(valid, depth - median + FOREGROUND_OFFSET, background).astype(np.float32)


def random_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """A (size, size, 3) float32 texture in [0, 1]: a smooth random colour field plus fine noise and stripes."""
    coarse = rng.uniform(0, 1, size=(3, rng.integers(2, 9), rng.integers(2, 9))).astype(np.float32)
    field = torch.nn.functional.interpolate(torch.from_numpy(coarse)[None], size=(size, size), mode="bicubic",
                                            align_corners=False)[0].numpy().transpose(1, 2, 0)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    angle, freq = rng.uniform(0, np.pi), rng.uniform(2, 20)
    stripes = 0.5 + 0.5 * np.sin(2 * np.pi * freq * (np.cos(angle) * xx + np.sin(angle) * yy))
    tex = field * (1 - 0.3 * rng.uniform()) + 0.3 * rng.uniform() * stripes[..., None] * rng.uniform(0, 1, 3)
    tex += rng.normal(0, rng.uniform(0, 0.05), size=tex.shape)
    return np.clip(tex, 0, 1).astype(np.float32)


def make_item(sample, cfg: ModelConfig, rng: np.random.Generator | None = None, jitter: float = 0.0,
              background_prob: float = 0.0, crop_jitter: float = 0.0,
              mirror_prob: float = 0.0) -> dict[str, torch.Tensor]:
    """Crop ``sample`` around its mask and build every target at the network's resolution.

    Returns (S = input_size, h = S/4): ``rgb`` (3,S,S) float [0,1] (augmented when ``rng`` is given),
    ``mask`` (1,S,S) bool, ``depth`` / ``base`` / ``detail`` (1,S,S) float32 relative metres,
    ``normal`` (3,S,S), ``normal_valid`` (1,S,S) bool, ``parts`` (h,h) int64, ``joints`` (16,3) float32
    (x, y heatmap px, depth bin), ``joints_valid`` (16,) bool.  Absent optional fields give zeros and
    all-False validity (training checks the fields up front, see :func:`fields_needed`).  With ``rng``, the
    item is mirrored left to right with probability ``mirror_prob`` (:func:`mirror_item`).
    """
    s, h = cfg.input_size, cfg.heatmap_size
    fg = np.asarray(sample.mask, bool) & (sample.depth > 0) & np.isfinite(sample.depth)
    if not fg.any():
        raise ValueError(f"sample {sample.id!r}: the mask holds no pixel with depth; cannot build targets")
    median = float(np.median(sample.depth[fg]))
    box = person_box(fg, jitter=crop_jitter if rng is not None else 0.0, rng=rng)

    def cropped(arr, mode, fill=0):
        a = cut(np.asarray(arr), box, fill)
        t = torch.from_numpy(np.ascontiguousarray(a if a.ndim == 3 else a[..., None]).transpose(2, 0, 1).copy())
        return resize_chw(t.float(), s, mode)

    item: dict[str, torch.Tensor] = {}
    mask = cropped(fg.astype(np.float32), "nearest") > 0.5
    item["mask"] = mask
    item["depth"] = cropped(relative(sample.depth, fg, median), "nearest", BACKGROUND_DEPTH)
    if sample.depth_base is not None and sample.depth_detail is not None:
        base_ok = fg & (sample.depth_base > 0)
        base = np.clip(relative(sample.depth_base, base_ok, median), BASE_MIN, BASE_MAX)
        detail = np.where(base_ok, sample.depth_detail, 0.0).astype(np.float32)
        item["base"] = cropped(base, "nearest", BACKGROUND_DEPTH)
        item["detail"] = cropped(detail, "nearest")
    else:
        item["base"] = item["depth"].clone()
        item["detail"] = torch.zeros_like(item["depth"])
    if sample.normal is not None:
        n = cropped(sample.normal, "nearest")
        item["normal"] = n
        item["normal_valid"] = (n.norm(dim=0, keepdim=True) > 0.5) & mask
    else:
        item["normal"] = torch.zeros(3, s, s)
        item["normal_valid"] = torch.zeros(1, s, s, dtype=torch.bool)
    if sample.parts is not None:
        item["parts"] = resize_chw(torch.from_numpy(cut(sample.parts, box)[None].astype(np.float32)), h,
                                   "nearest")[0].long()
    else:
        item["parts"] = torch.full((h, h), -100, dtype=torch.long)  # ignored by the cross-entropy
    if sample.joints2d is not None and sample.joints3d is not None:
        xy = to_crop_coords(sample.joints2d, box, h)
        z = (sample.joints3d[:, 2] - sample.joints3d[0, 2]) / JOINT_BIN_M + (JOINT_BINS - 1) / 2.0
        joints = np.concatenate([xy, np.clip(z, 0, JOINT_BINS - 1)[:, None]], axis=1)
        valid = np.all(np.isfinite(joints), axis=1) & (xy[:, 0] >= 0) & (xy[:, 0] <= h - 1) & (xy[:, 1] >= 0) \
            & (xy[:, 1] <= h - 1)
        item["joints"] = torch.from_numpy(np.nan_to_num(joints).astype(np.float32))
        item["joints_valid"] = torch.from_numpy(valid)
    else:
        item["joints"] = torch.zeros(16, 3)
        item["joints_valid"] = torch.zeros(16, dtype=torch.bool)
    rgb = crop_image(sample.rgb, box, s)
    if rng is not None:
        if background_prob > 0 and rng.uniform() < background_prob:
            bg = torch.from_numpy(random_background(rng, s).transpose(2, 0, 1).copy())
            rgb = torch.where(mask, rgb, bg)
        if jitter > 0:
            rgb = (rgb * torch.from_numpy(rng.uniform(1 - jitter, 1 + jitter, 3).astype(np.float32)).view(3, 1, 1))
            rgb = rgb.clamp(0.0, 1.0)
    item["rgb"] = rgb
    if rng is not None and mirror_prob > 0 and rng.uniform() < mirror_prob:
        item = mirror_item(item)
    return item

"""Prediction with the reference network: the baseline class the registry points to.

For each sample (any resolution): find the person box -- by default from the network's own
segmentation of the whole image (letterboxed into the S x S input), optionally refined by further
segmentations of that box (``crop_passes`` > 1), or, with ``crop="mask"``, from the
sample's ground-truth mask (then the method reads GT and must be reported as an oracle) -- crop and resize
it to S x S (crop.py), run the network, and map depth and normals back to the sample's resolution
(bilinear; outside the box depth is the background value 0.60 and normals are (0, 0, 0)).  Inside the box,
crop pixels outside the predicted person take the depth of the nearest predicted-person pixel
(:func:`extend_person_depth`), so a pixel the segmentation misses costs a neighbour's error, not the
0.5 m step to the background value, and bilinear resampling does not blend the background into the silhouette.

Test-time views (``tta``): the default ``flip-scale`` runs the network on four views of each person -- the
box and a box 10 % wider, each as is and mirrored left to right -- and averages depth and normals at the
sample's resolution (a mirrored view's maps flipped back, its normals' x negated; each pixel averages the
views whose box covers it).  On the shipped checkpoint this lowers ``mae_cm`` and ``detail_mae_mm`` on the
rendered test split and on the real development frames (docs/reference.md) at four times the cost; ``flip``
uses the box and its mirror image, ``none`` one view.

Output depth is *relative* (``depth_kind = "relative"``): metres, shifted so the person's median is about
0.10 and the background 0.60 -- only differences are meaningful, the benchmark aligns the shift.
Normals are unit vectors in the camera frame facing the camera, (0, 0, 0) where none is predicted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from humandepth.baselines.reference.checkpoint import has_weights, load_checkpoint, weights_bytes
from humandepth.baselines.reference.config import ARCHITECTURE_OF, BACKGROUND_DEPTH, REFINEMENT_OF, VARIANTS
from humandepth.baselines.reference.crop import crop_image, person_box, scale_box, uncrop

SHIPPED = Path(__file__).resolve().parent / "checkpoints" / "small"
# architecture -> its shipped checkpoint folder, beside SHIPPED
SHIPPED_BY_ARCHITECTURE = {"full": "small", "single-branch": "single-branch", "no-priors": "no-priors"}
CROPS = ("segmentation", "mask")
# test-time views: (box scale, mirrored) per view
TTA_VIEWS = {"none": ((1.0, False),), "flip": ((1.0, False), (1.0, True)),
             "flip-scale": ((1.0, False), (1.0, True), (1.1, False), (1.1, True))}


def default_checkpoint(variant: str = "full") -> Path | None:
    """The checkpoint shipped with the package for ``variant``: ``checkpoints/small`` (full network, also
    for ``no-refine`` / ``geonet-refine``), ``checkpoints/single-branch`` or ``checkpoints/no-priors``; None
    for an architecture without one."""
    folder = SHIPPED_BY_ARCHITECTURE.get(ARCHITECTURE_OF.get(variant, "full"))
    if folder is None:
        return None
    return SHIPPED if folder == "small" else SHIPPED.parent / folder


def extend_person_depth(depth: torch.Tensor, person: torch.Tensor) -> torch.Tensor:
    """(S, S) depth, (S, S) bool person -> (S, S) depth where every non-person pixel holds the depth of its
    nearest person pixel (Euclidean, scipy's distance transform); unchanged when ``person`` is empty or full."""
    from scipy.ndimage import distance_transform_edt

    fg = person.cpu().numpy().astype(bool)
    if not fg.any() or fg.all():
        return depth
    rows, cols = distance_transform_edt(~fg, return_distances=False, return_indices=True)
    idx = torch.from_numpy((rows * fg.shape[1] + cols).reshape(-1)).to(depth.device)
    return depth.reshape(-1)[idx].reshape(depth.shape)


class ReferenceBaseline:
    """Tang et al. 2019 reference network (and its ablations) as a baseline.

    Args:
        checkpoint: a checkpoint directory (checkpoint.py); default: the one shipped for the variant
            (:func:`default_checkpoint`).
        variant: one of :data:`~humandepth.baselines.reference.config.VARIANTS`.  ``no-refine`` and
            ``geonet-refine`` run a ``full`` checkpoint; ``single-branch`` and ``no-priors`` need checkpoints
            trained with that variant.
        crop: ``segmentation`` (the network's own person mask, default) or ``mask`` (the GT mask; oracle).
        device: ``cpu``, ``cuda`` or None (CUDA when available).
        batch_size: samples per :meth:`predict` call.
        crop_passes: segmentation passes that find the box (``crop="segmentation"``): the first sees the
            whole image, each next one the previous box at full network resolution (default 1; more passes
            did not help the shipped checkpoint).
        tta: test-time views, a key of :data:`TTA_VIEWS` (default ``flip-scale``; see the module docstring).
    """

    depth_kind = "relative"

    def __init__(self, checkpoint=None, variant: str = "full", crop: str = "segmentation", device=None,
                 batch_size: int = 4, crop_passes: int = 1, tta: str = "flip-scale"):
        if variant not in VARIANTS:
            raise ValueError(f"unknown reference variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        if tta not in TTA_VIEWS:
            raise ValueError(f"unknown test-time views {tta!r}; choose one of {', '.join(TTA_VIEWS)}")
        if crop not in CROPS:
            raise ValueError(f"unknown crop source {crop!r}; choose one of {', '.join(CROPS)}")
        if checkpoint is None:
            checkpoint = default_checkpoint(variant)
            if checkpoint is None or not has_weights(checkpoint):
                arch = ARCHITECTURE_OF[variant]
                where = "none ships with the package" if checkpoint is None else f"none found at {checkpoint}"
                raise FileNotFoundError(
                    f"variant {variant!r} needs a checkpoint trained as {arch!r} ({where}): pass --checkpoint DIR, "
                    f"or train one with `humandepth baselines train reference --data DATASET --variant {arch} "
                    "--out DIR`")
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model, self.config = load_checkpoint(checkpoint, self.device)
        # recorded in predictions files, so a rerun can tell predictions of other weights (e.g. an upgrade)
        self.weights_sha256 = hashlib.sha256(weights_bytes(checkpoint)).hexdigest()
        arch = self.model.cfg.architecture
        if ARCHITECTURE_OF[variant] != arch:
            raise ValueError(f"variant {variant!r} needs a checkpoint trained as {ARCHITECTURE_OF[variant]!r}, but "
                             f"{checkpoint} was trained as {arch!r} (train with --variant {ARCHITECTURE_OF[variant]})")
        self.variant, self.crop, self.refinement = variant, crop, REFINEMENT_OF[variant]
        self.uses_gt = ("mask",) if crop == "mask" else ()  # recorded in the predictions file (an oracle run)
        self.batch_size = int(batch_size)
        if int(crop_passes) < 1:
            raise ValueError(f"crop_passes must be >= 1, got {crop_passes}")
        self.crop_passes = int(crop_passes)
        self.tta = tta
        self.checkpoint = Path(checkpoint)

    @property
    def settings(self) -> dict:
        """Inference settings recorded in the predictions file (beside the weights' sha256), with the
        checkpoint's refinement settings and mask source (config.json, not covered by the sha256)."""
        cfg = self.model.cfg
        return {"variant": self.variant, "crop": self.crop, "crop_passes": self.crop_passes, "tta": self.tta,
                "refine_iterations": cfg.refine_iterations, "refine_lambda": cfg.refine_lambda,
                "mask_source": "mask-head" if cfg.mask_head else "segmentation"}

    @torch.no_grad()
    def person_mask(self, rgb: np.ndarray, box: tuple[int, int, int] | None = None) -> np.ndarray:
        """(H, W, 3) uint8 -> (H, W) bool: Segmentation-Net's foreground seen through ``box`` (default: the
        whole image, letterboxed); False outside the box."""
        h, w = rgb.shape[:2]
        if box is None:
            side = max(h, w)
            box = ((h - side) // 2, (w - side) // 2, side)
        s = self.model.cfg.input_size
        x = crop_image(rgb, box, s)[None].to(self.device)
        xn = (x - self.model.rgb_mean) / self.model.rgb_std
        logits = self.model.segmentation(xn)[0][-1]
        fg = (logits.argmax(dim=1, keepdim=True) != 0).float()
        fg = F.interpolate(fg, size=(s, s), mode="nearest")[0]
        return (uncrop(fg, box, h, w, fill=0.0, mode="nearest")[0] > 0.5).cpu().numpy()

    def boxes(self, samples) -> list[tuple[int, int, int]]:
        """The person box of every sample: from the GT mask, or from ``crop_passes`` segmentations, each
        seen through the previous pass's box (the first sees the whole image)."""
        out = []
        for s in samples:
            if self.crop == "mask":
                out.append(person_box(np.asarray(s.mask, bool)))
                continue
            box = None
            for _ in range(self.crop_passes):
                m = self.person_mask(s.rgb, box)
                if not m.any():
                    break
                box = person_box(m)
            out.append(box if box is not None else person_box(np.zeros(s.rgb.shape[:2], bool)))
        return out

    @torch.no_grad()
    def predict(self, samples) -> list[tuple[np.ndarray, np.ndarray]]:
        """One (depth (H, W) float32 relative metres, normal (H, W, 3) float32) per sample, at its resolution."""
        if not samples:
            return []
        return self.predict_in_boxes(samples, self.boxes(samples))

    @torch.no_grad()
    def predict_in_boxes(self, samples, boxes) -> list[tuple[np.ndarray, np.ndarray]]:
        """:meth:`predict` for given person boxes (top, left, side), one per sample: the test-time views of
        ``tta`` around each box, averaged at the sample's resolution."""
        s = self.model.cfg.input_size
        mirror_x = torch.tensor([-1.0, 1.0, 1.0], device=self.device).view(1, 3, 1, 1)
        sums = [None] * len(samples)
        for scale, mirrored in TTA_VIEWS[self.tta]:
            view_boxes = [scale_box(b, scale) for b in boxes]
            x = torch.stack([crop_image(smp.rgb, b, s) for smp, b in zip(samples, view_boxes, strict=True)])
            x = x.to(self.device)
            out = self.model(x.flip(-1) if mirrored else x, refinement=self.refinement)
            crop_depth = torch.stack([extend_person_depth(out["depth"][i, 0], out["mask"][i, 0])
                                      for i in range(len(samples))])[:, None]
            crop_normal = out["normal"]
            if mirrored:  # back to the image's orientation
                crop_depth, crop_normal = crop_depth.flip(-1), crop_normal.flip(-1) * mirror_x
            for i, (smp, box) in enumerate(zip(samples, view_boxes, strict=True)):
                h, w = smp.rgb.shape[:2]
                top, left, side = box  # uncrop's inside: rows top .. top + side - 1, likewise columns
                cover = torch.zeros(1, h, w, device=self.device)
                cover[:, max(top, 0):max(top + side, 0), max(left, 0):max(left + side, 0)] = 1.0
                depth = uncrop(crop_depth[i], box, h, w, fill=0.0)
                normal = uncrop(crop_normal[i], box, h, w, fill=0.0)
                sums[i] = (depth, normal, cover) if sums[i] is None else tuple(
                    a + b for a, b in zip(sums[i], (depth, normal, cover), strict=True))
        results = []
        for depth, normal, cover in sums:
            depth = torch.where(cover > 0, depth / cover.clamp_min(1.0), torch.full_like(depth, BACKGROUND_DEPTH))[0]
            norm = normal.norm(dim=0, keepdim=True)
            normal = torch.where(norm > 1e-6, normal / norm.clamp_min(1e-6), torch.zeros_like(normal))
            results.append((depth.cpu().numpy().astype(np.float32),
                            np.ascontiguousarray(normal.permute(1, 2, 0).cpu().numpy().astype(np.float32))))
        return results

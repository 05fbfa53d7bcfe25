"""Can the network learn at all?  Fit a handful of training samples and compare with the trivial levels.

:func:`overfit` trains a fresh network on ``n`` samples (no augmentation, every step sees all of them) and
measures, on those same samples with the network in inference mode, the errors against the levels of a
prediction that knows nothing:

- ``base_l1_cm``: L1 of the base branch vs the base target, over the person, against ``base_const_cm``, the L1 of
  the best constant (the target's median per sample);
- ``detail_l1_cm``: L1 of the detail branch vs the detail target, against ``detail_zero_cm``, the L1 of
  predicting no detail;
- ``detail_corr``: Pearson correlation of predicted and true detail over the person (mean over samples);
- ``composed_mae_cm``: the composed depth's L1 after the tang2019 shift (median of the difference);
- ``mask_iou`` (only with ``ModelConfig.mask_head``): intersection over union of the predicted silhouette
  (``mask_logit > 0``) and the mask.

A correct pipeline drives the first two far below their levels in a few hundred steps; a broken one (targets
misaligned with the image, a branch cut from the loss, images lost on the way) does not.  The test
``tests/test_reference_overfit.py`` runs it on analytic scenes, and docs/reference.md reports it on renders.
"""

from __future__ import annotations

import numpy as np
import torch

from humandepth.baselines.reference.config import ModelConfig, TrainConfig
from humandepth.baselines.reference.devices import autocast_dtype
from humandepth.baselines.reference.losses import compute_losses
from humandepth.baselines.reference.model import ReferenceNet
from humandepth.baselines.reference.targets import make_item


def stack_items(items: list[dict]) -> dict[str, torch.Tensor]:
    """Items of :func:`make_item` -> one batch (every tensor stacked along a new first axis)."""
    return {k: torch.stack([it[k] for it in items]) for k in items[0]}


@torch.no_grad()
def fit_levels(model: ReferenceNet, batch: dict) -> dict[str, float]:
    """The errors of :mod:`this module's docstring <humandepth.baselines.reference.diagnose>` for ``batch``
    (network in eval mode, the batch's mask given, no refinement)."""
    was_training = model.training
    model.eval()
    out = model(batch["rgb"], mask=batch["mask"], refinement="none")
    model.train(was_training)
    m = batch["mask"]
    res: dict[str, list[float]] = {k: [] for k in ("base_l1_cm", "base_const_cm", "detail_l1_cm", "detail_zero_cm",
                                                   "detail_corr", "composed_mae_cm")}
    for i in range(m.shape[0]):
        mi = m[i, 0]
        if not bool(mi.any()):
            continue
        bt, dt, d = batch["base"][i, 0][mi], batch["detail"][i, 0][mi], batch["depth"][i, 0][mi]
        bp, dp, cp = out["base"][i, 0][mi], out["detail"][i, 0][mi], out["composed"][i, 0][mi]
        res["base_l1_cm"].append(100 * float((bp - bt).abs().mean()))
        res["base_const_cm"].append(100 * float((bt - bt.median()).abs().mean()))
        res["detail_l1_cm"].append(100 * float((dp - dt).abs().mean()))
        res["detail_zero_cm"].append(100 * float(dt.abs().mean()))
        c = torch.corrcoef(torch.stack([dp.double(), dt.double()]))[0, 1]
        res["detail_corr"].append(float(c) if torch.isfinite(c) else 0.0)
        shift = torch.median(d - cp)
        res["composed_mae_cm"].append(100 * float((cp + shift - d).abs().mean()))
        if "mask_logit" in out:
            pm = out["mask_logit"][i, 0] > 0
            res.setdefault("mask_iou", []).append(float((pm & mi).sum()) / float((pm | mi).sum()))
    return {k: float(np.mean(v)) for k, v in res.items()}


def overfit(samples, mcfg: ModelConfig, tcfg: TrainConfig, steps: int, stage: int = 1, seed: int = 0,
            device: str | torch.device = "cpu", log=None, log_every: int = 0) -> dict[str, float]:
    """Train a fresh network on ``samples`` (a list of :class:`~humandepth.data.sample.Sample`) for ``steps``
    steps of ``stage``'s losses, every step on all samples, no augmentation; return :func:`fit_levels` on them.

    ``tcfg`` gives the loss weights and the learning rate (constant, RMSProp as in training); ``log`` (e.g.
    ``print``) receives a line with the levels every ``log_every`` steps."""
    dev = torch.device(device)
    batch = stack_items([make_item(s, mcfg) for s in samples])
    batch = {k: v.to(dev) for k, v in batch.items()}
    torch.manual_seed(seed)
    model = ReferenceNet(mcfg).to(dev, memory_format=torch.channels_last).train()
    opt = torch.optim.RMSprop(model.parameters(), lr=tcfg.lr, alpha=tcfg.rmsprop_alpha, eps=tcfg.rmsprop_eps,
                              weight_decay=tcfg.weight_decay)
    amp = autocast_dtype(dev) if tcfg.amp else None
    rgb = batch["rgb"].contiguous(memory_format=torch.channels_last)
    for k in range(steps):
        with torch.autocast(device_type=dev.type, dtype=amp or torch.float32, enabled=amp is not None):
            out = model(rgb, mask=batch["mask"], refinement="none", detach_priors=stage == 1)
        loss = compute_losses(out, batch, tcfg, stage, mcfg.two_branch)["total"]
        if not torch.isfinite(loss):
            raise FloatingPointError(f"overfit: loss became {float(loss)} at step {k}; lower the learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if log is not None and log_every and (k + 1) % log_every == 0:
            levels = fit_levels(model, batch)
            log(f"step {k + 1}: " + " ".join(f"{name} {v:.3f}" for name, v in levels.items()))
    return fit_levels(model, batch)


@torch.no_grad()
def refinement_effect(model: ReferenceNet, samples, angle_deg: float = 20.0, kind: str = "tang") -> list[dict]:
    """What the refinement layer does, per sample, where the predicted normals disagree with the depth.

    For each sample (cropped with its true mask, as in training): the composed depth D0, the predicted normals
    N and the refined depth D = refine(D0, N) inside the mask (with the checkpoint's refinement settings).
    *Disagreeing* pixels are those where N is more than ``angle_deg`` from the normal of D0 itself
    (``normals_from_depth`` on the network's normalised grid).
    Returns one dict per sample: ``id``, ``disagree_frac``, ``moved_mm_disagree`` / ``moved_mm_agree`` (mean
    |D - D0|), and ``err_change_mm_disagree`` / ``err_change_mm_all``: the change of the mean absolute error
    against the relative ground truth (each depth shifted by its median difference to the truth) from D0 to D
    (negative: the refinement helps)."""
    from humandepth.baselines.reference.refine import refine
    from humandepth.data.geometry import normals_from_depth

    mcfg = model.cfg
    model.eval()
    rows = []
    for s in samples:
        item = make_item(s, mcfg)
        batch = stack_items([item])
        out = model(batch["rgb"], mask=batch["mask"], refinement="none")
        m = batch["mask"]
        d0, n = out["composed"], out["normal"]
        d = refine(kind, d0, n, m, iterations=mcfg.refine_iterations, lam=mcfg.refine_lambda)
        mk = m[0, 0].numpy()
        own = normals_from_depth(d0[0, 0].numpy() + 1.0, None, mk)  # + 1 m: the grid reads depth > 0 only
        cos = (own * n[0].permute(1, 2, 0).numpy()).sum(-1)
        has = np.linalg.norm(own, axis=-1) > 0.5
        dis = mk & has & (cos < np.cos(np.radians(angle_deg)))
        agree = mk & has & ~dis
        gt = batch["depth"][0, 0].numpy()
        a, b = d0[0, 0].numpy(), d[0, 0].numpy()
        moved = np.abs(b - a) * 1000
        nan = float("nan")
        rows.append({"id": s.id, "disagree_frac": float(dis.sum() / max(mk.sum(), 1)),
                     "moved_mm_disagree": float(moved[dis].mean()) if dis.any() else nan,
                     "moved_mm_agree": float(moved[agree].mean()) if agree.any() else nan,
                     "err_change_mm_disagree": (_aligned_mae_mm(b, gt, mk, dis) - _aligned_mae_mm(a, gt, mk, dis)
                                                if dis.any() else nan),
                     "err_change_mm_all": _aligned_mae_mm(b, gt, mk, mk) - _aligned_mae_mm(a, gt, mk, mk)})
    return rows


def _aligned_mae_mm(depth: np.ndarray, gt: np.ndarray, mask: np.ndarray, where: np.ndarray) -> float:
    """Mean |depth + t - gt| over ``where`` in mm, t the median of gt - depth over ``mask`` (the tang2019 shift)."""
    shift = np.median(gt[mask] - depth[mask])
    return float(np.abs(depth[where] + shift - gt[where]).mean()) * 1000


def _person_plane_basis(mask: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, columns and the (N, 3) least-squares basis (rows, columns centred, in person heights; 1) of ``mask``."""
    yy, xx = np.nonzero(mask)
    if len(yy) < 3:
        raise ValueError(f"{what} needs at least 3 mask pixels")
    height = float(yy.max() - yy.min() + 1)
    return yy, xx, np.stack([(yy - yy.mean()) / height, (xx - xx.mean()) / height, np.ones(len(yy))], axis=1)


def depth_tilt(depth: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    """(vertical, horizontal) slope of the plane fitted by least squares to ``depth`` (H, W) metres over ``mask``
    (H, W) bool, in metres of depth per person height (the mask's row extent): positive when the depth grows
    downwards / rightwards.  A camera above a standing person sees a positive vertical slope; docs/reference.md
    compares the truth's with the predictions' to show the tilt a network learned from its corpus."""
    yy, xx, a = _person_plane_basis(mask, "depth_tilt")
    coef = np.linalg.lstsq(a, depth[yy, xx].astype(np.float64), rcond=None)[0]
    return float(coef[0]), float(coef[1])


def tilt_decomposition(depth: np.ndarray, pred: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """How much of a prediction's error is the plane through the person: the tang2019 error (median shift, mean
    absolute difference over ``mask``, metres) of

    - ``pred``: the prediction (H, W) as it is;
    - ``true_tilt``: the prediction with its own fitted plane's slopes replaced by those of the truth's plane;
    - ``true_vertical_tilt``: the same with the vertical slope alone replaced;
    - ``true_plane``: the truth's fitted plane alone (all of the shape left out);

    and the slopes themselves (``*_vertical`` / ``*_horizontal``, metres per person height as in
    :func:`depth_tilt`)."""
    yy, xx, a = _person_plane_basis(mask, "tilt_decomposition")
    g = depth[yy, xx].astype(np.float64)
    p = pred[yy, xx].astype(np.float64)
    gc = np.linalg.lstsq(a, g, rcond=None)[0]
    pc = np.linalg.lstsq(a, p, rcond=None)[0]

    def err(x: np.ndarray) -> float:
        return float(np.mean(np.abs(x + np.median(g - x) - g)))

    return {"pred": err(p), "true_tilt": err(p + a[:, :2] @ (gc[:2] - pc[:2])),
            "true_vertical_tilt": err(p + a[:, 0] * (gc[0] - pc[0])), "true_plane": err(a @ gc),
            "truth_vertical": float(gc[0]), "truth_horizontal": float(gc[1]),
            "pred_vertical": float(pc[0]), "pred_horizontal": float(pc[1])}

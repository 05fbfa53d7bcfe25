"""Configuration of the reference network (Tang et al. 2019): sizes, variants, training settings.

Two presets exist (:data:`PRESETS`):

- ``paper``: the authors' released network -- 256x256 input, 64x64 skeleton/segmentation heatmaps,
  2-stack hourglasses with 256 features and 4 levels, a 256-wide Depth-Net (input 3 + 15 + 16*19 = 322
  channels) and a Normal-Net with widths 64-64-128-128-256-256.
- ``small``: the same structure, trainable on a 2-core CPU -- 128x128 input, 32x32 heatmaps, narrow widths.

Variants (the ablations named in the baselines registry):

- ``full``: two branches (base + detail), skeleton and segmentation priors, Tang refinement.
- ``single-branch``: one depth branch (20-bin soft-argmax) trained on the whole relative depth.
- ``no-refine``: the full network, composed depth returned without the refinement layer.
- ``no-priors``: Depth-Net sees RGB only (no skeleton or segmentation inputs); Segmentation-Net is kept
  for the crop and the Normal-Net mask.
- ``geonet-refine``: the full network with the GeoNet kernel regression instead of the Tang layer.

``no-refine`` and ``geonet-refine`` change only inference, so they run from a ``full`` checkpoint;
``single-branch`` and ``no-priors`` change the architecture and need a checkpoint trained as such.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

VARIANTS = ("full", "single-branch", "no-refine", "no-priors", "geonet-refine")
# variant -> the architecture it needs (inference-only variants share the full network's weights)
ARCHITECTURE_OF = {"full": "full", "no-refine": "full", "geonet-refine": "full",
                   "single-branch": "single-branch", "no-priors": "no-priors"}
REFINEMENT_OF = {"full": "tang", "single-branch": "tang", "no-priors": "tang", "no-refine": "none",
                 "geonet-refine": "geonet"}

N_JOINTS = 16
N_PARTS = 15
JOINT_BINS = 19          # depth bins of a joint volume, relative to the pelvis
JOINT_BIN_M = 0.045      # metres per joint-depth bin; bin k in -9..9 is at k * 0.045 m
DEPTH_BINS = 20          # base-branch classes: k * 0.06 m, k = -9..10
DEPTH_BIN_M = 0.06
DEPTH_BIN_FIRST = -9
BACKGROUND_DEPTH = 0.60  # relative depth of the background (the authors' convention, = the top bin)
FOREGROUND_OFFSET = 0.10  # relative depth = depth - median(foreground depth) + 0.10


def _check_keys(cls, d: dict, what: str) -> None:
    """ValueError naming the keys of ``d`` that are not fields of the dataclass ``cls``."""
    known = {f.name for f in fields(cls)}
    unknown = set(d) - known
    if unknown:
        raise ValueError(f"unknown {what} config keys {sorted(unknown)}; known: {sorted(known)}")


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of every sub-network.

    Attributes:
        input_size: side of the square network input (pixels); heatmaps are ``input_size // 4``.
        hg_features: features of the Skeleton-/Segmentation-Net hourglasses (paper: 256).
        hg_stacks: stacked hourglasses (paper: 2).
        hg_levels: downsamplings inside one hourglass (paper: 4).
        depth_features: channels of the Depth-Net encoder-decoder (paper: 256).
        depth_levels: stride-2 downsamplings of the Depth-Net encoder (paper: 5).
        normal_widths: Normal-Net channels per scale, stem first then one per downsampling
            (paper: 64, 64, 128, 128, 256, 256).
        architecture: ``full`` | ``single-branch`` | ``no-priors`` (see the module docstring).
        norm: ``batch`` (BatchNorm, the authors') or ``group`` (GroupNorm: per-image statistics, see blocks.py).
        prior_channels: 0 feeds Depth-Net the 15 + 304 prior logits upsampled to S x S (the authors'); P > 0 first
            projects them to P channels with a 1x1 conv at the heatmap resolution, then upsamples (the same kind
            of linear map as the stem's 7x7 conv over the raw priors, with rank P across the prior channels, at a
            fraction of the cost: a 1x1 conv commutes with the bilinear upsampling).
        image_skip: add a full-resolution skip from the RGB input to Depth-Net's last feature map (two 3x3 convs
            at S x S).  The authors' Depth-Net starts with a stride-2 stem, so its heads see the image only
            through half-resolution features; the detail branch needs the image's finest shading.
        mask_head: Depth-Net also predicts the person's silhouette at S x S (one logit from its full-resolution
            features, trained with ``w_mask``); at test time it replaces Segmentation-Net's S/4 parts as the mask
            of Normal-Net, the refinement and prediction.  Normal-Net trains on the GT mask, so a blocky
            upsampled S/4 mask at test time costs it 8 degrees (docs/reference.md).
        refine_iterations, refine_lambda: iterations and anchor weight of the Tang refinement layer (paper: 5 and
            0.2, refine.py).  More iterations with a smaller anchor integrate the predicted normals further.
    """

    input_size: int = 256
    hg_features: int = 256
    hg_stacks: int = 2
    hg_levels: int = 4
    depth_features: int = 256
    depth_levels: int = 5
    normal_widths: tuple[int, ...] = (64, 64, 128, 128, 256, 256)
    architecture: str = "full"
    norm: str = "batch"
    prior_channels: int = 0
    image_skip: bool = False
    mask_head: bool = False
    refine_iterations: int = 5
    refine_lambda: float = 0.2

    def __post_init__(self):
        if self.refine_iterations < 0:
            raise ValueError(f"refine_iterations must be >= 0, got {self.refine_iterations}")
        if not 0.0 <= self.refine_lambda <= 1.0:
            raise ValueError(f"refine_lambda must be in [0, 1], got {self.refine_lambda}")
        if self.prior_channels < 0:
            raise ValueError(f"prior_channels must be >= 0, got {self.prior_channels}")
        if self.norm not in ("batch", "group"):
            raise ValueError(f"norm must be batch or group, got {self.norm!r}")
        if self.architecture not in ("full", "single-branch", "no-priors"):
            raise ValueError(f"architecture must be full, single-branch or no-priors, got {self.architecture!r}")
        if self.input_size % (2 ** (self.depth_levels + 1)) or self.input_size % (4 * 2**self.hg_levels):
            raise ValueError(f"input_size {self.input_size} must be divisible by 2^(depth_levels+1) and by "
                             f"4 * 2^hg_levels")
        if len(self.normal_widths) < 2:
            raise ValueError("normal_widths needs at least two entries")

    @property
    def heatmap_size(self) -> int:
        return self.input_size // 4

    @property
    def uses_priors(self) -> bool:
        return self.architecture != "no-priors"

    @property
    def two_branch(self) -> bool:
        return self.architecture != "single-branch"

    @property
    def depth_input_channels(self) -> int:
        if not self.uses_priors:
            return 3
        return 3 + (self.prior_channels or N_PARTS + N_JOINTS * JOINT_BINS)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["normal_widths"] = list(self.normal_widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        _check_keys(cls, d, "model")
        d = dict(d)
        if "normal_widths" in d:
            d["normal_widths"] = tuple(int(w) for w in d["normal_widths"])
        return cls(**d)


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; every loss and weight is documented in docs/reference.md.

    Attributes:
        batch_size: images per step.
        stage1_steps: steps of stage 1 (each branch on its own target, priors detached).
        stage2_steps: steps of stage 2 (joint fine-tuning, truncated loss on the composed depth).
        lr: RMSProp learning rate of stage 1; stage 2 uses ``lr * stage2_lr_scale``.
        stage2_lr_scale: factor on ``lr`` in stage 2.
        lr_final_scale: within each stage the learning rate follows a half cosine from the stage's rate down
            to ``lr_final_scale`` times it (1.0 = constant, the behaviour before 2026-11-26).
        stage2_base: keep the stage-1 ``base`` / ``base_ce`` terms in stage 2, so the truncated composed loss
            (which gives no gradient to pixels off by more than ``truncation_m``) cannot let the global shape drift.
        rmsprop_alpha, rmsprop_eps: RMSProp smoothing constant and epsilon (torch defaults 0.99 / 1e-8
            are unstable on tiny batches; the TF1 defaults the authors ran are 0.9 / 1e-10 -> we use 0.9 / 1e-8).
        weight_decay: L2 on all weights.
        w_skeleton_volume, w_skeleton_integral, w_segmentation, w_base, w_base_ce, w_detail, w_normal,
        w_composed, w_mask: loss weights (see docs/reference.md; ``w_mask`` only with ``ModelConfig.mask_head``).
        truncation_m: the composed-depth loss is ``min(|error|, truncation_m)`` in stage 2.
        background_weight: weight of background pixels in the base / single-branch depth loss and the
            stage-2 composed loss (default 0: the 0.60 background step at the silhouette is not learned;
            prediction fills the background from the person, see predict.py).
        jitter: colour jitter, each channel multiplied by U(1 - jitter, 1 + jitter) (authors: 0.4).
        background_prob: probability of replacing the background through the mask by a random texture.
        crop_jitter: random scale/shift of the person box, as a fraction of its side.
        mirror_prob: probability of mirroring a training crop left to right (left and right parts and joints
            swapped, normals' x negated; :func:`~humandepth.baselines.reference.targets.mirror_item`); 0 (off) in
            the presets, see docs/reference.md.
        seed: seeds the model initialisation, the data order and every augmentation.
        log_every, checkpoint_every: steps between progress lines / checkpoints.
        amp: bfloat16 autocast where the device computes bf16 natively (CUDA; CPUs with AVX512-BF16 or AMX, see
            devices.py); float32 elsewhere.
    """

    batch_size: int = 4
    stage1_steps: int = 2000
    stage2_steps: int = 1000
    lr: float = 2.5e-4
    stage2_lr_scale: float = 0.5
    lr_final_scale: float = 0.1
    stage2_base: bool = True
    rmsprop_alpha: float = 0.9
    rmsprop_eps: float = 1e-8
    weight_decay: float = 0.0
    w_skeleton_volume: float = 1.0
    w_skeleton_integral: float = 1.0
    w_segmentation: float = 1.0
    w_base: float = 1.0
    w_base_ce: float = 1.0
    w_detail: float = 20.0
    w_normal: float = 0.02
    w_composed: float = 1.0
    w_mask: float = 10.0
    truncation_m: float = 0.05
    background_weight: float = 0.0
    jitter: float = 0.4
    background_prob: float = 0.5
    crop_jitter: float = 0.05
    mirror_prob: float = 0.0
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 200
    amp: bool = True

    def __post_init__(self):
        for name in ("batch_size", "log_every", "checkpoint_every"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.stage1_steps < 0 or self.stage2_steps < 0 or self.stage1_steps + self.stage2_steps < 1:
            raise ValueError(f"stage1_steps and stage2_steps must be >= 0 and train at least one step, got "
                             f"{self.stage1_steps} + {self.stage2_steps}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        _check_keys(cls, d, "training")
        return cls(**d)


PRESETS: dict[str, tuple[ModelConfig, TrainConfig]] = {
    "paper": (ModelConfig(mask_head=True), TrainConfig(batch_size=4, lr=5e-5, stage1_steps=60000, stage2_steps=20000)),
    "small": (
        ModelConfig(input_size=128, hg_features=48, hg_stacks=2, hg_levels=3, depth_features=32, depth_levels=5,
                    normal_widths=(24, 24, 32, 32, 48, 48), prior_channels=32, image_skip=True,
                    mask_head=True, refine_iterations=40, refine_lambda=0.02),
        TrainConfig(batch_size=16, lr=1e-3, stage1_steps=3000, stage2_steps=1000),
    ),
}


def preset(name: str, variant: str = "full") -> tuple[ModelConfig, TrainConfig]:
    """The (model, training) configs of preset ``name`` for ``variant``."""
    if name not in PRESETS:
        raise ValueError(f"unknown reference config {name!r}; choose one of {', '.join(PRESETS)}")
    if variant not in VARIANTS:
        raise ValueError(f"unknown reference variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    model, train = PRESETS[name]
    return replace(model, architecture=ARCHITECTURE_OF[variant]), train

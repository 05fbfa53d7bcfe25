"""Draw the reference network's training targets for a few samples of a dataset, to check them by eye.

One row per sample, at the network's input size (``--config``): the RGB crop the network sees; the relative
depth target (depth - median + 0.10 m, background 0.60); the base target; the detail target (red farther,
blue nearer than the base, saturated at +-1 cm); the base bin that holds most of the two-hot label mass (20
classes of 6 cm); and the part labels at the heatmap size.  Writes a JPEG.

    python scripts/reference_targets_sheet.py --data data/crops --out docs/images/reference-targets.jpg
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from PIL import Image

from humandepth.baselines.reference.config import BACKGROUND_DEPTH, DEPTH_BINS, preset
from humandepth.baselines.reference.losses import two_hot
from humandepth.baselines.reference.targets import make_item
from humandepth.data.open import open_dataset


def _gray(depth: torch.Tensor, mask: torch.Tensor) -> np.ndarray:
    """Relative depth (1, S, S) -> uint8 grey: near bright, 0.5 m of range, background black."""
    d = depth[0].numpy()
    v = np.clip(0.5 - (d - 0.10) / 0.5, 0, 1)
    return np.where(mask[0].numpy(), v * 255, 0).astype(np.uint8)


def _signed(detail: torch.Tensor, mask: torch.Tensor, limit_m: float = 0.01) -> np.ndarray:
    t = np.clip(detail[0].numpy() / limit_m, -1, 1)
    rgb = np.stack([1 - np.clip(-t, 0, 1), 1 - np.abs(t), 1 - np.clip(t, 0, 1)], -1)
    return np.where(mask[0].numpy()[..., None], rgb * 255, 0).astype(np.uint8)


def _labels(labels: np.ndarray, n: int) -> np.ndarray:
    palette = (np.array([[(37 * k) % 256, (97 * k) % 256, (173 * k) % 256] for k in range(n)])).astype(np.uint8)
    palette[0] = 0
    return palette[np.clip(labels, 0, n - 1)]


def sheet(dataset, ids, config: str = "small") -> np.ndarray:
    mcfg, _ = preset(config)
    s = mcfg.input_size
    rows = []
    for sid in ids:
        it = make_item(dataset.get(sid), mcfg)
        m = it["mask"]
        rgb = (it["rgb"].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        bins = two_hot(it["base"][None])[0].argmax(0).numpy() + 1
        bins = np.where(m[0].numpy(), bins, 0)
        parts = np.asarray(Image.fromarray(it["parts"].numpy().astype(np.uint8)).resize((s, s), Image.NEAREST))
        tiles = [rgb, *(np.repeat(_gray(it[k], m)[..., None], 3, -1) for k in ("depth", "base")),
                 _signed(it["detail"], m), _labels(bins, DEPTH_BINS + 1), _labels(parts, 15)]
        rows.append(np.concatenate(tiles, 1))
    return np.concatenate(rows, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=4)
    ap.add_argument("--config", default="small", choices=["small", "paper"])
    args = ap.parse_args()
    ds = open_dataset(args.data)
    img = sheet(ds, ds.ids[: args.count], args.config)
    Image.fromarray(img).save(args.out, quality=88)
    print(f"wrote {args.out} ({img.shape[1]}x{img.shape[0]}); background value {BACKGROUND_DEPTH} m")


if __name__ == "__main__":
    main()

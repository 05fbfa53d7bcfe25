"""Synthetic next to real: a contact sheet of ``humandepth render --crop tang2019`` samples, optionally beside
real tight crops, with a few image statistics of both sets printed (so the gap is a number too).

    python benchmarks/render_vs_real.py --out docs/images/render-synthetic.jpg          # the 12 renders
    python benchmarks/render_vs_real.py --real ../shared/data/tang2019-dev --out /tmp/render-vs-real.jpg

With ``--real DIR`` the right half holds that folder's ``*_img_resize.jpg`` crops (by default the ones that have
no ``*_depth.npy`` beside them: the tang2019 development release's 12 crops without depth).  Statistics per
set (mean over images): brightness (mean luma, 0-255), contrast (std of luma), saturation (HSV mean),
sharpness (mean |Laplacian| of luma) and noise (median |Laplacian|, dominated by sensor noise and JPEG).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402


def stats(images: list[np.ndarray]) -> dict:
    from scipy.ndimage import laplace

    rows = []
    for im in images:
        rgb = im.astype(np.float64)
        luma = rgb @ np.array([0.299, 0.587, 0.114])
        hsv = np.asarray(Image.fromarray(im).convert("HSV"), np.float64)
        lap = np.abs(laplace(luma))
        rows.append([luma.mean(), luma.std(), hsv[..., 1].mean() / 255, lap.mean(), np.median(lap)])
    names = ("brightness", "contrast", "saturation", "sharpness", "noise")
    return dict(zip(names, np.mean(rows, axis=0).round(3).tolist(), strict=True))


def sheet(images: list[np.ndarray], cols: int = 6) -> np.ndarray:
    h, w = images[0].shape[:2]
    rows = []
    for r in range(0, len(images), cols):
        row = images[r:r + cols] + [np.zeros((h, w, 3), np.uint8)] * (cols - len(images[r:r + cols]))
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)


def real_crops(folder: Path, count: int, with_depth: bool) -> list[np.ndarray]:
    files = sorted(folder.glob("*_img_resize.jpg"))
    has_depth = {p for p in files if (p.parent / p.name.replace("_img_resize.jpg", "_depth.npy")).exists()}
    chosen = [p for p in files if (p in has_depth) == with_depth][:count]
    if not chosen:
        raise SystemExit(f"no *_img_resize.jpg crops in {folder}")
    return [np.asarray(Image.open(p).convert("RGB").resize((256, 256)), np.uint8) for p in chosen]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the sheet to write (.jpg or .png)")
    ap.add_argument("--real", help="folder of real 256x256 crops (*_img_resize.jpg) for the right half")
    ap.add_argument("--real-with-depth", action="store_true", help="take the crops that have depth instead")
    ap.add_argument("--count", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tile", type=int, default=256, help="tile size in the sheet (pixels)")
    ap.add_argument("--quality", type=int, default=82, help="JPEG quality of the sheet")
    args = ap.parse_args()

    from humandepth.render.generate import GeneratorConfig, generate_sample

    cfg = GeneratorConfig(crop="tang2019")
    synthetic = [generate_sample(i, args.seed, cfg).rgb for i in range(args.count)]
    print("synthetic:", stats(synthetic))
    left = sheet(synthetic)
    if args.real:
        real = real_crops(Path(args.real), args.count, args.real_with_depth)
        print("real:     ", stats(real))
        gap = np.full((left.shape[0], 16, 3), 255, np.uint8)
        left = np.concatenate([left, gap, sheet(real)], axis=1)
    img = Image.fromarray(left)
    if args.tile != 256:
        img = img.resize((img.width * args.tile // 256, img.height * args.tile // 256), Image.LANCZOS)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    img.save(args.out, quality=args.quality) if args.out.lower().endswith((".jpg", ".jpeg")) else img.save(args.out)
    print(f"wrote {args.out} ({Path(args.out).stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()

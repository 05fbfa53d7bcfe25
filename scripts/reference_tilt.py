"""The tilt of a depth predictor's output against the truth's, per dataset: how much of its error is a plane.

For each sample, a plane is fitted to the true depth and to the prediction over the true person mask
(:func:`humandepth.baselines.reference.diagnose.depth_tilt`); prints the mean vertical and horizontal slopes
(cm per person height), the mean correlation of prediction and truth, and their mean p5-p95 depth ranges.

    python scripts/reference_tilt.py --data ../shared/data/tang2019-dev
    python scripts/reference_tilt.py --data data/test --checkpoint ckpt/ref-small --count 60
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dataset path or registered name")
    ap.add_argument("--checkpoint", help="reference checkpoint folder (default: the shipped one)")
    ap.add_argument("--count", type=int, help="first N samples (default: all)")
    args = ap.parse_args()

    from humandepth.baselines.reference.diagnose import depth_tilt
    from humandepth.baselines.reference.predict import ReferenceBaseline
    from humandepth.data.open import open_dataset

    ds = open_dataset(args.data)
    net = ReferenceBaseline(checkpoint=args.checkpoint, crop="mask")
    rows = []
    for i in range(min(args.count or len(ds), len(ds))):
        s = ds[i]
        (pred, _), = net.predict([s])
        m = s.mask & (s.depth > 0)
        g, p = s.depth[m], pred[m]
        rng = [np.percentile(v, 95) - np.percentile(v, 5) for v in (g, p)]
        rows.append([*depth_tilt(s.depth, m), *depth_tilt(pred, m), np.corrcoef(g, p)[0, 1], *rng])
    r = np.array(rows) * [100, 100, 100, 100, 1, 100, 100]
    mean = r.mean(axis=0)
    print(f"{len(rows)} samples of {args.data} (true-mask crop)")
    print(f"vertical slope, cm per person height: truth {mean[0]:.1f}, prediction {mean[2]:.1f}")
    print(f"horizontal slope:                     truth {mean[1]:.1f}, prediction {mean[3]:.1f}")
    print(f"correlation with the truth {mean[4]:.2f}; p5-p95 range truth {mean[5]:.1f} cm, prediction {mean[6]:.1f} cm")


if __name__ == "__main__":
    main()

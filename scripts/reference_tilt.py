"""The tilt of a depth predictor's output against the truth's, per dataset: how much of its error is a plane.

For each sample, a plane is fitted to the true depth and to the prediction over the true person mask (slopes as
:func:`humandepth.baselines.reference.diagnose.depth_tilt` gives them); prints the mean vertical and horizontal
slopes (cm per person height) with their spread and correlation over the samples, the mean correlation of
prediction and truth, their mean p5-p95 depth ranges, and the error decomposition of
:func:`humandepth.baselines.reference.diagnose.tilt_decomposition`: the tang2019 error (cm) of the prediction,
of the prediction with the truth's slopes (both, or the vertical one alone) in place of its own, and of the
truth's plane alone.

    python scripts/reference_tilt.py --data ../shared/data/tang2019-dev
    python scripts/reference_tilt.py --data data/test --checkpoint ckpt/ref-small --count 60
    python scripts/reference_tilt.py --data data/test --predictions preds/any-method.h5   # any predictions file

Without ``--predictions`` the reference network predicts with the true mask as crop and one test-time view.
A missing file, a prediction of another size than its sample or a sample without one stops with one line.
"""

from __future__ import annotations

import argparse

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="dataset path or registered name")
    ap.add_argument("--checkpoint", help="reference checkpoint folder (default: the shipped one)")
    ap.add_argument("--predictions", help="score this predictions file (.h5) instead of running the network")
    ap.add_argument("--count", type=int, help="first N samples (default: all)")
    args = ap.parse_args()
    if args.predictions and args.checkpoint:
        ap.error("give --checkpoint or --predictions, not both")

    from humandepth.errors import USER_ERRORS, message

    try:
        report(args)
    except USER_ERRORS as e:  # one line naming the file or sample, no traceback
        raise SystemExit(f"reference_tilt.py: {message(e)}") from None


def report(args) -> None:
    from humandepth.baselines.reference.diagnose import tilt_decomposition
    from humandepth.data.open import open_dataset
    from humandepth.data.predictions import Predictions

    ds = open_dataset(args.data)
    n = min(args.count or len(ds), len(ds))
    if args.predictions:
        preds = Predictions(args.predictions)
        have = set(preds.ids)
        missing = [sid for sid in ds.ids[:n] if sid not in have]
        if missing:
            raise ValueError(f"{args.predictions} has no prediction for {len(missing)} samples of {args.data} "
                             f"(first: {missing[0]!r})")
        source = f"predictions {args.predictions}"
        predict = lambda s: preds.depth(s.id)  # noqa: E731
    else:
        from humandepth.baselines.reference.predict import ReferenceBaseline

        net = ReferenceBaseline(checkpoint=args.checkpoint, crop="mask", tta="none")
        source = "the reference network, true-mask crop, one view"
        predict = lambda s: net.predict([s])[0][0]  # noqa: E731
    rows, parts = [], []
    for i in range(n):
        s = ds[i]
        pred = predict(s)
        if pred.shape != s.depth.shape:
            raise ValueError(f"sample {s.id!r}: the prediction is {pred.shape[0]}x{pred.shape[1]}, the ground truth "
                             f"{s.depth.shape[0]}x{s.depth.shape[1]} (predictions of another dataset?)")
        m = s.mask & (s.depth > 0) & np.isfinite(pred)
        if np.count_nonzero(m) < 3:
            continue
        g, p = s.depth[m], pred[m]
        d = tilt_decomposition(s.depth, pred, m)
        rng = [np.percentile(v, 95) - np.percentile(v, 5) for v in (g, p)]
        rows.append([d["truth_vertical"], d["truth_horizontal"], d["pred_vertical"], d["pred_horizontal"],
                     np.corrcoef(g, p)[0, 1], *rng])
        parts.append(d)
    if not rows:
        raise ValueError(f"no sample of {args.data} has 3 person pixels with depth and a finite prediction")
    r = np.array(rows) * [100, 100, 100, 100, 1, 100, 100]
    mean, sd = r.mean(axis=0), r.std(axis=0)

    def corr(a: int, b: int) -> float:
        return float(np.corrcoef(r[:, a], r[:, b])[0, 1])

    def cm(key: str) -> float:
        return 100 * float(np.mean([d[key] for d in parts]))

    print(f"{len(rows)} samples of {args.data}; {source}")
    print(f"vertical slope, cm per person height: truth {mean[0]:.1f} (sd {sd[0]:.1f}), prediction {mean[2]:.1f} "
          f"(sd {sd[2]:.1f}), correlation over the samples {corr(0, 2):.2f}")
    print(f"horizontal slope:                     truth {mean[1]:.1f} (sd {sd[1]:.1f}), prediction {mean[3]:.1f} "
          f"(sd {sd[3]:.1f}), correlation over the samples {corr(1, 3):.2f}")
    print(f"correlation with the truth {mean[4]:.2f}; p5-p95 range truth {mean[5]:.1f} cm, prediction {mean[6]:.1f} cm")
    print(f"tang2019 mae_cm: prediction {cm('pred'):.2f}; with the truth's slopes {cm('true_tilt'):.2f}; with the "
          f"truth's vertical slope {cm('true_vertical_tilt'):.2f}; the truth's plane alone {cm('true_plane'):.2f}")


if __name__ == "__main__":
    main()

"""Canonical test splits: datasets defined by a generator and a seed, rebuilt locally and checked against a
fingerprint committed in the repository, instead of downloaded.

A registry entry (``datasets.yaml``) with a ``split:`` section is a split::

    split:
      render: {count: 300, seed: 914, resolution: 256, crop: tang2019}   # `humandepth render` options
      fingerprint: splits/test-crops-256.json                             # beside datasets.yaml

``humandepth datasets build NAME`` renders it into the entry's path (:func:`build_split`), computes the
per-sample statistics of what it rendered (:func:`fingerprint_samples`) and compares them with the committed
fingerprint (:func:`compare`).  Every sample must match within the fingerprint's stated tolerance: rendering is
deterministic, but OpenGL rasterizers on other machines may pick another triangle on a few silhouette pixels,
so a sample whose arrays are not bit-identical is still the same sample when its statistics agree.  A mismatch
names the samples and refuses: no ``split.json`` is written, and the command fails.  A verified build gets
``split.json`` beside its card: the split's name, the fingerprint's sha256 and the dataset's sha256 at
verification.  The benchmark records the split and its fingerprint with every score
(:func:`verified_split`), and the leaderboard merges runs of one split only when their fingerprints agree.

This module reads and writes data only; the rendering is a function the caller passes (the command line
passes the render wing's ``render_dataset``).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FINGERPRINT_VERSION = 1
SPLIT_MARKER = "split.json"
# Per-sample statistics and how far a rebuild may differ from the committed ones (absolute).  A few silhouette
# pixels decided differently by another rasterizer move the mask by a few pixels and the depth / colour
# statistics by far less than these; a different sample (another person, pose, camera) moves them by far more.
TOLERANCE = {
    "mask_px": {"abs": 8, "rel": 0.005},          # pixels: at most max(8, 0.5 % of the mask)
    "depth_p05_m": {"abs": 0.002}, "depth_p50_m": {"abs": 0.002}, "depth_p95_m": {"abs": 0.002},
    "depth_mean_m": {"abs": 0.001},
    "rgb_mean": {"abs": 0.5},                      # 0..255, per channel
    "detail_mean_abs_mm": {"abs": 0.05},
    "K": {"abs": 1e-6},                            # pixels (no rasterizer involved)
}


@dataclass(frozen=True)
class SplitSpec:
    """A registered split: what renders it and where its committed fingerprint is.

    ``render``: the options of ``humandepth render`` (``count``, ``seed`` and :class:`GeneratorConfig` fields
    such as ``resolution`` and ``crop``); ``fingerprint``: path of the committed fingerprint (relative paths are
    relative to the registry file).
    """

    name: str
    render: dict
    fingerprint: Path

    @classmethod
    def from_entry(cls, name: str, spec, registry_file: Path) -> SplitSpec:
        """Parse a registry entry's ``split:`` section; ``ValueError`` naming the entry when it is malformed."""
        if not isinstance(spec, dict) or not isinstance(spec.get("render"), dict) or "fingerprint" not in spec:
            raise ValueError(f"{registry_file}: split {name!r} needs 'render: {{count, seed, ...}}' and 'fingerprint'")
        render = dict(spec["render"])
        for key in ("count", "seed"):
            if not isinstance(render.get(key), int) or isinstance(render.get(key), bool) or render[key] < 0:
                raise ValueError(f"{registry_file}: split {name!r}: render.{key} must be a whole number, got "
                                 f"{render.get(key)!r}")
        if render["count"] < 1:
            raise ValueError(f"{registry_file}: split {name!r}: render.count must be >= 1")
        path = Path(str(spec["fingerprint"]))
        return cls(name, render, path if path.is_absolute() else registry_file.parent / path)

    @property
    def count(self) -> int:
        return int(self.render["count"])

    @property
    def seed(self) -> int:
        return int(self.render["seed"])

    @property
    def options(self) -> dict:
        """The generator options (everything but count and seed)."""
        return {k: v for k, v in self.render.items() if k not in ("count", "seed")}


def _pct(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")


def sample_statistics(arrays: dict) -> dict:
    """The fingerprint statistics of one sample from its arrays (``depth``, ``mask``, ``rgb``, optional
    ``depth_detail``, ``K``): person pixels, depth percentiles and mean on the person (metres), mean colour,
    mean |detail| (mm), intrinsics, and the sha256 of the depth and colour bytes (bit-identity)."""
    depth = np.asarray(arrays["depth"], np.float32)
    mask = np.asarray(arrays["mask"], bool) & (depth > 0)
    rgb = np.asarray(arrays["rgb"], np.uint8)
    d = depth[mask].astype(np.float64)
    out = {"mask_px": int(mask.sum()),
           "depth_p05_m": _pct(d, 5), "depth_p50_m": _pct(d, 50), "depth_p95_m": _pct(d, 95),
           "depth_mean_m": float(d.mean()) if d.size else float("nan"),
           "rgb_mean": [float(x) for x in rgb.reshape(-1, 3).mean(axis=0)]}
    if arrays.get("depth_detail") is not None:
        det = np.asarray(arrays["depth_detail"], np.float64)[mask]
        out["detail_mean_abs_mm"] = float(np.abs(det).mean() * 1000.0) if det.size else float("nan")
    if arrays.get("K") is not None:
        out["K"] = [float(x) for x in np.asarray(arrays["K"], np.float64).reshape(-1)]
    out["sha256"] = hashlib.sha256(np.ascontiguousarray(depth).tobytes() + np.ascontiguousarray(rgb).tobytes()
                                   ).hexdigest()
    return out


def fingerprint_samples(dataset) -> dict[str, dict]:
    """``{sample id: statistics}`` (:func:`sample_statistics`) of every sample of a humandepth dataset."""
    fields = ["depth", "mask", "rgb"] + (["depth_detail"] if "depth_detail" in dataset.fields else [])
    return {sid: sample_statistics(a) for sid, a in dataset.read_arrays(sorted(dataset.ids), tuple(fields))}


def _round(x):
    if isinstance(x, float):
        return float(f"{x:.9g}") if math.isfinite(x) else None  # None: no value (e.g. a sample without person)
    if isinstance(x, list):
        return [_round(v) for v in x]
    if isinstance(x, dict):
        return {k: _round(v) for k, v in x.items()}
    return x


def fingerprint_document(spec: SplitSpec, samples: dict[str, dict], made_with: dict | None = None) -> dict:
    """The fingerprint file's content: the split's definition, the tolerance and the per-sample statistics."""
    return {"fingerprint_version": FINGERPRINT_VERSION, "split": spec.name, "render": spec.render,
            "tolerance": TOLERANCE, "made_with": made_with or {},
            "samples": {sid: _round(samples[sid]) for sid in sorted(samples)}}


def write_fingerprint(path, document: dict) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n")
    return path


def read_fingerprint(path) -> dict:
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except (FileNotFoundError, IsADirectoryError):
        raise FileNotFoundError(f"the split's fingerprint {path} is missing (it is committed with the registry)") \
            from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not a split fingerprint (invalid JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("fingerprint_version") != FINGERPRINT_VERSION \
            or not isinstance(doc.get("samples"), dict):
        raise ValueError(f"{path} is not a version-{FINGERPRINT_VERSION} split fingerprint")
    return doc


def fingerprint_sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _limit(rule: dict, reference: float) -> float:
    return max(float(rule.get("abs", 0.0)), float(rule.get("rel", 0.0)) * abs(reference))


def compare(reference: dict, built: dict[str, dict], tolerance: dict | None = None) -> dict:
    """Compare rebuilt statistics with a fingerprint's ``samples``.

    Returns ``{"identical": [ids], "within": [ids], "mismatched": {id: [what differs]}, "missing": [ids],
    "extra": [ids], "max_deviation": {statistic: largest |difference| over the samples}}``.  A sample is
    identical when its depth and colour bytes hash the same, within when every statistic is within tolerance.
    """
    tol = tolerance or TOLERANCE
    ref = reference
    out = {"identical": [], "within": [], "mismatched": {}, "missing": sorted(set(ref) - set(built)),
           "extra": sorted(set(built) - set(ref)), "max_deviation": {}}
    for sid in sorted(set(ref) & set(built)):
        a, b = ref[sid], built[sid]
        if a.get("sha256") == b.get("sha256"):
            out["identical"].append(sid)
            continue
        problems = []
        for key, rule in tol.items():
            if key not in a and key not in b:
                continue
            va, vb = _numbers(a.get(key)), _numbers(b.get(key))
            if va.shape != vb.shape:
                problems.append(f"{key}: {a.get(key)} -> {b.get(key)}")
                continue
            dev = np.where(np.isnan(va) & np.isnan(vb), 0.0, np.abs(va - vb))  # no value on both sides: equal
            worst = float(np.max(np.where(np.isnan(dev), np.inf, dev))) if dev.size else 0.0
            out["max_deviation"][key] = max(out["max_deviation"].get(key, 0.0), worst)
            limits = np.array([_limit(rule, r) for r in va])
            if np.any(~(dev <= limits)):
                problems.append(f"{key} {_fmt(a.get(key))} -> {_fmt(b.get(key))}")
        if problems:
            out["mismatched"][sid] = problems
        else:
            out["within"].append(sid)
    return out


def _numbers(v) -> np.ndarray:
    """A statistic as a float64 array (None, a missing value, is NaN)."""
    if isinstance(v, list):
        return np.array([np.nan if x is None else x for x in v], np.float64)
    return np.atleast_1d(np.asarray(np.nan if v is None else v, np.float64))


def _fmt(v) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v[:3]) + (", ..." if len(v) > 3 else "") + "]"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


class SplitMismatch(ValueError):
    """A rebuilt split differs from its committed fingerprint; the message names the samples."""


def mismatch_message(name: str, result: dict, shown: int = 10) -> str:
    parts = []
    if result["missing"] or result["extra"]:
        parts.append(f"sample ids differ (missing {result['missing'][:shown]}, extra {result['extra'][:shown]})")
    bad = result["mismatched"]
    if bad:
        listed = "; ".join(f"{sid}: {', '.join(p)}" for sid, p in list(bad.items())[:shown])
        parts.append(f"{len(bad)} sample(s) outside the tolerance: {listed}{' ...' if len(bad) > shown else ''}")
    return f"split {name!r} does not match its fingerprint: " + "; ".join(parts)


def build_split(spec: SplitSpec, out, render: Callable, workers: int | None = None, overwrite: bool = False,
                write: bool = False, progress: bool = True) -> dict:
    """Render the split ``spec`` into ``out`` (unless a finished dataset is already there) and check it.

    Args:
        render: ``render(out, count, seed, options, workers, overwrite, progress)`` writes the dataset (the
            command line passes the render wing's ``render_dataset``).
        write: write (or replace) the committed fingerprint from this build instead of checking against it
            (for the split's maintainers, after a deliberate change of the generator).

    Returns a report: counts of identical / within-tolerance samples, the largest deviations, the fingerprint's
    sha256 and where the dataset is.  Raises :class:`SplitMismatch` (nothing marked as the split) when a sample
    is outside the tolerance or the ids differ.
    """
    from humandepth.data.store import HumanDepthDataset, is_humandepth_dataset

    out = Path(out)
    marker = out / SPLIT_MARKER
    if not write:
        reference = read_fingerprint(spec.fingerprint)  # before any work: a missing fingerprint costs nothing
    if overwrite or not is_humandepth_dataset(out):
        marker.unlink(missing_ok=True)
        render(out, spec.count, spec.seed, spec.options, workers, overwrite, progress)
    ds = HumanDepthDataset(out)
    built = fingerprint_samples(ds)
    if write:
        made_with = {"generator": ds.card.get("generator", {})}
        write_fingerprint(spec.fingerprint, fingerprint_document(spec, built, made_with))
        reference = read_fingerprint(spec.fingerprint)
    result = compare(reference["samples"], built, reference.get("tolerance"))
    if result["mismatched"] or result["missing"] or result["extra"]:
        marker.unlink(missing_ok=True)
        raise SplitMismatch(mismatch_message(spec.name, result))
    info = {"split": spec.name, "fingerprint": str(spec.fingerprint),
            "fingerprint_sha256": fingerprint_sha256(spec.fingerprint), "dataset_sha256": ds.checksum(),
            "samples": len(built), "identical": len(result["identical"]), "within_tolerance": len(result["within"]),
            "max_deviation": result["max_deviation"], "tolerance": reference.get("tolerance")}
    marker.write_text(json.dumps(info, indent=1, sort_keys=True) + "\n")
    return {**info, "dataset": str(out)}


def verified_split(dataset) -> dict | None:
    """``{"name", "fingerprint_sha256"}`` when ``dataset`` is a split build verified by :func:`build_split` and
    unchanged since (its ``split.json`` names the dataset's current sha256); None otherwise."""
    root = getattr(dataset, "root", None)
    if root is None or not (Path(root) / SPLIT_MARKER).is_file():
        return None
    try:
        info = json.loads((Path(root) / SPLIT_MARKER).read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if info.get("dataset_sha256") != dataset.checksum():
        return None
    return {"name": info.get("split"), "fingerprint_sha256": info.get("fingerprint_sha256")}

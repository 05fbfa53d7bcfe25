"""Score a predictions file on a dataset under one or more protocols and write a run directory.

:func:`run_benchmark` pairs predictions with ground truth by sample id (never by order), validates
every prediction (:mod:`humandepth.benchmark.validate`) and scores the valid ones in the same pass.
If any problem is found nothing is written and one :class:`~humandepth.benchmark.validate.SubmissionError`
lists them all.  Otherwise the run directory receives:

- ``per_sample.csv``: one row per sample (sorted by id): ``gt.mask_px`` and ``gt.evaluated_px`` (person-mask
  pixels, and those of them with a ground-truth value), ``<protocol>.<metric>`` for every metric,
  ``<protocol>.<param>`` for the fitted alignment and pixel counts, ``<protocol>.note`` (why a value is NaN);
- ``summary.json``: method, dataset name and sha256, the evaluated fraction of the person mask and the rule
  that decided it (``gt_validity``), the canonical split and its fingerprint when the dataset is a verified
  split build (:func:`humandepth.data.splits.verified_split`), predictions sha256, and per protocol its
  ``version``, ``config``, ``metrics`` (mean over samples, NaN samples excluded and counted),
  ``pooled`` (pooled over all pixels), ``ci95`` (seeded bootstrap 95% interval of the first metric's
  mean), ``n_nan`` and ``nan_samples``;
- ``cumulative_error.csv``: pooled cumulative distribution of |aligned prediction - GT| over 0..0.5 m
  (100 bins) for each depth protocol run;
- ``thumbs/``: RGB and error-map PNGs for a few fixed samples (evenly spaced in id order);
- ``leaderboard.md``: this run as a one-row leaderboard.

Samples are scored in blocks of :data:`SCORE_BLOCK` consecutive ids (sorted) and the blocks' results merged in
block order, in this process, in worker processes (fork) when there are many, or as Ray tasks
(``executor="ray"``: one task per block on a cluster that sees the dataset and the predictions file at the
same paths).  The blocks are the same for every executor and number of workers, so the results are identical,
to the bit, however the run is executed.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humandepth.benchmark import metrics as _metrics
from humandepth.benchmark.images import ERROR_MAP_MAX_M, save_error_thumbnail, save_rgb_thumbnail
from humandepth.benchmark.protocols import PROTOCOL_NAMES, Protocol, SampleView, add_sums, make_protocol
from humandepth.benchmark.reading import read_ground_truth
from humandepth.benchmark.validate import SubmissionError, check_ids, check_sample
from humandepth.outdir import OutputKind, check_out_whole, staged
from humandepth.progress import Progress

PER_SAMPLE_NAME = "per_sample.csv"
CUMULATIVE_NAME = "cumulative_error.csv"
SUMMARY_NAME = "summary.json"  # the file that makes a folder a run (written last)
LEADERBOARD_MD = "leaderboard.md"
THUMB_DIR = "thumbs"
N_THUMBNAILS = 4
BOOTSTRAP_RESAMPLES = 10_000
ERROR_MAP_PREFERENCE = ("tang2019", "affine", "metric", "detail")  # whose alignment the error maps show
DEPTH_ERROR_PROTOCOLS = ("tang2019", "affine", "metric")  # those with a cumulative |error| curve
SUMMARY_FORMAT = "1.0"
SCORE_BLOCK = 16  # samples per scoring block (one fork-pool chunk or Ray task); fixed so sums merge identically
# what a run folder holds (anything else there is someone else's and is never replaced)
RUN_OUTPUT = OutputKind("benchmark run", SUMMARY_NAME, (PER_SAMPLE_NAME, CUMULATIVE_NAME, LEADERBOARD_MD, THUMB_DIR,
                                                        f".{SUMMARY_NAME}.partial"))


def thumbnail_ids(ids: list[str], k: int = N_THUMBNAILS) -> list[str]:
    """``k`` fixed samples, evenly spaced over the sorted ids (the same for every method on a dataset)."""
    ids = sorted(ids)
    k = min(k, len(ids))
    if k <= 1:
        return ids[:k]
    return [ids[round(i * (len(ids) - 1) / (k - 1))] for i in range(k)]


def bootstrap_ci(values: np.ndarray, seed: int, resamples: int = BOOTSTRAP_RESAMPLES) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``values`` (NaNs dropped) over seeded bootstrap resamples."""
    v = np.asarray(values, np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0 or resamples <= 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(resamples)
    step = max(1, 2_000_000 // v.size)
    for start in range(0, resamples, step):
        k = min(step, resamples - start)
        means[start : start + k] = v[rng.integers(0, v.size, size=(k, v.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


@dataclass
class _Job:
    """What a worker needs; set as a module global before forking so it is inherited, not pickled."""

    dataset: object
    predictions_path: Path
    depth_kind: str
    protocols: list[Protocol]
    fields: tuple[str, ...]
    thumb_ids: frozenset[str]
    map_protocol: str | None
    score: bool = True


_JOB: _Job | None = None
_PRED: tuple[int, Path, object] | None = None
_RAY_JOB: dict = {}  # in a Ray worker: token of the run -> its _Job (deserialised once per worker process)


def _predictions():
    """This process's own handle on the predictions file (HDF5 handles are never shared across fork)."""
    global _PRED
    if _PRED is None or _PRED[0] != os.getpid() or _PRED[1] != _JOB.predictions_path:
        from humandepth.data.predictions import Predictions

        if _PRED is not None and _PRED[0] == os.getpid():
            _PRED[2].close()
        _PRED = (os.getpid(), _JOB.predictions_path, Predictions(_JOB.predictions_path))
    return _PRED[2]


@dataclass
class _Chunk:
    rows: list[dict] = field(default_factory=list)
    sums: dict = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    maps: dict = field(default_factory=dict)  # id -> (error map (H, W) float32 metres, rgb or None)


def _score_ids(ids: list[str]) -> _Chunk:
    job = _JOB
    preds = _predictions()
    out = _Chunk(sums={p.name: {} for p in job.protocols})
    for gt in read_ground_truth(job.dataset, ids, job.fields, rgb_ids=job.thumb_ids):
        sid = gt.id
        want_rgb = sid in job.thumb_ids
        depth = preds.depth(sid)
        normal = preds.normal(sid)
        bad = check_sample(np.asarray(gt.mask, bool), depth, normal)
        if bad:
            out.problems += [(sid, b) for b in bad]
        if bad or out.problems or not job.score:
            continue  # once anything is invalid the run will fail: only keep validating
        view = SampleView(sid, gt.depth, gt.mask, depth, job.depth_kind, K=gt.K, pred_normal=normal,
                          gt_normal=gt.normal)
        row: dict = {"id": sid, "gt.mask_px": int(np.count_nonzero(gt.mask)),
                     "gt.evaluated_px": int(np.count_nonzero(view.mask))}
        for p in job.protocols:
            sc = p.score(view)
            row.update({f"{p.name}.{k}": v for k, v in sc.metrics.items()})
            row.update({f"{p.name}.{k}": v for k, v in sc.params.items()})
            row[f"{p.name}.note"] = sc.note
            add_sums(out.sums[p.name], sc.sums)
            if want_rgb and p.name == job.map_protocol and sc.aligned is not None:
                err = view.full(np.abs(sc.aligned - view.g)).astype(np.float32)
                out.maps[sid] = (err, gt.rgb)
        out.rows.append(row)
    return out


def _score_block(token: str, job_box: list, ids: list[str]) -> _Chunk:
    """A Ray task: score one block of ``ids`` of the run ``token`` (``job_box[0]``: the ObjectRef of its _Job)."""
    global _JOB
    job = _RAY_JOB.get(token)
    if job is None:
        import ray

        _RAY_JOB.clear()  # one run at a time per worker process: drop an earlier run's job and handles
        job = _RAY_JOB[token] = ray.get(job_box[0])
    _JOB = job
    try:
        return _score_ids(ids)
    finally:
        _JOB = None


def _merge(total: _Chunk, part: _Chunk) -> None:
    total.rows += part.rows
    total.problems += part.problems
    total.maps.update(part.maps)
    for name, sums in part.sums.items():
        add_sums(total.sums.setdefault(name, {}), sums)


def _chunks(ids: list[str], size: int) -> list[list[str]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _json_clean(x):
    """NaN/inf -> None and numpy scalars -> Python, recursively (summary.json stays strict JSON)."""
    if isinstance(x, dict):
        return {str(k): _json_clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_clean(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x


def gt_validity(dataset) -> str:
    """The rule that decided which person pixels of ``dataset`` have a ground-truth value ("" when none is
    recorded): a reader's ``gt_validity`` attribute, else the card's (or its generator's) ``gt_validity``."""
    rule = getattr(dataset, "gt_validity", None)
    card = getattr(dataset, "card", None)
    if rule is None and isinstance(card, dict):
        rule = card.get("gt_validity") or (card.get("generator") or {}).get("gt_validity")
    return str(rule or "")


def _detail_filter(dataset):
    from humandepth.data.base_detail import BaseDetailFilter

    card = getattr(dataset, "card", None)
    spec = card.get("base_detail_filter") if isinstance(card, dict) else None
    return BaseDetailFilter.from_dict(spec) if spec else None


def _score_with_executor(job: _Job, blocks: list[list[str]], result: _Chunk, bar: Progress, executor, address,
                         max_retries: int, workers: int | None) -> tuple[int, str]:
    """Score ``blocks`` as tasks of ``executor`` (Ray: one task per block) and merge them into ``result`` in block
    order.  Returns (the executor's parallelism, its name)."""
    import uuid

    from humandepth.scale.executor import Task, make_executor

    own = isinstance(executor, str)
    ex = make_executor(executor, address, max_retries, num_cpus=workers) if own else executor
    try:
        if ex.name == "ray":
            import ray

            token = uuid.uuid4().hex
            box = [ray.put(job)]  # shipped once; a list so that Ray does not resolve it for every task
            tasks = [Task(key=f"benchmark-block-{k:05d}", fn=_score_block, args=(token, box, chunk))
                     for k, chunk in enumerate(blocks)]
        else:
            tasks = [Task(key=f"benchmark-block-{k:05d}", fn=_score_ids, args=(chunk,))
                     for k, chunk in enumerate(blocks)]
        parts = ex.run(tasks, on_done=lambda i, task, part: bar.update(len(blocks[i])))
        for part in parts:  # in block order, whatever order they finished in
            _merge(result, part)
        return ex.parallelism, ex.name
    finally:
        if own:
            ex.close()


def _score_locally(blocks: list[list[str]], result: _Chunk, bar: Progress, n_workers: int) -> None:
    """Score ``blocks`` of the current job (:data:`_JOB`) in this process, or in ``n_workers`` forked processes
    (which inherit the job), and merge them into ``result`` in block order."""
    if n_workers == 1:
        for chunk in blocks:
            _merge(result, _score_ids(chunk))
            bar.update(len(chunk))
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(n_workers) as pool:
        for chunk, part in zip(blocks, pool.imap(_score_ids, blocks), strict=True):
            _merge(result, part)
            bar.update(len(chunk))


def _auto_workers(n: int) -> int:
    return 1 if n < 64 else max(1, min(os.cpu_count() or 1, 8))


def run_benchmark(dataset, predictions, protocols, out_dir, *, workers: int | None = None, seed: int = 0,
                  n_thumbnails: int = N_THUMBNAILS, bootstrap_resamples: int = BOOTSTRAP_RESAMPLES,
                  progress: bool = True, overwrite: bool = False, executor="local", address: str | None = None,
                  max_retries: int = 3, allow_other_dataset: bool = False) -> dict:
    """Validate and score ``predictions`` on ``dataset``; write the run directory; return the summary dict.

    Args:
        dataset: a :class:`humandepth.data.DepthDataset` (e.g. from ``open_dataset``).
        predictions: path of a predictions file, or an open :class:`humandepth.data.Predictions`.
        protocols: protocol names (see :data:`humandepth.benchmark.protocols.PROTOCOL_NAMES`), in table order.
        out_dir: the run directory.  It is written beside ``out_dir`` and moved there when complete; an existing
            run there is only replaced with ``overwrite``; a folder holding anything else is refused.
        workers: scoring processes; None picks 1 for small datasets, else the number of CPUs (max 8).  With
            ``executor="ray"`` and no ``address``: the CPUs of the local Ray cluster started here (None: all).
        seed: seed of the bootstrap intervals (recorded).
        n_thumbnails: how many fixed samples get RGB / error-map thumbnails.
        bootstrap_resamples: resamples of each protocol's bootstrap interval.
        progress: print samples/s to stderr while scoring.
        overwrite: replace an existing run in ``out_dir`` (when the new one is complete).
        executor: ``"local"``, ``"ray"`` (one Ray task per block of :data:`SCORE_BLOCK` samples) or an
            :class:`humandepth.scale.executor.Executor` (left open for the caller).
        address, max_retries: the Ray cluster and retries of a dead worker's task (see
            :class:`humandepth.scale.executor.RayExecutor`).
        allow_other_dataset: score a predictions file whose ``dataset_sha256`` attribute names another dataset
            (refused by default: its ids may match by name only).

    Raises:
        SubmissionError (a ValueError): the predictions do not match the dataset; lists every problem.
        ValueError: an unknown protocol, or one that cannot score this ``depth_kind``.
        FileExistsError: ``out_dir`` already holds a run and ``overwrite`` is False, or holds other files.
    """
    from humandepth.data.predictions import Predictions
    from humandepth.data.splits import verified_split
    from humandepth.data.store import sha256_file

    global _JOB, _PRED
    t_start = time.perf_counter()
    names = list(dict.fromkeys(protocols))
    if not names:
        raise ValueError(f"no protocol given; choose one or more of {', '.join(PROTOCOL_NAMES)}")
    if workers is not None and workers < 1:
        raise ValueError(f"--workers must be >= 1, got {workers}")
    if n_thumbnails < 0:
        raise ValueError(f"--thumbnails must be >= 0, got {n_thumbnails}")
    if bootstrap_resamples < 0:
        raise ValueError(f"bootstrap_resamples must be >= 0, got {bootstrap_resamples}")
    out_dir = Path(out_dir)
    check_out_whole(out_dir, RUN_OUTPUT, overwrite)
    pred_path = Path(predictions.path if isinstance(predictions, Predictions) else predictions)
    with Predictions(pred_path) as preds:
        method, depth_kind, pred_ids, pred_attrs = preds.method, preds.depth_kind, preds.ids, preds.attrs
    check_made_on(pred_path, pred_attrs, dataset, allow_other_dataset)
    protos = [make_protocol(n, _detail_filter(dataset)) for n in names]
    for p in protos:
        p.check_kind(depth_kind, f"predictions file {pred_path} (method {method!r})")

    ids = sorted(dataset.ids)
    if not ids:
        raise ValueError(f"dataset {dataset.name!r} has no samples")
    idcheck = check_ids(ids, pred_ids)
    missing = set(idcheck.missing)
    if idcheck.extra and progress:
        shown = ", ".join(repr(i) for i in idcheck.extra[:10])
        print(f"benchmark: {len(idcheck.extra)} prediction id(s) not in dataset {dataset.name!r} are ignored: "
              f"{shown}{' ...' if len(idcheck.extra) > 10 else ''}", file=sys.stderr)
    map_protocol = next((n for n in ERROR_MAP_PREFERENCE if n in names), None)
    thumbs = thumbnail_ids(ids, n_thumbnails)
    fields = ("depth", "mask") + (("normal",) if "detail" in names else ())
    _JOB = _Job(dataset, pred_path, depth_kind, protos, fields, frozenset(thumbs), map_protocol,
                score=not missing)

    todo = [i for i in ids if i not in missing]
    result = _Chunk(problems=[(sid, "no prediction in the file (missing /depth/<id>)") for sid in idcheck.missing])
    bar = Progress("benchmark", len(todo), enabled=progress, every_s=2.0)
    blocks = _chunks(todo, SCORE_BLOCK)
    try:
        if executor != "local":
            n_workers, executor_name = _score_with_executor(_JOB, blocks, result, bar, executor, address,
                                                            max_retries, workers)
        else:
            if address:
                raise ValueError("--address is only used with --executor ray")
            executor_name = "local"
            n_workers = _auto_workers(len(todo)) if workers is None else int(workers)
            _score_locally(blocks, result, bar, n_workers)
    finally:
        _JOB = None
        if _PRED is not None:
            _PRED[2].close()
            _PRED = None
    if result.problems:
        order = {sid: i for i, sid in enumerate(ids)}
        result.problems.sort(key=lambda p: order.get(p[0], -1))
        raise SubmissionError(pred_path, dataset.name, result.problems)
    elapsed = time.perf_counter() - t_start

    import pandas as pd

    table = pd.DataFrame(result.rows).sort_values("id", kind="stable").reset_index(drop=True)
    summary_protocols, curves = _summarise(table, result.sums, protos, seed, bootstrap_resamples)
    thumb_files = {}  # path in the run folder -> (which image, array)
    thumb_entries = []
    for k, sid in enumerate(thumbs):
        entry = {"id": sid}
        err, rgb = result.maps.get(sid, (None, None))
        if rgb is not None:
            entry["rgb"] = f"{THUMB_DIR}/rgb_{k:02d}.png"
            thumb_files[entry["rgb"]] = ("rgb", rgb)
        if err is not None:
            entry["error"] = f"{THUMB_DIR}/error_{k:02d}.png"
            thumb_files[entry["error"]] = ("error", err)
        thumb_entries.append(entry)

    from humandepth import __version__

    mask_px, evaluated_px = int(table["gt.mask_px"].sum()), int(table["gt.evaluated_px"].sum())
    summary = {
        "summary_format": SUMMARY_FORMAT,
        "method": method,
        "depth_kind": depth_kind,
        "dataset": {"name": dataset.name, "sha256": dataset.checksum(), "format": getattr(dataset, "format", ""),
                    "count": len(ids), "path": str(getattr(dataset, "root", "")),
                    "mask_px": mask_px, "evaluated_px": evaluated_px,
                    "evaluated_fraction": evaluated_px / mask_px if mask_px else float("nan"),
                    "gt_validity": gt_validity(dataset), "split": verified_split(dataset)},
        "predictions": {"path": str(pred_path), "sha256": sha256_file(pred_path), "extra_ids": idcheck.extra,
                        "attrs": {k: v for k, v in pred_attrs.items() if isinstance(v, str | int | float | bool)}},
        "protocols": summary_protocols,
        "per_sample": PER_SAMPLE_NAME,
        "cumulative_error": CUMULATIVE_NAME if curves else None,
        "cumulative_error_bins": {"max_m": _metrics.HIST_MAX_M, "bins": _metrics.HIST_BINS},
        "thumbnails": thumb_entries,
        "error_maps": {"protocol": map_protocol, "range_m": [0.0, ERROR_MAP_MAX_M], "colormap": "jet"},
        "aggregation": "metrics: mean over samples (NaN samples excluded, counted in n_nan); pooled: over all "
                       "evaluated pixels of the dataset",
        "seed": seed,
        "software": {"humandepth": __version__, "numpy": np.__version__, "python": sys.version.split()[0]},
        "run": {"created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "workers": n_workers,
                "executor": executor_name,
                "elapsed_s": round(elapsed, 3), "samples_per_s": round(len(ids) / max(elapsed, 1e-9), 2)},
    }
    _write_run(out_dir, overwrite, table, curves, thumb_files, summary)
    return summary


def headline_lines(summary: dict) -> list[str]:
    """One line per protocol of a run's ``summary`` (what ``humandepth benchmark`` prints): the method, the
    protocol and its version, the first metric's mean with its 95 % interval, and how many samples are NaN."""
    lines = []
    for name, entry in summary["protocols"].items():
        first = entry["ci95"]["metric"]
        value, ci = entry["metrics"][first], entry["ci95"]
        shown = (f"{value:.4g} [{ci['low']:.4g}, {ci['high']:.4g}]" if math.isfinite(value)
                 else "n/a (no sample could be scored)")
        nan = f", {entry['n_nan']} NaN sample(s), listed in summary.json" if entry["n_nan"] else ""
        lines.append(f"{summary['method']} | {name} v{entry['version']}: {first} = {shown}{nan}")
    return lines


def _summarise(table, sums: dict, protos: list[Protocol], seed: int, resamples: int) -> tuple[dict, list[dict]]:
    """Per protocol its summary entry (means, pooled values, bootstrap interval, NaN samples), and the rows of
    the cumulative error curves (``protocol``, ``error_m``, ``cumulative_pct``)."""
    summary_protocols = {}
    curves = []
    for k, p in enumerate(protos):
        cols = [f"{p.name}.{m}" for m in p.metric_names]
        values = table[cols].to_numpy(np.float64)
        nan_rows = ~np.all(np.isfinite(values), axis=1)
        first = values[:, 0]
        low, high = bootstrap_ci(first, seed + k, resamples)
        entry = {
            "version": p.version,
            "description": p.description,
            "config": p.config(),
            "metrics": {m: float(np.nanmean(values[:, j])) if np.isfinite(values[:, j]).any() else float("nan")
                        for j, m in enumerate(p.metric_names)},
            "pooled": p.pooled(sums.get(p.name, {})),
            "ci95": {"metric": p.metric_names[0], "low": low, "high": high, "resamples": resamples,
                     "seed": seed + k},
            "higher_is_better": sorted(p.higher_is_better),
            "n_samples": len(table),
            "n_nan": int(nan_rows.sum()),
            "nan_samples": {sid: note for sid, note in zip(table["id"][nan_rows], table[f"{p.name}.note"][nan_rows],
                                                           strict=True)},
        }
        if p.name == "affine":
            entry["n_degenerate"] = int(np.nansum(table["affine.degenerate"].to_numpy(np.float64)))
        summary_protocols[p.name] = entry
        hist = sums.get(p.name, {}).get("hist")
        if p.name in DEPTH_ERROR_PROTOCOLS and hist is not None:
            for edge, frac in zip(_metrics.cumulative_edges_m(), _metrics.cumulative_from_histogram(hist), strict=True):
                curves.append({"protocol": p.name, "error_m": round(float(edge), 6), "cumulative_pct": 100.0 * frac})
    return summary_protocols, curves


def _write_run(out_dir: Path, overwrite: bool, table, curves: list[dict], thumb_files: dict, summary: dict) -> None:
    """Write the run folder: beside ``out_dir``, moved there when complete (:func:`humandepth.outdir.staged`), so
    a failure or an interruption leaves ``out_dir`` as it was."""
    import pandas as pd

    from humandepth.benchmark.board_text import render_markdown
    from humandepth.benchmark.runs import load_run

    with staged(out_dir, RUN_OUTPUT, overwrite) as tmp:
        table.to_csv(tmp / PER_SAMPLE_NAME, index=False)
        if curves:
            pd.DataFrame(curves).to_csv(tmp / CUMULATIVE_NAME, index=False)
        if thumb_files:
            (tmp / THUMB_DIR).mkdir()
        for rel, (kind, image) in thumb_files.items():
            (save_rgb_thumbnail if kind == "rgb" else save_error_thumbnail)(image, tmp / rel)
        (tmp / SUMMARY_NAME).write_text(json.dumps(_json_clean(summary), indent=1, allow_nan=False))
        (tmp / LEADERBOARD_MD).write_text(render_markdown([load_run(tmp)]))


def check_made_on(pred_path: Path, attrs: dict, dataset, allow_other: bool = False) -> None:
    """Refuse a predictions file whose ``dataset_sha256`` attribute (written by ``humandepth baselines run``)
    names another dataset than ``dataset``: ids like ``s0001`` match across datasets by name only, and the
    scores would be silently meaningless.  ``allow_other`` accepts it (with a warning on stderr)."""
    made_on = attrs.get("dataset_sha256")
    if not made_on:
        return
    have = dataset.checksum()
    if made_on == have:
        return
    text = (f"predictions file {pred_path} was made on dataset {attrs.get('dataset', '?')!r} "
            f"(sha256 {made_on[:12]}...), not on {dataset.name!r} (sha256 {have[:12]}...)")
    if not allow_other:
        raise ValueError(f"{text}; score it on the dataset it was made on, or pass --allow-other-dataset if the "
                         "ground truth is the same data")
    print(f"benchmark: warning: {text}; scoring it anyway (--allow-other-dataset)", file=sys.stderr)

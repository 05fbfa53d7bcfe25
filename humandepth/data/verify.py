"""Check a dataset on disk: schema, checksums, every sample readable.  Returns the problems found."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pandas as pd

from humandepth.data.sample import FIELD_SCHEMA, REQUIRED_FIELDS
from humandepth.data.store import CARD_NAME, card_problems, sha256_file


def verify_humandepth(root) -> list[str]:
    """Problems of a ``humandepth``-format dataset (empty list = valid).  Each names the shard/sample."""
    root = Path(root)
    problems: list[str] = []
    card_path = root / CARD_NAME
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError:
        return [f"{card_path}: missing (not a humandepth dataset, or an unfinished write)"]
    except json.JSONDecodeError as e:
        return [f"{card_path}: not valid JSON ({e})"]
    bad = card_problems(card)
    if bad:
        return [f"{card_path}: {p}" for p in bad]
    fields = card["fields"]
    unknown = [f for f in fields if f not in FIELD_SCHEMA]
    if unknown or any(f not in fields for f in REQUIRED_FIELDS):
        problems.append(f"{card_path}: fields {fields} must include {list(REQUIRED_FIELDS)} and only known fields")
    h, w = card["resolution"]["height"], card["resolution"]["width"]
    seen_ids: list[str] = []
    for shard in card["shards"]:
        rel = shard["file"]
        path = root / rel
        if not path.is_file():
            problems.append(f"shard {rel}: file missing")
            continue
        digest = sha256_file(path)
        if digest != shard["sha256"]:
            problems.append(f"shard {rel}: sha256 {digest[:12]}... does not match the card's {shard['sha256'][:12]}...")
        try:
            f = h5py.File(path, "r")
        except OSError as e:
            problems.append(f"shard {rel}: not a readable HDF5 file ({e})")
            continue
        with f:
            try:
                ids = [s.decode() for s in f["ids"][()]]
            except (KeyError, OSError) as e:
                problems.append(f"shard {rel}: cannot read ids ({e})")
                continue
            if len(ids) != shard["count"]:
                problems.append(f"shard {rel}: holds {len(ids)} samples, card says {shard['count']}")
            seen_ids.extend(ids)
            for name in fields:
                if name not in f:
                    problems.append(f"shard {rel}: field {name!r} missing")
                    continue
                dset = f[name]
                dtype, shape = FIELD_SCHEMA[name]
                want = tuple(h if s == "H" else w if s == "W" else s for s in shape)
                if dset.dtype != dtype or dset.shape[1:] != want or dset.shape[0] != len(ids):
                    problems.append(f"shard {rel}: field {name!r} is {dset.dtype} {dset.shape}, "
                                    f"expected {dtype} ({len(ids)}, {', '.join(map(str, want))})")
                    continue
                for row, sid in enumerate(ids):
                    try:
                        arr = dset[row]
                    except OSError as e:
                        problems.append(f"shard {rel}: sample {sid!r} field {name!r} unreadable ({e})")
                        continue
                    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
                        problems.append(f"shard {rel}: sample {sid!r} field {name!r} holds NaN or inf")
    if len(seen_ids) != card["count"]:
        problems.append(f"{card_path}: count {card['count']} but the shards hold {len(seen_ids)} samples")
    dupes = sorted({s for s in seen_ids if seen_ids.count(s) > 1}) if len(set(seen_ids)) != len(seen_ids) else []
    if dupes:
        problems.append(f"duplicate sample ids across shards: {dupes[:5]}")
    index_path = root / card.get("index", "index.csv")
    try:
        index = pd.read_csv(index_path, dtype={"id": str})
        if sorted(index["id"]) != sorted(seen_ids):
            problems.append(f"{index_path.name}: ids differ from the shards'")
    except FileNotFoundError:
        problems.append(f"{index_path.name}: missing")
    return problems


def verify_dataset(path) -> list[str]:
    """Problems of the dataset at ``path`` in any supported format (other formats: every sample must load)."""
    from humandepth.data.open import open_path
    from humandepth.data.store import is_humandepth_dataset

    if is_humandepth_dataset(path):
        return verify_humandepth(path)
    ds = open_path(path)
    problems = []
    declared = getattr(ds, "info", {}).get("count")  # folder.json of an export records how many it wrote
    if declared is not None and declared != len(ds):
        problems.append(f"{path}: folder.json records {declared} samples but the folder holds {len(ds)} "
                        "(an export cut short?)")
    for sid in ds.ids:
        try:
            ds.get(sid).validate()
        except (ValueError, OSError) as e:
            problems.append(f"sample {sid!r}: {e}")
    return problems

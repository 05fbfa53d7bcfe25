"""The dataset registry: ``datasets.yaml`` at the repository root (or ``$HUMANDEPTH_REGISTRY``).

Each entry has ``name``, ``kind``, ``format`` (``humandepth`` | ``tang2019`` | ``folder`` |
``scans``; ``scans`` are mesh collections for ``humandepth render --body scan``, not image
datasets), ``path``, ``description``, ``license``, ``citation`` and ``obtain`` (how to get it; for
built-in datasets, the exact command that makes it), and optionally ``split`` (a canonical test split
that ``humandepth datasets build NAME`` renders and checks: :mod:`humandepth.data.splits`).  ``path`` may
use ``~``, ``$VAR``, ``${VAR}`` and ``${VAR:-default}``.  ``$HUMANDEPTH_DATA`` defaults to
``~/.humandepth/data``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from humandepth.data.splits import SplitSpec

FORMATS = ("humandepth", "tang2019", "folder", "scans")
KINDS = ("synthetic", "captured", "fused", "external")
REQUIRED_KEYS = ("name", "kind", "format", "path", "description", "license", "citation", "obtain")
DEFAULT_DATA_ROOT = "~/.humandepth/data"
_VAR = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)")


def expand_path(text: str) -> Path:
    """Expand ``${VAR:-default}``, ``${VAR}``, ``$VAR`` and ``~`` (unset variables without a default -> error)."""
    env = dict(os.environ)
    env.setdefault("HUMANDEPTH_DATA", DEFAULT_DATA_ROOT)

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(3)
        if name in env and env[name] != "":
            return env[name]
        if m.group(2) is not None:
            return m.group(2)
        raise ValueError(f"path {text!r} uses the environment variable ${name}, which is not set")

    out = text
    for _ in range(5):  # defaults may themselves use variables
        expanded = _VAR.sub(sub, out)
        if expanded == out:
            break
        out = expanded
    return Path(os.path.expanduser(out))


def registry_path() -> Path:
    env = os.environ.get("HUMANDEPTH_REGISTRY")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "datasets.yaml"


@dataclass(frozen=True)
class RegistryEntry:
    name: str
    kind: str
    format: str
    path: str
    description: str
    license: str
    citation: str
    obtain: str
    split: SplitSpec | None = None

    @property
    def local_path(self) -> Path:
        return expand_path(self.path)

    def is_present(self) -> bool:
        p = self.local_path
        if self.format == "humandepth":
            return (p / "dataset.json").is_file()
        return p.is_dir() and any(p.iterdir())


def load_registry(path=None) -> dict[str, RegistryEntry]:
    path = Path(path) if path else registry_path()
    if not path.is_file():
        raise FileNotFoundError(f"dataset registry not found: {path} (set HUMANDEPTH_REGISTRY to a datasets.yaml)")
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ValueError(f"{path} is not valid YAML: {e}") from None
    entries = doc.get("datasets") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level 'datasets:' list")
    out: dict[str, RegistryEntry] = {}
    for i, e in enumerate(entries):
        missing = [k for k in REQUIRED_KEYS if not isinstance(e, dict) or k not in e]
        if missing:
            label = e.get("name", "?") if isinstance(e, dict) else repr(e)
            raise ValueError(f"{path}: entry {i} ({label}) lacks {missing}")
        if e["format"] not in FORMATS:
            raise ValueError(f"{path}: entry {e['name']!r} has format {e['format']!r}, expected one of {FORMATS}")
        if e["kind"] not in KINDS:
            raise ValueError(f"{path}: entry {e['name']!r} has kind {e['kind']!r}, expected one of {KINDS}")
        if e["name"] in out:
            raise ValueError(f"{path}: dataset name {e['name']!r} appears twice")
        split = SplitSpec.from_entry(e["name"], e["split"], path) if e.get("split") is not None else None
        if split is not None and e["format"] != "humandepth":
            raise ValueError(f"{path}: split {e['name']!r} must have format humandepth (it is rendered)")
        out[e["name"]] = RegistryEntry(**{k: str(e[k]).strip() for k in REQUIRED_KEYS}, split=split)
    return out


def get_entry(name: str, path=None) -> RegistryEntry:
    reg = load_registry(path)
    try:
        return reg[name]
    except KeyError:
        raise KeyError(f"no dataset named {name!r} in the registry; known: {', '.join(reg)}") from None

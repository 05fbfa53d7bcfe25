"""The pinned stack is installed as pinned: a missing or different dependency fails the suite (the tests never
skip what requirements.lock promises), and pyproject.toml pins the same versions as requirements.lock."""

from __future__ import annotations

import importlib.metadata as md
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"([A-Za-z0-9_.-]+)(\[[^\]]*\])?==(\S+)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            m = PIN.fullmatch(line)
            assert m, f"requirements.lock: {line!r} is not NAME==VERSION"
            pins[_norm(m.group(1))] = m.group(3)
    return pins


def test_every_locked_dependency_is_installed_at_its_pin():
    wrong = {}
    for name, version in _lock().items():
        try:
            have = md.version(name)
        except md.PackageNotFoundError:
            have = None
        if have is None or have.split("+")[0] != version:  # torch's CPU wheel is 2.13.0+cpu
            wrong[name] = (version, have)
    assert not wrong, f"installed versions differ from requirements.lock (pinned, installed): {wrong}"


def test_pyproject_pins_what_the_lock_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        specs += [s for s in extra if not s.startswith("humandepth")]
    lock = _lock()
    for spec in specs:
        m = PIN.fullmatch(spec.replace(" ", ""))
        assert m, f"pyproject.toml: {spec!r} is not pinned (NAME==VERSION)"
        assert lock.get(_norm(m.group(1))) == m.group(3), f"{spec} is pinned differently in requirements.lock"

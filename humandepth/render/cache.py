"""Where the render wing keeps machine-local caches, and the one-time set-up step that builds them.

``HUMANDEPTH_CACHE`` (default ``~/.cache/humandepth``) holds ``anny/``: the anny body model's built data.
anny's first construction parses its MakeHuman assets (about a minute on a 2-core CPU) and writes ~790 MB of
intermediate files; the default model only needs the compacted ~50 MB file, so :func:`setup_anny` builds it
once and deletes the intermediates.  Workers only ever *load* it (0.3 s); they never build it.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

INTERMEDIATE_PREFIXES = ("load_data_", "build_model_data_")
COMPACT_PREFIX = "build_compact_model_data_"


def cache_root() -> Path:
    """``$HUMANDEPTH_CACHE`` or ``~/.cache/humandepth`` (one definition: :func:`humandepth.data.remote.cache_root`)."""
    from humandepth.data.remote import cache_root as data_cache_root

    return data_cache_root()


def anny_cache_dir() -> Path:
    return cache_root() / "anny"


def point_anny_at_cache() -> Path:
    """Set ``ANNY_CACHE_DIR`` (before anny is imported) and anny's own setting (if it already is)."""
    path = anny_cache_dir()
    os.environ["ANNY_CACHE_DIR"] = str(path)
    if "anny.paths" in sys.modules:
        sys.modules["anny.paths"].set_anny_cache_path(path)
    return path


def anny_cache_ready() -> bool:
    """True when the compacted default-model file exists (what :func:`load_anny_model` needs)."""
    return any(anny_cache_dir().glob(f"v*/{COMPACT_PREFIX}*.safetensors"))


def require_anny_cache() -> None:
    """``FileNotFoundError`` saying to run ``humandepth render setup`` when the anny cache is not built (checked
    before anything is rendered or written)."""
    if not anny_cache_ready():
        raise FileNotFoundError(
            f"the anny body-model cache is not built in {anny_cache_dir()}; run `humandepth render setup` once "
            "on this machine (about a minute; set HUMANDEPTH_CACHE to put it elsewhere)"
        )


def setup_anny(log=print) -> dict:
    """Build the anny cache for the default model if missing; idempotent.  Returns a summary dict."""
    path = point_anny_at_cache()
    if anny_cache_ready():
        files = sorted(p.name for p in path.glob("v*/*.safetensors"))
        return {"anny_cache": str(path), "built": False, "files": files, "seconds": 0.0}
    log(f"building the anny body-model cache in {path} (once per machine, about a minute)...")
    t0 = time.time()
    import anny
    import torch  # noqa: F401  (anny needs it; imported here so the timing covers only the build)

    anny.Anny()
    removed = 0
    for prefix in INTERMEDIATE_PREFIXES:
        for p in path.glob(f"v*/{prefix}*.safetensors"):
            removed += p.stat().st_size
            p.unlink()
    if not anny_cache_ready():
        raise RuntimeError(f"anny did not write its model cache under {path}")
    files = sorted(p.name for p in path.glob("v*/*.safetensors"))
    size = sum(p.stat().st_size for p in path.glob("v*/*.safetensors"))
    log(f"anny cache ready: {size / 1e6:.0f} MB kept, {removed / 1e6:.0f} MB of intermediates removed, "
        f"{time.time() - t0:.0f} s")
    return {"anny_cache": str(path), "built": True, "files": files, "seconds": round(time.time() - t0, 1)}

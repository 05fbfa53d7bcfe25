"""Headless OpenGL set-up for pyrender: platform choice, anti-aliasing off, one renderer per process.

The platform is chosen once per process, before pyrender (and PyOpenGL) is first imported:

- ``PYOPENGL_PLATFORM`` already set by the user: respected as is.
- otherwise ``HUMANDEPTH_GL`` (``auto`` | ``egl`` | ``osmesa``, default ``auto``): ``auto`` picks EGL when an
  NVIDIA GPU is visible (``/dev/nvidia0`` or ``/proc/driver/nvidia``) and OSMesa (Mesa llvmpipe on the CPU)
  otherwise.

pyrender's EGL path draws into a 4x multisampled framebuffer, which blends silhouette pixels and biases depth
on slanted surfaces; :func:`_disable_msaa` makes that framebuffer single-sampled, so every ground-truth pass
is exact on both platforms.  OSMesa has no framebuffer objects and never anti-aliases.

The renderer actually used is reported by :func:`gl_info` (``GL_RENDERER`` string, e.g. ``llvmpipe`` or
``NVIDIA H100``) and logged once per process.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("humandepth.render")

SHADER_DIR = Path(__file__).resolve().parent / "shaders"
_STATE: dict = {"platform": None, "renderer": None, "size": None, "pid": None, "info": None}


def _gpu_present() -> bool:
    return Path("/dev/nvidia0").exists() or Path("/proc/driver/nvidia").exists()


def choose_platform() -> str:
    """The PyOpenGL platform this process uses (``egl`` or ``osmesa``); sets ``PYOPENGL_PLATFORM``."""
    current = os.environ.get("PYOPENGL_PLATFORM")
    if current:
        return current
    want = os.environ.get("HUMANDEPTH_GL", "auto").strip().lower()
    if want not in ("auto", "egl", "osmesa"):
        raise ValueError(f"HUMANDEPTH_GL must be auto, egl or osmesa, got {want!r}")
    platform = ("egl" if _gpu_present() else "osmesa") if want == "auto" else want
    if "OpenGL" in sys.modules:
        raise RuntimeError(
            "PyOpenGL was imported before humandepth.render chose a platform; set PYOPENGL_PLATFORM=osmesa "
            "(CPU) or egl (GPU) in the environment before starting Python"
        )
    os.environ["PYOPENGL_PLATFORM"] = platform
    return platform


def _disable_msaa() -> None:
    """Make pyrender's (EGL) framebuffer single-sampled: exact depth, no blended silhouette pixels."""
    import OpenGL.GL as GL
    import pyrender.renderer as prr

    if getattr(prr, "_humandepth_no_msaa", False):
        return

    def storage(target, samples, fmt, width, height):
        return GL.glRenderbufferStorageMultisample(target, 0, fmt, width, height)

    prr.glRenderbufferStorageMultisample = storage
    prr._humandepth_no_msaa = True


def pyrender_module():
    """Import pyrender on the chosen platform (lazily, once) and return the module."""
    platform = choose_platform()
    _STATE["platform"] = platform
    import pyrender

    _disable_msaa()
    return pyrender


def get_renderer(width: int, height: int):
    """The process's ``pyrender.OffscreenRenderer`` for this image size (created after any fork)."""
    pyrender = pyrender_module()
    pid = os.getpid()
    r = _STATE["renderer"]
    if r is not None and _STATE["pid"] == pid and _STATE["size"] == (width, height):
        return r
    if r is not None and _STATE["pid"] == pid:
        r.delete()
    r = pyrender.OffscreenRenderer(width, height)
    from pyrender.shader_program import ShaderProgramCache

    # every GL draw of this package is the face-id pass: our own flat shaders (gl_PrimitiveID, no colours)
    r._renderer._program_cache = ShaderProgramCache(shader_dir=str(SHADER_DIR))
    _STATE.update(renderer=r, size=(width, height), pid=pid, info=None)
    info = gl_info()
    log.info("pyrender on %s: GL_RENDERER=%s, GL_VERSION=%s", info["platform"], info["gl_renderer"],
             info["gl_version"])
    return r


def gl_info() -> dict:
    """``{"platform", "gl_renderer", "gl_vendor", "gl_version", "pyrender", "anti_aliasing"}`` of this process.

    Creates the process's renderer if needed (a 16x16 one).
    """
    if _STATE["info"] is not None and _STATE["pid"] == os.getpid():
        return dict(_STATE["info"])
    if _STATE["renderer"] is None or _STATE["pid"] != os.getpid():
        get_renderer(16, 16)
        if _STATE["info"] is not None:
            return dict(_STATE["info"])
    from importlib.metadata import version

    import OpenGL.GL as GL

    r = _STATE["renderer"]
    r._platform.make_current()

    def text(name):
        value = GL.glGetString(name)
        return value.decode() if isinstance(value, bytes) else str(value)

    info = {
        "platform": _STATE["platform"],
        "gl_renderer": text(GL.GL_RENDERER),
        "gl_vendor": text(GL.GL_VENDOR),
        "gl_version": text(GL.GL_VERSION),
        "pyrender": f"pyrender2 {version('pyrender2')}",
        "anti_aliasing": False,
    }
    _STATE["info"] = info
    return dict(info)


def release() -> None:
    """Delete this process's renderer (a later call creates a new one)."""
    r = _STATE["renderer"]
    if r is not None and _STATE["pid"] == os.getpid():
        r.delete()
    _STATE.update(renderer=None, size=None, pid=None, info=None)

"""Output folders: bad input or an interruption never loses what is already there.

Every command that writes a folder -- a dataset, a take, a benchmark run, a leaderboard, an export -- follows
the same rules (:func:`check_out` before any work, then :func:`staged`, or the dataset writer):

- ``--out`` that is a file, or a non-empty folder that holds an entry this kind of output never writes (a
  *foreign* folder: someone else's files), is refused before any work, naming that entry.  ``--overwrite`` does
  not change that: it replaces the command's own output, never files it did not write.
- A finished output (its marker file is there) is replaced only with ``--overwrite``, and then atomically: the
  new output is built in ``.NAME.staging`` beside it (same parent, so the same filesystem) and swapped in by two
  renames once it is complete.  A failure or an interruption before that leaves the old output as it was.
- An output written all at once (a take, a benchmark run, a leaderboard, an export) is always built in the
  staging folder, so a half-written one never appears under ``--out``; a folder with only its file names but
  no marker (someone's own ``index.html``) is replaced only with ``--overwrite`` (:func:`check_out_whole`).
  A dataset is written in place when there is nothing to replace, so that an interrupted write resumes
  (:class:`humandepth.data.DatasetWriter`).

Only a crash between the two renames of a swap (microseconds) can leave ``--out`` missing; the old output is
then ``.NAME.replaced`` beside it, and the next command on that ``--out`` puts it back (:func:`check_out`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class OutputKind:
    """One kind of output folder.

    Attributes:
        what: its name in messages (``"dataset"``, ``"leaderboard"``).
        marker: the file a finished output holds (written last).
        entries: glob patterns of every top-level entry this kind of output may hold (the marker included).
        folders_with: also any top-level folder that holds a file of this name (an export's per-sample folders,
            whose names are sample ids).
        inside: for a top-level folder, the glob patterns of everything it may hold (a dataset's ``shards/``):
            a file of another name in it is someone else's too.
    """

    what: str
    marker: str
    entries: tuple[str, ...]
    folders_with: str | None = None
    inside: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def owns(self, entry: Path) -> bool:
        """Whether the top-level ``entry`` of an output folder may have been written by this kind of output."""
        name = entry.name
        if name == self.marker or any(fnmatch.fnmatchcase(name, p) for p in self.entries):
            return True
        return self.folders_with is not None and entry.is_dir() and (entry / self.folders_with).is_file()

    def foreign_inside(self, entry: Path) -> list[str]:
        """Entries of the owned folder ``entry`` that this kind never writes there (``shards/notes.txt``)."""
        patterns = dict(self.inside).get(entry.name)
        if patterns is None or not entry.is_dir():
            return []
        return [f"{entry.name}/{p.name}" for p in sorted(entry.iterdir())
                if not any(fnmatch.fnmatchcase(p.name, pat) for pat in patterns)]

    def with_entries(self, *patterns: str) -> OutputKind:
        """This kind, also owning ``patterns`` (side files some producers add, e.g. ``preview.png``)."""
        return OutputKind(self.what, self.marker, (*self.entries, *patterns), self.folders_with, self.inside)


def staging_path(out) -> Path:
    """Where the new output for ``out`` is built: ``.NAME.staging`` in the same parent folder."""
    out = Path(out)
    return out.parent / f".{out.name}.staging"


def _replaced_path(out: Path) -> Path:
    return out.parent / f".{out.name}.replaced"


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _recover(out: Path) -> None:
    """Finish a swap that a crash interrupted: the old output back when the new one never arrived."""
    old = _replaced_path(out)
    if not old.exists():
        return
    if out.exists():
        _remove(old)  # the swap happened; only the removal of the old output was left
    else:
        os.rename(old, out)


def _check_writable(out: Path) -> None:
    """Refuse, naming the folder, when nothing can be created where ``out`` goes (read-only, not permitted)."""
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise FileExistsError(f"--out {out}: {parent} is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{out.name}.probe-", dir=parent)
    except OSError as e:
        raise PermissionError(f"--out {out}: cannot create anything in {parent} "
                              f"({(e.strerror or str(e)).lower()}); choose a writable folder") from None
    os.rmdir(probe)


def check_out(out, kind: OutputKind, overwrite: bool) -> str:
    """Check ``--out`` for an output of ``kind`` before any work; return its state.

    Returns ``"new"`` (absent or empty), ``"unfinished"`` (only ``kind``'s entries, no marker: an interrupted
    write) or ``"finished"`` (the marker is there and ``overwrite`` is set).

    Raises:
        FileExistsError: ``out`` is a file; it holds an entry ``kind`` never writes (with or without
            ``overwrite``); it holds a finished output and ``overwrite`` is not set.
        PermissionError: nothing can be created where ``out`` goes.
    """
    out = Path(out)
    _recover(out)
    if out.is_symlink() and not out.exists():
        raise FileExistsError(f"--out {out} is a broken symbolic link")
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file, not a folder; choose a folder (new or empty)")
    entries = sorted(out.iterdir()) if out.exists() else []
    foreign = [p.name for p in entries if not kind.owns(p)]
    foreign += [name for p in entries if kind.owns(p) for name in kind.foreign_inside(p)]
    if foreign:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        raise FileExistsError(
            f"--out {out} is not empty and holds {foreign[0]!r}{more}, which is not part of a {kind.what}; "
            f"choose a new or empty folder (nothing was changed{', not even with --overwrite' if overwrite else ''})")
    _check_writable(out)
    if (out / kind.marker).exists():
        if not overwrite:
            raise FileExistsError(f"{out} already holds a finished {kind.what}; choose a new --out or pass "
                                  "--overwrite to replace it")
        return "finished"
    return "unfinished" if entries else "new"


def check_out_whole(out, kind: OutputKind, overwrite: bool) -> str:
    """:func:`check_out` for an output written all at once (:func:`staged`): there, a folder with ``kind``'s
    file names but no marker (someone's own ``index.html``) is not an interrupted write, so it is refused too,
    unless ``overwrite``."""
    state = check_out(out, kind, overwrite)
    if state == "unfinished" and not overwrite:
        raise FileExistsError(f"--out {out} holds files but no {kind.marker}, so it is not a finished {kind.what}; "
                              "choose a new or empty folder, or pass --overwrite to replace them")
    return state


def swap_in(staging, out) -> Path:
    """Make the complete output in ``staging`` the one at ``out`` (the old one, if any, is removed after)."""
    staging, out = Path(staging), Path(out)
    old = _replaced_path(out)
    _remove(old)
    if out.exists():
        os.rename(out, old)
        try:
            os.rename(staging, out)
        except BaseException:
            os.rename(old, out)
            raise
        _remove(old)
    else:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staging, out)
    return out


@contextlib.contextmanager
def staged(out, kind: OutputKind, overwrite: bool) -> Iterator[Path]:
    """Build an output of ``kind`` for ``out`` all at once: yields the (empty) staging folder to write into,
    which becomes ``out`` when the block ends without an error; on an error (or Ctrl-C) it is removed and
    ``out`` is as it was.  ``out`` is checked first (:func:`check_out_whole`)."""
    out = Path(out)
    check_out_whole(out, kind, overwrite)
    staging = staging_path(out)
    _remove(staging)  # left by an interrupted run
    staging.mkdir(parents=True)
    try:
        yield staging
    except BaseException:
        _remove(staging)
        raise
    try:
        swap_in(staging, out)
    except BaseException:
        _remove(staging)
        raise

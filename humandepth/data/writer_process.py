"""A :class:`~humandepth.data.store.DatasetWriter` in a child process, fed through shared memory.

A producer that is itself CPU-bound (RealSense playback and alignment, for instance) would spend half
its time in HDF5 chunk writing, hashing and whatever per-sample work follows it.  This class moves that
work to a second process so the two run on two cores:

    producer (this process)                    child process (forked)
    -----------------------                    -----------------------
    add(id, arrays, info) --copies arrays-->   slot k of a shared-memory ring
                          --(k, id, info)-->   make_sample(id, arrays, info) -> Sample
                                               DatasetWriter.add(sample); slot k freed
    close()               --------------->     DatasetWriter.close() -> card path

Only a slot number and the small ``info`` dict travel through a pipe; the arrays (a few MB per
frame) are copied once into the ring.  ``make_sample`` runs in the child (it may do real work, such as
computing a mask) and must copy any array it keeps, because the slot is reused.

The child is *forked* (Linux), so ``make_sample`` may be any callable, closures included, and no
module is re-imported.  Create the writer before a library starts its own threads here (before
RealSense playback starts, for example): a forked child gets only the thread that forked it.

Errors keep what is written: an exception in the child (a bad sample, a full disk) is re-raised in
the producer on its next call, naming the sample; an exception in the producer (a truncated
recording) ends the child *without* closing the dataset, so every finished shard stays and a rerun
resumes, exactly as with a plain :class:`DatasetWriter`.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import sys
import traceback
from collections.abc import Callable
from multiprocessing import resource_tracker, shared_memory
from pathlib import Path

import numpy as np

from humandepth.data.remote import is_remote
from humandepth.data.sample import Sample
from humandepth.data.store import discard_unstarted
from humandepth.errors import USER_ERRORS, UserError, message
from humandepth.outdir import staging_path

# (name, shape, dtype str) for every array of one item, in slot order
Layout = list[tuple[str, tuple[int, ...], str]]

POLL_S = 0.2  # how often a blocked producer checks that the child is still alive


def _layout_of(arrays: dict[str, np.ndarray]) -> Layout:
    return [(k, tuple(int(n) for n in np.shape(v)), np.asarray(v).dtype.str) for k, v in arrays.items()]


def _slot_nbytes(layout: Layout) -> int:
    return sum(int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize for _, shape, dt in layout)


def _slot_views(buf, layout: Layout, slot: int) -> dict[str, np.ndarray]:
    """Arrays of ``slot`` as views into the shared buffer ``buf``."""
    offset = slot * _slot_nbytes(layout)
    views = {}
    for name, shape, dt in layout:
        n = int(np.prod(shape, dtype=np.int64)) * np.dtype(dt).itemsize
        views[name] = np.ndarray(shape, dtype=dt, buffer=buf, offset=offset)
        offset += n
    return views


def _attach(name: str) -> shared_memory.SharedMemory:
    """Attach to the producer's segment without telling a resource tracker: the producer owns it and
    unlinks it.  (Python < 3.13 registers every attach, and a tracker then unlinks the segment when
    this child exits, or drops the producer's own registration.)"""
    if sys.version_info >= (3, 13):
        return shared_memory.SharedMemory(name=name, track=False)
    register = resource_tracker.register
    resource_tracker.register = lambda *args, **kwargs: None  # the child is single-threaded here
    try:
        return shared_memory.SharedMemory(name=name)
    finally:
        resource_tracker.register = register


def _child_main(writer_kwargs: dict, make_sample: Callable, jobs, free, results, parent: int) -> None:
    """The child: open the writer, turn every slot into a sample, write it; report the outcome.  It also
    ends (without a card) if the producer process disappears without a word (killed)."""
    from humandepth.data.remote import dataset_writer

    shm = None
    current = "opening the dataset"
    try:
        writer = dataset_writer(**writer_kwargs)
        layout: Layout | None = None
        while True:
            try:
                msg = jobs.get(timeout=1.0)
            except queue.Empty:
                if os.getppid() != parent:
                    return  # orphaned: finished shards stay, a rerun resumes
                continue
            kind = msg[0]
            if kind == "layout":
                _, shm_name, layout = msg
                shm = _attach(shm_name)
            elif kind == "item":
                _, slot, sid, info = msg
                current = f"sample {sid!r}"
                sample = make_sample(sid, _slot_views(shm.buf, layout, slot), info)
                writer.add(sample)
                del sample
                free.put(slot)
            elif kind == "close":
                current = "closing the dataset"
                results.put(("closed", str(writer.close())))
                return
            elif kind == "abort":  # leave finished shards for a resume; drop the partial one
                results.put(("aborted", None))
                return
    except BaseException as exc:  # reported to the producer, which raises it there
        user = message(exc) if isinstance(exc, USER_ERRORS) else None  # bad input: one line, no traceback
        results.put(("error", f"{current}: {type(exc).__name__}: {exc}", traceback.format_exc(), user, current))
    finally:
        if shm is not None:
            try:
                shm.close()
            except BufferError:  # a view still alive in a traceback; the process ends right after anyway
                pass


class BackgroundDatasetWriter:
    """Write samples through a :class:`DatasetWriter` that runs in a forked child process.

    Args:
        writer_kwargs: keyword arguments of :class:`DatasetWriter` (``root``, ``name``, ``kind``, ...); a
            ``root`` URL (``s3://...``) writes through :class:`~humandepth.data.remote.RemoteDatasetWriter`.
            The writer is also opened here once, briefly, to validate them and to read ``done_ids``
            (resume), so a wrong configuration fails before any work.
        make_sample: ``(id, arrays, info) -> Sample``, run in the child.  ``arrays`` are views into a
            reused shared-memory slot: copy what the sample keeps.
        slots: items in flight between the two processes (memory: ``slots`` x one item's bytes).

    Use as a context manager: a clean exit closes the dataset (index + card) and returns through
    :attr:`card`; an exception aborts the child and keeps the finished shards.
    """

    def __init__(self, writer_kwargs: dict, make_sample: Callable[[str, dict, dict], Sample], slots: int = 8):
        from humandepth.data.remote import dataset_writer

        if slots < 2:
            raise ValueError(f"slots must be >= 2, got {slots}")
        probe = dataset_writer(**writer_kwargs)  # validates the config and resume state here, in the parent
        self.done_ids: set[str] = set(probe.done_ids)
        self.root = str(writer_kwargs["root"])  # a directory or an object-storage URL
        del probe
        self.slots = slots
        self.card: str | None = None
        ctx = mp.get_context("fork")
        self._jobs, self._free, self._results = ctx.Queue(), ctx.Queue(), ctx.Queue()
        for k in range(slots):
            self._free.put(k)
        self._proc = ctx.Process(target=_child_main, name="humandepth-dataset-writer", daemon=True,
                                 args=(dict(writer_kwargs), make_sample, self._jobs, self._free, self._results,
                                       os.getpid()))
        self._proc.start()
        self._shm: shared_memory.SharedMemory | None = None
        self._layout: Layout | None = None
        self._closed = False

    # -- producer side ---------------------------------------------------------------------------
    def _raise_child_error(self) -> None:
        try:
            msg = self._results.get_nowait()
        except queue.Empty:
            msg = None
        if msg is not None and msg[0] == "error":
            self._closed = True
            self._raise_error(msg)
        if not self._proc.is_alive():
            self._closed = True
            raise RuntimeError(f"dataset writer process for {self.root} died (exit code {self._proc.exitcode}); "
                               f"finished shards are kept, rerun to resume")

    def _raise_error(self, msg: tuple) -> None:
        """Raise the child's error here: bad input (a ``ValueError``, ``OSError`` ...) as one line naming the
        sample, anything else with the child's traceback."""
        _, where, trace, user, current = msg
        if user is not None:
            raise UserError(f"dataset {self.root}: {current}: {user}")
        raise RuntimeError(f"dataset writer for {self.root} failed at {where}\n{trace}")

    def _free_slot(self) -> int:
        while True:
            try:
                return self._free.get(timeout=POLL_S)
            except queue.Empty:
                self._raise_child_error()

    def add(self, sid: str, arrays: dict[str, np.ndarray], info: dict | None = None) -> None:
        """Queue one item: ``arrays`` (every call the same names, shapes and dtypes) are copied into a
        free slot (blocking while all are in use) and ``info`` (small, picklable) is sent as is."""
        if self._closed:
            raise RuntimeError(f"dataset writer for {self.root} is closed")
        if self._layout is None:
            self._layout = _layout_of(arrays)
            self._shm = shared_memory.SharedMemory(create=True, size=max(1, self.slots * _slot_nbytes(self._layout)))
            self._jobs.put(("layout", self._shm.name, self._layout))
        elif _layout_of(arrays) != self._layout:
            raise ValueError(f"item {sid!r}: arrays {_layout_of(arrays)} differ from the first item's {self._layout}")
        slot = self._free_slot()
        for name, view in _slot_views(self._shm.buf, self._layout, slot).items():
            np.copyto(view, arrays[name], casting="no")
        self._jobs.put(("item", slot, sid, info or {}))

    def close(self) -> str:
        """Finish: the child writes the last shard, the index and the card.  Returns the card's path or URL."""
        if self._closed:
            if self.card is None:
                raise RuntimeError(f"dataset writer for {self.root} was aborted")
            return self.card
        self._jobs.put(("close",))
        try:
            while True:
                try:
                    msg = self._results.get(timeout=POLL_S)
                    break
                except queue.Empty:
                    if not self._proc.is_alive():
                        self._raise_child_error()
            if msg[0] == "error":
                self._raise_error(msg)
            self.card = msg[1]
            return self.card
        finally:
            self._closed = True
            self._shutdown()

    def abort(self) -> None:
        """Stop the child without closing the dataset (finished shards stay; a rerun resumes; a write that
        finished no shard leaves nothing behind)."""
        if not self._closed:
            self._closed = True
            if self._proc.is_alive():
                self._jobs.put(("abort",))
        self._shutdown()
        if not is_remote(self.root):
            for folder in (Path(self.root), staging_path(self.root)):
                discard_unstarted(folder)

    def _shutdown(self) -> None:
        self._proc.join(timeout=30)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()
        if self._shm is not None:
            self._shm.close()
            self._shm.unlink()
            self._shm = None

    def __enter__(self) -> BackgroundDatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

"""Datasets in object storage (``s3://bucket/path``, or any fsspec URL): a staged writer and a cached reader.

Writing (:class:`RemoteDatasetWriter`, a drop-in for :class:`~humandepth.data.store.DatasetWriter`)::

    local staging directory                          URL
    -----------------------                          ---
    DatasetWriter(staging).add(...) -> shard-00000.h5  --put as soon as it is renamed-->  shards/shard-00000.h5
    ...                                                                                _progress.json (at start)
    close(): index.csv, dataset.json (the local card)  --put index, then the card last--> index.csv, dataset.json

The card is computed by ``DatasetWriter.close()`` over the staged shards, so it is the card of a local write of
the same samples (only ``created_utc`` differs).  A dataset at a URL is complete when its ``dataset.json``
exists: the card is uploaded last.  An object store creates an object only when its upload completes, so a
shard at the URL is always whole.  Resume: a restarted writer reads the URL's ``_progress.json`` (the
configuration it was started with, checked as a local resume checks it) and its shards, fetches the shards
that its staging directory lacks (the card needs every shard's ids and sha256), uploads a staged shard that a
killed job finished but did not upload, and reports their ids in ``done_ids``: a killed job loses at most
the shard in progress.

Reading (:func:`open_remote`, used by :func:`humandepth.data.open_dataset` for a URL): the card is read from
the URL; every shard and the index are downloaded once into a mirror directory under ``$HUMANDEPTH_CACHE``
(default ``~/.cache/humandepth``), each checked against the sha256 the card records before it is renamed into
place, and the result is a plain :class:`~humandepth.data.store.HumanDepthDataset` over the mirror.

Credentials and endpoint come from the standard environment: for ``s3://``, botocore's chain
(``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE``,
``AWS_DEFAULT_REGION``, ``~/.aws``, instance roles) and ``HUMANDEPTH_S3_ENDPOINT`` (an S3-compatible server such
as MinIO or Ceph; botocore's own ``AWS_ENDPOINT_URL_S3`` works too); for every protocol, fsspec's configuration
(``FSSPEC_<PROTOCOL>_<OPTION>`` variables or ``~/.config/fsspec/*.json``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from pathlib import Path

from humandepth.data.store import CARD_NAME, INDEX_NAME, PROGRESS_NAME, SHARD_DIR, HumanDepthDataset, sha256_file

CACHE_ENV = "HUMANDEPTH_CACHE"
ENDPOINT_ENV = "HUMANDEPTH_S3_ENDPOINT"
_LOCAL_PROTOCOLS = ("file", "local")
_VERIFIED = ".verified.json"  # in a mirror: {relative path: [sha256, size, mtime_ns]} of files already checked


def is_remote(path_or_url) -> bool:
    """True for a URL with a protocol other than ``file://`` (``s3://b/p``, ``gs://b/p``, ``memory://p``)."""
    from fsspec.core import split_protocol

    if isinstance(path_or_url, os.PathLike):
        return False
    text = str(path_or_url)
    if "://" not in text:
        return False
    protocol, _ = split_protocol(text)
    return protocol is not None and protocol not in _LOCAL_PROTOCOLS


def cache_root() -> Path:
    """``$HUMANDEPTH_CACHE`` or ``~/.cache/humandepth``: remote mirrors and write staging live below it."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "humandepth").expanduser()


def storage_options(url: str) -> dict:
    """fsspec options for ``url`` from the environment: ``HUMANDEPTH_S3_ENDPOINT`` for ``s3://`` URLs.

    Everything else (keys, region, profile) is left to the protocol's own configuration chain."""
    from fsspec.core import split_protocol

    protocol, _ = split_protocol(url)
    opts: dict = {}
    endpoint = os.environ.get(ENDPOINT_ENV)
    if protocol in ("s3", "s3a") and endpoint:
        opts["endpoint_url"] = endpoint
    return opts


def remote_fs(url: str):
    """``(filesystem, path)`` of ``url`` (path without the protocol, no trailing slash)."""
    from fsspec.core import url_to_fs

    try:
        fs, path = url_to_fs(url, **storage_options(url))
    except (ImportError, ValueError) as e:
        raise ValueError(f"{url}: no filesystem for this URL ({e}); s3:// needs s3fs") from None
    return fs, path.rstrip("/")


@contextlib.contextmanager
def remote_errors(url: str, action: str):
    """Re-raise storage errors as FileNotFoundError / PermissionError / OSError naming ``url`` and ``action``."""
    try:
        yield
    except FileNotFoundError as e:
        raise FileNotFoundError(f"{url}: {action}: not found; does the bucket exist? ({e})") from None
    except PermissionError as e:
        raise PermissionError(f"{url}: {action}: access denied; check the credentials (AWS_ACCESS_KEY_ID / "
                              f"AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and {ENDPOINT_ENV} ({e})") from None
    except (ValueError, TypeError, KeyError):
        raise
    except Exception as e:  # botocore / aiohttp connection errors are not all OSErrors
        raise OSError(f"{url}: {action} failed: {type(e).__name__}: {e}") from None


def _url_key(url: str) -> str:
    """A directory name for ``url`` (and the endpoint it resolves to): readable tail + short hash."""
    ident = f"{url.rstrip('/')}|{os.environ.get(ENDPOINT_ENV, '')}"
    tail = "".join(c if c.isalnum() or c in "-_." else "_" for c in url.rstrip("/").rsplit("/", 1)[-1])[:40]
    return f"{tail}-{hashlib.sha256(ident.encode()).hexdigest()[:16]}"


def _json_or_none(data: bytes):
    try:
        return json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def _join(path: str, *parts: str) -> str:
    return "/".join([path, *parts])


class RemoteDatasetWriter:
    """A :class:`~humandepth.data.store.DatasetWriter` whose dataset lives at ``url`` (see the module docstring).

    Args:
        url: ``s3://bucket/prefix`` (any fsspec URL with a protocol).
        *args, **kwargs: as :class:`DatasetWriter` after ``root`` (``name``, ``kind``, ``shard_size``,
            ``generator``, ``license``, ``description``, ``base_detail_filter``, ``compression``).
        overwrite: remove a finished dataset at ``url`` (and the staging directory) first.
        staging: local directory that holds the shards until :meth:`close` (default
            ``$HUMANDEPTH_CACHE/staging/<name>-<hash of the URL>``); it needs room for the whole dataset.
        keep_staging: keep the staging directory after a successful close (default: removed).

    ``add(sample)``, ``done_ids``, ``close()`` and the context manager behave as DatasetWriter's; each shard is
    uploaded right after it is written.  Errors of the storage name the URL.
    """

    def __init__(self, url: str, *args, overwrite: bool = False, staging=None, keep_staging: bool = False,
                 **kwargs):
        from humandepth.data.store import DatasetWriter

        self.url = str(url).rstrip("/")
        self.root = self.url
        self.fs, self.path = remote_fs(self.url)
        self.staging = Path(staging) if staging else cache_root() / "staging" / _url_key(self.url)
        self.keep_staging = keep_staging
        with remote_errors(self.url, "checking for an existing dataset"):
            self.fs.invalidate_cache(self.path)
            finished = self.fs.exists(_join(self.path, CARD_NAME))
        if finished:
            if not overwrite:
                raise FileExistsError(f"{self.url} already holds a finished dataset (overwrite=True / --overwrite "
                                      f"replaces it)")
            self._remove_remote()
            self._clear_staging()
        progress, remote_shards = self._remote_state()
        if progress is None and not remote_shards:
            self._clear_staging()  # nothing started at the URL: a stale staging copy
        self._sync_staging(progress, remote_shards)
        try:
            # side files "*": a staging folder the caller gave may hold its own files (never touched)
            kwargs["side_files"] = ("*",)
            self._writer = DatasetWriter(self.staging, *args, overwrite=False, **kwargs)
        except ValueError as e:
            raise ValueError(f"{self.url}: {e}") from None
        if progress is None:
            with remote_errors(self.url, f"writing {PROGRESS_NAME}"):
                self.fs.put_file(str(self.staging / PROGRESS_NAME), _join(self.path, PROGRESS_NAME))
        self._uploaded = set(remote_shards)
        self._seen = -1
        self.uploaded_now: list[str] = []  # shards uploaded by this writer (names), in order
        self._upload_new()

    def _clear_staging(self) -> None:
        """Remove what this writer keeps in its staging directory (the shards, index, card and progress file), and
        the directory once empty; anything else there (a directory the caller passed) is left alone."""
        shutil.rmtree(self.staging / SHARD_DIR, ignore_errors=True)
        for name in (INDEX_NAME, CARD_NAME, PROGRESS_NAME):
            (self.staging / name).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.staging.rmdir()

    # -- the URL's state ---------------------------------------------------------------------------------
    def _remote_state(self) -> tuple[bytes | None, dict[str, int]]:
        """(the URL's progress file or None, {shard name: size} of its finished shards)."""
        progress = None
        with remote_errors(self.url, f"reading {PROGRESS_NAME}"):
            if self.fs.exists(_join(self.path, PROGRESS_NAME)):
                progress = self.fs.cat_file(_join(self.path, PROGRESS_NAME))
        shards: dict[str, int] = {}
        with remote_errors(self.url, "listing the shards"):
            try:
                entries = self.fs.ls(_join(self.path, SHARD_DIR), detail=True)
            except FileNotFoundError:
                entries = []
        for e in entries:
            name = e["name"].rsplit("/", 1)[-1]
            if name.startswith("shard-") and name.endswith(".h5") and e.get("type") != "directory":
                shards[name] = int(e["size"])
        return progress, shards

    def _sync_staging(self, progress: bytes | None, remote_shards: dict[str, int]) -> None:
        """Make the staging directory hold the URL's progress file and every shard it has finished."""
        shard_dir = self.staging / SHARD_DIR
        shard_dir.mkdir(parents=True, exist_ok=True)
        for stale in (CARD_NAME, INDEX_NAME):  # a local close whose upload did not finish: recomputed at close
            (self.staging / stale).unlink(missing_ok=True)
        if progress is not None:
            local_progress = self.staging / PROGRESS_NAME
            if local_progress.is_file() and _json_or_none(local_progress.read_bytes()) != _json_or_none(progress):
                for stale in shard_dir.glob("shard-*.h5"):  # staged by a run of another configuration
                    if stale.name not in remote_shards:
                        stale.unlink()
            local_progress.write_bytes(progress)
        fetch = []
        for name, size in sorted(remote_shards.items()):
            local = shard_dir / name
            if not local.is_file() or local.stat().st_size != size:
                local.unlink(missing_ok=True)
                fetch.append(name)
        if fetch:
            tmp = [str(shard_dir / f".{n}.download") for n in fetch]
            with remote_errors(self.url, f"fetching {len(fetch)} finished shard(s) to resume"):
                self.fs.get([_join(self.path, SHARD_DIR, n) for n in fetch], tmp)
            for n, t in zip(fetch, tmp, strict=True):
                os.replace(t, shard_dir / n)

    def _remove_remote(self) -> None:
        names = [CARD_NAME, INDEX_NAME, PROGRESS_NAME]
        with remote_errors(self.url, "removing the finished dataset (overwrite)"):
            for n in names:
                if self.fs.exists(_join(self.path, n)):
                    self.fs.rm_file(_join(self.path, n))
            if self.fs.exists(_join(self.path, SHARD_DIR)):
                self.fs.rm(_join(self.path, SHARD_DIR), recursive=True)
            self.fs.invalidate_cache(self.path)

    # -- uploads -------------------------------------------------------------------------------------------
    def _upload_new(self) -> None:
        """Upload every finished staged shard the URL does not have yet (after each shard the writer finishes)."""
        done = len(self._writer.done_ids)
        if done == self._seen:
            return
        self._seen = done
        for local in sorted((self.staging / SHARD_DIR).glob("shard-*.h5")):
            if local.name in self._uploaded:
                continue
            with remote_errors(self.url, f"uploading {SHARD_DIR}/{local.name}"):
                self.fs.put_file(str(local), _join(self.path, SHARD_DIR, local.name))
            self._uploaded.add(local.name)
            self.uploaded_now.append(local.name)

    def upload_finished(self) -> list[str]:
        """Upload every finished shard in staging that the URL lacks, also those written there by other local
        processes (:meth:`shard_path`); returns their names. :meth:`add` and :meth:`close` call it."""
        n = len(self.uploaded_now)
        self._seen = -1
        self._upload_new()
        return self.uploaded_now[n:]

    def _fetch_missing(self) -> None:
        """Fetch shards that other workers uploaded to the URL (:func:`upload_shard`) and that neither staging
        nor an adopted record (:meth:`adopt_shard`) covers."""
        with remote_errors(self.url, "listing the shards"):
            self.fs.invalidate_cache(self.path)
        _, remote = self._remote_state()
        staged = {p.name for p in (self.staging / SHARD_DIR).glob("shard-*.h5")} | self._writer.adopted
        extra = {k: v for k, v in remote.items() if k not in staged}  # uploaded by workers that sent no record
        if extra:
            self._sync_staging(None, extra)
            self._uploaded.update(extra)

    # -- the DatasetWriter interface -----------------------------------------------------------------------
    def finished_shards(self) -> dict[int, list[str]]:
        """``{shard number: ids}`` of the finished shards (staged; the URL's are staged at start and close)."""
        return self._writer.finished_shards()

    def shard_path(self, number: int) -> Path:
        """The staging path of shard ``number``: a process on this machine may write it there (uploaded by
        :meth:`upload_finished` or at :meth:`close`)."""
        return self._writer.shard_path(number)

    def adopt_shard(self, number: int, record: dict) -> None:
        """Count shard ``number``, which a worker uploaded to :meth:`shard_url`, from its
        :func:`~humandepth.data.store.shard_record`: :meth:`close` then indexes it without downloading it."""
        self._writer.adopt_shard(number, record)
        self._uploaded.add(self.shard_url(number).rsplit("/", 1)[-1])

    def shard_url(self, number: int) -> str:
        """The URL of shard ``number``: a worker on another machine uploads its shard there (:func:`upload_shard`)."""
        return _join(self.url, SHARD_DIR, self.shard_path(number).name)

    @property
    def done_ids(self) -> set[str]:
        """Ids in finished shards (uploaded, or staged and about to be): a caller skips them when resuming."""
        return self._writer.done_ids

    @property
    def config(self) -> dict:
        return self._writer.config

    def add(self, sample) -> None:
        """Queue one sample; a full shard is written to staging and uploaded immediately."""
        self._writer.add(sample)
        self._upload_new()

    def close(self) -> str:
        """Write and upload the last shard, then the index, then the card; returns the card's URL.

        Shards that other workers uploaded to the URL meanwhile are fetched first: the card covers every shard."""
        self._fetch_missing()
        self._writer.close()
        self.upload_finished()
        with remote_errors(self.url, "uploading the index and the card"):
            self.fs.put_file(str(self.staging / INDEX_NAME), _join(self.path, INDEX_NAME))
            self.fs.put_file(str(self.staging / CARD_NAME), _join(self.path, CARD_NAME))
            if self.fs.exists(_join(self.path, PROGRESS_NAME)):
                self.fs.rm_file(_join(self.path, PROGRESS_NAME))
            self.fs.invalidate_cache(self.path)
        if not self.keep_staging:
            self._clear_staging()
        return _join(self.url, CARD_NAME)

    def __enter__(self) -> RemoteDatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        # on error: every finished shard is uploaded already; a rerun resumes from the URL


def upload_file(local_path, url: str) -> str:
    """Upload one local file to ``url`` (e.g. a mesh or report beside a dataset; upload it before the card)."""
    fs, path = remote_fs(url)
    with remote_errors(url, f"uploading {local_path}"):
        fs.put_file(str(local_path), path)
    return url


def upload_shard(local_path, url: str) -> str:
    """Upload a finished shard file (e.g. from :func:`humandepth.data.store.write_shard` on a worker) to ``url``
    (:meth:`RemoteDatasetWriter.shard_url`).  An object store makes the object visible only once complete."""
    return upload_file(local_path, url)


def dataset_writer(root, *args, **kwargs):
    """:class:`RemoteDatasetWriter` for a URL, :class:`DatasetWriter` for a local path (same arguments).

    ``staging`` / ``keep_staging`` apply to URLs only and are dropped for a local path."""
    if is_remote(root):
        return RemoteDatasetWriter(str(root), *args, **kwargs)
    from humandepth.data.store import DatasetWriter

    kwargs.pop("staging", None)
    kwargs.pop("keep_staging", None)
    return DatasetWriter(root, *args, **kwargs)


def _verified(mirror: Path) -> dict:
    try:
        return json.loads((mirror / _VERIFIED).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _is_verified(mirror: Path, rel: str, sha: str, record: dict) -> bool:
    path = mirror / rel
    if not path.is_file():
        return False
    st = path.stat()
    return record.get(rel) == [sha, st.st_size, st.st_mtime_ns]


def open_remote(url: str, cache=None) -> HumanDepthDataset:
    """A :class:`HumanDepthDataset` over a local, sha256-checked mirror of the dataset at ``url``.

    Files already in the mirror with the card's sha256 are not downloaded again; a file whose download does not
    match the card is refused (OSError naming the URL and the file).  ``cache``: the mirror directory (default
    ``$HUMANDEPTH_CACHE/remote/<name>-<hash of the URL>``).  The dataset's ``url`` attribute is the URL."""
    url = str(url).rstrip("/")
    fs, path = remote_fs(url)
    card_bytes = None
    with remote_errors(url, f"reading {CARD_NAME}"):
        fs.invalidate_cache(path)
        try:
            card_bytes = fs.cat_file(_join(path, CARD_NAME))
        except FileNotFoundError:
            bucket = path.split("/", 1)[0]
            if bucket != path and not fs.exists(bucket):
                raise FileNotFoundError(f"bucket {bucket!r} does not exist (or is not visible with these "
                                        f"credentials)") from None
            unfinished = fs.exists(_join(path, PROGRESS_NAME))
    if card_bytes is None:
        hint = " (an unfinished write: rerun the command that makes it)" if unfinished else ""
        raise FileNotFoundError(f"{url} is not a humandepth dataset: {CARD_NAME} is missing{hint}")
    try:
        card = json.loads(card_bytes)
        wanted = [(s["file"], s["sha256"]) for s in card["shards"]]
        wanted.append((card.get("index", INDEX_NAME), card["index_sha256"]))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{url}/{CARD_NAME} is not a humandepth card ({e})") from None
    for rel, _ in wanted:  # the card names files inside the dataset; nothing may land outside the mirror
        parts = Path(str(rel)).parts
        if not parts or Path(str(rel)).is_absolute() or ".." in parts:
            raise ValueError(f"{url}/{CARD_NAME} lists the file {rel!r}, which is not a path inside the dataset")
    mirror = Path(cache) if cache else cache_root() / "remote" / _url_key(url)
    mirror.mkdir(parents=True, exist_ok=True)
    record = _verified(mirror)
    missing = [(rel, sha) for rel, sha in wanted if not _is_verified(mirror, rel, sha, record)]
    if missing:
        tag = f".{os.getpid()}.download"
        tmp = [mirror / f"{rel}{tag}" for rel, _ in missing]
        for t in tmp:
            t.parent.mkdir(parents=True, exist_ok=True)
        try:
            with remote_errors(url, f"downloading {len(missing)} file(s) into the cache {mirror}"):
                fs.get([_join(path, rel) for rel, _ in missing], [str(t) for t in tmp])
            for (rel, sha), t in zip(missing, tmp, strict=True):
                digest = sha256_file(t)
                if digest != sha:
                    raise OSError(f"{url}/{rel}: downloaded sha256 {digest[:12]}... does not match the card's "
                                  f"{sha[:12]}...; the remote dataset is damaged or being rewritten")
                os.replace(t, mirror / rel)
                st = (mirror / rel).stat()
                record[rel] = [sha, st.st_size, st.st_mtime_ns]
        finally:  # what was checked stays recorded; no half-downloaded temporary is left behind
            for t in tmp:
                t.unlink(missing_ok=True)
            tmp_rec = mirror / f"{_VERIFIED}.{os.getpid()}"
            tmp_rec.write_text(json.dumps(record, indent=0, sort_keys=True))
            os.replace(tmp_rec, mirror / _VERIFIED)
    if not (mirror / CARD_NAME).is_file() or (mirror / CARD_NAME).read_bytes() != card_bytes:
        tmp_card = mirror / f".{CARD_NAME}.{os.getpid()}"
        tmp_card.write_bytes(card_bytes)
        os.replace(tmp_card, mirror / CARD_NAME)  # last: the mirror is a dataset once every file is in place
    ds = HumanDepthDataset(mirror)
    ds.url = url
    return ds


__all__ = ["RemoteDatasetWriter", "cache_root", "dataset_writer", "is_remote", "open_remote", "remote_errors",
           "remote_fs", "storage_options", "upload_file", "upload_shard"]

"""Downloads: first a plan (a value the CLI, `--dry-run` and the UI show), then its execution.

Each partition is fetched by one idempotent, atomic operation, so parallelism is a map over a
bounded worker pool:

1. take the partition's lock (another process holding it is fetching it: come back later);
2. continue `DATA_DIR/<dataset>/<subset>/.<file>.part` from the bytes already there with an HTTP
   range request (the Hub client does not resume across processes, so the byte transfer is ours;
   the client still gives URLs, headers, auth and error types), hashing while writing;
3. verify size and sha256 (Hub LFS files) or git blob id (small files);
4. rename into place, then write the partition's record (with rows from the parquet footer).

A file without its record, or a `.part` file, is never counted as downloaded. 5xx, 429
(`Retry-After` honoured), dropped connections and short bodies are retried with backoff and
resumed; a body that fails its hash is discarded and fetched again. Downloads always fetch the
commit the last sync recorded, never a moving branch. The token goes only to the Hub's own
origin: redirects to another origin (LFS storage) are followed without it.
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urljoin, urlsplit

from .digest import mismatch, parquet_rows
from .errors import AccessDenied, DownloadError, InsufficientSpace, PygestorError, SourceError
from .store import Record, Store, utc_now

if TYPE_CHECKING:
    from .api import Catalog, Selection
    from .sources.base import RemoteFile

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8
RETRIES = 6
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 120.0
MAX_REDIRECTS = 5


class _Retry(Exception):
    """A transient failure: retry after `delay` seconds (None: exponential backoff)."""

    def __init__(self, cause: str, delay: float | None = None) -> None:
        super().__init__(cause)
        self.delay = delay


# ---- progress ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressEvent:
    """What changed: `kind` is "bytes" (`delta` bytes arrived), "done", "skipped", "retry" or "failed"."""

    kind: str
    partition: str  # "subset/partition"
    delta: int
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    message: str = ""


ProgressCallback = Callable[[ProgressEvent], None]


class _Progress:
    """Thread-safe counters that call the user's callback (if any) with consistent snapshots."""

    def __init__(self, callback: ProgressCallback | None, bytes_total: int, files_total: int) -> None:
        self.callback = callback
        self.bytes_done = 0
        self.files_done = 0
        self.bytes_total = bytes_total
        self.files_total = files_total
        self._lock = threading.Lock()

    def emit(self, kind: str, partition: str, delta: int = 0, message: str = "") -> None:
        with self._lock:
            self.bytes_done += delta
            if kind in ("done", "skipped", "failed"):
                self.files_done += 1
            if self.callback is not None:
                self.callback(ProgressEvent(kind, partition, delta, self.bytes_done, self.bytes_total,
                                            self.files_done, self.files_total, message))


# ---- the plan ------------------------------------------------------------------------------
class Transport(Protocol):
    """What a source provides for fetching one file's bytes at one commit."""

    def file_request(self, path: str, commit: str | None) -> tuple[str, dict[str, str]]:
        """(URL, headers) of the file; headers may carry the token, for the source's own origin only."""
        ...

    def translate(self, exc: Exception) -> PygestorError | None:
        """A one-line pygestor error for a client exception, or None if it is not the client's."""
        ...


@dataclass(frozen=True)
class FetchItem:
    """One partition a download will fetch (or found already local)."""

    subset: str
    partition: str
    file: RemoteFile
    target: Path
    partial_bytes: int = 0  # bytes of an interrupted earlier download, to be resumed

    @property
    def key(self) -> str:
        return f"{self.subset}/{self.partition}"

    @property
    def remaining(self) -> int:
        return max(self.file.size - self.partial_bytes, 0)

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.subset, "partition": self.partition, "path": self.file.path,
                "size": self.file.size, "partial_bytes": self.partial_bytes}


@dataclass(frozen=True)
class DownloadPlan:
    """What a download will do: fetch `fetch`, leave `local` (already there) alone."""

    dataset: str
    commit: str | None
    fetch: tuple[FetchItem, ...]
    local: tuple[FetchItem, ...]
    stale: tuple[FetchItem, ...] = ()  # changed upstream, kept as they are (refetched with update=True)
    store: Store | None = field(default=None, repr=False, compare=False)
    transport: Transport | None = field(default=None, repr=False, compare=False)

    @property
    def bytes_to_fetch(self) -> int:
        return sum(item.remaining for item in self.fetch)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "commit": self.commit,
            "partitions_to_fetch": len(self.fetch), "bytes_to_fetch": self.bytes_to_fetch,
            "partitions_local": len(self.local), "bytes_local": sum(i.file.size for i in self.local),
            "partitions_stale": len(self.stale),
            "fetch": [i.to_json() for i in self.fetch], "stale": [i.to_json() for i in self.stale],
        }

    def execute(self, *, workers: int | None = None, progress: ProgressCallback | None = None,
                retries: int = RETRIES) -> DownloadReport:
        """Fetch everything in `fetch` with a bounded worker pool; raise DownloadError naming the
        partitions that still failed after `retries` attempts (the others are kept)."""
        if not self.fetch:
            return DownloadReport(self.dataset, (), tuple(i.key for i in self.local), 0, 0.0)
        if self.store is None or self.transport is None:
            raise PygestorError("this plan was made without a source; make it with Catalog.plan_download")
        check_free_space(self.store.data_dir, self.bytes_to_fetch)
        runner = _Runner(self, self.store, self.transport, retries,
                         _Progress(progress, sum(i.file.size for i in self.fetch), len(self.fetch)))
        return runner.run(max(1, min(workers or DEFAULT_WORKERS, len(self.fetch))))


@dataclass(frozen=True)
class DownloadReport:
    dataset: str
    fetched: tuple[str, ...]  # "subset/partition" fetched by this run
    skipped: tuple[str, ...]  # already local, or fetched meanwhile by another process
    bytes_fetched: int  # bytes that came over the network in this run
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "fetched": list(self.fetched), "skipped": list(self.skipped),
                "bytes_fetched": self.bytes_fetched, "seconds": round(self.seconds, 3)}


def plan_download(catalog: Catalog, selection: Selection, *, update: bool = False) -> DownloadPlan:
    """The plan for a selection: remote and partial partitions to fetch (stale ones too with
    `update`); local ones are left alone. Local-folder sources are read in place: nothing to fetch."""
    store = catalog.store
    fetch, local, stale = [], [], []
    for sel in selection.items:
        item = FetchItem(sel.subset, sel.partition.name, sel.partition.file, sel.path)
        if sel.state == "local" or selection.in_place:
            local.append(item)
        elif sel.state == "stale" and not update:
            stale.append(item)
        elif sel.state in ("remote", "partial", "stale"):
            partial = store.partial_path(selection.dataset, sel.subset, sel.partition.name)
            size = partial.stat().st_size if partial.exists() else 0
            fetch.append(FetchItem(sel.subset, sel.partition.name, sel.partition.file, sel.path, size))
    transport = None
    if fetch:
        from .sources import open_source

        transport = open_source(selection.manifest.source, catalog.settings)
    return DownloadPlan(selection.dataset, selection.listing.commit, tuple(fetch), tuple(local), tuple(stale),
                        store, transport)  # type: ignore[arg-type]


def check_free_space(data_dir: Path, needed: int) -> None:
    """Raise InsufficientSpace, before anything starts, when `needed` bytes cannot fit."""
    probe = data_dir
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if needed > free:
        raise InsufficientSpace(needed, free, str(probe))


# ---- execution -----------------------------------------------------------------------------
class _Runner:
    def __init__(self, plan: DownloadPlan, store: Store, transport: Transport, retries: int,
                 progress: _Progress) -> None:
        self.plan, self.store, self.transport, self.retries, self.progress = plan, store, transport, retries, progress
        self.fetched: list[str] = []
        self.skipped: list[str] = []
        self.failures: dict[str, str] = {}
        self.network_bytes = 0
        self._lock = threading.Lock()

    def run(self, workers: int) -> DownloadReport:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pygestor-fetch") as pool:
            deferred = [item for item, busy in zip(self.plan.fetch, pool.map(self._try_item, self.plan.fetch),
                                                   strict=True) if busy]
            list(pool.map(self._wait_item, deferred))  # held by other processes: wait, then check
        report = DownloadReport(self.plan.dataset, tuple(self.fetched), tuple(self.skipped),
                                self.network_bytes, time.monotonic() - start)
        if self.failures:
            raise DownloadError(self.plan.dataset, self.failures)
        return report

    def _try_item(self, item: FetchItem) -> bool:
        """Fetch `item` unless another process holds its lock; True when it was busy."""
        return self._with_lock(item, timeout=0)

    def _wait_item(self, item: FetchItem) -> None:
        self._with_lock(item, timeout=self.store.lock_timeout)

    def _with_lock(self, item: FetchItem, timeout: float) -> bool:
        import filelock

        path = self.store.partition_lock_path(self.plan.dataset, item.subset, item.partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with filelock.FileLock(str(path), timeout=timeout):
                self._fetch_once(item)
        except filelock.Timeout:
            if timeout == 0:
                return True
            self._fail(item, f"another process held its lock for over {timeout:.0f} s")
        return False

    def _fetch_once(self, item: FetchItem) -> None:
        try:
            if self._already_done(item):
                with self._lock:
                    self.skipped.append(item.key)
                self.progress.emit("skipped", item.key, item.file.size)
                return
            rows = _Transfer(self, item).run()
            self._record(item, rows)
        except PygestorError as exc:
            self._fail(item, str(exc))
            return
        with self._lock:
            self.fetched.append(item.key)
        self.progress.emit("done", item.key)

    def _already_done(self, item: FetchItem) -> bool:
        """True when the target is in place and verified: recorded by another process meanwhile,
        or renamed into place by a run killed before it wrote the record (verified again here)."""
        record = self.store.record(self.plan.dataset, item.subset, item.partition)
        if not item.target.exists() or item.target.stat().st_size != item.file.size:
            return False
        if record is not None and record.matches(item.file):
            return True
        if mismatch(item.target, item.file) is None:
            self._record(item, parquet_rows(item.target))
            return True
        return False

    def _record(self, item: FetchItem, rows: int | None) -> None:
        f = item.file
        self.store.put_record(self.plan.dataset, item.subset, item.partition, Record(
            path=f.path, size=f.size, sha256=f.sha256, blob_id=f.blob_id, mtime=f.mtime,
            commit=self.plan.commit, rows=rows, downloaded_at=utc_now(),
        ))

    def _fail(self, item: FetchItem, cause: str) -> None:
        with self._lock:
            self.failures[item.key] = cause
        self.progress.emit("failed", item.key, message=cause)

    def add_network_bytes(self, n: int) -> None:
        with self._lock:
            self.network_bytes += n


class _Transfer:
    """One partition's bytes: resume, retry, verify, rename. Returns the row count (parquet) or None."""

    def __init__(self, runner: _Runner, item: FetchItem) -> None:
        self.runner, self.item = runner, item
        self.store = runner.store
        self.partial = self.store.partial_path(runner.plan.dataset, item.subset, item.partition)

    def run(self) -> int | None:
        attempt = 0
        while True:
            try:
                self._download()
                wrong = mismatch(self.partial, self.item.file)
                if wrong is None:
                    break
                self.partial.unlink(missing_ok=True)
                raise _Retry(f"downloaded bytes do not match the expected {wrong}; fetching again")
            except _Retry as retry:
                attempt += 1
                if attempt > self.runner.retries:
                    raise SourceError(f"{retry} (gave up after {self.runner.retries} retries)") from None
                delay = retry.delay if retry.delay is not None else _backoff(attempt)
                log.info("%s: %s; retrying in %.1f s", self.item.key, retry, delay)
                self.runner.progress.emit("retry", self.item.key, message=str(retry))
                time.sleep(delay)
        return self._finish()

    def _download(self) -> None:
        """Bring the partial file to full size (or raise _Retry)."""
        size = self.item.file.size
        offset = self.partial.stat().st_size if self.partial.exists() else 0
        if offset > size:
            self.partial.unlink()
            offset = 0
        if offset == size:
            return
        self.store.make_dirs(self.partial.parent)
        url, headers = self.runner.transport.file_request(self.item.file.path, self.runner.plan.commit)
        if offset:
            headers = {**headers, "Range": f"bytes={offset}-"}
        with self._open(url, headers) as response:
            if offset and response.status_code == 200:  # the server ignored the range: start over
                offset = 0
            self._write_body(response, offset)

    @contextlib.contextmanager
    def _open(self, url: str, headers: dict[str, str]) -> Iterator[Any]:
        """GET `url`, following redirects by hand so the token never leaves the first origin."""
        import httpx2
        from huggingface_hub.utils import get_session

        client = get_session()
        origin = _origin(url)
        for _ in range(MAX_REDIRECTS + 1):
            try:
                with client.stream("GET", url, headers=headers, follow_redirects=False,
                                   timeout=httpx2.Timeout(30.0, read=60.0)) as response:
                    if response.is_redirect:
                        response.read()  # drain the (tiny) body so the connection is reused
                        url = urljoin(url, response.headers["location"])
                        if _origin(url) != origin:
                            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
                        continue
                    self._check_status(response)
                    yield response
                    return
            except httpx2.TransportError as exc:
                raise _Retry(f"connection problem: {exc.__class__.__name__}: {exc}".rstrip(": ")) from None
        raise SourceError(f"more than {MAX_REDIRECTS} redirects for {self.item.file.path}")

    def _check_status(self, response: Any) -> None:
        status = response.status_code
        if status in (200, 206):
            return
        if status == 429:
            raise _Retry("the server is rate limiting (429)", _retry_after(response.headers.get("retry-after")))
        if status >= 500 or status == 408:
            raise _Retry(f"the server answered {status}")
        response.read()
        raise self._error(response)

    def _error(self, response: Any) -> PygestorError:
        from huggingface_hub.utils import hf_raise_for_status

        try:
            hf_raise_for_status(response)
        except Exception as exc:  # noqa: BLE001 (the client raises its typed errors: gated, not found, ...)
            translated = self.runner.transport.translate(exc)
            if translated is not None:
                if response.status_code == 404 and not isinstance(translated, AccessDenied):
                    return SourceError(f"{self.item.file.path} is missing upstream at commit "
                                       f"{self.runner.plan.commit}; run 'pygestor sync {self.runner.plan.dataset}'")
                return translated
        return SourceError(f"the server answered {response.status_code} for {self.item.file.path}")

    def _write_body(self, response: Any, offset: int) -> None:
        import httpx2

        if offset and response.status_code == 206:
            start = _content_range_start(response.headers.get("content-range"))
            if start != offset:
                raise _Retry(f"the server resumed at byte {start}, not {offset}")
        mode = "ab" if offset else "wb"
        received = 0
        try:
            with open(self.partial, mode) as fh:
                for chunk in response.iter_raw():  # as received: a broken transfer loses nothing
                    fh.write(chunk)
                    received += len(chunk)
                    self.runner.add_network_bytes(len(chunk))
                    self.runner.progress.emit("bytes", self.item.key, len(chunk))
        except httpx2.HTTPError as exc:
            raise _Retry(f"the transfer broke off after {offset + received:,} bytes ({exc.__class__.__name__})") from None
        if offset + received < self.item.file.size:
            raise _Retry(f"the body ended after {offset + received:,} of {self.item.file.size:,} bytes")

    def _finish(self) -> int | None:
        """Make the verified bytes durable, then rename them into place (then the caller records)."""
        fd = os.open(self.partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if self.store.file_mode is not None:
            os.chmod(self.partial, self.store.file_mode)
        os.replace(self.partial, self.item.target)
        return parquet_rows(self.item.target)


# ---- helpers -------------------------------------------------------------------------------
def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value).timestamp()
        return min(max(when - time.time(), 0.0), MAX_RETRY_AFTER)
    return None


def _content_range_start(value: str | None) -> int | None:
    """The first byte of `Content-Range: bytes START-END/TOTAL`."""
    if not value or not value.startswith("bytes "):
        return None
    with contextlib.suppress(ValueError):
        return int(value[len("bytes ") :].split("-", 1)[0])
    return None

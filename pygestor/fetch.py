"""Downloads: first a plan (a value the CLI, `--dry-run` and the UI show), then its execution.

    plan = plan_download(selection, store, source, update=False)   # nothing fetched yet
    report = plan.execute(workers=8, progress=callback)

Each partition is fetched by one idempotent, atomic operation, so parallelism is a map over a
bounded worker pool:

1. take the partition's lock (another process holding it is fetching it: come back later);
2. continue `<dataset>/<subset>/.<file>.part` from the bytes already there (`source.open_file`
   with the offset: an HTTP range request for the Hub; the Hub client does not resume across
   processes, so the byte transfer is ours), writing the bytes as they arrive;
3. verify size and sha256 (Hub LFS files) or git blob id (small files);
4. rename them into place, and add the partition's record (with rows from the parquet footer)
   to the run's batch. A batch is committed every `FLUSH_FILES` files or `FLUSH_SECONDS`, and
   always before the run returns: its files are made durable at once (`Storage.sync`: one
   syncfs per file system, not one fsync per file), then its records are written with one
   `Store.put_records` per subset.

A file without its record, or a `.part` file, is never counted as downloaded. A kill loses at
most the uncommitted batch's records: its files are in place, and the next run verifies them
(size and hash) and records them without fetching them again. Failures the
source calls transient (5xx, 429 with `Retry-After`, dropped connections, short bodies) are
retried with backoff and resumed; a body that fails its hash is discarded and fetched again.
Downloads always fetch the commit the last sync recorded, never a moving branch.
"""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from typing import Any

from . import fetch_ranges
from .errors import (
    DiskFull,
    DownloadError,
    DownloadInterrupted,
    InsufficientSpace,
    LockTimeout,
    MissingUpstream,
    PygestorError,
    SourceError,
)
from .fetch_ranges import Connections, RangeCancelled, RangeJob
from .index.batch import RecordBatch
from .index.digest import mismatch, parquet_rows, parquet_rows_of, verify
from .index.records import Record
from .index.selection import Selection
from .index.store import Store
from .index.sync import disk_full, is_disk_full
from .sources.base import Fetcher, RemoteFile, Transient
from .storage.base import located

log = logging.getLogger(__name__)

DEFAULT_WORKERS = 8
RETRIES = 6
MAX_BACKOFF = 30.0
BUSY_POLL = 0.25  # seconds between looks at a partial file another process is writing
CANCEL_GRACE = 0.8  # seconds Ctrl-C waits for running transfers to stop at a chunk boundary
CANCEL_POLL = 0.05  # seconds between looks at a `cancel` event while waiting for the workers
FLUSH_FILES = 64  # a batch of records is committed when it holds this many files...
FLUSH_SECONDS = 1.0  # ...or its oldest file has waited this long (`index.batch`)


# ---- progress ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ProgressEvent:
    """What changed: `kind` is "bytes" (`delta` bytes arrived), "done", "skipped", "retry" or
    "failed"."""

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

    def __init__(
        self, callback: ProgressCallback | None, bytes_total: int, files_total: int
    ) -> None:
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
                self.callback(
                    ProgressEvent(
                        kind,
                        partition,
                        delta,
                        self.bytes_done,
                        self.bytes_total,
                        self.files_done,
                        self.files_total,
                        message,
                    )
                )


# ---- the plan ------------------------------------------------------------------------------
@dataclass(frozen=True)
class FetchItem:
    """One partition a download will fetch (or found already local)."""

    subset: str
    partition: str
    file: RemoteFile
    partial_bytes: int = 0  # bytes of an interrupted earlier download, to be resumed

    @property
    def key(self) -> str:
        return f"{self.subset}/{self.partition}"

    @property
    def remaining(self) -> int:
        return max(self.file.size - self.partial_bytes, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "subset": self.subset,
            "partition": self.partition,
            "path": self.file.path,
            "size": self.file.size,
            "partial_bytes": self.partial_bytes,
        }


@dataclass(frozen=True)
class DownloadPlan:
    """What a download will do: fetch `fetch`, leave `local` (already there) alone."""

    dataset: str
    commit: str | None
    fetch: tuple[FetchItem, ...]
    local: tuple[FetchItem, ...]
    stale: tuple[
        FetchItem, ...
    ] = ()  # changed upstream, kept as they are (refetched with update=True)
    store: Store | None = field(default=None, repr=False, compare=False)
    source: Fetcher | None = field(default=None, repr=False, compare=False)

    @property
    def bytes_to_fetch(self) -> int:
        return sum(item.remaining for item in self.fetch)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "commit": self.commit,
            "partitions_to_fetch": len(self.fetch),
            "bytes_to_fetch": self.bytes_to_fetch,
            "partitions_local": len(self.local),
            "bytes_local": sum(i.file.size for i in self.local),
            "partitions_stale": len(self.stale),
            "fetch": [i.to_json() for i in self.fetch],
            "stale": [i.to_json() for i in self.stale],
        }

    def execute(
        self,
        *,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        retries: int = RETRIES,
        cancel: threading.Event | None = None,
    ) -> DownloadReport:
        """Fetch everything in `fetch` with a bounded worker pool; raise DownloadError naming the
        partitions that still failed after `retries` attempts (the others are kept). `cancel`,
        set from any thread, stops the run as Ctrl-C does: transfers stop at their next chunk,
        partial files are kept (the next run resumes them) and DownloadInterrupted is raised."""
        if not self.fetch:
            return DownloadReport(self.dataset, (), tuple(i.key for i in self.local), 0, 0.0)
        if self.store is None or self.source is None:
            raise PygestorError("this plan was made without a source; make it with plan_download")
        free = self.store.storage.free_bytes()
        if free is not None and self.bytes_to_fetch > free:
            raise InsufficientSpace(self.bytes_to_fetch, free, self.store.storage.url)
        runner = _Runner(
            self,
            self.store,
            self.source,
            retries,
            _Progress(progress, sum(i.file.size for i in self.fetch), len(self.fetch)),
            cancel,
        )
        # `workers` connections at once: one file each, a large file several (fetch_ranges)
        runner.connections = Connections(max(1, workers or DEFAULT_WORKERS))
        return runner.run(max(1, min(workers or DEFAULT_WORKERS, len(self.fetch))))


@dataclass(frozen=True)
class DownloadReport:
    dataset: str
    fetched: tuple[str, ...]  # "subset/partition" fetched by this run
    skipped: tuple[str, ...]  # already local, or fetched meanwhile by another process
    bytes_fetched: int  # bytes that came over the network in this run
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "fetched": list(self.fetched),
            "skipped": list(self.skipped),
            "bytes_fetched": self.bytes_fetched,
            "seconds": round(self.seconds, 3),
        }


def plan_download(
    selection: Selection, store: Store, source: Fetcher | None, *, update: bool = False
) -> DownloadPlan:
    """The plan for a selection: remote and partial partitions to fetch (stale ones too with
    `update`); local ones are left alone. Local-folder sources are read in place: nothing to
    fetch (and `source` may be None)."""
    fetch, local, stale = [], [], []
    for sel in selection.items:
        item = FetchItem(sel.subset, sel.partition.name, sel.partition.file)
        if sel.state == "local" or selection.in_place:
            local.append(item)
        elif sel.state == "stale" and not update:
            stale.append(item)
        elif sel.state in ("remote", "partial", "stale"):
            file, started = sel.partition.file, 0
            # the selection looked for `.part` files (one look at each subset's folder): a
            # remote partition has none, and only a large file may have range parts without one
            if sel.state != "remote" or file.size >= fetch_ranges.RANGE_THRESHOLD:
                partial = store.partial_key(selection.dataset, sel.subset, sel.partition.name)
                started = fetch_ranges.on_disk(store.storage, partial, file.size)
            fetch.append(FetchItem(sel.subset, sel.partition.name, file, started))
    return DownloadPlan(
        selection.dataset,
        selection.listing.commit,
        tuple(fetch),
        tuple(local),
        tuple(stale),
        store,
        source,
    )


# ---- execution -----------------------------------------------------------------------------
class _Runner:
    def __init__(
        self,
        plan: DownloadPlan,
        store: Store,
        source: Fetcher,
        retries: int,
        progress: _Progress,
        cancel: threading.Event | None = None,
    ) -> None:
        self.plan, self.store, self.source, self.retries, self.progress = (
            plan,
            store,
            source,
            retries,
            progress,
        )
        self.fetched: list[str] = []
        self.skipped: list[str] = []
        self.failures: dict[str, str] = {}
        self.network_bytes = 0
        self.disk_full: DiskFull | None = None  # the first one: the run stops starting files
        self._lock = threading.Lock()
        self.cancelled = threading.Event()  # set on Ctrl-C: transfers stop at the next chunk
        self._futures: list[Future[Any]] = []
        self.unreachable = ""  # why the source could not be reached, once it could not
        self.cancel = cancel  # the caller's: set from another thread, it acts as a Ctrl-C
        self.batch = RecordBatch(
            store, self._commit_failed, files=FLUSH_FILES, seconds=FLUSH_SECONDS
        )
        self._held: dict[str, contextlib.ExitStack] = {}  # partition locks, by item key
        self.flush_error: BaseException | None = None  # a background commit that failed
        self.connections = Connections(DEFAULT_WORKERS)  # concurrent transfers (fetch_ranges)

    def run(self, workers: int) -> DownloadReport:
        start = time.monotonic()
        if self.cancel is not None and self.cancel.is_set():
            raise self._interrupted()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="pygestor-fetch")
        try:
            first = [pool.submit(self._try_item, item) for item in self.plan.fetch]
            self._futures.extend(first)
            busy = self._results(first)
            deferred = [item for item, fut in zip(self.plan.fetch, busy, strict=True) if fut]
            # held by other processes: wait for them, then check
            then = [pool.submit(self._wait_item, item) for item in deferred]
            self._futures.extend(then)
            self._results(then)
        except (
            BaseException
        ) as exc:  # Ctrl-C (or any escape): stop at the next chunk, keep partials
            self._cancel(pool)
            try:  # the files verified so far keep their records
                self._flush()
            except Exception as flush:  # noqa: BLE001  (the next run records them instead)
                log.info("recording the last batch failed: %s", flush)
            self.batch.close()
            if isinstance(exc, KeyboardInterrupt):
                raise self._interrupted() from None
            raise
        pool.shutdown(wait=True)
        try:
            self._flush()
        except DiskFull as exc:
            self.disk_full = self.disk_full or exc
        finally:
            self.batch.close()
        if self.flush_error is not None and self.disk_full is None:
            raise self.flush_error
        report = DownloadReport(
            self.plan.dataset,
            tuple(self.fetched),
            tuple(self.skipped),
            self.network_bytes,
            time.monotonic() - start,
        )
        if self.disk_full is not None:
            full = self.disk_full
            raise disk_full(self.store.storage, full.what, self.bytes_left()) from None
        if self.failures:
            raise DownloadError(self.plan.dataset, self.failures)
        return report

    def _results(self, futures: list[Future[Any]]) -> list[Any]:
        """Each future's result, in order. A `cancel` event set meanwhile (from another thread:
        the UI's jobs) is a KeyboardInterrupt here, so the run stops exactly as on Ctrl-C."""
        if self.cancel is None:
            return [fut.result() for fut in futures]
        results = []
        for fut in futures:
            while True:
                try:
                    results.append(fut.result(timeout=CANCEL_POLL))
                    break
                except TimeoutError:
                    if self.cancel.is_set():
                        raise KeyboardInterrupt from None
        return results

    def _cancel(self, pool: ThreadPoolExecutor) -> None:
        """Drop the queued partitions and let the running transfers stop at their next chunk
        (their partial files stay, to be resumed)."""
        self.cancelled.set()
        pool.shutdown(wait=False, cancel_futures=True)
        wait_futures([f for f in self._futures if not f.done()], timeout=CANCEL_GRACE)

    def _flush(self) -> None:
        """Commit the batch (DiskFull when the disk is full; its files stay, to be recorded)."""
        try:
            self.batch.flush()
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            raise disk_full(self.store.storage, "the records of the last batch", 4096) from None

    def _commit_failed(self, exc: Exception) -> None:
        """A commit on the batch's thread failed: no new file is started, and the run raises
        it at its end (a full disk as DiskFull)."""
        if isinstance(exc, OSError) and is_disk_full(exc):
            exc = disk_full(self.store.storage, "the records of the last batch", 4096)
        with self._lock:
            if isinstance(exc, DiskFull):
                self.disk_full = self.disk_full or exc
            else:
                self.flush_error = self.flush_error or exc

    def _interrupted(self) -> DownloadInterrupted:
        """What a Ctrl-C stopped: the counts of done, partial and remaining files."""
        with self._lock:
            done = {*self.fetched, *self.skipped}
        storage, dataset = self.store.storage, self.plan.dataset
        left = [i for i in self.plan.fetch if i.key not in done]
        partial = sum(
            1
            for i in left
            if storage.info(self.store.partial_key(dataset, i.subset, i.partition)) is not None
        )
        return DownloadInterrupted(dataset, len(done), partial, len(left))

    def _try_item(self, item: FetchItem) -> bool:
        """Fetch `item` unless another process holds its lock; True when it was busy."""
        return self._with_lock(item, timeout=0)

    def _wait_item(self, item: FetchItem) -> None:
        self._with_lock(item, timeout=self.store.lock_timeout)

    def _with_lock(self, item: FetchItem, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while True:
            held = contextlib.ExitStack()
            try:
                try:
                    held.enter_context(
                        self.store.partition_lock(
                            self.plan.dataset, item.subset, item.partition, timeout=timeout
                        )
                    )
                    self._held[item.key] = held
                    self._fetch_once(item)
                finally:  # recorded in a batch: the batch keeps the lock until its commit
                    if self._held.pop(item.key, None) is not None:
                        held.close()
                return False
            except LockTimeout:
                if timeout == 0:
                    return True
                self._fail(item, f"another process held its lock for over {timeout:.0f} s")
                return False
            except _Busy:  # its lock file was deleted: another process took a new one
                if timeout == 0:
                    return True  # come back when that process is done
                if time.monotonic() > deadline:
                    self._fail(item, f"another process wrote it for over {timeout:.0f} s")
                    return False
                if self.cancelled.wait(BUSY_POLL):
                    return False

    def _fetch_once(self, item: FetchItem) -> None:
        if self.cancelled.is_set():
            return
        if self.unreachable:  # the source could not be reached for another file: do not wait
            self._fail(item, f"not tried: {self.unreachable}")
            return
        if self.disk_full is not None:
            self._fail(item, "not started: the disk is full")
            return
        if self.flush_error is not None:
            self._fail(item, f"not started: recording the last batch failed ({self.flush_error})")
            return
        partial = self.store.partial_key(self.plan.dataset, item.subset, item.partition)
        try:
            with self.store.storage.claim(partial):  # the one writer, even without lock files
                fetched = self._claimed(item)
        except BlockingIOError:  # another process writes it: its lock file was deleted
            raise _Busy() from None
        except DiskFull as exc:
            with self._lock:
                self.disk_full = self.disk_full or exc
            self._fail(item, str(exc))
            return
        except _Cancelled:
            return
        except PygestorError as exc:
            self._fail(item, str(exc))
            return
        with self._lock:
            (self.fetched if fetched else self.skipped).append(item.key)
        if fetched:
            self.progress.emit("done", item.key)
        else:
            self.progress.emit("skipped", item.key, item.file.size)

    def _claimed(self, item: FetchItem) -> bool:
        """Fetch and record `item` unless it is done; True when this call fetched it. A partial
        file deleted or moved meanwhile is a restart of that file, not an error."""
        for _ in range(RETRIES):
            if self._already_done(item):
                return False
            try:
                rows = _Transfer(self, item).run()
            except FileNotFoundError:
                continue
            self._record(item, rows)
            return True
        raise SourceError("its partial file kept vanishing while it was written")

    def _already_done(self, item: FetchItem) -> bool:
        """True when the target is in place and verified: recorded by another process meanwhile,
        or renamed into place by a run killed before it wrote the record (verified again here)."""
        dataset, storage = self.plan.dataset, self.store.storage
        target = self.store.data_key(dataset, item.subset, item.partition)
        found = storage.info(target, follow=True)
        if found is None or found.size != item.file.size:
            return False
        record = self.store.record(dataset, item.subset, item.partition)
        if record is not None and record.matches(item.file):
            return True
        if mismatch(storage, target, item.file) is None:
            self._record(item, parquet_rows(storage, target))
            return True
        return False

    def _record(self, item: FetchItem, rows: int | None) -> None:
        """Add `item`'s record to the batch (committing it when due)."""
        record = Record.of(item.file, commit=self.plan.commit, rows=rows)
        target = self.store.data_key(self.plan.dataset, item.subset, item.partition)
        held = self._held.pop(item.key, None)
        if held is None:  # not under this run's lock (never so today): commit it on its own
            held = contextlib.ExitStack()
        self.batch.add(self.plan.dataset, item.subset, item.partition, record, target, held)

    def _fail(self, item: FetchItem, cause: str) -> None:
        with self._lock:
            self.failures[item.key] = cause
        self.progress.emit("failed", item.key, message=cause)

    def bytes_left(self) -> int:
        """Bytes the files not yet fetched still need, partial files counted as on disk."""
        done = {*self.fetched, *self.skipped}
        left = 0
        for item in self.plan.fetch:
            if item.key not in done:
                key = self.store.partial_key(self.plan.dataset, item.subset, item.partition)
                left += item.file.size - fetch_ranges.on_disk(
                    self.store.storage, key, item.file.size
                )
        return left

    def add_network_bytes(self, n: int) -> None:
        with self._lock:
            self.network_bytes += n


class _Transfer:
    """One partition's bytes: resume, retry, verify, rename. Returns the row count (parquet) or
    None."""

    def __init__(self, runner: _Runner, item: FetchItem) -> None:
        self.runner, self.item = runner, item
        self.storage = runner.store.storage
        dataset = runner.plan.dataset
        self.partial = runner.store.partial_key(dataset, item.subset, item.partition)
        self.target = runner.store.data_key(dataset, item.subset, item.partition)

    def run(self) -> int | None:
        """FileNotFoundError when the partial file was deleted or moved meanwhile."""
        attempt = 0
        while True:
            try:
                with self.runner.connections.held(self.runner.cancelled, _Cancelled):
                    self._download()
                wrong, content = verify(self.storage, self.partial, self.item.file)
                if wrong is None:
                    break
                self._empty_partial()
                raise Transient(
                    f"downloaded bytes do not match the expected {wrong}; fetching again"
                )
            except Transient as retry:
                attempt += 1
                limit = min(self.runner.retries, retry.retries or self.runner.retries)
                if attempt > limit:
                    cause = f"{retry} (gave up after {limit} retries)"
                    if retry.retries is not None:  # unreachable: the other files would be too
                        self.runner.unreachable = cause
                    raise SourceError(cause) from None
                delay = retry.delay if retry.delay is not None else _backoff(attempt)
                log.info("%s: %s; retrying in %.1f s", self.item.key, retry, delay)
                self.runner.progress.emit("retry", self.item.key, message=str(retry))
                if self.runner.cancelled.wait(delay):
                    raise _Cancelled from None
        # renamed into place (made durable with its batch, before its record is written)
        try:
            self.storage.replace(self.partial, self.target, durable=False)
        except OSError as exc:  # fsync can report a full disk late (NFS, delayed allocation)
            raise self._disk_full(exc) from None
        if content is not None:  # a small file, read whole by the check: its footer is there
            return parquet_rows_of(self.target, content)
        return parquet_rows(self.storage, self.target)

    def _download(self) -> None:
        """Bring the partial file to full size (or raise Transient): a large file over several
        ranges at once when it can be (`fetch_ranges`), else as one stream."""
        if self._ranges():
            return
        size = self.item.file.size
        found = self.storage.info(self.partial)
        offset = found.size if found else 0
        if offset > size:  # not this file's bytes: start over
            self._empty_partial()
            found, offset = None, 0
        if found is not None and offset == size:
            return
        plan = self.runner.plan
        try:
            with self.runner.source.open_file(
                self.item.file.path, plan.commit, offset=offset
            ) as body:
                self._write(body, body.start)
        except MissingUpstream as exc:
            raise MissingUpstream(exc.path, exc.commit, plan.dataset) from None

    def _ranges(self) -> bool:
        """True when `fetch_ranges` brought the partial file to full size over several ranges."""
        runner = self.runner
        job = RangeJob(
            self.storage,
            runner.source,
            self.item.file,
            runner.plan.commit,
            self.partial,
            runner.connections,
            runner.cancelled,
            self._arrived,
        )
        try:
            return fetch_ranges.download(job)
        except RangeCancelled:
            raise _Cancelled from None
        except MissingUpstream as exc:
            raise MissingUpstream(exc.path, exc.commit, runner.plan.dataset) from None
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise self._disk_full(exc) from None

    def _arrived(self, n: int) -> None:
        self.runner.add_network_bytes(n)
        self.runner.progress.emit("bytes", self.item.key, n)

    def _write(self, body: Any, offset: int) -> None:
        """Append the body to the partial file as it arrives: a broken transfer loses nothing that
        reached the process, so the next attempt resumes at exactly the bytes on disk. Never past
        the listed size (a longer body is cut there and rejected), and a full disk is DiskFull
        with the partial file kept, to resume."""
        size, received = self.item.file.size, 0
        room = size - offset  # bytes the plan still allows this file
        try:
            with self.storage.append(self.partial, new=offset == 0) as fh:
                for chunk in body:
                    if len(chunk) > room - received:
                        fh.write(chunk[: room - received])
                        raise _TooLong
                    fh.write(chunk)
                    if self.runner.cancelled.is_set():  # Ctrl-C: keep what arrived, stop
                        raise _Cancelled
                    received += len(chunk)
                    self.runner.add_network_bytes(len(chunk))
                    self.runner.progress.emit("bytes", self.item.key, len(chunk))
        except Transient as exc:
            raise Transient(
                f"the transfer broke off after {offset + received:,} bytes ({exc})"
            ) from None
        except _TooLong:
            self.storage.remove(self.partial)
            raise SourceError(
                f"the server sent more than the listed {size:,} bytes for {self.item.file.path}; "
                "stopped reading there and discarded the partial file"
            ) from None
        except OSError as exc:
            raise self._disk_full(exc) from None
        if offset + received < size:
            raise Transient(f"the body ended after {offset + received:,} of {size:,} bytes")

    def _disk_full(self, exc: OSError) -> Exception:
        """DiskFull naming the partial file when `exc` is a full disk, else `exc` itself."""
        if not is_disk_full(exc):
            return exc
        what = str(located(self.storage, self.partial))
        return disk_full(self.storage, what, self.runner.bytes_left())

    def _empty_partial(self) -> None:
        """Start the partial file over: emptied in place, so the claim on it stays."""
        with self.storage.append(self.partial, new=True):
            pass


class _TooLong(Exception):
    """The body went past the listed size (`_Transfer._write`)."""


class _Busy(Exception):
    """Another process is writing the partition's partial file (its lock file was deleted)."""


class _Cancelled(Exception):
    """Raised inside a transfer when the download was interrupted (not a failure: the partial
    file is kept as it is)."""


def _backoff(attempt: int) -> float:
    return min(MAX_BACKOFF, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)

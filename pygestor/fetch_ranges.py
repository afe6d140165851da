"""One large file over several byte ranges at once, as download accelerators do (`fetch._Transfer`
calls `download` before its single stream).

A file of at least `RANGE_THRESHOLD` bytes is split into ranges of at least `MIN_RANGE` bytes,
as many as the run's connections free when it starts plus its own (up to `workers`: a file
alone in its run gets them all; with every connection busy it stays one stream). Range 0 is the
file's `.part`; every other range is its own part file `.<file>.part-<start>`
(`index/partials.py`) whose size is its progress, so a kill leaves each range resumable where
it stopped, and the next run reads the layout back from the files on disk (whatever the number
of workers then). Each range is one bounded GET (`Range: bytes=a-b`), resumed
from its part's size after a broken transfer. When every range is complete the parts are joined:
appended to `.part` in order, each deleted once appended (a join cut short is finished by the next
run: the bytes of a part already appended are skipped, not copied twice); then `fetch` verifies
size and hash and renames the file into place as for any other file.

Separate part files rather than writes at offsets into one preallocated file: the storage seam
only appends (`Storage.append`, which object stores and NFS can do safely), a part's size is
its progress with no other state to keep in step (a preallocated file would need a progress
record per range, written after the bytes), and a machine crash that loses the tail of a part
only shortens it. The cost is one copy of all but range 0 when joining, in the kernel where it
can be (`Storage.append_from`: copy_file_range, 0.06 s for 192 MiB here).

Connections: the run has a budget of `workers` concurrent transfers (`Connections`). Every
file's transfer holds one; a split file borrows more for its other ranges only when they are
free (never waiting for one), and helpers never wait on anything, so the run's pool cannot
deadlock; a split file's own thread takes more of them at each range boundary as other files
finish (a file that started as one stream stays one).

A server that answers a range with 200 (the whole file) or a 206 without a valid Content-Range
does not support ranges: the range parts are deleted and the file is fetched as one stream, and
the rest of the run does not try ranges again.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NoReturn

from .index.partials import bytes_on_disk, range_part_key, range_parts
from .sources.base import Fetcher, FileBody, RangeIgnored, RemoteFile, Transient
from .storage.base import Storage

MIB = 1024 * 1024
RANGE_THRESHOLD = 64 * MIB  # files at least this big are split into ranges
MIN_RANGE = 16 * MIB  # no range is planned smaller than this
POLL = 0.05  # seconds between looks at the cancel event while waiting for a connection


class RangeCancelled(Exception):
    """The run was interrupted (Ctrl-C, `cancel`): every part keeps what arrived."""


class _NoRanges(Exception):
    """The server does not honour ranges (200, or 206 without a valid Content-Range)."""


class Connections:
    """The run's budget of concurrent transfers: `limit` (its workers). A file's transfer holds
    one (`held`, waiting for it); a split file's helpers take only free ones (`try_take`)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.ranges = True  # False once the server ignored a range: the run stops splitting
        self._free = limit
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def held(
        self, cancelled: threading.Event, stop: type[Exception] = RangeCancelled
    ) -> Iterator[None]:
        """One connection, waited for (`stop` is raised when `cancelled` is set meanwhile)."""
        with self._cond:
            while self._free == 0:
                if cancelled.is_set():
                    raise stop
                self._cond.wait(POLL)
            self._free -= 1
        try:
            yield
        finally:
            self.release()

    @property
    def free(self) -> int:
        with self._cond:
            return self._free

    def try_take(self) -> bool:
        with self._cond:
            if self._free == 0:
                return False
            self._free -= 1
            return True

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify()


@dataclass
class RangeJob:
    """One file's download, as `fetch._Transfer` hands it over."""

    storage: Storage
    source: Fetcher
    file: RemoteFile
    commit: str | None
    partial: str  # the `.part` key
    connections: Connections
    cancelled: threading.Event
    on_bytes: Callable[[int], None]  # bytes that arrived (network accounting and progress)


@dataclass
class _Range:
    start: int
    end: int  # exclusive
    key: str  # its part file (`.part` for range 0)
    done: int  # bytes of it on disk

    @property
    def length(self) -> int:
        return self.end - self.start


def on_disk(storage: Storage, partial: str, size: int) -> int:
    """Bytes of a download in progress on disk: its `.part`, and its range parts when the file is
    large enough to have any (plans and space accounting)."""
    return bytes_on_disk(storage, partial, size, ranged=size >= RANGE_THRESHOLD)


def download(job: RangeJob) -> bool:
    """Fetch `job`'s file over several ranges at once into its `.part`; True when `.part` is
    complete (not yet verified), False when the file is to be fetched as one stream instead (too
    small, a single connection, or a server without ranges: its range parts are then deleted).
    Raises Transient to be retried (each range resumes), RangeCancelled, or the source's errors."""
    storage, size = job.storage, job.file.size
    parts = range_parts(storage, job.partial) if size >= RANGE_THRESHOLD else {}
    if not job.connections.ranges or (not parts and size < RANGE_THRESHOLD):
        _discard(storage, [info.key for info in parts.values()])
        return False
    ranges = _layout(job, {start: info.size for start, info in parts.items()})
    if ranges is None:
        return False
    try:
        _fetch_all(job, ranges)
    except _NoRanges:
        job.connections.ranges = False
        _discard(storage, [r.key for r in ranges[1:]])
        return False
    _join(job, ranges)
    return True


def _layout(job: RangeJob, parts: dict[int, int]) -> list[_Range] | None:
    """The ranges, from the parts on disk (`parts`: start -> size), else a new split of what is
    left after `.part` (None: not worth splitting). Raises Transient, with every part discarded,
    when the files on disk do not fit together."""
    storage, size = job.storage, job.file.size
    found = storage.info(job.partial)
    have = found.size if found else 0
    if not parts:
        if have >= size:
            return None  # complete, or longer than the file: the single stream deals with it
        # no wider than the connections free now, besides this one: a split that no helper can
        # take is fetched range after range by this thread, only slower than one stream
        count = min(job.connections.free + 1, (size - have) // MIN_RANGE)
        if count < 2:
            return None
        starts = [have + (size - have) * i // count for i in range(1, count)]
        for start in starts:  # the layout is on disk before any byte is asked for
            with storage.append(range_part_key(job.partial, start), new=True):
                pass
        parts = dict.fromkeys(starts, 0)
    bounds = sorted(parts)
    if bounds[-1] >= size:
        _start_over(job, bounds, "a range part starts past the end of the file")
    ends = [*bounds[1:], size]
    ranges = [_Range(0, bounds[0], job.partial, have)]
    ranges += [
        _Range(s, e, range_part_key(job.partial, s), parts[s])
        for s, e in zip(bounds, ends, strict=True)
    ]
    if have > bounds[0] and any(r.done != r.length for r in ranges[1:]):
        # `.part` goes past range 0 only while the parts are joined, and then they are complete
        _start_over(job, bounds, "the partial file and its range parts do not fit")
    for r in ranges[1:]:
        if r.done > r.length:  # longer than its range: not bytes this layout wrote
            with storage.append(r.key, new=True):
                r.done = 0
    return ranges


def _start_over(job: RangeJob, bounds: list[int], why: str) -> NoReturn:
    """Discard the parts and empty `.part`, then raise Transient: the retry starts afresh."""
    _discard(job.storage, [range_part_key(job.partial, s) for s in bounds])
    with job.storage.append(job.partial, new=True):
        pass
    raise Transient(f"{why}; fetching it again")


def _discard(storage: Storage, keys: list[str]) -> None:
    for key in keys:
        storage.remove(key)


# ---- fetching the ranges ---------------------------------------------------------------------
@dataclass
class _Shared:
    """The ranges still to fetch and the first failure, shared by the owner and its helpers."""

    todo: deque[_Range]
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)  # a failure that ends it
    error: BaseException | None = None
    helpers: int = 0  # running

    def take(self) -> _Range | None:
        with self.lock:
            return self.todo.popleft() if self.todo and not self.stop.is_set() else None

    def fail(self, exc: BaseException) -> None:
        with self.lock:  # the first failure, unless a final one (not Transient) comes after it
            final = not isinstance(exc, Transient)
            if self.error is None or (final and isinstance(self.error, Transient)):
                self.error = exc
            if final:  # the others stop at their next chunk
                self.stop.set()


def _fetch_all(job: RangeJob, ranges: list[_Range]) -> None:
    """Bring every range to its full length: this thread (holding one connection) and helpers
    on the connections that are free, each taking the next range left. Raises the first
    failure once all have stopped (a Transient after the others finished theirs)."""
    shared = _Shared(deque(r for r in ranges if r.done < r.length))
    threads: list[threading.Thread] = []
    while (mine := shared.take()) is not None:
        with shared.lock:
            wanted = len(shared.todo) - shared.helpers
        for _ in range(max(wanted, 0)):
            if not job.connections.try_take():
                break
            with shared.lock:
                shared.helpers += 1
            thread = threading.Thread(
                target=_helper, args=(job, shared), name="pygestor-range", daemon=True
            )
            thread.start()
            threads.append(thread)
        _guarded(job, mine, shared)
    for thread in threads:
        thread.join()
    if shared.error is not None:
        raise shared.error


def _helper(job: RangeJob, shared: _Shared) -> None:
    try:
        while (r := shared.take()) is not None:
            _guarded(job, r, shared)
    finally:
        with shared.lock:
            shared.helpers -= 1
        job.connections.release()


def _guarded(job: RangeJob, r: _Range, shared: _Shared) -> None:
    try:
        _fetch_range(job, r, shared)
    except RangeIgnored:
        shared.fail(_NoRanges())
    except BaseException as exc:  # noqa: BLE001  (raised by the owner once all have stopped)
        shared.fail(exc)


def _fetch_range(job: RangeJob, r: _Range, shared: _Shared) -> None:
    """Fetch the rest of one range (a server may send less than asked: ask again for the rest)."""
    while r.done < r.length and not shared.stop.is_set():
        offset = r.start + r.done
        with job.source.open_file(
            job.file.path, job.commit, offset=offset, length=r.end - offset
        ) as body:
            span = getattr(body, "span", None)
            if span is None or span[0] != offset or span[1] <= offset:
                raise _NoRanges
            _write(job, r, body, min(span[1], r.end), shared)


def _write(job: RangeJob, r: _Range, body: FileBody, stop: int, shared: _Shared) -> None:
    """Append the body to the range's part as it arrives, up to byte `stop` of the file."""
    offset = r.start + r.done
    try:
        with job.storage.append(r.key, new=r.done == 0) as fh:
            for chunk in body:
                piece = chunk[: stop - (r.start + r.done)]
                fh.write(piece)
                r.done += len(piece)
                job.on_bytes(len(piece))
                if r.start + r.done >= stop or shared.stop.is_set():
                    return
                if job.cancelled.is_set():
                    raise RangeCancelled
    except Transient as exc:
        raise Transient(
            f"the range from byte {r.start:,} broke off after {r.start + r.done:,} bytes ({exc})"
        ) from None
    raise Transient(
        f"the range from byte {offset:,} ended after {r.start + r.done - offset:,} of "
        f"{stop - offset:,} bytes"
    )


# ---- joining ---------------------------------------------------------------------------------
def _join(job: RangeJob, ranges: list[_Range]) -> None:
    """Append every part to `.part` in order, deleting each once appended; a join cut short
    before (`.part` already holds the first bytes of a part) skips those bytes."""
    storage = job.storage
    for r in ranges[1:]:
        found = storage.info(job.partial)
        skip = (found.size if found else 0) - r.start
        if not 0 <= skip <= r.length:
            _start_over(job, [s.start for s in ranges[1:]], "joining the range parts went wrong")
        if skip < r.length:
            storage.append_from(job.partial, r.key, offset=skip)
        storage.remove(r.key)

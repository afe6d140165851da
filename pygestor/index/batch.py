"""A download's batch of records, committed by a thread of its own.

Each verified file renamed into place joins the batch with its record and the partition lock
its download holds. A commit (`Store.put_batch`: one dataset lock, one segment per subset)
makes the batch's files and its segments' bytes durable at once (one syncfs per file system),
then links the segments into place, then releases the locks: a record never
points at bytes a crash of the machine could lose, and another process or a removal never sees
a partition half done.

The commits run on the batch's own thread, not on the download workers': a worker adds its
record and goes on with the next file (waiting only when `PENDING_BATCHES` batches of files
wait for a commit, so a slow disk bounds the locks held). A batch is due when it holds `files`
files or its oldest file has waited `seconds` (`FLUSH_FILES`, `FLUSH_SECONDS` in `fetch`).
`flush` commits what is pending on the caller's thread (the end of a run, Ctrl-C) and `close`
stops the thread. A commit that fails drops its records (the files stay, and the next run
verifies and records them) and releases its locks; on the thread it is handed to `on_error`,
and `flush` raises it.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from .records import Record
from .store import Store

PENDING_BATCHES = 4  # a worker adding a record waits while this many batches are pending


class RecordBatch:
    """The records of one download run (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        on_error: Callable[[Exception], None],
        *,
        files: int,
        seconds: float,
    ) -> None:
        self.store, self.on_error = store, on_error
        self.files, self.seconds = max(files, 1), seconds
        self.records: dict[tuple[str, str], dict[str, Record]] = {}  # (dataset, subset) -> ...
        self.keys: list[str] = []  # the files those records point at
        self.locks: list[contextlib.ExitStack] = []  # their partition locks
        self.since = 0.0  # when the oldest pending file was added
        self._cond = threading.Condition()  # guards the pending batch and the thread's state
        self._commit = threading.Lock()  # one commit at a time
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(
        self,
        dataset: str,
        subset: str,
        partition: str,
        record: Record,
        key: str,
        lock: contextlib.ExitStack,
    ) -> None:
        """Add one record (its file `key`, held by `lock` until the commit). After `close` (a
        worker that outlived the run's end) it is committed at once, on this thread."""
        with self._cond:
            while len(self.keys) >= PENDING_BATCHES * self.files and not self._closed:
                self._cond.wait()  # the committer is behind: bound the locks held
            if not self.keys:
                self.since = time.monotonic()
            self.records.setdefault((dataset, subset), {})[partition] = record
            self.keys.append(key)
            self.locks.append(lock)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._loop, name="pygestor-records", daemon=True
                )
                self._thread.start()
            elif len(self.keys) in (1, self.files):  # its timer starts, or it is due
                self._cond.notify_all()
            late = self._closed
        if late:
            self.flush()

    def flush(self) -> None:
        """Commit what is pending now, on this thread (after any commit under way)."""
        with self._commit:
            self._commit_pending()

    def close(self) -> None:
        """Stop the committing thread (after its commit under way); pending records stay
        pending (`flush` them first)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _due(self) -> bool:
        if not self.keys:
            return False
        return len(self.keys) >= self.files or time.monotonic() - self.since >= self.seconds

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and not self._due():
                    left = self.since + self.seconds - time.monotonic() if self.keys else None
                    self._cond.wait(left)
                if self._closed:
                    return
            with self._commit:
                try:
                    self._commit_pending()
                except Exception as exc:  # noqa: BLE001  (the run raises it, at its end)
                    self.on_error(exc)

    def _commit_pending(self) -> None:
        """The commit itself (the caller holds `_commit`)."""
        with self._cond:
            records, keys, locks = self.records, self.keys, self.locks
            self.records, self.keys, self.locks = {}, [], []
            self._cond.notify_all()  # workers waiting for room
        try:
            by_dataset: dict[str, dict[str, dict[str, Record]]] = {}
            for (dataset, subset), batch in records.items():
                by_dataset.setdefault(dataset, {})[subset] = batch
            for dataset, subsets in by_dataset.items():  # the files synced with the first
                self.store.put_batch(dataset, subsets, keys)
                keys = []
        finally:
            for lock in locks:
                lock.close()

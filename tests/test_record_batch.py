"""A download's batch of records (`pygestor.index.batch`): committed on its own thread, the data
files made durable before any segment naming them appears, one segment per subset under one
dataset lock, and a failed commit handed back rather than lost."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from pygestor.index.batch import RecordBatch
from pygestor.index.records import Record
from pygestor.index.store import Store
from pygestor.sources.base import RemoteFile
from pygestor.storage.local import LocalStorage


class SpyStorage(LocalStorage):
    """A LocalStorage that logs each `sync`: its keys and the segment files there at the time,
    and can hold a sync for a while (a slow disk)."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.syncs: list[tuple[list[str], list[str]]] = []
        self.delay = 0.0

    def sync(self, keys: Sequence[str]) -> None:
        segments = sorted(
            p.relative_to(self.root).as_posix()
            for p in Path(self.root).glob(".pygestor/datasets/ds/segments/*/*.json")
            if not p.name.startswith(".")  # (temporary files)
        )
        self.syncs.append((list(keys), segments))
        time.sleep(self.delay)
        super().sync(keys)


@pytest.fixture
def spy(tmp_path: Path) -> SpyStorage:
    return SpyStorage(tmp_path / "data")


def _file(storage: LocalStorage, subset: str, name: str) -> tuple[str, Record]:
    """A verified file renamed into place without an fsync, as a download leaves it."""
    key = f"ds/{subset}/{name}"
    with storage.append(f"ds/{subset}/.{name}.part", new=True) as fh:
        fh.write(b"bytes of " + name.encode())
    storage.replace(f"ds/{subset}/.{name}.part", key, durable=False)
    remote = RemoteFile(f"{subset}/{name}", len(b"bytes of " + name.encode()), blob_id="b" * 40)
    return key, Record.of(remote, commit="c" * 40, rows=None)


def test_files_are_durable_before_a_segment_names_them(spy: SpyStorage) -> None:
    store = Store(spy, lock_timeout=5)
    errors: list[Exception] = []
    batch = RecordBatch(store, errors.append, files=64, seconds=3600.0)
    keys = []
    for subset in ("a", "b", "c"):
        key, record = _file(spy, subset, "x.bin")
        batch.add("ds", subset, "x.bin", record, key, contextlib.ExitStack())
        keys.append(key)
    assert spy.syncs == []  # not due: nothing committed yet
    batch.flush()
    batch.close()
    assert errors == []
    [(synced, segments_then)] = spy.syncs  # one sync for the lot
    assert set(keys) <= set(synced) and segments_then == []  # data + segments' bytes first
    temps = set(synced) - set(keys)  # the segments' temporary files: linked after the sync
    assert len(temps) == 3 and all(k.rsplit("/", 1)[-1].startswith(".tmp-") for k in temps)
    for subset in ("a", "b", "c"):  # one segment per subset, which reads back
        record = store.record("ds", subset, "x.bin")
        assert record is not None and record.path == f"{subset}/x.bin"


def test_a_commit_runs_on_its_own_thread_and_holds_the_locks_until_done(spy: SpyStorage) -> None:
    store = Store(spy, lock_timeout=5)
    spy.delay = 0.5  # a slow disk
    batch = RecordBatch(store, lambda exc: None, files=2, seconds=3600.0)
    released: list[float] = []
    added = []
    deadline = time.monotonic() + 10
    for name in ("x.bin", "y.bin", "z.bin"):
        key, record = _file(spy, "a", name)
        lock = contextlib.ExitStack()
        lock.callback(lambda: released.append(time.monotonic()))
        start = time.monotonic()
        batch.add("ds", "a", name, record, key, lock)  # the second one makes the batch due
        added.append(time.monotonic() - start)
        while name == "y.bin" and not spy.syncs and time.monotonic() < deadline:
            time.sleep(0.01)  # the commit of the first two is under way (in its slow sync)
    assert max(added) < 0.25  # nobody waited for it
    while len(released) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(released) == 2  # the first two, released when their commit was done
    assert store.record("ds", "a", "x.bin") is not None and store.record("ds", "a", "z.bin") is None
    batch.flush()
    batch.close()
    assert len(released) == 3 and store.record("ds", "a", "z.bin") is not None


def test_a_failed_commit_on_the_thread_is_handed_back_and_releases_its_locks(
    spy: SpyStorage, tmp_path: Path
) -> None:
    store = Store(spy, lock_timeout=5)
    (tmp_path / "outside").mkdir()
    segments = Path(spy.root) / ".pygestor/datasets/ds/segments"
    segments.parent.mkdir(parents=True)
    segments.symlink_to(tmp_path / "outside")  # damage: the commit must refuse it
    errors: list[Exception] = []
    done = threading.Event()
    batch = RecordBatch(
        store, lambda exc: (errors.append(exc), done.set()), files=1, seconds=3600.0
    )
    key, record = _file(spy, "a", "x.bin")
    lock = contextlib.ExitStack()
    lock.callback(done.set)
    batch.add("ds", "a", "x.bin", record, key, lock)
    assert done.wait(10)
    batch.close()
    assert len(errors) == 1 and "is a symbolic link leading out of the index" in str(errors[0])
    assert list((tmp_path / "outside").iterdir()) == []  # nothing written through the link
    assert store.record("ds", "a", "x.bin") is None

"""The index without a lock: on storage with `compare_and_swap` (object stores) listings and
records are only created and the pointer is swapped on the version read (`Store._swap_pointer`),
so hosts syncing and downloading into one data directory at once lose no update.

Over a real S3 server (SeaweedFS on loopback), and over a local folder that says it has
compare-and-swap (its `write_if` is atomic under a lock beside the file, and the index takes no
lock at all), with real processes."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from pygestor.index.records import Listing, Record
from pygestor.index.store import Store
from pygestor.manifest.models import Manifest
from pygestor.resolve import Partition, Subset
from pygestor.sources.base import RemoteFile
from pygestor.storage.local import LocalStorage

MANIFEST = Manifest.model_validate(
    {"name": "ds", "source": {"huggingface": "o/ds"}, "subsets": [{"files": "{subset}/*.parquet"}]}
)
WRITERS, EACH = 6, 5


class SwappingFolder(LocalStorage):
    """A local folder whose index is kept as on an object store: no lock, only `create` and
    `write_if` (the dataset lock is never taken: `Store.lock` is a no-op for it)."""

    compare_and_swap = True


def listing(n: int) -> Listing:
    """A listing of its own content (so of its own id) for each `n`."""
    files = [Partition("p.parquet", RemoteFile("train/p.parquet", 10 + n, sha256=f"{n:064x}"))]
    source = "hf://datasets/o/ds@main"
    return Listing(
        "ds", source, "main", "c" * 40, MANIFEST.fingerprint(), (Subset("train", tuple(files)),)
    )


def open_store(location: Any) -> Store:
    """`location`: a folder, or (s3 URL, storage options)."""
    if isinstance(location, tuple):
        from pygestor.storage.s3 import S3Storage

        return Store(S3Storage(location[0], storage_options=location[1]), lock_timeout=60)
    return Store(SwappingFolder(location), lock_timeout=60)


def _sync_many(location: Any, writer: int, out: Any) -> None:
    store = open_store(location)
    for k in range(EACH):
        pointer = store.save_listing(listing(writer * EACH + k))
        out.put((pointer.listing, pointer.previous))


def _record_many(location: Any, writer: int, out: Any) -> None:
    store = open_store(location)
    for k in range(EACH):
        rec = Record(f"train/w{writer}-{k}.parquet", k, commit="c" * 40, rows=writer)
        store.put_records("ds", "train", {f"w{writer}-{k}.parquet": rec})
    out.put(writer)


def _run(target: Any, location: Any) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=target, args=(location, w, out)) for w in range(WRITERS)]
    for p in procs:
        p.start()
    got = [out.get(timeout=120) for _ in range(WRITERS * (EACH if target is _sync_many else 1))]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    return got


@pytest.fixture(params=["folder", "s3"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "s3":
        server = request.getfixturevalue("seaweed")
        return (request.getfixturevalue("seaweed_url"), server.options())
    return tmp_path / "data"


def _no_lock_file(location: Any) -> bool:
    """The dataset lock was never taken (its file never made)."""
    if isinstance(location, tuple):
        return open_store(location).storage.info(".pygestor/datasets/ds/lock") is None
    return not (location / ".pygestor/datasets/ds/lock").exists()


def test_concurrent_syncs_lose_no_pointer_update(location: Any) -> None:
    swaps = _run(_sync_many, location)
    ids = [new for new, _ in swaps]
    assert len(set(ids)) == WRITERS * EACH  # every sync moved the pointer once
    # each swap started from the pointer then in force: the `previous` links form one chain
    # through all 30 listings (a lost update would leave two swaps naming the same previous)
    previous = [old for _, old in swaps]
    assert previous.count(None) == 1
    assert len(set(previous)) == len(previous)
    assert set(previous) - {None} < set(ids)
    final = open_store(location).pointer("ds")
    assert final is not None and final.listing in ids and final.listing not in previous
    assert _no_lock_file(location)  # the dataset lock: never taken
    assert open_store(location).listing("ds") is not None  # the pointer names a listing kept


def test_concurrent_record_writers_lose_no_record(location: Any) -> None:
    open_store(location).save_listing(listing(0))
    _run(_record_many, location)
    found = open_store(location).records("ds", "train")
    assert sorted(p for _, p in found) == sorted(
        f"w{w}-{k}.parquet" for w in range(WRITERS) for k in range(EACH)
    )
    assert {p: r.rows for (_, p), r in found.items()} == {
        f"w{w}-{k}.parquet": w for w in range(WRITERS) for k in range(EACH)
    }
    assert _no_lock_file(location)

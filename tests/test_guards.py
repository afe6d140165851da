"""Guards nothing else protected: each test here fails when one small deliberate bug of the mutation
audit (`bench/mutants.py`, ids in the comments) is planted, and checks the behaviour it guards.

Downloads run against the offline Hub, with its range faults where a real server can misbehave
(a Range request answered with 200, a 206 at the wrong offset, a 206 with wrong bytes)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import DownloadError, LockTimeout
from pygestor.fetch import ProgressEvent
from pygestor.index.records import Listing, Record
from pygestor.index.selection import select
from pygestor.index.store import Store
from pygestor.manifest.models import Manifest
from pygestor.manifest.patterns import PatternError, compile_pattern
from pygestor.resolve import Partition, Subset, resolve
from pygestor.sources.base import RemoteFile
from pygestor.sources.http import MAX_RETRY_AFTER, _retry_after
from pygestor.storage.local import LocalStorage
from pygestor.testing import replicas
from pygestor.testing.hub import Fault, HubServer

SIZE = 3 * 1024 * 1024 + 11
KEPT = 1024 * 1024  # bytes of an interrupted earlier download
PATH = "blobs/file-0.bin"


# ---- downloads ---------------------------------------------------------------------------
def _repo(tmp_path: Path, hub: HubServer) -> Catalog:
    """One random LFS file of SIZE bytes, its manifest, synced."""
    hub.hub.create_repo("pygestor/one", {PATH: hashlib.shake_256(b"one").digest(SIZE)})
    write_manifest(
        tmp_path / "user-catalog",
        "one",
        """
name: one
source: {huggingface: pygestor/one}
subsets:
  - files: "blobs/*.bin"
    name: all
""",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("one")
    return catalog


def _target(tmp_path: Path) -> Path:
    return tmp_path / "data" / "one" / "all" / "file-0.bin"


def _partial(tmp_path: Path, data: bytes) -> Path:
    part = tmp_path / "data" / "one" / "all" / ".file-0.bin.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)
    return part


def _lfs_gets(hub: HubServer) -> list[tuple[str | None, int | None]]:
    return [(r.range, r.status) for r in hub.requests.filter(method="GET", origin="lfs")]


def test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial(
    tmp_path: Path, hub: HubServer
) -> None:  # H01 H02 F08 F09 F14
    catalog = _repo(tmp_path, hub)
    truth = hub.hub.read("pygestor/one", PATH)
    _partial(tmp_path, truth[:KEPT])
    hub.faults.add(Fault(ignore_range=True, origin="lfs", times=None))  # never honours ranges
    plan = catalog.plan_download("one")
    assert [i.partial_bytes for i in plan.fetch] == [KEPT] and plan.bytes_to_fetch == SIZE - KEPT
    events: list[ProgressEvent] = []
    report = plan.execute(progress=events.append)
    assert _target(tmp_path).read_bytes() == truth
    assert _lfs_gets(hub) == [(f"bytes={KEPT}-", 200)]  # asked to resume, got it all, once
    assert report.bytes_fetched == SIZE and [e for e in events if e.kind == "retry"] == []


@pytest.mark.parametrize("shift", [-1000, 1000], ids=["before", "after"])
def test_a_206_at_another_offset_than_asked_is_refused_and_the_resume_asked_again(
    tmp_path: Path, hub: HubServer, shift: int
) -> None:  # H03
    catalog = _repo(tmp_path, hub)
    truth = hub.hub.read("pygestor/one", PATH)
    _partial(tmp_path, truth[:KEPT])
    hub.faults.add(Fault(range_shift=shift, origin="lfs", times=1))
    events: list[ProgressEvent] = []
    report = catalog.download("one", progress=events.append)
    assert _target(tmp_path).read_bytes() == truth
    assert [e.message for e in events if e.kind == "retry"] == [
        f"the server resumed at byte {KEPT + shift}, not {KEPT}"
    ]
    assert _lfs_gets(hub) == [(f"bytes={KEPT}-", 206), (f"bytes={KEPT}-", 206)]
    assert report.bytes_fetched == SIZE - KEPT  # nothing of the wrong answer was kept


def test_a_206_with_wrong_bytes_fails_the_hash_and_is_fetched_again_whole(
    tmp_path: Path, hub: HubServer
) -> None:  # F04 F05
    catalog = _repo(tmp_path, hub)
    truth = hub.hub.read("pygestor/one", PATH)
    _partial(tmp_path, truth[:KEPT])
    hub.faults.add(Fault(corrupt=True, origin="lfs", times=1))
    events: list[ProgressEvent] = []
    report = catalog.download("one", progress=events.append)
    assert _target(tmp_path).read_bytes() == truth
    assert [e.message for e in events if e.kind == "retry"] == [
        "downloaded bytes do not match the expected sha256; fetching again"
    ]
    assert _lfs_gets(hub) == [(f"bytes={KEPT}-", 206), (None, 200)]
    assert report.bytes_fetched == (SIZE - KEPT) + SIZE


def test_a_206_with_less_than_asked_is_resumed_from_where_it_stopped(
    tmp_path: Path, hub: HubServer
) -> None:  # F10
    catalog = _repo(tmp_path, hub)
    truth = hub.hub.read("pygestor/one", PATH)
    _partial(tmp_path, truth[:KEPT])
    hub.faults.add(Fault(range_limit=1000, origin="lfs", times=1))
    events: list[ProgressEvent] = []
    report = catalog.download("one", progress=events.append)
    assert _target(tmp_path).read_bytes() == truth
    assert [e.message for e in events if e.kind == "retry"] == [
        f"the body ended after {KEPT + 1000:,} of {SIZE:,} bytes"
    ]
    assert _lfs_gets(hub) == [(f"bytes={KEPT}-", 206), (f"bytes={KEPT + 1000}-", 206)]
    assert report.bytes_fetched == SIZE - KEPT


def test_a_body_cut_off_is_retried_from_the_bytes_received_and_says_how_many(
    tmp_path: Path, hub: HubServer
) -> None:  # H10
    catalog = _repo(tmp_path, hub)
    hub.faults.add(Fault(truncate_after=KEPT, origin="lfs", method="GET", times=1))
    events: list[ProgressEvent] = []
    report = catalog.download("one", progress=events.append)
    [retry] = [e.message for e in events if e.kind == "retry"]
    assert re.fullmatch(rf"the transfer broke off after {KEPT:,} bytes \(\w+\)", retry), retry
    assert _lfs_gets(hub) == [(None, 200), (f"bytes={KEPT}-", 206)]
    assert report.bytes_fetched == SIZE
    assert _target(tmp_path).read_bytes() == hub.hub.read("pygestor/one", PATH)


def test_a_failing_server_is_asked_exactly_retries_plus_one_times(
    tmp_path: Path, hub: HubServer
) -> None:  # F11
    catalog = _repo(tmp_path, hub)
    hub.faults.add(Fault(status=503, origin="lfs", method="GET", times=None))
    with pytest.raises(DownloadError, match=r"the server answered 503 \(gave up after 2 retries\)"):
        catalog.plan_download("one").execute(retries=2)
    assert _lfs_gets(hub) == [(None, 503)] * 3
    assert not _target(tmp_path).exists()


def test_range_faults_leave_requests_without_a_range_alone() -> None:
    fault = Fault(ignore_range=True, corrupt=True, times=1)
    assert not fault.matches("GET", "/lfs/x", "lfs") and fault.matches(
        "GET", "/lfs/x", "lfs", ranged=True
    )
    assert fault.describe() == "range ignored (200), first byte flipped"
    with pytest.raises(ValueError, match="need an answer"):
        Fault(range_shift=5, status=500)


@pytest.mark.parametrize(
    ("fault", "status", "content_range", "first", "length"),
    [
        (Fault(ignore_range=True), 200, None, 0, 10),
        (Fault(range_shift=-3), 206, "bytes 1-9/10", 1, 9),
        (Fault(range_shift=4), 206, "bytes 8-9/10", 8, 2),
        (Fault(range_limit=2), 206, "bytes 4-5/10", 4, 2),
    ],
    ids=["ignore_range", "shift-before", "shift-after", "limit"],
)
def test_range_faults_answer_as_they_say(
    hub: HubServer, fault: Fault, status: int, content_range: str | None, first: int, length: int
) -> None:
    data = bytes(range(10))
    hub.hub.create_repo("acme/r", {"f.txt": data})
    hub.faults.add(fault)
    request = urllib.request.Request(
        f"{hub.endpoint}/datasets/acme/r/resolve/main/f.txt", headers={"Range": "bytes=4-"}
    )
    with urllib.request.urlopen(request) as answer:
        got = (answer.status, answer.headers.get("Content-Range"), answer.read())
    assert got == (status, content_range, data[first : first + length])
    assert [r.fault for r in hub.requests] == [fault.describe()]


def test_a_file_at_the_final_path_with_the_right_size_but_other_bytes_is_fetched_again(
    tmp_path: Path, hub: HubServer
) -> None:  # F01
    catalog = _repo(tmp_path, hub)
    target = _target(tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\0" * SIZE)  # no record: never counts as downloaded
    report = catalog.download("one")
    assert report.fetched == ("all/file-0.bin",) and report.bytes_fetched == SIZE
    assert target.read_bytes() == hub.hub.read("pygestor/one", PATH)


def test_a_recorded_file_truncated_on_disk_is_not_local_and_is_fetched_again(
    tmp_path: Path, hub: HubServer
) -> None:  # S04 F02
    catalog = _repo(tmp_path, hub)
    catalog.download("one")
    target = _target(tmp_path)
    target.write_bytes(target.read_bytes()[:1000])
    assert [p["state"] for p in catalog.partition_records("one", "all")] == ["remote"]
    report = catalog.download("one")
    assert report.fetched == ("all/file-0.bin",) and report.bytes_fetched == SIZE
    assert target.read_bytes() == hub.hub.read("pygestor/one", PATH)


def test_update_refetches_a_changed_file_of_the_same_size(tmp_path: Path, hub: HubServer) -> None:
    # F03
    catalog = _repo(tmp_path, hub)
    catalog.download("one")
    new = hashlib.shake_256(b"two").digest(SIZE)
    hub.hub.commit("pygestor/one", add={PATH: new})
    catalog.sync("one")
    assert [p["state"] for p in catalog.partition_records("one", "all")] == ["stale"]
    report = catalog.download("one", update=True)
    assert report.fetched == ("all/file-0.bin",) and _target(tmp_path).read_bytes() == new
    assert [p["state"] for p in catalog.partition_records("one", "all")] == ["local"]


def test_a_partial_file_one_byte_too_long_is_discarded_not_resumed(
    tmp_path: Path, hub: HubServer
) -> None:  # F06
    catalog = _repo(tmp_path, hub)
    _partial(tmp_path, b"\1" * (SIZE + 1))
    catalog.download("one")
    assert _target(tmp_path).read_bytes() == hub.hub.read("pygestor/one", PATH)
    assert _lfs_gets(hub) == [(None, 200)]


def test_a_complete_partial_file_is_verified_and_renamed_without_a_request(
    tmp_path: Path, hub: HubServer
) -> None:  # F07
    catalog = _repo(tmp_path, hub)
    truth = hub.hub.read("pygestor/one", PATH)
    part = _partial(tmp_path, truth)  # killed after the last byte, before the rename
    hub.requests.clear()
    report = catalog.download("one")
    assert report.fetched == ("all/file-0.bin",) and report.bytes_fetched == 0
    assert _target(tmp_path).read_bytes() == truth and not part.exists()
    assert hub.requests.filter(path="/resolve/|/lfs/") == []


def test_a_partition_locked_by_another_process_is_waited_for_then_found_done(
    tmp_path: Path, hub: HubServer
) -> None:  # F17
    catalog = _repo(tmp_path, hub)
    lock = catalog.store.partition_lock("one", "all", "file-0.bin", timeout=5)
    lock.__enter__()
    other = Catalog(make_settings(tmp_path, hub.endpoint))
    released = threading.Timer(0.5, lambda: lock.__exit__(None, None, None))
    released.start()
    report = other.download("one")
    released.join()
    assert report.fetched == ("all/file-0.bin",)  # fetched once its lock was free
    assert _target(tmp_path).read_bytes() == hub.hub.read("pygestor/one", PATH)


def test_retry_after_is_capped_and_never_negative() -> None:  # H08
    assert _retry_after("100000") == MAX_RETRY_AFTER == 120.0
    assert _retry_after("-5") == 0.0 and _retry_after("2.5") == 2.5
    assert _retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert _retry_after("soon") is None and _retry_after(None) is None


# ---- the index ---------------------------------------------------------------------------
MANIFEST = Manifest.model_validate(
    {"name": "ds", "source": {"huggingface": "o/ds"}, "subsets": [{"files": "{subset}/*.bin"}]}
)


def _listing(n: int = 0) -> Listing:
    def part(subset: str, i: int) -> Partition:
        return Partition(f"p{i}.bin", RemoteFile(f"{subset}/p{i}.bin", 4, sha256=f"{n}" * 64))

    return Listing(
        "ds",
        "hf://datasets/o/ds@main",
        "main",
        f"{n:040x}",
        MANIFEST.fingerprint(),
        tuple(Subset(s, tuple(part(s, i) for i in range(2))) for s in ("test", "train")),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(LocalStorage(tmp_path / "data"), lock_timeout=5)


def _hold(store: Store, dataset: str) -> tuple[threading.Event, threading.Event, threading.Thread]:
    """Hold `dataset`'s lock in another thread until the second event is set."""
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with store.lock(dataset):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(5)
    return held, release, thread


def test_save_listing_moves_the_pointer_only_under_the_dataset_lock(store: Store) -> None:  # S01
    _, release, thread = _hold(store, "ds")
    try:
        with pytest.raises(LockTimeout):
            Store(store.storage, lock_timeout=0.2).save_listing(_listing())
        assert store.pointer("ds") is None
    finally:
        release.set()
        thread.join()
    assert store.save_listing(_listing()).partitions == 4


def test_a_listing_pruned_while_waiting_for_the_lock_is_written_again(store: Store) -> None:
    # S02: a concurrent sync may prune our fresh listing between our write and our lock
    _, release, thread = _hold(store, "ds")
    saved: list[object] = []
    saver = threading.Thread(target=lambda: saved.append(store.save_listing(_listing())))
    saver.start()
    folder = store.index_dir / "datasets" / "ds" / "listings"

    def written() -> list[Path]:
        return [p for p in folder.glob("*.json") if not p.name.startswith(".")]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not written():
        time.sleep(0.01)
    [listing_file] = written()
    time.sleep(0.1)  # the saver is now waiting for the lock
    listing_file.unlink()  # what the other sync's pruning does
    release.set()
    thread.join()
    saver.join()
    assert saved and store.listing("ds") == _listing()


def test_a_sync_removes_only_temporary_files_older_than_an_hour(store: Store) -> None:  # S08
    store.save_listing(_listing(0))
    folder = store.index_dir / "datasets" / "ds" / "listings"
    young, old = folder / ".tmp-young-x.json", folder / ".tmp-old-x.json"
    young.write_text("{")
    old.write_text("{")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    store.save_listing(_listing(1))
    assert young.exists() and not old.exists()


def _saved(store: Store, n: int) -> str:
    time.sleep(0.02)  # listings are pruned by age: keep their mtimes apart
    return store.save_listing(_listing(n)).listing


def test_the_three_newest_listings_are_kept(store: Store) -> None:  # S05
    ids = [_saved(store, n) for n in range(5)]
    folder = store.index_dir / "datasets" / "ds" / "listings"
    assert sorted(p.stem for p in folder.iterdir()) == sorted(ids[2:])
    assert store.listing("ds", ids[2]) == _listing(2)


def test_pruning_keeps_the_previous_listing_even_when_it_is_the_oldest(store: Store) -> None:
    # S06: re-syncing back to an older listing, then to a new one, leaves the one before the
    # current listing as the oldest file
    ids = [_saved(store, n) for n in range(4)]  # files of 1, 2, 3 kept
    assert _saved(store, 1) == ids[1]  # in force again; its file keeps its old mtime
    new = _saved(store, 4)
    pointer = store.pointer("ds")
    assert pointer is not None and (pointer.listing, pointer.previous) == (new, ids[1])
    assert store.listing("ds", ids[1]) == _listing(1)
    folder = store.index_dir / "datasets" / "ds" / "listings"
    assert sorted(p.stem for p in folder.iterdir()) == sorted([*ids[1:], new])  # 3 + previous


def test_a_record_of_another_format_version_counts_as_no_record(store: Store) -> None:  # S09
    listing = _listing()
    store.save_listing(listing)
    f = listing.subset("train").partitions[0].file  # type: ignore[union-attr]
    store.put_record("ds", "train", "p0.bin", Record.of(f, commit="c", rows=None))
    [key] = [e.key for e in store.storage.list(store.segments_key("ds", "train"))]
    data = json.loads(store.storage.read(key) or b"")
    data["records"]["p0.bin"]["format"] = 99  # the record's own format, in its segment
    store.storage.write(key, json.dumps(data).encode())
    assert store.record("ds", "train", "p0.bin") is None and store.records("ds") == {}
    store.storage.write(key, json.dumps({**data, "format": 99}).encode())  # the segment's
    assert Store(store.storage).record("ds", "train", "p0.bin") is None
    assert Store(store.storage).records("ds") == {}


def test_a_temporary_record_file_is_not_a_record(store: Store) -> None:  # S10
    listing = _listing()
    store.save_listing(listing)
    f = listing.subset("train").partitions[0].file  # type: ignore[union-attr]
    store.put_record("ds", "train", "p0.bin", Record.of(f, commit="c", rows=None))
    folder = store.index_dir / "datasets" / "ds" / "segments" / "train"
    [segment] = folder.iterdir()
    data = json.loads(segment.read_bytes())
    data["records"] = {"p1.bin": data["records"]["p0.bin"]}
    (folder / ".tmp-0123-0000000002-1.json").write_text(json.dumps(data))  # a write in flight
    assert list(store.records("ds")) == [("train", "p0.bin")]


def test_a_selection_of_two_subsets_sees_the_records_of_both(store: Store) -> None:  # T03
    listing = _listing()
    store.save_listing(listing)
    for subset in ("test", "train"):
        f = listing.subset(subset).partitions[1].file  # type: ignore[union-attr]
        store.storage.write(store.data_key("ds", subset, "p1.bin"), b"abcd")
        store.put_record("ds", subset, "p1.bin", Record.of(f, commit="c", rows=None))
    chosen = select(store, MANIFEST, listing, ["test", "train"])
    assert [(i.key, i.state) for i in chosen.items] == [
        ("test/p0.bin", "remote"),
        ("test/p1.bin", "local"),
        ("train/p0.bin", "remote"),
        ("train/p1.bin", "local"),
    ]


# ---- storage -----------------------------------------------------------------------------
def test_write_renames_a_new_file_into_place_so_a_reader_keeps_whole_old_bytes(
    tmp_path: Path,
) -> None:  # L01 (an in-place rewrite would truncate what an open reader sees)
    storage = LocalStorage(tmp_path / "data")
    storage.write("i/current.json", b'{"old": 1}')
    path = tmp_path / "data" / "i" / "current.json"
    with path.open("rb") as reader:
        before = os.fstat(reader.fileno()).st_ino
        storage.write("i/current.json", b'{"new": 22}')
        assert reader.read() == b'{"old": 1}'  # the old file, whole
    assert os.stat(path).st_ino != before and path.read_bytes() == b'{"new": 22}'


def test_index_files_take_the_shared_file_mode_whatever_the_umask(tmp_path: Path) -> None:  # L10
    old = os.umask(0o077)
    try:
        shared = Store(LocalStorage(tmp_path / "data", file_mode=0o664), lock_timeout=5)
        listing = _listing()
        shared.save_listing(listing)
        f = listing.subset("train").partitions[0].file  # type: ignore[union-attr]
        shared.put_record("ds", "train", "p0.bin", Record.of(f, commit="c", rows=None))
    finally:
        os.umask(old)
    index = tmp_path / "data" / ".pygestor"
    files = [p for p in index.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    folders = {"ds", "listings", "partitions", "train"}  # train: its segments of records
    assert {p.relative_to(index).parts[-2] for p in files} == folders
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {"0o664"}
    assert {oct(p.stat().st_mode & 0o777) for p in index.rglob("*") if p.is_dir()} == {"0o775"}


def test_a_sibling_folder_sharing_a_name_prefix_is_not_inside(tmp_path: Path) -> None:  # L04
    storage = LocalStorage(tmp_path / "data")
    storage.write("ds-other/secret.bin", b"x")
    storage.write("ds/own.bin", b"y")
    (tmp_path / "data" / "ds" / "link").symlink_to(tmp_path / "data" / "ds-other" / "secret.bin")
    assert storage.inside("ds/own.bin", "ds") and not storage.inside("ds/link", "ds")


def test_walk_of_a_folder_that_is_a_link_yields_nothing(tmp_path: Path) -> None:  # L09
    storage = LocalStorage(tmp_path / "data")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "f.bin").write_bytes(b"x")
    storage.write("ds/keep.bin", b"y")
    (tmp_path / "data" / "ds" / "sub").symlink_to(outside)
    assert list(storage.walk("ds/sub")) == [] and sorted(storage.walk("ds")) == [
        "ds/keep.bin",
        "ds/sub",
    ]


# ---- remove and repair -------------------------------------------------------------------
@pytest.fixture
def mnist(tmp_path: Path, hub: HubServer) -> Catalog:
    replicas.install(hub.hub, replicas.mnist())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.download("mnist", all_subsets=True)
    return catalog


TRAIN = "train-00000-of-00001.parquet"


def test_a_link_planted_after_the_removal_plan_is_refused_at_delete_time(
    mnist: Catalog, tmp_path: Path
) -> None:  # R02
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"not pygestor's")
    plan = mnist.plan_remove("mnist", "train")
    target = tmp_path / "data" / "mnist" / "train" / TRAIN
    target.unlink()
    target.symlink_to(outside)  # swapped in between the plan and its execution
    report = plan.execute()  # checked again at delete time: left alone, not reported removed
    assert [f.partition for f in report.files if f.kind == "data"] == []
    assert target.is_symlink() and outside.read_bytes() == b"not pygestor's"


def test_removing_one_partition_deletes_its_partial_download_too(mnist: Catalog) -> None:  # R04
    part = mnist.store.partial_path("mnist", "train", TRAIN)
    part.write_bytes(b"half")
    report = mnist.remove("mnist", "train", partitions=[TRAIN])
    assert {f.kind for f in report.files} == {"data", "partial"} and not part.exists()


def test_repair_drops_the_record_of_a_file_matching_neither_record_nor_listing(
    mnist: Catalog,
) -> None:  # P01 P03
    target = mnist.settings.data_dir / "mnist" / "train" / TRAIN
    raw = bytearray(target.read_bytes())
    raw[-30] ^= 0x01  # same size, other bytes
    target.write_bytes(bytes(raw))
    report = mnist.repair("mnist")
    assert report.mismatched == (f"train/{TRAIN}",) and report.kept == 1
    assert ("train", TRAIN) not in mnist.store.records("mnist")
    assert [p["state"] for p in mnist.partition_records("mnist", "train")] == ["remote"]


def test_repair_checks_a_small_file_by_its_git_blob_id(tmp_path: Path, hub: HubServer) -> None:
    # D02: small (non-LFS) files have no sha256, only the git blob id
    hub.hub.create_repo("pygestor/small", {"data/a.csv": b"x,y\n1,2\n3,4\n"})
    write_manifest(
        tmp_path / "user-catalog",
        "small",
        "name: small\nsource: {huggingface: pygestor/small}\n"
        "subsets: [{files: 'data/*.csv', name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.download("small")
    record = catalog.store.record("small", "all", "a.csv")
    assert record is not None and record.sha256 is None and record.blob_id
    target = tmp_path / "data" / "small" / "all" / "a.csv"
    target.write_bytes(b"x,y\n1,2\n3,5\n")  # same size, other bytes
    report = catalog.repair("small")
    assert (report.checked, report.kept, report.mismatched) == (1, 0, ("all/a.csv",))
    assert catalog.store.records("small") == {}


def test_a_removal_plan_drops_the_record_of_a_file_already_gone(mnist: Catalog) -> None:  # R08
    (mnist.settings.data_dir / "mnist" / "train" / TRAIN).unlink()
    plan = mnist.plan_remove("mnist", "train")
    assert (plan.files, plan.records, plan.not_local) == ((), (f"train/{TRAIN}",), ())
    report = plan.execute()
    assert report.records == (f"train/{TRAIN}",) and ("train", TRAIN) not in mnist.store.records(
        "mnist"
    )


def test_repair_leaves_the_partial_file_of_a_running_download(mnist: Catalog) -> None:  # P05
    part = mnist.store.partial_path("mnist", "train", TRAIN)
    part.write_bytes(b"half")
    with mnist.store.partition_lock("mnist", "train", TRAIN, timeout=5):
        assert mnist.repair("mnist").partials_removed == 0 and part.exists()
    assert mnist.repair("mnist").partials_removed == 1 and not part.exists()


def test_repair_removes_only_temporary_files_older_than_an_hour(mnist: Catalog) -> None:  # P06
    folder = mnist.settings.data_dir / "mnist" / "train"
    young, old = folder / ".tmp-young-x", folder / ".tmp-old-x"
    young.write_bytes(b"in flight")
    old.write_bytes(b"left by a kill")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert mnist.repair("mnist").temp_removed == 1
    assert young.exists() and not old.exists()


# ---- patterns and resolve ----------------------------------------------------------------
def test_a_capture_that_would_hold_a_slash_is_refused() -> None:  # N01
    pattern = compile_pattern("{d:[a-z/]+}.csv")
    assert pattern.match("a/b.csv") is None and pattern.match("ab.csv") == {"d": "ab"}


@pytest.mark.parametrize(
    ("regex", "path"),
    [
        ("[^_.]+", "a/b/c.csv"),  # N02: a negated class of several characters
        ("[^_]+", "a/b/c.csv"),  # N04: of one character (a NOT_LITERAL to re's parser)
        ("\\S+", "a/b/c.csv"),  # N03
        ("\\W+", "-/-/c.csv"),  # N03
        ("\\D+", "a/b/c.csv"),  # N03
        (".+", "a/b/c.csv"),  # N06
    ],
)
def test_placeholder_regexes_stay_inside_one_folder(regex: str, path: str) -> None:
    # matched greedily across '/', x would take "a/b" and the capture would be refused; kept to
    # one folder, x takes the first one and ** the rest
    first = path.split("/", 1)[0]
    assert compile_pattern(f"{{x:{regex}}}/**/{{y}}.csv").match(path) == {"x": first, "y": "c"}


@pytest.mark.parametrize("text", ["c:/data/*.csv", "C:/data/*.csv", "/data/*.csv"])
def test_absolute_patterns_are_refused_whatever_the_drive_letter_case(text: str) -> None:  # N07
    with pytest.raises(PatternError, match="is absolute"):
        compile_pattern(text)


def _manifest(*rules: dict[str, object]) -> Manifest:
    return Manifest.model_validate(
        {"name": "x", "source": {"huggingface": "o/r"}, "subsets": list(rules)}
    )


def test_a_case_only_clash_across_folders_names_partitions_by_their_folder() -> None:  # V05
    res = resolve(
        _manifest({"files": "d/**", "name": "all"}),
        [RemoteFile("d/x/A", 1), RemoteFile("d/y/a", 1)],
    )
    assert [(p.name, p.file.path) for p in res.subsets[0].partitions] == [
        ("x/A", "d/x/A"),
        ("y/a", "d/y/a"),
    ]
    assert res.skipped == ()


def test_every_pattern_of_a_rule_is_tried_after_the_first_fails() -> None:  # V01 V02
    rule = {"files": ["a/*.csv", "data/*.csv", "data/*.json"], "name": "all"}
    paths = ["a/1.csv", "b/0.csv", "data/2.csv", "data/3.json"]
    res = resolve(_manifest(rule), [RemoteFile(p, 1) for p in paths])
    assert [p.file.path for p in res.subsets[0].partitions] == [
        "a/1.csv",
        "data/2.csv",
        "data/3.json",
    ]
    assert res.unmatched == ("b/0.csv",)

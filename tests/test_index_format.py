"""Index format 2: a listing's head and one file per subset (read lazily), records in
create-only segments (one fsynced file per batch, compacted so a subset has a bounded number of
files however many batches wrote it)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pygestor.errors import DamagedIndex
from pygestor.index.records import Listing, Record
from pygestor.index.segments import MAX_SEGMENTS
from pygestor.index.store import Store
from pygestor.manifest.models import Manifest
from pygestor.resolve import Partition, Subset
from pygestor.sources.base import RemoteFile
from pygestor.storage.local import LocalStorage

MANIFEST = Manifest.model_validate(
    {"name": "ds", "source": {"huggingface": "o/ds"}, "subsets": [{"files": "{subset}/*.bin"}]}
)
COUNT = 300


def _listing() -> Listing:
    def part(subset: str, i: int) -> Partition:
        return Partition(f"p{i}.bin", RemoteFile(f"{subset}/p{i}.bin", 4 + i, sha256="a" * 64))

    subsets = tuple(Subset(s, tuple(part(s, i) for i in range(COUNT))) for s in ("test", "train"))
    return Listing(
        "ds", "hf://datasets/o/ds@main", "main", "0" * 40, MANIFEST.fingerprint(), subsets
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(LocalStorage(tmp_path / "data"), lock_timeout=5)


def _record(listing: Listing, subset: str, i: int) -> Record:
    found = listing.subset(subset)
    assert found is not None
    return Record.of(found.partitions[i].file, commit="c", rows=None)


def _segments(store: Store, subset: str) -> list[Path]:
    return sorted(p for p in (store.index_dir / "datasets/ds/segments" / subset).iterdir())


def test_a_subset_is_read_without_the_partitions_of_the_others(store: Store) -> None:
    listing = _listing()
    store.save_listing(listing)
    index = store.index_dir / "datasets/ds"
    files = sorted((index / "partitions").iterdir())
    assert len(files) == 2  # one per subset
    fresh = Store(store.storage)
    head = fresh.listing("ds")
    assert head is not None
    train = head.subset("train")
    assert train is not None and train.partition_count == COUNT
    assert train.size == sum(4 + i for i in range(COUNT))
    for f in files:  # the partitions of every subset gone: the head still reads
        f.rename(f.with_name(".gone-" + f.name))
    again = Store(store.storage).listing("ds")
    assert again is not None and [s.name for s in again.subsets] == ["test", "train"]
    (index / "partitions" / (".gone-" + files[0].name)).rename(files[0])
    loaded = [s for s in again.subsets if s.partition_count and _readable(s)]
    assert len(loaded) == 1 and len(loaded[0].partitions) == COUNT


def _readable(subset: Subset) -> bool:
    try:
        return bool(subset.partitions)
    except DamagedIndex as exc:  # its file is gone: one line naming it
        assert "partitions/" in str(exc) and "--repair" in str(exc)
        return False


def test_a_batch_of_records_is_one_segment_and_reads_back(store: Store) -> None:
    listing = _listing()
    store.save_listing(listing)
    batch = {f"p{i}.bin": _record(listing, "train", i) for i in range(COUNT)}
    store.put_records("ds", "train", batch)
    [segment] = _segments(store, "train")
    assert segment.name == f"0000000001-{COUNT}.json"
    assert set(json.loads(segment.read_bytes())["records"]) == set(batch)
    fresh = Store(store.storage)
    assert fresh.records("ds", "train") == {("train", p): r for p, r in batch.items()}
    assert fresh.records("ds", "test") == {}
    store.drop_records("ds", "train", ["p0.bin", "p1.bin", "not-recorded.bin"])
    left = Store(store.storage).records("ds", "train")
    assert sorted(left) == sorted(("train", f"p{i}.bin") for i in range(2, COUNT))
    before = [p.name for p in _segments(store, "train")]
    store.drop_records("ds", "train", ["p0.bin"])  # nothing recorded: nothing written
    assert [p.name for p in _segments(store, "train")] == before


def test_many_batches_stay_a_bounded_number_of_files(store: Store) -> None:
    listing = _listing()
    store.save_listing(listing)
    for i in range(COUNT):  # one download committing one record at a time
        store.put_records("ds", "train", {f"p{i}.bin": _record(listing, "train", i)})
        assert len(_segments(store, "train")) <= MAX_SEGMENTS
        if i % 7 == 3:
            store.drop_records("ds", "train", [f"p{i - 1}.bin"])
    expected = {("train", f"p{i}.bin") for i in range(COUNT)}
    expected -= {("train", f"p{i - 1}.bin") for i in range(COUNT) if i % 7 == 3}
    assert set(Store(store.storage).records("ds", "train")) == expected


def test_a_damaged_segment_makes_only_its_partitions_not_downloaded(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    listing = _listing()
    store.save_listing(listing)
    store.put_records("ds", "train", {f"p{i}.bin": _record(listing, "train", i) for i in range(50)})
    store.put_records("ds", "train", {"p99.bin": _record(listing, "train", 99)})
    segments = _segments(store, "train")
    assert len(segments) == 2  # (1 entry after 50: not merged)
    damaged = segments[0].read_bytes()[:40]  # truncated
    segments[0].write_bytes(damaged)
    with caplog.at_level(logging.WARNING):
        found = Store(store.storage).records("ds", "train")
    assert list(found) == [("train", "p99.bin")]
    assert segments[0].name in caplog.text and "--repair" in caplog.text
    store2 = Store(store.storage)  # a later batch never merges or removes the damaged one
    store2.put_records("ds", "train", {"p98.bin": _record(listing, "train", 98)})
    assert segments[0].read_bytes() == damaged
    assert set(Store(store.storage).records("ds", "train")) == {
        ("train", "p98.bin"),
        ("train", "p99.bin"),
    }

"""The index on its own: layout keys, listings and the pointer, records, derived states, selection
and the listings shown — over a real `LocalStorage`, without a source or the facade."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pygestor.errors import (
    NotSynced,
    PartitionNotFound,
    PygestorError,
    SelectionError,
    SubsetNotFound,
)
from pygestor.index.records import Listing, Record
from pygestor.index.selection import choose_subsets, pick_partitions, select, states
from pygestor.index.store import Store
from pygestor.index.views import partition_records, subset_records
from pygestor.manifest.models import Manifest
from pygestor.resolve import Partition, Subset
from pygestor.sources.base import RemoteFile
from pygestor.storage.local import LocalStorage

MANIFEST = Manifest.model_validate(
    {"name": "ds", "source": {"huggingface": "o/ds"}, "subsets": [{"files": "{subset}/*.parquet"}]}
)


def _listing(*, sha: str = "a", extra: bool = False) -> Listing:
    train = [
        Partition(f"p{i}.parquet", RemoteFile(f"train/p{i}.parquet", 10 + i, sha256=sha * 64))
        for i in range(3)
    ]
    if extra:
        train.append(Partition("p9.parquet", RemoteFile("train/p9.parquet", 99, sha256="e" * 64)))
    test = [Partition("t.parquet", RemoteFile("test/t.parquet", 5, blob_id="b" * 40))]
    return Listing(
        "ds",
        "hf://datasets/o/ds@main",
        "main",
        "c" * 40,
        MANIFEST.fingerprint(),
        (Subset("train", tuple(train)), Subset("test", tuple(test))),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(LocalStorage(tmp_path / "data"), lock_timeout=5)


def _fetched(store: Store, listing: Listing, subset: str, name: str) -> None:
    """What a download leaves: the file of the listed size, then its record."""
    part = listing.subset(subset).partitions[
        [p.name for p in listing.subset(subset).partitions].index(name)
    ]
    store.storage.write(store.data_key("ds", subset, name), b"x" * part.file.size)
    f = part.file
    store.put_record(
        "ds", subset, name, Record(f.path, f.size, f.sha256, f.blob_id, commit="c" * 40, rows=7)
    )


def test_keys_of_the_layout(store: Store) -> None:
    assert store.data_key("ds", "train", "a/b.parquet") == "ds/train/a/b.parquet"
    assert store.partial_key("ds", "train", "a/b.parquet") == "ds/train/a/.b.parquet.part"
    assert store.record_key("ds", "train", "x") == ".pygestor/datasets/ds/records/train/x.json"
    assert store.arrow_copy_key("ds", "train") == ".pygestor/datasets/ds/arrow/train.arrow"
    assert store.partition_lock_key("ds", "t", "x") == ".pygestor/datasets/ds/locks/t/x.lock"
    for bad in ("../x", "/etc", "a/../b", ".pygestor"):
        with pytest.raises(PygestorError, match="not a safe name"):
            store.data_key(bad, "train", "x")


def test_listings_are_content_addressed_and_the_pointer_keeps_one_before(store: Store) -> None:
    first = store.save_listing(_listing())
    again = store.save_listing(_listing())
    assert again.listing == first.listing and again.previous is None
    moved = store.save_listing(_listing(sha="d"))
    assert moved.previous == first.listing and (moved.subsets, moved.partitions, moved.bytes) == (
        2,
        4,
        38,
    )
    assert (
        store.listing("ds") == _listing(sha="d")
        and store.listing("ds", first.listing) == _listing()
    )
    names = sorted(
        e.key.rsplit("/", 1)[1] for e in store.storage.list(".pygestor/datasets/ds/listings")
    )
    assert names == sorted([f"{first.listing}.json", f"{moved.listing}.json"])
    assert store.synced_datasets() == ["ds"]
    assert (
        store.forget("ds") is True and store.listing("ds") is None and store.forget("ds") is False
    )


def test_damaged_and_foreign_index_files(store: Store) -> None:
    store.storage.write(".pygestor/datasets/ds/current.json", b"{not json")
    with pytest.raises(
        PygestorError,
        match=r"/ds/current\.json: is not valid JSON \(truncated or garbled\); "
        r"run 'pygestor sync ds --repair'$",
    ):
        store.pointer("ds")
    store.storage.write(".pygestor/datasets/ds/current.json", json.dumps({"format": 99}).encode())
    with pytest.raises(PygestorError, match="index format 99 is not supported"):
        store.pointer("ds")
    store.storage.write(store.record_key("ds", "train", "p0.parquet"), b"garbage")
    assert store.record("ds", "train", "p0.parquet") is None and store.records("ds") == {}


def test_records_count_as_local_only_with_their_file(store: Store) -> None:
    listing = _listing()
    _fetched(store, listing, "train", "p0.parquet")
    _fetched(store, listing, "train", "p1.parquet")
    store.storage.write(
        store.data_key("ds", "train", "p1.parquet"), b"short"
    )  # size no longer matches
    assert set(store.records("ds")) == {("train", "p0.parquet"), ("train", "p1.parquet")}
    assert set(store.local_records("ds")) == {("train", "p0.parquet")}
    assert store.records("ds", "test") == {}


def test_states_are_derived_from_records_and_the_listing(store: Store) -> None:
    old = _listing()
    store.save_listing(old)
    _fetched(store, old, "train", "p0.parquet")
    _fetched(store, old, "test", "t.parquet")
    with store.storage.append(store.partial_key("ds", "train", "p2.parquet"), new=True) as fh:
        fh.write(b"half")
    new = Listing(
        old.dataset,
        old.source,
        old.revision,
        "f" * 40,
        old.manifest,
        (Subset("train", _listing(sha="d").subsets[0].partitions),),
    )  # test gone, train changed
    found = states(store, MANIFEST, new, check_partial=True)
    assert {k: s for k, (s, _) in found.items()} == {
        ("train", "p0.parquet"): "stale",
        ("train", "p1.parquet"): "remote",
        ("train", "p2.parquet"): "partial",
        ("test", "t.parquet"): "gone",
    }
    assert (
        states(store, MANIFEST, old)[("train", "p2.parquet")][0] == "remote"
    )  # partial only when asked


def test_select_chooses_and_names_files(store: Store) -> None:
    listing = _listing()
    _fetched(store, listing, "train", "p1.parquet")
    chosen = select(
        store, MANIFEST, listing, "train", partitions=["p1.parquet", "train/p2.parquet"]
    )
    assert [(i.key, i.file_key, i.state) for i in chosen.items] == [
        ("train/p1.parquet", "ds/train/p1.parquet", "local"),
        ("train/p2.parquet", "ds/train/p2.parquet", "remote"),
    ]
    assert chosen.storage is store.storage and chosen.subsets == ("train",) and not chosen.in_place
    everything = select(store, MANIFEST, listing, all_subsets=True)
    assert [i.key for i in everything.with_states("local")] == ["train/p1.parquet"]
    assert len(everything.items) == 4


def test_choosing_subsets_and_partitions_errors() -> None:
    with pytest.raises(SelectionError, match=r"dataset 'ds' has 2 subsets; choose one .*: a, b$"):
        choose_subsets("ds", ["a", "b"], None, False)
    assert choose_subsets("ds", ["a"], None, False) == ["a"]
    assert choose_subsets("ds", ["a", "b"], ["b", "a", "b"], False) == ["b", "a"]
    with pytest.raises(SubsetNotFound, match="dataset 'ds' has no subset 'c'; known: a, b"):
        choose_subsets("ds", ["a", "b"], "c", False)
    keys = [("a", "x"), ("b", "x"), ("b", "y")]
    assert pick_partitions("ds", keys, "x") == [("a", "x"), ("b", "x")]
    assert pick_partitions("ds", keys, ["b/x"]) == [("b", "x")]
    with pytest.raises(
        PartitionNotFound, match=r"no partition 'z' in the chosen subsets of 'ds'; known: x, y"
    ):
        pick_partitions("ds", keys, ["z"])
    assert str(NotSynced("ds")) == "dataset 'ds' has not been synced yet; run 'pygestor sync ds'"


def test_views_total_what_is_known(store: Store) -> None:
    listing = _listing()
    _fetched(store, listing, "test", "t.parquet")
    rows = {r["subset"]: r for r in subset_records(store, MANIFEST, listing)}
    assert rows["test"] == {
        "dataset": "ds",
        "subset": "test",
        "partitions": 1,
        "partitions_local": 1,
        "bytes": 5,
        "bytes_local": 5,
        "rows": 7,
        "arrow_copy_bytes": None,
    }
    assert (rows["train"]["partitions_local"], rows["train"]["rows"], rows["train"]["bytes"]) == (
        0,
        None,
        33,
    )
    [part] = partition_records(store, MANIFEST, listing, "test")
    assert (part["partition"], part["state"], part["rows"], part["sha256"]) == (
        "t.parquet",
        "local",
        7,
        None,
    )

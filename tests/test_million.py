"""The million-partition code path at a small N (issue 11): a generated listing synced from the
bundled Hub, then `list DATASET`, `info` and the partition listing read only the index files
they need: the head, and the partitions of a subset only when it is the one asked about or
something of it is local."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.index.records import Record
from pygestor.testing.hub import GeneratedListing, HubServer, publish

MANIFEST = """
name: gen
source: {huggingface: gen/many}
subsets:
  - files: "data/{subset}/*.parquet"
"""
_OPENED: list[str] = []
_COUNTING = [False]


def _hook(event: str, args: tuple[object, ...]) -> None:
    if _COUNTING[0] and event == "open" and isinstance(args[0], (str, bytes)):
        _OPENED.append(os.fsdecode(args[0]))


sys.addaudithook(_hook)  # (an audit hook cannot be removed: it counts only while asked to)


@contextmanager
def opened_in(folder: Path) -> Iterator[list[str]]:
    """The files below `folder` opened meanwhile, as paths relative to it, sorted."""
    found: list[str] = []
    del _OPENED[:]
    _COUNTING[0] = True
    try:
        yield found
    finally:
        _COUNTING[0] = False
        root = f"{os.path.abspath(folder)}/"
        found += sorted(p[len(root) :] for p in map(os.path.abspath, _OPENED) if p.startswith(root))


def synced(tmp_path: Path, hub: HubServer) -> tuple[Catalog, GeneratedListing]:
    gen = GeneratedListing(3_000, subsets=3, seed=5)
    publish(hub.hub, "gen/many", gen)
    write_manifest(tmp_path / "user-catalog", "gen", MANIFEST)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    [result] = catalog.sync("gen")
    assert (result.subsets, result.partitions, result.error) == (3, 3_000, None)
    return catalog, gen


def kinds(paths: list[str]) -> list[str]:
    """Which index files those are: `current.json`, `listings/` (a head), `partitions/`, ..."""
    index = ".pygestor/datasets/gen/"
    return [p[len(index) :].split("/")[0] if p.startswith(index) else p for p in paths]


def test_list_dataset_of_subsets_never_downloaded_reads_no_partitions(
    tmp_path: Path, hub: HubServer
) -> None:
    _, gen = synced(tmp_path, hub)
    fresh = Catalog(make_settings(tmp_path, hub.endpoint))  # (no file parsed yet)
    with opened_in(tmp_path / "data") as paths:
        rows = fresh.subset_records("gen", counts=True)
    assert kinds(paths) == ["current.json", "listings"]
    assert [
        (r["subset"], r["partitions"], r["partitions_local"], r["bytes_local"]) for r in rows
    ] == [(f"s{j}", gen.subset_size(j), 0, 0) for j in range(3)]
    sizes = {}
    for path, size, _ in gen.files():
        sizes[path.split("/")[1]] = sizes.get(path.split("/")[1], 0) + size
    assert [r["bytes"] for r in rows] == [sizes["s0"], sizes["s1"], sizes["s2"]]
    assert [r["states"] for r in rows] == [
        {"local": 0, "stale": 0, "gone": 0, "partial": 0, "remote": gen.subset_size(j)}
        for j in range(3)
    ]
    assert [(r["rows"], r["downloaded_at"]) for r in rows] == [(None, None)] * 3


def test_only_the_subsets_with_something_local_are_read(tmp_path: Path, hub: HubServer) -> None:
    catalog, gen = synced(tmp_path, hub)
    store = catalog.store
    s1 = [f for f in gen.files() if f[0].startswith("data/s1/")]
    path, size, sha = s1[7]
    name = path.rsplit("/", 1)[1]
    (tmp_path / "data/gen/s1").mkdir(parents=True)
    (tmp_path / "data/gen/s1" / name).write_bytes(b"x" * size)
    record = Record(path, size, sha, None, None, "c0ffee", 12, "2026-12-04T10:00:00Z")
    store.put_record("gen", "s1", name, record)
    (tmp_path / "data/gen/s2").mkdir(parents=True)
    partial = [f for f in gen.files() if f[0].startswith("data/s2/")][3][0]
    (tmp_path / "data/gen/s2" / f".{partial.rsplit('/', 1)[1]}.part").write_bytes(b"half")

    fresh = Catalog(make_settings(tmp_path, hub.endpoint))
    with opened_in(tmp_path / "data") as paths:
        rows = fresh.subset_records("gen", counts=True)
    # the head, the records of s1 and its partitions (to tell local from stale), and the
    # partitions of s2 (to tell a `.part` of a listed partition); never those of s0
    assert kinds(paths) == ["current.json", "listings", "partitions", "partitions", "segments"]
    assert [(r["partitions_local"], r["bytes_local"], r["downloaded_at"]) for r in rows] == [
        (0, 0, None),
        (1, size, "2026-12-04T10:00:00Z"),
        (0, 0, None),
    ]
    assert [
        (r["states"]["local"], r["states"]["partial"], r["states"]["remote"]) for r in rows
    ] == [
        (0, 0, gen.subset_size(0)),
        (1, 0, gen.subset_size(1) - 1),
        (0, 1, gen.subset_size(2) - 1),
    ]

    fresh = Catalog(make_settings(tmp_path, hub.endpoint))
    with opened_in(tmp_path / "data") as paths:
        described = fresh.info("gen", "s0")
    # (the pointer twice: the listing in force, then the dataset's totals); one partitions file
    assert kinds(paths) == ["current.json", "current.json", "listings", "partitions", "segments"]
    assert described["partitions_local"] == 0 and described["sample"] is None
    states = {r["state"] for r in described["partition_records"]}
    assert (len(described["partition_records"]), states) == (gen.subset_size(0), {"remote"})
    [local] = [r for r in fresh.partition_records("gen", "s1") if r["state"] == "local"]
    assert (local["partition"], local["rows"], local["sha256"]) == (name, 12, sha)


def test_a_subset_file_is_checked_a_column_at_a_time_with_the_same_verdicts() -> None:
    import json

    import pytest

    from pygestor.errors import DamagedIndex
    from pygestor.index.records import SubsetFile

    def part(i: int, **changes: object) -> dict[str, object]:
        return {
            "name": f"p{i}.parquet",
            "path": f"data/p{i}.parquet",
            "size": i,
            "sha256": None,
            "blob_id": f"{i:040x}",
            "mtime": None if i % 2 else 1.5,
            "format": "parquet" if i % 3 else None,
            **changes,
        }

    def parse(parts: list[dict[str, object]]) -> SubsetFile:
        data = {"format": 2, "dataset": "gen", "subset": "s0", "partitions": parts}
        return SubsetFile.parse(json.dumps(data).encode(), where="f.json", dataset="gen")

    good = parse([part(i) for i in range(5)])
    assert [(p.name, p.file.size, p.file.mtime, p.format) for p in good.partitions][:3] == [
        ("p0.parquet", 0, 1.5, None),
        ("p1.parquet", 1, None, good.partitions[1].format),
        ("p2.parquet", 2, 1.5, good.partitions[2].format),
    ]
    assert good.partitions[1].format is not None and good.partitions[1].format.value == "parquet"
    refused = {
        "a line break in a name": (part(3, name="a\nb"), "has a partition named 'a\\nb'"),
        "a negative size": (part(3, size=-1), "size of a partition of subset 's0': -1"),
        "a size that is true": (part(3, size=True), "size of a partition of subset 's0': true"),
        "an unknown format": (part(3, format="xls"), "has a partition of format 'xls'"),
        "an infinite mtime": (part(3, mtime=float("inf")), "mtime of a partition"),
        "an extra key": ({**part(3), "x": 1}, "has an unknown key 'x' of a partition"),
        "a missing key": ({k: v for k, v in part(3).items() if k != "path"}, "misses the key"),
    }
    for why, (bad, message) in refused.items():
        with pytest.raises(DamagedIndex) as caught:
            parse([part(0), part(1), bad, part(4)])
        assert message in str(caught.value), why


def test_a_sync_that_changes_nothing_parses_none_of_the_partitions_before(
    tmp_path: Path, hub: HubServer
) -> None:
    from pygestor.index import store

    synced(tmp_path, hub)
    store.PARTITIONS.clear()
    store.LISTINGS.clear()
    with opened_in(tmp_path / "data") as paths:
        [again] = Catalog(make_settings(tmp_path, hub.endpoint)).sync("gen")
    assert (again.changed, again.new, again.error) == (False, (), None)
    # each subset file is read once, its bytes compared with what the sync would write (its
    # name is a hash of them), and none is parsed
    assert kinds(paths).count("partitions") == 3
    assert store.PARTITIONS.info().entries == 0
    # one more file (in another repo): each subset's first and last file move along
    publish(hub.hub, "gen/more", GeneratedListing(3_001, subsets=3, seed=5))
    write_manifest(tmp_path / "user-catalog", "gen", MANIFEST.replace("gen/many", "gen/more"))
    [moved] = Catalog(make_settings(tmp_path, hub.endpoint)).sync("gen")
    assert (moved.changed, moved.partitions) == (True, 3_001)
    assert moved.new == ("s0/part-1000.parquet", "s1/part-2000.parquet", "s2/part-3000.parquet")

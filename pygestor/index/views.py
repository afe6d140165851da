"""The listings people and machines read: one record per dataset, subset or partition.

The same keys everywhere: `--json` prints these dicts, the Python API turns them into pandas
DataFrames with these columns, the web UI shows them. Sizes in bytes, times ISO-8601 UTC, None
when unknown (e.g. before a sync).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from ..errors import DamagedIndex
from ..manifest.models import Manifest
from ..resolve import Subset
from . import tiers
from .records import Listing, Record, columns_of
from .selection import placed
from .store import Store

DATASET_COLUMNS = (
    "name",
    "description",
    "modality",
    "source",
    "revision",
    "commit",
    "synced_at",
    "subsets",
    "partitions",
    "partitions_local",
    "bytes",
    "bytes_local",
)
SUBSET_COLUMNS = (
    "dataset",
    "subset",
    "partitions",
    "partitions_local",
    "bytes",
    "bytes_local",
    "rows",
    "arrow_copy_bytes",
)
PARTITION_COLUMNS = (
    "dataset",
    "subset",
    "partition",
    "path",
    "size",
    "state",
    "rows",
    "sha256",
    "downloaded_at",
    "location",  # the data directory (tier) the file is read from; None when not local
)
STATE_NAMES = ("local", "stale", "gone", "partial", "remote")  # DESIGN.md's partition states
_ON_DISK = ("local", "stale", "gone")  # states whose file is in a data directory


def dataset_records(store: Store, manifests: Iterable[Manifest]) -> list[dict[str, Any]]:
    """`dataset_record` of each manifest. A dataset that no tier has an index folder for is not
    synced: one listing of each tier's index tells (a catalog of 1,000 manifests, most never
    synced, costs no stat per dataset)."""
    indexed = _indexed(store)
    return [
        dataset_record(store, m, indexed=indexed is None or m.name in indexed) for m in manifests
    ]


def _indexed(store: Store) -> set[str] | None:
    """The names in any tier's `.pygestor/datasets/` folder; None when one of those folders is
    something else (a file, a link: `tiers.pointer` then reports it, per dataset)."""
    from .store import INDEX

    names: set[str] = set()
    for tier in store.tiers:
        above = [tier.storage.info(INDEX), tier.storage.info(f"{INDEX}/datasets")]
        if any(found is not None and found.kind != "dir" for found in above):
            return None
        if None not in above:
            names.update(e.key.rpartition("/")[2] for e in tier.storage.list(f"{INDEX}/datasets"))
    return names


def dataset_record(store: Store, manifest: Manifest, *, indexed: bool = True) -> dict[str, Any]:
    """One dataset: what its pointer says (no listing is read) and what is local. A damaged
    pointer is warned about (the dataset then shows as not synced), so one dataset's damaged
    index does not hide the catalog. `indexed=False`: no tier has an index folder for it (so no
    pointer to read)."""
    m = manifest
    try:
        pointer = tiers.pointer(store, m.name) if indexed else None
    except DamagedIndex as exc:
        store.warn_once(exc)
        pointer = None
    record: dict[str, Any] = {
        "name": m.name,
        "description": m.description,
        "modality": list(m.modality),
        "source": str(m.source.folder) if m.source.kind == "local" else m.source.describe(),  # type: ignore[union-attr]
        "revision": None,
        "commit": None,
        "synced_at": None,
        "subsets": None,
        "partitions": None,
        "partitions_local": 0,
        "bytes": None,
        "bytes_local": 0,
    }
    if pointer is None:
        return record
    record.update(
        revision=pointer.revision,
        commit=pointer.commit,
        synced_at=pointer.synced_at,
        subsets=pointer.subsets,
        partitions=pointer.partitions,
        bytes=pointer.bytes,
    )
    if m.source.kind == "local":
        record.update(partitions_local=pointer.partitions, bytes_local=pointer.bytes)
    else:
        local = tiers.local_records(store, m.name)
        record.update(partitions_local=len(local), bytes_local=sum(r.size for r in local.values()))
    return record


def subset_records(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    *,
    counts: bool = False,
    subset: str | None = None,
) -> list[dict[str, Any]]:
    """One record per subset of the listing (see SUBSET_COLUMNS), or of the one named `subset`.
    With `counts`, each also has `states` (how many partitions are in each of STATE_NAMES;
    `partial` costs a look at the subset's folder) and `downloaded_at` (the latest download of
    one of its partitions).

    Only the subsets something is local of are read: a subset no tier has a record of (and,
    with `counts`, no folder in the personal tier, so no `.part` download) is all remote, and
    its counts come from the listing's head; one of a `local:` source, read in place, is all
    local. So `list DATASET` of a million partitions never downloaded reads no partitions."""
    name = manifest.name
    in_place = manifest.source.kind == "local"
    local = [] if in_place else [t.local_records(name) for t in store.tiers]
    recorded = {s for tier in local for s, _ in tier}
    rows = []
    for listed in listing.subsets:
        if subset is not None and listed.name != subset:
            continue
        unread = in_place or listed.name not in recorded
        if unread and counts and not in_place:
            unread = store.storage.info(f"{name}/{listed.name}") is None
        if unread:
            row, tally = _unread(name, listed, in_place)
        else:
            row, tally = _read(store, manifest, listing, listed, local, counts)
        key = store.arrow_copy_key(name, listed.name)
        copy = next(filter(None, (t.storage.info(key) for t in store.tiers)), None)
        row["arrow_copy_bytes"] = copy.size if copy else None
        if counts:
            row.update(states=tally[0], downloaded_at=tally[1])
        rows.append(row)
    return rows


Tally = tuple[dict[str, int], str | None]  # partitions per state, the latest download


def _unread(dataset: str, listed: Subset, in_place: bool) -> tuple[dict[str, Any], Tally]:
    """The record of a subset that is all local (`in_place`) or all remote, from its totals."""
    count, size = listed.partition_count, listed.size
    row = {
        "dataset": dataset,
        "subset": listed.name,
        "partitions": count,
        "partitions_local": count if in_place else 0,
        "bytes": size,
        "bytes_local": size if in_place else 0,
        "rows": None,  # (no partition has a record saying how many)
    }
    tally = dict.fromkeys(STATE_NAMES, 0)
    tally["local" if in_place else "remote"] = count
    return row, (tally, None)


def _read(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    listed: Subset,
    local: list[dict[tuple[str, str], Record]],
    counts: bool,
) -> tuple[dict[str, Any], Tally]:
    """The record of a subset from the state of each of its partitions."""
    found = placed(store, manifest, listing, subset=listed.name, check_partial=counts, local=local)
    states = [found[(listed.name, p.name)] for p in listed.partitions]
    on_disk = [
        p for p, st in zip(listed.partitions, states, strict=True) if st[0] in ("local", "stale")
    ]
    row = {
        "dataset": manifest.name,
        "subset": listed.name,
        "partitions": len(listed.partitions),
        "partitions_local": len(on_disk),
        "bytes": listed.size,
        "bytes_local": sum(p.file.size for p in on_disk),
        "rows": _total([st[1].rows if st[1] else None for st in states]),
    }
    tally = dict.fromkeys(STATE_NAMES, 0)
    for st in states:
        tally[st[0]] += 1
    tally["gone"] = sum(1 for st in found.values() if st[0] == "gone")
    times = [st[1].downloaded_at for st in states if st[1] and st[1].downloaded_at]
    return row, (tally, max(times, default=None))


def partition_records(
    store: Store, manifest: Manifest, listing: Listing, subset: str
) -> list[dict[str, Any]]:
    """One record per partition of a subset of the listing (see PARTITION_COLUMNS), `gone` ones
    last. The subset must be in the listing. (One dict per partition, built inline: a subset
    has 100,000 of them.)"""
    name = manifest.name
    listed = listing.subset(subset)
    assert listed is not None
    found = placed(store, manifest, listing, subset=subset, check_partial=True)
    where = [t.storage.url for t in store.tiers]
    if manifest.source.kind == "local":
        where = [str(manifest.source.folder)]  # type: ignore[union-attr]
    rows: list[dict[str, Any]] = []
    append = rows.append
    c = columns_of(listed)
    entries = (
        (partition, path, size, sha256, *found[(subset, partition)])
        for partition, path, size, sha256 in zip(c.names, c.paths, c.sizes, c.sha256s, strict=True)
    )
    gone = (  # local files of partitions no longer listed (of this subset), last
        (pname, rec.path, rec.size, rec.sha256, state, rec, tier)
        for (s, pname), (state, rec, tier) in sorted(
            (k, v) for k, v in found.items() if v[0] == "gone"
        )
        if s == subset and rec is not None
    )
    for partition, path, size, sha256, state, rec, tier in itertools.chain(entries, gone):
        append(
            {
                "dataset": name,
                "subset": subset,
                "partition": partition,
                "path": path,
                "size": size,
                "state": state,
                "rows": rec.rows if rec else None,
                "sha256": sha256,
                "downloaded_at": rec.downloaded_at if rec else None,
                "location": where[tier] if state in _ON_DISK else None,
            }
        )
    return rows


def _total(values: list[int | None]) -> int | None:
    """The sum, or None when any value is unknown (or there are none)."""
    return sum(v for v in values if v is not None) if values and None not in values else None

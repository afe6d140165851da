"""Rebuilding a dataset's index from its source listing plus a rescan of the data directory.

`remove_damaged` first deletes index files that cannot be read (so a sync can write them again);
the facade then syncs; `repair` rescans what is on disk against the new listing.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import LockTimeout
from ..index.digest import digests, parallel_map, parquet_rows, same
from ..index.records import FORMAT_VERSION, Listing, Record
from ..index.store import STALE_TEMP_SECONDS, Store
from ..manifest.models import Manifest
from ..manifest.patterns import is_safe_relpath
from ..sources.base import RemoteFile
from ..storage.base import TEMP_PREFIX
from .remove import partial_of


@dataclass(frozen=True)
class RepairReport:
    """What `repair` did to one dataset's index (`error` set, the rest empty, when it failed)."""

    dataset: str
    commit: str | None = None
    partitions: int = 0  # in the listing just synced
    checked: int = 0  # local files hashed
    recorded: int = 0  # records written (the file matches the listing)
    kept: int = 0  # records already right (including stale copies that match their own record)
    mismatched: tuple[str, ...] = ()  # files matching neither: left unrecorded
    dropped: tuple[str, ...] = ()  # records whose file is missing
    unknown: tuple[
        str, ...
    ] = ()  # files in the dataset folder that belong to no partition (left alone)
    partials_removed: int = 0  # `.part` files of downloads nobody is running
    temp_removed: int = 0  # `.tmp-*` files older than an hour
    damaged_removed: int = 0  # unreadable index files
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "commit": self.commit,
            "partitions": self.partitions,
            "checked": self.checked,
            "recorded": self.recorded,
            "kept": self.kept,
            "mismatched": list(self.mismatched),
            "dropped": list(self.dropped),
            "unknown": list(self.unknown),
            "partials_removed": self.partials_removed,
            "temp_removed": self.temp_removed,
            "damaged_removed": self.damaged_removed,
            "error": self.error,
        }


@dataclass(frozen=True)
class _Candidate:
    subset: str
    partition: str
    key: str
    listed: RemoteFile | None
    record: Record | None

    @property
    def name(self) -> str:
        return f"{self.subset}/{self.partition}"


def remove_damaged(store: Store, dataset: str) -> int:
    """Delete index files of `dataset` that cannot be read (or are of another format version),
    so that the sync and rescan can write them again. Returns how many."""
    removed = 0
    for key in store.storage.walk(store.dataset_index_key(dataset)):
        name = key.rsplit("/", 1)[-1]
        if name.endswith(".json") and not name.startswith(".") and not _readable(store, key):
            removed += store.storage.remove(key)
    return removed


def repair(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    *,
    damaged_removed: int = 0,
    workers: int | None = None,
) -> RepairReport:
    """Rescan the data of `manifest`'s dataset against `listing` (just synced): for each partition
    file on disk, a record when its size and hash match the listing (an existing record matching
    the file is kept, so a stale copy stays stale rather than lost), else it is left unrecorded
    and reported `mismatched`. Records whose file is missing are dropped. `.part` files whose
    partition lock nobody holds, and `.tmp-*` files older than an hour, are deleted."""
    name = manifest.name
    report: dict[str, Any] = {
        "commit": listing.commit,
        "partitions": listing.partition_count,
        "damaged_removed": damaged_removed,
    }
    report["temp_removed"] = sum(
        _remove_old_temp(store, f) for f in (name, store.dataset_index_key(name))
    )
    if manifest.source.kind == "local":  # read in place: no records, nothing downloaded
        return RepairReport(name, **report)
    records = store.records(name)
    listed = {(s.name, p.name): p.file for s in listing.subsets for p in s.partitions}
    candidates, dropped = [], []
    for key in sorted(set(listed) | set(records)):
        data = store.data_key(name, *key)
        found = store.storage.info(data, follow=True)
        if found is not None and found.kind == "file":
            candidates.append(_Candidate(key[0], key[1], data, listed.get(key), records.get(key)))
        elif key in records:
            store.drop_record(name, *key)
            dropped.append(f"{key[0]}/{key[1]}")
    outcomes = parallel_map(lambda c: _repair_one(store, name, listing, c), candidates, workers)
    partials, unknown = _scan_dataset_folder(store, name, {c.key for c in candidates})
    return RepairReport(
        name,
        **report,
        checked=len(candidates),
        recorded=outcomes.count("recorded"),
        kept=outcomes.count("kept"),
        mismatched=tuple(
            c.name for c, o in zip(candidates, outcomes, strict=True) if o == "mismatched"
        ),
        dropped=tuple(dropped),
        unknown=tuple(unknown),
        partials_removed=partials,
    )


def _repair_one(store: Store, name: str, listing: Listing, c: _Candidate) -> str:
    """'recorded', 'kept' or 'mismatched' for one file on disk."""
    wants = [w for w in (c.listed, c.record.file if c.record else None) if w is not None]
    got = digests(
        store.storage,
        c.key,
        sha256=any(w.sha256 for w in wants),
        blob_id=any(w.blob_id for w in wants),
    )
    if c.listed is not None and same(c.listed, got):
        if c.record is not None and c.record.matches(c.listed) and same(c.record.file, got):
            return "kept"
        info = store.storage.info(c.key)
        mtime = datetime.fromtimestamp(info.mtime if info else time.time(), UTC)
        record = Record.of(
            c.listed,
            commit=listing.commit,
            rows=parquet_rows(store.storage, c.key),
            downloaded_at=mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        store.put_record(name, c.subset, c.partition, record)
        return "recorded"
    if c.record is not None and same(c.record.file, got):
        return "kept"
    if c.record is not None:
        store.drop_record(name, c.subset, c.partition)
    return "mismatched"


def _scan_dataset_folder(store: Store, name: str, taken: set[str]) -> tuple[int, list[str]]:
    """Delete `.part` files whose partition nobody is downloading; list files of no partition."""
    removed, unknown = 0, []
    for key in store.storage.walk(name):
        rel = key[len(name) + 1 :]
        base = key.rsplit("/", 1)[-1]
        if key in taken or base.startswith(TEMP_PREFIX):
            continue
        subset, _, inner = rel.partition("/")
        partition = (
            partial_of(key, f"{name}/{subset}") if inner and is_safe_relpath(subset) else None
        )
        if partition is not None:
            removed += _remove_partial(store, name, subset, partition, key)
        elif not base.startswith("."):
            unknown.append(rel)
    return removed, unknown


def _remove_partial(store: Store, name: str, subset: str, partition: str, key: str) -> int:
    try:
        with store.partition_lock(name, subset, partition, timeout=0):
            store.storage.remove(key)
            return 1
    except LockTimeout:
        return 0  # a download is running


def _remove_old_temp(store: Store, folder: str) -> int:
    """Delete `.tmp-*` files under `folder` older than an hour (left by killed processes)."""
    cutoff = time.time() - STALE_TEMP_SECONDS
    removed = 0
    for key in store.storage.walk(folder):
        if key.rsplit("/", 1)[-1].startswith(TEMP_PREFIX):
            info = store.storage.info(key)
            if info is not None and info.mtime < cutoff:
                removed += store.storage.remove(key)
    return removed


def _readable(store: Store, key: str) -> bool:
    try:
        data = json.loads(store.storage.read(key) or b"")
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT_VERSION

"""Rebuilding a dataset's index from its source listing plus a rescan of the data directory.

`remove_damaged` first deletes index files that cannot be read (so a sync can write them again);
the facade then syncs; `repair` rescans what is on disk against the new listing.

What counts as damaged is what the index's reads refuse (`index/records.py` parses each kind):
unreadable or wrong-shaped JSON, another format version, a folder or a symbolic link in place of
an index file (the link itself is removed, never what it leads to), a file or link in place of
one of the index's folders, a pointer naming a listing that is not there, an Arrow copy that does
not open. Only paths of pygestor's own index are ever removed this way; the data is rescanned,
never deleted (a `.part` excepted, as before).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ..errors import DamagedIndex, LockTimeout
from ..index.digest import digests, parallel_map, parquet_rows, same
from ..index.prune import STALE_TEMP_SECONDS
from ..index.records import Listing, Pointer, Record, StoredSubset, SubsetFile
from ..index.segments import Segment
from ..index.store import INDEX, Store
from ..manifest.models import Manifest
from ..manifest.patterns import is_safe_relpath
from ..sources.base import RemoteFile
from ..storage.base import TEMP_PREFIX, FileInfo, Storage
from .remove import partial_of

Key = tuple[str, str]  # (subset, partition)


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
    """Delete index files of `dataset` that cannot be read (or are of another format version,
    or are folders or links in place of files), so that the sync and rescan can write them
    again. Returns how many."""
    storage, folder = store.storage, store.dataset_index_key(dataset)
    for above in (INDEX, f"{INDEX}/datasets", folder):
        found = storage.info(above)
        if found is None:
            return 0
        if found.kind != "dir":  # a file, or a link (removed itself, never what it leads to)
            return int(storage.remove(above))
    removed = 0
    for entry in storage.list(folder):
        name = entry.key.rsplit("/", 1)[-1]
        if name.startswith(TEMP_PREFIX):
            continue  # a write in flight, or left by a killed process (removed when old)
        wanted = _LAYOUT.get(name)
        if wanted is None:
            continue  # not pygestor's: left alone
        if entry.kind != wanted[0]:
            removed += _remove_entry(storage, entry)
        elif wanted[0] == "file":
            removed += _check_file(store, dataset, entry, wanted[1])
        else:
            removed += _check_folder(store, dataset, entry, wanted[1])
    removed += _drop_dangling_pointer(store, dataset)
    return removed


# what the dataset's index folder holds: name -> (kind, the suffix of the files in it / the kind)
_LAYOUT = {
    "current.json": ("file", "pointer"),
    "lock": ("file", "lock"),
    "listings": ("dir", ".json"),
    "partitions": ("dir", ".json"),
    "segments": ("dir", ".json"),
    "records": ("dir", ".json"),  # format 1 (pygestor 0.6), until migrated
    "locks": ("dir", ".lock"),
    "arrow": ("dir", ".arrow"),
}
_KINDS = {".json": "json", ".lock": "lock", ".arrow": "arrow"}


def _check_folder(store: Store, dataset: str, folder: FileInfo, suffix: str, depth: int = 0) -> int:
    """Remove what in an index folder is not a readable file of its kind: folders in place of
    its files, links, damaged files. In `records/` and `locks/` the folders of subsets (and of
    partitions named by paths) are descended into."""
    removed = 0
    top = folder.key[len(store.dataset_index_key(dataset)) + 1 :].split("/")[0]
    nested = depth > 0 or top in ("records", "locks", "segments")
    for entry in store.storage.list(folder.key):
        name = entry.key.rsplit("/", 1)[-1]
        if name.startswith("."):
            continue  # temporary files: `_remove_old_temp`
        if entry.kind == "link" or (
            entry.kind == "dir"
            and (
                (top == "segments" and depth > 0)  # a segment's place: files only
                or _in_place_of_file(store, entry, suffix, depth, nested)
            )
        ):
            removed += _remove_entry(store.storage, entry)
        elif entry.kind == "dir":
            removed += _check_folder(store, dataset, entry, suffix, depth + 1)
        elif not name.endswith(suffix):  # in place of a folder, or left there: not an index file
            removed += int(store.storage.remove(entry.key))
        else:
            kind = {"listings": "listing", "partitions": "subset", "segments": "segment"}.get(
                top, _KINDS[suffix]
            )
            removed += _check_file(store, dataset, entry, "record" if kind == "json" else kind)
    return removed


def _in_place_of_file(store: Store, entry: FileInfo, suffix: str, depth: int, nested: bool) -> bool:
    """True for a folder standing where an index file should be: any folder in `listings/` or
    `arrow/`; below a subset's folder of records (or locks), one named like a file of the kind
    that holds none (a partition named by a path has folders of records, never empty ones)."""
    if not nested:
        return True
    if depth == 0 or not entry.key.endswith(suffix):
        return False  # a subset's folder (its name may be anything safe)
    return not any(key.endswith(suffix) for key in store.storage.walk(entry.key))


def _check_file(store: Store, dataset: str, entry: FileInfo, kind: str) -> int:
    """Remove `entry` when it is not a readable file of `kind`; 1 when removed."""
    if kind == "lock":
        return 0  # a lock file's content does not matter
    try:
        raw = store.storage.read(entry.key)
        if raw is None:
            return 0
        if kind == "arrow":
            _open_arrow(store.storage, entry.key)
        elif kind == "listing":  # a head, and the subset files it names
            load = store.subset_loader(dataset)
            listing = Listing.parse(raw, where=entry.key, dataset=dataset, load=load)
            for subset in listing.subsets:
                if isinstance(subset, StoredSubset):
                    store.subset_columns(
                        dataset, subset.name, subset.file, subset.partition_count, subset.size
                    )
        elif kind == "segment":
            owner = entry.key.rsplit("/", 2)[-2]
            Segment.parse(raw, where=entry.key, dataset=dataset, subset=owner)
        elif kind == "subset":
            SubsetFile.parse(raw, where=entry.key, dataset=dataset)
        elif kind == "pointer":
            Pointer.parse(raw, where=entry.key, dataset=dataset)
        else:
            Record.parse(raw, where=entry.key, dataset=dataset)
        return 0
    except (DamagedIndex, OSError, ValueError):
        return int(store.storage.remove(entry.key))


def _open_arrow(storage: Storage, key: str) -> None:
    """ValueError unless `key` opens as an Arrow IPC file (what an Arrow copy is)."""
    import pyarrow as pa

    try:
        with storage.open_arrow(key) as source:
            pa.ipc.open_file(source).schema  # noqa: B018  # reads the footer
    except pa.ArrowException as exc:
        raise ValueError(str(exc)) from None


def _drop_dangling_pointer(store: Store, dataset: str) -> int:
    """Remove the pointer when the listing it names is not there (a sync writes both again)."""
    pointer = store.pointer(dataset)
    if pointer is None or store.listing(dataset, pointer.listing) is not None:
        return 0
    return int(store.storage.remove(f"{store.dataset_index_key(dataset)}/current.json"))


def _remove_entry(storage: Storage, entry: FileInfo) -> int:
    """Remove a file, a link (itself) or a whole folder of the index; 1 when anything went."""
    if entry.kind != "dir":
        return int(storage.remove(entry.key))
    for inner in storage.list(entry.key):
        _remove_entry(storage, inner)
    storage.remove_dir(entry.key)
    return 1


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
    partition lock nobody holds, and `.tmp-*` files older than an hour, are deleted (on an
    object store also the data directory's multipart uploads started over an hour ago)."""
    name = manifest.name
    report: dict[str, Any] = {
        "commit": listing.commit,
        "partitions": listing.partition_count,
        "damaged_removed": damaged_removed,
    }
    report["temp_removed"] = sum(
        _remove_old_temp(store, f) for f in (name, store.dataset_index_key(name))
    )
    abort = getattr(store.storage, "abort_uploads", None)  # object stores: killed uploads
    if abort is not None:
        report["temp_removed"] += abort(older_than=STALE_TEMP_SECONDS)
    if manifest.source.kind == "local":  # read in place: no records, nothing downloaded
        return RepairReport(name, **report)
    listed = {(s.name, p.name): p.file for s in listing.subsets for p in s.partitions}
    report["damaged_removed"] += _remove_folders_in_place_of_records(store, name, listed)
    records = store.records(name)
    candidates, dropped = [], []
    drops: dict[str, list[str]] = {}  # subset -> partitions whose record goes
    for key in sorted(set(listed) | set(records)):
        data = store.data_key(name, *key)
        found = store.storage.info(data, follow=True)
        if found is not None and found.kind == "file":
            candidates.append(_Candidate(key[0], key[1], data, listed.get(key), records.get(key)))
        elif key in records:
            drops.setdefault(key[0], []).append(key[1])
            dropped.append(f"{key[0]}/{key[1]}")
    results = parallel_map(lambda c: _repair_one(store, name, listing, c), candidates, workers)
    outcomes = [outcome for outcome, _ in results]
    puts: dict[str, dict[str, Record]] = {}
    for c, (_, change) in zip(candidates, results, strict=True):
        if isinstance(change, Record):
            puts.setdefault(c.subset, {})[c.partition] = change
        elif change == "drop":
            drops.setdefault(c.subset, []).append(c.partition)
    for subset, partitions in drops.items():  # one batch per subset (see `Store.put_records`)
        store.drop_records(name, subset, partitions)
    for subset, batch in puts.items():
        store.put_records(name, subset, batch)
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


def _remove_folders_in_place_of_records(store: Store, name: str, listed: Iterable[Key]) -> int:
    """Remove a folder standing where a listed partition's record goes (`remove_damaged` cannot
    tell it from the folder of partitions named by a path without the listing)."""
    removed = 0
    for key in listed:
        record = store.record_key(name, *key)
        found = store.storage.info(record)
        if found is not None and found.kind == "dir":
            removed += _remove_entry(store.storage, found)
    return removed


def _repair_one(
    store: Store, name: str, listing: Listing, c: _Candidate
) -> tuple[str, Record | str | None]:
    """'recorded', 'kept' or 'mismatched' for one file on disk, and what to do to its record:
    write this `Record`, 'drop' it, or nothing (the caller commits them in batches)."""
    wants = [w for w in (c.listed, c.record.file if c.record else None) if w is not None]
    got = digests(
        store.storage,
        c.key,
        sha256=any(w.sha256 for w in wants),
        blob_id=any(w.blob_id for w in wants),
    )
    if c.listed is not None and same(c.listed, got):
        if c.record is not None and c.record.matches(c.listed) and same(c.record.file, got):
            return "kept", None
        info = store.storage.info(c.key)
        mtime = datetime.fromtimestamp(info.mtime if info else time.time(), UTC)
        record = Record.of(
            c.listed,
            commit=listing.commit,
            rows=parquet_rows(store.storage, c.key),
            downloaded_at=mtime.strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        return "recorded", record
    if c.record is not None and same(c.record.file, got):
        return "kept", None
    return "mismatched", "drop" if c.record is not None else None


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

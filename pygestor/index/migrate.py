"""Migrating a dataset's index from format 1 (pygestor 0.6) to format 2.

Format 1 stored a listing as one file (`listings/<id>.json`, every partition in it) and a record
per partition (`records/<subset>/<partition>.json`). Format 2 splits the listing into a head and
one file per subset, and keeps records in segments (see `store.py`). Format 1 is still read, so
a read-only tier or a command that only reads never has to write; the first write to a dataset's
index (a sync, a download's records, a removal) migrates it first, under the dataset lock:

1. the listing in force is written again as format 2 (its subset files, then its head), and the
   pointer is replaced by one to it (one atomic rename: before it, readers see format 1; after
   it, format 2); the format 1 listings are then removed;
2. the format 1 records are written as one segment per subset (fsynced), then removed.

A process killed in the middle leaves either state readable: format 1 files left over are
migrated again by the next write (the same records again: a segment adds nothing new), never
read after format 2 ones. Damaged format 1 records are warned about (as when they are read) and
dropped: their partitions count as not downloaded, and a download adopts the files after hashing
them. Another process migrating the same dataset waits for the lock, then finds nothing to do.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from ..storage.base import Storage
from .records import FORMAT_VERSION, LEGACY_FORMAT, Listing, Pointer, Record
from .segments import Segment


class _Index(Protocol):  # what of `Store` a migration uses (store.py imports this module)
    storage: Storage

    def dataset_index_key(self, dataset: str) -> str: ...
    def pointer(self, dataset: str) -> Pointer | None: ...
    def listing(self, dataset: str, listing_id: str | None = None) -> Listing | None: ...
    def listing_files(self, listing: Listing) -> tuple[str, list[tuple[str, bytes]]]: ...
    def create_index_files(self, files: list[tuple[str, bytes]], dataset: str) -> None: ...
    def move_pointer(self, dataset: str, pointer: Pointer) -> None: ...
    def legacy_records(
        self, dataset: str, subset: str | None = None
    ) -> dict[tuple[str, str], Record]: ...
    def append_segment(self, segment: Segment) -> str: ...


def migrate_locked(store: _Index, dataset: str) -> bool:
    """Migrate `dataset`'s index to format 2 (the caller holds its lock); True if anything was
    left to migrate."""
    moved = _migrate_listing(store, dataset)
    return _migrate_records(store, dataset) or moved


def _migrate_listing(store: _Index, dataset: str) -> bool:
    pointer = store.pointer(dataset)
    if pointer is None or pointer.format != LEGACY_FORMAT:
        return False
    listing = store.listing(dataset)  # (a DamagedIndex when the pointer names nothing)
    assert listing is not None
    listing_id, files = store.listing_files(listing)
    store.create_index_files(files, dataset)
    new = replace(pointer, listing=listing_id, previous=None, format=FORMAT_VERSION)
    store.move_pointer(dataset, new)
    folder = f"{store.dataset_index_key(dataset)}/listings"
    for entry in store.storage.list(folder):
        name = entry.key.rsplit("/", 1)[-1]
        if entry.kind == "file" and name.endswith(".json") and name != f"{listing_id}.json":
            store.storage.remove(entry.key)  # format 1 listings (temporary files are left)
    return True


def _migrate_records(store: _Index, dataset: str) -> bool:
    storage = store.storage
    root = f"{store.dataset_index_key(dataset)}/records"
    found = storage.info(root)
    if found is None:
        return False
    if found.kind == "dir":
        by_subset: dict[str, dict[str, Record]] = {}
        for (subset, partition), record in sorted(store.legacy_records(dataset).items()):
            by_subset.setdefault(subset, {})[partition] = record
        for subset, records in by_subset.items():
            store.append_segment(Segment(dataset, subset, records))
        _remove_tree(storage, root)
    else:
        storage.remove(root)  # a file or a link in its place: never read, never followed
    return True


def _remove_tree(storage: Storage, root: str) -> None:
    """Remove the folder `root` and everything in it (links themselves, never what they lead
    to)."""
    for entry in storage.list(root):
        if entry.kind == "dir":
            _remove_tree(storage, entry.key)
        else:
            storage.remove(entry.key)
    storage.remove_dir(root)

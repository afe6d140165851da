"""The data directory's layout and index: the one module that knows where every file goes.

    DATA_DIR/
    ├── .pygestor/                           the index (nothing here is a dataset name)
    │   └── datasets/<dataset>/
    │       ├── current.json                 pointer to the listing in force + its totals
    │       ├── listings/<id>.json           one resolved listing per distinct sync; immutable
    │       ├── records/<subset>/<partition>.json
    │       │                                one small record per verified local partition
    │       ├── locks/<subset>/<partition>.lock   held while a process downloads it
    │       ├── arrow/<subset>.arrow         opt-in memory-mapped Arrow copy of a subset
    │       └── lock                         taken to move the pointer (and by downloads)
    └── <dataset>/<subset>/<partition>       the data, as downloaded
        └── .<file>.part                     a download in progress (never counted as data)

Two kinds of state, so that no write grows with the size of a dataset: the *listing* a sync
resolved (written once per sync, named by a hash of its content, never changed) and the *local
records* (one small file per partition, written on its own after the file was verified). Every
write is atomic: a unique temporary file beside the target, fsync, rename. A file on disk without
its record, or a `.part` file, is not downloaded. All of it is JSON with a format version, and
can be rebuilt from a source listing plus a rescan of the data.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from contextlib import AbstractContextManager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import PygestorError
from ..manifest.patterns import is_safe_relpath
from ..storage.base import TEMP_PREFIX, FileInfo, Storage
from .records import FORMAT_VERSION, Listing, Pointer, Record, check_format, utc_now

KEEP_LISTINGS = 3  # listings kept per dataset: the current one and a few before it
INDEX = ".pygestor"  # the index folder's key (nothing of this name is a dataset)
STALE_TEMP_SECONDS = 3600


class Store:
    """The on-disk layout and index of one data directory, over its storage (`pygestor.storage`).
    Safe to share between processes and hosts."""

    def __init__(
        self,
        storage: Storage | str | os.PathLike[str],
        *,
        lock_timeout: float = 600.0,
        file_mode: int | None = None,
        lower: tuple[Store, ...] = (),
    ) -> None:
        if isinstance(storage, (str, os.PathLike)):
            from ..storage.local import LocalStorage

            storage = LocalStorage(storage, file_mode=file_mode)
        self.storage: Storage = storage
        self.lock_timeout = lock_timeout
        self.lower = lower  # read-only shared tiers below this one (`index.tiers`); never written

    @property
    def tiers(self) -> tuple[Store, ...]:
        """This store (the one written to) and the read-only tiers below it, in reading order."""
        return (self, *self.lower)

    @property
    def data_dir(self) -> Path:
        return self.storage.local_path("")

    @property
    def index_dir(self) -> Path:
        return self.storage.local_path(INDEX)

    # ---- keys (see the tree in the module docstring) -----------------------------------------
    def dataset_index_key(self, dataset: str) -> str:
        _require_safe(dataset)
        return f"{INDEX}/datasets/{dataset}"

    def data_key(self, dataset: str, subset: str, partition: str) -> str:
        """Where a partition's file lives; every part is checked so nothing escapes the data dir."""
        for part in (dataset, subset, partition):
            _require_safe(part)
        return f"{dataset}/{subset}/{partition}"

    def subset_key(self, dataset: str, subset: str) -> str:
        """The folder of a subset's files (partition names are safe relative paths below it)."""
        _require_safe(dataset)
        _require_safe(subset)
        return f"{dataset}/{subset}"

    def partial_key(self, dataset: str, subset: str, partition: str) -> str:
        """The temporary file of a download in progress (a hidden name no partition can have)."""
        folder, _, name = self.data_key(dataset, subset, partition).rpartition("/")
        return f"{folder}/.{name}.part"

    def listed_partial_key(self, dataset: str, subset: str, partition: str) -> str:
        """`partial_key` for names taken from a listing (checked when it was resolved): no check
        again, since listings ask it once per remote partition."""
        folder, _, name = f"{dataset}/{subset}/{partition}".rpartition("/")
        return f"{folder}/.{name}.part"

    def arrow_copy_key(self, dataset: str, subset: str) -> str:
        """The opt-in memory-mapped Arrow copy of a subset (see `pygestor.read.arrow_copy`)."""
        _require_safe(subset)
        return f"{self.dataset_index_key(dataset)}/arrow/{subset}.arrow"

    def partition_lock_key(self, dataset: str, subset: str, partition: str) -> str:
        """The lock a process holds while it downloads (or removes) one partition."""
        _require_safe(subset)
        _require_safe(partition)
        return f"{self.dataset_index_key(dataset)}/locks/{subset}/{partition}.lock"

    def record_key(self, dataset: str, subset: str, partition: str) -> str:
        _require_safe(subset)
        _require_safe(partition)
        return f"{self.dataset_index_key(dataset)}/records/{subset}/{partition}.json"

    # local paths of the same files, for values shown to people (plans, reports, Arrow copies)
    def data_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.data_key(dataset, subset, partition))

    def subset_dir(self, dataset: str, subset: str) -> Path:
        return self.storage.local_path(self.subset_key(dataset, subset))

    def partial_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.partial_key(dataset, subset, partition))

    def arrow_copy_path(self, dataset: str, subset: str) -> Path:
        return self.storage.local_path(self.arrow_copy_key(dataset, subset))

    def partition_lock_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.partition_lock_key(dataset, subset, partition))

    # ---- listings and the pointer -------------------------------------------------------
    def save_listing(self, listing: Listing, *, synced_at: str | None = None) -> Pointer:
        """Write `listing` (once; content-addressed) and make it current. Returns the new
        pointer."""
        data = listing.to_json()
        text = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
        listing_id = hashlib.sha256(text).hexdigest()[:32]
        folder = self.dataset_index_key(listing.dataset)
        target = f"{folder}/listings/{listing_id}.json"
        self.storage.create(target, text)
        with self.lock(listing.dataset):
            self.storage.create(
                target, text
            )  # pruned by a concurrent sync between our write and the lock
            old = self.pointer(listing.dataset)
            if old is None:
                previous = None
            else:
                previous = old.previous if old.listing == listing_id else old.listing
            pointer = Pointer(
                listing=listing_id,
                synced_at=synced_at or utc_now(),
                previous=previous,
                **listing.totals(),
            )
            self.write_json(f"{folder}/current.json", asdict(pointer))
            self._prune_listings(f"{folder}/listings", keep={listing_id, pointer.previous})
        return pointer

    def pointer(self, dataset: str) -> Pointer | None:
        data = self._read_json(f"{self.dataset_index_key(dataset)}/current.json")
        if data is None:
            return None
        check_format(data)
        return Pointer(**data)

    def listing(self, dataset: str, listing_id: str | None = None) -> Listing | None:
        """The listing named (default: the current one), or None if the dataset was never synced."""
        for _ in range(3):  # a concurrent sync may prune the listing between the two reads
            if listing_id is None:
                pointer = self.pointer(dataset)
                if pointer is None:
                    return None
                wanted = pointer.listing
            else:
                wanted = listing_id
            data = self._read_json(f"{self.dataset_index_key(dataset)}/listings/{wanted}.json")
            if data is not None:
                return Listing.from_json(data)
            if listing_id is not None:
                return None
        raise PygestorError(
            f"the index of {dataset!r} names a listing that is missing; run 'pygestor sync "
            f"{dataset}'"
        )

    def forget(self, dataset: str) -> bool:
        """Drop the dataset's listings and pointer (records of local files stay). True if any."""
        folder = self.dataset_index_key(dataset)
        with self.lock(dataset):
            found = self.storage.remove(f"{folder}/current.json")
            for entry in _visible_json(self.storage.list(f"{folder}/listings")):
                self.storage.remove(entry.key)
        return found

    def synced_datasets(self) -> list[str]:
        root = f"{INDEX}/datasets"
        return [
            e.key[len(root) + 1 :]
            for e in self.storage.list(root)
            if e.kind == "dir" and self.storage.info(f"{e.key}/current.json") is not None
        ]

    def _prune_listings(self, folder: str, keep: set[str | None]) -> None:
        entries = self.storage.list(folder)
        listings = sorted(_visible_json(entries), key=lambda e: e.mtime, reverse=True)
        for entry in listings[KEEP_LISTINGS:]:
            if entry.key.rsplit("/", 1)[-1][: -len(".json")] not in keep:
                self.storage.remove(entry.key)
        cutoff = time.time() - STALE_TEMP_SECONDS  # temporary files left by killed processes
        for entry in entries:
            if entry.key.rsplit("/", 1)[-1].startswith(TEMP_PREFIX) and entry.mtime < cutoff:
                self.storage.remove(entry.key)

    # ---- records of local partitions ---------------------------------------------------
    def put_record(self, dataset: str, subset: str, partition: str, record: Record) -> None:
        # Not fsynced: a record lost to a crash only means its (fsynced, verified) file is
        # hashed again and re-recorded by the next download or `sync --repair`.
        key = self.record_key(dataset, subset, partition)
        self.storage.write(
            key, json.dumps(asdict(record), indent=1, sort_keys=True).encode(), durable=False
        )

    def record(self, dataset: str, subset: str, partition: str) -> Record | None:
        """One partition's record, or None (also when damaged: it then counts as not downloaded)."""
        try:
            data = self._read_json(self.record_key(dataset, subset, partition))
        except PygestorError:
            return None
        return Record(**data) if data and data.get("format") == FORMAT_VERSION else None

    def drop_record(self, dataset: str, subset: str, partition: str) -> None:
        self.storage.remove(self.record_key(dataset, subset, partition))

    def records(self, dataset: str, subset: str | None = None) -> dict[tuple[str, str], Record]:
        """Every record of the dataset (or of one subset), keyed by (subset, partition).
        (This runs once per partition on every listing: plain string keys, no pathlib.)"""
        root = f"{self.dataset_index_key(dataset)}/records"
        if subset is not None:
            _require_safe(subset)
        storage = self.storage
        found: dict[tuple[str, str], Record] = {}
        cut = len(root) + 1
        for key in storage.walk(f"{root}/{subset}" if subset is not None else root):
            name = key[cut:]
            if not name.endswith(".json") or "/." in f"/{name}" or "/" not in name:
                continue
            try:
                data = json.loads(storage.read(key) or b"null")
                record = Record(**data) if data.get("format") == FORMAT_VERSION else None
            except (OSError, ValueError, TypeError, AttributeError):
                continue  # vanished or damaged: that partition counts as not downloaded
            if record is not None:
                subset_name, _, partition = name[: -len(".json")].partition("/")
                found[(subset_name, partition)] = record
        return found

    def local_records(
        self, dataset: str, subset: str | None = None
    ) -> dict[tuple[str, str], Record]:
        """The records whose data file is on disk with the recorded size (what counts as local)."""
        info = self.storage.info
        kept = {}
        for (s, p), rec in self.records(dataset, subset).items():
            found = info(f"{dataset}/{s}/{p}", follow=True)
            if found is not None and found.size == rec.size:
                kept[(s, p)] = rec
        return kept

    # ---- writes and locks ----------------------------------------------------------------
    def write_json(self, key: str, data: Any) -> None:
        self.storage.write(key, json.dumps(data, indent=1, sort_keys=True).encode())

    def lock(self, dataset: str) -> AbstractContextManager[None]:
        """An exclusive per-dataset lock across processes (fcntl locks work on NFSv4 and local
        disks);
        waits at most `lock_timeout` seconds, then raises LockTimeout."""
        return self.storage.lock(
            f"{self.dataset_index_key(dataset)}/lock", timeout=self.lock_timeout
        )

    def partition_lock(
        self, dataset: str, subset: str, partition: str, *, timeout: float
    ) -> AbstractContextManager[None]:
        """The lock held while one partition is downloaded or removed; LockTimeout after
        `timeout`."""
        return self.storage.lock(
            self.partition_lock_key(dataset, subset, partition), timeout=timeout
        )

    def _read_json(self, key: str) -> Any:
        data = self.storage.read(key)
        if data is None:
            return None
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PygestorError(
                f"{self.storage.local_path(key)}: damaged index file; run 'pygestor sync --repair'"
            ) from None


def _require_safe(name: str) -> None:
    if not isinstance(name, str) or not is_safe_relpath(name):
        raise PygestorError(f"{name!r} is not a safe name for a file or folder")


def _visible_json(entries: list[FileInfo]) -> list[FileInfo]:
    """`*.json` entries, leaving out temporary files (`.tmp-...`) of writes in flight."""
    return [
        e
        for e in entries
        if e.kind == "file"
        and e.key.endswith(".json")
        and not e.key.rsplit("/", 1)[-1].startswith(".")
    ]

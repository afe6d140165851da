"""The data directory's layout and index: the one module that knows where every file goes.

    DATA_DIR/
    ├── .pygestor/                           the index (nothing here is a dataset name)
    │   └── datasets/<dataset>/
    │       ├── current.json                 pointer to the listing in force + its totals
    │       ├── listings/<id>.json           the head of one resolved listing per distinct sync:
    │       │                                subsets, their totals, the report; immutable
    │       ├── partitions/<id>.json         the partitions of one subset of a listing; immutable
    │       ├── segments/<subset>/<seq>-<n>.json
    │       │                                records of verified local partitions, one
    │       │                                create-only file per batch (`segments.py`)
    │       ├── locks/<subset>/<partition>.lock   held while a process downloads it
    │       ├── arrow/<subset>.arrow         opt-in memory-mapped Arrow copy of a subset
    │       └── lock                         taken to move the pointer and to write records
    └── <dataset>/<subset>/<partition>       the data, as downloaded
        └── .<file>.part                     a download in progress (never counted as data)

Two kinds of state, so that no write grows with the size of a dataset and no command reads more
than it needs: the *listing* a sync resolved (written once per sync, its head and each subset's
partitions named by a hash of their content, never changed: a subset unchanged by a sync is not
written again) and the *local records* (one segment per batch a download commits, fsynced once;
compacted so a subset has a handful of segment files however many partitions it has). Listings
and segments are only ever created, never rewritten; only the small pointer is replaced, under
the dataset lock (on object storage: a compare-and-swap). `list` reads the pointers; a command
about one subset reads the head and that subset's files only. A file on disk without its record,
or a `.part` file, is not downloaded. All of it is JSON with a format version (2; pygestor 0.6
wrote format 1, one file per listing and per record: still read, and migrated by the first write
to the dataset's index, `migrate`), and can be rebuilt from a source listing plus a rescan of the
data.

Every read checks what it read (`records.py`: one `parse` per kind): a damaged pointer or listing
(unreadable, wrong shape, a folder in its place, a pointer naming a missing listing, a file or
link in place of the dataset's index folder) is a `DamagedIndex` naming the file and
`pygestor sync DATASET --repair`; a damaged record only makes its partition not local, with a
warning naming it (logged once per file and `Store`). Reads follow a symbolic link planted in
place of an index file (a dangling one reads as missing); no write follows or replaces it (the
write stops with the `DamagedIndex` line), and repair removes it.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import DamagedIndex, LockTimeout, PygestorError
from ..manifest.cache import FileCache
from ..storage.base import FileInfo, Storage, located
from .layout import INDEX, Layout, _require_safe
from .migrate import migrate_locked
from .prune import GRACE, prune_listings, visible_json
from .records import (
    Columns,
    Listing,
    Pointer,
    Record,
    SubsetFile,
    SubsetLoader,
    utc_now,
)
from .segments import Segment, SegmentName, apply, merged, to_merge

log = logging.getLogger(__name__)

#: listings parsed by this process (frozen values), by file and version: a page of a subset of
#: 5,000 partitions, or a reload from an Arrow copy, does not parse its listing every time.
#: Weighed in partitions (~0.5 kB each in memory): at most ~120 MB however many datasets.
LISTINGS: FileCache[Listing] = FileCache(max_entries=64, max_weight=250_000)
#: the partitions of subsets (`partitions/<id>.json`) and segments parsed, the same way
PARTITIONS: FileCache[Columns] = FileCache(max_entries=256, max_weight=250_000)
SEGMENTS: FileCache[Segment] = FileCache(max_entries=1024, max_weight=250_000)
MERGED_KEPT = 4  # subsets whose merged records a Store keeps (per-partition lookups of a download)


class Store(Layout):
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

    # ---- listings and the pointer -------------------------------------------------------
    def save_listing(self, listing: Listing, *, synced_at: str | None = None) -> Pointer:
        """Write `listing` (once; content-addressed: its head and one file per subset) and make
        it current. Returns the new pointer."""
        dataset = listing.dataset
        listing_id, files = self.listing_files(listing)
        self.create_index_files(files, dataset)

        def pointer_after(old: Pointer | None) -> Pointer:
            if old is None:
                previous = None
            else:
                previous = old.previous if old.listing == listing_id else old.listing
            return Pointer(
                listing=listing_id,
                synced_at=synced_at or utc_now(),
                previous=previous,
                **listing.totals(),
            )

        folder = self.dataset_index_key(dataset)
        if self.storage.compare_and_swap:  # no lock: the pointer swapped on the version read
            self._migrate_locked(dataset)
            pointer = self._swap_pointer(dataset, pointer_after)
            prune_listings(self.storage, folder, {listing_id, pointer.previous}, grace=GRACE)
            return pointer
        with self.lock(dataset):
            self._migrate_locked(dataset)
            self.create_index_files(files, dataset, check=False)  # (pruned by a sync meanwhile)
            pointer = pointer_after(self.pointer(dataset))
            self.move_pointer(dataset, pointer)
            prune_listings(self.storage, folder, {listing_id, pointer.previous})
        return pointer

    def _swap_pointer(self, dataset: str, change: Callable[[Pointer | None], Pointer]) -> Pointer:
        """Replace the pointer by `change(the pointer read)` with `storage.write_if` on the
        version read, reading again and retrying when another host moved it first (with a
        growing, jittered pause); LockTimeout naming the pointer after `lock_timeout` seconds
        of losing. Nothing is lost: each attempt starts from the pointer then in force."""
        key = f"{self.dataset_index_key(dataset)}/current.json"
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.005
        while True:
            with self._writing(key, dataset):
                found = self.storage.read_tagged(key)
                old, tag = None, None
                if found is not None:
                    old = Pointer.parse(found[0], where=self._shown(key), dataset=dataset)
                    tag = found[1]
                pointer = change(old)
                if self.storage.write_if(key, _json_bytes(asdict(pointer)), tag=tag):
                    return pointer
            if time.monotonic() > deadline:
                raise LockTimeout(self._shown(key), self.lock_timeout)
            time.sleep(pause * (0.5 + random.random()))
            pause = min(pause * 2, 0.5)

    def listing_files(self, listing: Listing) -> tuple[str, list[tuple[str, bytes]]]:
        """The id of `listing` as stored, and its files (key, bytes): the subsets', the head
        last (so a head is never there without the files it names)."""
        head_id, head, subsets = listing.stored()
        files = [(self.subset_file_key(listing.dataset, f), text) for f, text in subsets]
        return head_id, [*files, (self.listing_key(listing.dataset, head_id), head)]

    def migrate(self, dataset: str) -> bool:
        """Bring the dataset's index to this format (`migrate.py`), under the dataset lock;
        True when anything was migrated. Every write to the index does this first."""
        with self.lock(dataset):
            return self._migrate_locked(dataset)

    def _migrate_locked(self, dataset: str) -> bool:
        done: set[str] = self.__dict__.setdefault("_migrated", set())
        if dataset in done:
            return False
        changed = migrate_locked(self, dataset)
        done.add(dataset)
        return changed

    def create_index_files(
        self, files: list[tuple[str, bytes]], dataset: str, *, check: bool = True
    ) -> None:
        """Create each of `files` (key, bytes) that is not there yet, all made durable by one
        sync. They are named by their content, so one that is there must hold these bytes:
        with `check`, one that does not is a DamagedIndex (a sync reads no listing it does not
        change, so this is where a damaged one shows)."""
        todo = []
        for key, text in files:
            with self._writing(key, dataset):  # the checks before a write
                if self.storage.info(key) is None:
                    todo.append((key, text))
                elif check and self.storage.read(key) != text:
                    raise DamagedIndex(self._shown(key), _NOT_ITS_CONTENT, dataset)
        try:
            self.storage.create_all(todo)
        except OSError:  # something in the way: one at a time, for the line naming it
            for key, text in todo:
                with self._writing(key, dataset):
                    if self.storage.info(key) is None:
                        self.storage.create(key, text)

    def move_pointer(self, dataset: str, pointer: Pointer) -> None:
        """Replace the pointer (atomically; the caller holds the dataset lock)."""
        key = f"{self.dataset_index_key(dataset)}/current.json"
        with self._writing(key, dataset):
            self.write_json(key, asdict(pointer))

    def pointer(self, dataset: str) -> Pointer | None:
        """The pointer in force, None if the dataset was never synced; DamagedIndex when it (or
        the dataset's index folder) is damaged."""
        folder = self.dataset_index_key(dataset)
        for above in (INDEX, f"{INDEX}/datasets", folder):
            found = self.storage.info(above)
            if found is None:
                return None
            if found.kind != "dir":
                what = "a symbolic link" if found.kind == "link" else "a file"
                raise DamagedIndex(  # above the dataset's folder: repair any (or all) datasets
                    self._shown(above),
                    f"is {what}, not a folder of pygestor's index",
                    dataset if above == folder else None,
                )
        key = f"{folder}/current.json"
        raw = self._read(key, dataset)
        if raw is None:
            return None
        return Pointer.parse(raw, where=self._shown(key), dataset=dataset)

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
            stored = self._listing_file(self.listing_key(dataset, wanted), dataset)
            if stored is not None:
                return stored
            if listing_id is not None:
                return None
        listings = f"{self.dataset_index_key(dataset)}/listings"
        found = self.storage.info(listings)
        if found is not None and found.kind != "dir":
            raise DamagedIndex(self._shown(listings), "is not a folder", dataset)
        raise DamagedIndex(
            self._shown(f"{self.dataset_index_key(dataset)}/current.json"),
            f"names the listing {wanted}, which is missing from listings/",
            dataset,
        )

    def _listing_file(self, key: str, dataset: str) -> Listing | None:
        """The listing stored at `key`, None when missing. Parsed once per process and version
        of the file (`LISTINGS`): a listing is never rewritten (it is named by its content), and
        a damaged or replaced file has another size or mtime, so it is read (and refused) again."""
        info, ident, cached = self._cached(LISTINGS, key)
        if cached is not None:
            return cached
        raw = self._read(key, dataset)
        if raw is None:
            return None
        load = self.subset_loader(dataset)
        listing = Listing.parse(raw, where=self._shown(key), dataset=dataset, load=load)
        if ident is not None and info is not None and len(raw) == info.size:
            weight = 1 + listing.partition_count  # (a head's subsets keep what they read)
            LISTINGS.put(ident, listing, changed_ns=info.mtime_ns, weight=weight)
        return listing

    def _cached(self, cache: FileCache[Any], key: str) -> tuple[FileInfo | None, Any, Any]:
        """(the file's info, its identity in `cache`, the value cached for that version or
        None): immutable index files are parsed once per process and version of the file."""
        info = self.storage.info(key, follow=True)
        if info is None or info.kind != "file":
            return info, None, None
        ident = (f"{self.storage.url}/{key}", info.size, info.mtime_ns)
        return info, ident, cache.get(ident)

    def subset_loader(self, dataset: str) -> SubsetLoader:
        """What reads the partitions of a subset of `dataset`'s stored listings."""

        def load(subset: str, file_id: str, count: int, size: int) -> Columns:
            return self.subset_columns(dataset, subset, file_id, count, size)

        return load

    def subset_columns(
        self, dataset: str, subset: str, file_id: str, count: int, size: int
    ) -> Columns:
        """The partitions of one subset of a stored listing (its head says `count` and `size`),
        as columns, parsed once per process and file version; DamagedIndex naming the file
        when it is missing, damaged or not the one the head names."""
        key = self.subset_file_key(dataset, file_id)
        info, ident, cached = self._cached(PARTITIONS, key)
        if cached is not None:
            return cached
        folder = key.rpartition("/")[0]
        above = self.storage.info(folder)
        if above is not None and above.kind == "file":
            raise DamagedIndex(self._shown(folder), "is not a folder", dataset)
        raw = self._read(key, dataset)
        where = self._shown(key)
        if raw is None:
            what = f"is missing (the listing in force names it for subset {subset!r})"
            raise DamagedIndex(where, what, dataset)
        name, found = SubsetFile.parse_columns(raw, where=where, dataset=dataset)
        got = (name, len(found.names), sum(found.sizes))
        if got != (subset, count, size):
            raise DamagedIndex(
                where,
                f"holds {got[1]} partitions ({got[2]} bytes) of subset {got[0]!r}, where the "
                f"listing in force names it for {count} ({size} bytes) of subset {subset!r}",
                dataset,
            )
        if ident is not None and info is not None and len(raw) == info.size:
            PARTITIONS.put(ident, found, changed_ns=info.mtime_ns, weight=1 + count)
        return found

    def forget(self, dataset: str) -> bool:
        """Drop the dataset's listings and pointer (records of local files stay). True if any."""
        folder = self.dataset_index_key(dataset)
        with self.lock(dataset):
            found = self.storage.remove(f"{folder}/current.json")
            for kind in ("listings", "partitions"):
                for entry in visible_json(self.storage.list(f"{folder}/{kind}")):
                    self.storage.remove(entry.key)
        return found

    def synced_datasets(self) -> list[str]:
        root = f"{INDEX}/datasets"
        return [
            e.key[len(root) + 1 :]
            for e in self.storage.list(root)
            if e.kind == "dir" and self.storage.info(f"{e.key}/current.json") is not None
        ]

    # ---- records of local partitions ---------------------------------------------------
    def put_record(self, dataset: str, subset: str, partition: str, record: Record) -> None:
        """Record one verified partition (a batch of one: see `put_records`)."""
        self.put_records(dataset, subset, {partition: record})

    def put_records(self, dataset: str, subset: str, records: dict[str, Record]) -> None:
        """Record several verified partitions of one subset at once (`{partition: record}`): one
        segment file, fsynced once, written under the dataset lock. When this returns the
        records are durable."""
        self.put_batch(dataset, {subset: records})

    def put_batch(
        self, dataset: str, subsets: dict[str, dict[str, Record]], files: Sequence[str] = ()
    ) -> None:
        """`put_records` of several subsets (`{subset: {partition: record}}`, a download's
        batch) under one dataset lock: one segment per subset, made durable together, and with
        them first the data `files` (keys) they record (`Storage.create_all`'s `sync_first`)."""
        self._commit(*(Segment(dataset, s, dict(r)) for s, r in subsets.items() if r), files=files)

    def drop_records(self, dataset: str, subset: str, partitions: list[str]) -> None:
        """Forget the records of several partitions of one subset at once (one segment saying
        so, if any of them has a record)."""
        if partitions:
            self._commit(Segment(dataset, subset, {}, tuple(dict.fromkeys(partitions))))

    def drop_record(self, dataset: str, subset: str, partition: str) -> None:
        self.drop_records(dataset, subset, [partition])

    def _commit(self, *segments: Segment, files: Sequence[str] = ()) -> None:
        """Write each segment (of one dataset) after its subset's others, under one dataset
        lock, compacting each subset after its write (`files`: see `put_batch`)."""
        for partition in (p for g in segments for p in (*g.records, *g.dropped)):
            _require_safe(partition)
        if not segments:
            self.storage.sync(files)
            return
        with self.lock(segments[0].dataset):
            self._migrate_locked(segments[0].dataset)
            writes = []
            for segment in segments:
                dataset, subset = segment.dataset, segment.subset
                if segment.dropped:
                    current = self._subset_records(dataset, subset)
                    gone = tuple(p for p in segment.dropped if p in current)
                    segment = Segment(dataset, subset, segment.records, gone)
                    if not segment.entries:
                        continue
                writes.append(segment)
            self._append_segments(writes, files)

    def _append_segments(self, segments: list[Segment], data: Sequence[str]) -> None:
        """`append_segment` of each (one per subset), all made durable by one sync after the
        `data` files, then compact the subsets that had segments before (the caller holds the
        dataset lock). One segment and no data: `append_segment` (one fsync)."""
        if not segments:
            self.storage.sync(data)
            return
        files, before = [], []
        for segment in segments if len(segments) > 1 or data else ():
            folder = self.segments_key(segment.dataset, segment.subset)
            names = self._segment_entries(folder)
            seq = max((n.seq for n, _ in names), default=0) + 1
            key = f"{folder}/{self._segment_name(seq, segment.entries)}"
            files.append((key, segment.to_bytes()))
            before.append(bool(names))
            with self._writing(files[-1][0], segment.dataset):  # the checks before a write
                pass
        try:
            made = self.storage.create_all(files, sync_first=data) if files else (False,)
        except OSError:  # something in the way: one at a time, for the line naming it
            self.storage.sync(data)  # (the data before any record of it)
            made, before = (False,) * len(files), [True] * len(files)
        for segment, new, old in zip(segments, made, before or (True,), strict=True):
            if not new:  # (one segment; or a stray file took its name: the next one)
                self.append_segment(segment)
            if old or not new:
                self._compact_locked(segment.dataset, segment.subset)

    def append_segment(self, segment: Segment) -> str:
        """Create `segment` after its subset's others (the caller holds the dataset lock)."""
        folder = self.segments_key(segment.dataset, segment.subset)
        seq = max((n.seq for n, _ in self._segment_entries(folder)), default=0) + 1
        text = segment.to_bytes()
        while True:
            key = f"{folder}/{self._segment_name(seq, segment.entries)}"
            with self._writing(key, segment.dataset):
                if self.storage.create(key, text):
                    return key
            seq += 1

    def _compact_locked(self, dataset: str, subset: str) -> None:
        """Merge the newest readable segments of a subset when `segments.to_merge` says so
        (the caller holds the dataset lock). A damaged segment is never merged nor removed."""
        folder = self.segments_key(dataset, subset)
        entries = self._segment_entries(folder)
        run: list[tuple[SegmentName, Segment]] = []
        for name, entry in reversed(entries):
            segment = self._segment(dataset, subset, entry)
            if not isinstance(segment, Segment):
                break
            run.insert(0, (name, segment))
        count = to_merge([n for n, _ in run])
        if count <= 1:
            return
        run = run[-count:]
        # drops are left out of a merge that starts at the oldest segment, unless a writer that
        # listed the segments before this merge may still add one before it (no lock)
        first = len(run) == len(entries) and self._legacy_root(dataset) is None
        first = first and not self.storage.compare_and_swap
        combined = merged((seg for _, seg in run), first=first)
        key = f"{folder}/{self._segment_name(run[-1][0].seq, combined.entries)}"
        text = combined.to_bytes()
        with self._writing(key, dataset):
            # there already: the same merge by another process, unless (without a lock) another
            # run, or a writer's batch, took the name first: then the run stays as it is
            if not self.storage.create(key, text) and self.storage.read(key) != text:
                return
        for name, _ in run:
            if f"{folder}/{name.file}" != key:
                self.storage.remove(f"{folder}/{name.file}")

    def _segment_name(self, seq: int, entries: int) -> str:
        """The file name of a new segment (one never used before, without a lock)."""
        tag = uuid.uuid4().hex[:16] if self.storage.compare_and_swap else ""
        return SegmentName(seq, entries, tag).file

    def _segment_entries(self, folder: str) -> list[tuple[SegmentName, FileInfo]]:
        """The segments in `folder`, in order (temporary files and strays left out)."""
        found = []
        for entry in self.storage.list(folder):
            name = SegmentName.of(entry.key.rsplit("/", 1)[-1])
            if name is not None:
                found.append((name, entry))
        found.sort(key=lambda t: (t[0].seq, t[1].key))
        return found

    def _segment(self, dataset: str, subset: str, entry: FileInfo) -> Segment | bool:
        """The segment `entry` (parsed once per process and version of the file); False when
        it cannot be used (warned: its partitions count as not downloaded), True when it
        vanished meanwhile (compacted by another process)."""
        key = entry.key
        if entry.kind == "dir":
            self._warn_record(key, DamagedIndex(key, "is a folder, not a file"))
            return False
        ident = (f"{self.storage.url}/{key}", entry.size, entry.mtime_ns)
        if entry.kind == "file":
            cached = SEGMENTS.get(ident)
            if cached is not None:
                return cached
        try:
            raw = self.storage.read(key)
            if raw is None:
                return entry.kind == "file"  # a dangling link reads as missing
            segment = Segment.parse(raw, where=key, dataset=dataset, subset=subset)
        except (OSError, DamagedIndex) as exc:
            self._warn_record(key, exc)
            return False
        if entry.kind == "file" and len(raw) == entry.size:
            SEGMENTS.put(ident, segment, changed_ns=entry.mtime_ns, weight=1 + segment.entries)
        return segment

    def _subset_records(self, dataset: str, subset: str) -> dict[str, Record]:
        """The records of one subset, merged from its segments (do not change the result: it
        is kept for the next call while the segments stay the same)."""
        folder = self.segments_key(dataset, subset)
        kept: dict[tuple[str, str], tuple[Any, dict[str, Record]]]
        kept = self.__dict__.setdefault("_merged", {})
        found: dict[str, Record] = {}
        for _ in range(8):  # a segment compacted away meanwhile: read the folder again
            info = self.storage.info(folder)
            if info is None:
                return {}
            if info.kind != "dir":  # a link or a file in place of the folder: never read
                self._not_a_folder_of_records(folder, True)
                return {}
            entries = self._segment_entries(folder)
            ident = tuple((e.key, e.kind, e.size, e.mtime_ns) for _, e in entries)
            cached = kept.get((dataset, subset))
            if cached is not None and cached[0] == ident:
                return cached[1]
            found = {}
            for _, entry in entries:
                segment = self._segment(dataset, subset, entry)
                if segment is True:
                    break
                if isinstance(segment, Segment):
                    apply(found, segment)
            else:
                kept.pop((dataset, subset), None)
                kept[(dataset, subset)] = (ident, found)
                while len(kept) > MERGED_KEPT:
                    kept.pop(next(iter(kept)))
                return found
        return found

    def record(self, dataset: str, subset: str, partition: str) -> Record | None:
        """One partition's record, or None (also when damaged, warned: not downloaded, then)."""
        _require_safe(partition)
        found = self._subset_records(dataset, subset).get(partition)
        if found is None and self._legacy_root(dataset) is not None:
            return self._legacy_record(dataset, subset, partition)
        return found

    def records(self, dataset: str, subset: str | None = None) -> dict[tuple[str, str], Record]:
        """Every record of the dataset (or of one subset), keyed by (subset, partition)."""
        found = self.legacy_records(dataset, subset) if self._legacy_root(dataset) else {}
        root = f"{self.dataset_index_key(dataset)}/segments"
        if subset is not None:
            _require_safe(subset)
            names = [subset]
        else:
            names = []
            for entry in self.storage.list(root) if self._is_dir(root, dataset) else []:
                name = entry.key.rsplit("/", 1)[-1]
                if entry.kind == "dir":
                    names.append(name)
                elif not name.startswith("."):
                    self._not_a_folder_of_records(entry.key, True)
        for name in names:
            for partition, record in self._subset_records(dataset, name).items():
                found[(name, partition)] = record
        return found

    def _is_dir(self, key: str, dataset: str) -> bool:
        """True when `key` is a folder; a link or file in its place warned, never read."""
        info = self.storage.info(key)
        if info is not None and info.kind != "dir":
            self._not_a_folder_of_records(key, True)
        return info is not None and info.kind == "dir"

    # ---- format 1 records (pygestor 0.6: one file each; read until migrated) -------------
    def _legacy_root(self, dataset: str) -> str | None:
        root = f"{self.dataset_index_key(dataset)}/records"
        return root if self.storage.info(root) is not None else None

    def _legacy_record(self, dataset: str, subset: str, partition: str) -> Record | None:
        key = self.record_key(dataset, subset, partition)
        folder = key.rpartition("/")[0]
        if not self.storage.inside(folder, self.dataset_index_key(dataset)):
            self._not_a_folder_of_records(self._in_the_way(key, dataset), True)
            return None  # as `records`, which never follows a link to a folder
        try:
            raw = self._read(key, dataset)
            return None if raw is None else Record.parse(raw, where=key, dataset=dataset)
        except DamagedIndex as exc:
            self._warn_record(key, exc)
            return None

    def legacy_records(
        self, dataset: str, subset: str | None = None
    ) -> dict[tuple[str, str], Record]:
        """The format 1 records of the dataset (or of one subset), keyed by (subset, partition).
        (This runs once per partition on every listing: plain string keys, no pathlib.)"""
        root = f"{self.dataset_index_key(dataset)}/records"
        if subset is not None:
            _require_safe(subset)
        storage = self.storage
        found: dict[tuple[str, str], Record] = {}
        cut = len(root) + 1
        base = f"{root}/{subset}" if subset is not None else root
        for key in storage.walk(base):
            name = key[cut:]
            if not name.endswith(".json") or "/." in f"/{name}" or "/" not in name:
                if "/." not in f"/{name}":
                    self._not_a_folder_of_records(key, "/" not in name)
                continue
            try:
                raw = storage.read(key)
                if raw is None:
                    continue  # vanished meanwhile (removed by another process)
                record = Record.parse(raw, where=key, dataset=dataset)
            except (OSError, DamagedIndex) as exc:  # that partition counts as not downloaded
                self._warn_record(key, exc)
                continue
            subset_name, _, partition = name[: -len(".json")].partition("/")
            found[(subset_name, partition)] = record
        if not found:  # a link or a file in place of the folder walked: nothing was read
            self._not_a_folder_of_records(base, True)
        return found

    def _not_a_folder_of_records(self, key: str, subset_level: bool) -> None:
        """Warn about a link where a folder of records goes (never followed: its records are not
        read), or a file in place of a subset's folder of records."""
        found = self.storage.info(key)
        if found is None or found.kind == "dir" or (found.kind == "file" and not subset_level):
            return
        what = "a symbolic link" if found.kind == "link" else "a file"
        self._warn_record(
            key,
            DamagedIndex(key, f"is {what}, not a folder of records (its records are not read)"),
            partition=False,
        )

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
        self.storage.write(key, _json_bytes(data))

    def lock(self, dataset: str) -> AbstractContextManager[None]:
        """An exclusive per-dataset lock across processes (fcntl locks work on NFSv4 and local
        disks); waits at most `lock_timeout` seconds, then raises LockTimeout. On storage with
        `compare_and_swap` (object stores) nothing is locked: every index file is created once,
        and the pointer is swapped (`_swap_pointer`)."""
        if self.storage.compare_and_swap:
            return nullcontext()
        return self._locked(
            f"{self.dataset_index_key(dataset)}/lock", dataset, timeout=self.lock_timeout
        )

    def partition_lock(
        self, dataset: str, subset: str, partition: str, *, timeout: float
    ) -> AbstractContextManager[None]:
        """The lock held while a partition is downloaded or removed; LockTimeout after `timeout`."""
        return self._locked(
            self.partition_lock_key(dataset, subset, partition), dataset, timeout=timeout
        )

    @contextmanager
    def _locked(self, key: str, dataset: str, *, timeout: float) -> Iterator[None]:
        """`storage.lock`, with a lock file that cannot be opened (a folder or a link in its
        place) a DamagedIndex naming it."""
        with ExitStack() as stack:
            with self._writing(key, dataset):
                stack.enter_context(self.storage.lock(key, timeout=timeout))
            yield

    @contextmanager
    def _writing(self, key: str, dataset: str) -> Iterator[None]:
        """Around a write of index file `key`: refused when `key` is a symbolic link, or a link
        (or a file) in place of a folder above it would take the write elsewhere; a folder, file
        or link in the way is a DamagedIndex naming it (other errors, a full disk say, pass as
        they are)."""
        found = self.storage.info(key)
        if found is not None and found.kind == "link":  # planted: neither followed nor replaced
            raise DamagedIndex(
                self._shown(key),
                "is a symbolic link; index files are never written through links",
                dataset,
            )
        # the folder the write lands in
        if not self.storage.inside(key.rpartition("/")[0], self.dataset_index_key(dataset)):
            raise DamagedIndex(
                self._shown(self._in_the_way(key, dataset)),
                "is a symbolic link leading out of the index; index files are never written "
                "through links",
                dataset,
            )
        try:
            yield
        except PygestorError:
            raise
        except (IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
            culprit = self._in_the_way(key, dataset)
            what = "is a folder, not a file" if culprit == key else "is not a folder"
            raise DamagedIndex(self._shown(culprit), what, dataset) from exc
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            raise DamagedIndex(self._shown(key), "is a symbolic link", dataset) from None

    def _in_the_way(self, key: str, dataset: str) -> str:
        """The first path from the dataset's index folder down to `key` that is not what it
        should be (a link, or a file where a folder goes); `key` itself otherwise."""
        folder = self.dataset_index_key(dataset)
        parts = key[len(folder) + 1 :].split("/")
        for i in range(len(parts) - 1):
            above = "/".join([folder, *parts[: i + 1]])
            found = self.storage.info(above)
            if found is not None and found.kind != "dir":
                return above
        return key

    # ---- reads ---------------------------------------------------------------------------
    def _read(self, key: str, dataset: str) -> bytes | None:
        """The bytes of index file `key`, None when missing; DamagedIndex when it cannot be read
        (a folder in its place, a link leading nowhere readable, ...)."""
        try:
            return self.storage.read(key)
        except OSError as exc:
            raise DamagedIndex(self._shown(key), _cannot_open(exc), dataset) from None

    def _shown(self, key: str) -> str:
        """How messages name an index file: its local path (or the storage's URL and key)."""
        return str(located(self.storage, key))

    def _warn_record(
        self, key: str, exc: DamagedIndex | OSError, *, partition: bool = True
    ) -> None:
        """Warn that a record (or a folder of them) cannot be used."""
        what = exc.what if isinstance(exc, DamagedIndex) else _cannot_open(exc)
        dataset = key.split("/")[2] if key.startswith(f"{INDEX}/datasets/") else None
        if partition:
            what += "; its partition counts as not downloaded"
        self.warn_once(DamagedIndex(self._shown(key), what, dataset))

    def warn_once(self, exc: DamagedIndex) -> None:
        """Log `exc` as a warning, once per damaged file and `Store` (a listing reads the same
        records several times; a damaged folder of the index is named once, not per dataset)."""
        warned = self.__dict__.setdefault("_warned", set())
        if exc.path not in warned:
            warned.add(exc.path)
            log.warning("%s", exc)


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, indent=1, sort_keys=True).encode()


_NOT_ITS_CONTENT = "does not hold the content its name (a hash of it) says: it is damaged"


def _cannot_open(exc: OSError) -> str:
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    return f"cannot be read ({exc.strerror or exc})"

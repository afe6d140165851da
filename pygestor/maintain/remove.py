"""Removing local data: first a `RemovalPlan` (what will be deleted, how many bytes freed), then
`.execute()`.

Deletes only inside `DATA_DIR/<dataset>/` (real locations: a dataset folder that is itself a
link to another disk works, but any file or subset folder below it that leads elsewhere stops
the whole removal, and the check is repeated just before each delete) and the subset's Arrow
copy in the index; never a local-folder source's files. Records are dropped before their files
are deleted, so a crash in between leaves files without records, which count as not downloaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import LockTimeout, PygestorError
from ..index import tiers
from ..index.records import Listing, Record
from ..index.selection import choose_subsets, pick_partitions
from ..index.store import INDEX, Store
from ..manifest.models import Manifest
from ..manifest.patterns import is_safe_relpath

FileKind = Literal["data", "partial", "arrow", "untracked"]


@dataclass(frozen=True)
class RemovalFile:
    """One file a removal deletes: a partition's data, its `.part` download, a subset's Arrow
    copy, or (when a whole subset goes) a file in its folder that belongs to no partition."""

    subset: str
    partition: str | None  # None for the Arrow copy and untracked files
    kind: FileKind
    key: str  # in the data directory's storage
    path: Path  # where it is, for people
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "subset": self.subset,
            "partition": self.partition,
            "kind": self.kind,
            "path": str(self.path),
            "size": self.size,
        }


@dataclass(frozen=True)
class RemovalPlan:
    """What a removal will do. A value: show it, then `.execute()` it.

    `files` are deleted, `records` ("subset/partition") dropped; `not_local` were chosen but have
    nothing on disk (a no-op); `bytes` is what deleting `files` frees.
    """

    dataset: str
    subsets: tuple[str, ...]
    whole_subsets: (
        bool  # every partition of `subsets` (the Arrow copies and untracked files go too)
    )
    files: tuple[RemovalFile, ...]
    records: tuple[str, ...]
    not_local: tuple[str, ...]
    store: Store = field(repr=False, compare=False)
    shared: tuple[str, ...] = ()  # chosen ones local in a read-only shared tier: kept (issue 9)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def empty(self) -> bool:
        return not self.files and not self.records

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "subsets": list(self.subsets),
            "bytes": self.bytes,
            "files": [f.to_json() for f in self.files],
            "records": list(self.records),
            "not_local": list(self.not_local),
            "shared": list(self.shared),
        }

    def execute(self) -> RemovalReport:
        """Drop the records, then delete the files (a file without its record is not downloaded,
        so a crash in between leaves a consistent state), then empty folders. Partitions another
        process is downloading (their lock is held) are left alone and reported `busy`."""
        by_key: dict[str, list[RemovalFile]] = {}
        for f in self.files:
            by_key.setdefault(f"{f.subset}/{f.partition}" if f.partition else "", []).append(f)
        keys = list(dict.fromkeys([*self.records, *(k for k in by_key if k)]))
        removed: list[RemovalFile] = []
        dropped: list[str] = []
        busy: list[str] = []
        for key in keys:
            subset, partition = key.split("/", 1)
            with _unless_busy(self.store, self.dataset, subset, partition) as free:
                if not free:
                    busy.append(key)
                    continue
                if key in self.records:
                    self.store.drop_record(self.dataset, subset, partition)
                    dropped.append(key)
                removed += self._delete(by_key.get(key, []))
        removed += self._delete(by_key.get("", []))
        folders = _prune_empty(
            self.store,
            {f.key.rpartition("/")[0] for f in removed if f.kind != "arrow"},
            self.dataset,
        )
        return RemovalReport(
            self.dataset,
            tuple(removed),
            tuple(dropped),
            self.not_local,
            tuple(busy),
            tuple(str(self.store.storage.local_path(k)) for k in folders),
        )

    def _delete(self, files: Iterable[RemovalFile]) -> list[RemovalFile]:
        done = []
        for f in files:
            _check_inside(self.store, f.key, INDEX if f.kind == "arrow" else self.dataset)  # again
            if self.store.storage.remove(f.key):
                done.append(f)
        return done


@dataclass(frozen=True)
class RemovalReport:
    """What a removal did: files deleted, records dropped, partitions skipped because busy."""

    dataset: str
    files: tuple[RemovalFile, ...]
    records: tuple[str, ...]
    not_local: tuple[str, ...]
    busy: tuple[str, ...]  # another process was downloading them: nothing of theirs was touched
    folders: tuple[str, ...]  # empty folders removed

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "bytes": self.bytes,
            "files": [f.to_json() for f in self.files],
            "records": list(self.records),
            "not_local": list(self.not_local),
            "busy": list(self.busy),
            "folders": list(self.folders),
        }


def plan_remove(
    store: Store,
    manifest: Manifest,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    all_subsets: bool = False,
) -> RemovalPlan:
    """What removing local data would delete: one subset (or several, or every one with
    `all_subsets`), optionally only the named partitions (`name` or `subset/name`).

    The catalog entry and the synced listing stay. Raises for a local-folder source (read in
    place, never deleted) and for any file whose real location leaves `DATA_DIR/<dataset>/`."""
    name = manifest.name
    if manifest.source.kind == "local":
        raise PygestorError(
            f"dataset {name!r} is read in place from {manifest.source.describe()}; pygestor never "
            "deletes a local source's files (delete them there yourself if you mean to)"
        )
    records = store.records(name)
    known = _known_partitions(tiers.listing(store, name), records)  # a shared tier's too
    chosen = choose_subsets(name, list(known), subset, all_subsets)
    keys = [(s, p) for s in chosen for p in known[s]]
    if partitions is not None:
        keys = pick_partitions(name, keys, partitions)
    files: list[RemovalFile] = []
    not_local: list[str] = []
    for s, p in keys:
        found = _partition_files(store, name, s, p)
        files += found
        if not found and (s, p) not in records:
            not_local.append(f"{s}/{p}")
    if partitions is None:
        files += _whole_subset_files(store, name, chosen, {f.key for f in files})
    return RemovalPlan(
        name,
        tuple(chosen),
        partitions is None,
        tuple(files),
        tuple(f"{s}/{p}" for s, p in keys if (s, p) in records),
        tuple(not_local),
        store,
    )


def _known_partitions(
    listing: Listing | None, records: dict[tuple[str, str], Record]
) -> dict[str, list[str]]:
    """subset -> partition names: the listing's (in order), then recorded ones it lacks (gone)."""
    known: dict[str, list[str]] = {}
    if listing is not None:
        for s in listing.subsets:
            known[s.name] = [p.name for p in s.partitions]
    for subset, partition in sorted(records):
        names = known.setdefault(subset, [])
        if partition not in names:
            names.append(partition)
    return known


def _partition_files(store: Store, name: str, subset: str, partition: str) -> list[RemovalFile]:
    """The data file and `.part` file of one partition that exist, each checked to stay inside."""
    try:
        keys = [
            ("data", store.data_key(name, subset, partition)),
            ("partial", store.partial_key(name, subset, partition)),
        ]
    except PygestorError:
        raise PygestorError(
            f"refusing to remove {name}/{subset}/{partition}: not a safe relative path; "
            "run 'pygestor sync --repair' to rebuild the index"
        ) from None
    found = []
    for kind, key in keys:
        if store.storage.info(key) is None:
            continue
        _check_inside(store, key, name)
        found.append(_file(store, subset, partition, kind, key))  # type: ignore[arg-type]
    return found


def _whole_subset_files(
    store: Store, name: str, subsets: Sequence[str], taken: set[str]
) -> list[RemovalFile]:
    """For whole subsets: the Arrow copy, and other files in the subset's folder."""
    storage = store.storage
    found = []
    for subset in subsets:
        arrow = store.arrow_copy_key(name, subset)
        if storage.info(arrow) is not None:
            _check_inside(store, arrow, INDEX)
            found.append(_file(store, subset, None, "arrow", arrow))
        folder = store.subset_key(name, subset)
        if storage.info(folder) is not None:
            _check_inside(store, folder, name)
        for key in storage.walk(folder):
            if key in taken:
                continue
            _check_inside(store, key, name)
            partition = partial_of(key, folder)
            found.append(
                _file(
                    store, subset, partition, "untracked" if partition is None else "partial", key
                )
            )
    return found


def _file(
    store: Store, subset: str, partition: str | None, kind: FileKind, key: str
) -> RemovalFile:
    """A file to delete, with the bytes deleting it frees (a symbolic link frees no data)."""
    info = store.storage.info(key)
    size = 0 if info is None or info.kind == "link" else info.size
    return RemovalFile(subset, partition, kind, key, store.storage.local_path(key), size)


def partial_of(key: str, subset_folder: str) -> str | None:
    """The partition a `.<file>.part` download (below the subset's folder) belongs to, else None."""
    folder, _, name = key.rpartition("/")
    if not (name.startswith(".") and name.endswith(".part")) or len(name) <= len("..part"):
        return None
    inner = folder[len(subset_folder) + 1 :] if folder != subset_folder else ""
    partition = f"{inner}/{name[1 : -len('.part')]}" if inner else name[1 : -len(".part")]
    return partition if is_safe_relpath(partition) else None


def _check_inside(store: Store, key: str, base: str) -> None:
    """Refuse a key whose real location (symbolic links followed) is not inside `base`."""
    if not store.storage.inside(key, base):
        storage = store.storage
        path = storage.local_path(key)
        raise PygestorError(
            f"refusing to remove {path}: it leads to {path.resolve()}, outside "
            f"{storage.local_path(base).resolve()}; remove that link by hand if you mean to"
        )


def _prune_empty(store: Store, folders: Iterable[str], root: str) -> list[str]:
    """Remove empty folders from each of `folders` up to and including `root` (real locations)."""
    storage = store.storage
    removed = []
    for folder in sorted(folders, key=lambda k: k.count("/"), reverse=True):
        current = folder
        while current:
            info = storage.info(current)
            if info is None or info.kind == "link" or not storage.inside(current, root):
                break
            if not storage.remove_dir(current):  # not empty (or gone, or not ours to remove)
                break
            removed.append(current)
            if current == root:
                break
            current = current.rpartition("/")[0]
    return removed


@contextlib.contextmanager
def _unless_busy(store: Store, dataset: str, subset: str, partition: str) -> Iterator[bool]:
    """Hold the partition's download lock if nobody does (yields True), else yield False.
    No lock file means nobody has ever downloaded it here, so nothing to take."""
    try:
        key = store.partition_lock_key(dataset, subset, partition)
    except PygestorError:
        yield True
        return
    if store.storage.info(key) is None:
        yield True
        return
    with contextlib.ExitStack() as held:
        try:
            held.enter_context(store.partition_lock(dataset, subset, partition, timeout=0))
        except LockTimeout:
            yield False
            return
        yield True

"""Removing local data: first a `RemovalPlan` (what will be deleted, how many bytes freed), then
`.execute()`.

Deletes only what pygestor itself wrote, inside `DATA_DIR/<dataset>/`: recorded partitions
whose file matches its record (a regular file of the recorded size), partial downloads
(`.<file>.part`), its temporary files (`.tmp-...`) and the subset's Arrow copy in the index;
never a local-folder source's files. Anything else (a file without a record or not matching it,
a symbolic link, anything whose folder really leads outside, as a link planted in a shared
folder does) is listed in the plan as `kept`, with the reason, and left alone; folders are
removed only when empty. The checks are repeated just before each delete. A dataset folder that
is a link to another disk works when the data directory's owner made it (see
`pygestor.storage.local`). Records are dropped before their files are deleted, so a crash in
between leaves files without records, which count as not downloaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import LockTimeout, PygestorError
from ..index import tiers
from ..index.partials import range_parts, range_start
from ..index.records import Listing, Record
from ..index.selection import choose_subsets, pick_partitions
from ..index.store import INDEX, Store
from ..manifest.models import Manifest
from ..manifest.patterns import is_safe_relpath
from ..storage.base import TEMP_PREFIX, FileInfo, located

FileKind = Literal["data", "partial", "temp", "arrow"]


@dataclass(frozen=True)
class RemovalFile:
    """One file a removal deletes: a partition's data, its `.part` download, a subset's Arrow
    copy, or (when a whole subset goes) a temporary file pygestor left in its folder."""

    subset: str
    partition: str | None  # None for the Arrow copy and temporary files
    kind: FileKind
    key: str  # in the data directory's storage
    path: Path | str  # where it is, for people (a URL on an object store)
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
class KeptFile:
    """Something in a subset's folder (or where a partition's file should be) that a removal
    leaves alone because pygestor did not write it, and why."""

    subset: str
    key: str
    path: Path | str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.subset, "path": str(self.path), "reason": self.reason}


@dataclass(frozen=True)
class RemovalPlan:
    """What a removal will do. A value: show it, then `.execute()` it.

    `files` are deleted, `records` ("subset/partition") dropped; `not_local` were chosen but have
    nothing on disk (a no-op); `kept` are left alone (not pygestor's); `bytes` is what deleting
    `files` frees.
    """

    dataset: str
    subsets: tuple[str, ...]
    whole_subsets: (
        bool  # every partition of `subsets` (the Arrow copies and untracked files go too)
    )
    files: tuple[RemovalFile, ...]
    records: tuple[str, ...]
    not_local: tuple[str, ...]
    kept: tuple[KeptFile, ...]
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
            "kept": [k.to_json() for k in self.kept],
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
            tuple(str(located(self.store.storage, k)) for k in folders),
            self.kept,
        )

    def _delete(self, files: Iterable[RemovalFile]) -> list[RemovalFile]:
        done = []
        for f in files:
            base = INDEX if f.kind == "arrow" else self.dataset
            info = self.store.storage.info(f.key)
            if info is None or _refusal(self.store, info, base) is not None:  # checked again
                continue
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
    kept: tuple[KeptFile, ...] = ()  # not pygestor's: left alone

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
            "kept": [k.to_json() for k in self.kept],
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
    place, never deleted); what pygestor did not write is `kept` (see the module docstring)."""
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
    kept: list[KeptFile] = []
    not_local: list[str] = []
    for s, p in keys:
        found = _partition_files(
            store, name, s, p, records.get((s, p)), kept, look_for_ranges=partitions is not None
        )
        files += found
        if not found and (s, p) not in records:
            not_local.append(f"{s}/{p}")
    if partitions is None:
        taken = {f.key for f in files} | {k.key for k in kept}
        files += _whole_subset_files(store, name, chosen, taken, kept)
    return RemovalPlan(
        name,
        tuple(chosen),
        partitions is None,
        tuple(files),
        tuple(f"{s}/{p}" for s, p in keys if (s, p) in records),
        tuple(not_local),
        tuple(kept),
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


def _partition_files(
    store: Store,
    name: str,
    subset: str,
    partition: str,
    record: Record | None,
    kept: list[KeptFile],
    look_for_ranges: bool = False,
) -> list[RemovalFile]:
    """The data file, `.part` file and range parts of one partition that pygestor wrote;
    anything else at their paths goes to `kept`. Range parts are looked for (a listing of the
    folder) when the `.part` exists or `look_for_ranges` (partitions named one by one; a whole
    subset's folder is walked anyway)."""
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
    infos = [(kind, store.storage.info(key)) for kind, key in keys]
    if infos[1][1] is not None or look_for_ranges:  # its range parts (fetch_ranges)
        parts = range_parts(store.storage, keys[1][1])
        infos += [("partial", parts[start]) for start in sorted(parts)]
    for kind, info in infos:
        if info is None:
            continue
        key = info.key
        why = _refusal(store, info, name)
        if why is None and kind == "data":
            if record is None:
                why = "no record of pygestor's (run 'pygestor sync --repair' to adopt it)"
            elif record.size != info.size:
                why = f"{info.size:,} bytes, its record says {record.size:,}"
        if why is not None:
            kept.append(KeptFile(subset, key, located(store.storage, key), why))
            continue
        found.append(_file(store, subset, partition, kind, info))  # type: ignore[arg-type]
    return found


def _whole_subset_files(
    store: Store, name: str, subsets: Sequence[str], taken: set[str], kept: list[KeptFile]
) -> list[RemovalFile]:
    """For whole subsets: the Arrow copy, and the partial and temporary files in the subset's
    folder; anything else there goes to `kept`."""
    storage = store.storage
    found = []
    for subset in subsets:
        arrow = store.arrow_copy_key(name, subset)
        info = storage.info(arrow)
        if info is not None:
            why = _refusal(store, info, INDEX)
            if why is None:
                found.append(_file(store, subset, None, "arrow", info))
            else:
                kept.append(KeptFile(subset, arrow, located(storage, arrow), why))
        folder = store.subset_key(name, subset)
        top = storage.info(folder)
        why = None if top is None else _refusal(store, top, name)
        if why is not None:  # the subset folder itself is a link, or leads outside
            kept.append(KeptFile(subset, folder, located(storage, folder), why))
            continue
        for key in storage.walk(folder):
            info = storage.info(key)
            if key in taken or info is None:
                continue
            partition = partial_of(key, folder)
            why = _refusal(store, info, name)
            if (
                why is None
                and partition is None
                and not key.rpartition("/")[2].startswith(TEMP_PREFIX)
            ):
                why = "not written by pygestor"
            if why is not None:
                kept.append(KeptFile(subset, key, located(storage, key), why))
                continue
            kind: FileKind = "temp" if partition is None else "partial"
            found.append(_file(store, subset, partition, kind, info))
    return found


def _refusal(store: Store, info: FileInfo, base: str) -> str | None:
    """Why the entry `info` is not pygestor's to delete, None when it may go: it must be a
    regular file (a folder for the subset's own folder) whose real folder is inside `base`."""
    storage, key = store.storage, info.key
    if info.kind == "link":
        return "a symbolic link, which pygestor never makes"
    why = storage.unsafe(key)
    if why is not None:
        return why
    if not storage.inside(key, base):
        return f"it really is outside {located(storage, base)}"
    return None


def _file(
    store: Store, subset: str, partition: str | None, kind: FileKind, info: FileInfo
) -> RemovalFile:
    """A file to delete, with the bytes deleting it frees."""
    path = located(store.storage, info.key)
    return RemovalFile(subset, partition, kind, info.key, path, info.size)


def partial_of(key: str, subset_folder: str) -> str | None:
    """The partition a `.<file>.part` download, or one of its range parts `.<file>.part-<start>`
    (below the subset's folder), belongs to, else None."""
    folder, _, name = key.rpartition("/")
    ranged = range_start(name)
    if ranged is not None:
        name = ranged[0]
    if not (name.startswith(".") and name.endswith(".part")) or len(name) <= len("..part"):
        return None
    inner = folder[len(subset_folder) + 1 :] if folder != subset_folder else ""
    partition = f"{inner}/{name[1 : -len('.part')]}" if inner else name[1 : -len(".part")]
    return partition if is_safe_relpath(partition) else None


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
    """Hold the partition's download lock and the claim on its `.part` file if nobody does
    (yields True), else yield False. No lock file means nobody has downloaded it here since
    lock files were last deleted; a download in flight still holds its `.part` claim."""
    try:
        key = store.partition_lock_key(dataset, subset, partition)
        partial = store.partial_key(dataset, subset, partition)
    except PygestorError:
        yield True
        return
    with contextlib.ExitStack() as held:
        try:
            if store.storage.info(key) is not None:
                held.enter_context(store.partition_lock(dataset, subset, partition, timeout=0))
            if store.storage.info(partial) is not None:
                held.enter_context(store.storage.claim(partial))
        except (LockTimeout, BlockingIOError):
            yield False
            return
        yield True

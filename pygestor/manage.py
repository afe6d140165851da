"""Maintenance of local data: remove, updates, verify, info and repair.

Each operation reads the index (the listing in force and the local records, see `store.py`) and
the data directory, and returns values with the same keys the CLI prints with `--json`:

- `plan_remove` -> `RemovalPlan` (what will be deleted and how many bytes freed), then
  `.execute()` -> `RemovalReport`. Deletes only inside `DATA_DIR/<dataset>/` (real paths) and
  the subset's Arrow copy in the index; never a local-folder source's files.
- `updates` compares what is recorded with the source now; read-only.
- `verify` re-hashes local files against their records; read-only.
- `info` describes a dataset or subset, with the parquet schema and a few rows of a local file.
- `repair` rebuilds a dataset's index from its source listing plus a rescan of the data dir.

Nothing here prints, prompts or exits: the CLI (`cli_manage.py`) does.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .digest import file_digests, parquet_rows
from .errors import NotSynced, PygestorError, SelectionError, SubsetNotFound
from .formats import detect
from .patterns import is_safe_relpath
from .sources.base import RemoteFile
from .store import FORMAT_VERSION, STALE_TEMP_SECONDS, TEMP_PREFIX, Listing, Record, Store

if TYPE_CHECKING:
    from .api import Catalog
    from .resolve import Partition

log = logging.getLogger(__name__)

HASH_WORKERS = 8  # files hashed at once (hashlib releases the GIL on large buffers)

UPDATE_COLUMNS = ("dataset", "subset", "partition", "change", "local", "size_before", "size_now",
                  "commit_before", "commit_now")
VERIFY_COLUMNS = ("dataset", "subset", "partition", "path", "status", "check", "size", "size_on_disk",
                  "expected", "actual")

T = TypeVar("T")
R = TypeVar("R")


# ---- hashing -------------------------------------------------------------------------------
def _check(want: RemoteFile, path: Path) -> tuple[str, str, int | None, str | None, str | None]:
    """(status, check, size on disk, expected, actual) of `path` against `want`: the strongest
    check the record allows (sha256, else git blob id, else size)."""
    check = "sha256" if want.sha256 else "blob_id" if want.blob_id else "size"
    expected = want.sha256 or want.blob_id
    try:
        if not path.is_file():
            return "missing", check, None, expected, None
        size = path.stat().st_size
        if size != want.size:  # no need to read it
            return "corrupt", check, size, expected, None
        got = file_digests(path, sha256=check == "sha256", blob_id=check == "blob_id")
    except FileNotFoundError:
        return "missing", check, None, expected, None
    actual = got.sha256 if check == "sha256" else got.blob_id if check == "blob_id" else None
    ok = got.size == want.size and actual == expected
    return ("ok" if ok else "corrupt"), check, got.size, expected, actual


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None) -> list[R]:
    """`fn` over `items` in a bounded thread pool (in order); a plain loop for one item."""
    n = min(workers or HASH_WORKERS, len(items))
    if n <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="pygestor-hash") as pool:
        return list(pool.map(fn, items))


def _record_file(rec: Record) -> RemoteFile:
    return RemoteFile(rec.path, rec.size, rec.sha256, rec.blob_id, rec.mtime)


def _safe_subset(name: str, subset: str) -> None:
    if not isinstance(subset, str) or "/" in subset or not is_safe_relpath(subset):
        raise SubsetNotFound(name, subset)


# ---- remove --------------------------------------------------------------------------------
FileKind = Literal["data", "partial", "arrow", "untracked"]


@dataclass(frozen=True)
class RemovalFile:
    """One file a removal deletes: a partition's data, its `.part` download, a subset's Arrow
    copy, or (when a whole subset goes) a file in its folder that belongs to no partition."""

    subset: str
    partition: str | None  # None for the Arrow copy and untracked files
    kind: FileKind
    path: Path
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.subset, "partition": self.partition, "kind": self.kind,
                "path": str(self.path), "size": self.size}


@dataclass(frozen=True)
class RemovalPlan:
    """What a removal will do. A value: show it, then `.execute()` it.

    `files` are deleted, `records` ("subset/partition") dropped; `not_local` were chosen but have
    nothing on disk (a no-op); `bytes` is what deleting `files` frees.
    """

    dataset: str
    subsets: tuple[str, ...]
    whole_subsets: bool  # every partition of `subsets` (the Arrow copies and untracked files go too)
    files: tuple[RemovalFile, ...]
    records: tuple[str, ...]
    not_local: tuple[str, ...]
    root: Path = field(repr=False, compare=False)  # real path of DATA_DIR/<dataset>
    store: Store = field(repr=False, compare=False)

    @property
    def bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def empty(self) -> bool:
        return not self.files and not self.records

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "subsets": list(self.subsets), "bytes": self.bytes,
                "files": [f.to_json() for f in self.files], "records": list(self.records),
                "not_local": list(self.not_local)}

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
            with _partition_lock(self.store, self.dataset, subset, partition) as held:
                if not held:
                    busy.append(key)
                    continue
                if key in self.records:
                    self.store.drop_record(self.dataset, subset, partition)
                    dropped.append(key)
                removed += self._delete(by_key.get(key, []))
        removed += self._delete(by_key.get("", []))
        folders = _prune_empty({f.path.parent for f in removed}, self.root)
        return RemovalReport(self.dataset, tuple(removed), tuple(dropped), self.not_local, tuple(busy),
                             tuple(str(p) for p in folders))

    def _delete(self, files: Iterable[RemovalFile]) -> list[RemovalFile]:
        done = []
        for f in files:
            root = self.root if f.kind != "arrow" else self.store.index_dir.resolve()
            _check_inside(f.path, root)  # again: the folder may have changed since the plan
            try:
                f.path.unlink()
            except FileNotFoundError:
                continue
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
        return {"dataset": self.dataset, "bytes": self.bytes, "files": [f.to_json() for f in self.files],
                "records": list(self.records), "not_local": list(self.not_local), "busy": list(self.busy),
                "folders": list(self.folders)}


def plan_remove(catalog: Catalog, name: str, subset: str | Sequence[str] | None = None, *,
                partitions: Sequence[str] | None = None, all_subsets: bool = False) -> RemovalPlan:
    """What removing local data would delete: one subset (or several, or every one with
    `all_subsets`), optionally only the named partitions (`name` or `subset/name`).

    The catalog entry and the synced listing stay. Raises for a local-folder source (read in
    place, never deleted) and for any file whose real path leaves `DATA_DIR/<dataset>/`."""
    manifest = catalog.manifest(name)
    if manifest.source.kind == "local":
        raise PygestorError(
            f"dataset {name!r} is read in place from {manifest.source.describe()}; pygestor never deletes "
            "a local source's files (delete them there yourself if you mean to)"
        )
    store = catalog.store
    listing = store.listing(name)
    records = store.records(name)
    known = _known_partitions(listing, records)
    from .api import choose_subsets, pick_partitions

    chosen = choose_subsets(name, list(known), subset, all_subsets)
    keys = [(s, p) for s in chosen for p in known[s]]
    if partitions is not None:
        keys = pick_partitions(name, keys, partitions)
    root = (store.data_dir / name).resolve()
    files: list[RemovalFile] = []
    not_local: list[str] = []
    for s, p in keys:
        found = _partition_files(store, name, s, p, root)
        files += found
        if not found and (s, p) not in records:
            not_local.append(f"{s}/{p}")
    if partitions is None:
        files += _whole_subset_files(store, name, chosen, {f.path for f in files}, root)
    return RemovalPlan(name, tuple(chosen), partitions is None, tuple(files),
                       tuple(f"{s}/{p}" for s, p in keys if (s, p) in records), tuple(not_local), root, store)


def _known_partitions(listing: Listing | None, records: dict[tuple[str, str], Record]) -> dict[str, list[str]]:
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


def _partition_files(store: Store, name: str, subset: str, partition: str, root: Path) -> list[RemovalFile]:
    """The data file and `.part` file of one partition that exist, each checked to stay inside."""
    try:
        paths = [("data", store.data_path(name, subset, partition)),
                 ("partial", store.partial_path(name, subset, partition))]
    except PygestorError:
        raise PygestorError(f"refusing to remove {name}/{subset}/{partition}: not a safe relative path; "
                            "run 'pygestor sync --repair' to rebuild the index") from None
    found = []
    for kind, path in paths:
        if not os.path.lexists(path):
            continue
        _check_inside(path, root)
        found.append(RemovalFile(subset, partition, kind, path, _size(path)))  # type: ignore[arg-type]
    return found


def _whole_subset_files(store: Store, name: str, subsets: Sequence[str], taken: set[Path],
                        root: Path) -> list[RemovalFile]:
    """For whole subsets: the Arrow copy, and other files in the subset's folder."""
    found = []
    index_root = store.index_dir.resolve()
    for subset in subsets:
        arrow = store.arrow_copy_path(name, subset)
        if arrow.exists():
            _check_inside(arrow, index_root)
            found.append(RemovalFile(subset, None, "arrow", arrow, _size(arrow)))
        folder = store.data_dir / name / subset
        if os.path.lexists(folder):
            _check_inside(folder, root)
        for path in _walk_files(folder):
            if path in taken:
                continue
            _check_inside(path, root)
            partition = _partial_of(path, folder)
            kind: FileKind = "untracked" if partition is None else "partial"
            found.append(RemovalFile(subset, partition, kind, path, _size(path)))
    return found


def _partial_of(path: Path, subset_folder: Path) -> str | None:
    """The partition a `.<file>.part` download belongs to, else None."""
    name = path.name
    if not (name.startswith(".") and name.endswith(".part")) or len(name) <= len("..part"):
        return None
    inner = path.parent.relative_to(subset_folder).parts
    partition = "/".join([*inner, name[1 : -len(".part")]])
    return partition if is_safe_relpath(partition) else None


def _check_inside(path: Path, root: Path) -> None:
    """Refuse a path whose real location (symbolic links followed) is not inside `root`."""
    real = path.resolve()
    if real != root and not real.is_relative_to(root):
        raise PygestorError(f"refusing to remove {path}: it leads to {real}, outside {root}; "
                            "remove that link by hand if you mean to")


def _size(path: Path) -> int:
    """Bytes freed by deleting `path` (a symbolic link frees no data)."""
    st = path.lstat()
    return 0 if path.is_symlink() else st.st_size


def _walk_files(folder: Path) -> Iterator[Path]:
    """Every file under `folder` (symbolic links reported, never followed)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for dirpath, dirs, files in os.walk(folder):
        base = Path(dirpath)
        for d in dirs:
            if (base / d).is_symlink():
                yield base / d
        for f in files:
            yield base / f


def _prune_empty(folders: Iterable[Path], root: Path) -> list[Path]:
    """Remove empty folders from each of `folders` up to and including `root` (real paths)."""
    removed = []
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        current = folder
        while True:
            real = current.resolve()
            if not (real == root or real.is_relative_to(root)) or current.is_symlink():
                break
            try:
                current.rmdir()
            except OSError:  # not empty (or gone, or not ours to remove)
                break
            removed.append(current)
            if real == root:
                break
            current = current.parent
    return removed


@contextlib.contextmanager
def _partition_lock(store: Store, dataset: str, subset: str, partition: str) -> Iterator[bool]:
    """Hold the partition's download lock if nobody does (yields True), else yield False.
    No lock file means nobody has ever downloaded it here, so nothing to take."""
    import filelock

    try:
        path = store.partition_lock_path(dataset, subset, partition)
    except PygestorError:
        yield True
        return
    if not path.exists():
        yield True
        return
    lock = filelock.FileLock(str(path), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


# ---- updates -------------------------------------------------------------------------------
def updates(catalog: Catalog, name: str | None = None) -> list[dict[str, Any]]:
    """What changed upstream since the last sync or download: one record per new, changed or
    deleted partition (see UPDATE_COLUMNS). Lists the source now; writes nothing.

    A local partition is compared by its record (what is on disk), any other by the listing in
    force. `name=None` checks every synced dataset."""
    rows: list[dict[str, Any]] = []
    for n in [name] if name is not None else catalog.synced():
        rows += _updates_one(catalog, n)
    return rows


def _updates_one(catalog: Catalog, name: str) -> list[dict[str, Any]]:
    entry = catalog.entry(name)
    before = catalog.store.listing(name)
    if before is None:
        raise NotSynced(name)
    states = catalog._states(name, entry.manifest, before)
    now = catalog.fetch_listing(name, _entry=entry)
    listed = {(s.name, p.name): p.file for s in before.subsets for p in s.partitions}
    current = {(s.name, p.name): p.file for s in now.subsets for p in s.partitions}
    in_place = entry.manifest.source.kind == "local"
    rows = []
    for key in sorted(set(states) | set(current)):
        state, rec = states.get(key, ("remote", None))
        local = key in states and (in_place or state in ("local", "stale", "gone"))
        if rec is not None and not in_place:
            was: RemoteFile | None = _record_file(rec)
            commit_before = rec.commit
        else:
            was, commit_before = listed.get(key), before.commit
        is_now = current.get(key)
        if was is None and is_now is not None:
            change = "new"
        elif was is not None and is_now is None:
            change = "deleted"
        elif was is not None and is_now is not None and not was.same_content(is_now):
            change = "changed"
        else:
            continue
        rows.append({
            "dataset": name, "subset": key[0], "partition": key[1], "change": change, "local": local,
            "size_before": was.size if was else None, "size_now": is_now.size if is_now else None,
            "commit_before": commit_before if was else None, "commit_now": now.commit,
        })
    return rows


# ---- verify --------------------------------------------------------------------------------
def verify(catalog: Catalog, name: str, subset: str | None = None, *,
           workers: int | None = None) -> list[dict[str, Any]]:
    """Re-hash every local partition of a dataset (or one subset) against its record: one record
    per partition (see VERIFY_COLUMNS) with `status` ok, missing or corrupt (size or hash
    mismatch). Local-folder sources are checked by size against the listing. Read-only."""
    manifest = catalog.manifest(name)
    store = catalog.store
    if subset is not None:
        _safe_subset(name, subset)
    jobs: list[tuple[str, str, Path, RemoteFile]] = []
    if manifest.source.kind == "local":
        for sel in catalog.select(name, subset, all_subsets=subset is None, sync=False).items:
            f = sel.partition.file
            jobs.append((sel.subset, sel.partition.name, sel.path, RemoteFile(f.path, f.size)))
    else:
        records = store.records(name, subset)
        if subset is not None and not records:
            listing = store.listing(name)
            if listing is None or listing.subset(subset) is None:
                known = sorted({s.name for s in listing.subsets} if listing else set())
                raise SubsetNotFound(name, subset, known)
        for (s, p), rec in sorted(records.items()):
            jobs.append((s, p, store.data_path(name, s, p), _record_file(rec)))

    def run(job: tuple[str, str, Path, RemoteFile]) -> dict[str, Any]:
        s, p, path, want = job
        status, check, size, expected, actual = _check(want, path)
        return {"dataset": name, "subset": s, "partition": p, "path": str(path), "status": status,
                "check": check, "size": want.size, "size_on_disk": size, "expected": expected,
                "actual": actual}

    return parallel_map(run, jobs, workers)


# ---- info ----------------------------------------------------------------------------------
def info(catalog: Catalog, name: str, subset: str | None = None, *, head: int = 0) -> dict[str, Any]:
    """A dataset (or one subset): source, revision, commit, when synced, counts and sizes
    (local/total), rows (from records), `subset_records` (or the subset's `partition_records`),
    the schema from the parquet footer of a local partition (`sample`) and its first `head` rows.
    `schema`/`head` are None when nothing is local (or, for `schema`, the format is not parquet)."""
    if head < 0:
        raise SelectionError(f"head={head}: give a number of rows, 0 or more")
    entry = catalog.entry(name)
    m = entry.manifest
    base = catalog._dataset_record(catalog.store, entry)
    out: dict[str, Any] = {
        "dataset": name, "subset": subset, "description": m.description, "license": m.license,
        "modality": list(m.modality), "format": m.format.value if m.format else None,
        "source": base["source"], "revision": base["revision"], "commit": base["commit"],
        "synced_at": base["synced_at"], "subsets": base["subsets"], "partitions": base["partitions"],
        "partitions_local": base["partitions_local"], "bytes": base["bytes"], "bytes_local": base["bytes_local"],
        "rows": None, "subset_records": None, "partition_records": None, "sample": None, "schema": None,
        "head": None,
    }
    if base["synced_at"] is None:
        if subset is not None:
            raise NotSynced(name)
        return out
    subsets = catalog.subset_records(name)
    if subset is None:
        rows = [s["rows"] for s in subsets]
        out.update(subset_records=subsets, rows=sum(rows) if rows and None not in rows else None)
    else:
        out["partition_records"] = catalog.partition_records(name, subset)  # raises for unknown subsets
        [rec] = [s for s in subsets if s["subset"] == subset]
        out.update({k: rec[k] for k in ("partitions", "partitions_local", "bytes", "bytes_local", "rows")},
                   subsets=None)
    sample = _sample(catalog, name, subset)
    if sample is not None:
        key, path, fmt = sample
        out.update(sample=key, format=out["format"] or fmt, schema=_schema(path, fmt),
                   head=_head(path, fmt, head) if head else None)
    return out


def _sample(catalog: Catalog, name: str, subset: str | None) -> tuple[str, Path, str | None] | None:
    """The first local partition (in listing order) of the subset or dataset: key, path, format."""
    selection = catalog.select(name, subset, all_subsets=subset is None, sync=False)
    for item in selection.items:
        if item.state in ("local", "stale") and item.path.is_file():
            return item.key, item.path, _format_of(item.partition)
    return None


def _format_of(partition: Partition) -> str | None:
    return detect(partition.name, partition.format.value if partition.format else None).format


def _schema(path: Path, fmt: str | None) -> list[dict[str, str]] | None:
    """Columns and types from a parquet footer (no data read); None for other formats."""
    if fmt != "parquet":
        return None
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several types for a damaged file)
        raise PygestorError(f"{path}: cannot read its parquet footer ({exc}); check it with 'pygestor verify'") from None
    return [{"name": f.name, "type": str(f.type)} for f in schema]


def _head(path: Path, fmt: str | None, n: int) -> list[dict[str, Any]] | None:
    """The first `n` rows: the first record batch of a parquet file, the first lines of others."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=n), None)
        except Exception as exc:  # noqa: BLE001
            raise PygestorError(f"{path}: cannot read it as parquet ({exc}); check it with 'pygestor verify'") from None
        return [] if batch is None else list(batch.to_pylist())
    if fmt not in ("jsonl", "csv", "text"):
        return None
    try:
        with _open_text(path) as fh:
            if fmt == "csv":
                import csv

                reader = csv.DictReader(fh)
                return [dict(row) for _, row in zip(range(n), reader, strict=False)]
            lines = _first_lines(fh, n)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise PygestorError(f"{path}: cannot read it as {fmt} ({exc})") from None
    if fmt == "text":
        return [{"text": line} for line in lines]
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError as exc:
        raise PygestorError(f"{path}: not JSON lines ({exc})") from None


def _first_lines(fh: Any, n: int) -> list[str]:
    lines = []
    for line in fh:
        line = line.rstrip("\r\n")
        if line.strip():
            lines.append(line)
            if len(lines) == n:
                break
    return lines


def _open_text(path: Path) -> Any:
    compression = detect(path.name).compression
    if compression == "gzip":
        import gzip

        return gzip.open(path, "rt", encoding="utf-8", newline="")
    if compression == "bz2":
        import bz2

        return bz2.open(path, "rt", encoding="utf-8", newline="")
    if compression == "xz":
        import lzma

        return lzma.open(path, "rt", encoding="utf-8", newline="")
    if compression is not None:
        raise OSError(f"{compression}-compressed files are not previewed")
    return open(path, encoding="utf-8", newline="")


# ---- repair --------------------------------------------------------------------------------
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
    unknown: tuple[str, ...] = ()  # files in the dataset folder that belong to no partition (left alone)
    partials_removed: int = 0  # `.part` files of downloads nobody is running
    temp_removed: int = 0  # `.tmp-*` files older than an hour
    damaged_removed: int = 0  # unreadable index files
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "commit": self.commit, "partitions": self.partitions,
                "checked": self.checked, "recorded": self.recorded, "kept": self.kept,
                "mismatched": list(self.mismatched), "dropped": list(self.dropped), "unknown": list(self.unknown),
                "partials_removed": self.partials_removed, "temp_removed": self.temp_removed,
                "damaged_removed": self.damaged_removed, "error": self.error}


@dataclass(frozen=True)
class _Candidate:
    subset: str
    partition: str
    path: Path
    listed: RemoteFile | None
    record: Record | None

    @property
    def key(self) -> str:
        return f"{self.subset}/{self.partition}"


def repair(catalog: Catalog, name: str, *, workers: int | None = None) -> RepairReport:
    """Rebuild a dataset's index from its source listing plus a rescan of the data dir.

    Removes unreadable index files, syncs (saves the listing), then for each partition file on
    disk: a record when its size and hash match the listing (an existing record matching the
    file is kept, so a stale copy stays stale rather than lost), else it is left unrecorded and
    reported `mismatched`. Records whose file is missing are dropped. `.part` files whose
    partition lock nobody holds, and `.tmp-*` files older than an hour, are deleted."""
    entry = catalog.entry(name)
    store = catalog.store
    damaged = _remove_damaged_index(store, name)
    catalog.sync(name)
    listing = store.listing(name)
    assert listing is not None
    report: dict[str, Any] = {"commit": listing.commit, "partitions": listing.partition_count,
                              "damaged_removed": damaged}
    folders = [store.data_dir / name, store._dataset_index(name)]
    report["temp_removed"] = sum(_remove_old_temp(f) for f in folders)
    if entry.manifest.source.kind == "local":  # read in place: no records, nothing downloaded
        return RepairReport(name, **report)
    records = store.records(name)
    listed = {(s.name, p.name): p.file for s in listing.subsets for p in s.partitions}
    candidates, dropped = [], []
    for key in sorted(set(listed) | set(records)):
        path = store.data_path(name, *key)
        if path.is_file():
            candidates.append(_Candidate(key[0], key[1], path, listed.get(key), records.get(key)))
        elif key in records:
            store.drop_record(name, *key)
            dropped.append(f"{key[0]}/{key[1]}")
    outcomes = parallel_map(lambda c: _repair_one(store, name, listing, c), candidates, workers)
    taken = {c.path for c in candidates}
    partials, unknown = _scan_dataset_folder(store, name, taken)
    return RepairReport(
        name, **report, checked=len(candidates), recorded=outcomes.count("recorded"), kept=outcomes.count("kept"),
        mismatched=tuple(c.key for c, o in zip(candidates, outcomes, strict=True) if o == "mismatched"),
        dropped=tuple(dropped), unknown=tuple(unknown), partials_removed=partials,
    )


def _repair_one(store: Store, name: str, listing: Listing, c: _Candidate) -> str:
    """'recorded', 'kept' or 'mismatched' for one file on disk."""
    wants = [w for w in (c.listed, _record_file(c.record) if c.record else None) if w is not None]
    got = file_digests(c.path, sha256=any(w.sha256 for w in wants), blob_id=any(w.blob_id for w in wants))

    def same(want: RemoteFile) -> bool:
        if want.size != got.size:
            return False
        if want.sha256:
            return want.sha256 == got.sha256
        return want.blob_id == got.blob_id if want.blob_id else True

    if c.listed is not None and same(c.listed):
        if c.record is not None and c.record.matches(c.listed) and same(_record_file(c.record)):
            return "kept"
        f = c.listed
        mtime = datetime.fromtimestamp(c.path.stat().st_mtime, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        store.put_record(name, c.subset, c.partition, Record(
            path=f.path, size=f.size, sha256=f.sha256, blob_id=f.blob_id, mtime=f.mtime, commit=listing.commit,
            rows=parquet_rows(c.path), downloaded_at=mtime,
        ))
        return "recorded"
    if c.record is not None and same(_record_file(c.record)):
        return "kept"
    if c.record is not None:
        store.drop_record(name, c.subset, c.partition)
    return "mismatched"


def _scan_dataset_folder(store: Store, name: str, taken: set[Path]) -> tuple[int, list[str]]:
    """Delete `.part` files whose partition nobody is downloading; list files of no partition."""
    root = store.data_dir / name
    removed, unknown = 0, []
    for path in _walk_files(root):
        rel = path.relative_to(root).as_posix()
        if path in taken or path.name.startswith(TEMP_PREFIX):
            continue
        subset, _, inner = rel.partition("/")
        partition = _partial_of(path, root / subset) if inner and is_safe_relpath(subset) else None
        if partition is not None:
            removed += _remove_partial(store, name, subset, partition, path)
        elif not path.name.startswith("."):
            unknown.append(rel)
    return removed, unknown


def _remove_partial(store: Store, name: str, subset: str, partition: str, path: Path) -> int:
    lock_path = store.partition_lock_path(name, subset, partition)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    import filelock

    try:
        with filelock.FileLock(str(lock_path), timeout=0):
            path.unlink(missing_ok=True)
            return 1
    except filelock.Timeout:
        return 0  # a download is running


def _remove_old_temp(folder: Path) -> int:
    """Delete `.tmp-*` files under `folder` older than an hour (left by killed processes)."""
    if not folder.is_dir():
        return 0
    cutoff = time.time() - STALE_TEMP_SECONDS
    removed = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            if f.startswith(TEMP_PREFIX):
                path = Path(dirpath) / f
                with contextlib.suppress(FileNotFoundError):
                    if path.lstat().st_mtime < cutoff:
                        path.unlink()
                        removed += 1
    return removed


def _remove_damaged_index(store: Store, name: str) -> int:
    """Delete index files of `name` that cannot be read (or are of another format version), so
    that the sync and rescan can write them again. Returns how many."""
    folder = store._dataset_index(name)  # the store owns the layout; repair rewrites all of it
    if not folder.is_dir():
        return 0
    removed = 0
    for dirpath, _dirs, files in os.walk(folder):
        for f in files:
            path = Path(dirpath) / f
            if f.endswith(".json") and not f.startswith(".") and not _readable(path):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


def _readable(path: Path) -> bool:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT_VERSION

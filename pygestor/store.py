"""The data directory: where files land and where pygestor keeps what it knows about them.

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

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import LockTimeout, PygestorError
from .manifest import Format
from .patterns import is_safe_relpath
from .resolve import Partition, Resolution, Subset
from .sources.base import RemoteFile

FORMAT_VERSION = 1
KEEP_LISTINGS = 3  # listings kept per dataset: the current one and a few before it
TEMP_PREFIX = ".tmp-"
STALE_TEMP_SECONDS = 3600


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second (`2026-11-25T12:00:00Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Listing:
    """A resolved listing as stored: the tree a sync produced, plus its report."""

    dataset: str
    source: str
    revision: str | None
    commit: str | None
    manifest: str  # the manifest's fingerprint
    subsets: tuple[Subset, ...]
    unmatched: tuple[str, ...] = ()
    empty_rules: tuple[int, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_resolution(
        cls, dataset: str, source: str, revision: str | None, commit: str | None, manifest: str,
        resolution: Resolution,
    ) -> Listing:
        return cls(dataset, source, revision, commit, manifest, resolution.subsets,
                   resolution.unmatched, resolution.empty_rules, resolution.skipped)

    @property
    def partition_count(self) -> int:
        return sum(len(s.partitions) for s in self.subsets)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.subsets)

    def subset(self, name: str) -> Subset | None:
        return next((s for s in self.subsets if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "manifest": self.manifest,
            "subsets": [
                {"name": s.name, "partitions": [_partition_json(p) for p in s.partitions]}
                for s in self.subsets
            ],
            "unmatched": list(self.unmatched),
            "empty_rules": list(self.empty_rules),
            "skipped": [list(x) for x in self.skipped],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Listing:
        _check_format(data)
        subsets = tuple(
            Subset(s["name"], tuple(_partition_from_json(p) for p in s["partitions"]))
            for s in data["subsets"]
        )
        return cls(
            data["dataset"], data["source"], data["revision"], data["commit"], data["manifest"],
            subsets, tuple(data["unmatched"]), tuple(data["empty_rules"]),
            tuple((a, b) for a, b in data["skipped"]),
        )


def _partition_json(p: Partition) -> dict[str, Any]:
    f = p.file
    return {"name": p.name, "path": f.path, "size": f.size, "sha256": f.sha256, "blob_id": f.blob_id,
            "mtime": f.mtime, "format": p.format.value if p.format else None}


def _partition_from_json(d: dict[str, Any]) -> Partition:
    file = RemoteFile(d["path"], d["size"], d["sha256"], d["blob_id"], d["mtime"])
    return Partition(d["name"], file, Format(d["format"]) if d["format"] else None)


@dataclass(frozen=True)
class Pointer:
    """`current.json`: which listing is in force, and its totals (so `list` reads no listing)."""

    listing: str
    synced_at: str
    source: str
    revision: str | None
    commit: str | None
    subsets: int
    partitions: int
    bytes: int
    previous: str | None = None
    format: int = FORMAT_VERSION


@dataclass(frozen=True)
class Record:
    """What is known about one verified local partition."""

    path: str  # the remote path it came from
    size: int
    sha256: str | None = None
    blob_id: str | None = None
    mtime: float | None = None  # the source's mtime (local sources)
    commit: str | None = None  # the source commit it was fetched at
    rows: int | None = None
    downloaded_at: str = field(default_factory=utc_now)
    format: int = FORMAT_VERSION

    def matches(self, file: RemoteFile) -> bool:
        """True when the upstream file still has the content this record was fetched with."""
        return RemoteFile(self.path, self.size, self.sha256, self.blob_id, self.mtime).same_content(file)


def _check_format(data: dict[str, Any]) -> None:
    version = data.get("format")
    if version != FORMAT_VERSION:
        raise PygestorError(
            f"index format {version!r} is not supported by this pygestor (it reads {FORMAT_VERSION}); "
            "upgrade pygestor or run 'pygestor sync --repair'"
        )


class Store:
    """The on-disk layout and index of one data directory. Safe to share between processes."""

    def __init__(self, data_dir: Path, *, lock_timeout: float = 600.0, file_mode: int | None = None):
        self.data_dir = Path(data_dir)
        self.index_dir = self.data_dir / ".pygestor"
        self.lock_timeout = lock_timeout
        self.file_mode = file_mode

    # ---- paths --------------------------------------------------------------------------
    def _dataset_index(self, dataset: str) -> Path:
        _require_safe(dataset)
        return self.index_dir / "datasets" / dataset

    def data_path(self, dataset: str, subset: str, partition: str) -> Path:
        """Where a partition's file lives; every part is checked so nothing escapes the data dir."""
        for part in (dataset, subset, partition):
            _require_safe(part)
        return self.data_dir / dataset / subset / partition

    def subset_dir(self, dataset: str, subset: str) -> Path:
        """The folder of a subset's files (partition names are safe relative paths below it)."""
        _require_safe(dataset)
        _require_safe(subset)
        return self.data_dir / dataset / subset

    def partial_path_str(self, dataset: str, subset: str, partition: str) -> str:
        """`partial_path` as a string, without pathlib (checked once per remote partition on listings)."""
        folder, _, name = f"{self.data_dir}/{dataset}/{subset}/{partition}".rpartition("/")
        return f"{folder}/.{name}.part"

    def partial_path(self, dataset: str, subset: str, partition: str) -> Path:
        """The temporary file of a download in progress (a hidden name no partition can have)."""
        target = self.data_path(dataset, subset, partition)
        return target.with_name(f".{target.name}.part")

    def arrow_copy_path(self, dataset: str, subset: str) -> Path:
        """The opt-in memory-mapped Arrow copy of a subset (see `pygestor.reader`)."""
        _require_safe(subset)
        return self._dataset_index(dataset) / "arrow" / f"{subset}.arrow"

    def partition_lock_path(self, dataset: str, subset: str, partition: str) -> Path:
        """The lock a process holds while it downloads one partition."""
        _require_safe(subset)
        _require_safe(partition)
        return self._dataset_index(dataset) / "locks" / subset / f"{partition}.lock"

    def _record_path(self, dataset: str, subset: str, partition: str) -> Path:
        _require_safe(subset)
        _require_safe(partition)
        return self._dataset_index(dataset) / "records" / subset / f"{partition}.json"

    # ---- listings and the pointer -------------------------------------------------------
    def save_listing(self, listing: Listing, *, synced_at: str | None = None) -> Pointer:
        """Write `listing` (once; content-addressed) and make it current. Returns the new pointer."""
        data = listing.to_json()
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        listing_id = hashlib.sha256(text.encode()).hexdigest()[:32]
        folder = self._dataset_index(listing.dataset)
        target = folder / "listings" / f"{listing_id}.json"
        if not target.exists():
            self.write_atomic(target, text.encode())
        with self.lock(listing.dataset):
            if not target.exists():  # pruned by a concurrent sync between our write and the lock
                self.write_atomic(target, text.encode())
            old = self.pointer(listing.dataset)
            if old is None:
                previous = None
            else:
                previous = old.previous if old.listing == listing_id else old.listing
            pointer = Pointer(
                listing=listing_id,
                synced_at=synced_at or utc_now(),
                source=listing.source,
                revision=listing.revision,
                commit=listing.commit,
                subsets=len(listing.subsets),
                partitions=listing.partition_count,
                bytes=listing.size,
                previous=previous,
            )
            self.write_json(folder / "current.json", asdict(pointer))
            self._prune_listings(folder / "listings", keep={listing_id, pointer.previous})
        return pointer

    def pointer(self, dataset: str) -> Pointer | None:
        data = self._read_json(self._dataset_index(dataset) / "current.json")
        if data is None:
            return None
        _check_format(data)
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
            data = self._read_json(self._dataset_index(dataset) / "listings" / f"{wanted}.json")
            if data is not None:
                return Listing.from_json(data)
            if listing_id is not None:
                return None
        raise PygestorError(f"the index of {dataset!r} names a listing that is missing; run 'pygestor sync {dataset}'")

    def forget(self, dataset: str) -> bool:
        """Drop the dataset's listings and pointer (records of local files stay). True if any."""
        folder = self._dataset_index(dataset)
        with self.lock(dataset):
            found = (folder / "current.json").exists()
            with contextlib.suppress(FileNotFoundError):
                (folder / "current.json").unlink()
            for path in _visible_json(folder / "listings"):
                path.unlink(missing_ok=True)
        return found

    def synced_datasets(self) -> list[str]:
        root = self.index_dir / "datasets"
        if not root.is_dir():
            return []
        return sorted(p.name for p in root.iterdir() if (p / "current.json").exists())

    def _prune_listings(self, folder: Path, keep: set[str | None]) -> None:
        listings = sorted(_visible_json(folder), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in listings[KEEP_LISTINGS:]:
            if path.stem not in keep:
                path.unlink(missing_ok=True)
        self._clean_temp(folder)

    # ---- records of local partitions ---------------------------------------------------
    def put_record(self, dataset: str, subset: str, partition: str, record: Record) -> None:
        # Not fsynced: a record lost to a crash only means its (fsynced, verified) file is
        # hashed again and re-recorded by the next download or `sync --repair`.
        path = self._record_path(dataset, subset, partition)
        self.write_atomic(path, json.dumps(asdict(record), indent=1, sort_keys=True).encode(), durable=False)

    def record(self, dataset: str, subset: str, partition: str) -> Record | None:
        """One partition's record, or None (also when damaged: it then counts as not downloaded)."""
        try:
            data = self._read_json(self._record_path(dataset, subset, partition))
        except PygestorError:
            return None
        return Record(**data) if data and data.get("format") == FORMAT_VERSION else None

    def drop_record(self, dataset: str, subset: str, partition: str) -> None:
        self._record_path(dataset, subset, partition).unlink(missing_ok=True)

    def records(self, dataset: str, subset: str | None = None) -> dict[tuple[str, str], Record]:
        """Every record of the dataset (or of one subset), keyed by (subset, partition).
        (Plain `os` calls, not pathlib: this runs once per partition on every listing.)"""
        root = self._dataset_index(dataset) / "records"
        if subset is not None:
            _require_safe(subset)
        found: dict[tuple[str, str], Record] = {}
        folders = [root / subset] if subset is not None else _subfolders(root)
        for folder in folders:
            base = str(folder)
            for path in _walk_json(base):
                try:
                    with open(path, "rb") as fh:
                        data = json.loads(fh.read())
                    record = Record(**data) if data.get("format") == FORMAT_VERSION else None
                except (OSError, ValueError, TypeError, AttributeError):
                    continue  # vanished or damaged: that partition counts as not downloaded
                if record is not None:
                    found[(folder.name, path[len(base) + 1 : -len(".json")])] = record
        return found

    def local_records(self, dataset: str, subset: str | None = None) -> dict[tuple[str, str], Record]:
        """The records whose data file is on disk with the recorded size (what counts as local)."""
        base = str(self.data_dir / dataset)
        kept = {}
        for (s, p), rec in self.records(dataset, subset).items():
            try:
                if os.stat(f"{base}/{s}/{p}").st_size == rec.size:
                    kept[(s, p)] = rec
            except OSError:
                continue
        return kept

    # ---- atomic writes and locks -------------------------------------------------------
    def make_dirs(self, path: Path) -> None:
        """Create `path` and its parents; with a `file_mode` (shared data dirs), new folders get
        the matching mode plus the search bit wherever read is granted (0o664 -> 0o775)."""
        if path.is_dir():
            return
        missing = [p for p in (path, *path.parents) if not p.exists()]
        path.mkdir(parents=True, exist_ok=True)
        if self.file_mode is not None:
            mode = self.file_mode | ((self.file_mode & 0o444) >> 2)
            for folder in missing:
                with contextlib.suppress(OSError):
                    os.chmod(folder, mode)

    def write_json(self, path: Path, data: Any) -> None:
        self.write_atomic(path, json.dumps(data, indent=1, sort_keys=True).encode())

    def write_atomic(self, path: Path, data: bytes, *, durable: bool = True) -> None:
        """Write `data` to `path` so that readers see the old file or the new one, never a mix
        (`durable`: fsync before the rename, so a crash cannot leave an empty file behind)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}-{path.name}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            if self.file_mode is not None:
                os.chmod(tmp, self.file_mode)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def lock(self, dataset: str) -> Iterator[None]:
        """An exclusive per-dataset lock across processes (fcntl locks work on NFSv4 and local disks);
        waits at most `lock_timeout` seconds, polling, then raises LockTimeout."""
        import filelock

        path = self._dataset_index(dataset) / "lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(path), timeout=self.lock_timeout, mode=self.file_mode or 0o644)
        try:
            with lock:
                yield
        except filelock.Timeout:
            raise LockTimeout(str(path), self.lock_timeout) from None

    def _read_json(self, path: Path) -> Any:
        try:
            return json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PygestorError(f"{path}: damaged index file; run 'pygestor sync --repair'") from None

    def _clean_temp(self, folder: Path) -> None:
        """Remove temporary files left by killed processes (old enough not to be in use)."""
        cutoff = time.time() - STALE_TEMP_SECONDS
        for path in folder.glob(f"{TEMP_PREFIX}*"):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()


def _require_safe(name: str) -> None:
    if not isinstance(name, str) or not is_safe_relpath(name):
        raise PygestorError(f"{name!r} is not a safe name for a file or folder")


def _visible_json(folder: Path) -> list[Path]:
    """`*.json` files of a folder, leaving out temporary files (`.tmp-...`) of writes in flight."""
    if not folder.is_dir():
        return []
    return [p for p in folder.iterdir() if p.suffix == ".json" and not p.name.startswith(".")]


def _subfolders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


def _walk_json(folder: str) -> Iterator[str]:
    """Paths of the visible `*.json` files below `folder` (as strings, `/`-joined)."""
    for dirpath, _dirs, files in os.walk(folder):
        for name in files:
            if name.endswith(".json") and not name.startswith("."):
                yield f"{dirpath}/{name}"

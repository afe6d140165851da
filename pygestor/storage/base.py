"""The contract every data-directory backend keeps: the only way pygestor reads or writes there.

Paths are *keys*: `/`-joined, relative to the storage root, never absolute, never with `.` or
`..` segments (`.pygestor/datasets/mnist/current.json`, `mnist/train/x.parquet`). A backend
refuses any other key with `ValueError`, so no caller can address a file outside the root.

What is atomic (a reader, in any process, sees the old state or the new one, never a mix):

| operation | atomic | notes |
|---|---|---|
| `write(key, data)` | yes: replace | `durable=True` (default): on disk before it is visible |
| `create(key, data)` | yes: create-only | False when the key exists; never overwrites |
| `create_all(files)` | each: create-only | as `create`, with one sync for the lot |
| `writer(key)` | yes: replace | streamed; visible only when the block ends without error |
| `replace(src, dst)` | yes: rename over `dst` | `src`'s bytes made durable first |
| `append(key)` | no | partial files (`.part`) only: resumable, never counted as data |
| `append_from(key, src)` | no | `append` of the bytes of file `src` (range parts joined) |
| `remove(key)`, `remove_dir(key)` | yes | a missing key is not an error (returns False) |
| `write_if(key, data, tag)` | yes: compare-and-swap | only over the version `read_tagged` gave |
| `lock(key, timeout)` | n/a | exclusive across processes and hosts sharing the storage |

`compare_and_swap` says how the index keeps concurrent writers apart. False (local disks, NFS):
under `lock`, the dataset lock. True (object stores, which have no lock service): without any
lock on the index: its listings and records are only ever created (`create`, `If-None-Match: *`)
and the one file replaced, a dataset's pointer, is replaced by `write_if` on the version it was
read at (`If-Match` on its ETag), the writer reading again and retrying when another got there
first. `lock` there is a lease object (a partition's download), never taken by the index.

Writes never follow a link they did not expect, and never land outside the root: a backend
refuses (`pygestor.errors.UnsafePath`) to write, append, rename or delete where a key's folder
really leads outside, to append to or rename from a link, and to rename over a link (a link at
a key is removed as a link, never its target). `pygestor.testing.storage_suite` checks each rule.
A partial file deleted or moved while it is appended to fails the next write with
FileNotFoundError (the download restarts that file); one that another process has claimed
cannot be claimed (BlockingIOError). A lock is held on the file at its path when taken (a lock
file deleted meanwhile, by a cleanup script, is taken again).

On an object store (`s3.py`) a folder is a key prefix: it exists while a key is below it and
goes with its last key (`remove_dir` then finds nothing to remove: False), and a partial file
that vanished fails the write that sends its bytes (a chunk: when full, on `flush`, at the end
of the block) rather than each `write`; either way no byte lands in what is no longer it.

Reads (`info`, `read`, `open`, `open_arrow`, `list`, `walk`) never create anything. `walk`, and
`info` unless asked, do not follow symbolic links; `inside` tells where a key really leads. A
backend without
links (object stores) answers `inside` with True and `kind` "link" never appears.

(Fewer verbs than fsspec's `AbstractFileSystem`, plus the two that fsspec lacks and pygestor
needs: the atomicity of each write, and the lock.)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from pathlib import Path

Kind = Literal["file", "dir", "link"]


def check_key(key: str) -> str:
    """`key` itself when it is a clean storage key (see the module docstring), else ValueError;
    "" is the root. Every backend checks keys here, so all refuse the same ones."""
    framed = f"/{key}/"  # an empty, '.' or '..' segment (or a leading '/'), as substrings
    if key and (
        "//" in framed or "/./" in framed or "/../" in framed or "\\" in key or "\0" in key
    ):
        raise ValueError(f"{key!r} is not a storage key (a relative path without '.' or '..')")
    return key


#: Temporary files of writes in flight start with this; they are never data, and a backend may
#: leave them behind when its process is killed (`sync --repair` removes old ones).
TEMP_PREFIX = ".tmp-"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """What `info` / `list` tell of one key (symbolic links are not followed)."""

    key: str
    kind: Kind
    size: int  # bytes (0 for folders; a link's own size)
    mtime_ns: int  # last modified, nanoseconds since the epoch

    @property
    def mtime(self) -> float:
        """Last modified, seconds since the epoch."""
        return self.mtime_ns / 1e9


class Storage(Protocol):
    """A data directory. See the module docstring for keys and atomicity."""

    @property
    def url(self) -> str:
        """Where it is, for messages (`/data/pyg`, `s3://bucket/prefix`)."""
        ...

    #: True: the index relies on `create` and `write_if` alone, never on `lock` (see above).
    compare_and_swap: bool

    # ---- reading ----------------------------------------------------------------------------
    def info(self, key: str, *, follow: bool = False) -> FileInfo | None:
        """The entry at `key`, None when there is none. A symbolic link is reported as one
        (kind "link") unless `follow`, which describes what it leads to."""
        ...

    def read(self, key: str) -> bytes | None:
        """The whole content of a (small) file, None when it does not exist."""
        ...

    def read_tagged(self, key: str) -> tuple[bytes, str] | None:
        """The whole content of a (small) file and a tag naming this version of it (an object
        store's ETag; a local disk's size, mtime and inode), None when it does not exist."""
        ...

    def open(self, key: str) -> IO[bytes]:
        """A seekable binary reader (range reads); FileNotFoundError when missing."""
        ...

    def open_arrow(self, key: str) -> Any:
        """A pyarrow random-access file (memory-mapped where the backend can); for footers, Arrow
        IPC files and per-file readers. FileNotFoundError when missing."""
        ...

    def arrow_filesystem(self) -> tuple[Any, str]:
        """A `pyarrow.fs.FileSystem` and the path prefix of the root in it, for `pyarrow.dataset`
        scans: the file of `key` is `prefix + "/" + key` in that filesystem."""
        ...

    def list(self, key: str) -> list[FileInfo]:
        """The entries directly in the folder `key` ("" for the root), sorted by name; [] when
        there is no such folder."""
        ...

    def walk(self, key: str) -> Iterator[str]:
        """Keys of every file below the folder `key`, recursively; a symbolic link (to a file or
        a folder) is yielded as an entry of its own and never followed. Nothing when missing."""
        ...

    def inside(self, key: str, base: str) -> bool:
        """True when `key`, links followed, leads to `base` (links followed) or below it."""
        ...

    def unsafe(self, key: str) -> str | None:
        """Why a write, rename or delete at `key` would be refused (`UnsafePath`): its folder
        really leads outside the root; None when it is allowed. A backend without links: None."""
        ...

    def local_path(self, key: str) -> Path:
        """The local file of `key`, for values shown to people and for local-only tools;
        backends without local files raise NotImplementedError."""
        ...

    def free_bytes(self) -> int | None:
        """Free space where new files go, None when unknown or unbounded."""
        ...

    # ---- writing ----------------------------------------------------------------------------
    def write(self, key: str, data: bytes, *, durable: bool = True) -> None:
        """Atomically create or replace `key` with `data` (parents created as needed)."""
        ...

    def create(self, key: str, data: bytes) -> bool:
        """Atomically create `key` with `data` unless it exists; True when this call created it."""
        ...

    def create_all(
        self, files: Sequence[tuple[str, bytes]], *, sync_first: Sequence[str] = ()
    ) -> tuple[bool, ...]:
        """`create` each of `files` (key, bytes); for each, True when this call created it.
        Durable as `create` makes them (each file's bytes before its name appears), at the cost
        of one sync for the lot rather than one per file. The files `sync_first` (keys written
        with `durable=False`) are made durable by the same sync, before any of `files`
        appears."""
        ...

    def write_if(self, key: str, data: bytes, *, tag: str | None) -> bool:
        """Atomically replace `key` with `data` if it still is the version `tag` (from
        `read_tagged`), or with `tag=None` create it if it does not exist; False, writing
        nothing, when another writer changed (or created, or removed) it first: read it again
        and retry. Exclusive across processes and hosts, as `create` is."""
        ...

    def writer(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """A streamed atomic write: `key` appears (or is replaced) only when the block exits
        without an exception, durable; on an exception nothing is left behind."""
        ...

    def append(self, key: str, *, new: bool = False) -> AbstractContextManager[IO[bytes]]:
        """Open a partial file to append to (`new`: start it empty). Not atomic: for `.part`
        files, which are never counted as data, then `replace`d into place. Another user's
        partial file is continued (or copied to one of ours and continued), never chmod-ed."""
        ...

    def append_from(self, key: str, source: str, *, offset: int = 0) -> int:
        """Append the bytes of the file `source` from byte `offset` on to the partial file `key`
        (as `append` does, with its checks); the number of bytes appended. For joining the range
        parts of a download (`pygestor.fetch_ranges`); a local backend copies in the kernel."""
        ...

    def claim(self, key: str) -> AbstractContextManager[None]:
        """Hold the partial file `key` (made empty if missing) for the block: the only writer
        of it across processes, even when the lock files are deleted; BlockingIOError at once
        when another process holds it. An empty file the claim made is removed at the end."""
        ...

    def replace(self, src: str, dst: str, *, durable: bool = True) -> None:
        """Make `src`'s bytes durable (unless `durable=False`: then `sync` them later, before
        anything points at them), then atomically rename it over `dst`."""
        ...

    def sync(self, keys: Sequence[str]) -> None:
        """Make the bytes and names of the files `keys` durable, at once (a batch of downloads
        renamed with `replace(durable=False)`, before their records are written)."""
        ...

    def remove(self, key: str) -> bool:
        """Delete a file (or a link itself, never its target); False when it did not exist."""
        ...

    def remove_dir(self, key: str) -> bool:
        """Delete an empty folder; False when it is missing, not empty, or a link."""
        ...

    def lock(self, key: str, *, timeout: float) -> AbstractContextManager[None]:
        """Hold an exclusive lock named `key` across processes, waiting at most `timeout`
        seconds (0: try once), else raise `pygestor.errors.LockTimeout`."""
        ...


def located(storage: Storage, key: str) -> Path | str:
    """Where `key` is, for people and reports: its local path, or on an object store its URL
    (`s3://bucket/prefix/key`)."""
    try:
        return storage.local_path(key)
    except NotImplementedError:
        return f"{storage.url}/{key}" if key else storage.url

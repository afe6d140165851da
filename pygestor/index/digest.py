"""Hashes and footers of stored files: what downloads, verify and repair all check.

A file is checked the strongest way its record allows: sha256 (Hub LFS files), else the git blob
id (`sha1(b"blob <size>\\0" + data)`, small Hub files), else its size alone (sources that give
neither). Files are read through the storage seam, a MiB at a time.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any, Literal, TypeVar

from ..sources.base import RemoteFile
from ..storage.base import Storage

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20  # bytes read at a time when hashing
HASH_WORKERS = 8  # files hashed at once (hashlib releases the GIL on large buffers)

T = TypeVar("T")
R = TypeVar("R")

Status = Literal["ok", "missing", "corrupt"]


@dataclass(frozen=True)
class Digests:
    """What was read from a file: its size, and the hashes asked for."""

    size: int
    sha256: str | None = None
    blob_id: str | None = None
    content: bytes | None = field(default=None, repr=False, compare=False)  # all, if one piece


@dataclass(frozen=True)
class Check:
    """A stored file against what it should be: `status`, the check used, sizes and digests."""

    status: Status
    check: Literal["sha256", "blob_id", "size"]
    size_on_disk: int | None
    expected: str | None
    actual: str | None
    content: bytes | None = field(default=None, repr=False, compare=False)  # see `Digests`


def git_blob_id_header(size: int) -> bytes:
    return b"blob %d\0" % size


def file_digests(
    fh: IO[bytes], size: int, *, sha256: bool = False, blob_id: bool = False
) -> Digests:
    """Bytes read from `fh` (of `size` bytes by its metadata), and their sha256 and/or git blob id,
    in one pass. A file that grew or shrank while read gets no blob id (it cannot match). A file
    read in one piece (at most `CHUNK_SIZE` bytes) comes back as `content` too."""
    if not (sha256 or blob_id):
        return Digests(size)
    h256 = hashlib.sha256() if sha256 else None
    h1 = hashlib.sha1(git_blob_id_header(size)) if blob_id else None
    read, pieces = 0, []
    while chunk := fh.read(CHUNK_SIZE):
        read += len(chunk)
        pieces.append(chunk)
        del pieces[:-1]  # only ever the last one
        if h256 is not None:
            h256.update(chunk)
        if h1 is not None:
            h1.update(chunk)
    blob = h1.hexdigest() if h1 is not None and read == size else None
    whole = pieces[0] if pieces and len(pieces[0]) == read else None
    return Digests(read, h256.hexdigest() if h256 is not None else None, blob, whole)


def digests(storage: Storage, key: str, *, sha256: bool = False, blob_id: bool = False) -> Digests:
    """`file_digests` of the stored file `key`; FileNotFoundError when it is missing."""
    info = storage.info(key, follow=True)
    if info is None:
        raise FileNotFoundError(key)
    with storage.open(key) as fh:
        return file_digests(fh, info.size, sha256=sha256, blob_id=blob_id)


def check(storage: Storage, key: str, want: RemoteFile) -> Check:
    """The stored file `key` against `want`, by the strongest check `want` allows."""
    kind: Literal["sha256", "blob_id", "size"] = (
        "sha256" if want.sha256 else "blob_id" if want.blob_id else "size"
    )
    expected = want.sha256 or want.blob_id
    info = storage.info(key, follow=True)
    if info is None or info.kind != "file":
        return Check("missing", kind, None, expected, None)
    if info.size != want.size:  # no need to read it
        return Check("corrupt", kind, info.size, expected, None)
    try:
        got = digests(storage, key, sha256=kind == "sha256", blob_id=kind == "blob_id")
    except FileNotFoundError:
        return Check("missing", kind, None, expected, None)
    actual = got.sha256 if kind == "sha256" else got.blob_id if kind == "blob_id" else None
    ok = got.size == want.size and actual == expected
    return Check("ok" if ok else "corrupt", kind, got.size, expected, actual, got.content)


def mismatch(storage: Storage, key: str, want: RemoteFile) -> str | None:
    """None when the stored file has `want`'s size and hash; else what did not match, for
    messages."""
    return verify(storage, key, want)[0]


def verify(storage: Storage, key: str, want: RemoteFile) -> tuple[str | None, bytes | None]:
    """`mismatch`, and the file's bytes when the check read them in one piece (a small file:
    its parquet footer is then read from them, `parquet_rows_of`, not from the file again)."""
    found = check(storage, key, want)
    return _mismatch(found, want), found.content


def _mismatch(found: Check, want: RemoteFile) -> str | None:
    if found.status == "ok":
        return None
    if found.size_on_disk != want.size:
        return f"size {want.size:,} (got {found.size_on_disk or 0:,})"
    return "sha256" if found.check == "sha256" else "git blob id"


def same(want: RemoteFile, got: Digests) -> bool:
    """True when `got` (read with the hashes `want` has) describes `want`'s bytes."""
    if want.size != got.size:
        return False
    if want.sha256:
        return want.sha256 == got.sha256
    return want.blob_id == got.blob_id if want.blob_id else True


def parquet_rows_of(key: str, content: bytes) -> int | None:
    """`parquet_rows` of the file `key` whose bytes are `content` (already in memory)."""

    def source() -> Any:
        import pyarrow as pa

        return pa.BufferReader(content)

    return _footer_rows(key, source)


def parquet_rows(storage: Storage, key: str) -> int | None:
    """Rows from a parquet footer (no data read); None for other formats or unreadable footers."""
    return _footer_rows(key, lambda: storage.open_arrow(key))


def _footer_rows(key: str, source: Callable[[], Any]) -> int | None:
    if not key.endswith(".parquet"):
        return None
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(source()).num_rows)
    except Exception:  # noqa: BLE001 (a file whose footer pyarrow cannot read: rows stay unknown)
        log.warning("cannot read the parquet footer of %s", key)
        return None


def parallel_map(fn: Callable[[T], R], items: Sequence[T], workers: int | None = None) -> list[R]:
    """`fn` over `items` in a bounded thread pool (in order); a plain loop for one item."""
    n = min(workers or HASH_WORKERS, len(items))
    if n <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=n, thread_name_prefix="pygestor-hash") as pool:
        return list(pool.map(fn, items))

"""Hashing and footers of files on disk: what downloads, verify and repair all check.

A file is checked the strongest way its record allows: sha256 (Hub LFS files), else the git blob
id (`sha1(b"blob <size>\\0" + data)`, small Hub files), else its size alone (sources that give
neither).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .sources.base import RemoteFile

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20  # bytes read at a time when hashing


@dataclass(frozen=True)
class Digests:
    """What was read from a file: its size, and the hashes asked for."""

    size: int
    sha256: str | None = None
    blob_id: str | None = None


def git_blob_id_header(size: int) -> bytes:
    return b"blob %d\0" % size


def file_digests(path: Path | str, *, sha256: bool = False, blob_id: bool = False) -> Digests:
    """Size, and sha256 and/or git blob id, in one pass of 1 MiB reads. Raises OSError like `open`."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if not (sha256 or blob_id):
            return Digests(size)
        h256 = hashlib.sha256() if sha256 else None
        h1 = hashlib.sha1(git_blob_id_header(size)) if blob_id else None
        read = 0
        while chunk := fh.read(CHUNK_SIZE):
            read += len(chunk)
            if h256 is not None:
                h256.update(chunk)
            if h1 is not None:
                h1.update(chunk)
    blob = h1.hexdigest() if h1 is not None and read == size else None  # grown while read: no match
    return Digests(read, h256.hexdigest() if h256 is not None else None, blob)


def mismatch(path: Path, file: RemoteFile) -> str | None:
    """None when `path` has `file`'s size and hash; otherwise what did not match, for messages."""
    size = path.stat().st_size
    if size != file.size:
        return f"size {file.size:,} (got {size:,})"
    got = file_digests(path, sha256=bool(file.sha256), blob_id=bool(file.blob_id and not file.sha256))
    if file.sha256:
        return None if got.sha256 == file.sha256 else "sha256"
    if file.blob_id:
        return None if got.blob_id == file.blob_id else "git blob id"
    return None


def parquet_rows(path: Path) -> int | None:
    """Rows from a parquet footer (no data read); None for other formats or unreadable footers."""
    if not path.name.endswith(".parquet"):
        return None
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except Exception:  # noqa: BLE001 (a file whose footer pyarrow cannot read: rows stay unknown)
        log.warning("cannot read the parquet footer of %s", path)
        return None

"""The small protocol every source implements, and the records it produces.

A source lists the files of one dataset at one revision (`list()`), once per sync. A source
whose files are copied into the data directory (the Hub; not a local folder, read in place) also
opens one file's bytes from an offset (`open_file`), which downloads resume with.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file of a source, as listed: path relative to the source root, with what identifies
    it."""

    path: str
    size: int
    sha256: str | None = None  # Hub LFS files
    blob_id: str | None = None  # git blob sha1 (Hub files that are not in LFS)
    mtime: float | None = None  # local sources: seconds since the epoch

    def same_content(self, other: RemoteFile) -> bool:
        """True when both records describe the same bytes, as far as the source lets us tell."""
        if self.size != other.size:
            return False
        if self.sha256 and other.sha256:
            return self.sha256 == other.sha256
        if self.blob_id and other.blob_id:
            return self.blob_id == other.blob_id
        if self.mtime is not None and other.mtime is not None:
            return self.mtime == other.mtime
        return True


@dataclass(frozen=True)
class Snapshot:
    """Every file of a source at one revision (what `Source.list` returns)."""

    files: tuple[RemoteFile, ...]
    revision: str | None  # what was asked for (branch, tag, commit); None for folders
    commit: str | None  # what it resolved to; None where the source has no commits


class Source(Protocol):
    """A place datasets live. One module per kind; see `pygestor.sources.open_source`."""

    def describe(self) -> str:
        """A short, token-free description such as `hf://datasets/owner/name@main`."""
        ...

    def list(self) -> Snapshot:
        """List every file, recursively, in one pass; raise SourceError with a fix on failure."""
        ...


class Transient(Exception):
    """A failure worth retrying (and resuming) after `delay` seconds (None: the caller's backoff):
    5xx, 429, a dropped connection, a body that broke off."""

    def __init__(
        self, cause: str, delay: float | None = None, *, retries: int | None = None
    ) -> None:
        super().__init__(cause)
        self.delay = delay
        # at most this many retries for this failure (None: the caller's); a refused connection
        # is worth a couple of quick ones, not minutes of backoff, and ends the whole download
        self.retries = retries


class FileBody(Iterable[bytes], Protocol):
    """One file's bytes as they arrive; iterating raises Transient when the transfer breaks."""

    start: int  # the byte the body begins at: the offset asked for, or 0 when it was ignored


class Fetcher(Source, Protocol):
    """A source whose files are downloaded into the data directory."""

    def open_file(
        self, path: str, commit: str | None, *, offset: int = 0
    ) -> AbstractContextManager[FileBody]:
        """The bytes of `path` at `commit` from byte `offset`. Raises Transient for what is worth
        retrying, a `pygestor.errors.SourceError` (AccessDenied, MissingUpstream, ...) for the
        rest."""
        ...

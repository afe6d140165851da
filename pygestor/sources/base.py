"""The small protocol every source implements, and the records it produces.

A source lists the files of one dataset at one revision (`list()`), once per sync. Fetching
single files is added on top of this protocol by the data plane; listing is all that sync needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file of a source, as listed: path relative to the source root, with what identifies it."""

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
class Listing:
    """Every file of a source at one revision."""

    files: tuple[RemoteFile, ...]
    revision: str | None  # what was asked for (branch, tag, commit); None for folders
    commit: str | None  # what it resolved to; None where the source has no commits


class Source(Protocol):
    """A place datasets live. One module per kind; see `pygestor.sources.open_source`."""

    def describe(self) -> str:
        """A short, token-free description such as `hf://datasets/owner/name@main`."""
        ...

    def list(self) -> Listing:
        """List every file, recursively, in one pass; raise SourceError with a fix on failure."""
        ...

"""The small protocol every source implements, and the records it produces.

A source lists the files of one dataset at one revision (`list()`), once per sync. A source
whose files are copied into the data directory (the Hub; not a local folder, read in place) also
opens one file's bytes from an offset (`open_file`), which downloads resume with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote


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
    #: (shown path, why) of listed entries left out: an unsafe path or an unusable size
    rejected: tuple[tuple[str, str], ...] = ()


# ---- what a listing may contain --------------------------------------------------------------
#: C0 controls, DEL and C1 controls: never part of a path pygestor requests or writes.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PERCENT_DECODES = 3  # '%252e' is '%2e' once decoded: look through a few layers of encoding


def shown(path: object) -> str:
    """`path` for a message: control characters escaped, so it stays one line."""
    text = path if isinstance(path, str) else repr(path)
    if not text.isascii():  # undecodable bytes of a name on disk: escaped, printable anywhere
        text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    return text if len(text) <= 200 else text[:200] + "..."


def unsafe_path(path: object) -> str | None:
    """Why a listed path must never be requested or written (None when it is safe): not text,
    empty, absolute, an empty, '.' or '..' segment, a backslash or a control character, also
    once percent-decoded (`%2e%2e`, `%2F`, `%5c`, `%00`, in any case and up to a few layers)."""
    if not isinstance(path, str):
        return f"its path is {type(path).__name__}, not text"
    if path.isascii() and path.isprintable() and "%" not in path and "\\" not in path:
        framed = f"/{path}/"  # the common case, in string operations (4x faster than a regex)
        if "//" not in framed and "/./" not in framed and "/../" not in framed:
            return None
    if not _utf8(path):
        return "its path is not valid UTF-8"
    text = path
    for layer in range(_PERCENT_DECODES + 1):
        why = _why(text, " percent-encoded" if layer else "")
        if why is not None:
            return why
        if layer and text.count("/") != path.count("/"):
            return "its path has a percent-encoded '/'"
        decoded = unquote(text, errors="replace") if "%" in text else text
        if decoded == text:
            return None
        text = decoded
    return "its path is percent-encoded too many times"


def _utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _why(text: str, encoded: str) -> str | None:
    if not text:
        return "its path is empty"
    if _CONTROL.search(text):
        return f"its path has a{encoded} control character"
    if "\\" in text:
        return f"its path has a{encoded} backslash"
    if text.startswith("/"):
        return "its path is absolute"
    if any(seg in ("", ".", "..") for seg in text.split("/")):
        return f"its path has a{encoded} '.', '..' or empty segment"
    if not _utf8(text):
        return "its path is not valid UTF-8"
    return None


def bad_size(size: object) -> str | None:
    """Why a listed size is unusable (None for a whole number of bytes, 0 included)."""
    if isinstance(size, bool) or not isinstance(size, int):
        return f"its size {shown(repr(size))} is not a whole number of bytes"
    if size < 0:
        return f"its size {size} is negative"
    return None


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


class RangeIgnored(Transient):
    """A range request answered without a usable range (206 without a valid Content-Range):
    retried as any Transient by a single stream; a download split into ranges falls back to one
    stream instead."""


class FileBody(Iterable[bytes], Protocol):
    """One file's bytes as they arrive; iterating raises Transient when the transfer breaks."""

    start: int  # the byte the body begins at: the offset asked for, or 0 when it was ignored
    #: (first byte, end) of a ranged answer (206 with its Content-Range), None for the whole file
    span: tuple[int, int] | None


class Fetcher(Source, Protocol):
    """A source whose files are downloaded into the data directory."""

    def open_file(
        self, path: str, commit: str | None, *, offset: int = 0, length: int | None = None
    ) -> AbstractContextManager[FileBody]:
        """The bytes of `path` at `commit` from byte `offset` (only `length` of them when given:
        a bounded range). Raises Transient for what is worth retrying, a
        `pygestor.errors.SourceError` (AccessDenied, MissingUpstream, ...) for the rest."""
        ...

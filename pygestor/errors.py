"""Errors pygestor raises, each with a message a user can act on.

    PygestorError                    base: anything pygestor reports on purpose
    ├── ManifestError                a manifest is invalid (carries every problem found)
    ├── DatasetNotFound (KeyError)   no manifest with that name / no such subset or partition
    ├── NotSynced                    the operation needs a sync first
    ├── SelectionError (ValueError)  the arguments do not choose partitions (e.g. subset missing)
    ├── SourceError (OSError)        a source could not be listed or read
    │   └── AccessDenied             gated or private: where to get access / which token
    └── LockTimeout (TimeoutError)   another process holds a lock for too long

    PygestorWarning (UserWarning)    data was read, but not all of it, or not fresh (skipped, stale)

The CLI turns every `PygestorError` into one line on stderr and exit status 1; anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class PygestorError(Exception):
    """Base class of every error pygestor raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem in one manifest: where it is, and what to do about it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ManifestError(PygestorError):
    """One or more manifests are invalid; `problems` lists each one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DatasetNotFound(PygestorError, KeyError):
    """No dataset, subset or partition of that name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class NotSynced(PygestorError):
    """The dataset has never been synced, so its subsets and partitions are unknown."""


class SelectionError(PygestorError, ValueError):
    """The arguments do not choose a set of partitions, e.g. no subset on a dataset with several."""


class SourceError(PygestorError, OSError):
    """A source (the Hub, a folder) could not be listed or read."""


class AccessDenied(SourceError):
    """The source refused access: gated, private, or a missing or wrong token."""


class PygestorWarning(UserWarning):
    """Data was read, but not all of it or not as fresh as it could be (skipped, stale, old copy)."""


class LockTimeout(PygestorError, TimeoutError):
    """Another process held a pygestor lock for longer than the timeout."""


def suggest(name: str, choices: Sequence[str], *, limit: int = 8) -> str:
    """A hint naming the closest choices, for 'no such X' messages."""
    import difflib

    if not choices:
        return ""
    close = difflib.get_close_matches(name, choices, n=3)
    if close:
        return f"; did you mean {', '.join(repr(c) for c in close)}?"
    shown = ", ".join(choices[:limit]) + (f", ... ({len(choices)} in all)" if len(choices) > limit else "")
    return f"; known: {shown}"

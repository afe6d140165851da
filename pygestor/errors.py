"""Errors pygestor raises, each building a message a user can act on from the values it carries.

    PygestorError                        base: anything pygestor reports on purpose
    ├── ManifestError                    a manifest is invalid (carries every problem found)
    │   └── InvalidManifest              text to save or an edit the validator refuses
    ├── InvalidEdit (ValueError)         a change the manifest editor cannot make (key, type)
    ├── ReadOnlyManifest (PermissionError)  a built-in (or unwritable) manifest file
    ├── ManifestChanged                  the file changed since it was read (an edit's sha256)
    ├── DatasetNotFound (KeyError)       no manifest with that name
    │   ├── SubsetNotFound               no such subset in a dataset
    │   └── PartitionNotFound            no such partition in the chosen subsets
    ├── NotSynced                        the operation needs a sync first
    ├── SelectionError (ValueError)      the arguments do not choose partitions (no subset, ...)
    ├── SourceError (OSError)            a source could not be listed or read
    │   ├── AccessDenied                 gated or private: where to get access / which token
    │   └── MissingUpstream              a listed file is gone at the synced commit
    ├── DownloadError                    partitions still failing after the retries (`failures`)
    ├── InsufficientSpace (OSError)      the data directory's disk cannot hold a download
    │   └── DiskFull                     the disk filled up while writing (partial files kept)
    ├── LockTimeout (TimeoutError)       another process holds a lock for too long
    ├── UnsafePath (OSError)             a path to write is a link or leads outside the data dir
    ├── DamagedIndex                     an index file is unreadable or wrong-shaped (repair)
    ├── ReadOnlyDataDir (PermissionError)  the data directory a write needs is read-only for you
    └── ScaffoldError (ValueError)       `pygestor add` cannot write the manifest asked for
        ├── BadRepoReference             not owner/name, a Hub URL or hf://datasets/...
        ├── InvalidName                  not a dataset name
        ├── NameTaken                    the catalog already has a dataset of that name
        └── OutputExists (FileExistsError)  the manifest file exists (overwrite with --force)
            └── ManifestExists               `save_manifest` would replace a file (overwrite=True)

    PygestorWarning (UserWarning)        data was read, but not all of it, or not fresh
    DownloadInterrupted (KeyboardInterrupt)  Ctrl-C during a download: what is kept, how to resume

The CLI turns every `PygestorError` into one line on stderr and exit status 1 (the web UI into a
status); anything else is a bug and keeps its traceback. Nothing here imports beyond the
standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )

    def to_json(self) -> dict[str, str | int | None]:
        """`{file, line, field, message}` (what the web UI's API returns)."""
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class ManifestError(PygestorError):
    """One or more manifests are invalid; `problems` lists each one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class DatasetNotFound(PygestorError, KeyError):
    """No dataset of that name in the catalog (`known`: the names there are, for suggestions)."""

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        self.name = name
        self.known = tuple(known)
        super().__init__(self._message())

    def _message(self) -> str:
        return f"no dataset named {self.name!r} in the catalog{suggest(self.name, self.known)}"

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class SubsetNotFound(DatasetNotFound):
    """The dataset has no subset of that name."""

    def __init__(self, dataset: str, name: str, known: Sequence[str] = ()) -> None:
        self.dataset = dataset
        super().__init__(name, known)

    def _message(self) -> str:
        return (
            f"dataset {self.dataset!r} has no subset {self.name!r}{suggest(self.name, self.known)}"
        )


class PartitionNotFound(DatasetNotFound):
    """No partition of that name (or `subset/name`) in the chosen subsets."""

    def __init__(self, dataset: str, name: str, known: Sequence[str] = ()) -> None:
        self.dataset = dataset
        super().__init__(name, known)

    def _message(self) -> str:
        return (
            f"no partition {self.name!r} in the chosen subsets of {self.dataset!r}"
            f"{suggest(self.name, self.known)}"
        )


class NotSynced(PygestorError):
    """The dataset has never been synced, so its subsets and partitions are unknown."""

    def __init__(self, dataset: str) -> None:
        self.dataset = dataset
        super().__init__(
            f"dataset {dataset!r} has not been synced yet; run 'pygestor sync {dataset}'"
        )


class SelectionError(PygestorError, ValueError):
    """The arguments do not choose a set of partitions, e.g. no subset on a dataset with several."""


class SourceError(PygestorError, OSError):
    """A source (the Hub, a folder) could not be listed or read."""


class AccessDenied(SourceError):
    """The source refused access: gated, private, or a missing or wrong token."""


class MissingUpstream(SourceError):
    """A listed file is no longer at the commit the last sync recorded."""

    def __init__(self, path: str, commit: str | None, dataset: str | None = None) -> None:
        self.path, self.commit, self.dataset = path, commit, dataset
        super().__init__(
            f"{path} is missing upstream at commit {commit}; "
            f"run 'pygestor sync{' ' + dataset if dataset else ''}'"
        )


class DownloadError(PygestorError):
    """Partitions that could not be fetched; `failures` maps `subset/partition` to the cause."""

    def __init__(self, dataset: str, failures: Mapping[str, str]) -> None:
        self.dataset = dataset
        self.failures = dict(failures)
        first, cause = next(iter(self.failures.items()))
        more = f" (and {len(self.failures) - 1} more)" if len(self.failures) > 1 else ""
        super().__init__(f"could not download {dataset}/{first}: {cause}{more}")


class InsufficientSpace(PygestorError, OSError):
    """The data directory's disk cannot hold what a download needs."""

    def __init__(self, needed: int, free: int, where: str) -> None:
        self.needed, self.free, self.where = needed, free, where
        super().__init__(
            f"the download needs {needed:,} bytes but {where} has {free:,} free; free space, "
            "choose "
            "fewer partitions, or set PYGESTOR_DATA_DIR to a larger disk"
        )


class LockTimeout(PygestorError, TimeoutError):
    """Another process held a pygestor lock for longer than the timeout."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path, self.timeout = path, timeout
        super().__init__(
            f"another pygestor process has held {path} for over {timeout:.0f} s; "
            "wait for it, or stop it if it is stuck"
        )


class ScaffoldError(PygestorError, ValueError):
    """`pygestor add` cannot make or write the manifest asked for."""


class BadRepoReference(ScaffoldError):
    """The text is not a Hub dataset reference pygestor understands."""


class InvalidName(ScaffoldError):
    """Not a valid dataset name."""


class NameTaken(ScaffoldError):
    """The catalog already has a dataset of that name."""


class OutputExists(ScaffoldError, FileExistsError):
    """The manifest file to write already exists."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"{path} already exists; overwrite it with --force (force=True) "
            "or choose another file with --output"
        )


class PygestorWarning(UserWarning):
    """Data was read, but not all of it or not as fresh as it could be (skipped, stale, old
    copy)."""


def suggest(name: str, choices: Sequence[str], *, limit: int = 8) -> str:
    """A hint naming the closest choices, for 'no such X' messages."""
    import difflib

    if not choices:
        return ""
    choices = list(choices)
    close = difflib.get_close_matches(name, choices, n=3)
    if close:
        return f"; did you mean {', '.join(repr(c) for c in close)}?"
    shown = ", ".join(choices[:limit]) + (
        f", ... ({len(choices)} in all)" if len(choices) > limit else ""
    )
    return f"; known: {shown}"


# issue 9 (team)
class UnsafePath(PygestorError, OSError):
    """A path pygestor was about to write, rename or delete is a symbolic link, or really leads
    outside the data directory (a link planted in a shared folder): nothing was written there."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(
            f"refusing to write or delete {path}: {reason}; pygestor never writes through a link "
            "it did not make: remove the link and rerun (a dataset folder may be a link to "
            "another disk only when the data directory's owner made it)"
        )


# issue 9 (sources)
class DiskFull(InsufficientSpace):
    """The disk filled up while pygestor was writing (a download or the index): what was written
    so far is kept (partial files resume), nothing half-written is in force."""

    def __init__(self, device: str, what: str, needed: int, free: int = 0) -> None:
        self.device, self.what = device, what
        PygestorError.__init__(
            self,
            f"no space left on {device} while writing {what}; free {max(needed - free, 1):,} "
            "bytes and rerun",
        )
        self.needed, self.free, self.where = needed, free, device


# issue 9 (terminal)
class DownloadInterrupted(KeyboardInterrupt):
    """A download stopped by Ctrl-C (a KeyboardInterrupt, so it stops what called it too): the
    files finished so far are recorded, every partial file is kept and resumed by the next run."""

    def __init__(self, dataset: str, done: int, partial: int, remaining: int) -> None:
        self.dataset, self.done, self.partial, self.remaining = dataset, done, partial, remaining
        super().__init__(
            f"{dataset}: interrupted: {done} files done, {partial} partial kept, "
            f"{remaining} not fetched"
        )


# issue 9 (tiers)
class ReadOnlyDataDir(PygestorError, PermissionError):
    """The data directory a command would write to is read-only for this user (permissions, a
    read-only mount, or root squashed on NFS). Reads still work; `data_dirs:` puts a personal,
    writable data directory in front of it."""

    def __init__(self, data_dir: str, action: str, path: str | None = None) -> None:
        self.data_dir = data_dir
        self.action = action
        self.path = path
        where = f" ({path} cannot be written)" if path else ""
        super().__init__(
            f"data directory {data_dir} is read-only for you{where}: {action} needs write "
            "access (list, info, verify, updates and reading local data do not); put a personal "
            f"data dir first in the config file, data_dirs: [~/pygestor-data, {data_dir}] "
            "(see README, Settings)"
        )


# issue 9 (index)
class DamagedIndex(PygestorError):
    """A file of pygestor's index (`DATA_DIR/.pygestor/...`) cannot be read or has the wrong
    shape: `path` names it, `what` says what is wrong; `sync DATASET --repair` rebuilds it."""

    def __init__(self, path: str, what: str, dataset: str | None = None) -> None:
        self.path, self.what, self.dataset = path, what, dataset
        fix = f"pygestor sync {dataset} --repair" if dataset else "pygestor sync --repair"
        super().__init__(f"{path}: {what}; run '{fix}'")


# issue 10 (manifests)
class InvalidManifest(ManifestError):
    """Manifest text to save, or the text an edit would write, that the validator refuses: the
    file was not written; `problems` lists what `pygestor validate` would print for it."""


class InvalidEdit(PygestorError, ValueError):
    """A change the manifest editor cannot make: a key it does not edit, a value of the wrong
    type."""


class ReadOnlyManifest(PygestorError, PermissionError):
    """A manifest that cannot be edited or deleted here: a built-in one, or a file you cannot
    write."""

    def __init__(self, name: str, path: str, why: str) -> None:
        self.name, self.path = name, path
        super().__init__(f"{path}: dataset {name!r} {why}")


class ManifestChanged(PygestorError):
    """The manifest file changed since it was read (its sha256 is not the one expected): nothing
    was written; read it again and redo the change."""

    def __init__(self, path: str, expected: str, found: str) -> None:
        self.path, self.expected, self.found = path, expected, found
        super().__init__(
            f"{path} changed since it was read (sha256 {found[:12]}..., expected "
            f"{expected[:12]}...); nothing was written: reload it and make the change again"
        )


class ManifestExists(OutputExists):
    """`save_manifest` would replace an existing manifest file."""

    def __init__(self, path: str) -> None:
        self.path = path
        PygestorError.__init__(
            self, f"{path} already exists; save with overwrite=True to replace it"
        )

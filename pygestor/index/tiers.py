"""Layered data directories: one personal tier that is written to, read-only shared tiers below.

`data_dirs: [~/pyg, /shared/datasets]` in the config file gives a `Store` over `~/pyg` whose
`lower` stores are the shared tiers (`Store.tiers`: itself first, then the shared ones). The
questions that look through the tiers are answered here, always in that order:

- the listing in force: the personal tier's, else the first shared tier's that has one, so a
  dataset synced only in a shared tier lists and loads from it (`listing`, `pointer`);
- which datasets are synced anywhere (`synced_datasets`) and which records are local in any tier
  (`local_records`); per partition, `index.selection.placed` picks the tier it is read from;
- whether the tier written to accepts writes: `require_writable` checks up front (permissions
  and read-only mounts, cheaply), and `writes` turns a `PermissionError` or `EROFS` met on a
  write anyway (NFS with root squash, ACLs) into the same one-line `ReadOnlyDataDir`.

Nothing in a shared tier is ever written: syncs, downloads, records, locks, Arrow copies and
removals all go to the personal tier (`Store.storage`).
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator
from pathlib import Path

from ..errors import PygestorError, ReadOnlyDataDir
from .records import Listing, Pointer, Record
from .store import Store

_READ_ONLY_ERRNOS = (errno.EACCES, errno.EPERM, errno.EROFS)


def listing(store: Store, dataset: str) -> Listing | None:
    """The listing in force: the first tier's (personal first) that has one; None if none has."""
    for tier in store.tiers:
        found = tier.listing(dataset)
        if found is not None:
            return found
    return None


def pointer(store: Store, dataset: str) -> Pointer | None:
    """The pointer of the tier whose listing is in force (see `listing`)."""
    for tier in store.tiers:
        found = tier.pointer(dataset)
        if found is not None:
            return found
    return None


def synced_datasets(store: Store) -> list[str]:
    """Datasets synced in any tier, each once, personal tier's first."""
    names: dict[str, None] = {}
    for tier in store.tiers:
        names.update(dict.fromkeys(tier.synced_datasets()))
    return list(names)


def local_records(
    store: Store, dataset: str, subset: str | None = None
) -> dict[tuple[str, str], Record]:
    """The records whose file is on disk in any tier (the first tier's where several have one)."""
    found: dict[tuple[str, str], Record] = {}
    for tier in reversed(store.tiers):
        found.update(tier.local_records(dataset, subset))
    return found


def require_writable(store: Store, action: str) -> None:
    """ReadOnlyDataDir when the tier written to is visibly read-only for this process: its folder
    (or, before it exists, the nearest existing parent it would be created in) is not writable,
    or sits on a read-only mount. `os.access` asks the kernel (and the NFS server), but cannot
    see every refusal (root squash): `writes` catches what it misses."""
    try:
        root = store.storage.local_path("")
    except NotImplementedError:  # not a local folder: found out on the first write
        return
    probe = Path(root)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ReadOnlyDataDir(str(root), action)


@contextlib.contextmanager
def writes(store: Store, action: str, *, check: bool = False) -> Iterator[None]:
    """Run a write to the personal tier; a permission or read-only-mount error on a path inside
    it becomes ReadOnlyDataDir (one line naming the folder), any other error passes. `check`:
    `require_writable` first (callers that decide earlier whether a write is needed check there)."""
    if check:
        require_writable(store, action)
    try:
        yield
    except OSError as exc:
        if isinstance(exc, PygestorError) or exc.errno not in _READ_ONLY_ERRNOS:
            raise
        root = store.storage.url
        where = os.fspath(exc.filename) if exc.filename is not None else ""
        if not isinstance(where, str) or not (where == root or where.startswith(root + "/")):
            raise
        raise ReadOnlyDataDir(root, action, where if where != root else None) from None

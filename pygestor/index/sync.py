"""Sync: list a source once, resolve the manifest's rules against it, record the listing.

`list_source` lists and resolves (a dry run: nothing is written, what `validate --resolve` and
`updates` use); `record` makes that listing current and reports what changed: new partitions,
local ones changed upstream (stale) or deleted there (gone). No per-partition write: states are
derived when read (`selection.states`).
"""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import os
from dataclasses import asdict, dataclass
from typing import Any

from ..errors import DiskFull, SourceError
from ..manifest.models import Manifest
from ..resolve import resolve
from ..sources.base import RemoteFile, Snapshot, Source, bad_size, shown, unsafe_path
from ..storage.base import Storage
from .records import Listing
from .store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncResult:
    """What one dataset's sync found; `error` is set (and the rest empty) when it failed."""

    dataset: str
    source: str | None = None
    revision: str | None = None
    commit: str | None = None
    synced_at: str | None = None
    subsets: int = 0
    partitions: int = 0
    bytes: int = 0
    changed: bool = False  # the listing differs from the one in force before
    new: tuple[str, ...] = ()  # "subset/partition" not in the previous listing
    stale: tuple[str, ...] = ()  # local partitions whose upstream file changed
    gone: tuple[str, ...] = ()  # local partitions no longer upstream
    unmatched: tuple[str, ...] = ()
    empty_rules: tuple[str, ...] = ()  # patterns of rules that matched nothing
    skipped: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return data


def list_source(manifest: Manifest, source: Source, *, where: str) -> Listing:
    """List `source` now and resolve `manifest` against it; records nothing. `where` (the
    manifest's file) prefixes a source error, so the user knows which manifest to fix."""
    log.info("listing %s for %s", source.describe(), manifest.name)
    try:
        files = source.list()
    except SourceError as exc:
        raise type(exc)(f"{manifest.name} ({where}): {exc}") from None
    kept, rejected = usable_files(files)
    resolution = resolve(manifest, kept)
    if rejected:
        log.info("%s: %d listed files left out as unsafe", manifest.name, len(rejected))
        resolution = dataclasses.replace(resolution, skipped=rejected + resolution.skipped)
    return Listing.from_resolution(
        manifest.name,
        source.describe(),
        files.revision,
        files.commit,
        manifest.fingerprint(),
        resolution,
    )


def usable_files(
    snapshot: Snapshot,
) -> tuple[tuple[RemoteFile, ...], tuple[tuple[str, str], ...]]:
    """The listed files that are safe to request and write, and (shown path, why) of the rest:
    the source's own rejections plus any path with '..', a backslash, a control character (also
    percent-encoded), a size that is not a whole number of bytes, or a path listed twice. The
    rest is never requested."""
    rejected = list(snapshot.rejected)
    kept = []
    seen: set[str] = set()
    for file in snapshot.files:
        why = unsafe_path(file.path) or bad_size(file.size)
        if why is None and file.path in seen:
            why = "it is listed twice; the first entry is kept"
        if why is None:
            kept.append(file)
            seen.add(file.path)
        else:
            rejected.append((shown(file.path), why))
    if not rejected:
        return snapshot.files, ()
    return tuple(kept), tuple(rejected)


def record(store: Store, manifest: Manifest, listing: Listing) -> SyncResult:
    """Make `listing` the one in force and say what changed since the one before. A disk that
    fills up meanwhile is DiskFull: the listing in force stays the one before (writes are
    atomic), and the rerun after freeing space records it."""
    previous = store.listing(manifest.name)
    try:
        pointer = store.save_listing(listing)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        needed = len(json.dumps(listing.to_json())) + 4096  # the listing and its pointer
        raise disk_full(store.storage, f"the index of {manifest.name}", needed) from None
    records = store.records(manifest.name)
    current = {(s.name, p.name): p.file for s in listing.subsets for p in s.partitions}
    before = (
        {(s.name, p.name) for s in previous.subsets for p in s.partitions}
        if previous
        else set(current)
    )
    stale = sorted(k for k, rec in records.items() if k in current and not rec.matches(current[k]))
    gone = sorted(k for k in records if k not in current)
    return SyncResult(
        dataset=listing.dataset,
        synced_at=pointer.synced_at,
        **listing.totals(),
        changed=previous is None or previous.to_json() != listing.to_json(),
        new=tuple(f"{s}/{p}" for s, p in sorted(set(current) - before)),
        stale=_keys(stale),
        gone=_keys(gone),
        unmatched=listing.unmatched,
        empty_rules=tuple(rule_text(manifest, i) for i in listing.empty_rules),
        skipped=listing.skipped,
    )


def is_disk_full(exc: BaseException) -> bool:
    """True for 'no space left on device' (and 'disk quota exceeded')."""
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full(storage: Storage, what: str, needed: int) -> DiskFull:
    """The DiskFull error for `storage`, naming its mount point and the bytes to free."""
    free = storage.free_bytes() or 0
    try:
        device = os.path.realpath(storage.local_path(""))
        while not os.path.ismount(device) and device != os.path.dirname(device):
            device = os.path.dirname(device)
    except (NotImplementedError, OSError, ValueError):  # not a local file system
        device = storage.url
    return DiskFull(device, what, needed, free)


def rule_text(manifest: Manifest, index: int) -> str:
    """`subsets[i]: <its patterns>`, how reports name a rule."""
    files = manifest.subsets[index].files
    return f"subsets[{index}]: " + (files if isinstance(files, str) else ", ".join(files))


def _keys(keys: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(f"{s}/{p}" for s, p in keys)

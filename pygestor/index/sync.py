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
from .records import Listing, StoredSubset
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
    files: dict[str, dict[str, RemoteFile]] = {}  # of the subsets something is recorded of
    for s in {s for s, _ in records}:
        subset = listing.subset(s)
        files[s] = {} if subset is None else {p.name: p.file for p in subset.partitions}
    stale = sorted(
        (s, p) for (s, p), rec in records.items() if p in files[s] and not rec.matches(files[s][p])
    )
    gone = sorted((s, p) for s, p in records if p not in files[s])
    saved = store.listing(manifest.name, pointer.listing)  # (its head names its subset files)
    changed, new = _changes(previous, listing, saved)
    return SyncResult(
        dataset=listing.dataset,
        synced_at=pointer.synced_at,
        **listing.totals(),
        changed=changed,
        new=tuple(f"{s}/{p}" for s, p in new),
        stale=_keys(stale),
        gone=_keys(gone),
        unmatched=listing.unmatched,
        empty_rules=tuple(rule_text(manifest, i) for i in listing.empty_rules),
        skipped=listing.skipped,
    )


def _changes(
    previous: Listing | None, listing: Listing, saved: Listing | None
) -> tuple[bool, list[tuple[str, str]]]:
    """Whether `listing` differs from `previous` (the one in force before; None: the first
    sync, where nothing counts as new), and the (subset, partition) keys it lists that
    `previous` did not, sorted. `saved`: `listing` as stored, read back (None if it could not
    be). A subset whose stored file is the one `previous` named (the file is named by its
    content) has the same partitions, and that file is never read: a sync that changed nothing
    in a listing of 1,000,000 partitions reads none of the ones before it."""
    if previous is None:
        return True, []
    was = _subset_files(previous)
    now = _subset_files(saved) if saved is not None else None
    if was is None or now is None:  # a format 1 listing before: compared as a whole
        changed = previous.to_json() != listing.to_json()
        was = now = {}
    else:
        changed = was != now or _head(previous) != _head(listing)
    before = {s.name: s for s in previous.subsets}
    new = []
    for subset in listing.subsets:
        if subset.name in was and was[subset.name] == now.get(subset.name):
            continue  # the very same partitions
        old = before.get(subset.name)
        known = {p.name for p in old.partitions} if old is not None else set()
        new += [(subset.name, p.name) for p in subset.partitions if p.name not in known]
    return changed, sorted(new)


def _subset_files(listing: Listing) -> dict[str, str] | None:
    """The id of each subset's stored file (format 2), or None for a format 1 listing."""
    found = {}
    for s in listing.subsets:
        if not isinstance(s, StoredSubset):
            return None
        found[s.name] = s.file
    return found


def _head(listing: Listing) -> tuple[Any, ...]:
    """What a listing's head holds besides its subsets' files."""
    x = listing
    names = tuple(s.name for s in x.subsets)
    fields = (x.dataset, x.source, x.revision, x.commit, x.manifest, x.unmatched)
    return (*fields, names, x.empty_rules, x.skipped)


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

"""Which listings a dataset's index keeps: the newest few heads, the subset files they name,
and temporary files of writes still in flight; the rest is removed after each sync."""

from __future__ import annotations

import json
import time

from ..storage.base import TEMP_PREFIX, FileInfo, Storage
from .records import LEGACY_FORMAT

KEEP_LISTINGS = 3  # listings kept per dataset: the current one and a few before it
STALE_TEMP_SECONDS = 3600
#: Without a lock (object stores), files younger than this are never pruned: a sync on another
#: host may have created them and not yet swapped the pointer to them.
GRACE = 900.0


def prune_listings(
    storage: Storage, folder: str, keep: set[str | None], *, grace: float = 0.0
) -> None:
    """In a dataset's index `folder`, keep the newest KEEP_LISTINGS heads (and those in
    `keep`), the subset files they name, files younger than `grace` seconds, and temporary
    files younger than STALE_TEMP_SECONDS; remove the rest. (The caller holds the dataset
    lock, or passes a `grace`.)"""
    young = time.time() - grace

    def old(entry: FileInfo) -> bool:  # (no age test without a grace: a clock ahead on NFS)
        return not grace or entry.mtime < young

    entries = storage.list(f"{folder}/listings")
    listings = sorted(visible_json(entries), key=lambda e: e.mtime, reverse=True)
    for entry in listings[KEEP_LISTINGS:]:
        if entry.key.rsplit("/", 1)[-1][: -len(".json")] not in keep and old(entry):
            storage.remove(entry.key)
    named = _subset_files_named(storage, f"{folder}/listings")
    parts = storage.list(f"{folder}/partitions")
    if named is not None:  # (None: a head that cannot be read; then nothing is pruned)
        for entry in visible_json(parts):
            name = entry.key.rsplit("/", 1)[-1][: -len(".json")]
            if name not in named and old(entry):
                storage.remove(entry.key)
    cutoff = time.time() - STALE_TEMP_SECONDS  # temporary files left by killed processes
    for entry in entries + parts:
        if entry.key.rsplit("/", 1)[-1].startswith(TEMP_PREFIX) and entry.mtime < cutoff:
            storage.remove(entry.key)


def _subset_files_named(storage: Storage, listings: str) -> set[str] | None:
    """The ids of the subset files the heads in `listings` name; None if one cannot be
    read."""
    named: set[str] = set()
    for entry in visible_json(storage.list(listings)):
        try:
            data = json.loads(storage.read(entry.key) or b"")
            if data.get("format") != LEGACY_FORMAT:
                named.update(s["file"] for s in data["subsets"])
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
    return named


def visible_json(entries: list[FileInfo]) -> list[FileInfo]:
    """`*.json` entries, leaving out temporary files (`.tmp-...`) of writes in flight."""
    return [
        e
        for e in entries
        if e.kind == "file"
        and e.key.endswith(".json")
        and not e.key.rsplit("/", 1)[-1].startswith(".")
    ]

"""What changed upstream since the last sync or download: read-only."""

from __future__ import annotations

from typing import Any

from ..index.records import Listing
from ..index.selection import states
from ..index.store import Store
from ..manifest.models import Manifest
from ..sources.base import RemoteFile

UPDATE_COLUMNS = (
    "dataset",
    "subset",
    "partition",
    "change",
    "local",
    "size_before",
    "size_now",
    "commit_before",
    "commit_now",
)


def updates(
    store: Store, manifest: Manifest, before: Listing, now: Listing
) -> list[dict[str, Any]]:
    """One record per new, changed or deleted partition (see UPDATE_COLUMNS) between the listing
    in force (`before`) and the source as listed now (`now`). A local partition is compared by
    its record (what is on disk), any other by the listing in force. Writes nothing."""
    name = manifest.name
    found = states(store, manifest, before)
    listed = {(s.name, p.name): p.file for s in before.subsets for p in s.partitions}
    current = {(s.name, p.name): p.file for s in now.subsets for p in s.partitions}
    in_place = manifest.source.kind == "local"
    rows = []
    for key in sorted(set(found) | set(current)):
        state, rec = found.get(key, ("remote", None))
        local = key in found and (in_place or state in ("local", "stale", "gone"))
        if rec is not None and not in_place:
            was: RemoteFile | None = rec.file
            commit_before = rec.commit
        else:
            was, commit_before = listed.get(key), before.commit
        is_now = current.get(key)
        if was is None and is_now is not None:
            change = "new"
        elif was is not None and is_now is None:
            change = "deleted"
        elif was is not None and is_now is not None and not was.same_content(is_now):
            change = "changed"
        else:
            continue
        rows.append(
            {
                "dataset": name,
                "subset": key[0],
                "partition": key[1],
                "change": change,
                "local": local,
                "size_before": was.size if was else None,
                "size_now": is_now.size if is_now else None,
                "commit_before": commit_before if was else None,
                "commit_now": now.commit,
            }
        )
    return rows

"""Re-hashing local files against their records: read-only."""

from __future__ import annotations

from typing import Any

from ..index.digest import check, parallel_map
from ..index.selection import Selection
from ..index.store import Store
from ..sources.base import RemoteFile
from ..storage.base import Storage, located

VERIFY_COLUMNS = (
    "dataset",
    "subset",
    "partition",
    "path",
    "status",
    "check",
    "size",
    "size_on_disk",
    "expected",
    "actual",
)

Job = tuple[Storage, str, str, str, RemoteFile]  # where, subset, partition, key, what it should be


def verify(
    store: Store,
    dataset: str,
    subset: str | None = None,
    *,
    in_place: Selection | None = None,
    workers: int | None = None,
) -> list[dict[str, Any]]:
    """One record per local partition of `dataset` (or one subset; see VERIFY_COLUMNS) with
    `status` ok, missing or corrupt (size or hash mismatch), checked against its record, in every
    tier (`Store.tiers`: the personal one first; `path` tells them apart). A local-folder source
    (`in_place`: its selection) is checked by size against the listing."""
    jobs: list[Job]
    if in_place is not None:
        jobs = [
            (
                i.storage,
                i.subset,
                i.partition.name,
                i.file_key,
                RemoteFile(i.partition.file.path, i.partition.file.size),
            )
            for i in in_place.items
        ]
    else:
        jobs = [
            (tier.storage, s, p, tier.data_key(dataset, s, p), rec.file)
            for tier in store.tiers
            for (s, p), rec in sorted(tier.records(dataset, subset).items())
        ]
    return parallel_map(lambda job: _row(dataset, job), jobs, workers)


def _row(dataset: str, job: Job) -> dict[str, Any]:
    storage, s, p, key, want = job
    found = check(storage, key, want)
    return {
        "dataset": dataset,
        "subset": s,
        "partition": p,
        "path": str(located(storage, key)),
        "status": found.status,
        "check": found.check,
        "size": want.size,
        "size_on_disk": found.size_on_disk,
        "expected": found.expected,
        "actual": found.actual,
    }

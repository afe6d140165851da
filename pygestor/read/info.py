"""`info`: a dataset or subset described — its source, commit, counts and sizes, rows, and the
schema and first rows of a local partition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..index.records import Listing
from ..index.selection import Selection
from ..index.store import Store
from ..index.views import DATASET_COLUMNS, dataset_record, partition_records, subset_records
from ..manifest.formats import detect
from ..manifest.models import Manifest
from .preview import head as head_rows
from .preview import schema as schema_of


def info(
    store: Store,
    manifest: Manifest,
    listing: Listing | None,
    subset: str | None = None,
    *,
    head: int = 0,
    select: Callable[[], Selection] | None = None,
) -> dict[str, Any]:
    """A dataset (or one subset): source, revision, commit, when synced, counts and sizes
    (local/total), rows (from records), `subset_records` (or the subset's `partition_records`),
    the schema from the parquet footer of a local partition of the selection `select` makes
    (`sample`) and its first `head` rows. `schema`/`head` are None when nothing is local (or,
    for `schema`, the format is not parquet). `listing` None: never synced. `select` is called
    only when something is local (a selection of 100,000 remote partitions has no sample)."""
    m = manifest
    base = dataset_record(store, m)
    out: dict[str, Any] = {
        "dataset": m.name,
        "subset": subset,
        "description": m.description,
        "license": m.license,
        "modality": list(m.modality),
        "format": m.format.value if m.format else None,
        **{k: base[k] for k in DATASET_COLUMNS if k not in ("name", "description", "modality")},
        "rows": None,
        "subset_records": None,
        "partition_records": None,
        "sample": None,
        "schema": None,
        "head": None,
    }
    if listing is None:
        return out
    subsets = subset_records(store, m, listing, subset=subset)
    if subset is None:
        rows = [s["rows"] for s in subsets]
        out.update(subset_records=subsets, rows=sum(rows) if rows and None not in rows else None)
    else:
        out["partition_records"] = partition_records(store, m, listing, subset)
        [rec] = [s for s in subsets if s["subset"] == subset]
        out.update(
            {k: rec[k] for k in ("partitions", "partitions_local", "bytes", "bytes_local", "rows")},
            subsets=None,
        )
    if select is not None and any(s["partitions_local"] for s in subsets):
        out.update(_sample(select(), head, out["format"]))
    return out


def _sample(selection: Selection, head: int, declared_format: str | None) -> dict[str, Any]:
    """The schema and first rows of the first local partition (in listing order), if any."""
    for item in selection.items:
        storage = item.storage  # the tier it is local in
        found = (
            storage.info(item.file_key, follow=True) if item.state in ("local", "stale") else None
        )
        if found is not None and found.kind == "file":
            declared = item.partition.format.value if item.partition.format else None
            fmt = detect(item.partition.name, declared).format
            return {
                "sample": item.key,
                "format": declared_format or fmt,
                "schema": schema_of(storage, item.file_key, fmt),
                "head": head_rows(storage, item.file_key, fmt, head) if head else None,
            }
    return {}

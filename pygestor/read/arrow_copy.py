"""The opt-in Arrow copy of a subset: its local data written once as one Arrow IPC file beside
the index (`Store.arrow_copy_key`), which `load` then memory-maps (zero copy) instead of reading
the files — when it was built from exactly the partitions that are local now, read with the same
options; otherwise `load` ignores it and warns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import SelectionError
from ..index.sync import disk_full, is_disk_full
from ..storage.base import located
from .convert import rechunk
from .files import conform, run_batches, runs
from .options import (
    ReadOptions,
    check_columns,
    first_line,
    read_errors,
    read_options,
    shown,
    warn,
)
from .options import local as local_items

if TYPE_CHECKING:
    import pyarrow as pa

    from ..index.selection import Selected, Selection
    from ..index.store import Store
    from ..storage.base import Storage

COPY_BATCH_ROWS = 65_536  # rows per record batch of an Arrow copy
COPY_KEY = b"pygestor.arrow_copy"  # schema metadata of an Arrow copy: what it was built from


class ArrowCopy(NamedTuple):
    """What `build_arrow_copy` wrote."""

    path: Path | str  # (a URL on an object store)
    bytes: int
    rows: int
    partitions: int


def build_arrow_copy(selection: Selection, store: Store) -> ArrowCopy:
    """Write the selection's local data (one whole subset) as one Arrow IPC file that `load` then
    memory-maps instead of reading the files. Written atomically, so readers see the old copy or
    the new one. Partitions that are not local are left out (warned)."""
    import json

    import pyarrow as pa

    if len(selection.subsets) != 1:
        raise SelectionError(
            f"build_arrow_copy takes one subset name, not {list(selection.subsets)!r}"
        )
    subset = selection.subsets[0]
    local = local_items(selection, download=False)
    opts = read_options(selection, None, None, None, None, "arrow", defaults=False)
    found = runs(local, opts)
    schema = found[0].schema
    built = {"fingerprint": _fingerprint(local, opts), "partitions": len(local)}
    schema = schema.with_metadata({**(schema.metadata or {}), COPY_KEY: json.dumps(built).encode()})
    key = store.arrow_copy_key(selection.dataset, subset)
    # batches of COPY_BATCH_ROWS rows, not one per parquet row group: reading the copy back costs
    # per batch (560 one-thousand-row batches took 26 ms to map, 9 large ones 1.2 ms)
    pieces = rechunk(
        (b for run in found for b in run_batches(run, opts, COPY_BATCH_ROWS)), COPY_BATCH_ROWS
    )
    batches = (pa.concat_batches(p) if len(p) > 1 else p[0] for p in pieces)
    try:
        rows = _write_ipc(store.storage, key, schema, batches)
    except OSError as exc:  # the atomic writer left nothing behind; say where and how much
        if not is_disk_full(exc):
            raise
        what = f"the Arrow copy {shown(store.storage, key)}"
        needed = sum(item.record.size for item in local if item.record is not None)
        raise disk_full(store.storage, what, needed) from None
    info = store.storage.info(key)
    return ArrowCopy(located(store.storage, key), info.size if info else 0, rows, len(local))


def drop_arrow_copy(store: Store, dataset: str, subset: str) -> bool:
    """Remove the subset's Arrow copy; True if there was one."""
    return store.storage.remove(store.arrow_copy_key(dataset, subset))


def _fingerprint(local: Sequence[Selected], opts: ReadOptions) -> str:
    """What an Arrow copy was built from: each partition's identity (its record, or for files
    read in place their size and mtime) and the reading options."""
    import hashlib
    import json

    items = []
    for item in local:
        rec = item.record
        if rec is not None:
            ident: list[Any] = [rec.size, rec.sha256 or rec.blob_id, rec.downloaded_at]
        else:
            info = item.storage.info(item.file_key, follow=True)
            ident = [info.size, info.mtime_ns] if info else [None, None]
        items.append(
            [item.key, item.partition.format.value if item.partition.format else None, *ident]
        )
    data = {
        "partitions": items,
        "column_types": dict(opts.column_types),
        "json_field": opts.json_field,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def copy_table(
    store: Store, selection: Selection, local: Sequence[Selected], opts: ReadOptions
) -> pa.Table | None:
    """The subset's Arrow copy, memory-mapped, projected and filtered; None if there is none or
    it is out of date (warned)."""
    import json

    import pyarrow as pa

    key = store.arrow_copy_key(selection.dataset, selection.subsets[0])
    # the first tier (personal, then shared ones) holding a copy; its fingerprint decides
    storage = next((t.storage for t in store.tiers if t.storage.info(key) is not None), None)
    if storage is None:
        return None
    where = shown(storage, key)
    try:  # a damaged copy (issue 9): the files are read instead, as for an out-of-date one
        reader = pa.ipc.open_file(storage.open_arrow(key))
    except (OSError, pa.ArrowException) as exc:
        warn(
            f"{where}: the Arrow copy cannot be read ({first_line(exc)}); reading the files "
            f"instead; rebuild it with build_arrow_copy, or run 'pygestor sync "
            f"{selection.dataset} --repair' to remove it"
        )
        return None
    with read_errors(opts, where):
        metadata = dict(reader.schema.metadata or {})
        built = json.loads(metadata.pop(COPY_KEY, b"{}"))
        if built.get("fingerprint") != _fingerprint(local, opts):
            warn(
                f"{opts.where}: the Arrow copy was built from other partitions than those local "
                "now "
                f"(built from {built.get('partitions')}, {len(local)} local); reading the files "
                "instead; "
                f"rebuild it with build_arrow_copy or remove it with drop_arrow_copy"
            )
            return None
        table = reader.read_all().replace_schema_metadata(metadata)
    check_columns(table.schema, opts)
    with read_errors(opts, where, table.schema.names):
        if opts.filter is not None:
            table = table.filter(opts.filter)
        return table.select(opts.columns) if opts.columns is not None else table


def _write_ipc(
    storage: Storage, key: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
) -> int:
    """Write `batches` as an Arrow IPC file at `key`, atomically (see `Storage.writer`)."""
    import pyarrow as pa

    rows = 0
    with storage.writer(key) as fh, pa.ipc.new_file(fh, schema) as writer:
        for batch in batches:
            writer.write_batch(conform(batch, schema))
            rows += batch.num_rows
    return rows

"""From what was read to what is returned: batches re-chunked to a size, tables concatenated,
`dtypes` applied (casts, `category`), pandas conversion and `decode` (images, JSON)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import PygestorError, SelectionError, SourceError
from .files import conform
from .options import ReadOptions, arrow_types, first_line, memory_pool, read_errors

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

SMALL_BATCH = 1 << 20  # bytes: read batches smaller than this are joined (copied) by `cut`
RELEASE_EVERY = 64 << 20  # bytes streamed between two returns of freed memory to the system


def rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[list[pa.RecordBatch]]:
    """Zero-copy slices grouped into batches of exactly `size` rows (the last one fewer), with
    one schema per group; empty batches dropped."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        while batch.num_rows:
            take = min(size - rows, batch.num_rows)
            pending.append(batch.slice(0, take))
            rows += take
            batch = batch.slice(take)
            if rows == size:
                yield _unified(pending)
                pending, rows = [], 0
    if rows:
        yield _unified(pending)


def cut(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.RecordBatch]:
    """The read batches as they are, zero-copy, in slices of at most `size` rows: a batch ends
    where the reader's did (a parquet row group, a file). Only batches under SMALL_BATCH bytes
    are joined to the next ones (one copy of at most SMALL_BATCH bytes plus one batch), so many
    tiny row groups or files do not become as many tiny batches. Every batch has the schema
    of the ones before it (unified when runs of other files differ a little)."""
    pending: list[pa.RecordBatch] = []
    rows = nbytes = 0
    schema: pa.Schema | None = None
    for batch in batches:
        if schema is None or not batch.schema.equals(schema):
            schema = batch.schema if schema is None else _unify([schema, batch.schema])
            pending = [conform(b, schema) for b in pending]
        batch = conform(batch, schema)
        big = batch.get_total_buffer_size() >= SMALL_BATCH
        if big and pending:
            yield _joined(pending)
            pending, rows, nbytes = [], 0, 0
        while batch.num_rows:
            piece = batch.slice(0, size - rows)
            batch = batch.slice(piece.num_rows)
            if big:
                yield piece  # zero copy: the common case
                continue
            pending.append(piece)
            rows, nbytes = rows + piece.num_rows, nbytes + piece.nbytes
            if rows == size or nbytes >= SMALL_BATCH:
                yield _joined(pending)
                pending, rows, nbytes = [], 0, 0
    if pending:
        yield _joined(pending)


def _joined(batches: list[pa.RecordBatch]) -> pa.RecordBatch:
    import pyarrow as pa

    return batches[0] if len(batches) == 1 else pa.concat_batches(batches, memory_pool())


def _unify(schemas: list[pa.Schema]) -> pa.Schema:
    import pyarrow as pa

    return pa.unify_schemas(schemas, promote_options="permissive")


def _unified(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """`batches` conformed to one schema (runs of different files may differ a little)."""

    schemas = [b.schema for b in batches]
    if all(s.equals(schemas[0]) for s in schemas):
        return batches
    unified = _unify(schemas)
    return [conform(b, unified) for b in batches]


def concat(tables: list[pa.Table], opts: ReadOptions) -> pa.Table:
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    if not tables:  # every local file was empty (a 0-byte JSON lines, CSV or text file)
        return pa.schema([(c, pa.null()) for c in opts.columns or ()]).empty_table()
    with read_errors(opts, None):
        return pa.concat_tables(tables, promote_options="permissive")


def apply_dtypes(data: Any, opts: ReadOptions) -> Any:
    """`dtypes` on a Table or RecordBatch: casts, and `category` as dictionary encoding."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for column, name in opts.dtypes.items():
        index = data.schema.get_field_index(column)
        if index < 0:
            continue  # projected away
        array = data.column(index)
        try:
            if name == "category":
                new = array if pa.types.is_dictionary(array.type) else pc.dictionary_encode(array)
            else:
                new = array.cast(arrow_types({column: name}, "dtypes")[column])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SelectionError(
                f"dtypes: cannot convert column {column!r} ({array.type}) to {name}: "
                f"{first_line(exc)}"
            ) from None
        data = data.set_column(index, pa.field(column, new.type), new)
    return data


def to_pandas(table: pa.Table, opts: ReadOptions) -> pd.DataFrame:
    # split_blocks + self_destruct: no consolidation copy, Arrow memory freed column by column
    return decode(
        table.to_pandas(split_blocks=True, self_destruct=True, memory_pool=memory_pool()), opts
    )


def release(streamed: int) -> int:
    """Give the read pool's freed memory back to the system once RELEASE_EVERY bytes were
    streamed since the last time (`streamed`: bytes since then); the new count."""
    if streamed < RELEASE_EVERY:
        return streamed
    memory_pool().release_unused()
    return 0


def decode(frame: pd.DataFrame, opts: ReadOptions) -> pd.DataFrame:
    for column, kind in opts.decode.items():
        if column in frame.columns:
            frame[column] = frame[column].map(_decoder(kind, column), na_action="ignore")
    return frame


def _decoder(kind: str, column: str) -> Callable[[Any], Any]:
    import io
    import json

    if kind == "json":
        return json.loads
    try:
        from PIL import Image
    except ImportError:
        raise PygestorError(
            f"decode: column {column!r} is decoded as images, which needs Pillow; "
            "install it with: pip install 'pygestor[image]'"
        ) from None

    def image(value: Any) -> Any:
        data, path = (
            (value.get("bytes"), value.get("path")) if isinstance(value, dict) else (value, None)
        )
        if isinstance(data, str):
            data, path = None, data
        if data is not None:
            return Image.open(io.BytesIO(data))
        if path and os.path.isfile(path):
            return Image.open(path)
        raise SourceError(
            f"decode: an image of column {column!r} has no bytes and no file here ({path!r})"
        )

    return image

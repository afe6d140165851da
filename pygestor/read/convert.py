"""From what was read to what is returned: batches re-chunked to a size, tables concatenated,
`dtypes` applied (casts, `category`), pandas conversion and `decode` (images, JSON)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from ..errors import PygestorError, SelectionError, SourceError
from .files import conform
from .options import ReadOptions, arrow_types, first_line, read_errors

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa


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


def _unified(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """`batches` conformed to one schema (runs of different files may differ a little)."""
    import pyarrow as pa

    schemas = [b.schema for b in batches]
    if all(s.equals(schemas[0]) for s in schemas):
        return batches
    unified = pa.unify_schemas(schemas, promote_options="permissive")
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
    return decode(table.to_pandas(split_blocks=True, self_destruct=True), opts)


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

"""What to read and how: the manifest's `load:` options merged with the call's arguments, and the
messages every reader shares (pyarrow's errors as one line, warnings at the caller's line)."""

from __future__ import annotations

import contextlib
import functools
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..errors import PygestorError, PygestorWarning, SelectionError, SourceError

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from ..index.selection import Selected, Selection
    from ..storage.base import Storage

Output = Literal["pandas", "arrow"]
_PY_OPS = {"=": "=="}  # pyarrow.parquet filter operators that Python spells otherwise
ALL = "all"  # columns="all": every column, whatever the manifest's load.columns says


class ReadOptions(NamedTuple):
    """What to read and how, merged from the manifest's `load:` and the call's arguments."""

    where: str  # "dataset/subset", for messages
    columns: list[str] | None
    columns_from: str  # the argument or manifest key `columns` came from, for messages
    filter: ds.Expression | None
    dtypes: Mapping[str, str]
    decode: Mapping[str, str]
    column_types: Mapping[str, str]  # reading types for json / csv / text
    json_field: str | None
    filter_terms: tuple[tuple[Any, ...], ...] = ()  # (column, op, value) of tuple filters


def read_options(
    selection: Selection,
    columns: Sequence[str] | None,
    filters: Any,
    dtypes: Mapping[str, str] | None,
    decode: Mapping[str, str] | None,
    output: Output,
    *,
    defaults: bool = True,
) -> ReadOptions:
    manifest = selection.manifest.load
    if isinstance(columns, str) and columns != ALL:
        raise SelectionError(
            f"columns must be a list of column names, e.g. [{columns!r}], or 'all' for every column"
        )
    chosen = _columns(columns, manifest.columns if defaults else None)
    decoders = dict(decode if decode is not None else (manifest.decode if defaults else {}))
    for column, kind in decoders.items():
        if kind not in ("image", "json"):
            raise SelectionError(
                f"decode: {kind!r} for column {column!r} is not a decoder; use 'image' or 'json'"
            )
    if decode and output == "arrow":
        raise SelectionError(
            "decode= applies to pandas output only; drop it or use output='pandas'"
        )
    return ReadOptions(
        where=where(selection),
        columns=chosen,
        columns_from="columns" if columns is not None else "load.columns of the manifest",
        filter=_filter(filters),
        decode=decoders if output == "pandas" else {},
        dtypes=dict(dtypes if dtypes is not None else (manifest.dtypes if defaults else {})),
        column_types=dict(manifest.column_types),
        json_field=manifest.json_field,
        filter_terms=_terms(filters),
    )


def _columns(
    columns: Sequence[str] | None, default: Sequence[str] | str | None
) -> list[str] | None:
    """The columns to read (None: every column): `columns`, "all", or None for the manifest's
    `load.columns` (itself a list, "all" or absent)."""
    if columns is None:
        columns = default
    if columns is None or columns == ALL:
        return None
    return list(columns)


def _filter(filters: Any) -> ds.Expression | None:
    """A pyarrow Expression from an Expression or from `(column, op, value)` tuples (DNF lists)."""
    import pyarrow.compute as pc

    if filters is None or isinstance(filters, pc.Expression):
        return filters
    import pyarrow.parquet as pq

    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or not filters:
        raise SelectionError(
            f"filters must be a pyarrow Expression or a list of (column, op, value) "
            f"tuples such as [('label', '=', 3)], not {filters!r}"
        )
    try:
        return pq.filters_to_expression(filters)
    except (ValueError, TypeError) as exc:
        raise SelectionError(
            f"filters: {first_line(exc)}; write them as (column, op, value) tuples "
            f"with op one of = == != < > <= >= in 'not in'"
        ) from None


def _terms(filters: Any) -> tuple[tuple[Any, ...], ...]:
    """The `(column, op, value)` tuples of tuple filters (a list of them, or of lists of them),
    for the type check; nothing for an Expression."""
    if not isinstance(filters, list | tuple):
        return ()
    found: list[tuple[Any, ...]] = []
    for term in filters:
        if isinstance(term, list):
            found += [t for t in term if isinstance(t, tuple) and len(t) == 3]
        elif isinstance(term, tuple) and len(term) == 3:
            found.append(term)
    return tuple(found)


def _filter_type_error(schema: pa.Schema, term: tuple[Any, ...]) -> str | None:
    """Why `(column, op, value)` cannot compare with that column of `schema` (None: it can, or
    it is not checked here)."""
    import pyarrow as pa

    column, op, value = term
    if not isinstance(column, str) or column not in schema.names:
        return None
    kind = schema.field(column).type
    listed = op in ("in", "not in") and isinstance(value, list | tuple | set)
    values = list(value) if listed else [value]
    hint = ""
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        wanted, ok = "a string", all(isinstance(v, str) for v in values)
        if not listed and isinstance(value, int | float):
            cast = (
                f"pyarrow.compute.field({column!r}).cast('int64') {_PY_OPS.get(op, op)} {value!r}"
            )
            hint = f", e.g. filters={cast}"
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        wanted = "a number"
        ok = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    elif pa.types.is_boolean(kind):
        wanted, ok = "True or False", all(isinstance(v, bool) for v in values)
    else:
        return None
    if ok:
        return None
    return (
        f"filter {column} {op} {value!r}: column {column} is {kind}; compare with {wanted} "
        f"or cast it{hint}"
    )


def arrow_types(
    names: Mapping[str, str], argument: str = "load.column_types of the manifest"
) -> dict[str, pa.DataType]:
    import pyarrow as pa

    try:
        return {column: pa.type_for_alias(name) for column, name in names.items()}
    except ValueError as exc:
        raise SelectionError(
            f"{argument}: {exc}; use an Arrow type name such as int64 or string"
        ) from None


def with_types(schema: pa.Schema, names: Mapping[str, str]) -> pa.Schema:
    """`schema` with the types of the columns named in `names` replaced."""
    import pyarrow as pa

    types = arrow_types(names)
    return pa.schema(
        [pa.field(f.name, types.get(f.name, f.type)) for f in schema], metadata=schema.metadata
    )


@functools.cache
def memory_pool() -> pa.MemoryPool:
    """The pool `load` and `stream` read into: pyarrow's jemalloc pool where the build has it,
    else the default pool. On Linux it gives freed pages back sooner than the default mimalloc
    pool (streaming memory stays flat) and faults fresh pages in less often (a first `load` of
    1 GB spent 1-3 s less in the kernel on a 2-core VM). Only pygestor's reads use it; the
    process's default pool is left alone."""
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # pyarrow built without jemalloc (macOS, Windows wheels)
        return pa.default_memory_pool()


def check_output(output: str) -> None:
    if output not in ("pandas", "arrow"):
        raise SelectionError(f"output must be 'pandas' or 'arrow', not {output!r}")


def where(selection: Selection) -> str:
    return f"{selection.dataset}/{','.join(selection.subsets) or '-'}"


def check_columns(schema: pa.Schema, opts: ReadOptions) -> None:
    names = schema.names
    for argument, wanted in (
        (opts.columns_from, opts.columns or ()),
        ("dtypes", opts.dtypes),
        ("decode", opts.decode),
    ):
        for column in wanted:
            if column not in names:
                raise no_column(argument, column, names, opts.where)
    for term in opts.filter_terms:
        wrong = _filter_type_error(schema, term)
        if wrong:
            raise SelectionError(f"{opts.where}: {wrong}")


def no_column(argument: str, column: str, names: Sequence[str], where: str) -> SelectionError:
    import difflib

    close = difflib.get_close_matches(column, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return SelectionError(
        f"{argument}: no column {column!r} in {where}; {hint}available: {', '.join(names)}"
    )


def shown(storage: Storage, key: str) -> str:
    """Where a stored file is, for messages."""
    return f"{storage.url}/{key}"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextlib.contextmanager
def read_errors(opts: ReadOptions, path: str | None, names: Sequence[str] = ()) -> Iterator[None]:
    """pyarrow's errors while reading, as one-line pygestor errors naming what was read (`names`:
    the columns there are, for a filter naming one that is not)."""
    import re

    import pyarrow as pa

    try:
        yield
    except PygestorError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        message = first_line(exc)
        missing = re.search(r"No match for FieldRef\.Name\((.*?)\) in ", message)
        if missing:
            raise no_column("filters", missing.group(1), names, opts.where) from None
        kernel = re.search(r"has no kernel matching input types \((\w+), (\w+)\)", message)
        if kernel or "doesn't match type of values set" in message:
            types = f" ({kernel.group(1)} against {kernel.group(2)})" if kernel else ""
            raise SelectionError(
                f"filters compare a column with a value of another type{types} in {opts.where}; "
                "compare with a value of the column's type, or cast the column"
            ) from None
        hint = ""
        if re.search(r"changed from|[Cc]onversion|[Cc]ast|parse|[Cc]ould not convert", message):
            hint = "; give the column types in load.column_types of the manifest"
        raise SourceError(f"cannot read {path or opts.where}: {message}{hint}") from None


def warn(message: str) -> None:
    """Warn with the location of the first caller outside pygestor."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "pygestor":
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(message, PygestorWarning, stacklevel=level)


def keys_text(items: Sequence[Selected], limit: int = 3) -> str:
    shown = ", ".join(item.key for item in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def local(selection: Selection, download: bool) -> list[Selected]:
    """The local (and stale) partitions of the selection, warning about the others; a
    SelectionError when none is local."""
    name = selection.dataset
    missing = selection.with_states("remote", "partial")
    items = list(selection.with_states("local", "stale"))
    shown = where(selection)
    if not items:
        how = "load with download=True" if not download else "check the download"
        raise SelectionError(
            f"no partition of {shown} is local ({len(missing)} not downloaded); {how}, "
            f"or download them with Catalog.download({name!r}, ...)"
        )
    if missing:
        warn(
            f"{shown}: {len(missing)} of {len(selection.items)} partitions are not local and were "
            f"skipped ({keys_text(missing)}); pass download=True to fetch them"
        )
    stale = [item for item in items if item.state == "stale"]
    if stale:
        warn(
            f"{shown}: {len(stale)} partitions changed upstream since they were downloaded and are "
            f"read as they are on disk ({keys_text(stale)}); update them with "
            f"Catalog.download({name!r}, ..., update=True)"
        )
    return items

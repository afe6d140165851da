"""A selection as units of work: one (parquet file, row group) each, with its row count.

    local(selection) ─▶ each partition's file, through its storage's pyarrow filesystem
                        (`Storage.arrow_filesystem()`: a local disk or an object store alike)
                     ─▶ its footer: one Unit per row group, `rows` from the footer, or, with a
                        filter, the rows that pass it (a counting pass: row groups the statistics
                        rule out cost nothing, the others read the filter's columns)
    read_unit()      ─▶ the unit's rows: its row group with the projection and filter pushed down

Units, their filesystems and the read options pickle, so a DataLoader worker process reads the
same files the parent planned. Only plain parquet partitions are units: a row group is the
smallest piece a reader can start at without reading what comes before it, and the footer tells
its rows without reading it; other formats (JSON lines, csv, text, compressed parquet) have
neither, and are refused with a one-line error naming them.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import PygestorError, SelectionError
from .files import parts
from .options import ReadOptions, check_columns, keys_text, read_errors

if TYPE_CHECKING:
    import pyarrow as pa

    from ..index.selection import Selected


class Unit(NamedTuple):
    """One row group of one parquet file."""

    fs: int  # index into Units.filesystems
    path: str  # in that filesystem
    row_group: int
    rows: int  # in the footer, or passing the filter
    shown: str  # where the file is, for messages


class Units(NamedTuple):
    """The selection's units in selection order, and what reading them needs."""

    units: tuple[Unit, ...]
    filesystems: tuple[Any, ...]  # pyarrow FileSystems
    schema: pa.Schema  # the first file's: every unit is read with it (as `load` reads)
    opts: ReadOptions
    pid: int = 0  # the process the filesystems were made in

    @property
    def rows(self) -> int:
        return sum(unit.rows for unit in self.units)

    def filesystem(self, index: int) -> Any:
        """Filesystem `index`, or in another process (a DataLoader worker forked after it was
        made) a copy of its own, made once per process: an `S3FileSystem`'s connections are the
        parent's, and two workers reading on one inherited connection get each other's bytes
        (seen: "Parquet magic bytes not found" from a bucket)."""
        fs = self.filesystems[index]
        if os.getpid() == self.pid:
            return fs
        key = (os.getpid(), id(fs))
        if key not in _COPIES:
            _COPIES[key] = pickle.loads(pickle.dumps(fs))  # a new client, new connections
        return _COPIES[key]


#: filesystems copied in this process (`Units.filesystem`), by (process, original's id)
_COPIES: dict[tuple[int, int], Any] = {}


def require(module: str, extra: str = "torch") -> ModuleType:
    """Import an optional dependency, or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise PygestorError(
            f"this needs {module}, which is not installed: pip install 'pygestor[{extra}]'"
        ) from None


def plan_units(items: Sequence[Selected], opts: ReadOptions) -> Units:
    """The row groups of the items' parquet files (those with no row, after the filter, left
    out); a SelectionError naming the partitions of other formats."""
    import pyarrow.dataset as pads

    found = parts(items)
    other = [item for item, (part, _) in zip(items, found, strict=True) if not _parquet(part)]
    if other:
        raise SelectionError(
            f"torch_dataset reads plain parquet partitions (by row group); {keys_text(other)} "
            f"are not: choose parquet partitions with partitions=, or read them with stream()"
        )
    filesystems: list[Any] = []
    seen: dict[int, int] = {}  # id(storage) -> index into filesystems
    units: list[Unit] = []
    schema = None
    fmt = pads.ParquetFileFormat()
    for part, storage in found:
        if id(storage) not in seen:
            seen[id(storage)] = len(filesystems)
            filesystems.append(storage.arrow_filesystem())
        index = seen[id(storage)]
        fs, prefix = filesystems[index]
        path = f"{prefix}/{part.key}"
        with read_errors(opts, part.shown):
            fragment = fmt.make_fragment(path, filesystem=fs)
            if schema is None:
                schema = fragment.physical_schema
                check_columns(schema, opts)
            counts = _row_counts(fragment, schema, opts)
        units += [Unit(index, path, group, rows, part.shown) for group, rows in counts if rows]
    if schema is None:
        import pyarrow as pa

        schema = pa.schema([])
    return Units(tuple(units), tuple(fs for fs, _ in filesystems), schema, opts, os.getpid())


def _parquet(part: Any) -> bool:
    return bool(part.format == "parquet" and part.scannable)


def _row_counts(fragment: Any, schema: pa.Schema, opts: ReadOptions) -> list[tuple[int, int]]:
    """(row group, rows) of a file: from its footer, or the rows passing the filter."""
    if opts.filter is None:
        fragment.ensure_complete_metadata()
        return [(group.id, group.num_rows) for group in fragment.row_groups]
    counts = []
    for piece in fragment.split_by_row_group(opts.filter, schema=schema):
        counts.append((piece.row_groups[0].id, piece.count_rows(filter=opts.filter)))
    return counts


def read_unit(units: Units, unit: Unit) -> pa.Table:
    """The unit's rows, projected and filtered, with the first file's schema."""
    import pyarrow.dataset as pads

    from .options import memory_pool

    opts = units.opts
    with read_errors(opts, unit.shown, units.schema.names):
        fragment = pads.ParquetFileFormat().make_fragment(
            unit.path, filesystem=units.filesystem(unit.fs), row_groups=[unit.row_group]
        )
        table = fragment.to_table(
            schema=units.schema,
            columns=opts.columns,
            filter=opts.filter,
            use_threads=False,  # one worker process per core reads in parallel already
            memory_pool=memory_pool(),
        )
    if table.num_rows != unit.rows:
        raise SelectionError(
            f"{unit.shown}: row group {unit.row_group} has {table.num_rows} rows, "
            f"{unit.rows} when the dataset was made; the file changed: make the dataset again"
        )
    return table

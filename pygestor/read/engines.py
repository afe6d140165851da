"""A selection as a Dask DataFrame or a Ray Dataset: one task per stored file, each running
pygestor's own reader, so what a cluster reads equals what `load` returns.

    selection ─ local() ─ runs() ─▶ units: (file, its run's schema, the read options)
      │                                  (the client reads one footer per run, nothing else)
      ├─ to_dask: dd.from_map(read_frame, units, meta=...)   a partition per file
      └─ to_ray:  ray.data.read_datasource(...)              a block per file, in file order

Why pygestor's reader and not `dd.read_parquet` / `ray.data.read_parquet`: those read parquet
with the same pyarrow scanner, and were no faster here (100 MB of text in 16 files, a row count
and a text-length sum on dask's threaded scheduler with 2 workers: 0.15 s both ways); but they
do not read jsonl, csv, text or json, do not know the manifest's `load:` options (default
columns, `column_types`, `dtypes`), and differ from `load` in dtypes (with pandas 2, dask's
string conversion), in the schema when files differ a little (here every file of a run takes the
run's first file's schema, as in `load`), and, for Ray, in order. A task per file keeps the
projection and the filter pushed down into each file's scan (row groups the statistics rule out
are skipped) and parallel across workers; a subset of one huge file is one task.

Workers read through the storage's pyarrow filesystem (`Storage.arrow_filesystem()`), which
pickles with its settings (a local disk; S3 with its region and endpoint, each worker finding
credentials in its own chain unless they were given explicitly), never through the `Storage`
object or local paths: on an `s3://` data directory every worker reads the bucket itself, and
nothing needs a shared disk.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import PygestorError
from .convert import apply_dtypes, to_pandas
from .files import Part, Run, conform, run_table, runs
from .options import Output, ReadOptions, check_columns, first_line, local, read_options

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    from ..index.selection import Selection

#: the extra each engine comes with, for the install hint
EXTRAS = {"dask": "dask.dataframe", "ray": "ray.data"}


class Files:
    """The few reads a `Run` makes, over a pyarrow filesystem and the root's prefix in it: a
    picklable stand-in for the `Storage` on a worker."""

    def __init__(self, filesystem: Any, prefix: str):
        self.filesystem = filesystem
        self.prefix = prefix

    def arrow_filesystem(self) -> tuple[Any, str]:
        return self.filesystem, self.prefix

    def open_arrow(self, key: str) -> Any:
        return self.filesystem.open_input_file(f"{self.prefix}/{key}")

    def open(self, key: str) -> Any:
        return self.filesystem.open_input_file(f"{self.prefix}/{key}")


class Unit(NamedTuple):
    """One file to read on a worker: where it is, its run's schema, what to read of it."""

    files: Files
    part: Part
    schema: pa.Schema  # the run's (its first file's): every file of a run reads as one
    result: pa.Schema  # the columns every unit returns (the runs' schemas unified)
    opts: ReadOptions
    size: int  # bytes, for the engines' planning


class _Pinned(Run):
    """A run of one file read with a schema given (its run's), not inferred from the file."""

    def __init__(self, unit: Unit):
        super().__init__([unit.part], unit.opts, unit.files)  # type: ignore[arg-type]
        self.schema = unit.schema


def read_table(unit: Unit) -> pa.Table:
    """One file as `load(output="arrow")` would return its rows: projected, filtered, typed."""
    table = run_table(_Pinned(unit), unit.opts)
    if not table.schema.equals(unit.result):  # another run's files had other types
        table = _conform_table(table, unit.result)
    return apply_dtypes(table, unit.opts)


def read_frame(unit: Unit) -> pd.DataFrame:
    """One file as `load()` would return its rows (a dask partition)."""
    table = read_table(unit)
    types = {name: table.schema.field(name).type for name in table.schema.names}
    frame = to_pandas(table, unit.opts)
    for column, kind in unit.opts.dtypes.items():
        if kind == "category" and column in frame.columns and frame[column].cat.categories.empty:
            frame[column] = _typed_categories(frame[column], types[column])
    return frame


def _typed_categories(column: pd.Series, arrow_type: pa.DataType) -> pd.Series:
    """A categorical column without values (no rows, or all null) with its categories typed as
    the others': pandas types an empty dictionary `object`, and dask's concatenation of the
    partitions refuses categories of two types."""
    import pandas as pd
    import pyarrow as pa

    empty = pa.array([], arrow_type.value_type).to_pandas()
    return column.cat.set_categories(pd.Index(empty))


def _conform_table(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with `schema`'s columns and types, as `load`'s permissive concatenation gives."""
    import pyarrow as pa

    batches = [conform(b, schema) for b in table.to_batches()]
    return pa.Table.from_batches(batches, schema=schema)


def units(
    selection: Selection,
    *,
    columns: Sequence[str] | None,
    filters: ds.Expression | Sequence[Any] | None,
    download: bool,
    dtypes: Mapping[str, str] | None,
    decode: Mapping[str, str] | None,
    output: Output,
) -> list[Unit]:
    """The selection's local files in partition order, each with what a worker needs to read it
    as `load` does. Arguments are checked here, on the client (a missing column is one error
    now, not one per task later)."""
    items = local(selection, download)
    opts = read_options(selection, columns, filters, dtypes, decode, output)
    found = runs(items, opts)
    for run in found:
        check_columns(run.schema, opts)
    result = _result_schema([run.schema for run in found], opts)
    sizes = {item.file_key: item.partition.file.size for item in items}
    made: list[Unit] = []
    for run in found:
        files = Files(*run.storage.arrow_filesystem())
        made += [Unit(files, p, run.schema, result, opts, sizes.get(p.key, 0)) for p in run.parts]
    return made


def _result_schema(schemas: list[pa.Schema], opts: ReadOptions) -> pa.Schema:
    """The columns of what is returned: each run's schema projected, unified as `load`'s
    concatenation does (`promote_options="permissive"`)."""
    import pyarrow as pa

    if not schemas:
        return pa.schema([(c, pa.null()) for c in opts.columns or ()])
    projected = [
        pa.schema([s.field(c) for c in opts.columns]) if opts.columns else s for s in schemas
    ]
    if len(projected) == 1:
        return projected[0]
    return pa.unify_schemas(projected, promote_options="permissive")


def engine(name: str) -> Any:
    """The engine's module (`dask.dataframe`, `ray.data`), or a one-line error with the install
    hint when it is not installed."""
    import importlib

    try:
        return importlib.import_module(EXTRAS[name])
    except ImportError as exc:
        raise PygestorError(
            f"to_{name} needs {EXTRAS[name]}, which cannot be imported ({first_line(exc)}); "
            f"install it with: pip install 'pygestor[{name}]'"
        ) from None


def to_dask(
    selection: Selection,
    *,
    columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None,
    download: bool = True,
    dtypes: Mapping[str, str] | None = None,
    decode: Mapping[str, str] | None = None,
) -> Any:
    """A `dask.dataframe.DataFrame` of the selection's local partitions, one dask partition per
    file, in partition order; `columns`, `filters`, `dtypes` and `decode` as `load` takes them
    (the manifest's `load:` defaults included), pushed down into each file's read on the
    workers. `.compute()` equals `load(...)` on the same selection (columns, dtypes, rows,
    order); its index restarts at 0 in each partition, as `dd.read_parquet`'s does
    (`.reset_index(drop=True)` numbers the rows as `load` does)."""
    dd = engine("dask")
    found = units(
        selection,
        columns=columns,
        filters=filters,
        download=download,
        dtypes=dtypes,
        decode=decode,
        output="pandas",
    )
    meta = _empty_frame(found, selection, columns, filters, dtypes, decode)
    if not found:
        return dd.from_pandas(meta, npartitions=1)
    import dask

    # pygestor's frames already hold the types `load` returns: no object-to-string conversion
    with dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            read_frame,
            found,
            meta=meta,
            divisions=None,
            label="pygestor-read",
            enforce_metadata=False,
        )


def _empty_frame(
    found: list[Unit],
    selection: Selection,
    columns: Any,
    filters: Any,
    dtypes: Any,
    decode: Any,
) -> pd.DataFrame:
    """The frame every partition's columns and dtypes follow, with no rows (dask's `meta`)."""
    opts = (
        found[0].opts
        if found
        else read_options(selection, columns, filters, dtypes, decode, "pandas")
    )
    schema = found[0].result if found else _result_schema([], opts)
    frame = to_pandas(apply_dtypes(schema.empty_table(), opts), opts)
    for column in opts.decode:  # decoded values (images, JSON) are Python objects
        if column in frame.columns:
            frame[column] = frame[column].astype(object)
    return frame


def to_ray(
    selection: Selection,
    *,
    columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None,
    download: bool = True,
    dtypes: Mapping[str, str] | None = None,
) -> Any:
    """A `ray.data.Dataset` of the selection's local partitions: lazy, one read task and one
    Arrow block per file, `columns`, `filters` and `dtypes` as `load` takes them, pushed down
    into each file's read. Blocks come in partition order (the dataset's own
    `execution_options.preserve_order` is set; Ray's default yields blocks as tasks finish):
    together they equal `load(output="arrow")` (`pyarrow.concat_tables(ray.get(
    dataset.to_arrow_refs()))`). `.to_pandas()` has `load()`'s rows and values in Ray's pandas
    types: Ray 2.56+ maps Arrow types to `pd.ArrowDtype` (`int64[pyarrow]`) unless
    `DataContext.get_current().enable_arrow_backed_pandas_conversion = False`, with which it
    equals `load()` dtypes included (a setting of the driver's process, so pygestor leaves it
    to the caller). `decode` is not applied (Ray holds Arrow blocks): decode in
    `map_batches`."""
    data = engine("ray")
    found = units(
        selection,
        columns=columns,
        filters=filters,
        download=download,
        dtypes=dtypes,
        decode=None,
        output="arrow",
    )
    dataset = data.read_datasource(_datasource(found, selection))
    # this dataset's own context (copied at creation): the process's default is left alone
    dataset.context.execution_options.preserve_order = True
    return dataset


def _datasource(found: list[Unit], selection: Selection) -> Any:
    """A Ray `Datasource` with a read task per unit (built here: Ray is imported lazily)."""
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class PygestorFiles(Datasource):
        def get_name(self) -> str:
            return f"pygestor({selection.dataset})"

        def estimate_inmemory_data_size(self) -> int | None:
            return sum(unit.size for unit in found) or None

        def get_read_tasks(
            self,
            parallelism: int,
            per_task_row_limit: int | None = None,
            data_context: Any = None,
        ) -> list[ReadTask]:
            # one task per file, whatever `parallelism` asks: a file is the unit pygestor reads
            return [
                ReadTask(
                    _reader(unit),
                    BlockMetadata(
                        num_rows=None,
                        size_bytes=unit.size or None,
                        input_files=(unit.part.shown,),
                        exec_stats=None,
                    ),
                    schema=unit.result,
                    per_task_row_limit=per_task_row_limit,
                )
                for unit in found
            ]

    return PygestorFiles()


def _reader(unit: Unit) -> Any:
    def read() -> Iterator[pa.Table]:
        yield read_table(unit)

    return read

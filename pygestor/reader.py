"""Reading local partitions: `load`, `stream`, `scan`, and the opt-in memory-mapped Arrow copy.

The read path::

    Catalog.select(name, subset, partitions)      which partitions, their files and their states
      │  download=True:  Catalog.download() the remote/partial ones, then select again
      │  download=False: read the local and stale ones, warn (PygestorWarning) about the rest
      ▼
    _part(): per file, its format (the partition's, else the extension) and its compression
      ▼
    _runs(): consecutive files that one reader takes (one run, unless formats are mixed)
      ├─ pyarrow.dataset: parquet, jsonl and csv, plain or .gz/.bz2/.lz4/.zstd. One
      │  FileSystemDataset over every file of the run, made from the paths and the first file's
      │  schema (no file is stat'ed or inspected but the first); projection and filter pushed
      │  down, threads on.
      └─ per-file readers, for what the dataset API cannot open: text, json documents, `.zst`
         files (pyarrow 26 detects `.zstd` but not `.zst`), compressed parquet. Files are read
         one after the other as record batches (streamed where the format allows) and a Scanner
         over those batches applies the same projection and filter.
      ▼
    load():   one scan per run → Table → dtypes → the Table, or a DataFrame (to_pandas, decode)
    stream(): the same scan as record batches with bounded read-ahead, re-chunked to batch_size
    scan():   the run's Dataset, unread (a per-file run is read into memory)

Formats: the partition's `format:` (manifest or rule), else the extension; compression by a
trailing `.gz`, `.bz2`, `.zst`/`.zstd` or `.lz4`.

- parquet: `.parquet`, `.pq`.
- jsonl: JSON lines: `.jsonl`, `.ndjson`, and `.json.gz` (c4). A plain `.json` whose first line
  is a whole JSON object is JSON lines too (dolly); otherwise it is a json document.
- json: one document holding a list of records (objects), or an object whose only list-valued
  key (else `load.json_field`) holds them, e.g. `{"version": "1.0", "data": [...]}`. Columns
  are the keys in order of first appearance. The whole file is parsed in memory.
- csv: `.csv`, `.tsv` (tab-separated); a header row; types inferred unless `load.column_types`.
- text: `.txt`, `.text`: one row per line, column `text`; "\n" (or "\r\n") ends a line.

The Arrow copy (`build_arrow_copy`) is a subset's local data written once as an Arrow IPC file
beside the index (`Store.arrow_copy_path`). `load` memory-maps it (zero copy) when it was built
from exactly the partitions that are local now, read with the same options; otherwise it ignores
the copy and warns. Nothing here prints, and nothing touches the network once data is local.

(The module is `reader`, not `load`, so that `pygestor.load` is unambiguously the function.)
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from .errors import PygestorError, PygestorWarning, SelectionError, SourceError
from .formats import COMPRESSIONS, detect

# Only light standard modules at import; json, hashlib, pyarrow, ... are imported inside functions.
if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    from .api import Catalog, Selected, Selection
    from .store import Store

Output = Literal["pandas", "arrow"]

BATCH_READAHEAD = 2  # batches read ahead within a file by stream() (pyarrow's default: 16)
FRAGMENT_READAHEAD = 1  # files read ahead by stream() (pyarrow's default: 4)
JSON_BLOCK_SIZE = 16 << 20  # a JSON line must fit in one block; pyarrow's 1 MiB is short for long texts
TEXT_CHUNK = 16 << 20  # bytes of a text file split into lines at a time
COPY_BATCH_ROWS = 65_536  # rows per record batch of an Arrow copy
COPY_KEY = b"pygestor.arrow_copy"  # schema metadata of an Arrow copy: what it was built from

_DATASET_SUFFIXES = ("", "gz", "bz2", "zstd", "lz4")  # what pyarrow 26 datasets decompress by name


class ArrowCopy(NamedTuple):
    """What `build_arrow_copy` wrote."""

    path: Path
    bytes: int
    rows: int
    partitions: int


# ---- the public operations -----------------------------------------------------------------
def load(
    catalog: Catalog, name: str, subset: str | Sequence[str] | None = None, *,
    partitions: Sequence[str] | None = None, columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None, download: bool = True,
    output: Output = "pandas", dtypes: Mapping[str, str] | None = None,
    decode: Mapping[str, str] | None = None,
) -> pd.DataFrame | pa.Table:
    """The chosen partitions as one pandas DataFrame (`output="arrow"`: one pyarrow Table).

    `columns` (default: the manifest's `load.columns`) and `filters` (a pyarrow Expression, or
    `(column, op, value)` tuples as `pyarrow.parquet` takes them) are pushed down into one scan.
    `dtypes` and `decode` override the manifest's `load.dtypes` / `load.decode`. With
    `download=True` what is not local is downloaded first; with `download=False` only local
    (and stale) partitions are read and a `PygestorWarning` names the ones skipped.
    """
    _check_output(output)
    selection, local = _local_items(catalog, name, subset, partitions, download)
    opts = _options(selection, columns, filters, dtypes, decode, output)
    table = None
    if partitions is None and len(selection.subsets) == 1:
        table = _copy_table(catalog, selection, local, opts)
    if table is None:
        runs = _runs(local, opts)
        table = _concat([_run_table(run, opts) for run in runs], opts)
    table = _apply_dtypes(table, opts)
    return table if output == "arrow" else _to_pandas(table, opts)


def stream(
    catalog: Catalog, name: str, subset: str | Sequence[str] | None = None, *,
    partitions: Sequence[str] | None = None, columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None, batch_size: int = 65_536,
    download: bool = True, output: Output = "pandas", dtypes: Mapping[str, str] | None = None,
    decode: Mapping[str, str] | None = None,
) -> Iterator[pd.DataFrame | pa.RecordBatch]:
    """The chosen partitions as DataFrames (`output="arrow"`: RecordBatches) of `batch_size`
    rows (the last one fewer), in partition order. Memory stays flat whatever the subset size:
    files are read a few batches ahead. Arguments are checked, and missing partitions
    downloaded, when `stream` is called, before the first batch is asked for."""
    _check_output(output)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SelectionError(f"batch_size must be a positive number of rows, not {batch_size!r}")
    selection, local = _local_items(catalog, name, subset, partitions, download)
    opts = _options(selection, columns, filters, dtypes, decode, output)
    runs = _runs(local, opts)
    for run in runs:
        _check_columns(run.schema, opts)
    return _stream(runs, opts, batch_size, output)


def scan(catalog: Catalog, name: str, subset: str | Sequence[str] | None = None, *,
         partitions: Sequence[str] | None = None) -> ds.Dataset:
    """A `pyarrow.dataset.Dataset` over the local partitions, without reading their data (files
    the dataset API cannot open — text, json documents, `.zst` — are read into memory).
    Nothing is downloaded; a `PygestorWarning` names partitions that are not local."""
    import pyarrow.dataset as pads

    selection, local = _local_items(catalog, name, subset, partitions, download=False)
    opts = _options(selection, None, None, None, None, "arrow", defaults=False)
    datasets = [run.dataset() for run in _runs(local, opts)]
    return datasets[0] if len(datasets) == 1 else pads.dataset(datasets)


def build_arrow_copy(catalog: Catalog, name: str, subset: str) -> ArrowCopy:
    """Write the subset's local data as one Arrow IPC file (`Store.arrow_copy_path`) that `load`
    then memory-maps instead of reading the files. Written to a temporary file and renamed, so
    readers see the old copy or the new one. Partitions that are not local are left out (warned)."""
    import json

    import pyarrow as pa

    if not isinstance(subset, str):
        raise SelectionError(f"build_arrow_copy takes one subset name, not {subset!r}")
    selection, local = _local_items(catalog, name, subset, None, download=False)
    opts = _options(selection, None, None, None, None, "arrow", defaults=False)
    runs = _runs(local, opts)
    schema = runs[0].schema
    built = {"fingerprint": _fingerprint(local, opts), "partitions": len(local)}
    schema = schema.with_metadata({**(schema.metadata or {}), COPY_KEY: json.dumps(built).encode()})
    path = catalog.store.arrow_copy_path(name, subset)
    # batches of COPY_BATCH_ROWS rows, not one per parquet row group: reading the copy back costs
    # per batch (560 one-thousand-row batches took 26 ms to map, 9 large ones 1.2 ms)
    pieces = _rechunk((b for run in runs for b in _run_batches(run, opts, COPY_BATCH_ROWS)), COPY_BATCH_ROWS)
    batches = (pa.concat_batches(p) if len(p) > 1 else p[0] for p in pieces)
    rows = _write_ipc(path, schema, batches, catalog.store.file_mode)
    return ArrowCopy(path, path.stat().st_size, rows, len(local))


def drop_arrow_copy(catalog: Catalog, name: str, subset: str) -> bool:
    """Remove the subset's Arrow copy; True if there was one."""
    catalog.manifest(name)  # an unknown dataset is an error, not a silent False
    path = catalog.store.arrow_copy_path(name, subset)
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


# ---- choosing what to read ------------------------------------------------------------------
def _local_items(catalog: Catalog, name: str, subset: str | Sequence[str] | None,
                 partitions: Sequence[str] | None, download: bool) -> tuple[Selection, list[Selected]]:
    """The selection and its partitions that are on disk, downloading or warning about the rest."""
    selection = catalog.select(name, subset, partitions=partitions)
    missing = selection.with_states("remote", "partial")
    if missing and download:
        catalog.download(name, list(selection.subsets), partitions=[item.key for item in missing])
        selection = catalog.select(name, subset, partitions=partitions)
        missing = selection.with_states("remote", "partial")
    local = list(selection.with_states("local", "stale"))
    where = _where(selection)
    if not local:
        how = "load with download=True" if not download else "check the download"
        raise SelectionError(f"no partition of {where} is local ({len(missing)} not downloaded); {how}, "
                             f"or download them with Catalog.download({name!r}, ...)")
    if missing:
        _warn(f"{where}: {len(missing)} of {len(selection.items)} partitions are not local and were "
              f"skipped ({_keys(missing)}); pass download=True to fetch them")
    stale = [item for item in local if item.state == "stale"]
    if stale:
        _warn(f"{where}: {len(stale)} partitions changed upstream since they were downloaded and are "
              f"read as they are on disk ({_keys(stale)}); update them with "
              f"Catalog.download({name!r}, ..., update=True)")
    return selection, local


class _Options(NamedTuple):
    """What to read and how, merged from the manifest's `load:` and the call's arguments."""

    where: str  # "dataset/subset", for messages
    columns: list[str] | None
    columns_from: str  # the argument or manifest key `columns` came from, for messages
    filter: ds.Expression | None
    dtypes: Mapping[str, str]
    decode: Mapping[str, str]
    column_types: Mapping[str, str]  # reading types for json / csv / text
    json_field: str | None


def _options(selection: Selection, columns: Sequence[str] | None, filters: Any,
             dtypes: Mapping[str, str] | None, decode: Mapping[str, str] | None, output: Output,
             *, defaults: bool = True) -> _Options:
    manifest = selection.manifest.load
    if isinstance(columns, str):
        raise SelectionError(f"columns must be a list of column names, e.g. [{columns!r}]")
    chosen = list(columns) if columns is not None else (manifest.columns if defaults else None)
    decoders = dict(decode if decode is not None else (manifest.decode if defaults else {}))
    for column, kind in decoders.items():
        if kind not in ("image", "json"):
            raise SelectionError(f"decode: {kind!r} for column {column!r} is not a decoder; use 'image' or 'json'")
    if decode and output == "arrow":
        raise SelectionError("decode= applies to pandas output only; drop it or use output='pandas'")
    return _Options(
        where=_where(selection), columns=chosen,
        columns_from="columns" if columns is not None else "load.columns of the manifest",
        filter=_filter(filters), decode=decoders if output == "pandas" else {},
        dtypes=dict(dtypes if dtypes is not None else (manifest.dtypes if defaults else {})),
        column_types=dict(manifest.column_types), json_field=manifest.json_field,
    )


def _filter(filters: Any) -> ds.Expression | None:
    """A pyarrow Expression from an Expression or from `(column, op, value)` tuples (DNF lists)."""
    import pyarrow.compute as pc

    if filters is None or isinstance(filters, pc.Expression):
        return filters
    import pyarrow.parquet as pq

    if isinstance(filters, (str, bytes)) or not isinstance(filters, Sequence) or not filters:
        raise SelectionError(f"filters must be a pyarrow Expression or a list of (column, op, value) "
                             f"tuples such as [('label', '=', 3)], not {filters!r}")
    try:
        return pq.filters_to_expression(filters)
    except (ValueError, TypeError) as exc:
        raise SelectionError(f"filters: {_first_line(exc)}; write them as (column, op, value) tuples "
                             f"with op one of = == != < > <= >= in 'not in'") from None


# ---- files, formats and runs --------------------------------------------------------------
class _Part(NamedTuple):
    """One local file to read."""

    path: Path
    format: str  # parquet | jsonl | json | csv | text
    suffix: str  # the compression extension (gz, bz2, zst, zstd, lz4, xz) or ""
    delimiter: str = ","

    @property
    def compression(self) -> str | None:
        return COMPRESSIONS.get(self.suffix)

    @property
    def scannable(self) -> bool:
        """True when pyarrow.dataset reads the file as it is."""
        if self.format in ("text", "json"):
            return False
        return self.suffix == "" if self.format == "parquet" else self.suffix in _DATASET_SUFFIXES

    @property
    def reader(self) -> tuple[str, str, bool]:
        return (self.format, self.delimiter, self.scannable)


def _parts(items: Sequence[Selected]) -> list[_Part]:
    sniffed: dict[str, str] = {}  # `.json` files of one selection are taken to be all alike
    return [_part(item, sniffed) for item in items]


def _part(item: Selected, sniffed: dict[str, str]) -> _Part:
    """The format comes from the partition (manifest or rule `format:`), else from the extension:
    `.json.gz` (c4) is JSON lines; a plain `.json` is JSON lines if its first line is a whole
    JSON object, else one document."""
    declared = item.partition.format.value if item.partition.format else None
    kind = detect(item.path.name, declared)
    fmt = kind.format
    if fmt is None:
        raise SelectionError(f"cannot tell the format of {item.key} from its name; set format: "
                             f"(parquet, jsonl, json, csv or text) in the manifest or its subset rule")
    if fmt == "json" and declared is None and not kind.suffix:
        if "json" not in sniffed:
            sniffed["json"] = _sniff_json(item.path)
        fmt = sniffed["json"]
    return _Part(item.path, fmt, kind.suffix, kind.delimiter)


def _sniff_json(path: Path) -> str:
    import json

    with open(path, "rb") as fh:
        head = fh.read(1 << 20).lstrip()
    if not head.startswith(b"{"):
        return "json"
    try:
        return "jsonl" if isinstance(json.loads(head.split(b"\n", 1)[0]), dict) else "json"
    except ValueError:
        return "json"


class _Run:
    """Consecutive files one reader takes: one pyarrow dataset, or per-file readers."""

    def __init__(self, parts: list[_Part], opts: _Options):
        self.parts = parts
        self.opts = opts

    @property
    def key(self) -> tuple[str, str, bool]:
        return self.parts[0].reader

    @property
    def scannable(self) -> bool:
        return self.parts[0].scannable

    @cached_property
    def file_format(self) -> ds.FileFormat:
        return _file_format(self.parts[0], self.opts)

    @cached_property
    def schema(self) -> pa.Schema:
        """The first file's schema, with the manifest's `column_types` for text formats."""
        first = self.parts[0]
        with _read_errors(self.opts, first.path):
            if self.scannable:
                inferred = self.file_format.inspect(str(first.path), filesystem=_local_fs())
            else:
                with _open_file(first, self.opts) as reader:
                    inferred = reader.schema
        return inferred if first.format == "parquet" else _with_types(inferred, self.opts.column_types)

    def dataset(self) -> ds.Dataset:
        import pyarrow.dataset as pads

        if not self.scannable:
            with _read_errors(self.opts, self.parts[0].path):
                return pads.InMemoryDataset(self.reader().read_all())
        paths = [str(part.path) for part in self.parts]
        return pads.FileSystemDataset.from_paths(paths, schema=self.schema, format=self.file_format,
                                                 filesystem=_local_fs())

    def reader(self) -> pa.RecordBatchReader:
        import pyarrow as pa

        schema = self.schema
        return pa.RecordBatchReader.from_batches(schema, self._batches(schema))

    def _batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        for part in self.parts:
            with _read_errors(self.opts, part.path), _open_file(part, self.opts) as reader:
                for batch in reader:
                    yield _conform(batch, schema)

    def scanner(self, **options: Any) -> ds.Scanner:
        """A scanner with the projection and filter (and `options`: batch size, read-ahead)."""
        import pyarrow.dataset as pads

        columns, filter_ = self.opts.columns, self.opts.filter
        if self.scannable:
            return self.dataset().scanner(columns=columns, filter=filter_, use_threads=True, **options)
        options.pop("fragment_readahead", None)
        return pads.Scanner.from_batches(self.reader(), columns=columns, filter=filter_, **options)


def _runs(items: Sequence[Selected], opts: _Options) -> list[_Run]:
    runs: list[_Run] = []
    for part in _parts(items):
        if runs and runs[-1].key == part.reader:
            runs[-1].parts.append(part)
        else:
            runs.append(_Run([part], opts))
    return runs


def _local_fs() -> Any:
    import pyarrow.fs as pafs

    return pafs.LocalFileSystem()


def _file_format(part: _Part, opts: _Options) -> ds.FileFormat:
    """The dataset format for a scannable part: parquet, jsonl or csv."""
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads
    import pyarrow.json as pajson

    if part.format == "parquet":
        return pads.ParquetFileFormat()
    if part.format == "jsonl":
        return pads.JsonFileFormat(read_options=pajson.ReadOptions(block_size=JSON_BLOCK_SIZE))
    return pads.CsvFileFormat(parse_options=pacsv.ParseOptions(delimiter=part.delimiter),
                              convert_options=pacsv.ConvertOptions(column_types=_types(opts.column_types)))


def _types(names: Mapping[str, str], argument: str = "load.column_types of the manifest") -> dict[str, pa.DataType]:
    import pyarrow as pa

    try:
        return {column: pa.type_for_alias(name) for column, name in names.items()}
    except ValueError as exc:
        raise SelectionError(f"{argument}: {exc}; use an Arrow type name such as int64 or string") from None


def _with_types(schema: pa.Schema, names: Mapping[str, str]) -> pa.Schema:
    """`schema` with the types of the columns named in `names` replaced."""
    import pyarrow as pa

    types = _types(names)
    return pa.schema([pa.field(f.name, types.get(f.name, f.type)) for f in schema], metadata=schema.metadata)


# ---- per-file readers (what the dataset API cannot open) -----------------------------------
@contextlib.contextmanager
def _open_file(part: _Part, opts: _Options) -> Iterator[pa.RecordBatchReader]:
    """A reader over one file's record batches, streamed where the format allows."""
    import pyarrow as pa

    with _input_stream(part) as stream:
        if part.format == "jsonl":
            yield _jsonl_reader(stream, opts)
        elif part.format == "csv":
            yield _csv_reader(stream, part, opts)
        elif part.format == "text":
            schema = _with_types(pa.schema([("text", pa.string())]), opts.column_types)
            yield pa.RecordBatchReader.from_batches(schema, _text_batches(stream, schema))
        elif part.format == "json":
            yield _json_document(stream.read(), part.path, opts).to_reader()
        else:  # parquet inside a compressed file
            import pyarrow.parquet as pq

            yield pq.read_table(pa.BufferReader(stream.read())).to_reader()


def _input_stream(part: _Part) -> Any:
    """The file's bytes, decompressed (pyarrow's codecs; `xz` through Python's lzma)."""
    import pyarrow as pa

    if part.compression == "xz":
        import lzma

        return pa.PythonFile(lzma.open(part.path), mode="r")
    return pa.input_stream(str(part.path), compression=part.compression)


def _jsonl_reader(stream: Any, opts: _Options) -> pa.RecordBatchReader:
    import pyarrow as pa
    import pyarrow.json as pajson

    explicit = pa.schema(list(_types(opts.column_types).items())) if opts.column_types else None
    parse = pajson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer")
    return pajson.open_json(stream, read_options=pajson.ReadOptions(block_size=JSON_BLOCK_SIZE),
                            parse_options=parse)


def _csv_reader(stream: Any, part: _Part, opts: _Options) -> pa.RecordBatchReader:
    import pyarrow.csv as pacsv

    return pacsv.open_csv(stream, parse_options=pacsv.ParseOptions(delimiter=part.delimiter),
                          convert_options=pacsv.ConvertOptions(column_types=_types(opts.column_types)))


def _text_batches(stream: Any, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """One row per line (a line ends at "\\n"; a "\\r" before it is dropped), a chunk at a time;
    a last line without "\\n" counts, an empty file has no rows."""
    rest = b""
    while chunk := stream.read(TEXT_CHUNK):
        data = rest + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1 :]
        yield _lines(data[:cut], schema)
    if rest:
        yield _lines(rest, schema)


def _lines(data: bytes, schema: pa.Schema) -> pa.RecordBatch:
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array([data], pa.large_binary()).cast(pa.large_string())  # checks UTF-8
    lines = pc.list_flatten(pc.split_pattern(text, "\n"))
    if b"\r" in data:
        lines = pc.replace_substring_regex(lines, "\r$", "")
    return pa.RecordBatch.from_arrays([lines.cast(schema.field("text").type)], schema=schema)


def _json_document(data: bytes, path: Path, opts: _Options) -> pa.Table:
    """One JSON document: a list of records, or an object holding the list (`json_field`, else
    its only list-valued key). Columns are the keys in order of first appearance."""
    import json

    import pyarrow as pa

    records = _records(json.loads(data), path, opts.json_field)
    keys = list(dict.fromkeys(key for record in records for key in record))
    types = _types(opts.column_types)
    arrays = [pa.array([r.get(k) for r in records], type=types.get(k)) for k in keys]
    return pa.Table.from_arrays(arrays, names=keys)


def _records(document: Any, path: Path, field: str | None) -> list[dict[str, Any]]:
    if field is not None:
        if not isinstance(document, dict) or field not in document:
            raise SourceError(f"{path}: the document has no top-level key {field!r} (load.json_field)")
        document = document[field]
    elif isinstance(document, dict):
        lists = [key for key, value in document.items() if isinstance(value, list)]
        if len(lists) != 1:
            raise SourceError(f"{path}: {len(lists)} top-level keys hold lists ({', '.join(lists) or 'none'}); "
                              f"name the one holding the records with load.json_field in the manifest")
        document = document[lists[0]]
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise SourceError(f"{path}: a json document must hold a list of records (JSON objects); "
                          f"for JSON lines set format: jsonl in the manifest")
    return document


def _conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`batch` with `schema`'s columns, in its order and types (missing ones null)."""
    import pyarrow as pa

    if batch.schema.equals(schema):
        return batch
    arrays = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        array = batch.column(index) if index >= 0 else pa.nulls(batch.num_rows, field.type)
        arrays.append(array if array.type == field.type else array.cast(field.type))
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# ---- scanning -----------------------------------------------------------------------------
def _run_table(run: _Run, opts: _Options) -> pa.Table:
    _check_columns(run.schema, opts)
    with _read_errors(opts, run.parts[0].path if len(run.parts) == 1 else None, run.schema.names):
        return run.scanner().to_table()


def _run_batches(run: _Run, opts: _Options, batch_size: int) -> Iterator[pa.RecordBatch]:
    with _read_errors(opts, run.parts[0].path if len(run.parts) == 1 else None, run.schema.names):
        extra: dict[str, Any] = {}
        if run.scannable and run.parts[0].format == "parquet":
            import pyarrow.dataset as pads

            # no pre-buffering of whole column chunks: it is what makes streaming memory grow
            # with the data (it pays off on object stores, not on local disks and NFS)
            extra["fragment_scan_options"] = pads.ParquetFragmentScanOptions(pre_buffer=False)
        scanner = run.scanner(batch_size=batch_size, batch_readahead=BATCH_READAHEAD,
                              fragment_readahead=FRAGMENT_READAHEAD, **extra)
        yield from scanner.to_batches()


def _stream(runs: list[_Run], opts: _Options, batch_size: int, output: Output) -> Iterator[Any]:
    import pyarrow as pa

    batches = (batch for run in runs for batch in _run_batches(run, opts, batch_size))
    for pieces in _rechunk(batches, batch_size):
        if output == "arrow":  # a RecordBatch must be contiguous: one copy of the pieces
            yield _apply_dtypes(pa.concat_batches(pieces) if len(pieces) > 1 else pieces[0], opts)
        else:  # pandas copies anyway: convert the pieces as one chunked table, no Arrow copy first
            table = _apply_dtypes(pa.Table.from_batches(pieces), opts)
            yield _decode(table.to_pandas(split_blocks=True, self_destruct=True), opts)


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[list[pa.RecordBatch]]:
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
    return [_conform(b, unified) for b in batches]


def _concat(tables: list[pa.Table], opts: _Options) -> pa.Table:
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    with _read_errors(opts, None):
        return pa.concat_tables(tables, promote_options="permissive")


def _check_columns(schema: pa.Schema, opts: _Options) -> None:
    names = schema.names
    for argument, wanted in ((opts.columns_from, opts.columns or ()),
                             ("dtypes", opts.dtypes), ("decode", opts.decode)):
        for column in wanted:
            if column not in names:
                raise _no_column(argument, column, names, opts.where)


def _no_column(argument: str, column: str, names: Sequence[str], where: str) -> SelectionError:
    import difflib

    close = difflib.get_close_matches(column, names, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return SelectionError(f"{argument}: no column {column!r} in {where}; {hint}available: {', '.join(names)}")


@contextlib.contextmanager
def _read_errors(opts: _Options, path: Path | None, names: Sequence[str] = ()) -> Iterator[None]:
    """pyarrow's errors while reading, as one-line pygestor errors naming what was read (`names`:
    the columns there are, for a filter naming one that is not)."""
    import re

    import pyarrow as pa

    try:
        yield
    except PygestorError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        message = _first_line(exc)
        missing = re.search(r"No match for FieldRef\.Name\((.*?)\) in ", message)
        if missing:
            raise _no_column("filters", missing.group(1), names, opts.where) from None
        hint = ""
        if re.search(r"changed from|[Cc]onversion|[Cc]ast|parse|[Cc]ould not convert", message):
            hint = "; give the column types in load.column_types of the manifest"
        raise SourceError(f"cannot read {path or opts.where}: {message}{hint}") from None


# ---- types, decoding, pandas --------------------------------------------------------------
def _apply_dtypes(data: Any, opts: _Options) -> Any:
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
                new = array.cast(_types({column: name}, "dtypes")[column])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise SelectionError(f"dtypes: cannot convert column {column!r} ({array.type}) to {name}: "
                                 f"{_first_line(exc)}") from None
        data = data.set_column(index, pa.field(column, new.type), new)
    return data


def _to_pandas(table: pa.Table, opts: _Options) -> pd.DataFrame:
    # split_blocks + self_destruct: no consolidation copy, Arrow memory freed column by column
    return _decode(table.to_pandas(split_blocks=True, self_destruct=True), opts)


def _decode(frame: pd.DataFrame, opts: _Options) -> pd.DataFrame:
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
        raise PygestorError(f"decode: column {column!r} is decoded as images, which needs Pillow; "
                            "install it with: pip install 'pygestor[image]'") from None

    def image(value: Any) -> Any:
        data, path = (value.get("bytes"), value.get("path")) if isinstance(value, dict) else (value, None)
        if isinstance(data, str):
            data, path = None, data
        if data is not None:
            return Image.open(io.BytesIO(data))
        if path and os.path.isfile(path):
            return Image.open(path)
        raise SourceError(f"decode: an image of column {column!r} has no bytes and no file here ({path!r})")

    return image


# ---- the Arrow copy -----------------------------------------------------------------------
def _fingerprint(local: Sequence[Selected], opts: _Options) -> str:
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
            st = item.path.stat()
            ident = [st.st_size, st.st_mtime_ns]
        items.append([item.key, item.partition.format.value if item.partition.format else None, *ident])
    data = {"partitions": items, "column_types": dict(opts.column_types), "json_field": opts.json_field}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _copy_table(catalog: Catalog, selection: Selection, local: Sequence[Selected],
                opts: _Options) -> pa.Table | None:
    """The subset's Arrow copy, memory-mapped, projected and filtered; None if there is none or
    it is out of date (warned)."""
    import json

    import pyarrow as pa

    path = catalog.store.arrow_copy_path(selection.dataset, selection.subsets[0])
    if not path.exists():
        return None
    with _read_errors(opts, path):
        reader = pa.ipc.open_file(pa.memory_map(str(path)))
        metadata = dict(reader.schema.metadata or {})
        built = json.loads(metadata.pop(COPY_KEY, b"{}"))
        if built.get("fingerprint") != _fingerprint(local, opts):
            _warn(f"{opts.where}: the Arrow copy was built from other partitions than those local now "
                  f"(built from {built.get('partitions')}, {len(local)} local); reading the files instead; "
                  f"rebuild it with build_arrow_copy or remove it with drop_arrow_copy")
            return None
        table = reader.read_all().replace_schema_metadata(metadata)
    _check_columns(table.schema, opts)
    with _read_errors(opts, path, table.schema.names):
        if opts.filter is not None:
            table = table.filter(opts.filter)
        return table.select(opts.columns) if opts.columns is not None else table


def _write_ipc(path: Path, schema: pa.Schema, batches: Iterator[pa.RecordBatch], file_mode: int | None) -> int:
    """Write `batches` as an Arrow IPC file at `path` atomically (temporary file, fsync, rename)."""
    import uuid

    import pyarrow as pa

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    rows = 0
    try:
        with open(tmp, "wb") as fh:
            with pa.ipc.new_file(fh, schema) as writer:
                for batch in batches:
                    writer.write_batch(_conform(batch, schema))
                    rows += batch.num_rows
            fh.flush()
            os.fsync(fh.fileno())
        if file_mode is not None:
            os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return rows


# ---- small helpers --------------------------------------------------------------------------
def _check_output(output: str) -> None:
    if output not in ("pandas", "arrow"):
        raise SelectionError(f"output must be 'pandas' or 'arrow', not {output!r}")


def _where(selection: Selection) -> str:
    return f"{selection.dataset}/{','.join(selection.subsets) or '-'}"


def _keys(items: Sequence[Selected], limit: int = 3) -> str:
    shown = ", ".join(item.key for item in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _warn(message: str) -> None:
    """Warn with the location of the first caller outside pygestor."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").partition(".")[0] == "pygestor":
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    warnings.warn(message, PygestorWarning, stacklevel=level)


def arrow_copy_bytes(store: Store, dataset: str, subset: str) -> int | None:
    """The size of a subset's Arrow copy, None when it has none (`Catalog.subset_records`)."""
    try:
        return store.arrow_copy_path(dataset, subset).stat().st_size
    except FileNotFoundError:
        return None

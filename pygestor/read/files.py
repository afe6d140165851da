"""Files and how to read them: each chosen file's format, runs of files one reader takes, and
the per-file readers for what `pyarrow.dataset` cannot open.

    Part: per file, its format (the partition's, else `manifest.formats.detect`) and compression
    Run:  consecutive files one reader takes (one run, unless formats are mixed)
      ├─ pyarrow.dataset: parquet, jsonl and csv, plain or .gz/.bz2/.lz4/.zstd. One
      │  FileSystemDataset over every file of the run, made from the paths and the first file's
      │  schema (no file is stat'ed or inspected but the first); projection and filter pushed
      │  down, threads on.
      └─ per-file readers, for what the dataset API cannot open: text, json documents, `.zst`
         (pyarrow 26 detects `.zstd` but not `.zst`), `.xz`, compressed parquet. Files are read
         one after the other as record batches (streamed where the format allows) and a Scanner
         over those batches applies the same projection and filter.

Files are read through each partition's storage (`Selected.storage`: the data-directory tier it
is local in, or a `local:` source's folder): its pyarrow filesystem for datasets, its
random-access files for the rest. A run never spans two storages.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import SelectionError, SourceError
from ..manifest.formats import COMPRESSIONS, detect
from .ahead import read_ahead
from .options import (
    ReadOptions,
    arrow_types,
    check_columns,
    memory_pool,
    read_errors,
    shown,
    with_types,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset as ds

    from ..index.selection import Selected
    from ..storage.base import Storage

JSON_BLOCK_SIZE = (
    16 << 20
)  # a JSON line must fit in one block; pyarrow's 1 MiB is short for long texts
TEXT_CHUNK = 16 << 20  # bytes of a text file split into lines at a time
_DATASET_SUFFIXES = ("", "gz", "bz2", "zstd", "lz4")  # what pyarrow 26 datasets decompress by name
PREFETCH = 2  # stream()'s default read-ahead: batches decoded ahead of the consumer
FRAGMENT_READAHEAD = 1  # files of other formats opened ahead by stream() (pyarrow's default: 4)


class Part(NamedTuple):
    """One stored file to read."""

    key: str  # in the run's storage
    shown: str  # where it is, for messages
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


def parts(items: Sequence[Selected]) -> list[tuple[Part, Storage]]:
    """Each item's file to read, with the storage it is read from (its tier, or the source)."""
    sniffed: dict[str, str] = {}  # `.json` files of one selection are taken to be all alike
    return [(_part(item, item.storage, sniffed), item.storage) for item in items]


def _part(item: Selected, storage: Storage, sniffed: dict[str, str]) -> Part:
    """The format comes from the partition (manifest or rule `format:`), else from the extension:
    `.json.gz` (c4) is JSON lines; a plain `.json` is JSON lines if its first line is a whole
    JSON object, else one document."""
    declared = item.partition.format.value if item.partition.format else None
    kind = detect(item.file_key, declared)
    fmt = kind.format
    if fmt is None:
        raise SelectionError(
            f"cannot tell the format of {item.key} from its name; set format: "
            f"(parquet, jsonl, json, csv or text) in the manifest or its subset rule"
        )
    if fmt == "json" and declared is None and not kind.suffix:
        if "json" not in sniffed:
            sniffed["json"] = _sniff_json(storage, item.file_key)
        fmt = sniffed["json"]
    return Part(item.file_key, shown(storage, item.file_key), fmt, kind.suffix, kind.delimiter)


def _sniff_json(storage: Storage, key: str) -> str:
    import json

    with storage.open(key) as fh:
        head = fh.read(1 << 20).lstrip()
    if not head.startswith(b"{"):
        return "json"
    try:
        return "jsonl" if isinstance(json.loads(head.split(b"\n", 1)[0]), dict) else "json"
    except ValueError:
        return "json"


class Run:
    """Consecutive files one reader takes: one pyarrow dataset, or per-file readers."""

    def __init__(self, parts: list[Part], opts: ReadOptions, storage: Storage):
        self.parts = parts
        self.opts = opts
        self.storage = storage

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
        with read_errors(self.opts, first.shown):
            if self.scannable:
                fs, prefix = self.storage.arrow_filesystem()
                inferred = self.file_format.inspect(f"{prefix}/{first.key}", filesystem=fs)
            else:
                with open_file(first, self.opts, self.storage) as reader:
                    inferred = reader.schema
        return (
            inferred if first.format == "parquet" else with_types(inferred, self.opts.column_types)
        )

    def dataset(self) -> ds.Dataset:
        import pyarrow.dataset as pads

        if not self.scannable:
            with read_errors(self.opts, self.parts[0].shown):
                return pads.InMemoryDataset(self.reader().read_all())
        fs, prefix = self.storage.arrow_filesystem()
        paths = [f"{prefix}/{part.key}" for part in self.parts]
        return pads.FileSystemDataset.from_paths(
            paths, schema=self.schema, format=self.file_format, filesystem=fs
        )

    def reader(self) -> pa.RecordBatchReader:
        import pyarrow as pa

        schema = self.schema
        return pa.RecordBatchReader.from_batches(schema, self._batches(schema))

    def _batches(self, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
        for part in self.parts:
            with (
                read_errors(self.opts, part.shown),
                open_file(part, self.opts, self.storage) as reader,
            ):
                for batch in reader:
                    yield conform(batch, schema)

    def scanner(self, **options: Any) -> ds.Scanner:
        """A scanner with the projection and filter (and `options`: batch size, read-ahead)."""
        import pyarrow.dataset as pads

        columns, filter_ = self.opts.columns, self.opts.filter
        options["memory_pool"] = memory_pool()
        if self.scannable:
            return self.dataset().scanner(
                columns=columns, filter=filter_, use_threads=True, **options
            )
        options.pop("fragment_readahead", None)
        return pads.Scanner.from_batches(self.reader(), columns=columns, filter=filter_, **options)


def runs(items: Sequence[Selected], opts: ReadOptions) -> list[Run]:
    """Consecutive files of one reader and one storage (tier), in selection order."""
    found: list[Run] = []
    for item, (part, storage) in zip(items, parts(items), strict=True):
        if item.partition.file.size == 0 and part.format in _LINE_FORMATS and not part.suffix:
            continue  # an empty text file is no rows (pyarrow refuses an "empty JSON stream")
        if found and found[-1].key == part.reader and found[-1].storage is storage:
            found[-1].parts.append(part)
        else:
            found.append(Run([part], opts, storage))
    return found


_LINE_FORMATS = ("jsonl", "csv", "text")  # a 0-byte file of these is no rows


def _file_format(part: Part, opts: ReadOptions) -> ds.FileFormat:
    """The dataset format for a scannable part: parquet, jsonl or csv."""
    import pyarrow.csv as pacsv
    import pyarrow.dataset as pads
    import pyarrow.json as pajson

    if part.format == "parquet":
        return pads.ParquetFileFormat()
    if part.format == "jsonl":
        return pads.JsonFileFormat(read_options=pajson.ReadOptions(block_size=JSON_BLOCK_SIZE))
    return pads.CsvFileFormat(
        parse_options=pacsv.ParseOptions(delimiter=part.delimiter),
        convert_options=pacsv.ConvertOptions(column_types=arrow_types(opts.column_types)),
    )


@contextlib.contextmanager
def open_file(part: Part, opts: ReadOptions, storage: Storage) -> Iterator[pa.RecordBatchReader]:
    """A reader over one file's record batches, streamed where the format allows."""
    import pyarrow as pa

    with _input_stream(part, storage) as stream:
        if part.format == "jsonl":
            yield _jsonl_reader(stream, opts)
        elif part.format == "csv":
            yield _csv_reader(stream, part, opts)
        elif part.format == "text":
            schema = with_types(pa.schema([("text", pa.string())]), opts.column_types)
            yield pa.RecordBatchReader.from_batches(schema, _text_batches(stream, schema))
        elif part.format == "json":
            yield _json_document(stream.read(), part.shown, opts).to_reader()
        else:  # parquet inside a compressed file
            import pyarrow.parquet as pq

            yield pq.read_table(pa.BufferReader(stream.read())).to_reader()


def _input_stream(part: Part, storage: Storage) -> Any:
    """The file's bytes, decompressed (pyarrow's codecs; `xz` through Python's lzma)."""
    import pyarrow as pa

    if part.compression == "xz":
        import lzma

        return pa.PythonFile(lzma.open(storage.open(part.key)), mode="r")
    raw = storage.open_arrow(part.key)
    return pa.CompressedInputStream(raw, part.compression) if part.compression else raw


def _jsonl_reader(stream: Any, opts: ReadOptions) -> pa.RecordBatchReader:
    import pyarrow as pa
    import pyarrow.json as pajson

    explicit = (
        pa.schema(list(arrow_types(opts.column_types).items())) if opts.column_types else None
    )
    parse = pajson.ParseOptions(explicit_schema=explicit, unexpected_field_behavior="infer")
    return pajson.open_json(
        stream, read_options=pajson.ReadOptions(block_size=JSON_BLOCK_SIZE), parse_options=parse
    )


def _csv_reader(stream: Any, part: Part, opts: ReadOptions) -> pa.RecordBatchReader:
    import pyarrow.csv as pacsv

    return pacsv.open_csv(
        stream,
        parse_options=pacsv.ParseOptions(delimiter=part.delimiter),
        convert_options=pacsv.ConvertOptions(column_types=arrow_types(opts.column_types)),
    )


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


def _json_document(data: bytes, path: str, opts: ReadOptions) -> pa.Table:
    """One JSON document: a list of records, or an object holding the list (`json_field`, else
    its only list-valued key). Columns are the keys in order of first appearance."""
    import json

    import pyarrow as pa

    records = _records(json.loads(data), path, opts.json_field)
    keys = list(dict.fromkeys(key for record in records for key in record))
    types = arrow_types(opts.column_types)
    arrays = [pa.array([r.get(k) for r in records], type=types.get(k)) for k in keys]
    return pa.Table.from_arrays(arrays, names=keys)


def _records(document: Any, path: str, field: str | None) -> list[dict[str, Any]]:
    if field is not None:
        if not isinstance(document, dict) or field not in document:
            raise SourceError(
                f"{path}: the document has no top-level key {field!r} (load.json_field)"
            )
        document = document[field]
    elif isinstance(document, dict):
        lists = [key for key, value in document.items() if isinstance(value, list)]
        if len(lists) != 1:
            raise SourceError(
                f"{path}: {len(lists)} top-level keys hold lists ({', '.join(lists) or 'none'}); "
                f"name the one holding the records with load.json_field in the manifest"
            )
        document = document[lists[0]]
    if not isinstance(document, list) or not all(isinstance(r, dict) for r in document):
        raise SourceError(
            f"{path}: a json document must hold a list of records (JSON objects); "
            f"for JSON lines set format: jsonl in the manifest"
        )
    return document


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
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


def run_table(run: Run, opts: ReadOptions) -> pa.Table:
    check_columns(run.schema, opts)
    with read_errors(opts, run.parts[0].shown if len(run.parts) == 1 else None, run.schema.names):
        return run.scanner().to_table()


def run_batches(
    run: Run, opts: ReadOptions, batch_size: int, prefetch: int = PREFETCH
) -> Iterator[pa.RecordBatch]:
    """The run's batches as the reader decodes them (a parquet row group, or `batch_size` rows of
    one when it is longer), `prefetch` batches decoded ahead; nothing is copied. Parquet files
    are pulled one row group at a time with the read-ahead on a thread (`ahead.py`: pyarrow's
    scanner would read ahead without bound when the consumer is slow)."""
    with read_errors(opts, run.parts[0].shown if len(run.parts) == 1 else None, run.schema.names):
        if run.scannable and run.parts[0].format == "parquet":
            yield from read_ahead(_row_groups(run, opts, batch_size), prefetch)
            return
        scanner = run.scanner(
            batch_size=batch_size,
            batch_readahead=prefetch,
            fragment_readahead=FRAGMENT_READAHEAD if prefetch else 0,
        )
        yield from scanner.to_batches()


def _row_groups(
    run: Run, opts: ReadOptions, batch_size: int
) -> Iterator[Callable[[], list[pa.RecordBatch]]]:
    """One task per row group of the run's parquet files, reading its batches (its columns in
    parallel); row groups the filter's statistics rule out are skipped."""
    import pyarrow.dataset as pads

    dataset = run.dataset()
    names = dataset.schema.names
    # pre-buffering reads a row group's column chunks in a few large coalesced requests: it
    # pays off on object stores (one GET where there would be one per page), not on disks
    remote = run.storage.arrow_filesystem()[0].type_name != "local"
    read = partial(
        pads.Fragment.to_batches,
        schema=dataset.schema,
        columns=opts.columns,
        filter=opts.filter,
        batch_size=batch_size,
        batch_readahead=0,
        fragment_readahead=0,
        fragment_scan_options=pads.ParquetFragmentScanOptions(pre_buffer=remote),
        memory_pool=memory_pool(),
    )

    def task(group: ds.Fragment, shown: str) -> list[pa.RecordBatch]:
        with read_errors(opts, shown, names):
            return list(read(group))

    for part, fragment in zip(run.parts, dataset.get_fragments(), strict=True):
        with read_errors(opts, part.shown, names):
            groups = fragment.split_by_row_group(opts.filter, schema=dataset.schema)
        yield from (partial(task, group, part.shown) for group in groups)

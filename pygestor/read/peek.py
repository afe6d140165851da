"""A look at one partition without downloading it: its parquet schema, and its first rows.

    schema(selection, source)    {"dataset", "subset", "partition", "location", "format",
                                  "columns": [{"name", "type", "kind"}], "num_rows",
                                  "row_groups", "bytes_fetched"}
    preview(selection, source, rows=10, columns=None, max_bytes=4 MiB)
                                 {"dataset", "subset", "partition", "location", "format",
                                  "columns", "rows": [{column: cell}], "bytes_fetched",
                                  "capped", "skipped": [{"column", "bytes", "why"}], "message"}

The partition is the one chosen, else the subset's first local one, else its first. A local file
(in the data directory, or a `local:` source's folder) is read in place, and nothing is fetched.
Otherwise the bytes come from the source by bounded HTTP ranges (`read.ranges`), each counted,
the footer's too, and no range is asked that would take the count past `max_bytes`:

- parquet: the footer (the file's last bytes), then the chosen columns one by one, smallest
  first (by their chunk in the first row group): pyarrow reads them through a small buffer, so
  only the pages that hold the first `rows` rows are fetched, not whole chunks, and row groups
  follow one another while rows are missing. A column whose bytes do not fit in what is left of
  the cap is left out (`skipped`: an image column goes before the text beside it) and the
  preview is `capped`; when even the first column read cannot give `rows` rows, the preview
  has the rows that fit.
- jsonl, csv, text: the start of the file, at most `max_bytes` of it (decompressed when gzip,
  bz2 or xz), in growing ranges until `rows` whole lines came; a cut line is never parsed.

A schema needs a parquet partition: a text format's columns are known only from its rows, which
`preview` shows (with types guessed from the first values). Cells are made JSON-safe by
`read.cells`, which also gives each column its kind (image, audio, json, text, value).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import PygestorError, SelectionError, SourceError
from ..manifest.formats import detect
from .cells import cell, feature_kinds, kind_of, python_type
from .options import first_line, no_column, shown, where
from .preview import TEXT_FORMATS, head, text_rows
from .ranges import TAIL, OverCap, RangeReader, parquet_footer

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..index.selection import Selected, Selection
    from ..sources.base import Source

MAX_ROWS = 1000
MIN_BYTES = 64 * 1024
MAX_BYTES = 64 * 2**20
TEXT_STEP = 64 * 1024  # the first range of a text file; each next one is twice as long
BATCH = 50  # rows pyarrow decodes at a time in a preview
PAGE_BUFFER = 16 * 1024  # pyarrow's read buffer over a remote column chunk (a page is read whole)
INFLATE = 8  # a compressed text file is decompressed to at most this many times max_bytes


def check_limits(rows: object, max_bytes: object) -> None:
    """SelectionError naming the argument unless 1 <= rows <= 1000 and 64 KiB <= max_bytes <=
    64 MiB."""
    if not _whole(rows) or not 1 <= rows <= MAX_ROWS:  # type: ignore[operator]
        raise SelectionError(f"rows={rows!r}: give a number of rows from 1 to {MAX_ROWS}")
    if not _whole(max_bytes) or not MIN_BYTES <= max_bytes <= MAX_BYTES:  # type: ignore[operator]
        raise SelectionError(
            f"max_bytes={max_bytes!r}: give a number of bytes from {MIN_BYTES} (64 KiB) "
            f"to {MAX_BYTES} (64 MiB)"
        )


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Target:
    """The partition looked at: where it is, its format, and where its bytes come from."""

    selection: Selection
    item: Selected
    local: bool
    format: str | None
    compression: str | None
    delimiter: str

    @property
    def where(self) -> str:
        return f"{self.selection.dataset}/{self.item.key}"

    @property
    def decode(self) -> dict[str, str]:
        return dict(self.selection.manifest.load.decode)

    def base(self) -> dict[str, Any]:
        return {
            "dataset": self.selection.dataset,
            "subset": self.item.subset,
            "partition": self.item.partition.name,
            "location": "local" if self.local else "remote",
            "format": self.format,
        }

    def reader(self, source: Source | None, cap: int | None) -> RangeReader:
        """Ranged reads of the partition's file at the source, at the synced commit."""
        file = self.item.partition.file
        if source is None:  # a `local:` source whose file is gone from its folder
            raise SourceError(
                f"{self.where}: {file.path} is not in {self.item.storage.url} any more; "
                f"run 'pygestor sync {self.selection.dataset}'"
            )
        return RangeReader(source, file, self.selection.listing.commit, cap)


def _target(selection: Selection) -> _Target:
    items = selection.items
    if not items:
        raise SelectionError(f"{where(selection)} has no partitions to look at")
    if len(selection.subsets) > 1:
        raise SelectionError(
            f"{where(selection)}: a preview looks at one subset; choose one of "
            f"{', '.join(selection.subsets)}"
        )
    local = next((item for item in items if _is_local(item)), None)
    item = local or items[0]
    declared = item.partition.format.value if item.partition.format else None
    kind = detect(item.partition.file.path, declared)
    return _Target(
        selection, item, local is not None, kind.format, kind.compression, kind.delimiter
    )


def _is_local(item: Selected) -> bool:
    if item.state not in ("local", "stale"):
        return False
    found = item.storage.info(item.file_key, follow=True)
    return found is not None and found.kind == "file"


# ---- schema ------------------------------------------------------------------------------------
def schema(selection: Selection, source: Source | None) -> dict[str, Any]:
    """The parquet schema of the partition, from the footer of the local file or, at the
    source, by byte ranges (`bytes_fetched`: what that cost; 0 when local)."""
    target = _target(selection)
    if target.format != "parquet" or target.compression:
        raise PygestorError(
            f"{target.where}: a schema needs a parquet partition, and this one is "
            f"{_format_name(target)}; preview it to see its columns"
        )
    reader = None if target.local else target.reader(source, None)
    parquet = _parquet_file(target, reader, TAIL)
    metadata = parquet.metadata
    return {
        **target.base(),
        "columns": _described(target, parquet.schema_arrow, None),
        "num_rows": metadata.num_rows,
        "row_groups": metadata.num_row_groups,
        "bytes_fetched": reader.fetched if reader else 0,
    }


def _format_name(target: _Target) -> str:
    if target.format is None:
        return "of no format pygestor knows"
    return (
        f"{target.compression}-compressed {target.format}" if target.compression else target.format
    )


def _parquet_file(target: _Target, reader: RangeReader | None, first: int) -> pq.ParquetFile:
    """The partition's parquet file: local, or its footer fetched (the column chunks come when
    pyarrow reads them, through `reader`), with the remote file as fetched so far."""
    import pyarrow.parquet as pq

    if reader is not None:
        metadata, sparse = parquet_footer(reader, first)
        # buffered reads: pyarrow asks for the pages the rows need, not a whole column chunk
        return pq.ParquetFile(sparse, metadata=metadata, buffer_size=PAGE_BUFFER, pre_buffer=False)
    storage, key = target.item.storage, target.item.file_key
    try:
        return pq.ParquetFile(storage.open_arrow(key))
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several types for a damaged file)
        raise PygestorError(
            f"{shown(storage, key)}: cannot read its parquet footer ({first_line(exc)}); "
            "check it with 'pygestor verify'"
        ) from None


def _described(
    target: _Target, arrow: pa.Schema, names: Sequence[str] | None
) -> list[dict[str, str]]:
    """name, type and kind of the columns `names` (None: all) of a parquet schema."""
    features = feature_kinds(arrow.metadata)
    chosen = list(names) if names is not None else arrow.names
    out = []
    for name in chosen:
        type_name = str(arrow.field(name).type)
        out.append(
            {
                "name": name,
                "type": type_name,
                "kind": kind_of(name, type_name, target.decode, features),
            }
        )
    return out


# ---- preview -----------------------------------------------------------------------------------
def preview(
    selection: Selection,
    source: Source | None,
    *,
    rows: int = 10,
    columns: Sequence[str] | None = None,
    max_bytes: int = 4 * 2**20,
) -> dict[str, Any]:
    """The first `rows` rows of the partition (the chosen `columns`, None: all), without
    downloading it; see the module docstring for what is fetched."""
    check_limits(rows, max_bytes)
    wanted = _wanted(columns)
    target = _target(selection)
    if target.format == "parquet" and not target.compression:
        body = _parquet_preview(target, source, rows, wanted, max_bytes)
    elif target.format in TEXT_FORMATS:
        body = _text_preview(target, source, rows, wanted, max_bytes)
    else:
        raise PygestorError(
            f"{target.where}: a preview reads parquet, jsonl, csv or text partitions, and this "
            f"one is {_format_name(target)}"
        )
    return {**target.base(), **body}


def _wanted(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
        raise SelectionError(
            f"columns={columns!r}: give a list of column names, e.g. [{columns!r}], or None for "
            "all of them"
        )
    if not columns:
        raise SelectionError("columns=[]: give at least one column name, or None for all of them")
    return list(dict.fromkeys(columns))


def _chosen(wanted: list[str] | None, names: Sequence[str], where: str) -> list[str]:
    for name in wanted or ():
        if name not in names:
            raise no_column("columns", name, names, where)
    return list(wanted) if wanted is not None else list(names)


def _body(
    columns: list[dict[str, str]],
    rows: list[dict[str, Any]],
    reader: RangeReader | None,
    *,
    skipped: list[dict[str, Any]] | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "columns": columns,
        "rows": rows,
        "bytes_fetched": reader.fetched if reader else 0,
        "capped": message is not None,
        "skipped": skipped or [],
        "message": message,
    }


def _parquet_preview(
    target: _Target, source: Source | None, n: int, wanted: list[str] | None, cap: int
) -> dict[str, Any]:
    reader = None if target.local else target.reader(source, cap)
    try:
        parquet = _parquet_file(target, reader, min(TAIL, cap // 16))
    except OverCap:
        return _body(
            [],
            [],
            reader,
            message=f"the parquet footer alone is more than the cap of {cap:,} "
            "bytes; raise max_bytes to preview this partition",
        )
    arrow = parquet.schema_arrow
    described = _described(target, arrow, _chosen(wanted, arrow.names, target.where))
    first = _FirstRows(parquet, reader, [c["name"] for c in described], n, target.where)
    first.run()
    kinds = {c["name"]: c["kind"] for c in described}
    rows = [
        {name: cell(first.values[name][i], kinds[name]) for name in first.kept}
        for i in range(first.count)
    ]
    return _body(described, rows, reader, skipped=first.skipped, message=first.message(cap))


@dataclass
class _FirstRows:
    """The first `n` rows of columns `names` of a parquet file, column by column, the smallest
    (by its chunk in the first row group) first. A remote file's bytes come as pyarrow reads them
    (its buffered reads take the pages the rows need, not whole chunks), each range checked
    against the cap: a column whose bytes do not fit is left out, and the first column read
    sets how many rows the others must give."""

    parquet: pq.ParquetFile
    reader: RangeReader | None
    names: list[str]
    n: int
    where: str
    values: dict[str, list[Any]] = field(default_factory=dict)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    count: int = 0
    stopped: bool = False  # fewer than `n` rows: the cap was reached (not the end of the file)

    @property
    def kept(self) -> list[str]:
        return [name for name in self.names if name in self.values]

    def run(self) -> None:
        sizes = self._first_chunks()
        target = self.n
        for name in sorted(self.names, key=lambda c: sizes[c]):
            left = self.reader.left if self.reader is not None else None
            values, capped = self._column(name, target)
            if capped and (self.values or not values):  # all the rows asked, or none at all
                self.skipped.append(_skipped(name, sizes[name], left or 0))
                continue
            if not self.values:  # the first column read: the rows there are, or that fit
                target, self.stopped = len(values), capped
            self.values[name] = values[:target]
        self.count = target if self.values else 0
        self.skipped.sort(key=lambda s: self.names.index(s["column"]))

    def message(self, cap: int) -> str | None:
        if self.skipped:
            shown = ", ".join(f"{s['column']} ({s['bytes']:,} bytes)" for s in self.skipped)
            return (
                f"stopped at the cap of {cap:,} bytes: left out {shown}; raise max_bytes or "
                "choose fewer columns to see them"
            )
        if self.stopped:
            return (
                f"stopped at the cap of {cap:,} bytes after {self.count} rows; raise max_bytes "
                "for more"
            )
        return None

    def _first_chunks(self) -> dict[str, int]:
        """Bytes of each column's chunks in the first row group (0 for a file without any)."""
        metadata = self.parquet.metadata
        sizes = dict.fromkeys(self.names, 0)
        if metadata.num_row_groups:
            group = metadata.row_group(0)
            for name, leaves in _leaves(metadata, self.names).items():
                sizes[name] = sum(group.column(i).total_compressed_size for i in leaves)
        return sizes

    def _column(self, name: str, n: int) -> tuple[list[Any], bool]:
        """The first `n` values of column `name` (fewer at the end of the file), and whether the
        cap stopped the read before."""
        values: list[Any] = []
        try:
            # small batches: the rows that came before the cap was reached are kept
            for batch in self.parquet.iter_batches(batch_size=min(n, BATCH), columns=[name]):
                values += batch.column(0).to_pylist()
                if len(values) >= n:
                    break
        except OverCap:
            return values, True
        except PygestorError:
            raise
        except Exception as exc:  # noqa: BLE001 (pyarrow raises several types)
            raise PygestorError(
                f"{self.where}: cannot read it as parquet ({first_line(exc)})"
            ) from None
        return values[:n], False


def _skipped(name: str, size: int, left: int) -> dict[str, Any]:
    return {
        "column": name,
        "bytes": size,
        "why": f"its chunk of the first row group is {size:,} bytes; what it needs did not fit "
        f"in the {left:,} bytes left of the cap",
    }


def _leaves(metadata: pq.FileMetaData, names: Sequence[str]) -> dict[str, list[int]]:
    """The leaf columns (indices in a row group) of each top-level column of `names`: those whose
    dotted path is the name or starts with it (the longest top-level name wins, for names with
    dots)."""
    top = metadata.schema.to_arrow_schema().names
    found: dict[str, list[int]] = {name: [] for name in names}
    for i in range(metadata.num_columns):
        path = metadata.schema.column(i).path
        owners = [t for t in top if path == t or path.startswith(t + ".")]
        owner = max(owners, key=len, default=None)
        if owner in found:
            found[owner].append(i)
    return found


# ---- text formats ------------------------------------------------------------------------------
def _text_preview(
    target: _Target, source: Source | None, n: int, wanted: list[str] | None, cap: int
) -> dict[str, Any]:
    reader = None if target.local else target.reader(source, cap)
    if reader is None:
        found = head(target.item.storage, target.item.file_key, target.format, n) or []
        complete = True
    else:
        found, complete = _remote_text(target, reader, n)
    records = [row if isinstance(row, dict) else {"value": row} for row in found]
    names = list(dict.fromkeys(name for row in records for name in row))
    chosen = _chosen(wanted, names, target.where) if records else list(wanted or ())
    decode = target.decode
    columns = []
    for name in chosen:
        type_name = python_type([row.get(name) for row in records])
        columns.append(
            {"name": name, "type": type_name, "kind": kind_of(name, type_name, decode, {})}
        )
    kinds = {c["name"]: c["kind"] for c in columns}
    rows = [{name: cell(row.get(name), kinds[name]) for name in chosen} for row in records]
    message = None
    if not complete and len(rows) < n:
        message = (
            f"stopped at the cap of {cap:,} bytes after {len(rows)} whole lines; raise max_bytes "
            "for more"
        )
    return _body(columns, rows, reader, message=message)


def _remote_text(target: _Target, reader: RangeReader, n: int) -> tuple[list[Any], bool]:
    """The first `n` rows from the start of the remote file, fetched in growing ranges, and
    whether the whole file was read."""
    data, step = b"", TEXT_STEP
    size, cap = reader.size, reader.cap or MAX_BYTES
    while True:
        data += reader.read(len(data), min(step, reader.left or 0, size - len(data)))
        text, complete, more = _decoded(target, data, len(data) == size, cap * INFLATE)
        rows = text_rows(io.StringIO(text), str(target.format), n, target.where, target.delimiter)
        if len(rows) >= n or complete or not more or not reader.left:
            return rows, complete
        step *= 2


def _decoded(target: _Target, data: bytes, whole: bool, limit: int) -> tuple[str, bool, bool]:
    """The whole lines of the start of a text file: (text, whether it is all of the file,
    whether more bytes would give more of it)."""
    out, ended = _inflate(target, data, limit)
    complete = whole and ended
    more = not whole and len(out) < limit
    if not complete:
        out = out[: out.rfind(b"\n") + 1]  # a cut line is never parsed
    try:
        return out.decode("utf-8"), complete, more
    except UnicodeDecodeError as exc:
        raise PygestorError(f"{target.where}: cannot read it as {target.format} ({exc})") from None


def _inflate(target: _Target, data: bytes, limit: int) -> tuple[bytes, bool]:
    """`data` decompressed as the file's name says (at most `limit` bytes), and whether its
    compressed stream ended (always True when not compressed)."""
    import bz2
    import lzma
    import zlib

    makers: dict[str, Any] = {
        "gzip": lambda: zlib.decompressobj(47),  # 32 + 15: a gzip or zlib header
        "bz2": bz2.BZ2Decompressor,
        "xz": lzma.LZMADecompressor,
    }
    if target.compression is None:
        return data, True
    make = makers.get(target.compression)
    if make is None:
        raise PygestorError(
            f"{target.where}: {target.compression}-compressed files are not previewed from the "
            "source; download the partition to read it"
        )
    out = bytearray()
    try:
        while data and len(out) < limit:  # one stream after another (concatenated gzip files)
            stream = make()
            out += stream.decompress(data, limit - len(out))
            if not stream.eof:
                return bytes(out), False
            data = stream.unused_data
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError) as exc:
        raise PygestorError(f"{target.where}: cannot decompress it ({exc})") from None
    return bytes(out), not data

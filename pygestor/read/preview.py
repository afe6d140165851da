"""A look at one stored file without reading it all: the parquet schema from its footer, and its
first rows (the first record batch of a parquet file, the first lines of a text format)."""

from __future__ import annotations

import io
import json
from typing import Any

from ..errors import PygestorError
from ..manifest.formats import detect
from ..storage.base import Storage
from .options import shown

TEXT_FORMATS = ("jsonl", "csv", "text")  # the formats previewed by their first lines


def schema(storage: Storage, key: str, fmt: str | None) -> list[dict[str, str]] | None:
    """Columns and types from a parquet footer (no data read); None for other formats."""
    if fmt != "parquet":
        return None
    import pyarrow.parquet as pq

    try:
        found = pq.read_schema(storage.open_arrow(key))
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several types for a damaged file)
        raise PygestorError(
            f"{shown(storage, key)}: cannot read its parquet footer ({exc}); "
            "check it with 'pygestor verify'"
        ) from None
    return [{"name": f.name, "type": str(f.type)} for f in found]


def head(storage: Storage, key: str, fmt: str | None, n: int) -> list[dict[str, Any]] | None:
    """The first `n` rows; None for formats not previewed (json documents)."""
    where = shown(storage, key)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            batch = next(pq.ParquetFile(storage.open_arrow(key)).iter_batches(batch_size=n), None)
        except Exception as exc:  # noqa: BLE001
            raise PygestorError(
                f"{where}: cannot read it as parquet ({exc}); check it with 'pygestor verify'"
            ) from None
        return [] if batch is None else list(batch.to_pylist())
    if fmt not in TEXT_FORMATS:
        return None
    try:
        with _open_text(storage, key) as fh:
            return text_rows(fh, fmt, n, where, detect(key).delimiter)
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise PygestorError(f"{where}: cannot read it as {fmt} ({exc})") from None


def text_rows(fh: Any, fmt: str, n: int, where: str, delimiter: str = ",") -> list[dict[str, Any]]:
    """The first `n` rows of a text file (`fmt`: one of TEXT_FORMATS) open as text: a local
    file, or the whole lines of the start of a remote one (`read.peek`)."""
    if fmt == "csv":
        import csv

        reader = csv.DictReader(fh, delimiter=delimiter)
        return [dict(row) for _, row in zip(range(n), reader, strict=False)]
    lines = _first_lines(fh, n)
    if fmt == "text":
        return [{"text": line} for line in lines]
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError as exc:
        raise PygestorError(f"{where}: not JSON lines ({exc})") from None


def _first_lines(fh: Any, n: int) -> list[str]:
    lines = []
    for line in fh:
        line = line.rstrip("\r\n")
        if line.strip():
            lines.append(line)
            if len(lines) == n:
                break
    return lines


def _open_text(storage: Storage, key: str) -> Any:
    """The file as text, decompressed by its name (`manifest.formats`)."""
    compression = detect(key).compression
    raw: Any = storage.open(key)
    if compression == "gzip":
        import gzip

        raw = gzip.open(raw)  # noqa: SIM115 (returned, wrapped: the caller closes it)
    elif compression == "bz2":
        import bz2

        raw = bz2.open(raw)  # noqa: SIM115
    elif compression == "xz":
        import lzma

        raw = lzma.open(raw)  # noqa: SIM115
    elif compression is not None:
        raw.close()
        raise OSError(f"{compression}-compressed files are not previewed")
    return io.TextIOWrapper(raw, encoding="utf-8", newline="")

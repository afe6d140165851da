"""The one table of file formats and compressions pygestor knows, by file name.

Every part that looks at a file name asks here: `add` (which files are data), the readers (how to
open one), `info` (how to preview one). Pure: names in, values out.

    extension            format     compression suffixes (after the format's extension)
    .parquet .pq         parquet    .gz .bz2 .zst .zstd .lz4 .xz
    .jsonl .ndjson       jsonl
    .json                json       (a compressed .json is JSON lines: c4's .json.gz files are)
    .csv .tsv            csv        (.tsv: tab-separated)
    .txt .text           text       (one row per line)
"""

from __future__ import annotations

from dataclasses import dataclass

FORMATS = ("parquet", "jsonl", "json", "csv", "text")

EXTENSIONS = {
    "parquet": "parquet", "pq": "parquet", "jsonl": "jsonl", "ndjson": "jsonl", "json": "json",
    "csv": "csv", "tsv": "csv", "txt": "text", "text": "text",
}  # fmt: skip

#: compression suffix -> codec name (pyarrow's names; `xz` is read with Python's lzma)
COMPRESSIONS = {"gz": "gzip", "bz2": "bz2", "zst": "zstd", "zstd": "zstd", "lz4": "lz4", "xz": "xz"}


@dataclass(frozen=True, slots=True)
class FileKind:
    """What a file name says about its content."""

    format: str | None  # one of FORMATS, None when the name names none
    extension: str  # the format's extension, lower case ("jsonl", "tsv"), "" when there is none
    suffix: str  # the compression suffix, lower case ("gz", "zst"), "" when not compressed

    @property
    def compression(self) -> str | None:
        """The codec (`gzip`, `bz2`, `zstd`, `lz4`, `xz`), None when not compressed."""
        return COMPRESSIONS.get(self.suffix)

    @property
    def delimiter(self) -> str:
        return "\t" if self.extension == "tsv" else ","

    def tail(self, name: str) -> str:
        """The end of `name` that these extensions take, as written (`.jsonl.GZ`)."""
        length = sum(len(part) + 1 for part in (self.extension, self.suffix) if part)
        return name[len(name) - length :] if length else ""


def detect(name: str, declared: str | None = None) -> FileKind:
    """The kind of the file called `name` (a path or a file name). `declared` (a manifest's
    `format:`) wins over the extension; without it a compressed `.json` is JSON lines.

    >>> detect("c4-en.00001.json.gz")
    FileKind(format='jsonl', extension='json', suffix='gz')
    """
    base = name.rsplit("/", 1)[-1].lower()
    stem, _, ext = base.rpartition(".")
    suffix = ""
    if stem and ext in COMPRESSIONS:
        suffix = ext
        stem, _, ext = stem.rpartition(".")
    if not stem:  # no extension, or a hidden name that is only one (".json")
        return FileKind(declared, "", suffix)
    fmt = EXTENSIONS.get(ext)
    if declared is not None:
        return FileKind(declared, ext if fmt else "", suffix)
    if fmt == "json" and suffix:
        fmt = "jsonl"
    return FileKind(fmt, ext if fmt else "", suffix)

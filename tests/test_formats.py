"""The one table of file formats (`pygestor.manifest.formats`): what `add`, the readers and `info`
agree on."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

import pytest

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.manifest.formats import FileKind, detect
from pygestor.scaffold.rules import file_format


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("train-00000-of-00041.parquet", FileKind("parquet", "parquet", "")),
        ("shard.pq", FileKind("parquet", "pq", "")),
        ("data/x.jsonl", FileKind("jsonl", "jsonl", "")),
        ("x.ndjson.zst", FileKind("jsonl", "ndjson", "zst")),
        (
            "c4-en.00001-of-01024.json.gz",
            FileKind("jsonl", "json", "gz"),
        ),  # c4: compressed json is JSON lines
        ("squad.json", FileKind("json", "json", "")),
        ("x.jsonl.xz", FileKind("jsonl", "jsonl", "xz")),
        ("a.TSV", FileKind("csv", "tsv", "")),
        ("wiki.train.txt.bz2", FileKind("text", "txt", "bz2")),
        ("archive.tar.gz", FileKind(None, "", "gz")),
        ("README", FileKind(None, "", "")),
        (".json", FileKind(None, "", "")),
    ],
)
def test_detect(name: str, kind: FileKind) -> None:
    assert detect(name) == kind


def test_declared_format_wins_and_compression_names_its_codec() -> None:
    assert detect("rows.data", "jsonl") == FileKind("jsonl", "", "")
    assert detect("x.json.zst", "json").format == "json"
    assert [
        detect(f"x.csv.{s}").compression for s in ("gz", "bz2", "zst", "zstd", "lz4", "xz")
    ] == ["gzip", "bz2", "zstd", "zstd", "lz4", "xz"]
    assert detect("x.tsv").delimiter == "\t" and detect("x.csv").delimiter == ","


def test_add_and_the_reader_agree_on_xz(tmp_path: Path) -> None:
    """`add` takes `.jsonl.xz` files as data; the reader must then read them (it once could not)."""
    assert file_format("data/train.jsonl.xz") == (detect("x.jsonl").format, ".jsonl.xz")
    rows = [{"id": i, "text": f"row {i}"} for i in range(5)]
    src = tmp_path / "src" / "train"
    src.mkdir(parents=True)
    (src / "part-0.jsonl.xz").write_bytes(
        lzma.compress("".join(json.dumps(r) + "\n" for r in rows).encode())
    )
    write_manifest(
        tmp_path / "user-catalog",
        "xz",
        f"name: xz\nsource: {{local: {tmp_path / 'src'}}}\n"
        'subsets:\n  - files: "{subset}/*.jsonl.xz"\n',
    )
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    assert catalog.load("xz", "train").to_dict("records") == rows
    assert [b.num_rows for b in catalog.stream("xz", "train", batch_size=2, output="arrow")] == [
        2,
        2,
        1,
    ]
    assert catalog.info("xz", "train", head=2)["head"] == rows[:2]

"""load / stream / scan and the Arrow copy: exact rows, every format, pushdown, states, errors."""

from __future__ import annotations

import bz2
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as pads
import pyarrow.parquet as pq
import pytest

import pygestor
from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import (
    DatasetNotFound,
    ManifestError,
    PygestorError,
    PygestorWarning,
    SelectionError,
    SourceError,
)
from pygestor.manifest.models import LoadOptions
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer

EN = "20231101.en"
ROWS = [
    {"id": 1, "name": "Ada", "score": 0.5},
    {"id": 2, "name": 'Grace, "Amazing"', "score": None},
    {"id": 3, "name": "Ünïcode ✓", "score": 2.25},
]


def _local_catalog(
    tmp_path: Path,
    files: dict[str, bytes],
    extra: str = "",
    rules: str = '  - files: "{subset}/*"',
    name: str = "local",
) -> Catalog:
    """A `local:` dataset (`name`) over `files`, written below tmp_path/src and read in place."""
    src = tmp_path / "src"
    for rel, data in files.items():
        path = src / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    write_manifest(
        tmp_path / "user-catalog",
        name,
        f"name: {name}\nsource: {{local: {src}}}\nsubsets:\n{rules}\n{extra}",
    )
    return Catalog(make_settings(tmp_path, include_builtin=False))


def _wikipedia_folder(tmp_path: Path) -> Catalog:
    """The wikipedia replica's files in a local folder, read in place with the built-in rules."""
    files = {p: d for p, d in replicas.wikipedia().files.items() if p.endswith(".parquet")}
    rules = '  - files: "{subset:[0-9]{8}\\\\.[A-Za-z0-9_-]+}/train-*.parquet"'
    return _local_catalog(
        tmp_path, files, "load:\n  columns: [id, url, title, text]\n", rules, "wikipedia"
    )


def _parquet_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.parquet"))


def _lines(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()


def _csv(rows: list[dict[str, Any]], sep: str = ",") -> bytes:
    out = [sep.join(rows[0])]
    for r in rows:
        cells = ["" if v is None else str(v) for v in r.values()]
        out.append(
            sep.join(
                f'"{c.replace(chr(34), chr(34) * 2)}"' if sep in c or '"' in c else c for c in cells
            )
        )
    return ("\n".join(out) + "\n").encode()


# ---- through the offline Hub: download, then load -----------------------------------------
def test_load_downloads_and_equals_read_table_row_for_row(catalog: Catalog) -> None:
    frame = catalog.load("wikipedia", EN)  # never synced, nothing local: sync + download + one scan
    files = _parquet_files(catalog.settings.data_dir / "wikipedia" / EN)
    assert len(files) == 41
    expected = pa.concat_tables([pq.read_table(f) for f in files])
    assert frame.equals(expected.to_pandas())
    assert list(frame.columns) == ["id", "url", "title", "text"]  # the manifest's load.columns
    table = catalog.load("wikipedia", EN, output="arrow")
    assert table.equals(expected) and table.num_rows == 123
    assert {p["state"] for p in catalog.partition_records("wikipedia", EN)} == {"local"}


def test_download_false_reads_local_and_warns_about_skipped_and_stale(catalog: Catalog) -> None:
    catalog.sync("wikipedia")
    names = [f"train-0000{i}-of-00041.parquet" for i in (0, 1)]
    catalog.download("wikipedia", EN, partitions=names)
    with pytest.warns(
        PygestorWarning,
        match=r"wikipedia/20231101.en: 39 of 41 partitions are not local and "
        r"were skipped \(20231101.en/train-00002-of-00041.parquet, ",
    ):
        frame = catalog.load("wikipedia", EN, download=False)
    folder = catalog.settings.data_dir / "wikipedia" / EN
    assert frame.equals(pq.read_table([folder / n for n in names]).to_pandas())
    store = catalog.store
    rec = store.record("wikipedia", EN, names[0])
    assert rec is not None
    store.put_record("wikipedia", EN, names[0], replace(rec, sha256="0" * 64))  # upstream moved on
    with pytest.warns(PygestorWarning) as record:
        catalog.load("wikipedia", EN, partitions=names, download=False)
    caught = [w for w in record if issubclass(w.category, PygestorWarning)]
    assert [str(w.message) for w in caught] == [
        (
            "wikipedia/20231101.en: 1 partitions changed upstream since they were downloaded and "
            "are read as "
            "they are on disk (20231101.en/train-00000-of-00041.parquet); update them with "
            "Catalog.download('wikipedia', ..., update=True)"
        )
    ]
    assert caught[0].filename == __file__  # the warning points at the caller, not into pygestor


def test_download_false_with_nothing_local_is_an_error(catalog: Catalog) -> None:
    with pytest.raises(
        SelectionError,
        match=r"^no partition of wikipedia/20231101.ab is local \(1 not "
        r"downloaded\); load with download=True",
    ):
        catalog.load("wikipedia", "20231101.ab", download=False)


def test_image_decode_of_mnist_bytes_to_pil(catalog: Catalog) -> None:
    image_module = pytest.importorskip("PIL.Image")
    frame = catalog.load("mnist", "train", decode={"image": "image"})
    assert list(frame["label"]) == [5, 0, 4, 1, 9, 2]
    first = frame["image"][0]
    assert isinstance(first, image_module.Image) and first.size == (28, 28) and first.mode == "L"
    raw = catalog.load("mnist", "train", output="arrow")  # arrow output keeps the stored struct
    assert raw.schema.field("image").type == pa.struct(
        [("bytes", pa.binary()), ("path", pa.string())]
    )


def test_image_decode_without_pillow_says_how_to_install(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(
        PygestorError,
        match=r"^decode: column 'image' is decoded as images, which needs "
        r"Pillow; install it with: pip install 'pygestor\[image\]'$",
    ):
        catalog.load("mnist", "test", decode={"image": "image"})


def test_offline_load_in_a_subprocess_without_a_server(catalog: Catalog, tmp_path: Path) -> None:
    catalog.download("wikipedia", "20231101.ab")
    code = (
        "import pygestor, warnings; warnings.simplefilter('error')\n"
        "a = pygestor.load('wikipedia', '20231101.ab'); b = pygestor.load('wikipedia', "
        "'20231101.ab')\n"
        "c = pygestor.load_dataset('wikipedia', '20231101.ab', columns=['title'])\n"
        "print(len(a), a.equals(b), list(c.columns), sum(len(x) for x in pygestor.stream_dataset("
        "'wikipedia', '20231101.ab')))"
    )
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_ENDPOINT": "http://127.0.0.1:9",
        "PYGESTOR_DATA_DIR": str(catalog.settings.data_dir),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3", "True", "['title']", "3"]


def test_unknown_subset_and_missing_subset_errors(catalog: Catalog) -> None:
    with pytest.raises(DatasetNotFound, match=r"dataset 'wikipedia' has no subset '20231101.de'"):
        catalog.load("wikipedia", "20231101.de")
    with pytest.raises(
        SelectionError, match=r"dataset 'wikipedia' has 3 subsets; choose one with subset="
    ):
        catalog.load("wikipedia")


# ---- a local folder: pushdown, stream, scan, errors ----------------------------------------
def test_columns_and_filters_are_pushed_down(tmp_path: Path) -> None:
    catalog = _wikipedia_folder(tmp_path)
    files = _parquet_files(tmp_path / "src" / EN)
    full = pq.read_table(files)
    tuples = catalog.load(
        "wikipedia",
        EN,
        columns=["title", "id"],
        filters=[("title", "in", ["Albedo", "Altruism"])],
        output="arrow",
    )
    assert tuples.to_pylist() == [
        {"title": "Albedo", "id": "53"},
        {"title": "Altruism", "id": "156"},
    ]
    expression = pc.field("url").cast(pa.string()).isin(full.column("url").to_pylist()[:5]) & (
        pc.field("id") != "53"
    )
    frame = catalog.load("wikipedia", EN, columns=["id"], filters=expression)
    assert frame["id"].tolist() == [r["id"] for r in full.to_pylist()[:5] if r["id"] != "53"]
    by_partition = catalog.load(
        "wikipedia", EN, partitions=["train-00040-of-00041.parquet"], output="arrow"
    )
    assert (
        by_partition.to_pylist()
        == pq.read_table(files[-1], columns=["id", "url", "title", "text"]).to_pylist()
    )


def test_column_and_filter_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    catalog = _wikipedia_folder(tmp_path)
    with pytest.raises(
        SelectionError,
        match=r"^columns: no column 'titel' in wikipedia/20231101.en; did you mean "
        r"'title'\? available: id, url, title, text$",
    ):
        catalog.load("wikipedia", EN, columns=["titel"])
    with pytest.raises(
        SelectionError,
        match=r"^filters: no column 'lang' in wikipedia/20231101.en; available: "
        r"id, url, title, text$",
    ):
        catalog.load("wikipedia", EN, filters=pc.field("lang") == "en")
    with pytest.raises(SelectionError, match=r"^filters: .*not a valid operator"):
        catalog.load("wikipedia", EN, filters=[("id", "~", "1")])
    with pytest.raises(SelectionError, match=r"^output must be 'pandas' or 'arrow', not 'polars'$"):
        catalog.load("wikipedia", EN, output="polars")  # type: ignore[arg-type]
    with pytest.raises(
        SelectionError,
        match=r"^columns must be a list of column names, e.g. \['id'\], or 'all' for every column$",
    ):
        catalog.load("wikipedia", EN, columns="id")
    with pytest.raises(
        SelectionError, match=r"^batch_size must be a positive number of rows, not 0$"
    ):
        catalog.stream("wikipedia", EN, batch_size=0)


def test_a_wrong_manifest_column_names_the_manifest(tmp_path: Path) -> None:
    catalog = _local_catalog(
        tmp_path, {"all/a.jsonl": _lines(ROWS)}, "load:\n  columns: [id, nmae]\n"
    )
    with pytest.raises(
        SelectionError,
        match=r"^load.columns of the manifest: no column 'nmae' in local/all; "
        r"did you mean 'name'\? available: id, name, score$",
    ):
        catalog.load("local", "all")


def test_stream_yields_every_row_once_in_order_in_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _wikipedia_folder(tmp_path)
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))  # for pygestor.stream
    expected = catalog.load("wikipedia", EN)
    frames = list(catalog.stream("wikipedia", EN, batch_size=10))
    assert [len(f) for f in frames] == [10] * 12 + [3]
    assert pd.concat(frames, ignore_index=True).equals(expected)
    batches = list(
        pygestor.stream(
            "wikipedia",
            EN,
            batch_size=7,
            output="arrow",
            columns=["id"],
            filters=pc.field("title") != "Albedo",
            data_dir=tmp_path / "data",
        )
    )
    assert all(isinstance(b, pa.RecordBatch) and 0 < b.num_rows <= 7 for b in batches)
    assert sum(b.num_rows for b in batches) == 122
    assert pa.Table.from_batches(batches).column("id").to_pylist() == [
        i for i in expected["id"] if i != "53"
    ]


def test_stream_checks_arguments_before_the_first_batch(tmp_path: Path) -> None:
    catalog = _wikipedia_folder(tmp_path)
    with pytest.raises(SelectionError, match=r"no column 'nope'"):
        catalog.stream("wikipedia", EN, columns=["nope"])  # raised by the call, not by next()


def test_scan_of_1000_partitions_is_fast_and_reads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))  # for pygestor.scan
    files = {
        f"big/part-{i:04d}.parquet": replicas.parquet_bytes(pa.table({"i": [i, i]}))
        for i in range(1000)
    }
    catalog = _local_catalog(tmp_path, files)
    catalog.sync("local")
    timings = []
    for _ in range(5):
        start = time.perf_counter()
        dataset = pygestor.scan("local", "big", data_dir=tmp_path / "data")
        timings.append(time.perf_counter() - start)
    assert isinstance(dataset, pads.FileSystemDataset) and len(dataset.files) == 1000
    assert (
        statistics.median(timings) < 0.25
    )  # ~15-30 ms here (target 50 ms); loose for slow CI machines
    assert dataset.to_table(filter=pc.field("i") >= 998).column("i").to_pylist() == [
        998,
        998,
        999,
        999,
    ]


# ---- formats ------------------------------------------------------------------------------
def _format_files() -> dict[str, bytes]:
    lines = _lines(ROWS)
    document = json.dumps(ROWS).encode()
    return {
        "parquet/x.parquet": replicas.parquet_bytes(pa.Table.from_pylist(ROWS)),
        "jsonl/x.jsonl": lines,
        "jsongz/c4-train.00000-of-00002.json.gz": gzip.compress(lines[: lines.index(b"\n") + 1]),
        "jsongz/c4-train.00001-of-00002.json.gz": gzip.compress(lines[lines.index(b"\n") + 1 :]),
        "jsonlgz/x.jsonl.gz": gzip.compress(lines),
        "jsonlbz2/x.jsonl.bz2": bz2.compress(lines),
        "jsonlzst/x.jsonl.zst": _zstd(lines),
        "jsonlines/x.json": lines,  # `.json` holding JSON lines (dolly): sniffed
        "document/x.json": document,
        "wrapped/x.json": json.dumps({"version": "1.0", "data": ROWS}, indent=2).encode(),
        "csv/x.csv": _csv(ROWS),
        "csvgz/x.csv.gz": gzip.compress(_csv(ROWS)),
        "tsv/x.tsv": _csv(ROWS, "\t"),
    }


def _zstd(data: bytes) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.CompressedOutputStream(sink, "zstd") as out:
        out.write(data)
    return sink.getvalue().to_pybytes()


@pytest.fixture
def formats(tmp_path: Path) -> Catalog:
    return _local_catalog(tmp_path, _format_files())


@pytest.mark.parametrize(
    "subset",
    [
        "parquet",
        "jsonl",
        "jsongz",
        "jsonlgz",
        "jsonlbz2",
        "jsonlzst",
        "jsonlines",
        "document",
        "wrapped",
        "csv",
        "csvgz",
        "tsv",
    ],
)
def test_every_format_gives_the_same_rows(formats: Catalog, subset: str) -> None:
    table = formats.load("local", subset, output="arrow")
    assert table.to_pylist() == ROWS
    assert table.schema.types == [pa.int64(), pa.string(), pa.float64()]
    batches = list(formats.stream("local", subset, batch_size=2, output="arrow"))
    assert [b.num_rows for b in batches] == [2, 1] and pa.Table.from_batches(
        batches
    ).to_pylist() == ROWS


def test_scan_reads_lazily_where_pyarrow_can_and_in_memory_otherwise(formats: Catalog) -> None:
    assert isinstance(formats.arrow_dataset("local", "jsongz"), pads.FileSystemDataset)
    assert isinstance(formats.arrow_dataset("local", "csv"), pads.FileSystemDataset)
    zst = formats.arrow_dataset("local", "jsonlzst")
    assert isinstance(zst, pads.InMemoryDataset) and zst.to_table().to_pylist() == ROWS


def test_text_is_one_row_per_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = 'first line\r\n\nthird, with "quotes" and a \x1f\ttab\nlast without newline'
    files = {
        "text/a.txt": text.encode(),
        "text/b.txt.gz": gzip.compress(b"gz 1\ngz 2\n"),
        "text/c.txt": b"",
    }
    catalog = _local_catalog(tmp_path, files)
    expected = [
        "first line",
        "",
        'third, with "quotes" and a \x1f\ttab',
        "last without newline",
        "gz 1",
        "gz 2",
    ]
    assert catalog.load("local", "text")["text"].tolist() == expected
    monkeypatch.setattr(
        sys.modules["pygestor.read.files"], "TEXT_CHUNK", 5
    )  # lines cut across read chunks
    assert catalog.load("local", "text", output="arrow").column("text").to_pylist() == expected
    assert [len(f) for f in catalog.stream("local", "text", batch_size=4)] == [4, 2]


def test_json_documents_with_several_lists_need_json_field(tmp_path: Path) -> None:
    document = json.dumps({"train": ROWS, "test": ROWS[:1]}, indent=1).encode()
    catalog = _local_catalog(tmp_path, {"doc/x.json": document})
    with pytest.raises(
        SourceError,
        match=r"2 top-level keys hold lists \(train, test\); name the one holding "
        r"the records with load.json_field in the manifest$",
    ):
        catalog.load("local", "doc")
    catalog = _local_catalog(tmp_path, {}, "load:\n  json_field: test\n")
    assert catalog.load("local", "doc", output="arrow").to_pylist() == ROWS[:1]


def test_mixed_formats_in_one_subset_keep_partition_order(tmp_path: Path) -> None:
    files = {
        "mix/a.parquet": replicas.parquet_bytes(pa.Table.from_pylist(ROWS[:1])),
        "mix/b.jsonl": _lines(ROWS[1:2]),
        "mix/c.parquet": replicas.parquet_bytes(pa.Table.from_pylist(ROWS[2:])),
    }
    catalog = _local_catalog(tmp_path, files)
    assert catalog.load("local", "mix", output="arrow").to_pylist() == ROWS
    assert (
        pa.Table.from_batches(list(catalog.stream("local", "mix", output="arrow"))).to_pylist()
        == ROWS
    )


def test_an_unknown_extension_asks_for_a_format(tmp_path: Path) -> None:
    catalog = _local_catalog(tmp_path, {"odd/x.dat": b"1,2\n"})
    with pytest.raises(
        SelectionError, match=r"cannot tell the format of odd/x.dat from its name; set format:"
    ):
        catalog.load("local", "odd")
    catalog = _local_catalog(tmp_path, {}, "format: csv\n")
    catalog.sync("local")  # formats are recorded in the listing: a changed format needs a sync
    assert catalog.load("local", "odd", output="arrow").column_names == ["1", "2"]


# ---- LoadOptions: dtypes, schema ---------------------------------------------------------
def test_dtypes_category_and_casts(tmp_path: Path) -> None:
    rows = [{"label": x, "n": i} for i, x in enumerate("abab")]
    catalog = _local_catalog(
        tmp_path, {"d/x.jsonl": _lines(rows)}, "load:\n  dtypes: {label: category, n: int8}\n"
    )
    frame = catalog.load("local", "d")
    assert isinstance(frame["label"].dtype, pd.CategoricalDtype)
    assert list(frame["label"].cat.categories) == ["a", "b"] and frame["label"].tolist() == list(
        "abab"
    )
    assert frame["n"].dtype == "int8"
    table = catalog.load("local", "d", output="arrow")
    assert pa.types.is_dictionary(table.schema.field("label").type)
    assert (
        catalog.load("local", "d", dtypes={"n": "float32"})["n"].dtype == "float32"
    )  # per-call override
    streamed = next(iter(catalog.stream("local", "d")))
    assert isinstance(streamed["label"].dtype, pd.CategoricalDtype)
    with pytest.raises(
        SelectionError, match=r"^dtypes: cannot convert column 'label' \(string\) to int32: "
    ):
        catalog.load("local", "d", dtypes={"label": "int32"})


def test_column_types_give_csv_and_json_reading_types(tmp_path: Path) -> None:
    csv = b"zip,city\n00501,Holtsville\n07001,Avenel\n"
    late = _lines([{"id": 1, "extra": None}]) + _lines([{"id": 2, "extra": "x"}])
    files = {
        "zips/z.csv": csv,
        "late/a.jsonl": _lines([{"id": 1, "extra": None}]),
        "late/b.jsonl": late,
    }
    inferred = _local_catalog(tmp_path, files)
    assert inferred.load("local", "zips")["zip"].tolist() == [501, 7001]
    with pytest.raises(
        SourceError, match=r"give the column types in load.column_types of the manifest$"
    ):
        inferred.load("local", "late")  # the first file's `extra` is all null
    typed = _local_catalog(tmp_path, {}, "load:\n  column_types: {zip: string, extra: string}\n")
    assert typed.load("local", "zips")["zip"].tolist() == ["00501", "07001"]
    assert typed.load("local", "late", output="arrow").column("extra").to_pylist() == [
        None,
        None,
        "x",
    ]


def test_load_options_type_names_match_pyarrow(tmp_path: Path) -> None:
    for name in LoadOptions.type_names():
        pa.type_for_alias(name)
    write_manifest(
        tmp_path / "user-catalog",
        "bad",
        "name: bad\nsource: {local: /tmp}\nsubsets:\n"
        '  - {files: "*.csv", name: all}\nload:\n  dtypes: {n: int}\n  decode: {x: pdf}\n',
    )
    with pytest.raises(ManifestError) as caught:
        Catalog(make_settings(tmp_path, include_builtin=False)).manifest("bad")
    message = str(caught.value)
    assert "load.dtypes: n: 'int' is not a type name; did you mean 'int8'?" in message
    assert "load.decode.x" in message


# ---- the Arrow copy ------------------------------------------------------------------------
def test_arrow_copy_round_trip_memory_mapped(tmp_path: Path) -> None:
    catalog = _wikipedia_folder(tmp_path)
    expected = catalog.load("wikipedia", EN, output="arrow")
    assert {s["subset"]: s["arrow_copy_bytes"] for s in catalog.subset_records("wikipedia")}[
        EN
    ] is None
    copy = catalog.build_arrow_copy("wikipedia", EN)
    assert copy.path == catalog.store.arrow_copy_path("wikipedia", EN) and (
        copy.rows,
        copy.partitions,
    ) == (123, 41)
    assert (
        {s["subset"]: s["arrow_copy_bytes"] for s in catalog.subset_records("wikipedia")}[EN]
        == copy.bytes
        > 0
    )
    assert list(copy.path.parent.iterdir()) == [copy.path]  # no temporary file left behind
    before = pa.total_allocated_bytes()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = catalog.load("wikipedia", EN, output="arrow")
    assert pa.total_allocated_bytes() - before < 10_000  # memory-mapped, not read into memory
    assert table.equals(expected) and table.schema.metadata == expected.schema.metadata
    assert catalog.load("wikipedia", EN).equals(expected.to_pandas())
    picked = catalog.load(
        "wikipedia", EN, columns=["title"], filters=pc.field("id") == "53", output="arrow"
    )
    assert picked.to_pylist() == [{"title": "Albedo"}]


def test_an_out_of_date_arrow_copy_is_ignored_with_a_warning(tmp_path: Path) -> None:
    catalog = _wikipedia_folder(tmp_path)
    catalog.build_arrow_copy("wikipedia", EN)
    shard = tmp_path / "src" / EN / "train-00003-of-00041.parquet"
    pq.write_table(pq.read_table(shard).slice(0, 1), shard)  # changed in place after the copy
    with pytest.warns(
        PygestorWarning,
        match=r"the Arrow copy was built from other partitions than those local now",
    ):
        table = catalog.load("wikipedia", EN, output="arrow")
    assert table.num_rows == 121
    assert catalog.drop_arrow_copy("wikipedia", EN) is True
    assert catalog.drop_arrow_copy("wikipedia", EN) is False
    assert catalog.subset_records("wikipedia")[1]["arrow_copy_bytes"] is None


def test_arrow_copy_of_a_downloaded_subset_through_the_package_functions(catalog: Catalog) -> None:
    catalog.download("wikipedia", "20231101.fr")
    copy = catalog.build_arrow_copy("wikipedia", "20231101.fr")
    frame = pygestor.load("wikipedia", "20231101.fr", data_dir=catalog.settings.data_dir)
    files = _parquet_files(catalog.settings.data_dir / "wikipedia" / "20231101.fr")
    assert frame.equals(pq.read_table(files).to_pandas()) and copy.rows == len(frame) == 3


def test_builtin_json_lines_manifests_load_what_they_download(
    tmp_path: Path, hub: HubServer
) -> None:
    rows = [
        {
            "text": f"page {i}",
            "timestamp": "2019-04-25T12:57:54Z",
            "url": f"https://example.com/{i}",
        }
        for i in range(5)
    ]
    hub.hub.create_repo(
        "allenai/c4",
        {  # the real c4 layout: gzipped JSON lines named .json.gz
            "en/c4-validation.00000-of-00002.json.gz": replicas.jsonl_bytes(rows[:3], gzipped=True),
            "en/c4-validation.00001-of-00002.json.gz": replicas.jsonl_bytes(rows[3:], gzipped=True),
        },
    )
    replicas.install(hub.hub, replicas.databricks_dolly())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    c4 = catalog.load("c4", "en.validation", output="arrow")
    assert c4.schema.field("timestamp").type == pa.timestamp(
        "s"
    )  # pyarrow's JSON reader infers ISO times
    assert c4.to_pylist() == [{**r, "timestamp": datetime(2019, 4, 25, 12, 57, 54)} for r in rows]
    dolly = catalog.load("dolly", "train")
    source = hub.hub.read("databricks/databricks-dolly-15k", "databricks-dolly-15k.jsonl")
    columns = ["instruction", "context", "response", "category"]
    assert dolly.to_dict("records") == [
        {c: json.loads(line)[c] for c in columns} for line in source.splitlines()
    ]


def _wide_row_groups(files: int, groups: int, rows: int, width: int) -> dict[str, bytes]:
    """Parquet files of `groups` row groups of `rows` rows, one `width`-byte value per row
    (uncompressed, so each row group decodes to rows * width bytes)."""
    import io

    out = {}
    for f in range(files):
        values = [bytes([65 + (f * groups * rows + i) % 26]) * width for i in range(groups * rows)]
        table = pa.table({"n": list(range(groups * rows)), "blob": pa.array(values, pa.binary())})
        sink = io.BytesIO()
        pq.write_table(table, sink, row_group_size=rows, compression="none", use_dictionary=False)
        out[f"wide/part-{f}.parquet"] = sink.getvalue()
    return out


def _stream_peaks(tmp_path: Path) -> list[tuple[list[int], int]]:
    """Batch sizes and the most the read pool held above its level at the start, for the three
    streams of the test below (run in a fresh interpreter by it)."""
    from pygestor.read.options import memory_pool

    catalog = _local_catalog(tmp_path, _wide_row_groups(10, 6, 64, 20_000))
    pool = memory_pool()

    def peak(stream: Any, step: float = 0.0) -> tuple[list[int], int]:
        sizes, most, before = [], 0, pool.bytes_allocated()
        for batch in stream:
            sizes.append(len(batch))
            time.sleep(step)  # a training step: the reader must not run ahead meanwhile
            most = max(most, pool.bytes_allocated() - before)
            del batch  # the caller keeps only the batch in hand
        return sizes, most

    return [
        peak(catalog.stream("local", "wide", batch_size=10**6, output="arrow")),
        peak(catalog.stream("local", "wide", batch_size=30, output="arrow", prefetch=0)),
        peak(catalog.stream("local", "wide", batch_size=100)),
        peak(catalog.stream("local", "wide", batch_size=10**6, output="arrow"), step=0.01),
    ]


def test_stream_memory_is_bounded_by_the_batch_and_the_read_ahead_not_the_files(
    tmp_path: Path,
) -> None:
    """10 files x 6 row groups of 1.25 MiB (75 MiB decoded). Arrow batches are the row groups as
    read (zero copy; batch_size is a maximum), pandas ones exactly batch_size rows, and at every
    batch the read pool holds at most the batch in hand, the read-ahead (2 by default) and the
    row group being decoded, never the data: concatenating the batches into one table (or into
    batch_size-row copies) fails this test, and so does a reader that runs ahead while the
    consumer is busy (pyarrow's scanner held 30 of the 60 row groups with a 10 ms step). The
    pool is measured in a fresh interpreter: in the suite's process, threads and garbage left by
    earlier tests move the process-wide pool's count while the stream runs."""
    script = (
        "import json, sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]); "
        "from test_load import _stream_peaks; print(json.dumps(_stream_peaks(Path(sys.argv[2]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    ).stdout
    (arrow, arrow_cut, frames, slow) = json.loads(out.splitlines()[-1])
    group = 64 * 20_000
    bound = 6 * group  # of 60: in hand, 2 ahead, 1 decoding (+ a frame's second row group)
    sizes, most = arrow
    assert sizes == [64] * 60  # one batch per row group, none joined (each is >= 1 MiB)
    assert most <= bound, f"{most:,} B in the read pool at one batch ({group:,} B each)"
    sizes, most = arrow_cut
    assert sizes == [30, 30, 4] * 60  # cut within a row group, never across one
    assert most <= bound, f"{most:,} B in the read pool at one batch ({group:,} B each)"
    sizes, most = frames
    assert sizes == [100] * 38 + [40]  # pandas: exact batch_size rows across row groups and files
    assert most <= bound, f"{most:,} B in the read pool at one frame ({group:,} B each)"
    sizes, most = slow
    assert sizes == [64] * 60
    assert most <= bound, f"{most:,} B in the read pool with a slow consumer ({group:,} B each)"
    catalog = _local_catalog(tmp_path, {})  # the same manifest and files, in this process
    frames_n = list(catalog.stream("local", "wide", batch_size=100, columns=["n"], prefetch=1))
    assert pd.concat(frames_n, ignore_index=True)["n"].tolist() == list(range(384)) * 10


def test_stream_joins_only_small_read_batches(tmp_path: Path) -> None:
    """Row groups of a few bytes are joined up to batch_size rows (one small copy each), so a
    subset of many tiny files does not stream as many tiny batches."""
    catalog = _local_catalog(tmp_path, _wide_row_groups(5, 3, 4, 8))
    batches = list(catalog.stream("local", "wide", batch_size=25, output="arrow"))
    assert [b.num_rows for b in batches] == [25, 25, 10]
    assert pa.Table.from_batches(batches).column("n").to_pylist() == list(range(12)) * 5
    with pytest.raises(
        SelectionError,
        match=r"^prefetch must be a number of batches to read ahead \(0 or more\), not -1$",
    ):
        catalog.stream("local", "wide", prefetch=-1)

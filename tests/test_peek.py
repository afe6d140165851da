"""Schema and preview of one partition without downloading it (`pygestor.read.peek`): local files
read in place, remote ones by bounded HTTP ranges under a byte cap, checked against the offline
Hub's request log."""

from __future__ import annotations

import base64
import datetime
import decimal
import gzip
import io
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import make_settings, write_corpus_manifest, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import NotSynced, PartitionNotFound, PygestorError, SelectionError
from pygestor.read.cells import cell, feature_kinds, json_safe, kind_of, sniff
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer

KIB = 1024
EN = "20231101.en"
EN_FIRST = "20231101.en/train-00000-of-00041.parquet"


def _catalog(tmp_path: Path, hub: HubServer, *builds: replicas.Replica) -> Catalog:
    for replica in builds:
        replicas.install(hub.hub, replica)
    return Catalog(make_settings(tmp_path, hub.endpoint))


def _rows_of(data: bytes, n: int | None = None) -> list[dict[str, object]]:
    table = pq.read_table(io.BytesIO(data))
    return table.slice(0, n).to_pylist() if n is not None else table.to_pylist()


def _ranged_only(hub: HubServer) -> int:
    """Bytes the Hub sent since its log was cleared, after checking every request was a GET with
    a bounded `Range`."""
    served = list(hub.requests)
    assert served, "nothing was requested"
    assert all(r.method == "GET" and r.range and r.range.startswith("bytes=") for r in served)
    assert all("-" in r.range and not r.range.endswith("-") for r in served if r.range)
    return sum(r.bytes_sent for r in served)


# ---- text and values: wikipedia ---------------------------------------------------------------
def test_remote_preview_gives_the_exact_rows_by_ranges_then_the_local_file_the_same(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    catalog.sync("wikipedia")
    hub.requests.clear()
    remote = catalog.preview("wikipedia", EN, rows=2)
    expected = _rows_of(hub.hub.read("wikimedia/wikipedia", EN_FIRST), 2)
    assert expected[0]["title"] == "Anarchism"
    assert remote["rows"] == expected
    assert {k: remote[k] for k in ("dataset", "subset", "partition", "location", "format")} == {
        "dataset": "wikipedia",
        "subset": EN,
        "partition": "train-00000-of-00041.parquet",
        "location": "remote",
        "format": "parquet",
    }
    assert remote["columns"] == [
        {"name": n, "type": "string", "kind": "text"} for n in ("id", "url", "title", "text")
    ]
    assert (remote["capped"], remote["skipped"], remote["message"]) == (False, [], None)
    assert remote["bytes_fetched"] == _ranged_only(hub)
    assert not (tmp_path / "data" / "wikipedia" / EN).exists()  # nothing was downloaded

    catalog.download("wikipedia", EN, partitions=["train-00000-of-00041.parquet"])
    hub.requests.clear()
    local = catalog.preview("wikipedia", EN, rows=2)
    assert list(hub.requests) == []
    assert (local["location"], local["bytes_fetched"]) == ("local", 0)
    assert {**local, "location": "remote", "bytes_fetched": remote["bytes_fetched"]} == remote


def test_the_first_local_partition_is_chosen_unless_one_is_named(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    catalog.sync("wikipedia")
    third = "train-00002-of-00041.parquet"
    catalog.download("wikipedia", EN, partitions=[third])
    assert catalog.preview("wikipedia", EN)["partition"] == third
    assert catalog.schema("wikipedia", EN)["location"] == "local"
    named = catalog.preview("wikipedia", EN, "train-00005-of-00041.parquet", rows=1)
    assert (named["partition"], named["location"]) == ("train-00005-of-00041.parquet", "remote")
    data = hub.hub.read("wikimedia/wikipedia", f"{EN}/train-00005-of-00041.parquet")
    assert named["rows"] == _rows_of(data, 1)


def test_schema_of_a_remote_partition_costs_its_footer_only(tmp_path: Path, hub: HubServer) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    catalog.sync("wikipedia")
    hub.requests.clear()
    found = catalog.schema("wikipedia", EN, "train-00001-of-00041.parquet")
    assert found == {
        "dataset": "wikipedia",
        "subset": EN,
        "partition": "train-00001-of-00041.parquet",
        "location": "remote",
        "format": "parquet",
        "columns": [
            {"name": n, "type": "string", "kind": "text"} for n in ("id", "url", "title", "text")
        ],
        "num_rows": 3,
        "row_groups": 1,
        "bytes_fetched": found["bytes_fetched"],
    }
    size = len(hub.hub.read("wikimedia/wikipedia", f"{EN}/train-00001-of-00041.parquet"))
    assert found["bytes_fetched"] == _ranged_only(hub) == size  # a small file: its tail is all
    json.dumps(found)


def test_columns_are_projected_and_checked(tmp_path: Path, hub: HubServer) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    catalog.sync("wikipedia")
    got = catalog.preview("wikipedia", EN, rows=3, columns=["title", "id"])
    assert [c["name"] for c in got["columns"]] == ["title", "id"]
    expected = _rows_of(hub.hub.read("wikimedia/wikipedia", EN_FIRST))
    assert got["rows"] == [{"title": r["title"], "id": r["id"]} for r in expected]
    with pytest.raises(SelectionError) as bad:
        catalog.preview("wikipedia", EN, columns=["titel"])
    assert str(bad.value) == (
        f"columns: no column 'titel' in wikipedia/{EN}/train-00000-of-00041.parquet; "
        "did you mean 'title'? available: id, url, title, text"
    )
    with pytest.raises(SelectionError, match=r"^columns='title': give a list of column names"):
        catalog.preview("wikipedia", EN, columns="title")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"rows": 0}, "rows=0: give a number of rows from 1 to 1000"),
        ({"rows": 1001}, "rows=1001: give a number of rows from 1 to 1000"),
        ({"rows": "5"}, "rows='5': give a number of rows from 1 to 1000"),
        (
            {"max_bytes": 1000},
            "max_bytes=1000: give a number of bytes from 65536 (64 KiB) to 67108864 (64 MiB)",
        ),
        (
            {"max_bytes": 2**27},
            "max_bytes=134217728: give a number of bytes from 65536 (64 KiB) to 67108864 (64 MiB)",
        ),
        ({"columns": []}, "columns=[]: give at least one column name, or None for all of them"),
    ],
)
def test_bad_arguments_are_one_line_naming_the_argument(
    tmp_path: Path, hub: HubServer, arguments: dict[str, object], message: str
) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    catalog.sync("wikipedia")
    hub.requests.clear()
    with pytest.raises(SelectionError) as bad:
        catalog.preview("wikipedia", EN, **arguments)  # type: ignore[arg-type]
    assert str(bad.value) == message
    assert list(hub.requests) == []


def test_unknown_partition_subset_and_unsynced_dataset(tmp_path: Path, hub: HubServer) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wikipedia())
    with pytest.raises(NotSynced, match="run 'pygestor sync wikipedia'"):
        catalog.preview("wikipedia", EN)
    catalog.sync("wikipedia")
    with pytest.raises(PartitionNotFound) as missing:
        catalog.schema("wikipedia", "20231101.ab", "train-00009-of-00041.parquet")
    assert str(missing.value) == (
        "no partition 'train-00009-of-00041.parquet' in the chosen subsets of 'wikipedia'; "
        "did you mean 'train-00000-of-00001.parquet'?"
    )
    with pytest.raises(SelectionError, match="has 3 subsets; choose one with subset="):
        catalog.preview("wikipedia")
    with pytest.raises(SelectionError, match=r"^subset=\['a', 'b'\]: give one subset name$"):
        catalog.preview("wikipedia", ["a", "b"])  # type: ignore[arg-type]


# ---- images: wit_base, and one whose first row group does not fit the cap ----------------------
def test_wit_base_images_come_as_media_with_their_mime_type(tmp_path: Path, hub: HubServer) -> None:
    catalog = _catalog(tmp_path, hub, replicas.wit_base(shards=3))
    catalog.sync("wit_base")
    hub.requests.clear()
    got = catalog.preview("wit_base", rows=2)
    expected = _rows_of(hub.hub.read("wikimedia/wit_base", "data/train-00000-of-00003.parquet"))
    kinds = {c["name"]: c["kind"] for c in got["columns"]}
    assert kinds["image"] == "image"  # from the file's Hugging Face features
    assert (kinds["image_url"], kinds["embedding"], kinds["wit_features"]) == (
        "text",
        "value",
        "value",
    )
    assert len(got["rows"]) == 2
    for row, want in zip(got["rows"], expected, strict=True):
        png = want["image"]["bytes"]
        assert row["image"] == {
            "media": "image",
            "mime": "image/png",
            "base64": base64.b64encode(png).decode(),
            "size": len(png),
            "path": None,
        }
        assert {k: v for k, v in row.items() if k != "image"} == {
            k: v for k, v in want.items() if k != "image"
        }
    assert got["bytes_fetched"] == _ranged_only(hub)
    assert json.loads(json.dumps(got)) == got


def _big_images(hub: HubServer, tmp_path: Path, rows: int = 4, side: int = 96) -> bytes:
    """A repo `pygestor/photos` of one parquet file whose first (only) row group holds `rows`
    incompressible PNGs of side x side pixels: far more than 64 KiB of images."""
    rng = random.Random(7)
    records = [
        {
            "image": {
                "bytes": replicas.png_bytes(side, side, rng.randbytes(side * side * 3), channels=3),
                "path": None,
            },
            "caption": f"photo {i}",
            "label": i,
        }
        for i in range(rows)
    ]
    schema = pa.schema(
        [
            ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
            ("caption", pa.string()),
            ("label", pa.int64()),
        ]
    )
    features = {
        "image": {"_type": "Image"},
        "caption": replicas.hf_value("string"),
        "label": replicas.hf_value("int64"),
    }
    data = replicas.parquet_bytes(replicas.table(records, schema, features))
    hub.hub.create_repo(
        "pygestor/photos",
        {".gitattributes": replicas.gitattributes(), "data/train-0.parquet": data},
    )
    write_manifest(
        tmp_path / "user-catalog",
        "photos",
        "name: photos\nsource: {huggingface: pygestor/photos}\n"
        "subsets: [{files: 'data/train-*.parquet', name: train}]\n",
    )
    return data


def test_an_image_column_over_the_cap_is_left_out_and_the_text_shown(
    tmp_path: Path, hub: HubServer
) -> None:
    data = _big_images(hub, tmp_path)
    assert len(data) > 100 * KIB
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("photos")
    hub.requests.clear()
    got = catalog.preview("photos", rows=3, max_bytes=64 * KIB)
    assert got["rows"] == [{"caption": f"photo {i}", "label": i} for i in range(3)]
    assert got["capped"] is True
    chunk = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0)
    image_bytes = sum(
        chunk.column(i).total_compressed_size
        for i in range(chunk.num_columns)
        if chunk.column(i).path_in_schema.startswith("image.")
    )
    assert image_bytes > 64 * KIB
    [skipped] = got["skipped"]
    assert (skipped["column"], skipped["bytes"]) == ("image", image_bytes)
    assert skipped["why"].startswith(f"its chunk of the first row group is {image_bytes:,} bytes;")
    assert got["message"] == (
        f"stopped at the cap of 65,536 bytes: left out image ({image_bytes:,} bytes); raise "
        "max_bytes or choose fewer columns to see them"
    )
    assert [c["name"] for c in got["columns"]] == ["image", "caption", "label"]
    sent = _ranged_only(hub)
    assert got["bytes_fetched"] == sent <= 64 * KIB

    hub.requests.clear()
    whole = catalog.preview("photos", rows=3)  # the default cap (4 MiB) holds them
    assert whole["skipped"] == [] and whole["capped"] is False
    expected = _rows_of(data, 3)
    assert [base64.b64decode(r["image"]["base64"]) for r in whole["rows"]] == [
        r["image"]["bytes"] for r in expected
    ]
    assert whole["bytes_fetched"] == _ranged_only(hub) < len(data) + 1


def test_later_row_groups_are_read_for_more_rows_while_they_fit(
    tmp_path: Path, hub: HubServer
) -> None:
    table = pa.table({"n": list(range(100)), "word": [f"w{i}" for i in range(100)]})
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=10)
    hub.hub.create_repo("pygestor/groups", {"numbers.parquet": sink.getvalue()})
    write_manifest(
        tmp_path / "user-catalog",
        "groups",
        "name: groups\nsource: {huggingface: pygestor/groups}\n"
        "subsets: [{files: '*.parquet', name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("groups")
    hub.requests.clear()
    got = catalog.preview("groups", rows=25)
    assert got["rows"] == [{"n": i, "word": f"w{i}"} for i in range(25)]
    assert got["bytes_fetched"] == _ranged_only(hub)
    assert catalog.schema("groups")["row_groups"] == 10


def test_a_text_row_group_far_over_the_cap_costs_only_its_first_pages(
    tmp_path: Path, hub: HubServer
) -> None:
    rng = random.Random(3)
    texts = [rng.randbytes(600).hex() for _ in range(20_000)]  # 24 MB, in one row group
    sink = io.BytesIO()
    pq.write_table(  # pages of 50 rows (60 kB of text), as a writer honouring its page size makes
        pa.table({"id": list(range(len(texts))), "text": texts}),
        sink,
        use_dictionary=False,
        data_page_size=32 * KIB,
        write_batch_size=50,
    )
    data = sink.getvalue()
    chunk = pq.ParquetFile(io.BytesIO(data)).metadata.row_group(0).column(1)
    assert chunk.total_compressed_size > 20 * 2**20
    hub.hub.create_repo("pygestor/essays", {"essays.parquet": data})
    write_manifest(
        tmp_path / "user-catalog",
        "essays",
        "name: essays\nsource: {huggingface: pygestor/essays}\n"
        "subsets: [{files: '*.parquet', name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("essays")
    hub.requests.clear()
    got = catalog.preview("essays", rows=10, max_bytes=256 * KIB)
    assert got["rows"] == [{"id": i, "text": texts[i]} for i in range(10)]
    assert (got["capped"], got["skipped"]) == (False, [])
    assert got["bytes_fetched"] == _ranged_only(hub) < 160 * KIB  # its first pages, not 24 MB

    hub.requests.clear()
    some = catalog.preview("essays", rows=1000, columns=["text"], max_bytes=512 * KIB)
    n = len(some["rows"])
    assert 0 < n < 1000 and some["rows"] == [{"text": texts[i]} for i in range(n)]
    assert some["capped"] is True and some["skipped"] == []
    assert some["message"] == (
        f"stopped at the cap of 524,288 bytes after {n} rows; raise max_bytes for more"
    )
    assert some["bytes_fetched"] == _ranged_only(hub) <= 512 * KIB

    hub.requests.clear()
    small = catalog.preview("essays", rows=1000, max_bytes=64 * KIB)  # the ids fit, not the text
    assert small["rows"] == [{"id": i} for i in range(1000)]
    assert [s["column"] for s in small["skipped"]] == ["text"] and small["capped"] is True
    assert small["bytes_fetched"] == _ranged_only(hub) <= 64 * KIB


def test_a_footer_longer_than_the_first_range_is_completed_by_a_second(
    tmp_path: Path, hub: HubServer
) -> None:
    wide = pa.table({f"column_{i:03d}": [i] for i in range(300)})
    sink = io.BytesIO()
    pq.write_table(wide, sink)
    data = sink.getvalue()
    footer = int.from_bytes(data[-8:-4], "little") + 8
    first = 64 * KIB // 16  # the first range a preview capped at 64 KiB asks for
    assert first < footer < 64 * KIB
    hub.hub.create_repo("pygestor/wide", {"wide.parquet": data})
    write_manifest(
        tmp_path / "user-catalog",
        "wide",
        "name: wide\nsource: {huggingface: pygestor/wide}\nsubsets: [{files: '*.parquet', "
        "name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("wide")
    hub.requests.clear()
    got = catalog.preview("wide", columns=["column_007"], max_bytes=64 * KIB)
    assert got["rows"] == [{"column_007": 7}]
    size = len(data)
    ranges = [r.range for r in hub.requests.filter(origin="lfs")]
    assert ranges[:2] == [
        f"bytes={size - first}-{size - 1}",
        f"bytes={size - footer}-{size - first - 1}",
    ]
    assert got["bytes_fetched"] == _ranged_only(hub) <= 64 * KIB


# ---- text formats ------------------------------------------------------------------------------
def _jsonl_repo(tmp_path: Path, hub: HubServer, rows: int) -> list[dict[str, object]]:
    records = [
        {"id": i, "text": f"line {i} " + "x" * (i % 50), "meta": json.dumps({"n": i})}
        for i in range(rows)
    ]
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in records).encode(), mtime=0)
    hub.hub.create_repo("pygestor/lines", {"data/train.jsonl.gz": data})
    write_manifest(
        tmp_path / "user-catalog",
        "lines",
        "name: lines\nsource: {huggingface: pygestor/lines}\nsubsets: [{files: 'data/*.jsonl.gz', "
        "name: train}]\nload: {decode: {meta: json}}\n",
    )
    return records


def test_remote_gzip_json_lines_give_whole_lines_from_the_start(
    tmp_path: Path, hub: HubServer
) -> None:
    records = _jsonl_repo(tmp_path, hub, 40_000)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("lines")
    hub.requests.clear()
    got = catalog.preview("lines", rows=5)
    assert got["rows"] == [{**r, "meta": {"n": r["id"]}} for r in records[:5]]
    assert got["columns"] == [
        {"name": "id", "type": "int64", "kind": "value"},
        {"name": "text", "type": "string", "kind": "text"},
        {"name": "meta", "type": "string", "kind": "json"},  # the manifest's load.decode
    ]
    assert (got["format"], got["capped"], got["message"]) == ("jsonl", False, None)
    assert got["bytes_fetched"] == _ranged_only(hub) == 64 * KIB  # the first range was enough

    hub.requests.clear()
    many = catalog.preview("lines", rows=1000, max_bytes=64 * KIB)
    n = len(many["rows"])
    assert many["rows"] == [{**r, "meta": {"n": r["id"]}} for r in records[:n]]
    assert many["bytes_fetched"] == _ranged_only(hub) == 64 * KIB
    assert (n, many["capped"]) == (1000, False)  # 64 KiB of gzip hold more than 1000 lines

    catalog.download("lines")
    hub.requests.clear()
    local = catalog.preview("lines", rows=5)
    assert (local["location"], local["bytes_fetched"], list(hub.requests)) == ("local", 0, [])
    assert {**local, "location": "remote", "bytes_fetched": got["bytes_fetched"]} == got


def test_a_remote_bz2_tsv_is_read_by_its_tabs(tmp_path: Path, hub: HubServer) -> None:
    import bz2

    table = "word\tcount\n" + "".join(f"w{i}\t{i * 7}\n" for i in range(500))
    hub.hub.create_repo("pygestor/tsv", {"counts.tsv.bz2": bz2.compress(table.encode())})
    write_manifest(
        tmp_path / "user-catalog",
        "tsv",
        "name: tsv\nsource: {huggingface: pygestor/tsv}\nsubsets: [{files: '*.tsv.bz2', "
        "name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("tsv")
    got = catalog.preview("tsv", rows=3, columns=["count"])
    assert (got["format"], got["rows"]) == (
        "csv",
        [{"count": "0"}, {"count": "7"}, {"count": "14"}],
    )
    assert got["columns"] == [{"name": "count", "type": "string", "kind": "text"}]


def test_a_cut_line_is_never_parsed_and_the_cap_is_said(tmp_path: Path, hub: HubServer) -> None:
    lines = [json.dumps({"id": i, "text": "y" * 3000}) for i in range(100)]
    hub.hub.create_repo("pygestor/long", {"long.jsonl": ("\n".join(lines) + "\n").encode()})
    write_manifest(
        tmp_path / "user-catalog",
        "long",
        "name: long\nsource: {huggingface: pygestor/long}\nsubsets: [{files: '*.jsonl', "
        "name: all}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("long")
    hub.requests.clear()
    got = catalog.preview("long", rows=50, max_bytes=64 * KIB)
    whole = 64 * KIB // (len(lines[0]) + 1)
    assert [r["id"] for r in got["rows"]] == list(range(whole))
    assert got["capped"] is True
    assert got["message"] == (
        f"stopped at the cap of 65,536 bytes after {whole} whole lines; raise max_bytes for more"
    )
    assert got["bytes_fetched"] == _ranged_only(hub) == 64 * KIB
    with pytest.raises(PygestorError) as no_schema:
        catalog.schema("long")
    assert str(no_schema.value) == (
        "long/all/long.jsonl: a schema needs a parquet partition, and this one is jsonl; "
        "preview it to see its columns"
    )


def test_a_local_folder_source_is_read_in_place(tmp_path: Path, hub: HubServer) -> None:
    root = tmp_path / "corpus"
    (root / "news").mkdir(parents=True)
    rows = [{"id": i, "text": f"story {i}"} for i in range(4)]
    (root / "news" / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_corpus_manifest(tmp_path, root)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("corpus")
    got = catalog.preview("corpus", "news", rows=3)
    assert (got["location"], got["bytes_fetched"], got["rows"]) == ("local", 0, rows[:3])
    assert list(hub.requests) == []
    assert not (tmp_path / "data" / "corpus").exists()


# ---- cells ---------------------------------------------------------------------------------------
def test_cells_are_json_safe() -> None:
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC)
    assert json_safe(
        {
            "t": when,
            "d": datetime.date(2024, 5, 6),
            "dec": decimal.Decimal("1.50"),
            "nan": float("nan"),
            "raw": b"\x00\x01",
            "pairs": [("a", 1)],
            "span": datetime.timedelta(seconds=90),
        }
    ) == {
        "t": "2024-05-06T07:08:09+00:00",
        "d": "2024-05-06",
        "dec": "1.50",
        "nan": "nan",
        "raw": "base64:AAE=",
        "pairs": [["a", 1]],
        "span": "0:01:30",
    }
    assert [
        sniff(b)
        for b in (
            b"\x89PNG\r\n\x1a\n...",
            b"\xff\xd8\xff\xe0",
            b"GIF89a",
            b"RIFF\x00\x00\x00\x00WEBPVP8 ",
            b"RIFF\x00\x00\x00\x00WAVEfmt ",
            b"fLaC",
            b"OggS",
            b"ID3\x04",
            b"\xff\xfb\x90",
            b"WEBP",
            b"plain",
        )
    ] == [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/wav",
        "audio/flac",
        "audio/ogg",
        "audio/mpeg",
        "audio/mpeg",
        None,
        None,
    ]


def test_audio_and_image_kinds_come_from_the_features_and_the_manifest_first() -> None:
    meta = {
        b"huggingface": json.dumps(
            {"info": {"features": {"clip": {"_type": "Audio"}, "pic": {"_type": "Image"}}}}
        ).encode()
    }
    features = feature_kinds(meta)
    assert features == {"clip": "audio", "pic": "image"}
    assert feature_kinds({b"huggingface": b"not json"}) == feature_kinds(None) == {}
    assert kind_of("pic", "binary", {"pic": "json"}, features) == "json"  # load.decode wins
    assert [kind_of(n, t, {}, features) for n, t in [("clip", "x"), ("s", "large_string")]] == [
        "audio",
        "text",
    ]
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt "
    assert cell({"bytes": wav, "path": "a.wav"}, "audio") == {
        "media": "audio",
        "mime": "audio/wav",
        "base64": base64.b64encode(wav).decode(),
        "size": len(wav),
        "path": "a.wav",
    }
    assert cell(None, "image") is None
    assert cell({"bytes": None, "path": "x.jpg"}, "image")["path"] == "x.jpg"

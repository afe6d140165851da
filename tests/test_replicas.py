"""Tests of pygestor.testing.replicas: exact layouts, readable contents, determinism, install."""

from __future__ import annotations

import fnmatch
import gzip
import io
import json
import re
import struct
import time
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from pygestor.testing import replicas
from pygestor.testing.replicas import (
    CONVERT_REVISION,
    REPLICAS,
    Replica,
    databricks_dolly,
    install,
    many_files,
    mnist,
    wikipedia,
    wit_base,
)

ROOT_FILES = {".gitattributes", "README.md"}


def read_parquet(data: bytes) -> pa.Table:
    return pq.read_table(io.BytesIO(data))


def png_size(data: bytes) -> tuple[int, int, int]:
    """Parse a PNG strictly (signature, chunk CRCs, pixel data length); return width, height,
    channels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, dict[bytes, bytes]()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF, tag
        chunks[tag] = chunks.get(tag, b"") + body
        pos += 12 + length
    assert pos == len(data) and b"IEND" in chunks
    width, height, depth, color_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    channels = {0: 1, 2: 3}[color_type]
    assert depth == 8
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * channels)
    return width, height, channels


def card_front_matter(replica: Replica) -> dict[str, Any]:
    text = replica.files["README.md"].decode()
    match = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    assert match, text[:200]
    front = yaml.safe_load(match.group(1))
    assert isinstance(front, dict)
    return front


def shard_paths(prefix: str, split: str, count: int) -> set[str]:
    return {f"{prefix}/{split}-{i:05d}-of-{count:05d}.parquet" for i in range(count)}


# --- wikimedia/wikipedia ---------------------------------------------------------------------


def test_wikipedia_layout_is_exact() -> None:
    replica = wikipedia()
    assert replica.repo_id == "wikimedia/wikipedia"
    en = shard_paths("20231101.en", "train", 41)
    assert "20231101.en/train-00000-of-00041.parquet" in en
    assert "20231101.en/train-00040-of-00041.parquet" in en
    assert set(replica.files) == (
        ROOT_FILES
        | en
        | {"20231101.ab/train-00000-of-00001.parquet", "20231101.fr/train-00000-of-00001.parquet"}
    )
    assert replica.branches == {}


def test_wikipedia_parquet_has_the_real_columns_and_plausible_rows() -> None:
    replica = wikipedia()
    for path, data in replica.files.items():
        if not path.endswith(".parquet"):
            continue
        lang = path.split("/")[0].split(".")[1]
        shard = read_parquet(data)
        assert shard.schema.names == ["id", "url", "title", "text"]
        assert all(t == pa.string() for t in shard.schema.types)
        assert shard.num_rows == 3
        for row in shard.to_pylist():
            assert row["id"].isdigit()
            assert row["url"].startswith(f"https://{lang}.wikipedia.org/wiki/")
            assert row["title"] and row["title"] in row["text"]
    en = [read_parquet(d) for p, d in sorted(replica.files.items()) if p.startswith("20231101.en/")]
    rows = pa.concat_tables(en).to_pylist()
    assert len({r["id"] for r in rows}) == len({r["title"] for r in rows}) == len(rows) == 123
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(ids)  # shards hold increasing page ids, as the real dump


def test_wikipedia_options() -> None:
    replica = wikipedia(dump="20220301", languages=("de",), shards={"de": 3}, rows_per_shard=1)
    assert set(replica.files) == ROOT_FILES | shard_paths("20220301.de", "train", 3)
    with pytest.raises(ValueError, match="'xx'"):
        wikipedia(shards={"xx": 2})
    with pytest.raises(ValueError, match="rows_per_shard"):
        wikipedia(rows_per_shard=0)


def test_wikipedia_card_configs_match_the_files() -> None:
    replica = wikipedia()
    front = card_front_matter(replica)
    configs = {c["config_name"]: c["data_files"] for c in front["configs"]}
    assert set(configs) == {"20231101.en", "20231101.ab", "20231101.fr"}
    for name, data_files in configs.items():
        [entry] = data_files
        matched = {p for p in replica.files if fnmatch.fnmatchcase(p, entry["path"])}
        assert matched == {p for p in replica.files if p.startswith(f"{name}/")}
    info = {c["config_name"]: c for c in front["dataset_info"]}
    assert info["20231101.en"]["splits"] == [
        {"name": "train", "num_bytes": info["20231101.en"]["dataset_size"], "num_examples": 123}
    ]


# --- wikimedia/wit_base ----------------------------------------------------------------------


def test_wit_base_layout_is_exact() -> None:
    replica = wit_base()
    assert replica.repo_id == "wikimedia/wit_base"
    expected = shard_paths("data", "train", 330)
    assert "data/train-00329-of-00330.parquet" in expected
    assert set(replica.files) == ROOT_FILES | expected


def test_wit_base_rows_hold_images_and_captions() -> None:
    replica = wit_base(shards=2, rows_per_shard=3)
    shard = read_parquet(replica.files["data/train-00001-of-00002.parquet"])
    assert shard.num_rows == 3
    assert shard.schema.names == [
        "image",
        "image_url",
        "embedding",
        "metadata_url",
        "original_height",
        "original_width",
        "mime_type",
        "caption_attribution_description",
        "wit_features",
    ]
    assert shard.schema.field("image").type == pa.struct(
        [("bytes", pa.binary()), ("path", pa.string())]
    )
    for row in shard.to_pylist():
        assert png_size(row["image"]["bytes"]) == (4, 3, 3)
        assert row["image_url"].startswith("https://upload.wikimedia.org/wikipedia/commons/")
        features = row["wit_features"]
        assert len(features["language"]) == len(features["page_url"]) == len(features["page_title"])
        assert "page_changed_recently" in features


# --- ylecun/mnist ----------------------------------------------------------------------------


def test_mnist_layout_columns_and_images() -> None:
    replica = mnist()
    assert replica.repo_id == "ylecun/mnist"
    assert set(replica.files) == ROOT_FILES | {
        "mnist/train-00000-of-00001.parquet",
        "mnist/test-00000-of-00001.parquet",
    }
    train = read_parquet(replica.files["mnist/train-00000-of-00001.parquet"])
    assert train.schema.field("image").type == pa.struct(
        [("bytes", pa.binary()), ("path", pa.string())]
    )
    assert train.schema.field("label").type == pa.int64()
    assert train.column("label").to_pylist() == [5, 0, 4, 1, 9, 2]
    assert read_parquet(replica.files["mnist/test-00000-of-00001.parquet"]).num_rows == 3
    for image in train.column("image").to_pylist():
        assert image["path"] is None
        assert png_size(image["bytes"]) == (28, 28, 1)
    metadata = json.loads(train.schema.metadata[b"huggingface"])
    assert metadata["info"]["features"]["image"] == {"_type": "Image"}


# --- databricks/databricks-dolly-15k ---------------------------------------------------------


def test_dolly_jsonl_and_its_parquet_conversion_agree() -> None:
    replica = databricks_dolly()
    assert set(replica.files) == ROOT_FILES | {"databricks-dolly-15k.jsonl"}
    lines = replica.files["databricks-dolly-15k.jsonl"].decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert rows and all(list(r) == ["instruction", "context", "response", "category"] for r in rows)
    assert set(replica.branches) == {CONVERT_REVISION}
    converted = replica.branches[CONVERT_REVISION]
    assert set(converted) == {".gitattributes", "default/train/0000.parquet"}
    assert read_parquet(converted["default/train/0000.parquet"]).to_pylist() == rows


def test_parquet_conversion_numbers_split_parts() -> None:
    base = Replica("o/n", {"a.csv": b"x\n1\n"})
    converted = replicas.parquet_conversion(base, {"default": {"train": [b"p0", b"p1"]}})
    assert set(converted.branches[CONVERT_REVISION]) == {
        "default/train/0000.parquet",
        "default/train/0001.parquet",
    }
    assert converted.files == base.files


# --- many files ------------------------------------------------------------------------------


def test_many_files_is_big_fast_and_shares_one_blob() -> None:
    start = time.perf_counter()
    replica = many_files(50_000)
    elapsed = time.perf_counter() - start
    assert elapsed < 5
    assert len(replica.files) == 50_000
    assert "data/part-0000/00000.parquet" in replica.files
    assert "data/part-0049/49999.parquet" in replica.files
    assert all(re.fullmatch(r"data/part-\d{4}/\d{5}\.parquet", p) for p in replica.files)
    assert len({id(data) for data in replica.files.values()}) == 1
    assert read_parquet(next(iter(replica.files.values()))).num_rows == 1


def test_many_files_widens_names_when_needed() -> None:
    paths = set(many_files(12, repo_id="o/tiny", per_folder=5).files)
    assert paths == {f"data/part-{i // 5:04d}/{i:05d}.parquet" for i in range(12)}
    assert "data/part-0100/100000.parquet" in many_files(100_001, per_folder=1000).files


# --- every replica ---------------------------------------------------------------------------


@pytest.mark.parametrize("repo_id", sorted(REPLICAS))
def test_builds_are_deterministic(repo_id: str) -> None:
    first, second = REPLICAS[repo_id](), REPLICAS[repo_id]()
    assert first.repo_id == repo_id
    assert dict(first.files) == dict(second.files)
    assert {k: dict(v) for k, v in first.branches.items()} == {
        k: dict(v) for k, v in second.branches.items()
    }


@pytest.mark.parametrize("repo_id", sorted(REPLICAS))
def test_every_data_file_is_readable(repo_id: str) -> None:
    replica = REPLICAS[repo_id]()
    revisions = [replica.files, *replica.branches.values()]
    checked: set[int] = set()
    for files in revisions:
        for path, data in files.items():
            if id(data) in checked:
                continue
            checked.add(id(data))
            if path.endswith(".parquet"):
                assert read_parquet(data).num_rows > 0, path
            elif path.endswith(".jsonl"):
                assert [json.loads(line) for line in data.decode().splitlines()], path
            elif path == "README.md":
                card_front_matter(replica)
            elif path == ".gitattributes":
                assert b"*.parquet filter=lfs diff=lfs merge=lfs -text\n" in data


def test_replica_is_frozen_and_checks_paths() -> None:
    replica = Replica("o/n", {"a/b.txt": b"x"})
    with pytest.raises(TypeError):
        replica.files["c"] = b"y"  # type: ignore[index]
    for bad in ("/abs", "a/../b", "a//b", "./a", "a\\b", "a/"):
        with pytest.raises(ValueError, match="relative repository path"):
            Replica("o/n", {bad: b""})
    with pytest.raises(ValueError, match="owner/name"):
        Replica("no-owner", {})


def test_jsonl_gzip_is_reproducible_and_parses() -> None:
    rows: list[dict[str, Any]] = [{"text": "é", "url": "https://x.org"}, {"text": "b", "url": None}]
    data = replicas.jsonl_bytes(rows, gzipped=True)
    assert data == replicas.jsonl_bytes(rows, gzipped=True)
    lines = gzip.decompress(data).decode().splitlines()
    assert [json.loads(line) for line in lines] == rows


def test_shard_name_shapes() -> None:
    assert replicas.shard_name("train", 0, 41) == "train-00000-of-00041.parquet"
    suffix = replicas.fingerprint("tatsu-lab/alpaca", "train")
    name = replicas.shard_name("train", 0, 1, suffix=suffix)
    assert re.fullmatch(r"train-00000-of-00001-[0-9a-f]{16}\.parquet", name)
    with pytest.raises(ValueError):
        replicas.shard_name("train", 41, 41)


# --- install ---------------------------------------------------------------------------------


class RecordingHub:
    """A stand-in for LocalHub that keeps the file map of every revision."""

    def __init__(self) -> None:
        self.revisions: dict[str, dict[str, bytes]] = {}
        self.calls: list[str] = []

    def create_repo(self, repo_id: str, files: Mapping[str, bytes], *, message: str) -> str:
        self.calls.append(f"create_repo {repo_id}")
        self.revisions["main"] = dict(files)
        return "0" * 40

    def create_branch(self, repo_id: str, name: str, *, from_revision: str) -> None:
        self.calls.append(f"create_branch {name}")
        self.revisions[name] = dict(self.revisions[from_revision])

    def commit(
        self,
        repo_id: str,
        *,
        add: Mapping[str, bytes],
        delete: Iterable[str],
        revision: str,
        message: str,
    ) -> str:
        self.calls.append(f"commit {revision}")
        files = self.revisions[revision]
        for path in delete:
            del files[path]
        files.update(add)
        return "1" * 40


def test_install_makes_each_revision_exactly_its_file_map() -> None:
    hub = RecordingHub()
    replica = databricks_dolly()
    assert install(hub, replica) == "0" * 40
    assert hub.calls == [
        "create_repo databricks/databricks-dolly-15k",
        f"create_branch {CONVERT_REVISION}",
        f"commit {CONVERT_REVISION}",
    ]
    assert hub.revisions["main"] == dict(replica.files)
    assert hub.revisions[CONVERT_REVISION] == dict(replica.branches[CONVERT_REVISION])


def _paths(listing: Any) -> set[str]:
    return {item if isinstance(item, str) else item.path for item in listing}


@pytest.mark.parametrize("builder", [databricks_dolly, mnist, wikipedia])
def test_install_on_local_hub(tmp_path: Any, builder: Any) -> None:
    hub_module = pytest.importorskip("pygestor.testing.hub")
    hub = hub_module.LocalHub(tmp_path)
    replica = builder()
    commit = install(hub, replica)
    assert re.fullmatch(r"[0-9a-f]{40}", commit)
    assert _paths(hub.files(replica.repo_id, "main")) == set(replica.files)
    for revision, files in replica.branches.items():
        assert _paths(hub.files(replica.repo_id, revision)) == set(files)

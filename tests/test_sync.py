"""Sync and browse against the offline Hub, with the real huggingface_hub client."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import make_settings, write_corpus_manifest, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import DatasetNotFound, NotSynced, SourceError
from pygestor.index.records import Record
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer


def test_sync_wikipedia_gives_the_real_subsets_and_shards(
    catalog: Catalog, replica_hub: HubServer
) -> None:
    [result] = catalog.sync("wikipedia")
    assert result.error is None
    assert result.commit == replica_hub.hub.head("wikimedia/wikipedia")
    assert result.source == "hf://datasets/wikimedia/wikipedia@main"
    assert (result.subsets, result.partitions) == (3, 43)
    assert result.unmatched == (".gitattributes", "README.md")
    subsets = catalog.subset_records("wikipedia")
    assert [s["subset"] for s in subsets] == ["20231101.ab", "20231101.en", "20231101.fr"]
    assert [s["partitions"] for s in subsets] == [1, 41, 1]
    files = replica_hub.hub.files("wikimedia/wikipedia")
    en = catalog.partition_records("wikipedia", "20231101.en")
    assert [p["partition"] for p in en] == [f"train-{i:05d}-of-00041.parquet" for i in range(41)]
    assert en[7]["path"] == "20231101.en/train-00007-of-00041.parquet"
    assert en[7]["size"] == files["20231101.en/train-00007-of-00041.parquet"]["size"]
    assert en[7]["sha256"] == files["20231101.en/train-00007-of-00041.parquet"]["sha256"]
    assert {p["state"] for p in en} == {"remote"}
    assert subsets[1]["bytes"] == sum(
        f["size"] for p, f in files.items() if p.startswith("20231101.en/")
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [("wit_base", {"train": 330}), ("mnist", {"test": 1, "train": 1})],
)
def test_sync_builtin_manifests(catalog: Catalog, name: str, expected: dict[str, int]) -> None:
    catalog.sync(name)
    assert {s["subset"]: s["partitions"] for s in catalog.subset_records(name)} == expected


def test_list_datasets_before_and_after_sync(catalog: Catalog) -> None:
    before = {d["name"]: d for d in catalog.dataset_records()}
    assert {"wikipedia", "wit_base", "mnist"} <= set(before)
    assert before["mnist"]["subsets"] is None and before["mnist"]["partitions_local"] == 0
    catalog.sync("mnist")
    after = {d["name"]: d for d in catalog.dataset_records()}["mnist"]
    assert (
        after["subsets"],
        after["partitions"],
        after["partitions_local"],
        after["bytes_local"],
    ) == (2, 2, 0, 0)
    assert after["modality"] == ["image"]
    assert after["synced_at"].endswith("Z")
    frame = catalog.datasets()
    assert list(frame.columns)[:3] == ["name", "description", "modality"]
    assert frame.set_index("name").loc["mnist", "partitions"] == 2


def test_listing_a_dataset_never_synced_says_how_to_fix(catalog: Catalog) -> None:
    with pytest.raises(NotSynced, match=r"run 'pygestor sync wikipedia'"):
        catalog.subset_records("wikipedia")
    with pytest.raises(DatasetNotFound, match=r"did you mean 'wikipedia'"):
        catalog.subset_records("wikipedai")


def test_unknown_subset_lists_the_known_ones(catalog: Catalog) -> None:
    catalog.sync("mnist")
    with pytest.raises(DatasetNotFound, match=r"no subset 'val'"):
        catalog.partition_records("mnist", "val")


def test_pagination_over_a_2500_file_repo(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.many_files(2500))
    user = tmp_path / "user-catalog"
    write_manifest(
        user,
        "many",
        """
name: many
source: {huggingface: pygestor/many-files}
subsets:
  - files: "data/{subset}/*.parquet"
""",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint, include_builtin=False))
    [result] = catalog.sync("many")
    assert (result.subsets, result.partitions) == (3, 2500)
    tree_requests = [r for r in hub.requests if "/tree/" in r.path]
    assert len(tree_requests) == 3  # 1000 + 1000 + 500 entries, one recursive listing


def test_refs_convert_parquet_revision(tmp_path: Path, replica_hub: HubServer) -> None:
    write_manifest(
        tmp_path / "user-catalog",
        "dolly",
        """
name: dolly
source:
  huggingface: databricks/databricks-dolly-15k
  revision: refs/convert/parquet
subsets:
  - files: "{config}/{split}/*.parquet"
""",
    )
    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    [result] = catalog.sync("dolly")
    assert result.revision == "refs/convert/parquet"
    assert result.commit == replica_hub.hub.head(
        "databricks/databricks-dolly-15k", "refs/convert/parquet"
    )
    assert [s["subset"] for s in catalog.subset_records("dolly")] == ["default.train"]
    assert (
        catalog.partition_records("dolly", "default.train")[0]["path"]
        == "default/train/0000.parquet"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "{huggingface: nobody/nothing}",
            r"dataset 'nobody/nothing' on http://127\.0\.0\.1:\d+ was not found",
        ),
        (
            "{huggingface: ylecun/mnist, revision: v9}",
            r"revision 'v9' of dataset 'ylecun/mnist' .* was not found",
        ),
    ],
)
def test_missing_repo_or_revision_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, replica_hub: HubServer, source: str, message: str
) -> None:
    write_manifest(
        tmp_path / "user-catalog",
        "broken",
        f"""
name: broken
source: {source}
subsets:
  - files: "{{subset}}/*.parquet"
""",
    )
    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    with pytest.raises(SourceError, match=message):
        catalog.sync("broken")
    assert not (tmp_path / "data" / ".pygestor" / "datasets" / "broken" / "current.json").exists()
    [collected] = catalog.sync("broken", on_error="collect")
    assert collected.error is not None and "broken.yaml" in collected.error


def test_unreachable_hub_is_a_source_error(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path, "http://127.0.0.1:9"))
    with pytest.raises(SourceError, match=r"cannot reach http://127\.0\.0\.1:9"):
        catalog.sync("mnist")


def _fake_download(
    catalog: Catalog,
    dataset: str,
    subset: str,
    partition: str,
    data: bytes,
    commit: str,
    sha256: str,
) -> None:
    """Put a file and its record in place as a download would (the data plane is not built yet)."""
    store = catalog.store
    path = store.data_path(dataset, subset, partition)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    listing = store.listing(dataset)
    assert listing is not None
    [part] = [p for p in listing.subset(subset).partitions if p.name == partition]  # type: ignore[union-attr]
    store.put_record(
        dataset,
        subset,
        partition,
        Record(
            path=part.file.path,
            size=len(data),
            sha256=sha256,
            commit=commit,
            rows=pq.read_metadata(path).num_rows,
        ),
    )


def test_upstream_change_marks_local_partition_stale_and_deleted_gone(
    tmp_path: Path, hub: HubServer
) -> None:
    commit = replicas.install(hub.hub, replicas.mnist())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("mnist")
    for split in ("train", "test"):
        name = f"{split}-00000-of-00001.parquet"
        entry = hub.hub.files("ylecun/mnist")[f"mnist/{name}"]
        _fake_download(
            catalog,
            "mnist",
            split,
            name,
            hub.hub.read("ylecun/mnist", f"mnist/{name}"),
            commit,
            entry["sha256"],
        )
    assert [p["state"] for p in catalog.partition_records("mnist", "train")] == ["local"]
    assert catalog.subset_records("mnist")[1]["rows"] == 6

    new_train = replicas.mnist(train_rows=9).files["mnist/train-00000-of-00001.parquet"]
    hub.hub.commit(
        "ylecun/mnist",
        add={"mnist/train-00000-of-00001.parquet": new_train},
        delete=["mnist/test-00000-of-00001.parquet"],
        message="more rows, no test split",
    )
    [result] = catalog.sync("mnist")
    assert result.changed
    assert result.stale == ("train/train-00000-of-00001.parquet",)
    assert result.gone == ("test/test-00000-of-00001.parquet",)
    [train] = catalog.partition_records("mnist", "train")
    assert (train["state"], train["size"], train["rows"]) == ("stale", len(new_train), 6)
    assert [s["subset"] for s in catalog.subset_records("mnist")] == ["train"]
    datasets = {d["name"]: d for d in catalog.dataset_records()}
    assert datasets["mnist"]["partitions_local"] == 2  # both files are still on disk


def test_resync_without_change_keeps_records_and_reuses_the_listing(
    tmp_path: Path, hub: HubServer
) -> None:
    commit = replicas.install(hub.hub, replicas.mnist())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    [_first] = catalog.sync("mnist")
    name = "train-00000-of-00001.parquet"
    entry = hub.hub.files("ylecun/mnist")[f"mnist/{name}"]
    _fake_download(
        catalog,
        "mnist",
        "train",
        name,
        hub.hub.read("ylecun/mnist", f"mnist/{name}"),
        commit,
        entry["sha256"],
    )
    [second] = catalog.sync("mnist")
    assert not second.changed and second.stale == () and second.new == ()
    listings = list(
        (tmp_path / "data" / ".pygestor" / "datasets" / "mnist" / "listings").glob("*.json")
    )
    assert len(listings) == 1
    assert catalog.partition_records("mnist", "train")[0]["state"] == "local"


def test_new_upstream_files_are_reported_new(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.mnist())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("mnist")
    extra = replicas.mnist().files["mnist/test-00000-of-00001.parquet"]
    hub.hub.commit("ylecun/mnist", add={"mnist/test-00001-of-00001.parquet": extra})
    [result] = catalog.sync("mnist")
    assert result.new == ("test/test-00001-of-00001.parquet",)


def test_local_folder_source_is_read_in_place(tmp_path: Path) -> None:
    root = tmp_path / "nfs" / "corpus"
    for lang in ("en", "de"):
        (root / lang).mkdir(parents=True)
        for i in range(2):
            (root / lang / f"part-{i}.jsonl").write_text(json.dumps({"text": lang}) + "\n")
    (root / ".snapshot").mkdir()
    (root / ".snapshot" / "old.jsonl").write_text("{}\n")
    write_corpus_manifest(tmp_path, root)
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    [result] = catalog.sync("corpus")
    assert (result.subsets, result.partitions, result.commit) == (2, 4, None)
    assert [p["state"] for p in catalog.partition_records("corpus", "en")] == ["local", "local"]
    [record] = catalog.dataset_records()
    assert (record["partitions_local"], record["bytes_local"]) == (4, record["bytes"])
    assert not (tmp_path / "data" / "corpus").exists()  # nothing copied


def test_missing_local_folder(tmp_path: Path) -> None:
    write_manifest(
        tmp_path / "user-catalog",
        "gone",
        """
name: gone
source: {local: /nonexistent/folder}
subsets:
  - files: "*.csv"
    name: all
""",
    )
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    with pytest.raises(SourceError, match=r"folder /nonexistent/folder does not exist"):
        catalog.sync("gone")


def test_forget_drops_the_index_but_keeps_records(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.mnist())
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.download("mnist", all_subsets=True)
    data = tmp_path / "data" / "mnist"
    files = {p: p.read_bytes() for p in data.rglob("*") if p.is_file()}
    records = catalog.store.records("mnist")
    assert len(files) == len(records) == 2
    assert catalog.forget("mnist") is True
    with pytest.raises(NotSynced):
        catalog.subset_records("mnist")
    assert catalog.forget("mnist") is False
    # the downloaded files and their records stay: a re-sync knows them again, nothing refetched
    assert {p: p.read_bytes() for p in data.rglob("*") if p.is_file()} == files
    assert catalog.store.records("mnist") == records
    catalog.sync("mnist")
    hub.requests.clear()
    assert catalog.download("mnist", all_subsets=True).fetched == ()
    assert hub.requests.filter(path="/resolve/") == []

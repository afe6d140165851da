"""The web UI at scale (issue 10), not timed (bench/bench_ui.py times it): a catalog of 1,000
datasets pages, searches and filters exactly through GET /api/datasets, and a subset of 5,000
partitions pages and counts its states (a `.part` found by one walk of the subset's folder)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import pytest

from conftest import make_settings
from pygestor.catalog import Catalog
from pygestor.index import selection
from pygestor.index.store import Store
from pygestor.testing import big_catalog
from pygestor.testing.hub import HubServer
from pygestor.ui import views

N = 1000
SYNCED = 12  # scale-00000 .. scale-00011 are synced; scale-00003 has a local partition


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """1,000 generated user manifests (no built-in ones), 12 synced against the bundled Hub,
    one partition of scale-00003 downloaded; the API client over them."""
    from fastapi.testclient import TestClient

    from pygestor.testing.hub import LocalHub
    from pygestor.ui.app import create_app

    tmp = tmp_path_factory.mktemp("big")
    hub = LocalHub(tmp / "hub")
    big_catalog.install_small_repo(hub)
    generated = big_catalog.write_catalog(tmp / "user-catalog", N)
    with HubServer(hub) as server:
        catalog = Catalog(make_settings(tmp, server.endpoint, include_builtin=False))
        catalog.sync([g.name for g in generated[:SYNCED]])
        catalog.download("scale-00003", "s0", partitions=["000.parquet"])
        with TestClient(create_app(catalog), base_url="http://127.0.0.1") as client:
            yield catalog, generated, client


def get_page(big: Any, **params: Any) -> dict[str, Any]:
    _, _, client = big
    response = client.get("/api/datasets", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(page: dict[str, Any]) -> list[str]:
    return [row["name"] for row in page["items"]]


def test_the_catalog_pages_through_1000_datasets(big: Any) -> None:
    first = get_page(big)
    assert (first["total"], first["catalog_total"], first["pages"]) == (N, N, 100)
    assert names(first) == [f"scale-{i:05d}" for i in range(10)]
    third = get_page(big, page=3, per_page=25)
    assert names(third) == [f"scale-{i:05d}" for i in range(50, 75)]
    last = get_page(big, page=7, per_page=150)
    assert (last["pages"], names(last)) == (7, [f"scale-{i:05d}" for i in range(900, 1000)])
    beyond = get_page(big, page=8, per_page=150)
    assert (beyond["total"], beyond["items"]) == (N, [])
    backwards = get_page(big, sort="name", order="desc", per_page=3)
    assert names(backwards) == ["scale-00999", "scale-00998", "scale-00997"]


def test_a_row_carries_what_the_manifest_and_the_index_say(big: Any) -> None:
    _, generated, _ = big
    [row] = get_page(big, q="scale-00003")["items"]
    g = generated[3]
    assert (row["description"], row["modality"], row["license"], row["tags"]) == (
        g.description,
        list(g.modality),
        g.license,
        list(g.tags),
    )
    assert (row["subsets"], row["partitions"], row["partitions_local"]) == (2, 4, 1)
    assert row["source"] == f"hf://datasets/{big_catalog.SMALL_REPO}@main"
    assert row["builtin"] is False and row["path"].endswith("scale-00003.yaml")
    [unsynced] = get_page(big, q="scale-00500")["items"]
    assert (unsynced["synced_at"], unsynced["partitions"], unsynced["partitions_local"]) == (
        None,
        None,
        0,
    )


def test_search_finds_exactly_the_matching_datasets(big: Any) -> None:
    _, generated, _ = big
    found = get_page(big, q="42", per_page=100)
    expected = [g.name for g in generated if "42" in g.name]  # the number is in the name too
    assert len(expected) == 20
    assert (found["total"], names(found)) == (20, expected)
    words = get_page(big, q="SPEECH patents", per_page=500)
    expected = [
        g.name
        for g in generated
        if "patents" in g.description and ("speech" in g.description or "speech" in g.tags)
    ]
    assert expected and (words["total"], names(words)) == (len(expected), expected)
    assert get_page(big, q="no-such-word")["total"] == 0


def test_filters_and_their_facets(big: Any) -> None:
    _, generated, _ = big
    first = get_page(big)
    assert first["facets"] == {
        "modality": sorted(big_catalog.MODALITIES),
        "license": sorted(lic for lic in big_catalog.LICENSES if lic),
        "tag": sorted(big_catalog.TAGS),
    }
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"modality": "audio"}, [g.name for g in generated if "audio" in g.modality]),
        ({"license": "mit"}, [g.name for g in generated if g.license == "mit"]),
        ({"tag": "speech"}, [g.name for g in generated if "speech" in g.tags]),
        (
            {"modality": "image", "license": "cc-by-4.0", "tag": "vision"},
            [
                g.name
                for g in generated
                if "image" in g.modality and g.license == "cc-by-4.0" and "vision" in g.tags
            ],
        ),
        ({"local_only": "true"}, ["scale-00003"]),
    ]
    for params, expected in cases:
        page = get_page(big, per_page=500, **params)
        assert page["total"] == len(expected) > 0, params
        assert page["pages"] == math.ceil(len(expected) / 500)
        assert names(page) == expected, params
    assert [len(c[1]) for c in cases[:3]] == [229, 143, 237]


def test_sorting_puts_unknown_values_last(big: Any) -> None:
    by_partitions = get_page(big, sort="partitions", order="desc", per_page=SYNCED + 1)
    assert [r["partitions"] for r in by_partitions["items"]] == [4] * SYNCED + [None]
    by_local = get_page(big, sort="partitions_local", order="desc", per_page=2)
    assert names(by_local)[0] == "scale-00003"


def test_bad_paging_is_one_line_naming_the_parameter(big: Any) -> None:
    _, _, client = big
    response = client.get("/api/datasets", params={"per_page": 501})
    assert response.status_code == 422
    assert "per_page" in response.json()["error"]


# ---- a subset of 5,000 partitions ------------------------------------------------------------
WIDE = 5000


@pytest.fixture
def wide(tmp_path: Path, hub: HubServer) -> Catalog:
    """The `wide` dataset synced: subset `train` of 5,000 listed partitions (never served)."""
    (tmp_path / "user-catalog").mkdir()
    (tmp_path / "user-catalog" / "wide.yaml").write_text(big_catalog.WIDE_MANIFEST)
    big_catalog.install_wide_repo(hub.hub, WIDE)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint, include_builtin=False))
    [result] = catalog.sync("wide")
    assert result.partitions == WIDE + 1
    return catalog


def test_a_subset_of_5000_partitions_pages_and_counts_partial_downloads(
    wide: Catalog, tmp_path: Path
) -> None:
    train = tmp_path / "data" / "wide" / "train"
    train.mkdir(parents=True)
    for i in (7, 4242, 4999):
        (train / f".part-{i:05d}.parquet.part").write_bytes(b"x" * i)
    (train / ".part-00008.parquet.part.tmp").write_bytes(b"")  # not a .part of any partition
    page = views.partitions_page(wide, "wide", "train", paging=views.Paging(50, 100, "partition"))
    assert (page["total"], page["pages"]) == (WIDE, 50)
    assert [r["partition"] for r in page["items"]] == [
        f"part-{i:05d}.parquet" for i in range(4900, 5000)
    ]
    assert page["states"] == {"local": 0, "stale": 0, "gone": 0, "partial": 3, "remote": 4997}
    assert page["bytes"] == sum(1_000_000 + i for i in range(WIDE))
    partial = views.partitions_page(wide, "wide", "train", state="partial")
    assert [r["partition"] for r in partial["items"]] == [
        "part-00007.parquet",
        "part-04242.parquet",
        "part-04999.parquet",
    ]
    searched = views.partitions_page(wide, "wide", "train", q="-0424")
    assert searched["total"] == 10
    detail = views.dataset_detail(wide, "wide")
    tables = {s["subset"]: s for s in detail["subsets_table"]}
    assert tables["train"]["states"] == page["states"]
    assert tables["train"]["partitions"] == WIDE
    assert tables["real"]["states"]["remote"] == 1


def test_partial_downloads_by_one_walk_match_a_stat_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above PARTIAL_STATS partitions the subset's folder is walked once; `.part` files below a
    link to a folder (which the walk does not follow) are found by a stat, as before."""
    store = Store(tmp_path / "data")
    keys = [("s", f"n{i:03d}.parquet") for i in range(100)]
    keys += [("s", f"deep/n{i:03d}.parquet") for i in range(100)]
    keys += [("s", f"linked/n{i:03d}.parquet") for i in range(100)]
    keys += [("t", f"n{i:03d}.parquet") for i in range(3)]  # few: a stat each
    base = tmp_path / "data" / "ds"
    (base / "s" / "deep").mkdir(parents=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.symlink(elsewhere, base / "s" / "linked")
    (base / "t").mkdir()
    for where in (base / "s", base / "s" / "deep", elsewhere, base / "t"):
        (where / ".n002.parquet.part").write_bytes(b"")
    (base / "s" / ".n003.parquet.part").mkdir()  # a folder is not a download in progress
    walked = selection.partial_downloads(store, "ds", keys)
    expected = [
        ("s", "n002.parquet"),
        ("s", "deep/n002.parquet"),
        ("s", "linked/n002.parquet"),
        ("t", "n002.parquet"),
    ]
    assert walked == expected
    monkeypatch.setattr(selection, "PARTIAL_STATS", 10_000)
    assert selection.partial_downloads(store, "ds", keys) == expected
    missing = Store(tmp_path / "nothing")
    assert selection.partial_downloads(missing, "ds", keys) == []

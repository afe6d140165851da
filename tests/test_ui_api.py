"""The web UI's JSON API in-process (an ASGI test client) over the built-in catalog and the
replica Hub: every route's answer, the OpenAPI that describes it, bad input, and the guard."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.testing.hub import HubServer
from pygestor.ui.app import create_app

BASE = "http://127.0.0.1:8765"
UI = {"X-Pygestor": "1"}  # what the UI's pages send with every state-changing request
TRAIN = "train-00000-of-00001.parquet"


@pytest.fixture
def client(catalog: Catalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog), base_url=BASE) as test_client:
        yield test_client


def _files(root: Path) -> list[str]:
    """Every file and folder under `root` (what a refused request must leave as it was)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def _one_line(body: dict[str, object]) -> str:
    message = body["error"]
    assert isinstance(message, str) and message and "\n" not in message
    return message


# ---- the OpenAPI -----------------------------------------------------------------------------
CONTRACT = {
    ("get", "/api/health"),
    ("get", "/api/datasets"),
    ("get", "/api/datasets/{name}"),
    ("delete", "/api/datasets/{name}"),
    ("get", "/api/datasets/{name}/manifest"),
    ("patch", "/api/datasets/{name}/manifest"),
    ("post", "/api/datasets/{name}/sync"),
    ("get", "/api/datasets/{name}/updates"),
    ("get", "/api/datasets/{name}/subsets/{subset}/partitions"),
    ("get", "/api/datasets/{name}/subsets/{subset}/schema"),
    ("get", "/api/datasets/{name}/subsets/{subset}/preview"),
    ("get", "/api/datasets/{name}/subsets/{subset}/snippets"),
    ("post", "/api/datasets/{name}/remove/plan"),
    ("post", "/api/datasets/{name}/remove"),
    ("post", "/api/manifests/propose"),
    ("post", "/api/manifests/check"),
    ("post", "/api/manifests"),
    ("get", "/api/jobs"),
    ("post", "/api/jobs"),
    ("get", "/api/jobs/{job_id}"),
    ("post", "/api/jobs/{job_id}/cancel"),
    ("post", "/api/jobs/{job_id}/resume"),
    ("delete", "/api/jobs/{job_id}"),
    ("get", "/api/jobs/events"),
}


def test_the_openapi_describes_every_route_its_body_and_its_answer(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    routes = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert routes == CONTRACT
    for method, path in CONTRACT:
        operation = spec["paths"][path][method]
        ok = next(code for code in operation["responses"] if code.startswith("2"))
        if (method, path) == ("delete", "/api/jobs/{job_id}"):
            assert ok == "204"
        elif path == "/api/jobs/events":
            assert "text/event-stream" in operation["responses"]["200"]["content"]
        else:
            schema = operation["responses"][ok]["content"]["application/json"]["schema"]
            assert schema != {}, f"{method} {path} has no response schema"
        assert {"404", "422"} <= set(operation["responses"]), f"{method} {path}"
        if method in ("post", "patch") and "{job_id}" not in path and not path.endswith("/sync"):
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert body["$ref"].startswith("#/components/schemas/"), f"{method} {path}"
    names = spec["paths"]["/api/datasets/{name}"]["get"]["parameters"][0]["schema"]
    assert names["pattern"] == r"^[A-Za-z0-9_][A-Za-z0-9._-]*$" and names["maxLength"] == 200
    assert spec["paths"]["/api/jobs"]["post"]["responses"]["201"]


# ---- datasets --------------------------------------------------------------------------------
def test_health(client: TestClient) -> None:
    from pygestor import __version__

    assert client.get("/api/health").json() == {"ok": True, "version": __version__}


def test_the_datasets_page_searches_filters_sorts_and_pages(client: TestClient) -> None:
    page = client.get("/api/datasets").json()
    assert (page["total"], page["catalog_total"], page["pages"], page["per_page"]) == (
        20,
        20,
        2,
        10,
    )
    assert [d["name"] for d in page["items"]] == [
        "alpaca",
        "c4",
        "cifar10",
        "cosmopedia",
        "dolly",
        "dolly-parquet",
        "fineweb",
        "fineweb-2",
        "fineweb-edu",
        "gsm8k",
    ]
    assert page["facets"]["modality"] == ["audio", "image", "text"]
    found = client.get("/api/datasets", params={"q": "wiki", "per_page": 100}).json()
    assert [d["name"] for d in found["items"]] == [
        "cosmopedia",
        "squad",
        "wikipedia",
        "wikitext",
        "wit_base",
    ]
    images = client.get("/api/datasets", params={"modality": "image", "sort": "name"}).json()
    assert [d["name"] for d in images["items"]] == ["cifar10", "mnist", "wit_base"]
    assert images["query"] == {
        "q": "",
        "modality": "image",
        "license": None,
        "tag": None,
        "local_only": False,
    }
    last = client.get("/api/datasets", params={"page": 2, "order": "desc"}).json()
    assert [d["name"] for d in last["items"]][:2] == ["gsm8k", "fineweb-edu"]
    mnist = next(d for d in images["items"] if d["name"] == "mnist")
    assert mnist["builtin"] is True and mnist["synced_at"] is None and mnist["bytes_local"] == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("page=0", "query parameter page: input should be greater than or equal to 1 (got '0')"),
        ("per_page=501", "query parameter per_page: input should be less than or equal to 500"),
        ("sort=size", "query parameter sort: input should be 'name', 'modality', "),
        ("order=up", "query parameter order: input should be 'asc' or 'desc' (got 'up')"),
        ("page=x", "query parameter page: input should be a valid integer"),
    ],
)
def test_bad_paging_is_a_422_naming_the_parameter(
    client: TestClient, query: str, message: str
) -> None:
    answer = client.get(f"/api/datasets?{query}")
    assert answer.status_code == 422
    assert _one_line(answer.json()).startswith(message)
    assert answer.json()["type"] == "InvalidRequest"


def test_an_unknown_dataset_is_a_404_with_the_suggestion(client: TestClient) -> None:
    for answer in (
        client.get("/api/datasets/wikipedai"),
        client.get("/api/datasets/wikipedai/manifest"),
        client.post("/api/datasets/wikipedai/sync", headers=UI),
        client.delete("/api/datasets/wikipedai", headers=UI),
        client.get("/api/datasets/wikipedai/subsets/train/partitions"),
    ):
        assert answer.status_code == 404, answer.text
        assert answer.json() == {
            "error": "no dataset named 'wikipedai' in the catalog; did you mean 'wikipedia'?",
            "type": "DatasetNotFound",
        }


def test_sync_then_the_dataset_and_its_subsets(
    client: TestClient, replica_hub: HubServer, tmp_path: Path
) -> None:
    before = client.get("/api/datasets/mnist").json()
    assert before["subsets_table"] is None and before["editable"] is False
    synced = client.post("/api/datasets/mnist/sync", headers=UI)
    assert synced.status_code == 200
    result = synced.json()
    assert (result["dataset"], result["subsets"], result["partitions"], result["bytes"]) == (
        "mnist",
        2,
        2,
        12890,
    )
    assert result["commit"] == replica_hub.hub.head("ylecun/mnist")
    assert result["error"] is None and result["unmatched"] == [".gitattributes", "README.md"]
    assert (tmp_path / "data" / ".pygestor").is_dir()
    detail = client.get("/api/datasets/mnist").json()
    assert [(s["subset"], s["partitions"], s["bytes"], s["states"]["remote"]) for s in
            detail["subsets_table"]] == [("test", 1, 5535, 1), ("train", 1, 7355, 1)]  # fmt: skip
    assert detail["synced_at"] == result["synced_at"] and detail["partitions"] == 2
    assert client.get("/api/datasets/mnist/updates").json() == []


def test_an_unsynced_dataset_is_a_409(client: TestClient) -> None:
    for answer in (
        client.get("/api/datasets/mnist/subsets/train/partitions"),
        client.get("/api/datasets/mnist/updates"),
    ):
        assert answer.status_code == 409
        assert answer.json() == {
            "error": "dataset 'mnist' has not been synced yet; run 'pygestor sync mnist'",
            "type": "NotSynced",
        }


def test_partitions_snippets_and_removal(client: TestClient, catalog: Catalog) -> None:
    catalog.download("mnist", "train")
    page = client.get("/api/datasets/mnist/subsets/train/partitions").json()
    assert page["states"] == {"local": 1, "stale": 0, "gone": 0, "partial": 0, "remote": 0}
    assert (page["total"], page["bytes"], page["bytes_local"]) == (1, 7355, 7355)
    (row,) = page["items"]
    assert (row["partition"], row["size"], row["state"], row["rows"]) == (TRAIN, 7355, "local", 6)
    assert (
        row["sha256"]
        == hashlib.sha256(
            (catalog.settings.data_dir / "mnist" / "train" / TRAIN).read_bytes()
        ).hexdigest()
    )
    remote = client.get("/api/datasets/mnist/subsets/test/partitions?state=local").json()
    assert remote["total"] == 0 and remote["states"]["remote"] == 1
    bad_state = client.get("/api/datasets/mnist/subsets/test/partitions?state=lost")
    assert bad_state.status_code == 422 and "state" in _one_line(bad_state.json())

    snippets = client.get(f"/api/datasets/mnist/subsets/train/snippets?partition={TRAIN}").json()
    assert snippets["cli"] == f"pygestor download mnist -s train -p {TRAIN}\n"
    assert snippets["load"] == (
        f"import pygestor\n\ndf = pygestor.load('mnist', subset='train', partitions=['{TRAIN}'])\n"
    )
    assert set(snippets) == {"load", "stream", "polars", "duckdb", "cli"}
    unknown = client.get("/api/datasets/mnist/subsets/train/snippets?partition=nope.parquet")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == (
        f"no partition 'nope.parquet' in the chosen subsets of 'mnist'; known: {TRAIN}"
    )

    target = catalog.settings.data_dir / "mnist" / "train" / TRAIN
    plan = client.post("/api/datasets/mnist/remove/plan", json={"subsets": ["train"]}, headers=UI)
    assert plan.status_code == 200
    assert (plan.json()["bytes"], plan.json()["records"]) == (7355, [f"train/{TRAIN}"])
    assert plan.json()["files"] == [
        {"subset": "train", "partition": TRAIN, "kind": "data", "path": str(target), "size": 7355}
    ]
    assert target.exists()  # a plan deletes nothing
    report = client.post("/api/datasets/mnist/remove", json={"subsets": ["train"]}, headers=UI)
    assert report.status_code == 200
    assert (report.json()["bytes"], report.json()["records"]) == (7355, [f"train/{TRAIN}"])
    assert not target.exists()
    again = client.get("/api/datasets/mnist/subsets/train/partitions").json()
    assert again["states"]["remote"] == 1 and again["bytes_local"] == 0


def test_removal_bodies_are_checked(client: TestClient, catalog: Catalog) -> None:
    catalog.sync("mnist")
    several = client.post("/api/datasets/mnist/remove/plan", json={}, headers=UI)
    assert several.status_code == 422 and several.json()["type"] == "SelectionError"
    typo = client.post("/api/datasets/mnist/remove", json={"subset": ["train"]}, headers=UI)
    assert typo.status_code == 422
    assert _one_line(typo.json()).startswith("body field subset: extra inputs are not permitted")
    unknown = client.post(
        "/api/datasets/mnist/remove", json={"subsets": ["validation"]}, headers=UI
    )
    assert unknown.status_code == 404 and unknown.json()["type"] == "SubsetNotFound"


def test_forget_drops_the_index_and_optionally_the_user_manifest(
    client: TestClient, catalog: Catalog, tmp_path: Path
) -> None:
    catalog.sync("mnist")
    answer = client.delete("/api/datasets/mnist", headers=UI)
    assert answer.json() == {"forgotten": True, "deleted_manifest": None}
    assert client.get("/api/datasets/mnist").json()["synced_at"] is None
    assert client.delete("/api/datasets/mnist", headers=UI).json()["forgotten"] is False


# ---- hostile names ---------------------------------------------------------------------------
HOSTILE = [
    ("..%2Fetc", 404),  # a slash: no route has a subset there
    ("%2e%2e", 422),  # '..' once decoded
    ("..", 404),  # normalized away by the client: /subsets/partitions is no route
    ("%00", 422),
    ("a%00b", 422),
    ("x" * 300, 422),
    ("%C3%BCber", 422),  # über
    (".hidden", 422),
    ("a%20b", 422),
    ("%5C..%5Cetc", 422),  # backslashes
]


@pytest.mark.parametrize(("subset", "status"), HOSTILE)
@pytest.mark.parametrize("route", ["partitions", "schema", "preview", "snippets"])
def test_hostile_subset_names_are_refused_before_anything_is_read(
    client: TestClient, catalog: Catalog, subset: str, status: int, route: str
) -> None:
    catalog.sync("mnist")
    data = catalog.settings.data_dir
    before = _files(data.parent)
    answer = client.get(f"/api/datasets/mnist/subsets/{subset}/{route}")
    assert answer.status_code == status, answer.text
    message = _one_line(answer.json())
    if status == 422:
        assert message.startswith("path parameter subset: ")
    assert _files(data.parent) == before


def test_hostile_dataset_and_job_names(client: TestClient) -> None:
    answer = client.get("/api/datasets/%2e%2e%2fetc")
    assert answer.status_code in (404, 422)
    assert client.post("/api/datasets/%2e%2e/sync", headers=UI).status_code == 422
    job = client.get("/api/jobs/..%00")
    assert job.status_code == 422
    assert _one_line(job.json()).startswith(
        "path parameter job_id: must be letters, digits, '.', '_' or '-', not starting with '.'"
    )
    missing = client.get("/api/jobs/0123456789ab")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": "no job '0123456789ab'; GET /api/jobs lists them",
        "type": "JobNotFound",
    }
    long = client.post("/api/jobs", json={"dataset": "x" * 300}, headers=UI)
    assert long.status_code == 422
    assert _one_line(long.json()).startswith("body field dataset: string should have at most 200")


def test_no_route_is_a_json_404(client: TestClient) -> None:
    answer = client.get("/api/nothing")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no API route /api/nothing", "type": "HTTPError"}
    wrong = client.put("/api/health", headers=UI)
    assert wrong.status_code == 405 and wrong.json()["type"] == "HTTPError"


# ---- the guard -------------------------------------------------------------------------------
def test_a_token_is_required_when_set(catalog: Catalog) -> None:
    app = create_app(catalog, token="s3cret")
    with TestClient(app, base_url=BASE) as client:
        refused = client.get("/api/datasets")
        assert refused.status_code == 401
        assert refused.json()["error"].startswith("a token is required")
        assert (
            client.get("/api/datasets", headers={"Authorization": "Bearer wrong"}).status_code
            == 401
        )
        ok = client.get("/api/datasets", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json()["total"] == 20
        synced = client.post(
            "/api/datasets/mnist/sync", headers={**UI, "Authorization": "Bearer s3cret"}
        )
        assert synced.status_code == 200
        assert client.post("/api/datasets/mnist/sync", headers=UI).status_code == 401
        # a wrong token that is not ASCII is refused like any other (not a 500)
        assert client.get("/api/datasets?token=s3cr%C3%A9t").status_code == 401
        for name, value in [
            ("Cookie", b"pygestor_token=s3cr\xe9t"),
            ("Authorization", b"Bearer \xe9"),
        ]:
            assert client.get("/api/datasets", headers={name: value}).status_code == 401


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "the X-Pygestor: 1 header is missing"),
        ({**UI, "Origin": "http://evil.example"}, "Origin 'http://evil.example' is not this"),
        ({**UI, "Sec-Fetch-Site": "cross-site"}, "Sec-Fetch-Site is 'cross-site'"),
        ({**UI, "Origin": "null"}, "Origin is 'null'"),
    ],
)
def test_cross_site_requests_change_nothing(
    client: TestClient, catalog: Catalog, headers: dict[str, str], why: str
) -> None:
    catalog.download("mnist", "train")
    before = _files(catalog.settings.data_dir)
    for method, url, body in (
        ("POST", "/api/datasets/wikipedia/sync", None),
        ("POST", "/api/datasets/mnist/remove", {"subsets": ["train"]}),
        ("DELETE", "/api/datasets/mnist", None),
        ("POST", "/api/jobs", {"dataset": "mnist", "subsets": ["test"]}),
        ("POST", "/api/manifests", {"text": "name: x\n"}),
    ):
        answer = client.request(method, url, json=body, headers=headers)
        assert answer.status_code == 403, (url, answer.text)
        assert answer.json()["error"].startswith(f"cross-site request refused: {why}")
    assert _files(catalog.settings.data_dir) == before
    assert client.get("/api/jobs").json() == []


def test_a_foreign_host_header_is_421(client: TestClient) -> None:
    answer = client.get("/api/datasets", headers={"Host": "evil.example"})
    assert answer.status_code == 421
    assert answer.json() == {
        "error": "this server answers only on loopback, not 'evil.example'",
        "type": "Refused",
    }
    assert client.get("/api/health", headers={"Host": "localhost:8765"}).status_code == 200


# ---- manifests -------------------------------------------------------------------------------
USER_MANIFEST = """\
# our copy of mnist, kept by the lab
name: lab-mnist
description: MNIST as the lab uses it  # short
modality: [image]
source: {huggingface: ylecun/mnist}
subsets:
  - files: "mnist/{subset}-*.parquet"
"""


def _user_catalog(tmp_path: Path) -> Path:
    return tmp_path / "user-catalog"


def test_a_builtin_manifest_is_read_only(client: TestClient, catalog: Catalog) -> None:
    answer = client.get("/api/datasets/mnist/manifest").json()
    assert (answer["name"], answer["builtin"], answer["editable"]) == ("mnist", True, False)
    assert answer["sha256"] == hashlib.sha256(answer["text"].encode()).hexdigest()
    refused = client.patch("/api/datasets/mnist/manifest", json={"description": "mine"}, headers=UI)
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"] == "ReadOnlyManifest"
    assert client.get("/api/datasets/mnist/manifest").json()["text"] == answer["text"]


def test_editing_a_user_manifest_keeps_its_comments(client: TestClient, tmp_path: Path) -> None:
    path = write_manifest(_user_catalog(tmp_path), "lab-mnist", USER_MANIFEST)
    before = client.get("/api/datasets/lab-mnist/manifest").json()
    assert before["editable"] is True and before["text"] == USER_MANIFEST
    edited = client.patch(
        "/api/datasets/lab-mnist/manifest",
        json={
            "description": "MNIST, 6 rows",
            "tags": ["digits"],
            "expected_sha256": before["sha256"],
        },
        headers=UI,
    )
    assert edited.status_code == 200, edited.text
    text = path.read_text(encoding="utf-8")
    assert edited.json()["text"] == text
    assert text.startswith("# our copy of mnist, kept by the lab\n")
    assert "description: MNIST, 6 rows  # short\n" in text and "digits" in text
    stale = client.patch(
        "/api/datasets/lab-mnist/manifest",
        json={"description": "again", "expected_sha256": before["sha256"]},
        headers=UI,
    )
    assert stale.status_code == 409, stale.text
    assert path.read_text(encoding="utf-8") == text
    unknown = client.patch("/api/datasets/lab-mnist/manifest", json={"source": "x"}, headers=UI)
    assert unknown.status_code == 422
    assert unknown.json()["error"].startswith("body field source: extra inputs are not permitted")


def test_forget_with_manifest_deletes_the_user_file(client: TestClient, tmp_path: Path) -> None:
    path = write_manifest(_user_catalog(tmp_path), "lab-mnist", USER_MANIFEST)
    client.post("/api/datasets/lab-mnist/sync", headers=UI)
    answer = client.delete("/api/datasets/lab-mnist?manifest=true", headers=UI)
    assert answer.json() == {"forgotten": True, "deleted_manifest": str(path)}
    assert not path.exists()
    assert client.get("/api/datasets/lab-mnist").status_code == 404


def test_check_says_ok_or_422_with_the_problem_line(client: TestClient) -> None:
    ok = client.post("/api/manifests/check", json={"text": USER_MANIFEST}, headers=UI)
    assert ok.status_code == 200 and ok.json() == {"ok": True, "problems": [], "error": None,
                                                   "type": None}  # fmt: skip
    broken = client.post(
        "/api/manifests/check", json={"text": "name: x\nsubsets: [\n  - files: a\n"}, headers=UI
    )
    assert broken.status_code == 422
    message = "invalid YAML: did not find expected node content"
    assert broken.json() == {
        "ok": False,
        "problems": [{"file": "<editor>", "line": 3, "field": "", "message": message}],
        "error": f"<editor>:3: {message}",
        "type": "InvalidManifest",
    }
    bad_name = USER_MANIFEST.replace("name: lab-mnist", "name: Lab MNIST")
    named = client.post("/api/manifests/check", json={"text": bad_name}, headers=UI).json()
    assert named["error"].startswith("<editor>:2: name: 'Lab MNIST' is not a dataset name: ")
    assert [(p["line"], p["field"]) for p in named["problems"]] == [(2, "name")]


def test_saving_a_manifest_writes_it_and_syncs_it(
    client: TestClient, tmp_path: Path, replica_hub: HubServer
) -> None:
    saved = client.post("/api/manifests", json={"text": USER_MANIFEST}, headers=UI)
    assert saved.status_code == 201, saved.text
    path = _user_catalog(tmp_path) / "lab-mnist.yaml"
    assert path.read_text(encoding="utf-8") == USER_MANIFEST
    body = saved.json()
    assert body["manifest"]["path"] == str(path) and body["manifest"]["editable"] is True
    assert (body["sync"]["subsets"], body["sync"]["bytes"], body["sync"]["error"]) == (
        2,
        12890,
        None,
    )
    assert body["sync"]["commit"] == replica_hub.hub.head("ylecun/mnist")
    again = client.post("/api/manifests", json={"text": USER_MANIFEST}, headers=UI)
    assert again.status_code == 409, again.text
    invalid = client.post("/api/manifests", json={"text": "name: [unclosed\n"}, headers=UI)
    assert invalid.status_code == 422
    message = "invalid YAML: did not find expected ',' or ']'"
    assert invalid.json() == {
        "error": f"<editor>:2: {message}",
        "type": "InvalidManifest",
        "problems": [{"file": "<editor>", "line": 2, "field": "", "message": message}],
    }
    assert sorted(p.name for p in _user_catalog(tmp_path).iterdir()) == ["lab-mnist.yaml"]


def test_propose_shows_what_add_would_write(client: TestClient, tmp_path: Path) -> None:
    answer = client.post("/api/manifests/propose", json={"repo": "ylecun/mnist"}, headers=UI)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "source:" in body["text"] and body["name"] in body["text"]
    assert [(s["subset"], s["partitions"], s["bytes"]) for s in body["subsets"]] == [
        ("test", 1, 5535),
        ("train", 1, 7355),
    ]
    assert not _user_catalog(tmp_path).exists() or not any(_user_catalog(tmp_path).iterdir())
    foreign = client.post(
        "/api/manifests/propose",
        json={"repo": "https://evil.example/datasets/a/b"},
        headers=UI,
    )
    assert foreign.status_code == 422, foreign.text


# ---- peeking into a partition ----------------------------------------------------------------
def test_schema_and_preview_of_a_remote_partition(client: TestClient, catalog: Catalog) -> None:
    catalog.sync("mnist")
    schema = client.get(f"/api/datasets/mnist/subsets/train/schema?partition={TRAIN}").json()
    assert (schema["location"], schema["format"], schema["num_rows"]) == ("remote", "parquet", 6)
    assert [c["name"] for c in schema["columns"]] == ["image", "label"]
    preview = client.get("/api/datasets/mnist/subsets/train/preview?rows=2&columns=label").json()
    assert [row["label"] for row in preview["rows"]] == [
        row["label"] for row in catalog.preview("mnist", "train", rows=2)["rows"]
    ]
    assert [c["name"] for c in preview["columns"]] == ["label"]
    assert 0 < preview["bytes_fetched"] <= 7355
    assert not (catalog.settings.data_dir / "mnist" / "train" / TRAIN).exists()
    too_many = client.get("/api/datasets/mnist/subsets/train/preview?rows=1001")
    assert too_many.status_code == 422
    assert too_many.json()["error"].startswith("query parameter rows: input should be less than")


def test_user_catalog_settings_are_respected(tmp_path: Path, replica_hub: HubServer) -> None:
    """A catalog of user manifests only (no built-in): the API lists what the settings say."""
    write_manifest(_user_catalog(tmp_path), "lab-mnist", USER_MANIFEST)
    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint, include_builtin=False))
    with TestClient(create_app(catalog), base_url=BASE) as client:
        page = client.get("/api/datasets").json()
    assert [d["name"] for d in page["items"]] == ["lab-mnist"] and page["catalog_total"] == 1


def test_the_preview_fragment_takes_a_byte_cap_within_the_librarys_bounds(
    client: TestClient, catalog: Catalog
) -> None:
    catalog.sync(["mnist"])
    url = "/fragments/datasets/mnist/subsets/train/preview"
    shown = client.get(f"{url}?max_bytes={2**20}")
    assert shown.status_code == 200
    assert f'<option value="{2**20}" selected>' in shown.text
    for bad in (1, 65 * 2**20):
        assert client.get(f"{url}?max_bytes={bad}").status_code == 422

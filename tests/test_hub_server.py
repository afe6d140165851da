"""The test hub, checked with the real `huggingface_hub` client (never mocks).

The client reads its environment once, at import: every call here passes `endpoint=`,
`cache_dir=` and `token=` explicitly, and the env fixture only keeps HOME/HF_HOME away from
the user's real files.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi, hf_hub_download, hf_hub_url, snapshot_download
from huggingface_hub.errors import (
    GatedRepoError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)
from huggingface_hub.hf_api import RepoFile, RepoFolder

import pygestor.testing
from pygestor.testing import Fault, HubServer, InvalidName, LocalHub, RepoExists
from pygestor.testing.hub import git_blob_id

REPO_ROOT = Path(__file__).resolve().parents[1]
CONVERT = "refs/convert/parquet"
README = b"---\nlicense: mit\npretty_name: Demo\n---\n# Demo\n"
CSV = b"id,text\n1,hello\n2,world\n"
PARQUET = bytes(range(256)) * 1200  # 300 KiB, LFS by extension
TOKEN = "hf_test_gate_token"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> LocalHub:
    hub = LocalHub(tmp_path_factory.mktemp("hub"))
    big = {f"data/{i // 500}/part-{i:04d}.txt": f"row {i}\n".encode() for i in range(2500)}
    hub.create_repo("acme/big", big)
    files = {"README.md": README, "data/train.csv": CSV, "data/train.parquet": PARQUET}
    hub.create_repo("acme/ds", files)
    hub.create_branch("acme/ds", CONVERT, from_revision=None)
    hub.commit(
        "acme/ds",
        add={"default/train/0000.parquet": PARQUET[::-1]},
        revision=CONVERT,
        message="Update parquet files",
    )
    hub.create_tag("acme/ds", "v1.0")
    hub.create_repo("acme/gated", {"small.txt": CSV, "big.parquet": PARQUET})
    hub.set_gated("acme/gated", TOKEN)
    return hub


@pytest.fixture(scope="module")
def module_srv(hub: LocalHub) -> Iterator[HubServer]:
    with HubServer(hub) as srv:
        yield srv


@pytest.fixture
def srv(module_srv: HubServer) -> HubServer:
    module_srv.faults.clear()
    module_srv.requests.clear()
    return module_srv


@pytest.fixture
def api(srv: HubServer) -> HfApi:
    return HfApi(endpoint=srv.endpoint, token=False)


def download(srv: HubServer, tmp_path: Path, repo_id: str, filename: str, **kw: Any) -> bytes:
    kw.setdefault("token", False)
    path = hf_hub_download(
        repo_id,
        filename,
        repo_type="dataset",
        endpoint=srv.endpoint,
        cache_dir=tmp_path / "cache",
        **kw,
    )
    return Path(path).read_bytes()


def raw_get(url: str, **headers: str) -> http.client.HTTPResponse:
    return urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10)


# --- listing and metadata -------------------------------------------------------------------


def test_recursive_tree_of_2500_files_follows_pages(api: HfApi, srv: HubServer) -> None:
    entries = list(api.list_repo_tree("acme/big", repo_type="dataset", recursive=True))
    files = [e for e in entries if isinstance(e, RepoFile)]
    folders = {e.path for e in entries if isinstance(e, RepoFolder)}
    assert len({f.path for f in files}) == len(files) == 2500
    assert folders == {"data", *(f"data/{k}" for k in range(5))}
    pages = srv.requests.filter(path="/tree/")
    assert len(pages) >= 3
    assert "cursor=" in pages[-1].query and pages[0].status == 200


def test_non_recursive_and_expanded_listing(api: HfApi, srv: HubServer) -> None:
    top = list(api.list_repo_tree("acme/big", "data", repo_type="dataset"))
    assert [e.path for e in top] == [f"data/{k}" for k in range(5)]
    expanded = list(api.list_repo_tree("acme/big", "data/0", repo_type="dataset", expand=True))
    assert len(expanded) == 500
    assert {e.last_commit.oid for e in expanded} == {srv.hub.head("acme/big")}
    assert len(srv.requests.filter(path=r"/tree/main/data%2F0")) == 10  # 50 a page


def test_last_commit_tracks_changes(hub: LocalHub, api: HfApi) -> None:
    first = hub.create_repo("acme/history", {"a.txt": b"a", "b.txt": b"b"})
    second = hub.commit("acme/history", add={"b.txt": b"b2"}, message="change b\n\nbody")
    listing = {
        e.path: e for e in api.list_repo_tree("acme/history", repo_type="dataset", expand=True)
    }
    assert listing["a.txt"].last_commit.oid == first
    assert listing["b.txt"].last_commit.oid == second
    commits = api.list_repo_commits("acme/history", repo_type="dataset")
    assert [c.commit_id for c in commits] == [second, first]
    assert (commits[0].title, commits[0].message) == ("change b", "body")


def test_dataset_info_sha_siblings_and_card(hub: LocalHub, api: HfApi) -> None:
    info = api.dataset_info("acme/ds", files_metadata=True)
    assert info.sha == hub.head("acme/ds")
    siblings = {s.rfilename: s for s in info.siblings}
    assert set(siblings) == {"README.md", "data/train.csv", "data/train.parquet"}
    parquet, csv = siblings["data/train.parquet"], siblings["data/train.csv"]
    assert parquet.lfs.sha256 == hashlib.sha256(PARQUET).hexdigest()
    assert parquet.size == parquet.lfs.size == len(PARQUET)
    assert csv.lfs is None and csv.blob_id == git_blob_id(CSV) and csv.size == len(CSV)
    assert info.card_data.license == "mit"
    at_convert = api.dataset_info("acme/ds", revision=CONVERT)
    assert at_convert.sha == hub.head("acme/ds", CONVERT)
    assert [s.rfilename for s in at_convert.siblings] == ["default/train/0000.parquet"]


def test_get_paths_info(api: HfApi) -> None:
    infos = api.get_paths_info(
        "acme/ds", ["data/train.parquet", "data", "missing.txt"], repo_type="dataset"
    )
    assert [(type(i).__name__, i.path) for i in infos] == [
        ("RepoFile", "data/train.parquet"),
        ("RepoFolder", "data"),
    ]
    assert infos[0].lfs.sha256 == hashlib.sha256(PARQUET).hexdigest()


def test_refs_include_convert_branch_and_tag(hub: LocalHub, api: HfApi) -> None:
    refs = api.list_repo_refs("acme/ds", repo_type="dataset")
    assert [(b.name, b.ref) for b in refs.branches] == [("main", "refs/heads/main")]
    assert [(c.name, c.ref, c.target_commit) for c in refs.converts] == [
        ("parquet", CONVERT, hub.head("acme/ds", CONVERT))
    ]
    assert [t.name for t in refs.tags] == ["v1.0"]


# --- downloads --------------------------------------------------------------------------------


def test_download_small_and_lfs_files(srv: HubServer, tmp_path: Path) -> None:
    assert download(srv, tmp_path, "acme/ds", "data/train.csv") == CSV
    assert download(srv, tmp_path, "acme/ds", "data/train.parquet") == PARQUET
    head = srv.requests.filter(method="HEAD", path="train.parquet")[0]
    assert head.status == 302
    lfs = srv.requests.filter(origin="lfs")
    assert [(r.method, r.status, r.bytes_sent) for r in lfs] == [("GET", 200, len(PARQUET))]


def test_snapshot_download(srv: HubServer, tmp_path: Path) -> None:
    folder = Path(
        snapshot_download(
            "acme/ds",
            repo_type="dataset",
            endpoint=srv.endpoint,
            cache_dir=tmp_path / "cache",
            token=False,
        )
    )
    got = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    assert got == {"README.md": README, "data/train.csv": CSV, "data/train.parquet": PARQUET}


def test_old_commit_stays_downloadable(hub: LocalHub, srv: HubServer, tmp_path: Path) -> None:
    old = hub.create_repo("acme/versioned", {"a.txt": b"old", "x.parquet": b"old-lfs"})
    new = hub.commit("acme/versioned", add={"a.txt": b"new", "x.parquet": b"new-lfs"})
    assert old != new
    for name, before, after in [("a.txt", b"old", b"new"), ("x.parquet", b"old-lfs", b"new-lfs")]:
        assert download(srv, tmp_path, "acme/versioned", name, revision=old) == before
        assert download(srv, tmp_path, "acme/versioned", name) == after


def test_download_from_convert_revision(srv: HubServer, tmp_path: Path) -> None:
    data = download(srv, tmp_path, "acme/ds", "default/train/0000.parquet", revision=CONVERT)
    assert data == PARQUET[::-1]
    assert srv.requests.filter(path="refs%2Fconvert%2Fparquet")


def test_missing_repo_revision_and_file(api: HfApi, srv: HubServer, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError) as missing_repo:
        download(srv, tmp_path, "acme/nope", "a.txt")
    assert not isinstance(missing_repo.value, GatedRepoError)
    with pytest.raises(RevisionNotFoundError):
        download(srv, tmp_path, "acme/ds", "data/train.csv", revision="no-such-branch")
    with pytest.raises(RemoteEntryNotFoundError):
        download(srv, tmp_path, "acme/ds", "data/nope.csv")
    with pytest.raises(RepositoryNotFoundError):
        api.dataset_info("acme/nope")
    with pytest.raises(RevisionNotFoundError):
        list(api.list_repo_tree("acme/ds", repo_type="dataset", revision="f" * 40))


def test_gated_repo_needs_its_token(hub: LocalHub, srv: HubServer, tmp_path: Path) -> None:
    with pytest.raises(GatedRepoError):
        download(srv, tmp_path, "acme/gated", "small.txt")
    with pytest.raises(GatedRepoError):
        download(srv, tmp_path, "acme/gated", "big.parquet", token="wrong")
    assert HfApi(endpoint=srv.endpoint, token=False).dataset_info("acme/gated").gated == "auto"
    srv.requests.clear()
    assert download(srv, tmp_path, "acme/gated", "small.txt", token=TOKEN) == CSV
    assert download(srv, tmp_path, "acme/gated", "big.parquet", token=TOKEN) == PARQUET
    assert all(r.authorization for r in srv.requests.filter(origin="main"))
    assert srv.requests.filter(origin="lfs")
    assert not any(r.authorization for r in srv.requests.filter(origin="lfs"))


def test_gate_api_and_private_repos(hub: LocalHub, srv: HubServer) -> None:
    hub.create_repo("acme/hidden", {"a.txt": b"a"}, private=True)
    hub.create_repo("acme/strict", {"a.txt": b"a"})
    hub.set_gated("acme/strict", TOKEN, gate_api=True)
    anonymous = HfApi(endpoint=srv.endpoint, token=False)
    with pytest.raises(RepositoryNotFoundError):
        anonymous.dataset_info("acme/hidden")
    assert HfApi(endpoint=srv.endpoint, token="any").dataset_info("acme/hidden").private is True
    with pytest.raises(GatedRepoError):
        anonymous.dataset_info("acme/strict")
    assert HfApi(endpoint=srv.endpoint, token=TOKEN).dataset_info("acme/strict").sha


def test_range_requests(srv: HubServer) -> None:
    lfs_url = hf_hub_url(
        "acme/ds", "data/train.parquet", repo_type="dataset", endpoint=srv.endpoint
    )
    with raw_get(lfs_url, Range="bytes=1000-") as resp:  # urllib follows the 302
        assert resp.status == 206
        assert resp.headers["Content-Range"] == f"bytes 1000-{len(PARQUET) - 1}/{len(PARQUET)}"
        assert resp.read() == PARQUET[1000:]
    assert srv.requests.filter(origin="lfs")[0].range == "bytes=1000-"
    csv_url = hf_hub_url("acme/ds", "data/train.csv", repo_type="dataset", endpoint=srv.endpoint)
    with raw_get(csv_url, Range="bytes=3-6") as resp:
        assert (resp.status, resp.read()) == (206, CSV[3:7])
    with pytest.raises(urllib.error.HTTPError) as err:
        raw_get(csv_url, Range=f"bytes={len(CSV)}-")
    assert err.value.code == 416


def test_error_bodies_are_json(srv: HubServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as err:
        raw_get(f"{srv.endpoint}/datasets/acme/ds/resolve/main/nope.txt")
    assert err.value.code == 404
    assert err.value.headers["X-Error-Code"] == "EntryNotFound"
    assert err.value.headers["X-Repo-Commit"] == srv.hub.head("acme/ds")
    assert "nope.txt" in json.loads(err.value.read())["error"]
    with pytest.raises(urllib.error.HTTPError) as err:
        raw_get(f"{srv.endpoint}/api/agent-harnesses")
    assert err.value.code == 404


# --- faults -----------------------------------------------------------------------------------


def test_500_once_on_head_is_retried(srv: HubServer, tmp_path: Path) -> None:
    fault = srv.faults.add(Fault(status=500, method="HEAD", path=r"/resolve/"))
    assert download(srv, tmp_path, "acme/ds", "data/train.csv") == CSV
    assert [r.status for r in srv.requests.filter(method="HEAD")] == [500, 200]
    assert srv.requests.filter(method="HEAD")[0].fault == "status 500"
    assert srv.faults.remaining(fault) == 0


def test_status_fault_sends_its_headers(srv: HubServer) -> None:
    srv.faults.add(Fault(status=429, headers={"Retry-After": "1"}, path="/refs$", times=None))
    for _ in range(2):
        with pytest.raises(urllib.error.HTTPError) as err:
            raw_get(f"{srv.endpoint}/api/datasets/acme/ds/refs")
        assert (err.value.code, err.value.headers["Retry-After"]) == (429, "1")
    srv.faults.clear()
    with raw_get(f"{srv.endpoint}/api/datasets/acme/ds/refs") as resp:
        assert resp.status == 200


def test_truncated_body(srv: HubServer, tmp_path: Path) -> None:
    srv.faults.add(Fault(truncate_after=100, origin="lfs"))
    url = hf_hub_url("acme/ds", "data/train.parquet", repo_type="dataset", endpoint=srv.endpoint)
    with raw_get(url) as resp, pytest.raises(http.client.IncompleteRead):
        resp.read()
    assert srv.requests.filter(origin="lfs")[0].bytes_sent == 100
    # The client notices the cut and downloads again (from 0: the file is under 10 MiB).
    srv.faults.add(Fault(truncate_after=100, origin="lfs"))
    srv.requests.clear()
    assert download(srv, tmp_path, "acme/ds", "data/train.parquet") == PARQUET
    assert [r.bytes_sent for r in srv.requests.filter(origin="lfs")] == [100, len(PARQUET)]


def test_dropped_connection(srv: HubServer) -> None:
    srv.faults.add(Fault(drop=True, path="/api/datasets/acme/ds$"))
    with pytest.raises((ConnectionError, urllib.error.URLError)):
        raw_get(f"{srv.endpoint}/api/datasets/acme/ds")
    assert srv.requests.filter(path="acme/ds$")[0].status is None
    with raw_get(f"{srv.endpoint}/api/datasets/acme/ds") as resp:  # only once
        assert json.loads(resp.read())["id"] == "acme/ds"


def test_slow_body_and_latency(srv: HubServer) -> None:
    url = f"{srv.endpoint}/datasets/acme/ds/resolve/main/data/train.csv"
    srv.faults.add(Fault(chunk_delay=0.05, chunk_size=5, path="train.csv"))
    started = time.monotonic()
    with raw_get(url) as resp:
        assert resp.read() == CSV
    assert time.monotonic() - started >= 0.05 * (len(CSV) // 5)
    srv.faults.latency = 0.3
    started = time.monotonic()
    with raw_get(f"{srv.endpoint}/api/datasets/acme/ds/refs") as resp:
        resp.read()
    assert 0.3 <= time.monotonic() - started < 5
    srv.faults.latency = 0
    srv.faults.add(Fault(latency=0.2, origin="main"))
    started = time.monotonic()
    with raw_get(f"{srv.endpoint}/api/datasets/acme/ds/refs") as resp:
        resp.read()
    assert time.monotonic() - started >= 0.2
    assert srv.requests.filter(path="/refs")[-1].fault == "latency 0.2s"


def test_fault_validation() -> None:
    with pytest.raises(ValueError):
        Fault(status=500, drop=True)
    with pytest.raises(ValueError):
        Fault(origin="cdn")  # type: ignore[arg-type]


# --- storage ----------------------------------------------------------------------------------


def test_commit_ids_are_deterministic_and_blobs_dedup(tmp_path: Path) -> None:
    one, two = LocalHub(tmp_path / "one"), LocalHub(tmp_path / "two")
    files = {"a.txt": b"same", "b/c.txt": b"same", "d.parquet": b"lfs"}
    assert one.create_repo("o/r", files) == two.create_repo("o/r", files)
    changed = one.commit("o/r", add={"a.txt": b"changed"})
    assert changed != two.head("o/r") and len(changed) == 40
    assert sorted(p.name for p in (tmp_path / "two" / "blobs").iterdir()) == sorted(
        {hashlib.sha256(b"same").hexdigest(), hashlib.sha256(b"lfs").hexdigest()}
    )
    repo_dir = tmp_path / "one" / "datasets" / "o--r"
    assert (repo_dir / "commits" / f"{changed}.json").is_file()
    refs = json.loads((repo_dir / "refs.json").read_text())
    assert refs == {"refs/heads/main": changed}
    entry = one.files("o/r")["d.parquet"]
    assert entry["lfs"] and entry["size"] == 3


def test_store_rules(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path, lfs_threshold=100)
    hub.create_repo("solo", {"small.txt": b"x", "large.txt": b"x" * 100, "v1.bin/README": b"x"})
    lfs = {path: entry["lfs"] for path, entry in hub.files("solo").items()}
    assert lfs == {"small.txt": False, "large.txt": True, "v1.bin/README": False}
    with pytest.raises(RepoExists):
        hub.create_repo("solo")
    for bad in ["../escape", "/abs", "a//b", "a/./b"]:
        with pytest.raises(InvalidName):
            hub.commit("solo", add={bad: b"x"})
    with pytest.raises(InvalidName):
        hub.create_repo("a/b/c")
    with pytest.raises(InvalidName):
        hub.create_branch("solo", "a" * 40)  # would shadow a commit id
    hub.commit("solo", delete=["large.txt", "v1.bin"], revision="dev", message="off main")
    assert set(hub.files("solo", "dev")) == {"small.txt"}
    assert set(hub.files("solo")) == {"small.txt", "large.txt", "v1.bin/README"}


def test_import_folder_mirrors_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"a")
    (folder / "sub" / "b.bin").write_bytes(b"b")
    hub = LocalHub(tmp_path / "root")
    hub.import_folder("me/folder", folder)
    assert hub.read("me/folder", "sub/b.bin") == b"b" and hub.files("me/folder")["sub/b.bin"]["lfs"]
    (folder / "a.txt").unlink()
    hub.import_folder("me/folder", folder)
    assert set(hub.files("me/folder")) == {"sub/b.bin"}
    assert len(hub.log("me/folder")) == 2


def test_50k_file_repo_is_quick(tmp_path: Path) -> None:
    hub = LocalHub(tmp_path)
    files = {f"shard{i // 1000:02d}/row{i:05d}.json": b'{"i": %d}\n' % i for i in range(50_000)}
    started = time.monotonic()
    hub.create_repo("big/repo", files)
    # ~2-3 s on an idle machine; the bound only catches pathologies (e.g. a commit per file),
    # since other jobs sharing the disk can slow this down several times.
    assert time.monotonic() - started < 60
    copies = {f"copy/{path}": data for path, data in files.items()}
    hub.create_repo("big/copy", copies)
    assert len(os.listdir(tmp_path / "blobs")) == 50_000
    assert len(list((tmp_path / "datasets" / "big--repo" / "commits").iterdir())) == 1


# --- CLI and surface --------------------------------------------------------------------------


@contextlib.contextmanager
def _serving(root: Path, *options: str) -> Iterator[str]:
    """`python -m pygestor.testing.hub serve --root ROOT OPTIONS...` running: its endpoint. It
    must stop cleanly on SIGTERM, with nothing on stderr."""
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pygestor.testing.hub", "serve", "--root", str(root), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO_ROOT,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert stderr == ""


def test_cli_serves_a_root(tmp_path: Path) -> None:
    LocalHub(tmp_path).create_repo("demo/cli", {"a.txt": b"hello"})
    with _serving(tmp_path) as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")
        with raw_get(f"{endpoint}/datasets/demo/cli/resolve/main/a.txt") as resp:
            assert resp.read() == b"hello"


def test_cli_caps_the_rate_and_ignores_ranges(tmp_path: Path) -> None:
    LocalHub(tmp_path).create_repo("demo/cli", {"a.txt": b"x" * 100_000})
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    with _serving(tmp_path, "--rate", "400000", "--ignore-range") as endpoint:
        began = time.monotonic()
        url = f"{endpoint}/datasets/demo/cli/resolve/main/a.txt"
        with raw_get(url, Range="bytes=0-9") as resp:
            assert (resp.status, len(resp.read())) == (200, 100_000)  # the whole file
        assert time.monotonic() - began >= 0.2  # 100 kB at 400 kB/s
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "pygestor.testing.hub",
            "serve",
            "--root",
            str(tmp_path),
            "--rate",
            "-1",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1].endswith(
        "--rate -1 is negative; give bytes a second, or 0 for no cap"
    )


def test_public_surface() -> None:
    for name in pygestor.testing.__all__:
        assert getattr(pygestor.testing, name) is getattr(pygestor.testing.hub, name)
    assert set(pygestor.testing.__all__) <= set(pygestor.testing.hub.__all__)


def test_model_urls_say_dataset_repos_only(srv: HubServer, tmp_path: Path) -> None:
    with pytest.raises(RepositoryNotFoundError, match="repo_type='dataset'"):
        hf_hub_download(
            "acme/ds", "data/train.csv", endpoint=srv.endpoint, token=False, cache_dir=tmp_path
        )

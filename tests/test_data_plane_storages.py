"""The data plane on each storage backend: the same scenarios with the data directory on a local
disk and on a real S3 server (SeaweedFS on loopback, `pygestor.testing.s3`). Sync, a download
byte-identical to the Hub's files, load and stream exact, updates, verify, remove, and a kill -9
in the middle of a large file resumed where its uploaded parts end."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import big_repo, make_settings, run_cli
from pygestor.catalog import Catalog
from pygestor.testing import replicas
from pygestor.testing.hub import Fault, HubServer

AB = "20231101.ab"
FR = "20231101.fr"
EN = "20231101.en"
REPO = "wikimedia/wikipedia"


@dataclass
class Backend:
    """Where a test's data directory is: its settings, and the environment of a CLI child."""

    kind: str
    changes: dict[str, Any]
    env: dict[str, str]

    def catalog(self, tmp_path: Path, hub: HubServer, **more: Any) -> Catalog:
        return Catalog(make_settings(tmp_path, hub.endpoint, **self.changes, **more))


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "local":
        data = tmp_path / "data"
        return Backend("local", {}, {"PYGESTOR_DATA_DIR": str(data)})
    url = request.getfixturevalue("seaweed_url")  # a fresh prefix on the SeaweedFS server
    server = request.getfixturevalue("seaweed")
    return Backend(
        "s3",
        {"data_url": url, "storage_options": server.options()},
        {**server.env(), "PYGESTOR_DATA_DIR": url},
    )


def _wikipedia(tmp_path: Path, hub: HubServer, backend: Backend) -> Catalog:
    replicas.install(hub.hub, replicas.wikipedia())
    return backend.catalog(tmp_path, hub)


def _hub_table(hub: HubServer, paths: list[str]) -> pa.Table:
    return pa.concat_tables(pq.read_table(io.BytesIO(hub.hub.read(REPO, p))) for p in paths)


def _keys(catalog: Catalog) -> list[str]:
    return sorted(k for k in catalog.storage.walk("") if not k.startswith(".pygestor/"))


def test_download_load_and_stream_are_exact(
    tmp_path: Path, hub: HubServer, backend: Backend
) -> None:
    catalog = _wikipedia(tmp_path, hub, backend)
    report = catalog.download("wikipedia", [AB, FR], workers=4)
    files = {p: f for p, f in hub.hub.files(REPO).items() if p.startswith((AB, FR))}
    assert sorted(report.fetched) == sorted(files)
    assert report.bytes_fetched == sum(f["size"] for f in files.values())
    assert _keys(catalog) == sorted(f"wikipedia/{p}" for p in files)  # no partial file left
    for path in files:
        assert catalog.storage.read(f"wikipedia/{path}") == hub.hub.read(REPO, path)
    for subset in (AB, FR):
        rows = catalog.partition_records("wikipedia", subset)
        assert {r["state"] for r in rows} == {"local"}
    paths = sorted(p for p in files if p.startswith(AB))
    want = _hub_table(hub, paths)
    got = catalog.load("wikipedia", AB, columns="all", output="arrow")
    assert got.equals(want.select(got.column_names)) and got.num_rows == want.num_rows
    batches = list(catalog.stream("wikipedia", AB, columns="all", output="arrow", batch_size=7))
    assert max(b.num_rows for b in batches) <= 7
    assert pa.Table.from_batches(batches).equals(got)
    frame = catalog.load("wikipedia", AB, columns=["id", "title"])
    assert frame.to_dict("list") == want.select(["id", "title"]).to_pandas().to_dict("list")
    again = catalog.download("wikipedia", [AB, FR])
    assert again.fetched == () and len(again.skipped) == len(files)
    env = {**backend.env, "HF_ENDPOINT": hub.endpoint}  # the CLI over the same data dir
    listed = run_cli(["list", "wikipedia", "--json"], env=env)
    assert listed.returncode == 0, listed.stderr
    rows = {r["subset"]: r for r in json.loads(listed.stdout)}
    for subset in (AB, FR):
        mine = [p for p in files if p.startswith(f"{subset}/")]
        assert rows[subset]["partitions_local"] == len(mine)
        assert rows[subset]["bytes_local"] == sum(files[p]["size"] for p in mine)


def test_updates_verify_and_remove(tmp_path: Path, hub: HubServer, backend: Backend) -> None:
    catalog = _wikipedia(tmp_path, hub, backend)
    catalog.download("wikipedia", AB)
    path = f"{AB}/train-00000-of-00001.parquet"
    key = f"wikipedia/{path}"
    new = replicas.wikipedia(rows_per_shard=5).files[path]
    hub.hub.commit(REPO, add={path: new})
    [change] = catalog.updates("wikipedia")
    assert (change["subset"], change["partition"], change["change"]) == (
        AB,
        "train-00000-of-00001.parquet",
        "changed",
    )
    catalog.sync("wikipedia")
    assert catalog.download("wikipedia", AB).fetched == ()  # stale data is kept until asked
    assert catalog.download("wikipedia", AB, update=True).fetched == (path,)
    assert catalog.storage.read(key) == new
    assert catalog.load("wikipedia", AB, columns=["id"]).shape == (5, 1)
    assert [r["status"] for r in catalog.verify("wikipedia", AB)] == ["ok"]
    garbled = bytes(b ^ 0xFF for b in new[:64]) + new[64:]  # same size: only the hash tells
    catalog.storage.write(key, garbled)
    [row] = catalog.verify("wikipedia", AB)
    assert (row["status"], row["path"]) == ("corrupt", str(_located(catalog, key)))
    removed = catalog.remove("wikipedia", AB)
    assert [f.key for f in removed.files] == [key] and removed.bytes == len(new)
    assert _keys(catalog) == []
    assert catalog.store.records("wikipedia", AB) == {}
    assert {r["state"] for r in catalog.partition_records("wikipedia", AB)} == {"remote"}


def _located(catalog: Catalog, key: str) -> Any:
    from pygestor.storage.base import located

    return located(catalog.storage, key)


BIG = 24 * 1024 * 1024  # three 8 MiB parts on an object store


def test_kill_9_mid_file_resumes_where_the_stored_parts_end(
    tmp_path: Path, hub: HubServer, backend: Backend
) -> None:
    big_repo(tmp_path, hub, 1, BIG)  # (its manifest; the catalog is the backend's)
    catalog = backend.catalog(tmp_path, hub)
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.01, chunk_size=256 * 1024, times=None)
    )
    env = {
        **os.environ,
        **backend.env,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pygestor", "download", "big"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = catalog.store.partial_key("big", "all", "file-0.bin")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        found = catalog.storage.info(partial)
        if found is not None and found.size > 9 * 1024 * 1024:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = catalog.storage.info(partial).size
    assert 9 * 1024 * 1024 < kept < BIG
    assert [p["state"] for p in catalog.partition_records("big", "all")] == ["partial"]
    sent = _bytes_sent(hub)
    assert sent - kept <= 8 * 1024 * 1024 + 4 * 1024 * 1024  # at most one part (+ socket buffers)
    hub.faults.clear()
    hub.requests.clear()
    report = catalog.download("big")
    assert report.fetched == ("all/file-0.bin",)
    assert report.bytes_fetched == BIG - kept  # nothing stored was fetched again
    resumed = [r for r in hub.requests.filter(method="GET", origin="lfs") if r.status == 206]
    assert [r.range for r in resumed] == [f"bytes={kept}-"]
    assert catalog.storage.read("big/all/file-0.bin") == hub.hub.read(
        "pygestor/big", "blobs/file-0.bin"
    )
    assert _keys(catalog) == ["big/all/file-0.bin"]


def _bytes_sent(hub: HubServer) -> int:
    """What the Hub sent the killed download (its request is logged when the server notices)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        got = [r for r in hub.requests.filter(method="GET", origin="lfs") if r.bytes_sent]
        if got:
            return sum(r.bytes_sent for r in got)
        time.sleep(0.05)
    raise AssertionError("the killed download's request was never logged")


def test_torch_dataset_reads_every_row_once_from_the_data_dir(
    tmp_path: Path, hub: HubServer, backend: Backend
) -> None:
    """2 ranks x 2 DataLoader workers (processes: the storage's filesystem is pickled to them)."""
    from torch.utils.data import DataLoader

    from pygestor.read.torch_data import torch_dataset

    catalog = _wikipedia(tmp_path, hub, backend)
    parts = [f"train-{i:05d}-of-00041.parquet" for i in range(6)]
    selection = catalog.readable("wikipedia", EN, parts, True)
    want = catalog.load("wikipedia", EN, partitions=parts, columns=["id"])["id"].tolist()
    seen = []
    for rank in range(2):
        ds = torch_dataset(selection, columns=["id"], rank=rank, world_size=2, even=None)
        for batch in DataLoader(ds, batch_size=4, num_workers=2):
            seen += list(batch["id"])
    assert sorted(seen) == sorted(want) and len(want) > 12
    assert all(u.path.startswith(catalog.storage.arrow_filesystem()[1]) for u in ds.units.units)


def test_paths_name_the_files_of_the_chosen_partitions(
    tmp_path: Path, hub: HubServer, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pygestor.paths`: where each chosen partition's file is, downloading what is missing
    first (local paths, or s3:// URLs), in partition order; `download=False` leaves out (and
    names) what is not local."""
    import pygestor
    from pygestor.errors import PygestorWarning, SelectionError

    _wikipedia(tmp_path, hub, backend)
    for var, value in {**backend.env, "HF_ENDPOINT": hub.endpoint}.items():
        monkeypatch.setenv(var, value)  # (restored after the test)
    parts = [f"train-{i:05d}-of-00041.parquet" for i in (3, 1, 2)]
    with pytest.raises(SelectionError, match=r"no partition of wikipedia/20231101\.en is local"):
        pygestor.paths("wikipedia", EN, partitions=parts, download=False)
    got = pygestor.paths("wikipedia", EN, partitions=parts)
    root = str(tmp_path / "data") if backend.kind == "local" else backend.env["PYGESTOR_DATA_DIR"]
    assert got == [f"{root}/wikipedia/{EN}/{p}" for p in sorted(parts)]  # the listing's order
    parts.sort()
    catalog = backend.catalog(tmp_path, hub)
    for path, part in zip(got, parts, strict=True):
        assert catalog.storage.read(f"wikipedia/{EN}/{part}") == hub.hub.read(REPO, f"{EN}/{part}")
        if backend.kind == "local":
            assert Path(path).read_bytes() == hub.hub.read(REPO, f"{EN}/{part}")
    more = [*parts, "train-00009-of-00041.parquet"]
    with pytest.warns(PygestorWarning, match=r"1 of 4 partitions are not local"):
        assert pygestor.paths("wikipedia", EN, partitions=more, download=False) == got


def test_paths_of_a_local_source_are_its_own_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pygestor
    from conftest import write_corpus_manifest

    root = tmp_path / "corpus"
    for subset, names in (("a", ["2.jsonl", "1.jsonl"]), ("b", ["x.jsonl"])):
        (root / subset).mkdir(parents=True)
        for name in names:
            (root / subset / name).write_text('{"t": 1}\n', encoding="utf-8")
    write_corpus_manifest(tmp_path, root)
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))
    assert pygestor.paths("corpus", "a") == [
        str(root / "a" / "1.jsonl"),
        str(root / "a" / "2.jsonl"),
    ]

"""Downloads through the real client stack against the offline Hub: bytes, records, resume,
faults."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from conftest import big_repo, make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.errors import (
    DownloadError,
    InsufficientSpace,
    SelectionError,
    SourceError,
)
from pygestor.fetch import ProgressEvent
from pygestor.testing import replicas
from pygestor.testing.hub import Fault, HubServer

BIG = 6 * 1024 * 1024


def _wikipedia(tmp_path: Path, hub: HubServer, **settings: object) -> Catalog:
    replicas.install(hub.hub, replicas.wikipedia())
    return Catalog(make_settings(tmp_path, hub.endpoint, **settings))


def _big_repo(tmp_path: Path, hub: HubServer, n: int = 1, size: int = BIG) -> Catalog:
    return big_repo(tmp_path, hub, n, size)


def test_download_gives_identical_files_and_records(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    events: list[ProgressEvent] = []
    report = catalog.download("wikipedia", "20231101.en", workers=4, progress=events.append)
    assert len(report.fetched) == 41 and report.skipped == ()
    files = hub.hub.files("wikimedia/wikipedia")
    for i in (0, 17, 40):
        name = f"train-{i:05d}-of-00041.parquet"
        local = tmp_path / "data" / "wikipedia" / "20231101.en" / name
        assert local.read_bytes() == hub.hub.read("wikimedia/wikipedia", f"20231101.en/{name}")
    record = catalog.store.record("wikipedia", "20231101.en", "train-00000-of-00041.parquet")
    assert record is not None
    assert record.sha256 == files["20231101.en/train-00000-of-00041.parquet"]["sha256"]
    assert record.commit == hub.hub.head("wikimedia/wikipedia")
    assert (
        record.rows
        == pq.read_metadata(
            tmp_path / "data/wikipedia/20231101.en/train-00000-of-00041.parquet"
        ).num_rows
    )
    assert report.bytes_fetched == sum(
        f["size"] for p, f in files.items() if p.startswith("20231101.en/")
    )
    assert events[-1].files_done == 41 and events[-1].bytes_done == report.bytes_fetched
    assert {p["state"] for p in catalog.partition_records("wikipedia", "20231101.en")} == {"local"}
    assert not list((tmp_path / "data").rglob("*.part"))
    again = catalog.download("wikipedia", "20231101.en")
    assert again.fetched == () and len(again.skipped) == 41


def test_downloads_fetch_the_synced_commit_not_the_moving_branch(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.sync("wikipedia")
    synced = hub.hub.head("wikimedia/wikipedia")
    path = "20231101.ab/train-00000-of-00001.parquet"
    hub.hub.commit("wikimedia/wikipedia", add={path: b"new content"})
    catalog.download("wikipedia", "20231101.ab")
    assert (tmp_path / "data/wikipedia" / path).read_bytes() == hub.hub.read(
        "wikimedia/wikipedia", path, synced
    )
    assert all(synced in r.path for r in hub.requests.filter(path="/resolve/"))


def test_subset_choice_errors(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    with pytest.raises(
        SelectionError, match=r"has 3 subsets; choose one .*20231101\.ab, 20231101\.en"
    ):
        catalog.download("wikipedia")
    report = catalog.download(
        "wikipedia", partitions=["20231101.fr/train-00000-of-00001.parquet"], all_subsets=True
    )
    assert report.fetched == ("20231101.fr/train-00000-of-00001.parquet",)


def test_dry_run_plan(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.download("wikipedia", "20231101.en", partitions=["train-00001-of-00041.parquet"])
    result = CliRunner().invoke(
        cli,
        [
            "--data-dir",
            str(tmp_path / "data"),
            "download",
            "wikipedia",
            "-s",
            "20231101.en",
            "--dry-run",
            "--json",
        ],
        env={"HF_ENDPOINT": hub.endpoint},
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert (plan["partitions_to_fetch"], plan["partitions_local"], plan["partitions_stale"]) == (
        40,
        1,
        0,
    )
    assert plan["bytes_to_fetch"] == sum(p["size"] for p in plan["fetch"])
    assert not (
        tmp_path / "data" / "wikipedia" / "20231101.en" / "train-00000-of-00041.parquet"
    ).exists()


def _part_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "big" / "all" / ".file-0.bin.part"


def test_resume_after_kill_9_asks_for_a_range(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub)
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.02, chunk_size=64 * 1024, times=None)
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "pygestor", "download", "big"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    part = _part_file(tmp_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 1024 * 1024):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    kept = part.stat().st_size
    assert 1024 * 1024 <= kept < BIG
    assert [p["state"] for p in catalog.partition_records("big", "all")] == ["partial"]
    hub.faults.clear()
    hub.requests.clear()

    report = catalog.download("big")
    assert report.fetched == ("all/file-0.bin",)
    assert report.bytes_fetched == BIG - kept  # nothing already on disk was fetched again
    # (the killed process's request may be logged late, when the server notices the broken pipe)
    resumed = [r for r in hub.requests.filter(method="GET", origin="lfs") if r.status == 206]
    assert [(r.range, r.bytes_sent) for r in resumed] == [(f"bytes={kept}-", BIG - kept)]
    data = (tmp_path / "data" / "big" / "all" / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")


@pytest.mark.parametrize(
    "fault",
    [
        Fault(status=500, origin="lfs", method="GET", times=2),
        Fault(status=503, origin="main", method="GET", path="/resolve/", times=1),
        Fault(status=429, headers={"Retry-After": "1"}, origin="lfs", method="GET", times=1),
        Fault(drop=True, origin="lfs", method="GET", times=2),
        Fault(drop=True, origin="main", method="GET", path="/resolve/", times=1),
        Fault(truncate_after=2 * 1024 * 1024 + 17, origin="lfs", method="GET", times=2),
    ],
    ids=[
        "500-twice",
        "503-on-resolve",
        "429-retry-after",
        "drop-lfs",
        "drop-main",
        "truncate-twice",
    ],
)
def test_faults_are_survived(tmp_path: Path, hub: HubServer, fault: Fault) -> None:
    catalog = _big_repo(tmp_path, hub)
    hub.faults.add(fault)
    started = time.monotonic()
    report = catalog.download("big")
    assert report.fetched == ("all/file-0.bin",)
    assert (tmp_path / "data/big/all/file-0.bin").read_bytes() == hub.hub.read(
        "pygestor/big", "blobs/file-0.bin"
    )
    assert hub.faults.remaining(fault) == 0
    if fault.truncate_after:
        ranges = [r.range for r in hub.requests.filter(method="GET", origin="lfs")]
        assert ranges == [
            None,
            f"bytes={fault.truncate_after}-",
            f"bytes={2 * fault.truncate_after}-",
        ]
        assert report.bytes_fetched == BIG  # resumed, never refetched from zero
    if fault.status == 429:
        assert time.monotonic() - started >= 1.0  # Retry-After honoured


def test_last_retry_names_the_partition_and_cause(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub)
    hub.faults.add(Fault(status=500, origin="lfs", method="GET", times=None))
    plan = catalog.plan_download("big")
    with pytest.raises(
        DownloadError,
        match=r"could not download big/all/file-0\.bin: the server answered 500 "
        r"\(gave up after 2 retries\)",
    ):
        plan.execute(retries=2)
    assert catalog.store.record("big", "all", "file-0.bin") is None
    assert not (tmp_path / "data/big/all/file-0.bin").exists()


def test_corrupt_bytes_are_discarded_and_fetched_again(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub)
    catalog.sync("big")
    part = _part_file(tmp_path)
    part.parent.mkdir(parents=True)
    part.write_bytes(b"\0" * (1024 * 1024))  # an interrupted download whose bytes are wrong
    report = catalog.download("big")
    assert report.bytes_fetched == BIG + (
        BIG - 1024 * 1024
    )  # resumed once, failed the hash, refetched whole
    assert (tmp_path / "data/big/all/file-0.bin").read_bytes() == hub.hub.read(
        "pygestor/big", "blobs/file-0.bin"
    )
    ranges = [r.range for r in hub.requests.filter(method="GET", origin="lfs")]
    assert ranges == [f"bytes={1024 * 1024}-", None]


def test_permanently_corrupt_source_fails_with_the_hash(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub)
    sha = hub.hub.files("pygestor/big")["blobs/file-0.bin"]["sha256"]
    blob = hub.hub.blob_path(sha)
    os.chmod(blob, 0o644)
    data = bytearray(blob.read_bytes())
    data[100] ^= 0xFF
    blob.write_bytes(bytes(data))
    with pytest.raises(DownloadError, match=r"do not match the expected sha256"):
        catalog.plan_download("big").execute(retries=1)


def test_two_processes_fetch_each_file_once(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub, n=4, size=1024 * 1024)
    catalog.sync("big")
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.01, chunk_size=64 * 1024, times=None)
    )
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "pygestor", "download", "big", "--workers", "2", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    reports = [json.loads(o[0]) for o in outs]
    assert sorted(reports[0]["fetched"] + reports[1]["fetched"]) == [
        f"all/file-{i}.bin" for i in range(4)
    ]
    assert sorted(reports[0]["skipped"] + reports[1]["skipped"]) == sorted(
        reports[0]["fetched"] + reports[1]["fetched"]
    )
    gets = [r.path.rsplit("/", 1)[-1] for r in hub.requests.filter(method="GET", origin="lfs")]
    assert sorted(gets) == [f"file-{i}.bin" for i in range(4)]  # each file fetched exactly once
    assert {p["state"] for p in catalog.partition_records("big", "all")} == {"local"}


def test_gated_repo_needs_a_token_that_never_reaches_the_lfs_origin(
    tmp_path: Path, hub: HubServer
) -> None:
    replicas.install(hub.hub, replicas.mnist())
    hub.hub.set_gated("ylecun/mnist", "s3cret")
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    with pytest.raises(
        DownloadError,
        match=r"gated: accept its terms at http://127\.0\.0\.1:\d+/datasets/ylecun/mnist",
    ):
        catalog.download("mnist", "train")
    with_token = Catalog(make_settings(tmp_path, hub.endpoint, hf_token="s3cret"))
    hub.requests.clear()
    assert with_token.download("mnist", "train").fetched == ("train/train-00000-of-00001.parquet",)
    resolve = hub.requests.filter(origin="main", path="/resolve/")
    lfs = hub.requests.filter(origin="lfs")
    assert resolve and all(r.authorization for r in resolve)
    assert lfs and not any(r.authorization for r in lfs)
    index = (tmp_path / "data" / ".pygestor").rglob("*")
    assert not any(b"s3cret" in p.read_bytes() for p in index if p.is_file())


def test_file_missing_upstream_at_the_synced_commit(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.sync("wikipedia")
    hub.faults.add(
        Fault(status=404, headers={"X-Error-Code": "EntryNotFound"}, path="/resolve/", times=None)
    )
    with pytest.raises(
        DownloadError,
        match=r"could not download wikipedia/20231101\.ab/train-00000-of-00001\.parquet: "
        r"20231101\.ab/train-00000-of-00001\.parquet is missing upstream at commit "
        r"[0-9a-f]{40}; run 'pygestor sync wikipedia'",
    ):
        catalog.download("wikipedia", "20231101.ab")


def test_not_enough_space_fails_before_anything_starts(
    tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _big_repo(tmp_path, hub)
    plan = catalog.plan_download("big")
    hub.requests.clear()
    monkeypatch.setattr(
        "pygestor.storage.local.shutil.disk_usage", lambda path: SimpleNamespace(free=1000)
    )
    with pytest.raises(InsufficientSpace, match=rf"needs {BIG:,} bytes but .* has 1,000 free"):
        plan.execute()
    assert len(hub.requests) == 0 and not _part_file(tmp_path).exists()


def test_stale_partitions_are_kept_until_update(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.download("wikipedia", "20231101.ab")
    path = "20231101.ab/train-00000-of-00001.parquet"
    new = replicas.wikipedia(rows_per_shard=5).files[path]
    hub.hub.commit("wikimedia/wikipedia", add={path: new})
    catalog.sync("wikipedia")
    plan = catalog.plan_download("wikipedia", "20231101.ab")
    assert (len(plan.fetch), len(plan.stale)) == (0, 1)
    assert catalog.download("wikipedia", "20231101.ab").fetched == ()
    report = catalog.download("wikipedia", "20231101.ab", update=True)
    assert report.fetched == (path,)
    assert (tmp_path / "data/wikipedia" / path).read_bytes() == new
    [row] = catalog.partition_records("wikipedia", "20231101.ab")
    assert (row["state"], row["rows"]) == ("local", 5)


def test_file_renamed_but_not_recorded_is_recorded_without_refetching(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.download("wikipedia", "20231101.fr")
    catalog.store.drop_record("wikipedia", "20231101.fr", "train-00000-of-00001.parquet")
    hub.requests.clear()
    report = catalog.download("wikipedia", "20231101.fr")
    assert (
        report.skipped == ("20231101.fr/train-00000-of-00001.parquet",)
        and report.bytes_fetched == 0
    )
    assert hub.requests.filter(path="/resolve/") == []
    assert (
        catalog.store.record("wikipedia", "20231101.fr", "train-00000-of-00001.parquet") is not None
    )


def test_unreachable_hub_during_download(tmp_path: Path, hub: HubServer) -> None:
    catalog = _wikipedia(tmp_path, hub)
    catalog.sync("wikipedia")
    offline = Catalog(make_settings(tmp_path, "http://127.0.0.1:9"))
    with pytest.raises(
        DownloadError,
        match=r"cannot reach http://127\.0\.0\.1:9 \(connection refused\); check the network "
        r"or HF_ENDPOINT \(gave up after 1 retries\)$",
    ):
        offline.plan_download("wikipedia", "20231101.ab").execute(retries=1)


def test_local_sources_have_nothing_to_download(tmp_path: Path) -> None:
    root = tmp_path / "folder"
    root.mkdir()
    (root / "a.csv").write_text("x\n1\n")
    write_manifest(
        tmp_path / "user-catalog",
        "folder",
        f"name: folder\nsource: {{local: {root}}}\nsubsets: [{{files: '*.csv', name: all}}]\n",
    )
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    report = catalog.download("folder")
    assert (report.fetched, report.skipped) == ((), ("all/a.csv",))
    assert not (tmp_path / "data" / "folder").exists()


def test_shared_data_dir_modes(tmp_path: Path, hub: HubServer) -> None:
    old = os.umask(0o077)
    try:
        catalog = _wikipedia(tmp_path, hub, file_mode=0o664)
        catalog.download("wikipedia", "20231101.ab")
    finally:
        os.umask(old)
    target = tmp_path / "data/wikipedia/20231101.ab/train-00000-of-00001.parquet"
    assert target.stat().st_mode & 0o777 == 0o664
    assert target.parent.stat().st_mode & 0o777 == 0o775


def test_errors_reach_the_cli_as_one_line(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.mnist())
    hub.hub.set_gated("ylecun/mnist", "s3cret")
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(tmp_path / "data"), "download", "mnist", "--all"],
        env={"HF_ENDPOINT": hub.endpoint},
    )
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: could not download mnist/")
    assert "gated" in lines[0] and "(and 1 more)" in lines[0]


def test_missing_repo_is_a_source_error_at_plan_time(tmp_path: Path, hub: HubServer) -> None:
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    with pytest.raises(SourceError, match="ylecun/mnist"):
        catalog.plan_download("mnist", "train")


def test_download_with_arrow_copy_lists_its_size(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.wikipedia())
    args = [
        "--data-dir",
        str(tmp_path / "data"),
        "download",
        "wikipedia",
        "-s",
        "20231101.fr",
        "--arrow-copy",
    ]
    result = CliRunner().invoke(cli, args, env={"HF_ENDPOINT": hub.endpoint})
    assert result.exit_code == 0, result.output
    copy = tmp_path / "data/.pygestor/datasets/wikipedia/arrow/20231101.fr.arrow"
    assert f"  arrow copy {copy} (" in result.stdout
    listed = CliRunner().invoke(
        cli, ["--data-dir", str(tmp_path / "data"), "list", "wikipedia", "--json"]
    )
    rows = {r["subset"]: r for r in json.loads(listed.stdout)}
    assert rows["20231101.fr"]["arrow_copy_bytes"] == copy.stat().st_size
    assert rows["20231101.en"]["arrow_copy_bytes"] is None


def test_an_empty_file_downloads(tmp_path: Path, hub: HubServer) -> None:
    """A 0-byte file in a repo (once a FileNotFoundError on every run) is fetched and recorded."""
    hub.hub.create_repo("pygestor/empty", {"data/empty.jsonl": b"", "data/one.jsonl": b"{}\n"})
    write_manifest(
        tmp_path / "user-catalog",
        "empty",
        """
name: empty
source: {huggingface: pygestor/empty}
subsets:
  - files: "data/*.jsonl"
    name: all
""",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    report = catalog.download("empty")
    assert sorted(report.fetched) == ["all/empty.jsonl", "all/one.jsonl"]
    assert (tmp_path / "data" / "empty" / "all" / "empty.jsonl").read_bytes() == b""
    record = catalog.store.record("empty", "all", "empty.jsonl")
    assert record is not None and record.size == 0
    assert [r["state"] for r in catalog.partition_records("empty", "all")] == ["local", "local"]
    assert catalog.download("empty").fetched == ()  # nothing again


KILL_AFTER_RENAME = """
import os, signal, sys
import pygestor.fetch as fetch
from pygestor.catalog import Catalog
fetch.FLUSH_FILES, fetch.FLUSH_SECONDS = 10**6, 3600.0  # nothing committed before the kill

def progress(event):
    if event.kind == "done" and event.files_done == event.files_total:
        os.kill(os.getpid(), signal.SIGKILL)  # every file renamed into place, no batch committed

Catalog.open().download("big", progress=progress)
"""


def test_kill_between_rename_and_batch_commit_loses_nothing(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub, n=3, size=64 * 1024)
    catalog.sync("big")
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    proc = subprocess.run([sys.executable, "-c", KILL_AFTER_RENAME], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    names = [f"file-{i}.bin" for i in range(3)]
    for name in names:  # in place, verified, but not recorded: not counted as downloaded
        local = tmp_path / "data" / "big" / "all" / name
        assert local.read_bytes() == hub.hub.read("pygestor/big", f"blobs/{name}")
    assert {p["state"] for p in catalog.partition_records("big", "all")} == {"remote"}
    hub.requests.clear()

    report = catalog.download("big")
    assert report.fetched == () and report.bytes_fetched == 0
    assert sorted(report.skipped) == [f"all/{n}" for n in names]
    assert hub.requests.filter(path="/resolve/") == []  # re-recorded without a fetch
    assert {p["state"] for p in catalog.partition_records("big", "all")} == {"local"}

"""Background downloads of the web UI through its API: start, progress, cancel, resume, a server
restart, a shutdown, the job files and the event stream, against the offline Hub (throttled by
its faults where a download must last)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from conftest import big_repo, make_settings
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.testing.hub import Fault, HubServer
from pygestor.ui import jobs as jobs_module
from pygestor.ui.app import create_app
from pygestor.ui.jobs import JobManager, JobSpec

BASE = "http://127.0.0.1:8765"
UI = {"X-Pygestor": "1"}
BIG = 4 * 1024 * 1024
CHUNK = 64 * 1024


def _big_repo(tmp_path: Path, hub: HubServer, n: int = 1, size: int = BIG) -> Catalog:
    return big_repo(tmp_path, hub, n, size)


def _throttle(hub: HubServer, delay: float = 0.05) -> None:
    """Every LFS body arrives slowly: `delay` seconds per 64 KiB."""
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=delay, chunk_size=CHUNK, times=None)
    )


def _wait(
    client: TestClient, job_id: str, until: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/jobs/{job_id}").json()
        if until(job):
            return job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never got there: {job}")


def _finished(job: dict[str, Any]) -> bool:
    return job["state"] in jobs_module.FINISHED


def _record_file(tmp_path: Path, job_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (tmp_path / "data" / ".pygestor" / "jobs" / f"{job_id}.json").read_text()
    )
    return data


@pytest.fixture
def client(catalog: Catalog) -> Iterator[TestClient]:
    with TestClient(create_app(catalog), base_url=BASE) as test_client:
        yield test_client


def test_a_job_downloads_what_the_cli_downloads(
    client: TestClient, catalog: Catalog, tmp_path: Path, replica_hub: HubServer
) -> None:
    started = client.post("/api/jobs", json={"dataset": "mnist", "all": True}, headers=UI)
    assert started.status_code == 201, started.text
    job = started.json()
    assert (job["dataset"], job["all"], job["files_total"], job["bytes_total"]) == (
        "mnist",
        True,
        2,
        12890,
    )
    assert job["state"] in ("queued", "running", "done") and job["pid"] > 0
    done = _wait(client, job["id"], _finished)
    assert done["state"] == "done", done
    assert (done["bytes_done"], done["files_done"], done["fetched"], done["skipped"]) == (
        12890,
        2,
        2,
        0,
    )
    assert done["error"] is None and done["finished_at"] >= done["started_at"] >= done["created_at"]
    for subset in ("train", "test"):
        name = f"{subset}-00000-of-00001.parquet"
        local = tmp_path / "data" / "mnist" / subset / name
        assert local.read_bytes() == replica_hub.hub.read("ylecun/mnist", f"mnist/{name}")
    assert _record_file(tmp_path, job["id"]) == done
    assert client.get("/api/jobs").json() == [done]

    # the CLI, into another data dir: the same records (sha256, size, rows, commit)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["--data-dir", str(tmp_path / "cli-data"), "download", "mnist", "--all"],
        env={"HF_ENDPOINT": replica_hub.endpoint},
    )
    assert result.exit_code == 0, result.output
    by_cli = Catalog(make_settings(tmp_path, replica_hub.endpoint, data_dir=tmp_path / "cli-data"))
    keep = ("partition", "size", "state", "rows", "sha256")
    for subset in ("train", "test"):
        mine = [{k: r[k] for k in keep} for r in catalog.partition_records("mnist", subset)]
        theirs = [{k: r[k] for k in keep} for r in by_cli.partition_records("mnist", subset)]
        assert mine == theirs and mine[0]["state"] == "local"
    verify = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), "verify", "mnist", "--json"])
    assert verify.exit_code == 0, verify.output
    assert {row["status"] for row in json.loads(verify.stdout)} == {"ok"}

    # a job over what is local now: nothing to fetch, done at once
    again = client.post("/api/jobs", json={"dataset": "mnist", "all": True}, headers=UI).json()
    again = _wait(client, again["id"], _finished)
    assert (again["state"], again["files_total"], again["fetched"], again["skipped"]) == (
        "done",
        0,
        0,
        2,
    )
    deleted = client.delete(f"/api/jobs/{done['id']}", headers=UI)
    assert deleted.status_code == 204 and deleted.content == b""
    assert client.get(f"/api/jobs/{done['id']}").status_code == 404
    assert not (tmp_path / "data" / ".pygestor" / "jobs" / f"{done['id']}.json").exists()
    assert (tmp_path / "data" / "mnist" / "train").is_dir()  # the files stay


def test_a_bad_selection_is_refused_before_any_job_exists(client: TestClient) -> None:
    unknown = client.post("/api/jobs", json={"dataset": "mnits"}, headers=UI)
    assert unknown.status_code == 404
    assert unknown.json()["error"] == (
        "no dataset named 'mnits' in the catalog; did you mean 'mnist'?"
    )
    several = client.post("/api/jobs", json={"dataset": "mnist"}, headers=UI)
    assert several.status_code == 422 and several.json()["type"] == "SelectionError"
    subset = client.post("/api/jobs", json={"dataset": "mnist", "subsets": ["dev"]}, headers=UI)
    assert subset.status_code == 404 and subset.json()["type"] == "SubsetNotFound"
    workers = client.post("/api/jobs", json={"dataset": "mnist", "workers": 0}, headers=UI)
    assert workers.status_code == 422
    assert workers.json()["error"].startswith("body field workers: input should be greater")
    assert client.get("/api/jobs").json() == []


def test_cancel_keeps_the_partial_file_and_resume_asks_for_a_range(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _big_repo(tmp_path, hub)
    _throttle(hub)
    part = tmp_path / "data" / "big" / "all" / ".file-0.bin.part"
    with TestClient(create_app(catalog), base_url=BASE) as client:
        job = client.post("/api/jobs", json={"dataset": "big"}, headers=UI).json()
        running = _wait(client, job["id"], lambda j: j["bytes_done"] >= 4 * CHUNK)
        assert running["state"] == "running" and running["rate"] > 0
        same = client.post("/api/jobs", json={"dataset": "big", "subsets": []}, headers=UI)
        assert (same.status_code, same.json()["id"]) == (200, job["id"])  # not started twice
        active = client.delete(f"/api/jobs/{job['id']}", headers=UI)
        assert active.status_code == 409
        assert active.json()["error"] == (
            f"job {job['id']} is running: cancel it first (only a finished job can be deleted)"
        )

        cancelling = client.post(f"/api/jobs/{job['id']}/cancel", headers=UI)
        assert cancelling.status_code == 200
        assert cancelling.json()["state"] in ("cancelling", "cancelled")
        cancelled = _wait(client, job["id"], _finished)
        assert cancelled["state"] == "cancelled" and cancelled["error"] is None
        kept = part.stat().st_size
        assert 4 * CHUNK <= kept < BIG
        assert [p["state"] for p in catalog.partition_records("big", "all")] == ["partial"]
        again = client.post(f"/api/jobs/{job['id']}/cancel", headers=UI)
        assert again.status_code == 409
        assert again.json()["error"] == (
            f"job {job['id']} is cancelled: only a queued or running job can be cancelled"
        )

        hub.faults.clear()
        hub.requests.clear()
        resumed = client.post(f"/api/jobs/{job['id']}/resume", headers=UI)
        assert resumed.status_code == 200 and resumed.json()["id"] == job["id"]
        assert resumed.json()["bytes_done"] >= kept  # the partial bytes count as done
        done = _wait(client, job["id"], _finished)
    assert (done["state"], done["bytes_done"], done["fetched"]) == ("done", BIG, 1)
    # (the cancelled request may be logged late, when the server notices the closed connection)
    ranged = [r for r in hub.requests.filter(method="GET", origin="lfs") if r.range]
    assert [(r.range, r.status, r.bytes_sent) for r in ranged] == [
        (f"bytes={kept}-", 206, BIG - kept)
    ]
    data = (tmp_path / "data" / "big" / "all" / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    assert not part.exists()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_job_of_a_server_that_died_is_interrupted_and_resumes(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _big_repo(tmp_path, hub)
    catalog.sync("big")
    part = tmp_path / "data" / "big" / "all" / ".file-0.bin.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(hub.hub.read("pygestor/big", "blobs/file-0.bin")[: 1024 * 1024])
    jobs_dir = tmp_path / "data" / ".pygestor" / "jobs"
    jobs_dir.mkdir(parents=True)
    record = {
        "id": "00c0ffee0000",
        "dataset": "big",
        "subsets": [],
        "partitions": [],
        "all": False,
        "update": False,
        "workers": None,
        "state": "running",
        "host": socket.gethostname(),
        "pid": _dead_pid(),
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:05Z",
        "started_at": "2026-01-01T00:00:00Z",
        "bytes_done": 1024 * 1024,
        "bytes_total": BIG,
        "files_total": 1,
        "rate": 123.0,
    }
    (jobs_dir / "00c0ffee0000.json").write_text(json.dumps(record))
    (jobs_dir / "0123456789ab.json").write_text("{not json")  # skipped, left alone
    hub.requests.clear()
    with TestClient(create_app(catalog), base_url=BASE) as client:
        job = client.get("/api/jobs/00c0ffee0000").json()
        assert (job["state"], job["rate"], job["bytes_done"]) == ("interrupted", 0.0, 1024 * 1024)
        assert _record_file(tmp_path, "00c0ffee0000")["state"] == "interrupted"
        assert [j["id"] for j in client.get("/api/jobs").json()] == ["00c0ffee0000"]
        resumed = client.post("/api/jobs/00c0ffee0000/resume", headers=UI).json()
        assert resumed["pid"] == job["pid"] or resumed["host"] == socket.gethostname()
        done = _wait(client, "00c0ffee0000", _finished)
    assert (done["state"], done["bytes_done"], done["files_done"], done["fetched"]) == (
        "done",
        BIG,
        1,
        1,
    )
    assert [r.range for r in hub.requests.filter(method="GET", origin="lfs")] == [
        f"bytes={1024 * 1024}-"
    ]
    assert (jobs_dir / "0123456789ab.json").read_text() == "{not json"


def test_a_job_of_a_live_process_is_left_to_it(catalog: Catalog, tmp_path: Path) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        folder = tmp_path / "jobs"
        folder.mkdir()
        record = {
            "id": "abcdefabcdef",
            "dataset": "mnist",
            "subsets": ["train"],
            "partitions": [],
            "all": False,
            "update": False,
            "workers": None,
            "state": "running",
            "host": socket.gethostname(),
            "pid": sleeper.pid,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
        (folder / "abcdefabcdef.json").write_text(json.dumps(record))
        manager = JobManager(catalog, folder)
        assert manager.get("abcdefabcdef").state == "running"
        with pytest.raises(jobs_module.JobStateError, match=f"run by process {sleeper.pid}"):
            manager.cancel("abcdefabcdef")
        with pytest.raises(jobs_module.JobStateError, match="only a cancelled, interrupted"):
            manager.resume("abcdefabcdef")
    finally:
        sleeper.kill()
        sleeper.wait()
    assert JobManager(catalog, folder).get("abcdefabcdef").state == "interrupted"


def test_shutting_the_server_down_interrupts_its_jobs(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub)
    _throttle(hub)
    with TestClient(create_app(catalog), base_url=BASE) as client:
        job = client.post("/api/jobs", json={"dataset": "big"}, headers=UI).json()
        _wait(client, job["id"], lambda j: j["bytes_done"] >= 2 * CHUNK)
        start = time.monotonic()
    assert time.monotonic() - start < 5  # the lifespan's shutdown stopped it promptly
    saved = _record_file(tmp_path, job["id"])
    assert saved["state"] == "interrupted" and saved["finished_at"]
    part = tmp_path / "data" / "big" / "all" / ".file-0.bin.part"
    assert part.stat().st_size >= 2 * CHUNK
    hub.faults.clear()
    with TestClient(create_app(catalog), base_url=BASE) as client:
        assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "interrupted"
        client.post(f"/api/jobs/{job['id']}/resume", headers=UI)
        assert _wait(client, job["id"], _finished)["state"] == "done"


def test_job_files_are_written_at_most_about_once_a_second(
    tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    catalog = _big_repo(tmp_path, hub, size=2 * 1024 * 1024)
    _throttle(hub, delay=0.08)  # 32 chunks: ~2.5 s
    manager = JobManager(catalog, tmp_path / "jobs")
    writes: list[float] = []
    original = manager.storage.write

    def counted(key: str, data: bytes, *, durable: bool = True) -> None:
        writes.append(time.monotonic())
        original(key, data, durable=durable)

    monkeypatch.setattr(manager.storage, "write", counted)
    job = manager.start(JobSpec("big"))
    start = time.monotonic()
    while manager.get(job.id).state not in jobs_module.FINISHED:
        time.sleep(0.05)
    seconds = time.monotonic() - start
    assert manager.get(job.id).state == "done" and seconds > 2
    # queued, running, done: one each; progress: at most one a second (and a first one)
    assert len(writes) <= 3 + int(seconds / jobs_module.SAVE_EVERY) + 1
    assert len(writes) >= 4  # progress was saved while it ran, not only at the end
    saved = json.loads((tmp_path / "jobs" / f"{job.id}.json").read_text())
    assert saved["state"] == "done" and saved["bytes_done"] == 2 * 1024 * 1024
    assert [p.name for p in (tmp_path / "jobs").iterdir()] == [f"{job.id}.json"]  # no temp left


def _events(lines: Iterator[str], count: int) -> list[tuple[str, dict[str, Any]]]:
    """The next `count` events of a server-sent event stream (comments skipped)."""
    found: list[tuple[str, dict[str, Any]]] = []
    event = ""
    for line in lines:
        if line.startswith("event: "):
            event = line[len("event: ") :]
        elif line.startswith("data: "):
            found.append((event, json.loads(line[len("data: ") :])))
            if len(found) == count:
                break
    return found


def test_the_event_stream_sends_every_job_then_each_change_in_order(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _big_repo(tmp_path, hub, size=1024 * 1024)
    app = create_app(catalog)
    with TestClient(app, base_url=BASE) as client:
        first = client.post("/api/jobs", json={"dataset": "big"}, headers=UI).json()
        _wait(client, first["id"], _finished)
        _throttle(hub, delay=0.03)  # 16 chunks: ~0.5 s, so progress events come between
        client.delete(f"/api/jobs/{first['id']}", headers=UI)
        client.post("/api/datasets/big/remove", json={}, headers=UI)
        old = app.state.jobs.start(JobSpec("big", workers=1))
        _wait(client, old.id, _finished)
        with client.stream("GET", "/api/jobs/events") as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            (at_connect,) = _events(lines, 1)
            assert at_connect == ("job", client.get(f"/api/jobs/{old.id}").json())
            client.post("/api/datasets/big/remove", json={}, headers=UI)
            job = app.state.jobs.start(JobSpec("big", partitions=("file-0.bin",)))
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1]["state"] != "done":
                event, data = _events(lines, 1)[0]
                assert event == "job" and data["id"] == job.id
                seen.append(data)
        assert seen[-1] == client.get(f"/api/jobs/{job.id}").json()
        deleted = threading.Event()

        def listen() -> None:
            with client.stream("GET", "/api/jobs/events") as stream:
                lines = stream.iter_lines()
                _events(lines, 2)  # the two jobs
                if _events(lines, 1) == [("deleted", {"id": old.id})]:
                    deleted.set()

        listener = threading.Thread(target=listen)
        listener.start()
        time.sleep(0.3)
        client.delete(f"/api/jobs/{old.id}", headers=UI)
        listener.join(10)
        assert deleted.is_set()
    states = [d["state"] for d in seen]
    assert states[0] in ("queued", "running") and states[-1] == "done"
    assert "running" in states and states.index("running") < len(states) - 1
    order = ["queued", "running", "done"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)
    progress = [d["bytes_done"] for d in seen]
    assert progress == sorted(progress) and progress[-1] == 1024 * 1024
    assert len([s for s in states if s == "running"]) >= 2  # progress arrived as it ran


def test_a_failed_job_says_why_and_resumes(tmp_path: Path, hub: HubServer) -> None:
    catalog = _big_repo(tmp_path, hub, size=256 * 1024)
    hub.faults.add(Fault(status=404, origin="lfs", method="GET", times=None))
    with TestClient(create_app(catalog), base_url=BASE) as client:
        job = client.post("/api/jobs", json={"dataset": "big", "workers": 1}, headers=UI).json()
        failed = _wait(client, job["id"], _finished)
        assert failed["state"] == "failed", failed
        assert failed["error"].startswith("could not download big/all/file-0.bin: ")
        assert "\n" not in failed["error"] and failed["files_done"] == 1 and failed["fetched"] == 0
        hub.faults.clear()
        resumed = client.post(f"/api/jobs/{job['id']}/resume", headers=UI).json()
        assert (resumed["state"], resumed["error"], resumed["finished_at"]) in (
            ("queued", None, None),
            ("running", None, None),
        )
        done = _wait(client, job["id"], _finished)
        assert (done["state"], done["error"], done["fetched"], done["workers"]) == (
            "done",
            None,
            1,
            1,
        )
        assert done["files_done"] == done["files_total"] == 1
        twice = client.post(f"/api/jobs/{job['id']}/resume", headers=UI)
        assert twice.status_code == 409
        assert twice.json()["error"] == (
            f"job {job['id']} is done: only a cancelled, interrupted or failed job can be resumed"
        )


def test_a_second_server_over_the_same_folder_follows_the_first_ones_jobs(
    tmp_path: Path, hub: HubServer
) -> None:
    """Two UI servers of one team over one data directory: B lists A's job, sees its progress
    and its end (re-reading only files that changed), and sees it go when A deletes it."""
    catalog = _big_repo(tmp_path, hub)
    _throttle(hub, delay=0.02)
    folder = tmp_path / "jobs"
    a, b = JobManager(catalog, folder), JobManager(catalog, folder)
    try:
        job = a.start(JobSpec(dataset="big"))
        assert b.refresh() == [job.id]  # the file A wrote when the job was created
        deadline = time.monotonic() + 60
        seen: list[tuple[str, int]] = []
        while time.monotonic() < deadline:
            b.refresh()
            mine = {j.id: j for j in b.jobs()}.get(job.id)
            if mine is not None:
                seen.append((mine.state, mine.bytes_done))
                if mine.state == "done":
                    break
            time.sleep(0.1)
        assert seen and seen[-1] == ("done", BIG)
        assert any(state == "running" and 0 < done < BIG for state, done in seen), seen
        assert [d for _, d in seen] == sorted(d for _, d in seen)  # never goes back
        assert b.refresh() == []  # unchanged files are not read again
        assert a.refresh() == []  # nor a server's own files
        a.delete(job.id)
        assert b.refresh() == [job.id]
        assert b.jobs() == []
    finally:
        a.shutdown()
        b.shutdown()

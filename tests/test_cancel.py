"""Cancelling a download from another thread (what the web UI's jobs do): it stops as Ctrl-C does,
keeps the partial files, and the next download resumes them with a `Range` request."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import pytest

import pygestor
from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import DownloadInterrupted
from pygestor.testing.hub import Fault, HubServer

SIZE = 2 * 1024 * 1024
FILES = 3


def _slow_repo(tmp_path: Path, hub: HubServer) -> Catalog:
    """A repo of FILES random LFS files of SIZE bytes, served slowly (64 KiB every 20 ms)."""
    files = {
        f"blobs/file-{i}.bin": hashlib.shake_256(f"cancel {i}".encode()).digest(SIZE)
        for i in range(FILES)
    }
    hub.hub.create_repo("pygestor/slow", files)
    write_manifest(
        tmp_path / "user-catalog",
        "slow",
        "name: slow\nsource: {huggingface: pygestor/slow}\n"
        "subsets: [{files: 'blobs/*.bin', name: all}]\n",
    )
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.02, chunk_size=64 * 1024, times=None)
    )
    return Catalog(make_settings(tmp_path, hub.endpoint))


def _partials(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "data" / "slow" / "all").glob(".*.part"))


def test_a_cancel_from_another_thread_stops_the_download_and_it_resumes(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = _slow_repo(tmp_path, hub)
    catalog.sync("slow")
    cancel = threading.Event()
    outcome: list[BaseException | object] = []

    def run() -> None:
        try:
            outcome.append(catalog.download("slow", workers=2, cancel=cancel))
        except BaseException as exc:  # noqa: BLE001 (DownloadInterrupted is a KeyboardInterrupt)
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and sum(p.stat().st_size for p in _partials(tmp_path)) < (
        256 * 1024
    ):
        time.sleep(0.01)
    cancel.set()
    asked = time.monotonic()
    worker.join(timeout=10)
    stopped = time.monotonic() - asked
    assert not worker.is_alive()
    [error] = outcome
    assert isinstance(error, DownloadInterrupted)
    assert (
        str(error)
        == f"slow: interrupted: 0 files done, {error.partial} partial kept, 3 not fetched"
    )
    assert stopped < 1.0  # the next chunk boundary, not the end of the files
    time.sleep(0.2)  # let the transfers reach their chunk boundary
    kept = {p.name: p.stat().st_size for p in _partials(tmp_path)}
    assert 1 <= len(kept) <= 2 and error.partial == len(kept)
    assert all(0 < size < SIZE for size in kept.values())
    assert not list((tmp_path / "data" / "slow" / "all").glob("file-*.bin"))
    assert [p["state"] for p in catalog.partition_records("slow", "all")].count("partial") == len(
        kept
    )

    hub.faults.clear()
    hub.requests.clear()
    report = catalog.download("slow")
    assert sorted(report.fetched) == [f"all/file-{i}.bin" for i in range(FILES)]
    assert report.bytes_fetched == FILES * SIZE - sum(kept.values())
    ranges = {
        r.path.rsplit("/", 1)[-1]: r.range
        for r in hub.requests.filter(method="GET", origin="lfs")
        if r.status == 206
    }
    assert ranges == {name[1:-5]: f"bytes={size}-" for name, size in kept.items()}
    for i in range(FILES):
        data = (tmp_path / "data" / "slow" / "all" / f"file-{i}.bin").read_bytes()
        assert data == hub.hub.read("pygestor/slow", f"blobs/file-{i}.bin")
    assert [r["status"] for r in catalog.verify("slow")] == ["ok"] * FILES


def test_a_cancel_set_before_the_start_fetches_nothing(
    tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_repo(tmp_path, hub)
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))
    pygestor.sync("slow")
    hub.requests.clear()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(DownloadInterrupted, match="0 files done, 0 partial kept, 3 not fetched"):
        pygestor.download("slow", cancel=cancel)
    assert list(hub.requests) == [] and _partials(tmp_path) == []

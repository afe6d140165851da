"""One large file over several byte ranges at once (`pygestor.fetch_ranges`), through the real
client stack against the offline Hub: bytes, requests, resume after kill -9, servers without
ranges, corrupt ranges, and the files a removal and a repair must know."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from huggingface_hub import hf_hub_url

from conftest import big_repo, fill_disk, make_settings
from pygestor import fetch_ranges
from pygestor.catalog import Catalog
from pygestor.fetch import ProgressEvent
from pygestor.testing.hub import Fault, HubServer

MIB = 1024 * 1024
SIZE = 6 * MIB  # split into 4 ranges of 1.5 MiB with the thresholds below and 4 workers
THRESHOLD, MIN_RANGE = 4 * MIB, 1 * MIB


@pytest.fixture(autouse=True)
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fetch_ranges, "RANGE_THRESHOLD", THRESHOLD)
    monkeypatch.setattr(fetch_ranges, "MIN_RANGE", MIN_RANGE)


def _folder(tmp_path: Path) -> Path:
    return tmp_path / "data" / "big" / "all"


def _blob_gets(hub: HubServer) -> list[tuple[str | None, int | None, int]]:
    """(Range, status, bytes sent) of every GET of a blob, sorted."""
    found = hub.requests.filter(method="GET", origin="lfs")
    return sorted(((r.range, r.status, r.bytes_sent) for r in found), key=str)


def _split(size: int, count: int, first: int = 0) -> list[tuple[int, int]]:
    starts = [first + (size - first) * i // count for i in range(count)]
    starts[0] = 0
    return list(zip(starts, [*starts[1:], size], strict=True))


def test_a_large_file_is_fetched_over_ranges_in_parallel(tmp_path: Path, hub: HubServer) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    events: list[ProgressEvent] = []
    report = catalog.download("big", workers=4, progress=events.append)
    assert report.fetched == ("all/file-0.bin",) and report.bytes_fetched == SIZE
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    record = catalog.store.record("big", "all", "file-0.bin")
    assert (
        record is not None
        and record.sha256 == hub.hub.files("pygestor/big")["blobs/file-0.bin"]["sha256"]
    )
    spans = _split(SIZE, 4)
    assert _blob_gets(hub) == sorted(
        ((f"bytes={a}-{b - 1}", 206, b - a) for a, b in spans), key=str
    )
    assert sum(e.delta for e in events if e.kind == "bytes") == SIZE
    assert events[-1].kind == "done" and events[-1].bytes_done == SIZE
    assert sorted(p.name for p in _folder(tmp_path).iterdir()) == ["file-0.bin"]


def test_a_file_below_the_threshold_is_one_stream(tmp_path: Path, hub: HubServer) -> None:
    catalog = big_repo(tmp_path, hub, 1, THRESHOLD - 1)
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == THRESHOLD - 1
    assert _blob_gets(hub) == [(None, 200, THRESHOLD - 1)]


def test_one_worker_is_one_stream(tmp_path: Path, hub: HubServer) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    catalog.download("big", workers=1)
    assert _blob_gets(hub) == [(None, 200, SIZE)]


def test_a_server_ignoring_ranges_still_downloads_as_one_stream(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    hub.faults.ignore_range = True
    report = catalog.download("big", workers=4)
    assert report.fetched == ("all/file-0.bin",)
    assert report.bytes_fetched == SIZE  # the whole bodies sent for ranges were not read
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    gets = hub.requests.filter(method="GET", origin="lfs")
    ranged = [r for r in gets if r.range is not None]
    assert ranged and {r.status for r in ranged} == {200}  # asked for ranges, got whole files
    assert [(r.range, r.status, r.bytes_sent) for r in gets if r.range is None] == [
        (None, 200, SIZE)
    ]
    assert sorted(p.name for p in _folder(tmp_path).iterdir()) == ["file-0.bin"]


def test_a_range_answered_without_content_range_falls_back_to_one_stream(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    hub.faults.add(Fault(origin="lfs", method="GET", no_content_range=True, times=None))
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == SIZE
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    whole = [r for r in hub.requests.filter(method="GET", origin="lfs") if r.range is None]
    assert [(r.status, r.bytes_sent) for r in whole] == [(200, SIZE)]
    assert sorted(p.name for p in _folder(tmp_path).iterdir()) == ["file-0.bin"]


def test_a_server_sending_less_than_a_range_is_asked_for_the_rest(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    hub.faults.add(Fault(origin="lfs", method="GET", range_limit=MIB // 2, times=None))
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == SIZE
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    gets = hub.requests.filter(method="GET", origin="lfs")
    assert len(gets) == 12 and {r.bytes_sent for r in gets} == {MIB // 2}  # 3 per range


def test_a_corrupt_range_fails_the_hash_and_is_fetched_again(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    hub.faults.add(Fault(origin="lfs", method="GET", path="file-0", corrupt=True, times=1))
    events: list[ProgressEvent] = []
    report = catalog.download("big", workers=4, progress=events.append)
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    retries = [e.message for e in events if e.kind == "retry"]
    assert retries == ["downloaded bytes do not match the expected sha256; fetching again"]
    assert report.bytes_fetched == 2 * SIZE
    assert len(hub.requests.filter(method="GET", origin="lfs")) == 8  # 4 ranges, twice


KILL_MID_WAY = """
import os, signal, sys
import pygestor.fetch_ranges as fetch_ranges
from pygestor.catalog import Catalog
fetch_ranges.RANGE_THRESHOLD, fetch_ranges.MIN_RANGE = {threshold}, {min_range}

def progress(event):
    if event.kind == "bytes" and event.bytes_done >= {kill_at}:
        os.kill(os.getpid(), signal.SIGKILL)

Catalog.open().download("big", workers=4, progress=progress)
"""


def _kill_mid_way(tmp_path: Path, hub: HubServer, kill_at: int) -> None:
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    script = KILL_MID_WAY.format(threshold=THRESHOLD, min_range=MIN_RANGE, kill_at=kill_at)
    proc = subprocess.run([sys.executable, "-c", script], env=env, timeout=120)
    assert proc.returncode == -signal.SIGKILL
    time.sleep(0.5)  # the killed process's requests are logged when the server notices


def _on_disk(tmp_path: Path) -> dict[int, int]:
    """Start -> bytes on disk of `.part` (0) and each range part."""
    found = {}
    for path in _folder(tmp_path).iterdir():
        name = path.name
        if name == ".file-0.bin.part":
            found[0] = path.stat().st_size
        elif name.startswith(".file-0.bin.part-"):
            found[int(name.rsplit("-", 1)[1])] = path.stat().st_size
    return found


def test_killed_mid_way_every_range_resumes_where_it_stopped(
    tmp_path: Path, hub: HubServer
) -> None:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    catalog.sync("big")
    hub.faults.rate = 2 * MIB  # per connection: the 4 ranges move together
    _kill_mid_way(tmp_path, hub, SIZE // 2)
    spans = _split(SIZE, 4)
    kept = _on_disk(tmp_path)
    assert sorted(kept) == [a for a, _ in spans]
    assert all(0 < kept[a] < b - a for a, b in spans), kept  # every range part-way
    missing = SIZE - sum(kept.values())
    assert [p["state"] for p in catalog.partition_records("big", "all")] == ["partial"]
    plan = catalog.plan_download("big")
    assert plan.fetch[0].partial_bytes == sum(kept.values())  # range parts counted as on disk
    hub.faults.clear()
    hub.requests.clear()

    report = catalog.download("big", workers=2)  # fewer workers than ranges: the layout stays
    assert report.bytes_fetched == missing  # nothing already on disk was fetched again
    assert _blob_gets(hub) == sorted(
        ((f"bytes={a + kept[a]}-{b - 1}", 206, b - a - kept[a]) for a, b in spans), key=str
    )
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")
    assert sorted(p.name for p in _folder(tmp_path).iterdir()) == ["file-0.bin"]


def test_a_join_cut_short_is_finished_without_fetching(tmp_path: Path, hub: HubServer) -> None:
    """A kill while the parts were appended to `.part`: the bytes already appended are skipped."""
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    catalog.sync("big")
    blob = hub.hub.read("pygestor/big", "blobs/file-0.bin")
    folder = _folder(tmp_path)
    folder.mkdir(parents=True)
    spans = _split(SIZE, 4)
    cut = spans[1][0] + 1000  # part 1 appended in part, still there; parts 2 and 3 waiting
    (folder / ".file-0.bin.part").write_bytes(blob[:cut])
    for a, b in spans[1:]:
        (folder / f".file-0.bin.part-{a}").write_bytes(blob[a:b])
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == 0 and report.fetched == ("all/file-0.bin",)
    assert hub.requests.filter(method="GET", origin="lfs") == []
    assert (folder / "file-0.bin").read_bytes() == blob
    assert sorted(p.name for p in folder.iterdir()) == ["file-0.bin"]


def _partial_download(tmp_path: Path, hub: HubServer) -> Catalog:
    catalog = big_repo(tmp_path, hub, 1, SIZE)
    catalog.sync("big")
    hub.faults.rate = 4 * MIB
    _kill_mid_way(tmp_path, hub, SIZE // 3)
    hub.faults.clear()
    assert len(_on_disk(tmp_path)) == 4
    return catalog


def test_remove_deletes_the_range_parts(tmp_path: Path, hub: HubServer) -> None:
    catalog = _partial_download(tmp_path, hub)
    kept = _on_disk(tmp_path)
    report = catalog.remove("big", partitions=["file-0.bin"])
    assert sorted(f.key.rpartition("/")[2] for f in report.files) == sorted(
        ".file-0.bin.part" + (f"-{a}" if a else "") for a in kept
    )
    assert report.bytes == sum(kept.values())
    assert not _folder(tmp_path).exists() or list(_folder(tmp_path).iterdir()) == []


def test_remove_of_a_subset_deletes_the_range_parts(tmp_path: Path, hub: HubServer) -> None:
    catalog = _partial_download(tmp_path, hub)
    kept = _on_disk(tmp_path)
    report = catalog.remove("big", "all")
    assert sorted(f.key for f in report.files) == sorted(
        "big/all/.file-0.bin.part" + (f"-{a}" if a else "") for a in kept
    )


def test_repair_deletes_range_parts_nobody_is_writing(tmp_path: Path, hub: HubServer) -> None:
    catalog = _partial_download(tmp_path, hub)
    report = catalog.repair("big")
    assert report.partials_removed == 4
    assert _on_disk(tmp_path) == {}


def test_the_hub_caps_each_connection_and_can_ignore_ranges(hub: HubServer) -> None:
    import httpx

    big_repo(hub.hub.root.parent, hub, 1, 2 * MIB)
    url = hf_hub_url("pygestor/big", "blobs/file-0.bin", repo_type="dataset", endpoint=hub.endpoint)
    hub.faults.rate = 4 * MIB
    began = time.monotonic()
    got = httpx.get(url, follow_redirects=True)
    assert got.status_code == 200 and len(got.content) == 2 * MIB
    assert time.monotonic() - began >= 0.45  # 2 MiB at 4 MiB/s
    hub.faults.rate = 0
    ranged = httpx.get(url, headers={"Range": "bytes=10-19"}, follow_redirects=True)
    assert (ranged.status_code, ranged.headers["content-range"]) == (206, f"bytes 10-19/{2 * MIB}")
    hub.faults.ignore_range = True
    whole = httpx.get(url, headers={"Range": "bytes=10-19"}, follow_redirects=True)
    assert whole.status_code == 200 and len(whole.content) == 2 * MIB
    assert "content-range" not in whole.headers


def test_several_large_files_share_the_connections(tmp_path: Path, hub: HubServer) -> None:
    """3 large files, 2 workers: a file splits only as wide as the connections free when it
    starts (often none: one stream), an owner whose helper cannot get a connection fetches its
    ranges itself; nothing deadlocks and every file is whole."""
    catalog = big_repo(tmp_path, hub, 3, SIZE)
    report = catalog.download("big", workers=2)
    assert sorted(report.fetched) == [f"all/file-{i}.bin" for i in range(3)]
    assert report.bytes_fetched == 3 * SIZE
    for i in range(3):
        data = (_folder(tmp_path) / f"file-{i}.bin").read_bytes()
        assert data == hub.hub.read("pygestor/big", f"blobs/file-{i}.bin")
    gets = hub.requests.filter(method="GET", origin="lfs")
    assert sum(r.bytes_sent for r in gets) == 3 * SIZE and 3 <= len(gets) <= 6
    assert all((r.range, r.status) == (None, 200) or r.status == 206 for r in gets)


def test_a_cancel_keeps_every_range_and_the_rerun_fetches_the_rest(
    tmp_path: Path, hub: HubServer
) -> None:
    import threading

    from pygestor.errors import DownloadInterrupted

    catalog = big_repo(tmp_path, hub, 1, SIZE)
    catalog.sync("big")
    hub.faults.rate = 2 * MIB
    cancel = threading.Event()

    def progress(event: ProgressEvent) -> None:
        if event.bytes_done >= SIZE // 2:
            cancel.set()

    with pytest.raises(DownloadInterrupted):
        catalog.download("big", workers=4, progress=progress, cancel=cancel)
    kept = _on_disk(tmp_path)
    assert len(kept) == 4 and 0 < sum(kept.values()) < SIZE
    hub.faults.clear()
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == SIZE - sum(kept.values())
    data = (_folder(tmp_path) / "file-0.bin").read_bytes()
    assert data == hub.hub.read("pygestor/big", "blobs/file-0.bin")


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        (".f.bin.part-1048576", (".f.bin.part", 1048576)),
        (".a.part-b.part-7", (".a.part-b.part", 7)),  # the last `.part-` counts
        (".f.bin.part", None),  # range 0 is the `.part` itself
        (".f.bin.part-0", None),
        (".f.bin.part-007", None),  # one name per part: no leading zero
        (".f.bin.part--7", None),
        (".f.bin.part-1e3", None),
        (".f.bin.part-٣", None),  # a digit, but not ASCII
        ("f.bin.part-10", None),  # not hidden: not pygestor's
        (".part-10", None),
    ],
)
def test_range_part_names(name: str, parsed: tuple[str, int] | None) -> None:
    from pygestor.index.partials import range_part_key, range_start

    assert range_start(name) == parsed
    if parsed is not None:
        assert range_part_key(parsed[0], parsed[1]) == name


def test_a_full_disk_keeps_every_range_and_the_rerun_finishes(
    tmp_path: Path, hub: HubServer, small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pygestor.errors import DiskFull

    monkeypatch.setattr(fetch_ranges, "RANGE_THRESHOLD", 512 * 1024)
    monkeypatch.setattr(fetch_ranges, "MIN_RANGE", 128 * 1024)
    size = MIB  # 4 ranges of 256 KiB; the join needs room for one more range at a time
    big_repo(tmp_path, hub, 1, size)
    blob = hub.hub.read("pygestor/big", "blobs/file-0.bin")
    catalog = Catalog(make_settings(tmp_path, hub.endpoint, data_dir=small_disk / "data"))
    catalog.sync("big")
    hub.faults.rate = 256 * 1024
    filled: list[Path] = []

    def progress(event: ProgressEvent) -> None:
        if event.bytes_done >= 384 * 1024 and not filled:
            filled.append(fill_disk(small_disk))

    with pytest.raises(DiskFull) as err:
        catalog.download("big", workers=4, progress=progress)
    folder = small_disk / "data" / "big" / "all"
    assert re.fullmatch(
        rf"no space left on {re.escape(str(small_disk))} while writing "
        rf"{re.escape(str(folder))}/\.file-0\.bin\.part; free [\d,]+ bytes and rerun",
        str(err.value),
    )
    kept = {}
    for path in folder.iterdir():  # every part a true slice of the file: resumable
        start = int(path.name.rsplit("-", 1)[1]) if ".part-" in path.name else 0
        kept[start] = path.read_bytes()
        assert kept[start] == blob[start : start + len(kept[start])]
    # the 3 range parts; `.part` too unless range 0 had no byte yet (an empty `.part` goes with
    # its claim, and the rerun still finds the parts)
    assert (
        {256 * 1024, 512 * 1024, 768 * 1024} <= set(kept) <= {0, 256 * 1024, 512 * 1024, 768 * 1024}
    )
    assert 0 < sum(map(len, kept.values())) < size
    filled[0].unlink()
    hub.faults.clear()
    time.sleep(0.5)  # the stopped requests are logged once the server notices
    hub.requests.clear()
    report = catalog.download("big", workers=4)
    assert report.bytes_fetched == size - sum(map(len, kept.values()))
    assert (folder / "file-0.bin").read_bytes() == blob
    assert sorted(p.name for p in folder.iterdir()) == ["file-0.bin"]

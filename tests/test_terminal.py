"""What a user at a terminal notices: Ctrl-C, -q, the original tool's flags, columns, filters,
refused connections, sync notes, global options after the subcommand.

Real CLI processes against the bundled Hub where signals, exit codes or timing matter.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.testing.hub import Fault, HubServer

SIZE = 1024 * 1024
FILES = 6


def _repo(tmp_path: Path, hub: HubServer, n: int = FILES, size: int = SIZE) -> dict[str, bytes]:
    """A repo `pygestor/slow` of `n` random LFS files and a user manifest `slow` for it."""
    files = {
        f"blobs/file-{i}.bin": hashlib.shake_256(f"{i}".encode()).digest(size) for i in range(n)
    }
    hub.hub.create_repo("pygestor/slow", files)
    write_manifest(
        tmp_path / "user-catalog",
        "slow",
        """
name: slow
source: {huggingface: pygestor/slow}
subsets:
  - files: "blobs/*.bin"
    name: all
""",
    )
    return files


def _env(tmp_path: Path, hub: HubServer) -> dict[str, str]:
    return {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }


def _pygestor(*args: str) -> list[str]:
    return [sys.executable, "-m", "pygestor", *args]


def _interrupt(
    cmd: list[str], env: dict[str, str], ready: object, *, wait: float = 60
) -> tuple[int, float, str, str]:
    """Start `cmd`, send SIGINT once `ready()` is true; (exit status, seconds from the signal to
    the exit, stdout, stderr)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not ready() and proc.poll() is None:  # type: ignore[operator]
        time.sleep(0.02)
    assert proc.poll() is None, f"the command ended before it was interrupted: {proc.stderr}"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running 10 s after SIGINT; stderr: {err}") from None
    return proc.returncode, time.monotonic() - sent, out, err


def _after(condition: object, seconds: float) -> object:
    """A readiness test true `seconds` after `condition()` first was."""
    seen: list[float] = []

    def ready() -> bool:
        if not seen and condition():  # type: ignore[operator]
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= seconds

    return ready


def _parts(tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "data" / "slow" / "all"
    if not folder.exists():
        return {}
    return {p.name: p.stat().st_size for p in folder.glob(".*.part")}


# ---- Ctrl-C ----------------------------------------------------------------------------------
def test_ctrl_c_stops_a_download_keeps_partials_and_the_rerun_resumes(
    tmp_path: Path, hub: HubServer
) -> None:
    files = _repo(tmp_path, hub)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("slow")
    # 16 kB every 50 ms: a 1 MiB file takes ~3 s, the whole download ~10 s with 2 workers
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.05, chunk_size=16 * 1024, times=None)
    )
    env = _env(tmp_path, hub)
    status, seconds, out, err = _interrupt(
        _pygestor("download", "slow", "--all", "--workers", "2"),
        env,
        lambda: sum(_parts(tmp_path).values()) > 256 * 1024,
    )
    assert status == 130, err
    assert seconds < 2.0, f"took {seconds:.1f} s to stop"
    parts = _parts(tmp_path)
    assert 1 <= len(parts) <= 2 and all(0 < n < SIZE for n in parts.values()), parts
    done = sorted(p.name for p in (tmp_path / "data" / "slow" / "all").glob("file-*.bin"))
    assert err.splitlines()[-1] == (
        f"interrupted: {len(done)} file{'' if len(done) == 1 else 's'} done, {len(parts)} "
        "partial kept; rerun `pygestor download slow --all --workers 2` to resume"
    )
    assert "Aborted" not in err and "Traceback" not in err and out == ""
    assert len(done) + len(parts) < FILES  # the queued files were not started

    hub.faults.clear()
    hub.requests.clear()
    rerun = subprocess.run(
        _pygestor("download", "slow", "--all", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert len(report["fetched"]) == FILES - len(done)
    assert report["bytes_fetched"] == (FILES - len(done)) * SIZE - sum(parts.values())
    ranges = sorted(
        (r.path.rsplit("/", 1)[-1], r.range)
        for r in hub.requests.filter(method="GET", origin="lfs")
    )
    expected = sorted(
        (
            f"file-{i}.bin",
            f"bytes={parts[f'.file-{i}.bin.part']}-" if f".file-{i}.bin.part" in parts else None,
        )
        for i in range(FILES)
        if f"file-{i}.bin" not in done
    )
    assert [(name.split("?")[0], rng) for name, rng in ranges] == expected
    for path, data in files.items():
        assert (tmp_path / "data" / "slow" / "all" / path.split("/")[-1]).read_bytes() == data
    assert _parts(tmp_path) == {}


def test_ctrl_c_in_a_load_that_downloads_keeps_partials(tmp_path: Path, hub: HubServer) -> None:
    _repo(tmp_path, hub, n=3)
    Catalog(make_settings(tmp_path, hub.endpoint)).sync("slow")
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.05, chunk_size=16 * 1024, times=None)
    )
    status, seconds, _, err = _interrupt(
        [sys.executable, "-c", "import pygestor; pygestor.load('slow', 'all', output='arrow')"],
        _env(tmp_path, hub),
        lambda: sum(_parts(tmp_path).values()) > 128 * 1024,
    )
    assert seconds < 2.0, f"took {seconds:.1f} s to stop"
    assert status in (-signal.SIGINT, 128 + signal.SIGINT, 1), err  # Python's own Ctrl-C exit
    parts = _parts(tmp_path)
    assert parts and all(0 < n < SIZE for n in parts.values())
    assert err.splitlines()[-1] == (
        f"pygestor.errors.DownloadInterrupted: slow: interrupted: 0 files done, {len(parts)} "
        f"partial kept, 3 not fetched"
    )


def test_ctrl_c_during_sync_leaves_the_index_as_it_was(tmp_path: Path, hub: HubServer) -> None:
    _repo(tmp_path, hub, n=2, size=1000)
    Catalog(make_settings(tmp_path, hub.endpoint)).sync("slow")
    index = tmp_path / "data" / ".pygestor" / "datasets" / "slow"
    before = {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()}
    hub.hub.commit("pygestor/slow", add={"blobs/file-9.bin": b"new" * 500})
    hub.faults.add(Fault(origin="main", method="GET", path="/tree/", latency=10, times=None))
    hub.requests.clear()
    status, seconds, out, err = _interrupt(
        _pygestor("sync", "slow"),
        _env(tmp_path, hub),
        _after(lambda: bool(hub.requests.filter(origin="main")), 0.5),
        wait=20,
    )
    assert (status, out) == (130, ""), err
    assert seconds < 2.0
    assert err == (
        "interrupted; nothing was left half-written; rerun `pygestor sync slow` to finish\n"
    )
    after = {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()}
    assert after == before

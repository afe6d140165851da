"""S3Storage under real concurrency, against SeaweedFS (whose conditional writes have had bugs:
concurrent `If-None-Match: *` not enforced in 4.16, 412 instead of 404 for a missing key in
4.44): processes (spawned, each with its own clients) racing compare-and-swap and create-only
writes, and a partial file whose writer is killed with SIGKILL mid-way."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import time
from typing import Any

import pytest

from conftest import s3_prefix
from pygestor.errors import LockTimeout
from pygestor.storage.s3 import S3Storage
from pygestor.testing.s3 import SeaweedS3

pytestmark = pytest.mark.slow
SPAWN = multiprocessing.get_context("spawn")
PROCESSES = 6


def _bump(url: str, options: dict[str, Any], start: Any, times: int) -> None:
    """Add 1 to the counter `times` times, each a read and a compare-and-swap, retried."""
    storage = S3Storage(url, storage_options=options)
    start.wait()
    for _ in range(times):
        while True:
            data, tag = storage.read_tagged("counter")  # type: ignore[misc]
            if storage.write_if("counter", str(int(data) + 1).encode(), tag=tag):
                break


def _create(url: str, options: dict[str, Any], start: Any, wins: Any, i: int) -> None:
    storage = S3Storage(url, storage_options=options)
    start.wait()
    if storage.create("one.json", b"%d" % i):
        with wins.get_lock():
            wins.value += 1


def _payload(size: int) -> bytes:
    """`size` reproducible bytes that are not all alike (a shifted copy would not match)."""
    block = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(32768))  # 1 MiB
    return (block * (size // len(block) + 1))[:size]


def _append(url: str, options: dict[str, Any], size: int, piece: int, written: Any) -> None:
    """Append `_payload(size)` in pieces of `piece` bytes, counting what each write took."""
    storage = S3Storage(url, storage_options=options)
    data = _payload(size)
    with storage.append("ds/.big.part", new=True) as fh:
        for at in range(0, size, piece):
            fh.write(data[at : at + piece])
            written.value = at + piece
            time.sleep(0.02)


def _run(target: Any, *args_of: tuple[Any, ...]) -> None:
    procs = [SPAWN.Process(target=target, args=args) for args in args_of]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * len(procs)


def test_compare_and_swap_loses_no_update_across_processes(seaweed: SeaweedS3) -> None:
    url = s3_prefix(seaweed)
    storage = S3Storage(url, storage_options=seaweed.options())
    storage.write("counter", b"0")
    start = SPAWN.Barrier(PROCESSES)
    _run(_bump, *[(url, seaweed.options(), start, 20)] * PROCESSES)
    assert storage.read("counter") == b"120"


def test_create_only_has_one_winner_across_processes(seaweed: SeaweedS3) -> None:
    url = s3_prefix(seaweed)
    start, wins = SPAWN.Barrier(PROCESSES), SPAWN.Value("i", 0)
    _run(_create, *[(url, seaweed.options(), start, wins, i) for i in range(PROCESSES)])
    storage = S3Storage(url, storage_options=seaweed.options())
    assert wins.value == 1 and storage.read("one.json") in {b"%d" % i for i in range(PROCESSES)}


def test_a_partial_file_survives_a_kill_and_completes(seaweed: SeaweedS3) -> None:
    """After SIGKILL mid-way the partial file is whole chunks, at most one chunk short of what
    the writer had taken, exactly the bytes written; resumed from its size, `replace` makes
    the complete object, byte-identical."""
    url, options = s3_prefix(seaweed), seaweed.options()
    storage = S3Storage(url, storage_options=options)
    chunk, piece, size = storage.part_size, 1 << 20, 48 << 20
    written = SPAWN.Value("q", 0)
    child = SPAWN.Process(target=_append, args=(url, options, size, piece, written))
    child.start()
    deadline = time.monotonic() + 60
    while written.value < 2 * chunk + 3 * piece and time.monotonic() < deadline:
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(10)
    assert child.exitcode == -signal.SIGKILL
    took = written.value  # every write up to here returned (one more may have been under way)
    assert 2 * chunk + 3 * piece <= took < size

    found = storage.info("ds/.big.part")
    assert found is not None and found.size % chunk == 0
    assert 0 <= took - found.size < chunk + piece and found.size >= 2 * chunk
    assert [e.key for e in storage.list("ds")] == ["ds/.big.part"]  # one file, no chunk shown
    assert list(storage.walk("ds")) == ["ds/.big.part"]
    data = _payload(size)
    with storage.open("ds/.big.part") as fh:
        assert fh.read() == data[: found.size]

    with storage.append("ds/.big.part") as fh:  # resumed where the bytes end, as a download is
        fh.write(data[found.size :])
    storage.replace("ds/.big.part", "ds/big.bin")
    assert storage.info("ds/.big.part") is None
    assert storage.info("ds/big.bin").size == size  # type: ignore[union-attr]
    fs, prefix = storage.arrow_filesystem()
    with fs.open_input_file(f"{prefix}/ds/big.bin") as fh:
        assert hashlib.sha256(fh.read()).digest() == hashlib.sha256(data).digest()
    assert [e.key for e in storage.list("ds")] == ["ds/big.bin"]


def _hold(url: str, options: dict[str, Any], held: Any) -> None:
    storage = S3Storage(url, storage_options=options)
    with storage.lock("locks/p.lock", timeout=5), storage.claim("ds/.x.part"):
        held.set()
        time.sleep(60)  # killed here


def test_a_killed_holders_lock_and_claim_are_taken_over(seaweed: SeaweedS3) -> None:
    url, options = s3_prefix(seaweed), {**seaweed.options(), "lease_seconds": 2.0}
    held = SPAWN.Event()
    child = SPAWN.Process(target=_hold, args=(url, options, held))
    child.start()
    assert held.wait(30)
    storage = S3Storage(url, storage_options=options)
    with pytest.raises(BlockingIOError), storage.claim("ds/.x.part"):
        pass
    os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]
    child.join(10)
    started = time.monotonic()
    with storage.lock("locks/p.lock", timeout=10):  # expired within one lease of its last beat
        assert time.monotonic() - started < 4
        while True:  # a claim is tried once (BlockingIOError); its lease expires as soon
            try:
                with storage.claim("ds/.x.part"):
                    assert storage.info("ds/.x.part").size == 0  # type: ignore[union-attr]
                break
            except BlockingIOError:
                assert time.monotonic() - started < 4
                time.sleep(0.1)


def _take_over(url: str, options: dict[str, Any], start: Any, wins: Any) -> None:
    storage = S3Storage(url, storage_options=options)
    start.wait()
    try:
        with storage.lock("locks/stale.lock", timeout=0):
            with wins.get_lock():
                wins.value += 1
            time.sleep(1.5)  # held while the others try
    except LockTimeout:
        pass


def test_an_expired_lease_is_taken_over_by_one_process(seaweed: SeaweedS3) -> None:
    url, options = s3_prefix(seaweed), seaweed.options()
    storage = S3Storage(url, storage_options=options)
    dead = json.dumps({"owner": "killed", "expires": time.time() - 60}).encode()
    storage.write("locks/stale.lock", dead)
    start, wins = SPAWN.Barrier(PROCESSES), SPAWN.Value("i", 0)
    _run(_take_over, *[(url, options, start, wins)] * PROCESSES)
    assert wins.value == 1 and storage.info("locks/stale.lock") is None

"""Several processes on one data dir, and processes killed in the middle of index writes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import make_settings
from pygestor.catalog import Catalog
from pygestor.index.store import Store
from pygestor.testing.hub import HubServer

DATASETS = ["wikipedia", "mnist", "wit_base"]


def _worker_script(index: int) -> str:
    return textwrap.dedent(f"""
        import json, sys
        from pygestor.catalog import Catalog
        from pygestor.index.records import Record
        catalog = Catalog.open()
        for round in range(3):
            for result in catalog.sync({DATASETS!r}):
                assert result.error is None, result.error
            for d in catalog.dataset_records():
                assert d["name"]
            assert len(catalog.partition_records("wikipedia", "20231101.en")) == 41
            for i in range(10):  # records written while other processes sync
                catalog.store.put_record("wikipedia", "20231101.en",
                f"w{index}-{{round}}-{{i}}.parquet",
                                         Record(path="x", size=1))
        print("ok")
    """)


def test_four_processes_sync_and_list_at_once(tmp_path: Path, replica_hub: HubServer) -> None:
    env = {
        **os.environ,
        "HF_ENDPOINT": replica_hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _worker_script(i)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert out == "ok\n"
    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    store = catalog.store
    for name in DATASETS:
        listings = list(
            (tmp_path / "data" / ".pygestor" / "datasets" / name / "listings").iterdir()
        )
        assert [p.suffix for p in listings] == [".json"]  # one listing, no temporary files left
        assert store.listing(name) is not None
    records = store.records("wikipedia", "20231101.en")
    assert len(records) == 4 * 3 * 10  # no record lost
    assert [s["partitions"] for s in catalog.subset_records("wikipedia")] == [1, 41, 1]


_KILL_TARGET = textwrap.dedent("""
    import sys
    from pathlib import Path
    from pygestor.index.records import Listing, Record
    from pygestor.index.store import Store
    from pygestor.resolve import Partition, Subset
    from pygestor.sources.base import RemoteFile

    store = Store(Path(sys.argv[1]))
    def listing(n):
        parts = tuple(Partition(f"p{i:05d}.parquet", RemoteFile(f"d/p{i:05d}.parquet", n + i)) for
        i in range(3000))
        return Listing("big", "hf://datasets/x/y@main", "main", f"{n:040x}", "fp", (Subset("all",
        parts),))
    listings = [listing(n) for n in range(4)]
    i = 0
    while True:
        store.save_listing(listings[i % 4])
        store.put_record("big", "all", f"p{i:05d}.parquet", Record(path=f"d/p{i:05d}.parquet",
        size=i))
        print(i, flush=True)
        i += 1
""")


@pytest.mark.parametrize("delay", [0.35, 0.6, 0.9])
def test_kill_9_during_index_writes_leaves_a_valid_index(tmp_path: Path, delay: float) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILL_TARGET, str(data)], stdout=subprocess.PIPE, text=True
    )
    done: list[int] = []
    deadline = time.monotonic() + 30
    while len(done) < 3 and time.monotonic() < deadline:  # let it get going, then kill it mid-write
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if line:
            done.append(int(line))
    time.sleep(delay * 0.1)
    proc.send_signal(signal.SIGKILL)
    rest = proc.stdout.read()  # type: ignore[union-attr]
    proc.wait()
    done += [int(x) for x in rest.split()]
    assert len(done) >= 3

    store = Store(data)
    pointer = store.pointer("big")
    assert pointer is not None and pointer.partitions == 3000
    listing = store.listing("big")
    assert listing is not None and listing.commit == pointer.commit
    records = store.records("big")
    for i in done:  # every record whose write returned survives, intact
        assert records[("all", f"p{i:05d}.parquet")].size == i
    for path in (data / ".pygestor").rglob("*.json"):
        if not path.name.startswith("."):
            json.loads(path.read_bytes())  # every visible index file is complete JSON

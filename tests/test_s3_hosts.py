"""Two hosts sharing one data directory in a bucket (processes with homes and caches of their
own, no lock service): they sync at once and download overlapping partitions at once; each
partition is fetched and committed by one of them, and no data object is ever visible before it
is whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from conftest import big_repo, make_settings
from pygestor.catalog import Catalog
from pygestor.testing.hub import Fault, HubServer
from pygestor.testing.s3 import SeaweedS3

SIZE = 6 * 1024 * 1024


def test_two_hosts_download_overlapping_partitions_into_one_prefix(
    tmp_path: Path, hub: HubServer, seaweed: SeaweedS3, seaweed_url: str
) -> None:
    big_repo(tmp_path, hub, 6, SIZE)
    want = {
        f"big/all/file-{i}.bin": hub.hub.read("pygestor/big", f"blobs/file-{i}.bin")
        for i in range(6)
    }
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.01, chunk_size=256 * 1024, times=None)
    )
    hosts = []
    for name, picked in (("a", range(0, 4)), ("b", range(2, 6))):
        home = tmp_path / f"host-{name}"
        env = {
            **os.environ,
            **seaweed.env(),
            "HOME": str(home),
            "HF_HOME": str(home / "hf"),
            "HF_ENDPOINT": hub.endpoint,
            "PYGESTOR_DATA_DIR": seaweed_url,
            "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
        }
        args = [a for i in picked for a in ("-p", f"file-{i}.bin")]
        hosts.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "pygestor",
                    "download",
                    "big",
                    *args,
                    "--workers",
                    "2",
                    "--json",
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    catalog = Catalog(
        make_settings(
            tmp_path, hub.endpoint, data_url=seaweed_url, storage_options=seaweed.options()
        )
    )
    seen: set[str] = set()
    while any(h.poll() is None for h in hosts):  # what a third host lists meanwhile
        for key in catalog.storage.walk("big"):
            if key in want:
                assert catalog.storage.read(key) == want[key], f"{key} visible half-written"
                seen.add(key)
            else:  # nothing else but the partial files of downloads in flight
                assert key.rsplit("/", 1)[-1].startswith(".") and ".part" in key, key
        time.sleep(0.05)
    reports = []
    for h in hosts:
        out, err = h.communicate()
        assert h.returncode == 0, err[-2000:]
        reports.append(json.loads(out))
    fetched = [set(r["fetched"]) for r in reports]
    assert fetched[0].isdisjoint(fetched[1])  # each partition fetched (and committed) once
    assert fetched[0] | fetched[1] == {f"all/file-{i}.bin" for i in range(6)}
    assert len(hub.requests.filter(method="GET", origin="lfs")) == 6
    assert sorted(catalog.storage.walk("big")) == sorted(want)
    for key, data in want.items():
        assert catalog.storage.read(key) == data
    records = catalog.store.records("big", "all")
    assert sorted(p for _, p in records) == [f"file-{i}.bin" for i in range(6)]
    assert seen  # the poller did see objects appear while the hosts ran

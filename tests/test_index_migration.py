"""Format 1 data dirs (pygestor 0.6, `tests/fixtures/index-v1`: mnist synced and downloaded by
0.6's code) are read as they are and migrated by the first write."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import make_settings
from pygestor.catalog import Catalog
from pygestor.testing.hub import HubServer

FIXTURE = Path(__file__).parent / "fixtures" / "index-v1"
INDEX = ".pygestor/datasets/mnist"


def test_a_format_1_data_dir_is_read_then_migrated(tmp_path: Path, replica_hub: HubServer) -> None:
    shutil.copytree(FIXTURE, tmp_path / "data")
    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    index = tmp_path / "data" / INDEX
    before = {s: catalog.partition_records("mnist", s) for s in ("train", "test")}
    assert [p["state"] for s in before.values() for p in s] == ["local", "local"]
    assert (index / "records").is_dir()  # reading wrote nothing
    assert catalog.store.migrate("mnist") is True
    assert not (index / "records").exists()
    assert json.loads((index / "current.json").read_bytes())["format"] == 2
    assert sorted(p.name for p in (index / "segments").iterdir()) == ["test", "train"]
    again = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    assert {s: again.partition_records("mnist", s) for s in ("train", "test")} == before
    assert again.store.migrate("mnist") is False
    report = again.download("mnist", all_subsets=True)
    assert (report.fetched, report.bytes_fetched) == ((), 0)

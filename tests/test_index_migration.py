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


class _Crash(BaseException):
    """The process dies here (a BaseException: no `except Exception` in the code catches it)."""


class _CrashingStorage:
    """The data dir's storage, dying just before its `at`-th change (0 = the first): what a kill
    between two steps of a migration leaves on disk."""

    CHANGES = frozenset(
        {"write", "create", "writer", "append", "replace", "remove", "remove_dir", "sync"}
    )

    def __init__(self, storage: object, at: int) -> None:
        self._storage, self._at, self.changes = storage, at, 0

    def __getattr__(self, name: str) -> object:
        found = getattr(self._storage, name)
        if name not in self.CHANGES:
            return found

        def change(*args: object, **kwargs: object) -> object:
            if self.changes == self._at:
                raise _Crash(f"killed before {name}{args}")
            self.changes += 1
            return found(*args, **kwargs)

        return change


def _states(catalog: Catalog) -> dict[str, list[dict[str, object]]]:
    """Each partition's record and state (without the data dir's own location)."""
    return {
        s: [
            {k: v for k, v in p.items() if k != "location"}
            for p in catalog.partition_records("mnist", s)
        ]
        for s in ("train", "test")
    }


def test_a_migration_killed_before_any_of_its_steps_leaves_a_readable_index_that_finishes(
    tmp_path: Path, replica_hub: HubServer
) -> None:
    """Kill the migration before its 1st, 2nd, ... change to the data dir, until one runs to the
    end: every state left reads as the same two local partitions, and the next write finishes
    the migration without fetching a byte."""
    expected = None
    at = 0
    while True:
        root = tmp_path / f"at-{at}"
        shutil.copytree(FIXTURE, root / "data")
        settings = make_settings(root, replica_hub.endpoint)
        dying = Catalog(settings)
        if expected is None:
            expected = _states(dying)
            assert [p["state"] for s in expected.values() for p in s] == ["local", "local"]
        crashing = _CrashingStorage(dying.store.storage, at)
        dying.store.storage = crashing  # type: ignore[assignment]
        try:
            dying.store.migrate("mnist")
        except _Crash:
            pass
        else:
            break
        after = Catalog(settings)
        assert _states(after) == expected, f"killed before change {at}"
        assert after.store.migrate("mnist") is True, f"killed before change {at}"
        index = root / "data" / INDEX
        assert not (index / "records").exists()
        assert json.loads((index / "current.json").read_bytes())["format"] == 2
        again = Catalog(settings)
        assert _states(again) == expected, f"killed before change {at}"
        report = again.download("mnist", all_subsets=True)
        assert (report.fetched, report.bytes_fetched) == ((), 0), f"killed before change {at}"
        at += 1
    assert at >= 6, f"the migration made only {at} changes"  # steps 1 and 2 both ran

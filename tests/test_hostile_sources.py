"""Hostile or odd sources (issue 9, section 3): listings with unsafe paths or unusable sizes,
files and folders that map to one local path, empty files, bodies longer than listed, and a disk
that fills up mid-download or mid-sync. Every case: one line, no traceback, nothing written
outside the plan, and the good files stay usable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import make_settings, run_cli, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import DownloadError
from pygestor.fetch import ProgressEvent
from pygestor.testing.hub import Fault, HubServer

GOOD = {"data/a.jsonl": b'{"x": 1}\n', "data/b.jsonl": b'{"x": 2}\n'}

#: (raw tree entry, the line sync prints for it)
HOSTILE_ENTRIES = [
    (
        {"path": "../escape.jsonl"},
        "skipped ../escape.jsonl: its path has a '.', '..' or empty segment",
    ),
    (
        {"path": "data/../../etc/passwd.jsonl"},
        "skipped data/../../etc/passwd.jsonl: its path has a '.', '..' or empty segment",
    ),
    (
        {"path": "data/%2e%2e/x.jsonl"},
        "skipped data/%2e%2e/x.jsonl: its path has a percent-encoded '.', '..' or empty segment",
    ),
    (
        {"path": "data/%2E%2e/y.jsonl"},
        "skipped data/%2E%2e/y.jsonl: its path has a percent-encoded '.', '..' or empty segment",
    ),
    (
        {"path": "data/%252e%252e/z.jsonl"},
        "skipped data/%252e%252e/z.jsonl: its path has a percent-encoded '.', '..' or empty "
        "segment",
    ),
    ({"path": "data/a%2Fb.jsonl"}, "skipped data/a%2Fb.jsonl: its path has a percent-encoded '/'"),
    (
        {"path": "data/a%5cb.jsonl"},
        "skipped data/a%5cb.jsonl: its path has a percent-encoded backslash",
    ),
    ({"path": "data\\c.jsonl"}, "skipped data\\c.jsonl: its path has a backslash"),
    ({"path": "data/n\n.jsonl"}, "skipped data/n\\x0a.jsonl: its path has a control character"),
    ({"path": "data/r\r.jsonl"}, "skipped data/r\\x0d.jsonl: its path has a control character"),
    ({"path": "data/t\t.jsonl"}, "skipped data/t\\x09.jsonl: its path has a control character"),
    ({"path": "data/d\x7f.jsonl"}, "skipped data/d\\x7f.jsonl: its path has a control character"),
    ({"path": "data/z\x00.jsonl"}, "skipped data/z\\x00.jsonl: its path has a control character"),
    (
        {"path": "data/%0a.jsonl"},
        "skipped data/%0a.jsonl: its path has a percent-encoded control character",
    ),
    ({"path": "/abs.jsonl"}, "skipped /abs.jsonl: its path is absolute"),
    (
        {"path": "data//twice.jsonl"},
        "skipped data//twice.jsonl: its path has a '.', '..' or empty segment",
    ),
    (
        {"path": "data/nosize.jsonl", "size": None},
        "skipped data/nosize.jsonl: its size None is not a whole number of bytes",
    ),
    (
        {"path": "data/textsize.jsonl", "size": "abc"},
        "skipped data/textsize.jsonl: its size 'abc' is not a whole number of bytes",
    ),
    (
        {"path": "data/negative.jsonl", "size": -5},
        "skipped data/negative.jsonl: its size -5 is negative",
    ),
    (
        {"path": "data/half.jsonl", "size": 1.5},
        "skipped data/half.jsonl: its size 1.5 is not a whole number of bytes",
    ),
    (
        {"path": "data/bool.jsonl", "size": True},
        "skipped data/bool.jsonl: its size True is not a whole number of bytes",
    ),
    ({"path": 7}, "skipped 7: its path is int, not text"),
]


def _hostile_repo(tmp_path: Path, hub: HubServer, entries: list[dict]) -> Catalog:
    hub.hub.create_repo("pygestor/hostile", GOOD)
    hub.hub.add_raw_entries("pygestor/hostile", entries)
    write_manifest(
        tmp_path / "user-catalog",
        "hostile",
        """
name: hostile
source: {huggingface: pygestor/hostile}
subsets:
  - files: "**/*.jsonl"
    name: all
format: jsonl
""",
    )
    return Catalog(make_settings(tmp_path, hub.endpoint))


def _files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def _never_requested(hub: HubServer) -> None:
    """Every request either origin served was an API call or one of the good files."""
    files = [r.path for r in hub.requests if not r.path.startswith("/api/")]
    assert files, "the good files were requested"
    assert all(p.endswith(("/data/a.jsonl", "/data/b.jsonl")) for p in files), files


def test_hostile_listing_entries_are_skipped_and_never_requested(
    tmp_path: Path, hub: HubServer
) -> None:
    entries = [e for e, _ in HOSTILE_ENTRIES]
    catalog = _hostile_repo(tmp_path, hub, entries)
    [result] = catalog.sync("hostile")
    assert result.error is None
    assert (result.subsets, result.partitions) == (1, 2)
    shown = {f"skipped {p}: {why}" for p, why in result.skipped}
    assert shown == {line for _, line in HOSTILE_ENTRIES}
    report = catalog.download("hostile")
    assert sorted(report.fetched) == ["all/a.jsonl", "all/b.jsonl"]
    assert _files_under(tmp_path / "data" / "hostile") == {"all/a.jsonl", "all/b.jsonl"}
    assert list(catalog.load("hostile", "all")["x"]) == [1, 2]
    _never_requested(hub)
    assert not (tmp_path / "escape.jsonl").exists()
    assert not (tmp_path / "data" / "escape.jsonl").exists()


def test_hostile_listing_on_the_command_line(tmp_path: Path, hub: HubServer) -> None:
    entries = [e for e, _ in HOSTILE_ENTRIES[:4]]
    _hostile_repo(tmp_path, hub, entries)
    env = {
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    synced = run_cli(["sync", "hostile"], env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("hostile: 1 subsets, 2 partitions, ")
    # (the notes may come to name their dataset: "hostile: skipped ...")
    notes = [n.strip().removeprefix("hostile: ") for n in synced.stderr.splitlines()]
    assert notes == [line for _, line in HOSTILE_ENTRIES[:4]]
    assert "Traceback" not in synced.stderr
    got = run_cli(["download", "hostile"], env=env)
    assert got.returncode == 0, got.stderr
    assert "Traceback" not in got.stderr
    _never_requested(hub)


def test_an_entry_without_a_size_fails_the_sync_in_one_line(tmp_path: Path, hub: HubServer) -> None:
    """The client itself cannot parse an entry without `size`: one line, nothing recorded."""
    catalog = _hostile_repo(tmp_path, hub, [{"path": "data/c.jsonl", "size": None}])
    hub.hub.add_raw_entries(
        "pygestor/hostile",
        [{"type": "file", "path": "data/d.jsonl", "oid": "1" * 40}],
        complete=False,
    )
    [result] = catalog.sync("hostile", on_error="collect")
    assert result.error == (
        "hostile (" + str(tmp_path / "user-catalog" / "hostile.yaml") + "): the tree listing of "
        "hf://datasets/pygestor/hostile@main on " + hub.endpoint + " is malformed "
        "(KeyError: 'size'); nothing was recorded"
    )
    assert not (tmp_path / "data" / ".pygestor" / "datasets" / "hostile").exists()


# ---- a body longer than the listed size ------------------------------------------------------
MB = 1024 * 1024


def _one_file_repo(tmp_path: Path, hub: HubServer, data: bytes, name: str = "big.bin") -> Catalog:
    hub.hub.create_repo("pygestor/long", {f"data/{name}": data})
    write_manifest(
        tmp_path / "user-catalog",
        "long",
        """
name: long
source: {huggingface: pygestor/long}
subsets:
  - files: "data/*"
    name: all
""",
    )
    return Catalog(make_settings(tmp_path, hub.endpoint))


@pytest.mark.parametrize("content_length", ["actual", "listed", "none"])
@pytest.mark.parametrize("lfs", [True, False], ids=["lfs", "plain"])
def test_a_body_longer_than_listed_is_cut_at_the_listed_size(
    tmp_path: Path, hub: HubServer, content_length: str, lfs: bool
) -> None:
    data = bytes(range(256)) * (4096 if lfs else 16)  # 1 MiB (LFS) or 4 KiB (plain git)
    catalog = _one_file_repo(tmp_path, hub, data, "big.bin" if lfs else "small.txt")
    catalog.sync("long")
    hub.faults.add(
        Fault(
            path="/big.bin$" if lfs else "/small.txt$",
            origin="lfs" if lfs else "main",
            extra_bytes=30 * len(data),
            content_length=content_length,  # type: ignore[arg-type]
        )
    )
    name = "big.bin" if lfs else "small.txt"
    target = tmp_path / "data" / "long" / "all" / name
    if content_length == "listed":
        # the HTTP client reads only what Content-Length announced: the bytes past it never
        # reach pygestor, and the file is right
        assert catalog.download("long").fetched == (f"all/{name}",)
        assert target.read_bytes() == data
        assert _files_under(tmp_path / "data" / "long") == {f"all/{name}"}
        return
    events: list[ProgressEvent] = []
    with pytest.raises(DownloadError) as caught:
        catalog.download("long", progress=events.append)
    assert sum(e.delta for e in events if e.kind == "bytes") <= len(data)
    assert str(caught.value) == (
        f"could not download long/all/{name}: the server sent more than the listed "
        f"{len(data):,} bytes for data/{name}; stopped reading there and discarded the partial "
        "file"
    )
    assert _files_under(tmp_path / "data" / "long") == set()
    assert catalog.download("long").fetched == (f"all/{name}",)  # the fault was once
    assert target.read_bytes() == data

"""Links planted in a (group-writable) data directory never make pygestor write or delete outside.

Each test plants one kind of symbolic link (a `.part` file, a subset folder, the records folder,
a dataset folder, the final partition path, a temporary name) leading to a file or folder outside
the data directory, runs the real CLI, and checks that the outside bytes are unchanged and that
the CLI said so in one line (or, for `remove`, left the link alone and listed it).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import write_manifest
from pygestor.cli import cli
from pygestor.testing.hub import HubServer

FILES = {f"blobs/{n}.bin": hashlib.shake_256(n.encode()).digest(300_000) for n in ("a", "b")}
NOBODY = 65534  # the uid of a planted link that is not the data directory owner's


@pytest.fixture
def env(tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repo of two files, its manifest `links`, and the CLI pointed at both; returns DATA_DIR."""
    hub.hub.create_repo("pygestor/links", FILES)
    write_manifest(
        tmp_path / "user-catalog",
        "links",
        """
name: links
source: {huggingface: pygestor/links}
subsets:
  - files: "blobs/*.bin"
    name: all
""",
    )
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))
    assert cli_run("sync", "links").exit_code == 0
    return tmp_path / "data"


@pytest.fixture
def outside(tmp_path: Path) -> Iterator[Path]:
    """A folder outside the data directory holding a precious file; checked unchanged after."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious").write_bytes(b"never touch this")
    yield folder
    assert sorted(p.name for p in folder.iterdir()) == ["precious"]
    assert (folder / "precious").read_bytes() == b"never touch this"


def cli_run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def refused(result: Result, path: Path, reason: str) -> None:
    """The CLI failed with one line naming `path` and why."""
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert f"refusing to write or delete {path}: {reason}; " in lines[0], lines[0]
    assert "remove the link and rerun" in lines[0]
    assert "Traceback" not in result.output


def test_a_part_file_link_is_refused(env: Path, outside: Path) -> None:
    part = env / "links/all/.a.bin.part"
    part.parent.mkdir(parents=True)
    part.symlink_to(outside / "precious")
    refused(cli_run("download", "links", "-p", "a.bin"), part, "it is a symbolic link")
    assert part.is_symlink()


def test_a_subset_folder_link_is_refused(env: Path, outside: Path) -> None:
    (env / "links").mkdir()
    (env / "links/all").symlink_to(outside)
    result = cli_run("download", "links", "-p", "a.bin")
    refused(
        result,
        env / "links/all/.a.bin.part",
        f"{env}/links/all is a symbolic link to {outside}, outside the data directory {env}",
    )


def test_a_records_folder_link_is_refused(env: Path, outside: Path) -> None:
    """Inside the index a link is damage (the index check names it before the storage's
    containment check would): one line, nothing written outside, and repair removes the link."""
    records = env / ".pygestor/datasets/links/segments"  # the folder of records (segments)
    records.symlink_to(outside)
    result = cli_run("download", "links", "-p", "a.bin")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        # the batch commit of the records refuses it: the run stops on the index's line
        f"Error: {records}: is a symbolic link leading out "
        "of the index; index files are never written through links; run 'pygestor sync links "
        "--repair'"
    ]
    listed = json.loads(cli_run("list", "links", "-s", "all", "--json").stdout)
    assert [p["state"] for p in listed] == ["remote", "remote"]  # nothing counted as done
    assert cli_run("sync", "links", "--repair").exit_code == 0
    assert not records.is_symlink()
    assert cli_run("download", "links", "-p", "a.bin").exit_code == 0


def test_a_final_partition_path_link_is_refused(env: Path, outside: Path) -> None:
    final = env / "links/all/a.bin"
    final.parent.mkdir(parents=True)
    final.symlink_to(outside / "precious")
    refused(cli_run("download", "links", "-p", "a.bin"), final, "it is a symbolic link")
    assert final.is_symlink()


def test_a_temporary_name_link_is_left_alone(env: Path, outside: Path) -> None:
    """Temporary names are random and created with O_EXCL, so only a leftover-looking link can
    be planted: downloads ignore it, repair and remove never delete through it."""
    temp = env / "links/all/.tmp-0123456789abcdef0123456789abcdef-a.bin"
    temp.parent.mkdir(parents=True)
    temp.symlink_to(outside / "precious")
    os.utime(temp, (0, 0), follow_symlinks=False)  # as old as a leftover of a killed process
    assert cli_run("download", "links").exit_code == 0
    assert (env / "links/all/a.bin").read_bytes() == FILES["blobs/a.bin"]
    removed = cli_run("remove", "links", "--all", "--yes", "--json")
    assert removed.exit_code == 0, removed.output
    report = json.loads(removed.stdout)
    assert sorted(f["kind"] for f in report["files"]) == ["data", "data"]
    why = "a symbolic link, which pygestor never makes"
    assert report["kept"] == [{"subset": "all", "path": str(temp), "reason": why}]
    assert temp.is_symlink()


def test_a_planted_dataset_folder_link_is_refused(env: Path, outside: Path) -> None:
    """A link `DATA_DIR/<dataset>` made by anyone but the data directory's owner."""
    link = env / "links"
    link.symlink_to(outside)
    os.lchown(link, NOBODY, NOBODY)
    result = cli_run("download", "links", "-p", "a.bin")
    refused(
        result,
        link / "all/.a.bin.part",
        f"{link} is a symbolic link to {outside}, outside the data directory {env}",
    )
    there = outside / "all/a.bin"  # what the link leads to, as if pygestor had written it
    there.parent.mkdir()
    there.write_bytes(FILES["blobs/a.bin"])
    removed = json.loads(cli_run("remove", "links", "--all", "--yes", "--json").stdout)
    why = f"{link} is a symbolic link to {outside}, outside the data directory {env}"
    assert removed["files"] == [] and removed["kept"] == [
        {"subset": "all", "path": str(link / "all/a.bin"), "reason": why},
        {"subset": "all", "path": str(link / "all"), "reason": why},  # and all it holds
    ]
    assert there.read_bytes() == FILES["blobs/a.bin"]
    there.unlink()
    there.parent.rmdir()


def test_a_dataset_folder_link_made_by_the_owner_works_end_to_end(
    env: Path, tmp_path: Path
) -> None:
    """The supported way to put one dataset on another disk: the data directory's owner makes
    `DATA_DIR/<dataset>` a link to a folder there."""
    disk = tmp_path / "other-disk"
    disk.mkdir()
    (env / "links").symlink_to(disk)
    assert os.lstat(env / "links").st_uid == os.stat(env).st_uid
    assert cli_run("download", "links").exit_code == 0
    assert (disk / "all/a.bin").read_bytes() == FILES["blobs/a.bin"]
    assert (disk / "all/b.bin").read_bytes() == FILES["blobs/b.bin"]
    shown = cli_run("list", "links", "-s", "all", "--json")
    assert [p["state"] for p in json.loads(shown.stdout)] == ["local", "local"]
    (disk / "all/notes.txt").write_bytes(b"mine")
    removed = cli_run("remove", "links", "--all", "--yes", "--json")
    assert removed.exit_code == 0, removed.output
    report = json.loads(removed.stdout)
    assert sorted(f["path"] for f in report["files"]) == [
        str(env / "links/all/a.bin"),
        str(env / "links/all/b.bin"),
    ]
    assert [k["reason"] for k in report["kept"]] == ["not written by pygestor"]
    assert sorted(p.name for p in (disk / "all").iterdir()) == ["notes.txt"]
    assert (env / "links").is_symlink()


def test_remove_all_keeps_a_foreign_file_beside_the_partitions(env: Path) -> None:
    assert cli_run("download", "links").exit_code == 0
    foreign = env / "links/all/README-of-a-colleague.txt"
    foreign.write_bytes(b"not pygestor's")
    (env / "links/all/.b.bin.part").write_bytes(b"half")  # pygestor's own partial file
    dry = json.loads(cli_run("remove", "links", "--all", "--dry-run", "--json").stdout)
    assert sorted((f["kind"], Path(f["path"]).name) for f in dry["files"]) == [
        ("data", "a.bin"),
        ("data", "b.bin"),
        ("partial", ".b.bin.part"),
    ]
    assert dry["kept"] == [
        {"subset": "all", "path": str(foreign), "reason": "not written by pygestor"}
    ]
    result = cli_run("remove", "links", "--all", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        "  left alone, not written by pygestor (1):",
        f"    {foreign} (not written by pygestor)",
        "links: deleted 3 files, freed 600.0 kB",
    ]
    assert sorted(p.name for p in (env / "links/all").iterdir()) == [foreign.name]
    assert foreign.read_bytes() == b"not pygestor's"


def test_remove_keeps_a_data_file_that_does_not_match_its_record(env: Path) -> None:
    assert cli_run("download", "links").exit_code == 0
    swapped = env / "links/all/a.bin"
    swapped.write_bytes(b"someone else's bytes")
    plan = json.loads(cli_run("remove", "links", "--all", "--dry-run", "--json").stdout)
    assert [Path(f["path"]).name for f in plan["files"]] == ["b.bin"]
    assert plan["kept"] == [
        {"subset": "all", "path": str(swapped), "reason": "20 bytes, its record says 300,000"}
    ]

"""Hostile or odd sources (issue 9, section 3): listings with unsafe paths or unusable sizes,
files and folders that map to one local path, empty files, bodies longer than listed, and a disk
that fills up mid-download or mid-sync. Every case: one line, no traceback, nothing written
outside the plan, and the good files stay usable."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import fill_disk, make_settings, run_cli, write_manifest
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
    before = _files_under(tmp_path)
    report = catalog.download("hostile")
    assert sorted(report.fetched) == ["all/a.jsonl", "all/b.jsonl"]
    assert _files_under(tmp_path / "data" / "hostile") == {"all/a.jsonl", "all/b.jsonl"}
    written = _files_under(tmp_path) - before
    assert {p for p in written if not p.startswith("data/.pygestor/")} == {
        "data/hostile/all/a.jsonl",
        "data/hostile/all/b.jsonl",
    }
    assert list(catalog.load("hostile", "all")["x"]) == [1, 2]
    _never_requested(hub)
    assert not (tmp_path / "escape.jsonl").exists()
    assert not (tmp_path / "data" / "escape.jsonl").exists()


def test_a_path_listed_twice_is_one_partition(tmp_path: Path, hub: HubServer) -> None:
    """A Hub that lists one path twice, with another size: the first entry is kept, the copy
    skipped (and never fetched as a second file)."""
    catalog = _hostile_repo(tmp_path, hub, [{"path": "data/a.jsonl", "size": 999}])
    [result] = catalog.sync("hostile")
    assert list(result.skipped) == [("data/a.jsonl", "it is listed twice; the first entry is kept")]
    rows = catalog.partition_records("hostile", "all")
    assert [(r["partition"], r["size"]) for r in rows] == [("a.jsonl", 9), ("b.jsonl", 9)]
    assert sorted(catalog.download("hostile").fetched) == ["all/a.jsonl", "all/b.jsonl"]
    assert (tmp_path / "data" / "hostile" / "all" / "a.jsonl").read_bytes() == GOOD["data/a.jsonl"]


def test_hostile_listing_on_the_command_line(tmp_path: Path, hub: HubServer) -> None:
    entries = [e for e, _ in HOSTILE_ENTRIES[:4]]
    _hostile_repo(tmp_path, hub, entries)
    env = {
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    synced = run_cli(["sync", "hostile"], env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("hostile: 1 subset, 2 partitions, ")
    assert synced.stderr.splitlines() == [f"hostile: {line}" for _, line in HOSTILE_ENTRIES[:4]]
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


# ---- a full disk (a real tmpfs, mounted by the test) -----------------------------------------
def _disk_env(tmp_path: Path, hub: HubServer, disk: Path) -> dict[str, str]:
    return {
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
        "PYGESTOR_DATA_DIR": str(disk / "data"),
    }


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    [line] = [x for x in result.stderr.splitlines() if x.startswith("Error: ")]
    return line


def _temp_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".tmp-*"))


def test_disk_full_mid_download_keeps_the_partial_file_and_the_rerun_finishes(
    tmp_path: Path, hub: HubServer, small_disk: Path
) -> None:
    data = os.urandom(1536 * 1024)  # fits the 2 MiB disk with room to spare at plan time
    _one_file_repo(tmp_path, hub, data)
    env = _disk_env(tmp_path, hub, small_disk)
    assert run_cli(["sync", "long"], env=env).returncode == 0
    hub.faults.add(Fault(path="/big.bin$", origin="lfs", chunk_delay=0.05, chunk_size=32 * 1024))
    part = small_disk / "data" / "long" / "all" / ".big.bin.part"
    cmd = [str(Path(sys.executable).with_name("pygestor")), "download", "long"]
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 30
    while not (part.exists() and part.stat().st_size >= 256 * 1024):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    filler = fill_disk(small_disk)
    out, err = proc.communicate(timeout=60)
    result = subprocess.CompletedProcess(cmd, proc.returncode, out, err)
    line = _one_line_error(result)
    kept = part.stat().st_size
    assert 256 * 1024 <= kept < len(data)
    assert part.read_bytes() == data[:kept]  # a true prefix: resumable
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    assert line == (
        f"Error: no space left on {small_disk} while writing {part}; "
        f"free {max(len(data) - kept - free, 1):,} bytes and rerun"
    )
    assert not (small_disk / "data" / "long" / "all" / "big.bin").exists()

    filler.unlink()
    # the stopped download's request is logged once the server notices the closed connection
    deadline = time.monotonic() + 10
    while not hub.requests.filter(origin="lfs", path="/big.bin$") and time.monotonic() < deadline:
        time.sleep(0.05)
    hub.requests.clear()
    again = run_cli(["download", "long"], env=env)
    assert again.returncode == 0, again.stderr
    assert (small_disk / "data" / "long" / "all" / "big.bin").read_bytes() == data
    assert not part.exists()
    [get] = hub.requests.filter(origin="lfs", path="/big.bin$")
    assert get.range == f"bytes={kept}-" and get.bytes_sent == len(data) - kept
    assert _temp_files(small_disk) == []


def test_disk_full_during_a_sync_keeps_the_listing_in_force(
    tmp_path: Path, hub: HubServer, small_disk: Path
) -> None:
    _hostile_repo(tmp_path, hub, [])
    env = _disk_env(tmp_path, hub, small_disk)
    assert run_cli(["sync", "hostile"], env=env).returncode == 0
    index = small_disk / "data" / ".pygestor" / "datasets" / "hostile"
    pointer = (index / "current.json").read_bytes()
    listings = sorted(p.name for p in (index / "listings").iterdir())
    hub.hub.commit("pygestor/hostile", add={f"data/c{i}.jsonl": b"{}\n" for i in range(50)})
    filler = fill_disk(small_disk)

    failed = run_cli(["sync", "hostile"], env=env)
    line = _one_line_error(failed)
    assert re.fullmatch(
        rf"Error: no space left on {re.escape(str(small_disk))} while writing the index of "
        r"hostile; free [1-9][\d,]* bytes and rerun",
        line,
    ), line
    assert (index / "current.json").read_bytes() == pointer  # the old listing stays in force
    assert sorted(p.name for p in (index / "listings").iterdir()) == listings
    assert _temp_files(small_disk) == []  # no half-written file, no stray temporary file

    filler.unlink()
    again = run_cli(["sync", "hostile"], env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith("hostile: 1 subset, 52 partitions, ")
    assert json.loads((index / "current.json").read_text()) != json.loads(pointer)


def test_a_full_disk_while_writing_an_arrow_copy_is_one_line(
    tmp_path: Path, hub: HubServer, small_disk: Path
) -> None:
    """Writers that do not name a full disk themselves (the Arrow copy) still end in one line:
    the CLI turns any ENOSPC into it, and the data already downloaded stays."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"x": pa.array(range(60_000), pa.int64())}), buf)
    _one_file_repo(tmp_path, hub, buf.getvalue(), name="x.parquet")
    env = _disk_env(tmp_path, hub, small_disk)
    assert run_cli(["download", "long"], env=env).returncode == 0
    downloaded = small_disk / "data" / "long" / "all" / "x.parquet"
    filler = fill_disk(small_disk)
    line = _one_line_error(run_cli(["download", "long", "--arrow-copy"], env=env))
    copy = small_disk / "data" / ".pygestor" / "datasets" / "long" / "arrow" / "all.arrow"
    assert re.fullmatch(
        rf"Error: no space left on {re.escape(str(small_disk))} while writing the Arrow copy "
        rf"{re.escape(str(copy))}; free [1-9][\d,]* bytes and rerun",
        line,
    ), line
    assert downloaded.read_bytes() == buf.getvalue()
    assert _temp_files(small_disk) == []
    filler.unlink()
    assert run_cli(["download", "long", "--arrow-copy"], env=env).returncode == 0


def test_the_up_front_space_check_still_refuses(
    tmp_path: Path, hub: HubServer, small_disk: Path
) -> None:
    _one_file_repo(tmp_path, hub, os.urandom(3 * MB))
    env = _disk_env(tmp_path, hub, small_disk)
    assert run_cli(["sync", "long"], env=env).returncode == 0
    failed = run_cli(["download", "long"], env=env)
    line = _one_line_error(failed)
    free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
    assert line == (
        f"Error: the download needs {3 * MB:,} bytes but {small_disk / 'data'} has {free:,} "
        "free; free space, choose fewer partitions, or set PYGESTOR_DATA_DIR to a larger disk"
    )
    assert not (small_disk / "data" / "long").exists()


def test_a_long_body_never_fills_the_disk(tmp_path: Path, hub: HubServer, small_disk: Path) -> None:
    """What happened before: a server sending 31 MB for a 1 MB file filled a tmpfs."""
    data = os.urandom(MB)
    _one_file_repo(tmp_path, hub, data)
    env = _disk_env(tmp_path, hub, small_disk)
    assert run_cli(["sync", "long"], env=env).returncode == 0
    hub.faults.add(Fault(path="/big.bin$", origin="lfs", extra_bytes=30 * MB))
    line = _one_line_error(run_cli(["download", "long"], env=env))
    assert line == (
        f"Error: could not download long/all/big.bin: the server sent more than the listed "
        f"{MB:,} bytes for data/big.bin; stopped reading there and discarded the partial file"
    )
    assert _files_under(small_disk / "data" / "long") == set()
    again = run_cli(["download", "long"], env=env)
    assert again.returncode == 0, again.stderr
    assert (small_disk / "data" / "long" / "all" / "big.bin").read_bytes() == data


# ---- a file and a folder with one local path ---------------------------------------------------
@pytest.mark.parametrize(
    ("files", "kept", "skipped"),
    [
        (  # legal in git: "a_b" beside "a b/", which makes a safe folder "a_b" too
            {"x/a_b": b"1\n", "x/a b/a_b": b"2\n"},
            {"a_b/a_b"},
            [("x/a_b", "partition name 'a_b' is also the folder of 'a_b/a_b'")],
        ),
        (  # the same, the other way round in sort order
            {"x/a b": b"1\n", "x/a_b/a b": b"2\n"},
            {"a_b/a_b"},
            [("x/a b", "partition name 'a_b' is also the folder of 'a_b/a_b'")],
        ),
        (  # a case-only clash, for case-insensitive disks
            {"x/A/f": b"1\n", "x/a/f/f": b"2\n"},
            {"a/f/f"},
            [("x/A/f", "partition name 'A/f' is also the folder of 'a/f/f'")],
        ),
    ],
)
def test_a_file_and_a_folder_with_one_local_path(
    tmp_path: Path, hub: HubServer, files: dict[str, bytes], kept: set[str], skipped: list
) -> None:
    hub.hub.create_repo("pygestor/clash", files)
    write_manifest(
        tmp_path / "user-catalog",
        "clash",
        """
name: clash
source: {huggingface: pygestor/clash}
subsets:
  - files: "x/**"
    name: all
format: text
""",
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    [result] = catalog.sync("clash")
    assert list(result.skipped) == skipped
    report = catalog.download("clash")
    assert {k.removeprefix("all/") for k in report.fetched} == kept
    assert _files_under(tmp_path / "data" / "clash" / "all") == kept


# ---- a local folder with odd names and links ---------------------------------------------------
def test_a_local_folder_with_odd_names_and_links_leading_out(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "web").mkdir(parents=True)
    (root / "web" / "a.jsonl").write_bytes(b'{"x": 1}\n')
    (root / "web" / "empty.jsonl").write_bytes(b"")  # a 0-byte file is a partition like any
    (root / "web" / "new\nline.jsonl").write_bytes(b'{"x": 2}\n')
    (root / "web" / "back\\slash.jsonl").write_bytes(b'{"x": 3}\n')
    (root / "web" / "tab\t.jsonl").write_bytes(b'{"x": 4}\n')
    (root / "web").joinpath(os.fsdecode(b"latin1-\xe9.jsonl")).write_bytes(b'{"x": 5}\n')
    (root / "web" / "été.jsonl").write_bytes(b'{"x": 6}\n')  # UTF-8 is fine
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "secret.jsonl").write_bytes(b'{"x": 666}\n')
    (outside / "deep" / "more.jsonl").write_bytes(b'{"x": 667}\n')
    (root / "web" / "secret.jsonl").symlink_to(outside / "secret.jsonl")
    (root / "web" / "deep").symlink_to(outside / "deep")
    (root / "web" / "same.jsonl").symlink_to(root / "web" / "a.jsonl")  # inside: followed
    manifest = write_manifest(
        tmp_path / "user-catalog",
        "corpus",
        f"""
name: corpus
source: {{local: {root}}}
subsets:
  - files: "{{subset}}/**/*.jsonl"
format: jsonl
""",
    )
    assert manifest.exists()
    catalog = Catalog(make_settings(tmp_path))
    [result] = catalog.sync("corpus")
    assert sorted(result.skipped) == [
        ("web/back\\slash.jsonl", "its path has a backslash"),
        ("web/deep", "it is a link to outside the source folder; not followed"),
        ("web/latin1-\\udce9.jsonl", "its path is not valid UTF-8"),
        ("web/new\\x0aline.jsonl", "its path has a control character"),
        ("web/secret.jsonl", "it is a link to outside the source folder; not followed"),
        ("web/tab\\x09.jsonl", "its path has a control character"),
    ]
    rows = catalog.partition_records("corpus", "web")
    assert [(r["partition"], r["path"], r["size"], r["state"]) for r in rows] == [
        ("_t_.jsonl", "web/été.jsonl", 9, "local"),  # a safe local name
        ("a.jsonl", "web/a.jsonl", 9, "local"),
        ("empty.jsonl", "web/empty.jsonl", 0, "local"),
        ("same.jsonl", "web/same.jsonl", 9, "local"),
    ]
    loaded = catalog.load("corpus", "web")  # the empty file is no rows, not an error
    assert list(loaded["x"]) == [6, 1, 1]  # été.jsonl, a.jsonl, same.jsonl
    alone = catalog.load("corpus", "web", partitions=["empty.jsonl"], output="arrow")
    assert (alone.num_rows, alone.num_columns) == (0, 0)
    assert list(catalog.stream("corpus", "web", partitions=["empty.jsonl"])) == []
    assert _files_under(tmp_path / "data") <= {
        str(p.relative_to(tmp_path / "data"))
        for p in (tmp_path / "data" / ".pygestor").rglob("*")
        if p.is_file()
    }  # read in place: nothing but the index was written
    synced = run_cli(["sync", "corpus"], env={"PYGESTOR_CATALOG": str(tmp_path / "user-catalog")})
    assert synced.returncode == 0, synced.stderr
    notes = [n.removeprefix("corpus: ") for n in synced.stderr.splitlines()]
    assert notes == [f"skipped {path}: {why}" for path, why in result.skipped[:5]] + [
        "skipped 1 more files (see --json)"
    ]


# ---- pygestor add on such a repo -------------------------------------------------------------
def test_add_on_a_hostile_repo_writes_a_manifest_and_names_what_it_left_out(
    tmp_path: Path, hub: HubServer
) -> None:
    hub.hub.create_repo(
        "pygestor/odd",
        {"data/train.jsonl": b'{"x": 1}\n', "d: x/f.jsonl": b'{"x": 2}\n'},
    )
    hub.hub.add_raw_entries(
        "pygestor/odd",
        [
            {"path": "../evil.jsonl"},
            {"path": "data/n\n.jsonl"},
            {"path": "data/size.jsonl", "size": "abc"},
            {"path": "data/%2e%2e/x.jsonl"},
        ],
    )
    env = {
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    added = run_cli(["add", "pygestor/odd"], env=env)
    assert added.returncode == 0, added.stderr
    assert "Traceback" not in added.stderr and added.stderr == ""
    review = [line.strip() for line in added.stdout.splitlines() if line.startswith("  - ")]
    assert review[:3] == [
        "- inferred from the file layout, no dataset card (README.md): check names and grouping",
        "- 4 listed files left out, never requested: data/size.jsonl (its size 'abc' is not a "
        "whole number of bytes); ../evil.jsonl (its path has a '.', '..' or empty segment); "
        "data/n\\x0a.jsonl (its path has a control character), ...",
        "- rule d: x/f.jsonl left out: pattern 'd: x/f.jsonl' is absolute; write it relative to "
        "the source root",
    ]
    written = tmp_path / "home" / ".config" / "pygestor" / "catalog" / "odd.yaml"
    assert f"wrote {written} " in added.stdout
    synced = run_cli(["sync", "odd"], env=env)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("odd: 1 subset, 1 partition, ")
    assert all(r.path.startswith("/api/") or r.path.endswith("/README.md") for r in hub.requests)


def test_add_when_no_rule_can_be_written_is_one_line(tmp_path: Path, hub: HubServer) -> None:
    hub.hub.create_repo("pygestor/odd", {"d: x/f.jsonl": b'{"x": 2}\n'})
    failed = run_cli(["add", "pygestor/odd"], env={"HF_ENDPOINT": hub.endpoint})
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        "Error: no subset rule can be written for 'pygestor/odd': rule d: x/f.jsonl left out: "
        "pattern 'd: x/f.jsonl' is absolute; write it relative to the source root; write its "
        "manifest by hand\n"
    )
    assert not (tmp_path / "home" / ".config" / "pygestor" / "catalog").exists()


def test_the_hub_source_refuses_to_request_an_unsafe_path(hub: HubServer) -> None:
    """Even a listing recorded before these checks (an old index) cannot make a download ask
    the Hub's origin, with the token, for a path the HTTP client would normalise."""
    from pygestor.errors import SourceError
    from pygestor.sources.huggingface import HuggingFaceRepo

    repo = HuggingFaceRepo("pygestor/hostile", "main", hub.endpoint, "secret-token")
    for path, why in [
        ("../x.bin", "its path has a '.', '..' or empty segment"),
        ("a/%2E%2e/x.bin", "its path has a percent-encoded '.', '..' or empty segment"),
        ("a\\x.bin", "its path has a backslash"),
        ("a\r\n.bin", "its path has a control character"),
    ]:
        with pytest.raises(SourceError) as caught:
            repo.open_file(path, "0" * 40)
        shown = path.replace("\r", "\\x0d").replace("\n", "\\x0a")
        assert str(caught.value) == (
            f"refusing to request {shown} from hf://datasets/pygestor/hostile@main: {why}"
        )
    assert len(hub.requests) == 0

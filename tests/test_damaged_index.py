"""A damaged index is one clear line and always repairable (issue 9, section 5).

The matrix: every kind of index file and folder (the pointer `current.json`, the head of the
listing it names, the file of a subset's partitions it names, the segment holding a partition's
record, the dataset lock, a partition lock, an Arrow copy; the dataset's index folder,
`.pygestor`, `.pygestor/datasets`, `listings/`, `partitions/`, a subset's folder of records
(segments) and of locks) x every damage that applies (empty, truncated, garbage, not UTF-8, `[]`,
`{}`, `{"format": 1}`, `null`, deep nesting, a future format, an extra key, a missing key, a wrong
type, a negative, fractional or boolean size, an unsafe name, a folder or a file in its place, a
symbolic link to an outside copy, a dangling link, missing): 127 cases. For each the commands a
user runs (`list`, `list DATASET`, `list DATASET -s S`, `info`, `load`, `download`, `sync`) end
without a traceback, each either succeeding (the damage is harmless to it) or failing with ONE
line that names the damaged file, says what is wrong and gives the fix, `pygestor sync mnist
--repair`. What each case does is decided once, in `expected()`:

- a damaged pointer, listing, or index folder (a file or a link in its place): every command
  about the dataset fails with that line; the catalog `list` warns and shows the dataset as not
  synced (it reads no listing: a damaged listing is no concern of it). A pointer naming a
  missing listing is damage of the pointer. A link to nothing reads as a missing file.
- a damaged file of a subset's partitions: as a damaged listing (the commands that read that
  subset's partitions fail with the line; `list` reads no listing). One that is missing is
  written again by the next sync (its name is its content).
- a damaged record (the segment holding it): its partition counts as not downloaded, with a
  warning naming the segment; a download (or load) adopts the file on disk after hashing it and
  records it in a new segment: no byte is fetched. The damaged segment stays (and is warned
  about) until repair, which removes it. A folder in place of a segment is warned about the
  same way; a dangling link reads as a missing segment. A link or file in place of a subset's
  folder of records: warned, never read through, never written through.
- a damaged lock: its content never matters; a folder or link in its place fails what takes
  that lock, with the line (`test_a_damaged_lock_...`).
- a damaged Arrow copy: `load` warns and reads the partition files instead.
- a missing pointer or index folder: the dataset is simply not synced (the usual message).
- a link in place of an index file is read (a dangling one reads as a missing file) but never
  written through or replaced: the write stops with the line (so a sync stops at a linked
  pointer or listing, a download at a linked record), and repair removes it.

Then, on a fresh copy of the same damage, `sync mnist --repair` must heal the index in every
case: `list` shows both partitions local, `verify` passes, the data files are byte-identical,
nothing outside the data directory changed, no link is left in the index, and a download
fetches nothing.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import make_settings, run_cli
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.testing.hub import HubServer

TRAIN = "train-00000-of-00001.parquet"
TEST = "test-00000-of-00001.parquet"
INDEX = ".pygestor/datasets/mnist"
FIX = "run 'pygestor sync mnist --repair'"

KINDS = {  # kind -> its path in the data dir ({listing}: the listing in force, {train}: the id
    # of the file of train's partitions it names)
    "pointer": f"{INDEX}/current.json",
    "listing": f"{INDEX}/listings/{{listing}}.json",
    "subset-listing": f"{INDEX}/partitions/{{train}}.json",
    "record": f"{INDEX}/segments/train/0000000001-1.json",  # the one batch the download wrote
    "lock": f"{INDEX}/lock",
    "partition-lock": f"{INDEX}/locks/train/{TRAIN}.lock",
    "arrow": f"{INDEX}/arrow/train.arrow",
    "index-folder": INDEX,
    "index-root": ".pygestor",
    "datasets-folder": ".pygestor/datasets",
    "listings-folder": f"{INDEX}/listings",
    "partitions-folder": f"{INDEX}/partitions",
    "records-folder": f"{INDEX}/segments/train",
    "locks-folder": f"{INDEX}/locks/train",
}
FOLDERS = ("index-folder", "index-root", "datasets-folder")  # the chain down to the dataset's
LISTING_KINDS = ("listing", "subset-listing")
JSON_KINDS = ("pointer", *LISTING_KINDS, "record")
# a required key, and a field of a size, for each JSON kind
MISSING_KEY = {"pointer": "listing", "listing": "subsets", "subset-listing": "partitions"}


def _target(kind: str, data: dict) -> dict:
    """The object of `data` whose sizes a change damages: the first subset of a head, the first
    partition of a subset's file, the record in a segment, the pointer itself."""
    if kind == "listing":
        return data["subsets"][0]
    if kind == "subset-listing":
        return data["partitions"][0]
    return data["records"][TRAIN] if kind == "record" else data


def _with(field: str, value: object) -> Callable[[str, dict], None]:
    """Set `field` (of `_target`) to `value`."""

    def change(kind: str, data: dict) -> None:
        renamed = {"pointer": {"size": "bytes"}, "listing": {"size": "bytes"}}
        _target(kind, data)[renamed.get(kind, {}).get(field, field)] = value

    return change


def _missing_key(kind: str, data: dict) -> None:
    if kind == "record":
        _target(kind, data).pop("size")
    else:
        data.pop(MISSING_KEY[kind])


JSON_CHANGES: dict[str, Callable[[str, dict], None]] = {
    "future-format": lambda kind, data: data.update(format=3),
    "extra-key": lambda kind, data: data.update(extra=1),
    "missing-key": _missing_key,
    "wrong-type": _with("size", "abc"),
    "negative-size": _with("size", -5),
    "float-size": _with("size", 1.5),
    "true-size": _with("size", True),
}
RAW: dict[str, Callable[[bytes], bytes]] = {
    "empty": lambda b: b"",
    "truncated": lambda b: b[: len(b) // 2],
    "garbage": lambda b: bytes(range(256)) * 4,
    "non-utf8": lambda b: b'{"format": 1, "path": "\xff\xfe"}',
    "list": lambda b: b"[]",
    "empty-object": lambda b: b"{}",
    "format-only": lambda b: b'{"format": 1}',
    "null": lambda b: b"null",
    "deep-nesting": lambda b: b"[" * 100_000,
}
LINKS = ("link-outside", "dangling-link")
DAMAGES = {
    **{kind: [*RAW, *JSON_CHANGES, "folder", *LINKS, "missing"] for kind in JSON_KINDS},
    "lock": ["empty", "garbage", "folder", *LINKS, "missing"],
    "partition-lock": ["garbage", "folder", *LINKS, "missing"],
    "arrow": ["empty", "truncated", "garbage", "folder", *LINKS, "missing"],
    **{kind: ["file", *LINKS, "missing"] for kind in (*FOLDERS, *list(KINDS)[-4:])},
}
DAMAGES["listing"].append("unsafe-name")
DAMAGES["subset-listing"].append("unsafe-name")
CASES = [(kind, damage) for kind, damages in DAMAGES.items() for damage in damages]


@dataclass(frozen=True)
class Damaged:
    data_dir: Path
    target: Path  # the damaged path
    outside: Path  # a folder outside the data dir (link targets)
    catalog: Catalog

    def outside_snapshot(self) -> dict[str, bytes]:
        return _files(self.outside)


def _files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory, replica_hub: HubServer) -> Path:
    """mnist synced and downloaded (so both kinds of lock file exist)."""
    root = tmp_path_factory.mktemp("pristine")
    catalog = Catalog(make_settings(root, replica_hub.endpoint))
    catalog.sync("mnist")
    catalog.download("mnist", all_subsets=True)
    data = root / "data"
    assert (data / KINDS["lock"]).is_file() and (data / KINDS["partition-lock"]).is_file()
    return data


def damage(pristine: Path, tmp_path: Path, hub: HubServer, kind: str, how: str) -> Damaged:
    """A copy of the pristine data dir (at this test's data dir) with `kind` damaged `how`."""
    data = tmp_path / "data"
    shutil.copytree(pristine, data, symlinks=True)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    if kind == "arrow":  # only here: an Arrow copy goes stale when a record is rewritten
        catalog.build_arrow_copy("mnist", "train")
    listing = json.loads((data / KINDS["pointer"]).read_bytes())["listing"]
    head = json.loads((data / KINDS["listing"].format(listing=listing)).read_bytes())
    train = next(s["file"] for s in head["subsets"] if s["name"] == "train")
    target = data / KINDS[kind].format(listing=listing, train=train)
    outside = tmp_path / "outside"
    outside.mkdir()
    copy = outside / target.name
    if target.is_dir():
        shutil.copytree(target, copy)
    else:
        copy.write_bytes(target.read_bytes())
    original = b"" if target.is_dir() else target.read_bytes()
    if how in RAW or how in JSON_CHANGES or how == "unsafe-name":
        if how in RAW:
            raw = RAW[how](original)
        else:
            value = json.loads(original)
            if how == "unsafe-name" and kind == "listing":
                value["subsets"][0]["name"] = "../outside"
            elif how == "unsafe-name":
                value["partitions"][0]["name"] = "../../outside.parquet"
            else:
                JSON_CHANGES[how](kind, value)
            raw = json.dumps(value).encode()
        target.write_bytes(raw)
    elif how == "folder":
        target.unlink()
        target.mkdir()
        (target / "inside.json").write_bytes(original)
    elif how in ("file", "missing", *LINKS):
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        if how == "file":
            target.write_bytes(b"not a folder")
        elif how == "link-outside":
            target.symlink_to(copy, target_is_directory=copy.is_dir())
        elif how == "dangling-link":
            target.symlink_to(outside / "nothing-here")
    else:
        raise AssertionError(how)
    return Damaged(data, target, outside, catalog)


# ---- what each case is expected to do ----------------------------------------------------------
COMMANDS = ("list", "list DATASET", "list -s", "info", "load", "download", "sync")


def expected(kind: str, how: str) -> dict[str, str]:
    """For each command: 'ok', 'warn' (ok, with a warning naming the file), 'error' (one line
    naming the file and the fix) or 'unsynced' (the dataset reads as never synced)."""
    ok = dict.fromkeys(COMMANDS, "ok")
    harmless_link = how == "link-outside"  # a readable copy: read through, never written through
    if kind == "subset-listing" and how == "missing":  # the sync writes it again (by content)
        return {**dict.fromkeys(COMMANDS, "error"), "list": "ok", "sync": "ok"}
    if kind in ("pointer", *LISTING_KINDS) or (kind in FOLDERS and how in ("file", *LINKS)):
        if how == "missing" and kind == "pointer":
            return {**ok, "list DATASET": "unsynced", "list -s": "unsynced"}
        if how == "dangling-link" and kind == "pointer":  # reads as missing; is never replaced
            writes = dict.fromkeys(("load", "download", "sync"), "error")  # (they sync first)
            return {**ok, "list DATASET": "unsynced", "list -s": "unsynced", **writes}
        if harmless_link and kind not in FOLDERS:
            return {**ok, "sync": "error"}  # the sync's write of it stops at the link
        failing = dict.fromkeys(COMMANDS, "error")
        return {**failing, "list": "ok" if kind in LISTING_KINDS else "warn"}
    if kind in FOLDERS:  # missing: never synced; the files on disk are adopted
        return {**ok, "list DATASET": "unsynced", "list -s": "unsynced"}
    if kind in ("listings-folder", "partitions-folder"):
        if how == "link-outside":  # read through; the sync's write into it is refused
            return {**ok, "sync": "error"}
        if kind == "partitions-folder" and how == "missing":  # the sync writes them again
            return {**dict.fromkeys(COMMANDS, "error"), "list": "ok", "sync": "ok"}
        return {**dict.fromkeys(COMMANDS, "error"), "list": "ok"}
    if kind == "records-folder":  # a link to a folder is never followed: its records not read
        if how == "missing":
            return ok
        warned = dict.fromkeys(COMMANDS, "warn")
        return {**warned, "load": "error", "download": "error"}  # the record cannot be written
    if kind == "locks-folder":
        return ok  # nothing is downloaded, so no lock is taken (see test_a_damaged_lock_...)
    if kind == "record":
        if harmless_link or how in ("missing", "dangling-link"):
            return ok  # a missing record: the file is adopted (hashed) by the next download
        # `load` adopts the file (a new segment records it); the damaged segment stays, warned
        # about by every later command until repair
        return dict.fromkeys(COMMANDS, "warn")
    if kind in ("lock", "partition-lock"):
        if how in ("folder", *LINKS):
            takes = ("sync",) if kind == "lock" else ()
            return {**ok, **dict.fromkeys(takes, "error")}
        return ok
    assert kind == "arrow"
    if how in ("missing", "link-outside"):
        return ok
    return {**ok, "load": "warn"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def run_commands(case: Damaged, caplog: pytest.LogCaptureFixture) -> dict[str, tuple[str, str]]:
    """Each command, in order: (outcome, its error line or warnings). Outcomes: ok, warn, error,
    unsynced, or 'traceback: ...' / 'bad: ...' for what must never happen."""
    found: dict[str, tuple[str, str]] = {}
    args = {
        "list": ["list"],
        "list DATASET": ["list", "mnist"],
        "list -s": ["list", "mnist", "-s", "train"],
        "info": ["info", "mnist"],
        "download": ["download", "mnist", "--all", "--json"],
        "sync": ["sync", "mnist"],
    }
    for command in COMMANDS:
        caplog.clear()
        if command == "load":
            found[command] = _load(case, caplog)
            continue
        result = invoke(*args[command])
        warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            found[command] = (f"traceback: {result.exception!r}", "")
        elif result.exit_code == 0:
            found[command] = ("warn" if warnings else "ok", "\n".join(warnings))
            if command == "download" and _fetched(result.stdout) != 0:
                found[command] = ("bad: fetched bytes", result.stdout)
        else:
            found[command] = _error(result.stderr)
    return found


def _load(case: Damaged, caplog: pytest.LogCaptureFixture) -> tuple[str, str]:
    import warnings as pywarnings

    from pygestor.errors import PygestorError

    catalog = Catalog(case.catalog.settings)
    with pywarnings.catch_warnings(record=True) as caught:
        pywarnings.simplefilter("always")
        try:
            frame = catalog.load("mnist", "train")
        except PygestorError as exc:
            return _error(f"Error: {exc}\n")
        except Exception as exc:  # noqa: BLE001  # what must never happen, reported
            return (f"traceback: {exc!r}", "")
    if len(frame) != 6:
        return (f"bad: {len(frame)} rows", "")
    warned = [str(w.message) for w in caught] + [r.getMessage() for r in caplog.records]
    return ("warn" if warned else "ok", "\n".join(warned))


def _error(stderr: str) -> tuple[str, str]:
    if stderr.count("\n") != 1 or not stderr.startswith("Error: "):
        return ("bad: not one line", stderr)
    if "has not been synced yet; run 'pygestor sync mnist'" in stderr:
        return ("unsynced", stderr)
    return ("error", stderr)


def fix(kind: str) -> str:
    """The fix a message gives: the dataset's repair, or any repair for the folders above."""
    return "run 'pygestor sync --repair'" if kind in FOLDERS[1:] else FIX


def named(case: Damaged, kind: str, how: str) -> Path:
    """The file the messages name: the damaged one, or for a listing that is not there (or a
    link leading nowhere), the pointer naming it."""
    if kind in ("listing", "listings-folder") and how == "missing":
        return case.data_dir / KINDS["pointer"]
    if kind == "partitions-folder" and how == "missing":  # the file of train's (or test's)
        return case.target
    if kind == "listing" and how == "dangling-link":
        return case.data_dir / KINDS["pointer"]
    return case.target


def check(case: Damaged, kind: str, how: str, found: dict[str, tuple[str, str]]) -> list[str]:
    """What differs from `expected()`, one line each."""
    problems = []
    shown = str(named(case, kind, how))
    for command, want in expected(kind, how).items():
        got, text = found[command]
        if got != want:
            problems.append(f"{command}: {got} (expected {want}): {text.strip()}")
        elif got in ("error", "warn"):
            lines = [line for line in text.splitlines() if shown in line]
            if not lines or not all(fix(kind) in line for line in lines):
                problems.append(f"{command}: does not name {shown} with the fix: {text!r}")
    return problems


@pytest.mark.parametrize(("kind", "how"), CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_every_command_is_one_line_or_works(
    pristine: Path,
    tmp_path: Path,
    replica_hub: HubServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    how: str,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    case = damage(pristine, tmp_path, replica_hub, kind, how)
    outside = case.outside_snapshot()
    problems = check(case, kind, how, run_commands(case, caplog))
    assert problems == [], "\n".join(problems)
    assert case.outside_snapshot() == outside  # never written through a link
    assert _files(case.data_dir / "mnist") == _files(pristine / "mnist")  # the data untouched


@pytest.mark.parametrize(("kind", "how"), CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_sync_repair_heals_every_case(
    pristine: Path,
    tmp_path: Path,
    replica_hub: HubServer,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    how: str,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    case = damage(pristine, tmp_path, replica_hub, kind, how)
    outside = case.outside_snapshot()
    result = invoke("sync", "mnist", "--repair", "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == 0, result.output
    assert_healed(case, pristine, outside)


def assert_healed(case: Damaged, pristine: Path, outside: dict[str, bytes]) -> None:
    catalog = Catalog(case.catalog.settings)
    states = {
        (p["subset"], p["partition"]): p["state"]
        for s in ("train", "test")
        for p in catalog.partition_records("mnist", s)
    }
    assert states == {("train", TRAIN): "local", ("test", TEST): "local"}
    assert [(r["partition"], r["status"]) for r in catalog.verify("mnist")] == [
        (TEST, "ok"),
        (TRAIN, "ok"),
    ]
    assert _files(case.data_dir / "mnist") == _files(pristine / "mnist")
    assert case.outside_snapshot() == outside
    index = case.data_dir / INDEX
    assert [p for p in index.rglob("*") if p.is_symlink()] == []
    report = catalog.download("mnist", all_subsets=True)
    assert (report.fetched, report.bytes_fetched) == ((), 0)
    # every index file reads back through the checked readers
    store = catalog.store
    assert store.pointer("mnist") is not None and store.listing("mnist") is not None
    assert set(store.records("mnist")) == {("train", TRAIN), ("test", TEST)}


# ---- the real CLI, for one case of each kind ----------------------------------------------
SUBPROCESS_CASES = [
    ("pointer", "truncated"),
    ("listing", "missing"),
    ("record", "wrong-type"),
    ("index-folder", "file"),
    ("lock", "folder"),
    ("arrow", "garbage"),
]


@pytest.mark.parametrize(
    ("kind", "how"), SUBPROCESS_CASES, ids=[f"{k}-{h}" for k, h in SUBPROCESS_CASES]
)
def test_the_real_cli_says_one_line_then_repairs(
    pristine: Path, tmp_path: Path, replica_hub: HubServer, kind: str, how: str
) -> None:
    case = damage(pristine, tmp_path, replica_hub, kind, how)
    outside = case.outside_snapshot()
    env = {"HF_ENDPOINT": replica_hub.endpoint, "PYGESTOR_DATA_DIR": str(case.data_dir)}
    want = expected(kind, how)
    for command, args in (("list DATASET", ["list", "mnist"]), ("sync", ["sync", "mnist"])):
        proc = run_cli(args, env=env)
        assert "Traceback" not in proc.stderr, proc.stderr
        if want[command] == "error":
            assert proc.returncode == 1
            assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("Error: "), proc.stderr
            assert str(named(case, kind, how)) in proc.stderr and FIX in proc.stderr, proc.stderr
        else:
            assert proc.returncode == 0, proc.stderr
            if want[command] == "warn":
                [line] = [x for x in proc.stderr.splitlines() if str(case.target) in x]
                assert line.startswith("WARNING: ") and line.endswith(FIX), proc.stderr
    proc = run_cli(["sync", "mnist", "--repair"], env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.startswith("mnist: index rebuilt at "), proc.stdout
    assert_healed(case, pristine, outside)


def _fetched(stdout: str) -> int:
    out = json.loads(stdout)
    return sum(r["bytes_fetched"] for r in (out if isinstance(out, list) else [out]))


# ---- what the matrix cannot show on its own ---------------------------------------------------
LOCK_CASES = [
    ("lock", "folder"),
    ("lock", "link-outside"),
    ("partition-lock", "folder"),
    ("partition-lock", "link-outside"),
    ("partition-lock", "dangling-link"),
    ("locks-folder", "file"),
    ("locks-folder", "link-outside"),
    ("locks-folder", "dangling-link"),
]


@pytest.mark.parametrize(("kind", "how"), LOCK_CASES, ids=[f"{k}-{h}" for k, h in LOCK_CASES])
def test_a_damaged_lock_fails_the_download_that_takes_it_then_repair_heals(
    pristine: Path,
    tmp_path: Path,
    replica_hub: HubServer,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    how: str,
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    case = damage(pristine, tmp_path, replica_hub, kind, how)
    outside = case.outside_snapshot()
    (case.data_dir / "mnist" / "train" / TRAIN).unlink()  # so the download takes its lock
    result = invoke("download", "mnist", "-s", "train")
    # (the dataset lock: a download takes it to write its records, as a sync to move the pointer)
    assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    assert str(case.target) in result.stderr and result.stderr.rstrip().endswith(FIX)
    assert case.outside_snapshot() == outside  # no lock file was made through the link
    assert invoke("sync", "mnist", "--repair").exit_code == 0
    pristine_copy = tmp_path / "expected"
    shutil.copytree(pristine / "mnist", pristine_copy)
    report = Catalog(case.catalog.settings).download("mnist", all_subsets=True)
    assert report.fetched == (() if kind == "lock" else (f"train/{TRAIN}",))
    assert _files(case.data_dir / "mnist") == _files(pristine_copy)
    assert case.outside_snapshot() == outside


def test_repair_rescans_files_against_the_listing(
    pristine: Path, tmp_path: Path, replica_hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Garbled records: a file matching the listing gets a fresh record; a file of the right size
    with other bytes is not counted local, its record dropped, and the file itself kept."""
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    case = damage(pristine, tmp_path, replica_hub, "record", "garbage")
    test_record = case.data_dir / INDEX / "records" / "test" / f"{TEST}.json"
    test_file = case.data_dir / "mnist" / "test" / TEST
    changed = bytearray(test_file.read_bytes())
    changed[-20] ^= 0x01  # same size, other bytes: matches neither the listing nor its record
    test_file.write_bytes(bytes(changed))
    report = case.catalog.repair("mnist")
    assert (report.recorded, report.kept, report.mismatched, report.damaged_removed) == (
        1,
        0,
        (f"test/{TEST}",),
        1,
    )
    assert not test_record.exists() and test_file.read_bytes() == bytes(changed)
    states = [
        p["state"] for s in ("train", "test") for p in case.catalog.partition_records("mnist", s)
    ]
    assert states == ["local", "remote"]
    report = case.catalog.download("mnist", all_subsets=True)
    assert report.fetched == (f"test/{TEST}",)  # only the file that was wrong
    assert _files(case.data_dir / "mnist") == _files(pristine / "mnist")


def test_repair_removes_stray_temp_files_but_not_young_ones(
    pristine: Path, tmp_path: Path, replica_hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    case = damage(pristine, tmp_path, replica_hub, "pointer", "truncated")
    index = case.data_dir / INDEX
    old = [index / ".tmp-0a-current.json", index / "segments" / "train" / ".tmp-0b-y.json"]
    young = index / "segments" / "test" / ".tmp-0c-z.json"
    for path in (*old, young):
        path.write_bytes(b"half a write")
    for path in old:
        os.utime(path, (1_000_000, 1_000_000))
    report = case.catalog.repair("mnist")
    assert (report.temp_removed, report.damaged_removed) == (2, 1)
    assert [p.exists() for p in old] == [False, False] and young.read_bytes() == b"half a write"
    assert Catalog(case.catalog.settings).store.pointer("mnist") is not None


def test_each_kind_of_file_is_parsed_with_its_message(tmp_path: Path) -> None:
    from pygestor.errors import DamagedIndex
    from pygestor.index.records import Listing, Pointer, Record

    def message(parse: Callable[..., object], value: object) -> str:
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        with pytest.raises(DamagedIndex) as caught:
            parse(raw, where="/d/x.json", dataset="mnist")
        return str(caught.value)

    record = {"format": 1, "path": "a.parquet", "size": 3, "downloaded_at": "2026-01-01T00:00:00Z"}
    assert Record.parse(json.dumps(record).encode(), where="w", dataset="mnist").size == 3
    end = "; run 'pygestor sync mnist --repair'"
    assert message(Record.parse, {**record, "size": "abc"}) == (
        f'/d/x.json: size: "abc" is not a whole number of 0 or more{end}'
    )
    assert message(Record.parse, {**record, "size": -5}) == (
        f"/d/x.json: size: -5 is not a whole number of 0 or more{end}"
    )
    assert message(Record.parse, {**record, "mtime": "x"}) == (
        f'/d/x.json: mtime: "x" is not a number or null{end}'
    )
    assert message(Pointer.parse, {"format": 1}) == f"/d/x.json: misses the key 'listing'{end}"
    assert message(Pointer.parse, [1]) == f"/d/x.json: holds a list, not a JSON object{end}"
    assert message(Pointer.parse, b"\xff") == f"/d/x.json: is not UTF-8 text (garbled){end}"
    assert message(Pointer.parse, b" ") == f"/d/x.json: is empty{end}"
    assert message(Listing.parse, {"format": 7}) == (
        "/d/x.json: index format 7 is not supported by this pygestor (it reads 2); upgrade "
        f"pygestor, or rebuild the index for this one{end}"
    )
    assert message(Listing.parse, {"format": True}) == (
        "/d/x.json: index format True is not supported by this pygestor (it reads 2); upgrade "
        f"pygestor, or rebuild the index for this one{end}"
    )
    listing = {
        "format": 1,
        "dataset": "other",
        "source": "hf",
        "revision": None,
        "commit": None,
        "manifest": "m",
        "subsets": [],
        "unmatched": [],
        "empty_rules": [],
        "skipped": [],
    }
    assert message(Listing.parse, listing) == (
        f"/d/x.json: is a listing of 'other', not of 'mnist'{end}"
    )
    partition = {
        "name": "p",
        "path": "p",
        "size": 1,
        "sha256": None,
        "blob_id": None,
        "mtime": None,
        "format": "parquet",
    }
    listing = {**listing, "dataset": "mnist"}
    subsets = [{"name": "s", "partitions": [partition, partition]}]
    assert message(Listing.parse, {**listing, "subsets": subsets}) == (
        f"/d/x.json: names a partition of subset 's' twice{end}"
    )
    subsets = [{"name": "s", "partitions": [{**partition, "format": "exe"}]}]
    assert message(Listing.parse, {**listing, "subsets": subsets}) == (
        f"/d/x.json: has a partition of format 'exe', which is not a known format{end}"
    )
    subsets = [{"name": "s", "partitions": [{**partition, "size": None}]}]
    assert message(Listing.parse, {**listing, "subsets": subsets}) == (
        f"/d/x.json: size of a partition of subset 's': null is not a whole number of 0 or "
        f"more{end}"
    )
    assert message(Listing.parse, {**listing, "skipped": [["a"]]}) == (
        f'/d/x.json: skipped: ["a"] is not a [path, reason] pair{end}'
    )
    parsed = Listing.parse(
        json.dumps({**listing, "subsets": [{"name": "s", "partitions": [partition]}]}).encode(),
        where="w",
        dataset="mnist",
    )
    assert [p.name for p in parsed.subsets[0].partitions] == ["p"]

"""Maintenance: remove, updates, verify, info and sync --repair, against the offline Hub."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import pygestor
from conftest import REPO_ROOT, make_settings, write_corpus_manifest
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.errors import DatasetNotFound, PygestorError, SelectionError
from pygestor.index.digest import file_digests
from pygestor.index.records import Record
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer, git_blob_id

TRAIN = "train-00000-of-00001.parquet"
TEST = "test-00000-of-00001.parquet"


@pytest.fixture
def mnist(tmp_path: Path, hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """mnist on a fresh offline Hub (which the test may change), synced and downloaded."""
    replicas.install(hub.hub, replicas.mnist())
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)  # for the CLI and module-level functions
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("mnist")
    catalog.download("mnist", all_subsets=True)
    return catalog


def data(catalog: Catalog, *parts: str) -> Path:
    return catalog.settings.data_dir.joinpath(*parts)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (symlinks by target)."""
    return {
        p.relative_to(folder).as_posix(): (
            os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input)


# ---- remove --------------------------------------------------------------------------------
def test_remove_frees_exactly_the_recorded_bytes_and_keeps_the_listing(mnist: Catalog) -> None:
    store = mnist.store
    recorded = store.records("mnist")[("train", TRAIN)].size
    partial = store.partial_path("mnist", "train", "train-00001-of-00002.parquet")
    partial.write_bytes(b"12345")  # an interrupted download in the subset folder
    arrow = store.arrow_copy_path("mnist", "train")
    arrow.parent.mkdir(parents=True)
    arrow.write_bytes(b"arrow" * 10)
    index = data(mnist, ".pygestor", "datasets", "mnist")
    listings = snapshot(index / "listings") | {
        "current.json": (index / "current.json").read_bytes()
    }

    plan = mnist.plan_remove("mnist", "train")
    assert [(f.kind, f.partition, f.size) for f in plan.files] == [
        ("data", TRAIN, recorded),
        ("arrow", None, 50),
        ("partial", "train-00001-of-00002.parquet", 5),
    ]
    assert plan.bytes == recorded + 55
    assert (plan.records, plan.not_local) == ((f"train/{TRAIN}",), ())
    assert data(mnist, "mnist", "train", TRAIN).exists()  # planning deletes nothing

    report = plan.execute()
    assert (
        report.bytes == recorded + 55
        and report.records == (f"train/{TRAIN}",)
        and report.busy == ()
    )
    assert not data(mnist, "mnist", "train").exists() and not arrow.exists()
    assert report.folders == (str(data(mnist, "mnist", "train")),)
    assert ("train", TRAIN) not in store.records("mnist")
    assert (
        snapshot(index / "listings") | {"current.json": (index / "current.json").read_bytes()}
        == listings
    )
    assert [p["state"] for p in mnist.partition_records("mnist", "train")] == ["remote"]
    assert [p["state"] for p in mnist.partition_records("mnist", "test")] == ["local"]
    assert "mnist" in {d["name"] for d in mnist.dataset_records()}


def test_remove_whole_dataset_and_partitions_not_local(mnist: Catalog) -> None:
    with pytest.raises(
        SelectionError, match=r"has 2 subsets; choose one .* \(CLI: --all\): test, train"
    ):
        mnist.plan_remove("mnist")
    report = mnist.remove("mnist", partitions=[f"test/{TEST}"], all_subsets=True)
    assert [f.partition for f in report.files] == [TEST]
    again = mnist.plan_remove("mnist", "test")
    assert again.empty and again.not_local == (f"test/{TEST}",) and again.bytes == 0
    result = invoke("remove", "mnist", "-s", "test")
    assert (result.exit_code, result.output) == (
        0,
        "mnist: nothing to remove (1 chosen partition not local)\n",
    )
    noop = json.loads(invoke("remove", "mnist", "-s", "test", "--json").stdout)
    assert (noop["bytes"], noop["files"], noop["not_local"], noop["busy"]) == (
        0,
        [],
        [f"test/{TEST}"],
        [],
    )
    total = sum(r.size for r in mnist.store.records("mnist").values())
    assert mnist.remove("mnist", all_subsets=True).bytes == total
    assert not data(mnist, "mnist").exists()  # empty folders go, up to the dataset folder
    assert mnist.store.listing("mnist") is not None


def test_remove_leaves_a_symlink_leading_outside_the_data_dir_alone(
    mnist: Catalog, tmp_path: Path
) -> None:
    outside = tmp_path / "precious.parquet"
    target = data(mnist, "mnist", "train", TRAIN)
    shutil.copyfile(target, outside)
    target.unlink()
    target.symlink_to(outside)
    plan = mnist.plan_remove("mnist", "train")
    assert plan.files == () and plan.records == ("train/" + TRAIN,)
    assert [(k.path, k.reason) for k in plan.kept] == [
        (target, "a symbolic link, which pygestor never makes")
    ]
    result = invoke("remove", "mnist", "-s", "train", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-3:] == [
        "  left alone, not written by pygestor (1):",
        f"    {target} (a symbolic link, which pygestor never makes)",
        "mnist: deleted 0 files, freed 0 B",
    ]
    assert outside.exists() and target.is_symlink()

    folder = tmp_path / "elsewhere"  # a subset folder that is a link to another place
    shutil.move(data(mnist, "mnist", "test"), folder)
    data(mnist, "mnist", "test").symlink_to(folder)
    plan = mnist.plan_remove("mnist", "test")
    assert plan.files == ()
    assert [(k.path, k.reason) for k in plan.kept] == [
        (
            data(mnist, "mnist", "test", TEST),
            f"{data(mnist, 'mnist', 'test')} is a symbolic link to {folder}, outside the data "
            f"directory {data(mnist)}",
        ),
        (data(mnist, "mnist", "test"), "a symbolic link, which pygestor never makes"),
    ]
    assert mnist.remove("mnist", "test").files == ()
    assert (folder / TEST).exists()


def test_remove_refuses_dotdot(mnist: Catalog, tmp_path: Path) -> None:
    outside = tmp_path / "outside.parquet"
    outside.write_bytes(b"keep me")
    for args in (["-s", ".."], ["-s", "train", "-p", "../../../outside.parquet"]):
        result = invoke("remove", "mnist", *args, "--yes")
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
    # a tampered listing naming a partition outside the dataset folder
    index = data(mnist, ".pygestor", "datasets", "mnist")
    current = json.loads((index / "current.json").read_bytes())
    head = json.loads((index / "listings" / f"{current['listing']}.json").read_bytes())
    path = index / "partitions" / f"{head['subsets'][1]['file']}.json"  # train's partitions
    listing = json.loads(path.read_bytes())
    listing["partitions"][0]["name"] = "../../../outside.parquet"
    path.write_text(json.dumps(listing))
    with pytest.raises(  # refused as soon as they are read (issue 9: shapes checked)
        PygestorError,
        match=r"has a partition named '\.\./\.\./\.\./outside\.parquet', which is not a safe "
        r"relative path; run 'pygestor sync mnist --repair'",
    ):
        mnist.plan_remove("mnist", "train")
    assert outside.read_bytes() == b"keep me"


def test_remove_asks_first_and_no_aborts(mnist: Catalog) -> None:
    target = data(mnist, "mnist", "train", TRAIN)
    size = target.stat().st_size
    result = invoke("remove", "mnist", "-s", "train", input="n\n")
    assert result.exit_code == 1
    assert result.stdout == (
        f"mnist: will delete 1 file ({size / 1000:.1f} kB) and 1 record\n"
        f"  train/{TRAIN}  {size / 1000:.1f} kB\n"
    )
    assert result.stderr == "Delete them? [y/N]: n\nAborted!\n"
    assert target.exists() and ("train", TRAIN) in mnist.store.records("mnist")

    result = invoke("remove", "mnist", "-s", "train", input="y\n")
    assert result.exit_code == 0
    assert result.stdout.endswith(f"mnist: deleted 1 file, freed {size / 1000:.1f} kB\n")
    assert not target.exists()


def test_remove_json_dry_run_and_yes(mnist: Catalog) -> None:
    dry = invoke("remove", "mnist", "--all", "--dry-run", "--json")
    plan = json.loads(dry.stdout)
    assert set(plan) == {
        "dataset",
        "subsets",
        "bytes",
        "files",
        "records",
        "not_local",
        "kept",
        "shared",
    }
    assert plan["shared"] == []  # no shared tier below this data dir
    assert plan["subsets"] == ["test", "train"] and len(plan["files"]) == 2
    assert set(plan["files"][0]) == {"subset", "partition", "kind", "path", "size"}
    assert data(mnist, "mnist", "test", TEST).exists()
    done = json.loads(invoke("remove", "mnist", "--all", "--yes", "--json").stdout)
    assert set(done) == {
        "dataset",
        "bytes",
        "files",
        "records",
        "not_local",
        "busy",
        "folders",
        "kept",
    }
    assert done["bytes"] == plan["bytes"] and not data(mnist, "mnist").exists()


def test_partitions_being_downloaded_are_left_alone(mnist: Catalog) -> None:
    import filelock

    store = mnist.store
    partial = store.partial_path("mnist", "train", TRAIN)
    partial.write_bytes(b"in flight")
    lock_path = store.partition_lock_path("mnist", "train", TRAIN)
    with filelock.FileLock(str(lock_path), timeout=0):  # as a download in another process holds it
        report = mnist.remove("mnist", "train")
        assert (report.busy, report.files, report.records) == ((f"train/{TRAIN}",), (), ())
        assert mnist.repair("mnist").partials_removed == 0
        assert partial.exists() and data(mnist, "mnist", "train", TRAIN).exists()
    assert mnist.repair("mnist").partials_removed == 1 and not partial.exists()


def test_legacy_remove_flags_ask_and_scripts_without_input_abort(mnist: Catalog) -> None:
    target = data(mnist, "mnist", "train", TRAIN)

    def run(stdin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(REPO_ROOT / "cli.py"), "-r", "-d", "mnist", "-s", "train"],
            input=stdin,
            capture_output=True,
            text=True,
            env=dict(os.environ),
            timeout=60,
            check=False,
        )

    closed = run("")  # a script with nothing on stdin: no deletion
    assert (
        closed.returncode == 1
        and "Delete them? [y/N]: " in closed.stderr
        and "Aborted!" in closed.stderr
    )
    assert target.exists()
    yes = run("y\n")
    assert yes.returncode == 0, yes.stderr
    assert (
        "mnist: will delete 1 file" in yes.stdout and "mnist: deleted 1 file, freed" in yes.stdout
    )
    assert not target.exists() and data(mnist, "mnist", "test", TEST).exists()


def test_remove_never_deletes_a_local_source(tmp_path: Path) -> None:
    root = _jsonl_folder(tmp_path)
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    catalog.sync("corpus")
    with pytest.raises(
        PygestorError, match=rf"'corpus' is read in place from {root}; pygestor never deletes"
    ):
        catalog.plan_remove("corpus", "en")
    assert len(list(root.rglob("*.jsonl"))) == 2


# ---- updates -------------------------------------------------------------------------------
def test_updates_sees_changed_new_and_deleted_and_writes_nothing(
    mnist: Catalog, hub: HubServer
) -> None:
    mnist.remove(
        "mnist", "test"
    )  # test is then not local: its deletion upstream is reported local=False
    before = hub.hub.head("ylecun/mnist")
    old = hub.hub.files("ylecun/mnist")
    bigger = replicas.mnist(train_rows=9).files[f"mnist/{TRAIN}"]
    extra = replicas.mnist(train_rows=2).files[f"mnist/{TRAIN}"]
    after = hub.hub.commit(
        "ylecun/mnist",
        add={f"mnist/{TRAIN}": bigger, "mnist/train-00001-of-00002.parquet": extra},
        delete=[f"mnist/{TEST}"],
        message="more rows, a second shard, no test split",
    )
    everything = snapshot(mnist.settings.data_dir)

    rows = mnist.updates("mnist")
    assert rows == [
        {
            "dataset": "mnist",
            "subset": "test",
            "partition": TEST,
            "change": "deleted",
            "local": False,
            "size_before": old[f"mnist/{TEST}"]["size"],
            "size_now": None,
            "commit_before": before,
            "commit_now": after,
        },
        {
            "dataset": "mnist",
            "subset": "train",
            "partition": TRAIN,
            "change": "changed",
            "local": True,
            "size_before": old[f"mnist/{TRAIN}"]["size"],
            "size_now": len(bigger),
            "commit_before": before,
            "commit_now": after,
        },
        {
            "dataset": "mnist",
            "subset": "train",
            "partition": "train-00001-of-00002.parquet",
            "change": "new",
            "local": False,
            "size_before": None,
            "size_now": len(extra),
            "commit_before": None,
            "commit_now": after,
        },
    ]
    assert snapshot(mnist.settings.data_dir) == everything  # read-only, byte for byte
    assert pygestor.version_check("mnist") == rows == pygestor.updates()
    cli_rows = invoke("updates", "mnist", "--json")
    assert json.loads(cli_rows.stdout) == rows
    table = invoke("updates").stdout.splitlines()
    assert table[0].split() == ["DATASET", "SUBSET", "PARTITION", "CHANGE", "LOCAL", "SIZE"]
    assert table[2].split()[:5] == ["mnist", "train", TRAIN, "changed", "yes"]
    assert snapshot(mnist.settings.data_dir) == everything

    mnist.sync("mnist")  # now only the local copy that differs from upstream remains to report
    assert [(r["partition"], r["change"], r["commit_before"]) for r in mnist.updates()] == [
        (TRAIN, "changed", before)
    ]
    mnist.download("mnist", "train", update=True)
    assert mnist.updates("mnist") == []
    assert invoke("updates", "mnist").stdout == "mnist: up to date\n"


def test_updates_of_a_local_folder_by_size_and_mtime(tmp_path: Path) -> None:
    root = _jsonl_folder(tmp_path)
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    catalog.sync("corpus")
    assert catalog.updates("corpus") == []
    (root / "en" / "part-0.jsonl").write_text('{"text": "changed"}\n')
    (root / "en" / "part-9.jsonl").write_text('{"text": "new"}\n')
    rows = catalog.updates("corpus")
    assert [(r["partition"], r["change"], r["local"]) for r in rows] == [
        ("part-0.jsonl", "changed", True),
        ("part-9.jsonl", "new", False),
    ]


# ---- verify --------------------------------------------------------------------------------
def test_verify_sees_a_flipped_byte_and_a_missing_file(mnist: Catalog) -> None:
    assert {r["status"] for r in mnist.verify("mnist")} == {"ok"}
    ok = invoke("verify", "mnist")
    assert (ok.exit_code, ok.stdout) == (
        0,
        "mnist: 2 local partitions checked: 2 ok, 0 corrupt, 0 missing\n",
    )

    train = data(mnist, "mnist", "train", TRAIN)
    raw = bytearray(train.read_bytes())
    raw[100] ^= 0xFF
    train.write_bytes(bytes(raw))
    test = data(mnist, "mnist", "test", TEST)
    test.unlink()
    records = mnist.store.records("mnist")
    expected = records[("train", TRAIN)].sha256
    assert expected is not None
    actual = hashlib.sha256(bytes(raw)).hexdigest()

    rows = mnist.verify("mnist")
    assert [
        (r["subset"], r["status"], r["check"], r["size_on_disk"], r["actual"]) for r in rows
    ] == [
        ("test", "missing", "sha256", None, None),
        ("train", "corrupt", "sha256", len(raw), actual),
    ]
    assert rows[1] == {
        "dataset": "mnist",
        "subset": "train",
        "partition": TRAIN,
        "path": str(train),
        "status": "corrupt",
        "check": "sha256",
        "size": len(raw),
        "size_on_disk": len(raw),
        "expected": expected,
        "actual": actual,
    }
    result = invoke("verify", "mnist")
    assert result.exit_code == 1
    width = len(f"train/{TRAIN}")
    assert result.stdout == (
        f"{'STATUS':<7}  {'PARTITION':<{width}}  DETAIL\n"
        f"missing  {'test/' + TEST:<{width}}  no file at {test}\n"
        f"corrupt  {'train/' + TRAIN:<{width}}  sha256 {actual[:12]}, expected {expected[:12]}\n"
        "mnist: 2 local partitions checked: 0 ok, 1 corrupt, 1 missing\n"
    )
    assert result.stderr == (
        "drop their records with 'pygestor sync --repair mnist', then fetch them again "
        "with 'pygestor download mnist'\n"
    )
    one = invoke("verify", "mnist", "-s", "train", "--json")
    assert one.exit_code == 1 and [r["status"] for r in json.loads(one.stdout)] == ["corrupt"]
    assert invoke("verify", "mnist", "-s", "nope").stderr.startswith(
        "Error: dataset 'mnist' has no subset 'nope'"
    )


def test_verify_by_git_blob_id_and_by_size(mnist: Catalog) -> None:
    train = data(mnist, "mnist", "train", TRAIN)
    body = train.read_bytes()
    with open(train, "rb") as fh:
        assert file_digests(fh, len(body), sha256=True, blob_id=True).blob_id == git_blob_id(body)
    store = mnist.store
    store.put_record(
        "mnist",
        "train",
        TRAIN,
        Record(path=f"mnist/{TRAIN}", size=len(body), blob_id=git_blob_id(body)),
    )
    store.put_record("mnist", "test", TEST, Record(path=f"mnist/{TEST}", size=5))
    rows = {r["subset"]: r for r in mnist.verify("mnist")}
    assert (rows["train"]["status"], rows["train"]["check"], rows["train"]["actual"]) == (
        "ok",
        "blob_id",
        git_blob_id(body),
    )
    assert (rows["test"]["status"], rows["test"]["check"], rows["test"]["expected"]) == (
        "corrupt",
        "size",
        None,
    )


# ---- info ----------------------------------------------------------------------------------
def test_info_mnist_schema_and_head(mnist: Catalog) -> None:
    result = mnist.info("mnist", "train", head=2)
    assert result["schema"] == [
        {"name": "image", "type": "struct<bytes: binary, path: string>"},
        {"name": "label", "type": "int64"},
    ]
    assert result["sample"] == f"train/{TRAIN}"
    assert [row["label"] for row in result["head"]] == [5, 0]
    assert result["head"][0]["image"]["bytes"].startswith(b"\x89PNG")
    assert (result["rows"], result["partitions"], result["partitions_local"]) == (6, 1, 1)
    assert [p["partition"] for p in result["partition_records"]] == [TRAIN] and result[
        "subset_records"
    ] is None

    text = invoke("info", "mnist", "-s", "train", "--head", "2").stdout
    assert (
        "schema (from train/train-00000-of-00001.parquet):\n  image  struct<bytes: binary, path: "
        "string>\n"
        "  label  int64\n" in text
    )
    assert f"first 2 rows of train/{TRAIN}:" in text
    head = text.split("rows of")[1].splitlines()[1:]
    assert (
        head[0].split() == ["image", "label"]
        and head[1].startswith("{bytes: <")
        and head[1].endswith("5")
    )
    out = json.loads(invoke("info", "mnist", "--head", "2", "--json").stdout)
    assert out["subsets"] == 2 and out["rows"] == 9 and out["sample"] == f"test/{TEST}"
    assert out["head"][0]["image"]["bytes"].startswith("<") and out["head"][0]["label"] == 7
    assert set(out) == {
        "dataset",
        "subset",
        "description",
        "license",
        "modality",
        "format",
        "source",
        "revision",
        "commit",
        "synced_at",
        "subsets",
        "partitions",
        "partitions_local",
        "bytes",
        "bytes_local",
        "rows",
        "subset_records",
        "partition_records",
        "sample",
        "schema",
        "head",
    }


def test_info_wikipedia_head_and_nothing_local(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_ENDPOINT", catalog.settings.hf_endpoint or "")
    unsynced = catalog.info("wikipedia")
    assert (unsynced["synced_at"], unsynced["subsets"], unsynced["schema"]) == (None, None, None)
    catalog.sync("wikipedia")
    nothing = catalog.info("wikipedia", head=2)
    assert (nothing["sample"], nothing["schema"], nothing["head"], nothing["bytes_local"]) == (
        None,
        None,
        None,
        0,
    )
    catalog.download("wikipedia", "20231101.ab")
    result = catalog.info("wikipedia", head=2)
    assert [f["name"] for f in result["schema"]] == ["id", "url", "title", "text"]
    assert len(result["head"]) == 2 and set(result["head"][0]) == {"id", "url", "title", "text"}
    text = invoke("info", "wikipedia", "--head", "2").stdout
    assert "  title  string\n" in text and "first 2 rows of 20231101.ab/" in text
    assert text.splitlines()[0].startswith("wikipedia: Cleaned Wikipedia articles")


def test_info_head_of_jsonl_in_a_local_folder(tmp_path: Path) -> None:
    _jsonl_folder(tmp_path)
    catalog = Catalog(make_settings(tmp_path, include_builtin=False))
    catalog.sync("corpus")
    result = catalog.info("corpus", "en", head=2)
    assert (result["schema"], result["head"], result["format"]) == (
        None,
        [{"text": "en 0.0"}, {"text": "en 0.1"}],
        "jsonl",
    )
    assert [r["status"] for r in catalog.verify("corpus")] == ["ok", "ok"]


# ---- repair --------------------------------------------------------------------------------
def test_repair_rebuilds_records_after_the_index_is_deleted(mnist: Catalog) -> None:
    store = mnist.store
    before = store.records("mnist")
    test = data(mnist, "mnist", "test", TEST)
    raw = bytearray(test.read_bytes())
    raw[-20] ^= 0x01  # same size, different bytes
    test.write_bytes(bytes(raw))
    shutil.rmtree(data(mnist, ".pygestor"))
    partial = store.partial_path("mnist", "train", "train-00001-of-00002.parquet")
    partial.write_bytes(b"half")  # nobody is downloading it
    old_tmp = data(mnist, "mnist", "train", ".tmp-0123-x")
    old_tmp.write_bytes(b"x")
    os.utime(old_tmp, (time.time() - 7200, time.time() - 7200))
    data(mnist, "mnist", "train", "notes.txt").write_text("mine")

    report = mnist.repair("mnist")
    assert report.to_json() == {
        "dataset": "mnist",
        "commit": mnist.store.listing("mnist").commit,
        "partitions": 2,  # type: ignore[union-attr]
        "checked": 2,
        "recorded": 1,
        "kept": 0,
        "mismatched": [f"test/{TEST}"],
        "dropped": [],
        "unknown": ["train/notes.txt"],
        "partials_removed": 1,
        "temp_removed": 1,
        "damaged_removed": 0,
        "error": None,
    }
    after = store.records("mnist")
    assert set(after) == {("train", TRAIN)}
    rebuilt, original = after[("train", TRAIN)], before[("train", TRAIN)]
    assert (rebuilt.path, rebuilt.size, rebuilt.sha256, rebuilt.commit, rebuilt.rows) == (
        original.path,
        original.size,
        original.sha256,
        original.commit,
        original.rows,
    )
    assert not partial.exists() and not old_tmp.exists() and test.exists()
    assert [p["state"] for p in mnist.partition_records("mnist", "test")] == ["remote"]

    test.unlink()
    data(mnist, "mnist", "train", TRAIN).unlink()
    current = data(mnist, ".pygestor", "datasets", "mnist", "current.json")
    current.write_text("{not json")
    result = invoke("sync", "--repair", "mnist", "--json")
    assert result.exit_code == 0, result.output
    [out] = json.loads(result.stdout)
    assert (out["dropped"], out["damaged_removed"], out["checked"]) == ([f"train/{TRAIN}"], 1, 0)
    assert mnist.store.records("mnist") == {}
    text = invoke("sync", "--repair", "mnist").stdout
    assert text.startswith("mnist: index rebuilt at ") and "0 local files checked" in text


def test_repair_keeps_a_stale_copy_that_matches_its_record(mnist: Catalog, hub: HubServer) -> None:
    bigger = replicas.mnist(train_rows=9).files[f"mnist/{TRAIN}"]
    hub.hub.commit("ylecun/mnist", add={f"mnist/{TRAIN}": bigger})
    report = mnist.repair("mnist")
    assert (report.kept, report.recorded, report.mismatched) == (2, 0, ())
    assert [p["state"] for p in mnist.partition_records("mnist", "train")] == ["stale"]


def test_unknown_names_are_one_line_errors(mnist: Catalog) -> None:
    with pytest.raises(DatasetNotFound, match=r"no partition 'nope'"):
        mnist.plan_remove("mnist", "train", partitions=["nope"])
    for args in (
        ["remove", "nosuch", "--yes"],
        ["verify", "nosuch"],
        ["info", "nosuch"],
        ["updates", "nosuch"],
    ):
        result = invoke(*args)
        assert result.exit_code == 1 and result.stderr.startswith(
            "Error: no dataset named 'nosuch'"
        ), args
        assert result.stderr.count("\n") == 1


def _jsonl_folder(tmp_path: Path) -> Path:
    root = tmp_path / "nfs" / "corpus"
    (root / "en").mkdir(parents=True)
    for i in range(2):
        lines = [json.dumps({"text": f"en {i}.{j}"}) for j in range(3)]
        (root / "en" / f"part-{i}.jsonl").write_text(
            "\n".join(lines[:2]) + "\n\n" + lines[2] + "\n"
        )
    write_corpus_manifest(tmp_path, root)
    return root

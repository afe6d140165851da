"""What a user at a terminal notices: Ctrl-C, -q, the original tool's flags, columns, filters,
refused connections, sync notes, global options after the subcommand.

Real CLI processes against the bundled Hub where signals, exit codes or timing matter.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from conftest import make_settings, run_cli, write_manifest
from pygestor.catalog import Catalog
from pygestor.testing.hub import Fault, HubServer

SIZE = 1024 * 1024
FILES = 6


def _repo(tmp_path: Path, hub: HubServer, n: int = FILES, size: int = SIZE) -> dict[str, bytes]:
    """A repo `pygestor/slow` of `n` random LFS files and a user manifest `slow` for it."""
    files = {
        f"blobs/file-{i}.bin": hashlib.shake_256(f"{i}".encode()).digest(size) for i in range(n)
    }
    hub.hub.create_repo("pygestor/slow", files)
    write_manifest(
        tmp_path / "user-catalog",
        "slow",
        """
name: slow
source: {huggingface: pygestor/slow}
subsets:
  - files: "blobs/*.bin"
    name: all
""",
    )
    return files


def _env(tmp_path: Path, hub: HubServer) -> dict[str, str]:
    return {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }


def _pygestor(*args: str) -> list[str]:
    return [sys.executable, "-m", "pygestor", *args]


def _interrupt(
    cmd: list[str], env: dict[str, str], ready: object, *, wait: float = 60
) -> tuple[int, float, str, str]:
    """Start `cmd`, send SIGINT once `ready()` is true; (exit status, seconds from the signal to
    the exit, stdout, stderr)."""
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_as_from_a_shell,
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and not ready() and proc.poll() is None:  # type: ignore[operator]
        time.sleep(0.02)
    assert proc.poll() is None, f"the command ended before it was interrupted: {proc.stderr}"
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running 10 s after SIGINT; stderr: {err}") from None
    return proc.returncode, time.monotonic() - sent, out, err


def _as_from_a_shell() -> None:
    """In the child, before it runs: SIGINT with its default action and unblocked, as a shell
    leaves it for a command it starts. In a fresh clone's whole suite the three Ctrl-C tests
    saw the child finish its work after the SIGINT (exit 0), though they pass alone and the
    suite's process neither ignores nor blocks SIGINT; started this way (which also makes
    subprocess fork rather than vfork) they pass there too. The cause is not pinned down."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _after(condition: object, seconds: float) -> object:
    """A readiness test true `seconds` after `condition()` first was."""
    seen: list[float] = []

    def ready() -> bool:
        if not seen and condition():  # type: ignore[operator]
            seen.append(time.monotonic())
        return bool(seen) and time.monotonic() - seen[0] >= seconds

    return ready


def _parts(tmp_path: Path) -> dict[str, int]:
    folder = tmp_path / "data" / "slow" / "all"
    if not folder.exists():
        return {}
    return {p.name: p.stat().st_size for p in folder.glob(".*.part")}


# ---- Ctrl-C ----------------------------------------------------------------------------------
def test_ctrl_c_stops_a_download_keeps_partials_and_the_rerun_resumes(
    tmp_path: Path, hub: HubServer
) -> None:
    files = _repo(tmp_path, hub)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("slow")
    # 16 kB every 50 ms: a 1 MiB file takes ~3 s, the whole download ~10 s with 2 workers
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.05, chunk_size=16 * 1024, times=None)
    )
    env = _env(tmp_path, hub)
    status, seconds, out, err = _interrupt(
        _pygestor("download", "slow", "--all", "--workers", "2"),
        env,
        lambda: sum(_parts(tmp_path).values()) > 256 * 1024,
    )
    assert status == 130, err
    assert seconds < 2.0, f"took {seconds:.1f} s to stop"
    parts = _parts(tmp_path)
    assert 1 <= len(parts) <= 2 and all(0 < n < SIZE for n in parts.values()), parts
    done = sorted(p.name for p in (tmp_path / "data" / "slow" / "all").glob("file-*.bin"))
    assert err.splitlines()[-1] == (
        f"interrupted: {len(done)} file{'' if len(done) == 1 else 's'} done, {len(parts)} "
        "partial kept; rerun `pygestor download slow --all --workers 2` to resume"
    )
    assert "Aborted" not in err and "Traceback" not in err and out == ""
    assert len(done) + len(parts) < FILES  # the queued files were not started

    hub.faults.clear()
    time.sleep(0.5)  # the killed process's requests are logged when the server notices (a chunk)
    hub.requests.clear()
    rerun = subprocess.run(
        _pygestor("download", "slow", "--all", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert len(report["fetched"]) == FILES - len(done)
    assert report["bytes_fetched"] == (FILES - len(done)) * SIZE - sum(parts.values())
    ranges = sorted(
        (
            (r.path.rsplit("/", 1)[-1], r.range)
            for r in hub.requests.filter(method="GET", origin="lfs")
        ),
        key=str,
    )
    expected = sorted(
        (
            f"file-{i}.bin",
            f"bytes={parts[f'.file-{i}.bin.part']}-" if f".file-{i}.bin.part" in parts else None,
        )
        for i in range(FILES)
        if f"file-{i}.bin" not in done
    )
    assert [(name.split("?")[0], rng) for name, rng in ranges] == expected, ranges
    for path, data in files.items():
        assert (tmp_path / "data" / "slow" / "all" / path.split("/")[-1]).read_bytes() == data
    assert _parts(tmp_path) == {}


def test_ctrl_c_in_a_load_that_downloads_keeps_partials(tmp_path: Path, hub: HubServer) -> None:
    _repo(tmp_path, hub, n=3)
    Catalog(make_settings(tmp_path, hub.endpoint)).sync("slow")
    hub.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=0.05, chunk_size=16 * 1024, times=None)
    )
    status, seconds, _, err = _interrupt(
        [sys.executable, "-c", "import pygestor; pygestor.load('slow', 'all', output='arrow')"],
        _env(tmp_path, hub),
        lambda: sum(_parts(tmp_path).values()) > 128 * 1024,
    )
    assert seconds < 2.0, f"took {seconds:.1f} s to stop"
    assert status in (-signal.SIGINT, 128 + signal.SIGINT, 1), err  # Python's own Ctrl-C exit
    parts = _parts(tmp_path)
    assert parts and all(0 < n < SIZE for n in parts.values())
    assert err.splitlines()[-1] == (
        f"pygestor.errors.DownloadInterrupted: slow: interrupted: 0 files done, {len(parts)} "
        f"partial kept, 3 not fetched"
    )


def test_ctrl_c_during_sync_leaves_the_index_as_it_was(tmp_path: Path, hub: HubServer) -> None:
    _repo(tmp_path, hub, n=2, size=1000)
    Catalog(make_settings(tmp_path, hub.endpoint)).sync("slow")
    index = tmp_path / "data" / ".pygestor" / "datasets" / "slow"
    before = {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()}
    hub.hub.commit("pygestor/slow", add={"blobs/file-9.bin": b"new" * 500})
    hub.faults.add(Fault(origin="main", method="GET", path="/tree/", latency=10, times=None))
    hub.requests.clear()
    status, seconds, out, err = _interrupt(
        _pygestor("sync", "slow"),
        _env(tmp_path, hub),
        _after(lambda: bool(hub.requests.filter(origin="main")), 0.5),
        wait=20,
    )
    assert (status, out) == (130, ""), err
    assert seconds < 2.0
    assert err == (
        "interrupted; nothing was left half-written; rerun `pygestor sync slow` to finish\n"
    )
    after = {p.relative_to(index): p.read_bytes() for p in index.rglob("*") if p.is_file()}
    assert after == before


# ---- -q, global options after the subcommand --------------------------------------------------
def _invoke(args: list[str], endpoint: str) -> tuple[int, str, str]:
    from click.testing import CliRunner

    from pygestor.cli import cli

    level = logging.getLogger().level
    with warnings.catch_warnings():  # -q filters pygestor's warnings, -v sets the log level
        result = CliRunner().invoke(cli, args, env={"HF_ENDPOINT": endpoint})
    logging.getLogger().setLevel(level)
    return result.exit_code, result.stdout, result.stderr


def _quietly(args: list[str], endpoint: str) -> list[tuple[int, str, str]]:
    """`args` run with -q before the subcommand and with -q after it."""
    return [_invoke(["-q", *args], endpoint), _invoke([*args, "-q"], endpoint)]


def test_quiet_silences_summaries_before_or_after_the_subcommand(
    tmp_path: Path, replica_hub: HubServer
) -> None:
    ep = replica_hub.endpoint
    mnist2 = write_manifest(
        tmp_path / "cat",
        "mnist2",
        "name: mnist2\nsource: {huggingface: ylecun/mnist}\n"
        'subsets: [{files: "mnist/train-*", name: train}]\nformat: parquet\n',
    )
    cat = ["--catalog", str(tmp_path / "cat")]
    silent = (0, "", "")
    # summaries, hints and notes: nothing at all under -q (sync mnist2 has a note on stderr)
    assert _quietly(["sync", "mnist"], ep) == [silent, silent]
    assert _quietly([*cat, "sync", "mnist2"], ep) == [silent, silent]
    assert _quietly(["download", "mnist", "-s", "test"], ep) == [silent, silent]
    assert _quietly(["download", "mnist", "-s", "test"], ep) == [silent, silent]  # all local
    assert _quietly(["verify", "mnist"], ep) == [silent, silent]
    assert _quietly(["validate", str(mnist2)], ep) == [silent, silent]
    assert _quietly(["sync", "--repair", "mnist"], ep) == [silent, silent]
    schema = tmp_path / "schema.json"
    assert _invoke(["schema", "-o", str(schema)], ep) == silent
    assert _quietly(["schema", "--check", str(schema)], ep) == [silent, silent]
    assert (
        _invoke(["-q", "add", "ylecun/mnist", "--name", "m3", "-o", str(tmp_path / "m3.yaml")], ep)
        == silent
    )
    assert (tmp_path / "m3.yaml").exists()
    assert _invoke(["remove", "mnist", "-s", "test", "--yes", "-q"], ep) == silent
    assert not list((tmp_path / "data" / "mnist").rglob("*.parquet"))
    assert _quietly(["remove", "mnist", "--all", "--yes"], ep) == [silent, silent]  # nothing left
    assert _quietly(["forget", "mnist2", *cat], ep) == [silent, silent]
    # the data asked for still prints: tables, --json, a dry run's plan, info
    for args in (
        ["list"],
        ["list", "mnist"],
        ["list", "mnist", "-s", "train", "--json"],
        ["download", "mnist", "-s", "train", "--dry-run"],
        ["info", "mnist"],
        ["updates", "mnist"],  # "mnist: up to date" is the answer asked for
        ["download", "mnist", "-s", "train", "--dry-run", "--json"],
    ):
        loud = _invoke(args, ep)
        assert loud[0] == 0 and loud[1], (args, loud)
        assert _quietly(args, ep) == [loud, loud], args
    # an error still prints, and still exits 1
    assert _quietly(["list", "mnist2"], ep)[0][0] == 1
    for status, out, err in _quietly(["list", "nosuch"], ep):
        assert (status, out) == (1, "") and err.startswith("Error: no dataset named 'nosuch'")


def test_global_options_work_after_the_subcommand(tmp_path: Path, replica_hub: HubServer) -> None:
    ep = replica_hub.endpoint
    data = tmp_path / "elsewhere"
    write_manifest(
        tmp_path / "cat",
        "mnist2",
        "name: mnist2\nsource: {huggingface: ylecun/mnist}\n"
        'subsets: [{files: "mnist/{subset}-*"}]\n',
    )
    assert (
        _invoke(
            ["sync", "mnist2", "--data-dir", str(data), "--catalog", str(tmp_path / "cat")], ep
        )[0]
        == 0
    )
    assert (data / ".pygestor" / "datasets" / "mnist2" / "current.json").is_file()
    assert not (tmp_path / "data" / ".pygestor").exists()
    before = _invoke(
        ["--data-dir", str(data), "--catalog", str(tmp_path / "cat"), "list", "mnist2"], ep
    )
    after = _invoke(
        ["list", "mnist2", "--data-dir", str(data), "--catalog", str(tmp_path / "cat")], ep
    )
    assert before == after and before[0] == 0 and before[1].startswith("SUBSET")
    # -v after the subcommand turns on debug logging, as before it (a real process: the test
    # runner owns this one's logging)
    done = subprocess.run(
        _pygestor("sync", "mnist2", "-vv", "--catalog", str(tmp_path / "cat")),
        env={**os.environ, "HF_ENDPOINT": ep},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "DEBUG: " in done.stderr, done.stderr
    # --help of a subcommand lists them
    status, out, _ = _invoke(["list", "--help"], ep)
    assert status == 0 and "--data-dir DIRECTORY" in out and "-q, --quiet" in out


# ---- the original tool's flags -------------------------------------------------------------
@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["-u", "-d", "wikipedia", "-s", "A", "-s", "B"],
            ["download", "wikipedia", "-s", "A", "-s", "B"],
        ),
        (
            ["-r", "-d", "wikipedia", "-s", "A", "-s", "B", "--yes"],
            ["remove", "wikipedia", "-s", "A", "-s", "B", "--yes"],
        ),
        (["-l", "-d", "wikipedia", "-s", "A", "-s", "A"], ["list", "wikipedia", "-s", "A"]),
    ],
)
def test_legacy_subset_given_twice_means_both(argv: list[str], expected: list[str]) -> None:
    from pygestor.cli import legacy_args

    assert legacy_args(argv) == expected


def test_legacy_download_of_two_subsets_fetches_both(
    tmp_path: Path, replica_hub: HubServer
) -> None:
    ep = replica_hub.endpoint
    assert _invoke(["sync", "wikipedia"], ep)[0] == 0
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).parent.parent / "cli.py"),
            "-u",
            "-d",
            "wikipedia",
            "-s",
            "20231101.ab",
            "-s",
            "20231101.fr",
        ],
        env={**os.environ, "HF_ENDPOINT": ep},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    root = tmp_path / "data" / "wikipedia"
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.parquet")) == [
        "20231101.ab/train-00000-of-00001.parquet",
        "20231101.fr/train-00000-of-00001.parquet",
    ]
    # listing shows one subset: two are refused, not the last one taken
    status, _, err = _invoke(["list", "wikipedia", "-s", "20231101.ab", "-s", "20231101.fr"], ep)
    assert status == 2 and "Error: list shows one subset's partitions; give -s once" in err
    legacy = run_cli(
        ["-l", "-d", "wikipedia", "-s", "20231101.ab", "-s", "20231101.fr"], script=False
    )
    assert legacy.returncode == 2
    assert legacy.stderr.endswith("Error: -l lists one subset's partitions; give -s once\n")


# ---- sync notes name their dataset -----------------------------------------------------------
def test_sync_notes_name_their_dataset(tmp_path: Path, replica_hub: HubServer) -> None:
    write_manifest(
        tmp_path / "cat",
        "mnist2",
        "name: mnist2\nsource: {huggingface: ylecun/mnist}\nsubsets:\n"
        '  - files: "mnist/train-*"\n    name: train\n'
        '  - files: "nothing/*.parquet"\n    name: none\nformat: parquet\n',
    )
    status, out, err = _invoke(
        ["sync", "mnist", "mnist2", "--catalog", str(tmp_path / "cat")], replica_hub.endpoint
    )
    assert status == 0
    assert [line.split(",")[0] for line in out.splitlines()] == [
        "mnist: 2 subsets",
        "mnist2: 1 subset",
    ]
    assert err.splitlines() == [
        "mnist2: 1 file matched no rule, e.g. mnist/test-00000-of-00001.parquet (see --json)",
        "mnist2: rule subsets[1]: nothing/*.parquet matched no file",
    ]


# ---- default columns: "all", and validate --resolve against the files ------------------------
_WRONG_COLUMNS = """name: digits
source: {huggingface: ylecun/mnist}
subsets:
  - files: "mnist/{subset}-*.parquet"
format: parquet
load:
  dtypes: {label: int16}
  columns: [image, label, caption]
"""


def _parquet(rows: int) -> bytes:
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table(
        {
            "id": [f"doc-{i}" for i in range(rows)],
            "text": [hashlib.sha256(str(i).encode()).hexdigest() * 4 for i in range(rows)],
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, compression="none")
    return out.getvalue()


_DOCS = """name: docs
source: {huggingface: pygestor/docs}
subsets:
  - files: "data/{subset}-*.parquet"
format: parquet
load:
  dtypes: {id: string}
  columns: [id, text, title]
"""


def test_validate_resolve_reports_default_columns_a_subset_lacks(
    tmp_path: Path, hub: HubServer
) -> None:
    big, small = _parquet(20_000), _parquet(10)
    assert len(big) > 1_000_000 and len(small) < 65536
    hub.hub.create_repo(
        "pygestor/docs", {"data/train-0.parquet": big, "data/test-0.parquet": small}
    )
    path = write_manifest(tmp_path / "cat", "docs", _DOCS)
    hub.requests.clear()
    status, out, err = _invoke(["validate", "--resolve", str(path)], hub.endpoint)
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        f"{path}:8: load.columns: subset '{s}' has no column 'title' (its "
        f"data/{s}-0.parquet has: id, text); fix the list, or write `columns: all`"
        for s in ("test", "train")
    ]
    # the footers came by range requests: the last 64 kB of the big file, never all of it
    got = sorted(
        (r.path.rsplit("/", 1)[-1], r.range, r.bytes_sent)
        for r in hub.requests.filter(method="GET", origin="lfs")
    )
    assert got == [
        ("test-0.parquet", f"bytes=0-{len(small) - 1}", len(small)),
        ("train-0.parquet", f"bytes={len(big) - 65536}-{len(big) - 1}", 65536),
    ]
    # a local copy is read instead of the source
    catalog = Catalog(make_settings(tmp_path, hub.endpoint, user_catalog_dir=tmp_path / "cat"))
    catalog.sync("docs")
    catalog.download("docs", "train")
    hub.requests.clear()
    assert _invoke(["validate", "--resolve", str(path)], hub.endpoint)[0] == 1
    assert [r.path.rsplit("/", 1)[-1] for r in hub.requests.filter(origin="lfs")] == [
        "test-0.parquet"
    ]
    # right columns, or `columns: all`: valid
    for fix in ("columns: [id, text]", "columns: all"):
        path.write_text(_DOCS.replace("columns: [id, text, title]", fix))
        assert _invoke(["validate", "--resolve", str(path)], hub.endpoint) == (
            0,
            "1 manifests valid\n",
            "",
        ), fix


def test_columns_all_reads_every_column_whatever_the_manifest_says(
    tmp_path: Path, hub: HubServer
) -> None:
    from pygestor.errors import SelectionError
    from pygestor.testing import replicas

    replicas.install(hub.hub, replicas.mnist())
    write_manifest(tmp_path / "user-catalog", "digits", _WRONG_COLUMNS)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("digits")
    with pytest.raises(SelectionError, match=r"load\.columns of the manifest: no column 'caption'"):
        catalog.load("digits", "test")
    frame = catalog.load("digits", "test", columns="all", output="arrow")
    assert frame.column_names == ["image", "label"] and frame.num_rows > 0
    batches = list(catalog.stream("digits", "test", columns="all", output="arrow"))
    assert sum(b.num_rows for b in batches) == frame.num_rows
    assert catalog.load("digits", "test", columns=["label"], output="arrow").column_names == [
        "label"
    ]
    with pytest.raises(SelectionError, match="or 'all' for every column"):
        catalog.load("digits", "test", columns="label")
    # `columns: all` in the manifest is every column too
    write_manifest(
        tmp_path / "user-catalog",
        "digits",
        _WRONG_COLUMNS.replace("[image, label, caption]", "all"),
    )
    fresh = Catalog(make_settings(tmp_path, hub.endpoint))
    assert fresh.load("digits", "test", output="arrow").column_names == ["image", "label"]


# ---- filters: a type mismatch says so; the README's examples return rows ---------------------
def test_a_filter_of_the_wrong_type_says_so(tmp_path: Path, replica_hub: HubServer) -> None:
    import pyarrow.compute as pc

    from pygestor.errors import SelectionError

    catalog = Catalog(make_settings(tmp_path, replica_hub.endpoint))
    expected = [
        (
            ("id", "<", 1000),
            "filter id < 1000: column id is string; compare with a string or "
            "cast it, e.g. filters=pyarrow.compute.field('id').cast('int64') < 1000",
        ),
        (
            ("title", "=", 3),
            "filter title = 3: column title is string; compare with a string or "
            "cast it, e.g. filters=pyarrow.compute.field('title').cast('int64') == 3",
        ),
        (
            ("id", "in", [1, 2]),
            "filter id in [1, 2]: column id is string; compare with a string or cast it",
        ),
    ]
    for term, message in expected:
        for read in (catalog.load, catalog.stream):
            with pytest.raises(SelectionError) as caught:
                read("wikipedia", "20231101.ab", filters=[term])
            assert str(caught.value) == f"wikipedia/20231101.ab: {message}"
    with pytest.raises(SelectionError) as caught:  # numbers against a number column
        catalog.load("mnist", "test", columns=["label"], filters=[("label", "=", "3")])
    assert str(caught.value) == (
        "mnist/test: filter label = '3': column label is int64; compare with a number or cast it"
    )
    assert len(catalog.load("mnist", "test", columns=["label"], filters=[("label", "<", 5)])) > 0
    with pytest.raises(SelectionError) as caught:  # an Expression: no "cannot read" either
        catalog.load("wikipedia", "20231101.ab", filters=pc.field("id") < 1000)
    assert str(caught.value) == (
        "filters compare a column with a value of another type (string against int16) in "
        "wikipedia/20231101.ab; compare with a value of the column's type, or cast the column"
    )


def test_readme_filter_examples_return_rows_on_the_demo_data(
    tmp_path: Path, replica_hub: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast

    import pygestor

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Loading", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    tree = ast.parse(block)
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    loads = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign)
        and isinstance(n.value, ast.Call)
        and any(k.arg == "filters" for k in n.value.keywords)
    ]
    assert len(loads) == 2
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)  # the demo's data: the replica
    for node in loads:
        scope: dict[str, object] = {"pygestor": pygestor}  # imported above that block
        exec(compile(ast.Module([*imports, node], []), "README.md", "exec"), scope)
        df = scope["df"]
        assert 0 < len(df) < 123, ast.unparse(node)  # some rows, not all (123 on the demo)
    assert list(df.columns) == ["id", "url", "title", "text"]  # columns="all"
    assert (df["id"].astype(int) < 1000).all()


# ---- an endpoint that refuses connections ------------------------------------------------------
def test_a_refused_endpoint_gives_up_in_seconds_and_names_hf_endpoint(
    tmp_path: Path, hub: HubServer
) -> None:
    import socket

    _repo(tmp_path, hub, n=12, size=1000)
    Catalog(make_settings(tmp_path, hub.endpoint)).sync("slow")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**_env(tmp_path, hub), "HF_ENDPOINT": f"http://127.0.0.1:{port}"}
    start = time.monotonic()
    done = subprocess.run(
        _pygestor("download", "slow", "--all", "--workers", "2"),
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    seconds = time.monotonic() - start
    assert done.returncode == 1
    assert seconds < 8, f"took {seconds:.1f} s"  # was 10 s of backoff per file
    [line] = done.stderr.splitlines()
    assert line.startswith("Error: could not download slow/all/file-")
    assert line.endswith(
        f": cannot reach http://127.0.0.1:{port} (connection refused); check the network or "
        "HF_ENDPOINT (gave up after 2 retries) (and 11 more)"
    )
    assert not list((tmp_path / "data" / "slow").rglob("*.bin"))


def test_json_before_the_command_is_taken_as_after_it(
    tmp_path: Path, replica_hub: HubServer
) -> None:
    from pygestor.cli.app import json_after_command

    assert json_after_command(["--json", "--data-dir", "d", "list", "x"]) == [
        "--data-dir",
        "d",
        "list",
        "x",
        "--json",
    ]
    assert json_after_command(["--data-dir", "--json", "list"]) == ["--data-dir", "--json", "list"]
    assert json_after_command(["list", "--json"]) == ["list", "--json"]
    env = {"HF_ENDPOINT": replica_hub.endpoint}
    before = run_cli(["-q", "--json", "sync", "mnist"], env=env)
    assert before.returncode == 0, before.stderr
    assert json.loads(before.stdout)[0]["dataset"] == "mnist"
    assert (
        run_cli(["--json", "list", "mnist"], env=env).stdout
        == run_cli(["list", "mnist", "--json"], env=env).stdout
    )

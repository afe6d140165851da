"""Read-only and layered data directories (issue 9, section 1), run for real.

A shared tier is built as root (sync + download against the bundled Hub), made read-only
(`chmod -R a-w`, or a read-only bind mount), then used by an unprivileged user (`nobody`, through
`setpriv`) in real CLI and Python subprocesses: reads give the same rows as root's, writes fail
with one `ReadOnlyDataDir` line, and not one path, byte or mtime of the shared tier changes.
Layered: a personal tier (the user's own, created on first write) over the read-only shared one.

Root ignores file permissions, hence the other user; a read-only mount refuses root too, so the
in-process tests use one. Each skip states why the machine cannot run it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from conftest import REPO_ROOT
from pygestor.catalog import Catalog
from pygestor.errors import PygestorError, ReadOnlyDataDir, SelectionError
from pygestor.settings import Settings
from pygestor.testing.hub import HubServer

USER = "nobody"
EN = "20231101.en"
EN_SHARED = [f"train-{i:05d}-of-00041.parquet" for i in range(20)]  # the rest: personal tier
MNIST_TRAIN = "train-00000-of-00001.parquet"
MNIST_TEST = "test-00000-of-00001.parquet"
SITE = sysconfig.get_paths()["purelib"]
BOOT = f"import site, sys; site.addsitedir({SITE!r}); sys.path.insert(0, {str(REPO_ROOT)!r}); "


def _why_no_other_user() -> str | None:
    if os.geteuid() != 0:
        return "switching to another user needs root (CI runs as root)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"there is no user {USER!r} on this machine"
    return None


def _setpriv() -> list[str]:
    return ["setpriv", f"--reuid={USER}", "--regid=nogroup", "--clear-groups"]


def _interpreter() -> str | None:
    """A Python the other user may run that imports this checkout and its dependencies: this
    one, or the system's Python of the same version (a venv's interpreter may live in a folder
    only root can enter)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    for exe in dict.fromkeys(
        [sys.executable, f"/usr/bin/python{version}", shutil.which(f"python{version}")]
    ):
        if exe is None:
            continue
        probe = [*_setpriv(), exe, "-c", BOOT + "import pyarrow, pandas, pygestor"]
        done = subprocess.run(probe, capture_output=True, timeout=60, check=False, cwd="/")
        if done.returncode == 0:
            return exe
    return None


@dataclass
class Machine:
    """A world-traversable folder (pytest's tmp folders are root's alone) and how to run as the
    other user there."""

    base: Path
    python: str
    endpoint: str

    def home(self, name: str) -> Path:
        home = self.base / name
        home.mkdir()
        os.chown(home, pwd.getpwnam(USER).pw_uid, pwd.getpwnam(USER).pw_gid)
        return home

    def env(self, home: Path, **extra: str) -> dict[str, str]:
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "HF_HOME": str(home / "hf"),
            "HF_ENDPOINT": self.endpoint,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1",
            "PYGESTOR_CONFIG": str(home / "config.yaml"),
            **extra,
        }

    def cli(self, env: dict[str, str], *args: str, user: bool = True) -> Done:
        code = BOOT + "from pygestor.cli.app import main; main()"
        return self._run([self.python, "-c", code, *args], env, user)

    def python_api(self, env: dict[str, str], code: str, *, user: bool = True) -> Any:
        """Run `code` (which sets `out`) and return `out` as JSON decoded."""
        script = BOOT + "import json, warnings\n" + code + "\nprint(json.dumps(out))"
        done = self._run([self.python, "-c", script], env, user)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.splitlines()[-1])

    def _run(self, cmd: list[str], env: dict[str, str], user: bool) -> Done:
        prefix = _setpriv() if user else []
        done = subprocess.run(
            [*prefix, *cmd], capture_output=True, text=True, env=env, timeout=120, cwd="/"
        )
        return Done(done.returncode, done.stdout, done.stderr)


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture(scope="module")
def machine(replica_hub: HubServer) -> Iterator[Machine]:
    why = _why_no_other_user()
    if why:
        pytest.skip(why)
    python = _interpreter()
    if python is None:
        pytest.skip(f"no Python {sys.version_info[:2]} that user {USER!r} may run imports pygestor")
    base = Path(tempfile.mkdtemp(prefix="pygt-tiers-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield Machine(base, python, replica_hub.endpoint)
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(base)], check=False)
        shutil.rmtree(base)


@dataclass
class Shared:
    """The shared tier, read-only, and what root read from a full reference copy."""

    root: Path
    before: dict[str, tuple[Any, ...]]
    reference: dict[str, str]  # what loads give, as hashes of their rows (see ROWS)


ROWS = "hashlib.sha256(repr(df.to_dict(orient='list')).encode()).hexdigest()"


def _rows_hash(df: Any) -> str:
    return hashlib.sha256(repr(df.to_dict(orient="list")).encode()).hexdigest()


@pytest.fixture(scope="module")
def shared(machine: Machine) -> Shared:
    """Built as root: mnist and wikipedia synced, mnist/train and 20 of wikipedia's 41 English
    partitions downloaded; then `chmod -R a-w`. A reference data dir with everything gives the
    rows every load must return."""
    root = machine.base / "shared"
    catalog = Catalog(_settings(machine, root))
    catalog.sync(["mnist", "wikipedia"])
    catalog.download("mnist", "train")
    catalog.download("wikipedia", EN, partitions=EN_SHARED)
    reference = Catalog(_settings(machine, machine.base / "reference"))
    reference.download("mnist", all_subsets=True)
    reference.download("wikipedia", EN)
    hashes = {
        "mnist/train": _rows_hash(reference.load("mnist", "train")),
        "mnist/all": _rows_hash(reference.load("mnist", ["train", "test"])),
        "wikipedia/en": _rows_hash(reference.load("wikipedia", EN)),
        "wikipedia/en-shared": _rows_hash(reference.load("wikipedia", EN, partitions=EN_SHARED)),
    }
    subprocess.run(["chmod", "-R", "a-w", str(root)], check=True)
    return Shared(root, tree(root), hashes)


def _settings(machine: Machine, data_dir: Path, *shared: Path) -> Settings:
    return Settings(
        data_dir=data_dir,
        user_catalog_dir=machine.base / "no-user-catalog",
        hf_endpoint=machine.endpoint,
        shared_data_dirs=shared,
    )


def tree(root: Path) -> dict[str, tuple[Any, ...]]:
    """Every path below `root` (and itself): kind, mode, size, mtime and, for files, the bytes'
    sha256."""
    found: dict[str, tuple[Any, ...]] = {}
    for path in [root, *sorted(root.rglob("*"))]:
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        found[str(path.relative_to(root))] = (
            stat.S_IFMT(st.st_mode),
            stat.S_IMODE(st.st_mode),
            st.st_size,
            st.st_mtime_ns,
            digest,
        )
    return found


def one_error_line(done: Done, data_dir: Path, action: str) -> None:
    """Exit 1 and exactly the one `ReadOnlyDataDir` line on stderr, nothing on stdout."""
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == f"Error: {ReadOnlyDataDir(str(data_dir), action)}\n"
    assert done.stderr.startswith(
        f"Error: data directory {data_dir} is read-only for you: {action} needs write access"
    )
    assert done.stdout == ""


# ---- one read-only data directory ---------------------------------------------------------
def test_a_read_only_data_dir_lists_and_loads_for_another_user(
    machine: Machine, shared: Shared
) -> None:
    home = machine.home("reader")
    env = machine.env(home, PYGESTOR_DATA_DIR=str(shared.root))
    as_root = machine.env(machine.home("root-reader"), PYGESTOR_DATA_DIR=str(shared.root))

    datasets = json.loads(machine.cli(env, "list", "--json").stdout)
    by_name = {d["name"]: d for d in datasets}
    assert (by_name["mnist"]["partitions"], by_name["mnist"]["partitions_local"]) == (2, 1)
    assert (by_name["wikipedia"]["partitions"], by_name["wikipedia"]["partitions_local"]) == (
        43,
        20,
    )
    # every read command answers exactly what root answers on the same folder
    for args in (
        ["list"],
        ["list", "--json"],
        ["list", "mnist"],
        ["list", "wikipedia", "--json"],
        ["list", "mnist", "-s", "train"],
        ["list", "mnist", "-s", "test", "--json"],
        ["info", "mnist", "--json"],
        ["info", "wikipedia", "-s", EN, "--head", "1"],
        ["verify", "wikipedia", "--json"],
        ["updates", "mnist", "--json"],
        ["download", "mnist", "-s", "train"],  # already local: nothing to write
    ):
        mine, roots = machine.cli(env, *args), machine.cli(as_root, *args, user=False)
        assert (mine.returncode, mine.stdout) == (0, roots.stdout), (args, mine.stderr)
    assert machine.cli(env, "list", "mnist").stdout == (
        "SUBSET  PARTITIONS  SIZE             ROWS  ARROW COPY\n"
        "test    0 / 1       0 B / 5.5 kB     -     -\n"
        "train   1 / 1       7.4 kB / 7.4 kB  6     -\n"
    )
    train = json.loads(machine.cli(env, "list", "mnist", "-s", "train", "--json").stdout)
    assert [(p["partition"], p["state"], p["location"]) for p in train] == [
        (MNIST_TRAIN, "local", str(shared.root))
    ]
    verified = json.loads(machine.cli(env, "verify", "wikipedia", "--json").stdout)
    assert [r["status"] for r in verified] == ["ok"] * 20
    assert machine.cli(env, "updates", "mnist").stdout == "mnist: up to date\n"

    reads = f"""
import hashlib, pygestor
df = pygestor.load('mnist', 'train')
train = {ROWS}
rows = pygestor.scan('wikipedia', '{EN}', partitions={EN_SHARED!r}).count_rows()
streamed = sum(len(b) for b in pygestor.stream('wikipedia', '{EN}', partitions={EN_SHARED!r}))
df = pygestor.load('wikipedia', '{EN}', partitions={EN_SHARED!r})
wiki = {ROWS}
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    df = pygestor.load('mnist', ['train', 'test'], download=False)
    partly = ({ROWS}, [str(w.message) for w in caught])
out = [train, rows, streamed, wiki, partly]
"""
    out = machine.python_api(env, reads)
    # root, who could write, reads the same and writes nothing either (the tree check below)
    assert machine.python_api(as_root, reads, user=False) == out
    train_hash, rows, streamed, wiki_hash, (partly, warned) = out
    assert train_hash == shared.reference["mnist/train"]
    assert rows == streamed == 20 * 3  # the replica's English partitions hold 3 rows each
    assert wiki_hash == shared.reference["wikipedia/en-shared"]
    assert partly == shared.reference["mnist/train"]
    assert warned == [
        "mnist/train,test: 1 of 2 partitions are not local and were skipped "
        f"(test/{MNIST_TEST}); pass download=True to fetch them"
    ]
    assert tree(shared.root) == shared.before


def test_every_write_to_a_read_only_data_dir_is_one_line(machine: Machine, shared: Shared) -> None:
    env = machine.env(machine.home("writer"), PYGESTOR_DATA_DIR=str(shared.root))
    for args, action in (
        (["sync", "mnist"], "sync"),
        (["sync"], "sync"),
        (["download", "mnist", "-s", "test"], "download"),
        (["download", "mnist", "--all", "--dry-run"], "download"),
        (["remove", "mnist", "-s", "train", "-y"], "remove"),
        (["forget", "mnist"], "forget"),
        (["download", "mnist", "-s", "train", "--arrow-copy"], "an Arrow copy"),
    ):
        one_error_line(machine.cli(env, *args), shared.root, action)
    repaired = machine.cli(env, "sync", "--repair", "mnist")
    assert repaired.returncode == 1
    assert f"{ReadOnlyDataDir(str(shared.root), 'sync --repair')}" in repaired.stdout + (
        repaired.stderr
    )
    assert "Traceback" not in repaired.stderr
    # nothing to remove needs no write access either
    nothing = machine.cli(env, "remove", "mnist", "-s", "test", "-y")
    assert (nothing.returncode, nothing.stdout) == (
        0,
        "mnist: nothing to remove (1 chosen partition not local)\n",
    )

    out = machine.python_api(
        env,
        """
import pygestor
from pygestor.errors import ReadOnlyDataDir
out = []
for call in (
    lambda: pygestor.load('mnist', 'test'),
    lambda: pygestor.load('wikipedia', '20231101.fr'),
    lambda: pygestor.sync('mnist'),
    lambda: pygestor.download('mnist', 'test'),
    lambda: pygestor.Catalog.open().build_arrow_copy('mnist', 'train'),
):
    try:
        call()
        out.append(None)
    except ReadOnlyDataDir as exc:
        out.append([exc.action, str(exc).count('\\n')])
""",
    )
    assert out == [
        [
            "a load with download=True (1 of 1 partitions of mnist are not local; "
            "download=False reads the local ones)",
            0,
        ],
        [
            "a load with download=True (1 of 1 partitions of wikipedia are not local; "
            "download=False reads the local ones)",
            0,
        ],
        ["sync", 0],
        ["download", 0],
        ["an Arrow copy", 0],
    ]
    assert tree(shared.root) == shared.before


def test_a_refusal_os_access_cannot_see_is_the_same_one_line(
    machine: Machine, shared: Shared
) -> None:
    """The data dir itself is the user's, but its index folder is root's and read-only (what an
    NFS server with root squash, or an ACL, looks like from here): the first write fails, and
    says so in one line naming the folder and the path."""
    home = machine.home("squashed")
    data = home / "data"
    shutil.copytree(shared.root, data)  # as root: every file and folder root's, read-only
    os.chown(data, pwd.getpwnam(USER).pw_uid, -1)
    data.chmod(0o755)
    env = machine.env(home, PYGESTOR_DATA_DIR=str(data))
    before = tree(data)
    done = machine.cli(env, "download", "mnist", "-s", "test")
    assert done.returncode == 1 and done.stdout == ""
    index = data / ".pygestor" / "datasets" / "mnist"
    assert done.stderr.startswith(f"Error: data directory {data} is read-only for you ({index}/"), (
        done.stderr
    )
    assert done.stderr.count("\n") == 1
    assert " cannot be written): download needs write access (" in done.stderr
    synced = machine.cli(env, "sync", "mnist")
    assert synced.returncode == 1 and synced.stderr.count("\n") == 1, synced.stderr
    assert synced.stderr.startswith(f"Error: data directory {data} is read-only for you (")
    assert tree(data) == before


# ---- a personal tier over a shared one -------------------------------------------------
def _layered(machine: Machine, shared: Shared, name: str) -> tuple[dict[str, str], Path]:
    home = machine.home(name)
    personal = home / "pyg"  # created by the first write
    (home / "config.yaml").write_text(f"data_dirs: [{personal}, {shared.root}]\n", encoding="utf-8")
    return machine.env(home), personal


def test_layered_reads_from_both_and_writes_only_the_personal_tier(
    machine: Machine, shared: Shared
) -> None:
    env, personal = _layered(machine, shared, "layered")
    datasets = {d["name"]: d for d in json.loads(machine.cli(env, "list", "--json").stdout)}
    assert (datasets["mnist"]["partitions_local"], datasets["wikipedia"]["partitions_local"]) == (
        1,
        20,
    )
    assert not personal.exists()  # reading created nothing, not even the personal folder

    fetched = machine.cli(env, "download", "wikipedia", "-s", EN, "--json")
    assert fetched.returncode == 0, fetched.stderr
    report = json.loads(fetched.stdout)
    assert sorted(report["fetched"]) == [
        f"{EN}/train-{i:05d}-of-00041.parquet" for i in range(20, 41)
    ]
    assert report["skipped"] == []
    assert sorted(p.name for p in (personal / "wikipedia" / EN).iterdir()) == [
        f"train-{i:05d}-of-00041.parquet" for i in range(20, 41)
    ]
    parts = json.loads(machine.cli(env, "list", "wikipedia", "-s", EN, "--json").stdout)
    assert [p["location"] for p in parts] == [str(shared.root)] * 20 + [str(personal)] * 21
    assert {p["state"] for p in parts} == {"local"}
    table = machine.cli(env, "list", "mnist", "-s", "train").stdout
    assert table == (
        "PARTITION                     SIZE    STATE  ROWS  LOCATION\n"
        f"train-00000-of-00001.parquet  7.4 kB  local  6     {shared.root}\n"
    )
    # a second download of the same subset: everything is local somewhere, nothing fetched
    again = json.loads(machine.cli(env, "download", "wikipedia", "-s", EN, "--json").stdout)
    assert again["fetched"] == []

    out = machine.python_api(
        env,
        f"""
import hashlib, pygestor
df = pygestor.load('wikipedia', '{EN}')
whole = {ROWS}
streamed = sum(len(b) for b in pygestor.stream('wikipedia', '{EN}', batch_size=7))
rows = pygestor.scan('wikipedia', '{EN}').count_rows()
df = pygestor.load('mnist', ['train', 'test'])  # test is downloaded to the personal tier
both = {ROWS}
out = [whole, streamed, rows, both]
""",
    )
    assert out == [
        shared.reference["wikipedia/en"],
        41 * 3,
        41 * 3,
        shared.reference["mnist/all"],
    ]
    assert (personal / "mnist" / "test" / MNIST_TEST).is_file()
    assert not (personal / "mnist" / "train").exists()  # read from the shared tier, not copied

    verified = json.loads(machine.cli(env, "verify", "mnist", "--json").stdout)
    assert sorted((r["path"], r["status"]) for r in verified) == [
        (str(personal / "mnist" / "test" / MNIST_TEST), "ok"),
        (str(shared.root / "mnist" / "train" / MNIST_TRAIN), "ok"),
    ]
    assert tree(shared.root) == shared.before


def test_layered_remove_and_sync_touch_only_the_personal_tier(
    machine: Machine, shared: Shared
) -> None:
    env, personal = _layered(machine, shared, "remover")
    assert machine.cli(env, "download", "mnist", "--all").returncode == 0
    assert sorted(p.relative_to(personal).as_posix() for p in personal.rglob("*.parquet")) == [
        f"mnist/test/{MNIST_TEST}"
    ]

    plan = json.loads(machine.cli(env, "remove", "mnist", "--all", "--dry-run", "--json").stdout)
    assert [f["path"] for f in plan["files"]] == [str(personal / "mnist" / "test" / MNIST_TEST)]
    assert plan["shared"] == [f"train/{MNIST_TRAIN}"]
    removed = machine.cli(env, "remove", "mnist", "--all", "-y")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines()[0] == (
        f"mnist: 1 chosen partition in a read-only shared data dir left untouched (only "
        f"{personal} is changed): train/{MNIST_TRAIN}"
    )
    assert removed.stdout.splitlines()[-1].startswith("mnist: deleted 1 file, freed ")
    states = json.loads(machine.cli(env, "list", "mnist", "--json").stdout)
    assert [(s["subset"], s["partitions_local"]) for s in states] == [("test", 0), ("train", 1)]
    # removing only what is shared: nothing to do, and it says why
    only_shared = machine.cli(env, "remove", "mnist", "-s", "train", "-y")
    assert only_shared.returncode == 0
    assert only_shared.stdout == (
        f"mnist: 1 chosen partition in a read-only shared data dir left untouched (only "
        f"{personal} is changed): train/{MNIST_TRAIN}\n"
        "mnist: nothing to remove (1 chosen partition not local)\n"
    )

    synced = machine.cli(env, "sync", "mnist")
    assert synced.returncode == 0, synced.stderr
    assert (personal / ".pygestor" / "datasets" / "mnist" / "current.json").is_file()
    train = json.loads(machine.cli(env, "list", "mnist", "-s", "train", "--json").stdout)
    assert [(p["state"], p["location"]) for p in train] == [("local", str(shared.root))]
    assert machine.cli(env, "forget", "mnist").stdout == "mnist: index dropped\n"
    assert not (personal / ".pygestor" / "datasets" / "mnist" / "current.json").exists()
    # forgotten personally, still listed from the shared tier
    again = json.loads(machine.cli(env, "list", "mnist", "--json").stdout)
    assert [(s["subset"], s["partitions_local"]) for s in again] == [("test", 0), ("train", 1)]
    assert tree(shared.root) == shared.before


# ---- in process: a read-only mount refuses root as well ----------------------------------
@pytest.fixture
def read_only_mount(machine: Machine, shared: Shared) -> Iterator[Path]:
    target = Path(tempfile.mkdtemp(prefix="pygt-ro-", dir=machine.base))
    done = subprocess.run(["mount", "--bind", str(shared.root), str(target)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot bind-mount here: {done.stderr.decode().strip()}")
    try:
        ro = subprocess.run(
            ["mount", "-o", "remount,ro,bind", str(target)], capture_output=True, check=False
        )
        if ro.returncode != 0:
            pytest.skip(f"cannot make a bind mount read-only: {ro.stderr.decode().strip()}")
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


def test_read_only_mount_in_process(
    machine: Machine, shared: Shared, read_only_mount: Path
) -> None:
    catalog = Catalog(_settings(machine, read_only_mount))
    assert [(s["subset"], s["partitions_local"]) for s in catalog.subset_records("mnist")] == [
        ("test", 0),
        ("train", 1),
    ]
    assert _rows_hash(catalog.load("mnist", "train")) == shared.reference["mnist/train"]
    assert [r["status"] for r in catalog.verify("mnist")] == ["ok"]
    assert catalog.download("mnist", "train").fetched == ()
    for call, action in (
        (lambda: catalog.sync("mnist"), "sync"),
        (lambda: catalog.download("mnist", "test"), "download"),
        (lambda: catalog.remove("mnist", "train"), "remove"),
        (lambda: catalog.forget("mnist"), "forget"),
        (lambda: catalog.repair("mnist"), "sync --repair"),
        (lambda: catalog.load("mnist", "test"), catalog_load_action("mnist")),
        (lambda: catalog.drop_arrow_copy("mnist", "train"), None),
    ):
        if action is None:  # no Arrow copy to drop: nothing written, nothing refused
            assert call() is False
            continue
        with pytest.raises(ReadOnlyDataDir) as caught:
            call()
        assert (caught.value.data_dir, caught.value.action) == (str(read_only_mount), action)
    with pytest.raises(SelectionError, match="no partition of mnist/test is local"):
        catalog.load("mnist", "test", download=False)
    assert tree(shared.root) == shared.before


def catalog_load_action(name: str) -> str:
    return (
        f"a load with download=True (1 of 1 partitions of {name} are not local; "
        "download=False reads the local ones)"
    )


def test_layered_in_process_over_a_read_only_mount(
    machine: Machine, shared: Shared, read_only_mount: Path, tmp_path: Path
) -> None:
    personal = tmp_path / "personal"
    catalog = Catalog(_settings(machine, personal, read_only_mount))
    plan = catalog.plan_download("mnist", all_subsets=True)
    assert [i.key for i in plan.fetch] == [f"test/{MNIST_TEST}"]
    assert [i.key for i in plan.local] == [f"train/{MNIST_TRAIN}"]
    assert catalog.download("mnist", all_subsets=True).fetched == (f"test/{MNIST_TEST}",)
    assert _rows_hash(catalog.load("mnist", ["train", "test"])) == shared.reference["mnist/all"]
    records = catalog.partition_records("mnist", "train") + catalog.partition_records(
        "mnist", "test"
    )
    assert [(r["partition"], r["location"]) for r in records] == [
        (MNIST_TRAIN, str(read_only_mount)),
        (MNIST_TEST, str(personal)),
    ]
    assert sorted(str(p.relative_to(personal)) for p in personal.rglob("*") if p.is_file()) == [
        ".pygestor/datasets/mnist/lock",  # taken to write the record
        ".pygestor/datasets/mnist/locks/test/test-00000-of-00001.parquet.lock",
        ".pygestor/datasets/mnist/segments/test/0000000001-1.json",  # the one record
        f"mnist/test/{MNIST_TEST}",
    ]
    report = catalog.remove("mnist", all_subsets=True)
    assert [f.kind for f in report.files] == ["data"]
    assert tree(shared.root) == shared.before


# ---- settings ------------------------------------------------------------------------------
def _from_config(tmp_path: Path, text: str, **env: str) -> Settings:
    config = tmp_path / "config.yaml"
    config.write_text(text, encoding="utf-8")
    return Settings.from_env(env={"HOME": str(tmp_path), "PYGESTOR_CONFIG": str(config), **env})


def test_data_dirs_setting(tmp_path: Path) -> None:
    home = Path("~").expanduser()
    s = _from_config(tmp_path, "data_dirs: [~/pyg, /shared/datasets, 'file:///other']\n")
    assert s.data_dir == home / "pyg"
    assert s.shared_data_dirs == (Path("/shared/datasets"), Path("/other"))
    assert s.data_dirs == (home / "pyg", Path("/shared/datasets"), Path("/other"))
    assert _from_config(tmp_path, "data_dir: ~/one\n").data_dirs == (home / "one",)
    assert _from_config(tmp_path, "data_dirs: ~/one\n").data_dirs == (home / "one",)
    assert _from_config(tmp_path, "data_dir:\n").data_dirs == (tmp_path / ".cache/pygestor/data",)
    # an argument or PYGESTOR_DATA_DIR names one data dir and replaces the list
    env = _from_config(tmp_path, "data_dirs: [~/pyg, /shared]\n", PYGESTOR_DATA_DIR="/x")
    assert env.data_dirs == (Path("/x"),)
    config = tmp_path / "config.yaml"
    for text, message in (
        (
            "data_dir: /a\ndata_dirs: [/b]\n",
            f"{config}: data_dir and data_dirs are both set; keep one (data_dirs: [personal, "
            "shared, ...] layers data directories, data_dir: names one)",
        ),
        (
            "data_dirs: []\n",
            f"{config}: data_dirs must name a folder (data_dirs: a list of folders, the personal "
            "one first, e.g. data_dirs: [~/pygestor-data, /shared/datasets]); got []",
        ),
        (
            "data_dirs: [/a, 3]\n",
            f"{config}: data_dirs must name a folder (data_dirs: a list of folders, the personal "
            "one first, e.g. data_dirs: [~/pygestor-data, /shared/datasets]); got ['/a', 3]",
        ),
        ("data_dirs: [/a, /a/]\n", f"{config}: data_dirs lists /a/ twice; list each folder once"),
        (
            "storage_options: [endpoint_url]\n",
            f"{config}: storage_options must be a mapping of option names to values (e.g. "
            "storage_options: {endpoint_url: http://127.0.0.1:8333, region: us-east-1}); got "
            "['endpoint_url']",
        ),
        (
            "data_dirs: [/a, 's3://bucket/x']\n",
            "data directory 's3://bucket/x': an object store can only be the personal (first) "
            "data directory, not a shared tier below it; list it first in data_dirs",
        ),
    ):
        with pytest.raises(PygestorError) as caught:
            _from_config(tmp_path, text)
        assert str(caught.value) == message


def test_an_arrow_copy_in_the_shared_tier_is_used(replica_hub: HubServer, tmp_path: Path) -> None:
    """The copy is found in the shared tier and read instead of the files: with the shared data
    file's bytes garbled (same size, so its record still counts it local) the load still returns
    the reference rows; without the copy the same load reads the garbled file and fails."""
    shared, personal = tmp_path / "shared", tmp_path / "personal"
    settings = Settings(
        data_dir=shared, user_catalog_dir=tmp_path / "uc", hf_endpoint=replica_hub.endpoint
    )
    builder = Catalog(settings)
    builder.download("mnist", "train")
    expected = _rows_hash(builder.load("mnist", "train"))
    builder.build_arrow_copy("mnist", "train")
    target = shared / "mnist" / "train" / MNIST_TRAIN
    target.write_bytes(b"x" * target.stat().st_size)

    layered = Catalog(replace(settings, data_dir=personal, shared_data_dirs=(shared,)))
    copy = shared / ".pygestor" / "datasets" / "mnist" / "arrow" / "train.arrow"
    assert [s["arrow_copy_bytes"] for s in layered.subset_records("mnist")] == [
        None,
        copy.stat().st_size,
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert _rows_hash(layered.load("mnist", "train")) == expected
    assert not personal.exists()
    builder.drop_arrow_copy("mnist", "train")
    with pytest.raises(PygestorError, match=f"cannot read {target}"):
        layered.load("mnist", "train")

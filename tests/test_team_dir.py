"""A data directory a whole team shares: two real unix users, and a cleanup script.

The two-user tests create a group and two users (names `pygt...`, each with a private primary
group and a member of the shared group; removed at teardown, also on failure) and run the real
CLI as each of them (`setpriv`), with umask 022 and 002, against the bundled Hub: one starts a
download and is killed, the other resumes its partial file, removes its partitions and syncs
again; every file and folder pygestor made must be group-shared (0o664 files, 0o2775 folders, the
shared group). The lock test runs two downloaders while a third process deletes lock files.
"""

from __future__ import annotations

import contextlib
import grp
import hashlib
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO_ROOT, write_manifest
from pygestor.testing.hub import Fault, HubServer

SIZE = 2 * 1024 * 1024
FILES = {f"blobs/f{i}.bin": hashlib.shake_256(b"team%d" % i).digest(SIZE) for i in range(3)}
MANIFEST = """
name: team
source: {huggingface: pygestor/team}
subsets:
  - files: "blobs/*.bin"
    name: all
"""


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int  # the private primary group
    home: Path


@dataclass(frozen=True)
class Team:
    base: Path  # readable by everybody: data dir, catalog, homes
    data: Path
    catalog: Path
    group: str
    gid: int
    a: User
    b: User
    python: list[str]  # an interpreter both users may run, with pygestor importable
    pythonpath: str


def _cannot_make_users() -> str | None:
    if os.geteuid() != 0:
        return "creating unix users needs root (CI runs as root)"
    for tool in ("useradd", "groupadd", "userdel", "groupdel", "setpriv"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    return None


def _run_root(*cmd: str) -> None:
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)


def _interpreter(user: User, pythonpath: str) -> list[str] | None:
    """This test's interpreter if the user may run it, else a system Python of the same version
    (the venv's packages come through PYTHONPATH): /root is often private."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}"]
    for exe in candidates:
        if not os.path.exists(exe):
            continue
        probe = subprocess.run(  # through sh, as the tests run it (the exec must be the user's)
            [
                "setpriv",
                f"--reuid={user.uid}",
                f"--regid={user.gid}",
                "--init-groups",
                "--",
                "sh",
                "-c",
                'exec "$@"',
                "sh",
                exe,
                "-c",
                "import pygestor.cli, pyarrow, huggingface_hub",
            ],
            env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": pythonpath, "HOME": "/"},
            capture_output=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0:
            return [exe]
    return None


@pytest.fixture(scope="module")
def team() -> Iterator[Team]:
    reason = _cannot_make_users()
    if reason is not None:
        pytest.skip(f"two-user tests: {reason}")
    tag = uuid.uuid4().hex[:6]
    group = f"pygt{tag}s"
    names = [f"pygt{tag}a", f"pygt{tag}b"]
    base = Path(tempfile.mkdtemp(prefix="pygt-", dir="/tmp"))
    made_users: list[str] = []
    made_group = False
    try:
        os.chmod(base, 0o755)
        _run_root("groupadd", group)
        made_group = True
        users = []
        for name in names:
            home = base / f"home-{name}"
            _run_root(
                "useradd", "--no-create-home", "--user-group", "--groups", group,
                "--home-dir", str(home), "--shell", "/usr/sbin/nologin", name,
            )  # fmt: skip
            made_users.append(name)
            entry = pwd.getpwnam(name)
            home.mkdir(mode=0o700)
            os.chown(home, entry.pw_uid, entry.pw_gid)
            users.append(User(name, entry.pw_uid, entry.pw_gid, home))
        gid = grp.getgrnam(group).gr_gid
        assert all(u.gid != gid for u in users)  # private primary groups
        data = base / "data"  # as an administrator sets up a team folder: group, setgid
        data.mkdir()
        os.chown(data, 0, gid)
        os.chmod(data, 0o2775)
        catalog = base / "catalog"
        write_manifest(catalog, "team", MANIFEST)
        os.chmod(catalog, 0o755)
        (catalog / "team.yaml").chmod(0o644)
        config = base / "config.yaml"
        config.write_text(f'data_dir: {data}\nfile_mode: "664"\n', encoding="utf-8")
        config.chmod(0o644)
        site = [p for p in sys.path if p.endswith("site-packages") and os.path.isdir(p)]
        pythonpath = os.pathsep.join([str(REPO_ROOT), *site])
        python = _interpreter(users[0], pythonpath)
        if python is None:
            pytest.skip(
                "two-user tests: no Python interpreter of this version that the test users may "
                f"run ({sys.executable} is below a private folder, and /usr/bin has none)"
            )
        yield Team(base, data, catalog, group, gid, users[0], users[1], python, pythonpath)
    finally:
        for name in made_users:
            with contextlib.suppress(subprocess.CalledProcessError):
                _run_root("userdel", name)
            with contextlib.suppress(subprocess.CalledProcessError):
                _run_root("groupdel", name)  # the private group, if userdel left it
        if made_group:
            with contextlib.suppress(subprocess.CalledProcessError):
                _run_root("groupdel", group)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def team_hub(team: Team, hub: HubServer) -> Iterator[HubServer]:
    hub.hub.create_repo("pygestor/team", FILES)
    yield hub
    shutil.rmtree(team.data)  # a fresh shared folder for the next test
    team.data.mkdir()
    os.chown(team.data, 0, team.gid)
    os.chmod(team.data, 0o2775)


def _command(team: Team, user: User, umask: int, args: list[str]) -> list[str]:
    return [
        "setpriv", f"--reuid={user.uid}", f"--regid={user.gid}", "--init-groups", "--",
        "sh", "-c", f'umask {umask:03o} && exec "$@"', "sh",
        *team.python, "-m", "pygestor", *args,
    ]  # fmt: skip


def _env(team: Team, user: User, hub: HubServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYGESTOR_", "HF_", "XDG_"))}
    return {
        **env,
        "HOME": str(user.home),
        "HF_HOME": str(user.home / "hf"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_CONFIG": str(team.base / "config.yaml"),
        "PYGESTOR_CATALOG": str(team.catalog),
        "PYTHONPATH": team.pythonpath,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_as(
    team: Team, user: User, umask: int, hub: HubServer, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the CLI as `user`; it must succeed without a traceback."""
    done = subprocess.run(
        _command(team, user, umask, list(args)),
        env=_env(team, user, hub),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, (user.name, args, done.stdout, done.stderr)
    return done


def assert_shared(team: Team) -> int:
    """Every file and folder below the data dir is group-shared; returns how many were checked."""
    checked = 0
    for folder, dirs, files in os.walk(team.data):
        for name in dirs + files:
            path = Path(folder) / name
            st = os.lstat(path)
            assert not stat.S_ISLNK(st.st_mode), path
            want = 0o2775 if stat.S_ISDIR(st.st_mode) else 0o664
            assert (str(path), oct(stat.S_IMODE(st.st_mode))) == (str(path), oct(want))
            assert (str(path), st.st_gid) == (str(path), team.gid)
            checked += 1
    return checked


def owners(team: Team) -> set[str]:
    found = set()
    for folder, dirs, files in os.walk(team.data):
        for name in dirs + files:
            found.add(pwd.getpwuid(os.lstat(Path(folder) / name).st_uid).pw_name)
    return found


@pytest.mark.parametrize(
    "umask_a, umask_b, root_mode",
    [
        (0o022, 0o002, 0o2775),  # the documented set-up: the shared folder is setgid
        (0o002, 0o022, 0o0775),  # forgotten setgid: pygestor's folders take the group anyway
    ],
)
def test_two_users_share_one_data_dir(
    team: Team, team_hub: HubServer, umask_a: int, umask_b: int, root_mode: int
) -> None:
    hub, a, b = team_hub, team.a, team.b
    os.chmod(team.data, root_mode)
    part = team.data / "team/all/.f1.bin.part"
    run_as(team, a, umask_a, hub, "sync", "team")
    run_as(team, a, umask_a, hub, "download", "team", "-p", "f0.bin")

    # A is killed in the middle of f1.bin: its .part stays behind
    hub.faults.add(Fault(origin="lfs", method="GET", chunk_delay=0.02, times=None))
    proc = subprocess.Popen(
        _command(team, a, umask_a, ["download", "team", "-p", "f1.bin"]),
        env=_env(team, a, hub),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not part.exists() or part.stat().st_size < 256 * 1024):
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    kept = part.stat().st_size
    assert 256 * 1024 <= kept < SIZE and pwd.getpwuid(part.stat().st_uid).pw_name == a.name
    hub.faults.clear()
    hub.requests.clear()

    # B resumes A's partial file, fetches the rest, removes A's partition, syncs a new commit
    report = json.loads(run_as(team, b, umask_b, hub, "download", "team", "--json").stdout)
    assert sorted(report["fetched"]) == ["all/f1.bin", "all/f2.bin"]
    assert report["bytes_fetched"] == 2 * SIZE - kept  # A's bytes were not fetched again
    ranges = sorted(
        r.range or "" for r in hub.requests.filter(method="GET", origin="lfs") if r.status == 206
    )
    assert ranges == [f"bytes={kept}-"]
    for i in range(3):
        assert (team.data / f"team/all/f{i}.bin").read_bytes() == FILES[f"blobs/f{i}.bin"]
    run_as(team, b, umask_b, hub, "remove", "team", "-p", "f0.bin", "--yes")
    assert not (team.data / "team/all/f0.bin").exists()
    hub.hub.commit("pygestor/team", add={"blobs/f3.bin": b"three" * 1000})
    run_as(team, b, umask_b, hub, "sync", "team")
    run_as(team, a, umask_a, hub, "download", "team")  # A again, in folders B wrote to
    assert (team.data / "team/all/f3.bin").read_bytes() == b"three" * 1000
    assert owners(team) == {a.name, b.name}
    assert assert_shared(team) >= 20  # folders, data, records, listings, pointer, lock files

    # A removes everything, B's partitions too; then B syncs again
    run_as(team, a, umask_a, hub, "remove", "team", "--all", "--yes")
    assert not (team.data / "team").exists()
    run_as(team, b, umask_b, hub, "sync", "team")
    listed = json.loads(run_as(team, b, umask_b, hub, "list", "team", "--json").stdout)
    assert [(s["subset"], s["partitions"], s["partitions_local"]) for s in listed] == [
        ("all", 4, 0)
    ]
    assert assert_shared(team) >= 10


def test_another_users_partial_file_it_may_not_write_is_copied(
    team: Team, team_hub: HubServer
) -> None:
    """A `.part` left by an older version or without the shared mode (0o644): B cannot append to
    it nor chmod it, so it continues from a copy of its own, never fetching A's bytes again."""
    hub, a, b = team_hub, team.a, team.b
    run_as(team, a, 0o022, hub, "sync", "team")
    part = team.data / "team/all/.f0.bin.part"
    for folder in (team.data / "team", team.data / "team/all"):
        folder.mkdir()
        os.chown(folder, a.uid, team.gid)
        os.chmod(folder, 0o2775)
    part.write_bytes(FILES["blobs/f0.bin"][:300_000])
    os.chown(part, a.uid, a.gid)
    part.chmod(0o644)
    hub.requests.clear()
    report = json.loads(
        run_as(team, b, 0o022, hub, "download", "team", "-p", "f0.bin", "--json").stdout
    )
    assert report["bytes_fetched"] == SIZE - 300_000
    final = team.data / "team/all/f0.bin"
    assert final.read_bytes() == FILES["blobs/f0.bin"]
    assert pwd.getpwuid(final.stat().st_uid).pw_name == b.name
    assert stat.S_IMODE(final.stat().st_mode) == 0o664


# ---- locks that survive a cleanup script --------------------------------------------------
def test_deleted_lock_files_do_not_fetch_twice_or_crash(tmp_path: Path, hub: HubServer) -> None:
    n = 6
    files = {f"blobs/g{i}.bin": hashlib.shake_256(b"g%d" % i).digest(512 * 1024) for i in range(n)}
    hub.hub.create_repo("pygestor/team", files)
    write_manifest(tmp_path / "user-catalog", "team", MANIFEST)
    env = {
        **os.environ,
        "HF_ENDPOINT": hub.endpoint,
        "PYGESTOR_DATA_DIR": str(tmp_path / "data"),
        "PYGESTOR_CATALOG": str(tmp_path / "user-catalog"),
    }
    cli = [sys.executable, "-m", "pygestor"]
    subprocess.run([*cli, "sync", "team"], env=env, check=True, capture_output=True, timeout=120)
    hub.faults.add(Fault(origin="lfs", method="GET", chunk_delay=0.02, times=None))
    locks = tmp_path / "data/.pygestor/datasets/team/locks"
    stop = tmp_path / "stop-cleaning"
    cleaner = subprocess.Popen(  # deletes every lock file it sees, as fast as it can
        [
            sys.executable, "-c",
            "import os, sys, time\n"
            "deleted = 0\n"
            "while not os.path.exists(sys.argv[2]):\n"
            "    for d, _, fs in os.walk(sys.argv[1]):\n"
            "        for f in fs:\n"
            "            try: os.unlink(os.path.join(d, f)); deleted += 1\n"
            "            except OSError: pass\n"
            "    time.sleep(0.002)\n"
            "print(deleted)\n",
            str(locks), str(stop),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        procs = [
            subprocess.Popen(
                [*cli, "download", "team", "--workers", "3", "--json"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        stop.touch()
        deleted = int(cleaner.communicate(timeout=60)[0])
    assert deleted >= n  # the lock files really were deleted under the downloaders
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    assert all("Traceback" not in err for _, err in outs)
    reports = [json.loads(out) for out, _ in outs]
    assert sorted(reports[0]["fetched"] + reports[1]["fetched"]) == [
        f"all/g{i}.bin" for i in range(n)
    ]  # each fetched by one process, skipped by the other
    assert sorted(reports[0]["skipped"] + reports[1]["skipped"]) == [
        f"all/g{i}.bin" for i in range(n)
    ]
    gets = sorted(
        r.path.rsplit("/", 1)[-1] for r in hub.requests.filter(method="GET", origin="lfs")
    )
    assert gets == [f"g{i}.bin" for i in range(n)]  # each file fetched exactly once
    for i in range(n):
        got = (tmp_path / f"data/team/all/g{i}.bin").read_bytes()
        assert got == files[f"blobs/g{i}.bin"]
    assert sorted(p.name for p in (tmp_path / "data/team/all").iterdir()) == sorted(
        f"g{i}.bin" for i in range(n)
    )  # no partial file left behind


def test_remove_leaves_a_partial_file_being_written_alone_without_lock_files(
    tmp_path: Path, hub: HubServer
) -> None:
    """A download whose lock file a cleanup script deleted still holds its `.part` claim:
    `remove` reports that partition busy and deletes nothing of it."""
    from conftest import make_settings
    from pygestor.catalog import Catalog

    hub.hub.create_repo("pygestor/team", {"blobs/g0.bin": b"x" * 1000})
    write_manifest(tmp_path / "user-catalog", "team", MANIFEST)
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    catalog.sync("team")
    storage = catalog.store.storage
    with storage.claim("team/all/.g0.bin.part"), storage.append("team/all/.g0.bin.part") as fh:
        fh.write(b"in flight")
        assert not list((tmp_path / "data/.pygestor/datasets/team").glob("locks/**/*.lock"))
        report = catalog.remove("team", "all")
        assert (report.busy, report.files) == (("all/g0.bin",), ())
    assert (tmp_path / "data/team/all/.g0.bin.part").read_bytes() == b"in flight"
    assert [f.kind for f in catalog.remove("team", "all").files] == ["partial"]

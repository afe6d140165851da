"""Test isolation and the offline Hub.

Nothing a test does leaks into the machine or into another test: HOME, HF_HOME, the XDG folders
and the data dir point into temporary folders, and every pygestor / Hugging Face variable is
cleared. `huggingface_hub` reads its environment once, at import, so the process-wide settings it
needs (no telemetry, no Xet, a throwaway HF_HOME) are set here, before anything imports it; the
Hub endpoint itself is passed explicitly (`Settings.hf_endpoint`, or `HF_ENDPOINT` for
subprocesses), since each test server has its own port.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="pygestor-tests-"))
os.environ.update(
    HOME=str(_SESSION_HOME / "home"),
    HF_HOME=str(_SESSION_HOME / "hf"),
    HF_HUB_DISABLE_TELEMETRY="1",
    HF_HUB_DISABLE_XET="1",
    HF_HUB_DISABLE_PROGRESS_BARS="1",
)
for _var in (
    "HF_ENDPOINT",
    "HF_TOKEN",
    "HF_HUB_OFFLINE",
    "PYGESTOR_DATA_DIR",
    "PYGESTOR_CATALOG",
    "PYGESTOR_CONFIG",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
):
    os.environ.pop(_var, None)

from pygestor.catalog import Catalog
from pygestor.settings import Settings
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer, LocalHub
from pygestor.testing.s3 import MotoS3, SeaweedS3

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point HOME, HF_HOME, XDG folders and the data dir into this test's tmp_path."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("PYGESTOR_DATA_DIR", str(tmp_path / "data"))
    for var in (
        "HF_ENDPOINT",
        "HF_TOKEN",
        "PYGESTOR_CATALOG",
        "PYGESTOR_CONFIG",
        "XDG_CONFIG_HOME",
        "XDG_CACHE_HOME",
    ):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def replica_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A read-only offline Hub serving the replicas of the built-in datasets (tests must not change
    it)."""
    hub = LocalHub(tmp_path_factory.mktemp("replica-hub"))
    for build in (replicas.wikipedia, replicas.wit_base, replicas.mnist, replicas.databricks_dolly):
        replicas.install(hub, build())
    with HubServer(hub) as server:
        yield server


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubServer]:
    """A fresh, empty offline Hub this test may change (commits, faults, gating)."""
    with HubServer(LocalHub(tmp_path / "hub")) as server:
        yield server


def make_settings(tmp_path: Path, endpoint: str | None = None, **changes: object) -> Settings:
    base = Settings(
        data_dir=tmp_path / "data",
        user_catalog_dir=tmp_path / "user-catalog",
        hf_endpoint=endpoint,
    )
    return Settings(**{**base.__dict__, **changes})  # type: ignore[arg-type]


@pytest.fixture
def catalog(tmp_path: Path, replica_hub: HubServer) -> Catalog:
    """The built-in catalog, a fresh data dir, and the replica Hub as its endpoint."""
    return Catalog(make_settings(tmp_path, replica_hub.endpoint))


def write_manifest(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def big_repo(tmp_path: Path, hub: HubServer, n: int, size: int) -> Catalog:
    """A repo of `n` random binary files of `size` bytes (LFS), and a user manifest `big`
    (subset `all`) for it: a catalog over the test hub."""
    files = {
        f"blobs/file-{i}.bin": hashlib.shake_256(f"{i}".encode()).digest(size) for i in range(n)
    }
    hub.hub.create_repo("pygestor/big", files)
    write_manifest(
        tmp_path / "user-catalog",
        "big",
        """
name: big
source: {huggingface: pygestor/big}
subsets:
  - files: "blobs/*.bin"
    name: all
""",
    )
    return Catalog(make_settings(tmp_path, hub.endpoint))


def write_corpus_manifest(tmp_path: Path, root: Path) -> Path:
    """A user manifest `corpus` reading the JSON-lines folders of `root` in place, one subset
    each."""
    return write_manifest(
        tmp_path / "user-catalog",
        "corpus",
        f"""
name: corpus
source: {{local: {root}}}
subsets:
  - files: "{{subset}}/*.jsonl"
format: jsonl
""",
    )


def run_cli(
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    script: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run `pygestor ARGS` (the installed script) or `python cli.py ARGS` in a real subprocess."""
    exe = Path(sys.executable).with_name("pygestor")
    cmd = [str(exe), *args] if script else [sys.executable, str(REPO_ROOT / "cli.py"), *args]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=timeout,
        check=False,
    )


# ---- a full disk: a real tmpfs, mounted by the test (the suite runs as root in CI) ---------------
SMALL_DISK_BYTES = 2 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs at tmp_path/disk, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the suite runs as root in CI)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_BYTES}", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(disk)], check=False)


def fill_disk(disk: Path, name: str = "filler") -> Path:
    """Write to `disk` until it is full; returns the filler file."""
    filler = disk / name
    with filler.open("ab", buffering=0) as fh:
        for size in (64 * 1024, 4096, 512, 1):
            try:
                while True:
                    fh.write(b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    return filler


# ---- S3 servers on loopback (pygestor.testing.s3): one of each per session ---------------------
# No AWS setting of the machine reaches a test (~/.aws is below the session's HOME already); a
# test that wants some sets them (SeaweedS3.env()), and nothing asks an instance metadata service.
for _var in (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
):
    os.environ.pop(_var, None)
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    """SeaweedFS (`weed mini`) serving S3 on a free loopback port, for the whole session."""
    with SeaweedS3(tmp_path_factory.mktemp("seaweed")) as server:
        yield server


@pytest.fixture(scope="session")
def moto_s3() -> Iterator[MotoS3]:
    """moto's in-memory S3 on a free loopback port, for the whole session."""
    with MotoS3() as server:
        yield server


def s3_prefix(server: SeaweedS3 | MotoS3) -> str:
    """A fresh, empty `s3://bucket/prefix` URL on `server` (one per test)."""
    import uuid

    return f"s3://{server.bucket}/t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def seaweed_url(seaweed: SeaweedS3) -> str:
    """An empty prefix of its own on the session's SeaweedFS."""
    return s3_prefix(seaweed)


@pytest.fixture
def moto_url(moto_s3: MotoS3) -> str:
    """An empty prefix of its own on the session's moto server."""
    return s3_prefix(moto_s3)

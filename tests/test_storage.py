"""The data directory's storage seam: the shared conformance suite, run on every backend."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pygestor.errors import LockTimeout
from pygestor.storage.local import LocalStorage
from pygestor.testing.storage_suite import FolderSuite, LinkSuite, StorageSuite


class TestLocalStorage(StorageSuite, LinkSuite, FolderSuite):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalStorage:
        return LocalStorage(tmp_path / "data")

    def link(self, storage: Any, key: str, target: str) -> None:
        path = storage.local_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)


class TestSharedLocalStorage(TestLocalStorage):
    """The same contract with a group-shared `file_mode`, whatever the process umask."""

    @pytest.fixture
    def storage(self, tmp_path: Path) -> Any:
        old = os.umask(0o077)
        yield LocalStorage(tmp_path / "data", file_mode=0o664)
        os.umask(old)

    def test_modes_of_what_it_creates(self, storage: LocalStorage) -> None:
        storage.write("a/b/c.json", b"{}")
        with storage.writer("a/w.bin") as fh:
            fh.write(b"x")
        with storage.append("a/p/.x.part", new=True) as fh:
            fh.write(b"x")
        storage.replace("a/p/.x.part", "a/p/x")
        modes = {
            key: stat.S_IMODE(os.stat(storage.local_path(key)).st_mode)
            for key in ("a", "a/b", "a/b/c.json", "a/w.bin", "a/p", "a/p/x")
        }
        assert modes == {
            "a": 0o2775,  # setgid: what is made below keeps the shared group
            "a/b": 0o2775,
            "a/b/c.json": 0o664,
            "a/w.bin": 0o664,
            "a/p": 0o2775,
            "a/p/x": 0o664,
        }


def test_free_bytes_of_a_root_not_made_yet(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "not" / "yet")
    assert storage.free_bytes() == os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert storage.url == str(tmp_path / "not" / "yet") and not (tmp_path / "not").exists()


def test_an_unsupported_storage_url_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`PYGESTOR_DATA_DIR=s3://...` once made a folder named `s3:` and "succeeded"; a URL with
    no backend (`gs://`) is one line, and so is an `s3://` URL without a bucket."""
    from click.testing import CliRunner

    from pygestor.cli import cli
    from pygestor.errors import PygestorError
    from pygestor.settings import Settings

    def settings(url: str) -> Settings:
        return Settings.from_env(env={"HOME": str(tmp_path), "PYGESTOR_DATA_DIR": url})

    with pytest.raises(
        PygestorError, match=r"data directory 'gs://bucket/x': gs:// storage is not supported yet"
    ):
        settings("gs://bucket/x")
    with pytest.raises(PygestorError, match=r"'s3:///x': name the bucket \(s3://bucket or"):
        settings("s3:///x")
    chosen = settings("s3://bucket/x/")
    assert (chosen.data_url, chosen.data_dir) == (
        "s3://bucket/x",
        tmp_path / ".cache/pygestor/data",
    )
    assert (
        Settings.from_env(data_dir=f"file://{tmp_path}/d", env={"HOME": str(tmp_path)}).data_dir
        == tmp_path / "d"
    )
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("PYGESTOR_DATA_DIR", "gs://bucket/x")
    result = CliRunner().invoke(cli, ["list"])
    assert (result.exit_code, result.output) == (
        1,
        "Error: data directory 'gs://bucket/x': gs:// storage is not supported yet; use "
        "s3://bucket/prefix, a local or NFS folder (PYGESTOR_DATA_DIR, --data-dir or data_dir "
        "in the config file)\n",
    )
    assert list(work.iterdir()) == []  # no folder named `gs:`


def test_a_lock_file_replaced_between_open_and_flock_is_not_held_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cleanup script deletes the lock file after this process opened it, and another process
    makes a new one and locks it: the flock on the deleted file is not the lock (the locked file
    must still be the one at the path), so this process waits for the other one."""
    import fcntl

    storage = LocalStorage(tmp_path / "data")
    with storage.lock("locks/x.lock", timeout=0):
        pass  # the lock file is there, unlocked
    path = storage.local_path("locks/x.lock")
    real_flock = fcntl.flock
    other: list[int] = []

    def flock(fd: int, op: int) -> None:
        if not other:  # between this process's open and its flock: the file is swapped
            path.unlink()
            other.append(os.open(path, os.O_RDWR | os.O_CREAT, 0o666))
            real_flock(other[0], fcntl.LOCK_EX | fcntl.LOCK_NB)  # and locked by another
        real_flock(fd, op)

    monkeypatch.setattr(fcntl, "flock", flock)
    try:
        with pytest.raises(LockTimeout), storage.lock("locks/x.lock", timeout=0):
            pass
    finally:
        os.close(other[0])

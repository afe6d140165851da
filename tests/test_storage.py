"""The data directory's storage seam: the shared conformance suite, run on every backend."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from pygestor.storage.local import LocalStorage
from pygestor.testing.storage_suite import StorageSuite


class TestLocalStorage(StorageSuite):
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
        modes = {key: stat.S_IMODE(os.stat(storage.local_path(key)).st_mode)
                 for key in ("a", "a/b", "a/b/c.json", "a/w.bin", "a/p", "a/p/x")}
        assert modes == {"a": 0o775, "a/b": 0o775, "a/b/c.json": 0o664, "a/w.bin": 0o664,
                         "a/p": 0o775, "a/p/x": 0o664}


def test_free_bytes_of_a_root_not_made_yet(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "not" / "yet")
    assert storage.free_bytes() == os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert storage.url == str(tmp_path / "not" / "yet") and not (tmp_path / "not").exists()

"""The conformance suite every data-directory backend (`pygestor.storage.base.Storage`) passes.

Subclass it in a test module and provide a `storage` fixture returning an empty storage, as
fsspec's `fsspec/tests/abstract/` suites are reused by each filesystem; add the parts that fit
the backend, so that no test is ever skipped for want of a feature:

- `LinkSuite` for a backend with symbolic links (it needs a `link` method planting one);
- `FolderSuite` where folders are things of their own (an empty one stays until removed), or
  `PrefixFolderSuite` where they are key prefixes (object stores: a folder goes with its last
  key).

    class TestLocal(StorageSuite, LinkSuite, FolderSuite):
        @pytest.fixture
        def storage(self, tmp_path):
            return LocalStorage(tmp_path / "data")

        def link(self, storage, key, target): ...
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ..errors import LockTimeout, UnsafePath


class StorageSuite:
    """Behaviour of the contract every backend keeps; see `pygestor.storage.base` for what
    each verb promises."""

    # ---- keys ------------------------------------------------------------------------------
    @pytest.mark.parametrize("key", ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b"])
    def test_unclean_keys_are_refused(self, storage: Any, key: str) -> None:
        for call in (
            lambda: storage.write(key, b"x"),
            lambda: storage.read(key),
            lambda: storage.remove(key),
            lambda: storage.info(key),
        ):
            with pytest.raises(ValueError, match="not a storage key"):
                call()

    # ---- atomic writes ---------------------------------------------------------------------
    def test_write_creates_parents_and_replaces(self, storage: Any) -> None:
        assert storage.read("a/b/c.json") is None and storage.info("a/b/c.json") is None
        storage.write("a/b/c.json", b"one")
        storage.write("a/b/c.json", b"two!", durable=False)
        assert storage.read("a/b/c.json") == b"two!"
        info = storage.info("a/b/c.json")
        assert (info.key, info.kind, info.size) == ("a/b/c.json", "file", 4)
        assert [e.key for e in storage.list("a/b")] == ["a/b/c.json"]  # no temporary file left

    def test_create_is_create_only(self, storage: Any) -> None:
        assert storage.create("x/only.json", b"first") is True
        assert storage.create("x/only.json", b"second") is False
        assert storage.read("x/only.json") == b"first"
        assert [e.key for e in storage.list("x")] == ["x/only.json"]

    def test_create_all_is_create_only(self, storage: Any) -> None:
        assert storage.create("y/b.json", b"there") is True
        files = [("y/a.json", b"a"), ("y/b.json", b"new"), ("z/deep/c.json", b"c")]
        assert tuple(storage.create_all(files)) == (True, False, True)
        assert storage.read("y/a.json") == b"a" and storage.read("z/deep/c.json") == b"c"
        assert storage.read("y/b.json") == b"there"  # never overwritten
        assert [e.key for e in storage.list("y")] == ["y/a.json", "y/b.json"]  # no temp left
        assert [e.key for e in storage.list("z/deep")] == ["z/deep/c.json"]
        assert tuple(storage.create_all([])) == ()

    def test_create_race_has_one_winner(self, storage: Any) -> None:
        wins: list[bytes] = []
        start = threading.Barrier(8)

        def race(i: int) -> None:
            start.wait()
            if storage.create("race.json", b"%d" % i):
                wins.append(b"%d" % i)

        threads = [threading.Thread(target=race, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(wins) == 1 and storage.read("race.json") == wins[0]

    def test_write_if_swaps_only_the_version_read(self, storage: Any) -> None:
        assert storage.read_tagged("p/ptr.json") is None
        assert storage.write_if("p/ptr.json", b"one", tag="no-such-version") is False
        assert storage.write_if("p/ptr.json", b"one", tag=None) is True  # create-only
        assert storage.write_if("p/ptr.json", b"again", tag=None) is False
        data, tag = storage.read_tagged("p/ptr.json")
        assert data == b"one"
        assert storage.write_if("p/ptr.json", b"two", tag=tag) is True
        assert storage.write_if("p/ptr.json", b"lost", tag=tag) is False  # a stale version
        data, newer = storage.read_tagged("p/ptr.json")
        assert (data, newer != tag) == (b"two", True)
        storage.write("p/ptr.json", b"2")  # same size, written another way: another version
        assert storage.write_if("p/ptr.json", b"lost", tag=newer) is False
        assert storage.read("p/ptr.json") == b"2"
        storage.remove("p/ptr.json")
        assert storage.write_if("p/ptr.json", b"lost", tag=newer) is False  # gone meanwhile
        assert storage.read("p/ptr.json") is None

    def test_write_if_loses_no_update_in_a_race(self, storage: Any) -> None:
        storage.write("p/counter", b"0")

        def bump(times: int) -> None:
            for _ in range(times):
                while True:
                    data, tag = storage.read_tagged("p/counter")
                    if storage.write_if("p/counter", str(int(data) + 1).encode(), tag=tag):
                        break

        threads = [threading.Thread(target=bump, args=(10,)) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert storage.read("p/counter") == b"60"

    def test_writer_is_visible_only_on_success(self, storage: Any) -> None:
        storage.write("w/file.bin", b"old")
        with storage.writer("w/file.bin") as fh:
            fh.write(b"new ")
            fh.write(b"bytes")
            assert storage.read("w/file.bin") == b"old"  # not yet
        assert storage.read("w/file.bin") == b"new bytes"
        with pytest.raises(RuntimeError), storage.writer("w/file.bin") as fh:
            fh.write(b"half")
            raise RuntimeError("killed mid-write")
        assert storage.read("w/file.bin") == b"new bytes"
        assert [e.key for e in storage.list("w")] == ["w/file.bin"]

    def test_append_then_replace(self, storage: Any) -> None:
        with storage.append("d/.f.part", new=True) as fh:
            fh.write(b"abc")
        with storage.append("d/.f.part") as fh:
            fh.write(b"def")
        assert storage.info("d/.f.part").size == 6
        with storage.append("d/.f.part", new=True) as fh:  # start over
            fh.write(b"0123456789")
        storage.replace("d/.f.part", "d/sub/f")
        assert storage.read("d/sub/f") == b"0123456789" and storage.info("d/.f.part") is None

    def test_append_from_appends_another_files_bytes(self, storage: Any) -> None:
        with storage.append("d/.f.part", new=True) as fh:
            fh.write(b"abc")
        with storage.append("d/.f.part-3", new=True) as fh:
            fh.write(b"XYdefgh")
        assert storage.append_from("d/.f.part", "d/.f.part-3", offset=2) == 5
        assert storage.append_from("d/.f.part", "d/.f.part-3", offset=7) == 0
        assert storage.read("d/.f.part") == b"abcdefgh"
        assert storage.read("d/.f.part-3") == b"XYdefgh"  # the source is left as it was

    # ---- reading ---------------------------------------------------------------------------
    def test_open_reads_ranges(self, storage: Any) -> None:
        storage.write("r.bin", bytes(range(256)))
        with storage.open("r.bin") as fh:
            fh.seek(250)
            assert fh.read() == bytes(range(250, 256))
        with pytest.raises(FileNotFoundError):
            storage.open("missing.bin")
        with pytest.raises(FileNotFoundError):
            storage.open_arrow("missing.bin")
        assert storage.open_arrow("r.bin").read_at(3, 10) == bytes([10, 11, 12])

    def test_arrow_filesystem_addresses_keys(self, storage: Any) -> None:
        storage.write("p/q.txt", b"hello")
        fs, prefix = storage.arrow_filesystem()
        with fs.open_input_stream(f"{prefix}/p/q.txt") as fh:
            assert fh.read() == b"hello"

    def test_list_and_walk(self, storage: Any) -> None:
        for key in ("t/a.json", "t/b/c.json", "t/b/d/e.json", "other.json"):
            storage.write(key, b"{}")
        assert [(e.key, e.kind) for e in storage.list("t")] == [
            ("t/a.json", "file"),
            ("t/b", "dir"),
        ]
        assert sorted(storage.walk("t")) == ["t/a.json", "t/b/c.json", "t/b/d/e.json"]
        assert list(storage.walk("nothing")) == [] and storage.list("nothing") == []
        assert [e.key for e in storage.list("")] == ["other.json", "t"]

    def test_a_partial_file_that_vanishes_fails_the_next_write(self, storage: Any) -> None:
        with storage.append("d/.f.part", new=True) as fh:
            fh.write(b"abc")
            assert storage.remove("d/.f.part")
            with pytest.raises(FileNotFoundError):
                fh.write(b"def")
                fh.flush()  # (an object store finds out when it sends the bytes)
        with storage.append("d/.g.part", new=True) as fh:
            fh.write(b"abc")
            storage.write("d/.g.part", b"another file now")  # replaced by another process
            with pytest.raises(FileNotFoundError):
                fh.write(b"def")
                fh.flush()
        assert storage.read("d/.g.part") == b"another file now"

    def test_a_claim_has_one_holder_even_when_lock_files_go(self, storage: Any) -> None:
        with storage.lock("locks/x.lock", timeout=0), storage.claim("d/.f.part"):
            assert storage.info("d/.f.part").size == 0  # made, empty
            storage.remove("locks/x.lock")  # a cleanup script: the lock is no longer exclusive
            with (
                storage.lock("locks/x.lock", timeout=0),  # a new lock file: taken at once
                pytest.raises(BlockingIOError),  # but the partial file still has its one writer
                storage.claim("d/.f.part"),
            ):
                pass
            with storage.append("d/.f.part") as fh:
                fh.write(b"abc")
        assert storage.read("d/.f.part") == b"abc"  # kept: it has bytes
        with storage.claim("d/.g.part"):
            pass
        assert storage.info("d/.g.part") is None  # the empty file a claim made goes with it
        with storage.claim("d/.f.part"):  # free again
            pass
        assert storage.read("d/.f.part") == b"abc"

    # ---- removal ---------------------------------------------------------------------------
    def test_remove(self, storage: Any) -> None:
        storage.write("g/h/i.bin", b"x")
        assert storage.remove_dir("g/h") is False  # not empty
        assert storage.remove("g/h/i.bin") is True and storage.remove("g/h/i.bin") is False
        assert storage.read("g/h/i.bin") is None and list(storage.walk("g")) == []
        with storage.append("g/.p.part", new=True) as fh:
            fh.write(b"partial")
        assert storage.remove("g/.p.part") is True and storage.info("g/.p.part") is None
        assert storage.remove("g/.p.part") is False

    # ---- locks -----------------------------------------------------------------------------
    def test_lock_is_exclusive_and_times_out(self, storage: Any) -> None:
        held = threading.Event()
        release = threading.Event()

        def holder() -> None:
            with storage.lock("locks/one.lock", timeout=5):
                held.set()
                release.wait(10)

        thread = threading.Thread(target=holder)
        thread.start()
        assert held.wait(5)
        started = time.monotonic()
        with (
            pytest.raises(LockTimeout, match=r"one\.lock for over 0 s"),
            storage.lock("locks/one.lock", timeout=0),
        ):
            pass
        with pytest.raises(LockTimeout), storage.lock("locks/one.lock", timeout=0.3):
            pass
        assert time.monotonic() - started >= 0.25
        with storage.lock("locks/other.lock", timeout=0):  # another name is free
            pass
        release.set()
        thread.join()
        with storage.lock("locks/one.lock", timeout=1):  # free again
            pass


class LinkSuite:
    """Symbolic links planted in a shared data directory: entries of their own, never followed,
    never written through (backends that have links)."""

    def link(self, storage: Any, key: str, target: str) -> None:
        """Plant a symbolic link at `key` leading to the absolute path `target`."""
        raise NotImplementedError

    def test_links_are_entries_never_followed(self, storage: Any, tmp_path: Any) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret").write_bytes(b"not yours")
        storage.write("ds/sub/own.bin", b"mine")
        self.link(storage, "ds/sub/escape", str(outside))
        self.link(storage, "ds/sub/file-link", str(outside / "secret"))
        assert sorted(storage.walk("ds")) == ["ds/sub/escape", "ds/sub/file-link", "ds/sub/own.bin"]
        assert storage.info("ds/sub/escape").kind == "link"
        assert storage.inside("ds/sub/own.bin", "ds") and not storage.inside("ds/sub/escape", "ds")
        assert not storage.inside("ds/sub/file-link", "ds")
        assert (
            storage.remove("ds/sub/file-link") and (outside / "secret").read_bytes() == b"not yours"
        )
        assert not storage.remove_dir("ds/sub/escape") and (outside / "secret").exists()

    # ---- links planted in a shared data directory: never written through -------------------
    def test_writes_never_follow_a_link_out(self, storage: Any, tmp_path: Any) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        secret = outside / "secret"
        secret.write_bytes(b"not yours")
        storage.write("ds/own/keep.bin", b"mine")
        self.link(storage, "ds/sub", str(outside))  # a folder link
        self.link(storage, "ds/own/.f.part", str(secret))  # a file link
        self.link(storage, "ds/own/final", str(secret))
        refused = [
            lambda: storage.write("ds/sub/new.json", b"x"),
            lambda: storage.create("ds/sub/new.json", b"x"),
            lambda: storage.create_all([("ds/own/new.json", b"x"), ("ds/sub/new.json", b"x")]),
            lambda: storage.writer("ds/sub/new.json").__enter__(),
            lambda: storage.append("ds/sub/.g.part").__enter__(),
            lambda: storage.append("ds/sub/deeper/.g.part").__enter__(),
            lambda: storage.append("ds/own/.f.part").__enter__(),
            lambda: storage.append("ds/own/.f.part", new=True).__enter__(),
            lambda: storage.replace("ds/own/.f.part", "ds/own/g"),
            lambda: storage.replace("ds/own/keep.bin", "ds/own/final"),
            lambda: storage.replace("ds/own/keep.bin", "ds/sub/secret"),
            lambda: storage.remove("ds/sub/secret"),
            lambda: storage.lock("ds/sub/x.lock", timeout=0).__enter__(),
            lambda: storage.lock("ds/own/final", timeout=0).__enter__(),
            lambda: storage.claim("ds/own/.f.part").__enter__(),
            lambda: storage.claim("ds/sub/.h.part").__enter__(),
        ]
        for i, call in enumerate(refused):
            with pytest.raises(UnsafePath, match="refusing to write or delete "):
                call()
            assert sorted(p.name for p in outside.iterdir()) == ["secret"], i
            assert secret.read_bytes() == b"not yours", i
        assert storage.read("ds/own/keep.bin") == b"mine"
        assert storage.unsafe("ds/sub/secret") is not None and storage.unsafe("ds/own/x") is None
        assert storage.info("ds/own/final").kind == "link"  # replaced by nothing


class FolderSuite:
    """Folders that are things of their own: an empty one stays until `remove_dir`."""

    def test_remove_dir_of_an_empty_folder(self, storage: Any) -> None:
        storage.write("g/h/i.bin", b"x")
        assert storage.remove_dir("g/h") is False  # not empty
        assert storage.remove("g/h/i.bin") is True
        assert storage.info("g/h").kind == "dir" and storage.list("g")[0].key == "g/h"
        assert storage.remove_dir("g/h") is True and storage.remove_dir("g/h") is False
        assert storage.info("g/h") is None


class PrefixFolderSuite:
    """Folders that are key prefixes (object stores): one exists while a key is below it and
    goes with its last key, so `remove_dir` finds nothing left to remove."""

    def test_a_folder_goes_with_its_last_key(self, storage: Any) -> None:
        storage.write("g/h/i.bin", b"x")
        storage.write("g/h/j/k.bin", b"x")
        assert storage.info("g/h").kind == "dir" and storage.remove_dir("g/h") is False
        assert storage.remove("g/h/i.bin") is True and storage.info("g/h").kind == "dir"
        assert storage.remove("g/h/j/k.bin") is True
        assert storage.info("g/h") is None and storage.info("g") is None
        assert storage.list("g") == [] and storage.remove_dir("g/h") is False
        with storage.append("g/h/.p.part", new=True):
            pass  # an empty partial file is a file: its folder is there
        assert [(e.key, e.size) for e in storage.list("g/h")] == [("g/h/.p.part", 0)]
        assert storage.info("g/h").kind == "dir"

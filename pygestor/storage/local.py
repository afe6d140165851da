"""`LocalStorage`: the data directory on a local disk or an NFS mount.

Atomic writes are a unique temporary file beside the target (`.tmp-<uuid>-<name>`), fsync, then
`os.replace`; create-only is `os.link` of such a file (atomic on local disks and NFSv3/v4, where
`O_EXCL` is not always); locks are `filelock`'s fcntl locks (local disks and NFSv4). With a
`file_mode` (shared data dirs, e.g. 0o664) every file written gets that mode and every folder
created the matching mode with the search bit wherever read is granted (0o775).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ..errors import LockTimeout
from .base import TEMP_PREFIX, FileInfo, Kind


class LocalStorage:
    """A folder on this machine (local disk, NFS, SMB) holding a data directory."""

    def __init__(self, root: str | os.PathLike[str], *, file_mode: int | None = None) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.file_mode = file_mode
        self.dir_mode = None if file_mode is None else file_mode | ((file_mode & 0o444) >> 2)

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    @property
    def url(self) -> str:
        return self.root

    # ---- keys ------------------------------------------------------------------------------
    def _abs(self, key: str) -> str:
        """The absolute path of `key`; ValueError for anything but a clean relative key."""
        if not key:
            return self.root
        if (
            key.startswith("/")
            or "\\" in key
            or "\0" in key
            or any(part in ("", ".", "..") for part in key.split("/"))
        ):
            raise ValueError(f"{key!r} is not a storage key (a relative path without '.' or '..')")
        return f"{self.root}/{key}"

    def local_path(self, key: str) -> Path:
        return Path(self._abs(key))

    # ---- reading ---------------------------------------------------------------------------
    def info(self, key: str, *, follow: bool = False) -> FileInfo | None:
        try:
            st = os.stat(self._abs(key)) if follow else os.lstat(self._abs(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        return FileInfo(key, _kind(st.st_mode), st.st_size, st.st_mtime_ns)

    def read(self, key: str) -> bytes | None:
        try:
            with open(self._abs(key), "rb") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def open(self, key: str) -> IO[bytes]:
        return open(self._abs(key), "rb")

    def open_arrow(self, key: str) -> Any:
        import pyarrow as pa

        path = self._abs(key)
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        return pa.memory_map(path)

    def arrow_filesystem(self) -> tuple[Any, str]:
        import pyarrow.fs as pafs

        return pafs.LocalFileSystem(), self.root

    def list(self, key: str) -> list[FileInfo]:
        base = self._abs(key)
        prefix = f"{key}/" if key else ""
        try:
            with os.scandir(base) as entries:
                found = [(e.name, e.stat(follow_symlinks=False)) for e in entries]
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [
            FileInfo(prefix + name, _kind(st.st_mode), st.st_size, st.st_mtime_ns)
            for name, st in sorted(found)
        ]

    def walk(self, key: str) -> Iterator[str]:
        base = self._abs(key)
        if os.path.islink(base) or not os.path.isdir(base):
            return
        cut = len(self.root) + 1
        for dirpath, dirs, files in os.walk(base):
            for d in dirs:
                if os.path.islink(f"{dirpath}/{d}"):
                    yield f"{dirpath}/{d}"[cut:]
            for f in files:
                yield f"{dirpath}/{f}"[cut:]

    def inside(self, key: str, base: str) -> bool:
        real = os.path.realpath(self._abs(key))
        root = os.path.realpath(self._abs(base))
        return real == root or real.startswith(root.rstrip("/") + "/")

    def free_bytes(self) -> int | None:
        probe = self.root
        while not os.path.exists(probe) and probe != os.path.dirname(probe):
            probe = os.path.dirname(probe)
        return shutil.disk_usage(probe).free

    # ---- writing ---------------------------------------------------------------------------
    def write(self, key: str, data: bytes, *, durable: bool = True) -> None:
        with self._temp(key, durable=durable) as (fh, tmp):
            fh.write(data)
            fh.close()
            os.replace(tmp, self._abs(key))

    def create(self, key: str, data: bytes) -> bool:
        with self._temp(key, durable=True) as (fh, tmp):
            fh.write(data)
            fh.close()
            try:
                os.link(tmp, self._abs(key))
            except FileExistsError:
                return False
            except OSError:  # a file system without hard links: O_EXCL creates, then writes
                try:
                    fd = os.open(self._abs(key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                except FileExistsError:
                    return False
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
            return True

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        with self._temp(key, durable=True) as (fh, tmp):
            yield fh  # type: ignore[misc]  # a file object: write, tell, flush, fileno, close
            fh.close()
            os.replace(tmp, self._abs(key))

    @contextlib.contextmanager
    def append(self, key: str, *, new: bool = False) -> Iterator[IO[bytes]]:
        path = self._abs(key)
        self._make_parents(path)
        existed = os.path.exists(path)
        with open(path, "wb" if new else "ab") as fh:
            if not existed and self.file_mode is not None:
                with contextlib.suppress(OSError):
                    os.chmod(path, self.file_mode)
            yield fh

    def replace(self, src: str, dst: str) -> None:
        source, target = self._abs(src), self._abs(dst)
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        if self.file_mode is not None:
            os.chmod(source, self.file_mode)
        self._make_parents(target)
        os.replace(source, target)

    def remove(self, key: str) -> bool:
        try:
            os.unlink(self._abs(key))
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def remove_dir(self, key: str) -> bool:
        path = self._abs(key)
        if os.path.islink(path):
            return False
        try:
            os.rmdir(path)
        except OSError:  # not empty, missing, or not ours to remove
            return False
        return True

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[None]:
        import filelock

        path = self._abs(key)
        self._make_parents(path)
        lock = filelock.FileLock(path, timeout=timeout, mode=self.file_mode or 0o644)
        try:
            lock.acquire()
        except filelock.Timeout:
            raise LockTimeout(path, timeout) from None
        try:
            yield
        finally:
            lock.release()

    # ---- helpers ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _temp(self, key: str, *, durable: bool) -> Iterator[tuple[_DurableFile, str]]:
        """A new temporary file beside `key`, removed on the way out unless renamed or linked.
        The body writes and closes it; closing fsyncs first when `durable`."""
        path = self._abs(key)
        self._make_parents(path)
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}"
        fh = _DurableFile(tmp, durable, self.file_mode)
        try:
            yield fh, tmp
        finally:
            fh.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _make_parents(self, path: str) -> None:
        """Create the folders above `path`, with the shared mode when one is set."""
        folder = os.path.dirname(path)
        if os.path.isdir(folder):
            return
        missing = []
        probe = folder
        while probe and not os.path.exists(probe) and probe != os.path.dirname(probe):
            missing.append(probe)
            probe = os.path.dirname(probe)
        os.makedirs(folder, exist_ok=True)
        if self.dir_mode is not None:
            for made in missing:
                with contextlib.suppress(OSError):
                    os.chmod(made, self.dir_mode)


class _DurableFile:
    """A new file opened for writing whose `close` flushes, fsyncs (if durable) and sets the
    mode."""

    def __init__(self, path: str, durable: bool, mode: int | None) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        self._fh = os.fdopen(fd, "wb")
        self._path, self._durable, self._mode = path, durable, mode

    def write(self, data: Any) -> int:
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:  # tell, flush, fileno, ... for writers such as pyarrow
        return getattr(self._fh, name)

    def close(self) -> None:
        if self._fh.closed:
            return
        try:
            self._fh.flush()
            if self._durable:
                os.fsync(self._fh.fileno())
        finally:
            self._fh.close()
        if self._mode is not None:
            os.chmod(self._path, self._mode)


def _kind(mode: int) -> Kind:
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file"

"""`LocalStorage`: the data directory on a local disk or an NFS mount.

Atomic writes are a unique temporary file beside the target (`.tmp-<uuid>-<name>`), fsync, then
`os.replace`; create-only is a rename that never replaces (`renameat2(RENAME_NOREPLACE)`, Linux)
or else `os.link` of such a file (atomic on local disks and NFSv3/v4, where `O_EXCL` is not
always); `create_all` makes many such files durable with one sync; locks are `flock` locks on
a lock file, checked to still be the file at that path once taken (a cleanup script may delete
lock files). With a `file_mode` (shared data
dirs, e.g. 0o664) every file created gets that mode and every folder created the matching mode
with the search bit wherever read is granted, plus setgid when the group may write (0o2775), and
the group of its parent folder; without one the umask decides, as for any other program.

Nothing is ever written through a link it did not expect: new files are created with
`O_EXCL | O_NOFOLLOW`, partial files are reopened with `O_NOFOLLOW`, a rename never lands on a
link, and before every write, rename and delete the real path of the folder is checked to be
inside the real path of the root, or inside the target of a dataset folder link (`ROOT/<name>`)
that the owner of the root made. Anything else raises `UnsafePath`. (The check and the write
are two system calls: a link swapped in between them is not caught.)
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from ..errors import LockTimeout, UnsafePath
from .base import TEMP_PREFIX, FileInfo, Kind, check_key
from .kernel import copy_in_kernel, rename_noreplace, syncfs


class LocalStorage:
    """A folder on this machine (local disk, NFS, SMB) holding a data directory."""

    def __init__(self, root: str | os.PathLike[str], *, file_mode: int | None = None) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.file_mode = file_mode
        self.dir_mode: int | None = None
        if file_mode is not None:
            self.dir_mode = file_mode | ((file_mode & 0o444) >> 2)
            if file_mode & 0o020:  # group-shared: files made below keep the folder's group
                self.dir_mode |= stat.S_ISGID

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    compare_and_swap = False  # the index takes `lock` (fcntl: local disks and NFSv4)

    @property
    def url(self) -> str:
        return self.root

    # ---- keys ------------------------------------------------------------------------------
    def _abs(self, key: str) -> str:
        """The absolute path of `key`; ValueError for anything but a clean relative key."""
        return f"{self.root}/{check_key(key)}" if key else self.root

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

    def read_tagged(self, key: str) -> tuple[bytes, str] | None:
        try:
            with open(self._abs(key), "rb") as fh:
                st = os.fstat(fh.fileno())
                return fh.read(), _tag(st)
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
        if key.startswith(f"{base}/") and _no_links(self._abs(base), key[len(base) + 1 :]):
            return True  # (realpath of each, which the rest is, lstats every part from /)
        real = os.path.realpath(self._abs(key))
        root = os.path.realpath(self._abs(base))
        return real == root or real.startswith(root.rstrip("/") + "/")

    def unsafe(self, key: str) -> str | None:
        try:
            self._check_folder(key)
        except UnsafePath as exc:
            return exc.reason
        return None

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
            self._rename(tmp, self._abs(key))

    def create(self, key: str, data: bytes) -> bool:
        with self._temp(key, durable=True) as (fh, tmp):
            fh.write(data)
            fh.close()
            return self._link(tmp, key, data)

    def _link(self, tmp: str, key: str, data: bytes) -> bool:
        """Put the temporary file `tmp` (a path) at `key`, create-only; False when taken. A
        rename that never replaces (Linux `renameat2(RENAME_NOREPLACE)`: one change to the
        folder, where a link and the temporary name's unlink are two), else a hard link."""
        moved = rename_noreplace(tmp, self._abs(key))
        if moved is not None:
            return moved
        try:
            os.link(tmp, self._abs(key))  # never follows a link at the target: EEXIST
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: O_EXCL creates, then writes
            try:
                fd = self._new_file(self._abs(key))
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as out:
                out.write(data)
        return True

    def create_all(
        self, files: Sequence[tuple[str, bytes]], *, sync_first: Sequence[str] = ()
    ) -> tuple[bool, ...]:
        # Each file's bytes go to a temporary file (no fsync), one `sync` makes them all (and
        # `sync_first`) durable, then each is linked into place (create-only; its folder is not
        # synced, as by `create`): one syncfs(2) for the lot instead of an fsync per file, and
        # a crash never leaves a name whose bytes were not on disk first.
        temps: list[str] = []
        checked: set[str] = set()  # folders made and checked (once per call, not per file)
        try:
            for key, data in files:
                folder, _, name = key.rpartition("/")
                if folder not in checked:
                    self._folder(key)
                    checked.add(folder)
                temps.append(f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}".lstrip("/"))
                with _DurableFile(self._new_file(self._abs(temps[-1])), durable=False) as fh:
                    fh.write(data)
            self.sync([*sync_first, *temps])
            return tuple(
                self._link(self._abs(t), k, d) for t, (k, d) in zip(temps, files, strict=True)
            )
        finally:
            for tmp in temps:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._abs(tmp))

    def write_if(self, key: str, data: bytes, *, tag: str | None) -> bool:
        # every write replaces the file by a rename (a new inode): its tag names one version.
        # The check and the write are one step under a lock beside the file.
        folder, _, name = key.rpartition("/")
        with self.lock(f"{folder}/.{name}.lock".lstrip("/"), timeout=60.0):
            try:
                now: str | None = _tag(os.stat(self._abs(key)))
            except (FileNotFoundError, NotADirectoryError):
                now = None
            if now != tag:
                return False
            self.write(key, data)
            return True

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        with self._temp(key, durable=True) as (fh, tmp):
            yield fh  # type: ignore[misc]  # a file object: write, tell, flush, fileno, close
            fh.close()
            self._rename(tmp, self._abs(key))

    @contextlib.contextmanager
    def append(self, key: str, *, new: bool = False) -> Iterator[IO[bytes]]:
        path = self._abs(key)
        self._folder(key)
        found = _lstat(path)
        if found is not None and not stat.S_ISREG(found.st_mode):
            raise UnsafePath(path, _what(found.st_mode))
        fd = None if found is None else self._reopen(path)  # None: another's we may not write
        if fd is not None:
            if new:
                os.ftruncate(fd, 0)  # the same file: a claim on it stays
        else:
            if found is not None and new:
                os.unlink(path)  # another user's file: we may not truncate it, but unlink it
            fd = self._new_file(path) if new or found is None else self._take_over(path)
        with _PartFile(fd, path) as fh:
            yield fh  # type: ignore[misc]  # write() is all a partial file needs

    def append_from(self, key: str, source: str, *, offset: int = 0) -> int:
        self._check_folder(source)
        try:
            src = os.open(self._abs(source), os.O_RDONLY | _NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePath(self._abs(source), "it is a symbolic link") from None
            raise
        try:
            if not stat.S_ISREG(os.fstat(src).st_mode):
                raise UnsafePath(self._abs(source), "it is not a regular file")
            count = max(os.fstat(src).st_size - offset, 0)
            with self.append(key) as fh:
                fh.write(b"")  # the partial file is still the one at its path
                if count and not copy_in_kernel(src, self._abs(key), fh.fileno(), offset, count):
                    os.lseek(src, offset, os.SEEK_SET)
                    while piece := os.read(src, _COPY_CHUNK):
                        fh.write(piece)
            return count
        finally:
            os.close(src)

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        path = self._abs(key)
        self._folder(key)
        held = _FileLock(path, self.file_mode)
        if not held.take():
            raise BlockingIOError(errno.EWOULDBLOCK, "another process is writing this file", path)
        try:
            yield
        finally:
            held.release(drop_if_empty=True)

    def replace(self, src: str, dst: str, *, durable: bool = True) -> None:
        source, target = self._abs(src), self._abs(dst)
        self._check_folder(src)
        try:
            fd = os.open(source, os.O_RDONLY | _NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePath(source, "it is a symbolic link") from None
            raise
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise UnsafePath(source, _what(st.st_mode))
            if durable:
                os.fsync(fd)
            if (
                self.file_mode is not None
                and st.st_uid == os.geteuid()  # never chmod another user's file
                and stat.S_IMODE(st.st_mode) != self.file_mode
            ):
                os.fchmod(fd, self.file_mode)
        finally:
            os.close(fd)
        self._folder(dst)
        self._rename(source, target)

    def sync(self, keys: Sequence[str]) -> None:
        # One syncfs(2) per file system the files are on (Linux): one journal commit for the
        # whole batch instead of one per file. Elsewhere each file and its folder is fsynced.
        devices: dict[int, str] = {}
        for folder in {self._abs(key).rpartition("/")[0]: None for key in keys}:
            devices.setdefault(os.stat(folder).st_dev, folder)
        if all(syncfs(folder) for folder in devices.values()):
            return
        for key in keys:
            path = self._abs(key)
            for name, flags in ((path, os.O_RDONLY | _NOFOLLOW), (path.rpartition("/")[0], 0)):
                fd = os.open(name, flags | os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)

    def remove(self, key: str) -> bool:
        path = self._abs(key)
        try:
            self._check_folder(key)
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def remove_dir(self, key: str) -> bool:
        path = self._abs(key)
        if os.path.islink(path):
            return False
        self._check_folder(key)
        try:
            os.rmdir(path)
        except OSError:  # not empty, missing, or not ours to remove
            return False
        return True

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[None]:
        path = self._abs(key)
        self._folder(key)
        held = _FileLock(path, self.file_mode)
        held.acquire(timeout)
        try:
            yield
        finally:
            held.release()

    # ---- helpers ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _temp(self, key: str, *, durable: bool) -> Iterator[tuple[_DurableFile, str]]:
        """A new temporary file beside `key`, removed on the way out unless renamed or linked.
        The body writes and closes it; closing fsyncs first when `durable`."""
        path = self._abs(key)
        self._folder(key)
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}"
        fh = _DurableFile(self._new_file(tmp), durable)
        try:
            yield fh, tmp
        finally:
            try:
                fh.close()  # (a full disk can fail the flush here: the file still goes)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def _new_file(self, path: str) -> int:
        """Create `path` (never through a link; FileExistsError when anything is there), with the
        shared mode when one is set; a write-only descriptor."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
        if self.file_mode is not None:
            os.fchmod(fd, self.file_mode)  # ours: we just made it
        return fd

    def _reopen(self, path: str) -> int | None:
        """Open an existing partial file to append to; None when it is another user's that we
        may not write (then `_take_over` copies it to a file of ours that takes its place: its
        bytes kept, nothing chmod-ed)."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | _NOFOLLOW)
        except PermissionError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise UnsafePath(path, "it is a symbolic link") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise UnsafePath(path, "it is not a regular file")
        return fd

    def _take_over(self, path: str) -> int:
        """Copy another user's partial file to a new one of ours in its place; its descriptor."""
        folder, _, name = path.rpartition("/")
        tmp = f"{folder}/{TEMP_PREFIX}{uuid.uuid4().hex}-{name}"
        fd = self._new_file(tmp)
        try:
            try:
                src = open(os.open(path, os.O_RDONLY | _NOFOLLOW), "rb")  # noqa: SIM115
                with src, open(os.dup(fd), "wb") as out:
                    shutil.copyfileobj(src, out)
            except PermissionError:  # not even readable by us: start that file over
                os.ftruncate(fd, 0)
            os.fsync(fd)
            os.replace(tmp, path)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        os.lseek(fd, 0, os.SEEK_END)
        return fd

    def _rename(self, source: str, target: str) -> None:
        """Rename within checked folders; a link at the target is refused, not replaced."""
        found = _lstat(target)
        if found is not None and stat.S_ISLNK(found.st_mode):
            raise UnsafePath(target, "it is a symbolic link")
        os.replace(source, target)

    def _folder(self, key: str) -> None:
        """Make sure the folder of `key` exists and really is inside (see `_check_folder`);
        folders created get the shared mode and their parent's group."""
        folder = key.rpartition("/")[0]
        parts = folder.split("/") if folder else []
        have = _real_folders(self.root, parts)
        if parts and have == len(parts):
            return  # there, real folders all the way (no link): inside
        if have > 0:  # the rest is missing below real folders: made here, nothing to follow
            current = f"{self.root}/{'/'.join(parts[:have])}"
            try:
                for part in parts[have:]:
                    parent, current = current, f"{current}/{part}"
                    os.mkdir(current, 0o777)
                    self._adopt_folder(current, parent)
                return
            except (FileExistsError, FileNotFoundError, NotADirectoryError):
                pass  # made or removed meanwhile, or something in the way: the careful way
        if not os.path.isdir(f"{self.root}/{folder}" if folder else self.root):
            self._make_folders(folder, key)
        self._check_folder(key)

    def _make_folders(self, folder: str, key: str) -> None:
        if not os.path.isdir(self.root):
            missing = []
            probe = self.root
            while not os.path.lexists(probe) and probe != os.path.dirname(probe):
                missing.append(probe)
                probe = os.path.dirname(probe)
            os.makedirs(self.root, exist_ok=True)  # the configured root: trusted as it is
            for made in reversed(missing):
                self._adopt_folder(made, group=False)
        current = self.root
        for part in folder.split("/") if folder else []:
            parent, current = current, f"{current}/{part}"
            if os.path.isdir(current):
                continue
            self._check_dir(current[len(self.root) + 1 :], key)  # never mkdir through a link
            try:
                os.mkdir(current, 0o777)
            except FileExistsError:
                continue
            self._adopt_folder(current, parent)

    def _adopt_folder(self, path: str, parent: str = "", *, group: bool = True) -> None:
        """Give a folder we just made its parent's group and the shared mode (fchmod after mkdir,
        since the umask strips setgid and group write)."""
        if self.dir_mode is None:
            return
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW)
        except OSError:
            return
        try:
            gid = os.stat(parent or os.path.dirname(path)).st_gid
            if group and os.fstat(fd).st_gid != gid:
                with contextlib.suppress(OSError):  # not a member of that group: keep ours
                    os.fchown(fd, -1, gid)
            with contextlib.suppress(OSError):
                os.fchmod(fd, self.dir_mode)
        finally:
            os.close(fd)

    def _check_folder(self, key: str) -> None:
        """Refuse `key` unless its folder, links followed, is inside the root (links followed),
        or inside the target of a link `ROOT/<name>` owned by the owner of the root."""
        self._check_dir(key.rpartition("/")[0], key)

    def _check_dir(self, folder: str, key: str) -> None:
        """`_check_folder` of the folder `folder` (a key), naming `key` when it fails."""
        if not folder or _no_links(self.root, folder):
            return  # no link below the root: inside it, wherever the root itself leads
        real = os.path.realpath(f"{self.root}/{folder}")
        root = os.path.realpath(self.root)
        if _within(real, root):
            return
        top = f"{self.root}/{folder.split('/', 1)[0]}"
        link = _lstat(top)
        if (
            link is not None
            and stat.S_ISLNK(link.st_mode)
            and link.st_uid == os.stat(root).st_uid
            and _within(real, os.path.realpath(top))
        ):
            return
        raise UnsafePath(self._abs(key), _escape(self.root, folder, real))


class _PartFile:
    """A partial file open for appending. Each write first checks that the path still names this
    file: when it was deleted or renamed meanwhile (another process finished it, a cleanup
    script), FileNotFoundError, so no byte lands in a file that is no longer the partial one."""

    def __init__(self, fd: int, path: str) -> None:
        self._fh = os.fdopen(fd, "ab")
        st = os.fstat(fd)
        self._id, self._path = (st.st_dev, st.st_ino), path

    def write(self, data: Any) -> int:
        now = _lstat(self._path)
        if now is None or (now.st_dev, now.st_ino) != self._id:
            raise FileNotFoundError(
                errno.ENOENT, "the partial file vanished (deleted or moved meanwhile)", self._path
            )
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)

    def __enter__(self) -> _PartFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self._fh.close()


class _FileLock:
    """An exclusive `flock` on a file (a lock file, or a claimed partial file), held through its
    descriptor. Taken only when the locked file is still the one at the path (a lock file
    deleted by a cleanup script and made again by another process is a different file: lock
    that one instead)."""

    POLL = 0.05

    def __init__(self, path: str, file_mode: int | None) -> None:
        self.path, self.file_mode = path, file_mode
        self._fd: int | None = None
        self._id: tuple[int, int] | None = None
        self._made = False  # this lock created the file

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        changed = 0
        while True:
            got = self._try()
            if got:
                return
            if got is None and changed < 8:  # the file changed under us: the new one, at once
                changed += 1
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeout(self.path, timeout)
            time.sleep(min(self.POLL, left))

    def take(self) -> bool:
        """Try once (again at once if the file changed under us); False when another holds it."""
        for _ in range(8):
            got = self._try()
            if got is not None:
                return got
        return False

    def release(self, *, drop_if_empty: bool = False) -> None:
        """Unlock (closing the descriptor does); `drop_if_empty`: remove the file if this lock
        made it and it is still here and empty."""
        if self._fd is None:
            return
        if drop_if_empty and self._made:
            now = _lstat(self.path)
            if now is not None and (now.st_dev, now.st_ino) == self._id and now.st_size == 0:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path)
        os.close(self._fd)
        self._fd = None

    def _try(self) -> bool | None:
        """True: locked. False: another process holds it. None: the file changed; again."""
        import fcntl

        fd, made = self._open()
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        st = os.fstat(fd)
        now = _lstat(self.path)
        if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            os.close(fd)
            return None
        self._fd, self._id, self._made = fd, (st.st_dev, st.st_ino), made
        return True

    def _open(self) -> tuple[int, bool]:
        flags = os.O_NONBLOCK | _NOFOLLOW
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL | flags, 0o666)
            except FileExistsError:
                pass
            else:
                if self.file_mode is not None:
                    os.fchmod(fd, self.file_mode)  # ours: usable by the whole group
                return fd, True
            try:  # another's: write access is only needed on NFS (where locks are fcntl's)
                try:
                    fd = os.open(self.path, os.O_RDWR | flags)
                except PermissionError:
                    fd = os.open(self.path, os.O_RDONLY | flags)
            except FileNotFoundError:
                continue  # deleted in between: make it
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    raise UnsafePath(self.path, "it is a symbolic link") from None
                raise
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise UnsafePath(self.path, "it is not a regular file")
            return fd, False


class _DurableFile:
    """A new file opened for writing whose `close` flushes and fsyncs (if durable)."""

    def __init__(self, fd: int, durable: bool) -> None:
        self._fh = os.fdopen(fd, "wb")
        self._durable = durable

    def write(self, data: Any) -> int:
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:  # tell, flush, fileno, ... for writers such as pyarrow
        return getattr(self._fh, name)

    def __enter__(self) -> _DurableFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fh.closed:
            return
        try:
            self._fh.flush()
            if self._durable:
                os.fsync(self._fh.fileno())
        finally:
            self._fh.close()


_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC
_COPY_CHUNK = 4 << 20  # bytes copied at a time where the kernel cannot copy itself


def _tag(st: os.stat_result) -> str:
    """A version of a file, for `write_if`: what changes whenever it is replaced."""
    return f"{st.st_ino}-{st.st_size}-{st.st_mtime_ns}"


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _no_links(base: str, rest: str) -> bool:
    """True when no part of the path `rest` below the folder `base` is a symbolic link (one
    lstat per part, up to the first that does not exist): then `base/rest`, links followed,
    is `base`, links followed, plus `rest`."""
    current = base
    for part in rest.split("/"):
        current = f"{current}/{part}"
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except (FileNotFoundError, NotADirectoryError):
            return True
    return True


def _real_folders(base: str, parts: list[str]) -> int:
    """How many of the leading `parts` below `base` are real folders (not links), up to the
    first missing one; -1 when a link or a file is on the way."""
    current = base
    for i, part in enumerate(parts):
        current = f"{current}/{part}"
        try:
            mode = os.lstat(current).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return i
        if not stat.S_ISDIR(mode):
            return -1
    return len(parts)


def _within(real: str, base: str) -> bool:
    return real == base or real.startswith(base.rstrip("/") + "/")


def _what(mode: int) -> str:
    return "it is a symbolic link" if stat.S_ISLNK(mode) else "it is not a regular file"


def _escape(root: str, folder: str, real: str) -> str:
    """Why `ROOT/folder` is not inside: the first link on the way, and where it leads."""
    current = root
    for part in folder.split("/"):
        current = f"{current}/{part}"
        if os.path.islink(current):
            return (
                f"{current} is a symbolic link to {os.path.realpath(current)}, outside the "
                f"data directory {root}"
            )
    return f"it leads to {real}, outside the data directory {root}"


def _kind(mode: int) -> Kind:
    if stat.S_ISLNK(mode):
        return "link"
    return "dir" if stat.S_ISDIR(mode) else "file"

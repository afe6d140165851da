"""The Linux system calls `LocalStorage` uses where Python has no wrapper or the platform may
lack them: copy_file_range(2) to join files in the kernel, syncfs(2) to make a batch of files
durable at once, and renameat2(2) with RENAME_NOREPLACE for create-only renames. Each answers
"cannot here" (False or None) rather than failing where the system or the file system lacks it,
and the caller falls back (a copy through Python, one fsync per file, a hard link)."""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC


def copy_in_kernel(src: int, path: str, appending: int, offset: int, count: int) -> bool:
    """Append `count` bytes of `src` from `offset` to the file open (for appending) as
    `appending` at `path` with copy_file_range(2), through a second descriptor of the same file
    (the call refuses an O_APPEND one); False, nothing copied, where the kernel or the file
    system cannot (then the caller copies)."""
    copy = getattr(os, "copy_file_range", None)
    if copy is None:
        return False
    try:
        out = os.open(path, os.O_WRONLY | _NOFOLLOW)
    except OSError:
        return False
    try:
        mine, theirs = os.fstat(out), os.fstat(appending)
        if (mine.st_dev, mine.st_ino) != (theirs.st_dev, theirs.st_ino):
            return False  # replaced in between: the append's own writes will notice
        at, done = theirs.st_size, 0
        while done < count:
            try:
                n = copy(src, out, count - done, offset + done, at + done)
            except OSError as exc:
                if done == 0 and exc.errno in _NO_KERNEL_COPY:
                    return False
                raise
            if n == 0:
                break  # the source ended early: it is what it is
            done += n
        return True
    finally:
        os.close(out)


_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EBADF}


def syncfs(folder: str) -> bool:
    """syncfs(2) the file system holding `folder`; False where there is none (not Linux).
    Raises OSError for a write-back error it reports (a full disk: ENOSPC)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # lazy: only downloads flush batches

    libc = ctypes.CDLL(None, use_errno=True)
    if not hasattr(libc, "syncfs"):
        return False
    fd = os.open(folder, os.O_RDONLY)
    try:
        if libc.syncfs(fd) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err), folder)
    finally:
        os.close(fd)
    return True


_RENAMEAT2: list[Any] = []  # [libc.renameat2], or [None] where there is none


def rename_noreplace(source: str, target: str) -> bool | None:
    """Rename `source` to `target` unless something is there (a link too, never followed):
    True when renamed, False when `target` exists, None where the system or the file system
    cannot (then the caller links)."""
    if not _RENAMEAT2:
        fn = None
        if sys.platform.startswith("linux"):
            import ctypes  # lazy: only index writes use it

            fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
        _RENAMEAT2.append(fn)
    fn = _RENAMEAT2[0]
    if fn is None:
        return None
    import ctypes

    at_fdcwd, noreplace = -100, 1
    if fn(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), noreplace) == 0:
        return True
    # anything else (not supported here: EINVAL, ENOSYS; or any other failure): the caller
    # links instead, as it always did, and reports what that finds
    return False if ctypes.get_errno() == errno.EEXIST else None

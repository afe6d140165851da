"""A folder on this machine or on a network mount (NFS, SMB), read in place.

Change detection is size + mtime: hashing terabytes at every sync is not an option.
Hidden entries (a leading '.', e.g. NFS `.snapshot` folders) are skipped; symbolic links to
folders are followed once (a link loop is not followed twice), and only while they stay inside
the folder: a link leading out of it is left out with a note, never read.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError
from .base import RemoteFile, Snapshot, shown

if TYPE_CHECKING:
    from ..manifest.models import LocalSource
    from ..settings import Settings

Rejected = list[tuple[str, str]]  # (shown path, why) of entries left out


@dataclass(frozen=True)
class LocalFolder:
    root: Path

    @classmethod
    def from_spec(cls, spec: LocalSource, settings: Settings | None = None) -> LocalFolder:
        return cls(spec.folder)

    def describe(self) -> str:
        return str(self.root)

    def list(self) -> Snapshot:
        if not self.root.is_dir():
            raise SourceError(
                f"folder {self.root} does not exist or is not a folder; check source.local"
            )
        rejected: list[tuple[str, str]] = []
        try:
            files = tuple(self._walk(rejected))
        except OSError as exc:
            raise SourceError(f"cannot list {self.root}: {exc.strerror or exc}") from None
        return Snapshot(files=files, revision=None, commit=None, rejected=tuple(rejected))

    def path_of(self, file: RemoteFile) -> Path:
        """The file on disk for a listed file."""
        return self.root.joinpath(*file.path.split("/"))

    def _walk(self, rejected: Rejected) -> Iterator[RemoteFile]:
        seen: set[tuple[int, int]] = set()
        stack = [(self.root, "")]
        root = os.path.realpath(self.root)
        while stack:
            folder, prefix = stack.pop()
            st = folder.stat()
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    rel = prefix + entry.name
                    if entry.is_symlink() and not _inside(os.path.realpath(entry.path), root):
                        if entry.is_dir() or entry.is_file():
                            why = "it is a link to outside the source folder; not followed"
                            rejected.append((shown(rel), why))
                        continue
                    if entry.is_dir():
                        stack.append((Path(entry.path), rel + "/"))
                    elif entry.is_file():
                        st = entry.stat()
                        yield RemoteFile(rel, st.st_size, mtime=st.st_mtime)


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip("/") + "/")

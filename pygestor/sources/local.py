"""A folder on this machine or on a network mount (NFS, SMB), read in place.

Change detection is size + mtime: hashing terabytes at every sync is not an option.
Hidden entries (a leading '.', e.g. NFS `.snapshot` folders) are skipped; symbolic links to
folders are followed once (a link loop is not followed twice).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import SourceError
from .base import RemoteFile, Snapshot

if TYPE_CHECKING:
    from ..manifest.models import LocalSource
    from ..settings import Settings


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
        try:
            files = tuple(self._walk())
        except OSError as exc:
            raise SourceError(f"cannot list {self.root}: {exc.strerror or exc}") from None
        return Snapshot(files=files, revision=None, commit=None)

    def path_of(self, file: RemoteFile) -> Path:
        """The file on disk for a listed file."""
        return self.root.joinpath(*file.path.split("/"))

    def _walk(self) -> Iterator[RemoteFile]:
        seen: set[tuple[int, int]] = set()
        stack = [(self.root, "")]
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
                    if entry.is_dir():
                        stack.append((Path(entry.path), rel + "/"))
                    elif entry.is_file():
                        st = entry.stat()
                        yield RemoteFile(rel, st.st_size, mtime=st.st_mtime)

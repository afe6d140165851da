"""What `scaffold` returns: the manifest text and model, the subsets it resolves to, what to
review, and the write that never clobbers a file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import OutputExists
from ..manifest.models import Manifest
from .rules import Origin


@dataclass(frozen=True)
class SubsetInfo:
    """One inferred subset: its partitions and bytes from the listing, rows from the card."""

    name: str
    partitions: int
    bytes: int
    rows: int | None = None  # the card's dataset_info num_examples, when it names this subset

    def to_json(self) -> dict[str, Any]:
        return {
            "subset": self.name,
            "partitions": self.partitions,
            "bytes": self.bytes,
            "rows": self.rows,
        }


@dataclass(frozen=True)
class Scaffold:
    """A manifest scaffolded from a Hub repository: its text, the parsed model, what it resolves
    to against the listing it was made from, and what a human should review."""

    name: str
    repo_id: str
    revision: str  # what the manifest's source.revision says
    commit: str | None  # what the listing resolved that revision to
    origin: Origin  # where the subset rules came from
    text: str  # the manifest file's content
    manifest: Manifest
    subsets: tuple[SubsetInfo, ...]
    unmatched: tuple[str, ...]  # listed files no rule takes (README.md and .gitattributes included)
    review: tuple[str, ...]  # what to check by hand, one sentence each
    path: Path | None = None  # where it was written (set by `Catalog.add`)

    @property
    def source(self) -> str:
        return f"hf://datasets/{self.repo_id}@{self.revision}"

    @property
    def partitions(self) -> int:
        return sum(s.partitions for s in self.subsets)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.subsets)

    def write(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the manifest to `path` (folders created); OutputExists unless `force`."""
        target = Path(path)
        if target.exists() and not force:
            raise OutputExists(str(target))
        from ..storage.local import LocalStorage

        folder, data = LocalStorage(target.parent), self.text.encode("utf-8")
        if force:
            folder.write(target.name, data)
        elif not folder.create(target.name, data):  # never clobbers, even a concurrent writer
            raise OutputExists(str(target))
        return target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "repo": self.repo_id,
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "origin": self.origin,
            "path": str(self.path) if self.path else None,
            "subsets": [s.to_json() for s in self.subsets],
            "partitions": self.partitions,
            "bytes": self.bytes,
            "unmatched": list(self.unmatched),
            "review": list(self.review),
            "manifest": self.text,
        }

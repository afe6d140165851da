"""The index's records, as stored: the resolved `Listing` a sync wrote, the `Pointer` to the one in
force, and one `Record` per verified local partition. JSON with a format version; pure values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..errors import PygestorError
from ..manifest.models import Format
from ..resolve import Partition, Resolution, Subset
from ..sources.base import RemoteFile

FORMAT_VERSION = 1


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second (`2026-11-25T12:00:00Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Listing:
    """A resolved listing as stored: the tree a sync produced, plus its report."""

    dataset: str
    source: str
    revision: str | None
    commit: str | None
    manifest: str  # the manifest's fingerprint
    subsets: tuple[Subset, ...]
    unmatched: tuple[str, ...] = ()
    empty_rules: tuple[int, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_resolution(
        cls,
        dataset: str,
        source: str,
        revision: str | None,
        commit: str | None,
        manifest: str,
        resolution: Resolution,
    ) -> Listing:
        return cls(
            dataset,
            source,
            revision,
            commit,
            manifest,
            resolution.subsets,
            resolution.unmatched,
            resolution.empty_rules,
            resolution.skipped,
        )

    def totals(self) -> dict[str, Any]:
        """Where it came from and how big it is: what the pointer and a sync's report carry."""
        return {
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "subsets": len(self.subsets),
            "partitions": self.partition_count,
            "bytes": self.size,
        }

    @property
    def partition_count(self) -> int:
        return sum(len(s.partitions) for s in self.subsets)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.subsets)

    def subset(self, name: str) -> Subset | None:
        return next((s for s in self.subsets if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "manifest": self.manifest,
            "subsets": [
                {"name": s.name, "partitions": [_partition_json(p) for p in s.partitions]}
                for s in self.subsets
            ],
            "unmatched": list(self.unmatched),
            "empty_rules": list(self.empty_rules),
            "skipped": [list(x) for x in self.skipped],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Listing:
        check_format(data)
        subsets = tuple(
            Subset(s["name"], tuple(_partition_from_json(p) for p in s["partitions"]))
            for s in data["subsets"]
        )
        return cls(
            data["dataset"],
            data["source"],
            data["revision"],
            data["commit"],
            data["manifest"],
            subsets,
            tuple(data["unmatched"]),
            tuple(data["empty_rules"]),
            tuple((a, b) for a, b in data["skipped"]),
        )


def _partition_json(p: Partition) -> dict[str, Any]:
    f = p.file
    return {
        "name": p.name,
        "path": f.path,
        "size": f.size,
        "sha256": f.sha256,
        "blob_id": f.blob_id,
        "mtime": f.mtime,
        "format": p.format.value if p.format else None,
    }


def _partition_from_json(d: dict[str, Any]) -> Partition:
    file = RemoteFile(d["path"], d["size"], d["sha256"], d["blob_id"], d["mtime"])
    return Partition(d["name"], file, Format(d["format"]) if d["format"] else None)


@dataclass(frozen=True)
class Pointer:
    """`current.json`: which listing is in force, and its totals (so `list` reads no listing)."""

    listing: str
    synced_at: str
    source: str
    revision: str | None
    commit: str | None
    subsets: int
    partitions: int
    bytes: int
    previous: str | None = None
    format: int = FORMAT_VERSION


@dataclass(frozen=True)
class Record:
    """What is known about one verified local partition."""

    path: str  # the remote path it came from
    size: int
    sha256: str | None = None
    blob_id: str | None = None
    mtime: float | None = None  # the source's mtime (local sources)
    commit: str | None = None  # the source commit it was fetched at
    rows: int | None = None
    downloaded_at: str = field(default_factory=utc_now)
    format: int = FORMAT_VERSION

    @classmethod
    def of(
        cls,
        file: RemoteFile,
        *,
        commit: str | None,
        rows: int | None,
        downloaded_at: str | None = None,
    ) -> Record:
        """The record of a verified local copy of `file`, fetched at `commit`."""
        return cls(
            file.path,
            file.size,
            file.sha256,
            file.blob_id,
            file.mtime,
            commit,
            rows,
            downloaded_at or utc_now(),
        )

    @property
    def file(self) -> RemoteFile:
        """The upstream file as it was when fetched."""
        return RemoteFile(self.path, self.size, self.sha256, self.blob_id, self.mtime)

    def matches(self, file: RemoteFile) -> bool:
        """True when the upstream file still has the content this record was fetched with."""
        return self.file.same_content(file)


def check_format(data: dict[str, Any]) -> None:
    version = data.get("format")
    if version != FORMAT_VERSION:
        raise PygestorError(
            f"index format {version!r} is not supported by this pygestor (it reads "
            f"{FORMAT_VERSION}); "
            "upgrade pygestor or run 'pygestor sync --repair'"
        )

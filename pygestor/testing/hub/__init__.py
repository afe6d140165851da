"""A Hugging Face Hub look-alike on loopback, for tests and offline demos.

`LocalHub` is a small content-addressed, git-like store of dataset repos in a folder. `HubServer`
serves it over HTTP the way the Hub answers `huggingface_hub` 2.4, so the real client (never a
mock) lists, resolves and downloads from it. Faults (error statuses, dropped connections, cut,
slow or over-long bodies, latency, range requests answered with 200, at the wrong offset or with
wrong bytes) can be injected per request, hostile tree entries published
(`LocalHub.add_raw_entries`), and every request is logged for assertions. Standard library only.

- `model`: `LocalHub`, its records and errors, and its storage layout;
- `server`: `HubServer` and its endpoints; `wire`: its HTTP messages (requests, responses,
  byte ranges); `transport`: its sockets (faults, the per-connection bandwidth cap, the log);
- `faults`: `Fault`, `FaultSet` and the request log;
- `generated`: `GeneratedListing` and `publish`, a repo of N listed files that exist only as
  arithmetic (no files on disk; for benchmarks of a million partitions);
- `cli`: `python -m pygestor.testing.hub serve|import`.
"""

from __future__ import annotations

from .cli import main
from .faults import Fault, FaultSet, RequestLog, RequestRecord
from .generated import GeneratedListing, NoGeneratedBytes, publish
from .model import (
    DEFAULT_LFS_EXTENSIONS,
    LFS_SIZE_THRESHOLD,
    Commit,
    EntryNotFound,
    FileEntry,
    GatedRepo,
    InvalidName,
    LocalHub,
    LocalHubError,
    RefExists,
    RepoExists,
    RepoNotFound,
    RepoSettings,
    RevisionNotFound,
    TreeIndex,
    git_blob_id,
    lfs_pointer,
    make_commit_id,
)
from .server import HubServer

__all__ = [
    "DEFAULT_LFS_EXTENSIONS",
    "LFS_SIZE_THRESHOLD",
    "Commit",
    "EntryNotFound",
    "Fault",
    "FaultSet",
    "FileEntry",
    "GatedRepo",
    "GeneratedListing",
    "HubServer",
    "InvalidName",
    "LocalHub",
    "LocalHubError",
    "NoGeneratedBytes",
    "RefExists",
    "RepoExists",
    "RepoNotFound",
    "RepoSettings",
    "RequestLog",
    "RequestRecord",
    "RevisionNotFound",
    "TreeIndex",
    "git_blob_id",
    "lfs_pointer",
    "main",
    "make_commit_id",
    "publish",
]

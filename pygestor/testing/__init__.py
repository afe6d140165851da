"""Test seams for pygestor: a Hugging Face Hub look-alike served on loopback.

`LocalHub` stores dataset repos in a folder; `HubServer` serves them to the real
`huggingface_hub` client, with injectable `Fault`s and a log of every request. See
`pygestor.testing.hub` for the storage layout and the endpoints.

Names are imported on first use, so `python -m pygestor.testing.hub` runs cleanly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .hub import (
        Commit,
        EntryNotFound,
        Fault,
        FaultSet,
        FileEntry,
        GatedRepo,
        HubServer,
        InvalidName,
        LocalHub,
        LocalHubError,
        RefExists,
        RepoExists,
        RepoNotFound,
        RequestLog,
        RequestRecord,
        RevisionNotFound,
    )

__all__ = [
    "Commit",
    "EntryNotFound",
    "Fault",
    "FaultSet",
    "FileEntry",
    "GatedRepo",
    "HubServer",
    "InvalidName",
    "LocalHub",
    "LocalHubError",
    "RefExists",
    "RepoExists",
    "RepoNotFound",
    "RequestLog",
    "RequestRecord",
    "RevisionNotFound",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module(".hub", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

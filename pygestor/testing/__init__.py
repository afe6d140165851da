"""Test seams for pygestor: a Hugging Face Hub look-alike served on loopback.

`LocalHub` stores dataset repos in a folder; `HubServer` serves them to the real
`huggingface_hub` client, with injectable `Fault`s and a log of every request. See
`pygestor.testing.hub.model` for the storage layout, `pygestor.testing.hub.server` for the
endpoints.

This package offers every name of `pygestor.testing.hub.__all__` (and that list as its own
`__all__`), imported on first use, so `python -m pygestor.testing.hub` runs cleanly.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the same names for type checkers; at run time `__getattr__` serves them
    from .hub import *  # noqa: F403 (the hub's names, for type checkers only)


def _hub() -> ModuleType:
    return importlib.import_module(".hub", __name__)


def __getattr__(name: str) -> Any:
    if name.startswith("__") and name != "__all__":  # probes such as __wrapped__: no import
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    hub = _hub()
    if name == "__all__":
        return hub.__all__
    if name in hub.__all__:
        return getattr(hub, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_hub().__all__])

"""Sources: where a dataset's files live. One module per kind, imported only when used."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..manifest.models import HuggingFaceSource, LocalSource
    from ..settings import Settings
    from .base import Source

#: kind -> "module:class"; a new kind is one module plus one line here.
KNOWN_SOURCES = {
    "huggingface": "pygestor.sources.huggingface:HuggingFaceRepo",
    "local": "pygestor.sources.local:LocalFolder",
}


def open_source(spec: HuggingFaceSource | LocalSource, settings: Settings | None = None) -> Source:
    """The source object for a manifest's `source:` section."""
    module_name, _, class_name = KNOWN_SOURCES[spec.kind].partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    return cls.from_spec(spec, settings)

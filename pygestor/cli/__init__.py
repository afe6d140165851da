"""The `pygestor` command line: `app.py` (the group, the original tool's flags, `main`), one
module per command group (`browse`, `data`, `maintain`, `manifests`) and `output.py`, which they
all share. Imports point one way: app → command modules → output → the library.

Importing this package imports nothing; `cli`, `main` and `legacy_args` load `pygestor.cli.app`
on first use (the module is not called `main`, so the function and a submodule never share a
name).
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("cli", "main", "legacy_args"):
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module 'pygestor.cli' has no attribute {name!r}")

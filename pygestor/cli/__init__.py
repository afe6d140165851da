"""The `pygestor` command line: `main.py` (the group, `main`), one module per command group
(`browse`, `data`, `maintain`, `manifests`) and `output.py`, which they share.

Importing this package imports nothing; `cli`, `main` and `legacy_args` load `pygestor.cli.main`
on first use, and `main` then names the function, not the submodule of that name. (After a direct
`import pygestor.cli.main` it names the submodule: import the function from `pygestor.cli.main`.)
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("cli", "main", "legacy_args"):
        import importlib

        module = importlib.import_module(".main", __name__)  # binds `main` to the submodule
        globals()["main"] = module.main  # ... so rebind it to the function
        return getattr(module, name)
    raise AttributeError(f"module 'pygestor.cli' has no attribute {name!r}")

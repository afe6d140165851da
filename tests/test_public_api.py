"""The public surface: what `import pygestor` exports, and that importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import pygestor

EXPECTED = {
    "Catalog",
    "PygestorError",
    "PygestorWarning",
    "__version__",
    "add",
    "datasets",
    "download",
    "forget",
    "info",
    "load",
    "partitions",
    "paths",
    "remove",
    "scan",
    "stream",
    "subsets",
    "sync",
    "to_dask",
    "to_ray",
    "torch_dataset",
    "updates",
    "validate",
    "verify",
    "initialize",
    "list_datasets",
    "list_partitions",
    "list_subsets",
    "load_dataset",
    "stream_dataset",
    "version_check",
}


def test_exported_members() -> None:
    assert set(pygestor.__all__) == EXPECTED
    for name in pygestor.__all__:
        assert getattr(pygestor, name) is not None, name
    assert callable(pygestor.load) and pygestor.Catalog.__name__ == "Catalog"


def test_import_loads_nothing_heavy() -> None:
    code = (
        "import sys, pygestor; heavy = [m for m in ('pandas', 'pyarrow', 'huggingface_hub', "
        "'pydantic', "
        "'yaml', 'httpx2') if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_cli_help_loads_nothing_heavy() -> None:
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom pygestor.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "print(','.join(m for m in ('pandas', 'pyarrow', 'huggingface_hub', 'pydantic') if m in "
        "sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

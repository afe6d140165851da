"""pygestor: a dataset catalog for AI researchers — one YAML manifest per dataset, a generic engine.

    >>> import pygestor
    >>> pygestor.sync("wikipedia")
    >>> pygestor.subsets("wikipedia")          # a pandas DataFrame

Every function here builds a `Catalog` from the environment (`PYGESTOR_DATA_DIR`,
`PYGESTOR_CATALOG`, `HF_ENDPOINT`, `HF_TOKEN`) at call time and delegates to it; create a
`Catalog` yourself to pass settings explicitly. Importing pygestor loads nothing heavy: pandas,
pyarrow and huggingface_hub are imported when first needed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

__version__ = "0.2.0"

if TYPE_CHECKING:
    import pandas as pd

    from .api import Catalog, SyncResult, Validation
    from .fetch import DownloadReport, ProgressCallback

__all__ = [
    "Catalog",
    "__version__",
    "datasets",
    "download",
    "forget",
    # the original tool's names
    "initialize",
    "list_datasets",
    "list_partitions",
    "list_subsets",
    "partitions",
    "subsets",
    "sync",
    "validate",
]


def _catalog(data_dir: str | os.PathLike[str] | None = None) -> Catalog:
    from .api import Catalog

    return Catalog.open(data_dir=data_dir)


def __getattr__(name: str) -> Any:  # lazy: `pygestor.Catalog` without importing it at start-up
    if name == "Catalog":
        from .api import Catalog

        return Catalog
    raise AttributeError(f"module 'pygestor' has no attribute {name!r}")


def sync(names: str | Iterable[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None) -> list[SyncResult]:
    """List the sources of the named datasets (default: all) and record their subsets and partitions."""
    return _catalog(data_dir).sync(names)


def datasets(*, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every dataset of the catalog, with subset and partition counts and local/total bytes."""
    return _catalog(data_dir).datasets()


def subsets(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The subsets of a synced dataset, with partition counts, bytes and rows (when known)."""
    return _catalog(data_dir).subsets(name)


def partitions(name: str, subset: str, *, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The partitions of a subset: name, remote path, size, state, rows, sha256, downloaded_at."""
    return _catalog(data_dir).partitions(name, subset)


def validate(paths: Sequence[str | os.PathLike[str]] | None = None) -> Validation:
    """Check manifests (default: every catalog folder); see `Validation.problems`."""
    return _catalog().validate(paths)


def download(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    all_subsets: bool = False,
    update: bool = False,
    workers: int | None = None,
    progress: ProgressCallback | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> DownloadReport:
    """Fetch a subset (or the named partitions, or every subset) in parallel, resumably, verified.
    `progress` is called with a `pygestor.fetch.ProgressEvent` as bytes arrive and files finish."""
    return _catalog(data_dir).download(name, subset, partitions=partitions, all_subsets=all_subsets,
                                       update=update, workers=workers, progress=progress)


def forget(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Drop what sync recorded for a dataset; downloaded files and their records stay."""
    return _catalog(data_dir).forget(name)


# ---- the original tool's Python names, as thin aliases --------------------------------------
def list_datasets() -> pd.DataFrame:
    """Alias of `datasets()` (pygestor 0.1)."""
    return datasets()


def list_subsets(dataset_name: str) -> pd.DataFrame:
    """Alias of `subsets(name)` (pygestor 0.1)."""
    return subsets(dataset_name)


def list_partitions(dataset_name: str, subset_name: str) -> pd.DataFrame:
    """Alias of `partitions(name, subset)` (pygestor 0.1)."""
    return partitions(dataset_name, subset_name)


def initialize(dataset_name: str | None = None) -> list[SyncResult]:
    """Alias of `sync(name)`; every dataset when no name is given (pygestor 0.1)."""
    return sync(dataset_name)

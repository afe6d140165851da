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
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from ._version import __version__

if TYPE_CHECKING:
    import threading

    import pandas as pd

    from .catalog import Catalog, SyncResult, Validation
    from .fetch import DownloadReport, ProgressCallback
    from .maintain.remove import RemovalReport
    from .scaffold.result import Scaffold

__all__ = [  # noqa: RUF022 (grouped: the API, then the original names)
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
    # the original tool's names, as aliases
    "initialize",
    "list_datasets",
    "list_partitions",
    "list_subsets",
    "load_dataset",
    "stream_dataset",
    "version_check",
]


def _catalog(data_dir: str | os.PathLike[str] | None = None) -> Catalog:
    from .catalog import Catalog

    return Catalog.open(data_dir=data_dir)


def __getattr__(name: str) -> Any:  # lazy: `pygestor.Catalog` without importing it at start-up
    if name in ("PygestorError", "PygestorWarning"):
        from . import errors

        return getattr(errors, name)
    if name == "Catalog":
        from .catalog import Catalog

        return Catalog
    raise AttributeError(f"module 'pygestor' has no attribute {name!r}")


def sync(
    names: str | Iterable[str] | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> list[SyncResult]:
    """List the sources of the named datasets (default: all) and record their subsets and
    partitions."""
    return _catalog(data_dir).sync(names)


def datasets(*, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Every dataset of the catalog, with subset and partition counts and local/total bytes."""
    return _catalog(data_dir).datasets()


def subsets(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """The subsets of a synced dataset, with partition counts, bytes and rows (when known)."""
    return _catalog(data_dir).subsets(name)


def partitions(
    name: str, subset: str, *, data_dir: str | os.PathLike[str] | None = None
) -> pd.DataFrame:
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
    cancel: threading.Event | None = None,
) -> DownloadReport:
    """Fetch a subset (or the named partitions, or every subset) in parallel, resumably, verified.
    `progress` is called with a `pygestor.fetch.ProgressEvent` as bytes arrive and files finish;
    `cancel`, set from another thread, stops it as Ctrl-C does (DownloadInterrupted)."""
    return _catalog(data_dir).download(
        name,
        subset,
        partitions=partitions,
        all_subsets=all_subsets,
        update=update,
        workers=workers,
        progress=progress,
        cancel=cancel,
    )


def forget(name: str, *, data_dir: str | os.PathLike[str] | None = None) -> bool:
    """Drop what sync recorded for a dataset; downloaded files and their records stay."""
    return _catalog(data_dir).forget(name)


def add(
    repo: str,
    *,
    name: str | None = None,
    revision: str | None = None,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> Scaffold:
    """Write a manifest for a Hub dataset repo (`owner/name`, its URL or `hf://datasets/...`),
    inferred from its card and file layout, to the user catalog folder (or `output`); see
    `Scaffold.review` for what to check by hand."""
    return _catalog().add(repo, name=name, revision=revision, output=output, force=force)


def remove(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    all_subsets: bool = False,
    data_dir: str | os.PathLike[str] | None = None,
) -> RemovalReport:
    """Delete the local files and records of a subset (or the named partitions, or every subset);
    the catalog entry and the synced listing stay. Only inside the data dir; never a local
    source."""
    return _catalog(data_dir).remove(name, subset, partitions=partitions, all_subsets=all_subsets)


def updates(
    name: str | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """New, changed and deleted partitions upstream (default: every synced dataset); writes
    nothing."""
    return _catalog(data_dir).updates(name)


def verify(
    name: str, subset: str | None = None, *, data_dir: str | os.PathLike[str] | None = None
) -> list[dict[str, Any]]:
    """Re-hash local files against their records; each row's `status` is ok, missing or corrupt."""
    return _catalog(data_dir).verify(name, subset)


def info(
    name: str,
    subset: str | None = None,
    *,
    head: int = 0,
    data_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Source, commit, sizes, rows, parquet schema and `head` sample rows of a dataset or subset."""
    return _catalog(data_dir).info(name, subset, head=head)


def load(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    download: bool = True,
    output: Literal["pandas", "arrow"] = "pandas",
    data_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Any:
    """A subset (or the named partitions) as one pandas DataFrame, or a pyarrow Table with
    `output="arrow"`: one scan, `columns` (None: the manifest's `load.columns`; `"all"`: every
    column) and `filters` pushed down; see `pygestor.read.tables.load`."""
    return _catalog(data_dir).load(
        name,
        subset,
        partitions=partitions,
        columns=columns,
        filters=filters,
        download=download,
        output=output,
        **options,
    )


def stream(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    batch_size: int = 65_536,
    download: bool = True,
    output: Literal["pandas", "arrow"] = "pandas",
    data_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Iterator[Any]:
    """DataFrames of `batch_size` rows (or, `output="arrow"`, zero-copy pyarrow RecordBatches of
    at most `batch_size` rows), in partition order, memory flat; `prefetch=` (in `options`,
    default 2) batches are read ahead."""
    return _catalog(data_dir).stream(
        name,
        subset,
        partitions=partitions,
        columns=columns,
        filters=filters,
        batch_size=batch_size,
        download=download,
        output=output,
        **options,
    )


def scan(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """A `pyarrow.dataset.Dataset` over the local partitions, without reading them."""
    return _catalog(data_dir).scan(name, subset, partitions=partitions)


def paths(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    download: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[str]:
    """The files of the chosen partitions, for readers of your own: local paths (or `s3://`
    URLs on an object-store data dir), in partition order; what is not local is downloaded
    first unless `download=False` (then it is left out, with a warning). See
    `pygestor.read.tables.paths`."""
    from .read.tables import paths as located_paths

    catalog = _catalog(data_dir)
    return located_paths(catalog.readable(name, subset, partitions, download), download)


def to_dask(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    download: bool = True,
    dtypes: dict[str, str] | None = None,
    decode: dict[str, str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The selection `load` would read as a lazy `dask.dataframe.DataFrame`, one partition per
    file, `columns` and `filters` pushed down into each file's read on the workers; `.compute()`
    equals `load(...)`. Needs `pip install 'pygestor[dask]'`; see `pygestor.read.engines`."""
    from .read.engines import to_dask

    catalog = _catalog(data_dir)
    selection = catalog.readable(name, subset, partitions, download)
    return to_dask(
        selection,
        columns=columns,
        filters=filters,
        download=download,
        dtypes=dtypes,
        decode=decode,
    )


def to_ray(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    download: bool = True,
    dtypes: dict[str, str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> Any:
    """The selection `load` would read as a lazy `ray.data.Dataset`, one read task and block per
    file in partition order, `columns` and `filters` pushed down; `.to_pandas()` equals
    `load(...)`. Needs `pip install 'pygestor[ray]'`; see `pygestor.read.engines`."""
    from .read.engines import to_ray

    catalog = _catalog(data_dir)
    selection = catalog.readable(name, subset, partitions, download)
    return to_ray(selection, columns=columns, filters=filters, download=download, dtypes=dtypes)


def torch_dataset(
    name: str,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    download: bool = True,
    data_dir: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Any:
    """A PyTorch `IterableDataset` over the parquet row groups of a subset (or the named
    partitions): sharded by DataLoader worker and distributed rank, every row once per epoch,
    optionally shuffled (`shuffle=True, seed=, buffer_size=`), per-rank counts evened
    (`even="pad"` or `"drop"`), resumable (`state_dict()` / `load_state_dict()`, as torchdata's
    StatefulDataLoader calls them). Needs `pip install 'pygestor[torch]'`; see
    `pygestor.read.torch_data` and docs/cluster.md."""
    from .read.units import require

    require("torch")
    from .read.torch_data import torch_dataset as make

    catalog = _catalog(data_dir)
    return make(
        catalog.readable(name, subset, partitions, download),
        columns=columns,
        filters=filters,
        download=download,
        **options,
    )


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


def version_check(dataset_name: str | None = None) -> list[dict[str, Any]]:
    """Alias of `updates(name)` (pygestor 0.1)."""
    return updates(dataset_name)


def load_dataset(
    name: str,
    subset: str | None = None,
    partitions: Sequence[str] | None = None,
    download_if_missing: bool = False,
    **options: Any,
) -> Any:
    """Alias of `load(name, subset, partitions=..., download=download_if_missing)` (pygestor
    0.1)."""
    return load(name, subset, partitions=partitions, download=download_if_missing, **options)


def stream_dataset(
    name: str,
    subset: str | None = None,
    partitions: Sequence[str] | None = None,
    download_if_missing: bool = False,
    batch_size: int = 16,
    **options: Any,
) -> Iterator[Any]:
    """Alias of `stream(name, subset, partitions=..., download=download_if_missing)` (pygestor
    0.1)."""
    return stream(
        name,
        subset,
        partitions=partitions,
        download=download_if_missing,
        batch_size=batch_size,
        **options,
    )

"""Reading a selection's stored partitions: `load`, `stream`, `scan`.

The read path::

    Catalog.select(...)           which partitions, their files and their states
      │  download=True: the facade downloads the remote/partial ones first, then selects again
      ▼
    local(): the local and stale partitions, warning (PygestorWarning) about the rest
      ▼
    files.runs(): consecutive files one reader takes (see `files.py`)
      ▼
    load():   the subset's Arrow copy if it is current (`arrow_copy.py`), else one scan per run
              → Table → dtypes → the Table, or a DataFrame (to_pandas, decode)
    stream(): the same scan as record batches, `prefetch` of them read ahead: to Arrow as the
              reader cut them (zero copy, at most batch_size rows), to pandas in batch_size rows
    scan():   the run's Dataset, unread (a per-file run is read into memory)

Nothing here prints, and nothing touches the network: data is read where the selection's
storage holds it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SelectionError
from .arrow_copy import copy_table
from .convert import apply_dtypes, concat, cut, rechunk, release, to_pandas
from .files import PREFETCH, Run, run_batches, run_table, runs
from .options import Output, ReadOptions, check_columns, check_output, local, read_options

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    import pyarrow.dataset as ds

    from ..index.selection import Selection
    from ..index.store import Store


def load(
    selection: Selection,
    store: Store,
    *,
    columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None,
    download: bool = True,
    output: Output = "pandas",
    dtypes: Mapping[str, str] | None = None,
    decode: Mapping[str, str] | None = None,
    whole_subset: bool = True,
) -> pd.DataFrame | pa.Table:
    """The selection's local partitions as one pandas DataFrame (`output="arrow"`: one Table).

    `columns` (None: the manifest's `load.columns`; `"all"`: every column) and `filters` (a
    pyarrow Expression, or `(column, op, value)` tuples as `pyarrow.parquet` takes them) are
    pushed down into one scan.
    `dtypes` and `decode` override the manifest's `load.dtypes` / `load.decode`. Partitions that
    are not local are skipped with a `PygestorWarning` (`download` says how it was called, for
    the messages). `whole_subset`: the selection is one whole subset, so its Arrow copy (in
    `store`) may be used.
    """
    check_output(output)
    items = local(selection, download)
    opts = read_options(selection, columns, filters, dtypes, decode, output)
    table = None
    if whole_subset and len(selection.subsets) == 1:
        table = copy_table(store, selection, items, opts)
    if table is None:
        table = concat([run_table(run, opts) for run in runs(items, opts)], opts)
    table = apply_dtypes(table, opts)
    return table if output == "arrow" else to_pandas(table, opts)


def stream(
    selection: Selection,
    *,
    columns: Sequence[str] | None = None,
    filters: ds.Expression | Sequence[Any] | None = None,
    batch_size: int = 65_536,
    download: bool = True,
    output: Output = "pandas",
    dtypes: Mapping[str, str] | None = None,
    decode: Mapping[str, str] | None = None,
    prefetch: int = PREFETCH,
) -> Iterator[pd.DataFrame | pa.RecordBatch]:
    """The local partitions in partition order: DataFrames of `batch_size` rows (the last one
    fewer), or with `output="arrow"` RecordBatches of at most `batch_size` rows, zero-copy as
    the reader decoded them (a parquet row group each; read batches under 1 MiB are joined).
    Memory is bounded by the batch size and the read-ahead, not by the files: `prefetch`
    batches (0: none) are decoded ahead of the one returned, and freed memory goes back to the
    system as the stream goes. Arguments are checked when `stream` is called, before the first
    batch is asked for."""
    check_output(output)
    check_batch_size(batch_size)
    check_prefetch(prefetch)
    items = local(selection, download)
    opts = read_options(selection, columns, filters, dtypes, decode, output)
    found = runs(items, opts)
    for run in found:
        check_columns(run.schema, opts)
    return _stream(found, opts, batch_size, output, prefetch)


def scan(selection: Selection) -> ds.Dataset:
    """A `pyarrow.dataset.Dataset` over the local partitions, without reading their data (files
    the dataset API cannot open — text, json documents, `.zst` — are read into memory). A
    `PygestorWarning` names partitions that are not local."""
    import pyarrow.dataset as pads

    items = local(selection, download=False)
    opts = read_options(selection, None, None, None, None, "arrow", defaults=False)
    datasets = [run.dataset() for run in runs(items, opts)]
    return datasets[0] if len(datasets) == 1 else pads.dataset(datasets)


def paths(selection: Selection, download: bool = True) -> list[str]:
    """Where the selection's local partitions are, in selection order, for readers of one's
    own: local paths (a `local:` source's files where they are), or `s3://` URLs on an object
    store. Partitions that are not local are left out with a `PygestorWarning` (`download`
    says how it was called, for the messages); none local is a SelectionError."""
    from ..storage.base import located

    return [str(located(item.storage, item.file_key)) for item in local(selection, download)]


def check_batch_size(batch_size: Any) -> None:
    if not isinstance(batch_size, int) or batch_size < 1:
        raise SelectionError(f"batch_size must be a positive number of rows, not {batch_size!r}")


def check_prefetch(prefetch: Any) -> None:
    if not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 0:
        raise SelectionError(
            f"prefetch must be a number of batches to read ahead (0 or more), not {prefetch!r}"
        )


def _stream(
    found: list[Run], opts: ReadOptions, batch_size: int, output: Output, prefetch: int
) -> Iterator[Any]:

    batches = (b for run in found for b in run_batches(run, opts, batch_size, prefetch))
    streamed = 0
    if output == "arrow":  # never concatenated: a contiguous batch_size batch would be a copy
        for batch in cut(batches, batch_size):
            streamed = release(streamed + batch.get_total_buffer_size())
            yield apply_dtypes(batch, opts)
        return
    for pieces in rechunk(batches, batch_size):
        # one chunked table of the pieces: pandas takes the Arrow strings as they are, so the
        # pieces are not copied into one batch first
        streamed = release(streamed + sum(p.get_total_buffer_size() for p in pieces))
        yield _frame(pieces, opts)  # nothing of the frame's Arrow data stays in this generator


def _frame(pieces: list[Any], opts: ReadOptions) -> Any:
    """The pieces as one DataFrame; the table made of them is dropped once converted (a local
    of the generator would keep it, and the typed copy `apply_dtypes` may make, while the
    caller holds the frame)."""
    import pyarrow as pa

    table = pa.Table.from_batches(pieces)
    pieces.clear()  # the table alone holds them: to_pandas frees each column once converted
    return to_pandas(apply_dtypes(table, opts), opts)

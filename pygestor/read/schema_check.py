"""`validate --resolve`: the manifest's default `load.columns` against one file of each subset.

A default column that a subset's files lack makes every `load` / `stream` of that subset fail, so
it is reported at the `columns` key (file:line). The schema comes from the data directory's copy
when one is local, else from the source: a parquet footer by HTTP range (the last bytes of the
file, so a 2 GB shard costs a few kB), or the file itself for a local-folder source. Only parquet
files are checked: a text format's columns are known only by reading rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Problem, PygestorError, SourceError
from ..manifest.formats import detect

if TYPE_CHECKING:
    from ..index.records import Listing
    from ..index.store import Store
    from ..manifest.models import Manifest
    from ..sources.base import RemoteFile, Source


def default_column_problems(
    path: Path, manifest: Manifest, listing: Listing, store: Store, source: Source
) -> list[Problem]:
    """One problem per subset whose first file lacks a column of the default `load.columns`."""
    wanted = manifest.load.columns
    if not wanted or wanted == "all":
        return []
    line = columns_line(path)
    problems = []
    for subset in listing.subsets:
        if not subset.partitions:
            continue
        part = subset.partitions[0]
        declared = part.format.value if part.format else None
        if detect(part.file.path, declared).format != "parquet" or detect(part.file.path).suffix:
            continue
        try:
            names = _local_names(store, manifest.name, subset.name, part.name, part.file.size)
            if names is None:
                names = remote_parquet_names(source, part.file, listing.commit)
        except PygestorError as exc:
            problems.append(Problem(str(path), line, "load.columns", str(exc)))
            continue
        missing = [c for c in wanted if c not in names]
        if missing:
            problems.append(
                Problem(
                    str(path),
                    line,
                    "load.columns",
                    f"subset {subset.name!r} has no column {', '.join(map(repr, missing))} "
                    f"(its {part.file.path} has: {', '.join(names)}); fix the list, or write "
                    "`columns: all`",
                )
            )
    return problems


def columns_line(path: Path) -> int | None:
    """The line of `columns:` under `load:` in a manifest file (None if not found)."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, yaml.YAMLError):
        return None
    for key, value in getattr(node, "value", None) or []:
        if getattr(key, "value", None) == "load" and isinstance(value, yaml.MappingNode):
            for k, _ in value.value:
                if k.value == "columns":
                    return int(k.start_mark.line) + 1
    return None


def _local_names(
    store: Store, dataset: str, subset: str, partition: str, size: int
) -> list[str] | None:
    """The columns of the data directory's copy of the partition, None when it is not there."""
    import pyarrow.parquet as pq

    storage, key = store.storage, store.data_key(dataset, subset, partition)
    found = storage.info(key, follow=True)
    if found is None or found.size != size:
        return None
    try:
        return list(pq.read_schema(storage.open_arrow(key)).names)
    except Exception:  # noqa: BLE001 (a damaged copy: ask the source instead)
        return None


def remote_parquet_names(source: Source, file: RemoteFile, commit: str | None) -> list[str]:
    """The column names of a parquet file at the source, from its footer fetched by HTTP ranges
    (`read.ranges.parquet_footer`). A local-folder source's file is read in place."""
    import pyarrow.parquet as pq

    from .ranges import RangeReader, parquet_footer

    path_of = getattr(source, "path_of", None)
    if path_of is not None:  # a local or NFS folder
        try:
            return list(pq.read_schema(str(path_of(file))).names)
        except Exception as exc:  # noqa: BLE001 (pyarrow raises several types)
            raise SourceError(f"cannot read the parquet footer of {file.path}: {exc}") from None
    metadata, _ = parquet_footer(RangeReader(source, file, commit))
    return list(metadata.schema.to_arrow_schema().names)

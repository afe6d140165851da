"""The partitions of a subset as the index stores them, read as columns.

A subset file (`records.SubsetFile`) holds one JSON object per partition; a subset of a million
partitions' listing has 100,000 of them. `columns_as_written` checks them a column at a time
(one pass in C per check, the same verdicts as the check of each partition in `records`, which
still runs to say what is wrong with one that fails) and keeps them as `Columns`: the views
read names, paths and sizes from there, and `Partition` objects are built only when a caller
needs them (`Columns.partitions`), with the garbage collector paused.
"""

from __future__ import annotations

import gc
import math
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from ..manifest.models import Format
from ..resolve import Partition
from ..sources.base import RemoteFile

#: the keys of a partition in a subset file, each a column
COLUMN_KEYS = ("name", "path", "size", "sha256", "blob_id", "mtime", "format")
FORMAT_OF: dict[str | None, Format | None] = {None: None, **{f.value: f for f in Format}}
#: one safe relative path a line (the names of a subset's partitions, joined)
SAFE_RELPATHS = re.compile(
    r"[A-Za-z0-9_][A-Za-z0-9._-]{0,199}(?:[/\n][A-Za-z0-9_][A-Za-z0-9._-]{0,199})*"
).fullmatch
_TEXT_OR_NONE = frozenset({str, type(None)})


@contextmanager
def without_gc() -> Iterator[None]:
    """The cyclic garbage collector paused (when it was on): building the 100,000 partitions of
    a subset file (no cycles among them) would otherwise run it every 700 objects, and a full
    collection over the whole heap every so often (a third of the time of a parse)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class Columns(NamedTuple):
    """The partitions of a subset as columns, in listing order: what a subset file holds, read
    without building a `Partition` per entry (a view of 100,000 of them needs their names,
    paths and sizes, not 200,000 objects)."""

    names: tuple[str, ...]
    paths: tuple[str, ...]
    sizes: tuple[int, ...]
    sha256s: tuple[str | None, ...]
    blob_ids: tuple[str | None, ...]
    mtimes: tuple[float | None, ...]
    formats: tuple[Format | None, ...]

    @classmethod
    def of(cls, partitions: tuple[Partition, ...]) -> Columns:
        files = [p.file for p in partitions]
        return cls(
            tuple(p.name for p in partitions),
            tuple(f.path for f in files),
            tuple(f.size for f in files),
            tuple(f.sha256 for f in files),
            tuple(f.blob_id for f in files),
            tuple(f.mtime for f in files),
            tuple(p.format for p in partitions),
        )

    def partitions(self) -> tuple[Partition, ...]:
        """One `Partition` per row (built with the garbage collector paused: no cycles)."""
        with without_gc():
            f = self
            files = map(RemoteFile, f.paths, f.sizes, f.sha256s, f.blob_ids, f.mtimes)
            return tuple(map(Partition, self.names, files, self.formats))


_NO_COLUMNS = Columns((), (), (), (), (), (), ())
_COLUMNS = operator.itemgetter(*COLUMN_KEYS)
_NONE = type(None)


def columns_as_written(items: list[dict[str, Any]]) -> Columns | None:
    """The partitions of `items` when every one has the shape pygestor writes, checked a column
    at a time (a subset file holds 100,000 of them: one pass per check in C, not ten Python
    tests per partition), else None (`_partition_checked` then names what is wrong)."""
    if not items:
        return _NO_COLUMNS
    try:
        if set(map(len, items)) != {len(COLUMN_KEYS)}:
            return None
        rows = list(map(_COLUMNS, items))  # (a missing key: KeyError)
        names, paths, sizes, shas, blobs, mtimes, formats = zip(*rows, strict=True)
        kinds = set(map(type, mtimes))
        shown = {f: FORMAT_OF[f] for f in set(formats)}  # (an unknown one: KeyError)
    except (KeyError, TypeError):  # (TypeError: a format that is not a string)
        return None
    joined = "\n".join(names)
    if not (
        set(map(type, names)) == set(map(type, paths)) == {str}
        and set(map(type, sizes)) == {int}
        and min(sizes) >= 0
        and set(map(type, shas)) <= _TEXT_OR_NONE
        and set(map(type, blobs)) <= _TEXT_OR_NONE
        and kinds <= {_NONE, int, float}
        and (float not in kinds or all(math.isfinite(m) for m in mtimes if type(m) is float))
        and joined.count("\n") == len(names) - 1  # (no name holds a line break)
        and SAFE_RELPATHS(joined)
    ):
        return None
    kept = tuple(map(shown.__getitem__, formats))
    return Columns(names, paths, sizes, shas, blobs, mtimes, kept)

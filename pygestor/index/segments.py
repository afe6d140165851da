"""Local records in batches: one create-only *segment* file per batch of records of one subset.

    segments/<subset>/<seq>-<entries>.json

A segment holds the records a batch wrote (`{partition: record}`) and the partitions it dropped.
Segments are never changed once written; the records of a subset are all its segments applied in
order of `seq` (a later one wins), over the format 1 records of pygestor 0.6 if any are left. A
writer (holding the dataset lock) names its segment `seq` = the highest + 1, so the order is the
order of the writes. Compaction merges the newest segments into one when they have grown to a
sizeable share of the one before (each record is rewritten a bounded number of times, and a
subset has a handful of segments however many partitions it has), and all of them when there are
more than `MAX_SEGMENTS`; the merged segment is written before the ones it replaces are removed,
so a reader that finds a segment gone reads the folder again.

Pure values and rules here; `Store` does the reading and writing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from ..errors import DamagedIndex
from .records import (
    FORMAT_VERSION,
    Check,
    Raw,
    Record,
    _Bad,
    _check_keys,
    _listed,
    _mapping,
    _object,
    _text,
)

MAX_SEGMENTS = 12  # more than this (readable ones) in a subset: merge them all
GROWTH = 4  # merge the newest segments once they hold 1/GROWTH of the entries of the one before
_NAME = re.compile(r"([0-9]{10})-([0-9]{1,12})(?:-([0-9a-f]{16}))?\.json").fullmatch


@dataclass(frozen=True)
class SegmentName:
    """What a segment's file name says: its place in the order, and how many entries it has."""

    seq: int
    entries: int
    #: without a lock (object stores) every segment's name is new (`<seq>-<entries>-<tag>`): a
    #: writer that listed the folder before a merge removed a segment may pick its seq again,
    #: and a file of the same name, size and (coarse) time would pass for the one parsed before
    tag: str = ""

    @property
    def file(self) -> str:
        tail = f"-{self.tag}" if self.tag else ""
        return f"{self.seq:010d}-{self.entries}{tail}.json"

    @classmethod
    def of(cls, file: str) -> SegmentName | None:
        """The name of a segment file, None for any other name (temporary files, strays)."""
        found = _NAME(file)
        return None if found is None else cls(int(found[1]), int(found[2]), found[3] or "")


@dataclass(frozen=True)
class Segment:
    """One batch of records of one subset: the records written, the partitions dropped."""

    dataset: str
    subset: str
    records: dict[str, Record]
    dropped: tuple[str, ...] = ()

    @property
    def entries(self) -> int:
        return len(self.records) + len(self.dropped)

    def to_bytes(self) -> bytes:
        data = {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "subset": self.subset,
            "records": {p: asdict(r) for p, r in self.records.items()},
            "dropped": sorted(self.dropped),
        }
        return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()

    @classmethod
    def parse(cls, raw: Raw, *, where: str, dataset: str, subset: str) -> Segment:
        """The segment stored as `raw` (of `dataset`'s subset `subset`), its shape checked;
        DamagedIndex otherwise."""
        data = _object(raw, where, dataset)
        try:
            _check_keys(data, _SEGMENT_KEYS)
            if data["dataset"] != dataset or data["subset"] != subset:
                raise _Bad(
                    f"is a segment of {data['dataset']!r}/{data['subset']!r}, "
                    f"not of {dataset!r}/{subset!r}"
                )
            records, dropped = data["records"], data["dropped"]
            if not all(type(p) is str for p in dropped):
                raise _Bad("dropped: is not a list of partition names")
            found = {}
            for partition, value in records.items():
                if type(value) is not dict or value.get("format") != Record.format:
                    raise _Bad(f"the record of {partition!r} is not a record object")
                found[partition] = Record.checked(value, where, dataset)
        except _Bad as exc:
            raise DamagedIndex(where, str(exc), dataset) from None
        return cls(dataset, subset, found, tuple(dropped))


_SEGMENT_KEYS: dict[str, tuple[Check, bool]] = {
    "dataset": (_text, True),
    "subset": (_text, True),
    "records": (_mapping, True),
    "dropped": (_listed, True),
}


def apply(found: dict[str, Record], segment: Segment) -> None:
    """Apply `segment` over the records `found` so far (in place)."""
    for partition in segment.dropped:
        found.pop(partition, None)
    found.update(segment.records)


def merged(segments: Iterable[Segment], *, first: bool) -> Segment:
    """One segment with the effect of `segments` (oldest first). `first`: they start at the
    subset's oldest segment, so drops have nothing left to hide and are left out."""
    records: dict[str, Record] = {}
    dropped: set[str] = set()
    dataset = subset = ""
    for segment in segments:
        dataset, subset = segment.dataset, segment.subset
        for partition in segment.dropped:
            records.pop(partition, None)
            dropped.add(partition)
        for partition in segment.records:
            dropped.discard(partition)
        records.update(segment.records)
    return Segment(dataset, subset, records, () if first else tuple(sorted(dropped)))


def to_merge(names: list[SegmentName]) -> int:
    """How many of the newest segments (`names`, oldest first, readable ones) to merge into one
    after a write: 0 or 1 for none. The newest ones merge while the run holds at least
    1/GROWTH of the entries of the segment before it; all merge when there are too many."""
    if len(names) > MAX_SEGMENTS:
        return len(names)
    run = names[-1].entries if names else 0
    count = 1
    while count < len(names) and names[-count - 1].entries <= GROWTH * max(run, 1):
        count += 1
        run += names[-count].entries
    return count

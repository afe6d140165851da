"""The index's records, as stored: the resolved `Listing` a sync wrote (a small head, plus the
partitions of each subset in a file of their own, `SubsetFile`), the `Pointer` to the one in
force, and one `Record` per verified local partition (stored in batches: `segments.py`). JSON
with a format version; pure values.

Format 2 (this one) splits a listing into its head and one file per subset; format 1 (pygestor
0.6) stored the whole listing in one file and one file per record. Format 1 pointers, listings and
records are still read (a read-only shared tier of 0.6 keeps working); every write is format 2,
and the first write to a dataset's index migrates it (`Store.migrate`).

Every read goes through one `parse` per kind (`Pointer.parse`, `Listing.parse`,
`SubsetFile.parse`, `Record.parse`, `segments.Segment.parse`):
the bytes are decoded and their whole shape checked (an object, this format version, exactly the
known keys, each of its type: sizes and counts whole numbers of 0 or more, names safe relative
paths), so a truncated, garbled or foreign file is a `DamagedIndex` naming it, never a
`KeyError`/`TypeError` further on. Unknown keys are refused, as in manifests: a pygestor that adds
a field raises the format version.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from ..errors import DamagedIndex
from ..manifest.models import Format
from ..resolve import Partition, Resolution, Subset
from ..sources.base import RemoteFile
from .columns import COLUMN_KEYS, FORMAT_OF, Columns, columns_as_written, without_gc

FORMAT_VERSION = 2
LEGACY_FORMAT = 1  # pygestor 0.6: one file per listing and per record (read, never written)
RECORD_FORMAT = 1  # of one record (a key of its own, kept from format 1)
Raw = bytes  # a stored file's content (`bytes` is also a field of `Pointer`)


def utc_now() -> str:
    """The current time as ISO-8601 UTC, to the second (`2026-11-25T12:00:00Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Listing:
    """A resolved listing as stored: the tree a sync produced, plus its report."""

    dataset: str
    source: str
    revision: str | None
    commit: str | None
    manifest: str  # the manifest's fingerprint
    subsets: tuple[Subset, ...]
    unmatched: tuple[str, ...] = ()
    empty_rules: tuple[int, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_resolution(
        cls,
        dataset: str,
        source: str,
        revision: str | None,
        commit: str | None,
        manifest: str,
        resolution: Resolution,
    ) -> Listing:
        return cls(
            dataset,
            source,
            revision,
            commit,
            manifest,
            resolution.subsets,
            resolution.unmatched,
            resolution.empty_rules,
            resolution.skipped,
        )

    def totals(self) -> dict[str, Any]:
        """Where it came from and how big it is: what the pointer and a sync's report carry."""
        return {
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "subsets": len(self.subsets),
            "partitions": self.partition_count,
            "bytes": self.size,
        }

    @property
    def partition_count(self) -> int:
        return sum(s.partition_count for s in self.subsets)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.subsets)

    def head_json(self, files: list[str]) -> dict[str, Any]:
        """The stored head (format 2): everything but the partitions, which are in the subset
        files named `files` (one per subset, in order; see `SubsetFile`)."""
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "manifest": self.manifest,
            "subsets": [
                {"name": s.name, "partitions": s.partition_count, "bytes": s.size, "file": f}
                for s, f in zip(self.subsets, files, strict=True)
            ],
            "unmatched": list(self.unmatched),
            "empty_rules": list(self.empty_rules),
            "skipped": [list(x) for x in self.skipped],
        }

    def subset(self, name: str) -> Subset | None:
        return next((s for s in self.subsets if s.name == name), None)

    def stored(self) -> tuple[str, bytes, list[tuple[str, bytes]]]:
        """How the listing is stored (format 2): the id and bytes of its head, and the id and
        bytes of each subset's file, each named by a hash of its content."""
        files = []
        for s in self.subsets:
            text = _dumps(SubsetFile(self.dataset, s.name, s.partitions).to_json())
            files.append((_content_id(text), text))
        head = _dumps(self.head_json([f for f, _ in files]))
        return _content_id(head), head, files

    def to_json(self) -> dict[str, Any]:
        """The whole listing as one JSON object (the partitions of every subset read)."""
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "source": self.source,
            "revision": self.revision,
            "commit": self.commit,
            "manifest": self.manifest,
            "subsets": [
                {"name": s.name, "partitions": [_partition_json(p) for p in s.partitions]}
                for s in self.subsets
            ],
            "unmatched": list(self.unmatched),
            "empty_rules": list(self.empty_rules),
            "skipped": [list(x) for x in self.skipped],
        }

    @classmethod
    def parse(
        cls, raw: Raw, *, where: str, dataset: str, load: SubsetLoader | None = None
    ) -> Listing:
        """The listing stored as `raw` (in the file `where`, of `dataset`), its shape checked;
        DamagedIndex otherwise. A head (format 2) has `StoredSubset`s, whose partitions `load`
        reads when first touched; a format 1 listing holds them all."""
        data = _object(raw, where, dataset, (FORMAT_VERSION, LEGACY_FORMAT))
        try:
            _check_keys(data, _LISTING_KEYS)
            if data["dataset"] != dataset:
                raise _Bad(f"is a listing of {data['dataset']!r}, not of {dataset!r}")
            subsets: tuple[Subset, ...]
            if data["format"] == LEGACY_FORMAT:
                subsets = tuple(_subset_from_json(s) for s in _items(data, "subsets", dict))
            else:
                heads = _items(data, "subsets", dict)
                subsets = tuple(_stored_subset(s, load) for s in heads)
            if len({s.name for s in subsets}) != len(subsets):
                raise _Bad("names a subset twice")
            return cls(
                data["dataset"],
                data["source"],
                data["revision"],
                data["commit"],
                data["manifest"],
                subsets,
                tuple(_items(data, "unmatched", str)),
                tuple(_items(data, "empty_rules", int)),
                tuple(_pair(x) for x in _items(data, "skipped", list)),
            )
        except _Bad as exc:
            raise DamagedIndex(where, str(exc), dataset) from None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Listing:
        """The listing of an already checked JSON object (see `parse` for stored bytes)."""
        check_format(data)
        subsets = tuple(
            Subset(s["name"], tuple(_partition_from_json(p) for p in s["partitions"]))
            for s in data["subsets"]
        )
        return cls(
            data["dataset"],
            data["source"],
            data["revision"],
            data["commit"],
            data["manifest"],
            subsets,
            tuple(data["unmatched"]),
            tuple(data["empty_rules"]),
            tuple((a, b) for a, b in data["skipped"]),
        )


def _dumps(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _content_id(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()[:32]


def _partition_json(p: Partition) -> dict[str, Any]:
    f = p.file
    return {
        "name": p.name,
        "path": f.path,
        "size": f.size,
        "sha256": f.sha256,
        "blob_id": f.blob_id,
        "mtime": f.mtime,
        "format": p.format.value if p.format else None,
    }


def _partition_from_json(d: dict[str, Any]) -> Partition:
    file = RemoteFile(d["path"], d["size"], d["sha256"], d["blob_id"], d["mtime"])
    return Partition(d["name"], file, Format(d["format"]) if d["format"] else None)


def _subset_from_json(s: dict[str, Any]) -> Subset:
    name, columns = _columns_from_json(s)
    return Subset(name, columns.partitions())


def _columns_from_json(s: dict[str, Any]) -> tuple[str, Columns]:
    """The name and partitions of a subset of a stored listing, its shape checked."""
    _check_keys(s, _SUBSET_KEYS, "a subset")
    name = s["name"]
    if "/" in name or not _SAFE_RELPATH(name):
        raise _Bad(f"has a subset named {name!r}, which is not a safe folder name")
    items = _items(s, "partitions", dict)
    columns = columns_as_written(items)
    if columns is None:  # not as pygestor writes them: each checked, to say what is wrong
        columns = Columns.of(tuple(_partition_checked(p, name) for p in items))
    if len(set(columns.names)) != len(columns.names):
        raise _Bad(f"names a partition of subset {name!r} twice")
    return name, columns


def _partition_checked(d: dict[str, Any], subset: str) -> Partition:
    """One partition of a listing, its shape checked (a listing has thousands: the usual case
    is tested inline, the full check runs only to say what is wrong)."""
    if d.keys() == _PARTITION_KEYSET:
        name, size, sha, blob, mtime = d["name"], d["size"], d["sha256"], d["blob_id"], d["mtime"]
        path, fmt = d["path"], d["format"]
        if (
            type(path) is str
            and type(size) is int
            and size >= 0
            and (sha is None or type(sha) is str)
            and (blob is None or type(blob) is str)
            and (mtime is None or type(mtime) is int or (type(mtime) is float and _finite(mtime)))
            and fmt in FORMAT_OF
            and type(name) is str
            and _SAFE_RELPATH(name)
        ):
            return Partition(name, RemoteFile(path, size, sha, blob, mtime), FORMAT_OF[fmt])
    _check_keys(d, _PARTITION_KEYS, f"a partition of subset {subset!r}")
    if not _SAFE_RELPATH(d["name"]):
        raise _Bad(f"has a partition named {d['name']!r}, which is not a safe relative path")
    fmt = d["format"]
    if fmt is not None and fmt not in _FORMATS:
        raise _Bad(f"has a partition of format {fmt!r}, which is not a known format")
    return _partition_from_json(d)


#: reads the partitions of one subset of a stored listing: (subset name, file id, count, bytes)
SubsetLoader = Callable[[str, str, int, int], Columns]


class StoredSubset(Subset):
    """A subset of a stored listing (format 2): its name and totals come from the listing's
    head; its partitions are read from their own file (`SubsetFile`) when first touched, so a
    command about one subset never reads the others'."""

    file: str  # the id of its SubsetFile
    _count: int
    _size: int

    def __init__(self, name: str, count: int, size: int, file: str, load: SubsetLoader) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "file", file)  # the id of its SubsetFile
        object.__setattr__(self, "_count", count)
        object.__setattr__(self, "_size", size)
        object.__setattr__(self, "_load", load)
        object.__setattr__(self, "_columns", None)
        object.__setattr__(self, "_partitions", None)

    @property  # (a field of Subset, read lazily here)
    def partitions(self) -> tuple[Partition, ...]:
        found: tuple[Partition, ...] | None = self.__dict__["_partitions"]
        if found is None:
            found = self.columns.partitions()
            object.__setattr__(self, "_partitions", found)
        return found

    @property
    def columns(self) -> Columns:
        """The partitions as columns (read from the subset's file when first touched)."""
        found: Columns | None = self.__dict__["_columns"]
        if found is None:
            found = self.__dict__["_load"](self.name, self.file, self._count, self._size)
            object.__setattr__(self, "_columns", found)
        return found

    @property
    def loaded(self) -> bool:
        """True once the partitions were read."""
        return self.__dict__["_columns"] is not None

    @property
    def partition_count(self) -> int:
        return int(self.__dict__["_count"])

    @property
    def size(self) -> int:
        return int(self.__dict__["_size"])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Subset):
            return NotImplemented
        if isinstance(other, StoredSubset) and other.file == self.file:
            return other.name == self.name
        return (self.name, self.partitions) == (other.name, other.partitions)

    def __hash__(self) -> int:
        return hash((self.name, self.partitions))

    def __repr__(self) -> str:
        return f"StoredSubset({self.name!r}, {self._count} partitions, file {self.file!r})"


def columns_of(subset: Subset) -> Columns:
    """The partitions of `subset` as columns (of a stored one: without building them)."""
    return subset.columns if isinstance(subset, StoredSubset) else Columns.of(subset.partitions)


@dataclass(frozen=True)
class SubsetFile:
    """The partitions of one subset of a listing, stored on their own (format 2), named by a
    hash of their content (so a subset unchanged by a sync is not written again)."""

    dataset: str
    subset: str
    partitions: tuple[Partition, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "dataset": self.dataset,
            "subset": self.subset,
            "partitions": [_partition_json(p) for p in self.partitions],
        }

    @classmethod
    def parse(cls, raw: Raw, *, where: str, dataset: str) -> SubsetFile:
        """The subset file stored as `raw`, its shape checked; DamagedIndex otherwise."""
        with without_gc():
            return cls._parse(raw, where, dataset)

    @classmethod
    def _parse(cls, raw: Raw, where: str, dataset: str) -> SubsetFile:
        name, columns = cls.parse_columns(raw, where=where, dataset=dataset)
        return cls(dataset, name, columns.partitions())

    @classmethod
    def parse_columns(cls, raw: Raw, *, where: str, dataset: str) -> tuple[str, Columns]:
        """`parse`, as the subset's name and its partitions as columns (no `Partition` built)."""
        with without_gc():
            data = _object(raw, where, dataset)
            try:
                _check_keys(data, _SUBSET_FILE_KEYS)
                if data["dataset"] != dataset:
                    raise _Bad(f"is a listing of {data['dataset']!r}, not of {dataset!r}")
                name = data["subset"]
                if "/" in name or not _SAFE_RELPATH(name):
                    raise _Bad(f"has a subset named {name!r}, which is not a safe folder name")
                return _columns_from_json({"name": name, "partitions": data["partitions"]})
            except _Bad as exc:
                raise DamagedIndex(where, str(exc), dataset) from None


def _stored_subset(s: dict[str, Any], load: SubsetLoader | None) -> Subset:
    _check_keys(s, _HEAD_SUBSET_KEYS, "a subset")
    name = s["name"]
    if "/" in name or not _SAFE_RELPATH(name):
        raise _Bad(f"has a subset named {name!r}, which is not a safe folder name")
    if not _LISTING_ID(s["file"]):
        raise _Bad(f"file of a subset {name!r}: {_short(s['file'])} is not a file id")
    if load is None:
        raise _Bad("is a listing head, read without its subset files")
    return StoredSubset(name, s["partitions"], s["bytes"], s["file"], load)


@dataclass(frozen=True)
class Pointer:
    """`current.json`: which listing is in force, and its totals (so `list` reads no listing)."""

    listing: str
    synced_at: str
    source: str
    revision: str | None
    commit: str | None
    subsets: int
    partitions: int
    bytes: int
    previous: str | None = None
    format: int = FORMAT_VERSION

    @classmethod
    def parse(cls, raw: Raw, *, where: str, dataset: str) -> Pointer:
        """The pointer stored as `raw` (`current.json` of `dataset`), its shape checked;
        DamagedIndex otherwise. (Format 1: a pointer of pygestor 0.6, to a format 1 listing.)"""
        data = _object(raw, where, dataset, (FORMAT_VERSION, LEGACY_FORMAT))
        try:
            _check_keys(data, _POINTER_KEYS)
            for key in ("listing", "previous"):
                if data.get(key) is not None and not _LISTING_ID(data[key]):
                    raise _Bad(f"{key}: {data[key]!r} is not a listing id")
        except _Bad as exc:
            raise DamagedIndex(where, str(exc), dataset) from None
        return cls(**data)


@dataclass(frozen=True)
class Record:
    """What is known about one verified local partition."""

    path: str  # the remote path it came from
    size: int
    sha256: str | None = None
    blob_id: str | None = None
    mtime: float | None = None  # the source's mtime (local sources)
    commit: str | None = None  # the source commit it was fetched at
    rows: int | None = None
    downloaded_at: str = field(default_factory=utc_now)
    format: int = RECORD_FORMAT

    @classmethod
    def parse(cls, raw: Raw, *, where: str, dataset: str) -> Record:
        """The record stored as `raw` (a format 1 file of one record), its shape checked;
        DamagedIndex otherwise."""
        return cls.checked(_object(raw, where, dataset, (RECORD_FORMAT,)), where, dataset)

    @classmethod
    def checked(cls, data: dict[str, Any], where: str, dataset: str) -> Record:
        """The record of the JSON object `data` (its `format` already checked), its shape
        checked; DamagedIndex naming `where` otherwise."""
        if data.keys() == _RECORD_KEYSET:  # as written: every key (the usual case, inline)
            size, rows, mtime = data["size"], data["rows"], data["mtime"]
            if (
                type(data["path"]) is str
                and type(size) is int
                and size >= 0
                and _text_or_none(data["sha256"])
                and _text_or_none(data["blob_id"])
                and _text_or_none(data["commit"])
                and type(data["downloaded_at"]) is str
                and (rows is None or (type(rows) is int and rows >= 0))
                and (
                    mtime is None or type(mtime) is int or (type(mtime) is float and _finite(mtime))
                )
            ):
                return cls(**data)
        try:
            _check_keys(data, _RECORD_KEYS)
        except _Bad as exc:
            raise DamagedIndex(where, str(exc), dataset) from None
        return cls(**data)

    @classmethod
    def of(
        cls,
        file: RemoteFile,
        *,
        commit: str | None,
        rows: int | None,
        downloaded_at: str | None = None,
    ) -> Record:
        """The record of a verified local copy of `file`, fetched at `commit`."""
        return cls(
            file.path,
            file.size,
            file.sha256,
            file.blob_id,
            file.mtime,
            commit,
            rows,
            downloaded_at or utc_now(),
        )

    @property
    def file(self) -> RemoteFile:
        """The upstream file as it was when fetched."""
        return RemoteFile(self.path, self.size, self.sha256, self.blob_id, self.mtime)

    def matches(self, file: RemoteFile) -> bool:
        """True when the upstream file still has the content this record was fetched with."""
        return self.file.same_content(file)


def check_format(
    data: dict[str, Any],
    where: str = "an index file",
    dataset: str | None = None,
    versions: tuple[int, ...] = (FORMAT_VERSION,),
) -> None:
    """DamagedIndex unless `data` is of one of the index format `versions`."""
    what = _format_problem(data, versions)
    if what is not None:
        raise DamagedIndex(where, what, dataset)


# ---- shape checks: what `parse` accepts -----------------------------------------------------
class _Bad(Exception):
    """What is wrong with a stored value (`parse` turns it into a DamagedIndex naming the file)."""


Check = Callable[[Any], bool]
_SAFE_RELPATH = re.compile(  # `patterns.is_safe_relpath` as one regex: a listing has many names
    r"(?:[A-Za-z0-9_][A-Za-z0-9._-]{0,199}/)*[A-Za-z0-9_][A-Za-z0-9._-]{0,199}"
).fullmatch
_LISTING_ID = re.compile(r"[0-9a-f]{1,64}").fullmatch
_FORMATS = frozenset(f.value for f in Format)
_finite = math.isfinite


def _text(v: Any) -> bool:
    return type(v) is str


def _text_or_none(v: Any) -> bool:
    return v is None or type(v) is str


def _count(v: Any) -> bool:
    return type(v) is int and v >= 0


def _count_or_none(v: Any) -> bool:
    return v is None or (type(v) is int and v >= 0)


def _number_or_none(v: Any) -> bool:
    return v is None or (type(v) in (int, float) and math.isfinite(v))


def _listed(v: Any) -> bool:
    return type(v) is list


def _mapping(v: Any) -> bool:
    return type(v) is dict


_KIND: dict[Check, str] = {
    _text: "a string",
    _text_or_none: "a string or null",
    _count: "a whole number of 0 or more",
    _count_or_none: "a whole number of 0 or more, or null",
    _number_or_none: "a number or null",
    _listed: "a list",
    _mapping: "an object",
}
# key -> (its check, required); `format` is checked first, on its own
_POINTER_KEYS: dict[str, tuple[Check, bool]] = {
    "listing": (_text, True),
    "synced_at": (_text, True),
    "source": (_text, True),
    "revision": (_text_or_none, True),
    "commit": (_text_or_none, True),
    "subsets": (_count, True),
    "partitions": (_count, True),
    "bytes": (_count, True),
    "previous": (_text_or_none, False),
}
_RECORD_KEYS: dict[str, tuple[Check, bool]] = {
    "path": (_text, True),
    "size": (_count, True),
    "sha256": (_text_or_none, False),
    "blob_id": (_text_or_none, False),
    "mtime": (_number_or_none, False),
    "commit": (_text_or_none, False),
    "rows": (_count_or_none, False),
    "downloaded_at": (_text, True),
}
_LISTING_KEYS: dict[str, tuple[Check, bool]] = {
    "dataset": (_text, True),
    "source": (_text, True),
    "revision": (_text_or_none, True),
    "commit": (_text_or_none, True),
    "manifest": (_text, True),
    "subsets": (_listed, True),
    "unmatched": (_listed, True),
    "empty_rules": (_listed, True),
    "skipped": (_listed, True),
}
_SUBSET_KEYS: dict[str, tuple[Check, bool]] = {"name": (_text, True), "partitions": (_listed, True)}
_HEAD_SUBSET_KEYS: dict[str, tuple[Check, bool]] = {
    "name": (_text, True),
    "partitions": (_count, True),
    "bytes": (_count, True),
    "file": (_text, True),
}
_SUBSET_FILE_KEYS: dict[str, tuple[Check, bool]] = {
    "dataset": (_text, True),
    "subset": (_text, True),
    "partitions": (_listed, True),
}
_PARTITION_KEYS: dict[str, tuple[Check, bool]] = {
    "name": (_text, True),
    "path": (_text, True),
    "size": (_count, True),
    "sha256": (_text_or_none, True),
    "blob_id": (_text_or_none, True),
    "mtime": (_number_or_none, True),
    "format": (_text_or_none, True),
}
_PARTITION_KEYSET = frozenset(_PARTITION_KEYS)
assert set(COLUMN_KEYS) == _PARTITION_KEYSET
_RECORD_KEYSET = frozenset(_RECORD_KEYS) | {"format"}
assert set(_POINTER_KEYS) | {"format"} == {f.name for f in fields(Pointer)}
assert set(_RECORD_KEYS) | {"format"} == {f.name for f in fields(Record)}


def _object(
    raw: Raw, where: str, dataset: str, versions: tuple[int, ...] = (FORMAT_VERSION,)
) -> dict[str, Any]:
    """`raw` decoded as a JSON object of one of the format `versions`; DamagedIndex otherwise."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise DamagedIndex(where, "is not UTF-8 text (garbled)", dataset) from None
    except (ValueError, RecursionError):
        what = "is empty" if not raw.strip() else "is not valid JSON (truncated or garbled)"
        raise DamagedIndex(where, what, dataset) from None
    if type(data) is not dict:
        raise DamagedIndex(where, f"holds {_json_kind(data)}, not a JSON object", dataset)
    if data.get("format") not in versions or type(data["format"]) is not int:
        check_format(data, where, dataset, versions)
    return data


def _format_problem(
    data: dict[str, Any], versions: tuple[int, ...] = (FORMAT_VERSION,)
) -> str | None:
    version = data.get("format")
    if version in versions and type(version) is int:
        return None
    if version is None:
        return "has no index format number (not written by pygestor)"
    return (
        f"index format {version!r} is not supported by this pygestor (it reads {versions[0]}); "
        "upgrade pygestor, or rebuild the index for this one"
    )


def _check_keys(data: dict[str, Any], keys: dict[str, tuple[Check, bool]], what: str = "") -> None:
    """_Bad unless `data` has exactly the known `keys` (required ones present), each well typed."""
    of = f" of {what}" if what else ""
    for key, value in data.items():
        if key == "format" and not what:
            continue
        known = keys.get(key)
        if known is None:
            raise _Bad(f"has an unknown key {key!r}{of}")
        if not known[0](value):
            raise _Bad(f"{key}{of}: {_short(value)} is not {_KIND[known[0]]}")
    for key, (_, required) in keys.items():
        if required and key not in data:
            raise _Bad(f"misses the key {key!r}{of}")


def _items(data: dict[str, Any], key: str, kind: type) -> list[Any]:
    """The list at `key` (already checked to be one), each item checked to be a `kind`."""
    items: list[Any] = data[key]
    for item in items:
        if type(item) is not kind or (kind is int and _negative(item)):
            raise _Bad(f"{key}: {_short(item)} is not {_json_kind(kind())}")
    return items


def _negative(value: Any) -> bool:
    return bool(value < 0)


def _pair(x: list[Any]) -> tuple[str, str]:
    if len(x) != 2 or not all(type(v) is str for v in x):
        raise _Bad(f"skipped: {_short(x)} is not a [path, reason] pair")
    return (x[0], x[1])


def _json_kind(value: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true or false",
    }.get(type(value), "null")


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."

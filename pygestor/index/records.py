"""The index's records, as stored: the resolved `Listing` a sync wrote, the `Pointer` to the one in
force, and one `Record` per verified local partition. JSON with a format version; pure values.

Every read goes through one `parse` per kind (`Pointer.parse`, `Listing.parse`, `Record.parse`):
the bytes are decoded and their whole shape checked (an object, this format version, exactly the
known keys, each of its type: sizes and counts whole numbers of 0 or more, names safe relative
paths), so a truncated, garbled or foreign file is a `DamagedIndex` naming it, never a
`KeyError`/`TypeError` further on. Unknown keys are refused, as in manifests: a pygestor that adds
a field raises the format version.
"""

from __future__ import annotations

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

FORMAT_VERSION = 1
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
        return sum(len(s.partitions) for s in self.subsets)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.subsets)

    def subset(self, name: str) -> Subset | None:
        return next((s for s in self.subsets if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
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
    def parse(cls, raw: Raw, *, where: str, dataset: str) -> Listing:
        """The listing stored as `raw` (in the file `where`, of `dataset`), its shape checked;
        DamagedIndex otherwise."""
        data = _object(raw, where, dataset)
        try:
            _check_keys(data, _LISTING_KEYS)
            if data["dataset"] != dataset:
                raise _Bad(f"is a listing of {data['dataset']!r}, not of {dataset!r}")
            subsets = tuple(_subset_from_json(s) for s in _items(data, "subsets", dict))
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
    _check_keys(s, _SUBSET_KEYS, "a subset")
    name = s["name"]
    if "/" in name or not _SAFE_RELPATH(name):
        raise _Bad(f"has a subset named {name!r}, which is not a safe folder name")
    partitions = tuple(_partition_checked(p, name) for p in _items(s, "partitions", dict))
    if len({p.name for p in partitions}) != len(partitions):
        raise _Bad(f"names a partition of subset {name!r} twice")
    return Subset(name, partitions)


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
            and fmt in _FORMAT_OF
            and type(name) is str
            and _SAFE_RELPATH(name)
        ):
            return Partition(name, RemoteFile(path, size, sha, blob, mtime), _FORMAT_OF[fmt])
    _check_keys(d, _PARTITION_KEYS, f"a partition of subset {subset!r}")
    if not _SAFE_RELPATH(d["name"]):
        raise _Bad(f"has a partition named {d['name']!r}, which is not a safe relative path")
    fmt = d["format"]
    if fmt is not None and fmt not in _FORMATS:
        raise _Bad(f"has a partition of format {fmt!r}, which is not a known format")
    return _partition_from_json(d)


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
        DamagedIndex otherwise."""
        data = _object(raw, where, dataset)
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
    format: int = FORMAT_VERSION

    @classmethod
    def parse(cls, raw: Raw, *, where: str, dataset: str) -> Record:
        """The record stored as `raw` (a file of `dataset`'s records), its shape checked;
        DamagedIndex otherwise."""
        data = _object(raw, where, dataset)
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


def check_format(data: dict[str, Any], where: str = "an index file", dataset: str | None = None):
    """DamagedIndex unless `data` is of this pygestor's index format."""
    what = _format_problem(data)
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
_FORMAT_OF: dict[str | None, Format | None] = {None: None, **{f.value: f for f in Format}}
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


_KIND: dict[Check, str] = {
    _text: "a string",
    _text_or_none: "a string or null",
    _count: "a whole number of 0 or more",
    _count_or_none: "a whole number of 0 or more, or null",
    _number_or_none: "a number or null",
    _listed: "a list",
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
_RECORD_KEYSET = frozenset(_RECORD_KEYS) | {"format"}
assert set(_POINTER_KEYS) | {"format"} == {f.name for f in fields(Pointer)}
assert set(_RECORD_KEYS) | {"format"} == {f.name for f in fields(Record)}


def _object(raw: Raw, where: str, dataset: str) -> dict[str, Any]:
    """`raw` decoded as a JSON object of this format version; DamagedIndex otherwise."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise DamagedIndex(where, "is not UTF-8 text (garbled)", dataset) from None
    except (ValueError, RecursionError):
        what = "is empty" if not raw.strip() else "is not valid JSON (truncated or garbled)"
        raise DamagedIndex(where, what, dataset) from None
    if type(data) is not dict:
        raise DamagedIndex(where, f"holds {_json_kind(data)}, not a JSON object", dataset)
    if data.get("format") != FORMAT_VERSION or type(data["format"]) is not int:
        check_format(data, where, dataset)
    return data


def _format_problem(data: dict[str, Any]) -> str | None:
    version = data.get("format")
    if version == FORMAT_VERSION and type(version) is int:
        return None
    if version is None:
        return "has no index format number (not written by pygestor)"
    return (
        f"index format {version!r} is not supported by this pygestor (it reads {FORMAT_VERSION}); "
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

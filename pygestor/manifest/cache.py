"""The process-wide cache of parsed manifests, so a catalog of 1,000 files is not parsed again
by every `discover` (each web page, each `pygestor.load`).

An entry is keyed by the file's identity as one `stat` gives it: (path, device, inode, size,
mtime, ctime in nanoseconds). An edited file has a new mtime and ctime (and usually size), a
replaced one (an editor's rename, `git checkout`) a new inode, so any change is a new key and
the file is read again; a removed file is simply not asked for. Two writes can land within one
tick of the file system's clock (a jiffy: a few milliseconds) with the same size, so a file
changed less than `RACY_SECONDS` ago is never served from the cache (git's "racy clean" rule).

Bounded (least recently used first, `MAX_ENTRIES`), one entry per path (a new version of a file
replaces the old one), safe across threads (the web UI's workers). What it holds is shared by
every caller, so it is made read-only first (`read_only`): the models are `frozen` (no field
can be assigned) but pydantic leaves their lists and dicts mutable, so those become
`ReadOnlyList` / `ReadOnlyDict`, which read as lists and dicts and refuse changes. A caller
cannot change what the next `discover` returns, and sharing costs nothing per call (a page of
1,000 datasets copies nothing).
"""

from __future__ import annotations

import copy
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..errors import Problem
from .models import Manifest

MAX_ENTRIES = 4096
RACY_SECONDS = 2.0

Key = tuple[Any, ...]  # (path, then what a stat says of that version of the file)
Parsed = Manifest | tuple[Problem, ...]  # a valid manifest, or the problems of an invalid one
V = TypeVar("V")


@dataclass(frozen=True)
class CacheInfo:
    """How the cache has done since the process started (or `clear`)."""

    hits: int
    misses: int
    entries: int
    max_entries: int


def file_key(path: str, st: os.stat_result) -> Key:
    """The identity of one version of a file (see the module docstring)."""
    return (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def changed_ns(st: os.stat_result) -> int:
    """When the file last changed (content or inode), for the racy rule of `FileCache.put`."""
    return max(st.st_mtime_ns, st.st_ctime_ns)


class FileCache(Generic[V]):
    """An LRU map from a file's identity (a `Key`: its path first) to what reading it gave,
    one version per path. The values are shared by every caller: keep only immutable ones."""

    def __init__(self, max_entries: int = MAX_ENTRIES, *, max_weight: int | None = None) -> None:
        self.max_entries = max_entries
        self.max_weight = max_weight  # of all values together (`put`'s weight), when bounded
        self._entries: OrderedDict[Key, tuple[V, int]] = OrderedDict()
        self._by_path: dict[Any, Key] = {}
        self._weight = 0
        self._lock = threading.Lock()
        self._hits = self._misses = 0

    def get(self, key: Key) -> V | None:
        """What was read from this version of the file, or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
        return found[0]

    def put(self, key: Key, value: V, *, changed_ns: int, weight: int = 1) -> None:
        """Keep `value` for this version of the file, unless it changed (`changed_ns`) too
        recently to tell one version from the next (`RACY_SECONDS`) or weighs more than the
        whole cache may. Replaces any older version of the path; the least recently used
        entries go while there are too many or they weigh too much."""
        if time.time_ns() - changed_ns < RACY_SECONDS * 1e9:
            return
        if self.max_weight is not None and weight > self.max_weight:
            return
        with self._lock:
            older = self._by_path.pop(key[0], None)
            if older is not None:
                self._drop(older)
            self._entries[key] = (value, weight)
            self._weight += weight
            self._by_path[key[0]] = key
            while len(self._entries) > self.max_entries or (
                self.max_weight is not None and self._weight > self.max_weight
            ):
                dropped = next(iter(self._entries))
                self._drop(dropped)
                if self._by_path.get(dropped[0]) == dropped:
                    del self._by_path[dropped[0]]

    def _drop(self, key: Key) -> None:
        found = self._entries.pop(key, None)
        if found is not None:
            self._weight -= found[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_path.clear()
            self._weight = 0
            self._hits = self._misses = 0

    def info(self) -> CacheInfo:
        with self._lock:
            return CacheInfo(self._hits, self._misses, len(self._entries), self.max_entries)


class ReadOnlyList(list[Any]):
    """A list of a discovered manifest: reads like a list (equal to one, JSON, pydantic dumps),
    refuses changes; a copy (`list(x)`, `copy.copy`, `copy.deepcopy`) is a plain list."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_READ_ONLY)

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return copy.deepcopy(list(self), memo)

    def __reduce__(self) -> Any:
        return (list, (list(self),))


class ReadOnlyDict(dict[Any, Any]):
    """A mapping of a discovered manifest (`load.dtypes`, ...): as `ReadOnlyList`, for dicts."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_READ_ONLY)

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict[Any, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[Any, Any]:
        return copy.deepcopy(dict(self), memo)

    def __reduce__(self) -> Any:
        return (dict, (dict(self),))


_READ_ONLY = (
    "a discovered manifest is shared and read-only; change a copy "
    "(list(...), dict(...), manifest.model_copy(update=...))"
)


def read_only(value: Any) -> Any:
    """A copy of `value` in which every list, dict and set is read-only (`ReadOnlyList`,
    `ReadOnlyDict`, frozenset) and every pydantic model a copy built the same way (its class
    already forbids assigning fields: the models are `frozen`); other values (text, numbers,
    enums, compiled patterns) are immutable and shared. `value` itself is not changed (pydantic
    may share a field's default between instances). `copy.deepcopy` is not an option: compiled
    RE2 patterns do not copy."""
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is list or kind is ReadOnlyList:
        return ReadOnlyList([read_only(v) for v in value])
    if kind is dict or kind is ReadOnlyDict:
        return ReadOnlyDict({k: read_only(v) for k, v in value.items()})
    if kind is tuple:
        return tuple(read_only(v) for v in value)
    if kind is set or kind is frozenset:
        return frozenset(value)
    if kind in _MODELS:
        return _read_only_model(value)
    # met the first time (`isinstance` on BaseModel is slow, an ABC): a model, or a value that
    # is not a container and so immutable
    (_MODELS if issubclass(kind, BaseModel) else _SHARED).add(kind)
    return read_only(value)


_SHARED: set[type] = {str, int, float, bool, type(None)}
_MODELS: set[type] = set()
_set = object.__setattr__


def _read_only_model(model: BaseModel) -> BaseModel:
    """A copy of `model` (what pydantic's `__copy__` sets: the same four attributes) with each
    field value (and each cached property, such as compiled patterns) `read_only`."""
    copied = object.__new__(type(model))
    _set(copied, "__dict__", {k: read_only(v) for k, v in model.__dict__.items()})
    _set(copied, "__pydantic_fields_set__", set(model.__pydantic_fields_set__))
    extra, private = model.__pydantic_extra__, model.__pydantic_private__
    _set(copied, "__pydantic_extra__", None if extra is None else read_only(extra))
    _set(copied, "__pydantic_private__", None if private is None else dict(private))
    return copied


#: the manifests parsed by this process (made `read_only` before they are kept)
CACHE: FileCache[Parsed] = FileCache()

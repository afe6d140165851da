"""Fault injection and the request log of the test Hub (`HubServer.faults`, `.requests`).

A `Fault` describes one misbehaviour and which requests it hits; a `FaultSet` holds a server's
ordered rules. A `RequestRecord` is one served request; a `RequestLog` keeps them for assertions.
Standard library only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

Origin = Literal["main", "lfs"]


@dataclass(frozen=True, eq=False)
class Fault:
    """One injected misbehaviour, applied to the next `times` requests it matches.

    Matching: `method` (None = any), `path` (regex searched in the raw request target, path
    and query, still percent-encoded: `refs%2Fconvert%2Fparquet`), `origin` ("main", "lfs"
    or None = both). What happens, after sleeping `latency` seconds:

    - `status`: answer that status (JSON error body) with extra `headers`, e.g. Retry-After;
    - `drop`: close the connection without any response;
    - `truncate_after`: send the headers (full Content-Length), then only that many body
      bytes, then close;
    - `chunk_delay`: send the body in `chunk_size` pieces, sleeping this long between them;
    - `extra_bytes`: send that many more bytes after the real body (a body longer than the
      listed size), with `content_length` "actual" (the header counts them), "listed" (the
      header gives the real length, the bytes go past it) or "none" (no header: the body ends
      when the connection closes); the connection is closed after them;
    - `rate`: send the body at most this many bytes a second (a per-connection bandwidth cap;
      `FaultSet.rate` caps every response);
    - none of these: the normal answer, late by `latency`.

    Faults of a server that resumes badly hit only requests carrying a `Range` header (a file's
    bytes asked from an offset), and change the answer the server would give:

    - `ignore_range`: answer 200 with the whole body, as a server without range support does;
    - `range_shift`: answer 206 starting `range_shift` bytes after (negative: before) the byte
      asked for, kept inside the file, with a `Content-Range` that says so (an honest server
      resuming at the wrong offset);
    - `range_limit`: answer 206 with at most this many bytes of the range asked for, with a
      `Content-Range` that says so (RFC 9110 lets a server send less than asked);
    - `corrupt`: the right status and headers, but the first body byte flipped;
    - `no_content_range`: answer 206 with the right bytes but no `Content-Range` header.

    `status`, `drop` and `truncate_after` exclude each other; `status` and `drop` also exclude
    the range faults. Faults compare by identity.
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate_after: int | None = None
    chunk_delay: float = 0.0
    chunk_size: int = 64 * 1024
    ignore_range: bool = False
    range_shift: int = 0
    range_limit: int | None = None
    corrupt: bool = False
    no_content_range: bool = False
    latency: float = 0.0
    method: str | None = None
    path: str = ""
    origin: Origin | None = None
    times: int | None = 1
    extra_bytes: int = 0
    content_length: Literal["actual", "listed", "none"] = "actual"
    rate: float = 0.0

    def __post_init__(self) -> None:
        if sum([self.status is not None, self.drop, self.truncate_after is not None]) > 1:
            raise ValueError("choose at most one of status, drop and truncate_after")
        if self.extra_bytes < 0 or self.content_length not in ("actual", "listed", "none"):
            raise ValueError("extra_bytes must be >= 0; content_length actual, listed or none")
        if self.resumes_badly and (self.status is not None or self.drop):
            raise ValueError("range faults (ignore_range, ...) need an answer: no status or drop")
        if self.origin not in (None, "main", "lfs"):
            raise ValueError(f"origin must be 'main', 'lfs' or None, not {self.origin!r}")
        if self.rate < 0:
            raise ValueError("rate must be >= 0 bytes a second (0: no cap)")
        if self.chunk_size < 1 or (self.times is not None and self.times < 1):
            raise ValueError("chunk_size and times must be positive")
        re.compile(self.path)

    @property
    def resumes_badly(self) -> bool:
        """True for the faults that hit only ranged requests (`ignore_range`, ...)."""
        return (
            self.ignore_range
            or bool(self.range_shift)
            or self.corrupt
            or bool(self.range_limit)
            or self.no_content_range
        )

    def matches(self, method: str, target: str, origin: Origin, *, ranged: bool = False) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.origin is None or self.origin == origin)
            and (ranged or not self.resumes_badly)
            and re.search(self.path, target) is not None
        )

    def describe(self) -> str:
        parts = [f"latency {self.latency}s"] if self.latency else []
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.drop:
            parts.append("drop")
        if self.truncate_after is not None:
            parts.append(f"truncate after {self.truncate_after} bytes")
        if self.chunk_delay:
            parts.append(f"slow body {self.chunk_delay}s per {self.chunk_size} bytes")
        if self.extra_bytes:
            parts.append(f"{self.extra_bytes} extra bytes (Content-Length {self.content_length})")
        if self.rate:
            parts.append(f"at most {self.rate:,.0f} bytes/s")
        if self.ignore_range:
            parts.append("range ignored (200)")
        if self.range_shift:
            parts.append(f"resumed {self.range_shift:+} bytes off")
        if self.range_limit:
            parts.append(f"at most {self.range_limit} bytes of the range")
        if self.corrupt:
            parts.append("first byte flipped")
        if self.no_content_range:
            parts.append("206 without Content-Range")
        return ", ".join(parts) or "no-op"


class FaultSet:
    """Ordered fault rules of one server; the first live rule that matches a request fires.

    `latency` (seconds) delays every request on both origins; `rate` (bytes a second, 0: none)
    caps the body of every response, each on its own (a per-connection cap, as CDNs have);
    `ignore_range` makes the server answer every ranged request with 200 and the whole body, as
    a server without range support does (where no rule fires). Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.latency = 0.0
        self.rate = 0.0
        self.ignore_range = False

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(_Rule(fault, fault.times))
        return fault

    def clear(self) -> None:
        """Remove every rule and reset `latency`, `rate` and `ignore_range`."""
        with self._lock:
            self._rules.clear()
        self.latency, self.rate, self.ignore_range = 0.0, 0.0, False

    def remaining(self, fault: Fault) -> int | None:
        """How many more times `fault` will fire (None = forever, 0 = spent or never added)."""
        with self._lock:
            return next((r.left for r in self._rules if r.fault is fault), 0)

    def take(
        self, method: str, target: str, origin: Origin, *, ranged: bool = False
    ) -> Fault | None:
        """The fault for this request (`ranged`: it has a Range header), counting it as fired."""
        with self._lock:
            for rule in self._rules:
                if rule.left != 0 and rule.fault.matches(method, target, origin, ranged=ranged):
                    rule.left = None if rule.left is None else rule.left - 1
                    return rule.fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for rule in self._rules if rule.left != 0)


@dataclass
class _Rule:
    fault: Fault
    left: int | None  # times it will still fire; None = forever


@dataclass(frozen=True)
class RequestRecord:
    """One served request. `status` is None when the connection was dropped unanswered."""

    origin: Origin
    method: str
    path: str  # raw, percent-encoded, without the query
    query: str
    range: str | None  # the Range header
    status: int | None
    bytes_sent: int  # body bytes actually written
    authorization: bool  # whether an Authorization header was present (never its value)
    fault: str | None = None  # Fault.describe() of the fault applied

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class RequestLog:
    """Thread-safe, append-only log of the requests both origins served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def replace(self, old: RequestRecord, new: RequestRecord) -> None:
        """Swap `old` (by identity) for `new`, e.g. when a client hung up mid-answer."""
        with self._lock:
            self._records = [new if r is old else r for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        origin: Origin | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        """Records matching all given criteria; `path` is a regex searched in `target`."""
        return [
            r
            for r in self
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.target))
            and (origin is None or r.origin == origin)
            and (status is None or r.status == status)
        ]

    def __iter__(self) -> Iterator[RequestRecord]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

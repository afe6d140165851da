"""The test Hub's HTTP messages, without sockets: the request and response values the app
(`server._HubApp`) maps between, JSON and error answers, byte ranges of blobs, and the ranged
answers of a server that resumes badly (`Fault.ignore_range`, ...). Standard library only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote

from .faults import Fault
from .model import LocalHubError


class _RangeNotSatisfiable(LocalHubError):
    status = 416


# --------------------------------------------------------------------------------------------
# HTTP application: request -> response, no sockets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  # raw
    query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    host: str  # scheme://host:port the client used

    @property
    def segments(self) -> list[str]:
        return [unquote(s) for s in self.path.split("/")[1:]]

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def flag(self, name: str, source: Mapping[str, list[str]] | None = None) -> bool:
        values = (source if source is not None else self.params).get(name, ["false"])
        return values[-1].lower() in ("1", "true", "yes")

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth[:7].lower() == "bearer " else None


@dataclass(frozen=True)
class _BlobSlice:
    path: Path
    start: int
    length: int


@dataclass
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | _BlobSlice = b""

    @property
    def length(self) -> int:
        return self.body.length if isinstance(self.body, _BlobSlice) else len(self.body)


def _json_response(
    obj: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> _Response:
    body = json.dumps(obj).encode()
    return _Response(
        status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body
    )


def _header_safe(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode().replace("\r", " ").replace("\n", " ")


def _error_response(err: LocalHubError) -> _Response:
    headers = {"X-Error-Message": _header_safe(str(err)), **err.headers}
    if err.code:
        headers["X-Error-Code"] = err.code
    if err.commit:
        headers["X-Repo-Commit"] = err.commit
    return _json_response({"error": str(err)}, err.status, headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) asked by a single `bytes=` range; None means the whole body."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header or "")
    if match is None or match.groups() == ("", ""):
        return None  # absent, multi-range or malformed: RFC 9110 lets us ignore it
    first, last = match.groups()
    if first and last and int(last) < int(first):
        return None
    if first:
        start, end = int(first), min(int(last) + 1, size) if last else size
    else:
        start, end = max(size - int(last), 0), size
    if start >= size or start >= end:
        err = _RangeNotSatisfiable(f"range {header!r} not satisfiable for {size} bytes")
        err.headers["Content-Range"] = f"bytes */{size}"
        raise err
    return start, end


def _blob_response(blob: Path, size: int, req: _Request, headers: dict[str, str]) -> _Response:
    headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", **headers}
    span = _byte_range(req.headers.get("range"), size)
    if span is None:
        return _Response(200, headers, _BlobSlice(blob, 0, size))
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return _Response(206, headers, _BlobSlice(blob, start, end - start))


def _resume_badly(response: _Response, fault: Fault) -> _Response:
    """A ranged blob answer (206) as a server that resumes badly gives it (see `Fault`)."""
    spec = response.headers.get("Content-Range", "")
    found = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", spec)
    if response.status != 206 or found is None or not isinstance(response.body, _BlobSlice):
        return response
    blob, start, end, size = response.body.path, int(found[1]), int(found[2]) + 1, int(found[3])
    headers = {k: v for k, v in response.headers.items() if k != "Content-Range"}
    if fault.ignore_range:
        status, start, end = 200, 0, size
    else:
        status, start = 206, min(max(start + fault.range_shift, 0), size - 1)
        end = max(end, start + 1)
    if fault.range_limit is not None:
        end = min(end, start + fault.range_limit)
    if status == 206 and not fault.no_content_range:
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    body: bytes | _BlobSlice = _BlobSlice(blob, start, end - start)
    if fault.corrupt:
        with blob.open("rb") as fh:
            fh.seek(start)
            data = bytearray(fh.read(end - start))
        data[0] ^= 0xFF
        body = bytes(data)
    return _Response(status, headers, body)

"""The test Hub's sockets: the request handler (faults, bandwidth cap, request log) and the
threaded server of one origin. Standard library only.

The bandwidth cap (`FaultSet.rate`, or one fault's `Fault.rate`) paces each response body to at
most that many bytes a second, per response (so per connection), as a server or CDN that caps each
connection does; `FaultSet.ignore_range` makes every ranged request answer 200 with the whole body,
as a server without range support does.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any, Protocol

from .faults import Fault, FaultSet, Origin, RequestLog, RequestRecord
from .model import _CHUNK
from .wire import _BlobSlice, _header_safe, _json_response, _Request, _Response, _resume_badly

logger = logging.getLogger("pygestor.testing.hub")

#: the fault a server set to ignore ranges (`FaultSet.ignore_range`) applies to ranged requests
IGNORE_RANGE = Fault(ignore_range=True, times=None)


class _Owner(Protocol):
    """What the handler needs of the `HubServer` it serves for."""

    host: str
    faults: FaultSet
    requests: RequestLog


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, applies faults, asks the app, writes the answer, logs it."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub: hence Content-Length everywhere
    timeout = 30  # seconds an idle keep-alive connection is kept
    server: _OriginServer

    def log_message(self, format: str, *args: Any) -> None:
        """Route BaseHTTPRequestHandler's stderr lines to logging.debug."""
        logger.debug("%s origin: " + format, self.server.origin, *args)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK stall every response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        owner, origin = self.server.owner, self.server.origin
        path, _, query = self.path.partition("?")
        body = self._read_body()
        ranged = self.headers.get("Range") is not None
        fault = owner.faults.take(self.command, self.path, origin, ranged=ranged)
        if fault is None and ranged and owner.faults.ignore_range:
            fault = IGNORE_RANGE
        delay = owner.faults.latency + (fault.latency if fault else 0.0)
        if delay:
            time.sleep(delay)
        record = RequestRecord(
            origin=origin,
            method=self.command,
            path=path,
            query=query,
            range=self.headers.get("Range"),
            status=None,
            bytes_sent=0,
            authorization="Authorization" in self.headers,
            fault=fault.describe() if fault else None,
        )
        if fault is not None and fault.drop:
            owner.requests.append(record)  # logged before the client can notice anything
            self._drop()
            return
        response = self._respond(fault, path, query, body)
        if fault is not None and fault.resumes_badly:
            response = _resume_badly(response, fault)
        self._send(response, fault, replace(record, status=response.status))

    def _respond(self, fault: Fault | None, path: str, query: str, body: bytes) -> _Response:
        if fault is not None and fault.status is not None:
            err = {"error": f"injected fault: status {fault.status}"}
            return _json_response(err, fault.status, dict(fault.headers))
        host = self.headers.get("Host") or self.server.authority
        headers = {name.lower(): value for name, value in self.headers.items()}
        return self.server.app(_Request(self.command, path, query, headers, body, f"http://{host}"))

    def _read_body(self) -> bytes:
        """Drain the request body (keep-alive needs it read), plain or chunked."""
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return b""
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _send(self, response: _Response, fault: Fault | None, record: RequestRecord) -> None:
        """Write the answer, cut or slowed by `fault`; log `record` just before the client
        can have all of it (so a test that asserts on the log right after a call never races)."""
        log = self.server.owner.requests
        limit = fault.truncate_after if fault is not None else None
        planned = 0 if self.command == "HEAD" else response.length
        if limit is not None:
            planned = min(planned, limit)
        extra = fault.extra_bytes if fault is not None and planned else 0
        record = replace(record, bytes_sent=planned + extra)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, _header_safe(value))
        if not extra or fault is None or fault.content_length != "none":
            told = extra if extra and fault is not None and fault.content_length == "actual" else 0
            self.send_header("Content-Length", str(response.length + told))
        logged = planned == 0
        if logged:
            log.append(record)
        sent = 0
        try:
            self.end_headers()
            rate = fault.rate if fault is not None and fault.rate else self.server.owner.faults.rate
            for chunk in _chunks(response.body, planned, fault, rate):
                if sent + len(chunk) >= planned:
                    log.append(record)
                    logged = True
                self.wfile.write(chunk)
                sent += len(chunk)
            for left in range(extra, 0, -_CHUNK):  # past the listed size (Fault.extra_bytes)
                self.wfile.write(b"\xa5" * min(left, _CHUNK))
                sent += min(left, _CHUNK)
        except OSError:  # the client hung up
            self.close_connection = True
            actual = replace(record, bytes_sent=sent)
            if logged:
                log.replace(record, actual)
            else:
                log.append(actual)
        if self.command != "HEAD" and (planned < response.length or extra):
            self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _chunks(
    body: bytes | _BlobSlice, limit: int, fault: Fault | None, rate: float = 0.0
) -> Iterator[bytes]:
    """The first `limit` bytes of `body` in pieces, slowed down by `fault.chunk_delay`, and
    paced to at most `rate` bytes a second when it is set (each piece goes out when the bytes up
    to its end are due)."""
    size = fault.chunk_size if fault is not None else _CHUNK
    delay = fault.chunk_delay if fault is not None else 0.0
    if isinstance(body, bytes):
        pieces: Iterator[bytes] = (body[i : i + size] for i in range(0, limit, size))
    else:
        pieces = _file_pieces(body, size)
    sent, began = 0, time.monotonic()
    for piece in pieces:
        piece = piece[: limit - sent]
        if not piece:
            return
        if delay and sent:
            time.sleep(delay)
        if rate > 0:
            wait = began + (sent + len(piece)) / rate - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        yield piece
        sent += len(piece)


def _file_pieces(body: _BlobSlice, size: int) -> Iterator[bytes]:
    with body.path.open("rb") as f:
        f.seek(body.start)
        left = body.length
        while left > 0 and (piece := f.read(min(size, left))):
            left -= len(piece)
            yield piece


class _OriginServer(ThreadingHTTPServer):
    """One origin (main or LFS): a threaded HTTP server that can close its idle connections."""

    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not block stop()

    def __init__(
        self,
        address: tuple[str, int],
        owner: _Owner,
        origin: Origin,
        app: Callable[[_Request], _Response],
    ) -> None:
        self.owner, self.origin, self.app = owner, origin, app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # HTTPServer's version does a slow reverse-DNS lookup
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def authority(self) -> str:
        return f"{self.owner.host}:{self.server_address[1]}"

    def track(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called by socketserver inside its `except`; clients hanging up mid-answer land here.
        logger.debug(
            "test hub %s origin: error serving %s",
            self.origin,
            client_address,
            exc_info=sys.exception(),
        )

"""The pieces of `S3Storage` (`s3.py`) that are more than one request: streamed uploads, partial
files as chunk objects, their assembly into one object, and leases (locks without a lock
service).

A lease is an object holding its owner and expiry (JSON). It is taken by creating it
(`If-None-Match: *`), renewed by a heartbeat thread every third of its lifetime by a
compare-and-swap on its ETag (`If-Match`), and released by deleting it. A lease whose holder
was killed is taken over, again by a compare-and-swap on the ETag the waiter saw, once it is
expired: its recorded expiry has passed (wall clocks), or its version has not changed for a
whole lifetime as the waiter watched it (its own monotonic clock: no trust in other hosts'
clocks needed). Two waiters taking over the same stale lease: one swap wins.
"""

from __future__ import annotations

import bisect
import contextlib
import errno
import io
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import LockTimeout

#: Bytes per chunk of a partial file and per part of a multipart upload (S3's minimum part,
#: but for the last, is 5 MiB).
PART_SIZE = 8 << 20
MIN_PART = 5 << 20
MAX_COPY = 5 << 30  # CopyObject's limit; larger objects are copied in multipart ranges

CLAIM_MARK = "@claim"  # the lease of a claimed partial file `K` is the object `K@claim`


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk object of a partial file."""

    name: str  # the object name
    offset: int
    size: int
    etag: str
    mtime_ns: int


class S3Storage(Protocol):
    """What these pieces use of `s3.S3Storage` (which imports them)."""

    bucket: str
    part_size: int
    lease_seconds: float

    @property
    def client(self) -> Any: ...
    def arrow_fs(self) -> Any: ...
    def head(self, name: str) -> dict[str, Any] | None: ...
    def get(self, name: str) -> tuple[bytes, str] | None: ...
    def put(self, name: str, data: bytes, **condition: str) -> str | None: ...
    def delete(self, names: Sequence[str]) -> None: ...
    def copy(self, source: str, target: str, size: int) -> None: ...
    def chunks(self, name: str) -> list[Chunk]: ...


log = logging.getLogger(__name__)

POLL = 0.1  # seconds between attempts at a held lock


# ---- streamed uploads ------------------------------------------------------------------------
class Upload(io.RawIOBase):
    """The file object of `S3Storage.writer`: bytes buffered up to one part, then a multipart
    upload of `part_size` parts; `finish` makes the object appear (one PutObject when it
    stayed small), `abort` leaves nothing."""

    def __init__(self, storage: S3Storage, name: str) -> None:
        super().__init__()
        self.storage, self.name = storage, name
        self._buf = bytearray()
        self._pos = 0
        self._id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buf += view
        self._pos += len(view)
        # parts double in size every 1000 (S3 takes at most 10,000 per upload), and the last
        # is kept at least half a part (never an empty one)
        while len(self._buf) >= (size := self._part_size()) * 3 // 2:
            self._send(bytes(self._buf[:size]))
            del self._buf[:size]
        return len(view)

    def _part_size(self) -> int:
        return self.storage.part_size << len(self._parts) // 1000

    def _send(self, piece: bytes) -> None:
        s = self.storage
        if self._id is None:
            made = s.client.create_multipart_upload(Bucket=s.bucket, Key=self.name)
            self._id = made["UploadId"]
        number = len(self._parts) + 1
        sent = s.client.upload_part(
            Bucket=s.bucket, Key=self.name, UploadId=self._id, PartNumber=number, Body=piece
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def finish(self) -> None:
        s = self.storage
        if self._id is None:
            s.put(self.name, bytes(self._buf))
        else:
            self._send(bytes(self._buf))
            s.client.complete_multipart_upload(
                Bucket=s.bucket,
                Key=self.name,
                UploadId=self._id,
                MultipartUpload={"Parts": self._parts},
            )
        self._buf.clear()
        self._id = None

    def abort(self) -> None:
        if self._id is not None:
            s = self.storage
            with contextlib.suppress(Exception):  # the upload may be gone; aborting is best effort
                s.client.abort_multipart_upload(Bucket=s.bucket, Key=self.name, UploadId=self._id)
        self._buf.clear()
        self._id = None


# ---- partial files ---------------------------------------------------------------------------
class Appender:
    """A partial file open for appending: full chunks are sent as they fill, the rest when the
    block ends (also on an exception: what arrived is kept, to resume from). Before each
    chunk is sent, the last chunk this writer knows is checked to still be there, and no whole
    object to have been written at the key: when the partial file was deleted, replaced or
    moved meanwhile, FileNotFoundError, and no byte lands in what is no longer it."""

    def __init__(self, storage: S3Storage, name: str, chunks: list[Chunk]) -> None:
        self.storage, self.name = storage, name
        self.size = sum(c.size for c in chunks)
        self._last = (chunks[-1].name, chunks[-1].etag) if chunks else None
        self._buf = bytearray()
        self._gone = False

    @classmethod
    @contextlib.contextmanager
    def open(cls, storage: S3Storage, name: str, *, new: bool) -> Iterator[Appender]:
        chunks = storage.chunks(name)
        whole = storage.head(name)
        first = _chunk_name(name, 0)
        if new:  # start over: an empty chunk at 0 (written over the first) is all there is
            storage.delete([c.name for c in chunks if c.name != first])
            if whole is not None:
                storage.delete([name])
            chunks = []
        elif whole is not None:  # a whole object written there: continue it as chunks
            storage.delete([c.name for c in chunks])
            storage.copy(name, first, whole["ContentLength"])
            storage.delete([name])
            chunks = storage.chunks(name)
        if not chunks:  # an empty partial file is one empty chunk at offset 0
            chunks = [Chunk(first, 0, 0, str(storage.put(first, b"")), 0)]
        fh = cls(storage, name, chunks)
        try:
            yield fh
        finally:
            fh.close()

    def write(self, data: Any) -> int:
        if self._gone:
            raise self._vanished()
        view = memoryview(data).cast("B")
        self._buf += view
        size = self.storage.part_size
        while len(self._buf) >= size:
            self._send(bytes(self._buf[:size]))
            del self._buf[:size]
        return len(view)

    def flush(self) -> None:
        """Send what is buffered as a chunk of its own."""
        if self._buf and not self._gone:
            self._send(bytes(self._buf))
            self._buf.clear()

    def close(self) -> None:
        self.flush()

    def copy_in(self, chunk: Chunk) -> None:
        """Append the bytes of the object `chunk.name`, copied on the server as a chunk."""
        self.flush()
        if self._gone:
            raise self._vanished()
        self._check()
        s = self.storage
        name = _chunk_name(self.name, self.size)
        done = s.client.copy_object(
            Bucket=s.bucket, Key=name, CopySource={"Bucket": s.bucket, "Key": chunk.name}
        )
        # (SeaweedFS 4.48 sends this ETag without its quotes; `_check` compares them bare)
        self._last = (name, str(done["CopyObjectResult"]["ETag"]))
        self.size += chunk.size

    def _send(self, piece: bytes) -> None:
        self._check()
        name = _chunk_name(self.name, self.size)
        etag = self.storage.put(name, piece)
        self._last = (name, str(etag))
        self.size += len(piece)

    def _check(self) -> None:
        s = self.storage
        found = s.head(self._last[0]) if self._last else None
        if (
            self._last is None
            or found is None
            or found.get("ETag", "").strip('"') != self._last[1].strip('"')
            or s.head(self.name) is not None
        ):
            self._gone = True
            self._buf.clear()
            raise self._vanished()

    def _vanished(self) -> FileNotFoundError:
        return FileNotFoundError(
            errno.ENOENT,
            "the partial file vanished (deleted or moved meanwhile)",
            f"s3://{self.storage.bucket}/{self.name}",
        )


def _chunk_name(name: str, offset: int) -> str:
    return f"{name}@{offset:020d}"


class ChunkReader(io.RawIOBase):
    """A seekable reader over the chunks of a partial file, in order: one chunk (at most
    `part_size` bytes) is held in memory at a time, fetched with one GET."""

    def __init__(self, storage: S3Storage, chunks: list[Chunk]) -> None:
        super().__init__()
        self.storage = storage
        self.chunks = [c for c in chunks if c.size]
        self.starts = [c.offset for c in self.chunks]
        self.length = sum(c.size for c in chunks)
        self.pos = 0
        self._held: tuple[int, bytes] = (-1, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self.pos, os.SEEK_END: self.length}[whence]
        self.pos = max(base + offset, 0)
        return self.pos

    def _chunk(self) -> tuple[Chunk, bytes]:
        i = bisect.bisect_right(self.starts, self.pos) - 1
        if self._held[0] != i:
            data = _read(self.storage, self.chunks[i].name)
            if len(data) != self.chunks[i].size:  # written over meanwhile
                raise FileNotFoundError(f"s3://{self.storage.bucket}/{self.chunks[i].name}")
            self._held = (i, data)
        return self.chunks[i], self._held[1]

    def readinto(self, b: Any) -> int:
        if self.pos >= self.length or not self.chunks:
            return 0
        chunk, data = self._chunk()
        within = self.pos - chunk.offset
        n = min(len(b), chunk.size - within)
        b[:n] = data[within : within + n]
        self.pos += n
        return n

    def readall(self) -> bytes:
        out = bytearray()
        while self.pos < self.length:
            chunk, data = self._chunk()
            out += data[self.pos - chunk.offset :]
            self.pos = chunk.offset + chunk.size
        return bytes(out)

    def close(self) -> None:
        self._held = (-1, b"")
        super().close()


def assemble(storage: S3Storage, chunks: list[Chunk], target: str) -> None:
    """Make the object `target` of the chunks' bytes in order, on the server where it can: one
    CopyObject for a single chunk, else a multipart upload of UploadPartCopy parts (chunks
    under the 5 MiB part minimum merged by reading them). `target` appears whole or not at
    all; the chunks stay."""
    s = storage
    chunks = [c for c in chunks if c.size]
    if not chunks:
        s.put(target, b"")
        return
    if len(chunks) == 1 and chunks[0].size <= MAX_COPY:
        s.copy(chunks[0].name, target, chunks[0].size)
        return
    upload = s.client.create_multipart_upload(Bucket=s.bucket, Key=target)["UploadId"]
    parts: list[dict[str, Any]] = []
    pending = bytearray()
    try:
        for c in chunks:
            if pending or c.size < MIN_PART:
                pending += _read(s, c.name)
                if len(pending) >= MIN_PART:
                    parts.append(_part(s, target, upload, len(parts) + 1, bytes(pending)))
                    pending.clear()
                continue
            for start in range(0, c.size, 1 << 30):  # UploadPartCopy ranges of at most 1 GiB
                end = min(start + (1 << 30), c.size) - 1
                copied = s.client.upload_part_copy(
                    Bucket=s.bucket,
                    Key=target,
                    UploadId=upload,
                    PartNumber=len(parts) + 1,
                    CopySource={"Bucket": s.bucket, "Key": c.name},
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append(
                    {"PartNumber": len(parts) + 1, "ETag": copied["CopyPartResult"]["ETag"]}
                )
        if pending:
            parts.append(_part(s, target, upload, len(parts) + 1, bytes(pending)))
        s.client.complete_multipart_upload(
            Bucket=s.bucket, Key=target, UploadId=upload, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        with contextlib.suppress(Exception):  # best effort: the upload may be gone already
            s.client.abort_multipart_upload(Bucket=s.bucket, Key=target, UploadId=upload)
        raise


def _read(storage: S3Storage, name: str) -> bytes:
    found = storage.get(name)
    if found is None:
        raise FileNotFoundError(f"s3://{storage.bucket}/{name}")
    return found[0]


def _part(s: S3Storage, target: str, upload: str, number: int, data: bytes) -> dict[str, Any]:
    sent = s.client.upload_part(
        Bucket=s.bucket, Key=target, UploadId=upload, PartNumber=number, Body=data
    )
    return {"PartNumber": number, "ETag": sent["ETag"]}


# ---- leases ----------------------------------------------------------------------------------
class Lease:
    """An exclusive lease on the object `name` (see the module docstring)."""

    def __init__(self, storage: S3Storage, name: str) -> None:
        self.storage, self.name = storage, name
        self.ttl = storage.lease_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._tag: str | None = None
        self._watched: tuple[str, float] | None = None  # (a holder's tag, first seen at)
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def _body(self) -> bytes:
        expires = time.time() + self.ttl
        return json.dumps({"owner": self.owner, "expires": expires}).encode()

    def take(self) -> bool:
        """Try once; True when this lease is now held (and its heartbeat running)."""
        s = self.storage
        tag = s.put(self.name, self._body(), IfNoneMatch="*")
        if tag is None:
            found = s.get(self.name)
            if found is None:  # released meanwhile: try again next time
                return False
            data, held = found
            if not self._expired(data, held):
                return False
            tag = s.put(self.name, self._body(), IfMatch=held)
            if tag is None:
                return False
            log.info("took over the expired lease %s", self.name)
        self._tag = tag
        self._stop.clear()
        self._beat = threading.Thread(target=self._renew, name="pygestor-lease", daemon=True)
        self._beat.start()
        return True

    def acquire(self, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not self.take():
            left = deadline - time.monotonic()
            if left <= 0:
                raise LockTimeout(what, timeout)
            time.sleep(min(POLL, left))

    def _expired(self, data: bytes, tag: str) -> bool:
        try:
            expires = float(json.loads(data)["expires"])
        except (ValueError, KeyError, TypeError):
            expires = 0.0  # not a lease we can read: only the watch below can expire it
        if expires and expires < time.time():
            return True
        now = time.monotonic()
        if self._watched is None or self._watched[0] != tag:
            self._watched = (tag, now)
            return False
        return now - self._watched[1] >= self.ttl

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            try:
                tag = self.storage.put(self.name, self._body(), IfMatch=str(self._tag))
            except Exception as exc:  # noqa: BLE001  (the network: try again at the next beat)
                log.warning("renewing the lease %s failed: %s", self.name, exc)
                continue
            if tag is None:
                log.warning("lost the lease %s (taken over by another process)", self.name)
                return
            self._tag = tag

    def release(self) -> None:
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
            self._beat = None
        found = self.storage.get(self.name)
        if found is not None and found[1] == self._tag:
            self.storage.delete([self.name])
        self._tag = None

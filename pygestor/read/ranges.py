"""Parts of a file at a source, by HTTP byte ranges, instead of the whole file.

What `validate --resolve` checks columns with and what a preview reads (`read.peek`): a parquet
footer costs the last few kB of a shard however large it is, a column chunk its own bytes.

- `RangeReader`: bounded ranged GETs of one file (`Range: bytes=a-b`, so a server never sends
  more than asked), every byte received counted in `fetched`, and a cap: a range that would go
  past it is refused (`OverCap`) before anything is asked.
- `SparseFile`: a read-only, seekable file of which only some spans are known; the bytes it is
  asked for and does not have are fetched through the reader (so pyarrow reads a footer and
  column chunks from it as from a whole file), or refused with OSError when it has no reader.
- `parquet_footer`: the footer of a parquet file at the source, as pyarrow `FileMetaData`.
"""

from __future__ import annotations

import bisect
import io
from typing import TYPE_CHECKING, Any

from ..errors import PygestorError, SourceError
from ..sources.base import Transient

if TYPE_CHECKING:
    import pyarrow.parquet as pq

    from ..sources.base import RemoteFile, Source

TAIL = 64 * 1024  # bytes asked for first: the footer of almost every parquet file fits


class OverCap(PygestorError):
    """A range would take the bytes fetched past the cap (nothing was asked for it)."""

    def __init__(self, path: str, wanted: int, left: int) -> None:
        self.wanted, self.left = wanted, left
        super().__init__(
            f"{path}: {wanted:,} more bytes would go past the cap ({left:,} bytes left)"
        )


class RangeReader:
    """Ranged reads of one file of a source at one commit, counted against `cap` bytes (None:
    no cap)."""

    def __init__(
        self, source: Source, file: RemoteFile, commit: str | None, cap: int | None = None
    ) -> None:
        self.source, self.file, self.commit, self.cap = source, file, commit, cap
        self.fetched = 0  # bytes received, headers not counted

    @property
    def size(self) -> int:
        return self.file.size

    @property
    def left(self) -> int | None:
        """Bytes that can still be fetched (None: no cap)."""
        return None if self.cap is None else max(self.cap - self.fetched, 0)

    def read(self, offset: int, length: int) -> bytes:
        """`length` bytes from `offset` (fewer at the end of the file), in one ranged GET."""
        length = max(min(length, self.size - offset), 0)
        if length == 0:
            return b""
        left = self.left
        if left is not None and length > left:
            raise OverCap(self.file.path, length, left)
        opener = getattr(self.source, "open_file", None)
        if opener is None:
            raise SourceError(f"cannot read {self.file.path} from this source")
        data = bytearray()
        try:
            with opener(self.file.path, self.commit, offset=offset, length=length) as body:
                if body.start != offset:  # the range was ignored: do not read a whole shard
                    raise SourceError(
                        f"the server ignored the byte range asked for {self.file.path}"
                    )
                for chunk in body:
                    data += chunk
                    self.fetched += len(chunk)
                    if len(data) >= length:
                        break
        except Transient as exc:
            raise SourceError(f"cannot read {self.file.path} from the source: {exc}") from None
        if len(data) < length:
            raise SourceError(
                f"{self.file.path}: the source sent {len(data):,} of the {length:,} bytes asked"
            )
        return bytes(data[:length])


class SparseFile(io.RawIOBase):
    """A read-only file of `size` bytes of which the spans added are known; other bytes are
    fetched with `reader` (and kept), or refused with OSError without one."""

    def __init__(self, size: int, reader: RangeReader | None = None) -> None:
        self._size, self._reader, self._pos = size, reader, 0
        self._starts: list[int] = []  # sorted, the spans never overlap
        self._spans: dict[int, bytes] = {}

    def add(self, start: int, data: bytes) -> None:
        """Know `data` at `start` (a span that overlaps none known)."""
        if data:
            bisect.insort(self._starts, start)
            self._spans[start] = data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = base + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        start, end = self._pos, min(self._pos + len(view), self._size)
        if end <= start:
            return 0
        for gap, length in self._gaps(start, end):
            if self._reader is None:
                raise OSError("only parts of this file were fetched")
            self.add(gap, self._reader.read(gap, length))
        for span in self._starts:
            data = self._spans[span]
            lo, hi = max(span, start), min(span + len(data), end)
            if lo < hi:
                view[lo - start : hi - start] = data[lo - span : hi - span]
        self._pos = end
        return end - start

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        """(offset, length) of the bytes of [start, end) no span holds."""
        gaps, at = [], start
        for span in self._starts:
            stop = span + len(self._spans[span])
            if stop <= at:
                continue
            if span >= end:
                break
            if span > at:
                gaps.append((at, span - at))
            at = max(at, stop)
        if at < end:
            gaps.append((at, end - at))
        return gaps


def parquet_footer(reader: RangeReader, first: int = TAIL) -> tuple[pq.FileMetaData, SparseFile]:
    """The footer of the parquet file `reader` reads, from its last `first` bytes (the footer's
    length is in its last 8 bytes; the rest of a longer footer is fetched by a second range),
    and the file as fetched so far, for pyarrow to read column chunks from."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path, size = reader.file.path, reader.size
    sparse = SparseFile(size, reader)
    tail = reader.read(size - min(size, first), first)
    sparse.add(size - len(tail), tail)
    if len(tail) < 8 or tail[-4:] != b"PAR1":
        raise SourceError(f"{path} at the source is not a parquet file (no PAR1 at its end)")
    footer = int.from_bytes(tail[-8:-4], "little") + 8
    if footer + 4 > size:
        raise SourceError(f"{path}: its parquet footer is longer than the file")
    if footer > len(tail):
        rest = reader.read(size - footer, footer - len(tail))
        sparse.add(size - footer, rest)
        tail = rest + tail
    # the footer alone, framed as a file of its own: pyarrow parses it without the data pages
    framed = b"PAR1" + tail[len(tail) - footer :]
    try:
        return pq.read_metadata(pa.BufferReader(framed)), sparse
    except Exception as exc:  # noqa: BLE001 (pyarrow raises several types)
        raise SourceError(f"cannot read the parquet footer of {path}: {exc}") from None

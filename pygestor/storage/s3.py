"""`S3Storage`: the data directory in an S3 bucket (`s3://bucket/prefix`), on AWS or any
S3-compatible server (SeaweedFS, MinIO, Ceph, moto).

Two clients, each made on first use: boto3 for every write, listing and conditional request
(s3fs and pyarrow have no compare-and-swap), and `pyarrow.fs.S3FileSystem` for reads (the
fastest here: about 450 MB/s from SeaweedFS on loopback) and `pyarrow.dataset` scans.
Credentials come from the usual chain (environment, shared profiles, instance roles), with
`storage_options` overriding it; a custom endpoint from `AWS_ENDPOINT_URL_S3` or
`AWS_ENDPOINT_URL` (boto3 reads it itself, pyarrow does not: it is passed on as
`endpoint_override` and `scheme`).

How each verb of the contract (`base.py`) is kept on an object store:

- `write`, `writer`: PutObject; a large `writer` is a multipart upload (parts of `part_size`),
  completed only when the block ends without error, aborted otherwise.
- `create`, `create_all`: PutObject `If-None-Match: *`.
- `write_if`: PutObject `If-Match: <ETag>` (`tag=None`: `If-None-Match: *`); 412, 409 and 404
  all mean "another writer got there first" (servers differ: moto answers a missing key with
  404, SeaweedFS 4.48 with 412). An ETag is the MD5 of the bytes here: the same bytes written
  again are the same version to `write_if`, which is harmless (the state is the one read).
- `append`, `append_from`: a partial file `K` is a run of chunk objects (below).
- `replace`: CopyObject, or a multipart upload of UploadPartCopy parts: `dst` appears whole or
  not at all; then the source goes.
- `lock`, `claim`: a lease object (`s3_parts.Lease`): create-only, renewed by a heartbeat,
  taken over once expired.
- folders are common prefixes: one exists while a key is below it and goes with its last key.

A partial file (`append`) cannot be an object appended to in place (S3 has no append), and
one multipart upload is not readable until completed, which a resumed download needs (it
re-hashes the bytes so far). So it is stored as chunk objects `K@00000000000000000000`,
`K@00000000000008388608`, ... of up to `part_size` bytes each, one PutObject per full chunk
(and one for the rest when the block ends): a kill -9 loses at most the one chunk not yet sent.
`info`, `list` and `walk` show the chunks of `K` as the one file `K` (its size their sum);
`open(K)` reads them in order; `replace(K, dst)` assembles `dst` from them on the server
(UploadPartCopy; chunks under the 5 MiB part minimum merged by reading them), then deletes
them (a file of up to 10,000 chunks: 78 GiB at 8 MiB, above the Hub's 50 GB limit per file).
A chunk name never is a key (`@` plus 20 digits is refused), so nothing else collides.

A multipart upload cut short by a kill is never listed as data (an upload is not an object
until completed), but its parts are billed until aborted: `abort_uploads(older_than=)` aborts
this prefix's old ones (for `sync --repair` and `remove`), and a bucket lifecycle rule
`AbortIncompleteMultipartUpload` (e.g. after 1 day) is the belt to these braces.

Durability: an acknowledged PUT is durable, so `durable=` and `sync` have nothing to do. There
are no links: `unsafe` is None, `inside` is a prefix check, `local_path` raises
NotImplementedError, `free_bytes` is None (no quota known).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import PygestorError
from .base import FileInfo, check_key
from .s3_parts import (
    CLAIM_MARK,
    MAX_COPY,
    MIN_PART,
    PART_SIZE,
    Appender,
    Chunk,
    ChunkReader,
    Lease,
    Upload,
    assemble,
)

if TYPE_CHECKING:
    from pathlib import Path

_CHUNK = re.compile(r"^(?P<base>.+)@(?P<offset>\d{20})$")

_OPTIONS = {
    "endpoint_url",
    "region",
    "profile",
    "access_key",
    "secret_key",
    "session_token",
    "part_size",
    "lease_seconds",
}


class S3Storage:
    """A bucket prefix holding a data directory: `S3Storage("s3://bucket/prefix")`.

    `storage_options` (from the config file) override the credential chain: `endpoint_url`,
    `region`, `profile`, `access_key`, `secret_key`, `session_token`; and tune it:
    `part_size` (bytes per chunk and upload part, at least 5 MiB), `lease_seconds` (how long
    a lock outlives a killed holder)."""

    compare_and_swap = True  # the index creates and swaps, never locks (see base.py)

    def __init__(self, url: str, *, storage_options: dict[str, Any] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"{url!r} is not an s3://bucket/prefix URL")
        options = dict(storage_options or {})
        unknown = sorted(set(options) - _OPTIONS)
        if unknown:
            raise ValueError(
                f"storage_options: unknown key(s) {', '.join(unknown)} for {url} "
                f"(known: {', '.join(sorted(_OPTIONS))})"
            )
        self.bucket = parts.netloc
        self.prefix = check_key(parts.path.strip("/"))
        self.options = options
        self.part_size = int(options.get("part_size", PART_SIZE))
        if self.part_size < MIN_PART:
            raise ValueError(f"storage_options: part_size must be at least {MIN_PART} bytes")
        self.lease_seconds = float(options.get("lease_seconds", 30.0))
        self._made = threading.Lock()
        self._boto: Any = None
        self._arrow: Any = None
        self._pid = os.getpid()  # the process the clients were made in

    def __repr__(self) -> str:
        return f"S3Storage({self.url!r})"

    def __getstate__(self) -> dict[str, Any]:
        # picklable (Dask, Ray and spawned processes get one): the clients are made again there
        dropped = ("_made", "_boto", "_arrow", "_pid")
        return {k: v for k, v in self.__dict__.items() if k not in dropped}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._made, self._boto, self._arrow = threading.Lock(), None, None
        self._pid = os.getpid()

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    # ---- clients ---------------------------------------------------------------------------
    def endpoint(self) -> str | None:
        """The custom endpoint URL, None for AWS itself."""
        found = self.options.get("endpoint_url")
        found = found or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        return str(found) if found else None

    def _forked(self) -> None:
        """Forget the clients in a process forked after they were made: their connections are
        the parent's, and two processes on one connection read each other's answers."""
        if self._pid != os.getpid():
            self._pid, self._boto, self._arrow = os.getpid(), None, None
            self._made = threading.Lock()

    @property
    def client(self) -> Any:
        """The boto3 S3 client (thread-safe; made on first use, again in a forked process)."""
        self._forked()
        if self._boto is None:
            with self._made:
                if self._boto is None:
                    self._boto = self._make_client()
        return self._boto

    def _session(self) -> Any:
        try:
            import boto3
        except ImportError:
            raise PygestorError(
                f"data directory {self.url!r}: s3:// storage needs boto3; "
                "pip install 'pygestor[s3]'"
            ) from None

        o = self.options
        return boto3.session.Session(
            profile_name=o.get("profile"),
            aws_access_key_id=o.get("access_key"),
            aws_secret_access_key=o.get("secret_key"),
            aws_session_token=o.get("session_token"),
            region_name=o.get("region"),
        )

    def _make_client(self) -> Any:
        from botocore.config import Config

        session = self._session()
        config = Config(
            max_pool_connections=32,
            retries={"max_attempts": 5, "mode": "standard"},
            # checksums only where the operation needs one: S3-compatible servers differ
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        return session.client(
            "s3",
            endpoint_url=self.endpoint(),
            region_name=session.region_name or "us-east-1",
            config=config,
        )

    def arrow_fs(self) -> Any:
        """The `pyarrow.fs.S3FileSystem` reads go through (made on first use), with the same
        credentials and endpoint as the boto3 client."""
        self._forked()
        if self._arrow is None:
            with self._made:
                if self._arrow is None:
                    self._arrow = self._make_arrow()
        return self._arrow

    def _make_arrow(self) -> Any:
        # Credentials given in `storage_options` (keys, or a profile: pyarrow takes no profile
        # name) are passed on as boto3 resolved them; otherwise pyarrow's AWS SDK follows the
        # same chain itself (environment, AWS_PROFILE, instance roles), renewing expiring ones.
        import pyarrow.fs as pafs

        session = self._session()
        endpoint = self.endpoint()
        region = session.region_name
        if not region and not endpoint:
            with contextlib.suppress(OSError):  # (no access to ask: the default below)
                region = pafs.resolve_s3_region(self.bucket)
        kwargs: dict[str, Any] = {"region": region or "us-east-1"}
        o = self.options
        credentials = session.get_credentials() if o.get("profile") or o.get("access_key") else None
        if credentials is not None:
            frozen = credentials.get_frozen_credentials()
            kwargs.update(access_key=frozen.access_key, secret_key=frozen.secret_key)
            if frozen.token:
                kwargs["session_token"] = frozen.token
        if endpoint:
            parts = urlsplit(endpoint)
            kwargs.update(endpoint_override=parts.netloc + parts.path, scheme=parts.scheme)
        return pafs.S3FileSystem(**kwargs)

    # ---- keys ------------------------------------------------------------------------------
    def obj(self, key: str) -> str:
        """The object name of `key`; ValueError for anything but a clean key."""
        check_key(key)
        if _CHUNK.match(key) or key.endswith(CLAIM_MARK):
            raise ValueError(f"{key!r} is not a storage key (its name ends like a chunk's)")
        if not key:
            return self.prefix
        return f"{self.prefix}/{key}" if self.prefix else key

    def _folder(self, key: str) -> str:
        """The object-name prefix of everything below the folder `key`."""
        base = self.obj(key)
        return f"{base}/" if base else ""

    def _key(self, name: str) -> str:
        """The key of the object name `name` (below the prefix)."""
        return name[len(self.prefix) + 1 :] if self.prefix else name

    def local_path(self, key: str) -> Path:
        raise NotImplementedError(f"{self.url} is an object store: {key!r} has no local file")

    def inside(self, key: str, base: str) -> bool:
        check_key(key)
        check_key(base)
        return not base or key == base or key.startswith(f"{base}/")

    def unsafe(self, key: str) -> str | None:
        check_key(key)
        return None  # no links: nothing leads outside

    def free_bytes(self) -> int | None:
        return None

    # ---- requests --------------------------------------------------------------------------
    def head(self, name: str) -> dict[str, Any] | None:
        """HeadObject of the object `name`, None when there is none."""
        from botocore.exceptions import ClientError

        try:
            return dict(self.client.head_object(Bucket=self.bucket, Key=name))
        except ClientError as exc:
            if status(exc) == 404:
                return None
            raise

    def get(self, name: str) -> tuple[bytes, str] | None:
        """The bytes and ETag of the object `name`, None when there is none."""
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if status(exc) == 404:
                return None
            raise
        with contextlib.closing(found["Body"]) as body:
            return body.read(), found["ETag"]

    def put(self, name: str, data: bytes, **condition: str) -> str | None:
        """PutObject; its new ETag, or None when the condition (`IfMatch`, `IfNoneMatch`) did
        not hold: 412, 409 (a conflicting write in flight) or 404 (If-Match on a missing key,
        as some servers answer)."""
        from botocore.exceptions import ClientError

        try:
            return str(
                self.client.put_object(Bucket=self.bucket, Key=name, Body=data, **condition)["ETag"]
            )
        except ClientError as exc:
            if condition and status(exc) in (412, 409, 404):
                return None
            raise

    def delete(self, names: Sequence[str]) -> None:
        """Delete the objects `names` (batches of 1000; missing ones are no error)."""
        for i in range(0, len(names), 1000):
            batch = [{"Key": n} for n in names[i : i + 1000]]
            done = self.client.delete_objects(
                Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
            )
            for failed in done.get("Errors", ()):  # (a batch answers 200 whatever fails in it)
                raise OSError(
                    f"could not delete s3://{self.bucket}/{failed.get('Key')}: "
                    f"{failed.get('Code')} {failed.get('Message', '')}".rstrip()
                )

    def objects(self, prefix: str, *, delimiter: str = "") -> Iterator[dict[str, Any]]:
        """ListObjectsV2 of `prefix`, every page: objects, and folders as {"Prefix": ...}."""
        pages = self.client.get_paginator("list_objects_v2")
        extra = {"Delimiter": delimiter} if delimiter else {}
        for page in pages.paginate(Bucket=self.bucket, Prefix=prefix, **extra):
            yield from page.get("Contents", ())
            yield from page.get("CommonPrefixes", ())

    def chunks(self, name: str) -> list[Chunk]:
        """The chunks of the partial file at object `name`, in order ([] when none)."""
        found = []
        for o in self.objects(f"{name}@"):
            m = _CHUNK.match(o["Key"])
            if m and m["base"] == name:
                found.append(_chunk(o, int(m["offset"])))
        return sorted(found, key=lambda c: c.offset)

    # ---- reading ---------------------------------------------------------------------------
    def info(self, key: str, *, follow: bool = False) -> FileInfo | None:
        name = self.obj(key)
        if not key:
            return FileInfo("", "dir", 0, 0)
        found = self.head(name)
        if found is not None:
            return FileInfo(key, "file", found["ContentLength"], _ns(found["LastModified"]))
        chunks = self.chunks(name)
        if chunks:
            return FileInfo(key, "file", sum(c.size for c in chunks), chunks[-1].mtime_ns)
        return FileInfo(key, "dir", 0, 0) if self._below(f"{name}/") else None

    def _below(self, prefix: str) -> bool:
        """True when an object's name starts with `prefix` (a folder with something in it).
        Asked without a delimiter: SeaweedFS (4.48) lists a folder whose last object was
        deleted as a common prefix still, with nothing below it."""
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix, MaxKeys=1)
        return bool(found.get("Contents"))

    def read(self, key: str) -> bytes | None:
        found = self.get(self.obj(key))
        if found is not None:
            return found[0]
        chunks = self.chunks(self.obj(key))
        try:
            return ChunkReader(self, chunks).readall() if chunks else None
        except FileNotFoundError:  # removed (or finished) while it was read
            return None

    def read_tagged(self, key: str) -> tuple[bytes, str] | None:
        return self.get(self.obj(key))

    def open(self, key: str) -> IO[bytes]:
        name = self.obj(key)
        try:
            found: IO[bytes] = self.arrow_fs().open_input_file(f"{self.bucket}/{name}")
            return found
        except FileNotFoundError:
            chunks = self.chunks(name)
            if not chunks:
                raise FileNotFoundError(f"{self.url}/{key}") from None
            return io.BufferedReader(ChunkReader(self, chunks), buffer_size=1 << 20)

    def open_arrow(self, key: str) -> Any:
        import pyarrow as pa

        found = self.open(key)
        return found if isinstance(found, pa.NativeFile) else pa.PythonFile(found, mode="r")

    def arrow_filesystem(self) -> tuple[Any, str]:
        return self.arrow_fs(), f"{self.bucket}/{self.prefix}".rstrip("/")

    def list(self, key: str) -> list[FileInfo]:
        base = self._folder(key)
        files: dict[str, FileInfo] = {}
        partial: dict[str, list[Chunk]] = {}
        entries: list[FileInfo] = []
        for o in self.objects(base, delimiter="/"):
            if "Prefix" in o:
                if self._below(o["Prefix"]):
                    entries.append(FileInfo(self._key(o["Prefix"].rstrip("/")), "dir", 0, 0))
                continue
            name = o["Key"]
            m = _CHUNK.match(name)
            if m:
                partial.setdefault(m["base"], []).append(_chunk(o, int(m["offset"])))
            elif name != base and not name.endswith(CLAIM_MARK):  # (a folder marker object)
                files[name] = FileInfo(self._key(name), "file", o["Size"], _ns(o["LastModified"]))
        for name, chunks in partial.items():
            if name not in files:
                size, mtime = sum(c.size for c in chunks), max(c.mtime_ns for c in chunks)
                files[name] = FileInfo(self._key(name), "file", size, mtime)
        return sorted([*entries, *files.values()], key=lambda e: e.key)

    def walk(self, key: str) -> Iterator[str]:
        seen: set[str] = set()
        for o in self.objects(self._folder(key)):
            name = o["Key"]
            m = _CHUNK.match(name)
            if m:
                name = m["base"]
            elif name.endswith(("/", CLAIM_MARK)):
                continue
            if name not in seen:
                seen.add(name)
                yield self._key(name)

    # ---- writing ---------------------------------------------------------------------------
    def write(self, key: str, data: bytes, *, durable: bool = True) -> None:
        self.put(self.obj(key), data)

    def create(self, key: str, data: bytes) -> bool:
        return self.put(self.obj(key), data, IfNoneMatch="*") is not None

    def create_all(
        self, files: Sequence[tuple[str, bytes]], *, sync_first: Sequence[str] = ()
    ) -> tuple[bool, ...]:
        if len(files) < 4:
            return tuple(self.create(k, d) for k, d in files)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(min(16, len(files)), thread_name_prefix="pygestor-s3") as pool:
            return tuple(pool.map(lambda f: self.create(*f), files))

    def write_if(self, key: str, data: bytes, *, tag: str | None) -> bool:
        name = self.obj(key)
        if tag is None:
            return self.put(name, data, IfNoneMatch="*") is not None
        return self.put(name, data, IfMatch=tag) is not None

    @contextlib.contextmanager
    def writer(self, key: str) -> Iterator[IO[bytes]]:
        upload = Upload(self, self.obj(key))
        try:
            yield upload  # type: ignore[misc]  # a file object: write, tell, flush, closed
            upload.finish()
        except BaseException:
            upload.abort()
            raise

    @contextlib.contextmanager
    def append(self, key: str, *, new: bool = False) -> Iterator[IO[bytes]]:
        with Appender.open(self, self.obj(key), new=new) as fh:
            yield fh  # type: ignore[misc]  # write() and flush() are all a partial file needs

    def append_from(self, key: str, source: str, *, offset: int = 0) -> int:
        # on the server where it can be: each whole chunk of a partial `source` past `offset`
        # is copied (CopyObject) as a chunk of `key`; only a chunk cut by `offset` is read
        name = self.obj(source)
        whole = self.head(name)
        chunks = self.chunks(name) if whole is None else []
        if whole is None and not chunks:
            raise FileNotFoundError(f"{self.url}/{source}")
        if whole is not None:
            chunks = [Chunk(name, 0, whole["ContentLength"], whole["ETag"], 0)]
        count = 0
        with Appender.open(self, self.obj(key), new=False) as fh:
            for c in chunks:
                skip = max(offset - c.offset, 0)
                if skip >= c.size:
                    continue
                if skip == 0 and c.size <= MAX_COPY:
                    fh.copy_in(c)
                else:  # the chunk cut by `offset` (or an object too large to copy at once)
                    got = self.client.get_object(
                        Bucket=self.bucket, Key=c.name, Range=f"bytes={skip}-{c.size - 1}"
                    )
                    with contextlib.closing(got["Body"]) as body:
                        for piece in body.iter_chunks(self.part_size):
                            fh.write(piece)
                count += c.size - skip
        return count

    @contextlib.contextmanager
    def claim(self, key: str) -> Iterator[None]:
        name = self.obj(key)
        lease = Lease(self, name + CLAIM_MARK)
        if not lease.take():
            why = "another process is writing this file"
            raise BlockingIOError(errno.EWOULDBLOCK, why, f"{self.url}/{key}")
        try:
            made = self.info(key) is None
            if made:
                with Appender.open(self, name, new=True):
                    pass
            yield
        finally:
            try:
                if made:
                    chunks = self.chunks(name)
                    if [c.size for c in chunks] == [0] and self.head(name) is None:
                        self.delete([chunks[0].name])
            finally:
                lease.release()

    def replace(self, src: str, dst: str, *, durable: bool = True) -> None:
        source, target = self.obj(src), self.obj(dst)
        found = self.head(source)
        if found is not None:  # a whole object (written, not appended)
            self.copy(source, target, found["ContentLength"])
            self.delete([source, *(c.name for c in self.chunks(source))])
            return
        chunks = self.chunks(source)
        if not chunks:
            raise FileNotFoundError(f"{self.url}/{src}")
        assemble(self, chunks, target)
        self.delete([c.name for c in chunks])

    def copy(self, source: str, target: str, size: int) -> None:
        """Copy the object `source` to `target` on the server (CopyObject, or UploadPartCopy
        ranges beyond CopyObject's 5 GiB)."""
        if size <= MAX_COPY:
            self.client.copy_object(
                Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
            )
            return
        assemble(self, [Chunk(source, 0, size, "", 0)], target)

    def sync(self, keys: Sequence[str]) -> None:
        return None  # an acknowledged PUT is durable

    def remove(self, key: str) -> bool:
        name = self.obj(key)
        if not key:
            return False
        doomed = [c.name for c in self.chunks(name)]
        if self.head(name) is not None:
            doomed.append(name)
        self.delete(doomed)
        return bool(doomed)

    def remove_dir(self, key: str) -> bool:
        # a folder is a prefix: it goes with its last key, so there is only ever a marker
        # object (`key/`, made by other tools) to remove, and only when nothing is below it
        base = self._folder(key)
        if not key:
            return False
        below = self.client.list_objects_v2(Bucket=self.bucket, Prefix=base, MaxKeys=2)
        names = [o["Key"] for o in below.get("Contents", ())]
        if names != [base]:
            return False
        self.delete([base])
        return True

    @contextlib.contextmanager
    def lock(self, key: str, *, timeout: float) -> Iterator[None]:
        lease = Lease(self, self.obj(key))
        lease.acquire(timeout, f"{self.url}/{key}")
        try:
            yield
        finally:
            lease.release()

    # ---- upkeep ----------------------------------------------------------------------------
    def abort_uploads(self, *, older_than: float) -> int:
        """Abort the multipart uploads below this prefix started more than `older_than`
        seconds ago (left by killed writers); how many were aborted."""
        import datetime as dt

        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than)
        pages = self.client.get_paginator("list_multipart_uploads")
        aborted = 0
        for page in pages.paginate(Bucket=self.bucket, Prefix=self._folder("")):
            for up in page.get("Uploads", ()):
                if up["Initiated"] <= cutoff:
                    self.client.abort_multipart_upload(
                        Bucket=self.bucket, Key=up["Key"], UploadId=up["UploadId"]
                    )
                    aborted += 1
        return aborted


def status(exc: Exception) -> int:
    """The HTTP status of a botocore ClientError (0 when unknown)."""
    response = getattr(exc, "response", {}) or {}
    code = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    if code == 404 or response.get("Error", {}).get("Code") in ("NoSuchKey", "404", "NotFound"):
        return 404
    return int(code)


def _chunk(o: dict[str, Any], offset: int) -> Chunk:
    return Chunk(o["Key"], offset, o["Size"], o.get("ETag", ""), _ns(o["LastModified"]))


def _ns(when: Any) -> int:
    return int(when.timestamp() * 1e9)


#: ClientError codes that are the user's setup, not pygestor's state: what to check for each
_SETUP_CODES = {
    "AccessDenied": "the credentials may not use this bucket or prefix",
    "AllAccessDisabled": "the credentials may not use this bucket or prefix",
    "InvalidAccessKeyId": "check the access key (AWS_ACCESS_KEY_ID, storage_options)",
    "SignatureDoesNotMatch": "check the secret key (AWS_SECRET_ACCESS_KEY, storage_options)",
    "ExpiredToken": "the session token has expired; renew it",
    "NoSuchBucket": "create the bucket, or fix the data directory's URL",
}
_CREDENTIALS = (
    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or storage_options in the "
    "config file"
)


def user_error(exc: BaseException) -> PygestorError | None:
    """The one line for a failure of the user's object-store setup (no credentials, a wrong
    key, an endpoint that does not answer, a missing bucket), None for anything else. For the
    CLI, which prints it instead of a traceback; botocore is only looked at when loaded."""
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is None:
        return None
    if isinstance(exc, (botocore.NoCredentialsError, botocore.PartialCredentialsError)):
        return PygestorError(f"object store: {exc}; {_CREDENTIALS}")
    if isinstance(exc, (botocore.EndpointConnectionError, botocore.ConnectTimeoutError)):
        return PygestorError(
            f"object store: {exc}; check that the server runs, and AWS_ENDPOINT_URL or "
            "storage_options: {endpoint_url: ...} in the config file"
        )
    if isinstance(exc, botocore.ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _SETUP_CODES:
            return PygestorError(f"object store: {exc}; {_SETUP_CODES[code]}")
    return None

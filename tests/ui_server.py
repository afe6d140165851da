"""The web UI served for real, for the browser tests: uvicorn in a thread on a free loopback port,
over a Catalog whose Hub is the bundled HubServer.

    with UiServer(create_app(catalog)) as ui:
        page.goto(ui.url + "/")

`ui_world(folder)` builds what the browser tests browse: an offline Hub with the replicas of the
built-in datasets (wikipedia, wit_base, mnist, dolly), a repository that is in no manifest (for
the add form), and a user catalog folder holding one commented manifest (for the edit form).
"""

from __future__ import annotations

import io
import socket
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn

from pygestor.catalog import Catalog
from pygestor.settings import Settings
from pygestor.testing import replicas
from pygestor.testing.catalog_kit import parquet_of, string_features
from pygestor.testing.hub import HubServer, LocalHub
from pygestor.testing.replica_kit import gitattributes, hf_value, parquet_bytes, table

#: the user manifest the edit test changes: its comments and key order must survive a save
NOTES_MANIFEST = """\
# Team notes: keep this comment (the UI edits this file in place).
name: notes
description: Meeting notes, one subset per year.  # the old description
modality: [text]
license: mit
tags: [internal]
source:
  huggingface: team/notes   # our mirror
  revision: main
subsets:
  # one folder per year
  - files: "{subset}/*.parquet"
format: parquet
"""
#: a user manifest over one 6 MB file of large images: its preview stops at the byte cap
PHOTOS_MANIFEST = """\
name: photos
description: Six large photos in one row group (the preview's byte cap in the UI tests).
modality: [image]
license: cc0-1.0
source: {huggingface: team/photos}
subsets:
  - files: "data/{subset}-*.parquet"
format: parquet
"""
#: a repository no manifest names yet: the add form proposes one for it
NEW_REPO = "lab/fresh-corpus"
#: a user manifest over a repository with an audio column (the preview shows a player)
VOICES_MANIFEST = """\
name: voices
description: Two short spoken words (a tiny audio dataset for the UI tests).
modality: [audio]
license: cc0-1.0
source: {huggingface: team/voices}
subsets:
  - files: "data/{subset}-*.parquet"
format: parquet
"""


@dataclass
class UiServer:
    """An ASGI app served by uvicorn in a daemon thread on 127.0.0.1 (a free port)."""

    app: Any
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((self.host, 0))
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, name="ui-server", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the UI server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class World:
    """What the browser tests browse: the Hub, the catalog over it, its folders."""

    hub: HubServer
    catalog: Catalog
    user_catalog: Path
    data_dir: Path


def ui_world(folder: Path) -> World:
    """A started Hub with the replicas and two extra repositories, and a Catalog over it (the
    built-in catalog plus the user folder with `notes.yaml`). Stop `world.hub` when done."""
    hub = LocalHub(folder / "hub")
    for replica in (
        replicas.wikipedia(),
        replicas.wit_base(shards=6),
        replicas.mnist(),
        replicas.databricks_dolly(),
    ):
        replicas.install(hub, replica)
    schema, features = string_features("title", "text")
    hub.create_repo(
        "team/notes",
        {
            ".gitattributes": gitattributes(),
            "2024/notes.parquet": parquet_of(
                [{"title": "kickoff", "text": "hello"}], schema, features
            ),
            "2025/notes.parquet": parquet_of(
                [{"title": "review", "text": "again"}], schema, features
            ),
        },
    )
    hub.create_repo(
        NEW_REPO,
        {
            ".gitattributes": gitattributes(),
            "data/train-00000-of-00001.parquet": parquet_of(
                [{"title": "a", "text": "first"}, {"title": "b", "text": "second"}],
                schema,
                features,
            ),
        },
    )
    hub.create_repo(
        "team/voices",
        {".gitattributes": gitattributes(), "data/train-00000-of-00001.parquet": _voices()},
    )
    hub.create_repo(
        "team/photos",
        {".gitattributes": gitattributes(), "data/train-00000-of-00001.parquet": _photos()},
    )
    server = HubServer(hub).start()
    user = folder / "user-catalog"
    user.mkdir(parents=True)
    (user / "notes.yaml").write_text(NOTES_MANIFEST, encoding="utf-8")
    (user / "voices.yaml").write_text(VOICES_MANIFEST, encoding="utf-8")
    (user / "photos.yaml").write_text(PHOTOS_MANIFEST, encoding="utf-8")
    settings = Settings(
        data_dir=folder / "data", user_catalog_dir=user, hf_endpoint=server.endpoint
    )
    return World(server, Catalog(settings), user, folder / "data")


def wav_bytes(seconds: float, *, rate: int = 8000) -> bytes:
    """A silent mono 16-bit WAV file of `seconds`."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return out.getvalue()


def _voices() -> bytes:
    """A parquet file with an `audio` column (a `datasets` Audio feature) and its `word`."""
    import pyarrow as pa

    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema([("audio", audio), ("word", pa.string())])
    rows = [
        {"audio": {"bytes": wav_bytes(0.25), "path": f"{w}.wav"}, "word": w} for w in ("yes", "no")
    ]
    return parquet_bytes(
        table(rows, schema, {"audio": {"_type": "Audio"}, "word": hf_value("string")})
    )


def _photos() -> bytes:
    """A parquet file of one row group: six 1 MB "PNG" images (random bytes after the PNG
    signature, so they do not compress) and their captions."""
    import random

    import pyarrow as pa

    rng = random.Random("photos")
    image = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema([("image", image), ("caption", pa.string())])
    rows = [
        {
            "image": {"bytes": b"\x89PNG\r\n\x1a\n" + rng.randbytes(2**20), "path": f"{i}.png"},
            "caption": f"photo {i}",
        }
        for i in range(6)
    ]
    features = {"image": {"_type": "Image"}, "caption": hf_value("string")}
    return parquet_bytes(table(rows, schema, features))

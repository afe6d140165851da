"""The parts every replica is built from, whatever the dataset.

The :class:`Replica` record and :func:`install`, which puts one on a ``LocalHub``; the file
formats, written deterministically (parquet with fixed options, JSON lines, PNG, the Hub's
``.gitattributes``, ``push_to_hub`` shard names); dataset cards and the parquet-converter
revision. The replicas of real datasets, in :mod:`pygestor.testing.replicas`, are built from
these, and that module re-exports every name here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

CONVERT_REVISION = "refs/convert/parquet"
"""The revision where the Hub's parquet converter writes ``<config>/<split>/0000.parquet``."""

Features = Mapping[str, Any]
"""Column name → feature description in the ``datasets`` JSON form (``{"_type": "Value", ...}``)."""


# --------------------------------------------------------------------------------------------
# The record and its installation


@dataclass(frozen=True)
class Replica:
    """A repository to serve: its id, the file map of ``main``, and extra revisions.

    ``files`` maps a repository path (relative, ``/``-separated, no ``.`` or ``..`` segments) to
    its bytes.  ``branches`` maps a revision name (e.g. :data:`CONVERT_REVISION`) to the *full*
    file map of that revision, not a difference from ``main``.  Both are frozen on construction;
    a bad path raises :class:`ValueError` naming it.
    """

    repo_id: str
    files: Mapping[str, bytes]
    branches: Mapping[str, Mapping[str, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        owner, sep, name = self.repo_id.partition("/")
        if not (owner and sep and name) or "/" in name:
            raise ValueError(f"repo_id must be 'owner/name', got {self.repo_id!r}")
        object.__setattr__(self, "files", _frozen_files(self.files))
        branches = {rev: _frozen_files(files) for rev, files in self.branches.items()}
        object.__setattr__(self, "branches", MappingProxyType(branches))


def _frozen_files(files: Mapping[str, bytes]) -> Mapping[str, bytes]:
    for path in files:
        _check_path(path)
    return MappingProxyType(dict(files))


def _check_path(path: str) -> None:
    parts = path.split("/")
    if "\\" in path or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not a relative repository path: {path!r}")


class HubWriter(Protocol):
    """The part of ``pygestor.testing.hub.LocalHub`` that :func:`install` uses."""

    def create_repo(self, repo_id: str, files: Mapping[str, bytes], *, message: str) -> str: ...

    def create_branch(self, repo_id: str, name: str, *, from_revision: str) -> Any: ...

    def commit(
        self,
        repo_id: str,
        *,
        add: Mapping[str, bytes],
        delete: Iterable[str],
        revision: str,
        message: str,
    ) -> str: ...


def install(hub: HubWriter, replica: Replica) -> str:
    """Create ``replica`` on ``hub`` (a ``LocalHub``) and return the commit id of ``main``.

    Each extra revision becomes a branch made from ``main`` plus one commit that turns its
    file list into exactly the revision's file map (adding, replacing and deleting files).
    """
    main = hub.create_repo(replica.repo_id, replica.files, message=f"Replica of {replica.repo_id}")
    for revision, files in replica.branches.items():
        hub.create_branch(replica.repo_id, revision, from_revision="main")
        add = {path: data for path, data in files.items() if replica.files.get(path) != data}
        delete = sorted(path for path in replica.files if path not in files)
        if add or delete:
            hub.commit(
                replica.repo_id,
                add=add,
                delete=delete,
                revision=revision,
                message="Update parquet files" if revision == CONVERT_REVISION else "Update files",
            )
    return main


# --------------------------------------------------------------------------------------------
# File-format helpers shared by the builders

_GITATTRIBUTES_PATTERNS = (
    # The Hub's default .gitattributes for a new dataset repository (as of 2023-2024).
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib",
    "*.lfs.*", "*.lz4", "*.mds", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz",
    "*.onnx", "*.ot", "*.parquet", "*.pb", "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar",
    "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar", "*.tflite", "*.tgz", "*.wasm",
    "*.xz", "*.zip", "*.zst", "*tfevents*",
    "# Audio files - uncompressed", "*.pcm", "*.sam", "*.raw",
    "# Audio files - compressed", "*.aac", "*.flac", "*.mp3", "*.ogg", "*.wav",
    "# Image files - uncompressed", "*.bmp", "*.gif", "*.png", "*.tiff",
    "# Image files - compressed", "*.jpg", "*.jpeg", "*.webp",
    "# Video files - compressed", "*.mp4", "*.webm",
)  # fmt: skip


def gitattributes(*extra_lfs: str) -> bytes:
    """The Hub's default dataset ``.gitattributes``, plus LFS lines for ``extra_lfs`` patterns."""
    lines = [
        line if line.startswith("#") else f"{line} filter=lfs diff=lfs merge=lfs -text"
        for line in (*_GITATTRIBUTES_PATTERNS, *extra_lfs)
    ]
    return ("\n".join(lines) + "\n").encode()


def shard_name(split: str, index: int, count: int, *, suffix: str | None = None) -> str:
    """``push_to_hub``'s shard file name: ``train-00000-of-00041.parquet``.

    ``suffix`` adds the ``-<16 hex>`` fingerprint some repos carry
    (``train-00000-of-00001-a09b74b3ef9c3b56.parquet``).
    """
    if not 0 <= index < count:
        raise ValueError(f"shard index {index} outside 0..{count - 1}")
    tail = f"-{suffix}" if suffix else ""
    return f"{split}-{index:05d}-of-{count:05d}{tail}.parquet"


def fingerprint(*parts: str) -> str:
    """A stable 16-hex-digit suffix derived from ``parts`` (for hash-suffixed shard names)."""
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:16]


def _hf_metadata(features: Features) -> dict[bytes, bytes]:
    info = {"info": {"features": dict(features)}}
    return {b"huggingface": json.dumps(info, sort_keys=False).encode()}


def table(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, features: Features) -> pa.Table:
    """An Arrow table of ``rows`` with ``schema``, carrying ``datasets``' ``huggingface`` metadata.

    The metadata is what ``datasets`` writes into every parquet file it pushes; it lets a reader
    decode images and class labels.
    """
    if list(features) != schema.names:
        raise ValueError(f"features {list(features)} do not match columns {schema.names}")
    return pa.Table.from_pylist(list(rows), schema=schema.with_metadata(_hf_metadata(features)))


def parquet_bytes(data: pa.Table) -> bytes:
    """``data`` as parquet bytes, written with fixed options so the bytes are reproducible."""
    sink = pa.BufferOutputStream()
    pq.write_table(
        data,
        sink,
        compression="snappy",
        version="2.6",
        data_page_version="1.0",
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
        write_page_index=False,
    )
    return bytes(sink.getvalue())


def jsonl_bytes(rows: Iterable[Mapping[str, Any]], *, gzipped: bool = False) -> bytes:
    """JSON lines (one object per line, ``\\n``-terminated); gzipped with no name and mtime 0."""
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    data = text.encode()
    return gzip.compress(data, compresslevel=9, mtime=0) if gzipped else data


def png_bytes(width: int, height: int, pixels: bytes, *, channels: int = 1) -> bytes:
    """A valid 8-bit PNG: ``channels`` 1 (grey) or 3 (RGB), ``pixels`` row-major."""
    color_type = {1: 0, 3: 2}[channels]
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(f"{len(pixels)} pixel bytes for {width}x{height}x{channels}")
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(tag: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(tag + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------
# Sharded splits and dataset cards


@dataclass(frozen=True)
class CardSplit:
    """One split as a dataset card describes it (``configs:`` glob and ``dataset_info:`` sizes)."""

    name: str
    path: str  # the data_files glob, e.g. "20231101.en/train-*"
    num_examples: int
    num_bytes: int  # Arrow in-memory size, as datasets reports it
    download_size: int  # bytes of the files


@dataclass(frozen=True)
class CardConfig:
    """One config (subset) of a dataset card: its features and splits."""

    name: str
    features: Features
    splits: tuple[CardSplit, ...]


def sharded_split(
    prefix: str,
    split: str,
    shards: Sequence[pa.Table],
    *,
    suffix: str | None = None,
) -> tuple[dict[str, bytes], CardSplit]:
    """Write ``shards`` as ``<prefix>/<split>-NNNNN-of-NNNNN.parquet`` files.

    Returns the file map and the split's card entry (glob ``<prefix>/<split>-*``).  ``prefix``
    may be empty for files at the root.
    """
    files: dict[str, bytes] = {}
    for index, shard in enumerate(shards):
        name = shard_name(split, index, len(shards), suffix=suffix)
        files[f"{prefix}/{name}" if prefix else name] = parquet_bytes(shard)
    glob = f"{prefix}/{split}-*" if prefix else f"{split}-*"
    card = CardSplit(
        name=split,
        path=glob,
        num_examples=sum(shard.num_rows for shard in shards),
        num_bytes=sum(shard.nbytes for shard in shards),
        download_size=sum(len(data) for data in files.values()),
    )
    return files, card


def _card_feature(name: str, feature: Mapping[str, Any]) -> dict[str, Any]:
    kind = feature["_type"]
    if kind == "Value":
        return {"name": name, "dtype": feature["dtype"]}
    if kind == "Image":
        return {"name": name, "dtype": "image"}
    if kind == "ClassLabel":
        names = {str(i): label for i, label in enumerate(feature["names"])}
        return {"name": name, "dtype": {"class_label": {"names": names}}}
    if kind == "Sequence":
        inner = feature["feature"]
        if "_type" in inner:
            return {"name": name, "sequence": _card_feature(name, inner).get("dtype")}
        return {"name": name, "sequence": [_card_feature(k, v) for k, v in inner.items()]}
    raise ValueError(f"no card form for feature type {kind!r} of column {name!r}")


def dataset_card(
    title: str,
    *,
    meta: Mapping[str, Any],
    configs: Sequence[CardConfig] = (),
    body: str = "",
) -> bytes:
    """A ``README.md`` dataset card: YAML front matter, then ``# title`` and ``body``.

    ``meta`` holds the leading keys (license, language, task_categories, ...).  ``configs``, when
    given, adds ``dataset_info:`` (features, rows and bytes per split) and ``configs:`` with
    ``data_files`` globs, as ``push_to_hub`` writes them.
    """
    front: dict[str, Any] = dict(meta)
    if configs:
        front["dataset_info"] = [_card_dataset_info(config) for config in configs]
        front["configs"] = [
            {
                "config_name": config.name,
                "data_files": [{"split": s.name, "path": s.path} for s in config.splits],
            }
            for config in configs
        ]
    yaml_text = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    paragraphs = [f"---\n{yaml_text}---", f"# {title}", body.strip()]
    return ("\n\n".join(p for p in paragraphs if p) + "\n").encode()


def _card_dataset_info(config: CardConfig) -> dict[str, Any]:
    return {
        "config_name": config.name,
        "features": [_card_feature(k, v) for k, v in config.features.items()],
        "splits": [
            {"name": s.name, "num_bytes": s.num_bytes, "num_examples": s.num_examples}
            for s in config.splits
        ],
        "download_size": sum(s.download_size for s in config.splits),
        "dataset_size": sum(s.num_bytes for s in config.splits),
    }


def parquet_conversion(
    replica: Replica,
    configs: Mapping[str, Mapping[str, bytes | Sequence[bytes]]],
) -> Replica:
    """``replica`` plus the Hub's parquet-converter revision, :data:`CONVERT_REVISION`.

    ``configs`` maps config → split → parquet bytes (or a list of them, for splits the converter
    cuts into several files).  The revision holds ``.gitattributes`` (from ``main``) and
    ``<config>/<split>/0000.parquet``, ``0001.parquet``, ... and nothing else, as on the Hub.
    """
    files: dict[str, bytes] = {}
    if ".gitattributes" in replica.files:
        files[".gitattributes"] = replica.files[".gitattributes"]
    for config, splits in configs.items():
        for split, parts in splits.items():
            chunks = [parts] if isinstance(parts, bytes) else list(parts)
            for index, data in enumerate(chunks):
                files[f"{config}/{split}/{index:04d}.parquet"] = data
    return replace(replica, branches={**replica.branches, CONVERT_REVISION: files})


def hf_value(dtype: str) -> dict[str, str]:
    """A `datasets` Value feature of `dtype`, as cards and parquet metadata spell it."""
    return {"dtype": dtype, "_type": "Value"}

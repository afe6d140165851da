"""What the catalog replicas (`replicas_catalog`, `replicas_web`) share: small builders of
features, parquet files, shard and datatrove names, dataset cards and repositories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import pyarrow as pa

from .replica_kit import hf_value
from .replicas import (
    Features,
    Replica,
    dataset_card,
    gitattributes,
    parquet_bytes,
    shard_name,
    table,
)


def class_label(*names: str) -> dict[str, Any]:
    return {"names": list(names), "_type": "ClassLabel"}


def string_features(*names: str) -> tuple[pa.Schema, Features]:
    """A schema of string columns and its ``datasets`` features."""
    return pa.schema([(n, pa.string()) for n in names]), {n: hf_value("string") for n in names}


def parquet_of(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, features: Features) -> bytes:
    return parquet_bytes(table(rows, schema, features))


def shard_files(
    prefix: str, split: str, count: int, data: bytes, *, suffixes: Sequence[str] | None = None
) -> dict[str, bytes]:
    """All ``count`` shards ``<prefix>/<split>-NNNNN-of-NNNNN.parquet``, each holding ``data``;
    ``suffixes`` adds the ``-<16 hex>`` of each shard."""
    return {
        f"{prefix}/{shard_name(split, i, count, suffix=suffixes[i] if suffixes else None)}": data
        for i in range(count)
    }


def datatrove_files(prefix: str, names: Iterable[str], data: bytes) -> dict[str, bytes]:
    """datatrove's ``<rank:03d>_<file:05d>.parquet`` names, e.g. ``000_00000.parquet``."""
    return {f"{prefix}/{name}.parquet": data for name in names}


def rank_names(ranks: int, files_per_rank: int = 1) -> list[str]:
    return [f"{r:03d}_{f:05d}" for r in range(ranks) for f in range(files_per_rank)]


def repo_card(
    title: str,
    meta: Mapping[str, Any],
    configs: Sequence[tuple[str, Sequence[tuple[str, str | list[str]]]]] = (),
    body: str = "",
) -> bytes:
    """A dataset card whose front matter carries ``configs:`` with ``data_files`` globs, as the
    real cards do (without ``dataset_info``, which the manifests do not use)."""
    front = dict(meta)
    if configs:
        front["configs"] = [
            {"config_name": name, "data_files": [{"split": s, "path": p} for s, p in splits]}
            for name, splits in configs
        ]
    return dataset_card(title, meta=front, body=body or f"{title} (pygestor replica).")


def repo_of(repo_id: str, files: Mapping[str, bytes], card: bytes, *extra_lfs: str) -> Replica:
    return Replica(
        repo_id, {".gitattributes": gitattributes(*extra_lfs), "README.md": card, **files}
    )


def pinned(replica: Replica, revision: str) -> Replica:
    """``replica`` plus the tag ``refs/tags/<revision>`` on its ``main`` files, so that a manifest
    pinned to the real repository's commit id ``revision`` syncs against the replica."""
    return replace(replica, branches={**replica.branches, f"refs/tags/{revision}": replica.files})

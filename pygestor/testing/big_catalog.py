"""A generated catalog at the scale the web UI must stay fast at (issue 10): a folder of 1,000
manifests with varied modality, license and tags, and a repo behind them.

    write_catalog(folder, 1000)          -> the manifests written (name, modality, license, tags)
    install_small_repo(hub)              the repo every generated manifest reads (`SMALL_REPO`)
    wide_subset_entries(5000)            tree entries of one subset of 5,000 partitions, for
                                         `LocalHub.add_raw_entries` (no 5,000 real files)

Deterministic: dataset `i` always gets the same description, modality, license and tags, so a
test can count exactly what a search or a filter must return (`expected`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from .replica_kit import Replica, install, parquet_bytes

SMALL_REPO = "pygestor-scale/small"
WIDE_REPO = "pygestor-scale/wide"
MODALITIES = ("text", "image", "audio", "tabular", "multimodal")
LICENSES = ("mit", "apache-2.0", "cc-by-4.0", "cc-by-sa-4.0", "odc-by", "other", None)
TAGS = ("nlp", "vision", "speech", "benchmark", "pretraining", "sft", "web", "science")
WORDS = (
    *("corpus", "questions", "answers", "images", "captions", "speech", "transcripts"),
    *("tables", "reviews", "news", "articles", "dialogues", "code", "math", "recipes"),
    *("patents", "papers", "forums", "books", "lyrics"),
)


@dataclass(frozen=True)
class Generated:
    """What manifest `i` of a generated catalog says (what searches and filters see)."""

    name: str
    description: str
    modality: tuple[str, ...]
    license: str | None
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        """The manifest, as a user would write it (with a comment)."""
        lines = [
            f"# generated dataset {self.name}",
            f"name: {self.name}",
            f"description: {json.dumps(self.description)}",
            f"modality: [{', '.join(self.modality)}]",
        ]
        if self.license is not None:
            lines.append(f"license: {self.license}")
        lines += [
            f"tags: [{', '.join(self.tags)}]",
            f"source: {{huggingface: {SMALL_REPO}}}",
            "subsets:",
            '  - files: "data/{subset}/*.parquet"',
            "format: parquet",
            "",
        ]
        return "\n".join(lines)


def generated(i: int) -> Generated:
    """Dataset `i` of a generated catalog (`scale-00000`, ...)."""
    words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(3)]
    modality: tuple[str, ...] = (MODALITIES[i % len(MODALITIES)],)
    if i % 7 == 0:  # a second modality, never the first one again
        modality += (MODALITIES[(i + 2) % len(MODALITIES)],)
    tags = tuple(sorted({TAGS[i % len(TAGS)], TAGS[(i // len(TAGS)) % len(TAGS)]}))
    return Generated(
        name=f"scale-{i:05d}",
        description=f"Synthetic dataset number {i}: {' '.join(words)}.",
        modality=modality,
        license=LICENSES[i % len(LICENSES)],
        tags=tags,
    )


def catalog_entries(n: int) -> Iterator[Generated]:
    return (generated(i) for i in range(n))


def write_catalog(folder: Path, n: int) -> list[Generated]:
    """Write `n` generated manifests into `folder` (created); returns what each one says."""
    folder.mkdir(parents=True, exist_ok=True)
    written = list(catalog_entries(n))
    for g in written:
        (folder / f"{g.name}.yaml").write_text(g.text, encoding="utf-8")
    return written


def small_repo(subsets: int = 2, files: int = 2) -> Replica:
    """The repo the generated manifests read: `subsets` folders of `files` tiny parquet files."""
    data = parquet_bytes(pa.table({"id": pa.array([0], pa.int64())}))
    return Replica(
        SMALL_REPO,
        {f"data/s{s}/{f:03d}.parquet": data for s in range(subsets) for f in range(files)},
    )


def install_small_repo(hub: Any, *, subsets: int = 2, files: int = 2) -> str:
    """Put `small_repo` on a LocalHub; returns its commit."""
    return install(hub, small_repo(subsets, files))


WIDE_MANIFEST = f"""# one subset of many partitions (listed, never served)
name: wide
description: One subset of thousands of partitions.
modality: [image]
source: {{huggingface: {WIDE_REPO}}}
subsets:
  - files: "data/{{subset}}/*.parquet"
format: parquet
"""


def wide_subset_entries(n: int, *, subset: str = "train", size: int = 1_000_000) -> list[dict]:
    """Tree entries of `n` parquet files of one subset (`data/<subset>/part-NNNNN.parquet`),
    for `LocalHub.add_raw_entries`: listed by the Hub, never served (a download is a 404)."""
    return [
        {
            "path": f"data/{subset}/part-{i:05d}.parquet",
            "size": size + i,
            "oid": f"{i:040x}",
            "lfs": {"oid": f"{i:064x}", "size": size + i, "pointerSize": 134},
        }
        for i in range(n)
    ]


def install_wide_repo(hub: Any, n: int, *, subset: str = "train") -> str:
    """A repo with one real file and `n` listed partitions of `subset`; returns the commit."""
    data = parquet_bytes(pa.table({"id": pa.array([0], pa.int64())}))
    install(hub, Replica(WIDE_REPO, {"README.md": b"# wide\n", "data/real/0.parquet": data}))
    return str(hub.add_raw_entries(WIDE_REPO, wide_subset_entries(n, subset=subset)))

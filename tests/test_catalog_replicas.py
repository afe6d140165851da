"""Every built-in manifest, synced against a faithful replica of its repository on the offline Hub.

The expectations are written out per dataset: the exact subset names and partition counts a sync
must find, the files no rule may take, and no rule that matches nothing. The replicas come from
`pygestor.testing.replicas_catalog`; each documents which parts of its layout are verified.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import REPO_ROOT, make_settings
from pygestor.catalog import Catalog
from pygestor.manifest.discovery import parse_file
from pygestor.manifest.models import HuggingFaceSource
from pygestor.testing.hub import HubServer, LocalHub
from pygestor.testing.replicas import Replica, install
from pygestor.testing.replicas_catalog import CATALOG_REPLICAS, MMLU_SUBJECTS

CATALOG_DIR = REPO_ROOT / "catalog"
ROOT = (".gitattributes", "README.md")

MMLU = MMLU_SUBJECTS
# cais/mmlu's 57 subjects, as its card lists them, in order: a fingerprint of that published list
# (the list itself is written once, in the replica builder)
MMLU_FINGERPRINT = "18ae9f57177cea4ca7ed1d52b5b14d8985e7bb3fc158c1294d8eee5a98a29733"
MLS_TRAIN = {
    "dutch": 48,
    "french": 34,
    "german": 63,
    "italian": 8,
    "polish": 4,
    "portuguese": 6,
    "spanish": 30,
}

EXPECTED: dict[str, dict[str, int]] = {
    "alpaca": {"train": 1},
    "c4": {
        "en.train": 1024, "en.validation": 8,
        "en.noblocklist.train": 1024, "en.noblocklist.validation": 8,
        "en.noclean.train": 7168, "en.noclean.validation": 64,
        "realnewslike.train": 512, "realnewslike.validation": 1,
        "multilingual.am.train": 16, "multilingual.am.validation": 1,
        "multilingual.ko.train": 1024, "multilingual.ko.validation": 1,
        "multilingual.ru.train": 4096, "multilingual.ru.validation": 32,
        "multilingual.zh-Latn.train": 8, "multilingual.zh-Latn.validation": 1,
    },
    "cifar10": {"train": 1, "test": 1},
    "cosmopedia": {
        "auto_math_text": 18, "khanacademy": 1, "openstax": 2, "stanford": 13, "stories": 43,
        "web_samples_v1": 139, "web_samples_v2": 118, "wikihow": 2,
    },
    "dolly": {"train": 1},
    "dolly-parquet": {"train": 1},
    "fineweb": {
        "CC-MAIN-2013-20": 2, "CC-MAIN-2024-10": 4, "sample-10BT": 15, "sample-100BT": 3,
        "sample-350BT": 3,
    },
    "fineweb-2": {
        "rus_Cyrl.train": 4, "rus_Cyrl.test": 1, "rus_Cyrl_removed.train": 2,
        "srp_Latn.train": 1, "srp_Latn.test": 1,
    },
    "fineweb-edu": {
        "CC-MAIN-2015-32": 13, "CC-MAIN-2017-34": 16, "CC-MAIN-2024-10": 3, "CC-MAIN-2024-51": 4,
        "sample-10BT": 3, "sample-100BT": 3, "sample-350BT": 3,
    },
    "gsm8k": {"main.train": 1, "main.test": 1, "socratic.train": 1, "socratic.test": 1},
    "imdb": {"train": 1, "test": 1, "unsupervised": 1},
    "mmlu": {
        **{f"{subject}.{split}": 1 for subject in MMLU for split in ("test", "validation", "dev")},
        "all.test": 1, "all.validation": 1, "all.dev": 1, "all.auxiliary_train": 1,
        "auxiliary_train.train": 1,
    },
    "mnist": {"train": 1, "test": 1},
    "multilingual_librispeech": {
        **{f"{lang}.train": n for lang, n in MLS_TRAIN.items()},
        **{f"{lang}.{split}": 1 for lang in MLS_TRAIN
           for split in ("dev", "test", "9_hours", "1_hours")},
    },
    "oasst1": {
        "ready.trees": 1, "ready.messages": 1, "all.trees": 1, "all.messages": 1,
        "spam.messages": 1, "prompts.messages": 1, "train": 1, "validation": 1,
    },
    "squad": {"train": 1, "validation": 1},
    "ultrachat_200k": {"train_sft": 3, "test_sft": 1, "train_gen": 3, "test_gen": 1},
    "wikipedia": {"20231101.ab": 1, "20231101.en": 41, "20231101.fr": 1},
    "wikitext": {
        "wikitext-103-raw-v1.train": 2, "wikitext-103-raw-v1.validation": 1,
        "wikitext-103-raw-v1.test": 1,
        "wikitext-103-v1.train": 2, "wikitext-103-v1.validation": 1, "wikitext-103-v1.test": 1,
        "wikitext-2-raw-v1.train": 1, "wikitext-2-raw-v1.validation": 1,
        "wikitext-2-raw-v1.test": 1,
        "wikitext-2-v1.train": 1, "wikitext-2-v1.validation": 1, "wikitext-2-v1.test": 1,
    },
    "wit_base": {"train": 330},
}  # fmt: skip

UNMATCHED: dict[str, tuple[str, ...]] = {
    "dolly-parquet": (".gitattributes",),  # refs/convert/parquet has no card
    "fineweb": (*ROOT, "lighteval_tasks.py"),
    "multilingual_librispeech": (  # leftovers of the script-based layout, kept by the pinned commit
        *ROOT,
        "data/.gitattributes",
        "data/mls_dutch/test/audio/11290_9412_000.tar.gz",
        "data/mls_dutch/test/audio/3034_2211_000.tar.gz",
        "data/mls_dutch/test/segments.txt",
        "data/mls_dutch/test/transcripts.txt",
        "data/mls_german/README",
        "data/mls_german/train/audio_filenames.txt",
        "data/mls_portuguese/dev/audio/11995_10229_000.tar.gz",
    ),
}

PARTITIONS = {  # a few partition names spelled out: the file name, whatever shape it has
    ("c4", "en.validation"): [f"c4-validation.{i:05d}-of-00008.json.gz" for i in range(8)],
    ("c4", "multilingual.ko.validation"): ["c4-ko-validation.tfrecord-00000-of-00001.json.gz"],
    ("c4", "multilingual.zh-Latn.validation"): [
        "c4-zh-Latn-validation.tfrecord-00000-of-00001.json.gz"
    ],
    ("fineweb", "CC-MAIN-2024-10"): [
        "000_00000.parquet",
        "000_00001.parquet",
        "001_00000.parquet",
        "001_00001.parquet",
    ],
    ("fineweb-2", "rus_Cyrl.test"): ["000_00000.parquet"],
    ("mmlu", "all.auxiliary_train"): ["auxiliary_train-00000-of-00001.parquet"],
    ("multilingual_librispeech", "portuguese.1_hours"): ["1_hours-00000-of-00001.parquet"],
    ("oasst1", "ready.trees"): ["2023-04-12_oasst_ready.trees.jsonl.gz"],
    ("oasst1", "train"): ["train-00000-of-00001-b42a775f407cee45.parquet"],
    ("ultrachat_200k", "train_sft"): [
        "train_sft-00000-of-00003-a3ecf92756993583.parquet",
        "train_sft-00001-of-00003-0a1804bcb6ae68c6.parquet",
        "train_sft-00002-of-00003-ee46ed25cfae92c6.parquet",
    ],
    ("alpaca", "train"): ["train-00000-of-00001-a09b74b3ef9c3b56.parquet"],
    ("dolly", "train"): ["databricks-dolly-15k.jsonl"],
    ("dolly-parquet", "train"): ["0000.parquet"],
}


def manifest_path(name: str) -> Path:
    return CATALOG_DIR / f"{name}.yaml"


@pytest.fixture(scope="session")
def built() -> dict[str, Replica]:
    """Each catalog dataset's replica, built once."""
    return {name: build() for name, build in CATALOG_REPLICAS.items()}


@pytest.fixture(scope="session")
def catalog_hub(
    tmp_path_factory: pytest.TempPathFactory, built: Mapping[str, Replica]
) -> Iterator[HubServer]:
    """A read-only offline Hub serving every replica of the catalog (one repo per repo id)."""
    hub = LocalHub(tmp_path_factory.mktemp("catalog-hub"))
    installed: set[str] = set()
    for replica in built.values():
        if replica.repo_id not in installed:
            install(hub, replica)
            installed.add(replica.repo_id)
    with HubServer(hub) as server:
        yield server


def test_every_manifest_has_a_replica_and_expectations_and_vice_versa(
    built: Mapping[str, Replica],
) -> None:
    manifests = {path.stem for path in CATALOG_DIR.glob("*.yaml")}
    assert manifests == set(CATALOG_REPLICAS) == set(EXPECTED)
    for name in manifests:
        manifest = parse_file(manifest_path(name))
        assert manifest.name == name
        assert isinstance(manifest.source, HuggingFaceSource)
        replica = built[name]
        assert replica.repo_id == manifest.source.huggingface, name
        revision = manifest.source.revision
        if revision != "main":  # a branch of the replica, or a commit id it serves as a tag
            assert revision in replica.branches or f"refs/tags/{revision}" in replica.branches, name
        assert (
            manifest_path(name)
            .read_text()
            .startswith("# yaml-language-server: $schema=../schemas/manifest.schema.json\n")
        )


def test_replicas_are_deterministic(built: Mapping[str, Replica]) -> None:
    for name, build in CATALOG_REPLICAS.items():
        again = build()
        assert again.files == built[name].files, name
        assert again.branches == built[name].branches, name


def test_mmlu_expectations_use_the_replicas_subject_list() -> None:
    assert len(MMLU) == 57 and (MMLU[0], MMLU[-1]) == ("abstract_algebra", "world_religions")
    assert hashlib.sha256(",".join(MMLU).encode()).hexdigest() == MMLU_FINGERPRINT
    assert len(EXPECTED["mmlu"]) == 176


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sync_finds_exactly_the_expected_subsets(
    name: str, tmp_path: Path, catalog_hub: HubServer, built: Mapping[str, Replica]
) -> None:
    catalog = Catalog(make_settings(tmp_path, catalog_hub.endpoint))
    manifest = catalog.manifest(name)
    assert isinstance(manifest.source, HuggingFaceSource)
    [result] = catalog.sync(name)
    assert result.error is None
    assert result.revision == manifest.source.revision
    rev = manifest.source.revision
    expected_commit = catalog_hub.hub.head(
        manifest.source.huggingface,
        rev if rev.startswith("refs/") or rev == "main" else f"refs/tags/{rev}",
    )
    assert result.commit == expected_commit
    assert result.empty_rules == ()
    assert result.skipped == ()
    assert result.unmatched == UNMATCHED.get(name, ROOT)

    subsets = {s["subset"]: s["partitions"] for s in catalog.subset_records(name)}
    assert subsets == EXPECTED[name]
    assert (result.subsets, result.partitions) == (
        len(EXPECTED[name]),
        sum(EXPECTED[name].values()),
    )

    # Every partition is a file of the revision, named by its file name, and holds what the
    # manifest's format promises, with the manifest's default columns.
    revision = (
        built[name].branches.get(rev, built[name].files)
        if rev.startswith("refs/")
        else built[name].files
    )
    columns = set(manifest.load.columns or ())
    checked: set[bytes] = set()
    for subset in subsets:
        partitions = catalog.partition_records(name, subset)
        for part in partitions:
            assert part["partition"] == part["path"].rsplit("/", 1)[-1]
            data = revision[part["path"]]
            if data not in checked:
                checked.add(data)
                assert columns <= read_columns(part["path"], data), (name, part["path"])
        if (name, subset) in PARTITIONS:
            assert [p["partition"] for p in partitions] == PARTITIONS[(name, subset)]


def read_columns(path: str, data: bytes) -> set[str]:
    """The column names of a parquet file, or the keys of every record of a (gzipped) JSON-lines
    file, reading all of it (so a broken file fails)."""
    if path.endswith(".parquet"):
        return set(pq.read_table(io.BytesIO(data)).column_names)
    text = gzip.decompress(data).decode() if path.endswith(".gz") else data.decode()
    lines = text.splitlines()
    assert lines and text.endswith("\n")
    keys = [set(json.loads(line)) for line in lines]
    return set.intersection(*keys)


def test_c4_validation_files_never_land_in_train(tmp_path: Path, catalog_hub: HubServer) -> None:
    catalog = Catalog(make_settings(tmp_path, catalog_hub.endpoint))
    catalog.sync("c4")
    for subset in EXPECTED["c4"]:
        names = [p["partition"] for p in catalog.partition_records("c4", subset)]
        split = subset.rsplit(".", 1)[1]
        assert all(("validation" in n) == (split == "validation") for n in names), subset
        assert all(re.fullmatch(r"c4-.*-of-\d{5}\.json\.gz", n) for n in names), subset

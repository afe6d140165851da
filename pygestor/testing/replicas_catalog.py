"""Replicas of every dataset in the built-in catalog (``catalog/*.yaml``).

Each builder returns a :class:`~pygestor.testing.replicas.Replica` copying the real repository's
*path list* as far as public dataset cards, file listings and download code show it: real folder
names, file-name shapes (``train-00000-of-00041.parquet``, datatrove's ``000_00000.parquet``,
``-<16 hex>`` suffixes, split words inside names such as ``c4-ko-validation.tfrecord-…``), real
shard counts where they are known, the root ``README.md`` and ``.gitattributes``, and the files
no manifest rule should take (scripts, leftovers of older layouts).  Where a count is not known,
or is in the thousands, the replica keeps the real ``-of-NNNNN`` numbering text but fewer files;
each builder says which.

Contents are tiny but real: valid parquet with the dataset's columns and types (one small file
per schema, reused for every shard, so the whole catalog builds in well under a second and a
content-addressed hub stores one blob per schema), gzipped JSON lines for ``allenai/c4`` and
``OpenAssistant/oasst1``.  Builders are deterministic: the same bytes on every run.

:data:`CATALOG_REPLICAS` maps each built-in manifest's name to its builder.  A manifest pinned to
a commit id gets that id as a tag on the replica (:func:`pinned`): a ``LocalHub`` derives commit
ids from content, so it cannot serve the real id as a commit, but it resolves ``refs/tags/<rev>``
for any revision that is not one of its own commits.
"""

from __future__ import annotations

import io
import random
import struct
import wave
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from .replica_kit import hf_value
from .replicas import (
    Features,
    Replica,
    databricks_dolly,
    dataset_card,
    fingerprint,
    gitattributes,
    jsonl_bytes,
    mnist,
    parquet_bytes,
    png_bytes,
    shard_name,
    table,
    wikipedia,
    wit_base,
)

__all__ = [
    "CATALOG_REPLICAS",
    "MLS_REVISION",
    "MMLU_SUBJECTS",
    "alpaca",
    "c4",
    "cifar10",
    "cosmopedia",
    "dolly",
    "dolly_parquet",
    "fineweb",
    "fineweb_2",
    "fineweb_edu",
    "gsm8k",
    "imdb",
    "mmlu",
    "multilingual_librispeech",
    "oasst1",
    "pinned",
    "squad",
    "ultrachat_200k",
    "wikitext",
]


# --------------------------------------------------------------------------------------------
# Small helpers



def _label(*names: str) -> dict[str, Any]:
    return {"names": list(names), "_type": "ClassLabel"}


def _strings(*names: str) -> tuple[pa.Schema, Features]:
    """A schema of string columns and its ``datasets`` features."""
    return pa.schema([(n, pa.string()) for n in names]), {n: hf_value("string") for n in names}


def _parquet(rows: Sequence[Mapping[str, Any]], schema: pa.Schema, features: Features) -> bytes:
    return parquet_bytes(table(rows, schema, features))


def _shards(prefix: str, split: str, count: int, data: bytes, *,
            suffixes: Sequence[str] | None = None) -> dict[str, bytes]:
    """All ``count`` shards ``<prefix>/<split>-NNNNN-of-NNNNN.parquet``, each holding ``data``;
    ``suffixes`` adds the ``-<16 hex>`` of each shard."""
    return {
        f"{prefix}/{shard_name(split, i, count, suffix=suffixes[i] if suffixes else None)}": data
        for i in range(count)
    }


def _datatrove(prefix: str, names: Iterable[str], data: bytes) -> dict[str, bytes]:
    """datatrove's ``<rank:03d>_<file:05d>.parquet`` names, e.g. ``000_00000.parquet``."""
    return {f"{prefix}/{name}.parquet": data for name in names}


def _ranks(ranks: int, files_per_rank: int = 1) -> list[str]:
    return [f"{r:03d}_{f:05d}" for r in range(ranks) for f in range(files_per_rank)]


def _card(title: str, meta: Mapping[str, Any], configs: Sequence[tuple[str, Sequence[tuple[str, str | list[str]]]]] = (),
          body: str = "") -> bytes:
    """A dataset card whose front matter carries ``configs:`` with ``data_files`` globs, as the
    real cards do (without ``dataset_info``, which the manifests do not use)."""
    front = dict(meta)
    if configs:
        front["configs"] = [
            {"config_name": name, "data_files": [{"split": s, "path": p} for s, p in splits]}
            for name, splits in configs
        ]
    return dataset_card(title, meta=front, body=body or f"{title} (pygestor replica).")


def _repo(repo_id: str, files: Mapping[str, bytes], card: bytes, *extra_lfs: str) -> Replica:
    return Replica(repo_id, {".gitattributes": gitattributes(*extra_lfs), "README.md": card, **files})


def pinned(replica: Replica, revision: str) -> Replica:
    """``replica`` plus the tag ``refs/tags/<revision>`` on its ``main`` files, so that a manifest
    pinned to the real repository's commit id ``revision`` syncs against the replica."""
    return replace(replica, branches={**replica.branches, f"refs/tags/{revision}": replica.files})


# --------------------------------------------------------------------------------------------
# HuggingFaceFW/fineweb, fineweb-edu, fineweb-2

_FINEWEB_COLUMNS = ("text", "id", "dump", "url", "date", "file_path", "language",
                    "language_score", "token_count")  # fmt: skip
_FINEWEB_EDU_COLUMNS = (*_FINEWEB_COLUMNS, "score", "int_score")
_FINEWEB_2_COLUMNS = ("text", "id", "dump", "url", "date", "file_path", "language",
                      "language_score", "language_script", "minhash_cluster_size", "top_langs")  # fmt: skip
_TYPES: dict[str, pa.DataType] = {
    "language_score": pa.float64(), "token_count": pa.int64(), "score": pa.float64(),
    "int_score": pa.int64(), "minhash_cluster_size": pa.int64(),
}  # fmt: skip


def _web_schema(columns: Sequence[str]) -> tuple[pa.Schema, Features]:
    schema = pa.schema([(c, _TYPES.get(c, pa.string())) for c in columns])
    features = {c: hf_value({"double": "float64", "int64": "int64"}.get(str(t), "string"))
                for c, t in zip(schema.names, schema.types, strict=True)}
    return schema, features


def _web_row(columns: Sequence[str], dump: str, index: int, *, lang: str = "en",
             script: str = "Latn") -> dict[str, Any]:
    text = {"en": "How to grow tomatoes on a balcony: pick a sunny spot and water daily.",
            "ru": "Как вырастить помидоры на балконе: выберите солнечное место.",
            "sr": "Kako uzgajati paradajz na balkonu: izaberite sunčano mesto."}.get(lang, "Text.")
    year = dump[8:12]
    row: dict[str, Any] = {
        "text": text,
        "id": f"<urn:uuid:{fingerprint(dump, str(index))[:8]}-0000-4000-8000-{index:012d}>",
        "dump": dump,
        "url": f"http://example.org/{lang}/{index}",
        "date": f"{year}-05-{10 + index:02d}T12:00:00Z",
        "file_path": f"s3://commoncrawl/crawl-data/{dump}/segments/1368696381249.29/warc/"
                     f"CC-MAIN-20130516113953-{index:05d}-ip-10-60-113-184.ec2.internal.warc.gz",
        "language": lang,
        "language_score": 0.93,
        "token_count": 17,
        "score": 2.7,
        "int_score": 3,
        "language_script": script,
        "minhash_cluster_size": 1,
        "top_langs": f'{{"{lang}_{script}_score": 0.93}}',
    }
    return {c: row[c] for c in columns}


@cache
def _fineweb_parquet(columns: tuple[str, ...], dump: str, lang: str = "en", script: str = "Latn") -> bytes:
    schema, features = _web_schema(columns)
    return _parquet([_web_row(columns, dump, i, lang=lang, script=script) for i in range(2)], schema, features)


def _fineweb_card(title: str, license_: str, dumps: Sequence[str], samples: Sequence[str]) -> bytes:
    configs: list[tuple[str, Sequence[tuple[str, str | list[str]]]]] = [
        ("default", [("train", "data/*/*")])
    ]
    configs += [(f"sample-{s}", [("train", f"sample/{s}/*")]) for s in samples]
    configs += [(d, [("train", f"data/{d}/*")]) for d in dumps]
    meta = {"license": license_, "task_categories": ["text-generation"], "language": ["en"],
            "pretty_name": title, "size_categories": ["n>1T"]}
    return _card(title, meta, configs)


def fineweb() -> Replica:
    """``HuggingFaceFW/fineweb``: ``data/CC-MAIN-YYYY-WW/NNN_NNNNN.parquet`` per crawl and
    ``sample/{10BT,100BT,350BT}/NNN_NNNNN.parquet``, plus the root ``lighteval_tasks.py``
    (linked from the card) that no rule takes.

    Known: the folder names, the datatrove file names (``CC-MAIN-2024-10/000_00000.parquet`` and
    ``000_00001.parquet`` exist, ~2.15 GB each).  Not known: how many files each crawl holds
    (tens to hundreds); the replica keeps two crawls with a few files each.  ``sample/10BT`` has
    15 files (``000_00000`` … ``014_00000``) as recalled, not verified; 100BT and 350BT hold
    hundreds of files, scaled down to 3 each.
    """
    data = _fineweb_parquet(_FINEWEB_COLUMNS, "CC-MAIN-2024-10")
    files = {
        **_datatrove("data/CC-MAIN-2013-20", _ranks(2), data),
        **_datatrove("data/CC-MAIN-2024-10", _ranks(2, 2), data),
        **_datatrove("sample/10BT", _ranks(15), data),
        **_datatrove("sample/100BT", _ranks(3), data),
        **_datatrove("sample/350BT", _ranks(3), data),
        "lighteval_tasks.py": b"# lighteval task definitions used for the FineWeb ablations\n",
    }
    card = _fineweb_card("FineWeb", "odc-by", ["CC-MAIN-2024-10", "CC-MAIN-2013-20"],
                         ["10BT", "100BT", "350BT"])
    return _repo("HuggingFaceFW/fineweb", files, card)


def fineweb_edu() -> Replica:
    """``HuggingFaceFW/fineweb-edu``: both naming schemes side by side in ``data/``.

    Verified: ``data/CC-MAIN-2015-32/train-*-of-00013.parquet`` and ``CC-MAIN-2017-34`` with 16
    shards (the first dumps were pushed with ``push_to_hub``); the 2024+ dumps re-done by
    datatrove use ``000_00000.parquet`` (LAYOUTS.md; per-dump file counts not verified, scaled to
    a few).  ``sample/{10BT,100BT,350BT}`` hold datatrove names; their file counts are not known
    and are scaled to 3 each.
    """
    data = _fineweb_parquet(_FINEWEB_EDU_COLUMNS, "CC-MAIN-2015-32")
    files = {
        **_shards("data/CC-MAIN-2015-32", "train", 13, data),
        **_shards("data/CC-MAIN-2017-34", "train", 16, data),
        **_datatrove("data/CC-MAIN-2024-10", _ranks(3), data),
        **_datatrove("data/CC-MAIN-2024-51", _ranks(2, 2), data),
        **_datatrove("sample/10BT", _ranks(3), data),
        **_datatrove("sample/100BT", _ranks(3), data),
        **_datatrove("sample/350BT", _ranks(3), data),
    }
    card = _fineweb_card("FineWeb-Edu", "odc-by",
                         ["CC-MAIN-2024-51", "CC-MAIN-2024-10", "CC-MAIN-2017-34", "CC-MAIN-2015-32"],
                         ["10BT", "100BT", "350BT"])
    return _repo("HuggingFaceFW/fineweb-edu", files, card)


def fineweb_2() -> Replica:
    """``HuggingFaceFW/fineweb-2``: ``data/<lang_Script>/{train,test}/NNN_NNNNN.parquet`` and the
    filtered-out documents in ``data/<lang_Script>_removed/train/``.

    Verified: ``data/rus_Cyrl/train/000_00000.parquet`` and ``data/<lang>/test/000_00000.parquet``
    for many languages; ``<lang>_removed`` configs are named in third-party download code (their
    folder shape is assumed to be the same, train only).  File counts per language are not known
    (large languages have many train files); the replica keeps 4 for Russian, 1 elsewhere.
    """
    ru = _fineweb_parquet(_FINEWEB_2_COLUMNS, "CC-MAIN-2024-18", "ru", "Cyrl")
    sr = _fineweb_parquet(_FINEWEB_2_COLUMNS, "CC-MAIN-2024-18", "sr", "Latn")
    files = {
        **_datatrove("data/rus_Cyrl/train", _ranks(2, 2), ru),
        **_datatrove("data/rus_Cyrl/test", _ranks(1), ru),
        **_datatrove("data/rus_Cyrl_removed/train", _ranks(2), ru),
        **_datatrove("data/srp_Latn/train", _ranks(1), sr),
        **_datatrove("data/srp_Latn/test", _ranks(1), sr),
    }
    configs = [(c, [(s, f"data/{c}/{s}/*") for s in ("train", "test") if f"data/{c}/{s}/000_00000.parquet" in files])
               for c in ("rus_Cyrl", "rus_Cyrl_removed", "srp_Latn")]
    meta = {"license": "odc-by", "task_categories": ["text-generation"], "pretty_name": "FineWeb 2"}
    return _repo("HuggingFaceFW/fineweb-2", files, _card("FineWeb2", meta, configs))


# --------------------------------------------------------------------------------------------
# allenai/c4

# Shard counts as published: every file is there (15,000 in all; building and serving them takes
# about a second, since all shards of a split share one blob).
_C4_VARIANTS = {  # folder: (train shards, validation shards)
    "en": (1024, 8),
    "en.noblocklist": (1024, 8),
    "en.noclean": (7168, 64),
    "realnewslike": (512, 1),
}
_C4_MULTILINGUAL = {  # language: (train shards, validation shards)
    "am": (16, 1),  # third-party download code
    "ko": (1024, 1),  # third-party download code
    "ru": (4096, 32),  # third-party download code
    "zh-Latn": (8, 1),  # train count from third-party test code; validation count assumed
}


@cache
def _c4_jsonl(variant: str, split: str) -> bytes:
    rows = [
        {"text": f"Beginners BBQ Class Taking Place in Missoula! ({variant} {split} {i})",
         "timestamp": "2019-04-25T12:57:54Z",
         "url": f"https://example.com/{variant}/{split}/{i}"}
        for i in range(2)
    ]
    return jsonl_bytes(rows, gzipped=True)


def c4() -> Replica:
    """``allenai/c4``: a folder per variant with the split inside the file name, and
    ``multilingual/`` with the language (and ``-validation``) inside it.

    ``en/c4-train.00000-of-01024.json.gz`` … ``en/c4-validation.00007-of-00008.json.gz``,
    ``en.noblocklist`` (1024/8), ``en.noclean`` (7168/64), ``realnewslike`` (512/1),
    ``multilingual/c4-ko.tfrecord-00000-of-01024.json.gz`` and
    ``multilingual/c4-ko-validation.tfrecord-00000-of-00001.json.gz``; ``-Latn`` languages such
    as ``c4-zh-Latn.tfrecord-…`` put a ``-`` inside the language.  Every shard of the four
    variants and of four languages (am, ko, ru, zh-Latn; the real repository has 108) is there,
    14,988 files.  Gzipped JSON lines: text, timestamp, url.  No index files or scripts are known
    in the repository.
    """
    files: dict[str, bytes] = {}
    configs: list[tuple[str, Sequence[tuple[str, str | list[str]]]]] = []
    for variant, (train, validation) in _C4_VARIANTS.items():
        for split, count in (("train", train), ("validation", validation)):
            data = _c4_jsonl(variant, split)
            files.update({f"{variant}/c4-{split}.{i:05d}-of-{count:05d}.json.gz": data for i in range(count)})
        configs.append((variant, [("train", f"{variant}/c4-train.*.json.gz"),
                                  ("validation", f"{variant}/c4-validation.*.json.gz")]))
    for lang, (train, validation) in _C4_MULTILINGUAL.items():
        files.update({f"multilingual/c4-{lang}.tfrecord-{i:05d}-of-{train:05d}.json.gz": _c4_jsonl(lang, "train")
                      for i in range(train)})
        files.update({f"multilingual/c4-{lang}-validation.tfrecord-{i:05d}-of-{validation:05d}.json.gz":
                      _c4_jsonl(lang, "validation") for i in range(validation)})
        configs.append((lang, [("train", f"multilingual/c4-{lang}.*.json.gz"),
                               ("validation", f"multilingual/c4-{lang}-validation.*.json.gz")]))
    meta = {"pretty_name": "C4", "license": ["odc-by"], "task_categories": ["text-generation", "fill-mask"],
            "language": ["en", *sorted({lang.split("-")[0] for lang in _C4_MULTILINGUAL})]}
    return _repo("allenai/c4", files, _card("C4", meta, configs))


# --------------------------------------------------------------------------------------------
# Small classic benchmarks: one file per split under a config folder

_CIFAR10_LABELS = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def cifar10() -> Replica:
    """``uoft-cs/cifar10``: ``plain_text/{train,test}-00000-of-00001.parquet``, columns ``img``
    (a 32x32 RGB PNG struct) and ``label`` (class label, 10 classes)."""
    rng = random.Random("uoft-cs/cifar10")
    schema = pa.schema([("img", _IMAGE), ("label", pa.int64())])
    features = {"img": {"_type": "Image"}, "label": _label(*_CIFAR10_LABELS)}
    rows = [{"img": {"bytes": png_bytes(32, 32, bytes(rng.randrange(256) for _ in range(32 * 32 * 3)), channels=3),
                     "path": None}, "label": label} for label in (3, 8)]
    data = _parquet(rows, schema, features)
    files = {f"plain_text/{shard_name(s, 0, 1)}": data for s in ("train", "test")}
    card = _card("Dataset Card for CIFAR-10", {"license": "unknown", "task_categories": ["image-classification"]},
                 [("plain_text", [("train", "plain_text/train-*"), ("test", "plain_text/test-*")])])
    return _repo("uoft-cs/cifar10", files, card)


def imdb() -> Replica:
    """``stanfordnlp/imdb``: ``plain_text/{train,test,unsupervised}-00000-of-00001.parquet``,
    columns ``text`` and ``label`` (neg/pos; -1 in ``unsupervised``)."""
    schema = pa.schema([("text", pa.string()), ("label", pa.int64())])
    features = {"text": hf_value("string"), "label": _label("neg", "pos")}
    splits = {"train": 0, "test": 1, "unsupervised": -1}
    files = {
        f"plain_text/{shard_name(s, 0, 1)}": _parquet(
            [{"text": "I rented I AM CURIOUS-YELLOW from my video store.", "label": label}], schema, features)
        for s, label in splits.items()
    }
    card = _card("Dataset Card for Large Movie Review Dataset", {"license": "other", "language": ["en"]},
                 [("plain_text", [(s, f"plain_text/{s}-*") for s in splits])])
    return _repo("stanfordnlp/imdb", files, card)


def squad() -> Replica:
    """``rajpurkar/squad``: ``plain_text/{train,validation}-00000-of-00001.parquet``, columns
    ``id``, ``title``, ``context``, ``question``, ``answers`` {text, answer_start}."""
    schema = pa.schema([("id", pa.string()), ("title", pa.string()), ("context", pa.string()),
                        ("question", pa.string()),
                        ("answers", pa.struct([("text", pa.list_(pa.string())),
                                               ("answer_start", pa.list_(pa.int32()))]))])
    features = {**{n: hf_value("string") for n in ("id", "title", "context", "question")},
                "answers": {"feature": {"text": hf_value("string"), "answer_start": hf_value("int32")},
                            "_type": "Sequence"}}
    row = {"id": "5733be284776f41900661182", "title": "University_of_Notre_Dame",
           "context": "Architecturally, the school has a Catholic character.",
           "question": "What character does the school have?",
           "answers": {"text": ["a Catholic character"], "answer_start": [31]}}
    data = _parquet([row], schema, features)
    files = {f"plain_text/{shard_name(s, 0, 1)}": data for s in ("train", "validation")}
    card = _card("Dataset Card for SQuAD", {"license": "cc-by-sa-4.0", "language": ["en"]},
                 [("plain_text", [("train", "plain_text/train-*"), ("validation", "plain_text/validation-*")])])
    return _repo("rajpurkar/squad", files, card)


def gsm8k() -> Replica:
    """``openai/gsm8k``: exactly ``{main,socratic}/{train,test}-00000-of-00001.parquet`` plus
    ``README.md`` and ``.gitattributes``; columns ``question``, ``answer``."""
    schema, features = _strings("question", "answer")
    data = _parquet([{"question": "Natalia sold clips to 48 of her friends in April, and then half as many in May. "
                                  "How many clips did Natalia sell altogether?",
                      "answer": "48/2 = <<48/2=24>>24 in May.\n48+24 = <<48+24=72>>72\n#### 72"}], schema, features)
    files = {f"{c}/{shard_name(s, 0, 1)}": data for c in ("main", "socratic") for s in ("train", "test")}
    card = _card("Dataset Card for GSM8K", {"license": "mit", "language": ["en"]},
                 [(c, [(s, f"{c}/{s}-*") for s in ("train", "test")]) for c in ("main", "socratic")])
    return _repo("openai/gsm8k", files, card)


MMLU_SUBJECTS = (
    "abstract_algebra", "anatomy", "astronomy", "business_ethics", "clinical_knowledge",
    "college_biology", "college_chemistry", "college_computer_science", "college_mathematics",
    "college_medicine", "college_physics", "computer_security", "conceptual_physics",
    "econometrics", "electrical_engineering", "elementary_mathematics", "formal_logic",
    "global_facts", "high_school_biology", "high_school_chemistry", "high_school_computer_science",
    "high_school_european_history", "high_school_geography", "high_school_government_and_politics",
    "high_school_macroeconomics", "high_school_mathematics", "high_school_microeconomics",
    "high_school_physics", "high_school_psychology", "high_school_statistics",
    "high_school_us_history", "high_school_world_history", "human_aging", "human_sexuality",
    "international_law", "jurisprudence", "logical_fallacies", "machine_learning", "management",
    "marketing", "medical_genetics", "miscellaneous", "moral_disputes", "moral_scenarios",
    "nutrition", "philosophy", "prehistory", "professional_accounting", "professional_law",
    "professional_medicine", "professional_psychology", "public_relations", "security_studies",
    "sociology", "us_foreign_policy", "virology", "world_religions",
)  # fmt: skip
"""The 57 subjects of ``cais/mmlu``, as its card lists them."""
MMLU_SPLITS = ("test", "validation", "dev")


def mmlu() -> Replica:
    """``cais/mmlu``: all 176 parquet files of the real repository.

    57 subject folders × ``{test,validation,dev}-00000-of-00001.parquet``, ``all/`` with those
    three plus ``auxiliary_train-00000-of-00001.parquet``, and
    ``auxiliary_train/train-00000-of-00001.parquet`` whose only column is ``train`` (a struct of
    the four columns).  Columns: ``question``, ``subject``, ``choices``, ``answer`` (A-D).
    """
    columns = [("question", pa.string()), ("subject", pa.string()), ("choices", pa.list_(pa.string())),
               ("answer", pa.int64())]
    item, schema = pa.struct(columns), pa.schema(columns)
    features = {"question": hf_value("string"), "subject": hf_value("string"),
                "choices": {"feature": hf_value("string"), "_type": "Sequence"}, "answer": _label("A", "B", "C", "D")}
    row = {"question": "Find the degree for the given field extension Q(sqrt(2)) over Q.",
           "subject": "abstract_algebra", "choices": ["0", "4", "2", "6"], "answer": 2}
    data = _parquet([row], schema, features)
    aux_schema = pa.schema([("train", item)])
    aux_features = {"train": {"question": hf_value("string"), "subject": hf_value("string"),
                              "choices": {"feature": hf_value("string"), "_type": "Sequence"},
                              "answer": hf_value("int64")}}
    aux = _parquet([{"train": {**row, "subject": ""}}], aux_schema, aux_features)
    files: dict[str, bytes] = {}
    configs: list[tuple[str, Sequence[tuple[str, str | list[str]]]]] = []
    for subject in ("all", *MMLU_SUBJECTS):
        splits = (*MMLU_SPLITS, "auxiliary_train") if subject == "all" else MMLU_SPLITS
        files.update({f"{subject}/{shard_name(s, 0, 1)}": data for s in splits})
        configs.append((subject, [(s, f"{subject}/{s}-*") for s in splits]))
    files[f"auxiliary_train/{shard_name('train', 0, 1)}"] = aux
    configs.append(("auxiliary_train", [("train", "auxiliary_train/train-*")]))
    card = _card("Dataset Card for MMLU", {"language": ["en"], "license": "mit", "pretty_name": "Measuring Massive "
                 "Multitask Language Understanding"}, sorted(configs))
    return _repo("cais/mmlu", files, card)


# --------------------------------------------------------------------------------------------
# HuggingFaceTB/cosmopedia

_COSMOPEDIA_SHARDS = {
    # Verified in file listings: stanford 13, web_samples_v2 118, wikihow 2.  The others follow
    # push_to_hub's int(num_bytes / 500 MB) + 1 from the card's dataset_info (which gives 13 for
    # stanford too): auto_math_text 8.78 GB, khanacademy 0.11 GB, openstax 0.67 GB, stories
    # 21.3 GB, web_samples_v1 69.0 GB.
    "auto_math_text": 18, "khanacademy": 1, "openstax": 2, "stanford": 13, "stories": 43,
    "web_samples_v1": 139, "web_samples_v2": 118, "wikihow": 2,
}  # fmt: skip


def cosmopedia() -> Replica:
    """``HuggingFaceTB/cosmopedia``: ``data/<config>/train-NNNNN-of-NNNNN.parquet`` for 8 configs,
    all shards (336 files).  Columns: prompt, text_token_length, text, seed_data, format, audience."""
    schema = pa.schema([("prompt", pa.string()), ("text_token_length", pa.int64()), ("text", pa.string()),
                        ("seed_data", pa.string()), ("format", pa.string()), ("audience", pa.string())])
    features = {n: hf_value("int64" if n == "text_token_length" else "string") for n in schema.names}
    data = _parquet([{"prompt": "Write a textbook chapter about photosynthesis.", "text_token_length": 12,
                      "text": "Photosynthesis turns light into chemical energy.", "seed_data": "stanford",
                      "format": "textbook", "audience": "college_students"}], schema, features)
    files: dict[str, bytes] = {}
    for config, count in _COSMOPEDIA_SHARDS.items():
        files.update(_shards(f"data/{config}", "train", count, data))
    card = _card("Cosmopedia v0.1", {"license": "apache-2.0", "language": ["en"], "tags": ["synthetic"]},
                 [(c, [("train", f"data/{c}/train-*")]) for c in _COSMOPEDIA_SHARDS])
    return _repo("HuggingFaceTB/cosmopedia", files, card)


# --------------------------------------------------------------------------------------------
# facebook/multilingual_librispeech

MLS_REVISION = "2e83e61823b4c47dcbcb1980bb88601274127609"
"""The commit "mls_without_script (#15)" that put the parquet files on ``main`` (Aug 2024)."""
_MLS_TRAIN_SHARDS = {
    # Verified in file listings: italian 8, polish 4, portuguese 6, spanish 30.  dutch, french and
    # german follow push_to_hub's int(num_bytes / 500 MB) + 1 from the card's dataset_info (the
    # same rule gives the four verified counts).
    "dutch": 48, "french": 34, "german": 63, "italian": 8, "polish": 4, "portuguese": 6, "spanish": 30,
}  # fmt: skip
MLS_SPLITS = ("train", "dev", "test", "9_hours", "1_hours")


def _wav(samples: int = 160, rate: int = 16000) -> bytes:
    sink = io.BytesIO()
    with wave.open(sink, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", (i * 97) % 2000 - 1000) for i in range(samples)))
    return sink.getvalue()


def multilingual_librispeech() -> Replica:
    """``facebook/multilingual_librispeech`` at :data:`MLS_REVISION`: ``<language>/<split>-…``
    for 7 languages and the splits train, dev, test, 9_hours, 1_hours (dev, test and the limited
    supervision sets are one file each; train shards per :data:`_MLS_TRAIN_SHARDS`), and the
    leftovers of the older script-based layout (``data/mls_<language>/…/*.tar.gz``, transcripts)
    that the commit still carries and no rule may take.  The replica serves the commit id as a
    tag (:func:`pinned`).  Columns: audio (a tiny WAV), original_path, begin_time, end_time,
    transcript, audio_duration, speaker_id, chapter_id, file, id.
    """
    audio = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    schema = pa.schema([("audio", audio), ("original_path", pa.string()), ("begin_time", pa.float64()),
                        ("end_time", pa.float64()), ("transcript", pa.string()), ("audio_duration", pa.float64()),
                        ("speaker_id", pa.string()), ("chapter_id", pa.string()), ("file", pa.string()),
                        ("id", pa.string())])
    features: dict[str, Any] = {n: hf_value("float64" if n.endswith(("_time", "duration")) else "string")
                                for n in schema.names}
    features["audio"] = {"sampling_rate": 16000, "_type": "Audio"}
    row = {"audio": {"bytes": _wav(), "path": "10900_6473_000030.flac"},
           "original_path": "http://www.archive.org/download/x/x_64kb.mp3", "begin_time": 112.7,
           "end_time": 128.6, "transcript": "więc czego chcecie odemnie spytałem",
           "audio_duration": 15.9, "speaker_id": "10900", "chapter_id": "6473",
           "file": "10900_6473_000030.flac", "id": "10900_6473_000030"}
    data = _parquet([row], schema, features)
    files: dict[str, bytes] = {}
    for language, train in _MLS_TRAIN_SHARDS.items():
        files.update(_shards(language, "train", train, data))
        for split in MLS_SPLITS[1:]:
            files.update(_shards(language, split, 1, data))
    legacy = b"old layout"
    files.update({
        "data/.gitattributes": b"*.txt filter=lfs diff=lfs merge=lfs -text\n",
        "data/mls_dutch/test/audio/11290_9412_000.tar.gz": legacy,
        "data/mls_dutch/test/audio/3034_2211_000.tar.gz": legacy,
        "data/mls_dutch/test/segments.txt": legacy,
        "data/mls_dutch/test/transcripts.txt": legacy,
        "data/mls_german/README": legacy,
        "data/mls_german/train/audio_filenames.txt": legacy,
        "data/mls_portuguese/dev/audio/11995_10229_000.tar.gz": legacy,
    })
    card = _card("Dataset Card for MultiLingual LibriSpeech",
                 {"license": ["cc-by-4.0"], "pretty_name": "MultiLingual LibriSpeech",
                  "task_categories": ["automatic-speech-recognition", "text-to-speech", "text-to-audio"]},
                 [(lang, [(s, f"{lang}/{s}-*") for s in ("dev", "test", "train", "9_hours", "1_hours")])
                  for lang in _MLS_TRAIN_SHARDS])
    return pinned(_repo("facebook/multilingual_librispeech", files, card), MLS_REVISION)


# --------------------------------------------------------------------------------------------
# Salesforce/wikitext

_WIKITEXT_TRAIN_SHARDS = {
    # wikitext-103-raw-v1 train has 2 shards (verified); wikitext-103-v1 is as large, assumed 2.
    "wikitext-103-raw-v1": 2, "wikitext-103-v1": 2, "wikitext-2-raw-v1": 1, "wikitext-2-v1": 1,
}  # fmt: skip


def wikitext() -> Replica:
    """``Salesforce/wikitext``: one folder per config with ``{test,train,validation}-…`` files;
    one column, ``text``."""
    schema, features = _strings("text")
    data = _parquet([{"text": " = Valkyria Chronicles III = \n"}, {"text": ""}], schema, features)
    files: dict[str, bytes] = {}
    for config, train in _WIKITEXT_TRAIN_SHARDS.items():
        files.update(_shards(config, "train", train, data))
        files.update(_shards(config, "test", 1, data))
        files.update(_shards(config, "validation", 1, data))
    card = _card("Dataset Card for WikiText", {"license": ["cc-by-sa-3.0", "gfdl"], "language": ["en"]},
                 [(c, [(s, f"{c}/{s}-*") for s in ("test", "train", "validation")]) for c in _WIKITEXT_TRAIN_SHARDS])
    return _repo("Salesforce/wikitext", files, card)


# --------------------------------------------------------------------------------------------
# Instruction and chat data

_ULTRACHAT_SUFFIXES = {
    # train_sft and test_sft hashes as published; train_gen and test_gen shard counts and hashes
    # are not known: the replica derives stable ones (fingerprint).
    "train_sft": ("a3ecf92756993583", "0a1804bcb6ae68c6", "ee46ed25cfae92c6"),
    "test_sft": ("f7dfac4afe5b93f4",),
    "train_gen": tuple(fingerprint("ultrachat_200k", "train_gen", str(i)) for i in range(3)),
    "test_gen": (fingerprint("ultrachat_200k", "test_gen", "0"),),
}


def ultrachat_200k() -> Replica:
    """``HuggingFaceH4/ultrachat_200k``: hash-suffixed shards in ``data/``:
    ``data/train_sft-00000-of-00003-a3ecf92756993583.parquet`` …; columns prompt, prompt_id,
    messages (list of {content, role})."""
    message = pa.struct([("content", pa.string()), ("role", pa.string())])
    schema = pa.schema([("prompt", pa.string()), ("prompt_id", pa.string()), ("messages", pa.list_(message))])
    features = {"prompt": hf_value("string"), "prompt_id": hf_value("string"),
                "messages": [{"content": hf_value("string"), "role": hf_value("string")}]}
    prompt = "How does a bicycle stay upright?"
    data = _parquet([{"prompt": prompt, "prompt_id": fingerprint(prompt) * 4,
                      "messages": [{"content": prompt, "role": "user"},
                                   {"content": "Mostly through steering corrections and trail.", "role": "assistant"}]}],
                    schema, features)
    files: dict[str, bytes] = {}
    for split, suffixes in _ULTRACHAT_SUFFIXES.items():
        files.update(_shards("data", split, len(suffixes), data, suffixes=suffixes))
    card = _card("Dataset Card for UltraChat 200k", {"license": "mit", "language": ["en"]},
                 [("default", [(s, f"data/{s}-*") for s in _ULTRACHAT_SUFFIXES])])
    return _repo("HuggingFaceH4/ultrachat_200k", files, card)


def alpaca() -> Replica:
    """``tatsu-lab/alpaca``: the single ``data/train-00000-of-00001-a09b74b3ef9c3b56.parquet``;
    columns instruction, input, output, text."""
    schema, features = _strings("instruction", "input", "output", "text")
    data = _parquet([{"instruction": "Give three tips for staying healthy.", "input": "",
                      "output": "1. Eat a balanced diet. 2. Exercise. 3. Sleep well.",
                      "text": "Below is an instruction that describes a task."}], schema, features)
    files = _shards("data", "train", 1, data, suffixes=("a09b74b3ef9c3b56",))
    card = _card("Dataset Card for Alpaca", {"license": "cc-by-nc-4.0", "language": ["en"]},
                 [("default", [("train", "data/train-*")])])
    return _repo("tatsu-lab/alpaca", files, card)


def dolly() -> Replica:
    """``databricks/databricks-dolly-15k``: the root ``databricks-dolly-15k.jsonl`` (and its
    ``refs/convert/parquet`` revision); see :func:`pygestor.testing.replicas.databricks_dolly`."""
    return databricks_dolly()


def dolly_parquet() -> Replica:
    """The same repository as :func:`dolly`; the ``dolly-parquet`` manifest reads its
    ``refs/convert/parquet`` revision (``default/train/0000.parquet``)."""
    return databricks_dolly()


_OASST_FILES = ("ready.trees", "ready.messages", "all.trees", "all.messages", "spam.messages",
                "prompts.messages")  # fmt: skip
_OASST_PARQUET_SUFFIXES = {"train": "b42a775f407cee45", "validation": "134b8fd0c89408b6"}


def oasst1() -> Replica:
    """``OpenAssistant/oasst1``: six gzipped JSON-lines exports at the root
    (``2023-04-12_oasst_ready.trees.jsonl.gz``, ``…_all.messages.jsonl.gz``, …) and the
    ``ready`` messages as hash-suffixed parquet in ``data/`` (train, validation)."""
    message = {"message_id": "218440fd-5317-4355-91dc-d001416df62b", "parent_id": None,
               "user_id": "8e95461f-5e94-4d8b-a2fb-d4717ce973e4", "created_date": "2023-02-08T17:04:49Z",
               "text": "Why can't we divide by 0?", "role": "prompter", "lang": "en", "review_count": 3,
               "review_result": True, "deleted": False, "rank": None, "synthetic": False, "model_name": None,
               "message_tree_id": "14fbb664-a620-45ce-bee4-7c519b16a793", "tree_state": "ready_for_export"}
    tree = {"message_tree_id": message["message_tree_id"], "tree_state": "ready_for_export",
            "prompt": {**{k: message[k] for k in ("message_id", "text", "role", "lang")},
                       "replies": [{"message_id": "894d30b6-56b4-4605-a504-89dd15d4d1c8", "role": "assistant",
                                    "text": "Division by zero is undefined.", "lang": "en", "replies": []}]}}
    files = {f"2023-04-12_oasst_{name}.jsonl.gz": jsonl_bytes([tree if name.endswith("trees") else message],
                                                                gzipped=True)
             for name in _OASST_FILES}
    columns = ("message_id", "parent_id", "user_id", "created_date", "text", "role", "lang",
               "message_tree_id", "tree_state")
    schema, features = _strings(*columns)
    data = _parquet([{c: message[c] for c in columns}], schema, features)
    for split, suffix in _OASST_PARQUET_SUFFIXES.items():
        files.update(_shards("data", split, 1, data, suffixes=(suffix,)))
    card = _card("OpenAssistant Conversations Dataset (OASST1)",
                 {"license": "apache-2.0", "tags": ["human-feedback"], "pretty_name": "OpenAssistant Conversations"})
    return _repo("OpenAssistant/oasst1", files, card)


# --------------------------------------------------------------------------------------------

CATALOG_REPLICAS: Mapping[str, Callable[[], Replica]] = MappingProxyType(
    {
        "alpaca": alpaca,
        "c4": c4,
        "cifar10": cifar10,
        "cosmopedia": cosmopedia,
        "dolly": dolly,
        "dolly-parquet": dolly_parquet,
        "fineweb": fineweb,
        "fineweb-2": fineweb_2,
        "fineweb-edu": fineweb_edu,
        "gsm8k": gsm8k,
        "imdb": imdb,
        "mmlu": mmlu,
        "mnist": mnist,
        "multilingual_librispeech": multilingual_librispeech,
        "oasst1": oasst1,
        "squad": squad,
        "ultrachat_200k": ultrachat_200k,
        "wikipedia": wikipedia,
        "wikitext": wikitext,
        "wit_base": wit_base,
    }
)
"""Every built-in manifest's name → the builder of the replica its source repository is."""

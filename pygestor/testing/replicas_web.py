"""Replicas of the web-scale pretraining sets of the built-in catalog: HuggingFaceFW/fineweb,
fineweb-edu and fineweb-2, allenai/c4, HuggingFaceTB/cosmopedia and Salesforce/wikitext (see
`replicas_catalog` for how replicas copy the real repositories' path lists)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import pyarrow as pa

from .catalog_kit import (
    datatrove_files,
    parquet_of,
    rank_names,
    repo_card,
    repo_of,
    shard_files,
    string_features,
)
from .replica_kit import hf_value
from .replicas import (
    Features,
    Replica,
    fingerprint,
    jsonl_bytes,
)

# --------------------------------------------------------------------------------------------
# HuggingFaceFW/fineweb, fineweb-edu, fineweb-2

_FINEWEB_COLUMNS = ("text", "id", "dump", "url", "date", "file_path", "language",
                    "language_score", "token_count")  # fmt: skip
# fineweb-edu has no `date` (dataset_info.features of the cards of its per-crawl copies, e.g.
# airtrain-ai/fineweb-edu-fortified, TEL-LLM/fineweb-edu-1M, abideen/fineweb-edu-100k)
_FINEWEB_EDU_COLUMNS = ("text", "id", "dump", "url", "file_path", "language", "language_score",
                        "token_count", "score", "int_score")  # fmt: skip
_FINEWEB_2_COLUMNS = ("text", "id", "dump", "url", "date", "file_path", "language",
                      "language_score", "language_script", "minhash_cluster_size",
                      "top_langs")  # fmt: skip
_TYPES: dict[str, pa.DataType] = {
    "language_score": pa.float64(), "token_count": pa.int64(), "score": pa.float64(),
    "int_score": pa.int64(), "minhash_cluster_size": pa.int64(),
}  # fmt: skip


def _web_schema(columns: Sequence[str]) -> tuple[pa.Schema, Features]:
    schema = pa.schema([(c, _TYPES.get(c, pa.string())) for c in columns])
    features = {
        c: hf_value({"double": "float64", "int64": "int64"}.get(str(t), "string"))
        for c, t in zip(schema.names, schema.types, strict=True)
    }
    return schema, features


def _web_row(
    columns: Sequence[str], dump: str, index: int, *, lang: str = "en", script: str = "Latn"
) -> dict[str, Any]:
    text = {
        "en": "How to grow tomatoes on a balcony: pick a sunny spot and water daily.",
        "ru": "Как вырастить помидоры на балконе: выберите солнечное место.",
        "sr": "Kako uzgajati paradajz na balkonu: izaberite sunčano mesto.",
    }.get(lang, "Text.")
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
def _fineweb_parquet(
    columns: tuple[str, ...], dump: str, lang: str = "en", script: str = "Latn"
) -> bytes:
    schema, features = _web_schema(columns)
    return parquet_of(
        [_web_row(columns, dump, i, lang=lang, script=script) for i in range(2)], schema, features
    )


def _fineweb_card(title: str, license_: str, dumps: Sequence[str], samples: Sequence[str]) -> bytes:
    configs: list[tuple[str, Sequence[tuple[str, str | list[str]]]]] = [
        ("default", [("train", "data/*/*")])
    ]
    configs += [(f"sample-{s}", [("train", f"sample/{s}/*")]) for s in samples]
    configs += [(d, [("train", f"data/{d}/*")]) for d in dumps]
    meta = {
        "license": license_,
        "task_categories": ["text-generation"],
        "language": ["en"],
        "pretty_name": title,
        "size_categories": ["n>1T"],
    }
    return repo_card(title, meta, configs)


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
        **datatrove_files("data/CC-MAIN-2013-20", rank_names(2), data),
        **datatrove_files("data/CC-MAIN-2024-10", rank_names(2, 2), data),
        **datatrove_files("sample/10BT", rank_names(15), data),
        **datatrove_files("sample/100BT", rank_names(3), data),
        **datatrove_files("sample/350BT", rank_names(3), data),
        "lighteval_tasks.py": b"# lighteval task definitions used for the FineWeb ablations\n",
    }
    card = _fineweb_card(
        "FineWeb", "odc-by", ["CC-MAIN-2024-10", "CC-MAIN-2013-20"], ["10BT", "100BT", "350BT"]
    )
    return repo_of("HuggingFaceFW/fineweb", files, card)


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
        **shard_files("data/CC-MAIN-2015-32", "train", 13, data),
        **shard_files("data/CC-MAIN-2017-34", "train", 16, data),
        **datatrove_files("data/CC-MAIN-2024-10", rank_names(3), data),
        **datatrove_files("data/CC-MAIN-2024-51", rank_names(2, 2), data),
        **datatrove_files("sample/10BT", rank_names(3), data),
        **datatrove_files("sample/100BT", rank_names(3), data),
        **datatrove_files("sample/350BT", rank_names(3), data),
    }
    card = _fineweb_card(
        "FineWeb-Edu",
        "odc-by",
        ["CC-MAIN-2024-51", "CC-MAIN-2024-10", "CC-MAIN-2017-34", "CC-MAIN-2015-32"],
        ["10BT", "100BT", "350BT"],
    )
    return repo_of("HuggingFaceFW/fineweb-edu", files, card)


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
        **datatrove_files("data/rus_Cyrl/train", rank_names(2, 2), ru),
        **datatrove_files("data/rus_Cyrl/test", rank_names(1), ru),
        **datatrove_files("data/rus_Cyrl_removed/train", rank_names(2), ru),
        **datatrove_files("data/srp_Latn/train", rank_names(1), sr),
        **datatrove_files("data/srp_Latn/test", rank_names(1), sr),
    }
    configs = [
        (
            c,
            [
                (s, f"data/{c}/{s}/*")
                for s in ("train", "test")
                if f"data/{c}/{s}/000_00000.parquet" in files
            ],
        )
        for c in ("rus_Cyrl", "rus_Cyrl_removed", "srp_Latn")
    ]
    meta = {"license": "odc-by", "task_categories": ["text-generation"], "pretty_name": "FineWeb 2"}
    return repo_of("HuggingFaceFW/fineweb-2", files, repo_card("FineWeb2", meta, configs))


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
        {
            "text": f"Beginners BBQ Class Taking Place in Missoula! ({variant} {split} {i})",
            "timestamp": "2019-04-25T12:57:54Z",
            "url": f"https://example.com/{variant}/{split}/{i}",
        }
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
            files.update(
                {f"{variant}/c4-{split}.{i:05d}-of-{count:05d}.json.gz": data for i in range(count)}
            )
        configs.append(
            (
                variant,
                [
                    ("train", f"{variant}/c4-train.*.json.gz"),
                    ("validation", f"{variant}/c4-validation.*.json.gz"),
                ],
            )
        )
    for lang, (train, validation) in _C4_MULTILINGUAL.items():
        files.update(
            {
                f"multilingual/c4-{lang}.tfrecord-{i:05d}-of-{train:05d}.json.gz": _c4_jsonl(
                    lang, "train"
                )
                for i in range(train)
            }
        )
        name = f"multilingual/c4-{lang}-validation.tfrecord-{{:05d}}-of-{validation:05d}.json.gz"
        files.update({name.format(i): _c4_jsonl(lang, "validation") for i in range(validation)})
        configs.append(
            (
                lang,
                [
                    ("train", f"multilingual/c4-{lang}.*.json.gz"),
                    ("validation", f"multilingual/c4-{lang}-validation.*.json.gz"),
                ],
            )
        )
    meta = {
        "pretty_name": "C4",
        "license": ["odc-by"],
        "task_categories": ["text-generation", "fill-mask"],
        "language": ["en", *sorted({lang.split("-")[0] for lang in _C4_MULTILINGUAL})],
    }
    return repo_of("allenai/c4", files, repo_card("C4", meta, configs))


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
    all shards (336 files).  Columns: prompt, text_token_length, text, seed_data, format,
    audience."""
    schema = pa.schema(
        [
            ("prompt", pa.string()),
            ("text_token_length", pa.int64()),
            ("text", pa.string()),
            ("seed_data", pa.string()),
            ("format", pa.string()),
            ("audience", pa.string()),
        ]
    )
    features = {
        n: hf_value("int64" if n == "text_token_length" else "string") for n in schema.names
    }
    data = parquet_of(
        [
            {
                "prompt": "Write a textbook chapter about photosynthesis.",
                "text_token_length": 12,
                "text": "Photosynthesis turns light into chemical energy.",
                "seed_data": "stanford",
                "format": "textbook",
                "audience": "college_students",
            }
        ],
        schema,
        features,
    )
    files: dict[str, bytes] = {}
    for config, count in _COSMOPEDIA_SHARDS.items():
        files.update(shard_files(f"data/{config}", "train", count, data))
    card = repo_card(
        "Cosmopedia v0.1",
        {"license": "apache-2.0", "language": ["en"], "tags": ["synthetic"]},
        [(c, [("train", f"data/{c}/train-*")]) for c in _COSMOPEDIA_SHARDS],
    )
    return repo_of("HuggingFaceTB/cosmopedia", files, card)


# --------------------------------------------------------------------------------------------
# Salesforce/wikitext

_WIKITEXT_TRAIN_SHARDS = {
    # wikitext-103-raw-v1 train has 2 shards (verified); wikitext-103-v1 is as large, assumed 2.
    "wikitext-103-raw-v1": 2, "wikitext-103-v1": 2, "wikitext-2-raw-v1": 1, "wikitext-2-v1": 1,
}  # fmt: skip


def wikitext() -> Replica:
    """``Salesforce/wikitext``: one folder per config with ``{test,train,validation}-…`` files;
    one column, ``text``."""
    schema, features = string_features("text")
    data = parquet_of([{"text": " = Valkyria Chronicles III = \n"}, {"text": ""}], schema, features)
    files: dict[str, bytes] = {}
    for config, train in _WIKITEXT_TRAIN_SHARDS.items():
        files.update(shard_files(config, "train", train, data))
        files.update(shard_files(config, "test", 1, data))
        files.update(shard_files(config, "validation", 1, data))
    card = repo_card(
        "Dataset Card for WikiText",
        {"license": ["cc-by-sa-3.0", "gfdl"], "language": ["en"]},
        [
            (c, [(s, f"{c}/{s}-*") for s in ("test", "train", "validation")])
            for c in _WIKITEXT_TRAIN_SHARDS
        ],
    )
    return repo_of("Salesforce/wikitext", files, card)

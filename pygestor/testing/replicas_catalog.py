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
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import pyarrow as pa

from .catalog_kit import (
    class_label,
    parquet_of,
    pinned,
    repo_card,
    repo_of,
    shard_files,
    string_features,
)
from .replica_kit import hf_value
from .replicas import (
    Replica,
    databricks_dolly,
    fingerprint,
    jsonl_bytes,
    mnist,
    png_bytes,
    shard_name,
    wikipedia,
    wit_base,
)
from .replicas_web import c4, cosmopedia, fineweb, fineweb_2, fineweb_edu, wikitext

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
# Small classic benchmarks: one file per split under a config folder

_CIFAR10_LABELS = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def cifar10() -> Replica:
    """``uoft-cs/cifar10``: ``plain_text/{train,test}-00000-of-00001.parquet``, columns ``img``
    (a 32x32 RGB PNG struct) and ``label`` (class label, 10 classes)."""
    rng = random.Random("uoft-cs/cifar10")
    schema = pa.schema([("img", _IMAGE), ("label", pa.int64())])
    features = {"img": {"_type": "Image"}, "label": class_label(*_CIFAR10_LABELS)}
    rows = [
        {
            "img": {
                "bytes": png_bytes(
                    32, 32, bytes(rng.randrange(256) for _ in range(32 * 32 * 3)), channels=3
                ),
                "path": None,
            },
            "label": label,
        }
        for label in (3, 8)
    ]
    data = parquet_of(rows, schema, features)
    files = {f"plain_text/{shard_name(s, 0, 1)}": data for s in ("train", "test")}
    card = repo_card(
        "Dataset Card for CIFAR-10",
        {"license": "unknown", "task_categories": ["image-classification"]},
        [("plain_text", [("train", "plain_text/train-*"), ("test", "plain_text/test-*")])],
    )
    return repo_of("uoft-cs/cifar10", files, card)


def imdb() -> Replica:
    """``stanfordnlp/imdb``: ``plain_text/{train,test,unsupervised}-00000-of-00001.parquet``,
    columns ``text`` and ``label`` (neg/pos; -1 in ``unsupervised``)."""
    schema = pa.schema([("text", pa.string()), ("label", pa.int64())])
    features = {"text": hf_value("string"), "label": class_label("neg", "pos")}
    splits = {"train": 0, "test": 1, "unsupervised": -1}
    files = {
        f"plain_text/{shard_name(s, 0, 1)}": parquet_of(
            [{"text": "I rented I AM CURIOUS-YELLOW from my video store.", "label": label}],
            schema,
            features,
        )
        for s, label in splits.items()
    }
    card = repo_card(
        "Dataset Card for Large Movie Review Dataset",
        {"license": "other", "language": ["en"]},
        [("plain_text", [(s, f"plain_text/{s}-*") for s in splits])],
    )
    return repo_of("stanfordnlp/imdb", files, card)


def squad() -> Replica:
    """``rajpurkar/squad``: ``plain_text/{train,validation}-00000-of-00001.parquet``, columns
    ``id``, ``title``, ``context``, ``question``, ``answers`` {text, answer_start}."""
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("title", pa.string()),
            ("context", pa.string()),
            ("question", pa.string()),
            (
                "answers",
                pa.struct(
                    [("text", pa.list_(pa.string())), ("answer_start", pa.list_(pa.int32()))]
                ),
            ),
        ]
    )
    features = {
        **{n: hf_value("string") for n in ("id", "title", "context", "question")},
        "answers": {
            "feature": {"text": hf_value("string"), "answer_start": hf_value("int32")},
            "_type": "Sequence",
        },
    }
    row = {
        "id": "5733be284776f41900661182",
        "title": "University_of_Notre_Dame",
        "context": "Architecturally, the school has a Catholic character.",
        "question": "What character does the school have?",
        "answers": {"text": ["a Catholic character"], "answer_start": [31]},
    }
    data = parquet_of([row], schema, features)
    files = {f"plain_text/{shard_name(s, 0, 1)}": data for s in ("train", "validation")}
    card = repo_card(
        "Dataset Card for SQuAD",
        {"license": "cc-by-sa-4.0", "language": ["en"]},
        [
            (
                "plain_text",
                [("train", "plain_text/train-*"), ("validation", "plain_text/validation-*")],
            )
        ],
    )
    return repo_of("rajpurkar/squad", files, card)


def gsm8k() -> Replica:
    """``openai/gsm8k``: exactly ``{main,socratic}/{train,test}-00000-of-00001.parquet`` plus
    ``README.md`` and ``.gitattributes``; columns ``question``, ``answer``."""
    schema, features = string_features("question", "answer")
    data = parquet_of(
        [
            {
                "question": "Natalia sold clips to 48 of her friends in April, and then half as "
                "many in May. "
                "How many clips did Natalia sell altogether?",
                "answer": "48/2 = <<48/2=24>>24 in May.\n48+24 = <<48+24=72>>72\n#### 72",
            }
        ],
        schema,
        features,
    )
    files = {
        f"{c}/{shard_name(s, 0, 1)}": data for c in ("main", "socratic") for s in ("train", "test")
    }
    card = repo_card(
        "Dataset Card for GSM8K",
        {"license": "mit", "language": ["en"]},
        [(c, [(s, f"{c}/{s}-*") for s in ("train", "test")]) for c in ("main", "socratic")],
    )
    return repo_of("openai/gsm8k", files, card)


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

    57 subject folders x ``{test,validation,dev}-00000-of-00001.parquet``, ``all/`` with those
    three plus ``auxiliary_train-00000-of-00001.parquet``, and
    ``auxiliary_train/train-00000-of-00001.parquet`` whose only column is ``train`` (a struct of
    the four columns).  Columns: ``question``, ``subject``, ``choices``, ``answer`` (A-D).
    """
    columns = [
        ("question", pa.string()),
        ("subject", pa.string()),
        ("choices", pa.list_(pa.string())),
        ("answer", pa.int64()),
    ]
    item, schema = pa.struct(columns), pa.schema(columns)
    features = {
        "question": hf_value("string"),
        "subject": hf_value("string"),
        "choices": {"feature": hf_value("string"), "_type": "Sequence"},
        "answer": class_label("A", "B", "C", "D"),
    }
    row = {
        "question": "Find the degree for the given field extension Q(sqrt(2)) over Q.",
        "subject": "abstract_algebra",
        "choices": ["0", "4", "2", "6"],
        "answer": 2,
    }
    data = parquet_of([row], schema, features)
    aux_schema = pa.schema([("train", item)])
    aux_features = {
        "train": {
            "question": hf_value("string"),
            "subject": hf_value("string"),
            "choices": {"feature": hf_value("string"), "_type": "Sequence"},
            "answer": hf_value("int64"),
        }
    }
    aux = parquet_of([{"train": {**row, "subject": ""}}], aux_schema, aux_features)
    files: dict[str, bytes] = {}
    configs: list[tuple[str, Sequence[tuple[str, str | list[str]]]]] = []
    for subject in ("all", *MMLU_SUBJECTS):
        splits = (*MMLU_SPLITS, "auxiliary_train") if subject == "all" else MMLU_SPLITS
        files.update({f"{subject}/{shard_name(s, 0, 1)}": data for s in splits})
        configs.append((subject, [(s, f"{subject}/{s}-*") for s in splits]))
    files[f"auxiliary_train/{shard_name('train', 0, 1)}"] = aux
    configs.append(("auxiliary_train", [("train", "auxiliary_train/train-*")]))
    card = repo_card(
        "Dataset Card for MMLU",
        {
            "language": ["en"],
            "license": "mit",
            "pretty_name": "Measuring Massive Multitask Language Understanding",
        },
        sorted(configs),
    )
    return repo_of("cais/mmlu", files, card)


# --------------------------------------------------------------------------------------------
# facebook/multilingual_librispeech

MLS_REVISION = "2e83e61823b4c47dcbcb1980bb88601274127609"
"""The commit "mls_without_script (#15)" that put the parquet files on ``main`` (Aug 2024)."""
_MLS_TRAIN_SHARDS = {
    # Verified in file listings: italian 8, polish 4, portuguese 6, spanish 30.  dutch, french and
    # german follow push_to_hub's int(num_bytes / 500 MB) + 1 from the card's dataset_info (the
    # same rule gives the four verified counts).
    "dutch": 48, "french": 34, "german": 63, "italian": 8, "polish": 4, "portuguese": 6,
    "spanish": 30,
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
    schema = pa.schema(
        [
            ("audio", audio),
            ("original_path", pa.string()),
            ("begin_time", pa.float64()),
            ("end_time", pa.float64()),
            ("transcript", pa.string()),
            ("audio_duration", pa.float64()),
            ("speaker_id", pa.string()),
            ("chapter_id", pa.string()),
            ("file", pa.string()),
            ("id", pa.string()),
        ]
    )
    features: dict[str, Any] = {
        n: hf_value("float64" if n.endswith(("_time", "duration")) else "string")
        for n in schema.names
    }
    features["audio"] = {"sampling_rate": 16000, "_type": "Audio"}
    row = {
        "audio": {"bytes": _wav(), "path": "10900_6473_000030.flac"},
        "original_path": "http://www.archive.org/download/x/x_64kb.mp3",
        "begin_time": 112.7,
        "end_time": 128.6,
        "transcript": "więc czego chcecie odemnie spytałem",
        "audio_duration": 15.9,
        "speaker_id": "10900",
        "chapter_id": "6473",
        "file": "10900_6473_000030.flac",
        "id": "10900_6473_000030",
    }
    data = parquet_of([row], schema, features)
    files: dict[str, bytes] = {}
    for language, train in _MLS_TRAIN_SHARDS.items():
        files.update(shard_files(language, "train", train, data))
        for split in MLS_SPLITS[1:]:
            files.update(shard_files(language, split, 1, data))
    legacy = b"old layout"
    files.update(
        {
            "data/.gitattributes": b"*.txt filter=lfs diff=lfs merge=lfs -text\n",
            "data/mls_dutch/test/audio/11290_9412_000.tar.gz": legacy,
            "data/mls_dutch/test/audio/3034_2211_000.tar.gz": legacy,
            "data/mls_dutch/test/segments.txt": legacy,
            "data/mls_dutch/test/transcripts.txt": legacy,
            "data/mls_german/README": legacy,
            "data/mls_german/train/audio_filenames.txt": legacy,
            "data/mls_portuguese/dev/audio/11995_10229_000.tar.gz": legacy,
        }
    )
    card = repo_card(
        "Dataset Card for MultiLingual LibriSpeech",
        {
            "license": ["cc-by-4.0"],
            "pretty_name": "MultiLingual LibriSpeech",
            "task_categories": ["automatic-speech-recognition", "text-to-speech", "text-to-audio"],
        },
        [
            (lang, [(s, f"{lang}/{s}-*") for s in ("dev", "test", "train", "9_hours", "1_hours")])
            for lang in _MLS_TRAIN_SHARDS
        ],
    )
    return pinned(repo_of("facebook/multilingual_librispeech", files, card), MLS_REVISION)


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
    schema = pa.schema(
        [("prompt", pa.string()), ("prompt_id", pa.string()), ("messages", pa.list_(message))]
    )
    features = {
        "prompt": hf_value("string"),
        "prompt_id": hf_value("string"),
        "messages": [{"content": hf_value("string"), "role": hf_value("string")}],
    }
    prompt = "How does a bicycle stay upright?"
    data = parquet_of(
        [
            {
                "prompt": prompt,
                "prompt_id": fingerprint(prompt) * 4,
                "messages": [
                    {"content": prompt, "role": "user"},
                    {
                        "content": "Mostly through steering corrections and trail.",
                        "role": "assistant",
                    },
                ],
            }
        ],
        schema,
        features,
    )
    files: dict[str, bytes] = {}
    for split, suffixes in _ULTRACHAT_SUFFIXES.items():
        files.update(shard_files("data", split, len(suffixes), data, suffixes=suffixes))
    card = repo_card(
        "Dataset Card for UltraChat 200k",
        {"license": "mit", "language": ["en"]},
        [("default", [(s, f"data/{s}-*") for s in _ULTRACHAT_SUFFIXES])],
    )
    return repo_of("HuggingFaceH4/ultrachat_200k", files, card)


def alpaca() -> Replica:
    """``tatsu-lab/alpaca``: the single ``data/train-00000-of-00001-a09b74b3ef9c3b56.parquet``;
    columns instruction, input, output, text."""
    schema, features = string_features("instruction", "input", "output", "text")
    data = parquet_of(
        [
            {
                "instruction": "Give three tips for staying healthy.",
                "input": "",
                "output": "1. Eat a balanced diet. 2. Exercise. 3. Sleep well.",
                "text": "Below is an instruction that describes a task.",
            }
        ],
        schema,
        features,
    )
    files = shard_files("data", "train", 1, data, suffixes=("a09b74b3ef9c3b56",))
    card = repo_card(
        "Dataset Card for Alpaca",
        {"license": "cc-by-nc-4.0", "language": ["en"]},
        [("default", [("train", "data/train-*")])],
    )
    return repo_of("tatsu-lab/alpaca", files, card)


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
    message = {
        "message_id": "218440fd-5317-4355-91dc-d001416df62b",
        "parent_id": None,
        "user_id": "8e95461f-5e94-4d8b-a2fb-d4717ce973e4",
        "created_date": "2023-02-08T17:04:49Z",
        "text": "Why can't we divide by 0?",
        "role": "prompter",
        "lang": "en",
        "review_count": 3,
        "review_result": True,
        "deleted": False,
        "rank": None,
        "synthetic": False,
        "model_name": None,
        "message_tree_id": "14fbb664-a620-45ce-bee4-7c519b16a793",
        "tree_state": "ready_for_export",
    }
    tree = {
        "message_tree_id": message["message_tree_id"],
        "tree_state": "ready_for_export",
        "prompt": {
            **{k: message[k] for k in ("message_id", "text", "role", "lang")},
            "replies": [
                {
                    "message_id": "894d30b6-56b4-4605-a504-89dd15d4d1c8",
                    "role": "assistant",
                    "text": "Division by zero is undefined.",
                    "lang": "en",
                    "replies": [],
                }
            ],
        },
    }
    files = {
        f"2023-04-12_oasst_{name}.jsonl.gz": jsonl_bytes(
            [tree if name.endswith("trees") else message], gzipped=True
        )
        for name in _OASST_FILES
    }
    columns = (
        "message_id",
        "parent_id",
        "user_id",
        "created_date",
        "text",
        "role",
        "lang",
        "message_tree_id",
        "tree_state",
    )
    schema, features = string_features(*columns)
    data = parquet_of([{c: message[c] for c in columns}], schema, features)
    for split, suffix in _OASST_PARQUET_SUFFIXES.items():
        files.update(shard_files("data", split, 1, data, suffixes=(suffix,)))
    card = repo_card(
        "OpenAssistant Conversations Dataset (OASST1)",
        {
            "license": "apache-2.0",
            "tags": ["human-feedback"],
            "pretty_name": "OpenAssistant Conversations",
        },
    )
    return repo_of("OpenAssistant/oasst1", files, card)


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

"""Small, faithful replicas of real Hugging Face Hub dataset repositories.

A replica copies a real repository's *layout* (folder names, file-name shapes, shard counts, the
root ``README.md`` and ``.gitattributes``, the ``refs/convert/parquet`` revision) with tiny but
real contents: valid parquet with the real column names and types, valid JSON lines, valid PNG
images.  Every builder is deterministic: the same arguments give the same bytes on every run
(seeded generators, no timestamps, parquet written with fixed options), so commit ids derived from
content are stable too.

A replica is plain data (:class:`Replica`); :func:`install` puts it on a Hub-compatible test server
(``pygestor.testing.hub.LocalHub``)::

    wikimedia/wikipedia                          (main)
    ├── .gitattributes
    ├── README.md                                card with configs: + dataset_info:
    ├── 20231101.ab/train-00000-of-00001.parquet
    ├── 20231101.en/train-00000-of-00041.parquet
    │   …                                        41 shards, as the real English subset
    ├── 20231101.en/train-00040-of-00041.parquet
    └── 20231101.fr/train-00000-of-00001.parquet

    databricks/databricks-dolly-15k              (refs/convert/parquet)
    ├── .gitattributes
    └── default/train/0000.parquet

Adding a dataset is one builder function: make rows, turn them into tables (:func:`table`), write
them as shards (:func:`sharded_split`, :func:`shard_name`), describe them in a card
(:func:`dataset_card`), return a :class:`Replica`, and register it in :data:`REPLICAS`.

The generic parts (the record, :func:`install`, file formats, cards) are in
:mod:`pygestor.testing.replica_kit`; every name of theirs is importable from here too.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

import pyarrow as pa

from .replica_kit import (
    CONVERT_REVISION,
    CardConfig,
    CardSplit,
    Features,
    HubWriter,
    Replica,
    dataset_card,
    fingerprint,
    gitattributes,
    hf_value,
    install,
    jsonl_bytes,
    parquet_bytes,
    parquet_conversion,
    png_bytes,
    shard_name,
    sharded_split,
    table,
)

__all__ = [
    "CONVERT_REVISION",
    "REPLICAS",
    "CardConfig",
    "CardSplit",
    "Features",
    "HubWriter",
    "Replica",
    "databricks_dolly",
    "dataset_card",
    "fingerprint",
    "gitattributes",
    "install",
    "jsonl_bytes",
    "many_files",
    "mnist",
    "parquet_bytes",
    "parquet_conversion",
    "png_bytes",
    "shard_name",
    "sharded_split",
    "table",
    "wikipedia",
    "wit_base",
]


# --------------------------------------------------------------------------------------------
# Feature helpers of the builders below


_IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


# --------------------------------------------------------------------------------------------
# wikimedia/wikipedia

_WIKIPEDIA_SCHEMA = pa.schema([(name, pa.string()) for name in ("id", "url", "title", "text")])
_WIKIPEDIA_FEATURES = {name: hf_value("string") for name in _WIKIPEDIA_SCHEMA.names}
_WIKIPEDIA_REAL_SHARDS = {"en": 41}  # the 20231101 dump; most other languages have 1 shard

# Per language: article titles, disambiguation qualifiers, and sentence templates.
_WIKI_WORDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "en": (
        ("Anarchism", "Albedo", "Abraham Lincoln", "Aristotle", "An American in Paris",
         "Academy Award for Best Production Design", "Actrius", "Animalia (book)",
         "International Atomic Time", "Altruism", "Ayn Rand", "Alain Connes", "Allan Dwan",
         "Algeria", "List of Atlas Shrugged characters", "Anthropology", "Agricultural science"),
        ("film", "album", "band", "novel", "ship", "river", "surname"),
        ("{t} is a topic covered by the English Wikipedia.",
         "The article on {t} was first written in the early 2000s.",
         "{t} has been discussed by many authors.",
         "See also: list of topics related to {t}."),
    ),
    "fr": (
        ("Algèbre linéaire", "Alain Connes", "Antoine Meillet", "Armée de l'air",
         "Astronomie", "Autriche", "Ayn Rand", "Arc de triomphe de l'Étoile", "Aménophis III",
         "Alphabet phonétique international", "Anarchisme", "Athènes", "Albert Camus"),
        ("film", "album", "roman", "rivière", "homonymie"),
        ("{t} est un article de Wikipédia en français.",
         "L'article « {t} » a été créé au début des années 2000.",
         "{t} a fait l'objet de nombreuses études.",
         "Voir aussi : liste des sujets liés à {t}."),
    ),
    "ab": (
        ("Аԥсны", "Аҟәа", "Гагра", "Афон Ҿыц", "Гәдоуҭа", "Очамчыра", "Ҭҟәарчал", "Гал",
         "Аԥсуа бызшәа", "Амшын Еиқәа", "Рица"),
        ("ақалақь", "азиас", "ашәҟәы"),
        ("{t} — Аԥсны иатәу астатиа.",
         "{t} иазкны аԥсуа Авикипедиа аҟны.",
         "Иахәаԥш: {t}."),
    ),
    "de": (
        ("Alan Smithee", "Actinium", "Ang Lee", "Anschluss (Soziologie)", "Aussagenlogik",
         "Anthropologie", "Alkohole", "Archäologie", "Astronomie", "Atom"),
        ("Film", "Album", "Roman", "Fluss", "Begriffsklärung"),
        ("{t} ist ein Artikel der deutschsprachigen Wikipedia.",
         "Der Artikel {t} entstand in den frühen 2000er Jahren.",
         "Siehe auch: Liste von Themen zu {t}."),
    ),
}  # fmt: skip


def _wiki_words(lang: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    if lang in _WIKI_WORDS:
        return _WIKI_WORDS[lang]
    titles = tuple(f"Article {i} ({lang})" for i in range(1, 11))
    return titles, ("2", "3", "4"), ("{t} is an article of the " + lang + " Wikipedia.",)


def _wiki_title(titles: Sequence[str], qualifiers: Sequence[str], index: int) -> str:
    """The ``index``-th title: the plain titles first, then ``Title (qualifier)``, all distinct."""
    base, turn = titles[index % len(titles)], index // len(titles)
    if turn == 0:
        return base
    qualifier = qualifiers[(turn - 1) % len(qualifiers)]
    cycle = (turn - 1) // len(qualifiers)
    return f"{base} ({qualifier})" if cycle == 0 else f"{base} ({qualifier} {cycle + 1})"


def _wikipedia_rows(dump: str, lang: str, count: int) -> list[dict[str, str]]:
    rng = random.Random(f"wikipedia/{dump}/{lang}")
    titles, qualifiers, sentences = _wiki_words(lang)
    rows, page_id = [], 0
    for i in range(count):
        page_id += rng.randint(1, 40)
        title = _wiki_title(titles, qualifiers, i)
        paragraphs = rng.sample(sentences, k=min(len(sentences), rng.randint(1, 3)))
        rows.append(
            {
                "id": str(page_id),
                "url": f"https://{lang}.wikipedia.org/wiki/{quote(title)}",
                "title": title,
                "text": "\n\n".join(p.format(t=title) for p in paragraphs),
            }
        )
    return rows


def wikipedia(
    *,
    dump: str = "20231101",
    languages: Sequence[str] = ("en", "ab", "fr"),
    shards: Mapping[str, int] | None = None,
    rows_per_shard: int = 3,
) -> Replica:
    """``wikimedia/wikipedia``: one folder ``<dump>.<lang>`` per subset, one ``train`` split.

    Files: ``<dump>.<lang>/train-NNNNN-of-NNNNN.parquet`` with columns ``id``, ``url``,
    ``title``, ``text`` (all strings; ``url`` is ``https://<lang>.wikipedia.org/wiki/<quoted
    title>``), plus ``README.md`` (configs + dataset_info) and ``.gitattributes``.  ``shards``
    overrides the shard count per language; by default English has 41 (as the real 20231101
    dump) and every other language 1.
    """
    counts = {lang: _WIKIPEDIA_REAL_SHARDS.get(lang, 1) for lang in languages}
    for lang, count in (shards or {}).items():
        if lang not in counts:
            raise ValueError(f"shards given for {lang!r}, which is not in languages {languages}")
        counts[lang] = count
    _check_positive(rows_per_shard=rows_per_shard, **{f"shards[{k}]": v for k, v in counts.items()})
    files: dict[str, bytes] = {".gitattributes": gitattributes()}
    configs = []
    for lang, count in counts.items():
        rows = _wikipedia_rows(dump, lang, count * rows_per_shard)
        tables = [
            table(rows[i : i + rows_per_shard], _WIKIPEDIA_SCHEMA, _WIKIPEDIA_FEATURES)
            for i in range(0, len(rows), rows_per_shard)
        ]
        shard_files, split = sharded_split(f"{dump}.{lang}", "train", tables)
        files.update(shard_files)
        configs.append(CardConfig(f"{dump}.{lang}", _WIKIPEDIA_FEATURES, (split,)))
    files["README.md"] = dataset_card(
        "Wikimedia Wikipedia",
        meta={
            "language": list(languages),
            "license": ["cc-by-sa-3.0", "gfdl"],
            "size_categories": ["n<1K"],
            "task_categories": ["text-generation", "fill-mask"],
            "task_ids": ["language-modeling", "masked-language-modeling"],
        },
        configs=configs,
        body="Wikipedia articles, one subset per dump date and language (pygestor replica).",
    )
    return Replica("wikimedia/wikipedia", files)


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


# --------------------------------------------------------------------------------------------
# wikimedia/wit_base

# Column names follow the dataset card.  Uncertain, because only the card's prose was at hand:
# - `embedding` is 2048 floats in the real data, float64 assumed; replicas keep 8 values.
# - `original_height`/`original_width` assumed int32.
# - `wit_features` assumed stored the way `datasets.Sequence({...})` stores a sequence of dicts:
#   a struct of parallel lists (not a list of structs), matching how the card prints it.
# - real images are 300-px-wide JPEGs with `path` null; replicas hold tiny PNGs.
_WIT_EMBEDDING_SIZE = 8
_WIT_STRING_FEATURES = (
    "language", "page_url", "attribution_passes_lang_id", "caption_alt_text_description",
    "caption_reference_description", "caption_title_and_reference_description",
    "context_page_description", "context_section_description", "hierarchical_section_title",
    "is_main_image", "page_changed_recently", "page_title", "section_title",
)  # fmt: skip
_WIT_BOOL_FEATURES = {"attribution_passes_lang_id", "is_main_image", "page_changed_recently"}
_WIT_SCHEMA = pa.schema(
    [
        ("image", _IMAGE_TYPE),
        ("image_url", pa.string()),
        ("embedding", pa.list_(pa.float64())),
        ("metadata_url", pa.string()),
        ("original_height", pa.int32()),
        ("original_width", pa.int32()),
        ("mime_type", pa.string()),
        ("caption_attribution_description", pa.string()),
        (
            "wit_features",
            pa.struct(
                [
                    (name, pa.list_(pa.bool_() if name in _WIT_BOOL_FEATURES else pa.string()))
                    for name in _WIT_STRING_FEATURES
                ]
            ),
        ),
    ]
)
_WIT_FEATURES: Features = {
    "image": {"_type": "Image"},
    "image_url": hf_value("string"),
    "embedding": {"feature": hf_value("float64"), "_type": "Sequence"},
    "metadata_url": hf_value("string"),
    "original_height": hf_value("int32"),
    "original_width": hf_value("int32"),
    "mime_type": hf_value("string"),
    "caption_attribution_description": hf_value("string"),
    "wit_features": {
        "feature": {
            name: hf_value("bool" if name in _WIT_BOOL_FEATURES else "string")
            for name in _WIT_STRING_FEATURES
        },
        "_type": "Sequence",
    },
}
_WIT_SUBJECTS = (
    ("Scolopendra_gigantea.jpg", "Scolopendra gigantea", ("en", "ro", "vi")),
    ("Half_Dome_from_Glacier_Point.jpg", "Half Dome", ("en", "fr", "de")),
    ("Tour_Eiffel_Wikimedia_Commons.jpg", "Tour Eiffel", ("fr", "en")),
    ("Ginkgo_biloba_leaves.jpg", "Ginkgo biloba", ("de", "en", "ja")),
    ("Mount_Ararat.jpg", "Ararat", ("hy", "en", "ru")),
)


def _wit_row(rng: random.Random, index: int) -> dict[str, Any]:
    file_name, title, langs = _WIT_SUBJECTS[index % len(_WIT_SUBJECTS)]
    width, height = 4, 3
    pixels = bytes(rng.randrange(256) for _ in range(width * height * 3))
    # Commons files live under /<md5[0]>/<md5[:2]>/<name>.
    digest = hashlib.md5(file_name.encode(), usedforsecurity=False).hexdigest()
    n = len(langs)
    captions = [f"{title} [SEP] " if i % 2 else None for i in range(n)]
    return {
        "image": {"bytes": png_bytes(width, height, pixels, channels=3), "path": None},
        "image_url": f"https://upload.wikimedia.org/wikipedia/commons/{digest[0]}/{digest[:2]}/"
        f"{file_name}",
        "embedding": [round(rng.uniform(0, 4), 6) for _ in range(_WIT_EMBEDDING_SIZE)],
        "metadata_url": f"http://commons.wikimedia.org/wiki/File:{file_name}",
        "original_height": rng.choice((2000, 2448, 3000)),
        "original_width": rng.choice((3000, 3264, 4000)),
        "mime_type": "image/jpeg",
        "caption_attribution_description": f"English: {title}",
        "wit_features": {
            "language": list(langs),
            "page_url": [f"https://{lang}.wikipedia.org/wiki/{quote(title)}" for lang in langs],
            "attribution_passes_lang_id": [lang == "en" for lang in langs],
            "caption_alt_text_description": [None] * n,
            "caption_reference_description": [None] * n,
            "caption_title_and_reference_description": captions,
            "context_page_description": [f"{title} ({lang})." for lang in langs],
            "context_section_description": [None] * n,
            "hierarchical_section_title": [title] * n,
            "is_main_image": [True] * n,
            "page_changed_recently": [True] * n,
            "page_title": [title] * n,
            "section_title": [None] * n,
        },
    }


def wit_base(*, shards: int = 330, rows_per_shard: int = 2) -> Replica:
    """``wikimedia/wit_base``: ``data/train-00000-of-00330.parquet`` … ``-00329-of-00330``.

    Each row holds a tiny RGB PNG in ``image`` (struct ``bytes``/``path``), URLs, a short
    ``embedding``, image sizes and ``wit_features`` (per-language captions), following the
    dataset card.  Plus ``README.md`` (no ``configs:``, as the real card) and ``.gitattributes``.
    """
    _check_positive(shards=shards, rows_per_shard=rows_per_shard)
    rng = random.Random("wikimedia/wit_base")
    tables = [
        table(
            [_wit_row(rng, shard * rows_per_shard + r) for r in range(rows_per_shard)],
            _WIT_SCHEMA,
            _WIT_FEATURES,
        )
        for shard in range(shards)
    ]
    files, _ = sharded_split("data", "train", tables)
    files[".gitattributes"] = gitattributes()
    files["README.md"] = dataset_card(
        "Dataset Card for WIT",
        meta={
            "license": ["cc-by-sa-4.0"],
            "multilinguality": ["multilingual"],
            "task_categories": ["image-to-text", "text-retrieval"],
            "pretty_name": "Wikipedia-based Image Text",
        },
        body="Wikimedia's version of the WIT dataset (pygestor replica).",
    )
    return Replica("wikimedia/wit_base", files)


# --------------------------------------------------------------------------------------------
# ylecun/mnist

_MNIST_SCHEMA = pa.schema([("image", _IMAGE_TYPE), ("label", pa.int64())])
_MNIST_FEATURES: Features = {
    "image": {"_type": "Image"},
    "label": {"names": [str(d) for d in range(10)], "_type": "ClassLabel"},
}
# The first labels of the real splits.
_MNIST_LABELS = {"train": (5, 0, 4, 1, 9, 2, 1, 3, 1, 4), "test": (7, 2, 1, 0, 4, 1, 4, 9, 5, 9)}
# A 3x5 bitmap font for the digits, drawn at 4x scale into a 28x28 image.
_DIGITS = (
    "111101101101111", "010110010010111", "111001111100111", "111001111001111",
    "101101111001001", "111100111001111", "111100111101111", "111001010010010",
    "111101111101111", "111101111001111",
)  # fmt: skip


def _digit_png(digit: int, rng: random.Random) -> bytes:
    """A 28x28 grey PNG of ``digit``: white strokes on black, as MNIST, with a little noise."""
    size, scale, left, top = 28, 4, 8, 4
    pixels = bytearray(rng.randrange(0, 12) for _ in range(size * size))
    for y in range(5 * scale):
        for x in range(3 * scale):
            if _DIGITS[digit][(y // scale) * 3 + x // scale] == "1":
                pixels[(top + y) * size + left + x] = rng.randrange(200, 256)
    return png_bytes(size, size, bytes(pixels))


def mnist(*, train_rows: int = 6, test_rows: int = 3) -> Replica:
    """``ylecun/mnist``: ``mnist/train-00000-of-00001.parquet`` and ``mnist/test-…``.

    Columns: ``image`` (struct ``bytes``: a 28x28 grey PNG of the digit, ``path``: null) and
    ``label`` (int64, the first labels of the real splits).  Plus ``README.md`` and
    ``.gitattributes``.
    """
    _check_positive(train_rows=train_rows, test_rows=test_rows)
    rng = random.Random("ylecun/mnist")
    files: dict[str, bytes] = {".gitattributes": gitattributes()}
    splits = []
    for split, count in (("train", train_rows), ("test", test_rows)):
        labels = _MNIST_LABELS[split]
        rows = [
            {"image": {"bytes": _digit_png(label, rng), "path": None}, "label": label}
            for label in (labels[i % len(labels)] for i in range(count))
        ]
        split_files, card = sharded_split(
            "mnist", split, [table(rows, _MNIST_SCHEMA, _MNIST_FEATURES)]
        )
        files.update(split_files)
        splits.append(card)
    files["README.md"] = dataset_card(
        "Dataset Card for MNIST",
        meta={
            "language": ["en"],
            "license": "mit",
            "task_categories": ["image-classification"],
            "pretty_name": "MNIST",
        },
        configs=[CardConfig("mnist", _MNIST_FEATURES, tuple(splits))],
        body="Handwritten digits, 28x28 grey images (pygestor replica).",
    )
    return Replica("ylecun/mnist", files)


# --------------------------------------------------------------------------------------------
# databricks/databricks-dolly-15k

_DOLLY_SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("instruction", "context", "response", "category")]
)
_DOLLY_FEATURES = {name: hf_value("string") for name in _DOLLY_SCHEMA.names}
_DOLLY_ROWS = (
    ("When did the first transatlantic telegraph cable go into service?",
     ("The first transatlantic telegraph cable was laid across the Atlantic Ocean and completed "
      "in August 1858. It worked for only three weeks."),
     "It went into service in August 1858, but failed after about three weeks.", "closed_qa"),
    ("Which is a species of fish? Tope or Rope", "", "Tope", "classification"),
    ("Why can camels survive for long without water?", "",
     "Camels store fat in their humps and lose very little water when they breathe.",
     "open_qa"),
    ("Give me three ideas for a rainy afternoon.", "",
     "Bake bread, build a blanket fort, or start a jigsaw puzzle.", "brainstorming"),
    ("Summarize the paragraph about the Hubble telescope.",
     ("The Hubble Space Telescope was launched into low Earth orbit in 1990 and remains in "
      "operation. It has a 2.4 m mirror and observes in the ultraviolet, visible and near "
      "infrared."),
     "Hubble, launched in 1990, is a still-working orbital telescope with a 2.4 m mirror.",
     "summarization"),
    ("Extract the years mentioned in the text.",
     "The bridge was designed in 1927, built from 1929 to 1932 and repaired in 2004.",
     "1927, 1929, 1932, 2004", "information_extraction"),
    ("Write a haiku about a lighthouse.", "",
     "Night folds the harbour\none patient eye turns and turns\nships find their way home",
     "creative_writing"),
    ("What is a good first programming language?", "",
     "Python is a common choice: its syntax is readable and it is widely used.", "general_qa"),
)  # fmt: skip


def databricks_dolly() -> Replica:
    """``databricks/databricks-dolly-15k``: one root file ``databricks-dolly-15k.jsonl``.

    JSON lines with ``instruction``, ``context``, ``response``, ``category``; plus ``README.md``,
    ``.gitattributes``, and the :data:`CONVERT_REVISION` branch holding the same rows as
    ``default/train/0000.parquet``.
    """
    rows = [dict(zip(_DOLLY_SCHEMA.names, row, strict=True)) for row in _DOLLY_ROWS]
    files = {
        # The real file is over 10 MB, so it is LFS-tracked; the exact pattern is a guess.
        ".gitattributes": gitattributes("databricks-dolly-15k.jsonl"),
        "README.md": dataset_card(
            "Summary",
            meta={
                "license": "cc-by-sa-3.0",
                "task_categories": ["question-answering", "summarization"],
                "language": ["en"],
                "size_categories": ["10K<n<100K"],
            },
            body="Instruction-following records in eight categories (pygestor replica).",
        ),
        "databricks-dolly-15k.jsonl": jsonl_bytes(rows),
    }
    converted = parquet_bytes(table(rows, _DOLLY_SCHEMA, _DOLLY_FEATURES))
    return parquet_conversion(
        Replica("databricks/databricks-dolly-15k", files),
        {"default": {"train": converted}},
    )


# --------------------------------------------------------------------------------------------
# A synthetic repository for scale tests


def many_files(
    n: int = 50_000,
    *,
    repo_id: str = "pygestor/many-files",
    per_folder: int = 1000,
) -> Replica:
    """A synthetic repo of exactly ``n`` files: ``data/part-0000/00000.parquet``, ….

    File ``i`` lives in folder ``part-<i // per_folder>`` and is named by its global index
    (at least 5 digits, folders at least 4).  Every file holds the same tiny valid parquet table
    (one ``id`` int64 row), so building 50,000 files takes milliseconds and a content-addressed
    hub stores one blob.
    """
    if n < 0 or per_folder < 1:
        raise ValueError(f"need n >= 0 and per_folder >= 1, got n={n}, per_folder={per_folder}")
    data = parquet_bytes(pa.table({"id": pa.array([0], pa.int64())}))
    digits = max(5, len(str(n - 1)))
    folder_digits = max(4, len(str((n - 1) // per_folder)))
    files = {
        f"data/part-{i // per_folder:0{folder_digits}d}/{i:0{digits}d}.parquet": data
        for i in range(n)
    }
    return Replica(repo_id, files)


# --------------------------------------------------------------------------------------------

REPLICAS: Mapping[str, Callable[[], Replica]] = MappingProxyType(
    {
        "wikimedia/wikipedia": wikipedia,
        "wikimedia/wit_base": wit_base,
        "ylecun/mnist": mnist,
        "databricks/databricks-dolly-15k": databricks_dolly,
        "pygestor/many-files": many_files,
    }
)
"""Every replica builder by the repo id it produces, called with its defaults."""

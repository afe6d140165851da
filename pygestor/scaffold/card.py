"""The dataset card (`README.md`): its front matter's configs, sizes and modality, its summary,
and how its (config, split) pairs name subsets."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..manifest.patterns import safe_name


@dataclass(frozen=True)
class Card:
    """A dataset card: the YAML front matter (`meta`) and the Markdown after it."""

    meta: Mapping[str, Any]
    body: str
    problem: str | None = None  # why the front matter could not be read


_FRONT_MATTER = re.compile(
    r"\A\ufeff?---[ \t]*\r?\n(?:(.*?)\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL
)


def parse_card(text: str) -> Card:
    """Split a README into its YAML front matter and body (pure; never raises)."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if match is None:
        return Card({}, text)
    body = text[match.end() :]
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as exc:
        return Card({}, body, f"its YAML front matter does not parse ({type(exc).__name__})")
    if data is None:
        return Card({}, body)
    if not isinstance(data, dict):
        return Card({}, body, "its YAML front matter is not a mapping")
    return Card(data, body)


@dataclass(frozen=True)
class ConfigSplit:
    """One split of one card config: the globs of its data files."""

    config: str
    split: str
    globs: tuple[str, ...]


def card_splits(meta: Mapping[str, Any]) -> tuple[list[ConfigSplit], list[str]]:
    """The card's `configs:` as (config, split, globs), and what could not be used."""
    configs = meta.get("configs")
    if not configs:
        return [], []
    if not isinstance(configs, list):
        return [], ["the card's configs: is not a list"]
    out: list[ConfigSplit] = []
    problems: list[str] = []
    for entry in configs:
        if not isinstance(entry, dict):
            problems.append(f"a card config is not a mapping: {_short(entry)}")
            continue
        config = str(entry.get("config_name", "default"))
        data_dir = str(entry.get("data_dir") or "").strip("/")
        files = entry.get("data_files")
        if files is None:
            problems.append(
                f"card config {config!r} has no data_files"
                + (f" (only data_dir {data_dir!r})" if data_dir else "")
            )
            continue
        pairs: list[tuple[str, Any]]
        if isinstance(files, (str, list)) and not (
            isinstance(files, list) and files and isinstance(files[0], dict)
        ):
            pairs = [("train", files)]
        elif isinstance(files, list):
            pairs = [
                (str(item.get("split", "train")), item.get("path"))
                for item in files
                if isinstance(item, dict)
            ]
        elif isinstance(files, dict):
            pairs = [(str(k), v) for k, v in files.items()]
        else:
            problems.append(
                f"card config {config!r}: data_files is neither text, a list nor a mapping"
            )
            continue
        for split, paths in pairs:
            globs = [paths] if isinstance(paths, str) else paths if isinstance(paths, list) else []
            globs = [str(g).removeprefix("./").lstrip("/") for g in globs]
            if data_dir:
                globs = [f"{data_dir}/{g}" for g in globs]
            if not globs or any("://" in g for g in globs):
                problems.append(
                    f"card config {config!r} split {split!r}: no usable data_files paths"
                )
                continue
            out.append(ConfigSplit(config, split, tuple(globs)))
    return out, problems


def card_sizes(meta: Mapping[str, Any]) -> dict[tuple[str, str], tuple[int | None, int | None]]:
    """(config, split) -> (rows, bytes) from the card's `dataset_info`."""
    info = meta.get("dataset_info")
    entries = info if isinstance(info, list) else [info] if isinstance(info, dict) else []
    sizes: dict[tuple[str, str], tuple[int | None, int | None]] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        config = str(entry.get("config_name", "default"))
        splits = entry.get("splits") or []
        if isinstance(splits, dict):
            splits = [{"name": k, **v} for k, v in splits.items() if isinstance(v, dict)]
        for split in splits:
            if isinstance(split, dict) and "name" in split:
                sizes[(config, str(split["name"]))] = (
                    _int(split.get("num_examples")),
                    _int(split.get("num_bytes")),
                )
    return sizes


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_MODALITY_DTYPES = {
    "image": "image",
    "audio": "audio",
    "video": "video",
    "string": "text",
    "large_string": "text",
}
_MODALITY_TASKS = (
    ("image", "image"),
    ("vision", "image"),
    ("object-detection", "image"),
    ("ocr", "image"),
    ("audio", "audio"),
    ("speech", "audio"),
    ("video", "video"),
    ("tabular", "tabular"),
    ("text", "text"),
    ("question-answering", "text"),
    ("summarization", "text"),
    ("translation", "text"),
    ("fill-mask", "text"),
    ("token-classification", "text"),
    ("sentence-similarity", "text"),
)


def card_modality(meta: Mapping[str, Any]) -> list[str]:
    """What the data holds, from the card's feature types, else its task categories."""
    found: list[str] = []
    info = meta.get("dataset_info")
    for entry in info if isinstance(info, list) else [info] if isinstance(info, dict) else []:
        for feature in (entry.get("features") or []) if isinstance(entry, dict) else []:
            dtype = feature.get("dtype") if isinstance(feature, dict) else None
            kind = _MODALITY_DTYPES.get(dtype) if isinstance(dtype, str) else None
            if kind and kind not in found:
                found.append(kind)
    if not found:
        for task in as_list(meta.get("task_categories")):
            kind = next((k for word, k in _MODALITY_TASKS if word in task), None)
            if kind and kind not in found:
                found.append(kind)
    order = ["image", "audio", "video", "text", "tabular"]
    return sorted(found, key=order.index)


def card_description(card: Card) -> str | None:
    """The first sentences of the card's summary paragraph (None when there is no prose)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", card.body)]
    after_summary = next(
        (i + 1 for i, b in enumerate(blocks) if b.startswith("#") and "summary" in b.lower()), 0
    )
    for block in blocks[after_summary:] + blocks[:after_summary]:
        if (
            not block
            or block.startswith(("#", "|", "<", "!", "-", "*", "```", ">", "["))
            or len(block) < 20
        ):
            continue
        # links -> their text
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(block.split()))
        text = text.replace("**", "").replace("`", "")
        sentences = re.split(r"(?<=[.!?])\s+", text)
        out = ""
        for sentence in sentences:
            if out and len(out) + len(sentence) > 280:
                break
            out = f"{out} {sentence}".strip()
        return out[:400]
    return None


def as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def naming(pairs: Sequence[tuple[str, str]]) -> Literal["split", "config", "both"]:
    """How (config, split) pairs name subsets: one config -> split; one split per config ->
    config; else config.split."""
    configs = {c for c, _ in pairs}
    if len(configs) == 1:
        return "split"
    per_config: dict[str, set[str]] = defaultdict(set)
    for c, s in pairs:
        per_config[c].add(s)
    return "config" if all(len(s) == 1 for s in per_config.values()) else "both"


def subset_name(config: str, split: str, mode: str) -> str:
    if mode == "split":
        return safe_name(split)
    if mode == "config":
        return safe_name(config)
    return f"{safe_name(config)}.{safe_name(split)}"

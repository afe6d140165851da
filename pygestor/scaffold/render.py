"""The manifest's YAML text: header and `# REVIEW:` comments, metadata from the card, the
subset rules, and comments giving each subset's size."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..manifest.models import Format
from .card import as_list
from .refs import CONVERT_REVISION, HUB_HOSTS
from .result import SubsetInfo
from .rules import Plan, Rule


def render(
    dataset: str,
    repo_id: str,
    plan: Plan,
    rules: Sequence[Rule],
    fmt: Format | None,
    description: str,
    modality: Sequence[str],
    meta: Mapping[str, Any],
    subsets: Sequence[SubsetInfo],
    review: Sequence[str],
    endpoint: str | None = None,
) -> str:
    q = _quote
    at = f" (commit {plan.listing.commit[:12]})" if plan.listing.commit else ""
    origin = {
        "card": "the dataset card's configs",
        "layout": "the repository's file layout",
        "parquet-conversion": f"the {CONVERT_REVISION} revision",
    }[plan.origin]
    lines = [
        (
            f"# Scaffolded by `pygestor add {repo_id}` from "
            f"hf://datasets/{repo_id}@{plan.revision}{at}."
        ),
        f"# Subsets inferred from {origin}. Review, then run `pygestor sync {dataset}`.",
    ]
    lines += [f"# REVIEW: {item}" for item in review]
    lines += [f"name: {dataset}", f"description: {q(description)}"]
    if modality:
        lines.append(f"modality: [{', '.join(modality)}]")
    licenses = as_list(meta.get("license"))
    license_ = str(meta.get("license_name") or "") if licenses[:1] == ["other"] else ""
    if licenses:
        lines.append(f"license: {q(license_ or licenses[0])}")
    homepage = meta.get("homepage")
    if not (isinstance(homepage, str) and homepage.startswith(("http://", "https://"))):
        hub = (endpoint or "https://huggingface.co").rstrip("/")
        homepage = (
            f"https://huggingface.co/datasets/{repo_id}"
            if urlsplit(hub).hostname in HUB_HOSTS
            else None
        )
    if homepage:
        lines.append(f"homepage: {q(homepage)}")
    tags = as_list(meta.get("task_categories"))[:10]
    if tags:
        lines.append(f"tags: [{', '.join(q(t) for t in tags)}]")
    lines += ["source:", f"  huggingface: {repo_id}", f"  revision: {q(plan.revision)}", "subsets:"]
    lines += _size_comments(subsets, plan.rows)
    for rule in rules:
        files = q(rule.files[0]) if len(rule.files) == 1 else None
        if files is not None:
            lines.append(f"  - files: {files}")
        else:
            lines.append("  - files:")
            lines += [f"      - {q(p)}" for p in rule.files]
        if rule.name is not None:
            lines.append(f"    name: {q(rule.name)}")
        if rule.format is not None:
            lines.append(f"    format: {rule.format.value}")
    if fmt is not None:
        lines.append(f"format: {fmt.value}")
    return "\n".join(lines) + "\n"


_MAX_SIZE_COMMENTS = 200
_MAX_PLAIN_COMMENTS = 40  # without rows from the card, a long list of sizes is noise


def _size_comments(
    subsets: Sequence[SubsetInfo], rows: Mapping[str, tuple[int | None, int | None]]
) -> list[str]:
    """Comment lines: each subset's files and bytes (listing) and rows and bytes (card)."""
    from_card = any(s.name in rows for s in subsets)
    if not subsets or (len(subsets) > _MAX_PLAIN_COMMENTS and not from_card):
        return []
    head = "files and bytes from the listing" + (
        "; rows and in-memory bytes from the card's dataset_info" if from_card else ""
    )
    out = [f"  # {plural(len(subsets), 'subset')} ({head}):"]
    for s in subsets[:_MAX_SIZE_COMMENTS]:
        line = f"  #   {s.name}: {plural(s.partitions, 'file')}, {_human(s.bytes)}"
        n_rows, n_bytes = rows.get(s.name, (None, None))
        if n_rows is not None:
            line += f"; {n_rows:,} rows"
        if n_bytes is not None:
            line += f", {_human(n_bytes)} in memory"
        out.append(line)
    if len(subsets) > _MAX_SIZE_COMMENTS:
        out.append(f"  #   ... and {len(subsets) - _MAX_SIZE_COMMENTS} more")
    return out


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _human(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._/-]*")
_YAML_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null", "y", "n", "~"})


def _quote(value: str) -> str:
    """A YAML scalar for `value`: bare when unambiguous, else a JSON (= YAML) double-quoted
    string."""
    if (
        _PLAIN.fullmatch(value)
        and value.lower() not in _YAML_WORDS
        and not value.endswith(" ")
        and not re.fullmatch(r"[0-9._ -]+", value)
    ):
        return value
    return json.dumps(value, ensure_ascii=False)

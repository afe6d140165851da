"""Subset rules: the pattern text they are written in, where they place files (as `resolve`
does, first rule wins), the search for the loosest rule set that places every file where it is
meant to go, and the plan that carries the chosen rules (with notes and sizes) to rendering."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from ..manifest.formats import detect
from ..manifest.models import Format, SubsetRule
from ..manifest.patterns import MAX_REGEX_LENGTH
from ..sources.base import RemoteFile, Snapshot


def file_format(path: str) -> tuple[Format, str] | None:
    """(format, extension as written) of a data file pygestor reads, else None (the one table:
    `pygestor.formats`). `.json.gz` is JSON lines (c4's files are); a plain `.json` file is one
    JSON document."""
    kind = detect(path)
    return (Format(kind.format), kind.tail(path)) if kind.format is not None else None


_SPECIAL = {"{": r"\x7b", "}": r"\x7d", "*": r"\x2a", "?": r"\x3f"}


class Fields:
    """Numbered helper placeholders for one pattern (`{_1:...}`), unique within it."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, regex: str) -> str:
        self.n += 1
        return f"{{_{self.n}:{regex}}}"


def literal(text: str, fields: Fields | None = None) -> str:
    """`text` as pattern text matching exactly itself (wildcard characters escaped)."""
    fields = fields or Fields()
    return "".join(fields(_SPECIAL[c]) if c in _SPECIAL else c for c in text)


def glob_to_pattern(glob: str) -> str:
    """A card `data_files` glob (fsspec style) as a manifest pattern: `[abc]` and `{a,b}` become
    anonymous regex placeholders; `**` inside a segment becomes `*`."""
    fields = Fields()
    out: list[str] = []
    i = 0
    segments_fixed = "/".join(
        s if s == "**" or "**" not in s else s.replace("**", "*") for s in glob.split("/")
    )
    text = segments_fixed
    while i < len(text):
        ch = text[i]
        if ch == "[":
            end = text.find("]", i + 2)
            if end == -1:
                out.append(fields(r"\["))
                i += 1
                continue
            body = text[i + 1 : end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(fields(f"[{body}]"))
            i = end + 1
        elif ch == "{":
            end = text.find("}", i)
            if end == -1:
                out.append(fields(r"\x7b"))
                i += 1
                continue
            options = text[i + 1 : end].split(",")
            out.append(fields("|".join(re.escape(o).replace("\\*", "[^/]*") for o in options)))
            i = end + 1
        elif ch == "}":
            out.append(fields(r"\x7d"))
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def alternation(values: Iterable[str]) -> str | None:
    """`a|b|c` matching exactly these values (in first-seen order), or None when too long for a
    placeholder regex."""
    text = "|".join(re.escape(v).replace("\\-", "-") for v in dict.fromkeys(values))
    return text if len(text) <= MAX_REGEX_LENGTH else None


@dataclass(frozen=True)
class Rule:
    """A subset rule to write: its patterns, name and format."""

    files: tuple[str, ...]
    name: str | None = None
    format: Format | None = None

    def model(self) -> SubsetRule:
        files: str | list[str] = self.files[0] if len(self.files) == 1 else list(self.files)
        return SubsetRule(files=files, name=self.name, format=self.format)


Assignment = dict[str, tuple[str, ...]]  # subset name -> sorted file paths


@dataclass(frozen=True)
class Placed:
    """Where rules put files (first rule wins, as `resolve` does), without naming partitions."""

    where: dict[str, tuple[int, str]]  # path -> (rule index, subset name)
    rules: int

    @property
    def assignment(self) -> Assignment:
        by: dict[str, list[str]] = defaultdict(list)
        for path, (_, name) in self.where.items():
            by[name].append(path)
        return {name: tuple(sorted(paths)) for name, paths in by.items()}

    @property
    def empty(self) -> list[int]:
        used = {i for i, _ in self.where.values()}
        return [i for i in range(self.rules) if i not in used]


def place(rules: Sequence[Rule], files: Sequence[RemoteFile]) -> Placed:
    """Place `files` with `rules` (ValueError when a pattern does not compile)."""
    models = [r.model() for r in rules]
    where: dict[str, tuple[int, str]] = {}
    for file in files:
        path = file.path
        for i, rule in enumerate(models):
            captures = next(
                (
                    c
                    for c in (p.match(path) for p in rule.patterns if path.startswith(p.prefix))
                    if c is not None
                ),
                None,
            )
            if captures is None or any(ex.matches(path) for ex in rule.excludes):
                continue
            where[path] = (i, rule.template.render(captures))
            break
    return Placed(where, len(models))


def fits(rules: Sequence[Rule], files: Sequence[RemoteFile], intended: Assignment) -> bool:
    """True when `rules` put `files` exactly as `intended`, with no empty rule."""
    try:
        placed = place(rules, files)
    except ValueError:  # a candidate pattern that does not compile
        return False
    return not placed.empty and placed.assignment == intended


def _misplacing(
    rules: Sequence[Rule], files: Sequence[RemoteFile], intended: Assignment
) -> set[int]:
    """Indexes of the rules that take a file meant for another subset."""
    meant = {path: name for name, paths in intended.items() for path in paths}
    return {i for path, (i, name) in place(rules, files).where.items() if meant.get(path) != name}


def fit(
    loose: Callable[[], list[Rule]],
    tight: Callable[[], list[Rule]],
    fallbacks: Sequence[Callable[[], list[Rule]]],
    files: Sequence[RemoteFile],
    intended: Assignment,
) -> list[Rule] | None:
    """The loosest rule set that resolves `files` to `intended`: `loose` (placeholders free),
    then `loose` with the misplacing rules swapped for their `tight` twins (same order, values
    constrained), then `tight`, then each fallback."""
    try:
        rules, twins = loose(), tight()
    except ValueError:
        rules = twins = []
    if rules and len(rules) == len(twins):
        for _ in range(len(rules) + 1):
            if fits(rules, files, intended):
                return rules
            try:
                bad = {i for i in _misplacing(rules, files, intended) if rules[i] != twins[i]}
            except ValueError:
                break
            if not bad:
                break
            rules = [twins[i] if i in bad else r for i, r in enumerate(rules)]
        if fits(twins, files, intended):
            return twins
    for make in fallbacks:
        try:
            candidate = make()
        except ValueError:
            continue
        if fits(candidate, files, intended):
            return candidate
    return None


Origin = Literal["card", "layout", "parquet-conversion"]


@dataclass
class Plan:
    """Rules and notes gathered while inferring, before the text is rendered."""

    origin: Origin
    rules: list[Rule]
    revision: str
    listing: Snapshot
    files: list[RemoteFile]  # the files the rules are about
    review: list[str] = field(default_factory=list)
    # subset -> (rows, bytes)
    rows: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)

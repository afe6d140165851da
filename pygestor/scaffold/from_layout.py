"""Subset rules from the file layout: each data file cut into folders, name tokens (a split
word among them) and a shard counter; files of one shape make one rule whose varying parts are
placeholders that name the subsets."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..manifest.models import Format
from ..manifest.patterns import safe_name
from ..sources.base import RemoteFile, Snapshot
from .card import naming, subset_name
from .rules import Fields, Plan, Rule, alternation, file_format, fit, literal

_SPLIT_WORDS = frozenset(
    {
        "train",
        "training",
        "test",
        "testing",
        "validation",
        "valid",
        "val",
        "dev",
        "eval",
        "evaluation",
    }
)
_CONTAINER_DIRS = frozenset({"data"})
_HUB_SHARD = re.compile(r"^(?P<stem>.*?)(?P<sep>-)(?P<num>\d+-of-\d+)(?:-[0-9a-f]{8,})?$")
_OF_SHARD = re.compile(r"^(?P<stem>.*?)(?P<sep>[-_.])(?P<num>\d+-of-\d+)(?:-[0-9a-f]{8,})?$")
_PLAIN_SHARD = re.compile(r"^(?P<stem>.*?)(?P<sep>[-_.])(?P<num>\d{4,})$")
_DATATROVE = re.compile(r"^\d+(?:_\d+)*$")
_SPLIT_STEM = re.compile(r"^\w+(?:\.\w+)*$")
_TOKEN_SEP = re.compile(r"([-_.])")


@dataclass(frozen=True)
class _Shape:
    """One data file cut into slots: folders, name tokens (split one of them), shard counter."""

    file: RemoteFile
    dirs: tuple[str, ...]
    tokens: tuple[str, ...]
    seps: tuple[str, ...]
    split_at: int | None  # index into dirs + tokens
    # text before the `*` that stands for the shard counter ("" for a bare number)
    counter: str | None
    ext: str
    format: Format

    @property
    def slots(self) -> tuple[str, ...]:
        return self.dirs + self.tokens

    @property
    def key(self) -> tuple[Any, ...]:
        return (len(self.dirs), len(self.tokens), self.seps, self.split_at, self.counter, self.ext)


def _shape(file: RemoteFile) -> _Shape | None:
    found = file_format(file.path)
    if found is None:
        return None
    fmt, ext = found
    *dirs, name = file.path.split("/")
    base = name[: len(name) - len(ext)]
    counter: str | None = None
    stem = base
    hub = _HUB_SHARD.match(base)
    if _DATATROVE.fullmatch(base):
        stem, counter = "", ""
    elif hub and _SPLIT_STEM.fullmatch(hub["stem"]):
        # push_to_hub: `<split>-00000-of-00041[-<hex>]`; the whole stem is the split name
        return _Shape(file, tuple(dirs), (hub["stem"],), (), len(dirs), "-", ext, fmt)
    else:
        for regex in (_OF_SHARD, _PLAIN_SHARD):
            m = regex.match(base)
            if m:
                stem, counter = m["stem"], m["sep"]
                break
    if counter is not None and not stem:
        counter = ""
    if counter is None or not _TOKEN_SEP.search(stem):
        tokens: tuple[str, ...] = (stem,) if stem else ()
        seps: tuple[str, ...] = ()
    else:
        parts = _TOKEN_SEP.split(stem)
        tokens, seps = tuple(parts[0::2]), tuple(parts[1::2])
        if "" in tokens:
            tokens, seps = (stem,), ()
    split_at: int | None = None
    words = [i for i, t in enumerate(tokens) if t.lower() in _SPLIT_WORDS]
    if len(words) == 1:
        split_at = len(dirs) + words[0]
    else:
        dir_words = [i for i, d in enumerate(dirs) if d.lower() in _SPLIT_WORDS]
        if dir_words:
            split_at = dir_words[-1]
    return _Shape(file, tuple(dirs), tokens, seps, split_at, counter, ext, fmt)


@dataclass
class _Group:
    """Files of one shape: which slots vary, the rule they make, the subset of each file."""

    shapes: list[_Shape]
    prefix: tuple[str, ...] = ()  # category folders split off (kept in names unless 'data')

    @property
    def first(self) -> _Shape:
        return self.shapes[0]

    def values(self, slot: int) -> list[str]:
        return sorted({s.slots[slot] for s in self.shapes})

    def varies(self, slot: int) -> bool:
        return len({s.slots[slot] for s in self.shapes}) > 1


def _layout_groups(shapes: Sequence[_Shape]) -> list[_Group]:
    by_key: dict[tuple[Any, ...], list[_Shape]] = defaultdict(list)
    for shape in shapes:
        by_key[shape.key].append(shape)
    groups: list[_Group] = []
    for members in by_key.values():
        groups += _split_categories(_Group(sorted(members, key=lambda s: s.file.path)))
    return groups


def _split_categories(group: _Group) -> list[_Group]:
    """Split a group on a leading folder whose few values hold disjoint sets of sub-folders
    (fineweb: `data/<crawl>/` and `sample/<size>/`): each becomes its own rule."""
    ndirs = len(group.first.dirs)
    for pos in range(ndirs - 1):
        if not group.varies(pos) or not group.varies(pos + 1):
            continue
        values = group.values(pos)
        below: dict[str, set[str]] = defaultdict(set)
        for s in group.shapes:
            below[s.dirs[pos]].add(s.dirs[pos + 1])
        sets = list(below.values())
        disjoint = all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1 :])
        if len(values) <= 4 and disjoint:
            out: list[_Group] = []
            for value in values:
                members = [s for s in group.shapes if s.dirs[pos] == value]
                out += _split_categories(_Group(members, (*group.prefix, value)))
            return out
        break
    return [group]


@dataclass(frozen=True)
class _GroupRule:
    """How one group becomes a rule: pattern pieces per slot, and the subset of each file."""

    group: _Group
    placeholders: dict[int, str]  # slot -> placeholder name
    name: str | None  # template; None when the only placeholder is {subset}
    fixed: str | None  # a fixed subset name when nothing varies
    # slot -> literal (prefix, suffix)
    trims: Mapping[int, tuple[str, str]] = field(default_factory=dict)

    def captured(self, slot: int, value: str) -> str:
        pre, suf = self.trims.get(slot, ("", ""))
        return value[len(pre) : len(value) - len(suf)]

    def subset_of(self, shape: _Shape) -> str:
        if self.fixed is not None:
            return self.fixed
        captures = {
            name: self.captured(slot, shape.slots[slot]) for slot, name in self.placeholders.items()
        }
        template = self.name or "{subset}"
        return re.sub(r"\{([^{}]*)\}", lambda m: safe_name(captures[m.group(1)]), template)

    def pattern(self, constrain: Callable[[int], bool]) -> str:
        first = self.group.first
        fields = Fields()
        pieces: list[str] = []
        for slot in range(len(first.slots)):
            if slot in self.placeholders:
                values = [self.captured(slot, v) for v in self.group.values(slot)]
                alt = alternation(values) if constrain(slot) else None
                name = self.placeholders[slot]
                pre, suf = self.trims.get(slot, ("", ""))
                pieces.append(
                    literal(pre, fields)
                    + (f"{{{name}:{alt}}}" if alt else f"{{{name}}}")
                    + literal(suf, fields)
                )
            else:
                pieces.append(literal(first.slots[slot], fields))
        ndirs = len(first.dirs)
        text = "/".join(pieces[:ndirs])
        filename = _joined(pieces[ndirs:], first.seps)
        if first.counter is not None:
            filename += first.counter + "*"
        filename += literal(first.ext, fields)
        return f"{text}/{filename}" if text else filename

    def literal_rule(self, subset: str, shapes: Sequence[_Shape]) -> Rule:
        """One fixed-name rule for one subset's files of this group: slot values as literals."""
        patterns = sorted(
            {
                _GroupRule(_Group(same), {}, None, subset).pattern(lambda _: False)
                for same in _by_slots(shapes)
            }
        )
        return Rule(tuple(patterns), subset)


def _joined(tokens: Sequence[str], seps: Sequence[str]) -> str:
    """Name tokens put back together, each followed by its separator (the last has none)."""
    return "".join(t + (seps[i] if i < len(seps) else "") for i, t in enumerate(tokens))


def _by_slots(shapes: Sequence[_Shape]) -> list[list[_Shape]]:
    by: dict[tuple[str, ...], list[_Shape]] = defaultdict(list)
    for s in shapes:
        by[s.slots].append(s)
    return list(by.values())


def _common_affixes(values: Sequence[str]) -> tuple[str, str]:
    """The literal prefix and suffix all `values` share, cut at a '-', '_' or '.' (so that
    `2023-04-12_oasst_ready.trees` and `2023-04-12_oasst_all.messages` keep `ready.trees`)."""
    pre = os.path.commonprefix(list(values))  # noqa: RUF071 (characters are meant)
    pre = pre[: max(pre.rfind(c) for c in "-_.") + 1]
    suf = os.path.commonprefix([v[::-1] for v in values])[::-1]  # noqa: RUF071
    cut = [suf.find(c) for c in "-_." if c in suf]
    suf = suf[min(cut) :] if cut else ""
    if any(len(v) <= len(pre) + len(suf) for v in values):
        return "", ""
    return pre, suf


def _group_rule(group: _Group, all_splits: set[str], *, alone: bool = False) -> _GroupRule:
    first = group.first
    nslots = len(first.slots)
    varying = [slot for slot in range(nslots) if group.varies(slot)]
    split = first.split_at
    ndirs = len(first.dirs)
    placeholders: dict[int, str] = {}
    name_parts: list[str] = []
    dir_n = tok_n = 0
    for slot in varying:
        if slot == split:
            continue
        if slot < ndirs:
            dir_n += 1
            placeholders[slot] = "config" if dir_n == 1 else f"config{dir_n}"
        else:
            tok_n += 1
            placeholders[slot] = "name" if tok_n == 1 else f"name{tok_n}"
        name_parts.append(f"{{{placeholders[slot]}}}")
    if split is not None and split in varying:
        placeholders[split] = "split"
        name_parts.append("{split}")
    elif split is not None and len(all_splits) > 1:
        name_parts.append(safe_name(first.slots[split]))
    # a category folder split off (fineweb's sample/) joins the name it qualifies with '-'
    # (sample-10BT, as the Hub's own config names); independent parts join with '.'
    category = "-".join(safe_name(p) for p in group.prefix if p not in _CONTAINER_DIRS)
    if category:
        name_parts[:1] = [f"{category}-{name_parts[0]}" if name_parts else category]
    if not placeholders:
        fixed = ".".join(name_parts) if name_parts else _fixed_name(first, alone=alone)
        return _GroupRule(group, {}, None, fixed)
    trims = {
        slot: _common_affixes(group.values(slot))
        for slot in placeholders
        if slot >= ndirs and slot != split
    }
    if len(placeholders) == 1 and name_parts == [f"{{{next(iter(placeholders.values()))}}}"]:
        slot = next(iter(placeholders))
        return _GroupRule(group, {slot: "subset"}, None, None, trims)
    return _GroupRule(group, placeholders, ".".join(name_parts), None, trims)


def _fixed_name(shape: _Shape, *, alone: bool) -> str:
    """The subset name of a group where nothing varies: its split, else its last folder that
    is not a container, else its file stem (but 'train' when it is the repo's only group, as
    `datasets` names a lone file), else 'train'."""
    if shape.split_at is not None:
        return safe_name(shape.slots[shape.split_at])
    folders = [d for d in shape.dirs if d not in _CONTAINER_DIRS]
    if folders:
        return safe_name(folders[-1])
    if shape.tokens and not alone:
        return safe_name(_joined(shape.tokens, shape.seps))
    return "train"


def _layout_candidates(group_rules: Sequence[_GroupRule]) -> list[Callable[[], list[Rule]]]:
    ordered = sorted(
        group_rules,
        key=lambda g: (
            -len(g.group.first.tokens),
            -len(g.group.first.dirs) + len(g.placeholders),
            g.group.first.file.path,
        ),
    )

    def templated(constrain_all: bool) -> list[Rule]:
        rules = []
        for g in ordered:
            split = g.group.first.split_at

            def constrain(slot: int, split: int | None = split) -> bool:
                return constrain_all or slot == split

            name = g.fixed if g.fixed is not None else g.name
            rules.append(Rule((g.pattern(constrain),), name))
        return rules

    def per_subset() -> list[Rule]:
        rules = []
        for g in ordered:
            by_subset: dict[str, list[_Shape]] = defaultdict(list)
            for s in g.group.shapes:
                by_subset[g.subset_of(s)].append(s)
            rules += [
                g.literal_rule(subset, members) for subset, members in sorted(by_subset.items())
            ]
        return rules

    def exact() -> list[Rule]:
        by_subset: dict[str, list[str]] = defaultdict(list)
        for g in ordered:
            for s in g.group.shapes:
                by_subset[g.subset_of(s)].append(s.file.path)
        return [
            Rule(tuple(literal(p) for p in sorted(paths)), subset)
            for subset, paths in sorted(by_subset.items())
        ]

    return [lambda: templated(False), lambda: templated(True), per_subset, exact]


def plan_from_layout(
    revision: str,
    listing: Snapshot,
    data: Sequence[RemoteFile],
    sizes: Mapping[tuple[str, str], tuple[int | None, int | None]],
) -> Plan:
    shapes = [s for s in (_shape(f) for f in data) if s is not None]
    groups = _layout_groups(shapes)
    all_splits = {s.slots[s.split_at] for s in shapes if s.split_at is not None}
    group_rules = [_group_rule(g, all_splits, alone=len(groups) == 1) for g in groups]
    intended: dict[str, list[str]] = defaultdict(list)
    owners: dict[str, set[int]] = defaultdict(set)
    for i, g in enumerate(group_rules):
        for s in g.group.shapes:
            subset = g.subset_of(s)
            intended[subset].append(s.file.path)
            owners[subset].add(i)
    wanted = {k: tuple(sorted(v)) for k, v in intended.items()}
    loose, tight, *fallbacks = _layout_candidates(group_rules)
    rules = fit(loose, tight, fallbacks, data, wanted)
    if rules is None:  # e.g. names clashing by case: let the resolver report them
        rules = _layout_candidates(group_rules)[-1]()
    review: list[str] = []
    for subset, idx in sorted(owners.items()):
        if len(idx) > 1:
            folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in intended[subset]}
            if len(folders) > 1:
                review.append(
                    f"subset {subset!r} gathers files of {len(idx)} differently named "
                    f"groups from {len(folders)} folders; check that they belong "
                    "together"
                )
    pairs = list(sizes)
    rows: dict[str, tuple[int | None, int | None]] = {}
    if pairs:
        mode = naming(pairs)
        rows = {subset_name(c, s, mode): v for (c, s), v in sizes.items()}
    return Plan("layout", rules, revision, listing, list(data), review, rows)

"""Subset rules from the dataset card's `configs:`: the card's globs decide which file goes
where; splits whose globs differ only by their config (and split) name then share one templated
rule."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..manifest.patterns import safe_name
from ..sources.base import RemoteFile, Snapshot
from .card import ConfigSplit, naming, subset_name
from .render import plural
from .rules import Plan, Rule, alternation, file_format, fit, fits, glob_to_pattern, literal, place


def _bounded(value: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])")


def _template_glob(glob: str, values: Mapping[str, str]) -> str:
    """`glob` with each value (config, split) that occurs in it replaced by a NUL-delimited
    marker of its key: a whole path segment first, else the first occurrence bounded by
    non-word characters."""
    out = glob
    for key, value in values.items():
        segs = out.split("/")
        if value in segs:
            segs[segs.index(value)] = f"\0{key}\0"
            out = "/".join(segs)
            continue
        pieces = re.split(r"(\0[a-z]+\0)", out)
        for i, piece in enumerate(pieces):
            match = None if piece.startswith("\0") else _bounded(value).search(piece)
            if match:
                pieces[i] = piece[: match.start()] + f"\0{key}\0" + piece[match.end() :]
                break
        out = "".join(pieces)
    return out


def _fixed_rule(cs: ConfigSplit, mode: str) -> Rule:
    """One split's own rule: its globs as patterns, its subset name fixed."""
    return Rule(tuple(glob_to_pattern(g) for g in cs.globs), subset_name(cs.config, cs.split, mode))


def _card_candidates(splits: Sequence[ConfigSplit], mode: str) -> list[Callable[[], list[Rule]]]:
    """Rule sets for card splits, compact first: splits whose globs differ only by their config
    (and split) name share one templated rule, with the config unconstrained, then constrained
    (where the alternation fits); last, one rule per split with fixed names."""

    def compact(constrain: bool) -> list[Rule]:
        keys = (
            ("config",)
            if mode == "config"
            else ("split",)
            if mode == "split"
            else ("config", "split")
        )
        groups: dict[tuple[Any, ...], list[ConfigSplit]] = defaultdict(list)
        for cs in splits:
            values = {"config": cs.config, "split": cs.split}
            templated = tuple(_template_glob(g, {k: values[k] for k in keys}) for g in cs.globs)
            found = tuple(k for k in keys if all(f"\0{k}\0" in t for t in templated))
            # a key not in the globs stays literal in the name (and must then be one value)
            literal_values = tuple(values[k] for k in keys if k not in found)
            groups[(templated, found, literal_values)].append(cs)
        rules: list[Rule] = []
        for (templated, found, _), members in groups.items():
            if len(members) < 2 or not found or any("{" in g or "[" in g for g in templated):
                rules += [_fixed_rule(cs, mode) for cs in members]
                continue
            values_of = {
                "config": [cs.config for cs in members],
                "split": [cs.split for cs in members],
            }
            first = {"config": members[0].config, "split": members[0].split}
            varying = [k for k in found if len(set(values_of[k])) > 1]
            # the one varying part names the subset
            single = len(keys) == 1 and varying == list(keys)
            fields = {k: "subset" if single and k in varying else k for k in keys}

            def placeholder(
                key: str,
                fields: dict[str, str] = fields,
                values_of: dict[str, list[str]] = values_of,
            ) -> str:
                alt = alternation(values_of[key]) if constrain or key == "split" else None
                return f"{{{fields[key]}:{alt}}}" if alt else f"{{{fields[key]}}}"

            def fill(glob: str, first: dict[str, str] = first, varying: list[str] = varying) -> str:
                return re.sub(
                    r"\0([a-z]+)\0",
                    lambda m: (
                        placeholder(m.group(1))
                        if m.group(1) in varying
                        else literal(first[m.group(1)])
                    ),
                    glob,
                )

            parts = [f"{{{fields[k]}}}" if k in varying else safe_name(first[k]) for k in keys]
            name = None if single else ".".join(parts)
            rules.append(Rule(tuple(fill(g) for g in templated), name))
        return rules

    # loose, tight, last
    return [
        lambda: compact(False),
        lambda: compact(True),
        lambda: [_fixed_rule(cs, mode) for cs in splits],
    ]


def _order_by_overlap(
    splits: list[ConfigSplit], files: Sequence[RemoteFile], review: list[str]
) -> list[ConfigSplit]:
    """Card configs may overlap (`default: data/*/*` beside one config per crawl): a file goes to
    the first rule that takes it, so the splits taking fewer files go first; an aggregate config
    is then left with nothing and dropped."""
    taken: list[set[str]] = []
    for cs in splits:
        try:
            patterns = Rule(tuple(glob_to_pattern(g) for g in cs.globs), "x").model().patterns
        except ValueError:
            taken.append(set())
            continue
        taken.append(
            {
                f.path
                for f in files
                if any(
                    f.path.startswith(p.prefix) and p.match(f.path) is not None for p in patterns
                )
            }
        )
    union: set[str] = set().union(*taken) if taken else set()
    if sum(len(t) for t in taken) == len(union):
        return splits
    others = [set().union(*(u for j, u in enumerate(taken) if j != i)) for i in range(len(taken))]
    aggregates = {i for i, t in enumerate(taken) if t and t <= others[i]}
    rest = [t for i, t in enumerate(taken) if i not in aggregates]
    if sum(len(t) for t in rest) != len(set().union(*rest) if rest else set()):
        review.append(
            "some files belong to more than one card config; each goes to the config "
            "with the fewest files"
        )
    order = sorted(range(len(splits)), key=lambda i: len(taken[i]))
    return [splits[i] for i in order]


def plan_from_card(
    revision: str,
    listing: Snapshot,
    splits: Sequence[ConfigSplit],
    sizes: Mapping[tuple[str, str], tuple[int | None, int | None]],
) -> Plan | None:
    files = list(listing.files)
    mode = naming([(cs.config, cs.split) for cs in splits])
    n_configs = len({cs.config for cs in splits})
    review = [
        (
            f"subsets follow the dataset card's configs ({plural(n_configs, 'config')}, "
            f"{plural(len(splits), 'split')}); check the names"
        )
    ]
    original = list(splits)
    splits = _order_by_overlap(list(splits), files, review)

    # The card's own rules, one per split, decide which file goes where.
    explicit: list[Rule] = []
    kept: list[ConfigSplit] = []
    for cs in splits:
        rule = _fixed_rule(cs, mode)
        try:
            place([rule], [])
        except ValueError:
            review.append(
                f"card config {cs.config!r} split {cs.split!r}: glob {cs.globs[0]!r} "
                "cannot be expressed as a pattern; left out"
            )
            continue
        explicit.append(rule)
        kept.append(cs)
    splits = kept
    placed = place(explicit, files)
    empty = set(placed.empty)
    for i in sorted(empty):
        cs = splits[i]
        why = (
            "only repeats files of other configs"
            if place([explicit[i]], files).where
            else "matches no file"
        )
        review.append(
            f"card config {cs.config!r} split {cs.split!r} ({', '.join(cs.globs)}) {why}; left out"
        )
    card_order = [cs for cs in original if cs in splits and splits.index(cs) not in empty]
    splits = [cs for i, cs in enumerate(splits) if i not in empty]
    if not any(file_format(path) for path in placed.where):
        return None
    intended = placed.assignment
    if card_order != splits and fits([_fixed_rule(cs, mode) for cs in card_order], files, intended):
        splits = card_order  # once aggregates are gone the card's order works: keep it
    loose, tight, last = _card_candidates(splits, mode)
    rules = fit(loose, tight, [last], files, intended)
    assert rules is not None  # the explicit rules reproduce `intended` by construction
    rows = {subset_name(c, s, mode): v for (c, s), v in sizes.items()}
    plan = Plan("card", rules, revision, listing, files, review, rows)
    unreadable = sorted(path for path in placed.where if file_format(path) is None)
    if unreadable:
        plan.review.append(
            f"{len(unreadable)} files of the card's configs are in a format "
            f"pygestor does not read, e.g. {unreadable[0]}"
        )
    return plan

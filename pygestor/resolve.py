"""Pure: a manifest's subset rules + a source's file list -> subsets -> partitions.

No I/O. Each file goes to the first rule that matches it (a rule's `exclude` globs only keep
the file out of that rule). One file is one partition, named by its file name; where two files
of a subset share a file name, every partition of that subset is named by its path below the
pattern's fixed prefix instead (a file whose name is also a folder of another partition is
skipped: it could not be written there). Subsets and partitions come out sorted by name, so the
result is deterministic whatever order the source listed files in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter

from .manifest.models import Format, Manifest, SubsetRule
from .manifest.patterns import MAX_NAME_LENGTH, Pattern, is_safe_relpath, safe_name
from .sources.base import RemoteFile


@dataclass(frozen=True, slots=True)
class Partition:
    """One file of a subset."""

    name: (
        str  # safe relative path (usually just the file name); the local file's path in its subset
    )
    file: RemoteFile
    format: Format | None = None


@dataclass(frozen=True)
class Subset:
    name: str
    partitions: tuple[Partition, ...]

    @property
    def size(self) -> int:
        return sum(p.file.size for p in self.partitions)

    @property
    def partition_count(self) -> int:
        """How many partitions (a stored subset knows it without reading them)."""
        return len(self.partitions)


@dataclass(frozen=True)
class Resolution:
    """The resolved tree plus a report of what did not fit."""

    subsets: tuple[Subset, ...]
    unmatched: tuple[str, ...]  # files no rule took
    empty_rules: tuple[int, ...]  # indexes of rules that took no file
    skipped: tuple[tuple[str, str], ...]  # (path, why): matched but refused, e.g. a name clash

    def subset(self, name: str) -> Subset | None:
        return next((s for s in self.subsets if s.name == name), None)

    @property
    def partition_count(self) -> int:
        return sum(len(s.partitions) for s in self.subsets)


@dataclass(frozen=True, slots=True)
class _Hit:
    file: RemoteFile
    pattern: Pattern
    format: Format | None


def resolve(manifest: Manifest, files: Iterable[RemoteFile]) -> Resolution:
    """Group `files` into subsets and partitions following `manifest.subsets`."""
    rules = manifest.subsets
    groups: dict[str, list[_Hit]] = defaultdict(list)
    hits = [0] * len(rules)
    unmatched: list[str] = []
    place = _Placer(rules, manifest.format)
    for file in sorted(files, key=_PATH):
        placed = place(file)
        if placed is None:
            unmatched.append(file.path)
            continue
        index, name, hit = placed
        hits[index] += 1
        groups[name].append(hit)
    skipped: list[tuple[str, str]] = []
    for name in [n for n in groups if not is_safe_relpath(n) or "/" in n]:
        why = f"subset name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters"
        skipped += [(hit.file.path, why) for hit in groups.pop(name)]

    subsets = []
    for name in _unique_casefold(sorted(groups), groups, skipped):
        subsets.append(Subset(name, _partitions(groups[name], skipped)))
    return Resolution(
        subsets=tuple(subsets),
        unmatched=tuple(unmatched),
        empty_rules=tuple(i for i, n in enumerate(hits) if n == 0),
        skipped=tuple(skipped),
    )


_PATH = attrgetter("path")


class _Placer:
    """(rule index, subset name, hit) of the first rule taking a file, else None. The rules'
    patterns, excludes, templates and formats are looked up once, and each subset name is
    rendered once per distinct captures (a listing of 1,000,000 files has a few subsets)."""

    def __init__(self, rules: Sequence[SubsetRule], default_format: Format | None) -> None:
        self._rules = [
            (index, rule.patterns, rule.excludes, rule.template, rule.format or default_format)
            for index, rule in enumerate(rules)
        ]
        self._names: dict[tuple[int, tuple[tuple[str, str], ...]], str] = {}

    def __call__(self, file: RemoteFile) -> tuple[int, str, _Hit] | None:
        path = file.path
        for index, patterns, excludes, template, fmt in self._rules:
            for pattern in patterns:
                if not path.startswith(pattern.prefix):
                    continue
                captures = pattern.match(path)
                if captures is None:
                    continue
                if excludes and any(ex.matches(path) for ex in excludes):
                    break  # excluded from this rule; later rules may still take it
                key = (index, tuple(captures.items()))
                name = self._names.get(key)
                if name is None:
                    name = self._names[key] = template.render(captures)
                return index, name, _Hit(file, pattern, fmt)
        return None


def _unique_casefold(
    names: Sequence[str], groups: dict[str, list[_Hit]], skipped: list
) -> list[str]:
    """Names kept, refusing any that differs from an earlier one only by case."""
    seen: dict[str, str] = {}
    kept = []
    for name in names:
        first = seen.setdefault(name.casefold(), name)
        if first != name:
            why = f"subset name {name!r} differs from {first!r} only by case"
            skipped += [(hit.file.path, why) for hit in groups[name]]
            continue
        kept.append(name)
    return kept


def _partitions(hits: list[_Hit], skipped: list[tuple[str, str]]) -> tuple[Partition, ...]:
    """Name each hit's partition: by file name, or, if two share one (after making names safe and
    folding case), by path below the pattern's prefix, else by the whole path."""
    schemes = (
        lambda hit: hit.file.path.rsplit("/", 1)[-1],
        lambda hit: hit.file.path[len(hit.pattern.prefix) :],
        lambda hit: hit.file.path,
    )
    # the first scheme without clashes (computed only when the one before clashed); if all
    # clash, file names, and the clashing files are skipped below
    names = by_file_name = _safe_names(hits, schemes[0])
    for scheme in schemes[1:]:
        if len({n.casefold() for n in names}) == len(names):
            break
        names = _safe_names(hits, scheme)
    else:
        if len({n.casefold() for n in names}) != len(names):
            names = by_file_name

    by_name: dict[str, Partition] = {}
    folded: dict[str, str] = {}
    for name, hit in zip(names, hits, strict=True):
        if not is_safe_relpath(name):
            skipped.append(
                (
                    hit.file.path,
                    f"partition name {name[:40]!r}... is longer than {MAX_NAME_LENGTH} characters",
                )
            )
            continue
        first = folded.setdefault(name.casefold(), name)
        if first != name or name in by_name:
            skipped.append((hit.file.path, f"partition name {name!r} clashes with {first!r}"))
            continue
        by_name[name] = Partition(name, hit.file, hit.format)
    _drop_file_folder_clashes(by_name, skipped)
    return tuple(by_name[n] for n in sorted(by_name))


def _drop_file_folder_clashes(by_name: dict[str, Partition], skipped: list) -> None:
    """A partition whose name is also a folder of another's (`x/a_b` beside `x/a b/...`, both
    `a_b` once safe; case folded, for case-insensitive disks) cannot be a file there: it is
    skipped, and the files in that folder are kept."""
    folders: dict[str, str] = {}
    for name in by_name:
        cut = name.find("/")
        while cut != -1:
            folders.setdefault(name[:cut].casefold(), name)
            cut = name.find("/", cut + 1)
    for name in [n for n in by_name if n.casefold() in folders] if folders else []:
        other = folders[name.casefold()]
        skipped.append(
            (
                by_name.pop(name).file.path,
                f"partition name {name!r} is also the folder of {other!r}",
            )
        )


def _safe_names(hits: list[_Hit], scheme: Callable[[_Hit], str]) -> list[str]:
    """Each hit's name made safe, segment by segment (a name that is safe already, as most
    are, is kept as it is: `safe_name` leaves a safe segment unchanged)."""
    names = []
    for hit in hits:
        name = scheme(hit)
        if not is_safe_relpath(name):
            name = "/".join(safe_name(seg) for seg in name.split("/"))
        names.append(name)
    return names

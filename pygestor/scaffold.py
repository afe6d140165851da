"""`pygestor add`: a manifest scaffolded from a Hub dataset repository in one call.

    scaffold("ylecun/mnist", settings=settings)      # -> Scaffold (a value; nothing written)
    scaffold(...).write(path)                         # the manifest file, never clobbering

How subsets are found, in order:

1. The dataset card (`README.md` YAML): its `configs:` with `data_files` globs become rules; a
   single config gives subsets named by split, configs of one split each are named by config,
   anything else `config.split`. `dataset_info` (rows, bytes per split) goes into comments and
   the report.
2. Otherwise the file layout: every data file (parquet, JSON lines, JSON, CSV, text; by
   extension) is cut into folders, a name stem, a split word and a shard counter
   (`train-00000-of-00041`, datatrove `000_00000`, `c4-train.00000-of-01024`); files of one
   shape become one rule, whose varying parts are placeholders and name the subsets.
3. When the repository holds no data file pygestor reads (a loading script, archives), the
   Hub's `refs/convert/parquet` revision: `{config}/{split}/NNNN.parquet`.

Whatever the origin, the text is parsed back (`catalog.parse_text`) and resolved against the
same listing: every rule must take files, and each file must land in the subset intended for it
(else placeholders are constrained, then rules made explicit, until it does). What needs a
human look is returned in `Scaffold.review`. Library code: nothing here prints.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urlsplit

from .errors import BadRepoReference, InvalidName, NameTaken, OutputExists, SourceError
from .manifest.formats import detect
from .manifest.models import Format, Manifest, SubsetRule
from .manifest.patterns import DATASET_NAME, MAX_REGEX_LENGTH, safe_name
from .resolve import resolve
from .sources.base import Listing, RemoteFile

if TYPE_CHECKING:
    from .api import Catalog
    from .settings import Settings

__all__ = [
    "BadRepoReference",
    "InvalidName",
    "NameTaken",
    "OutputExists",
    "RepoRef",
    "Scaffold",
    "SubsetInfo",
    "add",
    "default_name",
    "parse_card",
    "parse_repo",
    "scaffold",
    "scaffold_listing",
]

CONVERT_REVISION = "refs/convert/parquet"
ACCEPTED_FORMS = ("owner/name, https://huggingface.co/datasets/owner/name[/tree/REVISION] "
                  "or hf://datasets/owner/name[@REVISION]")
#: Repository files every Hub repo may have; never data, never worth a review line.
REPO_METADATA = frozenset({"README.md", ".gitattributes", ".gitignore"})
Origin = Literal["card", "layout", "parquet-conversion"]


# ---- repository references ----------------------------------------------------------------
_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_REPO_ID = re.compile(rf"{_REPO_PART}/{_REPO_PART}")
_HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
_URL_REVISION_KEYWORDS = frozenset({"tree", "blob", "resolve", "commit", "raw", "edit"})


@dataclass(frozen=True)
class RepoRef:
    """A dataset repository and, if the reference named one, a revision."""

    repo_id: str
    revision: str | None = None


def parse_repo(text: str, *, endpoint: str | None = None) -> RepoRef:
    """`owner/name`, a `https://huggingface.co/datasets/owner/name[/tree/REV/...]` URL (or one
    of `endpoint`), or `hf://datasets/owner/name[@REV][/path]`; BadRepoReference otherwise."""
    raw = text.strip()

    def bad(why: str = "") -> BadRepoReference:
        return BadRepoReference(f"{text!r} is not a dataset repository{why}; give {ACCEPTED_FORMS}")

    revision: str | None = None
    if raw.startswith(("huggingface.co/", "hf.co/")):
        raw = "https://" + raw
    if raw.startswith("hf://"):
        parts = raw[len("hf://"):].split("/")
        if parts[0] != "datasets":
            raise bad(" (only dataset repositories, hf://datasets/...)")
        if len(parts) < 3:
            raise bad()
        owner, name = parts[1], parts[2]
        if "@" in name:
            name, _, rev = name.partition("@")
            revision = _revision_from(unquote(rev), parts[3:])
    elif re.match(r"https?://", raw):
        url = urlsplit(raw)
        hosts = set(_HUB_HOSTS)
        if endpoint:
            hosts.add(urlsplit(endpoint).netloc)
        if url.netloc not in hosts and url.hostname not in hosts:
            raise bad(f" (not a URL of {', '.join(sorted(hosts))})")
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:1] != ["datasets"] or len(parts) < 3:
            raise bad(" (a dataset URL looks like https://huggingface.co/datasets/owner/name)")
        owner, name = parts[1], parts[2]
        if len(parts) >= 5 and parts[3] in _URL_REVISION_KEYWORDS:
            revision = _revision_from(parts[4], parts[5:])
    else:
        if raw.count("/") != 1:
            raise bad()
        owner, name = raw.split("/")
    repo_id = f"{owner}/{name.removesuffix('.git')}"
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise bad()
    if revision is not None and (not revision or any(c.isspace() for c in revision) or ".." in revision):
        raise bad(f" (bad revision {revision!r})")
    return RepoRef(repo_id, revision)


def _revision_from(first: str, rest: Sequence[str]) -> str:
    """A revision from URL segments: `refs/convert/parquet` and `refs/pr/1` may arrive unencoded."""
    if first == "refs" and len(rest) >= 2:
        return "/".join(["refs", *rest[:2]])
    return first


def default_name(repo_id: str) -> str:
    """The dataset name for a repo: its name lowercased, made a valid catalog key."""
    name = re.sub(r"[^a-z0-9._-]+", "-", repo_id.rsplit("/", 1)[-1].lower()).strip("._-")
    return name[:100] or "dataset"


# ---- the dataset card ---------------------------------------------------------------------
@dataclass(frozen=True)
class Card:
    """A dataset card: the YAML front matter (`meta`) and the Markdown after it."""

    meta: Mapping[str, Any]
    body: str
    problem: str | None = None  # why the front matter could not be read


_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?:(.*?)\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def parse_card(text: str) -> Card:
    """Split a README into its YAML front matter and body (pure; never raises)."""
    import yaml

    match = _FRONT_MATTER.match(text)
    if match is None:
        return Card({}, text)
    body = text[match.end():]
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
class _ConfigSplit:
    """One split of one card config: the globs of its data files."""

    config: str
    split: str
    globs: tuple[str, ...]


def card_splits(meta: Mapping[str, Any]) -> tuple[list[_ConfigSplit], list[str]]:
    """The card's `configs:` as (config, split, globs), and what could not be used."""
    configs = meta.get("configs")
    if not configs:
        return [], []
    if not isinstance(configs, list):
        return [], ["the card's configs: is not a list"]
    out: list[_ConfigSplit] = []
    problems: list[str] = []
    for entry in configs:
        if not isinstance(entry, dict):
            problems.append(f"a card config is not a mapping: {_short(entry)}")
            continue
        config = str(entry.get("config_name", "default"))
        data_dir = str(entry.get("data_dir") or "").strip("/")
        files = entry.get("data_files")
        if files is None:
            problems.append(f"card config {config!r} has no data_files"
                            + (f" (only data_dir {data_dir!r})" if data_dir else ""))
            continue
        pairs: list[tuple[str, Any]]
        if isinstance(files, (str, list)) and not (isinstance(files, list) and files and isinstance(files[0], dict)):
            pairs = [("train", files)]
        elif isinstance(files, list):
            pairs = [(str(item.get("split", "train")), item.get("path")) for item in files if isinstance(item, dict)]
        elif isinstance(files, dict):
            pairs = [(str(k), v) for k, v in files.items()]
        else:
            problems.append(f"card config {config!r}: data_files is neither text, a list nor a mapping")
            continue
        for split, paths in pairs:
            globs = [paths] if isinstance(paths, str) else paths if isinstance(paths, list) else []
            globs = [str(g).removeprefix("./").lstrip("/") for g in globs]
            if data_dir:
                globs = [f"{data_dir}/{g}" for g in globs]
            if not globs or any("://" in g for g in globs):
                problems.append(f"card config {config!r} split {split!r}: no usable data_files paths")
                continue
            out.append(_ConfigSplit(config, split, tuple(globs)))
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
                sizes[(config, str(split["name"]))] = (_int(split.get("num_examples")), _int(split.get("num_bytes")))
    return sizes


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


_MODALITY_DTYPES = {"image": "image", "audio": "audio", "video": "video", "string": "text", "large_string": "text"}
_MODALITY_TASKS = (
    ("image", "image"), ("vision", "image"), ("object-detection", "image"), ("ocr", "image"),
    ("audio", "audio"), ("speech", "audio"), ("video", "video"), ("tabular", "tabular"),
    ("text", "text"), ("question-answering", "text"), ("summarization", "text"), ("translation", "text"),
    ("fill-mask", "text"), ("token-classification", "text"), ("sentence-similarity", "text"),
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
        for task in _as_list(meta.get("task_categories")):
            kind = next((k for word, k in _MODALITY_TASKS if word in task), None)
            if kind and kind not in found:
                found.append(kind)
    order = ["image", "audio", "video", "text", "tabular"]
    return sorted(found, key=order.index)


def card_description(card: Card) -> str | None:
    """The first sentences of the card's summary paragraph (None when there is no prose)."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", card.body)]
    after_summary = next((i + 1 for i, b in enumerate(blocks)
                          if b.startswith("#") and "summary" in b.lower()), 0)
    for block in blocks[after_summary:] + blocks[:after_summary]:
        if not block or block.startswith(("#", "|", "<", "!", "-", "*", "```", ">", "[")) or len(block) < 20:
            continue
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", " ".join(block.split()))  # links -> their text
        text = text.replace("**", "").replace("`", "")
        sentences = re.split(r"(?<=[.!?])\s+", text)
        out = ""
        for sentence in sentences:
            if out and len(out) + len(sentence) > 280:
                break
            out = f"{out} {sentence}".strip()
        return out[:400]
    return None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


# ---- formats ------------------------------------------------------------------------------
def file_format(path: str) -> tuple[Format, str] | None:
    """(format, extension as written) of a data file pygestor reads, else None (the one table:
    `pygestor.manifest.formats`). `.json.gz` is JSON lines (c4's files are); a plain `.json` file is one
    JSON document."""
    kind = detect(path)
    return (Format(kind.format), kind.tail(path)) if kind.format is not None else None


# ---- pattern text helpers -----------------------------------------------------------------
_SPECIAL = {"{": r"\x7b", "}": r"\x7d", "*": r"\x2a", "?": r"\x3f"}


class _Fields:
    """Numbered helper placeholders for one pattern (`{_1:...}`), unique within it."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, regex: str) -> str:
        self.n += 1
        return f"{{_{self.n}:{regex}}}"


def literal(text: str, fields: _Fields | None = None) -> str:
    """`text` as pattern text matching exactly itself (wildcard characters escaped)."""
    fields = fields or _Fields()
    return "".join(fields(_SPECIAL[c]) if c in _SPECIAL else c for c in text)


def glob_to_pattern(glob: str) -> str:
    """A card `data_files` glob (fsspec style) as a manifest pattern: `[abc]` and `{a,b}` become
    anonymous regex placeholders; `**` inside a segment becomes `*`."""
    fields = _Fields()
    out: list[str] = []
    i = 0
    segments_fixed = "/".join(s if s == "**" or "**" not in s else s.replace("**", "*") for s in glob.split("/"))
    text = segments_fixed
    while i < len(text):
        ch = text[i]
        if ch == "[":
            end = text.find("]", i + 2)
            if end == -1:
                out.append(fields(r"\["))
                i += 1
                continue
            body = text[i + 1:end]
            body = "^" + body[1:] if body.startswith("!") else body
            out.append(fields(f"[{body}]"))
            i = end + 1
        elif ch == "{":
            end = text.find("}", i)
            if end == -1:
                out.append(fields(r"\x7b"))
                i += 1
                continue
            options = text[i + 1:end].split(",")
            out.append(fields("|".join(re.escape(o).replace("\\*", "[^/]*") for o in options)))
            i = end + 1
        elif ch == "}":
            out.append(fields(r"\x7d"))
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _alternation(values: Iterable[str]) -> str | None:
    """`a|b|c` matching exactly these values (in first-seen order), or None when too long for a
    placeholder regex."""
    text = "|".join(re.escape(v).replace("\\-", "-") for v in dict.fromkeys(values))
    return text if len(text) <= MAX_REGEX_LENGTH else None


# ---- rules and their check ----------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    """A subset rule to write: its patterns, name and format."""

    files: tuple[str, ...]
    name: str | None = None
    format: Format | None = None

    def model(self) -> SubsetRule:
        files: str | list[str] = self.files[0] if len(self.files) == 1 else list(self.files)
        return SubsetRule(files=files, name=self.name, format=self.format)


Assignment = dict[str, tuple[str, ...]]  # subset name -> sorted file paths


@dataclass(frozen=True)
class _Placed:
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


def _place(rules: Sequence[_Rule], files: Sequence[RemoteFile]) -> _Placed:
    """Place `files` with `rules` (ValueError when a pattern does not compile)."""
    models = [r.model() for r in rules]
    where: dict[str, tuple[int, str]] = {}
    for file in files:
        path = file.path
        for i, rule in enumerate(models):
            captures = next((c for c in (p.match(path) for p in rule.patterns if path.startswith(p.prefix))
                             if c is not None), None)
            if captures is None or any(ex.regex.fullmatch(path) for ex in rule.excludes):
                continue
            where[path] = (i, rule.template.render(captures))
            break
    return _Placed(where, len(models))


def _fits(rules: Sequence[_Rule], files: Sequence[RemoteFile], intended: Assignment) -> bool:
    """True when `rules` put `files` exactly as `intended`, with no empty rule."""
    try:
        placed = _place(rules, files)
    except ValueError:  # a candidate pattern that does not compile
        return False
    return not placed.empty and placed.assignment == intended


def _misplacing(rules: Sequence[_Rule], files: Sequence[RemoteFile], intended: Assignment) -> set[int]:
    """Indexes of the rules that take a file meant for another subset."""
    meant = {path: name for name, paths in intended.items() for path in paths}
    return {i for path, (i, name) in _place(rules, files).where.items() if meant.get(path) != name}


def _fit(loose: Callable[[], list[_Rule]], tight: Callable[[], list[_Rule]],
         fallbacks: Sequence[Callable[[], list[_Rule]]], files: Sequence[RemoteFile],
         intended: Assignment) -> list[_Rule] | None:
    """The loosest rule set that resolves `files` to `intended`: `loose` (placeholders free),
    then `loose` with the misplacing rules swapped for their `tight` twins (same order, values
    constrained), then `tight`, then each fallback."""
    try:
        rules, twins = loose(), tight()
    except ValueError:
        rules = twins = []
    if rules and len(rules) == len(twins):
        for _ in range(len(rules) + 1):
            if _fits(rules, files, intended):
                return rules
            try:
                bad = {i for i in _misplacing(rules, files, intended) if rules[i] != twins[i]}
            except ValueError:
                break
            if not bad:
                break
            rules = [twins[i] if i in bad else r for i, r in enumerate(rules)]
        if _fits(twins, files, intended):
            return twins
    for make in fallbacks:
        try:
            candidate = make()
        except ValueError:
            continue
        if _fits(candidate, files, intended):
            return candidate
    return None


# ---- rules from the card ------------------------------------------------------------------
def _naming(pairs: Sequence[tuple[str, str]]) -> Literal["split", "config", "both"]:
    """How (config, split) pairs name subsets: one config -> split; one split per config ->
    config; else config.split."""
    configs = {c for c, _ in pairs}
    if len(configs) == 1:
        return "split"
    per_config: dict[str, set[str]] = defaultdict(set)
    for c, s in pairs:
        per_config[c].add(s)
    return "config" if all(len(s) == 1 for s in per_config.values()) else "both"


def _subset_name(config: str, split: str, mode: str) -> str:
    if mode == "split":
        return safe_name(split)
    if mode == "config":
        return safe_name(config)
    return f"{safe_name(config)}.{safe_name(split)}"


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
                pieces[i] = piece[: match.start()] + f"\0{key}\0" + piece[match.end():]
                break
        out = "".join(pieces)
    return out


def _card_candidates(splits: Sequence[_ConfigSplit], mode: str) -> list[Callable[[], list[_Rule]]]:
    """Rule sets for card splits, compact first: splits whose globs differ only by their config
    (and split) name share one templated rule, with the config unconstrained, then constrained
    (where the alternation fits); last, one rule per split with fixed names."""

    def fixed(cs: _ConfigSplit) -> _Rule:
        return _Rule(tuple(glob_to_pattern(g) for g in cs.globs), _subset_name(cs.config, cs.split, mode))

    def compact(constrain: bool) -> list[_Rule]:
        keys = ("config",) if mode == "config" else ("split",) if mode == "split" else ("config", "split")
        groups: dict[tuple[Any, ...], list[_ConfigSplit]] = defaultdict(list)
        for cs in splits:
            values = {"config": cs.config, "split": cs.split}
            templated = tuple(_template_glob(g, {k: values[k] for k in keys}) for g in cs.globs)
            found = tuple(k for k in keys if all(f"\0{k}\0" in t for t in templated))
            # a key not in the globs stays literal in the name (and must then be one value)
            literal_values = tuple(values[k] for k in keys if k not in found)
            groups[(templated, found, literal_values)].append(cs)
        rules: list[_Rule] = []
        for (templated, found, _), members in groups.items():
            if len(members) < 2 or not found or any("{" in g or "[" in g for g in templated):
                rules += [fixed(cs) for cs in members]
                continue
            values_of = {"config": [cs.config for cs in members], "split": [cs.split for cs in members]}
            first = {"config": members[0].config, "split": members[0].split}
            varying = [k for k in found if len(set(values_of[k])) > 1]
            single = len(keys) == 1 and varying == list(keys)  # the one varying part names the subset
            fields = {k: "subset" if single and k in varying else k for k in keys}

            def placeholder(key: str, fields: dict[str, str] = fields,
                            values_of: dict[str, list[str]] = values_of) -> str:
                alt = _alternation(values_of[key]) if constrain or key == "split" else None
                return f"{{{fields[key]}:{alt}}}" if alt else f"{{{fields[key]}}}"

            def fill(glob: str, first: dict[str, str] = first, varying: list[str] = varying) -> str:
                return re.sub(r"\0([a-z]+)\0",
                              lambda m: placeholder(m.group(1)) if m.group(1) in varying
                              else literal(first[m.group(1)]), glob)

            parts = [f"{{{fields[k]}}}" if k in varying else safe_name(first[k]) for k in keys]
            name = None if single else ".".join(parts)
            rules.append(_Rule(tuple(fill(g) for g in templated), name))
        return rules

    return [lambda: compact(False), lambda: compact(True), lambda: [fixed(cs) for cs in splits]]  # loose, tight, last


def _order_by_overlap(splits: list[_ConfigSplit], files: Sequence[RemoteFile],
                      review: list[str]) -> list[_ConfigSplit]:
    """Card configs may overlap (`default: data/*/*` beside one config per crawl): a file goes to
    the first rule that takes it, so the splits taking fewer files go first; an aggregate config
    is then left with nothing and dropped."""
    taken: list[set[str]] = []
    for cs in splits:
        try:
            patterns = _Rule(tuple(glob_to_pattern(g) for g in cs.globs), "x").model().patterns
        except ValueError:
            taken.append(set())
            continue
        taken.append({f.path for f in files
                      if any(f.path.startswith(p.prefix) and p.match(f.path) is not None for p in patterns)})
    union: set[str] = set().union(*taken) if taken else set()
    if sum(len(t) for t in taken) == len(union):
        return splits
    others = [set().union(*(u for j, u in enumerate(taken) if j != i)) for i in range(len(taken))]
    aggregates = {i for i, t in enumerate(taken) if t and t <= others[i]}
    rest = [t for i, t in enumerate(taken) if i not in aggregates]
    if sum(len(t) for t in rest) != len(set().union(*rest) if rest else set()):
        review.append("some files belong to more than one card config; each goes to the config with "
                      "the fewest files")
    order = sorted(range(len(splits)), key=lambda i: len(taken[i]))
    return [splits[i] for i in order]


# ---- rules from the layout ----------------------------------------------------------------
_SPLIT_WORDS = frozenset({"train", "training", "test", "testing", "validation", "valid", "val", "dev",
                          "eval", "evaluation"})
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
    counter: str | None  # text before the `*` that stands for the shard counter ("" for a bare number)
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
        disjoint = all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])
        if len(values) <= 4 and disjoint:
            out: list[_Group] = []
            for value in values:
                members = [s for s in group.shapes if s.dirs[pos] == value]
                out += _split_categories(_Group(members, group.prefix + (value,)))
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
    trims: Mapping[int, tuple[str, str]] = field(default_factory=dict)  # slot -> literal (prefix, suffix)

    def captured(self, slot: int, value: str) -> str:
        pre, suf = self.trims.get(slot, ("", ""))
        return value[len(pre): len(value) - len(suf)]

    def subset_of(self, shape: _Shape) -> str:
        if self.fixed is not None:
            return self.fixed
        captures = {name: self.captured(slot, shape.slots[slot]) for slot, name in self.placeholders.items()}
        template = self.name or "{subset}"
        return re.sub(r"\{([^{}]*)\}", lambda m: safe_name(captures[m.group(1)]), template)

    def pattern(self, constrain: Callable[[int], bool]) -> str:
        first = self.group.first
        fields = _Fields()
        pieces: list[str] = []
        for slot in range(len(first.slots)):
            if slot in self.placeholders:
                values = [self.captured(slot, v) for v in self.group.values(slot)]
                alt = _alternation(values) if constrain(slot) else None
                name = self.placeholders[slot]
                pre, suf = self.trims.get(slot, ("", ""))
                pieces.append(literal(pre, fields) + (f"{{{name}:{alt}}}" if alt else f"{{{name}}}")
                              + literal(suf, fields))
            else:
                pieces.append(literal(first.slots[slot], fields))
        ndirs = len(first.dirs)
        text = "/".join(pieces[:ndirs])
        filename = "".join(p + (first.seps[i] if i < len(first.seps) else "") for i, p in enumerate(pieces[ndirs:]))
        if first.counter is not None:
            filename += first.counter + "*"
        filename += literal(first.ext, fields)
        return f"{text}/{filename}" if text else filename

    def literal_rule(self, subset: str, shapes: Sequence[_Shape]) -> _Rule:
        """One fixed-name rule for one subset's files of this group: slot values as literals."""
        patterns = sorted({_GroupRule(_Group(same), {}, None, subset).pattern(lambda _: False)
                           for same in _by_slots(shapes)})
        return _Rule(tuple(patterns), subset)


def _by_slots(shapes: Sequence[_Shape]) -> list[list[_Shape]]:
    by: dict[tuple[str, ...], list[_Shape]] = defaultdict(list)
    for s in shapes:
        by[s.slots].append(s)
    return list(by.values())


def _common_affixes(values: Sequence[str]) -> tuple[str, str]:
    """The literal prefix and suffix all `values` share, cut at a '-', '_' or '.' (so that
    `2023-04-12_oasst_ready.trees` and `2023-04-12_oasst_all.messages` keep `ready.trees`)."""
    pre = os.path.commonprefix(list(values))
    pre = pre[: max(pre.rfind(c) for c in "-_.") + 1]
    suf = os.path.commonprefix([v[::-1] for v in values])[::-1]
    cut = [suf.find(c) for c in "-_." if c in suf]
    suf = suf[min(cut):] if cut else ""
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
    trims = {slot: _common_affixes(group.values(slot)) for slot in placeholders
             if slot >= ndirs and slot != split}
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
        stem = "".join(t + (shape.seps[i] if i < len(shape.seps) else "") for i, t in enumerate(shape.tokens))
        return safe_name(stem)
    return "train"


def _layout_candidates(group_rules: Sequence[_GroupRule]) -> list[Callable[[], list[_Rule]]]:
    ordered = sorted(group_rules, key=lambda g: (-len(g.group.first.tokens),
                                                 -len(g.group.first.dirs) + len(g.placeholders),
                                                 g.group.first.file.path))

    def templated(constrain_all: bool) -> list[_Rule]:
        rules = []
        for g in ordered:
            split = g.group.first.split_at

            def constrain(slot: int, split: int | None = split) -> bool:
                return constrain_all or slot == split
            name = g.fixed if g.fixed is not None else g.name
            rules.append(_Rule((g.pattern(constrain),), name))
        return rules

    def per_subset() -> list[_Rule]:
        rules = []
        for g in ordered:
            by_subset: dict[str, list[_Shape]] = defaultdict(list)
            for s in g.group.shapes:
                by_subset[g.subset_of(s)].append(s)
            rules += [g.literal_rule(subset, members) for subset, members in sorted(by_subset.items())]
        return rules

    def exact() -> list[_Rule]:
        by_subset: dict[str, list[str]] = defaultdict(list)
        for g in ordered:
            for s in g.group.shapes:
                by_subset[g.subset_of(s)].append(s.file.path)
        return [_Rule(tuple(literal(p) for p in sorted(paths)), subset) for subset, paths in sorted(by_subset.items())]

    return [lambda: templated(False), lambda: templated(True), per_subset, exact]


# ---- the result ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SubsetInfo:
    """One inferred subset: its partitions and bytes from the listing, rows from the card."""

    name: str
    partitions: int
    bytes: int
    rows: int | None = None  # the card's dataset_info num_examples, when it names this subset

    def to_json(self) -> dict[str, Any]:
        return {"subset": self.name, "partitions": self.partitions, "bytes": self.bytes, "rows": self.rows}


@dataclass(frozen=True)
class Scaffold:
    """A manifest scaffolded from a Hub repository: its text, the parsed model, what it resolves
    to against the listing it was made from, and what a human should review."""

    name: str
    repo_id: str
    revision: str  # what the manifest's source.revision says
    commit: str | None  # what the listing resolved that revision to
    origin: Origin  # where the subset rules came from
    text: str  # the manifest file's content
    manifest: Manifest
    subsets: tuple[SubsetInfo, ...]
    unmatched: tuple[str, ...]  # listed files no rule takes (README.md and .gitattributes included)
    review: tuple[str, ...]  # what to check by hand, one sentence each
    path: Path | None = None  # where it was written (set by `Catalog.add`)

    @property
    def source(self) -> str:
        return f"hf://datasets/{self.repo_id}@{self.revision}"

    @property
    def partitions(self) -> int:
        return sum(s.partitions for s in self.subsets)

    @property
    def bytes(self) -> int:
        return sum(s.bytes for s in self.subsets)

    def write(self, path: str | os.PathLike[str], *, force: bool = False) -> Path:
        """Write the manifest to `path` (folders created); OutputExists unless `force`."""
        target = Path(path)
        if target.exists() and not force:
            raise OutputExists(str(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.text)
                fh.flush()
                os.fsync(fh.fileno())
            if force:
                os.replace(tmp, target)
            else:
                try:
                    os.link(tmp, target)  # never clobbers, even against a concurrent writer
                except FileExistsError:
                    raise OutputExists(str(target)) from None
                except OSError:  # no hard links on this file system
                    with open(target, "x", encoding="utf-8") as fh:
                        fh.write(self.text)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return target

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "repo": self.repo_id, "source": self.source, "revision": self.revision,
            "commit": self.commit, "origin": self.origin, "path": str(self.path) if self.path else None,
            "subsets": [s.to_json() for s in self.subsets], "partitions": self.partitions,
            "bytes": self.bytes, "unmatched": list(self.unmatched), "review": list(self.review),
            "manifest": self.text,
        }


# ---- scaffolding --------------------------------------------------------------------------
@dataclass
class _Plan:
    """Rules and notes gathered while inferring, before the text is rendered."""

    origin: Origin
    rules: list[_Rule]
    revision: str
    listing: Listing
    files: list[RemoteFile]  # the files the rules are about
    review: list[str] = field(default_factory=list)
    rows: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)  # subset -> (rows, bytes)


def scaffold(repo: str, *, name: str | None = None, revision: str | None = None,
             settings: Settings) -> Scaffold:
    """A manifest for a Hub dataset repository (`owner/name`, a URL, or `hf://datasets/...`):
    lists it once, reads its card, infers subset rules, and checks that the text parses and
    resolves against that listing. Nothing is written; see `Scaffold.write` and `Catalog.add`."""
    ref = parse_repo(repo, endpoint=settings.hf_endpoint)
    if ref.revision and revision and ref.revision != revision:
        raise BadRepoReference(f"{repo!r} names revision {ref.revision!r} but the revision given is "
                               f"{revision!r}; give one of them")
    dataset = check_name(name) if name is not None else default_name(ref.repo_id)

    from .errors import AccessDenied
    from .sources.huggingface import HuggingFaceRepo

    def hub_at(rev: str) -> HuggingFaceRepo:
        return HuggingFaceRepo(ref.repo_id, rev, settings.hf_endpoint, settings.hf_token)

    hub = hub_at(revision or ref.revision or "main")
    with _add_hints():
        listing = hub.list()
        card = _read_card(hub, listing)

    def convert() -> Listing | None:
        try:
            with _add_hints():
                return hub_at(CONVERT_REVISION).list()
        except AccessDenied:
            raise
        except SourceError as exc:
            if "was not found" in str(exc):
                return None
            raise

    return scaffold_listing(ref.repo_id, listing, card, name=dataset, convert=convert,
                            endpoint=settings.hf_endpoint)


@contextlib.contextmanager
def _add_hints() -> Iterator[None]:
    """Source errors name manifest fields (`check source.huggingface`); here they are arguments."""
    try:
        yield
    except SourceError as exc:
        text = str(exc).replace("check source.huggingface", "check the repository name")
        text = text.replace("check source.revision", "check the revision")
        raise type(exc)(text) from None


def scaffold_listing(repo_id: str, listing: Listing, card: str | Card | None = None, *,
                     name: str | None = None, convert: Callable[[], Listing | None] | None = None,
                     endpoint: str | None = None) -> Scaffold:
    """The pure core of `scaffold`: a manifest from a listing and the card's text, no I/O.
    `convert` lists the `refs/convert/parquet` revision (None when it does not exist); it is
    called only when the listing holds no data file pygestor reads."""
    parsed = parse_card(card) if isinstance(card, str) else card
    dataset = check_name(name) if name is not None else default_name(repo_id)
    plan = _plan(repo_id, listing, parsed, convert)
    return _finish(dataset, repo_id, plan, parsed, endpoint)


def check_name(name: str) -> str:
    """`name` if it is a valid dataset name, else InvalidName saying what is allowed."""
    if not DATASET_NAME.fullmatch(name) or len(name) > 100:
        raise InvalidName(f"{name!r} is not a dataset name: use lowercase letters, digits, '.', '_' "
                               "and '-', starting with a letter or digit")
    return name


def _read_card(hub: Any, listing: Listing) -> str | None:
    """The README.md of the listed commit, parsed (None when the repo has none). A plain GET of
    the one file: no cache folder, no progress bar; the token goes to the Hub's origin only."""
    if not any(f.path == "README.md" for f in listing.files):
        return None
    from urllib.parse import urljoin

    from huggingface_hub.utils import get_session, hf_raise_for_status

    url, headers = hub.file_request("README.md", listing.commit)
    origin = urlsplit(url)[:2]
    try:
        for _ in range(5):
            response = get_session().get(url, headers=headers, follow_redirects=False, timeout=30.0)
            if not response.is_redirect:
                break
            url = urljoin(url, response.headers["location"])
            if urlsplit(url)[:2] != origin:  # e.g. an LFS README on a storage origin
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        hf_raise_for_status(response)
    except Exception as exc:
        translated = hub.translate(exc)
        if translated is None:
            raise
        raise translated from None
    return str(response.content.decode("utf-8", errors="replace"))


def _plan(repo_id: str, listing: Listing, card: Card | None,
          convert: Callable[[], Listing | None] | None) -> _Plan:
    files = list(listing.files)
    data = [f for f in files if file_format(f.path) is not None]
    meta = card.meta if card else {}
    review: list[str] = []
    if card is not None and card.problem:
        review.append(f"the dataset card could not be read: {card.problem}")

    splits, problems = card_splits(meta)
    review += problems
    if splits:
        plan = _plan_from_card(_revision(listing), listing, splits, card_sizes(meta))
        if plan is not None:
            plan.review[:0] = review
            return plan
        review.append("inferred from the file layout: the card's configs match no file pygestor reads; "
                      "check names and grouping")
    elif card is None:
        review.append("inferred from the file layout, no dataset card (README.md): check names and grouping")
    elif not problems:
        review.append("inferred from the file layout, no card configs: check names and grouping")

    if data:
        plan = _plan_from_layout(_revision(listing), listing, data, card_sizes(meta))
        plan.review[:0] = review
        return plan
    return _plan_from_conversion(repo_id, listing, review, convert)


def _revision(listing: Listing) -> str:
    return listing.revision or "main"


def _plan_from_card(revision: str, listing: Listing, splits: Sequence[_ConfigSplit],
                    sizes: Mapping[tuple[str, str], tuple[int | None, int | None]]) -> _Plan | None:
    files = list(listing.files)
    mode = _naming([(cs.config, cs.split) for cs in splits])
    n_configs = len({cs.config for cs in splits})
    review = [(f"subsets follow the dataset card's configs ({_plural(n_configs, 'config')}, "
               f"{_plural(len(splits), 'split')}); check the names")]
    original = list(splits)
    splits = _order_by_overlap(list(splits), files, review)

    def fixed_rule(cs: _ConfigSplit) -> _Rule:
        return _Rule(tuple(glob_to_pattern(g) for g in cs.globs), _subset_name(cs.config, cs.split, mode))

    # The card's own rules, one per split, decide which file goes where.
    explicit: list[_Rule] = []
    kept: list[_ConfigSplit] = []
    for cs in splits:
        rule = fixed_rule(cs)
        try:
            _place([rule], [])
        except ValueError:
            review.append(f"card config {cs.config!r} split {cs.split!r}: glob {cs.globs[0]!r} cannot be "
                          "expressed as a pattern; left out")
            continue
        explicit.append(rule)
        kept.append(cs)
    splits = kept
    placed = _place(explicit, files)
    empty = set(placed.empty)
    for i in sorted(empty):
        cs = splits[i]
        why = "only repeats files of other configs" if _place([explicit[i]], files).where else "matches no file"
        review.append(f"card config {cs.config!r} split {cs.split!r} ({', '.join(cs.globs)}) {why}; left out")
    card_order = [cs for cs in original if cs in splits and splits.index(cs) not in empty]
    splits = [cs for i, cs in enumerate(splits) if i not in empty]
    if not any(file_format(path) for path in placed.where):
        return None
    intended = placed.assignment
    if card_order != splits and _fits([fixed_rule(cs) for cs in card_order], files, intended):
        splits = card_order  # once aggregates are gone the card's order works: keep it
    loose, tight, last = _card_candidates(splits, mode)
    rules = _fit(loose, tight, [last], files, intended)
    assert rules is not None  # the explicit rules reproduce `intended` by construction
    rows = {_subset_name(c, s, mode): v for (c, s), v in sizes.items()}
    plan = _Plan("card", rules, revision, listing, files, review, rows)
    unreadable = sorted(path for path in placed.where if file_format(path) is None)
    if unreadable:
        plan.review.append(f"{len(unreadable)} files of the card's configs are in a format pygestor does not "
                           f"read, e.g. {unreadable[0]}")
    return plan


def _plan_from_layout(revision: str, listing: Listing, data: Sequence[RemoteFile],
                      sizes: Mapping[tuple[str, str], tuple[int | None, int | None]]) -> _Plan:
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
    rules = _fit(loose, tight, fallbacks, data, wanted)
    if rules is None:  # e.g. names clashing by case: let the resolver report them
        rules = _layout_candidates(group_rules)[-1]()
    review: list[str] = []
    for subset, idx in sorted(owners.items()):
        if len(idx) > 1:
            folders = {p.rsplit("/", 1)[0] if "/" in p else "" for p in intended[subset]}
            if len(folders) > 1:
                review.append(f"subset {subset!r} gathers files of {len(idx)} differently named groups from "
                              f"{len(folders)} folders; check that they belong together")
    pairs = list(sizes)
    rows: dict[str, tuple[int | None, int | None]] = {}
    if pairs:
        mode = _naming(pairs)
        rows = {_subset_name(c, s, mode): v for (c, s), v in sizes.items()}
    return _Plan("layout", rules, revision, listing, list(data), review, rows)


def _plan_from_conversion(repo_id: str, listing: Listing, review: list[str],
                          convert: Callable[[], Listing | None] | None) -> _Plan:
    others = sorted(f.path for f in listing.files if f.path not in REPO_METADATA)
    what = (f"{len(others)} files such as {others[0]}" if others else "no files besides its card")
    rev = _revision(listing)
    conv = convert() if convert is not None else None
    if conv is None:
        raise SourceError(f"dataset {repo_id!r} at {rev!r} holds no data files pygestor reads ({what}) "
                          f"and has no {CONVERT_REVISION} revision; write its manifest by hand")
    parquet = [f for f in conv.files if f.path.endswith(".parquet")]
    if not parquet:
        raise SourceError(f"dataset {repo_id!r} holds no data files pygestor reads ({what}), "
                          f"and its {CONVERT_REVISION} revision holds no parquet files either")
    rules = [_Rule(("{config}/{split}/*.parquet",), "{config}.{split}")]
    review = [*review, (f"fell back to {CONVERT_REVISION}: {rev!r} holds no data files pygestor "
                        f"reads ({what}); the Hub's conversion may lag behind main or cut large splits "
                        "(partial-*)")]
    return _Plan("parquet-conversion", rules, CONVERT_REVISION, conv, list(conv.files), review)


def _finish(dataset: str, repo_id: str, plan: _Plan, card: Card | None, endpoint: str | None) -> Scaffold:
    """Render the text, parse it back, resolve it against the listing, and report."""
    from .manifest.discovery import parse_text

    rules = list(plan.rules)
    placed = _place(rules, plan.files)
    # A rule that matches nothing must not be written (`validate --resolve` would fail it).
    while placed.empty and len(rules) > len(placed.empty):
        rules = [r for i, r in enumerate(rules) if i not in set(placed.empty)]
        placed = _place(rules, plan.files)
    formats = {_format(path) for path in placed.where}
    fmt = formats.pop() if len(formats) == 1 else None
    if fmt is None and formats:
        rules = [_rule_format(r, plan.files) for r in rules]
    meta = card.meta if card else {}
    # The rendered text is parsed back and resolved: what is reported is what sync will find.
    text_of = functools.partial(_render, dataset, repo_id, plan, rules, fmt)
    draft = parse_text(text_of("", [], meta, (), ()), f"<{dataset}.yaml>")
    resolution = resolve(draft, plan.files)
    subsets = tuple(SubsetInfo(s.name, len(s.partitions), s.size, plan.rows.get(s.name, (None, None))[0])
                    for s in resolution.subsets)
    review = list(plan.review)
    all_unmatched = sorted({f.path for f in plan.listing.files} - {p.file.path for s in resolution.subsets
                                                                    for p in s.partitions})
    data_unmatched = [p for p in all_unmatched if p not in REPO_METADATA]
    if data_unmatched:
        shown = ", ".join(data_unmatched[:3]) + (", ..." if len(data_unmatched) > 3 else "")
        review.append(f"{_plural(len(data_unmatched), 'file')} matched no rule: {shown}")
    for path, why in resolution.skipped[:5]:
        review.append(f"skipped {path}: {why}")
    if any(_format(p) is Format.json for p in (f.path for f in plan.files)):
        review.append("plain .json files are read as one JSON document each; if they hold JSON lines, "
                      "set format: jsonl")
    if any(f.path.lower().endswith((".tsv", ".tsv.gz")) for f in plan.files):
        review.append(".tsv files are read as CSV; check the delimiter")
    description = card_description(card) if card else None
    if description is None:
        description = str(meta.get("pretty_name") or "") or f"{repo_id} from the Hugging Face Hub."
        review.append("description: the card has no summary paragraph; write one")
    modality = card_modality(meta)
    if not modality:
        review.append("modality: not found in the card; add it (text, image, audio, ...)")
    text = text_of(description, modality, meta, subsets, review, endpoint)
    manifest = parse_text(text, f"<{dataset}.yaml>")
    if manifest.subsets != draft.subsets:  # pragma: no cover - comments and metadata only differ
        raise AssertionError("the rendered subset rules changed between drafts")
    return Scaffold(
        name=dataset, repo_id=repo_id, revision=plan.revision, commit=plan.listing.commit, origin=plan.origin,
        text=text, manifest=manifest, subsets=subsets, unmatched=tuple(all_unmatched), review=tuple(review),
    )


def _format(path: str) -> Format | None:
    found = file_format(path)
    return found[0] if found else None


def _rule_format(rule: _Rule, files: Sequence[RemoteFile]) -> _Rule:
    """`rule` with its own `format:` when every file it takes has one format."""
    formats = {_format(path) for path in _place([rule], files).where}
    return replace(rule, format=formats.pop()) if len(formats) == 1 else rule


def _render(dataset: str, repo_id: str, plan: _Plan, rules: Sequence[_Rule], fmt: Format | None,
            description: str, modality: Sequence[str], meta: Mapping[str, Any],
            subsets: Sequence[SubsetInfo], review: Sequence[str], endpoint: str | None = None) -> str:
    q = _quote
    at = f" (commit {plan.listing.commit[:12]})" if plan.listing.commit else ""
    origin = {"card": "the dataset card's configs", "layout": "the repository's file layout",
              "parquet-conversion": f"the {CONVERT_REVISION} revision"}[plan.origin]
    lines = [
        f"# Scaffolded by `pygestor add {repo_id}` from hf://datasets/{repo_id}@{plan.revision}{at}.",
        f"# Subsets inferred from {origin}. Review, then run `pygestor sync {dataset}`.",
    ]
    lines += [f"# REVIEW: {item}" for item in review]
    lines += [f"name: {dataset}", f"description: {q(description)}"]
    if modality:
        lines.append(f"modality: [{', '.join(modality)}]")
    licenses = _as_list(meta.get("license"))
    license_ = str(meta.get("license_name") or "") if licenses[:1] == ["other"] else ""
    if licenses:
        lines.append(f"license: {q(license_ or licenses[0])}")
    homepage = meta.get("homepage")
    if not (isinstance(homepage, str) and homepage.startswith(("http://", "https://"))):
        hub = (endpoint or "https://huggingface.co").rstrip("/")
        homepage = f"https://huggingface.co/datasets/{repo_id}" if urlsplit(hub).hostname in _HUB_HOSTS else None
    if homepage:
        lines.append(f"homepage: {q(homepage)}")
    tags = _as_list(meta.get("task_categories"))[:10]
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


def _size_comments(subsets: Sequence[SubsetInfo], rows: Mapping[str, tuple[int | None, int | None]]) -> list[str]:
    """Comment lines: each subset's files and bytes (listing) and rows and bytes (card)."""
    from_card = any(s.name in rows for s in subsets)
    if not subsets or (len(subsets) > _MAX_PLAIN_COMMENTS and not from_card):
        return []
    head = "files and bytes from the listing" + ("; rows and in-memory bytes from the card's dataset_info"
                                                 if from_card else "")
    out = [f"  # {_plural(len(subsets), 'subset')} ({head}):"]
    for s in subsets[:_MAX_SIZE_COMMENTS]:
        line = f"  #   {s.name}: {_plural(s.partitions, 'file')}, {_human(s.bytes)}"
        n_rows, n_bytes = rows.get(s.name, (None, None))
        if n_rows is not None:
            line += f"; {n_rows:,} rows"
        if n_bytes is not None:
            line += f", {_human(n_bytes)} in memory"
        out.append(line)
    if len(subsets) > _MAX_SIZE_COMMENTS:
        out.append(f"  #   ... and {len(subsets) - _MAX_SIZE_COMMENTS} more")
    return out


def _plural(n: int, word: str) -> str:
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
    """A YAML scalar for `value`: bare when unambiguous, else a JSON (= YAML) double-quoted string."""
    if (_PLAIN.fullmatch(value) and value.lower() not in _YAML_WORDS and not value.endswith(" ")
            and not re.fullmatch(r"[0-9._ -]+", value)):
        return value
    return json.dumps(value, ensure_ascii=False)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# ---- the catalog side ---------------------------------------------------------------------
def add(catalog: Catalog, repo: str, *, name: str | None = None, revision: str | None = None,
        output: str | os.PathLike[str] | None = None, force: bool = False) -> Scaffold:
    """Scaffold a manifest for `repo` and write it (default: the user catalog folder, as
    `<name>.yaml`). Refuses a name the catalog has (unless `force` and the other manifest is a
    built-in one or the very file being overwritten) and an existing file (unless `force`)."""
    settings = catalog.settings
    ref = parse_repo(repo, endpoint=settings.hf_endpoint)
    dataset = check_name(name) if name is not None else default_name(ref.repo_id)
    target = Path(output) if output is not None else settings.user_catalog_dir / f"{dataset}.yaml"
    _check_free(catalog, dataset, target, force, named=name is not None)
    if target.exists() and not force:
        raise OutputExists(str(target))
    result = scaffold(repo, name=dataset, revision=revision, settings=settings)
    written = result.write(target, force=force)
    review = list(result.review)
    folders = {d.expanduser().resolve() for d in settings.catalog_dirs}
    if written.resolve().parent not in folders:
        review.append(f"{written} is not in a catalog folder: pass --catalog {written.parent} "
                      "(or set PYGESTOR_CATALOG) to use it")
    return replace(result, path=written, review=tuple(review))


def _check_free(catalog: Catalog, dataset: str, target: Path, force: bool, *, named: bool) -> None:
    entry = catalog.discover().entries.get(dataset)
    if entry is None:
        return
    same_file = entry.path.resolve() == target.resolve()
    if force and (same_file or entry.builtin):
        return
    hint = "choose another --name" if named else "choose another name with --name"
    if same_file:
        hint += " (or overwrite it with --force)"
    elif entry.builtin:
        hint += " (or shadow the built-in manifest with --force)"
    raise NameTaken(f"dataset {dataset!r} is already in the catalog ({entry.path}); {hint}")

"""Finding, parsing and validating manifest files, with every problem pinned to a file and line.

A catalog is an ordered list of folders of `*.yaml` / `*.yml` manifests (user folders first, the
built-in one last, see `settings`). A user manifest may shadow a built-in one of the same name;
two manifests of one name among the user's folders are an error.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ManifestError, Problem
from .models import Manifest

MANIFEST_SUFFIXES = (".yaml", ".yml")
SUFFIXES = frozenset(MANIFEST_SUFFIXES)
MAX_MANIFEST_BYTES = 1_000_000
# a top-level `name: value` line (value plain or quoted, an optional comment after it)
_NAME_LINE = re.compile(r"^name:[ \t]*(\S*?)[ \t]*(?:[ \t]#.*)?\r?$", re.MULTILINE)
_PLAIN = re.compile(r"[A-Za-z0-9._-]+|'[A-Za-z0-9._-]+'|\"[A-Za-z0-9._-]+\"")


@dataclass(frozen=True)
class Entry:
    """A valid manifest and where it came from."""

    manifest: Manifest
    path: Path
    builtin: bool
    shadows: Path | None = None  # the built-in manifest this one hides


@dataclass
class Discovery:
    """What a pass over the catalog folders found."""

    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def manifest_files(paths: Iterable[Path]) -> list[Path]:
    """Manifest files in the given folders (sorted, not recursive) or the given files themselves."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        elif path.exists():
            found.append(path)
    return found


def discover(
    folders: Sequence[Path], *, builtin: Path | None = None, name: str | None = None
) -> Discovery:
    """Parse every manifest in `folders` (in precedence order); `builtin` marks the built-in
    folder. A file unchanged since an earlier call is not parsed again (`manifest.cache`: one
    listing per folder and one stat per file).

    With `name`, only what may define dataset `name`: a file not parsed yet whose one top-level
    `name:` line names another dataset is skipped without parsing (YAML and validation are most
    of a first lookup's time). The entry for `name`, and the problems of a file named after it,
    are the ones a whole pass finds; the other files' are not looked at."""
    from .cache import CACHE, file_key

    result = Discovery()
    for folder in folders:
        is_builtin = builtin is not None and folder == builtin
        for path, st in _scan(folder):
            result.files.append(path)
            if name is not None and path.stem != name:
                known = st is not None and CACHE.get(file_key(str(path), st)) is not None
                if not known and _names_another(path, name):
                    continue
            parsed = _parse_cached(path, st)
            if isinstance(parsed, Manifest):
                if name is None or parsed.name == name:
                    add_entry(result, Entry(parsed, path, is_builtin))
            else:
                result.problems += parsed
    return result


def _names_another(path: Path, name: str) -> bool:
    """Whether the file's text has exactly one top-level `name:` line, with a plain or quoted
    name other than `name` (anything else, or a file that cannot be read, may define it)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_MANIFEST_BYTES).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    found = _NAME_LINE.findall(text)
    if len(found) != 1 or _PLAIN.fullmatch(found[0]) is None:
        return False
    return found[0].strip("'\"") != name


def _scan(folder: Path) -> list[tuple[Path, os.stat_result | None]]:
    """`manifest_files([folder])` with each file's stat (None for a file given itself that is
    not a regular one: `parse_file` says why)."""
    try:
        with os.scandir(folder) as listing:
            names = sorted(e.name for e in listing if os.path.splitext(e.name)[1] in SUFFIXES)
    except NotADirectoryError:  # a file given itself
        st = os.stat(folder)
        return [(folder, st if stat.S_ISREG(st.st_mode) else None)]
    except FileNotFoundError:
        return []
    found: list[tuple[Path, os.stat_result | None]] = []
    for name in names:
        path = folder / name
        try:
            st = os.stat(path)
        except OSError:  # vanished, or a link leading nowhere: not a manifest file
            continue
        if stat.S_ISREG(st.st_mode):
            found.append((path, st))
    return found


def _parse_cached(path: Path, st: os.stat_result | None) -> Manifest | tuple[Problem, ...]:
    """`parse_file(path)` made read-only (`cache.read_only`), or its problems; from the cache
    when this version of the file was parsed before."""
    from .cache import CACHE, changed_ns, file_key, read_only

    key = file_key(str(path), st) if st is not None else None
    found = CACHE.get(key) if key is not None else None
    if found is not None:
        return found
    parsed: Manifest | tuple[Problem, ...]
    try:
        parsed = read_only(parse_file(path))
    except ManifestError as exc:
        parsed = tuple(exc.problems)
    if key is not None and st is not None:
        CACHE.put(key, parsed, changed_ns=changed_ns(st))
    return parsed


def add_entry(result: Discovery, entry: Entry) -> None:
    """Add `entry` to `result`, applying precedence: the first user manifest of a name wins and
    shadows a built-in one (a note); a second user manifest of that name is a problem."""
    name = entry.manifest.name
    earlier = result.entries.get(name)
    if earlier is None:
        result.entries[name] = entry
    elif entry.builtin and not earlier.builtin:
        result.entries[name] = Entry(earlier.manifest, earlier.path, False, shadows=entry.path)
        result.notes.append(f"{earlier.path}: dataset {name!r} shadows the built-in {entry.path}")
    elif not entry.builtin:
        result.problems.append(
            duplicate_problem(str(entry.path), _key_line(entry.path, "name"), name, earlier.path)
        )


def duplicate_problem(file: str, line: int | None, name: str, earlier: Path) -> Problem:
    """A user manifest whose name an earlier user manifest (`earlier`) already defines."""
    return Problem(
        file,
        line,
        "name",
        f"dataset {name!r} is already defined by {earlier}; rename one of them or remove a file",
    )


def _key_line(path: Path, key: str) -> int | None:
    """The line of a top-level `key:` in a YAML file (None if it cannot be read or found)."""
    try:
        return text_key_line(path.read_text(encoding="utf-8"), key)
    except (OSError, UnicodeDecodeError):
        return None


def text_key_line(text: str, key: str) -> int | None:
    """The line of a top-level `key:` in YAML text (None if not found)."""
    lines = text.splitlines()
    return next((n for n, line in enumerate(lines, 1) if line.startswith(f"{key}:")), None)


def parse_file(path: Path) -> Manifest:
    """Read and validate one manifest file; raises ManifestError listing every problem."""
    return parse_text(read_manifest(path), str(path))


def read_manifest(path: Path) -> str:
    """The text of a manifest file: a regular file of at most MAX_MANIFEST_BYTES, in UTF-8 (a FIFO
    or a device such as /dev/zero is refused before any read, so nothing blocks or grows)."""

    def fail(message: str, line: int | None = None) -> ManifestError:
        return ManifestError([Problem(str(path), line, "", message)])

    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise fail("not a regular file; give a .yaml file or a folder of them")
        with open(path, "rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_MANIFEST_BYTES:
        raise fail(too_large())
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise fail(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8", line
        ) from None


def too_large() -> str:
    """The problem of a manifest over MAX_MANIFEST_BYTES."""
    return (
        f"larger than {MAX_MANIFEST_BYTES:,} bytes, far more than a manifest needs; "
        "is this the right file?"
    )


def parse_text(text: str, file: str = "<manifest>") -> Manifest:
    """Validate manifest text; every problem carries `file`, a line and a field path."""
    import pydantic

    if len(text) > MAX_MANIFEST_BYTES:
        raise ManifestError([Problem(file, None, "", too_large())])
    node, data, duplicates = _load_yaml(text, file)
    if duplicates:
        raise ManifestError(duplicates)
    if not isinstance(data, dict):
        raise ManifestError(
            [Problem(file, 1, "", "a manifest is a mapping with keys name, source, subsets, ...")]
        )
    try:
        return Manifest.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = [_problem(err, node, file) for err in _merge_union_errors(exc.errors())]
        raise ManifestError(sorted(problems, key=lambda p: p.line or 0)) from None


def _load_yaml(text: str, file: str) -> tuple[Any, Any, list[Problem]]:
    """The composed node graph, the constructed value and the keys' problems (twice, not text).
    The graph is checked (`_check_nodes`: aliases, depth, tags, long numbers) before anything is
    constructed from it."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None, []
        key_problems = _check_nodes(node, text, file)  # raises on a hazard
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "syntax error"
        raise ManifestError([Problem(file, line, "", f"invalid YAML: {_one_line(what)}")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ...)
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        code = (
            exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "?")
        )
        what = f"character U+{code:04X} is not allowed in YAML text; remove it"
        raise ManifestError([Problem(file, line, "", f"invalid YAML: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([Problem(file, None, "", f"invalid YAML: {_one_line(exc)}")]) from None
    except (
        RecursionError,
        ValueError,
        OverflowError,
        MemoryError,
    ) as exc:  # the pure-Python loader
        raise ManifestError([Problem(file, None, "", f"invalid YAML: {_one_line(exc)}")]) from None
    finally:
        loader.dispose()
    return node, data, key_problems


def _one_line(what: object) -> str:
    text = " ".join(str(what).split())
    return text if len(text) <= 200 else text[:197] + "..."


#: How much YAML aliases may add to a manifest, in nodes plus characters of text values, beyond
#: what is written: a shared `load:` block used by a few subsets is a few hundred.
MAX_ALIAS_EXPANSION = 100_000
#: How deep mappings and lists may nest (a manifest needs five or six levels).
MAX_DEPTH = 50
#: How many characters a number may have (larger ones are refused before Python converts them).
MAX_NUMBER_LENGTH = 100
_YAML = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_YAML + t for t in ("str", "int", "float", "bool", "null", "seq", "map")}
_PLAIN_TAGS |= {_YAML + "timestamp", _YAML + "merge"}  # implicit dates (reported later), `<<`


def _check_nodes(root: Any, text: str, file: str) -> list[Problem]:
    """One pass over the composed YAML graph, each node once (aliases are not expanded, so the
    pass is linear in the text). Raises ManifestError on a hazard: aliases that expand the
    manifest by more than MAX_ALIAS_EXPANSION (the billion-laughs shape), an alias inside its own
    anchor (a loop), nesting deeper than MAX_DEPTH, a tag other than YAML's plain ones
    (`!!python/object`, `!!binary`, ...), a number longer than MAX_NUMBER_LENGTH. Returns the
    problems to report with the others: keys that appear twice, keys that are not text."""
    import yaml

    problems: list[Problem] = []
    weight: dict[int, int] = {}  # id(node) -> its size once aliases are expanded
    open_ids: set[int] = set()  # collections being walked: an alias to one is a loop
    added = aliases = 0

    def fail(node: Any, message: str) -> ManifestError:
        return ManifestError([Problem(file, node.start_mark.line + 1, "", message)])

    def visit(node: Any, depth: int) -> list[Any] | None:
        """Account for `node`; returns the frame to walk for a collection seen the first time."""
        nonlocal added, aliases
        key = id(node)
        if key in weight or key in open_ids:
            aliases += 1
            if key not in open_ids:
                added += weight[key]
                if added <= MAX_ALIAS_EXPANSION:
                    return None
            name, line = _alias_event(text, aliases)
            message = (
                f"YAML alias *{name} is inside its own anchor (a loop); write the value out"
                if key in open_ids
                else f"too many YAML aliases (*{name} here takes what they expand to past "
                f"{MAX_ALIAS_EXPANSION:,} values and characters); manifests do not need anchors "
                "this deep: write the repeated part out"
            )
            raise ManifestError([Problem(file, line, "", message)])
        if node.tag not in _PLAIN_TAGS:
            shown = "!!" + node.tag[len(_YAML) :] if node.tag.startswith(_YAML) else node.tag
            raise fail(
                node,
                f"YAML tag {shown} is not allowed in a manifest; remove it (text, "
                "numbers, true/false, lists and mappings only)",
            )
        if isinstance(node, yaml.ScalarNode):
            if node.tag in (_YAML + "int", _YAML + "float") and len(node.value) > MAX_NUMBER_LENGTH:
                raise fail(
                    node,
                    f"a number of {len(node.value)} characters; the limit is {MAX_NUMBER_LENGTH}",
                )
            weight[key] = 1 + len(node.value)
            return None
        if depth > MAX_DEPTH:
            raise fail(node, f"nested more than {MAX_DEPTH} levels deep; a manifest needs a few")
        open_ids.add(key)
        if isinstance(node, yaml.MappingNode):
            problems.extend(_key_problems(node, file, paths[key], paths))
            items = [n for pair in node.value for n in pair]
        else:
            items = list(node.value)
            for i, item in enumerate(items):
                paths.setdefault(id(item), f"{paths[key]}[{i}]")
        return [node, items, 0, 1, depth]  # node, children, next child, weight so far, depth

    paths: dict[int, str] = {id(root): ""}
    first = visit(root, 1)
    stack = [first] if first is not None else []
    while stack:
        frame = stack[-1]
        node, items, index, total, depth = frame
        if index == len(items):
            stack.pop()
            open_ids.discard(id(node))
            weight[id(node)] = total
            if stack:
                stack[-1][3] += total
            continue
        frame[2] += 1
        child = items[index]
        sub = visit(child, depth + 1)
        if sub is None:
            frame[3] += weight[id(child)]
        else:
            stack.append(sub)
    return sorted(problems, key=lambda p: p.line or 0)


def _key_problems(node: Any, file: str, path: str, paths: dict[int, str]) -> list[Problem]:
    """Keys of one mapping that appear twice or are not text; records the children's paths."""
    import yaml

    problems = []
    seen: set[str] = set()
    for key, value in node.value:
        name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
        line = key.start_mark.line + 1
        if name in seen:
            problems.append(Problem(file, line, _join(path, name), "key appears twice; keep one"))
        elif key.tag not in (_YAML + "str", _YAML + "merge") and isinstance(key, yaml.ScalarNode):
            problems.append(
                Problem(
                    file,
                    line,
                    _join(path, name),
                    f"YAML reads this key as {key.tag[len(_YAML) :]}, not text; quote it",
                )
            )
        seen.add(name)
        paths.setdefault(id(value), _join(path, name))
        paths.setdefault(id(key), path)
    return problems


def _alias_event(text: str, n: int) -> tuple[str, int | None]:
    """The anchor name and line of the n-th alias (`*name`) in the text: the walk meets aliases
    in the order the parser does, so the n-th alias it meets is the n-th alias event."""
    import yaml

    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    seen = 0
    for event in yaml.parse(text, Loader=loader_class):
        if isinstance(event, yaml.AliasEvent):
            seen += 1
            if seen == n:
                mark = event.start_mark
                return str(event.anchor), mark.line + 1 if mark is not None else None
    return "?", None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


_STR_BRANCH = {"str", "constrained-str"}
_LIST_BRANCH = {"list[str]", "list[constrained-str]"}


def _merge_union_errors(errors: list[Any]) -> list[Any]:
    """Make pydantic's union errors read like one field's errors.

    Drops the source kind from locations (`source.huggingface.revision` -> `source.revision`) and,
    for `str | list[str]` fields, reports only the branch the value was meant for: a list's bad
    items (`files[0]: expected text`), or one "expected text or a list of texts" otherwise.
    """
    merged: dict[tuple[Any, ...], Any] = {}
    for err in errors:
        loc = list(err["loc"])
        if len(loc) > 1 and loc[0] == "source" and loc[1] in ("huggingface", "local"):
            del loc[1]
        branch = next((i for i, part in enumerate(loc) if part in _STR_BRANCH | _LIST_BRANCH), None)
        if branch is not None:
            is_list_branch = loc[branch] in _LIST_BRANCH
            rest = loc[branch + 1 :]
            del loc[branch:]
            if is_list_branch and not rest:
                continue  # the value is not a list: the str branch reports it
            if not is_list_branch:
                if isinstance(err.get("input"), list):
                    continue  # the value is a list: its items' errors are reported
                err = {**err, "type": "text_or_list"}
            loc += rest
        merged.setdefault(tuple(loc), {**err, "loc": tuple(loc)})
    return list(merged.values())


def _problem(err: Any, root: Any, file: str) -> Problem:
    node, shown = _locate(root, err["loc"])
    line = node.start_mark.line + 1 if node is not None else None
    return Problem(file, line, shown, _message(err))


def _locate(root: Any, loc: Sequence[Any]) -> tuple[Any, str]:
    """The YAML node an error location points at (the deepest found) and its display path."""
    import yaml

    node, shown = root, ""
    for part in loc:
        if isinstance(part, int) and isinstance(node, yaml.SequenceNode) and part < len(node.value):
            node, shown = node.value[part], f"{shown}[{part}]"
        elif isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if str(k.value) == str(part)]
            if match:
                key, value = match[0]
                node, shown = (
                    (value if not _is_extra_key(loc, part) else key),
                    _join(shown, str(part)),
                )
            else:
                shown = _join(shown, str(part))
    return node, shown


def _is_extra_key(loc: Sequence[Any], part: Any) -> bool:
    return bool(loc) and loc[-1] == part


_TYPE_HINTS = {
    "string_type": "expected text",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "int_type": "expected a whole number",
    "bool_type": "expected true or false",
    "text_or_list": "expected text or a list of texts",
}


def _message(err: Any) -> str:
    kind, msg = err["type"], err["msg"]
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        from .models import known_keys

        if err["loc"][0] == "source" and key in ("huggingface", "local"):
            return "a source is either 'huggingface' or 'local', not both; remove one"
        if key in known_keys():
            return "not allowed here; remove it or move it where it belongs (see docs/manifest.md)"
        return f"unknown key{_did_you_mean(key)}; remove it or fix its spelling"
    if kind == "missing":
        return "required; add it"
    if kind in _TYPE_HINTS:
        return f"{_TYPE_HINTS[kind]}, got {_short(err.get('input'))}"
    if kind == "too_short" and err["loc"] and err["loc"][-1] == "subsets":
        return "give at least one subset rule, e.g. '- files: \"{subset}/*.parquet\"'"
    if msg.startswith("Value error, "):
        return msg[len("Value error, ") :]
    return f"{msg}, got {_short(err.get('input'))}" if "input" in err else msg


def _did_you_mean(key: str) -> str:
    import difflib

    from .models import known_keys

    close = difflib.get_close_matches(key, sorted(known_keys()), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Validation:
    """The outcome of `validate`: every file looked at, every problem, and notes (shadowing)."""

    files: tuple[str, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "files": list(self.files),
            "problems": [asdict(p) for p in self.problems],
            "notes": list(self.notes),
        }


def discover_paths(
    paths: Sequence[str | os.PathLike[str]], *, builtin: Path
) -> tuple[Discovery, list[Path], list[Problem]]:
    """The manifests in the given files and folders (validated as user manifests; a folder
    without any is a problem, so a CI pointed at the wrong folder fails), with a note for each
    that shadows a built-in manifest of `builtin`."""
    targets = [Path(p) for p in paths]
    problems = [
        Problem(str(p), None, "", "no such file or folder") for p in targets if not p.exists()
    ]
    problems += [
        Problem(str(p), None, "", "no manifests (*.yaml, *.yml) in this folder; check the path")
        for p in targets
        if p.is_dir() and not manifest_files([p])
    ]
    files = manifest_files(p for p in targets if p.exists())
    result = Discovery()
    for path in files:
        try:
            manifest = parse_file(path)
        except ManifestError as exc:
            problems += exc.problems
            continue
        add_entry(result, Entry(manifest, path, builtin=False))
    shipped = {p.stem: p for p in manifest_files([builtin])}
    for name, entry in sorted(result.entries.items()):
        if name in shipped and entry.path.resolve() != shipped[name].resolve():
            result.notes.append(
                f"{entry.path}: dataset {name!r} shadows the built-in {shipped[name]}"
            )
    return result, files, problems


def rule_line(path: Path, index: int | None) -> int | None:
    """The line of `source:` (index None) or of the index-th subset rule in a manifest file."""
    try:
        node, _, _ = _load_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ManifestError):
        return None
    key = "source" if index is None else "subsets"
    for k, v in getattr(node, "value", []):
        if k.value == key:
            target = v if index is None else v.value[index]
            return int(target.start_mark.line) + 1
    return None

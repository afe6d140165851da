"""Curating manifest files: read one, change its description, modality, tags or license in place,
check text from an editor, save a new one into the user's catalog folder, delete one.

What the web UI edits, and the rules it edits by:

- Built-in manifests are read-only (`ReadOnlyManifest`); so is a user manifest whose file (or
  folder) is not writable, or that is a symbolic link (the link's target may be anywhere).
- An edit changes only the lines of the keys it changes. The file is composed with ruamel.yaml
  (positions and styles of every node), each changed key is rendered by ruamel.yaml in the style
  it had (quotes, flow or block lists, indentation) and spliced into the text: every other byte
  (comments, blank lines, key order, quoting, spacing) stays as it was, by construction. A
  new key goes after the key that precedes it in the manifest's order; a removed key takes its
  line and end-of-line comment only, never the comments that follow.
- The new text is validated by `parse_text`, the validator `pygestor validate` uses, before it is
  written; refused, nothing is written (`InvalidManifest`, with the problems).
- Writes are atomic: a temporary file in the same folder, fsync, rename, the file's mode kept.
  `expected_sha256` (what the editor read) is compared first, and the text the edit was made
  from again just before the rename, under an exclusive lock of the file (`flock`): a file
  changed meanwhile is `ManifestChanged` and left alone. Concurrent edits through pygestor are
  serialized by the lock (one wins, the others are refused, none is lost); a program that
  writes without the lock is caught unless it lands between that check and the rename.

ruamel.yaml is an optional dependency (`pip install 'pygestor[ui]'`), imported only here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, get_args

from ..errors import (
    InvalidEdit,
    InvalidManifest,
    ManifestChanged,
    ManifestError,
    ManifestExists,
    Problem,
    PygestorError,
    ReadOnlyManifest,
)
from .discovery import (
    MAX_MANIFEST_BYTES,
    Entry,
    duplicate_problem,
    parse_text,
    read_manifest,
    text_key_line,
    too_large,
)
from .models import Manifest
from .patterns import DATASET_NAME, is_safe_relpath

#: The keys `edit` changes, and how each is checked.
EDITABLE = ("description", "modality", "tags", "license")
MODALITIES: tuple[str, ...] = get_args(get_args(Manifest.model_fields["modality"].annotation)[0])
#: The manifest's key order (a new key goes after the last present key that precedes it).
KEY_ORDER = ("$schema", *(f.alias or n for n, f in Manifest.model_fields.items() if n != "schema_"))


def manifest_file(entry: Entry) -> dict[str, Any]:
    """The file behind a catalog entry: `{name, path, text, builtin, editable, sha256}`."""
    text = read_manifest(entry.path)
    return {
        "name": entry.manifest.name,
        "path": str(entry.path),
        "text": text,
        "builtin": entry.builtin,
        "editable": _read_only_reason(entry) is None,
        "sha256": sha256_text(text),
    }


def sha256_text(text: str) -> str:
    """The sha256 of the file holding `text` in UTF-8 (what `manifest_file` reports)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_only_reason(entry: Entry, user_folder: Path | None = None) -> str | None:
    """Why the entry's file cannot be edited or deleted here (None: it can)."""
    if entry.builtin:
        folder = user_folder or "your catalog folder (where pygestor add writes)"
        return (
            f"is built in and read-only; to change it, copy {entry.path.name} into {folder} and "
            "edit the copy (it shadows the built-in one), or write one with 'pygestor add --force'"
        )
    if entry.path.is_symlink():
        return "is a symbolic link; edit the file it points to"
    if not os.access(entry.path, os.W_OK) or not os.access(entry.path.parent, os.W_OK):
        return "is in a file or folder you cannot write; change its permissions, or copy it"
    return None


def _require_editable(entry: Entry, user_folder: Path | None) -> None:
    why = _read_only_reason(entry, user_folder)
    if why is not None:
        raise ReadOnlyManifest(entry.manifest.name, str(entry.path), why)


# ---- edit -----------------------------------------------------------------------------------
def edit(
    entry: Entry,
    changes: Mapping[str, Any],
    *,
    expected_sha256: str | None = None,
    user_folder: Path | None = None,
) -> dict[str, Any]:
    """Apply `changes` (see `check_changes`) to the entry's file, in place and atomically;
    returns the new `manifest_file` record. `user_folder` is named in a built-in's refusal."""
    _require_editable(entry, user_folder)
    wanted = check_changes(changes)
    text = read_manifest(entry.path)
    _check_unchanged(entry.path, text, expected_sha256)
    new_text = apply_changes(text, wanted, file=str(entry.path))
    if new_text != text:
        write_atomic(entry.path, new_text, guard=sha256_text(text))
    return manifest_file(entry)


def _check_unchanged(path: Path, text: str, expected: str | None) -> None:
    found = sha256_text(text)
    if expected is not None and found != expected.strip().lower():
        raise ManifestChanged(str(path), expected, found)


def check_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """The changes, checked and normalized (texts stripped, an empty license removes it):
    `description` (text), `modality` (a list of MODALITIES), `tags` (a list of texts), `license`
    (text, or None to remove it). InvalidEdit names the first bad key or value."""
    if not isinstance(changes, Mapping):
        raise InvalidEdit(f"changes: expected a mapping of {_allowed()}, got {_short(changes)}")
    wanted: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            raise InvalidEdit(
                "name: a dataset's name cannot be changed (it keys its data and index); save a "
                "copy under the new name and delete this one"
            )
        if key not in EDITABLE:
            raise InvalidEdit(f"{key!r} cannot be edited here; the keys that can: {_allowed()}")
        if key in ("description", "license"):
            if not (isinstance(value, str) or (key == "license" and value is None)):
                kind = "text, or null to remove it" if key == "license" else "text"
                raise InvalidEdit(f"{key}: expected {kind}, got {_short(value)}")
            value = value.strip() if value is not None else None
            wanted[key] = None if key == "license" and not value else value
            continue
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
            raise InvalidEdit(f"{key}: expected a list of texts, got {_short(value)}")
        items = [v.strip() for v in value]
        bad = [v for v in items if (key == "modality" and v not in MODALITIES) or not v]
        if bad:
            what = "an empty tag" if not bad[0] else f"{bad[0]!r} is not a modality"
            fix = "remove it" if not bad[0] else f"use {', '.join(MODALITIES)}"
            raise InvalidEdit(f"{key}: {what}; {fix}")
        wanted[key] = items
    return wanted


def _allowed() -> str:
    return ", ".join(EDITABLE)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def apply_changes(text: str, changes: Mapping[str, Any], *, file: str = "<manifest>") -> str:
    """The manifest text with `changes` (already checked) made, validated; pure. A key set to
    the value it has is left alone (no line changes). InvalidManifest when the new text does
    not validate (the problems name `file`)."""
    root = _compose(text, file)
    current = parse_text(text, file)
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), applied from the end
    for key, value in changes.items():
        have = getattr(current, key)
        if value == have or (key == "license" and value is None and have is None):
            continue
        edits.append(_edit_for(text, root, key, value))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    try:
        result = parse_text(text, file)
    except ManifestError as exc:
        raise InvalidManifest(exc.problems) from None
    for key, value in changes.items():
        if getattr(result, key) != value:  # pragma: no cover - the rendering is checked above
            raise PygestorError(f"{file}: {key} could not be written so that it reads back as set")
    return text


def _yaml() -> Any:
    """A round-trip ruamel.yaml instance; a missing ruamel is one line saying what to install."""
    try:
        from ruamel.yaml import YAML
    except ImportError:
        raise PygestorError(
            "editing manifests needs ruamel.yaml: pip install 'pygestor[ui]'"
        ) from None
    yaml = YAML(typ="rt")
    yaml.width = 1_000_000  # never fold a long line
    yaml.allow_unicode = True
    return yaml


def _compose(text: str, file: str) -> Any:
    """The top-level mapping node of the text (positions and styles); the text is valid (it
    passed `parse_text`), a top level in flow style (`{...}`) cannot be spliced."""
    yaml = _yaml()
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.nodes import MappingNode

    try:
        root = yaml.compose(text)
    except YAMLError as exc:  # PyYAML read it (it is valid), ruamel.yaml does not
        what = " ".join(str(exc).split())[:200]
        raise InvalidEdit(f"{file}: ruamel.yaml cannot read it ({what}); edit it by hand") from None
    if not isinstance(root, MappingNode) or root.flow_style or not root.value:
        raise InvalidEdit(
            f"{file}: the top level is not a block mapping (one key per line); edit it by hand"
        )
    return root


def _edit_for(text: str, root: Any, key: str, value: Any) -> tuple[int, int, str]:
    """(start, end, replacement) that sets `key` to `value` (None removes it)."""
    pairs = {str(k.value): (k, v) for k, v in root.value}
    newline = "\r\n" if "\r\n" in text else "\n"
    if key in pairs:
        key_node, value_node = pairs[key]
        start, end = key_node.start_mark.index, _content_end(text, value_node)
        if value is None:  # the key's lines, with the end-of-line comment of its last one
            line_end = text.find("\n", end)
            return _line_start(text, start), len(text) if line_end < 0 else line_end + 1, ""
        rendered = _render(key, value, text, value_node, key_node.start_mark.column)
        return start, end, rendered.replace("\n", newline)
    if value is None:
        return 0, 0, ""
    before = KEY_ORDER[: KEY_ORDER.index(key)]
    earlier = [v for k, v in root.value if str(k.value) in before]
    rendered = _render(key, value, text, None, 0).replace("\n", newline)
    if not earlier:
        first = _line_start(text, root.value[0][0].start_mark.index)
        return first, first, rendered + newline
    end = _content_end(text, earlier[-1])
    line_end = text.find("\n", end)
    if line_end < 0:
        return len(text), len(text), newline + rendered + newline
    return line_end + 1, line_end + 1, rendered + newline


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _content_end(text: str, node: Any) -> int:
    """Where a value's own text ends: a block collection ends with its last child, a block
    scalar before the line breaks it takes; end-of-line comments are after it."""
    while getattr(node, "flow_style", None) is False and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return int(end)


def _render(key: str, value: Any, text: str, old: Any, column: int) -> str:
    """`key: value` as ruamel.yaml writes it, in the style of the old value node (quotes of a
    text, flow or block list and its indentation); a new list is a flow list, `[a, b]`."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    yaml = _yaml()
    data = CommentedMap()
    if isinstance(value, list):
        styles = {getattr(item, "style", None) for item in getattr(old, "value", None) or []}
        item_style = styles.pop() if len(styles) == 1 else None
        seq = CommentedSeq(_scalar(v, item_style) for v in value)
        block = old is not None and old.flow_style is False and value
        if block:
            first = old.value[0].start_mark
            prefix = text[_line_start(text, first.index) : first.index]
            dash = len(prefix.rstrip()) - 1  # the column of '-'
            yaml.indent(mapping=2, sequence=max(first.column - column, 2), offset=dash - column)
        else:
            seq.fa.set_flow_style()
        data[key] = seq
    else:
        data[key] = _scalar(value, getattr(old, "style", None))
    out = io.StringIO()
    yaml.dump(data, out)
    lines = out.getvalue().rstrip("\r\n").split("\n")
    return "\n".join([lines[0], *(" " * column + line for line in lines[1:])])


def _scalar(value: str, style: str | None) -> Any:
    """`value` as a ruamel scalar of `style` (None: plain when PyYAML would read it back as text,
    as `parse_text` does — YAML 1.1 reads `yes` or `1.0` otherwise — else double-quoted)."""
    from ruamel.yaml import scalarstring as s

    kinds = {
        '"': s.DoubleQuotedScalarString,
        "'": s.SingleQuotedScalarString,
        "|": s.LiteralScalarString,
        ">": s.FoldedScalarString,
    }
    if style in kinds:
        return kinds[style](value)
    import yaml

    tag = yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))
    return value if tag == "tag:yaml.org,2002:str" else s.DoubleQuotedScalarString(value)


# ---- check, save, delete --------------------------------------------------------------------
def check_text(
    text: str, entries: Mapping[str, Entry], *, file: str = "<editor>", path: Path | None = None
) -> list[Problem]:
    """The problems `pygestor validate` would print for `text` as a file named `file`, plus a
    name another user manifest already defines (one other than `path`, the file the text is or
    would be; shadowing a built-in manifest is no problem)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_MANIFEST_BYTES:  # as a file would be
        return [Problem(file, None, "", too_large())]
    try:
        manifest = parse_text(text, file)
    except ManifestError as exc:
        return list(exc.problems)
    other = entries.get(manifest.name)
    if path is None and not file.startswith("<"):
        path = Path(file)
    if other is None or other.builtin or (path is not None and _same(other.path, path)):
        return []
    return [duplicate_problem(file, text_key_line(text, "name"), manifest.name, other.path)]


def _same(a: Path, b: Path) -> bool:
    with contextlib.suppress(OSError):
        return a.resolve() == b.resolve() or os.path.samefile(a, b)
    return False


def save(text: str, folder: Path, entries: Mapping[str, Entry], *, overwrite: bool = False) -> Path:
    """Write valid manifest text to `folder/<name>.yaml` (folder created), create-only unless
    `overwrite`. InvalidManifest (any problem of `check_text`, a name another user manifest
    defines included), ManifestExists; returns the path written."""
    try:
        name = parse_text(text, "<editor>").name
    except ManifestError as exc:
        raise InvalidManifest(exc.problems) from None
    if not DATASET_NAME.fullmatch(name) or not is_safe_relpath(name):  # pragma: no cover
        raise InvalidEdit(f"name: {name!r} is not a safe file name")
    target = folder / f"{name}.yaml"
    problems = check_text(text, entries, path=target)
    if problems:
        raise InvalidManifest(problems)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise ReadOnlyManifest(name, str(target), "is not a regular file; remove it first")
    if target.exists() and not overwrite:
        raise ManifestExists(str(target))
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(target, text, create=not overwrite)
    return target


def delete(entry: Entry, *, user_folder: Path | None = None) -> str:
    """Delete a user manifest's file (ReadOnlyManifest for a built-in one); returns its path."""
    if entry.builtin:
        _require_editable(entry, user_folder)
    try:
        entry.path.unlink()
    except OSError as exc:
        raise ReadOnlyManifest(
            entry.manifest.name, str(entry.path), f"cannot be deleted: {exc.strerror or exc}"
        ) from None
    return str(entry.path)


def write_atomic(path: Path, text: str, *, guard: str | None = None, create: bool = False) -> None:
    """Write `text` to `path` through a temporary file beside it (fsync, then rename), keeping
    the file's mode. `guard`: the sha256 the file must still have just before the rename
    (ManifestChanged otherwise); `create`: never replace an existing file (ManifestExists)."""
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)  # the umask does not narrow it
            os.fsync(handle.fileno())
        if create:
            _link(tmp, path, text)
        else:
            with _locked(path if guard is not None else None):
                if guard is not None:
                    _check_unchanged(path, read_manifest(path), guard)
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_folder(folder)


@contextlib.contextmanager
def _locked(path: Path | None) -> Iterator[None]:
    """Hold an exclusive lock on the file now at `path` (the inode, which the rename replaces):
    a second writer that opened it first waits, then finds the new text and its sha256 changed,
    so of two concurrent edits one is refused, never lost."""
    if path is None:
        yield
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on POSIX: the check before the rename remains
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _link(tmp: Path, path: Path, text: str) -> None:
    """Give the written `tmp` the name `path` unless that name exists (ManifestExists); where
    hard links are not supported, create `path` exclusively and write it."""
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise ManifestExists(str(path)) from None
    except OSError:  # no hard links here (some network and FAT file systems)
        pass
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ManifestExists(str(path)) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(text.encode("utf-8"))
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Path patterns and name templates of manifests: pure text in, compiled matchers out.

Pattern syntax (matched against a whole `/`-separated path relative to the source root):

- `{name}` captures the shortest non-empty text inside one path segment that lets the rest
  of the pattern match (never a `/`);
- `{name:REGEX}` captures text matching REGEX, still inside one segment
  (`c4-{lang:[a-z]+}.tfrecord-*` keeps `c4-ko-validation.tfrecord-...` out);
- `*` matches any text inside one segment, `?` one character other than `/`;
- `**` as a whole segment matches zero or more folders (`data/**/*.parquet`), or everything
  below when it ends the pattern (`data/**`).

Everything else is literal. Name templates (`{config}.{split}`) substitute captures; their
literal text must itself be safe in a name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

MAX_PATTERN_LENGTH = 1024
MAX_REGEX_LENGTH = 256
MAX_NAME_LENGTH = 200

#: Subset and partition names (each path segment of one): safe as a folder or file name.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
#: Dataset names: the catalog key.
DATASET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")


class PatternError(ValueError):
    """A pattern or template that can never match or name anything; the message says why."""


@dataclass(frozen=True)
class Pattern:
    """A compiled path pattern."""

    text: str
    regex: re.Pattern[str]
    fields: tuple[str, ...]
    prefix: str  # the literal folders before the first wildcard, e.g. "data/" for "data/{x}/*"

    def match(self, path: str) -> dict[str, str] | None:
        """The captures if `path` matches the whole pattern, else None."""
        m = self.regex.fullmatch(path)
        if m is None:
            return None
        captures = m.groupdict()
        if any("/" in value for value in captures.values()):
            return None
        return captures


def compile_pattern(text: str, *, placeholders: bool = True) -> Pattern:
    """Compile a manifest path pattern; raises PatternError naming what is wrong and the fix."""
    _check_path_shape(text)
    parts: list[str] = []
    fields: list[str] = []
    first_wild: int | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if not placeholders:
                raise PatternError(f"placeholders like {{name}} are not allowed here: {text!r}")
            end = _closing_brace(text, i)
            parts.append(_placeholder_regex(text[i + 1 : end], fields, text))
        elif ch == "}":
            raise PatternError(f"'}}' without a matching '{{' at position {i} in {text!r}")
        elif ch == "*":
            end, star = _star(text, i)
            parts.append(star)
        elif ch == "?":
            parts.append("[^/]")
        else:
            parts.append(re.escape(ch))
        if first_wild is None and ch in "{*?":
            first_wild = i
        i = (end if ch in "{*" else i) + 1
    prefix = text if first_wild is None else text[: text.rfind("/", 0, first_wild) + 1]
    try:
        compiled = re.compile("".join(parts), re.DOTALL)
    except re.error as exc:  # a user regex that is valid alone can still clash here
        raise PatternError(f"pattern {text!r} does not compile: {exc}") from None
    return Pattern(text=text, regex=compiled, fields=tuple(fields), prefix=prefix)


def _check_path_shape(text: str) -> None:
    """Checks on the pattern with its placeholders blanked out (a regex may hold '/' or '\\')."""
    if not isinstance(text, str) or not text.strip():
        raise PatternError(
            "empty pattern; write a path relative to the source root, e.g. 'data/*.parquet'"
        )
    if len(text) > MAX_PATTERN_LENGTH:
        raise PatternError(
            f"pattern is {len(text)} characters long; the limit is {MAX_PATTERN_LENGTH}"
        )
    if any(ord(c) < 32 for c in text):
        raise PatternError(f"pattern {text!r} contains a control character")
    skeleton = _blank_placeholders(text)
    if "\\" in skeleton:
        raise PatternError(f"pattern {text!r} contains '\\'; separate folders with '/'")
    if text.startswith("/") or re.match(r"[A-Za-z]:", text):
        raise PatternError(f"pattern {text!r} is absolute; write it relative to the source root")
    if skeleton.endswith("/"):
        raise PatternError(f"pattern {text!r} ends with '/'; match files, e.g. {text + '*'!r}")
    for segment in skeleton.split("/"):
        if segment == "":
            raise PatternError(f"pattern {text!r} has an empty path segment ('//'); remove it")
        if segment in (".", ".."):
            raise PatternError(f"pattern {text!r} has {segment!r} as a path segment; remove it")


def _blank_placeholders(text: str) -> str:
    """`text` with each balanced `{...}` replaced by `x` (unbalanced braces are left as they
    are)."""
    out, depth = [], 0
    for ch in text:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append("x")
        elif ch == "}" and depth:
            depth -= 1
        elif not depth:
            out.append(ch)
    return "".join(out)


def _closing_brace(text: str, start: int) -> int:
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    raise PatternError(f"'{{' at position {start} is never closed in {text!r}")


def _placeholder_regex(body: str, fields: list[str], text: str) -> str:
    name, sep, user_regex = body.partition(":")
    if not _FIELD.fullmatch(name):
        raise PatternError(
            f"placeholder {{{body}}} in {text!r} needs a name of letters, digits and '_', "
            "like {subset} or {lang:[a-z]+}"
        )
    if name in fields:
        raise PatternError(f"placeholder {{{name}}} appears twice in {text!r}; rename one")
    fields.append(name)
    if not sep:
        return f"(?P<{name}>[^/]+?)"
    if not user_regex or len(user_regex) > MAX_REGEX_LENGTH:
        raise PatternError(
            f"placeholder {{{name}:...}} in {text!r} needs a regular expression of 1 to "
            f"{MAX_REGEX_LENGTH} characters"
        )
    if _NAMED_GROUP.search(user_regex):
        raise PatternError(
            f"placeholder {{{name}:...}} in {text!r} may not define its own named groups"
        )
    try:
        re.compile(user_regex)
    except re.error as exc:
        raise PatternError(
            f"placeholder {{{name}:{user_regex}}} in {text!r}: bad regular expression: {exc}"
        ) from None
    return f"(?P<{name}>(?:{within_segment(user_regex)}))"


_NAMED_GROUP = re.compile(r"\(\?P?<(?![=!])")
_SLASHLESS_ESCAPES = {"S": r"[^\s/]", "W": r"[^\w/]", "D": r"[^\d/]"}


def within_segment(regex: str) -> str:
    """Rewrite a user regex so that it cannot match '/': `.` -> `[^/]`, `[^x]` -> `[^x/]`,
    `\\S`/`\\W`/`\\D` -> their classes without '/'. (A class that lists '/' itself is the
    user's choice; such a capture is still refused after matching.)"""
    out: list[str] = []
    i, in_class, negated, class_start = 0, False, False, False
    while i < len(regex):
        ch = regex[i]
        if ch == "\\" and i + 1 < len(regex):
            nxt = regex[i + 1]
            out.append(_SLASHLESS_ESCAPES.get(nxt, ch + nxt) if not in_class else ch + nxt)
            i += 2
            continue
        if in_class:
            if ch == "]" and not class_start:
                if negated:
                    out.append("/")
                in_class = False
            out.append(ch)
            class_start = False
        elif ch == "[":
            in_class, negated = True, regex.startswith("[^", i)
            out.append("[^" if negated else "[")
            i += 2 if negated else 1
            class_start = True  # a ']' right after '[' or '[^' is a literal
            continue
        else:
            out.append("[^/]" if ch == "." else ch)
        i += 1
    return "".join(out)


def _star(text: str, i: int) -> tuple[int, str]:
    """(index of the last character consumed, regex) for a `*` or `**` at position i."""
    if not text.startswith("**", i):
        return i, "[^/]*"
    at_start = i == 0 or text[i - 1] == "/"
    after = i + 2
    if not at_start or (after < len(text) and text[after] != "/") or text.startswith("***", i):
        raise PatternError(
            f"'**' must be a whole path segment, as in 'data/**/*.parquet': {text!r}"
        )
    if after == len(text):
        return after - 1, ".*"
    return after, "(?:[^/]+/)*"  # consumes the following '/'


@dataclass(frozen=True)
class Template:
    """A name template such as `{config}.{split}` or a fixed name such as `train`."""

    text: str
    fields: tuple[str, ...]

    def render(self, captures: Mapping[str, str]) -> str:
        return _TEMPLATE_FIELD.sub(lambda m: safe_name(captures[m.group(1)]), self.text)


_TEMPLATE_FIELD = re.compile(r"\{([^{}]*)\}")


def compile_template(text: str) -> Template:
    """Compile a subset-name template; raises PatternError when it cannot give a safe name."""
    if not text:
        raise PatternError(
            "empty name; give a name like 'train' or a template like '{config}.{split}'"
        )
    fields: list[str] = []
    for m in _TEMPLATE_FIELD.finditer(text):
        if not _FIELD.fullmatch(m.group(1)):
            raise PatternError(f"template {text!r}: {{{m.group(1)}}} is not a placeholder name")
        fields.append(m.group(1))
    literal = _TEMPLATE_FIELD.sub("x", text)
    if "{" in literal or "}" in literal:
        raise PatternError(f"template {text!r} has an unmatched brace")
    if not SAFE_NAME.fullmatch(literal):
        raise PatternError(
            f"name {text!r} would not be a safe name: use letters, digits, '.', '_' and '-', "
            "not starting with '.' or '-'"
        )
    return Template(text=text, fields=tuple(fields))


def safe_name(value: str) -> str:
    """Make a captured value safe as a name: unsafe runs become '_', no leading '.' or '-'."""
    cleaned = _UNSAFE_RUN.sub("_", value).lstrip(".-")
    return cleaned[:MAX_NAME_LENGTH] or "_"


def is_safe_relpath(path: str) -> bool:
    """True when every segment of a relative path is a safe name (so it cannot escape a folder)."""
    return all(SAFE_NAME.fullmatch(seg) and len(seg) <= MAX_NAME_LENGTH for seg in path.split("/"))

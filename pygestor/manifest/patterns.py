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

Matching takes time linear in the length of the path whatever the pattern, so a placeholder
regex such as `(a+)+$`, or several adjacent wildcards, cannot make a sync hang: a pattern with at
most one way to match a path (`_unique_match`: the common shapes) runs on Python's `re`, every
other on RE2 (`google-re2`), which never backtracks. The pattern is written in Python's `re`
syntax and checked by `re` (its error messages); the RE2 program is generated from `re`'s parse
of it (`_Re2Writer`), so `\\d`, `\\w` and `\\s` keep Python's Unicode meaning. What has no
linear-time form (backreferences, lookarounds, atomic groups, possessive quantifiers) is refused
with a line saying so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import import_module
from typing import Any

MAX_PATTERN_LENGTH = 1024
MAX_REGEX_LENGTH = 256
MAX_NAME_LENGTH = 200

#: Subset and partition names (each path segment of one): safe as a folder or file name.
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
#: Dataset names: the catalog key.
DATASET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]*")
_FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSAFE_RUN = re.compile(r"[^A-Za-z0-9._-]+")
#: The parser behind `re.compile` and its constants (Python 3.11+): RE2's form is written from it.
_re_parse: Any = import_module("re._parser")
k: Any = import_module("re._constants")


class PatternError(ValueError):
    """A pattern or template that can never match or name anything; the message says why."""


class LinearRegex:
    """A regular expression in RE2 syntax, matched in time linear in the text (RE2 runs no
    backtracking). `fullmatch` returns the named groups' texts, or None."""

    __slots__ = ("_anchor", "_groups", "_program", "pattern")

    def __init__(self, pattern: str) -> None:
        # The binding's own `re2.compile(...).fullmatch` costs ~20 us a call in Python code;
        # its RE2 object (`re2._re2`, pinned by `google-re2>=1.1,<2`) answers in ~2 us.
        import re2

        options = re2.Options()
        options.log_errors = False  # RE2 would print to stderr; the error is raised instead
        self.pattern = pattern
        self._program: Any = re2._re2.RE2(pattern.encode("utf-8"), options)
        if not self._program.ok():
            raise re2.error(self._program.error().decode("utf-8", "replace"))
        self._anchor = re2._re2.RE2.Anchor.ANCHOR_BOTH
        self._groups = tuple(
            (name.decode("ascii"), index)
            for name, index in sorted(self._program.NamedCapturingGroups(), key=lambda g: g[1])
        )

    def fullmatch(self, text: str) -> dict[str, str] | None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: no file has such a name
            return None
        spans = self._program.Match(self._anchor, data, 0, len(data))
        if spans[0][0] < 0:
            return None
        if len(data) == len(text):  # ASCII: byte offsets are character offsets
            return {name: text[spans[i][0] : spans[i][1]] for name, i in self._groups}
        return {name: data[spans[i][0] : spans[i][1]].decode() for name, i in self._groups}


class _PythonRegex:
    """Python's `re` for a pattern of `_unique_match` shape: as fast as `re`, and as linear as
    RE2 there, since each path has at most one way to match."""

    __slots__ = ("_regex", "pattern")

    def __init__(self, regex: re.Pattern[str]) -> None:
        self._regex, self.pattern = regex, regex.pattern

    def fullmatch(self, text: str) -> dict[str, str] | None:
        m = self._regex.fullmatch(text)
        return None if m is None else m.groupdict()


#: A placeholder regex that is a list of words (`train|validation`): a choice, not a wildcard.
_WORDS = re.compile(r"[A-Za-z0-9_-]+(?:\|[A-Za-z0-9_-]+)*")
#: The most ways a pattern on Python's `re` may have to match one path (its choices multiplied).
MAX_BACKTRACKING_WAYS = 64


def _unique_match(text: str) -> bool:
    """Whether Python's backtracking matches `text` in time linear in the path: `**` only as the
    last segment, at most one `*` or `{name}` in each segment, and placeholder regexes only as
    lists of words (`{split:train|test}`) whose choices multiply to at most
    MAX_BACKTRACKING_WAYS. Neither `*` nor `{name}` can match '/', so once the choices are
    fixed the literal rest of a segment fixes where its one wildcard ends: a path has at most
    that many ways to match, each tried in linear time. Every other shape goes to RE2."""
    ways, skeleton, i = 1, [], 0
    while i < len(text):
        if text[i] != "{":
            skeleton.append(text[i])
            i += 1
            continue
        end = text.find("}", i)
        _, sep, regex = text[i + 1 : end].partition(":")
        if end < 0 or (sep and not _WORDS.fullmatch(regex)):
            return False
        ways *= regex.count("|") + 1
        skeleton.append("=" if sep else "{")
        i = end + 1
    segments = "".join(skeleton).split("/")
    return ways <= MAX_BACKTRACKING_WAYS and all(
        (seg == "**" and n == len(segments) - 1) or seg.count("*") + seg.count("{") <= 1
        for n, seg in enumerate(segments)
    )


@dataclass(frozen=True)
class Pattern:
    """A compiled path pattern."""

    text: str
    regex: re.Pattern[str]  # Python's form, to show and test; matching uses `linear` (RE2)
    fields: tuple[str, ...]
    prefix: str  # the literal folders before the first wildcard, e.g. "data/" for "data/{x}/*"
    linear: LinearRegex | _PythonRegex = field(repr=False, compare=False)
    slash_regex: bool = False  # a placeholder regex lists '/' itself (its captures are checked)

    def match(self, path: str) -> dict[str, str] | None:
        """The captures if `path` matches the whole pattern, else None (linear time)."""
        captures = self.linear.fullmatch(path)
        if captures is None:
            return None
        if self.slash_regex and any("/" in value for value in captures.values()):
            return None
        return captures

    def matches(self, path: str) -> bool:
        """Whether `path` matches the whole pattern (an `exclude` glob's test)."""
        return self.match(path) is not None


@lru_cache(maxsize=1024)
def compile_pattern(text: str, *, placeholders: bool = True) -> Pattern:
    """Compile a manifest path pattern; raises PatternError naming what is wrong and the fix."""
    _check_path_shape(text)
    parts: list[str] = []  # Python's syntax
    linear: list[str] = []  # RE2's
    fields: list[str] = []
    slash = [False]  # whether a placeholder regex can match '/' (set by _placeholder_regex)
    first_wild: int | None = None
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "{":
            if not placeholders:
                raise PatternError(f"placeholders like {{name}} are not allowed here: {text!r}")
            end = _closing_brace(text, i)
            python, re2_form = _placeholder_regex(text[i + 1 : end], fields, text, slash)
            parts.append(python)
            linear.append(re2_form)
        elif ch == "}":
            raise PatternError(f"'}}' without a matching '{{' at position {i} in {text!r}")
        elif ch == "*":
            end, star = _star(text, i)
            parts.append(star)
            linear.append(star)
        elif ch == "?":
            parts.append("[^/]")
            linear.append("[^/]")
        else:
            parts.append(re.escape(ch))
            linear.append(_re2_literal(ord(ch)))
        if first_wild is None and ch in "{*?":
            first_wild = i
        i = (end if ch in "{*" else i) + 1
    prefix = text if first_wild is None else text[: text.rfind("/", 0, first_wild) + 1]
    try:
        compiled = re.compile("".join(parts), re.DOTALL)
    except re.error as exc:  # a user regex that is valid alone can still clash here
        raise PatternError(f"pattern {text!r} does not compile: {exc}") from None
    if _unique_match(text):
        return Pattern(text, compiled, tuple(fields), prefix, _PythonRegex(compiled))
    import re2

    try:
        matcher = LinearRegex("(?s)" + "".join(linear))
    except re2.error as exc:  # e.g. a program over RE2's memory budget, a count over 1000
        raise PatternError(
            f"pattern {text!r} is too large for the matcher ({exc}); simplify its regexes"
        ) from None
    return Pattern(text, compiled, tuple(fields), prefix, matcher, slash_regex=slash[0])


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


def _placeholder_regex(
    body: str, fields: list[str], text: str, slash: list[bool]
) -> tuple[str, str]:
    """(Python's form, RE2's form) of one placeholder; sets slash[0] if its regex can match
    '/'."""
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
        return f"(?P<{name}>[^/]+?)", f"(?P<{name}>[^/]+?)"
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
        tree = _re_parse.parse(user_regex)
    except re.error as exc:
        raise PatternError(
            f"placeholder {{{name}:{user_regex}}} in {text!r}: bad regular expression: {exc}"
        ) from None
    except RecursionError:
        raise PatternError(
            f"placeholder {{{name}:...}} in {text!r}: the regular expression nests too deeply"
        ) from None
    writer = _Re2Writer()
    try:
        re2_form = writer.write(tree)
    except _Unsupported as exc:
        raise PatternError(f"placeholder {name!r} regex {user_regex!r} in {text!r} {exc}") from None
    slash[0] = slash[0] or writer.slash
    return (
        f"(?P<{name}>(?:{within_segment(user_regex)}))",
        f"(?P<{name}>(?:{re2_form}))",
    )


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


class _Unsupported(Exception):
    """A construct of Python's regex syntax that RE2 cannot run: what it is, and the fix."""

    def __init__(self, what: str, fix: str = "rewrite it without") -> None:
        super().__init__(f"uses {what}, which the linear-time matcher cannot run; {fix}")


def _re2_literal(code: int) -> str:
    ch = chr(code)
    return ch if ch.isascii() and (ch.isalnum() or ch == "_") else f"\\x{{{code:x}}}"


#: Python's `\\d`, `\\w`, `\\s` on text are Unicode classes; RE2's are ASCII: these are Python's.
_DIGIT, _WORD = r"\p{Nd}", r"\p{L}\p{N}_"
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}"


class _Re2Writer:
    """RE2 syntax for a regex parsed by Python's `re` parser, with a placeholder's rule that a
    capture stays inside one path segment: `.` and negated classes never match '/' (as
    `within_segment` does for Python's form). `slash`: whether it wrote a '/' that can match."""

    def __init__(self) -> None:
        self.slash = False

    def write(self, tree: Any) -> str:
        return "".join(self._item(op, av) for op, av in tree)

    def _item(self, op: Any, av: Any) -> str:
        if op is k.LITERAL:
            self.slash = self.slash or av == ord("/")
            return _re2_literal(av)
        if op is k.NOT_LITERAL:
            return f"[^{_re2_literal(av)}/]"
        if op is k.ANY:
            return "[^/]"
        if op is k.IN:
            return self._class(av)
        if op is k.BRANCH:
            return "(?:" + "|".join(self.write(branch) for branch in av[1]) + ")"
        if op is k.SUBPATTERN:
            _, add, remove, sub = av
            return f"(?{self._flags(add, remove)}:{self.write(sub)})"
        if op in (k.MAX_REPEAT, k.MIN_REPEAT):
            low, high, sub = av
            if low > 1000 or (high is not k.MAXREPEAT and high > 1000):
                raise _Unsupported("a repeat count over 1000")
            count = f"{{{low},}}" if high is k.MAXREPEAT else f"{{{low},{high}}}"
            return f"(?:{self.write(sub)}){count}" + ("?" if op is k.MIN_REPEAT else "")
        if op is k.AT:
            return {
                k.AT_BEGINNING: "^",
                k.AT_BEGINNING_STRING: r"\A",
                k.AT_END: "$",
                k.AT_END_STRING: r"\z",
                k.AT_BOUNDARY: r"\b",
                k.AT_NON_BOUNDARY: r"\B",
            }[av]
        raise _Unsupported(_UNSUPPORTED.get(str(op), str(op).lower().replace("_", " ")))

    def _flags(self, add: int, remove: int) -> str:
        letters = {re.IGNORECASE: "i", re.MULTILINE: "m", re.DOTALL: "s"}
        if (add | remove) & re.ASCII:
            raise _Unsupported("the ASCII flag (?a)")
        on = "".join(v for f, v in letters.items() if add & f)
        off = "".join(v for f, v in letters.items() if remove & f)
        return on + (f"-{off}" if off else "")

    def _class(self, items: Any) -> str:
        negated, positive, negative, slash = False, list[str](), list[str](), False
        for op, av in items:
            if op is k.NEGATE:
                negated = True
            elif op is k.LITERAL:
                positive.append(_re2_literal(av))
                slash = slash or av == ord("/")
            elif op is k.RANGE:
                positive.append(f"{_re2_literal(av[0])}-{_re2_literal(av[1])}")
                slash = slash or av[0] <= ord("/") <= av[1]
            elif op is k.CATEGORY:
                category = {
                    k.CATEGORY_DIGIT: (_DIGIT, True),
                    k.CATEGORY_WORD: (_WORD, True),
                    k.CATEGORY_SPACE: (_SPACE, True),
                    k.CATEGORY_NOT_DIGIT: (_DIGIT, False),
                    k.CATEGORY_NOT_WORD: (_WORD, False),
                    k.CATEGORY_NOT_SPACE: (_SPACE, False),
                }[av]
                (positive if category[1] else negative).append(category[0])
            else:
                raise _Unsupported(str(op).lower().replace("_", " ") + " in a class")
        if not negative:
            self.slash = self.slash or (slash and not negated)
            return f"[^{''.join(positive)}/]" if negated else f"[{''.join(positive)}]"
        if len(negative) == 1 and not positive and not negated:
            return f"[^{negative[0]}/]"
        raise _Unsupported(r"\D, \W or \S beside other characters in [...]", "list them out")


_UNSUPPORTED = {
    "GROUPREF": "a backreference",
    "GROUPREF_EXISTS": "a conditional group (?(...)...)",
    "ASSERT": "a lookahead or lookbehind",
    "ASSERT_NOT": "a negative lookahead or lookbehind",
    "ATOMIC_GROUP": "an atomic group (?>...)",
    "POSSESSIVE_REPEAT": "a possessive quantifier",
}


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
    return _SAFE_RELPATH(path) is not None


#: `is_safe_relpath` as one regex (SAFE_NAME segments of at most MAX_NAME_LENGTH characters):
#: resolving a listing asks it of every name
_SAFE_RELPATH = re.compile(
    rf"(?:[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}/)*"
    rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}"
).fullmatch

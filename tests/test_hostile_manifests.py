"""Hostile manifests never hang and never give a traceback (issue 9, section 4).

YAML hazards (alias bombs, alias loops, deep nesting, odd tags, huge numbers, odd files) are each
one line naming the file and line; path patterns match in time linear in the path (RE2, or
Python's `re` where a pattern has one way to match); and hypothesis fuzzes manifests, their
mutations and path lists. The fuzz tests run a bounded, derandomized number of examples by
default; `-m fuzz` runs the long versions (more examples, fresh random seeds).
"""

from __future__ import annotations

import itertools
import json
import os
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO_ROOT, make_settings, run_cli, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import ManifestError
from pygestor.manifest import patterns
from pygestor.manifest.discovery import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    discover_paths,
    parse_file,
    parse_text,
)
from pygestor.manifest.patterns import PatternError, compile_pattern, within_segment
from pygestor.resolve import resolve
from pygestor.sources.base import RemoteFile

HEAD = "name: x\nsource: {huggingface: a/b}\nsubsets:\n  - files: '{subset}/*.parquet'\n"
BUILTIN = sorted((REPO_ROOT / "catalog").glob("*.yaml"))


def billion_laughs(levels: int = 9) -> str:
    """The classic alias bomb: level n is a list of nine aliases of level n-1 (9**9 leaves)."""
    names = string.ascii_lowercase[:levels]
    lines = [f'{names[0]}: &{names[0]} ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\nname: bomb\n"


def problem_lines(text: str, file: str = "m.yaml") -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_text(text, file)
    return [str(p) for p in info.value.problems]


def timed(call: Callable[[], Any], limit: float = 2.0) -> Any:
    start = time.perf_counter()
    result = call()
    elapsed = time.perf_counter() - start
    assert elapsed < limit, f"took {elapsed:.2f} s"
    return result


# --- YAML hazards: one line each ----------------------------------------------------------------


def test_alias_bomb_is_refused_in_one_line_at_once() -> None:
    text = billion_laughs()
    assert len(text.encode()) < 500
    lines = timed(lambda: problem_lines(text), 0.5)
    assert lines == [
        f"m.yaml:5: too many YAML aliases (*d here takes what they expand to past "
        f"{MAX_ALIAS_EXPANSION:,} values and characters); manifests do not need anchors this "
        "deep: write the repeated part out"
    ]


def test_alias_bomb_in_a_catalog_does_not_slow_list(tmp_path: Path) -> None:
    write_manifest(tmp_path / "cat", "bomb", billion_laughs())
    env = {"PYGESTOR_CATALOG": str(tmp_path / "cat")}
    listed = timed(lambda: run_cli(["list"], env=env, timeout=30), 10)
    assert listed.returncode == 0, listed.stderr
    assert "mnist" in listed.stdout
    bomb = tmp_path / "cat" / "bomb.yaml"
    assert listed.stderr == (
        f"WARNING: skipping an invalid manifest: {bomb}:5: too many YAML aliases (*d here takes "
        f"what they expand to past {MAX_ALIAS_EXPANSION:,} values and characters); manifests do "
        "not need anchors this deep: write the repeated part out\n"
    )
    checked = run_cli(["validate", str(bomb)], timeout=30)
    assert checked.returncode == 1
    assert checked.stderr.count("\n") == 1 and "Traceback" not in checked.stderr


def test_small_anchors_shared_by_rules_keep_working() -> None:
    text = (
        "name: shared\n"
        "source: {huggingface: a/b}\n"
        "subsets:\n"
        '  - files: "data/{subset}/*.parquet"\n'
        '    exclude: &skip ["**/_*", "**/*.tmp.parquet"]\n'
        "    description: &what Sharded train files\n"
        '  - files: "extra/{subset}/*.parquet"\n'
        "    exclude: *skip\n"
        "    description: *what\n"
    )
    manifest = parse_text(text)
    assert [r.exclude for r in manifest.subsets] == [["**/_*", "**/*.tmp.parquet"]] * 2
    assert [r.description for r in manifest.subsets] == ["Sharded train files"] * 2
    anchored_source = (
        "name: x\nsource: &src {huggingface: a/b, revision: v1}\n"
        "subsets:\n  - files: '{subset}/*.parquet'\n"
    )
    assert parse_text(anchored_source).source.describe() == "hf://datasets/a/b@v1"


def test_no_builtin_manifest_or_doc_example_needs_anchors() -> None:
    """The budget is generous because nothing shipped uses anchors at all."""
    for path in BUILTIN:
        events = list(yaml.parse(path.read_text(), Loader=yaml.SafeLoader))
        assert not any(isinstance(e, yaml.AliasEvent) for e in events), path


def test_alias_loop_is_one_line() -> None:
    assert problem_lines(HEAD + "extra: &a [1, *a]\n") == [
        "m.yaml:5: YAML alias *a is inside its own anchor (a loop); write the value out"
    ]
    assert problem_lines("description: &d {x: *d}\n" + HEAD) == [
        "m.yaml:1: YAML alias *d is inside its own anchor (a loop); write the value out"
    ]


def test_deep_nesting_is_one_line() -> None:
    deep = HEAD + "extra: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    assert problem_lines(deep) == [
        f"m.yaml:5: nested more than {MAX_DEPTH} levels deep; a manifest needs a few"
    ]
    deeper = HEAD + "extra: " + "[" * 5000 + "]" * 5000 + "\n"  # libyaml's own limit is 1000
    [line] = timed(lambda: problem_lines(deeper))
    assert line.startswith("m.yaml:5: invalid YAML: ") and "nesting depth" in line


def test_deep_nesting_without_libyaml_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pure-Python loader recurses: its RecursionError is caught and reported."""
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    [line] = problem_lines(HEAD + "extra: " + "[" * 1100 + "]" * 1100 + "\n")
    assert line.startswith("m.yaml: invalid YAML: maximum recursion depth exceeded")
    assert problem_lines(billion_laughs())[0].startswith("m.yaml:5: too many YAML aliases")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("!!python/object:os.system {}", "!!python/object:os.system"),
        ("!!python/name:os.system", "!!python/name:os.system"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!!set {a, b}", "!!set"),
        ("!custom x", "!custom"),
    ],
)
def test_tags_other_than_plain_ones_are_one_line(value: str, shown: str) -> None:
    assert problem_lines(HEAD + f"license: {value}\n") == [
        f"m.yaml:5: YAML tag {shown} is not allowed in a manifest; remove it (text, numbers, "
        "true/false, lists and mappings only)"
    ]


def test_huge_number_is_one_line_not_a_value_error() -> None:
    """Python refuses to convert ints of more than 4300 digits with a ValueError."""
    assert problem_lines(HEAD + "load: {columns: [1" + "0" * 5000 + "]}\n") == [
        "m.yaml:5: a number of 5001 characters; the limit is 100"
    ]


def test_keys_yaml_reads_as_other_types_are_named() -> None:
    assert problem_lines(HEAD + "~: 1\n") == [
        "m.yaml:5: ~: YAML reads this key as null, not text; quote it"
    ]
    assert problem_lines(HEAD + "load: {dtypes: {on: int32}}\n") == [
        "m.yaml:5: load.dtypes.on: YAML reads this key as bool, not text; quote it"
    ]


def test_forbidden_character_is_one_line() -> None:
    assert problem_lines(HEAD.replace("name: x", "name: x\x00")) == [
        "m.yaml:1: invalid YAML: character U+0000 is not allowed in YAML text; remove it"
    ]


def test_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(HEAD.encode() + b"description: caf\xe9\n")
    with pytest.raises(ManifestError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}:5: not UTF-8 text (byte 0xe9); save the file as UTF-8"


def test_fifo_and_device_are_refused_without_reading(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # a read would block forever
    for path in (fifo, Path("/dev/zero")):  # /dev/zero would never end
        _, _, problems = timed(lambda p=path: discover_paths([p], builtin=tmp_path / "none"))
        assert [str(p) for p in problems] == [
            f"{path}: not a regular file; give a .yaml file or a folder of them"
        ]


def test_oversized_text_is_refused_before_parsing() -> None:
    text = HEAD + "description: '" + "x" * 1_000_001 + "'\n"
    assert timed(lambda: problem_lines(text), 0.5) == [
        "m.yaml: larger than 1,000,000 bytes, far more than a manifest needs; is this the right "
        "file?"
    ]


# --- patterns: linear time ----------------------------------------------------------------------


def rule_manifest(*patterns_: str) -> Any:
    rules = "".join(f"  - files: {p!r}\n    name: r{i}\n" for i, p in enumerate(patterns_))
    return parse_text(f"name: x\nsource: {{huggingface: a/b}}\nsubsets:\n{rules}")


@pytest.mark.parametrize(
    ("pattern", "path"),
    [
        ("x/{x:(a+)+$}", "x/" + "a" * 5000 + "b"),  # exponential in Python's re
        ("{x:(a|a)+}", "a" * 5000 + "b"),
        ("{x:(a*)*b}", "a" * 5000),
        ("{a}{b}{c}{d}x", "a" * 5000),  # O(n**4) in Python's re
        ("*a*a*a*a*a*a*b", "a" * 5000),
        ("**/**/**/x/*.parquet", "/".join("a" * 3000)),
        ("{a}-{b}-{c}-{d}.json", "-" * 5000),
    ],
)
def test_catastrophic_shapes_match_in_linear_time(pattern: str, path: str) -> None:
    manifest = timed(lambda: rule_manifest(pattern), 1.0)  # validate accepts it: it is bounded
    files = [RemoteFile(f"{path}{i}", 1) for i in range(200)]
    result = timed(lambda: resolve(manifest, files))
    assert result.subsets == () and len(result.unmatched) == 200


def test_catastrophic_regex_syncs_a_local_folder_quickly(tmp_path: Path) -> None:
    """End to end: `{x:(a+)+$}` used to pass validate and hang sync on such names."""
    root = tmp_path / "corpus"
    (root / "x").mkdir(parents=True)
    for i in range(50):
        (root / "x" / ("a" * 200 + f"b{i}")).write_bytes(b"")
    (root / "x" / "aaa").write_bytes(b"1")
    write_manifest(
        tmp_path / "user-catalog",
        "hostile",
        f"name: hostile\nsource: {{local: {root}}}\nsubsets:\n"
        "  - files: 'x/{n:(a+)+$}'\n    name: as\nformat: text\n",
    )
    catalog = Catalog(make_settings(tmp_path))
    assert catalog.validate().ok
    [result] = timed(lambda: catalog.sync("hostile"))
    assert (result.subsets, result.partitions, len(result.unmatched)) == (1, 1, 50)


@pytest.mark.parametrize(
    ("regex", "what"),
    [
        (r"(a)\1", "a backreference"),
        ("(?=a)a", "a lookahead or lookbehind"),
        ("(?!b)a", "a negative lookahead or lookbehind"),
        ("(?<=-)[0-9]+", "a lookahead or lookbehind"),
        ("(?>a)", "an atomic group (?>...)"),
        ("a++", "a possessive quantifier"),
        ("(a)(?(1)b|c)", "a conditional group (?(...)...)"),
    ],
)
def test_constructs_without_a_linear_time_match_are_refused(regex: str, what: str) -> None:
    text = f"x/{{v:{regex}}}.txt"
    with pytest.raises(PatternError) as info:
        compile_pattern(text)
    assert str(info.value) == (
        f"placeholder 'v' regex {regex!r} in {text!r} uses {what}, which the linear-time matcher "
        "cannot run; rewrite it without"
    )
    [line] = problem_lines(
        f"name: x\nsource: {{huggingface: a/b}}\nsubsets:\n  - files: {json.dumps(text)}\n"
    )
    assert line.startswith("m.yaml:4: subsets[0].files: placeholder 'v' regex ")


def test_class_mixing_negated_shorthand_and_too_large_programs_are_refused() -> None:
    with pytest.raises(PatternError, match=r"uses \\D, \\W or \\S beside other characters in"):
        compile_pattern(r"{v:[\W\d]+}")
    with pytest.raises(PatternError) as info:
        compile_pattern("{v:(a{1000}){1000}}")
    assert str(info.value) == (
        "pattern '{v:(a{1000}){1000}}' is too large for the matcher (invalid repetition size: "
        "{1000,1000}); simplify its regexes"
    )


@pytest.mark.parametrize(
    ("regex", "path", "captured"),
    [
        (r"\d+", "x/٣٣.txt", "٣٣"),  # Unicode digits, as in Python's re
        (r"\w+", "x/日本語.txt", "日本語"),
        (r"\S+", "x/a b.txt", None),
        (r"[^a]+", "x/bc.txt", "bc"),
        (r"(?i:abc)", "x/ABC.txt", "ABC"),
        (r"a{,2}b", "x/aab.txt", "aab"),
        (".+", "x/a/b.txt", None),  # never crosses '/'
        (r"[^a]+", "x/b/c.txt", None),
        (r"\W", "x///.txt", None),
        ("[a-z/]+", "x/ab/cd.txt", None),  # a class listing '/' is refused after matching
    ],
)
def test_regex_placeholders_keep_python_meaning(
    regex: str, path: str, captured: str | None
) -> None:
    pattern = compile_pattern(f"x/{{v:{regex}}}.txt")
    assert pattern.match(path) == (None if captured is None else {"v": captured})


def test_regex_anchors_keep_python_meaning() -> None:
    assert compile_pattern(r"{v:\Aab\Z}").match("ab") == {"v": "ab"}
    assert compile_pattern(r"{v:^a|b$}").match("b") == {"v": "b"}
    assert compile_pattern(r"x{v:\Aab}").match("xab") is None


# --- fuzzing ------------------------------------------------------------------------------------

#: The default, bounded runs: fixed examples, no example database written into the repo.
FAST = settings(
    max_examples=40,
    derandomize=True,
    deadline=2000,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
#: `-m fuzz`: many more examples from a fresh seed each run.
LONG = settings(FAST, max_examples=2000, derandomize=False)

_SCALARS = st.one_of(
    st.sampled_from(
        ["x", "a/b", "main", "{subset}/*.parquet", "parquet", "jsonl", "text", "~", "yes", "1e400"]
    ),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12).map(
        lambda s: yaml.safe_dump(s, default_style='"').strip()
    ),
)
_PATTERN_BITS = st.sampled_from(
    [
        "{subset}",
        "{a}",
        "{b:[a-z]+}",
        "{c:(a+)+$}",
        "{d:\\d{2,4}}",
        "*",
        "**",
        "?",
        "data",
        "/",
        "-",
        ".parquet",
        "{e:(?=x)}",
        "{",
        "}",
        "{f:train|test}",
        "\\",
        "..",
        "{g:[^/]+}",
        "é",
    ]
)
_PATTERNS = st.lists(_PATTERN_BITS, min_size=1, max_size=8).map("".join)
_KEYS = st.sampled_from(
    [
        "name",
        "description",
        "source",
        "huggingface",
        "local",
        "revision",
        "subsets",
        "files",
        "exclude",
        "format",
        "load",
        "columns",
        "dtypes",
        "decode",
        "modality",
        "license",
        "extra",
    ]
)


def _yaml_value(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(_SCALARS, _PATTERNS.map(lambda p: yaml.safe_dump(p).splitlines()[0]))
    if depth == 0:
        return leaf
    inner = _yaml_value(depth - 1)
    return st.one_of(
        leaf,
        st.lists(inner, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.lists(st.tuples(_KEYS, inner), max_size=4).map(
            lambda kv: "{" + ", ".join(f"{k}: {v}" for k, v in kv) + "}"
        ),
    )


@st.composite
def manifest_texts(draw: st.DrawFn) -> str:
    """YAML texts built from manifest-like fragments: top-level keys with flow values, a subsets
    list of rules, and now and then anchors, aliases, tags, tabs and stray characters."""
    lines = [f"name: {draw(st.sampled_from(['x', 'ok-1', 'Bad Name', '']))}"]
    lines.append(draw(st.sampled_from(["source: {huggingface: a/b}", "source: {local: /tmp}", ""])))
    lines.append("subsets:")
    for _ in range(draw(st.integers(0, 3))):
        lines.append(f"  - files: {yaml.safe_dump(draw(_PATTERNS)).splitlines()[0]}")
        if draw(st.booleans()):
            lines.append(f"    {draw(_KEYS)}: {draw(_yaml_value(2))}")
    for _ in range(draw(st.integers(0, 4))):
        lines.append(f"{draw(_KEYS)}: {draw(_yaml_value(2))}")
    if draw(st.booleans()):
        lines.append(f"extra: &a {draw(_yaml_value(2))}")
        lines.append(f"{draw(_KEYS)}: " + draw(st.sampled_from(["*a", "[*a, *a]", "*b", "&b *a"])))
    extras = st.sampled_from(["", "\t", "!!binary", "\x00", "---", "? [a]\n: 1", "- x", "&c"])
    lines.insert(draw(st.integers(0, len(lines))), draw(extras))
    return "\n".join(lines) + "\n"


def check_validates(text: str) -> None:
    """Either a manifest or problems of one line each; never another exception, never slow."""
    start = time.perf_counter()
    try:
        parse_text(text, "f.yaml")
    except ManifestError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert "\n" not in str(problem) and str(problem).startswith("f.yaml")
    assert time.perf_counter() - start < 2.0


@FAST
@given(manifest_texts())
def test_fuzz_manifest_texts(text: str) -> None:
    check_validates(text)


@pytest.mark.fuzz
@LONG
@given(manifest_texts())
def test_fuzz_manifest_texts_long(text: str) -> None:
    check_validates(text)


def _mutate(data: Any, draw: st.DrawFn) -> Any:
    """One random change deep inside a parsed manifest: drop, duplicate, retype or replace."""
    if isinstance(data, dict) and data:
        key = draw(st.sampled_from(sorted(data)))
        action = draw(st.sampled_from(["drop", "rename", "recurse", "replace"]))
        if action == "drop":
            return {k: v for k, v in data.items() if k != key}
        if action == "rename":
            return {**data, draw(_KEYS): data[key]}
        if action == "recurse":
            return {**data, key: _mutate(data[key], draw)}
        return {**data, key: draw(_ODD_VALUES)}
    if isinstance(data, list) and data:
        i = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["recurse", "duplicate", "drop"]))
        if action == "duplicate":
            return [*data, data[i]]
        if action == "drop":
            return data[:i] + data[i + 1 :]
        return [*data[:i], _mutate(data[i], draw), *data[i + 1 :]]
    return draw(_ODD_VALUES)


_ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    _PATTERNS,
    st.lists(_PATTERNS, max_size=3),
    st.dictionaries(_KEYS, st.text(max_size=5), max_size=3),
    st.just("x" * 2000),
)


@st.composite
def mutated_builtins(draw: st.DrawFn) -> str:
    path = draw(st.sampled_from(BUILTIN))
    data = yaml.safe_load(path.read_text())
    for _ in range(draw(st.integers(1, 3))):
        data = _mutate(data, draw)
    try:
        text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False)
    except yaml.YAMLError:
        text = path.read_text()
    if draw(st.booleans()):  # text-level damage too: a duplicated or dropped line, an anchor
        lines = text.splitlines()
        i = draw(st.integers(0, max(0, len(lines) - 1)))
        op = draw(st.sampled_from(["dup", "drop", "anchor", "indent"]))
        if lines and op == "dup":
            lines.insert(i, lines[i])
        elif lines and op == "drop":
            del lines[i]
        elif op == "anchor":
            lines += ["x1: &z [1, 2, 3]", "x2: [*z, *z, *z]"]
        elif lines:
            lines[i] = "   " + lines[i]
        text = "\n".join(lines) + "\n"
    return text


@FAST
@given(mutated_builtins())
def test_fuzz_mutated_builtin_manifests(text: str) -> None:
    check_validates(text)


@pytest.mark.fuzz
@LONG
@given(mutated_builtins())
def test_fuzz_mutated_builtin_manifests_long(text: str) -> None:
    check_validates(text)


_PATH_CHARS = st.sampled_from([*"aab-_.x/é1", "train", "test", ".parquet", "data/"])
_PATHS = st.lists(_PATH_CHARS, min_size=1, max_size=40).map("".join)


@st.composite
def rules_and_paths(draw: st.DrawFn) -> tuple[Any, list[str]]:
    while True:
        rules = draw(st.lists(_PATTERNS, min_size=1, max_size=3))
        try:
            manifest = rule_manifest(*rules)
            break
        except ManifestError:
            continue
    paths = draw(st.lists(_PATHS, max_size=40, unique=True))
    if draw(st.booleans()):  # long names against the same rules
        paths += [p * draw(st.integers(50, 200)) for p in paths[:5]]
    return manifest, paths


def check_resolves(manifest: Any, paths: list[str]) -> None:
    start = time.perf_counter()
    result = resolve(manifest, [RemoteFile(p, 1) for p in paths])
    assert time.perf_counter() - start < 2.0
    placed = [p.file.path for s in result.subsets for p in s.partitions]
    skipped = [path for path, _ in result.skipped]
    assert sorted(placed + list(result.unmatched) + skipped) == sorted(set(paths))


@FAST
@given(rules_and_paths())
def test_fuzz_paths_against_random_rules(case: tuple[Any, list[str]]) -> None:
    check_resolves(*case)


@pytest.mark.fuzz
@LONG
@given(rules_and_paths())
def test_fuzz_paths_against_random_rules_long(case: tuple[Any, list[str]]) -> None:
    check_resolves(*case)


# Differential: RE2 must give Python's answers (match or not, and every capture) wherever
# Python's re can answer quickly.

_ATOMS = st.sampled_from(
    [
        "a",
        "b",
        "-",
        ".",
        r"\d",
        r"\w",
        r"\s",
        r"\S",
        r"\D",
        "[a-c]",
        "[^a]",
        "[^-]",
        "(?:a|b)",
        "(?:ab|a)",
        "(a|)",
        "[0-9]",
        "é",
        r"\.",
        "(?i:A)",
        "[_x-z]",
    ]
)
_QUANT = st.sampled_from(["", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{,2}"])
_REGEXES = st.lists(st.tuples(_ATOMS, _QUANT).map("".join), min_size=1, max_size=4).map("".join)
_TEXTS = st.lists(st.sampled_from(list("ab-.1é _/xA٣")), max_size=10).map("".join)


def python_answer(pattern_text: str, path: str) -> dict[str, str] | None:
    m = compile_pattern(pattern_text).regex.fullmatch(path)
    if m is None or any("/" in v for v in m.groupdict().values()):
        return None
    return m.groupdict()


def check_agrees(regexes: list[str], sep: str, text: str) -> None:
    pattern_text = "x/" + sep.join(f"{{v{i}:{r}}}" for i, r in enumerate(regexes))
    try:
        pattern = _re2_twin(pattern_text)
    except PatternError:
        return
    assert isinstance(pattern.linear, patterns.LinearRegex)
    assert pattern.match("x/" + text) == python_answer(pattern_text, "x/" + text)
    assert within_segment(regexes[0]) in pattern.regex.pattern


_REGEX_CASES = (
    st.lists(_REGEXES, min_size=1, max_size=3),
    st.sampled_from(["", "-", "_", "."]),
    _TEXTS,
)


@FAST
@given(*_REGEX_CASES)
def test_fuzz_re2_agrees_with_python_re(regexes: list[str], sep: str, text: str) -> None:
    check_agrees(regexes, sep, text)


@pytest.mark.fuzz
@LONG
@given(*_REGEX_CASES)
def test_fuzz_re2_agrees_with_python_re_long(regexes: list[str], sep: str, text: str) -> None:
    check_agrees(regexes, sep, text)


_GLOB_BITS = st.sampled_from(
    ["a", "b", "-", ".", "*", "?", "{p}", "{q}", "/", "x", "**", "{r:a|ab}", "{s:b|ba|x}"]
)


_GLOB_CASES = (
    st.lists(_GLOB_BITS, min_size=1, max_size=8).map("".join),
    st.lists(_TEXTS, max_size=4),
)


def check_fast_path(text: str, segments: list[str]) -> None:
    """Patterns of `_unique_match` shape run on Python's re; RE2 must give the same answers."""
    try:
        fast = compile_pattern(text)
    except PatternError:
        return
    forced = _re2_twin(text)
    for path in ["/".join(segments), *("/".join(segments[:n]) for n in range(len(segments)))]:
        if path:
            assert fast.match(path) == forced.match(path), path


@FAST
@given(*_GLOB_CASES)
def test_fuzz_python_fast_path_agrees_with_re2(text: str, segments: list[str]) -> None:
    check_fast_path(text, segments)


@pytest.mark.fuzz
@LONG
@given(*_GLOB_CASES)
def test_fuzz_python_fast_path_agrees_with_re2_long(text: str, segments: list[str]) -> None:
    check_fast_path(text, segments)


def _re2_twin(text: str) -> Any:
    """The same pattern compiled for RE2 even where `_unique_match` would pick Python's re."""
    original = patterns._unique_match
    compile_pattern.cache_clear()
    try:
        patterns._unique_match = lambda _text: False
        return compile_pattern(text)
    finally:
        patterns._unique_match = original
        compile_pattern.cache_clear()


def test_unique_match_shapes_run_on_python_and_the_rest_on_re2() -> None:
    fast = ("data/{subset}/*.parquet", "{a}/x-?-*.json", "data/**", "*", "{s:train|test}-*.parquet")
    for text in fast:
        assert not isinstance(compile_pattern(text).linear, patterns.LinearRegex), text
    many = "/".join(f"{{w{i}:a|b|c}}" for i in range(4))  # 81 ways
    for text in ("{a}-{b}.txt", "data/**/*.parquet", "*a*", "{x:[a-z]+}", "{x:a.b|c}", many):
        assert isinstance(compile_pattern(text).linear, patterns.LinearRegex), text


def test_cli_validate_on_fuzzed_files_is_one_line_each(tmp_path: Path) -> None:
    """A few generated hostile files through the real command: exit 1, one line per problem."""
    texts = [
        billion_laughs(),
        HEAD + "extra: &a [*a]\n",
        HEAD + "license: !!python/object:os.system {}\n",
        "name: x\nsource: {huggingface: a/b}\nsubsets:\n  - files: 'x/{v:(a)\\1}'\n",
        HEAD + "load: {columns: [1" + "0" * 5000 + "]}\n",
    ]
    for i, text in enumerate(texts):
        write_manifest(tmp_path / "hostile", f"m{i}", text)
    result = timed(lambda: run_cli(["validate", str(tmp_path / "hostile")], timeout=30), 10)
    assert result.returncode == 1
    lines = result.stderr.splitlines() + result.stdout.splitlines()
    assert "Traceback" not in result.stderr
    problem_files = sorted(
        line.split(":", 1)[0] for line in lines if line.startswith(str(tmp_path))
    )
    assert problem_files == [str(tmp_path / "hostile" / f"m{i}.yaml") for i in range(5)]

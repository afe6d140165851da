"""Tests of pygestor.manifest.patterns: path patterns, name templates, safe names (pure, no I/O)."""

from __future__ import annotations

import pytest

from pygestor.manifest.patterns import (
    MAX_NAME_LENGTH,
    MAX_PATTERN_LENGTH,
    MAX_REGEX_LENGTH,
    SAFE_NAME,
    PatternError,
    compile_pattern,
    compile_template,
    is_safe_relpath,
    safe_name,
)


def error_of(text: str, **kwargs: bool) -> str:
    with pytest.raises(PatternError) as info:
        compile_pattern(text, **kwargs)
    return str(info.value)


def template_error_of(text: str) -> str:
    with pytest.raises(PatternError) as info:
        compile_template(text)
    return str(info.value)


# --- {name}: one or more characters, lazily, inside one segment ---------------------------------


def test_placeholder_captures_a_folder_name() -> None:
    p = compile_pattern("{subset}/train-*.parquet")
    assert p.fields == ("subset",)
    assert p.match("20231101.en/train-00000-of-00041.parquet") == {"subset": "20231101.en"}
    assert p.match("20231101.en/test-00000-of-00041.parquet") is None


def test_placeholder_is_lazy() -> None:
    p = compile_pattern("{a}-{b}.txt")
    assert p.match("x-y-z.txt") == {"a": "x", "b": "y-z"}
    # the lazy capture stops at the first '-' that lets the rest match
    mmlu = compile_pattern("{subject}/{split}-*.parquet")
    assert mmlu.match("all/auxiliary_train-00000-of-00001.parquet") == {
        "subject": "all",
        "split": "auxiliary_train",
    }
    assert mmlu.match("abstract_algebra/test-00000-of-00001.parquet") == {
        "subject": "abstract_algebra",
        "split": "test",
    }


def test_placeholder_never_crosses_a_slash() -> None:
    p = compile_pattern("{subset}.parquet")
    assert p.match("en.parquet") == {"subset": "en"}
    assert p.match("a/en.parquet") is None
    assert compile_pattern("data/{subset}/x.parquet").match("data/a/b/x.parquet") is None


def test_placeholder_needs_at_least_one_character() -> None:
    p = compile_pattern("c4-{split}.json.gz")
    assert p.match("c4-.json.gz") is None
    assert p.match("c4-t.json.gz") == {"split": "t"}


def test_fields_in_pattern_order() -> None:
    assert compile_pattern("{config}/c4-{split}.*.json.gz").fields == ("config", "split")
    assert compile_pattern("data/*.parquet").fields == ()


# --- {name:REGEX} ------------------------------------------------------------------------------


def test_regex_placeholder_keeps_validation_out() -> None:
    p = compile_pattern("multilingual/c4-{lang:[a-z]+}.tfrecord-*")
    assert p.match("multilingual/c4-ko.tfrecord-00000-of-01024.json.gz") == {"lang": "ko"}
    assert p.match("multilingual/c4-ko-validation.tfrecord-00000-of-00008.json.gz") is None
    assert p.regex.pattern == r"multilingual/c4\-(?P<lang>(?:[a-z]+))\.tfrecord\-[^/]*"


def test_regex_with_braces() -> None:
    p = compile_pattern("{d:[0-9]{8}}.{lang}/train-*.parquet")
    assert p.fields == ("d", "lang")
    assert p.match("20231101.en/train-00000-of-00041.parquet") == {"d": "20231101", "lang": "en"}
    assert p.match("2023110.en/train-00000-of-00041.parquet") is None
    assert p.match("202311011.en/train-00000-of-00041.parquet") is None


def test_regex_must_match_its_whole_capture() -> None:
    p = compile_pattern("{n:[0-9]+}.txt")
    assert p.match("123.txt") == {"n": "123"}
    assert p.match("12a.txt") is None


def test_regex_alternation_is_grouped() -> None:
    # without the (?:...) around the user's regex, 'train|test' would split the whole pattern
    p = compile_pattern("mnist/{subset:train|test}-*.parquet")
    assert p.match("mnist/train-00000-of-00001.parquet") == {"subset": "train"}
    assert p.match("mnist/test-00000-of-00001.parquet") == {"subset": "test"}
    assert p.match("train") is None
    assert p.match("mnist/other-00000-of-00001.parquet") is None


def test_backslash_is_allowed_inside_a_regex() -> None:
    p = compile_pattern(r"{subset:[0-9]{8}\.[a-z]+}/{n:\d+}.parquet")
    assert p.match("20231101.en/7.parquet") == {"subset": "20231101.en", "n": "7"}
    assert p.match("20231101xen/7.parquet") is None


def test_regex_capture_that_would_contain_a_slash_does_not_match() -> None:
    p = compile_pattern("{a:.+}/x.txt")
    assert p.match("p/x.txt") == {"a": "p"}
    assert p.match("p/q/x.txt") is None


def test_regex_placeholder_before_double_star_stays_in_its_segment() -> None:
    p = compile_pattern("data/{lang:.+}/**/*.parquet")
    assert p.match("data/rus_Cyrl/train/000_00000.parquet") == {"lang": "rus_Cyrl"}


# --- *, **, ? and literals ---------------------------------------------------------------------


def test_star_stays_inside_one_segment() -> None:
    p = compile_pattern("data/*.parquet")
    assert p.match("data/a.parquet") == {}
    assert p.match("data/.parquet") == {}  # '*' may match nothing
    assert p.match("data/x/a.parquet") is None
    assert p.match("data/a.parquet.tmp") is None


def test_double_star_matches_zero_or_more_folders() -> None:
    p = compile_pattern("data/**/*.parquet")
    assert p.match("data/a.parquet") == {}
    assert p.match("data/x/a.parquet") == {}
    assert p.match("data/x/y/z/a.parquet") == {}
    assert p.match("other/a.parquet") is None
    assert p.match("data.parquet") is None
    assert p.match("database/a.parquet") is None


def test_double_star_at_the_start() -> None:
    p = compile_pattern("**/README.md")
    assert p.match("README.md") == {}
    assert p.match("a/b/README.md") == {}
    assert p.match("a/bREADME.md") is None


def test_double_star_at_the_end_matches_everything_below() -> None:
    p = compile_pattern("data/**")
    assert p.match("data/a") == {}
    assert p.match("data/x/y/z.json") == {}
    assert p.match("data") is None
    assert p.match("database/x") is None
    assert compile_pattern("**").match("any/thing/at/all.bin") == {}


def test_double_star_with_a_placeholder_after_it() -> None:
    p = compile_pattern("**/{split}-*.parquet")
    assert p.match("a/b/train-0.parquet") == {"split": "train"}
    assert p.match("test-0.parquet") == {"split": "test"}


def test_question_mark_is_one_character_other_than_slash() -> None:
    p = compile_pattern("file?.txt")
    assert p.match("file1.txt") == {}
    assert p.match("file.txt") is None
    assert p.match("file12.txt") is None
    assert p.match("file/.txt") is None


@pytest.mark.parametrize(
    ("pattern", "same", "different"),
    [
        ("a.b+(c).txt", "a.b+(c).txt", "aXb+(c).txt"),
        ("a.b+(c).txt", "a.b+(c).txt", "a.bb(c).txt"),
        ("a.b+(c).txt", "a.b+(c).txt", "a.bc.txt"),
        ("[ab].txt", "[ab].txt", "a.txt"),
        ("x|y^$.txt", "x|y^$.txt", "x.txt"),
    ],
)
def test_everything_else_is_literal(pattern: str, same: str, different: str) -> None:
    p = compile_pattern(pattern)
    assert p.match(same) == {}
    assert p.match(different) is None


def test_literals_are_escaped_in_the_regex() -> None:
    assert compile_pattern("a.b+(c)?.txt").regex.pattern == r"a\.b\+\(c\)[^/]\.txt"
    assert compile_pattern("data/**/*.parquet").regex.pattern == r"data/(?:[^/]+/)*[^/]*\.parquet"
    assert compile_pattern("data/**").regex.pattern == "data/.*"


# --- prefix --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("data/{subset}/*.parquet", "data/"),
        ("{subset}/train-*.parquet", ""),
        ("data/CC-MAIN-*/x.parquet", "data/"),
        ("sample/10BT/*.parquet", "sample/10BT/"),
        ("a/b/file?.txt", "a/b/"),
        ("data/x{a}/y.parquet", "data/"),
        ("data/**", "data/"),
        ("data/**/*.parquet", "data/"),
        ("**/x.parquet", ""),
        ("databricks-dolly-15k.jsonl", "databricks-dolly-15k.jsonl"),
        ("a/b/c.txt", "a/b/c.txt"),
        ("{d:[0-9]{8}}/x", ""),
    ],
)
def test_prefix_is_the_fixed_folders_before_the_first_wildcard(pattern: str, prefix: str) -> None:
    assert compile_pattern(pattern).prefix == prefix


# --- rejections ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("", "empty pattern; write a path relative to the source root, e.g. 'data/*.parquet'"),
        ("   ", "empty pattern; write a path relative to the source root, e.g. 'data/*.parquet'"),
        ("/x", "pattern '/x' is absolute; write it relative to the source root"),
        (
            "/data/*.parquet",
            "pattern '/data/*.parquet' is absolute; write it relative to the source root",
        ),
        ("C:/x", "pattern 'C:/x' is absolute; write it relative to the source root"),
        ("a/../b", "pattern 'a/../b' has '..' as a path segment; remove it"),
        ("../b", "pattern '../b' has '..' as a path segment; remove it"),
        ("./a", "pattern './a' has '.' as a path segment; remove it"),
        ("a/./b", "pattern 'a/./b' has '.' as a path segment; remove it"),
        ("a/..", "pattern 'a/..' has '..' as a path segment; remove it"),
        ("a//b", "pattern 'a//b' has an empty path segment ('//'); remove it"),
        ("a/", "pattern 'a/' ends with '/'; match files, e.g. 'a/*'"),
        (
            "data/{subset}/",
            "pattern 'data/{subset}/' ends with '/'; match files, e.g. 'data/{subset}/*'",
        ),
        ("a\\b", "pattern 'a\\\\b' contains '\\'; separate folders with '/'"),
        ("{a", "'{' at position 0 is never closed in '{a'"),
        ("data/{x/", "'{' at position 5 is never closed in 'data/{x/'"),
        ("data/{d:[0-9]{8}/x", "'{' at position 5 is never closed in 'data/{d:[0-9]{8}/x'"),
        ("a}", "'}' without a matching '{' at position 1 in 'a}'"),
        ("{a}}", "'}' without a matching '{' at position 3 in '{a}}'"),
        (
            "{}",
            (
                "placeholder {} in '{}' needs a name of letters, digits and '_', "
                "like {subset} or {lang:[a-z]+}"
            ),
        ),
        (
            "{1a}/x",
            (
                "placeholder {1a} in '{1a}/x' needs a name of letters, digits and '_', "
                "like {subset} or {lang:[a-z]+}"
            ),
        ),
        (
            "{a-b}/x",
            (
                "placeholder {a-b} in '{a-b}/x' needs a name of letters, digits and '_', "
                "like {subset} or {lang:[a-z]+}"
            ),
        ),
        (
            "{ a}/x",
            (
                "placeholder { a} in '{ a}/x' needs a name of letters, digits and '_', "
                "like {subset} or {lang:[a-z]+}"
            ),
        ),
        ("{a}/{a}.parquet", "placeholder {a} appears twice in '{a}/{a}.parquet'; rename one"),
        ("{a}/{a:[0-9]+}", "placeholder {a} appears twice in '{a}/{a:[0-9]+}'; rename one"),
        (
            "{a:}",
            "placeholder {a:...} in '{a:}' needs a regular expression of 1 to 256 characters",
        ),
        (
            "{a:[}/x",
            (
                "placeholder {a:[} in '{a:[}/x': bad regular expression: "
                "unterminated character set at position 0"
            ),
        ),
        (
            "{a:(?P<x>a)}",
            "placeholder {a:...} in '{a:(?P<x>a)}' may not define its own named groups",
        ),
        ("a**", "'**' must be a whole path segment, as in 'data/**/*.parquet': 'a**'"),
        ("**a", "'**' must be a whole path segment, as in 'data/**/*.parquet': '**a'"),
        (
            "data/**.parquet",
            "'**' must be a whole path segment, as in 'data/**/*.parquet': 'data/**.parquet'",
        ),
        ("a/***/b", "'**' must be a whole path segment, as in 'data/**/*.parquet': 'a/***/b'"),
        ("a\tb", "pattern 'a\\tb' contains a control character"),
    ],
)
def test_rejected_patterns(pattern: str, message: str) -> None:
    assert error_of(pattern) == message


def test_pattern_length_limit() -> None:
    assert MAX_PATTERN_LENGTH == 1024
    assert compile_pattern("a" * 1024).match("a" * 1024) == {}
    assert error_of("a" * 1025) == "pattern is 1025 characters long; the limit is 1024"


def test_regex_length_limit() -> None:
    assert MAX_REGEX_LENGTH == 256
    ok = "{a:" + "a" * 256 + "}"
    assert compile_pattern(ok).match("a" * 256) == {"a": "a" * 256}
    too_long = "{a:" + "a" * 257 + "}"
    assert error_of(too_long) == (
        f"placeholder {{a:...}} in {too_long!r} needs a regular expression of 1 to 256 characters"
    )


def test_placeholders_can_be_refused() -> None:
    assert error_of("{subset}/x", placeholders=False) == (
        "placeholders like {name} are not allowed here: '{subset}/x'"
    )
    assert compile_pattern("data/test-*", placeholders=False).match("data/test-1") == {}


def test_lookbehind_is_not_a_named_group_but_has_no_linear_time_match() -> None:
    assert error_of("part-{n:(?<=-)[0-9]+}.txt") == (
        "placeholder 'n' regex '(?<=-)[0-9]+' in 'part-{n:(?<=-)[0-9]+}.txt' uses a lookahead or "
        "lookbehind, which the linear-time matcher cannot run; rewrite it without"
    )


# --- templates -----------------------------------------------------------------------------------


def test_template_joins_captures() -> None:
    t = compile_template("{config}.{split}")
    assert t.fields == ("config", "split")
    assert t.render({"config": "en", "split": "validation"}) == "en.validation"
    assert t.render({"config": "abstract_algebra", "split": "test"}) == "abstract_algebra.test"


def test_template_keeps_dashes_in_captures_and_literals() -> None:
    assert compile_template("sample-{size}").render({"size": "10BT"}) == "sample-10BT"
    assert compile_template("{subset}").render({"subset": "CC-MAIN-2024-10"}) == "CC-MAIN-2024-10"


def test_fixed_name_template() -> None:
    t = compile_template("train")
    assert t.fields == ()
    assert t.render({}) == "train"
    assert t.render({"ignored": "x"}) == "train"


def test_template_render_sanitizes_captures() -> None:
    t = compile_template("{lang}")
    assert t.render({"lang": "lang=en"}) == "lang_en"
    assert t.render({"lang": ".."}) == "_"
    assert compile_template("x.{a}").render({"a": "b/c"}) == "x.b_c"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "empty name; give a name like 'train' or a template like '{config}.{split}'"),
        ("{a-b}", "template '{a-b}': {a-b} is not a placeholder name"),
        ("{}", "template '{}': {} is not a placeholder name"),
        ("{a}{", "template '{a}{' has an unmatched brace"),
        ("x}", "template 'x}' has an unmatched brace"),
    ],
)
def test_rejected_templates(template: str, message: str) -> None:
    assert template_error_of(template) == message


@pytest.mark.parametrize("template", ["a/b", ".hidden", "-x", "{a} b", "{a}/{b}", "a:b", "é"])
def test_unsafe_literal_in_template_is_rejected(template: str) -> None:
    assert template_error_of(template) == (
        f"name {template!r} would not be a safe name: use letters, digits, '.', '_' and '-', "
        "not starting with '.' or '-'"
    )


# --- safe_name and is_safe_relpath -------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en", "en"),
        ("CC-MAIN-2024-10", "CC-MAIN-2024-10"),
        ("20231101.en", "20231101.en"),
        ("lang=en", "lang_en"),
        ("a b c", "a_b_c"),
        ("a  =b", "a_b"),
        ("a/b", "a_b"),
        ("..", "_"),
        (".", "_"),
        ("", "_"),
        (".hidden", "hidden"),
        ("-x", "x"),
        ("._-x", "_-x"),
        ("é", "_"),
        ("x" * 300, "x" * MAX_NAME_LENGTH),
    ],
)
def test_safe_name(value: str, expected: str) -> None:
    assert safe_name(value) == expected
    assert SAFE_NAME.fullmatch(safe_name(value))


@pytest.mark.parametrize(
    "path",
    ["a", "a/b.parquet", "CC-MAIN-2024-10/000_00000.parquet", "_x", "a..b", "x" * 200],
)
def test_safe_relpaths(path: str) -> None:
    assert is_safe_relpath(path) is True


@pytest.mark.parametrize(
    "path",
    [
        "",
        "..",
        ".",
        "a/../b",
        "../a",
        ".hidden",
        "a/.b",
        "a//b",
        "/a",
        "a/",
        "-a",
        "a b",
        "a\\b",
        "x" * 201,
    ],
)
def test_unsafe_relpaths(path: str) -> None:
    assert is_safe_relpath(path) is False

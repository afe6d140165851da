"""Validation errors pinned to file, line and field; catalog scans over folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pygestor.errors import ManifestError, Problem
from pygestor.manifest.discovery import discover, parse_file, parse_text

C_LOADER = hasattr(yaml, "CSafeLoader")  # the catalog parses with libyaml when it is there

GOOD = """\
name: wikipedia
source:
  huggingface: wikimedia/wikipedia
subsets:
  - files: "{subset}/train-*.parquet"
"""


def lines_of(text: str) -> list[str]:
    with pytest.raises(ManifestError) as info:
        parse_text(text, "m.yaml")
    lines = [str(problem) for problem in info.value.problems]
    assert str(info.value) == "\n".join(lines)
    return lines


def manifest(name: str) -> str:
    """A valid manifest shaped like the built-in ones: a schema comment, then `name:` on line 2."""
    return (
        "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
        f"name: {name}\n"
        "source:\n"
        "  huggingface: owner/repo\n"
        "subsets:\n"
        '  - files: "{subset}/*.parquet"\n'
    )


def test_valid_text_parses() -> None:
    m = parse_text(GOOD, "m.yaml")
    assert m.name == "wikipedia"
    assert m.subsets[0].files == "{subset}/train-*.parquet"


def test_problem_str_format() -> None:
    assert str(Problem("m.yaml", 3, "source.revision", "bad")) == "m.yaml:3: source.revision: bad"
    assert str(Problem("m.yaml", None, "", "not UTF-8 text")) == "m.yaml: not UTF-8 text"
    assert str(Problem("m.yaml", 1, "", "oops")) == "m.yaml:1: oops"


# --- YAML level ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "libyaml", "pure"),
    [
        (
            "name: x\nsource:\n  huggingface: a/b\n revision: main\nsubsets: []\n",
            4,
            "did not find expected key",
            "expected <block end>, but found '<block mapping start>'",
        ),
        (
            "name: x\nsource:\n  huggingface: a/b\nsubsets:\n  - files: [a, b\n  - name: c\n",
            6,
            "did not find expected ',' or ']'",
            "expected ',' or ']', but got ':'",
        ),
        (
            "name: x\nsource:\n\thuggingface: a/b\n",
            3,
            "found character that cannot start any token",
            "found character '\\t' that cannot start any token",
        ),
    ],
)
def test_yaml_syntax_error_line(text: str, line: int, libyaml: str, pure: str) -> None:
    assert lines_of(text) == [f"m.yaml:{line}: invalid YAML: {libyaml if C_LOADER else pure}"]


def test_unquoted_pattern_starting_with_a_brace_is_a_yaml_error() -> None:
    text = "name: x\nsource:\n  huggingface: a/b\nsubsets:\n  - files: {subset}/*.parquet\n"
    (line,) = lines_of(text)
    assert line.startswith("m.yaml:5: invalid YAML: ")


def test_duplicate_key_at_top_level() -> None:
    text = GOOD + "name: other\n"
    assert lines_of(text) == ["m.yaml:6: name: key appears twice; keep one"]


def test_duplicate_key_nested() -> None:
    text = GOOD + "    format: parquet\n    format: csv\n"
    assert lines_of(text) == ["m.yaml:7: subsets[0].format: key appears twice; keep one"]


def test_every_duplicate_key_is_reported() -> None:
    text = (
        "name: x\n"  # 1
        "source:\n"  # 2
        "  huggingface: a/b\n"  # 3
        "  huggingface: c/d\n"  # 4
        "subsets:\n"  # 5
        '  - files: "{subset}/*.parquet"\n'  # 6
        '  - files: "a/*.parquet"\n'  # 7
        "    name: a\n"  # 8
        "    name: b\n"  # 9
        "name: y\n"  # 10
    )
    assert lines_of(text) == [
        "m.yaml:4: source.huggingface: key appears twice; keep one",
        "m.yaml:9: subsets[1].name: key appears twice; keep one",
        "m.yaml:10: name: key appears twice; keep one",
    ]


@pytest.mark.parametrize(
    "text", ["- name: x\n- name: y\n", "just text\n", "", "# only a comment\n", "42\n"]
)
def test_top_level_must_be_a_mapping(text: str) -> None:
    assert lines_of(text) == [
        "m.yaml:1: a manifest is a mapping with keys name, source, subsets, ..."
    ]


# --- model level ---------------------------------------------------------------------------------


HEADER = "name: x\nsource:\n  huggingface: a/b\nsubsets:\n"  # lines 1-4 of the manifests below


def test_unknown_key_reports_the_line_of_that_key() -> None:
    text = HEADER + (  # lines 1-4, then:
        '  - files: "{subset}/*.parquet"\n'  # 5
        '  - files: "data/*.parquet"\n'  # 6
        "    nmae: train\n"  # 7
        "maintainer: me\n"  # 8
    )
    assert lines_of(text) == [
        "m.yaml:7: subsets[1].nmae: unknown key (did you mean 'name'?); remove it or fix its "
        "spelling",
        "m.yaml:8: maintainer: unknown key; remove it or fix its spelling",
    ]


def test_unknown_key_in_source() -> None:
    text = "name: x\nsource:\n  huggingface: a/b\n  revison: main\nsubsets:\n  - files: '{s}/*'\n"
    assert lines_of(text) == [
        "m.yaml:4: source.revison: unknown key (did you mean 'revision'?); remove it or fix its "
        "spelling"
    ]


def test_wrong_type_in_a_nested_field() -> None:
    text = HEADER + (  # lines 1-4, then:
        '  - files: "{subset}/*.parquet"\n'  # 5
        "  - files: 3\n"  # 6
        "    exclude: data/*\n"  # 7
        "    format: xml\n"  # 8
    )
    assert lines_of(text) == [
        "m.yaml:6: subsets[1].files: expected text or a list of texts, got 3",
        "m.yaml:7: subsets[1].exclude: expected a list, got 'data/*'",
        (
            "m.yaml:8: subsets[1].format: Input should be 'parquet', 'jsonl', 'json', 'csv' or "
            "'text', "
            "got 'xml'"
        ),
    ]


@pytest.mark.parametrize(
    ("value", "shown"), [("3", "3"), ("true", "True"), ("{a: b}", "{'a': 'b'}"), ("null", "None")]
)
def test_union_field_wrong_type_is_one_line(value: str, shown: str) -> None:
    text = f"name: x\nsource:\n  huggingface: a/b\nsubsets:\n  - files: {value}\n"
    assert lines_of(text) == [
        f"m.yaml:5: subsets[0].files: expected text or a list of texts, got {shown}"
    ]


def test_union_field_with_bad_items_reports_only_the_items() -> None:
    text = HEADER + (  # lines 1-4, then:
        "  - files:\n"  # 5
        '      - "{subset}/*.parquet"\n'  # 6
        "      - 3\n"  # 7
        "      - [a]\n"  # 8
    )
    assert lines_of(text) == [
        "m.yaml:7: subsets[0].files[1]: expected text, got 3",
        "m.yaml:8: subsets[0].files[2]: expected text, got ['a']",
    ]


def test_dot_dot_in_a_pattern() -> None:
    text = "name: x\nsource:\n  huggingface: a/b\nsubsets:\n  - files: data/../{subset}/*.parquet\n"
    assert lines_of(text) == [
        (
            "m.yaml:5: subsets[0].files: pattern 'data/../{subset}/*.parquet' has '..' as a path "
            "segment; remove it"
        )
    ]


def test_source_with_neither_key() -> None:
    text = "name: x\nsource:\n  urls: [https://x/a.parquet]\nsubsets:\n  - files: '{s}/*'\n"
    assert lines_of(text) == [
        (
            "m.yaml:2: source: source needs one of the keys 'huggingface' (owner/name) or 'local' "
            "(a folder), got {'urls': ['https://x/a.parquet']}"
        )
    ]


def test_missing_key_points_at_the_enclosing_mapping() -> None:
    text = "# comment\nname: x\nsubsets:\n  - files: '{s}/*'\n"
    assert lines_of(text) == ["m.yaml:2: source: required; add it"]


def test_rule_level_problem_points_at_the_rule() -> None:
    text = GOOD + '  - files: "data/train-*.parquet"\n    format: parquet\n'
    assert lines_of(text) == [
        (
            "m.yaml:6: subsets[1]: pattern 'data/train-*.parquet' captures nothing, so the subset "
            "needs a fixed name: add e.g. 'name: train'"
        )
    ]


def test_several_problems_in_line_order() -> None:
    text = (
        "name: Bad Name\n"  # 1
        "modality: text\n"  # 2
        "source:\n"  # 3
        "  huggingface: https://huggingface.co/datasets/a/b\n"  # 4
        "  revision: a..b\n"  # 5
        "subsets:\n"  # 6
        '  - files: "{subset}/*.parquet"\n'  # 7
        "  - files: 3\n"  # 8
        "load:\n"  # 9
        "  columns: id\n"  # 10
    )
    assert lines_of(text) == [
        (
            "m.yaml:1: name: 'Bad Name' is not a dataset name: use lowercase letters, digits, '.', "
            "'_' and '-', starting with a letter or digit"
        ),
        "m.yaml:2: modality: expected a list, got 'text'",
        "m.yaml:4: source.huggingface: write the repository id alone, e.g. 'a/b'",
        "m.yaml:5: source.revision: 'a..b' is not a branch, tag or commit name",
        "m.yaml:8: subsets[1].files: expected text or a list of texts, got 3",
        "m.yaml:10: load.columns: expected a list of column names or 'all', got 'id'",
    ]


def test_long_values_are_shortened() -> None:
    text = f"name: x\nsource:\n  huggingface: a/b\nsubsets:\n  - files: {'9' * 100}\n"
    assert lines_of(text) == [
        f"m.yaml:5: subsets[0].files: expected text or a list of texts, got {'9' * 57}..."
    ]


# --- files ---------------------------------------------------------------------------------------


def test_parse_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD + "  - files: 3\n")
    with pytest.raises(ManifestError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}:6: subsets[1].files: expected text or a list of texts, got 3"


def test_parse_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(ManifestError) as info:
        parse_file(path)
    assert str(info.value) == f"{path}:1: not UTF-8 text (byte 0xff); save the file as UTF-8"


def test_parse_file_too_large(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD + "#" * 1_000_000 + "\n")
    with pytest.raises(ManifestError) as info:
        parse_file(path)
    assert str(info.value) == (
        f"{path}: larger than 1,000,000 bytes, far more than a manifest needs; "
        "is this the right file?"
    )


# --- scanning folders ----------------------------------------------------------------------------


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path, Path]:
    user1, user2, builtin = tmp_path / "user1", tmp_path / "user2", tmp_path / "builtin"
    for folder in (user1, user2, builtin):
        folder.mkdir()
    (builtin / "wikipedia.yaml").write_text(manifest("wikipedia"))
    (builtin / "mnist.yaml").write_text(manifest("mnist"))
    return user1, user2, builtin


def test_scan_builtin_only(folders: tuple[Path, Path, Path]) -> None:
    user1, user2, builtin = folders
    result = discover([user1, user2, builtin], builtin=builtin)
    assert sorted(result.entries) == ["mnist", "wikipedia"]
    assert all(e.builtin and e.shadows is None for e in result.entries.values())
    assert result.problems == []
    assert result.notes == []
    assert result.files == [builtin / "mnist.yaml", builtin / "wikipedia.yaml"]


def test_user_manifest_shadows_a_builtin(folders: tuple[Path, Path, Path]) -> None:
    user1, user2, builtin = folders
    (user1 / "my-wikipedia.yml").write_text(manifest("wikipedia").replace("owner/repo", "me/wiki"))
    result = discover([user1, user2, builtin], builtin=builtin)
    entry = result.entries["wikipedia"]
    assert entry.path == user1 / "my-wikipedia.yml"
    assert entry.builtin is False
    assert entry.shadows == builtin / "wikipedia.yaml"
    assert entry.manifest.source.huggingface == "me/wiki"
    assert result.problems == []
    assert result.notes == [
        (
            f"{user1 / 'my-wikipedia.yml'}: dataset 'wikipedia' shadows the built-in "
            f"{builtin / 'wikipedia.yaml'}"
        )
    ]
    assert result.entries["mnist"].builtin is True


def test_two_user_manifests_with_one_name(folders: tuple[Path, Path, Path]) -> None:
    user1, user2, builtin = folders
    (user1 / "a.yaml").write_text(manifest("mine").replace("owner/repo", "me/first"))
    (user2 / "b.yaml").write_text(manifest("mine").replace("owner/repo", "me/second"))
    result = discover([user1, user2, builtin], builtin=builtin)
    assert result.entries["mine"].path == user1 / "a.yaml"
    assert result.entries["mine"].manifest.source.huggingface == "me/first"
    assert len(result.problems) == 1
    problem = result.problems[0]
    assert problem.file == str(user2 / "b.yaml")
    assert problem.field == "name"
    assert problem.message == (
        f"dataset 'mine' is already defined by {user1 / 'a.yaml'}; rename one of them or remove a "
        "file"
    )
    assert result.notes == []


def test_two_manifests_with_one_name_in_one_user_folder(folders: tuple[Path, Path, Path]) -> None:
    user1, _user2, builtin = folders
    (user1 / "a.yaml").write_text(manifest("mine"))
    (user1 / "b.yml").write_text(manifest("mine"))
    result = discover([user1, builtin], builtin=builtin)
    assert [(p.file, p.field) for p in result.problems] == [(str(user1 / "b.yml"), "name")]
    assert str(user1 / "a.yaml") in result.problems[0].message


def test_duplicate_name_problem_points_at_the_name_line(folders: tuple[Path, Path, Path]) -> None:
    user1, user2, builtin = folders
    (user1 / "a.yaml").write_text(manifest("mine"))
    (user2 / "b.yaml").write_text(manifest("mine"))
    result = discover([user1, user2, builtin], builtin=builtin)
    assert [p.line for p in result.problems] == [2]


def test_invalid_file_reported_while_valid_ones_load(folders: tuple[Path, Path, Path]) -> None:
    user1, user2, builtin = folders
    (user1 / "good.yaml").write_text(manifest("good"))
    (user1 / "bad.yaml").write_text("name: bad\nsource: {}\nsubsets: []\n")
    (user1 / "broken.yml").write_text("name: [broken\n")
    (user1 / "notes.txt").write_text("not a manifest")
    result = discover([user1, user2, builtin], builtin=builtin)
    assert sorted(result.entries) == ["good", "mnist", "wikipedia"]
    bad, broken = user1 / "bad.yaml", user1 / "broken.yml"
    brace = (
        "did not find expected ',' or ']'"
        if C_LOADER
        else "expected ',' or ']', but got '<stream end>'"
    )
    assert [str(p) for p in result.problems] == [
        (
            f"{bad}:2: source: source needs one of the keys 'huggingface' (owner/name) or 'local' "
            "(a folder), got {}"
        ),
        f"{bad}:3: subsets: give at least one subset rule, e.g. "
        "'- files: \"{subset}/*.parquet\"'",
        f"{broken}:2: invalid YAML: {brace}",
    ]
    assert user1 / "notes.txt" not in result.files
    assert result.files[:3] == [bad, broken, user1 / "good.yaml"]


def test_invalid_user_manifest_does_not_hide_the_builtin(folders: tuple[Path, Path, Path]) -> None:
    user1, _user2, builtin = folders
    (user1 / "wikipedia.yaml").write_text("name: wikipedia\nsource: {}\n")
    result = discover([user1, builtin], builtin=builtin)
    assert result.entries["wikipedia"].path == builtin / "wikipedia.yaml"
    assert [p.file for p in result.problems] == [str(user1 / "wikipedia.yaml")] * 2

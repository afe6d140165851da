"""Tests of pygestor.manifest: the pydantic models of a manifest, their checks and fingerprint."""

from __future__ import annotations

import copy
from typing import Any

import pydantic
import pytest
import yaml

from pygestor.errors import ManifestError
from pygestor.manifest.discovery import parse_text
from pygestor.manifest.models import Format, HuggingFaceSource, LocalSource, Manifest

NAME_HINT = (
    "is not a dataset name: use lowercase letters, digits, '.', '_' and '-', "
    "starting with a letter or digit"
)
UNKNOWN = "unknown key; remove it or fix its spelling"


def unknown(hint: str) -> str:
    return f"unknown key (did you mean {hint!r}?); remove it or fix its spelling"


SOURCE_KIND = "source needs one of the keys 'huggingface' (owner/name) or 'local' (a folder), got "


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "wikipedia",
        "source": {"huggingface": "wikimedia/wikipedia"},
        "subsets": [{"files": "{subset}/train-*.parquet"}],
    }
    data.update(changes)
    return data


def full() -> dict[str, Any]:
    return {
        "$schema": "../schemas/manifest.schema.json",
        "name": "c4",
        "description": "Colossal Clean Crawled Corpus.",
        "modality": ["text"],
        "license": "odc-by",
        "homepage": "https://huggingface.co/datasets/allenai/c4",
        "tags": ["pretraining", "web"],
        "source": {"huggingface": "allenai/c4", "revision": "refs/convert/parquet"},
        "subsets": [
            {
                "files": "multilingual/c4-{lang:[a-z]+}.tfrecord-*.json.gz",
                "name": "{lang}.train",
                "format": "jsonl",
                "description": "Multilingual training shards.",
            },
            {
                "files": ["{config}/c4-{split}.*.json.gz", "extra/{config}/c4-{split}.*.json.gz"],
                "name": "{config}.{split}",
                "exclude": ["multilingual/**", "en/*-of-00000.json.gz"],
            },
        ],
        "format": "jsonl",
        "load": {"columns": ["text", "url"]},
    }


def problems(data: Any) -> list[tuple[str, str]]:
    """(field, message) of every problem the manifest `data` has, as validation reports them."""
    try:
        parse_text(yaml.safe_dump(data, sort_keys=False), "m.yaml")
    except ManifestError as exc:
        return [(p.field, p.message) for p in exc.problems]
    return []


# --- valid manifests -----------------------------------------------------------------------------


def test_minimal_manifest_defaults() -> None:
    m = Manifest.model_validate(minimal())
    assert m.name == "wikipedia"
    assert m.description == ""
    assert m.modality == []
    assert m.license is None
    assert m.homepage is None
    assert m.tags == []
    assert m.schema_ is None
    assert isinstance(m.source, HuggingFaceSource)
    assert m.source.huggingface == "wikimedia/wikipedia"
    assert m.source.revision == "main"
    assert m.source.kind == "huggingface"
    assert m.source.describe() == "hf://datasets/wikimedia/wikipedia@main"
    assert m.format is None
    assert m.load.columns is None
    (rule,) = m.subsets
    assert rule.files == "{subset}/train-*.parquet"
    assert rule.name is None
    assert rule.exclude == []
    assert rule.format is None
    assert [p.text for p in rule.patterns] == ["{subset}/train-*.parquet"]
    assert rule.template.text == "{subset}"
    assert problems(minimal()) == []


def test_full_manifest() -> None:
    m = Manifest.model_validate(full())
    assert m.schema_ == "../schemas/manifest.schema.json"
    assert m.name == "c4"
    assert m.modality == ["text"]
    assert m.license == "odc-by"
    assert m.homepage == "https://huggingface.co/datasets/allenai/c4"
    assert m.tags == ["pretraining", "web"]
    assert m.source.describe() == "hf://datasets/allenai/c4@refs/convert/parquet"
    assert m.format is Format.jsonl
    assert m.load.columns == ["text", "url"]
    first, second = m.subsets
    assert first.format is Format.jsonl
    assert first.description == "Multilingual training shards."
    assert first.template.fields == ("lang",)
    assert [p.prefix for p in second.patterns] == ["", "extra/"]
    assert second.template.fields == ("config", "split")
    assert [e.text for e in second.excludes] == ["multilingual/**", "en/*-of-00000.json.gz"]
    assert problems(full()) == []


def test_strings_are_stripped() -> None:
    m = Manifest.model_validate(minimal(description="  Cleaned articles.  "))
    assert m.description == "Cleaned articles."


def test_manifest_is_frozen() -> None:
    m = Manifest.model_validate(minimal())
    with pytest.raises(pydantic.ValidationError):
        m.name = "other"  # type: ignore[misc]


def test_default_template_without_subset_joins_all_captures() -> None:
    m = Manifest.model_validate(minimal(subsets=[{"files": "{config}/c4-{split}.*.json.gz"}]))
    assert m.subsets[0].template.text == "{config}.{split}"


def test_default_template_prefers_the_subset_capture() -> None:
    m = Manifest.model_validate(minimal(subsets=[{"files": "data/{subset}/{split}-*.parquet"}]))
    assert m.subsets[0].template.text == "{subset}"


def test_explicit_name_wins_over_the_subset_capture() -> None:
    m = Manifest.model_validate(
        minimal(subsets=[{"files": "sample/{subset}/*.parquet", "name": "sample-{subset}"}])
    )
    assert m.subsets[0].template.text == "sample-{subset}"


# --- unknown keys and wrong types ----------------------------------------------------------------


def test_unknown_keys_everywhere() -> None:
    data = minimal(maintainer="me", load={"columns": ["id"], "xyz": "x"})
    data["source"] = {"huggingface": "a/b", "revison": "main"}
    data["subsets"] = [{"files": "{subset}/*.parquet", "nmae": "x", "exlude": []}]
    assert problems(data) == [
        ("source.revison", unknown("revision")),
        ("subsets[0].nmae", unknown("name")),
        ("subsets[0].exlude", unknown("exclude")),
        ("maintainer", UNKNOWN),
        ("load.xyz", UNKNOWN),
    ]


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ({"huggingface": "a/b", "local": "/x"}, "local"),
        ({"huggingface": "a/b", "name": "x"}, "name"),
    ],
)
def test_unknown_key_hint_never_suggests_the_same_key(source: dict[str, str], key: str) -> None:
    ((field, message),) = problems(minimal(source=source))
    assert field == f"source.{key}"
    assert f"did you mean {key!r}" not in message


def test_python_field_name_is_not_a_manifest_key() -> None:
    assert problems(minimal(schema_="x")) == [("schema_", unknown("$schema"))]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"name": 3}, [("name", "expected text, got 3")]),
        ({"description": ["a"]}, [("description", "expected text, got ['a']")]),
        ({"modality": "text"}, [("modality", "expected a list, got 'text'")]),
        ({"tags": "nlp"}, [("tags", "expected a list, got 'nlp'")]),
        ({"subsets": {"files": "x"}}, [("subsets", "expected a list, got {'files': 'x'}")]),
        ({"load": ["id"]}, [("load", "expected a mapping, got ['id']")]),
        (
            {"load": {"columns": "id"}},
            [("load.columns", "expected a list of column names or 'all', got 'id'")],
        ),
        (
            {"format": "xml"},
            [("format", "Input should be 'parquet', 'jsonl', 'json', 'csv' or 'text', got 'xml'")],
        ),
        (
            {"modality": ["text", "smell"]},
            [
                (
                    "modality[1]",
                    (
                        "Input should be 'text', 'image', 'audio', 'video', 'tabular', "
                        "'multimodal' or 'other', got 'smell'"
                    ),
                )
            ],
        ),
        (
            {"homepage": "huggingface.co/x"},
            [("homepage", "'huggingface.co/x' is not an http(s) URL")],
        ),
        (
            {"subsets": []},
            [("subsets", "give at least one subset rule, e.g. '- files: \"{subset}/*.parquet\"'")],
        ),
    ],
)
def test_wrong_types(changes: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert problems(minimal(**changes)) == expected


def test_missing_required_keys() -> None:
    assert problems({"description": "x"}) == [
        ("name", "required; add it"),
        ("source", "required; add it"),
        ("subsets", "required; add it"),
    ]
    assert problems({"name": "x", "source": {"huggingface": "a/b"}, "subsets": [{}]}) == [
        ("subsets[0].files", "required; add it")
    ]


# --- dataset names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["wikipedia", "c4", "fineweb-edu", "wit_base", "0day", "a.b", "x" * 100]
)
def test_good_dataset_names(name: str) -> None:
    assert Manifest.model_validate(minimal(name=name)).name == name


@pytest.mark.parametrize(
    "name",
    ["Wikipedia", "wikiPedia", ".hidden", "_x", "-x", "my data", "a/b", "a:b", "é", "x" * 101],
)
def test_bad_dataset_names(name: str) -> None:
    assert problems(minimal(name=name)) == [("name", f"{name!r} {NAME_HINT}")]


def test_empty_dataset_name() -> None:
    assert problems(minimal(name="")) == [("name", f"'' {NAME_HINT}")]


# --- Hugging Face source -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "repo", ["wikimedia/wikipedia", "squad", "HuggingFaceFW/fineweb-edu", "allenai/c4", "a.b/c_d-1"]
)
def test_good_repo_ids(repo: str) -> None:
    assert HuggingFaceSource(huggingface=repo).huggingface == repo


@pytest.mark.parametrize("repo", ["a/b/c", "a b", "owner/", "/a", "a/..", "..", "-a/b", "a/b@main"])
def test_bad_repo_ids(repo: str) -> None:
    source = {"huggingface": repo}
    assert problems(minimal(source=source)) == [
        ("source.huggingface", f"{repo!r} is not a repository id; write 'owner/name'")
    ]


@pytest.mark.parametrize(
    "url",
    ["https://huggingface.co/datasets/wikimedia/wikipedia", "hf://datasets/wikimedia/wikipedia"],
)
def test_url_instead_of_repo_id_gets_the_hint(url: str) -> None:
    assert problems(minimal(source={"huggingface": url})) == [
        ("source.huggingface", "write the repository id alone, e.g. 'wikimedia/wikipedia'")
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://huggingface.co/datasets/wikimedia/wikipedia/",
        "https://huggingface.co/datasets/wikimedia/wikipedia/tree/main",
    ],
)
def test_url_hint_is_a_valid_repo_id(url: str) -> None:
    assert problems(minimal(source={"huggingface": url})) == [
        ("source.huggingface", "write the repository id alone, e.g. 'wikimedia/wikipedia'")
    ]


@pytest.mark.parametrize(
    "revision",
    [
        "main",
        "refs/convert/parquet",
        "v1.0",
        "refs/pr/3",
        "0123456789abcdef0123456789abcdef01234567",
    ],
)
def test_good_revisions(revision: str) -> None:
    m = Manifest.model_validate(minimal(source={"huggingface": "a/b", "revision": revision}))
    assert m.source.revision == revision
    assert m.source.describe() == f"hf://datasets/a/b@{revision}"


@pytest.mark.parametrize("revision", ["a..b", "/main", "my branch", "", "   "])
def test_bad_revisions(revision: str) -> None:
    shown = revision.strip()
    assert problems(minimal(source={"huggingface": "a/b", "revision": revision})) == [
        ("source.revision", f"{shown!r} is not a branch, tag or commit name")
    ]


# --- local source and source kinds ---------------------------------------------------------------


@pytest.mark.parametrize("folder", ["/mnt/nfs/corpus", "~/data", "$DATA_ROOT/corpus"])
def test_local_source(folder: str) -> None:
    m = Manifest.model_validate(minimal(source={"local": folder}))
    assert isinstance(m.source, LocalSource)
    assert m.source.local == folder
    assert m.source.kind == "local"
    assert m.source.describe() == folder


def test_local_source_needs_a_path() -> None:
    assert problems(minimal(source={"local": ""})) == [
        (
            "source.local",
            (
                "'' is not an absolute path; give one such as /mnt/nfs/corpus (or ~/... or "
                "$VAR/...), since a relative path would depend on the folder pygestor runs in"
            ),
        )
    ]


def test_local_source_refuses_a_relative_path() -> None:
    [(field, message)] = problems(minimal(source={"local": "data/corpus"}))
    assert (field, message.split(";")[0]) == (
        "source.local",
        "'data/corpus' is not an absolute path",
    )


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ({}, "{}"),
        ({"urls": ["https://x/a.parquet"]}, "{'urls': ['https://x/a.parquet']}"),
        ({"revision": "main"}, "{'revision': 'main'}"),
        ("wikimedia/wikipedia", "'wikimedia/wikipedia'"),
        (["wikimedia/wikipedia"], "['wikimedia/wikipedia']"),
    ],
)
def test_source_without_a_known_kind(source: Any, shown: str) -> None:
    assert problems(minimal(source=source)) == [("source", SOURCE_KIND + shown)]


def test_source_missing() -> None:
    data = minimal()
    del data["source"]
    assert problems(data) == [("source", "required; add it")]


def test_source_with_both_kinds() -> None:
    ((field, message),) = problems(minimal(source={"huggingface": "a/b", "local": "/x"}))
    assert field == "source.local"
    assert message == "a source is either 'huggingface' or 'local', not both; remove one"


# --- subset rules --------------------------------------------------------------------------------


def test_rule_without_captures_needs_a_name() -> None:
    rule = {"files": "data/train-*.parquet"}
    assert problems(minimal(subsets=[rule])) == [
        (
            "subsets[0]",
            (
                "pattern 'data/train-*.parquet' captures nothing, so the subset needs a fixed "
                "name: "
                "add e.g. 'name: train'"
            ),
        )
    ]
    named = Manifest.model_validate(minimal(subsets=[{**rule, "name": "train"}]))
    assert named.subsets[0].template.text == "train"
    assert named.subsets[0].template.fields == ()


def test_name_using_a_placeholder_the_pattern_does_not_capture() -> None:
    rule = {"files": "{config}/{split}-*.parquet", "name": "{config}.{lang}"}
    assert problems(minimal(subsets=[rule])) == [
        (
            "subsets[0]",
            (
                "name '{config}.{lang}' uses {lang}, which pattern '{config}/{split}-*.parquet' "
                "does not capture"
            ),
        )
    ]


def test_name_checked_against_every_files_pattern() -> None:
    rule = {
        "files": [
            "{config}/{split}-*.parquet",
            "data/{config}/{split}-*.parquet",
            "extra/{split}-*.parquet",
        ],
        "name": "{config}.{split}",
    }
    assert problems(minimal(subsets=[{"files": "x/{a}.parquet"}, rule])) == [
        (
            "subsets[1]",
            (
                "name '{config}.{split}' uses {config}, which pattern 'extra/{split}-*.parquet' "
                "does not capture"
            ),
        )
    ]


def test_default_name_checked_against_every_files_pattern() -> None:
    rule = {"files": ["{config}/{split}-*.parquet", "other/{split}-*.parquet"]}
    assert problems(minimal(subsets=[rule])) == [
        (
            "subsets[0]",
            (
                "name '{config}.{split}' uses {config}, which pattern 'other/{split}-*.parquet' "
                "does not capture"
            ),
        )
    ]


def test_several_patterns_all_capturing_the_name() -> None:
    rule = {
        "files": ["{config}/{split}-*.parquet", "data/{config}/{split}-*.parquet"],
        "name": "{config}.{split}",
    }
    m = Manifest.model_validate(minimal(subsets=[rule]))
    assert [p.fields for p in m.subsets[0].patterns] == [("config", "split"), ("config", "split")]


def test_empty_files_list() -> None:
    assert problems(minimal(subsets=[{"files": []}])) == [
        ("subsets[0].files", "give at least one pattern")
    ]


def test_bad_pattern_in_files_list_is_reported() -> None:
    rule = {"files": ["{subset}/*.parquet", "data/../x/*.parquet"]}
    assert problems(minimal(subsets=[rule])) == [
        ("subsets[0].files", "pattern 'data/../x/*.parquet' has '..' as a path segment; remove it")
    ]


def test_bad_name_template_is_reported() -> None:
    rule = {"files": "{subset}/*.parquet", "name": "a/{subset}"}
    assert problems(minimal(subsets=[rule])) == [
        (
            "subsets[0].name",
            (
                "name 'a/{subset}' would not be a safe name: use letters, digits, '.', '_' and "
                "'-', "
                "not starting with '.' or '-'"
            ),
        )
    ]


@pytest.mark.parametrize("exclude", ["{subset}/test-*.parquet", "data/{x:[0-9]+}.parquet"])
def test_exclude_globs_may_not_have_placeholders(exclude: str) -> None:
    rule = {"files": "{subset}/*.parquet", "exclude": [exclude]}
    assert problems(minimal(subsets=[rule])) == [
        ("subsets[0].exclude", f"placeholders like {{name}} are not allowed here: {exclude!r}")
    ]


def test_exclude_glob_shape_is_checked() -> None:
    rule = {"files": "{subset}/*.parquet", "exclude": ["/abs/*"]}
    assert problems(minimal(subsets=[rule])) == [
        ("subsets[0].exclude", "pattern '/abs/*' is absolute; write it relative to the source root")
    ]


def test_rule_format_override() -> None:
    rule = {"files": "{subset}/*.csv", "format": "csv"}
    m = Manifest.model_validate(minimal(subsets=[rule], format="parquet"))
    assert m.subsets[0].format is Format.csv
    assert m.format is Format.parquet


# --- fingerprint ---------------------------------------------------------------------------------


def test_fingerprint_is_stable() -> None:
    a = Manifest.model_validate(full())
    b = Manifest.model_validate(copy.deepcopy(full()))
    fp = a.fingerprint()
    assert len(fp) == 16
    assert int(fp, 16) >= 0
    assert fp == b.fingerprint() == a.fingerprint()
    reordered = dict(reversed(list(full().items())))
    assert Manifest.model_validate(reordered).fingerprint() == fp


def test_fingerprint_ignores_the_schema_hint_and_explicit_defaults() -> None:
    with_hint = Manifest.model_validate({**minimal(), "$schema": "x.json"})
    assert with_hint.fingerprint() == Manifest.model_validate(minimal()).fingerprint()
    explicit = minimal(source={"huggingface": "wikimedia/wikipedia", "revision": "main"})
    assert (
        Manifest.model_validate(explicit).fingerprint()
        == Manifest.model_validate(minimal()).fingerprint()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"name": "wikipedia2"},
        {"source": {"huggingface": "wikimedia/wikipedia", "revision": "v2"}},
        {"source": {"huggingface": "other/wikipedia"}},
        {"subsets": [{"files": "{subset}/test-*.parquet"}]},
        {"subsets": [{"files": "{subset}/train-*.parquet", "exclude": ["x/*"]}]},
        {"format": "parquet"},
        {"load": {"columns": ["id"]}},
    ],
)
def test_fingerprint_changes_with_meaning(change: dict[str, Any]) -> None:
    base = Manifest.model_validate(minimal()).fingerprint()
    assert Manifest.model_validate(minimal(**change)).fingerprint() != base

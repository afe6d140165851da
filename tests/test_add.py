"""`pygestor add`: manifests scaffolded from replicas of real repositories on the offline Hub.

The strongest check: for each replica of a built-in dataset, the manifest `add` writes syncs to
the same subsets (names and partition counts) and leaves the same files unmatched as the
hand-written `catalog/<name>.yaml` synced against the same replica.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from click.testing import CliRunner

from conftest import REPO_ROOT, make_settings
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.cli.output import human_bytes
from pygestor.errors import BadRepoReference, InvalidName, NameTaken, OutputExists, SourceError
from pygestor.manifest.discovery import parse_file, parse_text
from pygestor.scaffold.build import scaffold, scaffold_listing
from pygestor.scaffold.card import parse_card
from pygestor.scaffold.refs import ACCEPTED_FORMS, RepoRef, default_name, parse_repo
from pygestor.scaffold.rules import glob_to_pattern
from pygestor.sources.base import RemoteFile, Snapshot
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer, LocalHub
from pygestor.testing.replicas import (
    CONVERT_REVISION,
    CardConfig,
    CardSplit,
    Replica,
    dataset_card,
    parquet_bytes,
    parquet_conversion,
)
from pygestor.testing.replicas_catalog import CATALOG_REPLICAS

# catalog manifest -> how the manifest `add` writes compares with it
COMPARED = {
    "alpaca": "exact", "c4": "renamed", "dolly": "exact", "fineweb": "exact",
    "fineweb-edu": "exact", "gsm8k": "exact", "mmlu": "exact", "mnist": "exact", "oasst1": "exact",
    "ultrachat_200k": "exact", "wikipedia": "exact",
}  # fmt: skip
_TEXT = {"text": {"dtype": "string", "_type": "Value"}}


def _parquet(n: int = 2) -> bytes:
    return parquet_bytes(pa.table({"text": [f"row {i}" for i in range(n)]}))


def card_wins() -> Replica:
    """Folders data/en, data/de with train/test shards; the card regroups them differently:
    english = {train: en/train-*, validation: en/test-*}, german = {train: de/* (both files)}."""
    data = _parquet()
    files = {
        "data/en/train-00000-of-00002.parquet": data,
        "data/en/train-00001-of-00002.parquet": data,
        "data/en/test-00000-of-00001.parquet": data,
        "data/de/train-00000-of-00001.parquet": data,
        "data/de/test-00000-of-00001.parquet": data,
    }
    configs = [
        CardConfig(
            "english",
            _TEXT,
            (
                CardSplit("train", "data/en/train-*", 40, 400, 10),
                CardSplit("validation", "data/en/test-*", 5, 50, 5),
            ),
        ),
        CardConfig("german", _TEXT, (CardSplit("train", "data/de/*", 7, 70, 7),)),
    ]
    card = dataset_card(
        "Card wins",
        meta={"license": "apache-2.0", "task_categories": ["text-generation"]},
        configs=configs,
        body="## Dataset Summary\n\nTwo languages whose card regroups the folders. More text.",
    )
    return Replica(
        "pygestor/card-wins",
        {".gitattributes": replicas.gitattributes(), "README.md": card, **files},
    )


def script_only() -> Replica:
    """A loading script and tar archives on main; parquet only in refs/convert/parquet."""
    files = {
        ".gitattributes": replicas.gitattributes(),
        "README.md": dataset_card(
            "Script only", meta={"license": "mit"}, body="Audio clips in archives."
        ),
        "script-only.py": b"import datasets\n",
        "data/clips-000.tar.gz": b"not really a tar",
        "data/clips-001.tar.gz": b"not really a tar either",
    }
    data = _parquet()
    return parquet_conversion(
        Replica("pygestor/script-only", files),
        {"default": {"train": [data, _parquet(3)], "test": data}, "extra": {"train": data}},
    )


@pytest.fixture(scope="module")
def add_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    hub = LocalHub(tmp_path_factory.mktemp("add-hub"))
    installed: set[str] = set()
    builds = [CATALOG_REPLICAS[n] for n in sorted(COMPARED)] + [card_wins, script_only]
    builds.append(
        lambda: Replica("pygestor/archives-only", {"data/a.tar": b"x", "model.bin": b"y"})
    )
    for build in builds:
        replica = build()
        if replica.repo_id not in installed:
            replicas.install(hub, replica)
            installed.add(replica.repo_id)
    with HubServer(hub) as server:
        yield server


@pytest.fixture
def user_catalog(tmp_path: Path, add_hub: HubServer) -> Catalog:
    """A catalog of the user's folder only, against the add hub."""
    return Catalog(make_settings(tmp_path, add_hub.endpoint, include_builtin=False))


# ---- the built-in catalog, reproduced --------------------------------------------------------
@pytest.mark.parametrize("name", sorted(COMPARED))
def test_add_reproduces_the_hand_written_manifest(
    tmp_path: Path, add_hub: HubServer, user_catalog: Catalog, name: str
) -> None:
    builtin = parse_file(REPO_ROOT / "catalog" / f"{name}.yaml")
    source = builtin.source
    assert source.kind == "huggingface"
    result = user_catalog.add(source.huggingface, name=f"added-{name}")  # type: ignore[union-attr]
    assert result.path == tmp_path / "user-catalog" / f"added-{name}.yaml"
    assert parse_file(result.path) == result.manifest  # what was written validates
    assert user_catalog.validate([result.path], resolve=True).ok  # and every rule takes files

    [synced] = user_catalog.sync(f"added-{name}")
    assert (synced.error, synced.empty_rules, synced.skipped) == (None, (), ())
    got = {s["subset"]: s["partitions"] for s in user_catalog.subset_records(f"added-{name}")}
    assert {s.name: s.partitions for s in result.subsets} == got  # the report is what sync finds

    reference = Catalog(make_settings(tmp_path, add_hub.endpoint)).fetch_listing(name)
    want = {s.name: len(s.partitions) for s in reference.subsets}
    if COMPARED[name] == "renamed":  # c4: the card names its multilingual configs by language alone
        want = {n.removeprefix("multilingual."): count for n, count in want.items()}
    assert got == want
    assert set(synced.unmatched) == set(reference.unmatched)


def test_c4_templated_rules_keep_validation_out_of_train(user_catalog: Catalog) -> None:
    result = user_catalog.add("allenai/c4")
    rules = [r.files for r in result.manifest.subsets]
    assert (
        rules[0] == "{config}/c4-{split:train|validation}.*.json.gz"
    )  # loose: new variants welcome
    assert "{config:am|ko|ru|zh-Latn}" in str(rules[1])  # constrained: 'ko-validation' stays out
    subsets = {s.name: s.partitions for s in result.subsets}
    assert (subsets["ko.train"], subsets["ko.validation"], subsets["zh-Latn.validation"]) == (
        1024,
        1,
        1,
    )


def test_card_rows_and_sizes_go_into_comments_and_the_report(user_catalog: Catalog) -> None:
    result = user_catalog.add("wikimedia/wikipedia", name="wiki")
    assert result.origin == "card"
    assert {s.name: (s.partitions, s.rows) for s in result.subsets} == {
        "20231101.ab": (1, 3),
        "20231101.en": (41, 123),
        "20231101.fr": (1, 3),
    }
    assert re.search(
        r"#   20231101\.en: 41 files, [\d.]+ kB; 123 rows, [\d.]+ kB in memory", result.text
    )
    assert [r.files for r in result.manifest.subsets] == ["{subset}/train-*"]
    assert (result.manifest.license, result.manifest.modality) == ("cc-by-sa-3.0", ["text"])


def test_fineweb_aggregate_config_is_left_out_for_the_per_crawl_ones(user_catalog: Catalog) -> None:
    result = user_catalog.add("HuggingFaceFW/fineweb")
    assert any(
        "card config 'default' split 'train' (data/*/*) only repeats files of other configs" in r
        for r in result.review
    )
    assert "1 file matched no rule: lighteval_tasks.py" in result.review
    assert result.unmatched == (".gitattributes", "README.md", "lighteval_tasks.py")


# ---- the card wins over the layout -----------------------------------------------------------
def test_card_configs_win_over_the_folder_layout(user_catalog: Catalog, add_hub: HubServer) -> None:
    result = user_catalog.add("pygestor/card-wins")
    assert result.origin == "card"
    assert {s.name: (s.partitions, s.rows) for s in result.subsets} == {
        "english.train": (2, 40),
        "english.validation": (1, 5),
        "german.train": (2, 7),
    }
    assert (
        result.manifest.description == "Two languages whose card regroups the folders. More text."
    )
    assert (result.manifest.license, result.manifest.modality, result.manifest.tags) == (
        "apache-2.0",
        ["text"],
        ["text-generation"],
    )
    [synced] = user_catalog.sync("card-wins")
    assert synced.subsets == 3 and synced.unmatched == (".gitattributes", "README.md")

    # the same files without the card: the folders decide
    hub = add_hub.hub
    files = tuple(RemoteFile(p, e["size"]) for p, e in hub.files("pygestor/card-wins").items())
    layout = scaffold_listing("pygestor/card-wins", Snapshot(files, "main", None))
    assert layout.origin == "layout"
    assert {s.name: s.partitions for s in layout.subsets} == {
        "de.test": 1,
        "de.train": 1,
        "en.test": 1,
        "en.train": 2,
    }
    assert (
        "inferred from the file layout, no dataset card (README.md): check names and grouping"
        in layout.review
    )


# ---- refs/convert/parquet --------------------------------------------------------------------
def test_no_readable_files_falls_back_to_the_parquet_conversion(
    user_catalog: Catalog, add_hub: HubServer
) -> None:
    result = user_catalog.add("pygestor/script-only")
    assert (result.origin, result.revision) == ("parquet-conversion", CONVERT_REVISION)
    assert result.commit == add_hub.hub.head("pygestor/script-only", CONVERT_REVISION)
    assert {s.name: s.partitions for s in result.subsets} == {
        "default.test": 1,
        "default.train": 2,
        "extra.train": 1,
    }
    assert any(
        r.startswith(
            "fell back to refs/convert/parquet: 'main' holds no data files pygestor reads "
            "(3 files such as data/clips-000.tar.gz)"
        )
        for r in result.review
    )
    assert result.manifest.source.revision == CONVERT_REVISION  # type: ignore[union-attr]
    [synced] = user_catalog.sync("script-only")
    assert (synced.subsets, synced.partitions, synced.revision) == (3, 4, CONVERT_REVISION)


def test_no_readable_files_and_no_conversion_is_a_clear_error(user_catalog: Catalog) -> None:
    with pytest.raises(
        SourceError,
        match=r"'pygestor/archives-only' at 'main' holds no data files pygestor "
        r"reads \(2 files such as data/a\.tar\) and has no refs/convert/parquet",
    ):
        user_catalog.add("pygestor/archives-only")
    assert not (user_catalog.settings.user_catalog_dir / "archives-only.yaml").exists()


# ---- repository references -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ylecun/mnist", RepoRef("ylecun/mnist")),
        (" ylecun/mnist ", RepoRef("ylecun/mnist")),
        ("https://huggingface.co/datasets/ylecun/mnist", RepoRef("ylecun/mnist")),
        ("https://huggingface.co/datasets/ylecun/mnist/", RepoRef("ylecun/mnist")),
        ("huggingface.co/datasets/ylecun/mnist", RepoRef("ylecun/mnist")),
        ("https://hf.co/datasets/ylecun/mnist/tree/v1.0", RepoRef("ylecun/mnist", "v1.0")),
        (
            "https://huggingface.co/datasets/ylecun/mnist/tree/main/mnist",
            RepoRef("ylecun/mnist", "main"),
        ),
        (
            "https://huggingface.co/datasets/ylecun/mnist/blob/abc123/README.md",
            RepoRef("ylecun/mnist", "abc123"),
        ),
        (
            "https://huggingface.co/datasets/ylecun/mnist/tree/refs%2Fconvert%2Fparquet",
            RepoRef("ylecun/mnist", "refs/convert/parquet"),
        ),
        (
            "https://huggingface.co/datasets/ylecun/mnist/viewer/mnist/train",
            RepoRef("ylecun/mnist"),
        ),
        ("hf://datasets/ylecun/mnist", RepoRef("ylecun/mnist")),
        ("hf://datasets/ylecun/mnist@v1.0", RepoRef("ylecun/mnist", "v1.0")),
        (
            "hf://datasets/ylecun/mnist@refs%2Fconvert%2Fparquet/mnist/train/0000.parquet",
            RepoRef("ylecun/mnist", "refs/convert/parquet"),
        ),
        (
            "hf://datasets/ylecun/mnist@refs/convert/parquet",
            RepoRef("ylecun/mnist", "refs/convert/parquet"),
        ),
        ("http://127.0.0.1:8123/datasets/o/n", RepoRef("o/n")),  # the configured endpoint
    ],
)
def test_repo_reference_forms(text: str, expected: RepoRef) -> None:
    assert parse_repo(text, endpoint="http://127.0.0.1:8123") == expected


@pytest.mark.parametrize(
    "text",
    [
        "mnist",
        "a/b/c",
        "",
        "https://example.com/datasets/a/b",
        "https://huggingface.co/ylecun/some-model",
        "hf://models/a/b",
        "hf://datasets/a",
        "-a/b",
        "a/b c",
        "https://huggingface.co/datasets/a/b/tree/a b",
    ],
)
def test_bad_repo_references_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(BadRepoReference) as info:
        parse_repo(text)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a dataset repository") and message.endswith(
        ACCEPTED_FORMS
    )
    assert "\n" not in message


def test_url_revision_is_recorded_and_must_agree_with_the_option(
    user_catalog: Catalog, add_hub: HubServer
) -> None:
    commit = add_hub.hub.head("ylecun/mnist")
    result = user_catalog.add(
        f"https://huggingface.co/datasets/ylecun/mnist/tree/{commit}", name="pinned"
    )
    assert (result.revision, result.commit) == (commit, commit)
    assert result.manifest.source.revision == commit  # type: ignore[union-attr]
    assert user_catalog.sync("pinned")[0].commit == commit
    assert user_catalog.add("hf://datasets/ylecun/mnist@main", name="moving").revision == "main"
    with pytest.raises(
        BadRepoReference, match=r"names revision 'main' but the revision given is 'v2'"
    ):
        user_catalog.add("hf://datasets/ylecun/mnist@main", name="x", revision="v2")


@pytest.mark.parametrize(
    ("repo", "name"),
    [
        ("Salesforce/WikiText", "wikitext"),
        ("HuggingFaceH4/ultrachat_200k", "ultrachat_200k"),
        ("databricks/databricks-dolly-15k", "databricks-dolly-15k"),
        ("x/.hidden..name", "hidden..name"),
        ("x/---", "dataset"),
    ],
)
def test_default_names(repo: str, name: str) -> None:
    assert default_name(repo) == name


# ---- writing: names and files ------------------------------------------------------------------
def test_a_name_the_catalog_has_is_refused_unless_forced_over_a_builtin(
    tmp_path: Path, add_hub: HubServer
) -> None:
    catalog = Catalog(make_settings(tmp_path, add_hub.endpoint))
    with pytest.raises(
        NameTaken,
        match=r"dataset 'mnist' is already in the catalog \(.*catalog/mnist\.yaml\); "
        r"choose another name with --name \(or shadow the built-in",
    ):
        catalog.add("ylecun/mnist")
    assert not catalog.settings.user_catalog_dir.exists()
    result = catalog.add("ylecun/mnist", force=True)  # a user manifest may shadow a built-in one
    assert result.path == catalog.settings.user_catalog_dir / "mnist.yaml"
    assert any("shadows the built-in" in note for note in catalog.validate().notes)


def test_existing_files_are_never_overwritten_without_force(
    user_catalog: Catalog, tmp_path: Path
) -> None:
    first = user_catalog.add("ylecun/mnist", name="digits")
    assert first.path is not None
    first.path.write_text(first.text + "# my edits\n", encoding="utf-8")
    with pytest.raises(NameTaken, match=r"choose another --name \(or overwrite it with --force\)"):
        user_catalog.add("ylecun/mnist", name="digits")
    assert first.path.read_text(encoding="utf-8").endswith("# my edits\n")
    assert user_catalog.add("ylecun/mnist", name="digits", force=True).path == first.path
    assert first.path.read_text(encoding="utf-8") == first.text

    elsewhere = tmp_path / "drafts" / "digits.yaml"
    result = user_catalog.add("ylecun/mnist", name="other", output=elsewhere)
    assert result.path == elsewhere and parse_file(elsewhere).name == "other"
    assert f"{elsewhere} is not in a catalog folder" in result.review[-1]
    with pytest.raises(
        OutputExists, match=re.escape(f"{elsewhere} already exists; overwrite it with --force")
    ):
        user_catalog.add("ylecun/mnist", name="other", output=elsewhere)
    with pytest.raises(OutputExists):
        result.write(elsewhere)
    assert not list(elsewhere.parent.glob(".*"))  # no temporary file left behind


def test_invalid_name_is_refused_before_listing(user_catalog: Catalog, add_hub: HubServer) -> None:
    before = len(add_hub.requests)
    with pytest.raises(InvalidName, match=r"'My Data' is not a dataset name"):
        user_catalog.add("ylecun/mnist", name="My Data")
    assert len(add_hub.requests) == before


def test_library_code_prints_nothing(
    user_catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    scaffold("ylecun/mnist", settings=user_catalog.settings)
    user_catalog.add("databricks/databricks-dolly-15k", name="dolly")
    assert capsys.readouterr() == ("", "")


def test_module_level_add(
    add_hub: HubServer, monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    import pygestor

    monkeypatch.setenv("HF_ENDPOINT", add_hub.endpoint)
    result = pygestor.add("openai/gsm8k", name="gsm")
    assert result.path == isolated / "home" / ".config" / "pygestor" / "catalog" / "gsm.yaml"
    assert [s.name for s in result.subsets] == [
        "main.test",
        "main.train",
        "socratic.test",
        "socratic.train",
    ]


# ---- layout inference, pure (no server) --------------------------------------------------------
def _layout(*paths: str, card: str | None = None) -> dict[str, int]:
    listing = Snapshot(tuple(RemoteFile(p, 100) for p in paths), "main", "c" * 40)
    result = scaffold_listing("o/n", listing, card)
    assert parse_text(result.text).subsets == result.manifest.subsets
    return {s.name: s.partitions for s in result.subsets}


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        # one file at the root: train (as `datasets` names it); several: one subset per stem
        (["corpus.jsonl"], {"train": 1}),
        (["train.csv", "test.csv", "README.md"], {"train": 1, "test": 1}),
        (["2023_dump_a.jsonl.gz", "2023_dump_b.jsonl.gz"], {"a": 1, "b": 1}),
        # push_to_hub, with and without a config folder or data/
        (
            [
                "data/train-00000-of-00002.parquet",
                "data/train-00001-of-00002.parquet",
                "data/test-00000-of-00001.parquet",
            ],
            {"train": 2, "test": 1},
        ),
        (
            ["en/train-00000-of-00001.parquet", "de/train-00000-of-00001.parquet"],
            {"en": 1, "de": 1},
        ),
        (
            [
                "data/en/train-00000-of-00001.parquet",
                "data/en/test-00000-of-00001.parquet",
                "data/de/train-00000-of-00001.parquet",
            ],
            {"en.train": 1, "en.test": 1, "de.train": 1},
        ),
        # datatrove names, split folders, category folders
        (
            [
                "data/x_Latn/train/000_00000.parquet",
                "data/x_Latn/test/000_00000.parquet",
                "data/y_Cyrl/train/000_00000.parquet",
                "data/y_Cyrl/train/001_00000.parquet",
            ],
            {"x_Latn.train": 1, "x_Latn.test": 1, "y_Cyrl.train": 2},
        ),
        (
            [
                "data/CC-1/000_00000.parquet",
                "data/CC-2/000_00000.parquet",
                "sample/10BT/000_00000.parquet",
                "sample/20BT/000_00000.parquet",
            ],
            {"CC-1": 1, "CC-2": 1, "sample-10BT": 1, "sample-20BT": 1},
        ),
        # split words inside names (c4), shard counts that differ per split
        (
            [
                "en/c4-train.00000-of-00002.json.gz",
                "en/c4-train.00001-of-00002.json.gz",
                "en/c4-validation.00000-of-00001.json.gz",
                "rl/c4-train.00000-of-00001.json.gz",
            ],
            {"en.train": 2, "en.validation": 1, "rl.train": 1},
        ),
        # mixed formats in one repo
        (
            ["tables/a.csv", "tables/b.csv", "text/part-0001.txt", "text/part-0002.txt"],
            {"a": 1, "b": 1, "text": 2},
        ),
    ],
)
def test_layout_shapes(paths: list[str], expected: dict[str, int]) -> None:
    assert _layout(*paths) == expected


def test_mixed_formats_get_a_format_per_rule() -> None:
    listing = Snapshot(
        (
            RemoteFile("data/train-00000-of-00001.parquet", 5),
            RemoteFile("dump.jsonl.gz", 5),
            RemoteFile("extra.jsonl.gz", 5),
        ),
        "main",
        None,
    )
    result = scaffold_listing("o/n", listing)
    assert result.manifest.format is None
    assert {r.format.value for r in result.manifest.subsets if r.format} == {"parquet", "jsonl"}


def test_card_globs_with_brace_and_class_syntax() -> None:
    assert (
        glob_to_pattern("data/{train,dev}-[0-9]*.parquet")
        == "data/{_1:train|dev}-{_2:[0-9]}*.parquet"
    )
    card = parse_card(
        "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n"
        '    path: "data/{train,dev}-[0-9]*.parquet"\n---\n# T\n'
    )
    listing = Snapshot(
        (
            RemoteFile("data/train-1.parquet", 1),
            RemoteFile("data/dev-2.parquet", 1),
            RemoteFile("data/train-x.parquet", 1),
        ),
        "main",
        None,
    )
    result = scaffold_listing("o/n", listing, card)
    assert {s.name: s.partitions for s in result.subsets} == {"train": 2}
    assert "1 file matched no rule: data/train-x.parquet" in result.review


def test_card_problems_are_reported_not_fatal() -> None:
    assert (
        parse_card("---\n: [\n---\nbody").problem
        == "its YAML front matter does not parse (ParserError)"
    )
    listing = Snapshot((RemoteFile("data/train.jsonl", 1),), "main", None)
    result = scaffold_listing(
        "o/n", listing, "---\nconfigs:\n- config_name: x\n  data_dir: d\n---\n"
    )
    assert {s.name for s in result.subsets} == {"train"}
    assert "card config 'x' has no data_files (only data_dir 'd')" in result.review


# ---- the command line --------------------------------------------------------------------------
@pytest.fixture
def runner(add_hub: HubServer) -> Iterator[CliRunner]:
    yield CliRunner(env={"HF_ENDPOINT": add_hub.endpoint})


def test_cli_add_prints_what_it_inferred(
    runner: CliRunner, add_hub: HubServer, isolated: Path
) -> None:
    result = runner.invoke(cli, ["add", "ylecun/mnist", "--name", "digits"])
    assert (result.exit_code, result.stderr) == (0, "")
    path = isolated / "home" / ".config" / "pygestor" / "catalog" / "digits.yaml"
    files = add_hub.hub.files("ylecun/mnist")
    size = sum(e["size"] for p, e in files.items() if p.endswith(".parquet"))
    commit = add_hub.hub.head("ylecun/mnist")
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"digits: 2 subsets, 2 partitions, {human_bytes(size)} from "
        f"hf://datasets/ylecun/mnist@main at {commit[:12]}",
        f"wrote {path} (subsets from the dataset card's configs)",
        "SUBSET  PARTITIONS  SIZE    ROWS",
    ]
    assert [(r.split()[0], r.split()[1], r.split()[-1]) for r in lines[3:5]] == [
        ("test", "1", "3"),
        ("train", "1", "6"),
    ]
    assert lines[5:] == [
        "review:",
        "  - subsets follow the dataset card's configs (1 config, 2 splits); check the names",
        "next: pygestor sync digits",
    ]
    assert parse_file(path).name == "digits"
    synced = runner.invoke(cli, ["sync", "digits"])
    assert synced.exit_code == 0 and synced.stdout.startswith("digits: 2 subsets, 2 partitions")


def test_cli_add_json_and_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["add", "openai/gsm8k", "--name", "gsm", "--json"])
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert {s["subset"]: s["partitions"] for s in report["subsets"]} == {
        "main.test": 1,
        "main.train": 1,
        "socratic.test": 1,
        "socratic.train": 1,
    }
    assert (report["name"], report["origin"], report["source"]) == (
        "gsm",
        "card",
        "hf://datasets/openai/gsm8k@main",
    )
    assert Path(report["path"]).read_text(encoding="utf-8") == report["manifest"]

    printed = runner.invoke(cli, ["add", "tatsu-lab/alpaca", "-o", "-"])
    assert printed.exit_code == 0
    assert parse_text(printed.stdout).name == "alpaca"
    assert printed.stderr.splitlines()[1] == "not written (subsets from the dataset card's configs)"
    assert printed.stderr.startswith("alpaca: 1 subset, 1 partition,")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["add", "mnist"], f"Error: 'mnist' is not a dataset repository; give {ACCEPTED_FORMS}"),
        (
            ["add", "nobody/nothing"],
            (
                r"Error: dataset 'nobody/nothing' on http://127\.0\.0\.1:\d+ was not found; "
                r"check the repository name, or set HF_TOKEN if it is private"
            ),
        ),
        (
            ["add", "ylecun/mnist"],
            (
                r"Error: dataset 'mnist' is already in the catalog \(\S+/catalog/mnist\.yaml\); "
                r"choose another name with --name \(or shadow the built-in manifest with --force\)"
            ),
        ),
        (
            ["add", "ylecun/mnist", "--name", "Bad Name"],
            r"Error: 'Bad Name' is not a dataset name: .*",
        ),
        (
            ["add", "ylecun/mnist", "--revision", "nope", "--name", "x"],
            r"Error: revision 'nope' of dataset 'ylecun/mnist' on \S+ was not found; check the "
            r"revision",
        ),
    ],
)
def test_cli_add_errors_are_one_line(runner: CliRunner, args: list[str], error: str) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and result.stdout == ""
    if error.startswith("Error: 'mnist'"):
        assert result.stderr == error + "\n"
    else:
        assert re.fullmatch(error + "\n", result.stderr), result.stderr


def test_cli_add_refuses_to_overwrite(runner: CliRunner, tmp_path: Path) -> None:
    target = tmp_path / "out.yaml"
    assert (
        runner.invoke(cli, ["add", "ylecun/mnist", "--name", "m", "-o", str(target)]).exit_code == 0
    )
    again = runner.invoke(cli, ["add", "ylecun/mnist", "--name", "m", "-o", str(target)])
    assert (again.exit_code, again.stderr) == (
        1,
        (
            f"Error: {target} already exists; overwrite it with --force "
            "(force=True) or choose another file with --output\n"
        ),
    )
    assert (
        runner.invoke(
            cli, ["add", "ylecun/mnist", "--name", "m", "-o", str(target), "--force"]
        ).exit_code
        == 0
    )
    assert runner.invoke(cli, ["add"]).exit_code == 2  # usage error: REPO missing

"""The command line: click's runner for exact output, real subprocesses for the scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import REPO_ROOT, run_cli, write_manifest
from pygestor import __version__
from pygestor.cli import cli, legacy_args
from pygestor.testing.hub import HubServer


@pytest.fixture
def runner(replica_hub: HubServer, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("HF_ENDPOINT", replica_hub.endpoint)
    return CliRunner()


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert (result.exit_code, result.output) == (0, f"pygestor, version {__version__}\n")


def test_list_sync_list_json(runner: CliRunner, tmp_path: Path) -> None:
    listed = runner.invoke(cli, ["list", "--json"])
    assert listed.exit_code == 0, listed.output
    records = {r["name"]: r for r in json.loads(listed.output)}
    assert records["mnist"]["subsets"] is None

    synced = runner.invoke(cli, ["sync", "mnist"])
    assert synced.exit_code == 0, synced.output
    assert synced.stdout.startswith("mnist: 2 subsets, 2 partitions, ")

    subsets = json.loads(runner.invoke(cli, ["list", "mnist", "--json"]).output)
    assert [(s["subset"], s["partitions"], s["partitions_local"]) for s in subsets] == [
        ("test", 1, 0),
        ("train", 1, 0),
    ]
    assert all(isinstance(s["bytes"], int) for s in subsets)
    parts = json.loads(runner.invoke(cli, ["list", "mnist", "-s", "train", "--json"]).output)
    assert [(p["partition"], p["state"], p["rows"]) for p in parts] == [
        ("train-00000-of-00001.parquet", "remote", None)
    ]
    assert set(parts[0]) == {
        "dataset",
        "subset",
        "partition",
        "path",
        "size",
        "state",
        "rows",
        "sha256",
        "downloaded_at",
        "location",
    }
    assert parts[0]["location"] is None  # not local: in no data directory


def test_list_tables(runner: CliRunner) -> None:
    runner.invoke(cli, ["sync", "mnist"])
    table = runner.invoke(cli, ["list", "mnist"]).output.splitlines()
    assert table[0].split() == ["SUBSET", "PARTITIONS", "SIZE", "ROWS", "ARROW", "COPY"]
    assert table[1].split()[:4] == ["test", "0", "/", "1"]
    parts = runner.invoke(cli, ["list", "mnist", "-s", "test"]).output.splitlines()
    assert parts[0].split() == ["PARTITION", "SIZE", "STATE", "ROWS"]
    assert parts[1].split()[0] == "test-00000-of-00001.parquet" and parts[1].split()[3] == "remote"
    datasets = runner.invoke(cli, ["list"]).output.splitlines()
    assert datasets[0].split() == ["NAME", "MODALITY", "SUBSETS", "PARTITIONS", "SIZE", "SOURCE"]
    mnist = next(line for line in datasets if line.startswith("mnist "))
    assert "0 / 2" in mnist and "hf://datasets/ylecun/mnist@main" in mnist


def test_sync_json_and_failure_exit_code(runner: CliRunner, tmp_path: Path) -> None:
    write_manifest(
        tmp_path / "cat",
        "nowhere",
        """
name: nowhere
source: {huggingface: nobody/nothing}
subsets: [{files: "*.parquet", name: all}]
""",
    )
    result = runner.invoke(
        cli, ["--catalog", str(tmp_path / "cat"), "sync", "mnist", "nowhere", "--json"]
    )
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert [r["dataset"] for r in out] == ["mnist", "nowhere"]
    assert out[0]["error"] is None and out[0]["partitions"] == 2
    assert "was not found" in out[1]["error"]


def test_user_errors_are_one_line_with_exit_1(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["list", "nosuch"])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: no dataset named 'nosuch' in the catalog; known: ")
    builtin = len(list((REPO_ROOT / "catalog").glob("*.yaml")))
    assert result.stderr.count("\n") == 1 and result.stderr.endswith(f", ... ({builtin} in all)\n")
    result = runner.invoke(cli, ["list", "mnist"])
    assert (result.exit_code, result.stderr) == (
        1,
        "Error: dataset 'mnist' has not been synced yet; run 'pygestor sync mnist'\n",
    )


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["nosuchcommand"]).exit_code == 2
    assert runner.invoke(cli, ["list", "--bogus"]).exit_code == 2
    assert runner.invoke(cli, ["list", "-s", "train"]).exit_code == 2


HOSTILE = {
    "traversal": (
        'name: traversal\nsource: {huggingface: a/b}\nsubsets:\n  - files: "../../etc/{x}"\n',
        "traversal.yaml:4: subsets[0].files: pattern '../../etc/{x}' has '..' as a path segment; "
        "remove it",
    ),
    "absolute": (
        'name: absolute\nsource: {huggingface: a/b}\nsubsets:\n  - files: "/etc/{x}"\n',
        "absolute.yaml:4: subsets[0].files: pattern '/etc/{x}' is absolute; write it relative to "
        "the source root",
    ),
    "huge": (
        'name: huge\nsource: {huggingface: a/b}\nsubsets:\n  - files: "' + "a" * 2000 + '/{x}"\n',
        "huge.yaml:4: subsets[0].files: pattern is 2004 characters long; the limit is 1024",
    ),
    "malformed": (
        'name: malformed\nsource: {huggingface: a/b}\nsubsets:\n  - files: "{subset/x.parquet"\n',
        "malformed.yaml:4: subsets[0].files: '{' at position 0 is never closed in "
        "'{subset/x.parquet'",
    ),
    "types": (
        "name: types\nsource: {huggingface: a/b}\nsubsets:\n  - files: [1, 2]\n    exclude: yes\n",
        "types.yaml:4: subsets[0].files[0]: expected text, got 1",
    ),
    "badyaml": (
        "name: badyaml\nsource: [unclosed\n",
        "badyaml.yaml:3: invalid YAML: did not find expected ',' or ']'",
    ),
    "unknown": (
        "name: unknown\nsourse: {huggingface: a/b}\nsubsets: [{files: 'x/{s}'}]\n",
        "unknown.yaml:1: source: required; add it",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_manifest_gets_its_error_line_and_exit_1(tmp_path: Path, case: str) -> None:
    text, first_line = HOSTILE[case]
    path = write_manifest(tmp_path / "cat", case, text)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"{tmp_path / 'cat'}/{first_line}"
    assert all(line.startswith(str(path)) for line in lines)
    assert "Traceback" not in result.output


def test_duplicate_names_in_user_folders(tmp_path: Path) -> None:
    text = "name: same\nsource: {huggingface: a/b}\nsubsets: [{files: '{subset}/*'}]\n"
    write_manifest(tmp_path / "a", "one", text)
    write_manifest(tmp_path / "b", "two", text)
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "a"), str(tmp_path / "b")])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{tmp_path}/b/two.yaml:1: name: dataset 'same' is already defined by "
        f"{tmp_path}/a/one.yaml; rename one of them or remove a file\n"
    )


def test_validate_builtin_catalog_and_shadow_note(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate"])
    builtin = len(list((REPO_ROOT / "catalog").glob("*.yaml")))
    assert (result.exit_code, result.stdout) == (0, f"{builtin} manifests valid\n")
    write_manifest(
        tmp_path / "mine",
        "mnist",
        "name: mnist\nsource: {huggingface: me/mnist}\nsubsets: [{files: '{subset}/*'}]\n",
    )
    result = CliRunner().invoke(cli, ["--catalog", str(tmp_path / "mine"), "validate", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"] is True
    assert report["notes"] == [
        (
            f"{tmp_path}/mine/mnist.yaml: dataset 'mnist' shadows the built-in "
            f"{REPO_ROOT}/catalog/mnist.yaml"
        )
    ]


def test_validate_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "nope.yaml")])
    assert (result.exit_code, result.stderr) == (
        1,
        f"{tmp_path}/nope.yaml: no such file or folder\n",
    )


def test_schema_file_is_up_to_date() -> None:
    from pygestor.manifest.schema import json_schema_text

    committed = (REPO_ROOT / "schemas" / "manifest.schema.json").read_text(encoding="utf-8")
    assert committed == json_schema_text(), (
        "run: pygestor schema --output schemas/manifest.schema.json"
    )
    result = CliRunner().invoke(
        cli, ["schema", "--check", str(REPO_ROOT / "schemas" / "manifest.schema.json")]
    )
    assert result.exit_code == 0


def test_manifest_reference_doc_is_up_to_date(tmp_path: Path) -> None:
    from pygestor.manifest.schema import reference_markdown

    doc = REPO_ROOT / "docs" / "manifest.md"
    assert doc.read_text(encoding="utf-8") == reference_markdown(), (
        "run: pygestor schema --markdown -o docs/manifest.md"
    )
    stale = tmp_path / "old.md"
    stale.write_text("# old\n")
    result = CliRunner().invoke(cli, ["schema", "--markdown", "--check", str(stale)])
    assert (result.exit_code, result.stderr) == (
        1,
        f"Error: {stale} is out of date; run 'pygestor schema --markdown --output {stale}'\n",
    )


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-l"], ["list"]),
        (["-l", "-d", "wikipedia"], ["list", "wikipedia"]),
        (
            ["--list", "--dataset_name", "wikipedia", "--subset_name", "20231101.en"],
            ["list", "wikipedia", "-s", "20231101.en"],
        ),
        (["-init"], ["sync"]),
        (["--initialize", "-d", "mnist"], ["sync", "mnist"]),
        (["-deinit", "-d", "mnist"], ["forget", "mnist"]),
        (["list", "-s", "x"], ["list", "-s", "x"]),  # new syntax passes through
    ],
)
def test_legacy_flags_translate(argv: list[str], expected: list[str]) -> None:
    assert legacy_args(argv) == expected


def test_subprocess_script_and_cli_py(replica_hub: HubServer, tmp_path: Path) -> None:
    env = {"HF_ENDPOINT": replica_hub.endpoint}
    synced = run_cli(["-init", "-d", "mnist"], env=env, script=False)
    assert synced.returncode == 0, synced.stderr
    assert synced.stdout.startswith("mnist: 2 subsets, 2 partitions")
    listed = run_cli(["-l", "-d", "mnist", "-s", "train"], env=env, script=False)
    assert listed.returncode == 0 and "train-00000-of-00001.parquet" in listed.stdout
    as_json = run_cli(["list", "mnist", "--json"], env=env)
    assert as_json.returncode == 0 and json.loads(as_json.stdout)[0]["subset"] == "test"
    bad = run_cli(["list", "nosuch"], env=env)
    assert (bad.returncode, bad.stderr.count("\n"), "Traceback" in bad.stderr) == (1, 1, False)
    usage = run_cli(["-u"], env=env, script=False)
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_validate_resolve_lists_sources_and_fails_on_empty_rules(
    runner: CliRunner, tmp_path: Path
) -> None:
    write_manifest(
        tmp_path / "cat",
        "mnist2",
        """name: mnist2
source: {huggingface: ylecun/mnist}
subsets:
  - files: "mnist/{subset}-*.parquet"
  - files: "extra/*.parquet"
    name: extra
""",
    )
    write_manifest(
        tmp_path / "cat",
        "ghost",
        "name: ghost\nsource: {huggingface: nobody/ghost}\n"
        "subsets: [{files: '*.csv', name: all}]\n",
    )
    result = runner.invoke(cli, ["validate", "--resolve", str(tmp_path / "cat")])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{tmp_path}/cat/ghost.yaml:2: source: ghost (")
    assert "dataset 'nobody/ghost' on http://127.0.0.1:" in lines[0]
    assert lines[1].startswith(
        f"{tmp_path}/cat/mnist2.yaml:5: subsets[1]: matches no file of "
        "hf://datasets/ylecun/mnist@main at "
    )
    assert len(lines) == 2
    assert not (tmp_path / "data" / ".pygestor").exists()  # a dry run: nothing recorded
    plain = runner.invoke(cli, ["validate", str(tmp_path / "cat")])
    assert plain.exit_code == 0


def test_pre_commit_hooks_run_real_commands() -> None:
    import yaml

    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert [h["id"] for h in hooks] == ["pygestor-validate", "pygestor-validate-resolve"]
    for hook in hooks:
        program, *args = hook["entry"].split()
        assert program == "pygestor"
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
    files = sorted(str(p) for p in (REPO_ROOT / "catalog").glob("*.yaml"))
    result = CliRunner().invoke(cli, [*hooks[0]["entry"].split()[1:], *files])
    assert (result.exit_code, result.stdout) == (0, f"{len(files)} manifests valid\n")


def test_readme_demo_runs_sync_download_load_offline(tmp_path: Path) -> None:
    """README's first command: the demo must keep working end to end."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "pygestor.testing.demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert (
        "$ pygestor download wikipedia -s 20231101.en --workers 4\nwikipedia: fetched 41 partitions"
        in out
    )
    assert "123 rows x 3 columns" in out
    assert out.rstrip().endswith(
        "demo complete: sync -> download -> load of wikipedia from the offline Hub (loaded offline)"
    )


def test_validate_an_empty_folder_fails(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["validate", str(tmp_path / "empty")])
    assert (result.exit_code, result.stderr) == (
        1,
        f"{tmp_path}/empty: no manifests (*.yaml, *.yml) in this folder; check the path\n",
    )

"""The docs are checked like code.

- docs/adding-a-dataset.md: every ```yaml block is a valid manifest; an example whose ```text file
  list precedes it resolves those files to exactly its "- yields:" subsets (and leaves exactly its
  "- not taken:" files); for a Hub repository with a replica, the listed paths exist in the
  replica and the manifest takes files of the whole replica with no empty rule; local-folder
  examples are synced for real against the listed files; the mnist load example loads.
- docs/catalog.md is what `pygestor.docs.catalog_markdown()` generates.
- Relative links (and their #anchors) in README.md and docs/*.md point at existing files/headings.
- Commands named in README's command table and in the docs' code exist in the CLI.
- docs/ci.md's YAML snippets parse and name hooks that .pre-commit-hooks.yaml defines.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, make_settings
from pygestor.catalog import Catalog
from pygestor.cli import cli
from pygestor.docs import COMMAND, catalog_markdown
from pygestor.manifest.discovery import parse_text
from pygestor.manifest.models import HuggingFaceSource, LocalSource, Manifest
from pygestor.resolve import Resolution, resolve
from pygestor.sources.base import RemoteFile
from pygestor.testing.hub import HubServer
from pygestor.testing.replicas import Replica, install
from pygestor.testing.replicas_catalog import CATALOG_REPLICAS

DOCS = REPO_ROOT / "docs"
ADDING = DOCS / "adding-a-dataset.md"
MARKDOWN = [REPO_ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


# ---- reading markdown -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    lang: str
    text: str
    line: int  # of the opening fence, 1-based
    after: tuple[str, ...]  # the lines after the closing fence, up to the next fence


def fenced_blocks(text: str) -> list[Block]:
    lines = text.splitlines()
    found: list[tuple[str, int, int]] = []  # lang, opening index, closing index
    i = 0
    while i < len(lines):
        m = re.fullmatch(r"```(\S*)\s*", lines[i])
        if m:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            found.append((m.group(1), i, end))
            i = end
        i += 1
    blocks = []
    for n, (lang, start, end) in enumerate(found):
        stop = found[n + 1][1] if n + 1 < len(found) else len(lines)
        body = "\n".join(lines[start + 1 : end]) + "\n"
        blocks.append(Block(lang, body, start + 1, tuple(lines[end + 1 : stop])))
    return blocks


def without_fences(text: str) -> str:
    return re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)


def without_code(text: str) -> str:
    """The text with fenced blocks and code spans blanked (links inside them are not links)."""
    return re.sub(r"`[^`\n]*`", "", without_fences(text))


def listed(after: tuple[str, ...], label: str) -> list[str] | None:
    """The backticked items of the "- LABEL:" line right after a block, None if there is none."""
    for line in after:
        if not line.strip():
            continue
        if not line.startswith("- "):
            return None
        if line.startswith(f"- {label}:"):
            return re.findall(r"`([^`]+)`", line)
    return None


@dataclass(frozen=True)
class Example:
    manifest: Manifest
    line: int
    files: tuple[str, ...] | None  # the ```text block right before it
    yields: list[str] | None
    not_taken: list[str]


def examples() -> list[Example]:
    blocks = fenced_blocks(ADDING.read_text(encoding="utf-8"))
    found = []
    for n, block in enumerate(blocks):
        if block.lang != "yaml":
            continue
        where = f"{ADDING.name}:{block.line}"
        manifest = parse_text(block.text, where)  # raises ManifestError naming the line
        before = blocks[n - 1] if n else None
        files = None
        if before is not None and before.lang == "text":
            files = tuple(line.strip() for line in before.text.splitlines() if line.strip())
        found.append(
            Example(
                manifest,
                block.line,
                files,
                listed(block.after, "yields"),
                listed(block.after, "not taken") or [],
            )
        )
    return found


EXAMPLES = examples()


def example_id(example: Example) -> str:
    return f"{example.manifest.name}@{example.line}"


# ---- replicas ---------------------------------------------------------------------------------


@cache
def replicas_by_repo() -> dict[str, Replica]:
    built = [build() for build in CATALOG_REPLICAS.values()]
    return {r.repo_id: r for r in built}


def replica_files(source: HuggingFaceSource) -> dict[str, bytes] | None:
    replica = replicas_by_repo().get(source.huggingface)
    if replica is None:
        return None
    rev = source.revision
    if rev == "main":
        return dict(replica.files)
    files = replica.branches.get(rev) or replica.branches.get(f"refs/tags/{rev}")
    assert files is not None, f"the replica of {source.huggingface} has no revision {rev!r}"
    return dict(files)


def resolved(manifest: Manifest, paths: list[str] | tuple[str, ...]) -> Resolution:
    return resolve(manifest, [RemoteFile(p, 1) for p in paths])


# ---- (a) adding-a-dataset.md ------------------------------------------------------------------


def test_the_guide_has_an_example_per_layout() -> None:
    names = [e.manifest.name for e in EXAMPLES if e.yields is not None]
    assert len(names) >= 15, names
    repos = {
        e.manifest.source.huggingface
        for e in EXAMPLES
        if isinstance(e.manifest.source, HuggingFaceSource)
    }
    assert any(isinstance(e.manifest.source, LocalSource) for e in EXAMPLES)
    assert {
        "openai/gsm8k",
        "HuggingFaceTB/cosmopedia",
        "wikimedia/wikipedia",
        "HuggingFaceFW/fineweb-edu",
        "cais/mmlu",
        "HuggingFaceFW/fineweb-2",
        "allenai/c4",
        "HuggingFaceH4/ultrachat_200k",
        "tatsu-lab/alpaca",
        "databricks/databricks-dolly-15k",
        "OpenAssistant/oasst1",
        "ylecun/mnist",
    } <= repos
    assert any(e.manifest.subsets[0].exclude for e in EXAMPLES)
    assert any(
        isinstance(e.manifest.source, HuggingFaceSource)
        and e.manifest.source.revision == "refs/convert/parquet"
        for e in EXAMPLES
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=example_id)
def test_example_yields_what_the_guide_says(example: Example) -> None:
    if example.files is None:
        assert example.yields is None, (
            f"line {example.line}: a yields line needs a ```text file list before the YAML"
        )
        return
    assert example.yields is not None, f"line {example.line}: add '- yields: `...`' after the YAML"
    result = resolved(example.manifest, example.files)
    assert [s.name for s in result.subsets] == sorted(example.yields), f"line {example.line}"
    assert sorted(result.unmatched) == sorted(example.not_taken), f"line {example.line}"
    assert result.skipped == ()
    assert result.empty_rules == () or isinstance(example.manifest.source, HuggingFaceSource)


@pytest.mark.parametrize(
    "example",
    [e for e in EXAMPLES if e.files and isinstance(e.manifest.source, HuggingFaceSource)],
    ids=example_id,
)
def test_hub_example_matches_the_replica(example: Example) -> None:
    assert isinstance(example.manifest.source, HuggingFaceSource)
    files = replica_files(example.manifest.source)
    assert files is not None, f"no replica of {example.manifest.source.huggingface}"
    assert example.files is not None and example.yields is not None
    missing = [p for p in example.files if p not in files]
    assert not missing, (
        f"line {example.line}: not paths of {example.manifest.source.huggingface}: {missing}"
    )
    whole = resolved(example.manifest, sorted(files))
    assert whole.empty_rules == (), f"line {example.line}: rules matching nothing in the replica"
    assert whole.skipped == ()
    assert set(example.yields) <= {s.name for s in whole.subsets}


@pytest.mark.parametrize(
    "example", [e for e in EXAMPLES if isinstance(e.manifest.source, LocalSource)], ids=example_id
)
def test_local_example_syncs_a_real_folder(example: Example, tmp_path: Path) -> None:
    assert example.files is not None and example.yields is not None
    root = tmp_path / "share"
    for path in example.files:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"x")
    text = yaml.safe_dump(
        {
            **example.manifest.model_dump(mode="json", exclude_defaults=True, by_alias=True),
            "source": {"local": str(root)},
        }
    )
    (tmp_path / "user-catalog").mkdir()
    (tmp_path / "user-catalog" / f"{example.manifest.name}.yaml").write_text(text, encoding="utf-8")
    catalog = Catalog(make_settings(tmp_path))
    [result] = catalog.sync(example.manifest.name)
    assert result.error is None
    assert sorted(s["subset"] for s in catalog.subset_records(example.manifest.name)) == sorted(
        example.yields
    )
    assert sorted(result.unmatched) == sorted(example.not_taken)


def test_mnist_load_example_loads(tmp_path: Path, hub: HubServer) -> None:
    [example] = [e for e in EXAMPLES if e.manifest.name == "mnist"]
    assert example.manifest.load.decode == {"image": "image"}
    install(hub.hub, replicas_by_repo()["ylecun/mnist"])
    folder = tmp_path / "user-catalog"
    folder.mkdir()
    blocks = [
        b for b in fenced_blocks(ADDING.read_text(encoding="utf-8")) if b.line == example.line
    ]
    (folder / "mnist.yaml").write_text(blocks[0].text, encoding="utf-8")
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    df = catalog.load("mnist", "train")
    assert list(df.columns) == ["image", "label"]
    assert str(df["label"].dtype) == "category"
    assert df["image"][0].size == (28, 28)
    assert (
        str(catalog.load("mnist", "train", columns=["label"], dtypes={})["label"].dtype) == "int64"
    )


# ---- (b) docs/catalog.md ----------------------------------------------------------------------


def test_catalog_page_is_generated_from_the_manifests() -> None:
    page = DOCS / "catalog.md"
    assert page.read_text(encoding="utf-8") == catalog_markdown(), (
        f"docs/catalog.md is out of date; run: {COMMAND}"
    )


def test_catalog_page_sizes_name_real_datasets() -> None:
    from pygestor.docs import CARD_SIZES

    assert set(CARD_SIZES) <= set(CATALOG_REPLICAS), "CARD_SIZES names a dataset the catalog lacks"
    assert all(size.source for size in CARD_SIZES.values())


# ---- (c) links ----------------------------------------------------------------------------------


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]{1,2}(?=\S)|(?<=\S)[`*_]{1,2}", "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = without_fences(path.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.+?)\s*$", text, flags=re.MULTILINE)}


def relative_links(path: Path) -> Iterator[str]:
    for m in re.finditer(r"\]\(([^)\s]+)\)", without_code(path.read_text(encoding="utf-8"))):
        target = m.group(1)
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
            yield target


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_relative_links_point_at_files(path: Path) -> None:
    broken = []
    for target in relative_links(path):
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            broken.append(target)
    assert not broken, f"{path.name}: broken links {broken}"


def test_the_docs_are_linked_from_the_readme() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for page in ("docs/adding-a-dataset.md", "docs/catalog.md", "docs/ci.md", "docs/manifest.md"):
        assert f"]({page})" in readme, page


# ---- (d) commands -------------------------------------------------------------------------------


def readme_table_commands() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `pygestor ([a-z][\w-]*)", section, flags=re.MULTILINE)


def test_readme_command_table_names_real_commands() -> None:
    named = readme_table_commands()
    assert len(named) >= 10
    assert set(named) <= set(cli.commands), set(named) - set(cli.commands)
    assert set(cli.commands) <= set(named), (
        f"commands missing from README's table: {set(cli.commands) - set(named)}"
    )


def test_commands_in_the_docs_exist() -> None:
    unknown = set()
    for path in MARKDOWN:
        text = path.read_text(encoding="utf-8")
        code = [b.text for b in fenced_blocks(text) if b.lang in ("bash", "console", "sh", "shell")]
        spans = re.findall(r"`([^`\n]+)`", without_fences(text))
        for snippet in code + spans:
            for m in re.finditer(
                r"(?:^\s*(?:\$ )?|&& |; )pygestor ([a-z][\w-]*)", snippet, flags=re.MULTILINE
            ):
                if m.group(1) not in cli.commands:
                    unknown.add(f"{path.name}: pygestor {m.group(1)}")
    assert not unknown, sorted(unknown)


# ---- docs/ci.md
# -----------------------------------------------------------------------------------


def test_ci_snippets_parse_and_use_real_hooks() -> None:
    hooks = {h["id"] for h in yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())}
    used: set[str] = set()
    for block in fenced_blocks((DOCS / "ci.md").read_text(encoding="utf-8")):
        if block.lang != "yaml":
            continue
        data = yaml.safe_load(block.text)
        assert isinstance(data, dict), f"ci.md:{block.line}"
        for repo in data.get("repos", []):
            used |= {h["id"] for h in repo.get("hooks", [])}
    assert used and used <= hooks, used - hooks

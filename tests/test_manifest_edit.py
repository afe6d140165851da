"""Curating manifests (what the web UI edits): in-place edits that keep every other byte, the
validator's problems for editor text, proposals from the Hub that touch no other host, saving,
deleting."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import (
    BadRepoReference,
    DatasetNotFound,
    InvalidEdit,
    InvalidManifest,
    ManifestChanged,
    ManifestExists,
    Problem,
    PygestorError,
    ReadOnlyManifest,
)
from pygestor.manifest.edit import sha256_text
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer

COMMENTED = """\
# yaml-language-server: $schema=../schemas/manifest.schema.json
# A user manifest full of comments: none of them may move.
name: corpus   # the catalog key

# What it is, for `pygestor list`
description: "An old description."  # shown by list
modality: [text]  # one for now
# the license follows
license: mit   # MIT
# Free-form keywords
tags:
  - web   # first
  # between the tags
  - english

source:
  local: /srv/corpus   # read in place
subsets:
  # one subset per folder
  - files: "{subset}/*.jsonl"   # one per folder
format: jsonl
# the end
"""


@pytest.fixture
def user(tmp_path: Path) -> Catalog:
    """A catalog of one commented user manifest `corpus` (the built-in catalog too)."""
    write_manifest(tmp_path / "user-catalog", "corpus", COMMENTED)
    return Catalog(make_settings(tmp_path))


def _path(catalog: Catalog, name: str = "corpus") -> Path:
    return catalog.settings.user_catalog_dir / f"{name}.yaml"


# ---- manifest_file ---------------------------------------------------------------------------
def test_manifest_file_of_a_user_and_a_builtin_manifest(user: Catalog) -> None:
    record = user.manifest_file("corpus")
    assert record == {
        "name": "corpus",
        "path": str(_path(user)),
        "text": COMMENTED,
        "builtin": False,
        "editable": True,
        "sha256": sha256_text(COMMENTED),
    }
    builtin = user.manifest_file("wikipedia")
    shipped = user.settings.builtin_catalog_dir / "wikipedia.yaml"
    assert (builtin["builtin"], builtin["editable"], builtin["path"]) == (True, False, str(shipped))
    assert builtin["text"] == shipped.read_text(encoding="utf-8")
    with pytest.raises(DatasetNotFound):
        user.manifest_file("nope")


# ---- edit_manifest ---------------------------------------------------------------------------
def test_an_edit_changes_exactly_the_lines_of_the_keys_it_changes(user: Catalog) -> None:
    path = _path(user)
    os.chmod(path, 0o640)
    record = user.edit_manifest(
        "corpus",
        {
            "description": "Web text: English pages, one subset per crawl.",
            "modality": ["text", "tabular"],
            "tags": ["web", "english", "crawl"],
            "license": "cc-by-4.0",
        },
        expected_sha256=sha256_text(COMMENTED),
    )
    expected = COMMENTED.replace(
        'description: "An old description."  # shown by list',
        'description: "Web text: English pages, one subset per crawl."  # shown by list',
    )
    expected = expected.replace("modality: [text]  #", "modality: [text, tabular]  #")
    expected = expected.replace("license: mit   # MIT", "license: cc-by-4.0   # MIT")
    expected = expected.replace(
        "  - web   # first\n  # between the tags\n  - english\n",
        "  - web\n  - english\n  - crawl\n",
    )
    assert path.read_text(encoding="utf-8") == expected
    assert record["text"] == expected and record["sha256"] == sha256_text(expected)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # the file's mode is kept
    assert sorted(p.name for p in path.parent.iterdir()) == ["corpus.yaml"]  # no temp file left
    manifest = user.manifest("corpus")
    assert (manifest.description, manifest.modality, manifest.tags, manifest.license) == (
        "Web text: English pages, one subset per crawl.",
        ["text", "tabular"],
        ["web", "english", "crawl"],
        "cc-by-4.0",
    )


def test_removing_the_license_keeps_the_comments_around_it(user: Catalog) -> None:
    user.edit_manifest("corpus", {"license": None})
    assert _path(user).read_text(encoding="utf-8") == COMMENTED.replace(
        "license: mit   # MIT\n", ""
    )
    user.edit_manifest("corpus", {"license": "apache-2.0"})  # a new key: right after modality
    assert _path(user).read_text(encoding="utf-8") == COMMENTED.replace(
        "license: mit   # MIT\n", ""
    ).replace("  # one for now\n", "  # one for now\nlicense: apache-2.0\n")


def test_new_keys_go_in_the_manifests_order_and_same_values_change_nothing(
    tmp_path: Path,
) -> None:
    text = "name: bare\nsource: {local: /srv/bare}\nsubsets:\n- files: '*.txt'\n  name: all\n"
    path = write_manifest(tmp_path / "user-catalog", "bare", text)
    catalog = Catalog(make_settings(tmp_path))
    catalog.edit_manifest(
        "bare", {"tags": ["a b", "yes"], "description": "on", "modality": [], "license": None}
    )
    # `yes` and `on` would read back as true in YAML 1.1 (PyYAML, the validator): quoted
    assert path.read_text(encoding="utf-8") == (
        'name: bare\ndescription: "on"\ntags: [a b, "yes"]\nsource: {local: /srv/bare}\n'
        "subsets:\n- files: '*.txt'\n  name: all\n"
    )
    before = path.stat().st_mtime_ns
    catalog.edit_manifest("bare", {"tags": ["a b", "yes"], "description": " on "})
    assert path.stat().st_mtime_ns == before  # nothing to change: the file is not rewritten


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"homepage": "https://x.org"},
            "'homepage' cannot be edited here; the keys that can: description, modality, "
            "tags, license",
        ),
        (
            {"name": "other"},
            "name: a dataset's name cannot be changed (it keys its data and index); save a copy "
            "under the new name and delete this one",
        ),
        ({"description": 3}, "description: expected text, got 3"),
        ({"license": ["mit"]}, "license: expected text, or null to remove it, got ['mit']"),
        ({"tags": "web"}, "tags: expected a list of texts, got 'web'"),
        ({"tags": ["web", 1]}, "tags: expected a list of texts, got ['web', 1]"),
        ({"tags": ["web", " "]}, "tags: an empty tag; remove it"),
        (
            {"modality": ["text", "picture"]},
            "modality: 'picture' is not a modality; use text, image, audio, video, tabular, "
            "multimodal, other",
        ),
        (
            ["description"],
            "changes: expected a mapping of description, modality, tags, license, got "
            "['description']",
        ),
    ],
)
def test_bad_changes_are_one_line_and_write_nothing(
    user: Catalog, changes: object, message: str
) -> None:
    with pytest.raises(InvalidEdit) as caught:
        user.edit_manifest("corpus", changes)  # type: ignore[arg-type]
    assert str(caught.value) == message
    assert _path(user).read_text(encoding="utf-8") == COMMENTED


def test_an_edit_the_validator_refuses_is_not_written(tmp_path: Path) -> None:
    text = (
        "name: aliased\ntags: &cols [id, text]\nsource: {local: /srv/a}\n"
        "subsets:\n- files: '*.jsonl'\n  name: all\nload:\n  columns: *cols\n"
    )
    path = write_manifest(tmp_path / "user-catalog", "aliased", text)
    catalog = Catalog(make_settings(tmp_path))
    with pytest.raises(InvalidManifest) as caught:
        catalog.edit_manifest("aliased", {"tags": ["web"]})  # the anchor `load` uses would go
    assert caught.value.problems == (
        Problem(str(path), 8, "", "invalid YAML: found undefined alias"),
    )
    assert path.read_text(encoding="utf-8") == text
    with pytest.raises(InvalidManifest) as caught:
        catalog.edit_manifest("aliased", {"description": "x" * 1_000_001})
    assert str(caught.value) == (
        f"{path}: larger than 1,000,000 bytes, far more than a manifest needs; is this the "
        "right file?"
    )
    assert path.read_text(encoding="utf-8") == text


def test_builtin_manifests_are_read_only(user: Catalog) -> None:
    shipped = user.settings.builtin_catalog_dir / "wikipedia.yaml"
    before = shipped.read_bytes()
    expected = (
        f"{shipped}: dataset 'wikipedia' is built in and read-only; to change it, copy "
        f"wikipedia.yaml into {user.settings.user_catalog_dir} and edit the copy (it shadows "
        "the built-in one), or write one with 'pygestor add --force'"
    )
    with pytest.raises(ReadOnlyManifest) as caught:
        user.edit_manifest("wikipedia", {"description": "mine"})
    assert str(caught.value) == expected
    with pytest.raises(ReadOnlyManifest) as caught:
        user.delete_manifest("wikipedia")
    assert str(caught.value) == expected
    assert shipped.read_bytes() == before
    assert isinstance(caught.value, PermissionError)


def test_a_shadowing_copy_of_a_builtin_is_editable(user: Catalog) -> None:
    shipped = user.settings.builtin_catalog_dir / "mnist.yaml"
    write_manifest(user.settings.user_catalog_dir, "mnist", shipped.read_text(encoding="utf-8"))
    record = user.edit_manifest("mnist", {"tags": ["digits"]})
    assert (record["builtin"], record["editable"]) == (False, True)
    assert "tags: [digits]\n" in record["text"]


def test_a_concurrent_change_is_detected_and_left_alone(user: Catalog) -> None:
    read = user.manifest_file("corpus")
    path = _path(user)
    theirs = COMMENTED.replace("An old description.", "Their description.")
    path.write_text(theirs, encoding="utf-8")
    with pytest.raises(ManifestChanged) as caught:
        user.edit_manifest("corpus", {"description": "Mine."}, expected_sha256=read["sha256"])
    assert str(caught.value) == (
        f"{path} changed since it was read (sha256 {sha256_text(theirs)[:12]}..., expected "
        f"{read['sha256'][:12]}...); nothing was written: reload it and make the change again"
    )
    assert path.read_text(encoding="utf-8") == theirs
    fresh = user.manifest_file("corpus")["sha256"]
    user.edit_manifest("corpus", {"description": "Mine."}, expected_sha256=fresh)
    assert 'description: "Mine."  # shown by list\n' in path.read_text(encoding="utf-8")


def _race(catalog: Catalog, descriptions: list[str]) -> dict[str, str]:
    """Edit `corpus` from one thread per description at once, all from the same read."""
    sha = catalog.manifest_file("corpus")["sha256"]
    barrier = threading.Barrier(len(descriptions))
    outcomes: dict[str, str] = {}

    def edit(description: str) -> None:
        barrier.wait()
        try:
            catalog.edit_manifest("corpus", {"description": description}, expected_sha256=sha)
            outcomes[description] = "ok"
        except ManifestChanged:
            outcomes[description] = "changed"

    threads = [threading.Thread(target=edit, args=(d,)) for d in descriptions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_concurrent_edits_one_wins_none_is_lost(user: Catalog) -> None:
    for round_ in range(10):
        outcomes = _race(user, [f"r{round_}.{i}" for i in range(4)])
        winners = [d for d, outcome in outcomes.items() if outcome == "ok"]
        assert len(outcomes) == 4 and len(winners) == 1
        assert f'description: "{winners[0]}"  # shown by list' in _path(user).read_text()


def test_an_unwritable_user_manifest_is_not_editable(user: Catalog) -> None:
    """Mode 0444 for an ordinary user; root ignores modes, so for root the folder is bind-mounted
    read-only over itself (which refuses root too)."""
    folder = user.settings.user_catalog_dir
    before = _path(user).read_text()
    if os.geteuid() != 0:
        os.chmod(_path(user), 0o444)
    else:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True)
    try:
        assert user.manifest_file("corpus")["editable"] is False
        with pytest.raises(ReadOnlyManifest, match="cannot write"):
            user.edit_manifest("corpus", {"description": "x"})
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=True)
    assert _path(user).read_text() == before


def test_a_symbolic_link_is_not_edited_through(tmp_path: Path, user: Catalog) -> None:
    elsewhere = write_manifest(
        tmp_path / "elsewhere", "linked", COMMENTED.replace("corpus", "linked")
    )
    (user.settings.user_catalog_dir / "linked.yaml").symlink_to(elsewhere)
    assert user.manifest_file("linked")["editable"] is False
    with pytest.raises(ReadOnlyManifest, match="is a symbolic link; edit the file it points to"):
        user.edit_manifest("linked", {"description": "x"})
    assert elsewhere.read_text(encoding="utf-8") == COMMENTED.replace("corpus", "linked")


def test_editing_without_ruamel_says_what_to_install(
    user: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ruamel.yaml", None)  # as if it were not installed
    with pytest.raises(PygestorError) as caught:
        user.edit_manifest("corpus", {"description": "x"})
    assert str(caught.value) == "editing manifests needs ruamel.yaml: pip install 'pygestor[ui]'"
    assert user.manifest_file("corpus")["editable"] is True  # reading needs no ruamel


# ---- check_manifest --------------------------------------------------------------------------
BAD_TEXTS = {
    "syntax": "name: x\nsource: [unclosed\n",
    "hazard": "name: x\ndescription: !!python/object:os.system ls\n",
    "model": "name: x\ndescriptoin: typo\nsource: {local: /x}\nsubsets: [{files: a, name: b}]\n",
    "pattern": "name: x\nsource: {local: /srv/x}\nsubsets:\n  - files: '{subset}/{subset}.txt'\n",
    "twice": "name: x\nname: y\nsource: {local: /srv/x}\nsubsets: [{files: a, name: b}]\n",
    "large": "name: x\ndescription: " + "\u00e9" * 600_000 + "\n",  # 1.2 MB, 600,000 characters
}


@pytest.mark.parametrize("kind", sorted(BAD_TEXTS))
def test_check_manifest_reports_what_validate_prints(
    user: Catalog, tmp_path: Path, kind: str
) -> None:
    path = write_manifest(tmp_path / "elsewhere", kind, BAD_TEXTS[kind])
    problems = user.check_manifest(BAD_TEXTS[kind], file=str(path))
    assert problems and problems == list(user.validate([path]).problems)
    assert [str(p) for p in user.check_manifest(BAD_TEXTS[kind])] == [
        str(p).replace(str(path), "<editor>") for p in problems
    ]


def test_check_manifest_flags_a_name_another_user_manifest_has(user: Catalog) -> None:
    text = COMMENTED.replace("/srv/corpus", "/srv/other")
    assert user.check_manifest(text) == [
        Problem(
            "<editor>",
            3,
            "name",
            f"dataset 'corpus' is already defined by {_path(user)}; rename one of them or "
            "remove a file",
        )
    ]
    assert user.check_manifest(text, file=str(_path(user))) == []  # its own file
    shipped = (user.settings.builtin_catalog_dir / "mnist.yaml").read_text(encoding="utf-8")
    assert user.check_manifest(shipped) == []  # shadowing a built-in one is a note, not a problem
    assert user.check_manifest(COMMENTED.replace("corpus", "fresh")) == []


# ---- propose -------------------------------------------------------------------------------
@pytest.fixture
def mnist_hub(hub: HubServer) -> HubServer:
    replicas.install(hub.hub, replicas.mnist())
    hub.requests.clear()
    return hub


def test_propose_is_what_add_writes_and_writes_nothing(
    tmp_path: Path, mnist_hub: HubServer
) -> None:
    catalog = Catalog(make_settings(tmp_path, mnist_hub.endpoint, include_builtin=False))
    proposed = catalog.propose("ylecun/mnist")
    by_url = catalog.propose(f"{mnist_hub.endpoint}/datasets/ylecun/mnist/tree/main")
    assert proposed.path is None and not catalog.settings.user_catalog_dir.exists()
    assert [(s.name, s.partitions) for s in proposed.subsets] == [("test", 1), ("train", 1)]
    added = catalog.add("ylecun/mnist")
    assert added.path is not None and added.path.read_text(encoding="utf-8") == proposed.text
    assert by_url.text == proposed.text


@pytest.mark.parametrize(
    ("repo", "named"),
    [
        ("{other}/datasets/ylecun/mnist", "{other_host}"),
        ("https://huggingface.co/datasets/ylecun/mnist", "huggingface.co"),
        ("hf.co/datasets/ylecun/mnist", "hf.co"),
        ("file:///etc/passwd", "file"),
        ("ftp://{other_host}/datasets/ylecun/mnist", "{other_host}"),
    ],
)
def test_propose_refuses_other_hosts_before_any_request(
    tmp_path: Path, mnist_hub: HubServer, replica_hub: HubServer, repo: str, named: str
) -> None:
    other = replica_hub.endpoint
    catalog = Catalog(make_settings(tmp_path, mnist_hub.endpoint))
    seen_there = len(replica_hub.requests)
    names = {"other": other, "other_host": other.split("//")[1]}
    text = repo.format(**names)
    with pytest.raises(BadRepoReference) as caught:
        catalog.propose(text)
    host = mnist_hub.endpoint.split("//")[1]
    assert str(caught.value) == (
        f"{text!r} names {named.format(**names)}; only the configured Hub endpoint is contacted "
        f"(http://{host}): give owner/name, hf://datasets/owner/name or a {host} URL"
    )
    assert len(mnist_hub.requests) == 0 and len(replica_hub.requests) == seen_there


def test_the_official_hub_accepts_its_own_aliases(tmp_path: Path) -> None:
    from pygestor.scaffold.refs import require_endpoint_host

    for text in ("https://hf.co/datasets/a/b", "huggingface.co/datasets/a/b", "a/b"):
        require_endpoint_host(text, None)
    with pytest.raises(BadRepoReference, match=r"names evil\.example;"):
        require_endpoint_host("https://evil.example/datasets/a/b", None)
    with pytest.raises(BadRepoReference, match=r"names huggingface\.co:8443;"):
        require_endpoint_host("https://huggingface.co:8443/datasets/a/b", None)


# ---- save_manifest and delete_manifest ---------------------------------------------------------
def test_save_discover_sync_delete(tmp_path: Path, mnist_hub: HubServer) -> None:
    catalog = Catalog(make_settings(tmp_path, mnist_hub.endpoint))
    text = catalog.propose("ylecun/mnist", name="digits").text
    assert catalog.check_manifest(text) == []
    record = catalog.save_manifest(text)
    path = catalog.settings.user_catalog_dir / "digits.yaml"
    assert record == {
        "name": "digits",
        "path": str(path),
        "text": text,
        "builtin": False,
        "editable": True,
        "sha256": sha256_text(text),
    }
    assert catalog.discover().entries["digits"].path == path
    [result] = catalog.sync("digits")
    assert result.error is None
    assert [r["subset"] for r in catalog.subset_records("digits")] == ["test", "train"]

    with pytest.raises(ManifestExists) as caught:
        catalog.save_manifest(text)
    assert str(caught.value) == f"{path} already exists; save with overwrite=True to replace it"
    changed = text.replace("modality: [image]", "modality: [image, other]")
    assert changed != text
    assert catalog.save_manifest(changed, overwrite=True)["text"] == changed

    assert catalog.delete_manifest("digits") == str(path)
    assert not path.exists() and "digits" not in catalog.discover().entries
    assert catalog.store.listing("digits") is not None  # forget is a separate call


def test_save_refuses_invalid_text_and_another_files_name(user: Catalog) -> None:
    folder = user.settings.user_catalog_dir
    with pytest.raises(InvalidManifest) as caught:
        user.save_manifest(BAD_TEXTS["model"])
    assert [str(p) for p in caught.value.problems] == [
        "<editor>:2: descriptoin: unknown key (did you mean 'description'?); remove it or fix "
        "its spelling"
    ]
    os.rename(folder / "corpus.yaml", folder / "my-corpus.yaml")  # `corpus` in another file
    with pytest.raises(InvalidManifest) as caught:
        user.save_manifest(COMMENTED, overwrite=True)
    assert [str(p) for p in caught.value.problems] == [
        f"<editor>:3: name: dataset 'corpus' is already defined by {folder / 'my-corpus.yaml'}; "
        "rename one of them or remove a file"
    ]
    assert sorted(p.name for p in folder.iterdir()) == ["my-corpus.yaml"]
    shipped = (user.settings.builtin_catalog_dir / "mnist.yaml").read_text(encoding="utf-8")
    assert user.save_manifest(shipped)["path"] == str(folder / "mnist.yaml")  # shadows: allowed
    assert user.discover().entries["mnist"].shadows is not None


def test_save_creates_the_user_folder(tmp_path: Path) -> None:
    catalog = Catalog(make_settings(tmp_path))
    text = COMMENTED.replace("corpus", "fresh")
    assert not catalog.settings.user_catalog_dir.exists()
    assert catalog.save_manifest(text)["text"] == text
    assert catalog.manifest("fresh").source.kind == "local"

"""The process-wide cache of parsed manifests (`pygestor.manifest.cache`): a file is parsed again
exactly when it changed (edited, replaced, added; a removed one disappears), and what callers get
cannot be changed by them into what the next `discover` returns."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import pytest

from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import DatasetNotFound
from pygestor.manifest import cache, discovery

T0 = 1_700_000_000_000_000_000  # a fixed mtime in ns, long ago (never "racy")


def manifest_text(name: str, description: str, *, tags: str = "[a, b]") -> str:
    return (
        f"name: {name}\ndescription: {description}\ntags: {tags}\n"
        "source: {huggingface: owner/repo}\nsubsets:\n"
        '  - files: "data/{subset}/*.parquet"\nload:\n  dtypes: {id: int64}\n'
    )


def put(folder: Path, name: str, text: str, mtime_ns: int = T0) -> Path:
    path = write_manifest(folder, name, text)
    os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files `discover` parses (the cache is emptied first and trusts fresh files: the
    racy window is 0, so a test sets each file's mtime itself)."""
    cache.CACHE.clear()
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    seen: list[str] = []
    real = discovery.parse_file

    def counting(path: Path) -> object:
        seen.append(path.name)
        return real(path)

    monkeypatch.setattr(discovery, "parse_file", counting)
    return seen


def descriptions(folder: Path) -> dict[str, str | None]:
    found = discovery.discover([folder])
    assert not found.problems, found.problems
    return {name: e.manifest.description for name, e in sorted(found.entries.items())}


def test_an_unchanged_file_is_parsed_once(tmp_path: Path, parses: list[str]) -> None:
    put(tmp_path, "one", manifest_text("one", "first"))
    put(tmp_path, "two", manifest_text("two", "second"))
    assert descriptions(tmp_path) == {"one": "first", "two": "second"}
    assert descriptions(tmp_path) == {"one": "first", "two": "second"}
    assert descriptions(tmp_path) == {"one": "first", "two": "second"}
    assert parses == ["one.yaml", "two.yaml"]
    info = cache.CACHE.info()
    assert (info.hits, info.misses, info.entries) == (4, 2, 2)


def test_an_edit_of_the_same_size_with_a_new_mtime_is_read_again(
    tmp_path: Path, parses: list[str]
) -> None:
    path = put(tmp_path, "one", manifest_text("one", "first"))
    assert descriptions(tmp_path) == {"one": "first"}
    put(tmp_path, "one", manifest_text("one", "FIRST"), mtime_ns=T0 + 1)
    assert path.stat().st_size == len(manifest_text("one", "first"))
    assert descriptions(tmp_path) == {"one": "FIRST"}
    assert parses == ["one.yaml", "one.yaml"]
    assert cache.CACHE.info().entries == 1  # the new version replaced the old one


def test_an_edit_with_the_same_mtime_and_a_new_size_is_read_again(
    tmp_path: Path, parses: list[str]
) -> None:
    put(tmp_path, "one", manifest_text("one", "first"))
    assert descriptions(tmp_path) == {"one": "first"}
    put(tmp_path, "one", manifest_text("one", "the first, longer"))  # the same mtime, T0
    assert (tmp_path / "one.yaml").stat().st_mtime_ns == T0
    assert descriptions(tmp_path) == {"one": "the first, longer"}
    assert parses == ["one.yaml", "one.yaml"]


def test_a_file_replaced_by_a_rename_is_read_again(tmp_path: Path, parses: list[str]) -> None:
    """An editor's save or `git checkout`: a new inode, the same size and mtime."""
    put(tmp_path, "one", manifest_text("one", "first"))
    assert descriptions(tmp_path) == {"one": "first"}
    other = put(tmp_path / "elsewhere", "one", manifest_text("one", "FIRST"))
    os.replace(other, tmp_path / "one.yaml")
    assert descriptions(tmp_path) == {"one": "FIRST"}
    assert parses == ["one.yaml", "one.yaml"]


def test_a_removed_file_disappears_and_a_new_one_appears(tmp_path: Path, parses: list[str]) -> None:
    put(tmp_path, "one", manifest_text("one", "first"))
    put(tmp_path, "two", manifest_text("two", "second"))
    assert list(descriptions(tmp_path)) == ["one", "two"]
    (tmp_path / "one.yaml").unlink()
    assert descriptions(tmp_path) == {"two": "second"}
    put(tmp_path, "three", manifest_text("three", "third"))
    assert descriptions(tmp_path) == {"three": "third", "two": "second"}
    assert parses == ["one.yaml", "two.yaml", "three.yaml"]


def test_an_invalid_file_keeps_its_problems_until_it_is_fixed(
    tmp_path: Path, parses: list[str]
) -> None:
    put(tmp_path, "bad", "name: bad\nsource: {huggingface: owner/repo}\nsubsets: []\n")
    first = discovery.discover([tmp_path])
    again = discovery.discover([tmp_path])
    assert first.problems == again.problems
    assert [(p.field, p.line) for p in again.problems] == [("subsets", 3)]
    assert again.files == [tmp_path / "bad.yaml"] and not again.entries
    put(tmp_path, "bad", manifest_text("bad", "fixed"), mtime_ns=T0 + 5)
    assert descriptions(tmp_path) == {"bad": "fixed"}
    assert parses == ["bad.yaml", "bad.yaml"]


def test_what_a_caller_gets_cannot_be_changed_into_the_cache(
    tmp_path: Path, parses: list[str]
) -> None:
    put(tmp_path, "one", manifest_text("one", "first"))
    manifest = discovery.discover([tmp_path]).entries["one"].manifest
    with pytest.raises(TypeError, match="read-only; change a copy"):
        manifest.tags.append("c")
    with pytest.raises(TypeError, match="read-only"):
        manifest.tags[0] = "z"
    with pytest.raises(TypeError, match="read-only"):
        manifest.tags += ["c"]
    with pytest.raises(TypeError, match="read-only"):
        manifest.subsets.clear()
    with pytest.raises(TypeError, match="read-only"):
        manifest.load.dtypes["id"] = "string"
    with pytest.raises(TypeError, match="read-only"):
        manifest.load.dtypes.update(x="y")
    with pytest.raises(ValueError, match="frozen"):
        manifest.description = "changed"  # type: ignore[misc]
    with pytest.raises(ValueError, match="frozen"):
        manifest.subsets[0].files = "other/*.parquet"  # type: ignore[misc]
    # copies are the caller's own, and plain
    mine = list(manifest.tags)
    mine.append("c")
    for copied in (copy.copy(manifest.tags), copy.deepcopy(manifest.tags)):
        assert type(copied) is list and copied == ["a", "b"]
    changed = manifest.model_copy(update={"description": "changed"})
    assert changed.description == "changed"
    again = discovery.discover([tmp_path]).entries["one"].manifest
    assert again.tags == ["a", "b"] and again.description == "first"
    assert dict(again.load.dtypes) == {"id": "int64"}
    assert parses == ["one.yaml"]  # the second discover was served from the cache


def test_a_read_only_manifest_reads_like_the_parsed_one(tmp_path: Path, parses: list[str]) -> None:
    path = put(tmp_path, "one", manifest_text("one", "first"))
    shared = discovery.discover([tmp_path]).entries["one"].manifest
    parsed = discovery.parse_text(path.read_text(), str(path))
    assert shared == parsed
    assert shared.model_dump() == parsed.model_dump()
    assert shared.model_dump_json() == parsed.model_dump_json()
    assert json.dumps(shared.model_dump(mode="json")) == json.dumps(parsed.model_dump(mode="json"))
    assert isinstance(shared.tags, list) and shared.tags == ["a", "b"]
    assert type(shared.model_dump()["tags"]) is list
    assert shared.subsets[0].patterns[0].text == "data/{subset}/*.parquet"


def test_a_file_changed_just_now_is_not_served_from_the_cache(tmp_path: Path) -> None:
    """Two writes within one tick of the file system's clock have the same mtime: a file newer
    than RACY_SECONDS is parsed on every call, so such a pair of edits is always seen."""
    cache.CACHE.clear()
    write_manifest(tmp_path, "one", manifest_text("one", "first"))
    assert descriptions(tmp_path) == {"one": "first"}
    write_manifest(tmp_path, "one", manifest_text("one", "FIRST"))
    assert descriptions(tmp_path) == {"one": "FIRST"}
    assert cache.CACHE.info().entries == 0


def test_the_cache_is_bounded_least_recently_used_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    lru: cache.FileCache[object] = cache.FileCache(max_entries=2)
    stats = {}
    for name in ("a", "b", "c"):
        path = put(tmp_path, name, manifest_text(name, name))
        stats[name] = cache.file_key(str(path), path.stat())
    lru.put(stats["a"], discovery.parse_file(tmp_path / "a.yaml"), changed_ns=T0)
    lru.put(stats["b"], discovery.parse_file(tmp_path / "b.yaml"), changed_ns=T0)
    assert lru.get(stats["a"]) is not None  # a is now the most recently used
    lru.put(stats["c"], discovery.parse_file(tmp_path / "c.yaml"), changed_ns=T0)
    assert lru.get(stats["b"]) is None
    assert [lru.get(stats[n]).description for n in ("a", "c")] == ["a", "c"]  # type: ignore[attr-defined]
    assert lru.info().entries == 2


def test_a_catalog_sees_an_edit_of_a_user_manifest(tmp_path: Path, parses: list[str]) -> None:
    user = tmp_path / "user-catalog"
    put(user, "mine", manifest_text("mine", "before"))
    catalog = Catalog(make_settings(tmp_path))
    assert catalog.manifest("mine").description == "before"
    assert catalog.manifest("mine").description == "before"
    put(user, "mine", manifest_text("mine", "after!"), mtime_ns=T0 + 1)
    assert catalog.manifest("mine").description == "after!"
    assert parses.count("mine.yaml") == 2
    builtin = [p for p in parses if p != "mine.yaml"]
    assert len(builtin) == len(set(builtin))  # each built-in manifest parsed once


# ---- the same cache for listings (index/store.py) ------------------------------------------
def test_a_listing_is_parsed_once_and_a_damaged_one_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import write_corpus_manifest
    from pygestor.errors import DamagedIndex
    from pygestor.index import records, store

    root = tmp_path / "corpus"
    (root / "en").mkdir(parents=True)
    (root / "en" / "part-0.jsonl").write_text('{"text": "a"}\n')
    write_corpus_manifest(tmp_path, root)
    catalog = Catalog(make_settings(tmp_path))
    catalog.sync("corpus")
    [listing_file] = (
        tmp_path / "data" / ".pygestor" / "datasets" / "corpus" / "listings"
    ).iterdir()
    os.utime(listing_file, ns=(T0, T0))
    monkeypatch.setattr(cache, "RACY_SECONDS", 0.0)
    store.LISTINGS.clear()
    parsed = []
    real = records.Listing.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: type, raw: bytes, **kw: object) -> object:
        parsed.append(kw["where"])
        return real(cls, raw, **kw)

    monkeypatch.setattr(records.Listing, "parse", classmethod(counting))
    first = catalog.store.listing("corpus")
    assert first is not None and first is catalog.store.listing("corpus")
    assert [s.name for s in first.subsets] == ["en"]
    assert parsed == [str(listing_file)]
    listing_file.write_text(listing_file.read_text()[:-20])  # truncated: another size
    with pytest.raises(DamagedIndex, match="not valid JSON"):
        catalog.store.listing("corpus")


def test_a_weighed_cache_keeps_its_total_weight_under_the_bound() -> None:
    """Listings are weighed in partitions, so a few huge ones cannot fill the memory."""
    lru: cache.FileCache[str] = cache.FileCache(max_entries=10, max_weight=5)
    for name, weight in (("a", 3), ("b", 2), ("c", 2), ("d", 6)):
        lru.put((name, 1), name, changed_ns=T0, weight=weight)
    assert [lru.get((n, 1)) for n in "abcd"] == [None, "b", "c", None]  # a went; d never fit
    lru.put(("b", 2), "b2", changed_ns=T0, weight=1)  # a new version of b replaces the old
    assert (lru.get(("b", 1)), lru.get(("b", 2)), lru.info().entries) == (None, "b2", 2)


def test_a_lookup_by_name_parses_only_the_files_that_may_define_it(
    tmp_path: Path, parses: list[str]
) -> None:
    """`Catalog.entry` skips, unparsed, a file whose one top-level `name:` line names another
    dataset; a file named otherwise that defines the name, or one whose name line is not plain,
    is parsed, and precedence is what a whole `discover` gives."""
    user = tmp_path / "user"
    put(user, "alpha", manifest_text("alpha", "a"))
    put(user, "beta", manifest_text("beta", "b").replace("name: beta", "name: 'beta'  # quoted"))
    put(user, "my-gamma", manifest_text("gamma", "defined in a file named otherwise"))
    put(user, "odd", manifest_text("x", "?").replace("name: x", "name: !!str odd-name"))
    settings = make_settings(tmp_path, "http://127.0.0.1:9", extra_catalog_dirs=(user,))
    catalog = Catalog(settings)
    entry = catalog.entry("gamma")
    assert (entry.path.name, entry.manifest.description) == (
        "my-gamma.yaml",
        "defined in a file named otherwise",
    )
    assert sorted(parses) == ["my-gamma.yaml", "odd.yaml"]
    parses.clear()
    assert catalog.entry("beta").manifest.description == "b"
    assert sorted(parses) == ["beta.yaml"]  # (odd.yaml and my-gamma.yaml: parsed, cached)
    # the same entries a whole pass over the catalog finds
    found = catalog.discover().entries
    assert (found["gamma"].path, found["beta"].path) == (entry.path, user / "beta.yaml")


def test_a_lookup_by_name_keeps_precedence_and_the_not_found_suggestions(
    tmp_path: Path, parses: list[str]
) -> None:
    user = tmp_path / "user"
    put(user, "a-mnist", manifest_text("mnist", "a user's mnist, in a file named otherwise"))
    settings = make_settings(tmp_path, "http://127.0.0.1:9", extra_catalog_dirs=(user,))
    catalog = Catalog(settings)
    entry = catalog.entry("mnist")  # shadows the built-in mnist.yaml
    assert (entry.path.name, entry.builtin) == ("a-mnist.yaml", False)
    assert entry.shadows is not None and entry.shadows.name == "mnist.yaml"
    with pytest.raises(DatasetNotFound, match="mnsit"):
        catalog.entry("mnsit")

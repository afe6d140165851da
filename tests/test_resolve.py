"""Tests of pygestor.resolve over synthetic listings shaped like real Hub repos
(shared/LAYOUTS.md)."""

from __future__ import annotations

import random
import time
from typing import Any

from pygestor.manifest.models import Format, Manifest
from pygestor.manifest.patterns import MAX_NAME_LENGTH, is_safe_relpath
from pygestor.resolve import Resolution, resolve
from pygestor.sources.base import RemoteFile

ROOT_FILES = [RemoteFile(".gitattributes", 2_000), RemoteFile("README.md", 9_000)]


def manifest(*rules: dict[str, Any], format: str | None = None) -> Manifest:
    data: dict[str, Any] = {
        "name": "x",
        "source": {"huggingface": "owner/repo"},
        "subsets": list(rules),
    }
    if format is not None:
        data["format"] = format
    return Manifest.model_validate(data)


def files(*paths: str, size: int = 1) -> list[RemoteFile]:
    return [RemoteFile(p, size) for p in paths]


def tree(res: Resolution) -> dict[str, list[str]]:
    """{subset: [partition names]} in the order resolve gave them."""
    return {s.name: [p.name for p in s.partitions] for s in res.subsets}


def paths_of(res: Resolution, subset: str) -> list[str]:
    found = res.subset(subset)
    assert found is not None, subset
    return [p.file.path for p in found.partitions]


def shards(folder: str, stem: str, count: int, suffix: str = ".parquet") -> list[str]:
    return [f"{folder}{stem}-{i:05d}-of-{count:05d}{suffix}" for i in range(count)]


# --- real layouts --------------------------------------------------------------------------------


def test_wikipedia() -> None:
    en = [RemoteFile(p, 420_000_000 + i) for i, p in enumerate(shards("20231101.en/", "train", 41))]
    ab = [RemoteFile("20231101.ab/train-00000-of-00001.parquet", 1_234)]
    m = manifest({"files": r"{subset:[0-9]{8}\.[A-Za-z0-9_-]+}/train-*.parquet"}, format="parquet")
    res = resolve(m, en + ab + ROOT_FILES)
    assert [s.name for s in res.subsets] == ["20231101.ab", "20231101.en"]
    english = res.subset("20231101.en")
    assert english is not None
    assert len(english.partitions) == 41
    assert [p.name for p in english.partitions] == [
        f"train-{i:05d}-of-00041.parquet" for i in range(41)
    ]
    assert [p.file for p in english.partitions] == en
    assert english.size == sum(420_000_000 + i for i in range(41))
    assert {p.format for p in english.partitions} == {Format.parquet}
    assert tree(res)["20231101.ab"] == ["train-00000-of-00001.parquet"]
    assert res.partition_count == 42
    assert res.unmatched == (".gitattributes", "README.md")
    assert res.empty_rules == ()
    assert res.skipped == ()
    assert res.subset("20231101.fr") is None


def test_fineweb_crawls_and_samples() -> None:
    listing = files(
        "data/CC-MAIN-2024-10/000_00000.parquet",
        "data/CC-MAIN-2024-10/000_00001.parquet",
        "data/CC-MAIN-2013-20/000_00000.parquet",
        "sample/10BT/000_00000.parquet",
        "sample/10BT/001_00000.parquet",
        "sample/100BT/000_00000.parquet",
        "README.md",
    )
    m = manifest(
        {"files": "data/{subset}/*.parquet"},
        {"files": "sample/{size}/*.parquet", "name": "sample-{size}"},
    )
    res = resolve(m, listing)
    assert tree(res) == {
        "CC-MAIN-2013-20": ["000_00000.parquet"],
        "CC-MAIN-2024-10": ["000_00000.parquet", "000_00001.parquet"],
        "sample-100BT": ["000_00000.parquet"],
        "sample-10BT": ["000_00000.parquet", "001_00000.parquet"],
    }
    assert paths_of(res, "sample-10BT") == [
        "sample/10BT/000_00000.parquet",
        "sample/10BT/001_00000.parquet",
    ]
    assert res.unmatched == ("README.md",)
    assert res.empty_rules == ()


def test_fineweb_edu_mixed_file_names_in_one_folder() -> None:
    listing = files(
        "data/CC-MAIN-2013-20/train-00000-of-00014.parquet",
        "data/CC-MAIN-2013-20/train-00001-of-00014.parquet",
        "data/CC-MAIN-2013-20/000_00000.parquet",
        "data/CC-MAIN-2024-10/000_00000.parquet",
    )
    res = resolve(manifest({"files": "data/{subset}/*.parquet"}), listing)
    assert tree(res) == {
        "CC-MAIN-2013-20": [
            "000_00000.parquet",
            "train-00000-of-00014.parquet",
            "train-00001-of-00014.parquet",
        ],
        "CC-MAIN-2024-10": ["000_00000.parquet"],
    }
    assert res.skipped == ()


def c4_manifest() -> Manifest:
    return manifest(
        {"files": "multilingual/c4-{lang:[a-z]+}.tfrecord-*.json.gz", "name": "{lang}.train"},
        {
            "files": "multilingual/c4-{lang:[a-z]+}-validation.tfrecord-*.json.gz",
            "name": "{lang}.validation",
        },
        {
            "files": "{config}/c4-{split}.*.json.gz",
            "name": "{config}.{split}",
            "exclude": ["multilingual/**"],
        },
        format="jsonl",
    )


C4_FILES = files(
    "en/c4-train.00000-of-01024.json.gz",
    "en/c4-train.00001-of-01024.json.gz",
    "en/c4-validation.00000-of-00008.json.gz",
    "en.noblocklist/c4-train.00000-of-01024.json.gz",
    "multilingual/c4-ko.tfrecord-00000-of-01024.json.gz",
    "multilingual/c4-ko.tfrecord-00001-of-01024.json.gz",
    "multilingual/c4-ko-validation.tfrecord-00000-of-00008.json.gz",
    "multilingual/c4-af.tfrecord-00000-of-00064.json.gz",
    "multilingual/c4-af-validation.tfrecord-00000-of-00064.json.gz",
    "multilingual/c4-und-Latn.tfrecord-00000-of-00001.json.gz",
    "README.md",
)


def test_c4_configs_splits_and_languages() -> None:
    res = resolve(c4_manifest(), C4_FILES)
    assert tree(res) == {
        "af.train": ["c4-af.tfrecord-00000-of-00064.json.gz"],
        "af.validation": ["c4-af-validation.tfrecord-00000-of-00064.json.gz"],
        "en.noblocklist.train": ["c4-train.00000-of-01024.json.gz"],
        "en.train": ["c4-train.00000-of-01024.json.gz", "c4-train.00001-of-01024.json.gz"],
        "en.validation": ["c4-validation.00000-of-00008.json.gz"],
        "ko.train": [
            "c4-ko.tfrecord-00000-of-01024.json.gz",
            "c4-ko.tfrecord-00001-of-01024.json.gz",
        ],
        "ko.validation": ["c4-ko-validation.tfrecord-00000-of-00008.json.gz"],
    }
    # 'und-Latn' is no [a-z]+ language, and the exclude keeps rule 2 from taking it as a config
    assert res.unmatched == (
        "README.md",
        "multilingual/c4-und-Latn.tfrecord-00000-of-00001.json.gz",
    )
    assert res.empty_rules == ()
    assert {p.format for s in res.subsets for p in s.partitions} == {Format.jsonl}


def test_c4_lang_regex_keeps_validation_out_of_the_train_rule() -> None:
    m = manifest({"files": "multilingual/c4-{lang:[a-z]+}.tfrecord-*.json.gz", "name": "{lang}"})
    res = resolve(m, C4_FILES)
    assert tree(res) == {
        "af": ["c4-af.tfrecord-00000-of-00064.json.gz"],
        "ko": ["c4-ko.tfrecord-00000-of-01024.json.gz", "c4-ko.tfrecord-00001-of-01024.json.gz"],
    }
    assert "multilingual/c4-ko-validation.tfrecord-00000-of-00008.json.gz" in res.unmatched


def test_c4_without_the_lang_regex_mixes_splits() -> None:
    # the lazy {lang} alone takes 'ko-validation' too, which is why the regex form exists
    m = manifest({"files": "multilingual/c4-{lang}.tfrecord-*.json.gz", "name": "{lang}"})
    res = resolve(m, C4_FILES)
    assert [s.name for s in res.subsets] == [
        "af",
        "af-validation",
        "ko",
        "ko-validation",
        "und-Latn",
    ]


def test_mmlu_subject_and_split() -> None:
    listing = files(
        "abstract_algebra/test-00000-of-00001.parquet",
        "abstract_algebra/validation-00000-of-00001.parquet",
        "abstract_algebra/dev-00000-of-00001.parquet",
        "anatomy/test-00000-of-00001.parquet",
        "all/test-00000-of-00001.parquet",
        "all/auxiliary_train-00000-of-00001.parquet",
        "auxiliary_train/train-00000-of-00001.parquet",
    )
    res = resolve(
        manifest({"files": "{subject}/{split}-*.parquet", "name": "{subject}.{split}"}), listing
    )
    assert [s.name for s in res.subsets] == [
        "abstract_algebra.dev",
        "abstract_algebra.test",
        "abstract_algebra.validation",
        "all.auxiliary_train",
        "all.test",
        "anatomy.test",
        "auxiliary_train.train",
    ]
    assert tree(res)["abstract_algebra.test"] == ["test-00000-of-00001.parquet"]
    assert paths_of(res, "all.auxiliary_train") == ["all/auxiliary_train-00000-of-00001.parquet"]


def test_hash_suffixed_names() -> None:
    listing = files(
        "data/train_sft-00000-of-00003-a3ecf92756993583.parquet",
        "data/train_sft-00001-of-00003-0a1804bcb6ae68c6.parquet",
        "data/train_sft-00002-of-00003-ee46ed25cfae92c6.parquet",
        "data/test_sft-00000-of-00001-f7dfac4afe5b93f4.parquet",
        "data/train_gen-00000-of-00003-a6c9fb894be3e50b.parquet",
    )
    res = resolve(manifest({"files": "data/{split}-*.parquet"}), listing)
    assert tree(res) == {
        "test_sft": ["test_sft-00000-of-00001-f7dfac4afe5b93f4.parquet"],
        "train_gen": ["train_gen-00000-of-00003-a6c9fb894be3e50b.parquet"],
        "train_sft": [
            "train_sft-00000-of-00003-a3ecf92756993583.parquet",
            "train_sft-00001-of-00003-0a1804bcb6ae68c6.parquet",
            "train_sft-00002-of-00003-ee46ed25cfae92c6.parquet",
        ],
    }
    alpaca = resolve(
        manifest({"files": "data/{split}-*.parquet"}),
        files("data/train-00000-of-00001-a09b74b3ef9c3b56.parquet"),
    )
    assert tree(alpaca) == {"train": ["train-00000-of-00001-a09b74b3ef9c3b56.parquet"]}


def test_root_single_file_with_a_fixed_name() -> None:
    dolly = [RemoteFile("databricks-dolly-15k.jsonl", 13_085_339)]
    res = resolve(
        manifest({"files": "databricks-dolly-15k.jsonl", "name": "train"}), dolly + ROOT_FILES
    )
    assert tree(res) == {"train": ["databricks-dolly-15k.jsonl"]}
    assert res.subsets[0].size == 13_085_339
    assert res.subsets[0].partitions[0].format is None
    assert res.unmatched == (".gitattributes", "README.md")


def test_root_files_by_glob() -> None:
    listing = files(
        "2023-04-12_oasst_ready.trees.jsonl.gz",
        "2023-04-12_oasst_all.messages.jsonl.gz",
        "README.md",
    )
    res = resolve(manifest({"files": "*.jsonl.gz", "name": "all"}), listing)
    assert tree(res) == {
        "all": ["2023-04-12_oasst_all.messages.jsonl.gz", "2023-04-12_oasst_ready.trees.jsonl.gz"]
    }
    assert res.unmatched == ("README.md",)


# --- rules, excludes and reports -----------------------------------------------------------------


def test_first_rule_wins() -> None:
    m = manifest(
        {"files": "plain_text/{split}-*.parquet"},
        {"files": "plain_text/*.parquet", "name": "everything"},
        {"files": "**", "name": "rest"},
    )
    listing = files(
        "plain_text/train-00000-of-00001.parquet",
        "plain_text/unsupervised-00000-of-00001.parquet",
        "plain_text/notes.txt",
    )
    res = resolve(m, listing)
    assert tree(res) == {
        "rest": ["notes.txt"],
        "train": ["train-00000-of-00001.parquet"],
        "unsupervised": ["unsupervised-00000-of-00001.parquet"],
    }
    assert res.empty_rules == (1,)
    assert res.unmatched == ()


def test_exclude_only_keeps_the_file_out_of_that_rule() -> None:
    m = manifest(
        {
            "files": "data/*.parquet",
            "name": "train",
            "exclude": ["data/test-*", "data/*-bad.parquet"],
        },
        {"files": "data/test-*.parquet", "name": "test"},
    )
    listing = files("data/train-0.parquet", "data/test-0.parquet", "data/x-bad.parquet")
    res = resolve(m, listing)
    assert tree(res) == {"test": ["test-0.parquet"], "train": ["train-0.parquet"]}
    assert res.unmatched == ("data/x-bad.parquet",)
    assert res.empty_rules == ()


def test_exclude_applies_to_every_pattern_of_its_rule() -> None:
    m = manifest(
        {"files": ["a/*.parquet", "b/*.parquet"], "name": "ab", "exclude": ["**/skip.parquet"]},
    )
    res = resolve(m, files("a/keep.parquet", "a/skip.parquet", "b/skip.parquet", "b/other.parquet"))
    assert tree(res) == {"ab": ["keep.parquet", "other.parquet"]}
    assert res.unmatched == ("a/skip.parquet", "b/skip.parquet")


def test_unmatched_and_empty_rules() -> None:
    m = manifest(
        {"files": "mnist/{subset:train|test}-*.parquet"},
        {"files": "extra/{subset}/*.parquet"},
        {"files": "old/*.tar.gz", "name": "old"},
    )
    listing = files(
        "mnist/train-00000-of-00001.parquet", "mnist/val-00000-of-00001.parquet", "z.txt", "a.txt"
    )
    res = resolve(m, listing)
    assert tree(res) == {"train": ["train-00000-of-00001.parquet"]}
    assert res.unmatched == ("a.txt", "mnist/val-00000-of-00001.parquet", "z.txt")
    assert res.empty_rules == (1, 2)
    assert res.skipped == ()


def test_empty_listing() -> None:
    res = resolve(manifest({"files": "{subset}/*.parquet"}, {"files": "x", "name": "x"}), [])
    assert res == Resolution(subsets=(), unmatched=(), empty_rules=(0, 1), skipped=())
    assert res.partition_count == 0


def test_rule_format_overrides_the_manifest_format() -> None:
    m = manifest(
        {"files": "csv/{subset}.csv", "format": "csv"},
        {"files": "pq/{subset}.parquet"},
        format="parquet",
    )
    res = resolve(m, files("csv/a.csv", "pq/b.parquet"))
    assert [(s.name, s.partitions[0].format) for s in res.subsets] == [
        ("a", Format.csv),
        ("b", Format.parquet),
    ]


def test_deterministic_whatever_the_listing_order() -> None:
    listing = list(C4_FILES) + [
        RemoteFile(f"en/c4-train.{i:05d}-of-01024.json.gz", i) for i in range(2, 50)
    ]
    expected = resolve(c4_manifest(), listing)
    rng = random.Random(1234)
    for _ in range(5):
        shuffled = listing[:]
        rng.shuffle(shuffled)
        assert resolve(c4_manifest(), shuffled) == expected
    assert resolve(c4_manifest(), reversed(listing)) == expected
    assert resolve(c4_manifest(), iter(listing)) == expected


def test_subsets_and_partitions_are_sorted_by_name() -> None:
    listing = files("b/2.parquet", "a/10.parquet", "b/10.parquet", "a/2.parquet", "B2/x.parquet")
    res = resolve(manifest({"files": "{subset}/*.parquet"}), listing)
    assert tree(res) == {
        "B2": ["x.parquet"],
        "a": ["10.parquet", "2.parquet"],
        "b": ["10.parquet", "2.parquet"],
    }


# --- partition names -----------------------------------------------------------------------------


def test_partitions_named_by_path_below_the_prefix_when_file_names_repeat() -> None:
    listing = files(
        "data/rus_Cyrl/train/000_00000.parquet",
        "data/rus_Cyrl/train/000_00001.parquet",
        "data/rus_Cyrl/test/000_00000.parquet",
        "data/deu_Latn/train/000_00000.parquet",
    )
    res = resolve(manifest({"files": "data/{lang}/**/*.parquet"}), listing)
    assert tree(res) == {
        # one file name per subset: the file name
        "deu_Latn": ["000_00000.parquet"],
        # a repeated file name: every partition of that subset by its path below 'data/'
        "rus_Cyrl": [
            "rus_Cyrl/test/000_00000.parquet",
            "rus_Cyrl/train/000_00000.parquet",
            "rus_Cyrl/train/000_00001.parquet",
        ],
    }
    assert res.skipped == ()


def test_partition_path_below_a_deeper_prefix() -> None:
    listing = files("sample/10BT/a/000.parquet", "sample/10BT/b/000.parquet")
    res = resolve(manifest({"files": "sample/10BT/**/*.parquet", "name": "sample-10BT"}), listing)
    assert tree(res) == {"sample-10BT": ["a/000.parquet", "b/000.parquet"]}


def test_partitions_named_by_full_path_when_paths_below_prefixes_repeat() -> None:
    m = manifest({"files": ["mirror1/*.parquet", "mirror2/*.parquet"], "name": "all"})
    res = resolve(m, files("mirror1/x.parquet", "mirror2/x.parquet", "mirror2/y.parquet"))
    assert tree(res) == {"all": ["mirror1/x.parquet", "mirror2/x.parquet", "mirror2/y.parquet"]}


def test_partition_names_are_safe_even_for_hostile_paths() -> None:
    listing = files("evil.parquet", "x/../evil.parquet", "x/.hidden/evil.parquet")
    res = resolve(manifest({"files": "**", "name": "all"}), listing)
    names = tree(res)["all"]
    assert names == ["evil.parquet", "x/_/evil.parquet", "x/hidden/evil.parquet"]
    assert all(is_safe_relpath(n) for n in names)


# --- names: case and unsafe characters -----------------------------------------------------------


def test_subset_names_differing_only_by_case_are_refused() -> None:
    listing = files("EN/a.parquet", "en/b.parquet", "en/c.parquet", "fr/d.parquet")
    res = resolve(manifest({"files": "{subset}/*.parquet"}), listing)
    assert tree(res) == {"EN": ["a.parquet"], "fr": ["d.parquet"]}
    why = "subset name 'en' differs from 'EN' only by case"
    assert res.skipped == (("en/b.parquet", why), ("en/c.parquet", why))
    assert res.unmatched == ()


def test_partition_names_differing_only_by_case_are_refused() -> None:
    res = resolve(
        manifest({"files": "d/*.parquet", "name": "t"}), files("d/A.parquet", "d/a.parquet")
    )
    assert tree(res) == {"t": ["A.parquet"]}
    assert res.skipped == (("d/a.parquet", "partition name 'a.parquet' clashes with 'A.parquet'"),)


def test_unsafe_characters_in_captures_are_replaced() -> None:
    listing = files(
        "lang=en/a.parquet", "lang=fr/b.parquet", "my data/c.parquet", ".hidden/d.parquet"
    )
    res = resolve(manifest({"files": "{subset}/*.parquet"}), listing)
    assert tree(res) == {
        "hidden": ["d.parquet"],
        "lang_en": ["a.parquet"],
        "lang_fr": ["b.parquet"],
        "my_data": ["c.parquet"],
    }
    m = manifest({"files": "{a}/{b}/*.parquet", "name": "{a}.{b}"})
    assert [s.name for s in resolve(m, files("x y/z+w/f.parquet")).subsets] == ["x_y.z_w"]


def test_unsafe_characters_in_file_names_are_replaced() -> None:
    res = resolve(
        manifest({"files": "d/*", "name": "t"}), files("d/my file (1).parquet", "d/-x.csv")
    )
    assert tree(res) == {"t": ["my_file_1_.parquet", "x.csv"]}
    assert paths_of(res, "t") == ["d/my file (1).parquet", "d/-x.csv"]


def test_names_equal_after_sanitizing_fall_back_to_paths() -> None:
    res = resolve(
        manifest({"files": "d/**/*.parquet", "name": "t"}),
        files("d/x/a b.parquet", "d/y/a_b.parquet"),
    )
    assert res.skipped == ()
    assert tree(res) == {"t": ["x/a_b.parquet", "y/a_b.parquet"]}


def test_subset_names_stay_within_the_name_length_limit() -> None:
    m = manifest({"files": "{a}/{b}/*.parquet", "name": "{a}.{b}"})
    res = resolve(m, files(f"{'a' * 150}/{'b' * 150}/x.parquet"))
    assert all(len(s.name) <= MAX_NAME_LENGTH for s in res.subsets)


# --- scale ---------------------------------------------------------------------------------------


def test_fifty_thousand_paths() -> None:
    crawls = [f"CC-MAIN-{2013 + i // 4}-{10 + i % 4 * 10}" for i in range(100)]
    listing = [
        RemoteFile(f"data/{crawls[i % 100]}/{i // 100:03d}_{i:05d}.parquet", i)
        for i in range(49_000)
    ] + [RemoteFile(f"sample/10BT/{i:03d}_00000.parquet", i) for i in range(1_000)]
    random.Random(7).shuffle(listing)
    m = manifest(
        {"files": "data/{subset}/*.parquet"},
        {"files": "sample/{size}/*.parquet", "name": "sample-{size}"},
    )
    start = time.perf_counter()
    res = resolve(m, listing)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert res.partition_count == 50_000
    assert len(res.subsets) == 101
    assert len(res.subset("sample-10BT").partitions) == 1_000  # type: ignore[union-attr]
    assert res.unmatched == () and res.skipped == ()

"""docs/catalog.md, generated from the built-in manifests: `python -m pygestor.docs >
docs/catalog.md`.

`catalog_markdown()` renders one table row per manifest (name, description, modality, license,
source and revision, the subset rules' patterns and name templates) plus the sizes in
:data:`CARD_SIZES`. `python -m pygestor.docs --check docs/catalog.md` exits 1 when the file is out
of date (tests/test_docs.py does the same).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

from .manifest.discovery import manifest_files, parse_file
from .manifest.models import HuggingFaceSource, Manifest, SubsetRule
from .settings import builtin_catalog_dir

__all__ = ["CARD_SIZES", "CardSize", "catalog_markdown", "main"]

COMMAND = "python -m pygestor.docs > docs/catalog.md"
UNKNOWN = "unknown"


class CardSize(NamedTuple):
    """What public pages say about a dataset's size; `source` names the page and the figure."""

    rows: str
    size: str
    source: str


#: Rows and bytes as public dataset cards (their `dataset_info`, prose or Hub viewer) report them,
#: gathered by hand; "unknown" where no public figure was found. Not checked against the data:
#: `pygestor sync` then `pygestor list NAME` gives the exact bytes of what the manifest takes.
CARD_SIZES: dict[str, CardSize] = {
    "alpaca": CardSize(
        "52,002", UNKNOWN,
        "card summary (\"52,000 instructions and demonstrations\"); 52,002 records in the original "
        "alpaca_data.json (22.8 MB, an earlier file of the repo); parquet size not found"),
    "c4": CardSize(
        UNKNOWN, "en 305 GB, en.noblocklist 380 GB, en.noclean 2.3 TB, realnewslike 15 GB, "
        "multilingual 9.7 TB",
        "allenai/c4 card (README at 607bd4c), \"sizes of the variants\"; no row counts found"),
    "cifar10": CardSize(
        "60,000 (50,000 train, 10,000 test)", UNKNOWN,
        "card description (\"50000 training images and 10000 test images\")"),
    "cosmopedia": CardSize(
        "~31.0M (web_samples_v1 12.4M, web_samples_v2 10.3M, stories 4.99M, auto_math_text 1.95M, "
        "stanford 1.02M, wikihow 179k, openstax 126k, khanacademy 24.1k)",
        "25B tokens; bytes of all configs unknown (stanford 3.3 GB, auto_math_text 4.5 GB, "
        "openstax 347 MB, khanacademy 49 MB)",
        "card (\"over 30 million files and 25 billion tokens\"; dataset_info download_size of four "
        "configs); Hub viewer row counts per config"),
    "dolly": CardSize(
        "15,011", "13.2 MB (13,216,570 bytes of JSON lines)",
        "Hub listing (15k rows) and dataset_info of parquet copies (15,011); size from the LFS "
        "pointer of databricks-dolly-15k.jsonl (commit b122d1b)"),
    "dolly-parquet": CardSize(
        "15,011 (the same records)", UNKNOWN,
        "as dolly; the size of the converted parquet was not found"),
    "fineweb": CardSize(
        UNKNOWN, "18.5T+ tokens; 44 TB on disk at the first (15T-token) release",
        "card (\"more than 18.5T tokens (originally 15T tokens)\"); FineWeb blog post "
        "(\"15T tokens, 44TB disk space\")"),
    "fineweb-2": CardSize(
        UNKNOWN, "~8 TB of compressed text, 1,000+ languages",
        "card (\"roughly 8 terabytes of compressed text data\")"),
    "fineweb-edu": CardSize(
        "~3.5B documents", "1.3T tokens; bytes unknown",
        "card (\"1.3T tokens\"); Hub collection listing (3.5B rows, July 2025)"),
    "gsm8k": CardSize(
        "17,584 (8,792 per config: 7,473 train, 1,319 test)",
        "5.9 MB of parquet (main 2.7 MB, socratic 3.2 MB)",
        "card dataset_info (num_examples; download_size 2,725,633 and 3,164,254 bytes)"),
    "imdb": CardSize(
        "100,000 (25,000 train, 25,000 test, 50,000 unsupervised)", UNKNOWN,
        "Hub viewer (plain_text: 100k rows; 25k, 25k, 50k)"),
    "mmlu": CardSize(
        "115,700 in all.* (14,042 test, 1,531 validation, 285 dev, 99,842 auxiliary_train); the "
        "subject subsets split the first three",
        "51.5 MB of parquet for all.*",
        "card at c30699e, dataset_info of config all (download_size 51,503,402 bytes)"),
    "mnist": CardSize(
        "70,000 (60,000 train, 10,000 test)", UNKNOWN, "Hub viewer (mnist: 70k rows; 60k, 10k)"),
    "multilingual_librispeech": CardSize(
        "~1.49M (german 479k, dutch 383k, french 265k, spanish 228k, italian 64.5k, "
        "portuguese 41.6k, polish 28.5k)",
        "unknown in total (dutch alone 24.4 GB)",
        "Hub viewer row counts per language; card dataset_info of dutch (download_size "
        "24,376,256,629 bytes)"),
    "oasst1": CardSize(
        "88,838 parquet rows (84,437 train, 4,401 validation); the exports hold 161,443 messages",
        "41.6 MB of parquet (train + validation)",
        "card dataset_info (download_size 41,596,430 bytes) and summary"),
    "squad": CardSize(
        "98,169 (87,599 train, 10,570 validation)", UNKNOWN,
        "Hub viewer (98.2k rows: 87.6k, 10.6k); exact counts from the SQuAD v1.1 dataset_info"),
    "ultrachat_200k": CardSize(
        "~515k (train_sft 208k, test_sft 23.1k, train_gen 256k, test_gen 28.3k)", UNKNOWN,
        "Hub viewer row counts per split"),
    "wikitext": CardSize(
        "wikitext-103-*: 1.81M each (1.8M train, 3.76k validation, 4.36k test); wikitext-2-*: "
        "44.8k each (36.7k, 3.76k, 4.36k)",
        "wikitext-103-raw-v1 ~315 MB of parquet; others unknown",
        "Hub viewer row counts; file listing of wikitext-103-raw-v1/"),
    "wit_base": CardSize(
        "6M+ images", UNKNOWN,
        "dataset description (\"more than six million images\", scripts/wit.py in the repo) and "
        "the card's size_categories (1M<n<10M); the Hub viewer shows only a 108k-row part"),
}  # fmt: skip


def catalog_markdown(folder: Path | None = None) -> str:
    """The text of docs/catalog.md for the manifests in `folder` (default: the built-in catalog)."""
    manifests = sorted(
        (parse_file(p) for p in manifest_files([folder or builtin_catalog_dir()])),
        key=lambda m: m.name,
    )
    lines = [
        "# Built-in catalog",
        "",
        (
            f"<!-- generated by `{COMMAND}` from catalog/*.yaml; do not edit "
            "(tests/test_docs.py keeps it in step) -->"
        ),
        "",
        (
            f"pygestor ships {len(manifests)} manifests. Each subset rule is shown as its file "
            "pattern(s) and the name template its subsets get (`{subset}` means the captured text "
            "itself); see [adding-a-dataset.md](adding-a-dataset.md) for how rules work."
        ),
        "",
        (
            "Rows and sizes are what the public dataset cards (or the Hub's viewer and file "
            "listings) "
            "report for the whole repository, gathered by hand and not checked against the data; "
            '"unknown" where no public figure was found. After `pygestor sync NAME`, '
            "`pygestor list NAME` shows the exact bytes of what the manifest takes."
        ),
        "",
        "| dataset | description | modality | license | source | subsets: pattern → name | rows | "
        "size |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m in manifests:
        size = CARD_SIZES.get(m.name)
        cells = [
            f"[`{m.name}`](../catalog/{m.name}.yaml)",
            m.description,
            ", ".join(m.modality) or "-",
            f"`{m.license}`" if m.license else "-",
            _source(m),
            "<br>".join(_rule(r) for r in m.subsets),
            size.rows if size else UNKNOWN,
            size.size if size else UNKNOWN,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += ["", "## Where the sizes come from", ""]
    for m in manifests:
        size = CARD_SIZES.get(m.name)
        note = size.source if size else "no public figure collected"
        lines.append(f"- `{m.name}`: {note}.")
    return "\n".join(lines) + "\n"


def _source(m: Manifest) -> str:
    if not isinstance(m.source, HuggingFaceSource):
        return f"`{m.source.describe()}`"
    repo, rev = m.source.huggingface, m.source.revision
    shown = rev[:12] if re.fullmatch(r"[0-9a-f]{40}", rev) else rev
    return f"[{repo}](https://huggingface.co/datasets/{repo}/tree/{quote(rev, safe='')})@`{shown}`"


def _rule(rule: SubsetRule) -> str:
    patterns = " or ".join(f"`{p.text}`" for p in rule.patterns)
    text = f"{patterns} → `{rule.template.text}`"
    if rule.exclude:
        text += " (except " + ", ".join(f"`{e}`" for e in rule.exclude) + ")"
    if rule.format is not None:
        text += f" ({rule.format.value})"
    return text


def _cell(text: str) -> str:
    """Table-cell text: pipes escaped (also inside code spans, as GitHub requires), one line."""
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m pygestor.docs` prints docs/catalog.md; `--check FILE` exits 1 if FILE differs."""
    args = list(sys.argv[1:] if argv is None else argv)
    text = catalog_markdown()
    if args[:1] == ["--check"] and len(args) == 2:
        path = Path(args[1])
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is out of date; run '{COMMAND}'", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    if args:
        print("usage: python -m pygestor.docs [--check FILE]", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Where the subset rules come from, in order: the dataset card's configs, else the file
layout, else the Hub's `refs/convert/parquet` revision."""

from __future__ import annotations

from collections.abc import Callable

from ..errors import SourceError
from ..sources.base import Snapshot
from .card import Card, card_sizes, card_splits
from .from_card import plan_from_card
from .from_layout import plan_from_layout
from .refs import CONVERT_REVISION
from .rules import Plan, Rule, file_format

#: Repository files every Hub repo may have; never data, never worth a review line.
REPO_METADATA = frozenset({"README.md", ".gitattributes", ".gitignore"})


def make_plan(
    repo_id: str,
    listing: Snapshot,
    card: Card | None,
    convert: Callable[[], Snapshot | None] | None,
) -> Plan:
    files = list(listing.files)
    data = [f for f in files if file_format(f.path) is not None]
    meta = card.meta if card else {}
    review: list[str] = []
    if card is not None and card.problem:
        review.append(f"the dataset card could not be read: {card.problem}")

    splits, problems = card_splits(meta)
    review += problems
    if splits:
        plan = plan_from_card(_revision(listing), listing, splits, card_sizes(meta))
        if plan is not None:
            plan.review[:0] = review
            return plan
        review.append(
            "inferred from the file layout: the card's configs match no file pygestor "
            "reads; check names and grouping"
        )
    elif card is None:
        review.append(
            "inferred from the file layout, no dataset card (README.md): check names and grouping"
        )
    elif not problems:
        review.append("inferred from the file layout, no card configs: check names and grouping")

    if data:
        plan = plan_from_layout(_revision(listing), listing, data, card_sizes(meta))
        plan.review[:0] = review
        return plan
    return _plan_from_conversion(repo_id, listing, review, convert)


def _revision(listing: Snapshot) -> str:
    return listing.revision or "main"


def _plan_from_conversion(
    repo_id: str,
    listing: Snapshot,
    review: list[str],
    convert: Callable[[], Snapshot | None] | None,
) -> Plan:
    others = sorted(f.path for f in listing.files if f.path not in REPO_METADATA)
    what = f"{len(others)} files such as {others[0]}" if others else "no files besides its card"
    rev = _revision(listing)
    conv = convert() if convert is not None else None
    if conv is None:
        raise SourceError(
            f"dataset {repo_id!r} at {rev!r} holds no data files pygestor reads "
            f"({what}) and has no {CONVERT_REVISION} revision; write its manifest "
            "by hand"
        )
    parquet = [f for f in conv.files if f.path.endswith(".parquet")]
    if not parquet:
        raise SourceError(
            f"dataset {repo_id!r} holds no data files pygestor reads ({what}), "
            f"and its {CONVERT_REVISION} revision holds no parquet files either"
        )
    rules = [Rule(("{config}/{split}/*.parquet",), "{config}.{split}")]
    review = [
        *review,
        (
            f"fell back to {CONVERT_REVISION}: {rev!r} holds no data files pygestor "
            f"reads ({what}); the Hub's conversion may lag behind main or cut large "
            "splits (partial-*)"
        ),
    ]
    return Plan("parquet-conversion", rules, CONVERT_REVISION, conv, list(conv.files), review)

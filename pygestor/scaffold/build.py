"""A scaffold in one call: list the repository, read its card, infer the rules (`infer`), render
the text, parse it back and resolve it against the same listing; `add` also writes it into the
catalog, refusing a name the catalog already has."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import BadRepoReference, NameTaken, OutputExists, ScaffoldError, SourceError
from ..index.sync import usable_files
from ..manifest.models import Format
from ..resolve import resolve
from ..sources.base import RemoteFile, Snapshot
from .card import Card, card_description, card_modality, parse_card
from .infer import REPO_METADATA, make_plan
from .refs import CONVERT_REVISION, check_name, default_name, parse_repo
from .render import plural, render
from .result import Scaffold, SubsetInfo
from .rules import Plan, Rule, file_format, place

if TYPE_CHECKING:
    from ..manifest.discovery import Entry
    from ..settings import Settings


def scaffold(
    repo: str, *, name: str | None = None, revision: str | None = None, settings: Settings
) -> Scaffold:
    """A manifest for a Hub dataset repository (`owner/name`, a URL, or `hf://datasets/...`):
    lists it once, reads its card, infers subset rules, and checks that the text parses and
    resolves against that listing. Nothing is written; see `Scaffold.write` and `Catalog.add`."""
    ref = parse_repo(repo, endpoint=settings.hf_endpoint)
    if ref.revision and revision and ref.revision != revision:
        raise BadRepoReference(
            f"{repo!r} names revision {ref.revision!r} but the revision "
            f"given is {revision!r}; give one of them"
        )
    dataset = check_name(name) if name is not None else default_name(ref.repo_id)

    from ..errors import AccessDenied
    from ..sources.huggingface import HuggingFaceRepo

    def hub_at(rev: str) -> HuggingFaceRepo:
        return HuggingFaceRepo(ref.repo_id, rev, settings.hf_endpoint, settings.hf_token)

    hub = hub_at(revision or ref.revision or "main")
    with _add_hints():
        listing = hub.list()
        card = _read_card(hub, listing)

    def convert() -> Snapshot | None:
        try:
            with _add_hints():
                return hub_at(CONVERT_REVISION).list()
        except AccessDenied:
            raise
        except SourceError as exc:
            if "was not found" in str(exc):
                return None
            raise

    return scaffold_listing(
        ref.repo_id, listing, card, name=dataset, convert=convert, endpoint=settings.hf_endpoint
    )


@contextlib.contextmanager
def _add_hints() -> Iterator[None]:
    """Source errors name manifest fields (`check source.huggingface`); here they are arguments."""
    try:
        yield
    except SourceError as exc:
        text = str(exc).replace("check source.huggingface", "check the repository name")
        text = text.replace("check source.revision", "check the revision")
        raise type(exc)(text) from None


def scaffold_listing(
    repo_id: str,
    listing: Snapshot,
    card: str | Card | None = None,
    *,
    name: str | None = None,
    convert: Callable[[], Snapshot | None] | None = None,
    endpoint: str | None = None,
) -> Scaffold:
    """The pure core of `scaffold`: a manifest from a listing and the card's text, no I/O.
    `convert` lists the `refs/convert/parquet` revision (None when it does not exist); it is
    called only when the listing holds no data file pygestor reads."""
    parsed = parse_card(card) if isinstance(card, str) else card
    dataset = check_name(name) if name is not None else default_name(repo_id)
    listing, left_out = _usable(listing)
    plan = make_plan(repo_id, listing, parsed, _usable_convert(convert, left_out))
    if left_out:
        examples = "; ".join(f"{path} ({why})" for path, why in left_out[:3])
        more = ", ..." if len(left_out) > 3 else ""
        plan.review.append(
            f"{plural(len(left_out), 'listed file')} left out, never requested: {examples}{more}"
        )
    return _finish(dataset, repo_id, plan, parsed, endpoint)


def _usable(listing: Snapshot) -> tuple[Snapshot, list[tuple[str, str]]]:
    """The listing without the files sync would leave out (unsafe paths, unusable sizes): no
    rule is inferred from them, and (path, why) of each for the review."""
    kept, rejected = usable_files(listing)
    if not rejected:
        return listing, []
    return replace(listing, files=kept, rejected=()), list(rejected)


def _usable_convert(
    convert: Callable[[], Snapshot | None] | None, left_out: list[tuple[str, str]]
) -> Callable[[], Snapshot | None] | None:
    if convert is None:
        return None

    def usable() -> Snapshot | None:
        listing = convert()
        if listing is None:
            return None
        listing, rejected = _usable(listing)
        left_out.extend(rejected)
        return listing

    return usable


def _read_card(hub: Any, listing: Snapshot) -> str | None:
    """The README.md of the listed commit, parsed (None when the repo has none). A plain GET of
    the one file: no cache folder, no progress bar; the token goes to the Hub's origin only."""
    if not any(f.path == "README.md" for f in listing.files):
        return None
    from urllib.parse import urljoin

    from huggingface_hub.utils import get_session, hf_raise_for_status

    url, headers = hub.file_request("README.md", listing.commit)
    origin = urlsplit(url)[:2]
    try:
        for _ in range(5):
            response = get_session().get(url, headers=headers, follow_redirects=False, timeout=30.0)
            if not response.is_redirect:
                break
            url = urljoin(url, response.headers["location"])
            if urlsplit(url)[:2] != origin:  # e.g. an LFS README on a storage origin
                headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
        hf_raise_for_status(response)
    except Exception as exc:
        translated = hub.translate(exc)
        if translated is None:
            raise
        raise translated from None
    return str(response.content.decode("utf-8", errors="replace"))


def _finish(
    dataset: str, repo_id: str, plan: Plan, card: Card | None, endpoint: str | None
) -> Scaffold:
    """Render the text, parse it back, resolve it against the listing, and report."""
    from ..manifest.discovery import parse_text

    rules = _expressible(plan.rules, plan.review)
    if not rules:
        raise ScaffoldError(
            f"no subset rule can be written for {repo_id!r}: {plan.review[-1]}; write its "
            "manifest by hand"
        )
    placed = place(rules, plan.files)
    # A rule that matches nothing must not be written (`validate --resolve` would fail it).
    while placed.empty and len(rules) > len(placed.empty):
        rules = [r for i, r in enumerate(rules) if i not in set(placed.empty)]
        placed = place(rules, plan.files)
    formats = {_format(path) for path in placed.where}
    fmt = formats.pop() if len(formats) == 1 else None
    if fmt is None and formats:
        rules = [_rule_format(r, plan.files) for r in rules]
    meta = card.meta if card else {}
    # The rendered text is parsed back and resolved: what is reported is what sync will find.
    text_of = functools.partial(render, dataset, repo_id, plan, rules, fmt)
    draft = parse_text(text_of("", [], meta, (), ()), f"<{dataset}.yaml>")
    resolution = resolve(draft, plan.files)
    subsets = tuple(
        SubsetInfo(s.name, len(s.partitions), s.size, plan.rows.get(s.name, (None, None))[0])
        for s in resolution.subsets
    )
    review = list(plan.review)
    all_unmatched = sorted(
        {f.path for f in plan.listing.files}
        - {p.file.path for s in resolution.subsets for p in s.partitions}
    )
    data_unmatched = [p for p in all_unmatched if p not in REPO_METADATA]
    if data_unmatched:
        shown = ", ".join(data_unmatched[:3]) + (", ..." if len(data_unmatched) > 3 else "")
        review.append(f"{plural(len(data_unmatched), 'file')} matched no rule: {shown}")
    for path, why in resolution.skipped[:5]:
        review.append(f"skipped {path}: {why}")
    if any(_format(p) is Format.json for p in (f.path for f in plan.files)):
        review.append(
            "plain .json files are read as one JSON document each; if they hold JSON "
            "lines, set format: jsonl"
        )
    if any(f.path.lower().endswith((".tsv", ".tsv.gz")) for f in plan.files):
        review.append(".tsv files are read as CSV; check the delimiter")
    description = card_description(card) if card else None
    if description is None:
        description = str(meta.get("pretty_name") or "") or f"{repo_id} from the Hugging Face Hub."
        review.append("description: the card has no summary paragraph; write one")
    modality = card_modality(meta)
    if not modality:
        review.append("modality: not found in the card; add it (text, image, audio, ...)")
    text = text_of(description, modality, meta, subsets, review, endpoint)
    manifest = parse_text(text, f"<{dataset}.yaml>")
    if manifest.subsets != draft.subsets:  # pragma: no cover - comments and metadata only differ
        raise AssertionError("the rendered subset rules changed between drafts")
    return Scaffold(
        name=dataset,
        repo_id=repo_id,
        revision=plan.revision,
        commit=plan.listing.commit,
        origin=plan.origin,
        text=text,
        manifest=manifest,
        subsets=subsets,
        unmatched=tuple(all_unmatched),
        review=tuple(review),
    )


def _expressible(rules: Sequence[Rule], review: list[str]) -> list[Rule]:
    """The rules a manifest can hold; a rule made from a path the manifest refuses as a pattern
    (a folder `d: x` reads as a drive letter) is left out, with a note saying why."""
    kept = []
    for rule in rules:
        try:
            place([rule], [])
        except ValueError as exc:
            errors = getattr(exc, "errors", None)
            why = str(errors()[0]["msg"]) if callable(errors) else str(exc)
            why = why.removeprefix("Value error, ").splitlines()[0]
            review.append(f"rule {', '.join(rule.files)} left out: {why}")
            continue
        kept.append(rule)
    return kept


def _format(path: str) -> Format | None:
    found = file_format(path)
    return found[0] if found else None


def _rule_format(rule: Rule, files: Sequence[RemoteFile]) -> Rule:
    """`rule` with its own `format:` when every file it takes has one format."""
    formats = {_format(path) for path in place([rule], files).where}
    return replace(rule, format=formats.pop()) if len(formats) == 1 else rule


def add(
    settings: Settings,
    entries: Mapping[str, Entry],
    repo: str,
    *,
    name: str | None = None,
    revision: str | None = None,
    output: str | os.PathLike[str] | None = None,
    force: bool = False,
) -> Scaffold:
    """Scaffold a manifest for `repo` and write it (default: the user catalog folder, as
    `<name>.yaml`). Refuses a name in `entries`, the catalog's manifests by name (unless `force`
    and the other manifest is a built-in one or the very file being overwritten), and an
    existing file (unless `force`)."""
    ref = parse_repo(repo, endpoint=settings.hf_endpoint)
    dataset = check_name(name) if name is not None else default_name(ref.repo_id)
    target = Path(output) if output is not None else settings.user_catalog_dir / f"{dataset}.yaml"
    _check_free(entries, dataset, target, force, named=name is not None)
    if target.exists() and not force:
        raise OutputExists(str(target))
    result = scaffold(repo, name=dataset, revision=revision, settings=settings)
    written = result.write(target, force=force)
    review = list(result.review)
    folders = {d.expanduser().resolve() for d in settings.catalog_dirs}
    if written.resolve().parent not in folders:
        review.append(
            f"{written} is not in a catalog folder: pass --catalog {written.parent} "
            "(or set PYGESTOR_CATALOG) to use it"
        )
    return replace(result, path=written, review=tuple(review))


def _check_free(
    entries: Mapping[str, Entry], dataset: str, target: Path, force: bool, *, named: bool
) -> None:
    entry = entries.get(dataset)
    if entry is None:
        return
    same_file = entry.path.resolve() == target.resolve()
    if force and (same_file or entry.builtin):
        return
    hint = "choose another --name" if named else "choose another name with --name"
    if same_file:
        hint += " (or overwrite it with --force)"
    elif entry.builtin:
        hint += " (or shadow the built-in manifest with --force)"
    raise NameTaken(f"dataset {dataset!r} is already in the catalog ({entry.path}); {hint}")

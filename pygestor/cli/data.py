"""What is recorded and stored locally: `sync` (and `sync --repair`), `forget`, `download`,
`remove`.

Each parses, calls `Catalog` methods and renders; `--json` prints the same keys as the Python API.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..errors import PygestorError
from ..storage.base import located
from .output import (
    at_commit,
    catalog_from,
    echo_error,
    echo_json,
    human_bytes,
    is_quiet,
    json_option,
    note,
    plural,
    render,
)

if TYPE_CHECKING:
    from ..catalog import Catalog

# Repository files every Hub repo has, left out of the human "matched no rule" summary.
REPO_METADATA = {"README.md", ".gitattributes", ".gitignore"}
MAX_LISTED = 20  # files shown before a removal asks; the rest are counted
F = TypeVar("F", bound=Callable[..., Any])


# ---- sync and forget -----------------------------------------------------------------------
@click.command()
@click.argument("datasets", nargs=-1)
@click.option(
    "--repair", is_flag=True, help="Also rebuild local records from a rescan of the data dir."
)
@json_option
@click.pass_context
def sync(ctx: click.Context, datasets: tuple[str, ...], repair: bool, as_json: bool) -> None:
    """List sources and record each dataset's subsets and partitions (default: every dataset).

    With --repair, also rebuild each dataset's index: records for the files on disk whose size and
    hash match the listing, none for missing files, and stale temporary files removed."""
    catalog = catalog_from(ctx)
    if repair:
        _repair(ctx, catalog, datasets, as_json)
        return
    show = None if as_json else _print_sync_result  # (errors only, under -q)
    results = catalog.sync(list(datasets) or None, on_error="collect", on_result=show)
    _finish(ctx, results, as_json)


def _finish(ctx: click.Context, results: Sequence[Any], as_json: bool) -> None:
    """The results as JSON with --json; exit 1 if any dataset failed."""
    if as_json:
        echo_json([r.to_json() for r in results])
    if any(r.error for r in results):
        ctx.exit(1)


def _print_sync_result(r: Any) -> None:
    if r.error:
        echo_error(r.error)
        return
    if is_quiet():
        return
    at = at_commit(r.commit)
    notes = [
        f"{len(v)} {k}"
        for k, v in (("new", r.new), ("stale", r.stale), ("gone", r.gone))
        if v and r.changed
    ]
    extra = f" ({', '.join(notes)})" if notes else ""
    click.echo(
        f"{r.dataset}: {plural(r.subsets, 'subset')}, {plural(r.partitions, 'partition')}, "
        f"{human_bytes(r.bytes)}{at}{extra}"
    )
    unmatched = [p for p in r.unmatched if p not in REPO_METADATA]
    # notes go to stderr, where a sync of several datasets interleaves them: each names its own
    if unmatched:
        click.echo(
            f"{r.dataset}: {plural(len(unmatched), 'file')} matched no rule, e.g. {unmatched[0]} "
            "(see --json)",
            err=True,
        )
    for rule in r.empty_rules:
        click.echo(f"{r.dataset}: rule {rule} matched no file", err=True)
    for path, why in r.skipped[:5]:
        click.echo(f"{r.dataset}: skipped {path}: {why}", err=True)
    if len(r.skipped) > 5:
        click.echo(f"{r.dataset}: skipped {len(r.skipped) - 5} more files (see --json)", err=True)


def _repair(ctx: click.Context, catalog: Catalog, datasets: Sequence[str], as_json: bool) -> None:
    """Rebuild the index of each dataset (default: every dataset of the catalog) and report."""
    from ..maintain.repair import RepairReport

    names = list(datasets) or sorted(catalog.discover().entries)
    reports = []
    for name in names:
        try:
            report = catalog.repair(name)
        except PygestorError as exc:
            report = RepairReport(name, error=str(exc))
        if not as_json:
            _print_repair(report)
        reports.append(report)
    _finish(ctx, reports, as_json)


def _print_repair(r: Any) -> None:
    if r.error:
        echo_error(r.error)
        return
    if is_quiet():
        return
    at = at_commit(r.commit)
    click.echo(
        f"{r.dataset}: index rebuilt{at}: {plural(r.partitions, 'partition')}, "
        f"{plural(r.checked, 'local file')} checked: {r.recorded} recorded, {r.kept} kept, "
        f"{len(r.mismatched)} mismatched, {len(r.dropped)} missing"
    )
    removed = [
        (r.partials_removed, "partial download"),
        (r.temp_removed, "temporary file"),
        (r.damaged_removed, "damaged index file"),
    ]
    if any(n for n, _ in removed):
        click.echo("  removed " + ", ".join(plural(n, what) for n, what in removed if n))
    for key in r.mismatched[:10]:
        click.echo(
            f"  {key}: bytes match neither the source nor a record; left unrecorded "
            "(download it again)",
            err=True,
        )
    if r.unknown:
        click.echo(
            f"  {plural(len(r.unknown), 'file')} in the dataset folder belong to no "
            f"partition, e.g. {r.unknown[0]} (left alone)",
            err=True,
        )


@click.command()
@click.argument("dataset")
@click.pass_context
def forget(ctx: click.Context, dataset: str) -> None:
    """Drop what sync recorded for DATASET (downloaded files and their records stay)."""
    catalog = catalog_from(ctx)
    catalog.manifest(dataset)
    note(f"{dataset}: index dropped" if catalog.forget(dataset) else f"{dataset}: was not synced")


# ---- what download and remove work on ------------------------------------------------------
def _choice_options(verb: str, *, partition_help: str) -> Callable[[F], F]:
    """-s/--subset, -p/--partition and --all: the part of DATASET a command is to `verb`."""
    subset = click.option(
        "-s", "--subset", "subsets", multiple=True, help=f"Subset to {verb} (repeatable)."
    )
    partition = click.option("-p", "--partition", "partitions", multiple=True, help=partition_help)
    every = click.option("--all", "all_subsets", is_flag=True, help="Every subset of the dataset.")
    return lambda f: subset(partition(every(f)))


def _picked(subsets: Sequence[str], all_subsets: bool) -> list[str] | None:
    """The subsets given with -s (None: none given); -s and --all exclude each other."""
    if all_subsets and subsets:
        raise click.UsageError("give -s/--subset or --all, not both")
    return list(subsets) or None


# ---- download ------------------------------------------------------------------------------
@click.command()
@click.argument("dataset")
@_choice_options("fetch", partition_help="Only this partition (repeatable).")
@click.option(
    "--update", is_flag=True, help="Also refetch partitions that changed upstream (stale)."
)
@click.option("--workers", type=click.IntRange(1, 64), help="Parallel downloads [default: 8].")
@click.option("--dry-run", is_flag=True, help="Show what would be fetched; fetch nothing.")
@click.option(
    "--arrow-copy",
    is_flag=True,
    help="Then write each chosen subset as a memory-mapped Arrow file that load() uses.",
)
@json_option
@click.pass_context
def download(
    ctx: click.Context,
    dataset: str,
    subsets: tuple[str, ...],
    partitions: tuple[str, ...],
    all_subsets: bool,
    update: bool,
    workers: int | None,
    dry_run: bool,
    arrow_copy: bool,
    as_json: bool,
) -> None:
    """Fetch a subset (-s), some partitions (-p) or everything (--all) of DATASET."""
    picked = _picked(subsets, all_subsets)
    catalog = catalog_from(ctx)
    plan = catalog.plan_download(
        dataset, picked, partitions=list(partitions) or None, all_subsets=all_subsets, update=update
    )
    if dry_run:
        _show_plan(plan, as_json)
        return
    with (
        catalog.writing("download"),
        _progress_bar(plan, quiet=as_json or is_quiet()) as on_progress,
    ):
        report = plan.execute(workers=workers, progress=on_progress)
    copies = []
    if arrow_copy:
        chosen = sorted({i.subset for i in (*plan.fetch, *plan.local, *plan.stale)})
        copies = [catalog.build_arrow_copy(dataset, subset) for subset in chosen]
    if as_json:
        echo_json(
            {
                **report.to_json(),
                "arrow_copies": [
                    {"subset": s, "path": str(c.path), "bytes": c.bytes}
                    for s, c in zip(chosen, copies, strict=True)
                ],
            }
            if arrow_copy
            else report.to_json()
        )
        return
    if is_quiet():
        return
    rate = report.bytes_fetched / report.seconds if report.seconds else 0.0
    click.echo(
        f"{dataset}: fetched {len(report.fetched)} partitions "
        f"({human_bytes(report.bytes_fetched)} in {report.seconds:.1f} s, "
        f"{human_bytes(int(rate))}/s); {len(plan.local)} already local"
    )
    if plan.stale:
        click.echo(
            f"  {len(plan.stale)} local partitions changed upstream; refetch with --update",
            err=True,
        )
    for copy in copies:
        click.echo(f"  arrow copy {copy.path} ({human_bytes(copy.bytes)})")


def _show_plan(plan: Any, as_json: bool) -> None:
    if as_json:
        echo_json(plan.to_json())
        return
    render(
        [i.to_json() for i in plan.fetch],
        False,
        [
            ("SUBSET", "subset", str),
            ("PARTITION", "partition", str),
            ("SIZE", "size", human_bytes),
            ("RESUME AT", "partial_bytes", human_bytes),
        ],
    )
    click.echo(
        f"would fetch {len(plan.fetch)} partitions, {human_bytes(plan.bytes_to_fetch)}; "
        f"{len(plan.local)} already local, {len(plan.stale)} stale kept"
    )


@contextlib.contextmanager
def _progress_bar(plan: Any, *, quiet: bool) -> Iterator[Any]:
    """A progress bar on stderr (bytes, rate, ETA, files done), or nothing when quiet or not a
    tty."""
    if quiet or not plan.fetch or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    total_files = len(plan.fetch)
    with tqdm(
        total=sum(i.file.size for i in plan.fetch),
        unit="B",
        unit_scale=True,
        unit_divisor=1000,
        desc=plan.dataset,
        file=sys.stderr,
    ) as bar:

        def on_progress(event: Any) -> None:
            if event.delta:
                bar.update(event.delta)
            if event.kind in ("done", "skipped", "failed"):
                bar.set_postfix_str(f"{event.files_done}/{total_files} files", refresh=False)

        yield on_progress


# ---- remove --------------------------------------------------------------------------------
@click.command()
@click.argument("dataset")
@_choice_options("remove", partition_help="Only this partition, NAME or SUBSET/NAME (repeatable).")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@json_option
@click.pass_context
def remove(
    ctx: click.Context,
    dataset: str,
    subsets: tuple[str, ...],
    partitions: tuple[str, ...],
    all_subsets: bool,
    yes: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Delete downloaded files of a subset (-s), some partitions (-p) or every subset (--all).

    Shows what will be freed and asks first (unless --yes). The catalog entry and the synced
    listing stay; files are only deleted inside DATA_DIR/DATASET/, never in a local source."""
    picked = _picked(subsets, all_subsets)
    catalog = catalog_from(ctx)
    plan = catalog.plan_remove(
        dataset, picked, partitions=list(partitions) or None, all_subsets=all_subsets
    )
    if dry_run or (plan.empty and not as_json):
        if as_json:
            echo_json(plan.to_json())
        elif dry_run or not is_quiet():
            _show_removal(plan, err=False)
            if not plan.empty:
                click.echo("nothing deleted (dry run)")
        return
    if plan.empty:  # --json: the report of a removal that had nothing to do
        echo_json(plan.execute().to_json())
        return
    if not yes:
        _show_removal(plan, err=as_json)
        click.confirm("Delete them?", default=False, abort=True, err=True)
    elif not as_json and not is_quiet():
        _show_removal(plan, err=False)
    with catalog.writing("remove"):
        report = plan.execute()
    if as_json:
        echo_json(report.to_json())
        return
    note(
        f"{dataset}: deleted {plural(len(report.files), 'file')}, freed {human_bytes(report.bytes)}"
    )
    if report.busy:
        note(
            f"  {plural(len(report.busy), 'partition')} being downloaded by another "
            f"process, left alone: {', '.join(report.busy[:5])}",
            err=True,
        )


def _show_removal(plan: Any, *, err: bool) -> None:
    not_local = plural(len(plan.not_local), "chosen partition") + " not local"
    if plan.shared:
        click.echo(
            f"{plan.dataset}: {plural(len(plan.shared), 'chosen partition')} in a read-only "
            f"shared data dir left untouched (only {located(plan.store.storage, '')} is changed): "
            f"{', '.join(plan.shared[:5])}{', ...' if len(plan.shared) > 5 else ''}",
            err=err,
        )
    if plan.empty:
        what = not_local if plan.not_local else "no local data"
        click.echo(f"{plan.dataset}: nothing to remove ({what})", err=err)
        _show_kept(plan.kept, err=err)
        return
    click.echo(
        f"{plan.dataset}: will delete {plural(len(plan.files), 'file')} "
        f"({human_bytes(plan.bytes)}) and {plural(len(plan.records), 'record')}",
        err=err,
    )
    root = located(plan.store.storage, plan.dataset)
    lines = [(_removal_label(f, root), human_bytes(f.size)) for f in plan.files]
    width = max((len(name) for name, _ in lines[:MAX_LISTED]), default=0)
    for name, size in lines[:MAX_LISTED]:
        click.echo(f"  {name.ljust(width)}  {size}", err=err)
    if len(lines) > MAX_LISTED:
        click.echo(f"  ... and {len(lines) - MAX_LISTED} more (see --dry-run --json)", err=err)
    if plan.not_local:
        click.echo(f"  {not_local} (nothing to do)", err=err)
    _show_kept(plan.kept, err=err)


def _show_kept(kept: Any, *, err: bool) -> None:
    """What a removal leaves alone because pygestor did not write it."""
    if kept:
        click.echo(f"  left alone, not written by pygestor ({len(kept)}):", err=err)
    for k in kept[:MAX_LISTED]:
        click.echo(f"    {k.path} ({k.reason})", err=err)
    if len(kept) > MAX_LISTED:
        click.echo(f"    ... and {len(kept) - MAX_LISTED} more (see --dry-run --json)", err=err)


def _removal_label(f: Any, root: Path | str) -> str:
    if f.kind == "data":
        return f"{f.subset}/{f.partition}"
    if f.kind == "partial":
        return f"{f.subset}/{f.partition} (partial download)"
    if f.kind == "arrow":
        return f"{f.subset} (Arrow copy)"
    suffix = " (temporary file)" if f.kind == "temp" else " (in no partition)"
    path, base = str(f.path), f"{root}/"
    return f"{path[len(base) :]}{suffix}" if path.startswith(base) else str(f.path)

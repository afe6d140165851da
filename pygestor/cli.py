"""The `pygestor` command: parse, call one `Catalog` method, render. The only code that prints.

Exit status: 0 success, 1 failure (a pygestor error, invalid manifests, a failed sync),
2 usage error (unknown command or option, missing argument).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Iterator, Sequence
from typing import Any, NoReturn

import click

from . import __version__
from .errors import ManifestError, PygestorError

# Repository files every Hub repo has, left out of the human "matched no rule" summary.
_REPO_METADATA = {"README.md", ".gitattributes", ".gitignore"}


class UserError(click.ClickException):
    """A pygestor error shown as `Error: ...` lines with exit status 1, never a traceback."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        for line in self.message.splitlines():
            click.echo(f"Error: {line}", err=True)


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            raise UserError("\n".join(str(p) for p in exc.problems)) from None
        except PygestorError as exc:
            raise UserError(str(exc)) from None


def _catalog(ctx: click.Context) -> Any:
    from .catalog import Catalog

    obj = ctx.find_root().obj or {}
    return Catalog.open(data_dir=obj.get("data_dir"), catalog=obj.get("catalog", ()))


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pygestor")
@click.option("--data-dir", type=click.Path(file_okay=False), envvar="PYGESTOR_DATA_DIR",
              help="Where data and the index live [env: PYGESTOR_DATA_DIR].")
@click.option("--catalog", "catalogs", multiple=True, type=click.Path(),
              help="An extra folder of manifests, searched first (repeatable; also PYGESTOR_CATALOG).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, catalogs: tuple[str, ...], verbose: int, quiet: bool) -> None:
    """A dataset catalog: one YAML manifest per dataset, one command to sync, list and fetch it."""
    level = logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s: %(message)s", stream=sys.stderr)
    ctx.obj = {"data_dir": data_dir, "catalog": catalogs}


# ---- list ----------------------------------------------------------------------------------
@cli.command("list")
@click.argument("dataset", required=False)
@click.option("-s", "--subset", help="List this subset's partitions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def list_command(ctx: click.Context, dataset: str | None, subset: str | None, as_json: bool) -> None:
    """List datasets, a dataset's subsets (DATASET), or a subset's partitions (DATASET -s SUBSET)."""
    catalog = _catalog(ctx)
    if dataset is None:
        if subset:
            raise click.UsageError("-s/--subset needs a DATASET")
        records = catalog.dataset_records()
        _render(records, as_json, [
            ("NAME", "name", str), ("MODALITY", "modality", ",".join),
            ("SUBSETS", "subsets", _count), ("PARTITIONS", None, _local_of("partitions")),
            ("SIZE", None, _local_of("bytes", human=True)), ("SOURCE", "source", str),
        ])
    elif subset is None:
        _render(catalog.subset_records(dataset), as_json, [
            ("SUBSET", "subset", str), ("PARTITIONS", None, _local_of("partitions")),
            ("SIZE", None, _local_of("bytes", human=True)), ("ROWS", "rows", _count),
            ("ARROW COPY", "arrow_copy_bytes", human_bytes),
        ])
    else:
        _render(catalog.partition_records(dataset, subset), as_json, [
            ("PARTITION", "partition", str), ("SIZE", "size", human_bytes), ("STATE", "state", str),
            ("ROWS", "rows", _count),
        ])


# ---- sync ----------------------------------------------------------------------------------
@cli.command()
@click.argument("datasets", nargs=-1)
@click.option("--repair", is_flag=True, help="Also rebuild local records from a rescan of the data dir.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def sync(ctx: click.Context, datasets: tuple[str, ...], repair: bool, as_json: bool) -> None:
    """List sources and record each dataset's subsets and partitions (default: every dataset).

    With --repair, also rebuild each dataset's index: records for the files on disk whose size and
    hash match the listing, none for missing files, and stale temporary files removed."""
    catalog = _catalog(ctx)
    if repair:
        from .cli_manage import repair_command

        repair_command(ctx, catalog, datasets, as_json)
        return
    show = None if as_json else _print_sync_result
    results = catalog.sync(list(datasets) or None, on_error="collect", on_result=show)
    if as_json:
        _echo_json([r.to_json() for r in results])
    if any(r.error for r in results):
        ctx.exit(1)


def _print_sync_result(r: Any) -> None:
    if r.error:
        for line in r.error.splitlines():
            click.echo(f"Error: {line}", err=True)
        return
    at = f" at {r.commit[:12]}" if r.commit else ""
    notes = [f"{len(v)} {k}" for k, v in (("new", r.new), ("stale", r.stale), ("gone", r.gone)) if v and r.changed]
    extra = f" ({', '.join(notes)})" if notes else ""
    click.echo(f"{r.dataset}: {r.subsets} subsets, {r.partitions} partitions, {human_bytes(r.bytes)}{at}{extra}")
    unmatched = [p for p in r.unmatched if p not in _REPO_METADATA]
    if unmatched:
        click.echo(f"  {len(unmatched)} files matched no rule, e.g. {unmatched[0]} (see --json)", err=True)
    for rule in r.empty_rules:
        click.echo(f"  rule {rule} matched no file", err=True)
    for path, why in r.skipped[:5]:
        click.echo(f"  skipped {path}: {why}", err=True)


# ---- download ------------------------------------------------------------------------------
@cli.command()
@click.argument("dataset")
@click.option("-s", "--subset", "subsets", multiple=True, help="Subset to fetch (repeatable).")
@click.option("-p", "--partition", "partitions", multiple=True, help="Only this partition (repeatable).")
@click.option("--all", "all_subsets", is_flag=True, help="Every subset of the dataset.")
@click.option("--update", is_flag=True, help="Also refetch partitions that changed upstream (stale).")
@click.option("--workers", type=click.IntRange(1, 64), help="Parallel downloads [default: 8].")
@click.option("--dry-run", is_flag=True, help="Show what would be fetched; fetch nothing.")
@click.option("--arrow-copy", is_flag=True,
              help="Then write each chosen subset as a memory-mapped Arrow file that load() uses.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def download(ctx: click.Context, dataset: str, subsets: tuple[str, ...], partitions: tuple[str, ...],
             all_subsets: bool, update: bool, workers: int | None, dry_run: bool, arrow_copy: bool,
             as_json: bool) -> None:
    """Fetch a subset (-s), some partitions (-p) or everything (--all) of DATASET."""
    if all_subsets and subsets:
        raise click.UsageError("give -s/--subset or --all, not both")
    catalog = _catalog(ctx)
    plan = catalog.plan_download(dataset, list(subsets) or None, partitions=list(partitions) or None,
                                 all_subsets=all_subsets, update=update)
    if dry_run:
        _show_plan(plan, as_json)
        return
    with _progress_bar(plan, quiet=as_json) as on_progress:
        report = plan.execute(workers=workers, progress=on_progress)
    copies = []
    if arrow_copy:
        chosen = sorted({i.subset for i in (*plan.fetch, *plan.local, *plan.stale)})
        copies = [catalog.build_arrow_copy(dataset, subset) for subset in chosen]
    if as_json:
        _echo_json({**report.to_json(), "arrow_copies": [{"subset": s, "path": str(c.path), "bytes": c.bytes}
                                                         for s, c in zip(chosen, copies, strict=True)]}
                   if arrow_copy else report.to_json())
        return
    rate = report.bytes_fetched / report.seconds if report.seconds else 0.0
    click.echo(f"{dataset}: fetched {len(report.fetched)} partitions ({human_bytes(report.bytes_fetched)} "
               f"in {report.seconds:.1f} s, {human_bytes(int(rate))}/s); {len(plan.local)} already local")
    if plan.stale:
        click.echo(f"  {len(plan.stale)} local partitions changed upstream; refetch with --update", err=True)
    for copy in copies:
        click.echo(f"  arrow copy {copy.path} ({human_bytes(copy.bytes)})")


def _show_plan(plan: Any, as_json: bool) -> None:
    if as_json:
        _echo_json(plan.to_json())
        return
    _render([i.to_json() for i in plan.fetch], False, [
        ("SUBSET", "subset", str), ("PARTITION", "partition", str), ("SIZE", "size", human_bytes),
        ("RESUME AT", "partial_bytes", human_bytes),
    ])
    click.echo(f"would fetch {len(plan.fetch)} partitions, {human_bytes(plan.bytes_to_fetch)}; "
               f"{len(plan.local)} already local, {len(plan.stale)} stale kept")


@contextlib.contextmanager
def _progress_bar(plan: Any, *, quiet: bool) -> Iterator[Any]:
    """A progress bar on stderr (bytes, rate, ETA, files done), or nothing when quiet or not a tty."""
    if quiet or not plan.fetch or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    total_files = len(plan.fetch)
    with tqdm(total=sum(i.file.size for i in plan.fetch), unit="B", unit_scale=True, unit_divisor=1000,
              desc=plan.dataset, file=sys.stderr) as bar:
        def on_progress(event: Any) -> None:
            if event.delta:
                bar.update(event.delta)
            if event.kind in ("done", "skipped", "failed"):
                bar.set_postfix_str(f"{event.files_done}/{total_files} files", refresh=False)

        yield on_progress


# ---- validate and schema --------------------------------------------------------------------
@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--resolve", is_flag=True,
              help="Also list each source (a dry-run sync) and fail on rules that match no file.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], resolve: bool, as_json: bool) -> None:
    """Check manifests: the given files or folders, or every catalog folder. Exit 1 on any problem."""
    report = _catalog(ctx).validate(list(paths), resolve=resolve)
    if as_json:
        _echo_json(report.to_json())
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        for note in report.notes:
            click.echo(f"note: {note}", err=True)
        if report.ok:
            click.echo(f"{len(report.files)} manifests valid")
    ctx.exit(0 if report.ok else 1)


@cli.command()
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--check", "check", type=click.Path(dir_okay=False, exists=True),
              help="Exit 1 if this file differs from the generated text.")
@click.option("--markdown", is_flag=True, help="The manifest reference (docs/manifest.md) instead.")
def schema(output: str | None, check: str | None, markdown: bool) -> None:
    """Print the JSON Schema of manifest files (generated from the pydantic models)."""
    from pathlib import Path

    from .manifest.schema import json_schema_text, reference_markdown

    text = reference_markdown() if markdown else json_schema_text()
    flag = " --markdown" if markdown else ""
    if check:
        if Path(check).read_text(encoding="utf-8") != text:
            raise UserError(f"{check} is out of date; run 'pygestor schema{flag} --output {check}'")
        click.echo(f"{check} is up to date")
    elif output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@cli.command()
@click.argument("dataset")
@click.pass_context
def forget(ctx: click.Context, dataset: str) -> None:
    """Drop what sync recorded for DATASET (downloaded files and their records stay)."""
    catalog = _catalog(ctx)
    catalog.manifest(dataset)
    click.echo(f"{dataset}: index dropped" if catalog.forget(dataset) else f"{dataset}: was not synced")


# ---- rendering ------------------------------------------------------------------------------
def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _local_of(key: str, *, human: bool = False) -> Any:
    fmt = human_bytes if human else _count

    def cell(row: dict[str, Any]) -> str:
        if row[key] is None:
            return "not synced"
        return f"{fmt(row[key + '_local'])} / {fmt(row[key])}"

    return cell


def _render(records: list[dict[str, Any]], as_json: bool, columns: Sequence[tuple[str, str | None, Any]]) -> None:
    if as_json:
        _echo_json(records)
        return
    table = [[title for title, _, _ in columns]]
    for row in records:
        table.append([fn(row) if key is None else fn(row[key]) for _, key, fn in columns])
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for r in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


# ---- the original tool's flags --------------------------------------------------------------
_LEGACY_ACTIONS = {
    "-l": "list", "--list": "list",
    "-u": "download", "--download": "download",
    "-r": "remove", "--remove": "remove",
    "-init": "sync", "--initialize": "sync",
    "-deinit": "forget", "--deinitialize": "forget",
}
_LEGACY_VALUES = {"-d": "dataset", "--dataset_name": "dataset", "-s": "subset", "--subset_name": "subset"}


def legacy_args(argv: Sequence[str]) -> list[str]:
    """Translate the original tool's flags (`-l -d NAME -s SUBSET`, `-u`, `-r`, `-init`, `-deinit`)
    into the new commands; anything else is returned unchanged."""
    if not any(a in _LEGACY_ACTIONS for a in argv) or (argv and argv[0] in cli.commands):
        return list(argv)
    actions: list[str] = []
    rest: list[str] = []
    values: dict[str, str | None] = {"dataset": None, "subset": None}
    it = iter(argv)
    for arg in it:
        if arg in _LEGACY_ACTIONS:
            actions.append(_LEGACY_ACTIONS[arg])
        elif arg in _LEGACY_VALUES:
            value = next(it, None)
            if value is None:
                raise click.UsageError(f"{arg} needs a value")
            values[_LEGACY_VALUES[arg]] = value
        else:
            rest.append(arg)
    if len(set(actions)) != 1:
        raise click.UsageError("give one of -l, -u, -r, -init, -deinit")
    command, dataset, subset = actions[0], values["dataset"], values["subset"]
    if command not in cli.commands:
        raise click.UsageError(f"'{command}' is not available in pygestor {__version__} yet")
    if command in ("download", "remove", "forget") and dataset is None:
        raise click.UsageError(f"{command} needs -d DATASET")
    args = [command] + ([dataset] if dataset else []) + (["-s", subset] if subset else [])
    return args + rest


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the `pygestor` script and of `python cli.py`."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args = legacy_args(args)
    except click.UsageError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    cli.main(args=args, prog_name="pygestor")
    sys.exit(0)  # cli.main exits itself in standalone mode; this satisfies the type checker


from . import cli_manage  # noqa: F401  (registers its commands)

from . import cli_add  # noqa: F401  # isort: skip  (registers its command)

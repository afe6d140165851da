"""Maintenance commands: `remove`, `updates`, `verify`, `info`, and `sync --repair`'s output.

Each parses, calls one `Catalog` method (see `pygestor/manage.py`), and renders; `--json` prints
the same keys as the Python API. Imported at the end of `cli.py`, which registers the commands.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .cli import _catalog, _count, _echo_json, _render, cli, human_bytes
from .errors import PygestorError

MAX_LISTED = 20  # files shown before a removal asks; the rest are counted
CELL_WIDTH = 40  # characters of a value shown in the `info --head` table


# ---- remove --------------------------------------------------------------------------------
@cli.command()
@click.argument("dataset")
@click.option("-s", "--subset", "subsets", multiple=True, help="Subset to remove (repeatable).")
@click.option("-p", "--partition", "partitions", multiple=True,
              help="Only this partition, NAME or SUBSET/NAME (repeatable).")
@click.option("--all", "all_subsets", is_flag=True, help="Every subset of the dataset.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def remove(ctx: click.Context, dataset: str, subsets: tuple[str, ...], partitions: tuple[str, ...],
           all_subsets: bool, yes: bool, dry_run: bool, as_json: bool) -> None:
    """Delete downloaded files of a subset (-s), some partitions (-p) or every subset (--all).

    Shows what will be freed and asks first (unless --yes). The catalog entry and the synced
    listing stay; files are only deleted inside DATA_DIR/DATASET/, never in a local source."""
    if all_subsets and subsets:
        raise click.UsageError("give -s/--subset or --all, not both")
    plan = _catalog(ctx).plan_remove(dataset, list(subsets) or None, partitions=list(partitions) or None,
                                     all_subsets=all_subsets)
    if dry_run or (plan.empty and not as_json):
        if as_json:
            _echo_json(plan.to_json())
        else:
            _show_removal(plan, err=False)
            if not plan.empty:
                click.echo("nothing deleted (dry run)")
        return
    if plan.empty:  # --json: the report of a removal that had nothing to do
        _echo_json(plan.execute().to_json())
        return
    if not yes:
        _show_removal(plan, err=as_json)
        click.confirm("Delete them?", default=False, abort=True, err=True)
    elif not as_json:
        _show_removal(plan, err=False)
    report = plan.execute()
    if as_json:
        _echo_json(report.to_json())
        return
    click.echo(f"{dataset}: deleted {_plural(len(report.files), 'file')}, freed {human_bytes(report.bytes)}")
    if report.busy:
        click.echo(f"  {_plural(len(report.busy), 'partition')} being downloaded by another process, left "
                   f"alone: {', '.join(report.busy[:5])}", err=True)


def _show_removal(plan: Any, *, err: bool) -> None:
    if plan.empty:
        what = f"{_plural(len(plan.not_local), 'chosen partition')} not local" if plan.not_local else "no local data"
        click.echo(f"{plan.dataset}: nothing to remove ({what})", err=err)
        return
    click.echo(f"{plan.dataset}: will delete {_plural(len(plan.files), 'file')} ({human_bytes(plan.bytes)}) "
               f"and {_plural(len(plan.records), 'record')}", err=err)
    root = Path(plan.store.data_dir) / plan.dataset
    lines = [(_removal_label(f, root), human_bytes(f.size)) for f in plan.files]
    width = max((len(name) for name, _ in lines[:MAX_LISTED]), default=0)
    for name, size in lines[:MAX_LISTED]:
        click.echo(f"  {name.ljust(width)}  {size}", err=err)
    if len(lines) > MAX_LISTED:
        click.echo(f"  ... and {len(lines) - MAX_LISTED} more (see --dry-run --json)", err=err)
    if plan.not_local:
        click.echo(f"  {_plural(len(plan.not_local), 'chosen partition')} not local (nothing to do)", err=err)


def _removal_label(f: Any, root: Path) -> str:
    if f.kind == "data":
        return f"{f.subset}/{f.partition}"
    if f.kind == "partial":
        return f"{f.subset}/{f.partition} (partial download)"
    if f.kind == "arrow":
        return f"{f.subset} (Arrow copy)"
    try:
        return f"{f.path.relative_to(root).as_posix()} (in no partition)"
    except ValueError:
        return str(f.path)


# ---- updates -------------------------------------------------------------------------------
@cli.command()
@click.argument("dataset", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def updates(ctx: click.Context, dataset: str | None, as_json: bool) -> None:
    """New, changed and deleted partitions upstream since the last sync or download (default:
    every synced dataset). Lists each source now; changes nothing."""
    catalog = _catalog(ctx)
    names = [dataset] if dataset else catalog.synced()
    rows: list[dict[str, Any]] = []
    failed = False
    for name in names:
        try:
            rows += catalog.updates(name)
        except PygestorError as exc:
            if dataset:
                raise
            click.echo(f"Error: {exc}", err=True)
            failed = True
    if as_json:
        _echo_json(rows)
    elif not names:
        click.echo("no dataset has been synced yet; run 'pygestor sync DATASET'")
    else:
        _show_updates(names, rows)
    if failed:
        ctx.exit(1)


def _show_updates(names: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if rows:
        _render(rows, False, [
            ("DATASET", "dataset", str), ("SUBSET", "subset", str), ("PARTITION", "partition", str),
            ("CHANGE", "change", str), ("LOCAL", "local", lambda v: "yes" if v else "no"),
            ("SIZE", None, lambda r: f"{human_bytes(r['size_before'])} -> {human_bytes(r['size_now'])}"),
        ])
    changed = {r["dataset"] for r in rows}
    for name in names:
        if name not in changed:
            click.echo(f"{name}: up to date")
    if rows:
        click.echo("record them with 'pygestor sync DATASET'; refresh changed local partitions with "
                   "'pygestor download DATASET --all --update'", err=True)


# ---- verify --------------------------------------------------------------------------------
@cli.command()
@click.argument("dataset")
@click.option("-s", "--subset", help="Only this subset.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def verify(ctx: click.Context, dataset: str, subset: str | None, as_json: bool) -> None:
    """Re-hash local files against their records. Exit 1 when any is missing or corrupt."""
    rows = _catalog(ctx).verify(dataset, subset)
    bad = [r for r in rows if r["status"] != "ok"]
    if as_json:
        _echo_json(rows)
    else:
        if bad:
            _render(bad, False, [("STATUS", "status", str), ("PARTITION", None, _key), ("DETAIL", None, _detail)])
        counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "corrupt", "missing")}
        where = f"{dataset}/{subset}" if subset else dataset
        click.echo(f"{where}: {_plural(len(rows), 'local partition')} checked: "
                   + ", ".join(f"{n} {s}" for s, n in counts.items()))
        if bad:
            click.echo(f"drop their records with 'pygestor sync --repair {dataset}', then fetch them again "
                       f"with 'pygestor download {dataset}'", err=True)
    ctx.exit(1 if bad else 0)


def _key(r: dict[str, Any]) -> str:
    return f"{r['subset']}/{r['partition']}"


def _detail(r: dict[str, Any]) -> str:
    if r["status"] == "missing":
        return f"no file at {r['path']}"
    if r["size_on_disk"] != r["size"]:
        return f"size {r['size_on_disk']:,} B, expected {r['size']:,} B"
    return f"{r['check']} {(r['actual'] or '-')[:12]}, expected {(r['expected'] or '-')[:12]}"


# ---- info ----------------------------------------------------------------------------------
@cli.command()
@click.argument("dataset")
@click.option("-s", "--subset", help="Describe this subset and list its partitions.")
@click.option("--head", type=click.IntRange(0, 10_000), default=0, show_default=True,
              help="Show this many rows of a local partition.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def info(ctx: click.Context, dataset: str, subset: str | None, head: int, as_json: bool) -> None:
    """Describe DATASET (or one subset): source, commit, sizes, rows, schema and sample rows."""
    data = _catalog(ctx).info(dataset, subset, head=head)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_value))
        return
    title = f"{data['dataset']}/{subset}" if subset else data["dataset"]
    click.echo(f"{title}: {data['description']}" if data["description"] else title)
    at = f" (commit {data['commit'][:12]})" if data["commit"] else ""
    fields = [
        ("source", data["source"]), ("revision", f"{data['revision'] or '-'}{at}"),
        ("synced at", data["synced_at"] or f"never; run 'pygestor sync {dataset}'"),
        ("format", data["format"] or "by file extension"), ("license", data["license"] or "-"),
    ]
    if data["synced_at"]:
        fields += [
            ("subsets", _count(data["subsets"])) if not subset else ("subset", subset),
            ("partitions", f"{_count(data['partitions_local'])} / {_count(data['partitions'])} local"),
            ("size", f"{human_bytes(data['bytes_local'])} / {human_bytes(data['bytes'])} local"),
            ("rows", _count(data["rows"])),
        ]
    for label, value in fields:
        click.echo(f"  {label:<10} {value}")
    if data["subset_records"]:
        click.echo()
        _render(data["subset_records"], False, [
            ("SUBSET", "subset", str), ("PARTITIONS", None, lambda r: f"{r['partitions_local']} / {r['partitions']}"),
            ("SIZE", None, lambda r: f"{human_bytes(r['bytes_local'])} / {human_bytes(r['bytes'])}"),
            ("ROWS", "rows", _count),
        ])
    if data["partition_records"]:
        click.echo()
        _render(data["partition_records"], False, [
            ("PARTITION", "partition", str), ("SIZE", "size", human_bytes), ("STATE", "state", str),
            ("ROWS", "rows", _count),
        ])
    _show_sample(data, head)


def _show_sample(data: dict[str, Any], head: int) -> None:
    if data["sample"] is None:
        if data["synced_at"]:
            click.echo("\nnothing local: no schema or rows to show (fetch with 'pygestor download')")
        return
    if data["schema"] is not None:
        click.echo(f"\nschema (from {data['sample']}):")
        width = max((len(f["name"]) for f in data["schema"]), default=0)
        for f in data["schema"]:
            click.echo(f"  {f['name']:<{width}}  {f['type']}")
    if head and data["head"] is not None:
        click.echo(f"\nfirst {_plural(len(data['head']), 'row')} of {data['sample']}:")
        rows = data["head"]
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = [{c: _cell(row.get(c)) for c in columns} for row in rows]
        _render(table, False, [(c, c, str) for c in columns])


def _cell(value: Any) -> str:
    """A value shortened to one line of at most CELL_WIDTH characters."""
    text = _short(value).replace("\n", " ").replace("\r", " ")
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 3] + "..."


def _short(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_short(v) for v in value[:10]) + (", ...]" if len(value) > 10 else "]")
    return "null" if value is None else str(value)


def _json_value(value: Any) -> Any:
    """JSON for what parquet rows may hold beyond JSON types: bytes are summarised, the rest str()."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)


# ---- sync --repair (the flag lives on `sync` in cli.py) ------------------------------------
def repair_command(ctx: click.Context, catalog: Any, datasets: Sequence[str], as_json: bool) -> None:
    """Rebuild the index of each dataset (default: every dataset of the catalog) and report."""
    from .maintain.repair import RepairReport

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
    if as_json:
        _echo_json([r.to_json() for r in reports])
    if any(r.error for r in reports):
        ctx.exit(1)


def _print_repair(r: Any) -> None:
    if r.error:
        for line in r.error.splitlines():
            click.echo(f"Error: {line}", err=True)
        return
    at = f" at {r.commit[:12]}" if r.commit else ""
    click.echo(f"{r.dataset}: index rebuilt{at}: {_plural(r.partitions, 'partition')}, "
               f"{_plural(r.checked, 'local file')} checked: {r.recorded} recorded, {r.kept} kept, "
               f"{len(r.mismatched)} mismatched, {len(r.dropped)} missing")
    removed = [(r.partials_removed, "partial download"), (r.temp_removed, "temporary file"),
               (r.damaged_removed, "damaged index file")]
    if any(n for n, _ in removed):
        click.echo("  removed " + ", ".join(_plural(n, what) for n, what in removed if n))
    for key in r.mismatched[:10]:
        click.echo(f"  {key}: bytes match neither the source nor a record; left unrecorded "
                   "(download it again)", err=True)
    if r.unknown:
        click.echo(f"  {_plural(len(r.unknown), 'file')} in the dataset folder belong to no partition, "
                   f"e.g. {r.unknown[0]} (left alone)", err=True)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"

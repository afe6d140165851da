"""Checking what is recorded against upstream and disk: `updates` and `verify`.

Each parses, calls `Catalog` methods (see `pygestor/manage.py`) and renders; `--json` prints the
same keys as the Python API.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from ..errors import PygestorError
from .output import catalog_from, echo_json, human_bytes, json_option, note, plural, render


# ---- updates -------------------------------------------------------------------------------
@click.command()
@click.argument("dataset", required=False)
@json_option
@click.pass_context
def updates(ctx: click.Context, dataset: str | None, as_json: bool) -> None:
    """New, changed and deleted partitions upstream since the last sync or download (default:
    every synced dataset). Lists each source now; changes nothing."""
    catalog = catalog_from(ctx)
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
        echo_json(rows)
    elif not names:
        note("no dataset has been synced yet; run 'pygestor sync DATASET'")
    else:
        _show_updates(names, rows)
    if failed:
        ctx.exit(1)


def _show_updates(names: Sequence[str], rows: list[dict[str, Any]]) -> None:
    if rows:
        render(
            rows,
            False,
            [
                ("DATASET", "dataset", str),
                ("SUBSET", "subset", str),
                ("PARTITION", "partition", str),
                ("CHANGE", "change", str),
                ("LOCAL", "local", lambda v: "yes" if v else "no"),
                (
                    "SIZE",
                    None,
                    lambda r: f"{human_bytes(r['size_before'])} -> {human_bytes(r['size_now'])}",
                ),
            ],
        )
    changed = {r["dataset"] for r in rows}
    for name in names:
        if name not in changed:
            click.echo(f"{name}: up to date")
    if rows:
        note(
            "record them with 'pygestor sync DATASET'; refresh changed local partitions "
            "with 'pygestor download DATASET --all --update'",
            err=True,
        )


# ---- verify --------------------------------------------------------------------------------
@click.command()
@click.argument("dataset")
@click.option("-s", "--subset", help="Only this subset.")
@json_option
@click.pass_context
def verify(ctx: click.Context, dataset: str, subset: str | None, as_json: bool) -> None:
    """Re-hash local files against their records. Exit 1 when any is missing or corrupt."""
    rows = catalog_from(ctx).verify(dataset, subset)
    bad = [r for r in rows if r["status"] != "ok"]
    if as_json:
        echo_json(rows)
    else:
        if bad:
            render(
                bad,
                False,
                [
                    ("STATUS", "status", str),
                    ("PARTITION", None, _key),
                    ("DETAIL", None, _detail),
                ],
            )
        counts = {s: sum(r["status"] == s for r in rows) for s in ("ok", "corrupt", "missing")}
        where = f"{dataset}/{subset}" if subset else dataset
        note(
            f"{where}: {plural(len(rows), 'local partition')} checked: "
            + ", ".join(f"{n} {s}" for s, n in counts.items())
        )
        if bad:
            note(
                f"drop their records with 'pygestor sync --repair {dataset}', then fetch "
                f"them again with 'pygestor download {dataset}'",
                err=True,
            )
    ctx.exit(1 if bad else 0)


def _key(r: dict[str, Any]) -> str:
    return f"{r['subset']}/{r['partition']}"


def _detail(r: dict[str, Any]) -> str:
    if r["status"] == "missing":
        return f"no file at {r['path']}"
    if r["size_on_disk"] != r["size"]:
        return f"size {r['size_on_disk']:,} B, expected {r['size']:,} B"
    return f"{r['check']} {(r['actual'] or '-')[:12]}, expected {(r['expected'] or '-')[:12]}"

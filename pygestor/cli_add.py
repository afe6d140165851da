"""`pygestor add REPO`: a manifest from any Hub dataset repo in one command.

Parses, calls `Catalog.add` (see `pygestor/scaffold/`), renders; `--json` prints the keys of
`Scaffold.to_json()`. Imported at the end of `cli.py`, which registers the command.
"""

from __future__ import annotations

from typing import Any

import click

from .cli import _catalog, _count, _echo_json, cli, human_bytes

MAX_SHOWN = 30  # subsets listed in the table; the rest are counted


@cli.command()
@click.argument("repo")
@click.option("--name", help="Dataset name [default: the repo name, lowercased].")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write here; '-' prints the manifest instead [default: USER_CATALOG/NAME.yaml].")
@click.option("--revision", help="Branch, tag or commit to read [default: main, or the one in a URL].")
@click.option("--force", is_flag=True, help="Overwrite an existing file (or shadow a built-in manifest).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def add(ctx: click.Context, repo: str, name: str | None, output: str | None, revision: str | None,
        force: bool, as_json: bool) -> None:
    """Write a manifest for a Hub dataset REPO, inferred from its card and file layout.

    REPO is owner/name, https://huggingface.co/datasets/owner/name[/tree/REVISION] or
    hf://datasets/owner/name[@REVISION]. The manifest is checked against the repo's listing
    before it is written; what to check by hand is printed under 'review'."""
    catalog = _catalog(ctx)
    if output == "-":
        from .scaffold.build import scaffold

        result = scaffold(repo, name=name, revision=revision, settings=catalog.settings)
        if as_json:
            _echo_json(result.to_json())  # the manifest is its "manifest" key
        else:
            click.echo(result.text, nl=False)
            _report(result, err=True)
        return
    result = catalog.add(repo, name=name, revision=revision, output=output, force=force)
    if as_json:
        _echo_json(result.to_json())
    else:
        _report(result, err=False)


_ORIGINS = {"card": "subsets from the dataset card's configs", "layout": "subsets from the file layout",
            "parquet-conversion": "subsets from the refs/convert/parquet revision"}


def _report(result: Any, *, err: bool) -> None:
    at = f" at {result.commit[:12]}" if result.commit else ""
    click.echo(f"{result.name}: {len(result.subsets)} subsets, {result.partitions} partitions, "
               f"{human_bytes(result.bytes)} from {result.source}{at}", err=err)
    where = f"wrote {result.path}" if result.path else "not written"
    click.echo(f"{where} ({_ORIGINS[result.origin]})", err=err)
    table = [("SUBSET", "PARTITIONS", "SIZE", "ROWS")]
    table += [(s.name, _count(s.partitions), human_bytes(s.bytes), _count(s.rows)) for s in result.subsets[:MAX_SHOWN]]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    for row in table:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), err=err)
    if len(result.subsets) > MAX_SHOWN:
        click.echo(f"... and {len(result.subsets) - MAX_SHOWN} more subsets (see --json)", err=err)
    if result.review:
        click.echo("review:", err=err)
        for item in result.review:
            click.echo(f"  - {item}", err=err)
    if result.path:
        click.echo(f"next: pygestor sync {result.name}", err=err)

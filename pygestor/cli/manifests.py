"""The manifest files: `validate`, `schema`, and `add` (a manifest from any Hub dataset repo).

Each parses, calls the library (`Catalog.validate`, `Catalog.add` in `pygestor/scaffold.py`, the
schema generators in `pygestor/manifest.py`) and renders; `--json` prints the same keys as the
Python API.
"""

from __future__ import annotations

from typing import Any

import click

from .output import (
    UserError,
    at_commit,
    catalog_from,
    count,
    echo_json,
    human_bytes,
    is_quiet,
    json_option,
    note,
    plural,
    render,
)

MAX_SHOWN = 30  # subsets `add` lists in its table; the rest are counted


# ---- validate and schema --------------------------------------------------------------------
@click.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--resolve",
    is_flag=True,
    help="Also list each source (a dry-run sync) and fail on rules that match no file.",
)
@json_option
@click.pass_context
def validate(ctx: click.Context, paths: tuple[str, ...], resolve: bool, as_json: bool) -> None:
    """Check manifests: the given files or folders, or every catalog folder. Exit 1 on any
    problem."""
    report = catalog_from(ctx).validate(list(paths), resolve=resolve)
    if as_json:
        echo_json(report.to_json())
    else:
        for problem in report.problems:
            click.echo(str(problem), err=True)
        for text in report.notes:
            note(f"note: {text}", err=True)
        if report.ok:
            note(f"{len(report.files)} manifests valid")
    ctx.exit(0 if report.ok else 1)


@click.command()
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout."
)
@click.option(
    "--check",
    "check",
    type=click.Path(dir_okay=False, exists=True),
    help="Exit 1 if this file differs from the generated text.",
)
@click.option("--markdown", is_flag=True, help="The manifest reference (docs/manifest.md) instead.")
def schema(output: str | None, check: str | None, markdown: bool) -> None:
    """Print the JSON Schema of manifest files (generated from the pydantic models)."""
    from pathlib import Path

    from ..manifest.schema import json_schema_text, reference_markdown

    text = reference_markdown() if markdown else json_schema_text()
    flag = " --markdown" if markdown else ""
    if check:
        if Path(check).read_text(encoding="utf-8") != text:
            raise UserError(f"{check} is out of date; run 'pygestor schema{flag} --output {check}'")
        note(f"{check} is up to date")
    elif output:  # atomically: an editor or CI reading it never sees half a schema
        from ..storage.local import LocalStorage

        target = Path(output).absolute()
        LocalStorage(target.parent).write(target.name, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)


# ---- add -----------------------------------------------------------------------------------
@click.command()
@click.argument("repo")
@click.option("--name", help="Dataset name [default: the repo name, lowercased].")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write here; '-' prints the manifest instead [default: USER_CATALOG/NAME.yaml].",
)
@click.option(
    "--revision", help="Branch, tag or commit to read [default: main, or the one in a URL]."
)
@click.option(
    "--force", is_flag=True, help="Overwrite an existing file (or shadow a built-in manifest)."
)
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    repo: str,
    name: str | None,
    output: str | None,
    revision: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Write a manifest for a Hub dataset REPO, inferred from its card and file layout.

    REPO is owner/name, https://huggingface.co/datasets/owner/name[/tree/REVISION] or
    hf://datasets/owner/name[@REVISION]. The manifest is checked against the repo's listing
    before it is written; what to check by hand is printed under 'review'."""
    catalog = catalog_from(ctx)
    if output == "-":
        from ..scaffold.build import scaffold

        result = scaffold(repo, name=name, revision=revision, settings=catalog.settings)
        if as_json:
            echo_json(result.to_json())  # the manifest is its "manifest" key
        else:
            click.echo(result.text, nl=False)
            _report(result, err=True)
        return
    result = catalog.add(repo, name=name, revision=revision, output=output, force=force)
    if as_json:
        echo_json(result.to_json())
    else:
        _report(result, err=False)


_ORIGINS = {
    "card": "subsets from the dataset card's configs",
    "layout": "subsets from the file layout",
    "parquet-conversion": "subsets from the refs/convert/parquet revision",
}


def _report(result: Any, *, err: bool) -> None:
    if is_quiet():
        return
    at = at_commit(result.commit)
    click.echo(
        f"{result.name}: {plural(len(result.subsets), 'subset')}, "
        f"{plural(result.partitions, 'partition')}, "
        f"{human_bytes(result.bytes)} from {result.source}{at}",
        err=err,
    )
    where = f"wrote {result.path}" if result.path else "not written"
    click.echo(f"{where} ({_ORIGINS[result.origin]})", err=err)
    render(
        [s.to_json() for s in result.subsets[:MAX_SHOWN]],
        False,
        [
            ("SUBSET", "subset", str),
            ("PARTITIONS", "partitions", count),
            ("SIZE", "bytes", human_bytes),
            ("ROWS", "rows", count),
        ],
        err=err,
    )
    if len(result.subsets) > MAX_SHOWN:
        click.echo(f"... and {len(result.subsets) - MAX_SHOWN} more subsets (see --json)", err=err)
    if result.review:
        click.echo("review:", err=err)
        for item in result.review:
            click.echo(f"  - {item}", err=err)
    if result.path:
        click.echo(f"next: pygestor sync {result.name}", err=err)

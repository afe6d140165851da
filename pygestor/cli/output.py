"""What every command shares: the catalog from the click context, errors, and output.

The table renderer, JSON, byte sizes, counts and plurals live here, so every command prints them
the same way. The command modules import this one (and the library), never each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ..catalog import Catalog

Column = tuple[str, str | None, Callable[[Any], str]]
"""A table column: its title, the record key whose value `fn` formats (None: `fn` gets the whole
record), and `fn`."""


class UserError(click.ClickException):
    """A pygestor error shown as `Error: ...` lines with exit status 1, never a traceback."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        echo_error(self.message)


def catalog_from(ctx: click.Context) -> Catalog:
    """The `Catalog` for the data dir and catalog folders given to the `pygestor` group."""
    from ..catalog import Catalog

    obj = ctx.find_root().obj or {}
    return Catalog.open(data_dir=obj.get("data_dir"), catalog=obj.get("catalog", ()))


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    raise AssertionError("unreachable")


def count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def render(
    records: list[dict[str, Any]], as_json: bool, columns: Sequence[Column], *, err: bool = False
) -> None:
    """The records as JSON, or as a table (on stderr with `err`): a title row, then one row a
    record."""
    if as_json:
        echo_json(records)
        return
    table = [[title for title, _, _ in columns]]
    for row in records:
        table.append([fn(row) if key is None else fn(row[key]) for _, key, fn in columns])
    widths = [max(len(r[i]) for r in table) for i in range(len(columns))]
    for r in table:
        click.echo(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip(), err=err
        )


def echo_json(data: Any, *, default: Callable[[Any], Any] | None = None) -> None:
    """`data` as indented JSON on stdout; `default` converts what JSON cannot hold."""
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=default))


def echo_error(message: str) -> None:
    """Each line of `message` as an `Error: ...` line on stderr."""
    for line in message.splitlines():
        click.echo(f"Error: {line}", err=True)


def at_commit(commit: str | None) -> str:
    """` at COMMIT` (its first 12 characters), or nothing when there is no commit."""
    return f" at {commit[:12]}" if commit else ""


json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
"""The `--json` flag of every command that has one."""

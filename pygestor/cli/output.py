"""What every command shares: the catalog from the click context, errors, and output.

The table renderer, JSON, byte sizes, counts and plurals live here, so every command prints them
the same way. The command modules import this one (and the library), never each other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from operator import itemgetter
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


def settings_of(ctx: click.Context | None = None) -> dict[str, Any]:
    """The global options (`data_dir`, `catalog`, `verbose`, `quiet`) as given to the group or,
    after it, to the subcommand."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return {}
    root = ctx.find_root()
    if root.obj is None:
        root.obj = {}
    return root.obj


def is_quiet() -> bool:
    """True under -q/--quiet: only errors and the data asked for (tables, --json) are printed."""
    return bool(settings_of().get("quiet"))


def note(message: str = "", *, err: bool = False) -> None:
    """A summary or hint line: printed unless -q/--quiet."""
    if not is_quiet():
        click.echo(message, err=err)


def apply_logging(obj: dict[str, Any]) -> None:
    """Set the log level from the -v count and -q of `obj` (warnings by default)."""
    import logging
    import warnings

    levels = (logging.WARNING, logging.INFO, logging.DEBUG)
    quiet = bool(obj.get("quiet"))
    level = logging.ERROR if quiet else levels[min(int(obj.get("verbose") or 0), 2)]
    logging.getLogger().setLevel(level)
    if quiet:
        from ..errors import PygestorWarning

        warnings.simplefilter("ignore", PygestorWarning)


def _store_global(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Callback of a global option given after the subcommand: merge it into the group's."""
    if value in (None, (), 0, False):
        return
    obj = settings_of(ctx)
    name = param.name or ""
    if name == "catalogs":
        obj["catalog"] = (*obj.get("catalog", ()), *value)
    elif name == "verbose":
        obj["verbose"] = int(obj.get("verbose") or 0) + value
    else:
        obj[name] = value
    apply_logging(obj)


def global_options(f: Any) -> Any:
    """--data-dir, --catalog, -v and -q, also accepted after the subcommand
    (`pygestor list wikipedia --data-dir X` is `pygestor --data-dir X list wikipedia`)."""
    options = [
        click.option(
            "--data-dir",
            type=click.Path(file_okay=False),
            expose_value=False,
            callback=_store_global,
            help="Where data and the index live (as before the command).",
        ),
        click.option(
            "--catalog",
            "catalogs",
            multiple=True,
            type=click.Path(),
            expose_value=False,
            callback=_store_global,
            help="An extra folder of manifests (repeatable; as before the command).",
        ),
        click.option(
            "-v",
            "--verbose",
            count=True,
            expose_value=False,
            callback=_store_global,
            help="More log output (-vv for debug).",
        ),
        click.option(
            "-q",
            "--quiet",
            is_flag=True,
            expose_value=False,
            callback=_store_global,
            help="Only errors and the data asked for.",
        ),
    ]
    for option in options:  # on a Command, each is appended to its parameters
        f = option(f)
    return f


def catalog_from(ctx: click.Context) -> Catalog:
    """The `Catalog` for the data dir and catalog folders given to the `pygestor` group."""
    from ..catalog import Catalog

    obj = settings_of(ctx)
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


RENDER_CHUNK = 10_000  # rows of a table written at once


def render(
    records: list[dict[str, Any]], as_json: bool, columns: Sequence[Column], *, err: bool = False
) -> None:
    """The records as JSON, or as a table (on stderr with `err`): a title row, then one row a
    record."""
    if as_json:
        echo_json(records)
        return
    table = [[title] for title, _, _ in columns]  # one list of cells per column, title first
    for column, (_, key, fn) in zip(table, columns, strict=True):
        column += map(fn, map(itemgetter(key), records) if key is not None else records)
    row = "  ".join(f"{{:<{max(map(len, column))}}}" for column in table)  # "{:<9}  {:<4}..."
    lines = [line.rstrip() for line in map(row.format, *table)]
    # one write (of a chunk of rows at a time): a table of 100,000 partitions is not 100,000
    # calls of `click.echo`
    for i in range(0, len(lines), RENDER_CHUNK):
        click.echo("\n".join(lines[i : i + RENDER_CHUNK]), err=err)


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

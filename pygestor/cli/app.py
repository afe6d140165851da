"""The `pygestor` command: the group, its commands, the original tool's flags, and `main`.

Exit status: 0 success, 1 failure (a pygestor error, invalid manifests, a failed sync),
2 usage error (unknown command or option, missing argument).

Imports point one way: this module -> the command modules -> `output`.
"""

from __future__ import annotations

import errno
import logging
import os
import shlex
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from .. import __version__
from ..errors import DownloadInterrupted, ManifestError, PygestorError
from . import browse, data, maintain, manifests, ui
from .output import UserError, apply_logging, global_options, plural

INTERRUPTED = 130  # the shell's exit status for a command stopped by SIGINT (128 + 2)


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ManifestError as exc:
            raise UserError("\n".join(str(p) for p in exc.problems)) from None
        except PygestorError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            if exc.errno != errno.ENOSPC:  # anything else unexpected is a bug: its traceback
                raise
            # a full disk the library did not name (DiskFull names what and where): still one line
            where = f" while writing {exc.filename}" if exc.filename else ""
            raise UserError(
                f"no space left on the device{where}; free some space and rerun"
            ) from None
        except KeyboardInterrupt as exc:
            _interrupted(ctx, exc)
        except Exception as exc:
            from ..storage.s3 import user_error

            found = user_error(exc)  # an object store's setup (credentials, endpoint, bucket)
            if found is None:
                raise
            raise UserError(str(found)) from None


def _interrupted(ctx: click.Context, exc: KeyboardInterrupt) -> NoReturn:
    """Ctrl-C: one line on stderr (what was kept, the command that resumes), exit 130."""
    argv = (ctx.obj or {}).get("argv") or [ctx.invoked_subcommand or ""]
    rerun = shlex.join(["pygestor", *argv])
    if isinstance(exc, DownloadInterrupted):
        line = (
            f"interrupted: {plural(exc.done, 'file')} done, {exc.partial} partial kept; "
            f"rerun `{rerun}` to resume"
        )
    else:
        line = f"interrupted; nothing was left half-written; rerun `{rerun}` to finish"
    click.echo(line, err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t.name.startswith("pygestor-fetch") and t.is_alive() for t in threading.enumerate()):
        # a transfer stuck in a read that did not return within the grace period: its partial
        # file holds every byte written so far (a prefix of the file), so exit now
        os._exit(INTERRUPTED)
    ctx.exit(INTERRUPTED)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pygestor")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    envvar="PYGESTOR_DATA_DIR",
    help="Where data and the index live [env: PYGESTOR_DATA_DIR].",
)
@click.option(
    "--catalog",
    "catalogs",
    multiple=True,
    type=click.Path(),
    help="An extra folder of manifests, searched first (repeatable; also PYGESTOR_CATALOG).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the data asked for.")
@click.pass_context
def cli(
    ctx: click.Context, data_dir: str | None, catalogs: tuple[str, ...], verbose: int, quiet: bool
) -> None:
    """A dataset catalog: one YAML manifest per dataset, one command to sync, list and fetch it."""
    logging.basicConfig(format="%(levelname)s: %(message)s", stream=sys.stderr)
    ctx.obj = {
        **(ctx.obj or {}),
        "data_dir": data_dir,
        "catalog": catalogs,
        "verbose": verbose,
        "quiet": quiet,
    }
    apply_logging(ctx.obj)


for _command in (
    browse.list_command,
    browse.info,
    data.sync,
    data.forget,
    data.download,
    data.remove,
    maintain.updates,
    maintain.verify,
    manifests.validate,
    manifests.schema,
    manifests.add,
    ui.ui,
):
    cli.add_command(global_options(_command))


# ---- the original tool's flags --------------------------------------------------------------
_LEGACY_ACTIONS = {
    "-l": "list",
    "--list": "list",
    "-u": "download",
    "--download": "download",
    "-r": "remove",
    "--remove": "remove",
    "-init": "sync",
    "--initialize": "sync",
    "-deinit": "forget",
    "--deinitialize": "forget",
}
_LEGACY_VALUES = {
    "-d": "dataset",
    "--dataset_name": "dataset",
    "-s": "subset",
    "--subset_name": "subset",
}


def legacy_args(argv: Sequence[str]) -> list[str]:
    """Translate the original tool's flags (`-l -d NAME -s SUBSET`, `-u`, `-r`, `-init`, `-deinit`)
    into the new commands; anything else is returned unchanged."""
    if not any(a in _LEGACY_ACTIONS for a in argv) or (argv and argv[0] in cli.commands):
        return list(argv)
    actions: list[str] = []
    rest: list[str] = []
    datasets: list[str] = []
    subsets: list[str] = []  # -s A -s B: both, as `pygestor download -s A -s B`
    it = iter(argv)
    for arg in it:
        if arg in _LEGACY_ACTIONS:
            actions.append(_LEGACY_ACTIONS[arg])
        elif arg in _LEGACY_VALUES:
            value = next(it, None)
            if value is None:
                raise click.UsageError(f"{arg} needs a value")
            (datasets if _LEGACY_VALUES[arg] == "dataset" else subsets).append(value)
        else:
            rest.append(arg)
    if len(set(actions)) != 1:
        raise click.UsageError("give one of -l, -u, -r, -init, -deinit")
    command = actions[0]
    if command not in cli.commands:
        raise click.UsageError(f"'{command}' is not available in pygestor {__version__} yet")
    if len(set(datasets)) > 1:
        raise click.UsageError(f"give -d once (got {', '.join(datasets)})")
    dataset = datasets[0] if datasets else None
    if command in ("download", "remove", "forget") and dataset is None:
        raise click.UsageError(f"{command} needs -d DATASET")
    if subsets and command in ("sync", "forget"):
        raise click.UsageError(f"{command} works on a whole dataset; drop -s")
    if command == "list" and len(set(subsets)) > 1:
        raise click.UsageError("-l lists one subset's partitions; give -s once")
    args = [command] + ([dataset] if dataset else [])
    for subset in dict.fromkeys(subsets):
        args += ["-s", subset]
    return args + rest


_GROUP_VALUES = ("--data-dir", "--catalog")  # group options that take a value


def json_after_command(argv: Sequence[str]) -> list[str]:
    """`pygestor --json list` is `pygestor list --json`: --json belongs to the commands, so one
    given before the command is moved after it."""
    args = list(argv)
    i, found = 0, []
    while i < len(args) and args[i] not in cli.commands:
        if args[i] == "--json":
            found.append(i)
        i += 2 if args[i] in _GROUP_VALUES else 1
    if i >= len(args) or not found:
        return args
    return [a for n, a in enumerate(args[:i]) if n not in found] + args[i:] + ["--json"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Entry point of the `pygestor` script, of `python -m pygestor` and of `python cli.py`."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        args = json_after_command(legacy_args(args))
    except click.UsageError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    cli.main(args=args, prog_name="pygestor", obj={"argv": args})
    sys.exit(0)  # cli.main exits itself in standalone mode; this satisfies the type checker

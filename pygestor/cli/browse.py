"""Looking at the catalog: `list` (datasets, subsets, partitions) and `info` (a dataset or a
subset).

Each parses, calls one `Catalog` method and renders; `--json` prints the same keys as the Python
API.
"""

from __future__ import annotations

from typing import Any

import click

from .output import (
    Column,
    catalog_from,
    count,
    echo_json,
    human_bytes,
    json_option,
    plural,
    render,
)

CELL_WIDTH = 40  # characters of a value shown in the `info --head` table
PARTITION_COLUMNS: list[Column] = [  # `list DATASET -s SUBSET` and `info DATASET -s SUBSET`
    ("PARTITION", "partition", str),
    ("SIZE", "size", human_bytes),
    ("STATE", "state", str),
    ("ROWS", "rows", count),
]


# ---- list ----------------------------------------------------------------------------------
@click.command("list")
@click.argument("dataset", required=False)
@click.option("-s", "--subset", "subsets", multiple=True, help="List this subset's partitions.")
@json_option
@click.pass_context
def list_command(
    ctx: click.Context, dataset: str | None, subsets: tuple[str, ...], as_json: bool
) -> None:
    """List datasets, a dataset's subsets (DATASET), or a subset's partitions
    (DATASET -s SUBSET)."""
    if len(set(subsets)) > 1:  # rather than the last one silently winning
        raise click.UsageError("list shows one subset's partitions; give -s once")
    subset = subsets[0] if subsets else None
    catalog = catalog_from(ctx)
    if dataset is None:
        if subset:
            raise click.UsageError("-s/--subset needs a DATASET")
        records = catalog.dataset_records()
        render(
            records,
            as_json,
            [
                ("NAME", "name", str),
                ("MODALITY", "modality", ",".join),
                ("SUBSETS", "subsets", count),
                ("PARTITIONS", None, _local_of("partitions")),
                ("SIZE", None, _local_of("bytes", human=True)),
                ("SOURCE", "source", str),
            ],
        )
    elif subset is None:
        render(
            catalog.subset_records(dataset),
            as_json,
            [
                ("SUBSET", "subset", str),
                ("PARTITIONS", None, _local_of("partitions")),
                ("SIZE", None, _local_of("bytes", human=True)),
                ("ROWS", "rows", count),
                ("ARROW COPY", "arrow_copy_bytes", human_bytes),
            ],
        )
    else:
        columns = PARTITION_COLUMNS
        if catalog.settings.shared_data_dirs:  # layered data dirs: which one holds each file
            columns = [*columns, ("LOCATION", "location", lambda v: v or "-")]
        render(catalog.partition_records(dataset, subset), as_json, columns)


def _local_of(key: str, *, human: bool = False) -> Any:
    fmt = human_bytes if human else count

    def cell(row: dict[str, Any]) -> str:
        if row[key] is None:
            return "not synced"
        return f"{fmt(row[key + '_local'])} / {fmt(row[key])}"

    return cell


# ---- info ----------------------------------------------------------------------------------
@click.command()
@click.argument("dataset")
@click.option("-s", "--subset", help="Describe this subset and list its partitions.")
@click.option(
    "--head",
    type=click.IntRange(0, 10_000),
    default=0,
    show_default=True,
    help="Show this many rows of a local partition.",
)
@json_option
@click.pass_context
def info(ctx: click.Context, dataset: str, subset: str | None, head: int, as_json: bool) -> None:
    """Describe DATASET (or one subset): source, commit, sizes, rows, schema and sample rows."""
    data = catalog_from(ctx).info(dataset, subset, head=head)
    if as_json:
        echo_json(data, default=_json_value)
        return
    title = f"{data['dataset']}/{subset}" if subset else data["dataset"]
    click.echo(f"{title}: {data['description']}" if data["description"] else title)
    at = f" (commit {data['commit'][:12]})" if data["commit"] else ""
    fields = [
        ("source", data["source"]),
        ("revision", f"{data['revision'] or '-'}{at}"),
        ("synced at", data["synced_at"] or f"never; run 'pygestor sync {dataset}'"),
        ("format", data["format"] or "by file extension"),
        ("license", data["license"] or "-"),
    ]
    if data["synced_at"]:
        fields += [
            ("subsets", count(data["subsets"])) if not subset else ("subset", subset),
            (
                "partitions",
                f"{count(data['partitions_local'])} / {count(data['partitions'])} local",
            ),
            ("size", f"{human_bytes(data['bytes_local'])} / {human_bytes(data['bytes'])} local"),
            ("rows", count(data["rows"])),
        ]
    for label, value in fields:
        click.echo(f"  {label:<10} {value}")
    if data["subset_records"]:
        click.echo()
        render(
            data["subset_records"],
            False,
            [
                ("SUBSET", "subset", str),
                ("PARTITIONS", None, lambda r: f"{r['partitions_local']} / {r['partitions']}"),
                (
                    "SIZE",
                    None,
                    lambda r: f"{human_bytes(r['bytes_local'])} / {human_bytes(r['bytes'])}",
                ),
                ("ROWS", "rows", count),
            ],
        )
    if data["partition_records"]:
        click.echo()
        render(data["partition_records"], False, PARTITION_COLUMNS)
    _show_sample(data, head)


def _show_sample(data: dict[str, Any], head: int) -> None:
    if data["sample"] is None:
        if data["synced_at"]:
            click.echo(
                "\nnothing local: no schema or rows to show (fetch with 'pygestor download')"
            )
        return
    if data["schema"] is not None:
        click.echo(f"\nschema (from {data['sample']}):")
        width = max((len(f["name"]) for f in data["schema"]), default=0)
        for f in data["schema"]:
            click.echo(f"  {f['name']:<{width}}  {f['type']}")
    if head and data["head"] is not None:
        click.echo(f"\nfirst {plural(len(data['head']), 'row')} of {data['sample']}:")
        rows = data["head"]
        columns = list(dict.fromkeys(k for row in rows for k in row))
        table = [{c: _cell(row.get(c)) for c in columns} for row in rows]
        render(table, False, [(c, c, str) for c in columns])


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
        more = ", ...]" if len(value) > 10 else "]"
        return "[" + ", ".join(_short(v) for v in value[:10]) + more
    return "null" if value is None else str(value)


def _json_value(value: Any) -> Any:
    """JSON for what parquet rows may hold beyond JSON types: bytes are summarised, the rest
    str()."""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    return str(value)

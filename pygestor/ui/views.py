"""View models: the plain dicts the JSON API returns and the pages render, built from Catalog
calls only (searching, filtering, sorting and paging of what the Catalog lists; no rule of the
engine is re-implemented here).

Every function takes the `Catalog` first and returns JSON-safe data (str, int, float, bool,
None, lists and dicts of them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import PartitionNotFound, SelectionError

if TYPE_CHECKING:
    from ..catalog import Catalog

PER_PAGE_CHOICES = (10, 25, 50, 100)
MAX_PER_PAGE = 500
DATASET_SORTS = (
    "name",
    "modality",
    "license",
    "subsets",
    "partitions",
    "partitions_local",
    "bytes",
    "bytes_local",
    "synced_at",
)
PARTITION_SORTS = ("partition", "size", "state", "rows", "downloaded_at")


@dataclass(frozen=True)
class Paging:
    """Which page of a table: 1-based `page`, `per_page` rows, sorted by `sort` (`order` asc or
    desc). Invalid values are one clear error naming the parameter."""

    page: int = 1
    per_page: int = 10
    sort: str = "name"
    order: str = "asc"

    def check(self, sorts: Sequence[str]) -> Paging:
        if self.page < 1:
            raise SelectionError(f"page must be 1 or more, not {self.page}")
        if not 1 <= self.per_page <= MAX_PER_PAGE:
            raise SelectionError(
                f"per_page must be between 1 and {MAX_PER_PAGE}, not {self.per_page}"
            )
        if self.sort not in sorts:
            raise SelectionError(f"sort must be one of {', '.join(sorts)}, not {self.sort!r}")
        if self.order not in ("asc", "desc"):
            raise SelectionError(f"order must be 'asc' or 'desc', not {self.order!r}")
        return self

    def apply(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The page of `rows` (sorted; unknown values last whatever the order) with its counts."""
        known = [r for r in rows if r.get(self.sort) is not None]
        unknown = [r for r in rows if r.get(self.sort) is None]
        known.sort(key=lambda r: _sort_key(r[self.sort]), reverse=self.order == "desc")
        ordered = known + unknown
        pages = max(1, math.ceil(len(ordered) / self.per_page))
        start = (self.page - 1) * self.per_page
        return {
            "total": len(ordered),
            "page": self.page,
            "per_page": self.per_page,
            "pages": pages,
            "sort": self.sort,
            "order": self.order,
            "items": ordered[start : start + self.per_page],
        }


def _sort_key(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join(str(v) for v in value).lower()
    return value.lower() if isinstance(value, str) else value


# ---- datasets ---------------------------------------------------------------------------------
def dataset_rows(catalog: Catalog) -> list[dict[str, Any]]:
    """Every dataset of the catalog: `Catalog.dataset_records()` plus what its manifest says
    (license, tags, homepage) and where it comes from (`builtin`, `path`)."""
    found = catalog.discover()
    rows = []
    for record in catalog.dataset_records(found=found):
        entry = found.entries[record["name"]]
        m = entry.manifest
        rows.append(
            {
                **record,
                "license": m.license,
                "tags": list(m.tags),
                "homepage": m.homepage,
                "builtin": entry.builtin,
                "path": str(entry.path),
            }
        )
    return rows


def datasets_page(
    catalog: Catalog,
    *,
    q: str = "",
    modality: str | None = None,
    license: str | None = None,
    tag: str | None = None,
    local_only: bool = False,
    paging: Paging = Paging(),
) -> dict[str, Any]:
    """One page of the datasets table, searched (`q`: every word in the name, description,
    source, license or tags, case-insensitive) and filtered, with the filter choices (`facets`)
    of the whole catalog."""
    paging = paging.check(DATASET_SORTS)
    rows = dataset_rows(catalog)
    facets = {
        "modality": sorted({m for r in rows for m in r["modality"]}),
        "license": sorted({r["license"] for r in rows if r["license"]}),
        "tag": sorted({t for r in rows for t in r["tags"]}),
    }
    words = q.lower().split()
    chosen = [
        r
        for r in rows
        if all(w in _haystack(r) for w in words)
        and (not modality or modality in r["modality"])
        and (not license or r["license"] == license)
        and (not tag or tag in r["tags"])
        and (not local_only or r["partitions_local"] > 0)
    ]
    return {
        **paging.apply(chosen),
        "catalog_total": len(rows),
        "facets": facets,
        "query": {
            "q": q,
            "modality": modality,
            "license": license,
            "tag": tag,
            "local_only": local_only,
        },
    }


def _haystack(row: dict[str, Any]) -> str:
    parts = [row["name"], row["description"], row["source"], row["license"] or "", *row["tags"]]
    return " ".join(parts).lower()


def dataset_detail(catalog: Catalog, name: str) -> dict[str, Any]:
    """One dataset: its row of the datasets table, whether its manifest can be edited, and its
    subsets with their partition state counts (`subsets_table`; None until it is synced)."""
    rows = {r["name"]: r for r in dataset_rows(catalog)}
    if name not in rows:
        catalog.entry(name)  # raises DatasetNotFound with its suggestions
    row = rows[name]
    subsets = catalog.subset_records(name, counts=True) if row["synced_at"] else None
    return {**row, "editable": not row["builtin"], "subsets_table": subsets}


# ---- partitions -------------------------------------------------------------------------------
def partitions_page(
    catalog: Catalog,
    name: str,
    subset: str,
    *,
    q: str = "",
    state: str | None = None,
    paging: Paging = Paging(sort="partition"),
) -> dict[str, Any]:
    """One page of a subset's partitions (searched by name, filtered by state), with the counts
    per state and the bytes of the whole subset."""
    from ..index.views import STATE_NAMES

    paging = paging.check(PARTITION_SORTS)
    if state is not None and state not in STATE_NAMES:
        raise SelectionError(f"state must be one of {', '.join(STATE_NAMES)}, not {state!r}")
    rows = catalog.partition_records(name, subset)
    counts = dict.fromkeys(STATE_NAMES, 0)
    for r in rows:
        counts[r["state"]] += 1
    needle = q.lower()
    chosen = [
        r
        for r in rows
        if needle in r["partition"].lower() and (state is None or r["state"] == state)
    ]
    return {
        **paging.apply(chosen),
        "dataset": name,
        "subset": subset,
        "states": counts,
        "bytes": sum(r["size"] for r in rows if r["state"] != "gone"),
        "bytes_local": sum(r["size"] for r in rows if r["state"] in ("local", "stale", "gone")),
    }


# ---- snippets ---------------------------------------------------------------------------------
def snippets(
    catalog: Catalog, name: str, subset: str, partitions: Sequence[str] = ()
) -> dict[str, str]:
    """Code for the current selection: `load`, `stream`, `scan` with polars and duckdb, and the
    CLI download command. Names are checked against the listing first."""
    if partitions:
        known = {r["partition"] for r in catalog.partition_records(name, subset)}
        unknown = [p for p in partitions if p not in known]
        if unknown:
            raise PartitionNotFound(name, unknown[0], sorted(known))
    else:
        catalog.partition_records(name, subset)  # the subset must exist
    args = f"{name!r}, subset={subset!r}"
    if partitions:
        args += f", partitions={list(partitions)!r}"
    cli = f"pygestor download {_shell(name)} -s {_shell(subset)}" + "".join(
        f" -p {_shell(p)}" for p in partitions
    )
    return {
        "load": f"import pygestor\n\ndf = pygestor.load({args})\n",
        "stream": (
            f"import pygestor\n\nfor batch in pygestor.stream({args}, batch_size=10_000):\n"
            "    ...  # a pandas DataFrame of up to 10,000 rows\n"
        ),
        "polars": (
            f"import polars as pl\nimport pygestor\n\n"
            f"lf = pl.scan_pyarrow_dataset(pygestor.scan({args}))\nprint(lf.head().collect())\n"
        ),
        "duckdb": (
            f"import duckdb\nimport pygestor\n\nds = pygestor.scan({args})\n"
            'print(duckdb.sql("SELECT * FROM ds LIMIT 5"))  # duckdb reads the local variable\n'
        ),
        "cli": cli + "\n",
    }


def _shell(word: str) -> str:
    import shlex

    return shlex.quote(word)

"""The HTML pages and their htmx fragments, rendered from `views` and Catalog calls with the
Jinja2 templates of `templates/` (the browser side is `static/app.js` and `static/app.css`).

    /                                   the catalog (search as you type, filters, sort, pager)
    /datasets/{name}                    a dataset: metadata, edit form, sync, updates, forget
    /datasets/{name}/subsets/{subset}   a subset: partitions, selection, snippets, schema, preview
    /add                                a Hub repo -> the proposed manifest in an editor
    /jobs                               the background downloads (live from /api/jobs/events)

Fragments (what htmx swaps in) live under /fragments/ and take the same query parameters as the
JSON API routes they mirror. Errors propagate to app.py's handler: a page that cannot be shown is
`error_page` with the error's status; a fragment's error (an htmx request) is the one-line message
htmx swaps into the page's error area (the `responseHandling` of `HTMX_CONFIG`).
"""

from __future__ import annotations

import functools
import json
import pathlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse

from . import views

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

    from ..catalog import Catalog

router = APIRouter(include_in_schema=False)

#: htmx's settings (a <meta> tag; the CSP forbids the inline styles htmx would add itself): a
#: 4xx/5xx answer is a message swapped into the page's error area, a 204 swaps nothing
HTMX_CONFIG = {
    "includeIndicatorStyles": False,
    "allowEval": False,
    "allowScriptTags": False,
    "historyCacheSize": 0,
    "attributesToSettle": ["class", "width", "height"],  # not "style": the CSP refuses it
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {
            "code": "[45]..",
            "swap": True,
            "error": True,
            "target": "#errors",
            "swapOverride": "innerHTML",
        },
    ],
}
TEMPLATES = pathlib.Path(__file__).parent / "templates"
NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"  # dataset, subset and partition names (DESIGN.md)
Name = Annotated[str, Path(pattern=NAME, max_length=200)]
PREVIEW_ROWS = (1, 50)  # the slider's range
#: the preview's byte caps to choose from (the library allows 64 KiB to 64 MiB), 4 MiB first
PREVIEW_CAPS = (4 * 2**20, 256 * 1024, 2**20, 16 * 2**20, 64 * 2**20)


@functools.cache
def templates() -> Jinja2Templates:
    """The page templates, with the filters they use (`bytes`, `count`, `when`)."""
    from fastapi.templating import Jinja2Templates

    from ..cli.output import human_bytes

    found = Jinja2Templates(directory=str(TEMPLATES))
    found.env.filters.update(bytes=human_bytes, count=_count, when=_when, tojson_attr=_tojson)
    found.env.globals.update(htmx_config=json.dumps(HTMX_CONFIG), urlencode=urlencode)
    return found


def _count(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def _when(stamp: str | None) -> str:
    """An ISO-8601 UTC time as `2026-12-03 11:38` (the page shows minutes, the title the rest)."""
    return "-" if not stamp else stamp.replace("T", " ")[:16]


def _tojson(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """`template` rendered with `context` (plus the request)."""
    return templates().TemplateResponse(request, template, context, status_code=status)


def _catalog(request: Request) -> Catalog:
    found: Catalog = request.app.state.catalog
    return found


def error_page(request: Request, message: str, kind: str, status: int) -> HTMLResponse:
    """The page of an error met opening a page (app.py's error handler calls it)."""
    return render(request, "error.html", status, message=message, kind=kind)


def _paging(sort: str, order: str, page: int, per_page: int) -> views.Paging:
    return views.Paging(page=page, per_page=per_page, sort=sort, order=order)


# ---- the catalog ----------------------------------------------------------------------------
@dataclass
class CatalogQuery:
    """The catalog table's query parameters (the page and its fragment take the same)."""

    q: str = ""
    modality: str | None = None
    license: str | None = None
    tag: str | None = None
    local_only: bool = False
    sort: str = "name"
    order: str = "asc"
    page: int = 1
    per_page: int = 10


def _datasets(request: Request, query: CatalogQuery) -> dict[str, Any]:
    return views.datasets_page(
        _catalog(request),
        q=query.q,
        modality=query.modality or None,
        license=query.license or None,
        tag=query.tag or None,
        local_only=query.local_only,
        paging=_paging(query.sort, query.order, query.page, query.per_page),
    )


def _catalog_query(page: dict[str, Any]) -> dict[str, Any]:
    """The query string that shows `page` again (empty filters left out)."""
    query = {k: v for k, v in page["query"].items() if v}
    if query.get("local_only"):
        query["local_only"] = "true"
    for key, default in (("sort", "name"), ("order", "asc"), ("per_page", 10)):
        if page[key] != default:
            query[key] = page[key]
    if page["page"] != 1:
        query["page"] = page["page"]
    return query


@router.get("/", response_class=HTMLResponse)
def catalog_page(request: Request, query: Annotated[CatalogQuery, Depends()]) -> HTMLResponse:
    """The catalog: every dataset, one page of the table at a time."""
    found = _datasets(request, query)
    return render(request, "catalog.html", page=found, choices=views.PER_PAGE_CHOICES)


@router.get("/fragments/datasets", response_class=HTMLResponse)
def datasets_fragment(request: Request, query: Annotated[CatalogQuery, Depends()]) -> HTMLResponse:
    """The datasets table (one page) for the catalog's filters; the address bar follows."""
    found = _datasets(request, query)
    response = render(request, "datasets_table.html", page=found, oob=True)
    shown = urlencode(_catalog_query(found))
    response.headers["HX-Replace-Url"] = "/" + (f"?{shown}" if shown else "")
    return response


# ---- a dataset ------------------------------------------------------------------------------
@router.get("/datasets/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, name: Name) -> HTMLResponse:
    """A dataset's panel: metadata (an edit form for a user manifest), actions, its subsets."""
    catalog = _catalog(request)
    detail = views.dataset_detail(catalog, name)
    manifest = catalog.manifest_file(name) if detail["editable"] else None
    return render(request, "dataset.html", d=detail, manifest=manifest)


@router.get("/fragments/datasets/{name}/subsets", response_class=HTMLResponse)
def subsets_fragment(request: Request, name: Name) -> HTMLResponse:
    """The subsets table of a dataset (swapped in again after a sync or a download)."""
    detail = views.dataset_detail(_catalog(request), name)
    return render(request, "subsets_table.html", d=detail)


@router.get("/fragments/datasets/{name}/updates", response_class=HTMLResponse)
def updates_fragment(request: Request, name: Name) -> HTMLResponse:
    """The `updates` report of a dataset, with a button fetching what changed."""
    rows = _catalog(request).updates(name)
    fetchable = [f"{r['subset']}/{r['partition']}" for r in rows if r["change"] != "deleted"]
    return render(request, "updates.html", name=name, rows=rows, fetchable=fetchable)


# ---- a subset -------------------------------------------------------------------------------
@dataclass
class PartitionsQuery:
    """The partitions table's query parameters (the subset page and its fragment)."""

    q: str = ""
    state: str | None = None
    sort: str = "partition"
    order: str = "asc"
    page: int = 1
    per_page: int = 25


def _partitions(catalog: Catalog, name: str, subset: str, query: PartitionsQuery) -> dict[str, Any]:
    return views.partitions_page(
        catalog,
        name,
        subset,
        q=query.q,
        state=query.state or None,
        paging=_paging(query.sort, query.order, query.page, query.per_page),
    )


@router.get("/datasets/{name}/subsets/{subset}", response_class=HTMLResponse)
def subset_page(
    request: Request,
    name: Name,
    subset: Name,
    query: Annotated[PartitionsQuery, Depends()],
) -> HTMLResponse:
    """A subset: its partitions (one page), selection actions, snippets, schema and preview."""
    catalog = _catalog(request)
    detail = views.dataset_detail(catalog, name)
    table = _partitions(catalog, name, subset, query)
    record = next(s for s in detail["subsets_table"] or [] if s["subset"] == subset)
    return render(
        request,
        "subset.html",
        d=detail,
        s=record,
        table=table,
        choices=views.PER_PAGE_CHOICES,
        q=query.q,
        state=query.state or "",
    )


@router.get("/fragments/datasets/{name}/subsets/{subset}/partitions", response_class=HTMLResponse)
def partitions_fragment(
    request: Request,
    name: Name,
    subset: Name,
    query: Annotated[PartitionsQuery, Depends()],
) -> HTMLResponse:
    """One page of a subset's partitions."""
    table = _partitions(_catalog(request), name, subset, query)
    return render(request, "partitions_table.html", table=table, oob=True)


@router.get("/fragments/datasets/{name}/subsets/{subset}/schema", response_class=HTMLResponse)
def schema_fragment(
    request: Request, name: Name, subset: Name, partition: str | None = None
) -> HTMLResponse:
    """The columns of a subset's file (its parquet footer, read by ranges when remote)."""
    found = _catalog(request).schema(name, subset, partition or None)
    return render(request, "schema.html", schema=found)


@router.get("/fragments/datasets/{name}/subsets/{subset}/preview", response_class=HTMLResponse)
def preview_fragment(
    request: Request,
    name: Name,
    subset: Name,
    partition: str | None = None,
    rows: Annotated[int, Query(ge=PREVIEW_ROWS[0], le=PREVIEW_ROWS[1])] = 10,
    columns: Annotated[list[str] | None, Query()] = None,
    known: Annotated[list[str] | None, Query()] = None,
    max_bytes: Annotated[int, Query(ge=64 * 1024, le=64 * 2**20)] = PREVIEW_CAPS[0],
) -> HTMLResponse:
    """The first rows of a partition (remote ones by byte ranges, capped), with the field chips
    (`known`: every column's name, so deselected chips stay shown) and the rows slider."""
    found = _catalog(request).preview(
        name, subset, partition or None, rows=rows, columns=columns or None, max_bytes=max_bytes
    )
    names = known or [c["name"] for c in found["columns"]] + [
        s["column"] for s in found.get("skipped", [])
    ]
    chosen = set(columns or names)
    return render(
        request,
        "preview.html",
        p=found,
        chips=[(n, n in chosen) for n in dict.fromkeys(names)],
        left_out={s["column"] for s in found.get("skipped", [])},
        rows=rows,
        rows_range=PREVIEW_ROWS,
        caps=sorted(PREVIEW_CAPS),
        max_bytes=max_bytes,
        name=name,
        subset=subset,
        partition=partition or "",
    )


# ---- adding a dataset, the jobs ---------------------------------------------------------------
@router.get("/add", response_class=HTMLResponse)
def add_page(request: Request, repo: str = "") -> HTMLResponse:
    """Paste a Hub repo: the manifest `pygestor add` proposes, in an editor that validates."""
    return render(request, "add.html", repo=repo)


@router.get("/jobs", response_class=HTMLResponse)
def jobs_page(request: Request) -> HTMLResponse:
    """Every background download, live."""
    return render(request, "jobs.html")

"""The HTML pages and their htmx fragments, rendered from `views` with Jinja2 templates.

(Filled in by the pages work; this placeholder serves a bare catalog page.)
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from . import views

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def catalog_page(request: Request) -> str:
    page = views.datasets_page(request.app.state.catalog)
    rows = "".join(f"<li>{r['name']}</li>" for r in page["items"])
    return f"<!doctype html><title>pygestor</title><ul>{rows}</ul>"

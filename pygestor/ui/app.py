"""The ASGI application: one Catalog, the security guard, the JSON API, the pages, the assets.

from pygestor.ui.app import create_app
app = create_app()                       # settings from the environment, as the CLI reads them
app = create_app(Catalog(settings), token="s3cret", loopback=False)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from .. import errors
from .._version import __version__
from . import security

if TYPE_CHECKING:
    from ..catalog import Catalog

HERE = Path(__file__).parent
STATIC = HERE / "static"
TEMPLATES = HERE / "templates"

#: the HTTP status of each error the Catalog raises (the first matching class wins)
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (errors.DatasetNotFound, 404),  # SubsetNotFound and PartitionNotFound too
    (errors.NotSynced, 409),
    (errors.OutputExists, 409),
    (errors.NameTaken, 409),
    (errors.LockTimeout, 409),
    (errors.ManifestChanged, 409),
    (errors.ReadOnlyManifest, 403),
    (errors.InvalidEdit, 422),
    (errors.ReadOnlyDataDir, 403),
    (errors.AccessDenied, 403),
    (errors.InsufficientSpace, 507),
    (errors.SourceError, 502),
    (errors.DownloadError, 502),
    (errors.ManifestError, 422),
    (errors.ScaffoldError, 422),
    (errors.SelectionError, 422),
    (errors.PygestorError, 400),
)


def status_of(exc: BaseException) -> int:
    """The HTTP status for an error (`STATUS`; classes may add more with `http_status`)."""
    explicit = getattr(type(exc), "http_status", None)
    if isinstance(explicit, int):
        return explicit
    return next((code for cls, code in STATUS if isinstance(exc, cls)), 400)


def error_body(exc: BaseException) -> dict[str, Any]:
    """The JSON body of an error: its one-line message and its type (and problems, if any)."""
    body: dict[str, Any] = {"error": _message(exc), "type": type(exc).__name__}
    problems = getattr(exc, "problems", None)
    if problems:
        body["problems"] = [p.to_json() if hasattr(p, "to_json") else str(p) for p in problems]
    return body


def _message(exc: BaseException) -> str:
    if isinstance(exc, KeyError) and exc.args:  # KeyError's str() quotes its argument
        return str(exc.args[0])
    return str(exc)


def create_app(
    catalog: Catalog | None = None,
    *,
    token: str | None = None,
    loopback: bool = True,
    jobs_dir: str | Path | None = None,
) -> FastAPI:
    """The UI application over `catalog` (default: settings from the environment). `token`:
    required on every request when given; `loopback`: the server is bound to loopback only, so
    Host headers naming anything else are refused. `jobs_dir`: where background jobs are kept
    (default: the data directory's `.pygestor/jobs`)."""
    if catalog is None:
        from ..catalog import Catalog

        catalog = Catalog.open()
    if not loopback and not token:
        raise errors.PygestorError(
            "a UI bound beyond loopback needs a token: pass --token (or let 'pygestor ui' make one)"
        )
    app = FastAPI(
        title="pygestor",
        version=__version__,
        description="The JSON API of pygestor's web UI: the same operations as the CLI.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # FastAPI's docs pages load Swagger UI from a CDN: nothing comes from the
        redoc_url=None,  # internet here (the OpenAPI JSON is enough for any client or viewer)
        lifespan=_lifespan,
    )
    from .jobs import JobManager

    app.state.catalog = catalog
    app.state.guard = security.Guard(token=token, loopback=loopback)
    app.state.jobs_dir = Path(jobs_dir) if jobs_dir else catalog.settings.index_dir / "jobs"
    app.state.jobs = JobManager(catalog, app.state.jobs_dir)  # recovers interrupted jobs
    app.middleware("http")(security.middleware(app.state.guard))

    @app.exception_handler(errors.PygestorError)
    async def pygestor_error(request: Request, exc: errors.PygestorError) -> Response:
        return error_response(request, exc)

    from . import api, pages

    app.add_exception_handler(RequestValidationError, api.validation_error)
    app.add_exception_handler(HTTPException, api.http_error)

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, running jobs stop as a cancel does and are left `interrupted`."""
    yield
    from starlette.concurrency import run_in_threadpool

    await run_in_threadpool(app.state.jobs.shutdown)


def error_response(request: Request, exc: BaseException) -> Response:
    """An error as JSON for the API, as a message fragment for a page (htmx swaps it into the
    page's error area) or a plain page."""
    status = status_of(exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body(exc), status_code=status)
    from html import escape

    fragment = f'<div class="error" role="alert">{escape(_message(exc))}</div>'
    return HTMLResponse(fragment, status_code=status)

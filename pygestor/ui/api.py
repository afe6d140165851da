"""The JSON API under /api: every route calls `views`, the Catalog or the job manager.

Requests and responses are pydantic models (`models.py`), so /api/openapi.json describes each
body exactly. Path parameters are names (`NAME`: letters, digits, `.`, `_`, `-`, not starting
with a dot, at most 200 characters); anything else is a 422 with one line. Errors are the
Catalog's own (`app.STATUS` maps them to a status; the body is `{error, type, problems?}`).

Routes that block (sync, remove, updates, propose, schema, preview, saving) are plain `def`s:
FastAPI runs them in its thread pool. Downloads run as background jobs (`jobs.py`):
`POST /api/jobs` answers 201 with a new job, or 200 with the identical job already active.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from ..index.views import STATE_NAMES
from ..manifest.patterns import MAX_NAME_LENGTH
from . import models as m
from . import views
from .jobs import JobSpec

if TYPE_CHECKING:
    from ..catalog import Catalog
    from .jobs import JobManager

#: a dataset, subset or job name in a path
NAME = r"^[A-Za-z0-9_][A-Za-z0-9._-]*$"
PING_SECONDS = 15.0  # a comment line on an idle event stream, so proxies keep it open
REFRESH_SECONDS = 1.0  # how often an idle stream looks for other servers' job changes


def _name(what: str, example: str) -> Any:
    return Path(
        pattern=NAME,
        max_length=MAX_NAME_LENGTH,
        description=f"{what}: letters, digits, . _ -",
        examples=[example],
    )


Name = Annotated[str, _name("a dataset", "mnist")]
SubsetName = Annotated[str, _name("a subset", "train")]
JobId = Annotated[str, _name("a job", "0123456789ab")]
DatasetSort = Literal[views.DATASET_SORTS]  # type: ignore[valid-type]
PartitionSort = Literal[views.PARTITION_SORTS]  # type: ignore[valid-type]
State = Literal[STATE_NAMES]  # type: ignore[valid-type]
Order = Literal["asc", "desc"]
Page = Annotated[int, Query(ge=1, description="1-based page number")]
PerPage = Annotated[int, Query(ge=1, le=views.MAX_PER_PAGE)]
PartitionName = Annotated[
    str | None,
    Query(
        max_length=1024, description="a partition name", examples=["train-00000-of-00001.parquet"]
    ),
]

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": m.Error, "description": why}
    for code, why in (
        (400, "a request the Catalog refuses"),
        (403, "a cross-site request, or a read-only data directory"),
        (404, "no such dataset, subset, partition or job"),
        (409, "not synced, a conflict with the state on disk, or a job in the wrong state"),
        (422, "a bad parameter or body (one line naming it)"),
    )
}

router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)


def _catalog(request: Request) -> Catalog:
    catalog: Catalog = request.app.state.catalog
    return catalog


def _jobs(request: Request) -> JobManager:
    jobs: JobManager = request.app.state.jobs
    return jobs


def _one_or_many(names: list[str]) -> str | list[str] | None:
    """The `subset` argument of the Catalog for a list of names ([] is None: the default)."""
    return None if not names else names[0] if len(names) == 1 else names


# ---- health ----------------------------------------------------------------------------------
@router.get("/health", response_model=m.Health)
def health() -> dict[str, Any]:
    """The server is up: its version."""
    return {"ok": True, "version": __version__}


# ---- datasets --------------------------------------------------------------------------------
@router.get("/datasets", response_model=m.DatasetsPage)
def datasets(
    request: Request,
    q: Annotated[str, Query(max_length=500, description="words to search for")] = "",
    modality: Annotated[str | None, Query(max_length=100)] = None,
    license: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[str | None, Query(max_length=200)] = None,
    local_only: bool = False,
    sort: DatasetSort = "name",
    order: Order = "asc",
    page: Page = 1,
    per_page: PerPage = 10,
) -> dict[str, Any]:
    """One page of the catalog, searched, filtered and sorted, with the filter choices."""
    paging = views.Paging(page=page, per_page=per_page, sort=sort, order=order)
    return views.datasets_page(
        _catalog(request),
        q=q,
        modality=modality,
        license=license,
        tag=tag,
        local_only=local_only,
        paging=paging,
    )


@router.get("/datasets/{name}", response_model=m.DatasetDetail)
def dataset(request: Request, name: Name) -> dict[str, Any]:
    """One dataset, with its subsets (None until it is synced)."""
    return views.dataset_detail(_catalog(request), name)


@router.delete("/datasets/{name}", response_model=m.Forgotten)
def forget(
    request: Request,
    name: Name,
    manifest: Annotated[bool, Query(description="delete the user manifest's file too")] = False,
) -> dict[str, Any]:
    """Forget what sync recorded (`pygestor forget`; downloaded files stay), and with
    `manifest=true` delete the user manifest's file too."""
    catalog = _catalog(request)
    catalog.entry(name)  # DatasetNotFound, with suggestions
    forgotten = catalog.forget(name)
    deleted = catalog.delete_manifest(name) if manifest else None
    return {"forgotten": forgotten, "deleted_manifest": deleted}


@router.post("/datasets/{name}/sync", response_model=m.SyncResult)
def sync(request: Request, name: Name) -> dict[str, Any]:
    """List the dataset's source and record it (`pygestor sync NAME`)."""
    return _catalog(request).sync(name)[0].to_json()


@router.get("/datasets/{name}/updates", response_model=list[m.Update])
def updates(request: Request, name: Name) -> list[dict[str, Any]]:
    """New, changed and deleted partitions upstream since the last sync (reads the source)."""
    return _catalog(request).updates(name)


# ---- manifests of the catalog ----------------------------------------------------------------
@router.get("/datasets/{name}/manifest", response_model=m.ManifestFile)
def manifest_file(request: Request, name: Name) -> dict[str, Any]:
    """The dataset's manifest file: its text, whether it can be edited, its sha256."""
    return _catalog(request).manifest_file(name)


@router.patch("/datasets/{name}/manifest", response_model=m.ManifestFile)
def edit_manifest(request: Request, name: Name, body: m.ManifestEdit) -> dict[str, Any]:
    """Change a user manifest's description, modality, tags or license in place (comments and
    key order kept; validated before it is written). `expected_sha256`: what the editor read;
    a file changed meanwhile is a 409."""
    changes = body.model_dump(exclude_unset=True, exclude={"expected_sha256"})
    return _catalog(request).edit_manifest(name, changes, expected_sha256=body.expected_sha256)


@router.post("/manifests/propose", response_model=m.Proposal)
def propose(request: Request, body: m.ProposeRequest) -> dict[str, Any]:
    """The manifest `pygestor add` would write for a Hub repo (nothing is written; only the
    configured Hub endpoint is contacted)."""
    catalog = _catalog(request)
    scaffold = catalog.propose(body.repo, name=body.name, revision=body.revision)
    problems = catalog.check_manifest(scaffold.text, file=f"{scaffold.name}.yaml")
    return {
        "name": scaffold.name,
        "text": scaffold.text,
        "problems": [p.to_json() for p in problems],
        "review": list(scaffold.review),
        "subsets": [s.to_json() for s in scaffold.subsets],
    }


@router.post(
    "/manifests/check",
    response_model=m.CheckResult,
    responses={422: {"model": m.CheckResult, "description": "the text has problems"}},
)
def check_manifest(request: Request, body: m.CheckRequest) -> Any:
    """Validate manifest text as `pygestor validate` would: 200 when it is valid, 422 with every
    problem (and the first one as `error`) when it is not."""
    problems = _catalog(request).check_manifest(body.text)
    if not problems:
        return {"ok": True, "problems": []}
    listed = [p.to_json() for p in problems]
    result = {"ok": False, "problems": listed, "error": str(problems[0]), "type": "InvalidManifest"}
    return _json(result, 422)


@router.post("/manifests", response_model=m.Saved, status_code=201)
def save_manifest(request: Request, body: m.SaveRequest) -> dict[str, Any]:
    """Validate and save a manifest into the user's catalog folder, then sync it (unless
    `sync` is false; a failed sync is reported in `sync.error`, the manifest stays saved)."""
    catalog = _catalog(request)
    saved = catalog.save_manifest(body.text, overwrite=body.overwrite)
    result = None
    if body.sync:
        result = catalog.sync(saved["name"], on_error="collect")[0].to_json()
    return {"manifest": saved, "sync": result}


# ---- subsets ---------------------------------------------------------------------------------
@router.get("/datasets/{name}/subsets/{subset}/partitions", response_model=m.PartitionsPage)
def partitions(
    request: Request,
    name: Name,
    subset: SubsetName,
    q: Annotated[str, Query(max_length=500, description="text in the partition's name")] = "",
    state: State | None = None,
    sort: PartitionSort = "partition",
    order: Order = "asc",
    page: Page = 1,
    per_page: PerPage = 10,
) -> dict[str, Any]:
    """One page of a subset's partitions, searched, filtered by state and sorted."""
    paging = views.Paging(page=page, per_page=per_page, sort=sort, order=order)
    catalog = _catalog(request)
    return views.partitions_page(catalog, name, subset, q=q, state=state, paging=paging)


@router.get("/datasets/{name}/subsets/{subset}/schema", response_model=m.Schema)
def schema(
    request: Request, name: Name, subset: SubsetName, partition: PartitionName = None
) -> dict[str, Any]:
    """A partition's columns and row counts from its parquet footer (of a local file, or of a
    remote one by byte ranges); the subset's first partition by default."""
    return _catalog(request).schema(name, subset, partition)


@router.get("/datasets/{name}/subsets/{subset}/preview", response_model=m.Preview)
def preview(
    request: Request,
    name: Name,
    subset: SubsetName,
    partition: PartitionName = None,
    rows: Annotated[int, Query(ge=1, le=1000)] = 10,
    columns: Annotated[
        str | None, Query(max_length=10_000, description="comma-separated column names")
    ] = None,
    max_bytes: Annotated[int, Query(ge=64 * 1024, le=64 * 2**20)] = 4 * 2**20,
) -> dict[str, Any]:
    """A partition's first rows without downloading it, fetching at most `max_bytes`."""
    chosen = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    return _catalog(request).preview(
        name, subset, partition, rows=rows, columns=chosen, max_bytes=max_bytes
    )


@router.get("/datasets/{name}/subsets/{subset}/snippets", response_model=m.Snippets)
def snippets(
    request: Request,
    name: Name,
    subset: SubsetName,
    partition: Annotated[list[str], Query(description="partition names (repeat)")] = [],  # noqa: B006
) -> dict[str, str]:
    """Code that loads the selection: load, stream, polars, duckdb, and the CLI command."""
    return views.snippets(_catalog(request), name, subset, partition)


# ---- removing local data ---------------------------------------------------------------------
@router.post("/datasets/{name}/remove/plan", response_model=m.RemovalPlan)
def plan_remove(request: Request, name: Name, body: m.Selection) -> dict[str, Any]:
    """What removing the selection's local files would delete and free (nothing is deleted)."""
    return (
        _catalog(request)
        .plan_remove(
            name,
            _one_or_many(body.subsets),
            partitions=body.partitions or None,
            all_subsets=body.all,
        )
        .to_json()
    )


@router.post("/datasets/{name}/remove", response_model=m.RemovalReport)
def remove(request: Request, name: Name, body: m.Selection) -> dict[str, Any]:
    """Delete the selection's local files (`pygestor remove`); the listing stays."""
    return (
        _catalog(request)
        .remove(
            name,
            _one_or_many(body.subsets),
            partitions=body.partitions or None,
            all_subsets=body.all,
        )
        .to_json()
    )


# ---- jobs ------------------------------------------------------------------------------------
@router.get("/jobs", response_model=list[m.Job])
def list_jobs(request: Request) -> list[dict[str, Any]]:
    """Every job in the jobs folder, oldest first: this server's, and those of other servers
    sharing the folder (read again when their files change)."""
    manager = _jobs(request)
    manager.refresh()
    return [job.to_json() for job in manager.jobs()]


@router.post(
    "/jobs",
    response_model=m.Job,
    status_code=201,
    responses={200: {"model": m.Job, "description": "the identical job already active"}},
)
def start_job(request: Request, response: Response, body: m.JobRequest) -> dict[str, Any]:
    """Start downloading a selection in the background (201). The selection is checked first:
    its errors come back here, not as a failed job. An identical active job is returned as it
    is (200) rather than started twice."""
    spec = JobSpec(
        body.dataset,
        tuple(body.subsets),
        tuple(body.partitions),
        body.all,
        body.update,
        body.workers,
    )
    job, created = _jobs(request).submit(spec)
    if not created:
        response.status_code = 200
    return job.to_json()


@router.get(
    "/jobs/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def job_events(request: Request) -> StreamingResponse:
    """Server-sent events: `event: job` with a job's JSON, for every job at connect and then
    for every change (progress at most 4 times a second per job); `event: deleted` with
    `{"id"}`; a comment every 15 s while idle. Ends when the client disconnects or the server
    stops."""
    manager = _jobs(request)
    sub = manager.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            for job in manager.jobs():
                yield _event("job", job.to_json())
            idle = 0.0
            while True:
                try:
                    item = await asyncio.wait_for(sub.get(), timeout=REFRESH_SECONDS)
                except TimeoutError:
                    if await request.is_disconnected():
                        break
                    # jobs of other servers sharing the folder: their changes arrive as events
                    await run_in_threadpool(manager.refresh)
                    idle += REFRESH_SECONDS
                    if idle >= PING_SECONDS:
                        idle = 0.0
                        yield ": ping\n\n"
                    continue
                if item is None:
                    break
                yield _event(*item)
        finally:
            manager.unsubscribe(sub)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/jobs/{job_id}", response_model=m.Job)
def get_job(request: Request, job_id: JobId) -> dict[str, Any]:
    """One job."""
    return _jobs(request).get(job_id).to_json()


@router.post("/jobs/{job_id}/cancel", response_model=m.Job)
def cancel_job(request: Request, job_id: JobId) -> dict[str, Any]:
    """Stop a queued or running job: `cancelling`, then `cancelled` (partial files kept)."""
    return _jobs(request).cancel(job_id).to_json()


@router.post("/jobs/{job_id}/resume", response_model=m.Job)
def resume_job(request: Request, job_id: JobId) -> dict[str, Any]:
    """Run a cancelled, interrupted or failed job again, with the same id (partial files are
    resumed with range requests)."""
    return _jobs(request).resume(job_id).to_json()


@router.delete("/jobs/{job_id}", status_code=204, response_class=Response)
def delete_job(request: Request, job_id: JobId) -> Response:
    """Forget a finished job (its files on disk stay)."""
    _jobs(request).delete(job_id)
    return Response(status_code=204)


# ---- helpers ---------------------------------------------------------------------------------
def _event(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _json(body: dict[str, Any], status: int) -> Response:
    from fastapi.responses import JSONResponse

    return JSONResponse(body, status_code=status)


def validation_error(request: Request, exc: Exception) -> Response:
    """A request that does not fit the OpenAPI (a bad name, page 0, a wrong body): 422 with one
    line naming the parameter or field and what it must be (JSON under /api, else a fragment
    as `app.error_response` makes)."""
    errors: list[dict[str, Any]] = getattr(exc, "errors", list)()
    message = _explain(errors[0] if errors else {})
    if request.url.path.startswith("/api/"):
        return _json({"error": message, "type": "InvalidRequest"}, 422)
    from html import escape

    from fastapi.responses import HTMLResponse

    return HTMLResponse(f'<div class="error" role="alert">{escape(message)}</div>', 422)


async def http_error(request: Request, exc: Exception) -> Response:
    """No such route or method: under /api the error body every route uses."""
    from fastapi.exception_handlers import http_exception_handler
    from starlette.exceptions import HTTPException

    assert isinstance(exc, HTTPException)
    if not request.url.path.startswith("/api/"):
        return await http_exception_handler(request, exc)
    text = {404: f"no API route {request.url.path}", 405: f"{request.method} is not allowed here"}
    body = {"error": text.get(exc.status_code, str(exc.detail)), "type": "HTTPError"}
    response = _json(body, exc.status_code)
    response.headers.update(exc.headers or {})
    return response


def _explain(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    where = {"path": "path parameter", "query": "query parameter", "body": "body field"}
    kind = where.get(loc[0], "") if loc else ""
    field = ".".join(loc[1:]) or (loc[0] if loc else "request")
    value = error.get("input")
    shown = repr(value) if isinstance(value, str | int | float | bool) else ""
    if len(shown) > 80:
        shown = shown[:77] + "...'"
    if error.get("type") == "string_pattern_mismatch":
        why = "must be letters, digits, '.', '_' or '-', not starting with '.'"
    else:
        why = str(error.get("msg", "is invalid")).rstrip(".")
        why = why[0].lower() + why[1:] if why else "is invalid"
    got = f" (got {shown})" if shown and error.get("type") != "missing" else ""
    return f"{kind} {field}: {why}{got}".strip()

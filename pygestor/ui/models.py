"""The request and response bodies of the JSON API (`api.py`) as pydantic models, so that
/api/openapi.json describes every route exactly.

Responses are what `views`, the Catalog and the job manager return (their dicts are validated
against these on the way out); a response model allows extra keys, so a field the engine adds
is passed on rather than dropped. Requests forbid unknown keys: a typo is a 422 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..manifest.patterns import MAX_NAME_LENGTH
from .jobs import Job

__all__ = ["Job"]  # the job dataclass itself describes the API's job (one definition)

#: a dataset name in a request body (a path's names are checked by `api.Name`)
DatasetName = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", max_length=MAX_NAME_LENGTH)
]
#: a subset or partition name in a request body (partitions may have folders: a/b.parquet)
ItemName = Annotated[str, Field(min_length=1, max_length=1024)]
Names = Annotated[list[ItemName], Field(max_length=10_000)]
Short = Annotated[str, Field(max_length=200)]


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- common ----------------------------------------------------------------------------------
class Problem(Out):
    file: str
    line: int | None
    field: str
    message: str


class Error(Out):
    """Every error: one line, the error's class, and a manifest's problems when it has some."""

    error: str
    type: str
    problems: list[Problem] | None = None


class Health(Out):
    ok: bool
    version: str


class Paged(Out):
    total: int
    page: int
    per_page: int
    pages: int
    sort: str
    order: Literal["asc", "desc"]


# ---- datasets --------------------------------------------------------------------------------
class DatasetRow(Out):
    name: str
    description: str
    modality: list[str]
    source: str
    revision: str | None
    commit: str | None
    synced_at: str | None
    subsets: int | None
    partitions: int | None
    partitions_local: int
    bytes: int | None
    bytes_local: int
    license: str | None
    tags: list[str]
    homepage: str | None
    builtin: bool
    path: str


class Facets(Out):
    modality: list[str]
    license: list[str]
    tag: list[str]


class DatasetsQuery(Out):
    q: str
    modality: str | None
    license: str | None
    tag: str | None
    local_only: bool


class DatasetsPage(Paged):
    items: list[DatasetRow]
    catalog_total: int
    facets: Facets
    query: DatasetsQuery


class SubsetRow(Out):
    dataset: str
    subset: str
    partitions: int
    partitions_local: int
    bytes: int
    bytes_local: int
    rows: int | None
    arrow_copy_bytes: int | None
    states: dict[str, int] | None = None
    downloaded_at: str | None = None


class DatasetDetail(DatasetRow):
    editable: bool
    subsets_table: list[SubsetRow] | None


class Forgotten(Out):
    forgotten: bool
    deleted_manifest: str | None


class Skipped(Out):
    path: str
    reason: str


class SyncResult(Out):
    dataset: str
    source: str | None
    revision: str | None
    commit: str | None
    synced_at: str | None
    subsets: int
    partitions: int
    bytes: int
    changed: bool
    new: list[str]
    stale: list[str]
    gone: list[str]
    unmatched: list[str]
    empty_rules: list[str]
    skipped: list[Skipped]
    error: str | None


class Update(Out):
    dataset: str
    subset: str
    partition: str
    change: Literal["new", "changed", "deleted"]
    local: bool
    size_before: int | None
    size_now: int | None
    commit_before: str | None
    commit_now: str | None


# ---- manifests -------------------------------------------------------------------------------
class ManifestFile(Out):
    name: str
    path: str
    text: str
    builtin: bool
    editable: bool
    sha256: str


class ManifestEdit(In):
    """The keys to change (a key left out is left as it is)."""

    description: Annotated[str, Field(max_length=100_000)] | None = None
    modality: Annotated[list[Short], Field(max_length=20)] | None = None
    tags: Annotated[list[Short], Field(max_length=200)] | None = None
    license: Annotated[str, Field(max_length=200)] | None = None
    expected_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] | None = None


class ProposeRequest(In):
    repo: Annotated[str, Field(min_length=1, max_length=500)]
    name: Annotated[str, Field(max_length=MAX_NAME_LENGTH)] | None = None
    revision: Annotated[str, Field(max_length=500)] | None = None


class SubsetInfo(Out):
    subset: str
    partitions: int
    bytes: int
    rows: int | None


class Proposal(Out):
    name: str
    text: str
    problems: list[Problem]
    review: list[str]
    subsets: list[SubsetInfo]


class CheckRequest(In):
    text: Annotated[str, Field(max_length=2_000_000)]


class CheckResult(Out):
    ok: bool
    problems: list[Problem]
    error: str | None = None
    type: str | None = None


class SaveRequest(In):
    text: Annotated[str, Field(max_length=2_000_000)]
    overwrite: bool = False
    sync: bool = True


class Saved(Out):
    manifest: ManifestFile
    sync: SyncResult | None


# ---- subsets ---------------------------------------------------------------------------------
class PartitionRow(Out):
    dataset: str
    subset: str
    partition: str
    path: str
    size: int
    state: str
    rows: int | None
    sha256: str | None
    downloaded_at: str | None
    location: str | None


class PartitionsPage(Paged):
    items: list[PartitionRow]
    dataset: str
    subset: str
    states: dict[str, int]
    bytes: int
    bytes_local: int


class Column(Out):
    name: str
    type: str
    kind: str


class Schema(Out):
    dataset: str
    subset: str
    partition: str
    location: Literal["local", "remote"]
    format: str
    columns: list[Column]
    num_rows: int | None
    row_groups: int | None
    bytes_fetched: int


class SkippedColumn(Out):
    column: str
    bytes: int | None
    why: str


class Preview(Out):
    """`rows` are `{column: cell}`; a media cell is `{media, mime, base64, size}`."""

    dataset: str
    subset: str
    partition: str
    location: Literal["local", "remote"]
    format: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    bytes_fetched: int
    capped: bool
    skipped: list[SkippedColumn]
    message: str | None


class Snippets(Out):
    load: str
    stream: str
    polars: str
    duckdb: str
    cli: str


# ---- removing --------------------------------------------------------------------------------
class Selection(In):
    """Which local data: subsets (none: the dataset's only one), partitions of them, or all."""

    subsets: Names = []
    partitions: Names = []
    all: bool = False


class RemovalFile(Out):
    subset: str
    partition: str | None
    kind: str
    path: str
    size: int


class KeptFile(Out):
    subset: str
    path: str
    reason: str


class RemovalPlan(Out):
    dataset: str
    subsets: list[str]
    bytes: int
    files: list[RemovalFile]
    records: list[str]
    not_local: list[str]
    kept: list[KeptFile]
    shared: list[str]


class RemovalReport(Out):
    dataset: str
    bytes: int
    files: list[RemovalFile]
    records: list[str]
    not_local: list[str]
    busy: list[str]
    folders: list[str]
    kept: list[KeptFile]


# ---- jobs ------------------------------------------------------------------------------------
class JobRequest(Selection):
    """A download: the selection, `update` (fetch stale partitions again), `workers`."""

    dataset: Annotated[DatasetName, Field(examples=["mnist"])]
    update: bool = False
    workers: Annotated[int, Field(ge=1, le=64)] | None = None

"""A dataset repository on the Hugging Face Hub, through the `huggingface_hub` client.

The endpoint is `HF_ENDPOINT` (any Hub-compatible server, such as `pygestor.testing.hub`), the
token `HF_TOKEN` or the client's saved login; both are passed explicitly to the client, since it
reads the environment only once, at import. The token is never logged or stored.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import AccessDenied, SourceError
from .base import FileBody, RemoteFile, Snapshot, bad_size, shown, unsafe_path

if TYPE_CHECKING:
    from ..manifest.models import HuggingFaceSource
    from ..settings import Settings

DEFAULT_ENDPOINT = "https://huggingface.co"


@dataclass(frozen=True)
class HuggingFaceRepo:
    repo_id: str
    revision: str = "main"
    endpoint: str | None = None
    token: str | None = field(default=None, repr=False)

    @classmethod
    def from_spec(
        cls, spec: HuggingFaceSource, settings: Settings | None = None
    ) -> HuggingFaceRepo:
        endpoint = settings.hf_endpoint if settings else None
        token = settings.hf_token if settings else None
        return cls(spec.huggingface, spec.revision, endpoint, token)

    def describe(self) -> str:
        return f"hf://datasets/{self.repo_id}@{self.revision}"

    def api(self) -> Any:
        from huggingface_hub import HfApi

        from .._version import __version__

        return HfApi(
            endpoint=self.endpoint,
            token=self.token,
            library_name="pygestor",
            library_version=__version__,
        )

    def list(self) -> Snapshot:
        """Resolve the revision to a commit, then list the tree at that commit in one recursive,
        paged listing (so the files and the commit always agree, even if the branch moves)."""
        api = self.api()
        files: list[RemoteFile] = []
        rejected: list[tuple[str, str]] = []
        with self._errors():
            # only the commit: without `expand`, the Hub sends every file as a sibling too
            info = api.dataset_info(self.repo_id, revision=self.revision, expand=["sha"])
            commit = info.sha
            for page in self._tree_pages(api, commit or self.revision):
                for entry in page:
                    if entry["type"] != "file":
                        continue  # a folder
                    path, size, sha256, blob_id, lfs = _listed_file(entry)
                    why = _bad_path(path) or bad_size(size) or _bad_hash(sha256, blob_id, lfs)
                    if why is None:
                        files.append(RemoteFile(path, size, sha256, blob_id))
                    else:
                        rejected.append((shown(path), why))
        return Snapshot(tuple(files), self.revision, commit, tuple(rejected))

    def _tree_pages(self, api: Any, revision: str) -> Iterator[Any]:
        """The pages of the recursive tree listing at `revision`, as the JSON the Hub sent: the
        requests `HfApi.list_repo_tree` makes (its URL, headers, token, retries and errors,
        the next page from the `Link` header), without a `RepoFile` built per entry (that
        object, and the `dataclasses.asdict` in it, were 40% of a sync of 100,000 files). One
        page at a time: the raw JSON of a page is dropped before the next is fetched."""
        from urllib.parse import quote

        from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_backoff

        from .._version import __version__

        headers = build_hf_headers(
            token=self.token, library_name="pygestor", library_version=__version__
        )
        url: str | None = (
            f"{api.endpoint}/api/datasets/{self.repo_id}/tree/{quote(revision, safe='')}"
        )
        params: dict[str, Any] | None = {"recursive": True, "expand": False}
        while url is not None:
            response = http_backoff("GET", url, params=params, headers=headers)
            hf_raise_for_status(response)
            url = response.links.get("next", {}).get("url")  # (it holds the query)
            params = None
            page = response.json()
            del response
            yield page

    def file_request(self, path: str, commit: str | None) -> tuple[str, dict[str, str]]:
        """URL and headers to GET one file at `commit` (the token, if any, is for this origin
        only)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        from .._version import __version__

        why = unsafe_path(path)
        if why is not None:  # never normalised by the HTTP client and sent with the token
            raise SourceError(f"refusing to request {shown(path)} from {self.describe()}: {why}")
        url = hf_hub_url(
            self.repo_id,
            path,
            repo_type="dataset",
            revision=commit or self.revision,
            endpoint=self.endpoint,
        )
        headers = build_hf_headers(
            token=self.token, library_name="pygestor", library_version=__version__
        )
        return url, {**headers, "Accept-Encoding": "identity"}

    def open_file(
        self, path: str, commit: str | None, *, offset: int = 0, length: int | None = None
    ) -> AbstractContextManager[FileBody]:
        """The bytes of `path` at `commit` from `offset`, `length` of them when given (a ranged
        GET; see `sources/http.py`)."""
        from .http import get

        url, headers = self.file_request(path, commit)
        return get(
            url,
            headers,
            path=path,
            commit=commit or self.revision,
            offset=offset,
            length=length,
            translate=self.translate,
        )

    def translate(self, exc: Exception) -> SourceError | None:
        return translate_error(exc, self)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        """Turn the client's exceptions into pygestor errors that say what to do."""
        try:
            yield
        except Exception as exc:
            translated = translate_error(exc, self)
            if translated is not None:
                raise translated from None
            if not isinstance(exc, (KeyError, TypeError, AttributeError)):
                raise
            # the client could not parse what the server listed
            raise SourceError(
                f"the tree listing of {self.describe()} on {self.endpoint or DEFAULT_ENDPOINT} is "
                f"malformed ({type(exc).__name__}: {shown(str(exc))}); nothing was recorded"
            ) from None


def _listed_file(entry: dict[str, Any]) -> tuple[Any, Any, Any, Any, bool]:
    """(path, size, sha256, blob id, whether in LFS) of a file entry of the tree listing, read as
    `huggingface_hub.RepoFile` reads it (so a missing key is the same KeyError, and the same
    one-line "malformed" error): the LFS sha256 for a file in LFS, else the git blob id."""
    path, size, oid = entry["path"], entry["size"], entry["oid"]
    lfs = entry.get("lfs")
    if lfs is None:
        return path, size, None, oid, False
    _, sha256, _ = lfs["size"], lfs["oid"], lfs["pointerSize"]
    return path, size, sha256, None, True


def _bad_path(path: Any) -> str | None:
    """Only what the record needs here (text); sync checks every path (`unsafe_path`)."""
    return None if isinstance(path, str) else unsafe_path(path)


def _bad_hash(sha256: Any, blob_id: Any, lfs: bool) -> str | None:
    """Why an entry's content hash (its LFS sha256, else its blob id) cannot be checked against
    (None when it can)."""
    value = sha256 if lfs else blob_id
    if isinstance(value, str) and value.isascii() and value.isalnum():
        return None
    return f"its {'sha256' if lfs else 'oid'} {shown(repr(value))} is not a hash"


def translate_error(exc: Exception, repo: HuggingFaceRepo) -> SourceError | None:
    """A SourceError for a client exception, or None when `exc` is not the client's."""
    from huggingface_hub import errors

    endpoint = repo.endpoint or DEFAULT_ENDPOINT
    where = f"dataset {repo.repo_id!r} on {endpoint}"
    if isinstance(exc, errors.GatedRepoError):
        return AccessDenied(
            f"{where} is gated: accept its terms at {endpoint}/datasets/{repo.repo_id} and set "
            "HF_TOKEN "
            "(or run 'hf auth login') with a token of that account"
        )
    if isinstance(exc, errors.RepositoryNotFoundError):
        hint = "check source.huggingface" + (
            "" if repo.token else ", or set HF_TOKEN if it is private"
        )
        return SourceError(f"{where} was not found; {hint}")
    if isinstance(exc, errors.RevisionNotFoundError):
        return SourceError(
            f"revision {repo.revision!r} of {where} was not found; check source.revision"
        )
    if isinstance(exc, errors.OfflineModeIsEnabled):
        return SourceError(f"cannot list {where}: HF_HUB_OFFLINE is set; unset it to sync")
    if isinstance(exc, errors.HfHubHTTPError):
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            return AccessDenied(
                f"{where} refused access ({status}); set HF_TOKEN to a token that can read it"
            )
        return SourceError(f"{where}: the Hub answered {status}: {_first_line(exc)}")
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in (
        "httpx",
        "httpx2",
        "httpcore",
    ):
        return SourceError(
            f"cannot reach {endpoint} ({_first_line(exc) or type(exc).__name__}); "
            "check the network or HF_ENDPOINT"
        )
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""

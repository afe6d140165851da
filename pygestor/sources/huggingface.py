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
            commit = api.dataset_info(self.repo_id, revision=self.revision).sha
            entries = api.list_repo_tree(
                self.repo_id, recursive=True, revision=commit or self.revision, repo_type="dataset"
            )
            for entry in entries:
                if not hasattr(entry, "blob_id"):
                    continue  # a folder
                why = _bad_path(entry.path) or bad_size(entry.size) or _bad_hash(entry)
                if why is None:
                    files.append(_remote_file(entry))
                else:
                    rejected.append((shown(entry.path), why))
        return Snapshot(tuple(files), self.revision, commit, tuple(rejected))

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


def _remote_file(entry: Any) -> RemoteFile:
    lfs = entry.lfs
    return RemoteFile(
        entry.path,
        entry.size,
        sha256=lfs.sha256 if lfs else None,
        blob_id=None if lfs else entry.blob_id,
    )


def _bad_path(path: Any) -> str | None:
    """Only what the record needs here (text); sync checks every path (`unsafe_path`)."""
    return None if isinstance(path, str) else unsafe_path(path)


def _bad_hash(entry: Any) -> str | None:
    """Why an entry's content hash cannot be checked against (None when it can)."""
    value = entry.lfs.sha256 if entry.lfs else entry.blob_id
    if isinstance(value, str) and value.isascii() and value.isalnum():
        return None
    return f"its {'sha256' if entry.lfs else 'oid'} {shown(repr(value))} is not a hash"


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

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
from .base import FileBody, RemoteFile, Snapshot

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
        with self._errors():
            commit = api.dataset_info(self.repo_id, revision=self.revision).sha
            entries = api.list_repo_tree(
                self.repo_id, recursive=True, revision=commit or self.revision, repo_type="dataset"
            )
            files = tuple(_remote_file(e) for e in entries if hasattr(e, "blob_id"))
        return Snapshot(files=files, revision=self.revision, commit=commit)

    def file_request(self, path: str, commit: str | None) -> tuple[str, dict[str, str]]:
        """URL and headers to GET one file at `commit` (the token, if any, is for this origin
        only)."""
        from huggingface_hub import hf_hub_url
        from huggingface_hub.utils import build_hf_headers

        from .._version import __version__

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
        self, path: str, commit: str | None, *, offset: int = 0
    ) -> AbstractContextManager[FileBody]:
        """The bytes of `path` at `commit` from `offset` (a ranged GET; see `sources/http.py`)."""
        from .http import get

        url, headers = self.file_request(path, commit)
        return get(
            url,
            headers,
            path=path,
            commit=commit or self.revision,
            offset=offset,
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
            if translated is None:
                raise
            raise translated from None


def _remote_file(entry: Any) -> RemoteFile:
    lfs = entry.lfs
    return RemoteFile(
        entry.path,
        int(entry.size),
        sha256=lfs.sha256 if lfs else None,
        blob_id=None if lfs else entry.blob_id,
    )


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

"""Repository references: what `pygestor add REPO` accepts, and the dataset name it defaults to."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from ..errors import BadRepoReference, InvalidName
from ..manifest.patterns import DATASET_NAME

CONVERT_REVISION = "refs/convert/parquet"
ACCEPTED_FORMS = (
    "owner/name, https://huggingface.co/datasets/owner/name[/tree/REVISION] "
    "or hf://datasets/owner/name[@REVISION]"
)


_REPO_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_REPO_ID = re.compile(rf"{_REPO_PART}/{_REPO_PART}")
HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
_URL_REVISION_KEYWORDS = frozenset({"tree", "blob", "resolve", "commit", "raw", "edit"})


@dataclass(frozen=True)
class RepoRef:
    """A dataset repository and, if the reference named one, a revision."""

    repo_id: str
    revision: str | None = None


def parse_repo(text: str, *, endpoint: str | None = None) -> RepoRef:
    """`owner/name`, a `https://huggingface.co/datasets/owner/name[/tree/REV/...]` URL (or one
    of `endpoint`), or `hf://datasets/owner/name[@REV][/path]`; BadRepoReference otherwise."""
    raw = text.strip()

    def bad(why: str = "") -> BadRepoReference:
        return BadRepoReference(f"{text!r} is not a dataset repository{why}; give {ACCEPTED_FORMS}")

    revision: str | None = None
    if raw.startswith(("huggingface.co/", "hf.co/")):
        raw = "https://" + raw
    if raw.startswith("hf://"):
        parts = raw[len("hf://") :].split("/")
        if parts[0] != "datasets":
            raise bad(" (only dataset repositories, hf://datasets/...)")
        if len(parts) < 3:
            raise bad()
        owner, name = parts[1], parts[2]
        if "@" in name:
            name, _, rev = name.partition("@")
            revision = _revision_from(unquote(rev), parts[3:])
    elif re.match(r"https?://", raw):
        url = urlsplit(raw)
        hosts = set(HUB_HOSTS)
        if endpoint:
            hosts.add(urlsplit(endpoint).netloc)
        if url.netloc not in hosts and url.hostname not in hosts:
            raise bad(f" (not a URL of {', '.join(sorted(hosts))})")
        parts = [unquote(p) for p in url.path.split("/") if p]
        if parts[:1] != ["datasets"] or len(parts) < 3:
            raise bad(" (a dataset URL looks like https://huggingface.co/datasets/owner/name)")
        owner, name = parts[1], parts[2]
        if len(parts) >= 5 and parts[3] in _URL_REVISION_KEYWORDS:
            revision = _revision_from(parts[4], parts[5:])
    else:
        if raw.count("/") != 1:
            raise bad()
        owner, name = raw.split("/")
    repo_id = f"{owner}/{name.removesuffix('.git')}"
    if not _REPO_ID.fullmatch(repo_id) or ".." in repo_id:
        raise bad()
    if revision is not None and (
        not revision or any(c.isspace() for c in revision) or ".." in revision
    ):
        raise bad(f" (bad revision {revision!r})")
    return RepoRef(repo_id, revision)


def _revision_from(first: str, rest: Sequence[str]) -> str:
    """A revision from URL segments: `refs/convert/parquet` and `refs/pr/1` may arrive unencoded."""
    if first == "refs" and len(rest) >= 2:
        return "/".join(["refs", *rest[:2]])
    return first


def default_name(repo_id: str) -> str:
    """The dataset name for a repo: its name lowercased, made a valid catalog key."""
    name = re.sub(r"[^a-z0-9._-]+", "-", repo_id.rsplit("/", 1)[-1].lower()).strip("._-")
    return name[:100] or "dataset"


def check_name(name: str) -> str:
    """`name` if it is a valid dataset name, else InvalidName saying what is allowed."""
    if not DATASET_NAME.fullmatch(name) or len(name) > 100:
        raise InvalidName(
            f"{name!r} is not a dataset name: use lowercase letters, digits, '.', "
            "'_' and '-', starting with a letter or digit"
        )
    return name


def require_endpoint_host(text: str, endpoint: str | None) -> None:
    """BadRepoReference unless a URL in `text` names the configured Hub endpoint's host (the
    official Hub's aliases count when it is the endpoint); `owner/name` and `hf://` name no host.
    Checked before any network access: a server proposing manifests never fetches a URL of
    another host on a request's behalf."""
    raw = text.strip()
    if raw.startswith(("huggingface.co/", "www.huggingface.co/", "hf.co/")):
        raw = "https://" + raw
    if raw.startswith("hf://") or "://" not in raw:
        return
    base = urlsplit(endpoint or "https://huggingface.co")
    allowed = {base.netloc.lower()}
    if base.hostname in HUB_HOSTS and base.port is None:
        allowed |= HUB_HOSTS
    url = urlsplit(raw)
    if url.scheme in ("http", "https") and url.netloc.lower() in allowed:
        return
    raise BadRepoReference(
        f"{text!r} names {url.netloc or url.scheme or 'another host'}; only the configured Hub "
        f"endpoint is contacted ({base.scheme}://{base.netloc}): give owner/name, "
        f"hf://datasets/owner/name or a {base.netloc} URL"
    )

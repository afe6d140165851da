"""A Hugging Face Hub look-alike on loopback, for tests and offline demos.

`LocalHub` is a small content-addressed, git-like store of dataset repos in a folder. `HubServer`
serves it over HTTP the way the Hub answers `huggingface_hub` 2.4, so the real client (never a
mock) lists, resolves and downloads from it. Faults (error statuses, dropped connections, cut or
slow bodies, latency) can be injected per request, and every request is logged for assertions.
Standard library only.

Storage layout of one `LocalHub` root::

    root/
    ├── blobs/
    │   └── <sha256>                  file contents, one file per distinct content
    └── datasets/
        └── <owner>--<name>/          one folder per repo (`<name>/` for an id without owner;
            │                         Hub names never contain `--`, so this cannot collide)
            ├── repo.json             {"id", "private", "gated", "gateApi", "tokenSha256", "createdAt"}
            ├── refs.json             {"refs/heads/main": <commit id>, "refs/tags/v1": ...,
            │                          "refs/convert/parquet": ...}
            └── commits/
                └── <commit id>.json  {"id", "parent", "message", "date",
                                       "tree": {path: {"size", "sha256", "blob_id", "lfs"}}}

Every file is written atomically (temporary file beside it, then rename). Commits are never
deleted, so any old commit stays downloadable. A commit id is the sha1 of its parent id, its
sorted (path, blob id) pairs and its message: deterministic, and new whenever content changes.
`blob_id` is the git blob sha1 of what git stores: the content for a regular file, the LFS pointer
for an LFS file (as on the Hub, where an LFS file's `oid` is its pointer's).

Endpoints (dataset repos only; `{repo}` is `owner/name` or `name`; `{rev}` is one percent-encoded
segment naming a branch, a tag, a full `refs/...` name or a 40-hex commit id of the repo)::

    main origin (HubServer.endpoint)
      GET      /api/agent-harnesses                                   404
      GET      /api/datasets/{repo}[/revision/{rev}]  ?blobs= &expand= dataset_info
      GET      /api/datasets/{repo}/tree/{rev}[/{path}]
                                ?recursive= &expand= &cursor=          list_repo_tree
               (1000 entries a page, 50 with expand=true; next page in `Link: <url>; rel="next"`)
      POST     /api/datasets/{repo}/paths-info/{rev}  form paths=&expand=  get_paths_info
      GET      /api/datasets/{repo}/refs  ?include_prs=1              list_repo_refs
      GET      /api/datasets/{repo}/commits/{rev}  ?cursor=           list_repo_commits (50 a page)
      HEAD|GET /datasets/{repo}/resolve/{rev}/{path}                  hf_hub_download
               small file: 200 (206 with Range), ETag "<blob id>", X-Repo-Commit
               LFS file:   302 to the LFS origin, X-Repo-Commit, X-Linked-Etag "<sha256>", X-Linked-Size
    LFS origin (HubServer.lfs_endpoint), a second port: another origin, so the client drops the token
      HEAD|GET /lfs/{sha256}/{path}                                   the blob (206 with Range)

Errors answer JSON `{"error": message}` with `X-Error-Message` and, where the client needs it,
`X-Error-Code`: RepoNotFound, RevisionNotFound, EntryNotFound (404, with X-Repo-Commit) or
GatedRepo (401 without a token, 403 with a wrong one).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import html
import json
import logging
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from socketserver import TCPServer
from types import TracebackType
from typing import Any, Literal, Self, TypedDict
from urllib.parse import parse_qs, parse_qsl, quote, unquote, urlencode

__all__ = [
    "DEFAULT_LFS_EXTENSIONS",
    "LFS_SIZE_THRESHOLD",
    "Commit",
    "EntryNotFound",
    "Fault",
    "FaultSet",
    "FileEntry",
    "GatedRepo",
    "HubServer",
    "InvalidName",
    "LocalHub",
    "LocalHubError",
    "RefExists",
    "RepoExists",
    "RepoNotFound",
    "RepoSettings",
    "RequestLog",
    "RequestRecord",
    "RevisionNotFound",
    "TreeIndex",
    "git_blob_id",
    "lfs_pointer",
    "main",
    "make_commit_id",
]

logger = logging.getLogger(__name__)

MIB = 1024 * 1024
#: Extensions (without the dot, lower case) stored as LFS files whatever their size.
DEFAULT_LFS_EXTENSIONS = frozenset({
    "parquet", "arrow", "gz", "bz2", "xz", "zst", "zip", "tar", "tfrecord", "bin", "npy",
    "jpg", "png", "wav", "flac", "mp3",
})
#: Files of this size or larger are LFS files whatever their extension.
LFS_SIZE_THRESHOLD = 10 * MIB

TREE_PAGE_SIZE = 1000
TREE_EXPAND_PAGE_SIZE = 50
COMMITS_PAGE_SIZE = 50
_CHUNK = 256 * 1024
_CACHE_SIZE = 16
_COMMIT_RE = re.compile(r"[0-9a-f]{40}")
_REPO_PART_RE = re.compile(r"\w(?:[\w.-]{0,94}\w)?", re.ASCII)
_REF_RE = re.compile(r"[A-Za-z0-9._/+-]+")


# --------------------------------------------------------------------------------------------
# Errors: one base class; the server turns each into a status and an X-Error-Code.
# --------------------------------------------------------------------------------------------


class LocalHubError(Exception):
    """Base of this module's errors. `status`/`code` are what the server answers for it."""

    status = 400
    code: str | None = None

    def __init__(
        self, message: str, *, status: int | None = None, commit: str | None = None
    ) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
        self.commit = commit  # sent back as X-Repo-Commit
        self.headers: dict[str, str] = {}


class InvalidName(LocalHubError, ValueError):
    """A repo id, revision or file path that the Hub would refuse (or that escapes a folder)."""


class RepoNotFound(LocalHubError, LookupError):
    status, code = 404, "RepoNotFound"


class RevisionNotFound(LocalHubError, LookupError):
    status, code = 404, "RevisionNotFound"


class EntryNotFound(LocalHubError, LookupError):
    status, code = 404, "EntryNotFound"


class GatedRepo(LocalHubError, PermissionError):
    status, code = 401, "GatedRepo"


class RepoExists(LocalHubError, FileExistsError):
    status = 409


class RefExists(LocalHubError, FileExistsError):
    status = 409


class _RangeNotSatisfiable(LocalHubError):
    status = 416


# --------------------------------------------------------------------------------------------
# Records and pure helpers
# --------------------------------------------------------------------------------------------


class FileEntry(TypedDict):
    """One file of a commit's tree, exactly as stored in the commit JSON."""

    size: int  # bytes of content
    sha256: str  # of the content; names the blob in root/blobs/
    blob_id: str  # git blob sha1 of the content, or of the LFS pointer for an LFS file
    lfs: bool


@dataclass(frozen=True)
class Commit:
    """One immutable commit. `tree` maps every file path to its entry."""

    id: str
    parent: str | None
    message: str
    date: str  # ISO 8601, UTC, e.g. 2024-05-01T12:00:00.000Z
    tree: Mapping[str, FileEntry]

    @property
    def title(self) -> str:
        return self.message.split("\n", 1)[0]

    @property
    def body(self) -> str:
        return self.message.partition("\n")[2].strip()


@dataclass(frozen=True)
class RepoSettings:
    """A repo's access settings, as stored in repo.json (a token is stored only as its sha256)."""

    repo_id: str
    private: bool = False
    gated: bool = False
    gate_api: bool = False
    token_sha256: str | None = None
    created_at: str = ""


def git_blob_id(data: bytes) -> str:
    """Git's object id for a blob holding `data`."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer file that git stores in place of an LFS file."""
    return (
        f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n"
    ).encode()


def make_commit_id(parent: str | None, tree: Mapping[str, FileEntry], message: str) -> str:
    """Deterministic 40-hex id over parent, sorted (path, blob id) pairs and message."""
    h = hashlib.sha1(f"parent {parent or ''}\n".encode())
    for path in sorted(tree):
        h.update(f"{path}\0{tree[path]['blob_id']}\n".encode())
    h.update(b"message " + message.encode())
    return h.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _check_repo_id(repo_id: str) -> str:
    parts = repo_id.split("/")
    ok = 1 <= len(parts) <= 2 and all(
        _REPO_PART_RE.fullmatch(p) and "--" not in p and ".." not in p for p in parts
    )
    if not ok:
        raise InvalidName(f"invalid repo id {repo_id!r}: use 'owner/name' or 'name'")
    return repo_id


def _check_path(path: str) -> str:
    """A file path inside a repo: relative, '/'-separated, no '.', '..' or empty segment."""
    bad = not path or "\\" in path or "\0" in path or path.startswith("/")
    if bad or any(seg in ("", ".", "..") for seg in path.split("/")):
        raise InvalidName(f"invalid path in repo {path!r}: relative, '/'-separated, no '..'")
    return path


def _ref_name(name: str) -> str:
    """Full git ref for a branch name: 'dev' -> 'refs/heads/dev'; 'refs/...' kept as is."""
    segments = name.split("/")
    if (not _REF_RE.fullmatch(name) or ".." in name or _COMMIT_RE.fullmatch(name)
            or any(not s or s.startswith(".") for s in segments)):
        raise InvalidName(f"invalid branch or ref name {name!r} (a commit id is not a branch)")
    if name.startswith("refs/"):
        if len(segments) < 3:
            raise InvalidName(f"invalid ref {name!r}: expected refs/<kind>/<name>")
        return name
    return f"refs/heads/{name}"


def _write_atomic(path: Path, data: bytes) -> None:
    """Write beside `path` under a name unique to this thread, then rename over `path`."""
    # Raw os calls: this runs once per blob, 50,000 times for a large repo.
    tmp = f"{path.parent}/.tmp-{path.name}-{os.getpid()}-{threading.get_ident()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_json(path: Path, obj: object) -> None:
    _write_atomic(path, json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())


def _walk_folder(folder: Path) -> dict[str, Path]:
    """Every file under `folder` (following symlinks), keyed by '/'-path; `.git/` is skipped."""
    out: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        base = Path(dirpath)
        rel = base.relative_to(folder).as_posix()
        for name in sorted(filenames):
            out[name if rel == "." else f"{rel}/{name}"] = base / name
    return out


# --------------------------------------------------------------------------------------------
# Blob store
# --------------------------------------------------------------------------------------------


class _BlobStore:
    """root/blobs/<sha256>: each distinct content written once, atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._known: set[str] | None = None

    def path(self, sha256: str) -> Path:
        return self.folder / sha256

    def _has(self, sha256: str) -> bool:
        if self._known is None:
            self._known = {n for n in os.listdir(self.folder) if not n.startswith(".")}
        return sha256 in self._known

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self._has(sha256):
            _write_atomic(self.path(sha256), data)
            assert self._known is not None
            self._known.add(sha256)
        return sha256

    def put_file(self, source: Path) -> tuple[str, int, str]:
        """Copy `source` in; return (sha256, size, git blob id of the content)."""
        size = source.stat().st_size
        h256, h1 = hashlib.sha256(), hashlib.sha1(b"blob %d\0" % size)
        tmp = self.folder / f".tmp-{uuid.uuid4().hex}"
        try:
            with source.open("rb") as src, tmp.open("wb") as dst:
                while chunk := src.read(_CHUNK):
                    h256.update(chunk)
                    h1.update(chunk)
                    dst.write(chunk)
            if tmp.stat().st_size != size:
                raise OSError(f"{source} changed while being read")
            sha256 = h256.hexdigest()
            if not self._has(sha256):
                os.replace(tmp, self.path(sha256))
                assert self._known is not None
                self._known.add(sha256)
        finally:
            tmp.unlink(missing_ok=True)
        return sha256, size, h1.hexdigest()


# --------------------------------------------------------------------------------------------
# Tree index: folders, listing order and git tree ids of one commit
# --------------------------------------------------------------------------------------------


class TreeIndex:
    """Folders of one commit's tree. Immutable once built; cached per commit by `LocalHub`.

    Listing order, per folder: sub-folders, then files, each sorted by path; a recursive
    listing puts each folder's contents right after the folder's own entry.
    """

    def __init__(self, tree: Mapping[str, FileEntry]) -> None:
        self.tree = tree
        self._dirs: dict[str, tuple[list[str], list[str]]] = {"": ([], [])}
        for path in tree:
            parent = path.rpartition("/")[0]
            self._add_dir(parent)
            self._dirs[parent][1].append(path)
        for subdirs, files in self._dirs.values():
            subdirs.sort()
            files.sort()
        self._listings: dict[tuple[str, bool], list[str]] = {}
        self._oids: dict[str, str] | None = None

    def _add_dir(self, folder: str) -> None:
        chain = []
        while folder not in self._dirs:
            self._dirs[folder] = ([], [])
            chain.append(folder)
            folder = folder.rpartition("/")[0]
        for added in chain:
            self._dirs[added.rpartition("/")[0]][0].append(added)

    def is_dir(self, path: str) -> bool:
        return path in self._dirs

    def listing(self, folder: str, *, recursive: bool) -> list[str]:
        """Paths (files and folders) under `folder` ('' = root), in listing order."""
        key = (folder, recursive)
        if key not in self._listings:
            self._listings[key] = self._walk(folder) if recursive else self._children(folder)
        return self._listings[key]

    def _children(self, folder: str) -> list[str]:
        subdirs, files = self._dirs[folder]
        return [*subdirs, *files]

    def _walk(self, folder: str) -> list[str]:
        out: list[str] = []
        stack = [iter(self._children(folder))]
        while stack:
            path = next(stack[-1], None)
            if path is None:
                stack.pop()
                continue
            out.append(path)
            if path in self._dirs:
                stack.append(iter(self._children(path)))
        return out

    def dir_oid(self, folder: str) -> str:
        """Git tree id of `folder` (computed for all folders on first use)."""
        if self._oids is None:
            self._oids = self._tree_oids()
        return self._oids[folder]

    def _tree_oids(self) -> dict[str, str]:
        oids: dict[str, str] = {}
        for folder in sorted(self._dirs, key=lambda d: -d.count("/") - (d != "")):
            subdirs, files = self._dirs[folder]
            items = [(p.rpartition("/")[2], b"100644", self.tree[p]["blob_id"]) for p in files]
            items += [(d.rpartition("/")[2] + "/", b"40000", oids[d]) for d in subdirs]
            body = b"".join(
                mode + b" " + name.rstrip("/").encode() + b"\0" + bytes.fromhex(oid)
                for name, mode, oid in sorted(items)
            )
            oids[folder] = hashlib.sha1(b"tree %d\0" % len(body) + body).hexdigest()
        return oids


# --------------------------------------------------------------------------------------------
# LocalHub: the store
# --------------------------------------------------------------------------------------------


class LocalHub:
    """A folder of git-like dataset repos with content-addressed blobs (layout: module doc).

    Thread-safe within one process. A file is stored as LFS when its extension (last suffix) is
    in `lfs_extensions` or its size is at least `lfs_threshold`; the decision is recorded in
    each commit, so changing these later does not rewrite history.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        lfs_extensions: Iterable[str] = DEFAULT_LFS_EXTENSIONS,
        lfs_threshold: int = LFS_SIZE_THRESHOLD,
    ) -> None:
        self.root = Path(root)
        self.lfs_extensions = frozenset(e.lower().lstrip(".") for e in lfs_extensions)
        self.lfs_threshold = lfs_threshold
        (self.root / "datasets").mkdir(parents=True, exist_ok=True)
        self._blobs = _BlobStore(self.root / "blobs")
        self._lock = threading.RLock()
        self._commits: OrderedDict[tuple[str, str], Commit] = OrderedDict()
        self._indexes: OrderedDict[tuple[str, str], TreeIndex] = OrderedDict()

    # -- writing ------------------------------------------------------------------------------

    def create_repo(
        self,
        repo_id: str,
        files: Mapping[str, bytes | Path] | None = None,
        *,
        revision: str = "main",
        message: str = "initial",
        gated: bool = False,
        private: bool = False,
    ) -> str:
        """Create a repo whose branch `revision` holds `files`; return the commit id.

        Raises `RepoExists` if the repo exists. The repo appears atomically (built in a
        temporary folder, then renamed). `gated=True` without `set_gated` accepts any token.
        """
        with self._lock:
            final = self._repo_dir(repo_id)
            if final.exists():
                raise RepoExists(f"repo {repo_id!r} already exists")
            ref = _ref_name(revision)
            tmp = final.with_name(f".tmp-{final.name}-{uuid.uuid4().hex[:8]}")
            (tmp / "commits").mkdir(parents=True)
            try:
                tree = self._ingest(files or {})
                commit = self._write_commit(tmp, None, tree, message, cache=False)
                settings = RepoSettings(repo_id, private=private, gated=gated,
                                        created_at=commit.date)
                _write_json(tmp / "repo.json", _settings_json(settings))
                _write_json(tmp / "refs.json", {ref: commit.id})
                os.rename(tmp, final)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)  # gone already unless something failed
            return commit.id

    def commit(
        self,
        repo_id: str,
        *,
        add: Mapping[str, bytes | Path] | None = None,
        delete: Iterable[str] = (),
        revision: str = "main",
        message: str = "update",
        from_revision: str | None = "main",
    ) -> str:
        """Commit on top of branch `revision` and move it; return the new commit id.

        A branch that does not exist yet starts from `from_revision`'s head (empty if that does
        not exist either, or if it is None: an orphan branch, like `refs/convert/parquet`).
        `delete` takes file or folder paths; a path matching nothing raises `EntryNotFound`.
        """
        with self._lock:
            repo_dir = self._existing_repo_dir(repo_id)
            refs = self._read_refs(repo_dir)
            ref = _ref_name(revision)
            parent = refs.get(ref) or self._try_resolve(repo_id, refs, from_revision)
            tree = dict(self._load_commit(repo_dir, parent).tree) if parent else {}
            for path in delete:
                self._delete_path(tree, path, repo_id)
            tree.update(self._ingest(add or {}))
            commit = self._write_commit(repo_dir, parent, tree, message)
            refs[ref] = commit.id
            _write_json(repo_dir / "refs.json", refs)
            return commit.id

    def create_branch(
        self, repo_id: str, name: str, *, from_revision: str | None = "main", exist_ok: bool = False
    ) -> str:
        """Point branch (or full ref) `name` at `from_revision`'s head; return that commit id.

        `from_revision=None` creates an orphan branch on a new empty commit.
        """
        with self._lock:
            repo_dir = self._existing_repo_dir(repo_id)
            refs = self._read_refs(repo_dir)
            ref = _ref_name(name)
            if ref in refs and not exist_ok:
                raise RefExists(f"{ref!r} already exists in {repo_id!r}")
            if from_revision is None:
                target = self._write_commit(repo_dir, None, {}, f"create {name}").id
            else:
                target = self._resolve(repo_id, refs, from_revision)
            refs[ref] = target
            _write_json(repo_dir / "refs.json", refs)
            return target

    def create_tag(self, repo_id: str, tag: str, *, revision: str = "main") -> str:
        """Tag `revision`'s head as `refs/tags/<tag>`; return the commit id."""
        return self.create_branch(repo_id, f"refs/tags/{tag}", from_revision=revision)

    def import_folder(
        self, repo_id: str, folder: str | Path, *, revision: str = "main", message: str = "import"
    ) -> str:
        """Make branch `revision` hold exactly the files under `folder` (creating the repo).

        Files absent from the folder are deleted from the branch; `.git/` is skipped.
        """
        files = _walk_folder(Path(folder))
        with self._lock:
            if not self.exists(repo_id):
                return self.create_repo(repo_id, files, revision=revision, message=message)
            if _ref_name(revision) not in self.refs(repo_id):  # a new branch of exactly these
                return self.commit(repo_id, add=files, revision=revision, message=message,
                                   from_revision=None)
            gone = [p for p in self.files(repo_id, revision) if p not in files]
            return self.commit(repo_id, add=files, delete=gone, revision=revision, message=message)

    def set_gated(self, repo_id: str, token: str | None, *, gate_api: bool = False) -> None:
        """Gate `repo_id` behind `Authorization: Bearer <token>`; `None` removes the gate.

        Like the Hub, only file contents (`/resolve/`) are gated unless `gate_api` is true,
        which gates every endpoint of the repo. The LFS origin never checks tokens (signed CDN
        URLs on the Hub). Only the token's sha256 is stored.
        """
        with self._lock:
            repo_dir = self._existing_repo_dir(repo_id)
            digest = hashlib.sha256(token.encode()).hexdigest() if token is not None else None
            settings = replace(
                self.settings(repo_id),
                gated=token is not None,
                gate_api=gate_api and token is not None,
                token_sha256=digest,
            )
            _write_json(repo_dir / "repo.json", _settings_json(settings))

    # -- reading ------------------------------------------------------------------------------

    def exists(self, repo_id: str) -> bool:
        try:
            return (self._repo_dir(repo_id) / "repo.json").is_file()
        except InvalidName:
            return False

    def repos(self) -> list[str]:
        """Ids of all repos, sorted."""
        folders = [d for d in (self.root / "datasets").iterdir() if not d.name.startswith(".")]
        return sorted(json.loads((d / "repo.json").read_text())["id"] for d in folders
                      if (d / "repo.json").is_file())

    def settings(self, repo_id: str) -> RepoSettings:
        data = json.loads((self._existing_repo_dir(repo_id) / "repo.json").read_text())
        return RepoSettings(
            repo_id=data["id"],
            private=data.get("private", False),
            gated=data.get("gated", False),
            gate_api=data.get("gateApi", False),
            token_sha256=data.get("tokenSha256"),
            created_at=data.get("createdAt", ""),
        )

    def refs(self, repo_id: str) -> dict[str, str]:
        """Full ref name ('refs/heads/main', 'refs/convert/parquet', ...) -> commit id."""
        return self._read_refs(self._existing_repo_dir(repo_id))

    def head(self, repo_id: str, revision: str = "main") -> str:
        """Commit id that `revision` (branch, tag, full ref or commit id) names."""
        refs = self._read_refs(self._existing_repo_dir(repo_id))
        return self._resolve(repo_id, refs, revision)

    def get_commit(self, repo_id: str, revision: str = "main") -> Commit:
        return self._load_commit(self._existing_repo_dir(repo_id), self.head(repo_id, revision))

    def files(self, repo_id: str, revision: str = "main") -> dict[str, FileEntry]:
        """The tree at `revision`: path -> entry (a copy; mutating it changes nothing)."""
        tree = self.get_commit(repo_id, revision).tree
        return {path: FileEntry(**entry) for path, entry in tree.items()}

    def read(self, repo_id: str, path: str, revision: str = "main") -> bytes:
        commit = self.get_commit(repo_id, revision)
        if path not in commit.tree:
            raise EntryNotFound(f"{path!r} not in {repo_id!r} at {revision!r}", commit=commit.id)
        return self.blob_path(commit.tree[path]["sha256"]).read_bytes()

    def log(self, repo_id: str, revision: str = "main") -> list[Commit]:
        """Commits from `revision`'s head back to the first, newest first."""
        repo_dir = self._existing_repo_dir(repo_id)
        out = [self._load_commit(repo_dir, self.head(repo_id, revision))]
        while out[-1].parent is not None:
            out.append(self._load_commit(repo_dir, out[-1].parent))
        return out

    def blob_path(self, sha256: str) -> Path:
        return self._blobs.path(sha256)

    def index(self, repo_id: str, commit_id: str) -> TreeIndex:
        """Folder index of one commit (cached)."""
        key = (repo_id, commit_id)
        with self._lock:
            if key not in self._indexes:
                commit = self._load_commit(self._existing_repo_dir(repo_id), commit_id)
                self._indexes[key] = TreeIndex(commit.tree)
                while len(self._indexes) > _CACHE_SIZE:
                    self._indexes.popitem(last=False)
            self._indexes.move_to_end(key)
            return self._indexes[key]

    def last_commit(self, repo_id: str, commit_id: str, path: str) -> Commit:
        """Oldest commit, going back from `commit_id`, since which `path` is unchanged."""
        repo_dir = self._existing_repo_dir(repo_id)
        commit = self._load_commit(repo_dir, commit_id)
        value = self._path_value(repo_id, commit, path)
        while commit.parent is not None:
            parent = self._load_commit(repo_dir, commit.parent)
            if self._path_value(repo_id, parent, path) != value:
                break
            commit = parent
        return commit

    def is_lfs(self, path: str, size: int) -> bool:
        """Whether a file of this path and size is stored with LFS."""
        name = path.rpartition("/")[2]
        suffix = name.rpartition(".")[2].lower() if "." in name else ""
        return size >= self.lfs_threshold or suffix in self.lfs_extensions

    # -- internals ----------------------------------------------------------------------------

    def _repo_dir(self, repo_id: str) -> Path:
        return self.root / "datasets" / _check_repo_id(repo_id).replace("/", "--")

    def _existing_repo_dir(self, repo_id: str) -> Path:
        repo_dir = self._repo_dir(repo_id)
        if not (repo_dir / "repo.json").is_file():
            raise RepoNotFound(f"dataset repo {repo_id!r} not found")
        return repo_dir

    @staticmethod
    def _read_refs(repo_dir: Path) -> dict[str, str]:
        refs: dict[str, str] = json.loads((repo_dir / "refs.json").read_text())
        return refs

    def _resolve(self, repo_id: str, refs: Mapping[str, str], revision: str) -> str:
        commit_file = self._repo_dir(repo_id) / "commits" / f"{revision}.json"
        if _COMMIT_RE.fullmatch(revision) and commit_file.is_file():
            return revision
        candidates = [revision] if revision.startswith("refs/") else [
            f"refs/heads/{revision}", f"refs/tags/{revision}"]
        for ref in candidates:
            if ref in refs:
                return refs[ref]
        raise RevisionNotFound(f"revision {revision!r} not found in {repo_id!r}")

    def _try_resolve(
        self, repo_id: str, refs: Mapping[str, str], revision: str | None
    ) -> str | None:
        if revision is None:
            return None
        try:
            return self._resolve(repo_id, refs, revision)
        except RevisionNotFound:
            return None

    def _load_commit(self, repo_dir: Path, commit_id: str) -> Commit:
        key = (repo_dir.name, commit_id)
        with self._lock:
            if key not in self._commits:
                data = json.loads((repo_dir / "commits" / f"{commit_id}.json").read_text())
                self._remember(key, Commit(**data))
            self._commits.move_to_end(key)
            return self._commits[key]

    def _remember(self, key: tuple[str, str], commit: Commit) -> None:
        self._commits[key] = commit
        while len(self._commits) > _CACHE_SIZE:
            self._commits.popitem(last=False)

    def _write_commit(
        self, repo_dir: Path, parent: str | None, tree: dict[str, FileEntry], message: str,
        *, cache: bool = True,
    ) -> Commit:
        commit_id = make_commit_id(parent, tree, message)
        path = repo_dir / "commits" / f"{commit_id}.json"
        if path.is_file():  # same parent, content and message: the very same commit
            return self._load_commit(repo_dir, commit_id)
        commit = Commit(id=commit_id, parent=parent, message=message, date=_now(), tree=tree)
        _write_json(path, commit.__dict__)
        if cache:
            self._remember((repo_dir.name, commit_id), commit)
        return commit

    def _ingest(self, files: Mapping[str, bytes | Path]) -> dict[str, FileEntry]:
        return {_check_path(path): self._ingest_one(path, value) for path, value in files.items()}

    def _ingest_one(self, path: str, value: bytes | Path) -> FileEntry:
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            sha256, size, content_id = self._blobs.put_bytes(data), len(data), git_blob_id(data)
        elif isinstance(value, os.PathLike):
            sha256, size, content_id = self._blobs.put_file(Path(value))
        else:
            raise TypeError(f"{path!r}: content must be bytes or a Path, not {type(value).__name__}")
        lfs = self.is_lfs(path, size)
        blob_id = git_blob_id(lfs_pointer(sha256, size)) if lfs else content_id
        return FileEntry(size=size, sha256=sha256, blob_id=blob_id, lfs=lfs)

    @staticmethod
    def _delete_path(tree: dict[str, FileEntry], path: str, repo_id: str) -> None:
        path = path.strip("/")
        doomed = [p for p in tree if p == path or p.startswith(path + "/")]
        if not path or not doomed:
            raise EntryNotFound(f"cannot delete {path!r}: not in {repo_id!r}")
        for p in doomed:
            del tree[p]

    def _path_value(self, repo_id: str, commit: Commit, path: str) -> str | None:
        entry = commit.tree.get(path)
        if entry is not None:
            return entry["blob_id"]
        index = self.index(repo_id, commit.id)
        return index.dir_oid(path) if index.is_dir(path) else None


def _settings_json(s: RepoSettings) -> dict[str, Any]:
    return {"id": s.repo_id, "private": s.private, "gated": s.gated, "gateApi": s.gate_api,
            "tokenSha256": s.token_sha256, "createdAt": s.created_at}


# --------------------------------------------------------------------------------------------
# Faults and the request log
# --------------------------------------------------------------------------------------------

Origin = Literal["main", "lfs"]


@dataclass(frozen=True, eq=False)
class Fault:
    """One injected misbehaviour, applied to the next `times` requests it matches.

    Matching: `method` (None = any), `path` (regex searched in the raw request target, path
    and query, still percent-encoded: `refs%2Fconvert%2Fparquet`), `origin` ("main", "lfs"
    or None = both). What happens, after sleeping `latency` seconds:

    - `status`: answer that status (JSON error body) with extra `headers`, e.g. Retry-After;
    - `drop`: close the connection without any response;
    - `truncate_after`: send the headers (full Content-Length), then only that many body
      bytes, then close;
    - `chunk_delay`: send the body in `chunk_size` pieces, sleeping this long between them;
    - none of these: the normal answer, late by `latency`.

    `status`, `drop` and `truncate_after` exclude each other. Faults compare by identity.
    """

    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate_after: int | None = None
    chunk_delay: float = 0.0
    chunk_size: int = 64 * 1024
    latency: float = 0.0
    method: str | None = None
    path: str = ""
    origin: Origin | None = None
    times: int | None = 1

    def __post_init__(self) -> None:
        if sum([self.status is not None, self.drop, self.truncate_after is not None]) > 1:
            raise ValueError("choose at most one of status, drop and truncate_after")
        if self.origin not in (None, "main", "lfs"):
            raise ValueError(f"origin must be 'main', 'lfs' or None, not {self.origin!r}")
        if self.chunk_size < 1 or (self.times is not None and self.times < 1):
            raise ValueError("chunk_size and times must be positive")
        re.compile(self.path)

    def matches(self, method: str, target: str, origin: Origin) -> bool:
        return (
            (self.method is None or self.method.upper() == method)
            and (self.origin is None or self.origin == origin)
            and re.search(self.path, target) is not None
        )

    def describe(self) -> str:
        parts = [f"latency {self.latency}s"] if self.latency else []
        if self.status is not None:
            parts.append(f"status {self.status}")
        if self.drop:
            parts.append("drop")
        if self.truncate_after is not None:
            parts.append(f"truncate after {self.truncate_after} bytes")
        if self.chunk_delay:
            parts.append(f"slow body {self.chunk_delay}s per {self.chunk_size} bytes")
        return ", ".join(parts) or "no-op"


class FaultSet:
    """Ordered fault rules of one server; the first live rule that matches a request fires.

    `latency` (seconds) delays every request on both origins. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self.latency = 0.0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(_Rule(fault, fault.times))
        return fault

    def clear(self) -> None:
        """Remove every rule and reset `latency` to 0."""
        with self._lock:
            self._rules.clear()
        self.latency = 0.0

    def remaining(self, fault: Fault) -> int | None:
        """How many more times `fault` will fire (None = forever, 0 = spent or never added)."""
        with self._lock:
            return next((r.left for r in self._rules if r.fault is fault), 0)

    def take(self, method: str, target: str, origin: Origin) -> Fault | None:
        """The fault for this request, if any, counting it as fired."""
        with self._lock:
            for rule in self._rules:
                if rule.left != 0 and rule.fault.matches(method, target, origin):
                    rule.left = None if rule.left is None else rule.left - 1
                    return rule.fault
        return None

    def __len__(self) -> int:
        with self._lock:
            return sum(1 for rule in self._rules if rule.left != 0)


@dataclass
class _Rule:
    fault: Fault
    left: int | None  # times it will still fire; None = forever


@dataclass(frozen=True)
class RequestRecord:
    """One served request. `status` is None when the connection was dropped unanswered."""

    origin: Origin
    method: str
    path: str  # raw, percent-encoded, without the query
    query: str
    range: str | None  # the Range header
    status: int | None
    bytes_sent: int  # body bytes actually written
    authorization: bool  # whether an Authorization header was present (never its value)
    fault: str | None = None  # Fault.describe() of the fault applied

    @property
    def target(self) -> str:
        return f"{self.path}?{self.query}" if self.query else self.path


class RequestLog:
    """Thread-safe, append-only log of the requests both origins served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []

    def append(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def replace(self, old: RequestRecord, new: RequestRecord) -> None:
        """Swap `old` (by identity) for `new`, e.g. when a client hung up mid-answer."""
        with self._lock:
            self._records = [new if r is old else r for r in self._records]

    def clear(self) -> None:
        with self._lock:
            self._records.clear()

    def filter(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        origin: Origin | None = None,
        status: int | None = None,
    ) -> list[RequestRecord]:
        """Records matching all given criteria; `path` is a regex searched in `target`."""
        return [
            r for r in self
            if (method is None or r.method == method.upper())
            and (path is None or re.search(path, r.target))
            and (origin is None or r.origin == origin)
            and (status is None or r.status == status)
        ]

    def __iter__(self) -> Iterator[RequestRecord]:
        with self._lock:
            return iter(list(self._records))

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)


# --------------------------------------------------------------------------------------------
# HTTP application: request -> response, no sockets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Request:
    method: str
    path: str  # raw
    query: str
    headers: Mapping[str, str]  # names in lower case
    body: bytes
    host: str  # scheme://host:port the client used

    @property
    def segments(self) -> list[str]:
        return [unquote(s) for s in self.path.split("/")[1:]]

    @property
    def params(self) -> dict[str, list[str]]:
        return parse_qs(self.query, keep_blank_values=True)

    def flag(self, name: str, source: Mapping[str, list[str]] | None = None) -> bool:
        values = (source if source is not None else self.params).get(name, ["false"])
        return values[-1].lower() in ("1", "true", "yes")

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        return auth[7:].strip() if auth[:7].lower() == "bearer " else None


@dataclass(frozen=True)
class _BlobSlice:
    path: Path
    start: int
    length: int


@dataclass
class _Response:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | _BlobSlice = b""

    @property
    def length(self) -> int:
        return self.body.length if isinstance(self.body, _BlobSlice) else len(self.body)


def _json_response(
    obj: object, status: int = 200, headers: Mapping[str, str] | None = None
) -> _Response:
    body = json.dumps(obj).encode()
    return _Response(
        status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, body)


def _header_safe(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode().replace("\r", " ").replace("\n", " ")


def _error_response(err: LocalHubError) -> _Response:
    headers = {"X-Error-Message": _header_safe(str(err)), **err.headers}
    if err.code:
        headers["X-Error-Code"] = err.code
    if err.commit:
        headers["X-Repo-Commit"] = err.commit
    return _json_response({"error": str(err)}, err.status, headers)


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) asked by a single `bytes=` range; None means the whole body."""
    match = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", header or "")
    if match is None or match.groups() == ("", ""):
        return None  # absent, multi-range or malformed: RFC 9110 lets us ignore it
    first, last = match.groups()
    if first and last and int(last) < int(first):
        return None
    if first:
        start, end = int(first), min(int(last) + 1, size) if last else size
    else:
        start, end = max(size - int(last), 0), size
    if start >= size or start >= end:
        err = _RangeNotSatisfiable(f"range {header!r} not satisfiable for {size} bytes")
        err.headers["Content-Range"] = f"bytes */{size}"
        raise err
    return start, end


def _blob_response(blob: Path, size: int, req: _Request, headers: dict[str, str]) -> _Response:
    headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes", **headers}
    span = _byte_range(req.headers.get("range"), size)
    if span is None:
        return _Response(200, headers, _BlobSlice(blob, 0, size))
    start, end = span
    headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    return _Response(206, headers, _BlobSlice(blob, start, end - start))


def _file_json(path: str, entry: FileEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "file", "oid": entry["blob_id"], "size": entry["size"],
                           "path": path}
    if entry["lfs"]:
        pointer_size = len(lfs_pointer(entry["sha256"], entry["size"]))
        out["lfs"] = {"oid": entry["sha256"], "size": entry["size"], "pointerSize": pointer_size}
    return out


def _sibling_json(path: str, entry: FileEntry, blobs: bool) -> dict[str, Any]:
    if not blobs:
        return {"rfilename": path}
    out: dict[str, Any] = {"rfilename": path, "size": entry["size"], "blobId": entry["blob_id"]}
    if entry["lfs"]:
        pointer_size = len(lfs_pointer(entry["sha256"], entry["size"]))
        out["lfs"] = {"sha256": entry["sha256"], "size": entry["size"],
                      "pointerSize": pointer_size}
    return out


def _commit_json(commit: Commit, formatted: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": commit.id, "title": commit.title, "message": commit.body,
                           "date": commit.date, "authors": [{"user": "local", "avatar": None}]}
    if formatted:
        out["formatted"] = {"title": html.escape(commit.title), "message": html.escape(commit.body)}
    return out


def _refs_json(refs: Mapping[str, str], include_prs: bool) -> dict[str, Any]:
    kinds = {"heads": "branches", "tags": "tags", "convert": "converts", "pr": "pullRequests"}
    out: dict[str, list[dict[str, str]]] = {k: [] for k in kinds.values()}
    for ref, target in sorted(refs.items()):
        _, kind, name = ref.split("/", 2)
        bucket = kinds.get(kind, "branches")
        out[bucket].append({"name": name if kind in kinds else ref, "ref": ref,
                            "targetCommit": target})
    if not include_prs:
        del out["pullRequests"]
    return out


def _card_data(readme: Path) -> dict[str, Any] | None:
    """YAML front matter of a README, as the Hub's `cardData` (needs PyYAML; else None)."""
    text = readme.read_text("utf-8", "replace")
    match = re.match(r"---[ \t]*\n(.*?)\n---[ \t]*(\n|$)", text, re.DOTALL)
    if match is None:
        return None
    try:
        import yaml  # a pygestor dependency, but this module must work with the stdlib alone
    except ImportError:
        return None
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError:  # the Hub shows no card data for invalid YAML either
        return None
    return data if isinstance(data, dict) else None


_API_MARKERS = frozenset({"revision", "tree", "paths-info", "refs", "commits"})


class _HubApp:
    """Routes requests of both origins to `LocalHub` reads; never touches sockets."""

    def __init__(self, hub: LocalHub, lfs_endpoint: Callable[[], str]) -> None:
        self.hub = hub
        self._lfs_endpoint = lfs_endpoint

    def main(self, req: _Request) -> _Response:
        return self._guard(self._route_main, req)

    def lfs(self, req: _Request) -> _Response:
        return self._guard(self._route_lfs, req)

    def _guard(self, route: Callable[[_Request], _Response], req: _Request) -> _Response:
        try:
            return route(req)
        except LocalHubError as err:
            return _error_response(err)
        except Exception:
            logger.exception("test hub failed on %s %s", req.method, req.path)
            return _json_response({"error": "internal error in the test hub (see log)"}, 500)

    # -- routing ------------------------------------------------------------------------------

    def _route_main(self, req: _Request) -> _Response:
        seg = req.segments
        if seg[:2] == ["api", "datasets"] and len(seg) > 2:
            repo_id, tail = self._split_repo(seg[2:], _API_MARKERS)
            return self._api(req, repo_id, tail)
        if seg[:1] == ["datasets"] and "resolve" in seg[2:4]:
            repo_id, tail = self._split_repo(seg[1:], frozenset({"resolve"}))
            if len(tail) >= 2 and tail[0] == "resolve" and req.method in ("GET", "HEAD"):
                return self._resolve(req, repo_id, tail[1], "/".join(tail[2:]))
        if seg[:2] == ["api", "agent-harnesses"]:
            return _json_response({"error": "no agent harness registry on a test hub"}, 404)
        if seg[:2] in (["api", "models"], ["api", "spaces"]) or "resolve" in seg[1:3]:
            raise RepoNotFound(f"this test hub serves dataset repos only (pass "
                               f"repo_type='dataset'): {req.path}")
        return _json_response({"error": f"no such endpoint: {req.method} {req.path}"}, 404)

    def _split_repo(self, rest: list[str], markers: frozenset[str]) -> tuple[str, list[str]]:
        if len(rest) >= 2 and self.hub.exists("/".join(rest[:2])):
            return "/".join(rest[:2]), rest[2:]
        if self.hub.exists(rest[0]):
            return rest[0], rest[1:]
        guess = "/".join(rest[:2]) if len(rest) >= 2 and rest[1] not in markers else rest[0]
        raise RepoNotFound(f"dataset repo {guess!r} not found")

    def _api(self, req: _Request, repo_id: str, tail: list[str]) -> _Response:
        self._authorize(req, repo_id, files=False)
        kind, args = (tail[0], tail[1:]) if tail else ("", [])
        get, post = req.method in ("GET", "HEAD"), req.method == "POST"
        if kind == "" and get:
            return self._info(req, repo_id, "main")
        if kind == "revision" and len(args) == 1 and get:
            return self._info(req, repo_id, args[0])
        if kind == "tree" and args and get:
            return self._tree(req, repo_id, args[0], "/".join(args[1:]).strip("/"))
        if kind == "paths-info" and len(args) == 1 and post:
            return self._paths_info(req, repo_id, args[0])
        if kind == "refs" and not args and get:
            return _json_response(_refs_json(self.hub.refs(repo_id), req.flag("include_prs")))
        if kind == "commits" and len(args) <= 1 and get:
            return self._commits(req, repo_id, args[0] if args else "main")
        return _json_response({"error": f"no such endpoint: {req.method} {req.path}"}, 404)

    def _route_lfs(self, req: _Request) -> _Response:
        seg = req.segments
        if len(seg) >= 2 and seg[0] == "lfs" and req.method in ("GET", "HEAD"):
            blob = self.hub.blob_path(seg[1]) if re.fullmatch(r"[0-9a-f]{64}", seg[1]) else None
            if blob is not None and blob.is_file():
                size = blob.stat().st_size
                return _blob_response(blob, size, req, {"ETag": f'"{seg[1]}"'})
        return _json_response({"error": f"no such object: {req.path}"}, 404)

    # -- access ---------------------------------------------------------------------------------

    def _authorize(self, req: _Request, repo_id: str, *, files: bool) -> None:
        s = self.hub.settings(repo_id)
        if not (s.private or (s.gated and (files or s.gate_api))):
            return
        token = req.bearer
        digest = hashlib.sha256(token.encode()).hexdigest() if token else None
        if token and (s.token_sha256 is None or digest == s.token_sha256):
            return
        if s.private:
            raise RepoNotFound(f"dataset repo {repo_id!r} not found (private)", status=401)
        raise GatedRepo(
            f"access to dataset {repo_id!r} is restricted: pass its token",
            status=403 if token else 401,
        )

    # -- endpoints ------------------------------------------------------------------------------

    def _info(self, req: _Request, repo_id: str, revision: str) -> _Response:
        settings, commit = self.hub.settings(repo_id), self.hub.get_commit(repo_id, revision)
        blobs = req.flag("blobs")
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24], "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None, "sha": commit.id,
            "lastModified": commit.date, "createdAt": settings.created_at,
            "private": settings.private, "gated": "auto" if settings.gated else False,
            "disabled": False, "downloads": 0, "likes": 0, "tags": [],
            "siblings": [_sibling_json(p, e, blobs) for p, e in sorted(commit.tree.items())],
            "usedStorage": sum(e["size"] for e in commit.tree.values()),
        }
        readme = commit.tree.get("README.md")
        if readme is not None and readme["size"] <= MIB:
            card = _card_data(self.hub.blob_path(readme["sha256"]))
            if card is not None:
                info["cardData"] = card
        expand = req.params.get("expand")
        if expand:
            info = {k: v for k, v in info.items() if k in {"_id", "id", *expand}}
        return _json_response(info)

    def _tree(self, req: _Request, repo_id: str, revision: str, folder: str) -> _Response:
        commit_id = self.hub.head(repo_id, revision)
        index = self.hub.index(repo_id, commit_id)
        if not index.is_dir(folder):
            what = "a file, not a folder" if folder in index.tree else "not found"
            raise EntryNotFound(f"{folder!r} is {what} in {repo_id!r}", commit=commit_id)
        expand = req.flag("expand")
        paths = index.listing(folder, recursive=req.flag("recursive"))
        page_size = TREE_EXPAND_PAGE_SIZE if expand else TREE_PAGE_SIZE
        start = self._cursor(req)
        page = paths[start:start + page_size]
        entries = [self._entry_json(repo_id, commit_id, index, p, expand) for p in page]
        return _json_response(entries, headers=self._next_link(req, start + page_size, len(paths)))

    def _paths_info(self, req: _Request, repo_id: str, revision: str) -> _Response:
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        commit_id = self.hub.head(repo_id, revision)
        index = self.hub.index(repo_id, commit_id)
        expand = req.flag("expand", form)
        wanted = [p.strip("/") for p in form.get("paths", [])]
        entries = [
            self._entry_json(repo_id, commit_id, index, p, expand)
            for p in dict.fromkeys(wanted)
            if p and (p in index.tree or index.is_dir(p))
        ]
        return _json_response(entries)

    def _commits(self, req: _Request, repo_id: str, revision: str) -> _Response:
        history = self.hub.log(repo_id, revision)
        start = self._cursor(req)
        formatted = "formatted" in req.params.get("expand[]", [])
        page = [_commit_json(c, formatted) for c in history[start:start + COMMITS_PAGE_SIZE]]
        return _json_response(
            page, headers=self._next_link(req, start + COMMITS_PAGE_SIZE, len(history)))

    def _resolve(self, req: _Request, repo_id: str, revision: str, path: str) -> _Response:
        self._authorize(req, repo_id, files=True)
        commit = self.hub.get_commit(repo_id, revision)
        entry = commit.tree.get(path)
        if entry is None:
            raise EntryNotFound(f"{path!r} not found in {repo_id!r} at {revision!r}",
                                commit=commit.id)
        headers = {"X-Repo-Commit": commit.id}
        if entry["lfs"]:
            location = f"{self._lfs_endpoint()}/lfs/{entry['sha256']}/{quote(path)}"
            headers |= {"Location": location, "X-Linked-Etag": f'"{entry["sha256"]}"',
                        "X-Linked-Size": str(entry["size"]), "ETag": f'"{entry["sha256"]}"'}
            return _Response(302, headers)
        headers["ETag"] = f'"{entry["blob_id"]}"'
        return _blob_response(self.hub.blob_path(entry["sha256"]), entry["size"], req, headers)

    # -- helpers --------------------------------------------------------------------------------

    def _entry_json(
        self, repo_id: str, commit_id: str, index: TreeIndex, path: str, expand: bool
    ) -> dict[str, Any]:
        entry = index.tree.get(path)
        if entry is not None:
            out = _file_json(path, entry)
        else:
            out = {"type": "directory", "oid": index.dir_oid(path), "path": path}
        if expand:
            last = self.hub.last_commit(repo_id, commit_id, path)
            out["lastCommit"] = {"id": last.id, "title": last.title, "date": last.date}
        return out

    @staticmethod
    def _cursor(req: _Request) -> int:
        raw = req.params.get("cursor", ["0"])[-1]
        if not raw.isdigit():
            raise LocalHubError(f"invalid cursor {raw!r}")
        return int(raw)

    @staticmethod
    def _next_link(req: _Request, next_start: int, total: int) -> dict[str, str]:
        if next_start >= total:
            return {}
        params = [(k, v) for k, v in parse_qsl(req.query, keep_blank_values=True) if k != "cursor"]
        query = urlencode([*params, ("cursor", str(next_start))])
        return {"Link": f'<{req.host}{req.path}?{query}>; rel="next"'}


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, applies faults, asks the app, writes the answer, logs it."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the Hub: hence Content-Length everywhere
    timeout = 30  # seconds an idle keep-alive connection is kept
    server: _OriginServer

    def log_message(self, format: str, *args: Any) -> None:
        """Route BaseHTTPRequestHandler's stderr lines to logging.debug."""
        logger.debug("%s origin: " + format, self.server.origin, *args)

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and
        # the client's delayed ACK stall every response by ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def do_GET(self) -> None:
        self._serve()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _serve(self) -> None:
        owner, origin = self.server.owner, self.server.origin
        path, _, query = self.path.partition("?")
        body = self._read_body()
        fault = owner.faults.take(self.command, self.path, origin)
        delay = owner.faults.latency + (fault.latency if fault else 0.0)
        if delay:
            time.sleep(delay)
        record = RequestRecord(
            origin=origin, method=self.command, path=path, query=query,
            range=self.headers.get("Range"), status=None, bytes_sent=0,
            authorization="Authorization" in self.headers,
            fault=fault.describe() if fault else None,
        )
        if fault is not None and fault.drop:
            owner.requests.append(record)  # logged before the client can notice anything
            self._drop()
            return
        response = self._respond(fault, path, query, body)
        self._send(response, fault, replace(record, status=response.status))

    def _respond(self, fault: Fault | None, path: str, query: str, body: bytes) -> _Response:
        if fault is not None and fault.status is not None:
            err = {"error": f"injected fault: status {fault.status}"}
            return _json_response(err, fault.status, dict(fault.headers))
        host = self.headers.get("Host") or self.server.authority
        headers = {name.lower(): value for name, value in self.headers.items()}
        return self.server.app(_Request(self.command, path, query, headers, body,
                                        f"http://{host}"))

    def _read_body(self) -> bytes:
        """Drain the request body (keep-alive needs it read), plain or chunked."""
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" not in self.headers.get("Transfer-Encoding", "").lower():
            return b""
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass  # trailers
        return b"".join(parts)

    def _send(self, response: _Response, fault: Fault | None, record: RequestRecord) -> None:
        """Write the answer, cut or slowed by `fault`; log `record` just before the client
        can have all of it (so a test that asserts on the log right after a call never races)."""
        log = self.server.owner.requests
        limit = fault.truncate_after if fault is not None else None
        planned = 0 if self.command == "HEAD" else response.length
        if limit is not None:
            planned = min(planned, limit)
        record = replace(record, bytes_sent=planned)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, _header_safe(value))
        self.send_header("Content-Length", str(response.length))
        logged = planned == 0
        if logged:
            log.append(record)
        sent = 0
        try:
            self.end_headers()
            for chunk in _chunks(response.body, planned, fault):
                if sent + len(chunk) >= planned:
                    log.append(record)
                    logged = True
                self.wfile.write(chunk)
                sent += len(chunk)
        except OSError:  # the client hung up
            self.close_connection = True
            actual = replace(record, bytes_sent=sent)
            if logged:
                log.replace(record, actual)
            else:
                log.append(actual)
        if self.command != "HEAD" and planned < response.length:
            self._drop()

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _chunks(body: bytes | _BlobSlice, limit: int, fault: Fault | None) -> Iterator[bytes]:
    """The first `limit` bytes of `body` in pieces, slowed down by `fault.chunk_delay`."""
    size = fault.chunk_size if fault is not None else _CHUNK
    delay = fault.chunk_delay if fault is not None else 0.0
    if isinstance(body, bytes):
        pieces: Iterator[bytes] = (body[i:i + size] for i in range(0, limit, size))
    else:
        pieces = _file_pieces(body, size)
    sent = 0
    for piece in pieces:
        piece = piece[: limit - sent]
        if not piece:
            return
        if delay and sent:
            time.sleep(delay)
        yield piece
        sent += len(piece)


def _file_pieces(body: _BlobSlice, size: int) -> Iterator[bytes]:
    with body.path.open("rb") as f:
        f.seek(body.start)
        left = body.length
        while left > 0 and (piece := f.read(min(size, left))):
            left -= len(piece)
            yield piece


class _OriginServer(ThreadingHTTPServer):
    """One origin (main or LFS): a threaded HTTP server that can close its idle connections."""

    daemon_threads = True
    block_on_close = False  # idle keep-alive threads must not block stop()

    def __init__(
        self, address: tuple[str, int], owner: HubServer, origin: Origin,
        app: Callable[[_Request], _Response],
    ) -> None:
        self.owner, self.origin, self.app = owner, origin, app
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        TCPServer.server_bind(self)  # HTTPServer's version does a slow reverse-DNS lookup
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    @property
    def authority(self) -> str:
        return f"{self.owner.host}:{self.server_address[1]}"

    def track(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._conn_lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._conn_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called by socketserver inside its `except`; clients hanging up mid-answer land here.
        logger.debug("test hub %s origin: error serving %s", self.origin, client_address,
                     exc_info=sys.exception())


class HubServer:
    """Serves a `LocalHub` as the Hub on `endpoint`, LFS blobs on `lfs_endpoint`.

    Use as a context manager or call `start()`/`stop()`. `faults` injects misbehaviour;
    `requests` logs what both origins served.
    """

    def __init__(
        self, hub: LocalHub, *, host: str = "127.0.0.1", port: int = 0, lfs_port: int = 0
    ) -> None:
        self.hub = hub
        self.host = "127.0.0.1" if host in ("", "0.0.0.0") else host
        self._bind_host, self._port, self._lfs_port = host, port, lfs_port
        self.faults = FaultSet()
        self.requests = RequestLog()
        self._app = _HubApp(hub, lambda: self.lfs_endpoint)
        self._servers: list[_OriginServer] = []

    @property
    def endpoint(self) -> str:
        return self._url(0)

    @property
    def lfs_endpoint(self) -> str:
        return self._url(1)

    def _url(self, which: int) -> str:
        if not self._servers:
            raise RuntimeError("HubServer is not started")
        return f"http://{self.host}:{self._servers[which].server_address[1]}"

    def start(self) -> Self:
        if self._servers:
            raise RuntimeError("HubServer already started")
        self._servers = [
            _OriginServer((self._bind_host, self._port), self, "main", self._app.main),
            _OriginServer((self._bind_host, self._lfs_port), self, "lfs", self._app.lfs),
        ]
        for server in self._servers:
            name = f"test-hub-{server.origin}"
            threading.Thread(target=server.serve_forever, args=(0.05,), name=name,
                             daemon=True).start()
        logger.debug("test hub serving %s on %s (LFS %s)", self.hub.root, self.endpoint,
                     self.lfs_endpoint)
        return self

    def stop(self) -> None:
        """Stop serving and close open connections. Idempotent."""
        servers, self._servers = self._servers, []
        for server in servers:
            server.shutdown()
            server.close_connections()
            server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# --------------------------------------------------------------------------------------------
# CLI for offline demos
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """`serve --root DIR [--port N]`: print the endpoint (first line), serve until stopped.
    `import --root DIR REPO FOLDER`: commit a folder's files as a dataset repo."""
    parser = argparse.ArgumentParser(prog="python -m pygestor.testing.hub",
                                     description="A Hugging Face Hub look-alike on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve an existing LocalHub root")
    serve.add_argument("--root", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--lfs-port", type=int, default=0)
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")
    imp = sub.add_parser("import", help="commit the files of a folder as a dataset repo")
    imp.add_argument("--root", type=Path, required=True)
    imp.add_argument("--revision", default="main")
    imp.add_argument("repo_id")
    imp.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "import":
        _say(LocalHub(args.root).import_folder(args.repo_id, args.folder, revision=args.revision))
        return 0
    if not (args.root / "datasets").is_dir():
        parser.error(f"{args.root} is not a LocalHub root (no datasets/ folder)")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    return _serve(LocalHub(args.root), args.host, args.port, args.lfs_port)


def _say(line: str) -> None:
    """CLI output: one line on stdout, flushed at once (a parent process reads it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _serve(hub: LocalHub, host: str, port: int, lfs_port: int) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with HubServer(hub, host=host, port=port, lfs_port=lfs_port) as srv:
        _say(srv.endpoint)
        _say(f"lfs {srv.lfs_endpoint}")
        for repo_id in hub.repos():
            _say(f"dataset {repo_id}")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The repository model of the test Hub: `LocalHub`, its records and its errors.

`LocalHub` is a small content-addressed, git-like store of dataset repos in a folder; `Commit`,
`FileEntry`, `RepoSettings` and `TreeIndex` are what it reads back. Standard library only.

Storage layout of one `LocalHub` root::

    root/
    ├── blobs/
    │   └── <sha256>                  file contents, one file per distinct content
    └── datasets/
        └── <owner>--<name>/          one folder per repo (`<name>/` for an id without owner;
            │                         Hub names never contain `--`, so this cannot collide)
            ├── repo.json             {"id", "private", "gated", "gateApi", "tokenSha256",
            │                          "createdAt"}
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
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

MIB = 1024 * 1024
#: Extensions (without the dot, lower case) stored as LFS files whatever their size.
DEFAULT_LFS_EXTENSIONS = frozenset(
    {
        "parquet",
        "arrow",
        "gz",
        "bz2",
        "xz",
        "zst",
        "zip",
        "tar",
        "tfrecord",
        "bin",
        "npy",
        "jpg",
        "png",
        "wav",
        "flac",
        "mp3",
    }
)
#: Files of this size or larger are LFS files whatever their extension.
LFS_SIZE_THRESHOLD = 10 * MIB

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
    if (
        not _REF_RE.fullmatch(name)
        or ".." in name
        or _COMMIT_RE.fullmatch(name)
        or any(not s or s.startswith(".") for s in segments)
    ):
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
                view = view[os.write(fd, view) :]
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
        self._raw_entries: dict[tuple[str, str], list[dict[str, Any]]] = {}

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
                settings = RepoSettings(
                    repo_id, private=private, gated=gated, created_at=commit.date
                )
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
                return self.commit(
                    repo_id, add=files, revision=revision, message=message, from_revision=None
                )
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

    def add_raw_entries(
        self,
        repo_id: str,
        entries: Iterable[Mapping[str, Any]],
        *,
        revision: str = "main",
        complete: bool = True,
    ) -> str:
        """Publish tree entries exactly as given in the tree listing of `revision`'s commit, after
        its real files: a hostile or broken Hub (paths with `..`, `%2e%2e`, backslashes or
        control characters, sizes that are null, text or negative, keys missing). A file entry
        needs at least `{"path": ...}`; with `complete`, `type`, `oid` and `size` default to
        "file", a made-up blob id and 1 (without it, the entries go out exactly as given).
        Their bytes are never served (a request for one is a 404, and shows in the request
        log). Kept in memory, for the life of this object; returns the commit id."""
        with self._lock:
            commit_id = self.head(repo_id, revision)
            extra = self._raw_entries.setdefault((repo_id, commit_id), [])
            for entry in entries:
                defaults = {"type": "file", "oid": "0" * 40, "size": 1} if complete else {}
                extra.append({**defaults, **entry})
            return commit_id

    def raw_entries(self, repo_id: str, commit_id: str) -> list[dict[str, Any]]:
        """The entries `add_raw_entries` published at `commit_id` (copies)."""
        with self._lock:
            return [dict(e) for e in self._raw_entries.get((repo_id, commit_id), [])]

    # -- reading ------------------------------------------------------------------------------

    def exists(self, repo_id: str) -> bool:
        try:
            return (self._repo_dir(repo_id) / "repo.json").is_file()
        except InvalidName:
            return False

    def repos(self) -> list[str]:
        """Ids of all repos, sorted."""
        folders = [d for d in (self.root / "datasets").iterdir() if not d.name.startswith(".")]
        return sorted(
            json.loads((d / "repo.json").read_text())["id"]
            for d in folders
            if (d / "repo.json").is_file()
        )

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
        candidates = (
            [revision]
            if revision.startswith("refs/")
            else [f"refs/heads/{revision}", f"refs/tags/{revision}"]
        )
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
        self,
        repo_dir: Path,
        parent: str | None,
        tree: dict[str, FileEntry],
        message: str,
        *,
        cache: bool = True,
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
            raise TypeError(
                f"{path!r}: content must be bytes or a Path, not {type(value).__name__}"
            )
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
    return {
        "id": s.repo_id,
        "private": s.private,
        "gated": s.gated,
        "gateApi": s.gate_api,
        "tokenSha256": s.token_sha256,
        "createdAt": s.created_at,
    }

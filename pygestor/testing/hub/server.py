"""The test Hub over HTTP: `HubServer`, its two origins and its endpoints.

`HubServer` serves a `LocalHub` the way the Hub answers `huggingface_hub` 2.4, so the real client
(never a mock) lists, resolves and downloads from it. Standard library only.

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
               LFS file:   302 to the LFS origin, X-Repo-Commit, X-Linked-Etag "<sha256>",
                           X-Linked-Size
    LFS origin (HubServer.lfs_endpoint), a second port: another origin, so the client drops
    the token
      HEAD|GET /lfs/{sha256}/{path}                                   the blob (206 with Range)

Errors answer JSON `{"error": message}` with `X-Error-Message` and, where the client needs it,
`X-Error-Code`: RepoNotFound, RevisionNotFound, EntryNotFound (404, with X-Repo-Commit) or
GatedRepo (401 without a token, 403 with a wrong one).
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, parse_qsl, quote, urlencode

from . import generated
from .faults import FaultSet, RequestLog
from .model import (
    MIB,
    Commit,
    EntryNotFound,
    FileEntry,
    GatedRepo,
    LocalHub,
    LocalHubError,
    RepoNotFound,
    TreeIndex,
    lfs_pointer,
)
from .transport import _OriginServer
from .wire import (
    _blob_response,
    _error_response,
    _json_response,
    _Request,
    _Response,
)

# The package's name, as when all of the test Hub was one module: log filters keep working.
logger = logging.getLogger("pygestor.testing.hub")

TREE_PAGE_SIZE = 1000
TREE_EXPAND_PAGE_SIZE = 50
COMMITS_PAGE_SIZE = 50


def _file_json(path: str, entry: FileEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "file",
        "oid": entry["blob_id"],
        "size": entry["size"],
        "path": path,
    }
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
        out["lfs"] = {"sha256": entry["sha256"], "size": entry["size"], "pointerSize": pointer_size}
    return out


def _commit_json(commit: Commit, formatted: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": commit.id,
        "title": commit.title,
        "message": commit.body,
        "date": commit.date,
        "authors": [{"user": "local", "avatar": None}],
    }
    if formatted:
        out["formatted"] = {"title": html.escape(commit.title), "message": html.escape(commit.body)}
    return out


def _refs_json(refs: Mapping[str, str], include_prs: bool) -> dict[str, Any]:
    kinds = {"heads": "branches", "tags": "tags", "convert": "converts", "pr": "pullRequests"}
    out: dict[str, list[dict[str, str]]] = {k: [] for k in kinds.values()}
    for ref, target in sorted(refs.items()):
        _, kind, name = ref.split("/", 2)
        bucket = kinds.get(kind, "branches")
        out[bucket].append(
            {"name": name if kind in kinds else ref, "ref": ref, "targetCommit": target}
        )
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
            raise RepoNotFound(
                f"this test hub serves dataset repos only (pass repo_type='dataset'): {req.path}"
            )
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
        blobs, expand = req.flag("blobs"), req.params.get("expand")
        gen = generated.lookup(self.hub, repo_id, commit.id)
        more = range(gen.n if gen and (not expand or "siblings" in expand) else 0)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": commit.id,
            "lastModified": commit.date,
            "createdAt": settings.created_at,
            "private": settings.private,
            "gated": "auto" if settings.gated else False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": [_sibling_json(p, e, blobs) for p, e in sorted(commit.tree.items())]
            + [gen.sibling_json(i, blobs) for i in more if gen],
            "usedStorage": sum(e["size"] for e in commit.tree.values())
            + sum(gen.size(i) for i in more if gen),
        }
        readme = commit.tree.get("README.md")
        if readme is not None and readme["size"] <= MIB:
            card = _card_data(self.hub.blob_path(readme["sha256"]))
            if card is not None:
                info["cardData"] = card
        if expand:
            info = {k: v for k, v in info.items() if k in {"_id", "id", *expand}}
        return _json_response(info)

    def _tree(self, req: _Request, repo_id: str, revision: str, folder: str) -> _Response:
        commit_id = self.hub.head(repo_id, revision)
        gen, start = generated.lookup(self.hub, repo_id, commit_id), self._cursor(req)
        if gen is not None:  # a generated listing: each page computed from its position
            size = TREE_EXPAND_PAGE_SIZE if req.flag("expand") else TREE_PAGE_SIZE
            total, pager = gen.tree(folder, recursive=req.flag("recursive"))
            last = self.hub.get_commit(repo_id, commit_id) if req.flag("expand") else None
            found = pager.page(start, size, last)
            return _json_response(found, headers=self._next_link(req, start + size, total))
        index = self.hub.index(repo_id, commit_id)
        if not index.is_dir(folder):
            what = "a file, not a folder" if folder in index.tree else "not found"
            raise EntryNotFound(f"{folder!r} is {what} in {repo_id!r}", commit=commit_id)
        expand = req.flag("expand")
        paths: list[str | dict[str, Any]] = [
            *index.listing(folder, recursive=req.flag("recursive"))
        ]
        if not folder:
            paths += self.hub.raw_entries(repo_id, commit_id)  # published as is (hostile Hubs)
        page_size = TREE_EXPAND_PAGE_SIZE if expand else TREE_PAGE_SIZE
        page = paths[start : start + page_size]
        entries = [
            p if isinstance(p, dict) else self._entry_json(repo_id, commit_id, index, p, expand)
            for p in page
        ]
        return _json_response(entries, headers=self._next_link(req, start + page_size, len(paths)))

    def _paths_info(self, req: _Request, repo_id: str, revision: str) -> _Response:
        form = parse_qs(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        commit_id = self.hub.head(repo_id, revision)
        index = self.hub.index(repo_id, commit_id)
        expand = req.flag("expand", form)
        wanted = [p.strip("/") for p in form.get("paths", [])]
        gen = generated.lookup(self.hub, repo_id, commit_id)
        found = [gen.entry_json(p) for p in dict.fromkeys(wanted) if p] if gen else []
        entries = [e for e in found if e] + [
            self._entry_json(repo_id, commit_id, index, p, expand)
            for p in dict.fromkeys(wanted)
            if p and (p in index.tree or index.is_dir(p))
        ]
        return _json_response(entries)

    def _commits(self, req: _Request, repo_id: str, revision: str) -> _Response:
        history = self.hub.log(repo_id, revision)
        start = self._cursor(req)
        formatted = "formatted" in req.params.get("expand[]", [])
        page = [_commit_json(c, formatted) for c in history[start : start + COMMITS_PAGE_SIZE]]
        return _json_response(
            page, headers=self._next_link(req, start + COMMITS_PAGE_SIZE, len(history))
        )

    def _resolve(self, req: _Request, repo_id: str, revision: str, path: str) -> _Response:
        self._authorize(req, repo_id, files=True)
        commit = self.hub.get_commit(repo_id, revision)
        entry = commit.tree.get(path)
        gen = generated.lookup(self.hub, repo_id, commit.id)
        if entry is None and gen is not None and gen.index(path) is not None:
            raise generated.no_bytes(repo_id, path, commit.id)
        if entry is None:
            raise EntryNotFound(
                f"{path!r} not found in {repo_id!r} at {revision!r}", commit=commit.id
            )
        headers = {"X-Repo-Commit": commit.id}
        if entry["lfs"]:
            location = f"{self._lfs_endpoint()}/lfs/{entry['sha256']}/{quote(path)}"
            headers |= {
                "Location": location,
                "X-Linked-Etag": f'"{entry["sha256"]}"',
                "X-Linked-Size": str(entry["size"]),
                "ETag": f'"{entry["sha256"]}"',
            }
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
            threading.Thread(
                target=server.serve_forever, args=(0.05,), name=name, daemon=True
            ).start()
        logger.debug(
            "test hub serving %s on %s (LFS %s)", self.hub.root, self.endpoint, self.lfs_endpoint
        )
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
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

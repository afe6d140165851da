"""Generated listings: a dataset repo of N files that exist only as arithmetic.

`GeneratedListing(n, subsets=k, seed=s)` describes `n` files laid out as
`<folder>/<subset>/part-<index>.parquet` over `k` subset folders (sizes of the subsets differ by at
most one), each with a size, a git oid and an LFS sha256 derived from the seed and the path: no
file on disk, nothing per file in memory, the same listing for the same arguments. `publish`
creates a repo for it in a `LocalHub`; `HubServer` then serves its tree listing (paged exactly
like the real tree API: 1,000 entries a page, folders included, `Link` to the next page),
`paths-info`, `dataset_info` (siblings computed only when asked for) and refs, so
`huggingface_hub` and pygestor list it through their real code paths. A million entries cost no
more memory than ten.

What it does not serve: bytes. A download of a generated file answers 501 with a message saying
so (the listed sha256 is a hash of the seed and the path, not of any content), which is what a
benchmark of listing, resolving and planning needs. Standard library only.
"""

from __future__ import annotations

import bisect
import hashlib
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .model import Commit, EntryNotFound, LocalHub, LocalHubError, lfs_pointer

_REGISTRY: weakref.WeakKeyDictionary[LocalHub, dict[tuple[str, str], GeneratedListing]] = (
    weakref.WeakKeyDictionary()
)


class NoGeneratedBytes(LocalHubError):
    """A download of a file that only a generated listing knows."""

    status = 501


@dataclass(frozen=True)
class GeneratedListing:
    """`n` files over `subsets` folders of `folder`, sizes in [min_size, max_size]."""

    n: int
    subsets: int = 1
    seed: int = 0
    folder: str = "data"
    min_size: int = 1_000
    max_size: int = 100_000

    def __post_init__(self) -> None:
        if self.n < 0 or self.subsets < 1 or not 0 <= self.min_size <= self.max_size:
            raise ValueError(f"a generated listing needs n >= 0, subsets >= 1 and sizes: {self}")
        if not self.folder or "/" in self.folder:
            raise ValueError(f"folder must be one path segment, not {self.folder!r}")

    def describe(self) -> str:
        return (
            f"{self.n} files in {self.subsets} subsets of {self.folder}/, seed {self.seed}, "
            f"sizes {self.min_size}-{self.max_size}"
        )

    # -- layout -----------------------------------------------------------------------------

    @cached_property
    def _width(self) -> tuple[int, int]:
        return len(str(max(self.subsets - 1, 0))), len(str(max(self.n - 1, 0)))

    @cached_property
    def _starts(self) -> list[int]:
        """Global index of the first file of each subset, and n at the end."""
        base, extra = divmod(self.n, self.subsets)
        starts = [0]
        for j in range(self.subsets):
            starts.append(starts[-1] + base + (j < extra))
        return starts

    def subset_name(self, j: int) -> str:
        return f"s{j:0{self._width[0]}d}"

    def subset_names(self) -> list[str]:
        return [self.subset_name(j) for j in range(self.subsets)]

    def subset_size(self, j: int) -> int:
        return self._starts[j + 1] - self._starts[j]

    def path(self, i: int) -> str:
        """Path of file `i` (0 <= i < n), in listing order."""
        j = bisect.bisect_right(self._starts, i) - 1
        return f"{self.folder}/{self.subset_name(j)}/part-{i:0{self._width[1]}d}.parquet"

    def index(self, path: str) -> int | None:
        """The `i` whose path is `path`, or None."""
        parts = path.split("/")
        if len(parts) != 3 or parts[0] != self.folder:
            return None
        name, digits = parts[2].removeprefix("part-"), self._width[1]
        raw = name.removesuffix(".parquet")
        if len(raw) != digits or not raw.isdigit() or not name.endswith(".parquet"):
            return None
        i = int(raw)
        return i if i < self.n and self.path(i) == path else None

    def size(self, i: int) -> int:
        spread = self.max_size - self.min_size + 1
        return self.min_size + (i * 2_654_435_761 + self.seed * 40_503) % spread

    def sha256(self, i: int) -> str:
        """Stands for the content's sha256 (a hash of the seed and the path)."""
        return hashlib.sha256(f"pygestor-generated:{self.seed}:{self.path(i)}".encode()).hexdigest()

    def files(self) -> Iterator[tuple[str, int, str]]:
        """(path, size, sha256) of every file, in listing order."""
        for i in range(self.n):
            yield self.path(i), self.size(i), self.sha256(i)

    # -- tree API -----------------------------------------------------------------------------

    def file_json(self, i: int) -> dict[str, Any]:
        size, sha = self.size(i), self.sha256(i)
        pointer = lfs_pointer(sha, size)
        oid = hashlib.sha1(b"blob %d\0" % len(pointer) + pointer).hexdigest()
        return {
            "type": "file",
            "oid": oid,
            "size": size,
            "path": self.path(i),
            "lfs": {"oid": sha, "size": size, "pointerSize": len(pointer)},
        }

    def sibling_json(self, i: int, blobs: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"rfilename": self.path(i)}
        if blobs:
            entry = self.file_json(i)
            out |= {"size": entry["size"], "blobId": entry["oid"]}
            lfs = entry["lfs"]
            out["lfs"] = {"sha256": lfs["oid"], "size": lfs["size"]}
            out["lfs"]["pointerSize"] = lfs["pointerSize"]
        return out

    def dir_json(self, path: str) -> dict[str, Any]:
        oid = hashlib.sha1(f"pygestor-generated-tree:{self.seed}:{path}".encode()).hexdigest()
        return {"type": "directory", "oid": oid, "path": path}

    def is_dir(self, path: str) -> bool:
        if path in ("", self.folder):
            return True
        head, _, name = path.partition("/")
        return head == self.folder and self._subset_index(name) is not None

    def _subset_index(self, name: str) -> int | None:
        raw = name.removeprefix("s")
        if name[:1] != "s" or len(raw) != self._width[0] or not raw.isdigit():
            return None
        j = int(raw)
        return j if j < self.subsets else None

    def tree(self, folder: str, *, recursive: bool) -> tuple[int, TreePager]:
        """(entries, pager) of the listing of `folder` ('' = root), in the Hub's order: each
        folder's sub-folders, then its files; recursively, a folder's contents follow it."""
        if not self.is_dir(folder):
            what = "a file" if self.index(folder) is not None else "not found"
            raise EntryNotFound(f"{folder!r} is {what} in a generated listing")
        pager = TreePager(self, folder, recursive)
        return pager.total, pager

    def entry_json(self, path: str) -> dict[str, Any] | None:
        """paths-info's entry for `path` (file or folder), or None."""
        i = self.index(path)
        if i is not None:
            return self.file_json(i)
        return self.dir_json(path) if path and self.is_dir(path) else None


class TreePager:
    """The entries of one listing of a `GeneratedListing`, a page at a time."""

    def __init__(self, gen: GeneratedListing, folder: str, recursive: bool) -> None:
        self.gen = gen
        # blocks: (first position, folder entry or None, first file, files); positions count
        # the folder entries that precede their files in a recursive listing
        self._blocks: list[tuple[int, str | None, int, int]] = []
        self._prefix: list[str] = []  # entries before the blocks
        if folder == "":
            self._prefix = [gen.folder]
            if not recursive:
                self.total = 1
                return
        if folder in ("", gen.folder):
            names = [f"{gen.folder}/{s}" for s in gen.subset_names()]
            if not recursive:
                self._prefix += names
            else:
                pos = len(self._prefix)
                for j, name in enumerate(names):
                    self._blocks.append((pos, name, gen._starts[j], gen.subset_size(j)))
                    pos += 1 + gen.subset_size(j)
        else:
            k = gen._subset_index(folder.partition("/")[2])
            assert k is not None
            self._blocks.append((len(self._prefix), None, gen._starts[k], gen.subset_size(k)))
        last = self._blocks[-1] if self._blocks else None
        self.total = (
            last[0] + (last[1] is not None) + last[3] if last is not None else len(self._prefix)
        )
        self._positions = [b[0] for b in self._blocks]

    def page(self, start: int, count: int, commit: Commit | None = None) -> list[dict[str, Any]]:
        """Entries `start` to `start + count` (fewer at the end). With `commit`, each entry
        gets `lastCommit` (what `expand=true` adds)."""
        out = [self._entry(pos) for pos in range(start, min(start + count, self.total))]
        if commit is not None:
            last = {"id": commit.id, "title": commit.title, "date": commit.date}
            for entry in out:
                entry["lastCommit"] = last
        return out

    def _entry(self, pos: int) -> dict[str, Any]:
        if pos < len(self._prefix):
            return self.gen.dir_json(self._prefix[pos])
        b = bisect.bisect_right(self._positions, pos) - 1
        first, folder, first_file, _ = self._blocks[b]
        offset = pos - first
        if folder is not None:
            if offset == 0:
                return self.gen.dir_json(folder)
            offset -= 1
        return self.gen.file_json(first_file + offset)


def publish(hub: LocalHub, repo_id: str, listing: GeneratedListing) -> str:
    """Create repo `repo_id` in `hub` whose branch main lists `listing` (and nothing else);
    return its commit id (derived from the listing's parameters). Served by every `HubServer`
    of this `hub` object (kept in memory: another process opening the same root does not see
    it)."""
    commit_id = hub.create_repo(repo_id, message=f"generated listing: {listing.describe()}")
    _REGISTRY.setdefault(hub, {})[(repo_id, commit_id)] = listing
    return commit_id


def lookup(hub: LocalHub, repo_id: str, commit_id: str) -> GeneratedListing | None:
    """The generated listing published at `commit_id` of `repo_id`, if any."""
    return _REGISTRY.get(hub, {}).get((repo_id, commit_id))


def no_bytes(repo_id: str, path: str, commit_id: str) -> NoGeneratedBytes:
    return NoGeneratedBytes(
        f"{path!r} of {repo_id!r} is an entry of a generated listing: the test Hub lists it but "
        "serves no bytes for it",
        commit=commit_id,
    )

"""Which partitions a call means, where their files are, and the state of each.

A `Selection` is what every data operation takes: the partitions the user chose (by subset and
partition names), resolved against the listing in force, each with its state and record, and
the storage its files are read from (the data directory, or for a `local:` source the source
folder itself, read in place). With layered data directories (`index.tiers`) each chosen
partition is read from the first tier where it is local, and downloaded to the personal one.

States are *derived* when read — the record (what was fetched) against the listing in force —
never written at sync (see docs/design.md):

    remote   listed, not local            stale    local, changed upstream since it was fetched
    local    listed, fetched, unchanged   gone     local, no longer listed upstream
    partial  a `.part` download exists (asked for with `check_partial`)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..errors import PartitionNotFound, SelectionError, SubsetNotFound
from ..manifest.models import Manifest
from ..resolve import Partition
from ..storage.base import Storage
from .columns import without_gc
from .records import Listing, Record, columns_of
from .store import Store

State = Literal["remote", "local", "stale", "gone", "partial"]
States = dict[tuple[str, str], tuple[State, "Record | None"]]
Placed = dict[tuple[str, str], tuple[State, "Record | None", int]]  # + index in `Store.tiers`


@dataclass(frozen=True)
class Selected:
    """One chosen partition, with its file: `file_key` in `storage`."""

    subset: str
    partition: Partition
    file_key: str  # in `storage`
    state: State
    record: Record | None
    # where the file is read from: the tier it is local in (the personal one, where it would be
    # downloaded, when it is not local), or a `local:` source's folder
    storage: Storage

    @property
    def key(self) -> str:
        """`subset/partition`, how messages and reports name it."""
        return f"{self.subset}/{self.partition.name}"


@dataclass(frozen=True)
class Selection:
    """Partitions of one dataset chosen by name, subset and partition names, in listing order."""

    dataset: str
    manifest: Manifest
    listing: Listing
    items: tuple[Selected, ...]
    storage: Storage  # the personal tier (downloads go there), or a `local:` source's folder

    @property
    def in_place(self) -> bool:
        """True for local-folder sources: files are read where they are, never copied."""
        return self.manifest.source.kind == "local"

    @property
    def subsets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.subset for item in self.items))

    def with_states(self, *states: State) -> tuple[Selected, ...]:
        return tuple(item for item in self.items if item.state in states)


def select(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    subset: str | Sequence[str] | None = None,
    *,
    partitions: Sequence[str] | None = None,
    all_subsets: bool = False,
    in_place: Storage | None = None,
) -> Selection:
    """Choose partitions of a synced dataset: one subset (or several, or all with `all_subsets`),
    optionally only the named partitions (`name` or `subset/name`). `in_place`: the storage of a
    `local:` source's folder, whose files are read where they are. `subset=None` on a dataset
    with several subsets is a SelectionError listing them."""
    name = manifest.name
    names = choose_subsets(name, [s.name for s in listing.subsets], subset, all_subsets)
    by_name = {s.name: s for s in listing.subsets}
    chosen = [by_name[n] for n in names]
    only = chosen[0].name if len(chosen) == 1 else None  # read one subset's records, not all
    found = placed(store, manifest, listing, subset=only, check_partial=True)
    tiers = [tier.storage for tier in store.tiers]
    items = []
    with without_gc():  # (100,000 items of a subset, no cycles among them)
        for s in chosen:
            for p in s.partitions:
                state, rec, tier = found[(s.name, p.name)]
                if in_place is not None:
                    items.append(Selected(s.name, p, p.file.path, state, rec, in_place))
                else:
                    key = f"{name}/{s.name}/{p.name}"
                    items.append(Selected(s.name, p, key, state, rec, tiers[tier]))
    if partitions is not None:
        picked = set(
            pick_partitions(name, [(i.subset, i.partition.name) for i in items], partitions)
        )
        items = [i for i in items if (i.subset, i.partition.name) in picked]
    return Selection(name, manifest, listing, tuple(items), in_place or store.storage)


def states(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    *,
    subset: str | None = None,
    check_partial: bool = False,
) -> States:
    """(state, record) for every partition of the listing (or of one subset), plus gone ones."""
    found = placed(store, manifest, listing, subset=subset, check_partial=check_partial)
    return {key: (state, rec) for key, (state, rec, _) in found.items()}


def placed(
    store: Store,
    manifest: Manifest,
    listing: Listing,
    *,
    subset: str | None = None,
    check_partial: bool = False,
    local: Sequence[dict[tuple[str, str], Record]] | None = None,
) -> Placed:
    """`states`, with the index (in `store.tiers`) of the tier each partition is read from: the
    first whose record matches the listing (local), else the first with any record (stale), else
    the personal tier (0), where a `.part` download (partial) would be. `local`: each tier's
    `local_records` of the dataset, when the caller has them already (not changed here).

    A subset no tier has a record of is all remote without a look at any record: its partitions
    cost a dict entry each (a subset of 100,000 never downloaded is one dict, not 100,000
    lookups), and its `.part` files one look at its folder (`partial_downloads`)."""
    name = manifest.name
    in_place = manifest.source.kind == "local"
    tiers: list[dict[tuple[str, str], Record]] = []  # each tier's records, taken as matched
    if not in_place and local is None:
        tiers = [t.local_records(name, subset) for t in store.tiers]
    elif not in_place and local is not None:
        tiers = [{k: r for k, r in t.items() if subset is None or k[0] == subset} for t in local]
    recorded = {s for tier in tiers for s, _ in tier}
    found: Placed = {}
    remote: list[tuple[str, str]] = []  # not local in any tier: perhaps partial
    for s in listing.subsets:
        if subset is not None and s.name != subset:
            continue
        if not in_place and s.name not in recorded:  # no record in any tier: all remote
            keys = [(s.name, n) for n in columns_of(s).names]
            found.update(dict.fromkeys(keys, _REMOTE))
            remote += keys
            continue
        for p in s.partitions:
            key = (s.name, p.name)
            if in_place:
                found[key] = ("local", None, 0)
                continue
            best: tuple[State, Record | None, int] | None = None
            for i, of_tier in enumerate(tiers):
                rec = of_tier.pop(key, None)
                if rec is None or (best is not None and best[0] == "local"):
                    continue
                if rec.matches(p.file):
                    best = ("local", rec, i)
                elif best is None:
                    best = ("stale", rec, i)
            if best is not None:
                found[key] = best
            else:
                found[key] = ("remote", None, 0)
                remote.append(key)
    if check_partial and remote:
        for key in partial_downloads(store, name, remote):
            found[key] = ("partial", None, 0)
    for i, of_tier in enumerate(tiers):
        for key, rec in of_tier.items():
            found.setdefault(key, ("gone", rec, i))
    return found


_REMOTE: tuple[State, None, int] = ("remote", None, 0)

#: up to this many partitions of a subset are checked for a `.part` file with a stat each; for
#: more, the subset's folder is walked once (a subset of 5,000 remote partitions: one listing)
PARTIAL_STATS = 64


def partial_downloads(
    store: Store, dataset: str, keys: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The (subset, partition) keys, among `keys`, that have a download in progress (a `.part`
    file in the personal tier)."""
    grouped: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        grouped.setdefault(key[0], []).append(key)
    found: list[tuple[str, str]] = []
    for subset, listed in grouped.items():
        folder = f"{dataset}/{subset}"
        if store.storage.info(folder) is None:  # never downloaded to: no `.part` in it
            continue
        parts = {store.listed_partial_key(dataset, s, p): (s, p) for s, p in listed}
        found += [parts[k] for k in _existing(store.storage, folder, parts)]
    return found


def _existing(storage: Storage, folder: str, keys: dict[str, tuple[str, str]]) -> list[str]:
    """Which of `keys` (files below `folder`) exist, as anything but a folder: a stat each when
    they are few, else one walk of `folder` (nothing when it does not exist), with a stat only
    for keys below a link to a folder (which the walk does not follow)."""

    def exists(key: str) -> bool:
        found = storage.info(key)
        return found is not None and found.kind != "dir"

    info = storage.info
    if len(keys) > PARTIAL_STATS:
        top = info(folder)
        if top is None:
            return []
        if top.kind == "dir":
            walked = set(storage.walk(folder))  # files, and links (to folders too)

            def unseen(key: str) -> bool:  # below a link (or a file) the walk yielded
                above = key.rpartition("/")[0]
                while above not in ("", folder):
                    if above in walked:
                        return True
                    above = above.rpartition("/")[0]
                return False

            return [k for k in keys if k in walked or (unseen(k) and exists(k))]
    return [k for k in keys if exists(k)]


def choose_subsets(
    name: str, known: Sequence[str], subset: str | Sequence[str] | None, all_subsets: bool
) -> list[str]:
    """The subset names chosen: `subset` (one or several), or every one with `all_subsets` (or
    when there is only one). Otherwise a SelectionError listing them; unknown names are errors."""
    if subset is None:
        if all_subsets or len(known) <= 1:
            return list(known)
        raise SelectionError(
            f"dataset {name!r} has {len(known)} subsets; choose one with subset= (CLI: -s SUBSET) "
            "or "
            f"all of them with all_subsets=True (CLI: --all): {', '.join(known[:10])}"
            f"{', ...' if len(known) > 10 else ''}"
        )
    wanted = [subset] if isinstance(subset, str) else list(subset)
    for want in wanted:
        if want not in known:
            raise SubsetNotFound(name, want, known)
    return list(dict.fromkeys(wanted))


def pick_partitions(
    name: str, keys: Sequence[tuple[str, str]], partitions: str | Sequence[str]
) -> list[tuple[str, str]]:
    """The (subset, partition) keys named in `partitions` (by partition name, or
    `subset/partition`), in the order of `keys`; an unknown name is a PartitionNotFound."""
    wanted = [partitions] if isinstance(partitions, str) else list(partitions)
    by_name: dict[str, list[tuple[str, str]]] = {}
    for key in keys:
        by_name.setdefault(key[1], []).append(key)
        by_name.setdefault(f"{key[0]}/{key[1]}", []).append(key)
    picked: set[tuple[str, str]] = set()
    for want in wanted:
        found = by_name.get(want)
        if not found:
            raise PartitionNotFound(name, want, sorted({p for _, p in keys}))
        picked.update(found)
    return [key for key in keys if key in picked]

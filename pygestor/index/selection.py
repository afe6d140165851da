"""Which partitions a call means, where their files are, and the state of each.

A `Selection` is what every data operation takes: the partitions the user chose (by subset and
partition names), resolved against the listing in force, each with its state and record, and
the storage its files are read from (the data directory, or for a `local:` source the source
folder itself, read in place).

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
from .records import Listing, Record
from .store import Store

State = Literal["remote", "local", "stale", "gone", "partial"]
States = dict[tuple[str, str], tuple[State, "Record | None"]]


@dataclass(frozen=True)
class Selected:
    """One chosen partition, with the key of its file in the selection's storage."""

    subset: str
    partition: Partition
    file_key: str  # in `Selection.storage`: the data dir, or the source folder for local sources
    state: State
    record: Record | None

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
    storage: Storage  # where the items' files are read from

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
    found = states(store, manifest, listing, subset=only, check_partial=True)
    items = []
    for s in chosen:
        for p in s.partitions:
            state, rec = found[(s.name, p.name)]
            key = p.file.path if in_place is not None else f"{name}/{s.name}/{p.name}"
            items.append(Selected(s.name, p, key, state, rec))
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
    name = manifest.name
    in_place = manifest.source.kind == "local"
    local = {} if in_place else store.local_records(name, subset)
    info = store.storage.info
    found: States = {}
    for s in listing.subsets:
        if subset is not None and s.name != subset:
            continue
        for p in s.partitions:
            rec = local.pop((s.name, p.name), None)
            if in_place:
                found[(s.name, p.name)] = ("local", None)
            elif rec is not None:
                found[(s.name, p.name)] = ("local" if rec.matches(p.file) else "stale", rec)
            elif check_partial and info(store.listed_partial_key(name, s.name, p.name)) is not None:
                found[(s.name, p.name)] = ("partial", None)
            else:
                found[(s.name, p.name)] = ("remote", None)
    for key, rec in local.items():
        found[key] = ("gone", rec)
    return found


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

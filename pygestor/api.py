"""`Catalog`: one object holding the settings and exposing every operation.

The CLI, the module-level functions of `pygestor` and (later) the web UI all call it. Listings
come in two flavours with the same keys: `*_records()` return lists of plain dicts (what `--json`
prints, no pandas needed) and `datasets()` / `subsets()` / `partitions()` return pandas DataFrames
with those keys as columns.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .catalog import Entry, Scan, add_entry, manifest_files, parse_file, scan
from .errors import (
    DatasetNotFound,
    ManifestError,
    NotSynced,
    PartitionNotFound,
    Problem,
    PygestorError,
    SelectionError,
    SubsetNotFound,
)
from .manifest import Manifest
from .resolve import Partition, resolve
from .settings import Settings
from .sources import open_source
from .store import Listing, Record, Store

if TYPE_CHECKING:
    import pandas as pd

    from .fetch import DownloadPlan, DownloadReport, ProgressCallback
    from .manage import RemovalPlan, RemovalReport, RepairReport
    from .reader import ArrowCopy
    from .scaffold.result import Scaffold

log = logging.getLogger(__name__)

DATASET_COLUMNS = (
    "name", "description", "modality", "source", "revision", "commit", "synced_at",
    "subsets", "partitions", "partitions_local", "bytes", "bytes_local",
)
SUBSET_COLUMNS = ("dataset", "subset", "partitions", "partitions_local", "bytes", "bytes_local", "rows",
                  "arrow_copy_bytes")
PARTITION_COLUMNS = ("dataset", "subset", "partition", "path", "size", "state", "rows", "sha256", "downloaded_at")

State = Literal["remote", "local", "stale", "gone", "partial"]


@dataclass(frozen=True)
class Validation:
    """The outcome of `validate`: every file looked at, every problem, and notes (shadowing)."""

    files: tuple[str, ...]
    problems: tuple[Problem, ...]
    notes: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "files": list(self.files), "problems": [asdict(p) for p in self.problems],
                "notes": list(self.notes)}


@dataclass(frozen=True)
class SyncResult:
    """What one dataset's sync found; `error` is set (and the rest empty) when it failed."""

    dataset: str
    source: str | None = None
    revision: str | None = None
    commit: str | None = None
    synced_at: str | None = None
    subsets: int = 0
    partitions: int = 0
    bytes: int = 0
    changed: bool = False  # the listing differs from the one in force before
    new: tuple[str, ...] = ()  # "subset/partition" not in the previous listing
    stale: tuple[str, ...] = ()  # local partitions whose upstream file changed
    gone: tuple[str, ...] = ()  # local partitions no longer upstream
    unmatched: tuple[str, ...] = ()
    empty_rules: tuple[str, ...] = ()  # patterns of rules that matched nothing
    skipped: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [{"path": p, "reason": r} for p, r in self.skipped]
        return data


@dataclass(frozen=True)
class Selected:
    """One partition chosen by `Catalog.select`, with where it is (or will be) on disk."""

    subset: str
    partition: Partition
    path: Path  # the local file: in the data dir, or in the source folder for local sources
    state: State
    record: Record | None

    @property
    def key(self) -> str:
        return f"{self.subset}/{self.partition.name}"


@dataclass(frozen=True)
class Selection:
    """Partitions of one dataset chosen by name, subset and partition names, in listing order."""

    dataset: str
    manifest: Manifest
    listing: Listing
    items: tuple[Selected, ...]

    @property
    def in_place(self) -> bool:
        """True for local-folder sources: files are read where they are, never copied."""
        return self.manifest.source.kind == "local"

    @property
    def subsets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(item.subset for item in self.items))

    def with_states(self, *states: State) -> tuple[Selected, ...]:
        return tuple(item for item in self.items if item.state in states)


@dataclass
class Catalog:
    """The catalog of datasets and the data directory they download to."""

    settings: Settings = field(default_factory=Settings.from_env)

    @classmethod
    def open(cls, *, data_dir: str | os.PathLike[str] | None = None,
             catalog: Sequence[str | os.PathLike[str]] = ()) -> Catalog:
        """A catalog with settings from arguments, then the environment, then the config file."""
        return cls(Settings.from_env(data_dir=data_dir, catalog=catalog))

    @functools.cached_property
    def store(self) -> Store:
        s = self.settings
        return Store(s.data_dir, lock_timeout=s.lock_timeout, file_mode=s.file_mode)

    # ---- the manifests ------------------------------------------------------------------
    def scan(self) -> Scan:
        builtin = self.settings.builtin_catalog_dir if self.settings.include_builtin else None
        return scan(self.settings.catalog_dirs, builtin=builtin)

    def entry(self, name: str, *, _scan: Scan | None = None) -> Entry:
        """The manifest entry named `name`; DatasetNotFound (with suggestions) or ManifestError."""
        result = _scan or self.scan()
        if name in result.entries:
            return result.entries[name]
        broken = [p for p in result.problems if _names_dataset(p, name)]
        if broken:
            raise ManifestError(broken)
        raise DatasetNotFound(name, sorted(result.entries))

    def manifest(self, name: str) -> Manifest:
        return self.entry(name).manifest

    def validate(self, paths: Sequence[str | os.PathLike[str]] | None = None, *,
                 resolve: bool = False) -> Validation:
        """Check manifests: the given files and folders, or every catalog folder. With `resolve`,
        also list each valid manifest's source (a dry-run sync: nothing is recorded) and report
        rules that match no file and sources that cannot be listed."""
        result, files, problems = self._validation_scan(paths)
        if resolve:
            for entry in result.entries.values():
                problems += self._resolve_problems(entry)
        return Validation(tuple(map(str, files)), tuple(problems + result.problems), tuple(result.notes))

    def _validation_scan(self, paths: Sequence[str | os.PathLike[str]] | None) -> tuple[Scan, list[Path], list[Problem]]:
        if not paths:
            result = self.scan()
            return result, result.files, []
        targets = [Path(p) for p in paths]
        problems = [Problem(str(p), None, "", "no such file or folder") for p in targets if not p.exists()]
        problems += [Problem(str(p), None, "", "no manifests (*.yaml, *.yml) in this folder; check the path")
                     for p in targets if p.is_dir() and not manifest_files([p])]
        files = manifest_files(p for p in targets if p.exists())
        result = Scan()
        for path in files:
            try:
                manifest = parse_file(path)
            except ManifestError as exc:
                problems += exc.problems
                continue
            add_entry(result, Entry(manifest, path, builtin=False))
        builtin = {p.stem: p for p in manifest_files([self.settings.builtin_catalog_dir])}
        for name, entry in sorted(result.entries.items()):
            if name in builtin and entry.path.resolve() != builtin[name].resolve():
                result.notes.append(f"{entry.path}: dataset {name!r} shadows the built-in {builtin[name]}")
        return result, files, problems

    def _resolve_problems(self, entry: Entry) -> list[Problem]:
        """Problems found by listing the source of a valid manifest (nothing is recorded)."""
        try:
            listing = self.fetch_listing(entry.manifest.name, _entry=entry)
        except PygestorError as exc:
            return [Problem(str(entry.path), _rule_line(entry.path, None), "source", str(exc))]
        return [Problem(str(entry.path), _rule_line(entry.path, i), f"subsets[{i}]",
                        f"matches no file of {listing.source} at {listing.commit or 'its current state'}; "
                        "check the pattern against the repository's files")
                for i in listing.empty_rules]

    # ---- sync ---------------------------------------------------------------------------
    def sync(
        self,
        names: str | Iterable[str] | None = None,
        *,
        on_error: Literal["raise", "collect"] = "raise",
        on_result: Callable[[SyncResult], None] | None = None,
    ) -> list[SyncResult]:
        """List each dataset's source, resolve its subsets and record them in the index.

        `names`: one name, several, or None for every dataset in the catalog. With
        `on_error="collect"` a failing dataset gives a result with `error` set instead of raising.
        """
        result = self.scan()
        wanted = [names] if isinstance(names, str) else list(names) if names is not None else sorted(result.entries)
        results = []
        for name in wanted:
            try:
                outcome = self._sync_one(self.entry(name, _scan=result))
            except PygestorError as exc:
                if on_error == "raise":
                    raise
                outcome = SyncResult(dataset=name, error=str(exc))
            if on_result is not None:
                on_result(outcome)
            results.append(outcome)
        return results

    def fetch_listing(self, name: str, *, _entry: Entry | None = None) -> Listing:
        """List the source now and resolve it, without recording anything (what sync would record)."""
        entry = _entry or self.entry(name)
        manifest = entry.manifest
        source = open_source(manifest.source, self.settings)
        log.info("listing %s for %s", source.describe(), manifest.name)
        try:
            files = source.list()
        except PygestorError as exc:
            raise type(exc)(f"{manifest.name} ({entry.path}): {exc}") from None
        resolution = resolve(manifest, files.files)
        return Listing.from_resolution(
            manifest.name, source.describe(), files.revision, files.commit, manifest.fingerprint(), resolution
        )

    def _sync_one(self, entry: Entry) -> SyncResult:
        manifest = entry.manifest
        listing = self.fetch_listing(manifest.name, _entry=entry)
        store = self.store
        previous = store.listing(manifest.name)
        pointer = store.save_listing(listing)
        return _sync_result(listing, previous, store.records(manifest.name), pointer.synced_at, manifest)

    def synced(self) -> list[str]:
        """Names of the catalog's datasets that have been synced into this data dir."""
        entries = self.scan().entries
        return [n for n in self.store.synced_datasets() if n in entries]

    def forget(self, name: str) -> bool:
        """Drop what sync recorded for `name` (downloaded files and their records stay)."""
        return self.store.forget(name)

    def add(self, repo: str, *, name: str | None = None, revision: str | None = None,
            output: str | os.PathLike[str] | None = None, force: bool = False) -> Scaffold:
        """Scaffold a manifest from a Hub dataset repo (`owner/name`, its URL, `hf://datasets/...`)
        and write it, by default to the user catalog folder as `<name>.yaml`. Returns what was
        inferred (`Scaffold.subsets`), what to review (`Scaffold.review`) and the file (`.path`)."""
        from .scaffold.build import add

        return add(self.settings, self.scan().entries, repo, name=name, revision=revision,
                   output=output, force=force)

    # ---- listings -----------------------------------------------------------------------
    def dataset_records(self) -> list[dict[str, Any]]:
        """One record per dataset of the catalog (see DATASET_COLUMNS)."""
        result = self.scan()
        for problem in result.problems:
            log.warning("skipping an invalid manifest: %s", problem)
        store = self.store
        return [self._dataset_record(store, result.entries[name]) for name in sorted(result.entries)]

    def _dataset_record(self, store: Store, entry: Entry) -> dict[str, Any]:
        m = entry.manifest
        pointer = store.pointer(m.name)
        record: dict[str, Any] = {
            "name": m.name, "description": m.description, "modality": list(m.modality),
            "source": open_source(m.source, self.settings).describe(), "revision": None, "commit": None,
            "synced_at": None, "subsets": None, "partitions": None, "partitions_local": 0,
            "bytes": None, "bytes_local": 0,
        }
        if pointer is None:
            return record
        record.update(revision=pointer.revision, commit=pointer.commit, synced_at=pointer.synced_at,
                      subsets=pointer.subsets, partitions=pointer.partitions, bytes=pointer.bytes)
        if m.source.kind == "local":
            record.update(partitions_local=pointer.partitions, bytes_local=pointer.bytes)
        else:
            local = store.local_records(m.name)
            record.update(partitions_local=len(local), bytes_local=sum(r.size for r in local.values()))
        return record

    def subset_records(self, name: str) -> list[dict[str, Any]]:
        """One record per subset of a synced dataset (see SUBSET_COLUMNS)."""
        from .reader import arrow_copy_bytes

        manifest, listing = self._synced(name)
        rows = []
        states = self._states(name, manifest, listing)
        for subset in listing.subsets:
            local = [states[(subset.name, p.name)] for p in subset.partitions]
            on_disk = [(p, st) for p, st in zip(subset.partitions, local, strict=True) if st[0] in ("local", "stale")]
            known_rows = [st[1].rows if st[1] else None for st in local]
            rows.append({
                "dataset": name, "subset": subset.name, "partitions": len(subset.partitions),
                "partitions_local": len(on_disk), "bytes": subset.size,
                "bytes_local": sum(p.file.size for p, _ in on_disk),
                "rows": sum(known_rows) if known_rows and None not in known_rows else None,  # type: ignore[arg-type]
                "arrow_copy_bytes": arrow_copy_bytes(self.store, name, subset.name),
            })
        return rows

    def partition_records(self, name: str, subset: str) -> list[dict[str, Any]]:
        """One record per partition of a subset (see PARTITION_COLUMNS), `gone` ones last."""
        manifest, listing = self._synced(name)
        found = listing.subset(subset)
        if found is None:
            known = [s.name for s in listing.subsets]
            raise SubsetNotFound(name, subset, known)
        states = self._states(name, manifest, listing, subset=subset, check_partial=True)
        rows = []
        for p in found.partitions:
            state, rec = states[(subset, p.name)]
            rows.append(_partition_row(name, subset, p.name, p.file.path, p.file.size, state, rec, p.file.sha256))
        for (s, pname), (state, rec) in sorted(states.items()):
            if s == subset and state == "gone" and rec is not None:
                rows.append(_partition_row(name, subset, pname, rec.path, rec.size, state, rec, rec.sha256))
        return rows

    def datasets(self) -> pd.DataFrame:
        """The catalog as a DataFrame, one row per dataset (columns: DATASET_COLUMNS)."""
        return _frame(self.dataset_records(), DATASET_COLUMNS)

    def subsets(self, name: str) -> pd.DataFrame:
        return _frame(self.subset_records(name), SUBSET_COLUMNS)

    def partitions(self, name: str, subset: str) -> pd.DataFrame:
        return _frame(self.partition_records(name, subset), PARTITION_COLUMNS)

    # ---- the data plane (each operation lives in its own module) ------------------------
    def plan_download(self, name: str, subset: str | Sequence[str] | None = None, *,
                      partitions: Sequence[str] | None = None, all_subsets: bool = False,
                      update: bool = False) -> DownloadPlan:
        """What a download would fetch (and what is already local), without fetching anything."""
        from .fetch import plan_download

        selection = self.select(name, subset, partitions=partitions, all_subsets=all_subsets)
        return plan_download(self, selection, update=update)

    def download(self, name: str, subset: str | Sequence[str] | None = None, *,
                 partitions: Sequence[str] | None = None, all_subsets: bool = False, update: bool = False,
                 workers: int | None = None, progress: ProgressCallback | None = None) -> DownloadReport:
        """Fetch the chosen partitions that are not local yet (and stale ones with `update`):
        in parallel, resumable, verified, atomic. Returns what was fetched."""
        plan = self.plan_download(name, subset, partitions=partitions, all_subsets=all_subsets, update=update)
        return plan.execute(workers=workers, progress=progress)

    # ---- maintenance (pygestor/manage.py) -----------------------------------------------
    def plan_remove(self, name: str, subset: str | Sequence[str] | None = None, *,
                    partitions: Sequence[str] | None = None, all_subsets: bool = False) -> RemovalPlan:
        """What removing local data would delete and free (a value; `.execute()` does it)."""
        from .manage import plan_remove

        return plan_remove(self, name, subset, partitions=partitions, all_subsets=all_subsets)

    def remove(self, name: str, subset: str | Sequence[str] | None = None, *,
               partitions: Sequence[str] | None = None, all_subsets: bool = False) -> RemovalReport:
        """Delete local data of a subset (or partitions, or every subset); the listing stays."""
        return self.plan_remove(name, subset, partitions=partitions, all_subsets=all_subsets).execute()

    def updates(self, name: str | None = None) -> list[dict[str, Any]]:
        """New, changed and deleted partitions upstream since the last sync/download; read-only."""
        from .manage import updates

        return updates(self, name)

    def verify(self, name: str, subset: str | None = None, *, workers: int | None = None) -> list[dict[str, Any]]:
        """Re-hash local files against their records: ok, missing or corrupt per partition."""
        from .manage import verify

        return verify(self, name, subset, workers=workers)

    def info(self, name: str, subset: str | None = None, *, head: int = 0) -> dict[str, Any]:
        """A dataset or subset: source, commit, sizes, rows, schema and `head` sample rows."""
        from .manage import info

        return info(self, name, subset, head=head)

    def repair(self, name: str, *, workers: int | None = None) -> RepairReport:
        """Rebuild the index of `name` from its source listing plus a rescan of the data dir."""
        from .manage import repair

        return repair(self, name, workers=workers)

    # ---- reading local data (pygestor/reader.py) -------------------------------------------
    def load(self, name: str, subset: str | Sequence[str] | None = None, *,
             partitions: Sequence[str] | None = None, columns: Sequence[str] | None = None,
             filters: Any = None, download: bool = True, output: Literal["pandas", "arrow"] = "pandas",
             dtypes: dict[str, str] | None = None, decode: dict[str, str] | None = None) -> Any:
        """One pandas DataFrame (or pyarrow Table) of the chosen partitions; see `pygestor.reader.load`."""
        from .reader import load

        return load(self, name, subset, partitions=partitions, columns=columns, filters=filters,
                    download=download, output=output, dtypes=dtypes, decode=decode)

    def stream(self, name: str, subset: str | Sequence[str] | None = None, *,
               partitions: Sequence[str] | None = None, columns: Sequence[str] | None = None,
               filters: Any = None, batch_size: int = 65_536, download: bool = True,
               output: Literal["pandas", "arrow"] = "pandas", dtypes: dict[str, str] | None = None,
               decode: dict[str, str] | None = None) -> Iterator[Any]:
        """DataFrames (or RecordBatches) of `batch_size` rows; see `pygestor.reader.stream`."""
        from .reader import stream

        return stream(self, name, subset, partitions=partitions, columns=columns, filters=filters,
                      batch_size=batch_size, download=download, output=output, dtypes=dtypes, decode=decode)

    def arrow_dataset(self, name: str, subset: str | Sequence[str] | None = None, *,
                      partitions: Sequence[str] | None = None) -> Any:
        """A pyarrow Dataset over the local partitions, unread: `pygestor.scan` (`Catalog.scan`
        already names the manifest scan); see `pygestor.reader.scan`."""
        from .reader import scan

        return scan(self, name, subset, partitions=partitions)

    def build_arrow_copy(self, name: str, subset: str) -> ArrowCopy:
        """Write the subset's local data as one memory-mappable Arrow file that `load` then uses."""
        from .reader import build_arrow_copy

        return build_arrow_copy(self, name, subset)

    def drop_arrow_copy(self, name: str, subset: str) -> bool:
        """Remove the subset's Arrow copy; True if there was one."""
        from .reader import drop_arrow_copy

        return drop_arrow_copy(self, name, subset)

    # ---- selecting partitions ----------------------------------------------------------
    def select(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
        sync: bool = True,
    ) -> Selection:
        """Choose partitions: one subset (or several, or all with `all_subsets`), optionally only
        the named partitions. A dataset never synced is synced first when `sync` is true.
        `subset=None` on a dataset with several subsets is an error listing them."""
        manifest = self.manifest(name)
        listing = self.store.listing(name)
        if listing is None:
            if not sync:
                raise NotSynced(name)
            self.sync(name)
            listing = self.store.listing(name)
            assert listing is not None
        names = choose_subsets(name, [s.name for s in listing.subsets], subset, all_subsets)
        by_name = {s.name: s for s in listing.subsets}
        chosen = [by_name[n] for n in names]
        only = chosen[0].name if len(chosen) == 1 else None  # read one subset's records, not all
        states = self._states(name, manifest, listing, subset=only, check_partial=True)
        folder = self._source_folder(manifest)
        items = []
        for s in chosen:
            subset_dir = self.store.subset_dir(name, s.name)
            for p in s.partitions:
                state, rec = states[(s.name, p.name)]
                path = folder.joinpath(*p.file.path.split("/")) if folder else subset_dir / p.name
                items.append(Selected(s.name, p, path, state, rec))
        if partitions is not None:
            picked = set(pick_partitions(name, [(i.subset, i.partition.name) for i in items], partitions))
            items = [i for i in items if (i.subset, i.partition.name) in picked]
        return Selection(name, manifest, listing, tuple(items))


    def _source_folder(self, manifest: Manifest) -> Path | None:
        if manifest.source.kind != "local":
            return None
        from .sources.local import LocalFolder

        return LocalFolder.from_spec(manifest.source).root  # type: ignore[arg-type]

    # ---- local state --------------------------------------------------------------------
    def _synced(self, name: str) -> tuple[Manifest, Listing]:
        manifest = self.manifest(name)
        listing = self.store.listing(name)
        if listing is None:
            raise NotSynced(name)
        return manifest, listing


    def _states(
        self, name: str, manifest: Manifest, listing: Listing, *, subset: str | None = None,
        check_partial: bool = False,
    ) -> dict[tuple[str, str], tuple[State, Record | None]]:
        """(state, record) for every partition of the listing (or one subset), plus gone ones."""
        in_place = manifest.source.kind == "local"
        store = self.store
        local = {} if in_place else store.local_records(name, subset)
        states: dict[tuple[str, str], tuple[State, Record | None]] = {}
        for s in listing.subsets:
            if subset is not None and s.name != subset:
                continue
            for p in s.partitions:
                rec = local.pop((s.name, p.name), None)
                if in_place:
                    states[(s.name, p.name)] = ("local", None)
                elif rec is not None:
                    states[(s.name, p.name)] = ("local" if rec.matches(p.file) else "stale", rec)
                elif check_partial and os.path.exists(store.partial_path_str(name, s.name, p.name)):
                    states[(s.name, p.name)] = ("partial", None)
                else:
                    states[(s.name, p.name)] = ("remote", None)
        for key, rec in local.items():
            states[key] = ("gone", rec)
        return states


def choose_subsets(name: str, known: Sequence[str], subset: str | Sequence[str] | None,
                   all_subsets: bool) -> list[str]:
    """The subset names chosen: `subset` (one or several), or every one with `all_subsets` (or
    when there is only one). Otherwise a SelectionError listing them; unknown names are errors."""
    if subset is None:
        if all_subsets or len(known) <= 1:
            return list(known)
        raise SelectionError(
            f"dataset {name!r} has {len(known)} subsets; choose one with subset= (CLI: -s SUBSET) or all of "
            f"them with all_subsets=True (CLI: --all): {', '.join(known[:10])}{', ...' if len(known) > 10 else ''}"
        )
    wanted = [subset] if isinstance(subset, str) else list(subset)
    for want in wanted:
        if want not in known:
            raise SubsetNotFound(name, want, known)
    return list(dict.fromkeys(wanted))


def pick_partitions(name: str, keys: Sequence[tuple[str, str]], partitions: str | Sequence[str]) -> list[tuple[str, str]]:
    """The (subset, partition) keys named in `partitions` (by partition name, or `subset/partition`),
    in the order of `keys`; an unknown name is a DatasetNotFound with suggestions."""
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


def _partition_row(dataset: str, subset: str, partition: str, path: str, size: int, state: str,
                   rec: Record | None, sha256: str | None) -> dict[str, Any]:
    return {"dataset": dataset, "subset": subset, "partition": partition, "path": path, "size": size,
            "state": state, "rows": rec.rows if rec else None, "sha256": sha256,
            "downloaded_at": rec.downloaded_at if rec else None}


def _sync_result(listing: Listing, previous: Listing | None, records: dict[tuple[str, str], Record],
                 synced_at: str, manifest: Manifest) -> SyncResult:
    current = {(s.name, p.name): p.file for s in listing.subsets for p in s.partitions}
    before = {(s.name, p.name) for s in previous.subsets for p in s.partitions} if previous else set(current)
    stale = sorted(k for k, rec in records.items() if k in current and not rec.matches(current[k]))
    gone = sorted(k for k in records if k not in current)
    changed = previous is None or previous.to_json() != listing.to_json()
    return SyncResult(
        dataset=listing.dataset, source=listing.source, revision=listing.revision, commit=listing.commit,
        synced_at=synced_at, subsets=len(listing.subsets), partitions=listing.partition_count,
        bytes=listing.size, changed=changed,
        new=tuple(f"{s}/{p}" for s, p in sorted(set(current) - before)),
        stale=tuple(f"{s}/{p}" for s, p in stale), gone=tuple(f"{s}/{p}" for s, p in gone),
        unmatched=listing.unmatched,
        empty_rules=tuple(_rule_text(manifest, i) for i in listing.empty_rules),
        skipped=listing.skipped,
    )


def _rule_line(path: Path, index: int | None) -> int | None:
    """The line of `source:` (index None) or of the index-th subset rule in a manifest file."""
    import yaml

    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError):
        return None
    key = "source" if index is None else "subsets"
    for k, v in getattr(node, "value", []):
        if k.value == key:
            target = v if index is None else v.value[index]
            return int(target.start_mark.line) + 1
    return None


def _rule_text(manifest: Manifest, index: int) -> str:
    files = manifest.subsets[index].files
    return f"subsets[{index}]: " + (files if isinstance(files, str) else ", ".join(files))


def _names_dataset(problem: Problem, name: str) -> bool:
    return Path(problem.file).stem == name


def _frame(records: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(records, columns=list(columns))

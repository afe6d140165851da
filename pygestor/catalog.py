"""`Catalog`: the facade. It holds the settings and wires them to the operations.

The CLI, the package functions of `pygestor` and (later) the web UI call it; it opens what each
operation takes — the manifest, the index (`Store` over the data directory's storage), the
source, a `Selection` — and hands them over. Every rule lives in the operation's own module:

    manifest.discovery   which manifests exist           index.sync     list a source, record it
    index.views          the listings shown              index.selection  which partitions a call
    means
    fetch                downloads                       read.*         load, stream, scan, Arrow
    copy, info
    maintain.*           remove, updates, verify, repair scaffold.*     `add`

Layered data directories (`Settings.data_dirs`, see `pygestor.index.tiers`): `store` is the
personal tier, written to; its `lower` stores are the read-only shared tiers, read in order.
Every command that writes checks first that the personal tier is writable, and a refusal met
anyway becomes one `ReadOnlyDataDir` line.

Listings come in two flavours with the same keys: `*_records()` return lists of plain dicts
(what `--json` prints, no pandas needed) and `datasets()` / `subsets()` / `partitions()` return
pandas DataFrames with those keys as columns.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .errors import (
    DatasetNotFound,
    ManifestError,
    NotSynced,
    Problem,
    PygestorError,
    SelectionError,
    SubsetNotFound,
)
from .index import sync as syncing
from .index import tiers
from .index.records import Listing
from .index.selection import Selection, select
from .index.store import Store
from .index.sync import SyncResult
from .index.views import DATASET_COLUMNS, PARTITION_COLUMNS, SUBSET_COLUMNS
from .manifest.discovery import (
    Discovery,
    Entry,
    Validation,
    discover,
    discover_paths,
    rule_line,
)
from .manifest.models import Manifest
from .manifest.patterns import is_safe_relpath
from .settings import Settings
from .sources import open_source

if TYPE_CHECKING:
    import threading
    from pathlib import Path

    import pandas as pd

    from .fetch import DownloadPlan, DownloadReport, ProgressCallback
    from .maintain.remove import RemovalPlan, RemovalReport
    from .maintain.repair import RepairReport
    from .read.arrow_copy import ArrowCopy
    from .scaffold.result import Scaffold
    from .sources.base import Fetcher
    from .storage.base import Storage

log = logging.getLogger(__name__)

__all__ = [
    "DATASET_COLUMNS",
    "PARTITION_COLUMNS",
    "SUBSET_COLUMNS",
    "Catalog",
    "Selection",
    "SyncResult",
    "Validation",
]


@dataclass
class Catalog:
    """The catalog of datasets and the data directory they download to."""

    settings: Settings = field(default_factory=Settings.from_env)

    @classmethod
    def open(
        cls,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        catalog: Sequence[str | os.PathLike[str]] = (),
    ) -> Catalog:
        """A catalog with settings from arguments, then the environment, then the config file."""
        return cls(Settings.from_env(data_dir=data_dir, catalog=catalog))

    @functools.cached_property
    def storage(self) -> Storage:
        """The (personal) data directory's storage, the one written to: a local or NFS folder,
        or an object store (`Settings.data_url`); see `pygestor.storage`."""
        if self.settings.data_url is not None:
            from .storage.s3 import S3Storage

            url, options = self.settings.data_url, dict(self.settings.storage_options)
            try:
                return S3Storage(url, storage_options=options)
            except ValueError as exc:  # storage_options of the config file: one line, not a trace
                raise PygestorError(f"data directory {url}: {exc}") from None
        from .storage.local import LocalStorage

        return LocalStorage(self.settings.data_dir, file_mode=self.settings.file_mode)

    @functools.cached_property
    def store(self) -> Store:
        """The index of the data directory, with the read-only shared tiers below it (`lower`)."""
        from .storage.local import LocalStorage

        timeout = self.settings.lock_timeout
        lower = tuple(
            Store(LocalStorage(d), lock_timeout=timeout) for d in self.settings.shared_data_dirs
        )
        return Store(self.storage, lock_timeout=timeout, lower=lower)

    # ---- the manifests ------------------------------------------------------------------
    def discover(self) -> Discovery:
        """One pass over the catalog folders: every valid manifest, every problem, every note."""
        return discover(self.settings.catalog_dirs, builtin=self._builtin())

    def _builtin(self) -> Path | None:
        return self.settings.builtin_catalog_dir if self.settings.include_builtin else None

    def entry(self, name: str, *, _found: Discovery | None = None) -> Entry:
        """The manifest entry named `name`; DatasetNotFound (with suggestions) or ManifestError.
        Only the files that may define `name` are parsed (`discover(..., name=)`), unless it is not
        found: then every file is, for the suggestions."""
        if _found is None:
            narrow = discover(self.settings.catalog_dirs, builtin=self._builtin(), name=name)
            if name in narrow.entries:
                return narrow.entries[name]
        result = _found or self.discover()
        if name in result.entries:
            return result.entries[name]
        broken = [
            p for p in result.problems if os.path.splitext(os.path.basename(p.file))[0] == name
        ]
        if broken:
            raise ManifestError(broken)
        raise DatasetNotFound(name, sorted(result.entries))

    def manifest(self, name: str) -> Manifest:
        return self.entry(name).manifest

    def validate(
        self, paths: Sequence[str | os.PathLike[str]] | None = None, *, resolve: bool = False
    ) -> Validation:
        """Check manifests: the given files and folders, or every catalog folder. With `resolve`,
        also list each valid manifest's source (a dry-run sync: nothing is recorded) and report
        rules that match no file and sources that cannot be listed."""
        if paths:
            result, files, problems = discover_paths(
                paths, builtin=self.settings.builtin_catalog_dir
            )
        else:
            result = self.discover()
            files, problems = result.files, []
        if resolve:
            for entry in result.entries.values():
                problems += self._resolve_problems(entry)
        return Validation(
            tuple(map(str, files)), tuple(problems + result.problems), tuple(result.notes)
        )

    def _resolve_problems(self, entry: Entry) -> list[Problem]:
        """Problems found by listing the source of a valid manifest (nothing is recorded), and
        default `load.columns` that one file of a subset lacks."""
        from .read.schema_check import default_column_problems

        source = open_source(entry.manifest.source, self.settings)
        try:
            listing = syncing.list_source(entry.manifest, source, where=str(entry.path))
        except PygestorError as exc:
            return [Problem(str(entry.path), rule_line(entry.path, None), "source", str(exc))]
        columns = default_column_problems(entry.path, entry.manifest, listing, self.store, source)
        return columns + [
            Problem(
                str(entry.path),
                rule_line(entry.path, i),
                f"subsets[{i}]",
                f"matches no file of {listing.source} at {listing.commit or 'its current state'}; "
                "check the pattern against the repository's files",
            )
            for i in listing.empty_rules
        ]

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
        found = self.discover()
        wanted = (
            [names]
            if isinstance(names, str)
            else list(names)
            if names is not None
            else sorted(found.entries)
        )
        results = []
        if wanted:
            tiers.require_writable(self.store, "sync")
        for name in wanted:
            try:
                entry = self.entry(name, _found=found)
                listing = self._list_source(entry)
                with tiers.writes(self.store, "sync"):
                    outcome = syncing.record(self.store, entry.manifest, listing)
            except PygestorError as exc:
                if on_error == "raise":
                    raise
                outcome = SyncResult(dataset=name, error=str(exc))
            if on_result is not None:
                on_result(outcome)
            results.append(outcome)
        return results

    def fetch_listing(self, name: str) -> Listing:
        """List the source now and resolve it, without recording anything (what sync would
        record)."""
        return self._list_source(self.entry(name))

    def _list_source(self, entry: Entry) -> Listing:
        source = open_source(entry.manifest.source, self.settings)
        return syncing.list_source(entry.manifest, source, where=str(entry.path))

    def synced(self) -> list[str]:
        """Names of the catalog's datasets that have been synced into this data dir (or into
        one of its shared tiers)."""
        entries = self.discover().entries
        return [n for n in tiers.synced_datasets(self.store) if n in entries]

    def forget(self, name: str) -> bool:
        """Drop what sync recorded for `name` in the personal tier (downloaded files and their
        records stay; shared tiers are never written)."""
        with tiers.writes(self.store, "forget", check=True):
            return self.store.forget(name)

    def add(
        self,
        repo: str,
        *,
        name: str | None = None,
        revision: str | None = None,
        output: str | os.PathLike[str] | None = None,
        force: bool = False,
    ) -> Scaffold:
        """Scaffold a manifest from a Hub dataset repo (`owner/name`, its URL, `hf://datasets/...`)
        and write it, by default to the user catalog folder as `<name>.yaml`. Returns what was
        inferred (`Scaffold.subsets`), what to review (`Scaffold.review`) and the file (`.path`)."""
        from .scaffold.build import add

        return add(
            self.settings,
            self.discover().entries,
            repo,
            name=name,
            revision=revision,
            output=output,
            force=force,
        )

    # ---- curating manifests (pygestor/manifest/edit.py) -----------------------------------
    def manifest_file(self, name: str) -> dict[str, Any]:
        """`{name, path, text, builtin, editable, sha256}` of the manifest file of `name`."""
        from .manifest.edit import manifest_file

        return manifest_file(self.entry(name))

    def edit_manifest(
        self, name: str, changes: Mapping[str, Any], *, expected_sha256: str | None = None
    ) -> dict[str, Any]:
        """Set description, modality, tags or license in a user manifest's file, in place."""
        from .manifest.edit import edit

        folder = self.settings.user_catalog_dir
        entry = self.entry(name)
        return edit(entry, changes, expected_sha256=expected_sha256, user_folder=folder)

    def delete_manifest(self, name: str) -> str:
        """Delete a user manifest's file (the index stays: see `forget`); returns its path."""
        from .manifest.edit import delete

        return delete(self.entry(name), user_folder=self.settings.user_catalog_dir)

    def check_manifest(self, text: str, *, file: str = "<editor>") -> list[Problem]:
        """The problems `validate` would report for `text` as a file (a user-name clash too)."""
        from .manifest.edit import check_text

        return check_text(text, self.discover().entries, file=file)

    def propose(
        self, repo: str, *, name: str | None = None, revision: str | None = None
    ) -> Scaffold:
        """What `add` would write, unwritten; URLs of hosts but the Hub endpoint are refused."""
        from .scaffold.build import scaffold
        from .scaffold.refs import require_endpoint_host

        require_endpoint_host(repo, self.settings.hf_endpoint)
        return scaffold(repo, name=name, revision=revision, settings=self.settings)

    def save_manifest(self, text: str, *, overwrite: bool = False) -> dict[str, Any]:
        """Validate `text`, write it as `<user catalog>/<name>.yaml`; its `manifest_file`."""
        from .manifest.edit import save

        folder, entries = self.settings.user_catalog_dir, self.discover().entries
        return self.manifest_file(save(text, folder, entries, overwrite=overwrite).stem)

    # ---- listings -----------------------------------------------------------------------
    def dataset_records(self, *, found: Discovery | None = None) -> list[dict[str, Any]]:
        """One record per dataset of the catalog (see DATASET_COLUMNS); of `found`, a
        `discover()` the caller already made, when given."""
        from .index.views import dataset_records

        found = found or self.discover()
        for problem in found.problems:
            log.warning("skipping an invalid manifest: %s", problem)
        return dataset_records(
            self.store, [found.entries[n].manifest for n in sorted(found.entries)]
        )

    def subset_records(self, name: str, *, counts: bool = False) -> list[dict[str, Any]]:
        """One record per subset of a synced dataset (see SUBSET_COLUMNS); with `counts`, also
        its partitions per state (`states`) and its latest download (`downloaded_at`)."""
        from .index.views import subset_records

        manifest, listing = self._synced(name)
        return subset_records(self.store, manifest, listing, counts=counts)

    def partition_records(self, name: str, subset: str) -> list[dict[str, Any]]:
        """One record per partition of a subset (see PARTITION_COLUMNS), `gone` ones last."""
        from .index.views import partition_records

        manifest, listing = self._synced(name)
        self._require_subset(name, listing, subset)
        return partition_records(self.store, manifest, listing, subset)

    def datasets(self) -> pd.DataFrame:
        """The catalog as a DataFrame, one row per dataset (columns: DATASET_COLUMNS)."""
        return _frame(self.dataset_records(), DATASET_COLUMNS)

    def subsets(self, name: str) -> pd.DataFrame:
        return _frame(self.subset_records(name), SUBSET_COLUMNS)

    def partitions(self, name: str, subset: str) -> pd.DataFrame:
        return _frame(self.partition_records(name, subset), PARTITION_COLUMNS)

    # ---- downloads (pygestor/fetch.py) --------------------------------------------------
    def plan_download(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
        update: bool = False,
    ) -> DownloadPlan:
        """What a download would fetch (and what is already local), without fetching anything."""
        from .fetch import plan_download

        selection = self.select(name, subset, partitions=partitions, all_subsets=all_subsets)
        plan = plan_download(selection, self.store, self._fetcher(selection), update=update)
        if plan.fetch:  # nothing to fetch (all local, in any tier) needs no write access
            tiers.require_writable(self.store, "download")
        return plan

    def download(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
        update: bool = False,
        workers: int | None = None,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> DownloadReport:
        """Fetch the chosen partitions that are not local yet (and stale ones with `update`):
        in parallel, resumable, verified, atomic. Returns what was fetched. `cancel`, set from
        any thread, stops it as Ctrl-C does (DownloadInterrupted; partial files kept)."""
        plan = self.plan_download(
            name, subset, partitions=partitions, all_subsets=all_subsets, update=update
        )
        with tiers.writes(self.store, "download"):
            return plan.execute(workers=workers, progress=progress, cancel=cancel)

    def writing(self, action: str) -> contextlib.AbstractContextManager[None]:
        """For running a plan made here (`plan_download(...).execute()`, `plan_remove`): a
        permission or read-only-mount error met writing the data dir becomes one
        `ReadOnlyDataDir` line naming it (`action`: what was being done, for the message)."""
        return tiers.writes(self.store, action)

    def _fetcher(self, selection: Selection) -> Fetcher | None:
        if selection.in_place:
            return None
        return open_source(selection.manifest.source, self.settings)  # type: ignore[return-value]

    # ---- maintenance (pygestor/maintain/) -----------------------------------------------
    def plan_remove(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
    ) -> RemovalPlan:
        """What removing local data would delete and free (a value; `.execute()` does it). Only
        the personal tier is touched: partitions local in a shared tier are kept and listed in
        `shared`."""
        from .maintain.remove import plan_remove

        manifest = self.manifest(name)
        plan = plan_remove(
            self.store, manifest, subset, partitions=partitions, all_subsets=all_subsets
        )
        if not plan.empty:
            tiers.require_writable(self.store, "remove")
        shared = self._shared_copies(manifest, plan.subsets, partitions)
        return replace(plan, shared=shared) if shared else plan

    def remove(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
    ) -> RemovalReport:
        """Delete local data of a subset (or partitions, or every subset); the listing stays."""
        plan = self.plan_remove(name, subset, partitions=partitions, all_subsets=all_subsets)
        with tiers.writes(self.store, "remove"):
            return plan.execute()

    def _shared_copies(
        self, manifest: Manifest, subsets: Sequence[str], partitions: Sequence[str] | None
    ) -> tuple[str, ...]:
        """`subset/partition` of the chosen ones that are local in a shared tier (never removed,
        whether or not the personal tier has a copy too)."""
        if not self.store.lower or manifest.source.kind == "local":
            return ()
        found: set[tuple[str, str]] = set()
        for tier in self.store.lower:
            found.update(tier.local_records(manifest.name))
        wanted = set(partitions or ())
        return tuple(
            f"{s}/{p}"
            for s, p in sorted(found)
            if s in subsets and (partitions is None or p in wanted or f"{s}/{p}" in wanted)
        )

    def updates(self, name: str | None = None) -> list[dict[str, Any]]:
        """New, changed and deleted partitions upstream since the last sync/download; read-only.
        `name=None` checks every synced dataset."""
        from .maintain.updates import updates

        rows: list[dict[str, Any]] = []
        for n in [name] if name is not None else self.synced():
            entry = self.entry(n)
            before = tiers.listing(self.store, n)
            if before is None:
                raise NotSynced(n)
            rows += updates(self.store, entry.manifest, before, self._list_source(entry))
        return rows

    def verify(
        self, name: str, subset: str | None = None, *, workers: int | None = None
    ) -> list[dict[str, Any]]:
        """Re-hash local files against their records: ok, missing or corrupt per partition."""
        from .maintain.verify import verify

        manifest = self.manifest(name)
        if subset is not None and ("/" in subset or not is_safe_relpath(subset)):
            raise SubsetNotFound(name, subset)
        if manifest.source.kind == "local":
            listing = self._listing(name, sync=False)
            selection = self._select(manifest, listing, subset, all_subsets=subset is None)
            return verify(self.store, name, subset, in_place=selection, workers=workers)
        if subset is not None and not any(t.records(name, subset) for t in self.store.tiers):
            recorded = tiers.listing(self.store, name)
            if recorded is None:
                raise SubsetNotFound(name, subset)
            self._require_subset(name, recorded, subset, sort=True)
        return verify(self.store, name, subset, workers=workers)

    def info(self, name: str, subset: str | None = None, *, head: int = 0) -> dict[str, Any]:
        """A dataset or subset: source, commit, sizes, rows, schema and `head` sample rows."""
        from .read.info import info

        if head < 0:
            raise SelectionError(f"head={head}: give a number of rows, 0 or more")
        manifest = self.manifest(name)
        listing = tiers.listing(self.store, name)
        if listing is None:
            if subset is not None:
                raise NotSynced(name)
            return info(self.store, manifest, None)
        if subset is not None:
            self._require_subset(name, listing, subset)

        def choose() -> Selection:
            return self._select(manifest, listing, subset, all_subsets=subset is None)

        return info(self.store, manifest, listing, subset, head=head, select=choose)

    def repair(self, name: str, *, workers: int | None = None) -> RepairReport:
        """Rebuild the index of `name` from its source listing plus a rescan of the data dir:
        unreadable index files go, the source is synced, the data folder rescanned."""
        from .maintain.repair import remove_damaged, repair

        entry = self.entry(name)
        with tiers.writes(self.store, "sync --repair", check=True):
            damaged = remove_damaged(self.store, name)
            listing = self._list_source(entry)
            syncing.record(self.store, entry.manifest, listing)  # the sync, for the entry above
            return repair(
                self.store, entry.manifest, listing, damaged_removed=damaged, workers=workers
            )

    # ---- reading local data (pygestor/read/) ----------------------------------------------
    def load(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        filters: Any = None,
        download: bool = True,
        output: Literal["pandas", "arrow"] = "pandas",
        dtypes: dict[str, str] | None = None,
        decode: dict[str, str] | None = None,
    ) -> Any:
        """One pandas DataFrame (or pyarrow Table) of the chosen partitions; with `download` what
        is not local is fetched first. See `pygestor.read.tables.load`."""
        from .read.options import check_output
        from .read.tables import load

        check_output(output)
        selection = self.readable(name, subset, partitions, download)
        return load(
            selection,
            self.store,
            columns=columns,
            filters=filters,
            download=download,
            output=output,
            dtypes=dtypes,
            decode=decode,
            whole_subset=partitions is None,
        )

    def stream(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        filters: Any = None,
        batch_size: int = 65_536,
        download: bool = True,
        output: Literal["pandas", "arrow"] = "pandas",
        dtypes: dict[str, str] | None = None,
        decode: dict[str, str] | None = None,
        prefetch: int = 2,
    ) -> Iterator[Any]:
        """DataFrames of `batch_size` rows (or zero-copy RecordBatches of at most `batch_size`),
        `prefetch` batches read ahead; see `pygestor.read.tables.stream`."""
        from .read.options import check_output
        from .read.tables import check_batch_size, check_prefetch, stream

        check_output(output)
        check_batch_size(batch_size)
        check_prefetch(prefetch)
        selection = self.readable(name, subset, partitions, download)
        return stream(
            selection,
            columns=columns,
            filters=filters,
            batch_size=batch_size,
            download=download,
            output=output,
            dtypes=dtypes,
            decode=decode,
            prefetch=prefetch,
        )

    def scan(
        self,
        name: str,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
    ) -> Any:
        """A pyarrow Dataset over the local partitions, unread (`pygestor.scan`); nothing is
        downloaded. See `pygestor.read.tables.scan`."""
        from .read.tables import scan

        return scan(self.select(name, subset, partitions=partitions))

    arrow_dataset = scan  # the name before 0.4 (when `Catalog.scan` was the manifest pass)

    def build_arrow_copy(self, name: str, subset: str) -> ArrowCopy:
        """Write the subset's local data as one memory-mappable Arrow file that `load` then uses."""
        from .read.arrow_copy import build_arrow_copy

        if not isinstance(subset, str):
            raise SelectionError(f"build_arrow_copy takes one subset name, not {subset!r}")
        selection = self.select(name, subset)
        with tiers.writes(self.store, "an Arrow copy", check=True):
            return build_arrow_copy(selection, self.store)

    def drop_arrow_copy(self, name: str, subset: str) -> bool:
        """Remove the subset's Arrow copy; True if there was one."""
        from .read.arrow_copy import drop_arrow_copy

        self.manifest(name)  # an unknown dataset is an error, not a silent False
        with tiers.writes(self.store, "drop_arrow_copy"):
            return drop_arrow_copy(self.store, name, subset)

    def schema(
        self, name: str, subset: str | None = None, partition: str | None = None
    ) -> dict[str, Any]:
        """One partition's parquet schema, local or by HTTP ranges (`pygestor.read.peek`)."""
        from .read.peek import schema

        selection = self._peeked(name, subset, partition)
        return schema(selection, self._fetcher(selection))

    def preview(
        self,
        name: str,
        subset: str | None = None,
        partition: str | None = None,
        *,
        rows: int = 10,
        columns: Sequence[str] | None = None,
        max_bytes: int = 4 * 2**20,
    ) -> dict[str, Any]:
        """One partition's first rows, without downloading it (`pygestor.read.peek`)."""
        from .read.peek import check_limits, preview

        check_limits(rows, max_bytes)
        selection = self._peeked(name, subset, partition)
        fetcher = self._fetcher(selection)
        return preview(selection, fetcher, rows=rows, columns=columns, max_bytes=max_bytes)

    def _peeked(self, name: str, subset: str | None, partition: str | None) -> Selection:
        """The one subset (and partition, if named) of a synced dataset a preview looks at."""
        for argument, value in (("subset", subset), ("partition", partition)):
            if value is not None and not isinstance(value, str):
                raise SelectionError(f"{argument}={value!r}: give one {argument} name")
        parts = None if partition is None else [partition]
        return self.select(name, subset, partitions=parts, sync=False)

    def readable(
        self,
        name: str,
        subset: str | Sequence[str] | None,
        partitions: Sequence[str] | None,
        download: bool,
    ) -> Selection:
        """The selection to read, after downloading what is missing when `download` (the missing
        partitions of this very selection, then their states read again)."""
        from .fetch import plan_download

        manifest = self.manifest(name)
        listing = self._listing(name, sync=True)
        selection = self._select(manifest, listing, subset, partitions=partitions)
        missing = selection.with_states("remote", "partial")
        if missing and download:
            action = (
                f"a load with download=True ({len(missing)} of {len(selection.items)} partitions "
                f"of {name} are not local; download=False reads the local ones)"
            )
            wanted = replace(selection, items=missing)
            with tiers.writes(self.store, action, check=True):
                plan_download(wanted, self.store, self._fetcher(selection)).execute()
            selection = self._select(manifest, listing, subset, partitions=partitions)
        return selection

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
        listing = self._listing(name, sync=sync)
        return self._select(
            manifest, listing, subset, partitions=partitions, all_subsets=all_subsets
        )

    def _select(
        self,
        manifest: Manifest,
        listing: Listing,
        subset: str | Sequence[str] | None = None,
        *,
        partitions: Sequence[str] | None = None,
        all_subsets: bool = False,
    ) -> Selection:
        """`select` for a manifest and listing already read."""
        in_place = self._source_storage(manifest)
        return select(
            self.store,
            manifest,
            listing,
            subset,
            partitions=partitions,
            all_subsets=all_subsets,
            in_place=in_place,
        )

    def _listing(self, name: str, *, sync: bool) -> Listing:
        """The listing in force; a dataset never synced is synced first when `sync`, else
        NotSynced."""
        listing = tiers.listing(self.store, name)
        if listing is None:
            if not sync:
                raise NotSynced(name)
            tiers.require_writable(self.store, f"a first sync of {name} (before reading it)")
            self.sync(name)
            listing = self.store.listing(name)
            assert listing is not None
        return listing

    def _require_subset(
        self, name: str, listing: Listing, subset: str, *, sort: bool = False
    ) -> None:
        """SubsetNotFound (naming the subsets there are) unless `listing` has `subset`."""
        if listing.subset(subset) is None:
            known = [s.name for s in listing.subsets]
            raise SubsetNotFound(name, subset, sorted(known) if sort else known)

    def _source_storage(self, manifest: Manifest) -> Storage | None:
        """For a `local:` source, its folder as a storage its files are read from, in place."""
        if manifest.source.kind != "local":
            return None
        from .storage.local import LocalStorage

        return LocalStorage(manifest.source.folder)  # type: ignore[union-attr]

    def _synced(self, name: str) -> tuple[Manifest, Listing]:
        manifest = self.manifest(name)
        return manifest, self._listing(name, sync=False)


def _frame(records: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame.from_records(records, columns=list(columns))

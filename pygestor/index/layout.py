"""Where every file of a data directory goes: the keys of `Store` (its module docstring draws
the tree). Pure string work over checked names; nothing here reads or writes."""

from __future__ import annotations

from pathlib import Path

from ..errors import PygestorError
from ..manifest.patterns import is_safe_relpath
from ..storage.base import Storage

INDEX = ".pygestor"  # the index folder's key (nothing of this name is a dataset)


class Layout:
    """The keys (and local paths) of a data directory's files; `Store` builds on it."""

    storage: Storage

    def dataset_index_key(self, dataset: str) -> str:
        _require_safe(dataset)
        return f"{INDEX}/datasets/{dataset}"

    def data_key(self, dataset: str, subset: str, partition: str) -> str:
        """Where a partition's file lives; every part is checked so nothing escapes the data dir."""
        for part in (dataset, subset, partition):
            _require_safe(part)
        return f"{dataset}/{subset}/{partition}"

    def subset_key(self, dataset: str, subset: str) -> str:
        """The folder of a subset's files (partition names are safe relative paths below it)."""
        _require_safe(dataset)
        _require_safe(subset)
        return f"{dataset}/{subset}"

    def partial_key(self, dataset: str, subset: str, partition: str) -> str:
        """The temporary file of a download in progress (a hidden name no partition can have)."""
        folder, _, name = self.data_key(dataset, subset, partition).rpartition("/")
        return f"{folder}/.{name}.part"

    def listed_partial_key(self, dataset: str, subset: str, partition: str) -> str:
        """`partial_key` for names taken from a listing (checked when it was resolved): no check
        again, since listings ask it once per remote partition."""
        folder, _, name = f"{dataset}/{subset}/{partition}".rpartition("/")
        return f"{folder}/.{name}.part"

    def arrow_copy_key(self, dataset: str, subset: str) -> str:
        """The opt-in memory-mapped Arrow copy of a subset (see `pygestor.read.arrow_copy`)."""
        _require_safe(subset)
        return f"{self.dataset_index_key(dataset)}/arrow/{subset}.arrow"

    def partition_lock_key(self, dataset: str, subset: str, partition: str) -> str:
        """The lock a process holds while it downloads (or removes) one partition."""
        _require_safe(subset)
        _require_safe(partition)
        return f"{self.dataset_index_key(dataset)}/locks/{subset}/{partition}.lock"

    def record_key(self, dataset: str, subset: str, partition: str) -> str:
        _require_safe(subset)
        _require_safe(partition)
        return f"{self.dataset_index_key(dataset)}/records/{subset}/{partition}.json"

    # local paths of the same files, for values shown to people (plans, reports, Arrow copies)
    def data_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.data_key(dataset, subset, partition))

    def subset_dir(self, dataset: str, subset: str) -> Path:
        return self.storage.local_path(self.subset_key(dataset, subset))

    def partial_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.partial_key(dataset, subset, partition))

    def arrow_copy_path(self, dataset: str, subset: str) -> Path:
        return self.storage.local_path(self.arrow_copy_key(dataset, subset))

    def partition_lock_path(self, dataset: str, subset: str, partition: str) -> Path:
        return self.storage.local_path(self.partition_lock_key(dataset, subset, partition))

    def listing_key(self, dataset: str, listing_id: str) -> str:
        return f"{self.dataset_index_key(dataset)}/listings/{listing_id}.json"

    def subset_file_key(self, dataset: str, file_id: str) -> str:
        """Where the partitions of one subset of a listing are (`SubsetFile`, by content)."""
        return f"{self.dataset_index_key(dataset)}/partitions/{file_id}.json"

    def segments_key(self, dataset: str, subset: str) -> str:
        """The folder of a subset's segments of records (`segments.py`)."""
        _require_safe(subset)
        return f"{self.dataset_index_key(dataset)}/segments/{subset}"


def _require_safe(name: str) -> None:
    if not isinstance(name, str) or not is_safe_relpath(name):
        raise PygestorError(f"{name!r} is not a safe name for a file or folder")

"""`pygestor.torch_dataset`: sharding by rank and DataLoader worker (real worker processes),
deterministic shuffles, even per-rank counts, exact resume with torchdata's StatefulDataLoader,
and resume with another world size, over parquet files of uneven row groups."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from torch.utils.data import DataLoader
from torchdata.stateful_dataloader import StatefulDataLoader

import pygestor
from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import PygestorError, SelectionError
from pygestor.read.torch_data import TorchDataset, torch_dataset
from pygestor.read.units import require

# (rows, row group size) of each file: uneven files, uneven row groups, a one-row file
FILES = [(37, 10), (1, 1), (101, 33), (8, 3), (54, 54)]
N = sum(rows for rows, _ in FILES)  # 201


def _catalog(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Catalog:
    """A `local:` dataset `toy` (subset `train`) of the FILES, ids 0..N-1 in file order."""
    src = tmp_path / "src" / "train"
    src.mkdir(parents=True)
    first = 0
    for i, (rows, group) in enumerate(FILES):
        ids = list(range(first, first + rows))
        table = pa.table({"id": ids, "text": [f"row-{n}" for n in ids], "n": [n % 7 for n in ids]})
        pq.write_table(table, src / f"part-{i}.parquet", row_group_size=group)
        first += rows
    for name, data in (extra or {}).items():
        (src / name).write_bytes(data)
    write_manifest(
        tmp_path / "user-catalog",
        "toy",
        f"name: toy\nsource: {{local: {tmp_path / 'src'}}}\nsubsets:\n"
        '  - files: "{subset}/*"\nformat: parquet\nload:\n  columns: [id, text]\n',
    )
    return Catalog(make_settings(tmp_path, include_builtin=False))


def _dataset(catalog: Catalog, **options: Any) -> TorchDataset:
    return torch_dataset(catalog.readable("toy", "train", None, True), **options)


def _ids(loader: Any) -> list[int]:
    return [int(i) for batch in loader for i in batch["id"]]


def _run(catalog: Catalog, world: int, workers: int = 2, **options: Any) -> list[list[int]]:
    """Each rank's ids, read through a DataLoader with `workers` worker processes."""
    out = []
    for rank in range(world):
        ds = _dataset(catalog, rank=rank, world_size=world, **options)
        out.append(_ids(DataLoader(ds, batch_size=16, num_workers=workers)))
    return out


def test_two_ranks_two_workers_yield_every_row_once(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    for options in ({}, {"shuffle": True, "seed": 3, "buffer_size": 25}):
        ranks = _run(catalog, 2, even=None, **options)
        assert sorted(ranks[0] + ranks[1]) == list(range(N))
        assert [len(r) for r in ranks] == [100, 101]
    plain = _run(catalog, 1, workers=0, even=None)[0]
    assert plain == list(range(N))  # no shuffle, one process: the files' order


def test_rows_are_dicts_of_the_manifest_columns_and_pickle(tmp_path: Path) -> None:
    ds = _dataset(_catalog(tmp_path))
    rows = list(pickle.loads(pickle.dumps(ds)))
    assert rows[:2] == [{"id": 0, "text": "row-0"}, {"id": 1, "text": "row-1"}]
    assert len(rows) == N == ds.rows == ds.rank_rows
    # spawned workers get the dataset pickled: its filesystems and filter travel with it
    spawned = DataLoader(
        _dataset(_catalog(tmp_path / "b"), filters=[("n", "=", 3)], columns=["id"]),
        batch_size=50,
        num_workers=2,
        multiprocessing_context="spawn",
    )
    assert sorted(_ids(spawned)) == [i for i in range(N) if i % 7 == 3]


def test_shuffle_is_deterministic_per_seed_and_epoch(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)

    def order(seed: int, epoch: int) -> list[int]:
        ds = _dataset(catalog, shuffle=True, seed=seed, buffer_size=40)
        ds.set_epoch(epoch)
        return [row["id"] for row in ds]

    first = order(7, 0)
    assert first == order(7, 0) and sorted(first) == list(range(N))
    assert first != list(range(N))
    assert order(7, 1) != first and sorted(order(7, 1)) == list(range(N))
    assert order(8, 0) != first
    units_only = _dataset(catalog, shuffle=True, seed=7, buffer_size=0)
    ids = [row["id"] for row in units_only]
    runs = [ids[i:j] for i, j in zip([0, 10], [10, 20], strict=True)]  # whole row groups
    assert all(r == list(range(r[0], r[0] + len(r))) for r in runs)


def test_pad_and_drop_give_every_rank_the_same_count(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    padded = _run(catalog, 4, even="pad", shuffle=True, buffer_size=16)
    assert [len(r) for r in padded] == [51] * 4  # ceil(201 / 4)
    counts = Counter(i for r in padded for i in r)
    assert set(counts) == set(range(N)) and sum(counts.values()) - N == 3  # 3 rows twice
    dropped = _run(catalog, 4, even="drop")
    assert [len(r) for r in dropped] == [50] * 4
    flat = [i for r in dropped for i in r]
    assert len(set(flat)) == 200 and set(flat) <= set(range(N))
    assert _dataset(catalog, rank=1, world_size=4, even="drop").rank_rows == 50


def test_filters_count_the_rows_they_keep(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    kept = [i for i in range(N) if i % 7 in (1, 2)]  # 58 rows
    ranks = _run(catalog, 2, filters=[("n", "in", [1, 2])], even=None)
    assert sorted(ranks[0] + ranks[1]) == kept
    dropped = _run(catalog, 3, filters=[("n", "in", [1, 2])], even="drop")
    flat = [i for r in dropped for i in r]
    assert [len(r) for r in dropped] == [19] * 3 and len(set(flat)) == 57 and set(flat) < set(kept)


def _stateful(ds: TorchDataset, workers: int = 2) -> StatefulDataLoader:
    return StatefulDataLoader(ds, batch_size=8, num_workers=workers)


@pytest.mark.parametrize("workers", [2, 0])
def test_stateful_dataloader_resumes_exactly_with_the_shuffle_buffer(
    tmp_path: Path, workers: int
) -> None:
    catalog = _catalog(tmp_path)
    options = {"shuffle": True, "seed": 11, "buffer_size": 30, "rank": 1, "world_size": 2}
    whole = [b["id"].tolist() for b in _stateful(_dataset(catalog, **options), workers)]
    assert len(whole) > 6
    for stop in (1, 5):
        loader = _stateful(_dataset(catalog, **options), workers)
        taken = []
        for batch in loader:
            taken.append(batch["id"].tolist())
            if len(taken) == stop:
                break
        state = loader.state_dict()
        del loader
        resumed = _stateful(_dataset(catalog, **options), workers)
        resumed.load_state_dict(torch.load(_saved(tmp_path, state), weights_only=False))
        rest = [b["id"].tolist() for b in resumed]
        assert taken + rest == whole


def _saved(tmp_path: Path, state: dict[str, Any]) -> Path:
    path = tmp_path / "state.pt"
    torch.save(state, path)
    return path


def test_resume_with_another_world_size_covers_the_rest_once(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    options: dict[str, Any] = {"shuffle": True, "seed": 5, "buffer_size": 20, "even": None}
    seen: list[int] = []
    states = []
    for rank, stop in ((0, 3), (1, 7)):  # 2 ranks x 2 workers, stopped after 3 and 7 batches
        loader = _stateful(_dataset(catalog, rank=rank, world_size=2, **options))
        for step, batch in enumerate(loader, 1):
            seen += batch["id"].tolist()
            if step == stop:
                break
        states.append(loader.state_dict())
    assert len(seen) == 80 and len(set(seen)) == 80
    fresh = _dataset(catalog, **options)
    merged = fresh.merge_states(states)
    rest: list[int] = []
    for rank in range(3):  # 3 ranks x 1 worker now
        ds = _dataset(catalog, rank=rank, world_size=3, **options)
        ds.load_state_dict(merged)
        rest += _ids(DataLoader(ds, batch_size=8, num_workers=1))
    assert sorted(seen + rest) == list(range(N))
    with pytest.raises(SelectionError, match=r"no state of \(rank, worker\) \[\(1, 0\)"):
        fresh.merge_states(states[:1])


def test_the_dataset_alone_resumes_mid_window(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    options = {"shuffle": True, "seed": 2, "buffer_size": 50}
    whole = [row["id"] for row in _dataset(catalog, **options)]
    ds = _dataset(catalog, **options)
    it = iter(ds)
    head = [next(it)["id"] for _ in range(73)]
    again = _dataset(catalog, **options)
    again.load_state_dict(pickle.loads(pickle.dumps(ds.state_dict())))
    assert head + [row["id"] for row in again] == whole
    assert [row["id"] for row in again] == whole  # the state is used once: then a whole epoch


def test_a_state_of_another_rank_names_merge_states(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    ds = _dataset(catalog, rank=0, world_size=2)
    it = iter(ds)
    next(it)
    state = ds.state_dict()
    other = _dataset(catalog, rank=1, world_size=2)
    other.load_state_dict(state)
    with pytest.raises(SelectionError, match="rank 0 of 2, worker 0 of 1; this is rank 1 of 2"):
        iter(other)
    with pytest.raises(SelectionError, match="saved with seed=0, this dataset has 4"):
        _dataset(catalog, seed=4).load_state_dict(state)


def test_batches_as_arrow_or_pandas(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path)
    batches = list(_dataset(catalog, output="arrow", batch_size=64))
    assert [b.num_rows for b in batches] == [64, 64, 64, 9]
    assert pa.concat_tables(batches).column("id").to_pylist() == list(range(N))
    frames = list(_dataset(catalog, output="pandas", batch_size=100))
    assert [len(f) for f in frames] == [100, 100, 1] and list(frames[0].columns) == ["id", "text"]


def test_other_formats_are_refused_in_one_line(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, {"extra.jsonl.gz": b""})
    selection = catalog.readable("toy", "train", None, True)
    with pytest.raises(SelectionError, match=r"plain parquet partitions .*train/extra\.jsonl\.gz"):
        torch_dataset(selection)


def test_the_public_function_and_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _catalog(tmp_path)
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))
    ds = pygestor.torch_dataset("toy", "train", columns=["id"], rank=0, world_size=3)
    assert [row["id"] for row in ds] == list(range(67))
    with pytest.raises(PygestorError, match=r"pip install 'pygestor\[torch\]'"):
        require("torch_that_is_not_installed")

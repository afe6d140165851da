"""`pygestor.torch_dataset`: sharding by rank and DataLoader worker (real worker processes),
deterministic shuffles, even per-rank counts, exact resume with torchdata's StatefulDataLoader,
and resume with another world size, over parquet files of uneven row groups."""

from __future__ import annotations

import pickle
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader
from torchdata.stateful_dataloader import StatefulDataLoader

import pygestor
from conftest import make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import PygestorError, SelectionError
from pygestor.read import spans as sp
from pygestor.read.torch_data import TorchDataset, torch_dataset
from pygestor.read.units import require
from pygestor.testing.hub import HubServer

# (rows, row group size) of each file: uneven files, uneven row groups, a one-row file
FILES = [(37, 10), (1, 1), (101, 33), (8, 3), (54, 54)]
N = sum(rows for rows, _ in FILES)  # 201


def _catalog(tmp_path: Path, extra: dict[str, bytes] | None = None) -> Catalog:
    """A `local:` dataset `toy` (subset `train`) of the FILES, ids 0..N-1 in file order."""
    src = tmp_path / "src" / "train"
    src.mkdir(parents=True)
    first = 0
    for i, (rows, group) in enumerate(FILES):
        (src / f"part-{i}.parquet").write_bytes(_parquet_bytes(first, rows, group))
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


def _parquet_bytes(first: int, rows: int, group: int) -> bytes:
    ids = list(range(first, first + rows))
    table = pa.table({"id": ids, "text": [f"row-{n}" for n in ids], "n": [n % 7 for n in ids]})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, row_group_size=group)
    return bytes(sink.getvalue().to_pybytes())


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
        again = _dataset(catalog, **options)
        resumed = _stateful(again, workers)
        resumed.load_state_dict(torch.load(_saved(tmp_path, state), weights_only=False))
        rest = [b["id"].tolist() for b in resumed]
        assert taken + rest == whole
    # the next epoch after a resumed one is whole, the same as in a run never stopped
    fresh = _dataset(catalog, **options)
    fresh.set_epoch(1)
    again.set_epoch(1)
    assert _ids(resumed) == _ids(_stateful(fresh, workers)) != [i for b in whole for i in b]


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
    # padded: the rest once (no row any old worker yielded, a padded copy included), then pads
    options["even"] = "pad"
    seen, states = [], []
    for rank in range(2):
        loader = _stateful(_dataset(catalog, rank=rank, world_size=4, **options))
        for step, batch in enumerate(loader, 1):
            seen += batch["id"].tolist()
            if step == 6:  # rank 1 of 4 has 51 rows: its last batches wrap to the start
                break
        states.append(loader.state_dict())
    for rank in (2, 3):  # these ranks finished their epoch
        loader = _stateful(_dataset(catalog, rank=rank, world_size=4, **options))
        seen += _ids(loader)
        states.append(loader.state_dict())
    merged = fresh.merge_states(states)
    rest = []
    for rank in range(3):
        ds = _dataset(catalog, rank=rank, world_size=3, **options)
        ds.load_state_dict(merged)
        rest.append(_ids(DataLoader(ds, batch_size=8, num_workers=2)))
    assert len({len(r) for r in rest}) == 1
    flat = [i for r in rest for i in r]
    left = set(range(N)) - set(seen)
    assert set(flat) == left and len(flat) - len(left) < 3
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
    assert again.state_dict()["done"] == N
    again.set_epoch(1)
    assert again.state_dict()["done"] == 0 and again.state_dict()["epoch"] == 1


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


def _rank_ids(rank: int, world: int, store: str, catalog_dir: str, out: str) -> None:
    """One process of a gloo group: the dataset takes its rank from torch.distributed."""
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        catalog = Catalog(make_settings(Path(catalog_dir), include_builtin=False))
        ds = _dataset(catalog, shuffle=True, seed=1, buffer_size=16)
        ids = _ids(DataLoader(ds, batch_size=8, num_workers=2))
        gathered: list[Any] = [None] * world
        dist.all_gather_object(gathered, ids)
        if rank == 0:
            Path(out).write_text(repr(gathered), encoding="utf-8")
    finally:
        dist.destroy_process_group()


def test_ranks_come_from_torch_distributed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ast

    import torch.multiprocessing as mp

    _catalog(tmp_path)
    # the group meets through a file, and gloo's connections between the ranks stay on loopback
    monkeypatch.setenv("GLOO_SOCKET_IFNAME", "lo")
    out = tmp_path / "gathered.txt"
    args = (2, str(tmp_path / "rendezvous"), str(tmp_path), str(out))
    mp.spawn(_rank_ids, args=args, nprocs=2, join=True)
    ranks = ast.literal_eval(out.read_text(encoding="utf-8"))
    assert [len(r) for r in ranks] == [101, 101]  # padded: ceil(201 / 2)
    assert set(ranks[0]) | set(ranks[1]) == set(range(N))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)), max_size=6),
    st.integers(0, 80),
    st.integers(0, 80),
)
def test_spans_agree_with_lists_of_positions(pairs: list[Any], a: int, b: int) -> None:
    x = sp.spans([(start, start + size) for start, size in pairs if size])
    items = [p for start, end in x.tolist() for p in range(start, end)]
    low, high = sorted((a, b))
    assert sp.expand(x).tolist() == items
    assert (
        sp.expand(sp.cut(x, min(low, len(items)), min(high, len(items)))).tolist()
        == (items[low:high])
    )
    cycled = [items[i % len(items)] for i in range(low, high)] if items else []
    assert sp.expand(sp.wrapped(x, low, high)).tolist() == cycled
    whole, part = sp.of_positions(items), sp.of_positions(items[low:high])
    assert sp.expand(sp.minus(whole, part)).tolist() == sorted(set(items) - set(items[low:high]))
    assert sp.expand(sp.union(part, whole)).tolist() == sorted(set(items))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"even": "trim"}, "even must be 'pad', 'drop' or None, not 'trim'"),
        ({"buffer_size": -1}, r"buffer_size must be a number of rows \(0: shuffle row groups"),
        ({"output": "numpy"}, "output must be 'rows', 'arrow' or 'pandas', not 'numpy'"),
        ({"rank": 2, "world_size": 2}, r"rank must be in 0\.\.1 for world_size=2, not 2"),
        ({"world_size": 0}, "world_size must be a positive int, not 0"),
        ({"decode": {"image": "image"}}, r"no option 'decode'; it takes columns, .* batch_size"),
    ],
)
def test_wrong_options_are_one_line_errors(
    tmp_path: Path, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(SelectionError, match=message):
        _dataset(_catalog(tmp_path), **options)


def test_a_hub_dataset_is_downloaded_then_read_from_the_data_dir(
    tmp_path: Path, hub: HubServer
) -> None:
    files, first = {}, 0
    for i, (rows, group) in enumerate(FILES):
        files[f"data/train-{i:05d}.parquet"] = _parquet_bytes(first, rows, group)
        first += rows
    hub.hub.create_repo("pygestor/toy", files)
    write_manifest(
        tmp_path / "user-catalog",
        "hubtoy",
        "name: hubtoy\nsource: {huggingface: pygestor/toy}\nsubsets:\n"
        '  - files: "data/train-*.parquet"\n    name: train\n',
    )
    catalog = Catalog(make_settings(tmp_path, hub.endpoint, include_builtin=False))
    selection = catalog.readable("hubtoy", "train", None, True)  # syncs and downloads first
    assert {item.state for item in selection.items} == {"local"}
    ranks = []
    for rank in range(2):
        ds = torch_dataset(selection, rank=rank, world_size=2, even=None, shuffle=True)
        ranks.append(_ids(DataLoader(ds, batch_size=16, num_workers=2)))
    assert sorted(ranks[0] + ranks[1]) == list(range(N))
    assert all(str(tmp_path / "data") in unit.path for unit in ds.units.units)


class _BucketStorage:
    """A data directory with no local files: its parquet files live in fsspec's in-memory
    filesystem, reached only through the pyarrow filesystem `arrow_filesystem()` returns, as an
    object store's are (`S3FileSystem` and a `bucket/prefix`)."""

    url = "memory://bucket/data"

    def __init__(self, memory: Any) -> None:
        self.memory = memory

    def arrow_filesystem(self) -> tuple[Any, str]:
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        return PyFileSystem(FSSpecHandler(self.memory)), "/bucket/data"


def test_files_are_read_through_the_storage_filesystem_only(tmp_path: Path) -> None:
    import dataclasses

    from fsspec.implementations.memory import MemoryFileSystem

    catalog = _catalog(tmp_path)
    selection = catalog.readable("toy", "train", None, True)
    memory = MemoryFileSystem()
    bucket = _BucketStorage(memory)
    items = []
    for item in selection.items:
        memory.pipe(f"/bucket/data/{item.file_key}", item.storage.read(item.file_key))
        items.append(dataclasses.replace(item, storage=bucket))
    shutil.rmtree(tmp_path / "src")  # nothing local is left to read
    try:
        in_bucket = dataclasses.replace(selection, items=tuple(items))
        ranks = []
        for rank in range(2):
            ds = torch_dataset(in_bucket, rank=rank, world_size=2, even=None, shuffle=True)
            ranks.append(_ids(DataLoader(ds, batch_size=16, num_workers=2)))
        assert sorted(ranks[0] + ranks[1]) == list(range(N))
        assert ds.units.units[0].path.startswith("/bucket/data/train/")
    finally:
        memory.rm("/bucket", recursive=True)

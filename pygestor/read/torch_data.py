"""`pygestor.torch_dataset`: a PyTorch IterableDataset over a selection's parquet row groups,
sharded by rank and DataLoader worker, shuffled deterministically, resumable exactly.

How an epoch's rows are laid out (every step a pure function of the options and the epoch)::

    units (row groups, `units.py`) ──shuffle: permuted by (seed, epoch)──▶ the epoch's sequence
        of N row positions (unit after unit, rows in file order)
    ──▶ rank r of W takes a contiguous share: N // W rows (`even="drop"`), ceil(N / W) rows
        wrapping to the start (`even="pad"`), or N * r // W .. N * (r + 1) // W (`even=None`)
    ──▶ worker k of K of that rank takes a contiguous part of the share
    ──▶ the part is read in windows of `buffer_size` rows; with `shuffle` each window is
        permuted by (seed, epoch, rank, worker, window): the shuffle buffer

Because the layout is a function, a worker's position is one number, the rows it has yielded
(`done`), and its state is a few integers: `load_state_dict` puts the worker back in the same
window, re-reads that window's remaining rows (only those) and permutes it the same way, so the
rows that follow are exactly those the uninterrupted run would have yielded, in its order, shuffle
buffer included. StatefulDataLoader (torchdata) saves and restores each worker's state this way.

A different world size or worker count: `merge_states` turns the saved states of every old
(rank, worker) into the set of rows the epoch has left (rows any old worker yielded, a padded
copy included, are left out), and the new ranks share those as a new epoch's sequence is shared
(sorted by position, then windowed and shuffled again): every remaining row exactly once across
the new ranks (with `even="pad"`, plus the padding that evens them; with `"drop"`, minus fewer
than W rows). The order differs from the old run's; no order could match it with other ranks.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from torch.utils.data import IterableDataset, get_worker_info

from ..errors import SelectionError
from . import spans as sp
from .convert import apply_dtypes
from .options import local, read_options
from .units import Units, plan_units, read_unit

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import pyarrow as pa

    from ..index.selection import Selection

Even = Literal["pad", "drop"] | None
Output = Literal["rows", "arrow", "pandas"]
FORMAT = 1  # of the state dicts
MARK = "pygestor.torch_dataset"  # the key that tells a state of this dataset in a nested dict
READ_ROWS = 8192  # rows read at a time without a shuffle buffer
OPTIONS = ("shuffle", "seed", "buffer_size", "even", "rank", "world_size", "output", "batch_size")
CACHED_UNITS = 4  # row groups kept decoded while a window takes rows from them


class Layout(NamedTuple):
    """What decides which rows a worker yields, in which order (saved in every state)."""

    seed: int
    shuffle: bool
    mix: bool  # windows are permuted (a shuffle buffer)
    window: int  # rows per window: the shuffle buffer, or READ_ROWS
    even: Even
    epoch: int
    generation: int  # 0: the epoch's own sequence; n: the n-th merge of saved states
    remaining: Any  # spans of the rows left when this generation began (None: all of them)
    world_size: int
    rank: int
    workers: int
    worker: int


def torch_dataset(
    selection: Selection,
    *,
    columns: Sequence[str] | None = None,
    filters: Any = None,
    dtypes: Mapping[str, str] | None = None,
    download: bool = True,
    **options: Any,
) -> TorchDataset:
    """A `TorchDataset` over the selection's local parquet partitions (the others skipped with
    a warning, as `load` does): `columns` (None: the manifest's `load.columns`; "all"), `filters`
    and `dtypes` as `load` takes them; `options` are `TorchDataset`'s. The footers are read
    here, once, in the calling process; the workers get the plan."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise SelectionError(
            f"torch_dataset: no option {unknown[0]!r}; it takes columns, filters, dtypes, "
            f"download and {', '.join(OPTIONS)}"
        )
    items = local(selection, download)
    opts = read_options(selection, columns, filters, dtypes, None, "arrow")
    return TorchDataset(plan_units(items, opts), **options)


class TorchDataset(IterableDataset):
    """Rows (dicts of Python values; `output="arrow"` / `"pandas"`: batches of `batch_size`
    rows) of a selection's parquet row groups. See the module docstring for the guarantees."""

    def __init__(
        self,
        units: Units,
        *,
        shuffle: bool = False,
        seed: int = 0,
        buffer_size: int = 10_000,
        even: Even = "pad",
        rank: int | None = None,
        world_size: int | None = None,
        output: Output = "rows",
        batch_size: int = 1024,
    ) -> None:
        _check(shuffle, seed, buffer_size, even, output, batch_size)
        self.units = units
        self.shuffle, self.seed, self.even = shuffle, seed, even
        self.mix = bool(shuffle and buffer_size)
        self.window = buffer_size if self.mix else READ_ROWS
        self.output, self.batch_size = output, batch_size
        self.rank, self.world_size = _world(rank, world_size)
        self.epoch = 0
        self._pending: dict[str, Any] | None = None  # a state loaded, for the next iteration
        self._layout: Layout | None = None  # the iteration under way
        self._done = 0  # rows (or batches' rows) it has yielded

    # ---- the public surface ---------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Rows of the selection (after the filter), in every epoch."""
        return self.units.rows

    @property
    def rank_rows(self) -> int:
        """Rows this rank yields in a whole epoch (the same on every rank with `even`)."""
        a, b = _share(self.rows, self.even, self.rank, self.world_size)
        return b - a

    def set_epoch(self, epoch: int) -> None:
        """The epoch to read next: its unit order and windows are seeded with it. A state
        loaded for another epoch is dropped, and so is the position of an iteration of
        another epoch (`state_dict` then is the start of this one)."""
        self.epoch = epoch
        if self._pending is not None and self._pending["epoch"] != epoch:
            self._pending = None
        if self._layout is not None and self._layout.epoch != epoch:
            self._layout = None

    def state_dict(self) -> dict[str, Any]:
        """The position of the iteration under way (in a DataLoader worker: that worker's),
        or, before one, the state loaded or the start of the epoch."""
        if self._layout is None:
            if self._pending:
                return dict(self._pending)
            return self._state(self._fresh(), 0, anywhere=True)
        return self._state(self._layout, self._done)

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume from `state` (from `state_dict`, or from `merge_states`) at the next
        iteration."""
        state = dict(state)
        if state.get(MARK) != FORMAT:
            raise SelectionError(
                "load_state_dict: not a state of pygestor's torch dataset (format "
                f"{FORMAT}); pass what its state_dict() or merge_states() returned"
            )
        if state["rows"] != self.rows or state["units"] != len(self.units.units):
            raise SelectionError(
                f"load_state_dict: the state is of {state['rows']} rows in {state['units']} "
                f"row groups, this dataset has {self.rows} in {len(self.units.units)}; make it "
                f"over the same selection, columns and filters"
            )
        self._check_options(state)
        self.epoch, self._pending, self._layout = state["epoch"], state, None

    def merge_states(self, states: Iterable[Any]) -> dict[str, Any]:
        """One state from the saved states of every rank and worker of an earlier run (the
        datasets' `state_dict()`s, or StatefulDataLoader `state_dict()`s holding them), for a
        run with any world size and worker count: `load_state_dict(merged)` before making the
        DataLoader. The new ranks share what the epoch had left; see the module docstring."""
        found = [s for s in _dataset_states(states) if s.get("rank") is not None]
        if not found:
            raise SelectionError("merge_states: no saved state of a worker among the states given")
        first = found[0]
        for key in ("epoch", "generation", "world_size", "workers", "seed", "window", "even"):
            if len({str(s[key]) for s in found}) > 1:
                raise SelectionError(f"merge_states: the states disagree on {key}; pass one run's")
        world, workers = first["world_size"], first["workers"]
        have = {(s["rank"], s["worker"]) for s in found}
        lost = sorted({(r, k) for r in range(world) for k in range(workers)} - have)
        if lost:
            raise SelectionError(
                f"merge_states: no state of (rank, worker) {lost[:4]} of the {world} x {workers} "
                "that ran; pass the states of every rank (each rank's StatefulDataLoader state)"
            )
        left, seen = [], []
        for state in {(s["rank"], s["worker"]): s for s in found}.values():
            layout = _layout_of(state)
            rest, used = _split(self._sequence(layout), layout, state["done"])
            left.append(rest)
            seen.append(used)
        remaining = sp.minus(sp.union(*left), sp.union(*seen))
        start = _layout_of(first)
        start = start._replace(generation=start.generation + 1, remaining=remaining.tolist())
        return self._state(start, 0, anywhere=True)

    # ---- iterating ------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Any]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        state, self._pending = self._pending, None
        layout = self._fresh()._replace(workers=workers, worker=worker)
        done = 0
        if state is not None:
            layout, done = self._resumed(state, layout)
        self._layout, self._done = layout, done
        return self._iterate(layout, done)

    def _iterate(self, layout: Layout, done: int) -> Iterator[Any]:
        tables = self._tables(layout, done)
        if self.output == "rows":
            for table in tables:
                for row in table.to_pylist():
                    self._done += 1
                    yield row
            return
        for batch in _batches(tables, self.batch_size):
            self._done += batch.num_rows
            yield batch if self.output == "arrow" else batch.to_pandas()

    def _tables(self, layout: Layout, done: int) -> Iterator[pa.Table]:
        """The worker's rows from item `done` of its part on, a window at a time."""
        sequence = self._sequence(layout)
        total, reader = sp.length(sequence), _Reader(self.units, self._order(layout.epoch))
        for start in range(done - done % layout.window, total, layout.window):
            positions = _window(sequence, layout, start)
            skip = max(done - start, 0)
            yield reader.rows(positions[skip:])

    def _sequence(self, layout: Layout) -> np.ndarray:
        """The positions a worker reads, in order (before its windows are shuffled)."""
        remaining = (
            sp.spans([(0, self.rows)]) if layout.remaining is None else sp.spans(layout.remaining)
        )
        a, b = _share(sp.length(remaining), layout.even, layout.rank, layout.world_size)
        size = b - a
        low = a + size * layout.worker // layout.workers
        high = a + size * (layout.worker + 1) // layout.workers
        return sp.wrapped(remaining, low, high)

    def _order(self, epoch: int) -> np.ndarray:
        """The epoch's order of units (indices into `units.units`)."""
        import numpy as np

        n = len(self.units.units)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    # ---- states ---------------------------------------------------------------------------
    def _fresh(self) -> Layout:
        return Layout(
            seed=self.seed,
            shuffle=self.shuffle,
            mix=self.mix,
            window=self.window,
            even=self.even,
            epoch=self.epoch,
            generation=0,
            remaining=None,
            world_size=self.world_size,
            rank=self.rank,
            workers=1,
            worker=0,
        )

    def _state(self, layout: Layout, done: int, *, anywhere: bool = False) -> dict[str, Any]:
        """A saved position; `anywhere`: one any rank and worker loads (the start of an epoch,
        or of a generation: each takes its share of `remaining`)."""
        state = {MARK: FORMAT, **layout._asdict(), "done": done}
        state.update(rows=self.rows, units=len(self.units.units))
        if anywhere:
            state.update(rank=None, world_size=None, workers=None, worker=None)
        return state

    def _resumed(self, state: dict[str, Any], here: Layout) -> tuple[Layout, int]:
        """The layout and position `state` continues, on this rank and worker."""
        if state["rank"] is None:  # a merged state, or the start of an epoch: shared anew
            return here._replace(
                epoch=state["epoch"],
                generation=state["generation"],
                remaining=state["remaining"],
            ), 0
        saved = _layout_of(state)
        mine = (here.rank, here.world_size, here.worker, here.workers)
        theirs = (saved.rank, saved.world_size, saved.worker, saved.workers)
        if mine != theirs:
            raise SelectionError(
                f"load_state_dict: the state is of rank {saved.rank} of {saved.world_size}, "
                f"worker {saved.worker} of {saved.workers}; this is rank {here.rank} of "
                f"{here.world_size}, worker {here.worker} of {here.workers}: to resume with "
                "another world size or num_workers, load merge_states(the states of every rank)"
            )
        return saved, state["done"]

    def _check_options(self, state: Mapping[str, Any]) -> None:
        mine = {"seed": self.seed, "shuffle": self.shuffle, "even": self.even}
        mine.update(mix=self.mix, window=self.window)
        for key, value in mine.items():
            if state[key] != value:
                name = "buffer_size" if key in ("window", "mix") else key
                raise SelectionError(
                    f"load_state_dict: the state was saved with {name}={state[key]!r}, this "
                    f"dataset has {value!r}; make it with the same options to resume"
                )


# ---- windows, reading, batches ------------------------------------------------------------
def _window(sequence: np.ndarray, layout: Layout, start: int) -> np.ndarray:
    """The positions of the window starting at item `start`, in the order they are yielded."""
    import numpy as np

    end = min(start + layout.window, sp.length(sequence))
    positions = sp.expand(sp.cut(sequence, start, end))
    if not layout.mix:
        return positions
    key = [layout.seed, layout.epoch, layout.generation, layout.rank, layout.worker, start]
    return positions[np.random.default_rng(key).permutation(len(positions))]


def _split(sequence: np.ndarray, layout: Layout, done: int) -> tuple[np.ndarray, np.ndarray]:
    """(the positions left, the positions yielded) of a worker's sequence after `done` items,
    each as sorted spans."""
    import numpy as np

    total = sp.length(sequence)
    start = min(done - done % layout.window, total)
    window = _window(sequence, layout, start) if start < total else np.zeros(0, np.int64)
    inside = done - start
    left = sp.union(sp.of_positions(window[inside:]), sp.cut(sequence, start + len(window), total))
    used = sp.union(sp.of_positions(window[:inside]), sp.cut(sequence, 0, start))
    return left, used


class _Reader:
    """Rows at positions of an epoch's sequence, read from the units holding them."""

    def __init__(self, units: Units, order: np.ndarray) -> None:
        import numpy as np

        self.units = units
        self.order = order
        sizes = np.array([units.units[i].rows for i in order], dtype=np.int64)
        self.starts = np.cumsum(sizes) - sizes
        self.cache: collections.OrderedDict[int, pa.Table] = collections.OrderedDict()

    def rows(self, positions: np.ndarray) -> pa.Table:
        """The rows at `positions`, in that order: slices of the units where the positions run
        on (no shuffle buffer), else gathered by unit and put in order (one `take` each)."""
        import numpy as np
        import pyarrow as pa

        ordered = bool(np.all(np.diff(positions) == 1))
        by = np.arange(len(positions)) if ordered else np.argsort(positions, kind="stable")
        where = np.searchsorted(self.starts, positions[by], side="right") - 1
        offsets = positions[by] - self.starts[where]
        pieces = [
            self._piece(int(where[group[0]]), offsets[group], ordered)
            for group in np.split(np.arange(len(by)), np.flatnonzero(np.diff(where)) + 1)
            if len(group)
        ]
        if not pieces:
            return self._empty()
        table = pa.concat_tables(pieces)
        if not ordered:
            back = np.empty_like(by)
            back[by] = np.arange(len(by))
            table = table.take(pa.array(back))
        return apply_dtypes(table, self.units.opts)

    def _piece(self, index: int, offsets: np.ndarray, ordered: bool) -> pa.Table:
        import pyarrow as pa

        table = self._unit(index)
        if ordered:  # a run of consecutive rows: a zero-copy slice
            return table.slice(int(offsets[0]), len(offsets))
        return table.take(pa.array(offsets))

    def _unit(self, index: int) -> pa.Table:
        if index in self.cache:
            self.cache.move_to_end(index)
            return self.cache[index]
        table = read_unit(self.units, self.units.units[int(self.order[index])])
        self.cache[index] = table
        if len(self.cache) > CACHED_UNITS:
            self.cache.popitem(last=False)
        return table

    def _empty(self) -> pa.Table:
        schema = self.units.schema
        names = self.units.opts.columns or schema.names
        return apply_dtypes(schema.empty_table().select(names), self.units.opts)


def _batches(tables: Iterator[pa.Table], size: int) -> Iterator[pa.Table]:
    """The rows of `tables` in tables of `size` rows (the last one fewer)."""
    import pyarrow as pa

    held: list[pa.Table] = []
    count = 0
    for table in tables:
        held.append(table)
        count += table.num_rows
        while count >= size:
            joined = pa.concat_tables(held)
            yield joined.slice(0, size).combine_chunks()
            held, count = [joined.slice(size)], count - size
    if count:
        yield pa.concat_tables(held).combine_chunks()


# ---- helpers ------------------------------------------------------------------------------
def _share(total: int, even: Even, rank: int, world: int) -> tuple[int, int]:
    """Items [a, b) of a sequence of `total` that `rank` of `world` takes (b may pass `total`
    with padding: the items wrap)."""
    if even == "drop":
        per = total // world
    elif even == "pad":
        per = -(-total // world)
    else:
        return total * rank // world, total * (rank + 1) // world
    return rank * per, (rank + 1) * per


def _layout_of(state: Mapping[str, Any]) -> Layout:
    return Layout(**{key: state[key] for key in Layout._fields})


def _dataset_states(found: Any) -> Iterator[dict[str, Any]]:
    """The dataset states in `found`: states, or (lists of) dicts holding them at any depth."""
    if isinstance(found, Mapping):
        if found.get(MARK) == FORMAT:
            yield dict(found)
            return
        found = list(found.values())
    if isinstance(found, list | tuple):
        for item in found:
            yield from _dataset_states(item)


def _world(rank: int | None, world_size: int | None) -> tuple[int, int]:
    """The rank and world size given, else torch.distributed's when it is initialised, else a
    single process."""
    import torch.distributed as dist

    if world_size is None and rank is None and dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    world = 1 if world_size is None else world_size
    here = 0 if rank is None else rank
    if not isinstance(world, int) or world < 1 or not isinstance(here, int):
        raise SelectionError(f"world_size must be a positive int, not {world_size!r}")
    if not 0 <= here < world:
        raise SelectionError(f"rank must be in 0..{world - 1} for world_size={world}, not {rank!r}")
    return here, world


def _check(
    shuffle: bool, seed: int, buffer_size: int, even: Even, output: str, batch_size: int
) -> None:
    if even not in ("pad", "drop", None):
        raise SelectionError(f"even must be 'pad', 'drop' or None, not {even!r}")
    if output not in ("rows", "arrow", "pandas"):
        raise SelectionError(f"output must be 'rows', 'arrow' or 'pandas', not {output!r}")
    if not _whole(buffer_size) or buffer_size < 0:
        raise SelectionError(
            f"buffer_size must be a number of rows (0: shuffle row groups only), "
            f"not {buffer_size!r}"
        )
    if not _whole(batch_size) or batch_size < 1:
        raise SelectionError(f"batch_size must be a positive number of rows, not {batch_size!r}")
    if not _whole(seed) or not isinstance(shuffle, bool):
        raise SelectionError(f"seed must be an int and shuffle a bool, not {seed!r}, {shuffle!r}")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

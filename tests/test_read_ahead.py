"""The bounded read-ahead `stream()` uses for parquet files (`pygestor.read.ahead`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from pygestor.read.ahead import read_ahead


class _Tasks:
    """Tasks of two items each; counts the tasks started and the ones running."""

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at = n, fail_at
        self.started: list[int] = []
        self.running = self.most_running = 0
        self.lock = threading.Lock()
        self.exhausted = threading.Event()

    def __iter__(self) -> Iterator[Callable[[], list[int]]]:
        for i in range(self.n):
            yield lambda i=i: self.run(i)
        self.exhausted.set()

    def run(self, i: int) -> list[int]:
        with self.lock:
            self.started.append(i)
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(0.01)
        with self.lock:
            self.running -= 1
        if i == self.fail_at:
            raise ValueError(f"bad row group {i} in x.parquet")
        return [2 * i, 2 * i + 1]


def _settle(tasks: _Tasks) -> int:
    """How many tasks had started once no more were starting."""
    last = -1
    while len(tasks.started) != last:
        last = len(tasks.started)
        time.sleep(0.1)
    return last


@pytest.mark.parametrize("n", [0, 1, 2, 5])
def test_every_item_in_order_with_at_most_n_tasks_ahead(n: int) -> None:
    tasks = _Tasks(50)
    stream = read_ahead(tasks, n)
    assert next(stream) == 0
    # the consumer is on task 0's items: n more tasks ran ahead, and no more
    assert _settle(tasks) == 1 + n
    assert list(stream) == list(range(1, 100))
    assert sorted(tasks.started) == list(range(50))
    assert tasks.most_running <= max(n, 1)


def test_a_failing_task_raises_where_its_items_would_be() -> None:
    got = []
    with pytest.raises(ValueError, match=r"^bad row group 3 in x\.parquet$"):
        for item in read_ahead(_Tasks(10, fail_at=3), 2):
            got.append(item)
    assert got == [0, 1, 2, 3, 4, 5]


def test_a_consumer_that_stops_early_leaves_no_task_running() -> None:
    tasks = _Tasks(10**6)
    stream = read_ahead(tasks, 2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    started = len(tasks.started)
    assert started <= 2 + 2 and tasks.running == 0
    time.sleep(0.1)
    assert len(tasks.started) == started  # nothing ran after the close

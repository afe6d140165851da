"""A bounded read-ahead: up to `n` read tasks run ahead of the consumer, on threads of their own.

pyarrow's dataset scanner reads ahead as fast as the disk allows when the consumer is slower
(a training step per batch): its `batch_readahead` and `fragment_readahead` bound how much is
decoded in parallel, not how much waits for the consumer, so a slow loop over a stream held
most of the files in memory (280 MiB of 307 with a 10 ms step). `stream()` therefore reads
parquet files one row group per task and runs at most `n` tasks ahead here: the memory is the
row group in hand and `n` more, whatever the consumer's pace. pyarrow releases the GIL while
it decodes, so the tasks run in parallel with each other and with the consumer's work."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


def read_ahead(tasks: Iterable[Callable[[], list[T]]], n: int) -> Iterator[T]:
    """The items of each task's list, in order, with up to `n` tasks running ahead of the one
    whose items are being consumed (0: each task runs when its items are wanted). An exception
    of a task is raised where its items would have been; a consumer that stops early (closes
    this generator) leaves no task behind it running."""
    if n <= 0:
        for task in tasks:
            yield from task()
        return
    pool = ThreadPoolExecutor(n, thread_name_prefix="pygestor-read-ahead")
    pending: deque[Future[list[T]]] = deque()
    try:
        for task in tasks:
            pending.append(pool.submit(task))
            if len(pending) > n:
                yield from _take(pending)
        while pending:
            yield from _take(pending)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _take(pending: deque[Future[list[T]]]) -> list[T]:
    """The oldest task's items; the queue no longer holds them (the consumer alone does)."""
    return pending.popleft().result()

"""Row positions as spans: the arithmetic the torch dataset's sharding and resume are made of.

A *spans* value is an int64 array of shape (n, 2), each row a half-open interval [start, end)
of row positions; read in order, the spans are a sequence of positions (an epoch's rows, a
rank's share, what a worker has left). Everything here is pure NumPy: data in, data out.

    cut(spans, a, b)        items a..b-1 of the sequence
    wrapped(spans, a, b)    items a..b-1 with the index taken modulo the length (padding)
    expand(spans)           the positions, one by one
    of_positions(p)         the sorted, merged spans of a set of positions
    union(x, y), minus(x, y) on sorted, merged spans
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

Spans = Any  # np.ndarray of shape (n, 2), int64 (numpy is imported lazily)


def spans(pairs: Any = ()) -> np.ndarray:
    """Spans from (start, end) pairs (a list, a saved state's lists, an array)."""
    import numpy as np

    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def length(x: Spans) -> int:
    return int((x[:, 1] - x[:, 0]).sum())


def cut(x: Spans, a: int, b: int) -> np.ndarray:
    """Items `a` to `b - 1` of the sequence `x` (0 <= a <= b <= length)."""
    import numpy as np

    if a >= b:
        return spans()
    sizes = x[:, 1] - x[:, 0]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    first = int(np.searchsorted(ends, a, side="right"))
    last = int(np.searchsorted(ends, b - 1, side="right"))
    part = x[first : last + 1].copy()
    part[-1, 1] = x[last, 0] + (b - starts[last])
    part[0, 0] = x[first, 0] + (a - starts[first])
    return part


def wrapped(x: Spans, a: int, b: int) -> np.ndarray:
    """Items `a` to `b - 1` of `x`, item i being item `i % length(x)`: a padded share repeats
    the sequence from its start."""
    import numpy as np

    total = length(x)
    if total == 0 or a >= b:
        return spans()
    pieces = []
    while a < b:
        low = a % total
        n = min(b - a, total - low)
        pieces.append(cut(x, low, low + n))
        a += n
    return np.concatenate(pieces)


def expand(x: Spans) -> np.ndarray:
    """The positions of `x`, in order."""
    import numpy as np

    sizes = x[:, 1] - x[:, 0]
    total = int(sizes.sum())
    offsets = np.cumsum(sizes) - sizes
    return np.repeat(x[:, 0] - offsets, sizes) + np.arange(total, dtype=np.int64)


def of_positions(positions: Any) -> np.ndarray:
    """The sorted, merged spans covering `positions` (duplicates count once)."""
    import numpy as np

    p = np.unique(np.asarray(positions, dtype=np.int64))
    if p.size == 0:
        return spans()
    breaks = np.flatnonzero(np.diff(p) != 1) + 1
    starts = np.concatenate(([p[0]], p[breaks]))
    ends = np.concatenate((p[breaks - 1], [p[-1]])) + 1
    return np.stack([starts, ends], axis=1)


def merged(x: Spans) -> np.ndarray:
    """`x` sorted by start, overlapping and touching spans joined, empty ones dropped."""
    import numpy as np

    x = x[x[:, 1] > x[:, 0]]
    if len(x) == 0:
        return spans()
    x = x[np.argsort(x[:, 0], kind="stable")]
    out = [list(x[0])]
    for start, end in x[1:]:
        if start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return spans(out)


def union(*parts: Spans) -> np.ndarray:
    import numpy as np

    return merged(np.concatenate([spans(), *parts]))


def minus(x: Spans, y: Spans) -> np.ndarray:
    """The positions of `x` that are not in `y` (both sorted and merged), as sorted spans."""
    out: list[tuple[int, int]] = []
    j = 0
    for start, end in x.tolist():
        while j < len(y) and y[j, 1] <= start:
            j += 1
        k, low = j, start
        while k < len(y) and y[k, 0] < end:
            if y[k, 0] > low:
                out.append((low, int(y[k, 0])))
            low = max(low, int(y[k, 1]))
            k += 1
        if low < end:
            out.append((low, end))
    return spans(out)

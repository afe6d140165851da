"""Torch benchmark: `pygestor.torch_dataset` through a DataLoader against plain `stream` on the
same files, in one run.

    .venv/bin/python bench/bench_torch.py [--rows 1000000] [--runs 3] [--workers 2] [--smoke]

Needs the `torch` extra (`pip install -e '.[torch]'`). Never run in CI but as `--smoke` (20,000
rows, one run: tests/test_bench_smoke.py checks that every figure is printed, not its value).

It generates, with a seeded RNG, a wikipedia-like parquet subset (id, title, text; text lengths
log-normal around 600 characters; 10 files of 1,000-row row groups) in a temporary folder read in
place as a `local:` dataset, then times each case `--runs` times after an untimed warm-up and
prints the medians as rows/s with the ratio to the baseline, plain `stream(output="arrow")`
(RecordBatches, nothing converted). The DataLoader cases use `--workers` worker processes and
the default collate function (tensors of the ids, lists of the strings), the cost a training
loop pays; `output="arrow"` batches skip it. Nothing is written to the docs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILES = 10
GROUP = 1000


def make_data(folder: Path, rows: int) -> None:
    """The subset's parquet files below `folder/train`, and a manifest `benchtorch` in
    `folder/catalog` reading them in place."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(12)
    (folder / "src" / "train").mkdir(parents=True)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     ", dtype=np.uint8)
    per = -(-rows // FILES)
    for i in range(FILES):
        first, n = i * per, max(0, min(per, rows - i * per))
        lengths = np.minimum(rng.lognormal(6.2, 0.8, n).astype(np.int64) + 1, 20_000)
        chars = letters[rng.integers(0, len(letters), int(lengths.sum()))]
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
        text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
        ids = pa.array(np.arange(first, first + n))
        titles = pa.array([f"article {k}" for k in range(first, first + n)])
        table = pa.table({"id": ids, "title": titles, "text": text})
        path = folder / "src" / "train" / f"train-{i:05d}-of-{FILES:05d}.parquet"
        pq.write_table(table, path, row_group_size=GROUP)
    catalog = folder / "catalog"
    catalog.mkdir()
    (catalog / "benchtorch.yaml").write_text(
        f"name: benchtorch\nsource: {{local: {folder / 'src'}}}\nsubsets:\n"
        '  - files: "{subset}/*.parquet"\nformat: parquet\n',
        encoding="utf-8",
    )


def cases(workers: int) -> dict[str, Callable[[], Iterator[int]]]:
    """Each case: an iterator of the row counts it read, batch after batch."""
    from torch.utils.data import DataLoader

    import pygestor

    def dataset(**options: Any) -> Any:
        return pygestor.torch_dataset("benchtorch", "train", columns=["id", "text"], **options)

    def loader(ds: Any, **options: Any) -> Iterator[int]:
        batch_size = options.pop("batch_size", 256)
        for batch in DataLoader(ds, batch_size=batch_size, num_workers=workers, **options):
            yield len(batch["id"]) if isinstance(batch, dict) else batch.num_rows

    return {
        "stream(output='arrow') (baseline)": lambda: (
            b.num_rows
            for b in pygestor.stream("benchtorch", "train", columns=["id", "text"], output="arrow")
        ),
        "stream(output='arrow'), rows as dicts": lambda: (
            len(b.to_pylist())
            for b in pygestor.stream("benchtorch", "train", columns=["id", "text"], output="arrow")
        ),
        "torch_dataset(), rows, in process": lambda: (1 for _ in dataset()),
        f"DataLoader(torch_dataset(), batch_size=256, num_workers={workers})": lambda: loader(
            dataset()
        ),
        "  the same, shuffle=True, buffer_size=10000": lambda: loader(
            dataset(shuffle=True, buffer_size=10_000)
        ),
        f"DataLoader(torch_dataset(output='arrow'), batch_size=None, num_workers={workers})": (
            lambda: loader(dataset(output="arrow", batch_size=256), batch_size=None)
        ),
        "  the same, batches of 4096 rows (the cost per batch crossing to the main process)": (
            lambda: loader(dataset(output="arrow", batch_size=4096), batch_size=None)
        ),
    }


def timed(case: Callable[[], Iterator[int]]) -> tuple[float, int]:
    start = time.perf_counter()
    rows = sum(case())
    return time.perf_counter() - start, rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="20,000 rows, one run (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.rows, args.runs = 20_000, 1
    with tempfile.TemporaryDirectory(prefix="pygestor-bench-torch-") as tmp:
        folder = Path(tmp)
        print(f"generating {args.rows:,} rows in {folder}", flush=True)
        make_data(folder, args.rows)
        os.environ.update(
            PYGESTOR_DATA_DIR=str(folder / "data"), PYGESTOR_CATALOG=str(folder / "catalog")
        )
        baseline = None
        for name, case in cases(args.workers).items():
            timed(case)  # warm-up: page cache, imports, worker start-up paths
            runs = [timed(case) for _ in range(args.runs)]
            seconds = statistics.median(s for s, _ in runs)
            rows = runs[0][1]
            if rows != args.rows:
                print(f"{name}: read {rows:,} rows, not {args.rows:,}", file=sys.stderr)
                return 1
            rate = rows / seconds
            baseline = baseline or rate
            print(f"{name}: {rate:,.0f} rows/s ({rate / baseline:.2f}x the baseline)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

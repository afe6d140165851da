"""Scale-out benchmark: the cluster engines against `load` on the same files, in one run.

    .venv/bin/python bench/bench_scale_out.py [--size-mb 400] [--runs 3] [--only CASE ...]
    [--smoke] [-v]

Needs the `dask` and `ray` extras (`pip install -e '.[dask,ray]'`). Never run in CI (but
`--smoke`, tiny sizes, is: tests/test_bench_smoke.py).

What it does, all inside one temporary folder that is removed at the end:

1. generates, with a seeded RNG, a wikipedia-like parquet subset (columns id, title, text;
   log-normal text lengths; `SHARDS` files of 1,000-row row groups) of `--size-mb` MB, read in
   place as a `local:` source (no copy: every reader reads the same files);
2. runs each case of `CASES` in a fresh process, `--runs` times after an untimed warm-up round,
   the case and its baseline interleaved, and reports medians. A case's timed part is the read
   and the reduction; the engine's start (a `distributed.LocalCluster` of 2 worker processes,
   `ray.init(num_cpus=2)`, both on 127.0.0.1) is measured apart and printed, not in the ratio;
3. checks that each case's figures (rows, the sum of the text lengths) equal the baseline's, and
   prints one line per case: both times, the ratio, the target and PASS/MISS.

A case is a row of `CASES`: a name, the reduction it runs in the child (a function of
`child_main`'s table below) and its baseline's, and a target ratio. New engines (torch, S3 data
directories) add a row and a reduction.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NAME, SUBSET = "scale", "train"
SHARDS = 16  # files of the subset (--smoke: 4)
ROW_GROUP = 1000
SMOKE_MB = 2.0
ENV = {  # keeps Ray on loopback and quiet
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
}


@dataclass(frozen=True)
class Case:
    """One line of the report: `run` against `baseline` (reductions of `REDUCTIONS`)."""

    name: str  # what the line says
    run: str
    baseline: str
    target: float  # the largest ratio run/baseline that passes


CASES = [
    Case("to_dask(): row count + text-length sum, vs load()", "dask", "load", 2.0),
    Case("to_ray(): row count + text-length sum, vs load()", "ray", "load", 3.0),
]


# ---- the reductions, each run in a fresh child process ------------------------------------
def _load(columns: list[str]) -> tuple[int, int]:
    import pyarrow.compute as pc

    import pygestor

    table = pygestor.load(NAME, SUBSET, columns=columns, output="arrow", download=False)
    return table.num_rows, pc.sum(pc.utf8_length(table["text"])).as_py() or 0


def _dask_start() -> Callable[[], None]:
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = Client(cluster)

    def stop() -> None:
        client.close()
        cluster.close()

    return stop


def _dask(columns: list[str]) -> tuple[int, int]:
    import dask

    import pygestor

    frame = pygestor.to_dask(NAME, SUBSET, columns=columns, download=False)
    rows, chars = dask.compute(frame.shape[0], frame["text"].str.len().sum())
    return int(rows), int(chars)


def _ray_start() -> Callable[[], None]:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    return ray.shutdown


def _ray(columns: list[str]) -> tuple[int, int]:
    import pyarrow as pa
    import pyarrow.compute as pc

    import pygestor

    def reduce(batch: pa.Table) -> pa.Table:
        chars = pc.sum(pc.utf8_length(batch["text"])).as_py() or 0
        return pa.table({"rows": [batch.num_rows], "chars": [chars]})

    dataset = pygestor.to_ray(NAME, SUBSET, columns=columns, download=False)
    parts = dataset.map_batches(reduce, batch_format="pyarrow", batch_size=None).take_all()
    return sum(p["rows"] for p in parts), sum(p["chars"] for p in parts)


#: name → (start the engine and return how to stop it, or None; the reduction)
REDUCTIONS: dict[
    str, tuple[Callable[[], Callable[[], None]] | None, Callable[[list[str]], tuple[int, int]]]
] = {
    "load": (None, _load),
    "dask": (_dask_start, _dask),
    "ray": (_ray_start, _ray),
}


def child_main(name: str, params: str) -> None:
    """Start the engine, run the reduction once, print its figures as one JSON line."""
    start, reduce = REDUCTIONS[name]
    begun = time.perf_counter()
    stop = start() if start else None
    started = time.perf_counter()
    try:
        rows, chars = reduce(json.loads(params)["columns"])
        done = time.perf_counter()
    finally:
        if stop:
            stop()  # the engine's worker processes end with the child, not after it
    result = {"start": started - begun, "seconds": done - started, "rows": rows, "chars": chars}
    print(json.dumps(result), flush=True)


# ---- the parent: data, runs, report --------------------------------------------------------
def generate(folder: Path, size_mb: float, shards: int) -> int:
    """A wikipedia-like subset of about `size_mb` MB in `folder/train`; its row count."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(12)
    words = [
        "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 9)))
        for _ in range(5000)
    ]
    target = int(size_mb * 1e6 / shards)
    rows = 0
    (folder / SUBSET).mkdir(parents=True)
    for shard in range(shards):
        texts: list[str] = []
        size = 0
        while size < target:
            n = max(3, int(rng.lognormvariate(5.0, 1.0)))
            text = " ".join(rng.choices(words, k=n))
            texts.append(text)
            size += len(text)
        table = pa.table(
            {
                "id": pa.array(range(rows, rows + len(texts)), pa.int64()),
                "title": [t[:24] for t in texts],
                "text": texts,
            }
        )
        pq.write_table(
            table, folder / SUBSET / f"part-{shard:05d}.parquet", row_group_size=ROW_GROUP
        )
        rows += len(texts)
    return rows


def manifest(catalog: Path, source: Path) -> None:
    catalog.mkdir(parents=True)
    (catalog / f"{NAME}.yaml").write_text(
        f"name: {NAME}\ndescription: A wikipedia-like parquet subset read in place.\n"
        f'source: {{local: {source}}}\nsubsets:\n  - files: "{{subset}}/*.parquet"\n',
        encoding="utf-8",
    )


def run_child(name: str, env: dict[str, str], verbose: bool) -> dict[str, Any]:
    params = json.dumps({"columns": ["text"]})
    proc = subprocess.run(
        [sys.executable, __file__, "--child", name, params],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"child {name} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    if verbose:
        print(f"    {name}: {result}")
    return result


def measure(case: Case, env: dict[str, str], runs: int, verbose: bool) -> dict[str, Any]:
    """Medians of `runs` interleaved runs of the case and its baseline, after a warm-up."""
    run_child(case.run, env, verbose)
    run_child(case.baseline, env, verbose)
    mine, base = [], []
    for _ in range(runs):
        mine.append(run_child(case.run, env, verbose))
        base.append(run_child(case.baseline, env, verbose))
    return {
        "seconds": statistics.median(r["seconds"] for r in mine),
        "baseline": statistics.median(r["seconds"] for r in base),
        "start": statistics.median(r["start"] for r in mine),
        "same": all((r["rows"], r["chars"]) == (base[0]["rows"], base[0]["chars"]) for r in mine),
        "rows": base[0]["rows"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=400.0, help="size of the subset (MB)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (median)")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one run: that the benchmark still runs (CI); its figures mean nothing",
    )
    names = [case.run for case in CASES]
    parser.add_argument("--only", nargs="+", choices=names, help="run only these cases")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every child's result")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PARAMS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return
    shards = SHARDS
    if args.smoke:
        args.size_mb, args.runs, shards = SMOKE_MB, 1, 4
    cases = [case for case in CASES if not args.only or case.run in args.only]
    with tempfile.TemporaryDirectory(prefix="pygestor-bench-scale-") as tmp:
        folder = Path(tmp)
        print(f"generating data in {folder}", flush=True)
        rows = generate(folder / "src", args.size_mb, shards)
        manifest(folder / "catalog", folder / "src")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYGESTOR_"))},
            **ENV,
            "HOME": str(folder / "home"),
            "PYGESTOR_DATA_DIR": str(folder / "data"),
            "PYGESTOR_CATALOG": str(folder / "catalog"),
            "PYTHONPATH": str(ROOT),
        }
        print(f"{rows:,} rows in {shards} files, {args.size_mb:g} MB of text; {args.runs} runs")
        print(f"\n  {'what':<54} {'engine':>9} {'load':>9} {'ratio':>7}  {'target':<8} start")
        passed = missed = 0
        for case in cases:
            m = measure(case, env, args.runs, args.verbose)
            ratio = m["seconds"] / m["baseline"]
            ok = m["same"] and ratio <= case.target
            passed, missed = passed + ok, missed + (not ok)
            mark = ("PASS" if ok else "MISS") + ("" if m["same"] else " (figures differ)")
            target = f"<= {case.target:g}x"
            print(
                f"  {case.name:<54} {m['seconds']:>8.2f}s {m['baseline']:>8.2f}s "
                f"{ratio:>6.2f}x  {target:<8} {m['start']:.1f}s  {mark}",
                flush=True,
            )
    print(f"\n{passed} PASS, {missed} MISS")


if __name__ == "__main__":
    main()

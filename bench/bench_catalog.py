"""Catalog-core benchmark: resolve speed and command start-up, against baselines run in this same
run.

    .venv/bin/python bench/bench_catalog.py [--runs N]

Prints, as medians of N runs:
- resolve: time to resolve 50,000 paths with a two-rule manifest (target < 0.5 s);
- `pygestor --help` wall time minus `python -c pass` (target: adds < 0.25 s);
- `pygestor list` wall time minus `python -c pass`, with a synced 50,000-file dataset and 20
  manifests in the catalog (target: adds < 0.5 s).
Everything lives in a temporary folder that is removed at the end. Never run in CI.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pygestor.manifest.discovery import parse_text
from pygestor.resolve import resolve
from pygestor.sources.base import RemoteFile

MANIFEST = """
name: fineweb-like
source: {huggingface: HuggingFaceFW/fineweb}
subsets:
  - files: "data/{subset}/*.parquet"
  - files: "sample/{size}/*.parquet"
    name: "sample-{size}"
"""


def bench_resolve(runs: int) -> float:
    manifest = parse_text(MANIFEST)
    files = [
        RemoteFile(f"data/CC-MAIN-2024-{i % 50:02d}/{i:03d}_{j:05d}.parquet", 1000 + j)
        for i in range(100)
        for j in range(500)
    ]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = resolve(manifest, files)
        times.append(time.perf_counter() - start)
    assert result.partition_count == 50_000
    return statistics.median(times)


def wall(cmd: list[str], env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_cli(runs: int) -> dict[str, float]:
    from pygestor.catalog import Catalog
    from pygestor.settings import Settings
    from pygestor.testing import replicas
    from pygestor.testing.hub import HubServer, LocalHub

    with tempfile.TemporaryDirectory(prefix="pygestor-bench-") as tmp:
        root = Path(tmp)
        user = root / "catalog"
        user.mkdir()
        for i in range(17):  # + 3 built-in manifests = 20
            (user / f"many{i:02d}.yaml").write_text(
                f"name: many{i:02d}\nsource: {{huggingface: pygestor/many-files}}\n"
                "subsets:\n  - files: 'data/{subset}/*.parquet'\n"
            )
        hub = LocalHub(root / "hub")
        replicas.install(hub, replicas.many_files(50_000))
        with HubServer(hub) as server:
            settings = Settings(
                data_dir=root / "data",
                user_catalog_dir=root / "none",
                extra_catalog_dirs=(user,),
                hf_endpoint=server.endpoint,
            )
            start = time.perf_counter()
            Catalog(settings).sync("many00")
            sync_time = time.perf_counter() - start
        env = {
            **os.environ,
            "PYGESTOR_DATA_DIR": str(root / "data"),
            "PYGESTOR_CATALOG": str(user),
            "HOME": str(root),
        }
        script = str(Path(sys.executable).with_name("pygestor"))
        base = wall([sys.executable, "-c", "pass"], env, runs)
        return {
            "sync_50000": sync_time,
            "python -c pass": base,
            "pygestor --help": wall([script, "--help"], env, runs),
            "pygestor list": wall([script, "list"], env, runs),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    resolve_s = bench_resolve(args.runs)
    print(f"resolve 50,000 paths        {resolve_s:7.3f} s    (target < 0.5 s)")
    cli = bench_cli(args.runs)
    base = cli["python -c pass"]
    print(
        f"sync 50,000-file repo       {cli['sync_50000']:7.3f} s    (local server, paged listing)"
    )
    print(f"python -c pass              {base:7.3f} s    (baseline)")
    for name, target in (("pygestor --help", 0.25), ("pygestor list", 0.5)):
        added = cli[name] - base
        print(
            f"{name:<27} {cli[name]:7.3f} s    adds {added:.3f} s = {cli[name] / base:.1f}x "
            "baseline "
            f"(target adds < {target} s)"
        )


if __name__ == "__main__":
    main()

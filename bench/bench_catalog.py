"""Catalog-core benchmark: resolve speed and command start-up, against baselines run in this same
run.

    .venv/bin/python bench/bench_catalog.py [--runs N]

Prints, as medians of N runs:
- resolve: time to resolve 50,000 paths with a two-rule manifest (target < 0.5 s);
- `pygestor --help` wall time minus `python -c pass` (target: adds < 0.25 s);
- `pygestor list` wall time minus `python -c pass`, with a synced 50,000-file dataset and 20
  manifests in the catalog (target: adds < 0.5 s).
- a million partitions (`--million`, or `--partitions N`): one dataset of N partitions in 10
  subsets, a generated listing served by the bundled Hub (`pygestor.testing.hub.GeneratedListing`,
  no files on disk); each command in a fresh process, interleaved with its baseline:
  `pygestor sync` against `HfApi().list_repo_tree(recursive=True)` paging the same listing from
  the same server (target < 60 s and <= 1.5x), the sync's peak RSS (< 1 GB), `pygestor list`,
  `pygestor list DATASET` (< 1 s each), `download --dry-run` of one subset of N/10 partitions and
  `Catalog.select` of it (< 2 s), `pygestor info DATASET SUBSET` (< 1 s); with each, the files it
  opened (an audit hook on "open"): all of them, and those in the data directory, which must not
  grow with N.

`--smoke` runs every case once at tiny sizes (what tests/test_bench_smoke.py runs in CI, so the
benchmark cannot rot); its figures mean nothing. Everything lives in a temporary folder that is
removed at the end.
"""

from __future__ import annotations

import argparse
import json
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


# ---- a million partitions -------------------------------------------------------------------

MILLION_MANIFEST = """name: million
source: {huggingface: gen/million}
subsets:
  - files: "data/{subset}/*.parquet"
"""

# Runs in a fresh process: counts the files opened while one command runs (an audit hook on
# "open"), then writes seconds, opens and peak RSS to the file named by argv[1] as JSON.
CHILD = r"""
import contextlib, io, json, os, resource, sys, time
out, data_dir, kind, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
counting, opened = [False], []
def hook(event, hook_args):
    if counting[0] and event == "open" and isinstance(hook_args[0], (str, bytes)):
        opened.append(os.fsdecode(hook_args[0]))
sys.addaudithook(hook)
def run():
    if kind == "tree":
        from huggingface_hub import HfApi
        entries = HfApi(endpoint=os.environ["HF_ENDPOINT"]).list_repo_tree(
            args[0], recursive=True, repo_type="dataset")
        return sum(1 for e in entries if hasattr(e, "blob_id"))
    if kind == "select":
        from pygestor import Catalog
        return len(Catalog.open().select(args[0], args[1], sync=False).items)
    from pygestor.cli.app import main
    with contextlib.redirect_stdout(io.StringIO()) as text:
        try:
            main(args)
        except SystemExit as exc:
            if exc.code:
                raise RuntimeError(f"pygestor {args} exited {exc.code}: {text.getvalue()}")
    return len(text.getvalue().splitlines())
start = time.perf_counter()
counting[0] = True
result = run()
counting[0] = False
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
inside = sum(1 for p in opened if os.path.abspath(p).startswith(data_dir))
with open(out, "w") as f:
    json.dump({"seconds": seconds, "opens": len(opened), "data_opens": inside,
               "rss": rss, "result": result}, f)
"""


def child(kind: str, args: list[str], env: dict[str, str], data_dir: Path) -> dict[str, float]:
    """Run one case in a fresh process; its figures."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        out = f.name
    try:
        cmd = [sys.executable, "-c", CHILD, out, str(data_dir), kind, *args]
        subprocess.run(cmd, env=env, check=True)
        with open(out) as f:
            return dict(json.load(f))
    finally:
        os.unlink(out)


def median_of(cases: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(c[k] for c in cases) for k in cases[0]}


def bench_million(partitions: int, runs: int) -> dict[str, dict[str, float]]:
    """Every case of the million-partition group, medians of `runs` fresh processes."""
    from pygestor.testing.hub import GeneratedListing, HubServer, LocalHub, publish

    subsets = 10
    with tempfile.TemporaryDirectory(prefix="pygestor-bench-1m-") as tmp:
        root = Path(tmp)
        catalog, data = root / "catalog", root / "data"
        catalog.mkdir()
        (catalog / "million.yaml").write_text(MILLION_MANIFEST)
        hub = LocalHub(root / "hub")
        publish(hub, "gen/million", GeneratedListing(partitions, subsets=subsets, seed=11))
        with HubServer(hub) as server:
            env = {
                **os.environ,
                "PYGESTOR_DATA_DIR": str(data),
                "PYGESTOR_CATALOG": str(catalog),
                "HOME": str(root),
                "HF_ENDPOINT": server.endpoint,
                "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_DISABLE_XET": "1",
                "HF_HUB_OFFLINE": "0",
            }
            got: dict[str, list[dict[str, float]]] = {}

            def case(name: str, kind: str, *args: str) -> None:
                got.setdefault(name, []).append(child(kind, list(args), env, data))

            for _ in range(runs):  # interleaved: the baseline, then the sync, each run
                case("tree", "tree", "gen/million")
                case("sync", "cli", "sync", "million")
            for _ in range(runs):
                case("list", "cli", "list")
                case("list DATASET", "cli", "list", "million")
                case("download --dry-run", "cli", "download", "million", "-s", "s0", "--dry-run")
                case("select", "select", "million", "s0")
                case("info SUBSET", "cli", "info", "million", "-s", "s0")
        assert all(c["result"] == partitions for c in got["tree"]), got["tree"]
        assert all(c["result"] == partitions // subsets for c in got["select"]), got["select"]
        return {name: median_of(cases) for name, cases in got.items()}


def print_million(partitions: int, fig: dict[str, dict[str, float]]) -> None:
    gib = 1024**3
    tree, sync = fig["tree"], fig["sync"]
    ratio = sync["seconds"] / tree["seconds"]
    print(f"{partitions:,} partitions in 10 subsets (generated listing, local Hub)")
    print(
        f"  list_repo_tree(recursive=True)  {tree['seconds']:7.2f} s  (baseline)   "
        f"peak RSS {tree['rss'] / 2**20:6.0f} MiB"
    )
    verdict = "PASS" if sync["seconds"] < 60 and ratio <= 1.5 else "MISS"
    print(
        f"  pygestor sync                   {sync['seconds']:7.2f} s  = {ratio:.2f}x baseline "
        f"(target < 60 s and <= 1.5x) {verdict}"
    )
    verdict = "PASS" if sync["rss"] < gib else "MISS"
    print(
        f"  pygestor sync peak RSS          {sync['rss'] / 2**20:7.0f} MiB (target < 1 GiB) "
        f"{verdict}"
    )
    print(f"  {'sync files opened':<31} {sync['opens']:7.0f}, {sync['data_opens']:.0f} in data dir")
    targets = {
        "list": 1.0,
        "list DATASET": 1.0,
        "download --dry-run": 2.0,
        "select": 2.0,
        "info SUBSET": 1.0,
    }
    names = {
        "list": "pygestor list",
        "list DATASET": "pygestor list million",
        "download --dry-run": "download -s s0 --dry-run",
        "select": "Catalog.select(million, s0)",
        "info SUBSET": "pygestor info million -s s0",
    }
    for key, target in targets.items():
        f = fig[key]
        verdict = "PASS" if f["seconds"] < target else "MISS"
        print(
            f"  {names[key]:<31} {f['seconds']:7.3f} s  (target < {target:.0f} s) {verdict}   "
            f"files opened {f['opens']:.0f}, {f['data_opens']:.0f} in data dir; "
            f"peak RSS {f['rss'] / 2**20:.0f} MiB"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--million", action="store_true", help="only the million-partition group")
    parser.add_argument("--partitions", type=int, default=1_000_000, help="of --million")
    parser.add_argument("--smoke", action="store_true", help="every case once, tiny sizes")
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    if args.smoke:
        print_million(2_000, bench_million(2_000, 1))
        return
    if args.million:
        print_million(args.partitions, bench_million(args.partitions, args.runs))
        return
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

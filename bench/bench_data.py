"""Data-plane benchmark: load, first load, Arrow copy, scan, stream and download, each against a
baseline run in this same run on the same files.

    .venv/bin/python bench/bench_data.py [--size-gb 1.0] [--quick] [--runs 5] [--only GROUP ...]
    [-v]

Needs the `bench` extra (`pip install -e '.[bench]'`: datasets, polars, duckdb). Never run in CI.

What it does, all inside one temporary folder that is removed at the end:

1. generates, with a seeded RNG, a wikipedia-like parquet subset (columns id, url, title, text;
   log-normal article lengths, ~1.6x snappy compression; 20 shards `train-000NN-of-00020.parquet`,
   1,000-row row groups) of `--size-gb` GB, a 1,000-file tiny subset, 8 large files and a
   176-file mmlu-like repo; the same files stay in a plain folder for the baselines;
2. serves them from the offline Hub (`pygestor.testing.hub`) as `wikimedia/wikipedia`
   (subsets `20231101.en` and `20231101.tiny`), `pygestor-bench/large-files` and `cais/mmlu`,
   and downloads the wikipedia subsets with pygestor through the real path;
3. runs every timed case in a fresh subprocess (peak RSS = that process's VmHWM), `--runs`
   times after an untimed warm-up round, pygestor and baseline runs interleaved, and reports
   medians; the OS page cache is dropped before each cold case when /proc/sys/vm/drop_caches is
   writable (else the files are read once beforehand, for both sides, and the table says so);
4. prints one line per figure with its target and PASS/MISS, and (unless `--quick` or
   `--no-write`) replaces the "Data plane" section of docs/benchmarks.md with the results.

`--quick` is `--size-gb 0.1 --runs 3`: a sanity run of ~3 minutes that writes nothing to the docs.
A full run at 1 GB takes ~7 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Data plane"

WIKI_REPO, WIKI_NAME, WIKI_SUBSET, TINY_SUBSET = (
    "wikimedia/wikipedia",
    "wikipedia",
    "20231101.en",
    "20231101.tiny",
)
LARGE_REPO, LARGE_NAME = "pygestor-bench/large-files", "bench-large"
MMLU_REPO, MMLU_NAME = "cais/mmlu", "bench-mmlu"
WIKI_SHARDS = 20
STREAM_1X = 5  # shards streamed for "1x"; all 20 are "4x"
TINY_FILES = 1000
LARGE_FILES = 8
WORKERS = 8
TOUCH_BYTES = 4 << 30  # memory touched after each page-cache drop (see Bench.touch_memory)
DOWNLOAD_RUNS = 5  # downloads are short and noisy on 2 cores: at least 5 runs each
BATCH_SIZE = 65536
READ_CHUNK = 64 * 1024  # what one read from the socket returns at most (httpcore)
SERVER_PIECE = 16 * 1024  # what the slowed server sends at a time in the kill test
SLOW_RATE = 1024 * 1024  # bytes/s per file from the slowed server: the kill lands mid-transfer
MIB = 1024 * 1024
LARGE_MIN = MIB  # bytes of each large file at least
RANGES_REPO, RANGES_NAME = "pygestor-bench/one-large-file", "bench-ranges"
RANGES_SIZE = 256 * MIB  # the one file the ranges group downloads (--smoke: RANGES_SMOKE)
RANGES_SMOKE = 16 * MIB  # split at 8 MiB in --smoke (the threshold is lowered in the child)
RANGES_RATE = 20_000_000  # bytes/s each connection gets from the capped server
RANGES_WORKERS = (4, 8)
SMOKE_GB = 0.004  # --smoke: the wikipedia-like subset's size

MANIFESTS = {
    RANGES_NAME: f"""name: {RANGES_NAME}
description: One large file from a server capping each connection (ranges in parallel).
source: {{huggingface: {RANGES_REPO}}}
subsets:
  - files: "data/*.bin"
    name: all
""",
    LARGE_NAME: f"""name: {LARGE_NAME}
description: Eight large parquet files (download throughput).
source: {{huggingface: {LARGE_REPO}}}
subsets:
  - files: "data/train-*.parquet"
    name: train
""",
    MMLU_NAME: f"""name: {MMLU_NAME}
description: 176 small parquet files laid out like cais/mmlu (download throughput).
source: {{huggingface: {MMLU_REPO}}}
subsets:
  - files: "{{config}}/{{split}}-*.parquet"
""",
}

MMLU_SUBJECTS = [
    "abstract_algebra",
    "anatomy",
    "astronomy",
    "business_ethics",
    "clinical_knowledge",
    "college_biology",
    "college_chemistry",
    "college_computer_science",
    "college_mathematics",
    "college_medicine",
    "college_physics",
    "computer_security",
    "conceptual_physics",
    "econometrics",
    "electrical_engineering",
    "elementary_mathematics",
    "formal_logic",
    "global_facts",
    "high_school_biology",
    "high_school_chemistry",
    "high_school_computer_science",
    "high_school_european_history",
    "high_school_geography",
    "high_school_government_and_politics",
    "high_school_macroeconomics",
    "high_school_mathematics",
    "high_school_microeconomics",
    "high_school_physics",
    "high_school_psychology",
    "high_school_statistics",
    "high_school_us_history",
    "high_school_world_history",
    "human_aging",
    "human_sexuality",
    "international_law",
    "jurisprudence",
    "logical_fallacies",
    "machine_learning",
    "management",
    "marketing",
    "medical_genetics",
    "miscellaneous",
    "moral_disputes",
    "moral_scenarios",
    "nutrition",
    "philosophy",
    "prehistory",
    "professional_accounting",
    "professional_law",
    "professional_medicine",
    "professional_psychology",
    "public_relations",
    "security_studies",
    "sociology",
    "us_foreign_policy",
    "virology",
    "world_religions",
]


# =============================================================================================
# Data: reproducible, wikipedia-like text (seeded numpy RNG, vectorised with pyarrow.compute)
# =============================================================================================
class WikiText:
    """A Zipf-distributed vocabulary of pseudo-words and phrases, and articles built from them.

    Article lengths are log-normal (median ~1.5 kB, mean ~2.9 kB of text, as English Wikipedia);
    snappy compresses the text about 1.6x, close to the real dump's parquet files.
    """

    def __init__(self, seed: int = 20231101, words: int = 50_000, phrases: int = 100_000) -> None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self.np, self.pa, self.pc = np, pa, pc
        rng = np.random.default_rng(seed)
        word_lengths = np.sort(np.clip(rng.poisson(4.0, words) + 2, 2, 18))  # frequent words short
        vocab = self._random_strings(word_lengths, rng)
        self.word_cdf = self._zipf_cdf(words, 1.0)
        per_phrase = rng.integers(1, 5, phrases)
        picks = np.searchsorted(self.word_cdf, rng.random(int(per_phrase.sum())))
        text = pc.binary_join(self._lists(per_phrase, vocab.take(pa.array(picks))), " ")
        kind = pa.array(rng.random(phrases))
        text = pc.if_else(pc.less(kind, 0.15), pc.binary_join_element_wise(text, ".", ""), text)
        text = pc.if_else(
            pc.and_(pc.greater_equal(kind, 0.15), pc.less(kind, 0.25)),
            pc.binary_join_element_wise(text, ",", ""),
            text,
        )
        self.phrases = pc.if_else(pc.greater(kind, 0.9), pc.utf8_capitalize(text), text)
        self.vocab = vocab
        self.phrase_cdf = self._zipf_cdf(phrases, 1.0)

    def _random_strings(self, lengths: Any, rng: Any) -> Any:
        np, pa = self.np, self.pa
        letters = rng.choice(
            np.frombuffer(b"etaoinshrdlcumwfgypbvkjxqz", np.uint8), int(lengths.sum())
        )
        offsets = np.zeros(len(lengths) + 1, dtype=np.int32)
        np.cumsum(lengths, out=offsets[1:])
        return pa.StringArray.from_buffers(
            len(lengths), pa.py_buffer(offsets), pa.py_buffer(letters.tobytes())
        )

    def _zipf_cdf(self, n: int, s: float, q: float = 2.7) -> Any:
        p = 1.0 / (self.np.arange(n) + q) ** s
        return self.np.cumsum(p) / p.sum()

    def _lists(self, counts: Any, values: Any) -> Any:
        offsets = self.np.zeros(len(counts) + 1, dtype=self.np.int32)
        self.np.cumsum(counts, out=offsets[1:])
        return self.pa.ListArray.from_arrays(self.pa.array(offsets), values)

    def table(self, rng: Any, rows: int, first_id: int) -> Any:
        np, pa, pc = self.np, self.pa, self.pc
        chars = np.clip(rng.lognormal(7.6, 1.1, rows), 20, 300_000)
        per_article = np.maximum((chars / 13.0).astype(np.int64), 2)  # a phrase is ~13 characters
        picks = np.searchsorted(self.phrase_cdf, rng.random(int(per_article.sum())))
        text = pc.binary_join(self._lists(per_article, self.phrases.take(pa.array(picks))), " ")
        per_title = rng.integers(1, 4, rows)
        title_words = self.vocab.take(
            pa.array(np.searchsorted(self.word_cdf, rng.random(int(per_title.sum()))))
        )
        title = pc.utf8_title(pc.binary_join(self._lists(per_title, title_words), " "))
        url = pc.binary_join_element_wise(
            "https://en.wikipedia.org/wiki/", pc.replace_substring(title, " ", "_"), ""
        )
        ids = pc.cast(pa.array(np.arange(first_id, first_id + rows)), pa.string())
        meta = {
            b"huggingface": json.dumps(
                {
                    "info": {
                        "features": {
                            c: {"dtype": "string", "_type": "Value"}
                            for c in ("id", "url", "title", "text")
                        }
                    }
                }
            ).encode()
        }
        return pa.table(
            {"id": ids, "url": url, "title": title, "text": text}
        ).replace_schema_metadata(meta)


def write_parquet(table: Any, path: Path, row_group_size: int = 1000) -> int:
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        compression="snappy",
        row_group_size=row_group_size,
        version="2.6",
        write_statistics=True,
    )
    return path.stat().st_size


def make_wiki(folder: Path, size_bytes: int, log: Callable[[str], None]) -> list[Path]:
    """WIKI_SHARDS shards of about size_bytes / WIKI_SHARDS bytes each."""
    import numpy as np

    gen = WikiText()
    probe = write_parquet(gen.table(np.random.default_rng(1), 2000, 0), folder / "probe.parquet")
    (folder / "probe.parquet").unlink()
    rows = max(100, int(size_bytes / WIKI_SHARDS / (probe / 2000)))
    paths, first = [], 12
    for i in range(WIKI_SHARDS):
        path = folder / WIKI_SUBSET / f"train-{i:05d}-of-{WIKI_SHARDS:05d}.parquet"
        write_parquet(gen.table(np.random.default_rng([20231101, i]), rows, first), path)
        first += rows
        paths.append(path)
    log(
        f"  wikipedia {WIKI_SUBSET}: {WIKI_SHARDS} shards x {rows:,} rows, "
        f"{_size(sum(p.stat().st_size for p in paths))}"
    )
    return paths


def make_tiny(folder: Path) -> list[Path]:
    import numpy as np

    gen = WikiText(words=2000, phrases=4000)
    rng = np.random.default_rng(7)
    paths = []
    for i in range(TINY_FILES):
        path = folder / TINY_SUBSET / f"train-{i:05d}-of-{TINY_FILES:05d}.parquet"
        write_parquet(gen.table(rng, 5, i * 5), path)
        paths.append(path)
    return paths


def make_large(folder: Path, each: int) -> list[Path]:
    """LARGE_FILES parquet files of `each` bytes of incompressible binary, in ~1 MiB rows."""
    import numpy as np
    import pyarrow as pa

    paths = []
    for i in range(LARGE_FILES):
        rng = np.random.default_rng([8, i])
        raw = rng.integers(0, 256, each, dtype=np.uint8).tobytes()
        rows = [raw[o : o + MIB] for o in range(0, each, MIB)]
        path = folder / "data" / f"train-{i:05d}-of-{LARGE_FILES:05d}.parquet"
        write_parquet(pa.table({"blob": pa.array(rows, pa.binary())}), path, row_group_size=16)
        paths.append(path)
    return paths


def make_mmlu(folder: Path) -> list[Path]:
    """cais/mmlu's layout: 57 subjects x test/validation/dev, all/ x 4, auxiliary_train/: 176
    parquet files of 10-50 kB (question, subject, choices, answer)."""
    import numpy as np
    import pyarrow as pa

    gen = WikiText(words=5000, phrases=10000)
    rng = np.random.default_rng(57)
    layout = [(s, split) for s in MMLU_SUBJECTS for split in ("test", "validation", "dev")]
    layout += [("all", split) for split in ("auxiliary_train", "test", "validation", "dev")]
    layout += [("auxiliary_train", "train")]
    paths = []
    for subject, split in layout:
        target = int(rng.integers(10_000, 50_000))
        rows = max(4, target // 1400)
        base = gen.table(rng, rows, 0)
        table = pa.table(
            {
                "question": base["title"],
                "subject": pa.array([subject] * rows),
                "choices": pa.array(
                    [[t[:40], t[40:80], t[80:120], t[120:160]] for t in base["text"].to_pylist()]
                ),
                "answer": pa.array(rng.integers(0, 4, rows), pa.int64()),
            }
        )
        path = folder / subject / f"{split}-00000-of-00001.parquet"
        write_parquet(table, path)
        paths.append(path)
    return paths


# =============================================================================================
# Children: one timed case per process
# =============================================================================================
def _status(key: str) -> int:
    """A /proc/self/status figure in bytes: VmRSS (now) or VmHWM (this process's peak RSS)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def _catalog(p: dict[str, Any]) -> Any:
    from pygestor.catalog import Catalog

    return Catalog.open(data_dir=p["data_dir"]) if p.get("data_dir") else Catalog.open()


def _rows(value: Any) -> int:
    return int(value.num_rows) if hasattr(value, "num_rows") else len(value)


def case_arrow_baseline(p: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.dataset as ds

    seconds, table = _timed(lambda: ds.dataset(p["files"], format="parquet").to_table())
    return {"seconds": seconds, "rows": table.num_rows}


def case_duckdb_baseline(p: dict[str, Any]) -> dict[str, Any]:
    import duckdb

    def read() -> Any:
        out = duckdb.read_parquet(p["files"]).arrow()  # a RecordBatchReader in duckdb >= 1.4
        return out.read_all() if hasattr(out, "read_all") else out

    seconds, table = _timed(read)
    return {"seconds": seconds, "rows": table.num_rows}


def case_polars_baseline(p: dict[str, Any]) -> dict[str, Any]:
    import polars as pl

    seconds, table = _timed(lambda: pl.read_parquet(p["files"]).to_arrow())
    return {"seconds": seconds, "rows": table.num_rows}


def case_pandas_baseline(p: dict[str, Any]) -> dict[str, Any]:
    import pyarrow.dataset as ds

    seconds, frame = _timed(lambda: ds.dataset(p["files"], format="parquet").to_table().to_pandas())
    return {"seconds": seconds, "rows": len(frame)}


def case_pg_load(p: dict[str, Any]) -> dict[str, Any]:
    cat = _catalog(p)
    seconds, value = _timed(lambda: cat.load(p["name"], p["subset"], output=p["output"]))
    out = {"seconds": seconds, "rows": _rows(value), "type": type(value).__name__}
    if p.get("again"):
        out["again_seconds"], _ = _timed(
            lambda: cat.load(p["name"], p["subset"], output=p["output"])
        )
    return out


def case_hf_load(p: dict[str, Any]) -> dict[str, Any]:
    """load_dataset's first call (converts to its Arrow cache), then its cached second call."""
    import datasets

    def load() -> Any:
        return datasets.load_dataset(
            "parquet", data_files=p["files"], split="train", cache_dir=p["cache_dir"]
        )

    seconds, ds = _timed(load)
    first_peak = _status("VmHWM")
    again, table = _timed(lambda: load().data.table)
    return {
        "seconds": seconds,
        "rows": ds.num_rows,
        "first_peak_rss": first_peak,
        "again_seconds": again,
        "again_rows": table.num_rows,
    }


def case_pg_arrow_copy(p: dict[str, Any]) -> dict[str, Any]:
    cat = _catalog(p)
    build, _ = _timed(lambda: cat.build_arrow_copy(p["name"], p["subset"]))
    first, _ = _timed(lambda: cat.load(p["name"], p["subset"], output="arrow"))
    again, table = _timed(lambda: cat.load(p["name"], p["subset"], output="arrow"))
    return {
        "seconds": again,
        "build_seconds": build,
        "first_seconds": first,
        "rows": table.num_rows,
    }


def case_pg_scan(p: dict[str, Any]) -> dict[str, Any]:
    cat = _catalog(p)
    # `pygestor.scan(...)` is `Catalog.arrow_dataset(...)`: `Catalog.scan()` scans the manifests
    scan = getattr(cat, "arrow_dataset", None) or cat.scan
    seconds, dataset = _timed(lambda: scan(p["name"], p["subset"]))
    again, _ = _timed(lambda: scan(p["name"], p["subset"]))
    out: dict[str, Any] = {"seconds": seconds, "again_seconds": again, "files": len(dataset.files)}
    if p.get("readers"):
        out["readers"] = _read_with_each(dataset)
    return out


def _read_with_each(dataset: Any) -> dict[str, Any]:
    """polars, duckdb and pandas each reading the pyarrow Dataset that scan returned."""
    readers: dict[str, Any] = {}
    try:
        import polars as pl

        seconds, frame = _timed(lambda: pl.scan_pyarrow_dataset(dataset).select(pl.len()).collect())
        readers["polars"] = {
            "seconds": seconds,
            "rows": int(frame.item()),
            "how": "pl.scan_pyarrow_dataset(ds).select(pl.len()).collect()",
        }
    except ImportError as exc:
        readers["polars"] = {"skipped": f"not installed ({exc})"}
    try:
        import duckdb

        def query() -> int:
            con = duckdb.connect()
            con.register("ds", dataset)
            return con.sql("SELECT count(*) FROM ds").fetchall()[0][0]

        seconds, rows = _timed(query)
        readers["duckdb"] = {
            "seconds": seconds,
            "rows": int(rows),
            "how": 'con.register("ds", ds); con.sql("SELECT count(*) FROM ds")',
        }
    except ImportError as exc:
        readers["duckdb"] = {"skipped": f"not installed ({exc})"}
    seconds, frame = _timed(lambda: dataset.to_table().to_pandas())
    readers["pandas"] = {"seconds": seconds, "rows": len(frame), "how": "ds.to_table().to_pandas()"}
    return readers


def case_pg_stream(p: dict[str, Any]) -> dict[str, Any]:
    cat = _catalog(p)

    def run() -> tuple[int, int]:
        rows = batches = 0
        for batch in cat.stream(
            p["name"],
            p["subset"],
            partitions=p.get("partitions"),
            batch_size=p["batch_size"],
            output=p.get("output", "arrow"),
        ):
            rows += len(batch)
            batches += 1
        return rows, batches

    seconds, (rows, batches) = _timed(run)
    return {"seconds": seconds, "rows": rows, "batches": batches}


def case_hf_stream(p: dict[str, Any]) -> dict[str, Any]:
    import datasets

    def run() -> tuple[int, int]:
        stream = datasets.load_dataset(
            "parquet",
            data_files=p["files"],
            split="train",
            streaming=True,
            cache_dir=p["cache_dir"],
        )
        rows = batches = 0
        for batch in stream.with_format(p.get("output", "arrow")).iter(batch_size=p["batch_size"]):
            rows += len(batch)
            batches += 1
        return rows, batches

    seconds, (rows, batches) = _timed(run)
    return {"seconds": seconds, "rows": rows, "batches": batches}


def case_pg_download(p: dict[str, Any]) -> dict[str, Any]:
    if "range_threshold" in p:  # --smoke: a small file still split into ranges
        import pygestor.fetch_ranges as fetch_ranges

        fetch_ranges.RANGE_THRESHOLD = p["range_threshold"]
        fetch_ranges.MIN_RANGE = p["range_threshold"] // 4
    cat = _catalog(p)
    seconds, report = _timed(
        lambda: cat.download(
            p["name"], p.get("subset"), all_subsets=p.get("all", False), workers=p["workers"]
        )
    )
    return {"seconds": seconds, "files": len(report.fetched), "bytes": report.bytes_fetched}


def case_hf_snapshot(p: dict[str, Any]) -> dict[str, Any]:
    from huggingface_hub import snapshot_download

    seconds, folder = _timed(
        lambda: snapshot_download(
            p["repo_id"],
            repo_type="dataset",
            endpoint=p["endpoint"],
            max_workers=p["workers"],
            cache_dir=p["cache_dir"],
            allow_patterns=p["allow_patterns"],
        )
    )
    files = [f for f in Path(folder).rglob("*") if f.is_file()]
    return {"seconds": seconds, "files": len(files), "bytes": sum(f.stat().st_size for f in files)}


CASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    name[len("case_") :]: fn for name, fn in globals().items() if name.startswith("case_")
}


def child_main(case: str, params: str) -> None:
    import pandas  # noqa: F401  (imported up front on both sides: not part of any timing)
    import pyarrow
    import pyarrow.dataset
    import pyarrow.parquet  # noqa: F401

    p = json.loads(params)
    if case.startswith("hf_"):
        import datasets  # noqa: F401
        import huggingface_hub
    elif case == "duckdb_baseline":
        import duckdb  # noqa: F401
    elif case == "polars_baseline":
        import polars  # noqa: F401
    else:  # what pygestor's calls import lazily, so that neither side's timing holds imports
        import filelock  # noqa: F401
        import huggingface_hub.hf_api  # noqa: F401

        import pygestor.catalog
        import pygestor.fetch
        import pygestor.sources.huggingface  # noqa: F401

        for module in (
            "pygestor.read.tables",
            "pygestor.reader",
            "pygestor.load",
        ):  # the read path, by any name
            with contextlib.suppress(ImportError):
                importlib.import_module(module)
    rss_start = _status("VmRSS")
    cpu = os.times()
    out = CASES[case](p)
    end = os.times()
    out["cpu_seconds"] = (
        end.user + end.system - cpu.user - cpu.system
    )  # the whole case, all threads
    out["user_seconds"] = end.user - cpu.user
    out["sys_seconds"] = end.system - cpu.system
    out["rss_start"] = rss_start
    # VmHWM, not ru_maxrss: Linux carries the parent's ru_maxrss over fork+exec into the child's.
    out["peak_rss"] = _status("VmHWM")
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    sys.stdout.flush()
    # Skip interpreter teardown: datasets' streaming leaves a native thread that aborts it
    # ("terminate called without an active exception", SIGABRT) after the case is done.
    os._exit(0)


# =============================================================================================
# The parent: data, server, runs, figures
# =============================================================================================
@dataclass
class Figure:
    group: str
    what: str
    pygestor: str
    baseline: str
    ratio: str
    target: str
    ok: bool | None  # None: informational


@dataclass
class Bench:
    root: Path
    env: dict[str, str]
    runs: int
    cold: bool
    verbose: bool = False
    warmup: bool = True  # an untimed first round (--smoke: none)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _count: int = 0

    def log(self, text: str) -> None:
        print(text, flush=True)

    def fresh(self, prefix: str) -> Path:
        self._count += 1
        return self.root / "scratch" / f"{prefix}-{self._count}"

    def child(
        self,
        case: str,
        params: dict[str, Any],
        *,
        cold: bool = False,
        env: dict[str, str] | None = None,
        timeout: float = 1800,
    ) -> dict[str, Any]:
        if cold:
            self.drop_caches()
        else:
            os.sync()
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case, json.dumps(params)]
        proc = subprocess.run(
            cmd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"case {case} failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
            )
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if self.verbose:
            self.log(f"    {case}: {out}")
        return out

    def repeat(
        self,
        cases: Sequence[tuple[str, str, dict[str, Any] | Callable[[], dict[str, Any]]]],
        *,
        cold: bool = False,
        env: dict[str, str] | None = None,
        before: Callable[[], None] | None = None,
        after: Callable[[dict[str, Any]], None] | None = None,
        runs: int | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Run each (label, case, params) `runs` times, interleaved and rotated, after one untimed
        warm-up round (this VM's disk is much slower the first time a file is read after a while,
        even with the guest's page cache dropped); params may be a callable giving fresh params
        per run; `before`/`after` run around each child."""
        results: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in cases}
        first = 0 if self.warmup else 1
        for round_ in range(first, (runs or self.runs) + 1):
            # Each round starts with the next case, so no side is always the one after another.
            start = round_ % len(cases)
            for label, case, params in [*cases[start:], *cases[:start]]:
                p = params() if callable(params) else params
                if before:
                    before()
                out = self.child(case, p, cold=cold, env=env)
                if after:
                    after(out)
                if round_:
                    results[label].append(out)
        return results

    def drop_caches(self) -> None:
        os.sync()
        if self.cold:
            try:
                Path("/proc/sys/vm/drop_caches").write_text("3\n")
                self.touch_memory()
                return
            except OSError:
                self.cold = False
                self.notes.append(
                    "the page cache could not be dropped (no permission): every case ran "
                    "with its files in the page cache (read once beforehand, for both sides)"
                )
                self.warm()

    def touch_memory(self) -> None:
        """Write TOUCH_BYTES of memory in a throwaway process. This VM (a balloon device) hands
        freed memory back to its host, and the first process to take a lot of it afterwards (say
        after the page cache is dropped) pays seconds of system time for it: whichever side ran
        first after a drop came out up to 2x slower. Touching it here first evens that out."""
        code = f"import numpy; numpy.ones({TOUCH_BYTES}, numpy.uint8)"
        subprocess.run([sys.executable, "-c", code], check=True)

    def warm(self) -> None:
        for path in (self.root / "plain").rglob("*.parquet"):
            path.read_bytes()
        for path in (self.root / "data").rglob("*.parquet"):
            path.read_bytes()

    def add(
        self,
        group: str,
        what: str,
        pygestor: str,
        baseline: str,
        ratio: str,
        target: str,
        ok: bool | None,
    ) -> None:
        fig = Figure(group, what, pygestor, baseline, ratio, target, ok)
        self.figures.append(fig)
        mark = "" if ok is None else ("PASS" if ok else "MISS")
        self.log(f"  {what:<58} {pygestor:>16} {baseline:>16} {ratio:>8}  {target:<22} {mark}")


def med(runs: list[dict[str, Any]], key: str = "seconds") -> float:
    return statistics.median(r[key] for r in runs)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return (
                f"{n:.0f} {unit}"
                if unit == "B"
                else f"{n:.1f} {unit}"
                if n < 100
                else f"{n:.0f} {unit}"
            )
        n /= 1024
    return f"{n:.1f} GiB"


def _sec(s: float) -> str:
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def tree_bytes(folder: Path) -> tuple[int, int]:
    """(bytes, files) under `folder`, following no symlinks."""
    total = count = 0
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                total += os.stat(path).st_size
                count += 1
    return total, count


def same_rows(*runs: list[dict[str, Any]]) -> int:
    rows = {r["rows"] for rs in runs for r in rs}
    if len(rows) != 1:
        raise AssertionError(f"the two sides read different row counts: {sorted(rows)}")
    return rows.pop()


# ---- groups ---------------------------------------------------------------------------------
def bench_load(b: Bench, wiki: list[Path], data_dir: Path, downloaded: int) -> None:
    files = [str(p) for p in wiki]
    b.log(
        "\n1-2. load vs pyarrow and vs datasets.load_dataset (cold page cache, fresh process; "
        "the three interleaved)"
    )
    pg_arrow = {"name": WIKI_NAME, "subset": WIKI_SUBSET, "output": "arrow"}
    caches: list[Path] = []

    def hf_params() -> dict[str, Any]:
        caches.append(b.fresh("hf-cache"))
        return {"files": files, "cache_dir": str(caches[-1])}

    before = tree_bytes(data_dir)
    r = b.repeat(
        [
            ("pg", "pg_load", pg_arrow),
            ("base", "arrow_baseline", {"files": files}),
            ("duckdb", "duckdb_baseline", {"files": files}),
            ("polars", "polars_baseline", {"files": files}),
            ("hf", "hf_load", hf_params),
        ],
        cold=True,
    )
    after = tree_bytes(data_dir)
    rows = same_rows(r["pg"], r["base"], r["duckdb"], r["polars"], r["hf"])
    pg, base, hf = med(r["pg"]), med(r["base"]), med(r["hf"])
    hf_runs = r["hf"]
    readers = {
        "pyarrow.dataset(...).to_table()": base,
        "duckdb.read_parquet(...).arrow()": med(r["duckdb"]),
        "polars.read_parquet(...).to_arrow()": med(r["polars"]),
    }
    fastest = min(readers, key=lambda k: readers[k])
    b.add(
        "load",
        f"load(output='arrow'), {rows:,} rows, vs the fastest reader",
        _sec(pg),
        _sec(readers[fastest]),
        f"{pg / readers[fastest]:.2f}x",
        "<= 1.0x fastest reader",
        pg <= readers[fastest],
    )
    for how, seconds in readers.items():
        b.add(
            "load",
            f"  {how}{' (fastest)' if how == fastest else ''}",
            _sec(pg),
            _sec(seconds),
            f"{pg / seconds:.2f}x",
            "",
            None,
        )
    _cpu_rows(b, r["pg"], r["base"])

    r = b.repeat(
        [
            ("pg", "pg_load", {**pg_arrow, "output": "pandas"}),
            ("base", "pandas_baseline", {"files": files}),
        ],
        cold=True,
    )
    same_rows(r["pg"], r["base"])
    pgp, basep = med(r["pg"]), med(r["base"])
    b.add(
        "load",
        "load() -> pandas: time",
        _sec(pgp),
        _sec(basep),
        f"{pgp / basep:.2f}x",
        "<= 1.0x to_pandas()",
        pgp / basep <= 1.0,
    )
    _cpu_rows(b, r["pg"], r["base"])
    pm, bm = med(r["pg"], "peak_rss"), med(r["base"], "peak_rss")
    b.add(
        "load",
        "load() -> pandas: peak RSS",
        _size(pm),
        _size(bm),
        f"{pm / bm:.2f}x",
        "<= 1.2x to_pandas()",
        pm / bm <= 1.2,
    )

    b.add(
        "first",
        "first load(output='arrow') vs load_dataset first call",
        _sec(pg),
        _sec(hf),
        f"{hf / pg:.2f}x faster",
        ">= 1.3x faster",
        hf / pg >= 1.3,
    )
    hf_disk = int(statistics.median(tree_bytes(c)[0] for c in caches))
    grew = after[0] - before[0]
    b.add(
        "first",
        "extra bytes on disk after the first load",
        f"{grew:,} B",
        f"{hf_disk:,} B",
        "",
        "pygestor: 0 B",
        grew == 0 and after[1] == before[1],
    )
    b.add(
        "first",
        "data dir beyond the downloaded files (index, records)",
        _size(after[0] - downloaded),
        "",
        "",
        "",
        None,
    )

    b.log(
        "\n3. Arrow copy: reload (in-process second call) vs datasets' cached reload (in-process "
        "second call)"
    )
    before = tree_bytes(data_dir)
    r = b.repeat([("pg", "pg_arrow_copy", {"name": WIKI_NAME, "subset": WIKI_SUBSET})])
    same_rows(r["pg"])
    copy_bytes = tree_bytes(data_dir)[0] - before[0]
    pg, hf = med(r["pg"]), med(hf_runs, "again_seconds")
    b.add(
        "arrow",
        "load(output='arrow') after build_arrow_copy",
        _sec(pg),
        _sec(hf),
        f"{pg / hf:.2f}x",
        "<= 1.5x datasets reload",
        pg / hf <= 1.5,
    )
    b.add(
        "arrow",
        "build_arrow_copy / size on disk",
        _sec(med(r["pg"], "build_seconds")),
        f"{_size(hf_disk)} cache",
        "",
        f"copy: {_size(copy_bytes)}",
        None,
    )


def _cpu_rows(b: Bench, pg: list[dict[str, Any]], base: list[dict[str, Any]]) -> None:
    """CPU seconds in user space and in the kernel: on this VM the wall time of a cold read swings
    with kernel time (faulting memory in), while user time, the work itself, barely moves."""
    for key, what in (("user_seconds", "user"), ("sys_seconds", "kernel")):
        p, q = med(pg, key), med(base, key)
        b.add(
            "load",
            f"  CPU time in {what} space",
            _sec(p),
            _sec(q),
            f"{p / q:.2f}x" if q else "",
            "",
            None,
        )


def bench_scan(b: Bench) -> None:
    b.log(f"\n3b. scan over a {TINY_FILES:,}-partition subset (fresh process)")
    p = {"name": WIKI_NAME, "subset": TINY_SUBSET}
    r = b.repeat([("pg", "pg_scan", p)])
    files = {x["files"] for x in r["pg"]}
    pg = med(r["pg"])
    b.add(
        "scan",
        f"scan() of {files.pop():,} partitions, first call in a process",
        _sec(pg),
        "",
        "",
        "< 50 ms",
        pg < 0.05,
    )
    b.add(
        "scan",
        "scan(), second call in the same process",
        _sec(med(r["pg"], "again_seconds")),
        "",
        "",
        "",
        None,
    )
    readers = b.child("pg_scan", {**p, "readers": True})["readers"]
    for name, info in readers.items():
        if "skipped" in info:
            b.add("scan", f"  read by {name}", "skipped", "", "", info["skipped"], None)
        else:
            b.add(
                "scan",
                f"  read by {name}: {info['how']}",
                _sec(info["seconds"]),
                f"{info['rows']:,} rows",
                "",
                "",
                None,
            )


def bench_stream(b: Bench, wiki: list[Path]) -> None:
    import pyarrow.parquet as pq

    rows_1x = sum(pq.read_metadata(p).num_rows for p in wiki[:STREAM_1X])
    batch_size = min(
        BATCH_SIZE, rows_1x // 2
    )  # "1x" is at least two batches (--quick: smaller batches)
    for output in ("pandas", "arrow"):
        _stream_pair(b, wiki, batch_size, output)


def _stream_pair(b: Bench, wiki: list[Path], batch_size: int, output: str) -> None:
    names = [p.name for p in wiki]
    call = "stream()" if output == "pandas" else "stream(output='arrow')"
    hf_format = "pandas" if output == "pandas" else "arrow"
    b.log(
        f"\n4. {call}, batch_size={batch_size}, vs datasets streaming "
        f"(.with_format({hf_format!r}).iter), fresh process each"
    )
    base = {"name": WIKI_NAME, "subset": WIKI_SUBSET, "batch_size": batch_size, "output": output}

    def hf_params() -> dict[str, Any]:
        return {
            "files": [str(p) for p in wiki],
            "cache_dir": str(b.fresh("hf-stream")),
            "batch_size": batch_size,
            "output": hf_format,
        }

    r = b.repeat(
        [
            ("1x", "pg_stream", {**base, "partitions": names[:STREAM_1X]}),
            ("4x", "pg_stream", {**base, "partitions": names}),
            ("hf", "hf_stream", hf_params),
        ],
        cold=True,
    )
    same_rows(r["4x"], r["hf"])
    one, four = med(r["1x"], "peak_rss"), med(r["4x"], "peak_rss")
    b.add(
        "stream",
        f"{call}: peak RSS streaming 4x the data ({len(names)} vs {STREAM_1X} shards)",
        _size(four),
        _size(one),
        f"{four / one:.2f}x",
        "<= 1.10x",
        four / one <= 1.10,
    )
    pg, hf = med(r["4x"]), med(r["hf"])
    b.add(
        "stream",
        f"{call}: rows/s vs datasets streaming (same files)",
        _sec(pg),
        _sec(hf),
        f"{hf / pg:.2f}x faster",
        ">= 1.5x faster",
        hf / pg >= 1.5,
    )
    hm = med(r["hf"], "peak_rss")
    b.add(
        "stream",
        f"{call}: peak RSS vs datasets streaming",
        _size(four),
        _size(hm),
        f"{four / hm:.2f}x",
        "<= 0.8x",
        four / hm <= 0.8,
    )
    b.add(
        "stream",
        "  batches (pygestor: at most batch_size rows, cut where the reader's batches end)",
        f"{med(r['4x'], 'batches'):,.0f}",
        f"{med(r['hf'], 'batches'):,.0f}",
        "",
        "",
        None,
    )
    b.add(
        "stream",
        "  RSS after imports, before streaming",
        _size(med(r["4x"], "rss_start")),
        _size(med(r["hf"], "rss_start")),
        "",
        "",
        None,
    )


def bench_download(
    b: Bench, srv: Any, shapes: dict[str, tuple[str, str, dict[str, Any], list[str], int]]
) -> None:
    b.log(
        f"\n5. download vs huggingface_hub.snapshot_download, {WORKERS} workers each, local server"
    )
    for label, (name, repo, select, patterns, total) in shapes.items():
        latency = 0.05 if "latency" in label else 0.0
        srv.faults.latency = latency

        def pg_params(name: str = name, select: dict[str, Any] = select) -> dict[str, Any]:
            return {"name": name, **select, "workers": WORKERS, "data_dir": str(b.fresh("pg-data"))}

        def hf_params(repo: str = repo, patterns: list[str] = patterns) -> dict[str, Any]:
            return {
                "repo_id": repo,
                "endpoint": srv.endpoint,
                "workers": WORKERS,
                "allow_patterns": patterns,
                "cache_dir": str(b.fresh("hf-hub")),
            }

        def count(out: dict[str, Any]) -> None:
            out["requests"] = len(srv.requests)
            out["by_kind"] = _request_kinds(srv.requests)

        r = b.repeat(
            [("pg", "pg_download", pg_params), ("hf", "hf_snapshot", hf_params)],
            before=srv.requests.clear,
            after=count,
            runs=max(b.runs, DOWNLOAD_RUNS),
        )
        srv.faults.latency = 0.0
        for side in ("pg", "hf"):
            bad = [x for x in r[side] if x["bytes"] != total]
            if bad:
                raise AssertionError(
                    f"{label}: {side} fetched {bad[0]['bytes']:,} bytes, expected {total:,}"
                )
        pg, hf = med(r["pg"]), med(r["hf"])
        rate = f", {total / pg / MIB:.0f}/{total / hf / MIB:.0f} MiB/s" if total > 50 * MIB else ""
        b.add(
            "download",
            f"download {label}: {_size(total)}{rate}",
            _sec(pg),
            _sec(hf),
            f"{hf / pg:.2f}x",
            ">= 1.1x snapshot_download",  # issue 11
            hf / pg >= 1.1,
        )
        b.add(
            "download",
            "  HTTP requests per run",
            str(r["pg"][0]["requests"]),
            str(r["hf"][0]["requests"]),
            "",
            "",
            None,
        )
        if b.verbose:
            b.log(
                f"    requests: pygestor {r['pg'][0]['by_kind']}\n              hf "
                f"{r['hf'][0]['by_kind']}"
            )


def bench_ranges(b: Bench, srv: Any, size: int, smoke: bool) -> None:
    """One large file from a server that caps each connection at RANGES_RATE: pygestor splits it
    into ranges fetched at once (fetch_ranges), snapshot_download fetches it in one stream."""
    b.log(
        f"\n6. one {_size(size)} file, each connection capped at {RANGES_RATE / 1e6:g} MB/s: "
        "download vs snapshot_download"
    )
    srv.faults.rate = RANGES_RATE
    try:
        for workers in RANGES_WORKERS:

            def pg_params(workers: int = workers) -> dict[str, Any]:
                p = {"name": RANGES_NAME, "workers": workers, "data_dir": str(b.fresh("pg-data"))}
                return {**p, "range_threshold": size // 2} if smoke else p

            def hf_params(workers: int = workers) -> dict[str, Any]:
                return {
                    "repo_id": RANGES_REPO,
                    "endpoint": srv.endpoint,
                    "workers": workers,
                    "allow_patterns": ["data/*.bin"],
                    "cache_dir": str(b.fresh("hf-hub")),
                }

            def count(out: dict[str, Any]) -> None:
                out["ranges"] = sum(
                    1 for r in srv.requests.filter(method="GET", origin="lfs") if r.status == 206
                )

            r = b.repeat(
                [("pg", "pg_download", pg_params), ("hf", "hf_snapshot", hf_params)],
                before=srv.requests.clear,
                after=count,
            )
            for side in ("pg", "hf"):
                bad = [x for x in r[side] if x["bytes"] != size]
                if bad:
                    raise AssertionError(f"ranges: {side} fetched {bad[0]['bytes']:,} bytes")
            pg, hf = med(r["pg"]), med(r["hf"])
            b.add(
                "ranges",
                f"one {_size(size)} file, {workers} workers: {size / pg / MIB:.0f}/"
                f"{size / hf / MIB:.0f} MiB/s",
                _sec(pg),
                _sec(hf),
                f"{hf / pg:.2f}x",
                ">= 3x snapshot_download",
                hf / pg >= 3,
            )
            b.add(
                "ranges",
                "  ranged GETs per run (206)",
                str(r["pg"][0]["ranges"]),
                str(r["hf"][0]["ranges"]),
                "",
                "",
                None,
            )
    finally:
        srv.faults.rate = 0.0


def _request_kinds(log: Any) -> dict[str, int]:
    """Requests by origin, method and endpoint kind (api/.../tree, resolve, lfs, ...)."""
    kinds: dict[str, int] = {}
    for rec in log:
        parts = rec.path.split("/")
        kind = (
            "lfs"
            if rec.origin == "lfs"
            else "resolve"
            if "resolve" in parts
            else "/".join(p for p in parts[:3] if p)
            + ("/" + parts[5] if len(parts) > 5 and parts[1] == "api" else "")
        )
        key = f"{rec.method} {kind} {rec.status}"
        kinds[key] = kinds.get(key, 0) + 1
    return kinds


def bench_kill(b: Bench, srv: Any, sizes: dict[str, int]) -> None:
    """SIGKILL a download mid-transfer, restart it, and count from the server's log the bytes sent
    beyond the files' sizes. The slowed server sends SERVER_PIECE-byte pieces at SLOW_RATE per
    file: a piece or two per file can be logged as sent without reaching pygestor (in the socket
    buffers at the kill, or written before the server sees the reset); `_unread_bytes` takes a
    snapshot of those buffers just before the kill to tell them apart from what pygestor lost."""
    from pygestor.testing.hub import Fault

    b.log("\n5b. SIGKILL mid-transfer, then restart: bytes fetched twice")
    delay = SERVER_PIECE / SLOW_RATE
    srv.requests.clear()
    srv.faults.add(
        Fault(origin="lfs", method="GET", chunk_delay=delay, chunk_size=SERVER_PIECE, times=None)
    )
    data_dir = b.fresh("pg-kill")
    params = {"name": LARGE_NAME, "subset": "train", "workers": WORKERS, "data_dir": str(data_dir)}
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        "pg_download",
        json.dumps(params),
    ]
    proc = subprocess.Popen(cmd, env=b.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        started = [p for p in data_dir.rglob(".*.part") if p.stat().st_size > 4 * READ_CHUNK]
        if len(started) >= LARGE_FILES:
            break
        time.sleep(0.05)
    time.sleep(1.0)
    unread = _unread_bytes(
        proc.pid, int(srv.lfs_endpoint.rsplit(":", 1)[1])
    )  # a snapshot just before
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(2 * delay + 1.0)  # let the server threads notice the hang-up and log what they sent
    at_kill: dict[str, int] = {}  # bytes on disk per file: its .part and its range parts
    on_disk: dict[str, list[tuple[int, int]]] = {}  # per file, the (start, end) it has
    for part in data_dir.rglob(".*.part*"):  # `.<file>.part`, `.<file>.part-<start>`
        file, _, start = part.name[1:].partition(".part")
        first, size = int(start[1:] or 0), part.stat().st_size
        at_kill[file] = at_kill.get(file, 0) + size
        on_disk.setdefault(file, []).append((first, first + size))
    srv.faults.clear()
    killed_run = len(srv.requests.filter(method="GET", origin="lfs"))
    b.child("pg_download", params)
    sent: dict[str, int] = {}
    resumed_at: dict[str, list[int]] = {}  # per file, where each ranged GET of the restart started
    for i, rec in enumerate(srv.requests.filter(method="GET", origin="lfs")):
        file = rec.path.rsplit("/", 1)[-1]
        sent[file] = sent.get(file, 0) + rec.bytes_sent
        if rec.range and i >= killed_run:
            start = int(rec.range.removeprefix("bytes=").split("-")[0])
            resumed_at.setdefault(file, []).append(start)
    refetched = {f: sent.get(f, 0) - size for f, size in sizes.items()}
    # a file over several ranges had a transfer in flight per part file: the bound is per transfer
    parts = {f: len(on_disk[f]) for f in at_kill}
    worst = max((refetched[f] / parts[f] for f in at_kill), default=0)
    per = ", ".join(f"{refetched[f]:,} ({parts[f]})" for f in sorted(at_kill))
    b.add(
        "kill",
        f"{len(at_kill)} files in flight at the kill ({_size(sum(at_kill.values()))} on disk, "
        f"{sum(parts.values())} part files): bytes sent beyond the file sizes, per transfer",
        f"max {worst:,.0f} B",
        "",
        "",
        f"<= {READ_CHUNK:,} B per transfer",
        worst <= READ_CHUNK and len(at_kill) > 0,
    )
    b.add(
        "kill",
        f"  per in-flight file (part files): {per}",
        f"total {sum(refetched.values()):,} B",
        "",
        "",
        "",
        None,
    )
    lost = sum(refetched[f] for f in at_kill) - unread
    b.add(
        "kill",
        "  of which in pygestor's hands (the rest was in socket buffers at the kill)",
        f"{lost / max(1, sum(parts.values())):,.0f} B/transfer",
        f"{unread:,} B in sockets",
        "",
        f"<= {READ_CHUNK:,} B per transfer",
        lost / max(1, sum(parts.values())) <= READ_CHUNK,
    )

    def resumed(file: str) -> bool:  # ranged, and no GET starts inside bytes it had on disk
        starts = resumed_at.get(file, [])
        return bool(starts) and not any(
            first <= s < end for s in starts for first, end in on_disk[file]
        )

    exact = [f for f in at_kill if resumed(f)]
    b.add(
        "kill",
        "  restart resumed each file (each of its ranges) where its part file ended (Range)",
        f"{len(exact)} of {len(at_kill)}",
        "",
        "",
        "all",
        len(exact) == len(at_kill) and len(at_kill) > 0,
    )


def _unread_bytes(pid: int, port: int) -> int:
    """Bytes in the kernel between the server and `pid` on its TCP connections to `port`: queued in
    the server's sockets (tx) or received but not yet read by `pid` (rx)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    rows = []
    for table in ("tcp", "tcp6"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/net/{table}") as fh:
            next(fh)
            rows += [line.split() for line in fh]
    client_ports, total = set(), 0
    for cols in rows:  # the client's sockets: remote port `port`, inode held by `pid`
        if int(cols[2].rsplit(":", 1)[1], 16) == port and cols[9] in inodes:
            client_ports.add(int(cols[1].rsplit(":", 1)[1], 16))
            total += int(cols[4].split(":")[1], 16)
    for cols in rows:  # the server's sockets to those client ports
        if (
            int(cols[1].rsplit(":", 1)[1], 16) == port
            and int(cols[2].rsplit(":", 1)[1], 16) in client_ports
        ):
            total += int(cols[4].split(":")[0], 16)
    return total


# ---- machine and docs -----------------------------------------------------------------------
def machine() -> dict[str, str]:
    import pyarrow

    mem = 0
    with open("/proc/meminfo") as fh:
        for line in fh:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    versions = {}
    for pkg in ("pyarrow", "pandas", "datasets", "huggingface_hub", "polars", "duckdb"):
        try:
            versions[pkg] = __import__(pkg).__version__
        except ImportError:
            versions[pkg] = "not installed"
    return {
        "date": datetime.date.today().isoformat(),
        "arch": platform.machine(),
        "cores": str(os.cpu_count()),
        "ram": f"{mem / 2**30:.0f} GiB",
        "python": platform.python_version(),
        "pyarrow": pyarrow.__version__,
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
    }


def markdown(b: Bench, m: dict[str, str], args: argparse.Namespace, setup: list[str]) -> str:
    title = (
        f"{SECTION} ({m['date']}, {m['arch']}, {m['cores']} cores, {m['ram']}, Python "
        f"{m['python']}, "
        f"pyarrow {m['pyarrow']})"
    )
    downloads = f" ({DOWNLOAD_RUNS} for downloads)" if args.runs < DOWNLOAD_RUNS else ""
    how = (
        f"Run with `.venv/bin/python bench/bench_data.py --size-gb {args.size_gb:g}` (never in CI; "
        "needs "
        "`pip install -e '.[bench]'`). Each timed case ran in a fresh process, after a warm-up "
        "run, "
        f"{args.runs} times{downloads}, pygestor and baseline runs interleaved (each round "
        "starting "
        "with the next side); figures are medians; peak memory is the process's peak RSS (VmHWM). "
        "Baselines "
        "ran in the same run on the same files (a plain-folder copy)."
    )
    lines = [
        title,
        "",
        how,
        f"Versions: {m['versions']}.",
        "",
        *[f"- {line}" for line in setup + b.notes],
        "",
        "| what | pygestor | baseline | ratio | target | |",
        "|---|---|---|---|---|---|",
    ]
    for f in b.figures:
        mark = "" if f.ok is None else ("PASS" if f.ok else "**MISS**")
        what = f"↳ {f.what.strip()}" if f.what.startswith(" ") else f.what
        lines.append(f"| {what} | {f.pygestor} | {f.baseline} | {f.ratio} | {f.target} | {mark} |")
    return "\n".join(lines) + "\n"


def write_docs(section: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    pattern = re.compile(rf"^{re.escape(SECTION)}\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOCS.write_text(text, encoding="utf-8")


# ---- main -----------------------------------------------------------------------------------
GROUPS = ("load", "scan", "stream", "download", "ranges", "kill")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--size-gb", type=float, default=1.0, help="size of the wikipedia-like subset (default 1.0)"
    )
    parser.add_argument(
        "--quick", action="store_true", help="--size-gb 0.1, and write nothing to the docs"
    )
    parser.add_argument(
        "--runs", type=int, help="runs per timed case (median; default 5, --quick 3)"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes, one run, warm files, every group, nothing written: that the benchmark "
        "still runs (tests/test_bench_smoke.py, in CI); its figures mean nothing",
    )
    parser.add_argument("--only", nargs="+", choices=GROUPS, help="run only these groups")
    parser.add_argument("--no-write", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every child's result")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "PARAMS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(*args.child)
        return
    if args.quick:
        args.size_gb = 0.1
    if args.smoke:
        global TINY_FILES, DOWNLOAD_RUNS, LARGE_MIN
        args.size_gb, args.runs, args.no_write = SMOKE_GB, args.runs or 1, True
        TINY_FILES, DOWNLOAD_RUNS = 20, 1
        LARGE_MIN = 3 * MIB  # the kill test needs files still in flight after a second
    if args.runs is None:
        args.runs = 3 if args.quick else 5
    groups = set(args.only or GROUPS)
    started = time.monotonic()
    m = machine()
    print(
        f"machine: {m['arch']}, {m['cores']} cores, {m['ram']}, Python {m['python']}, "
        f"{m['versions']}"
    )
    tmp = tempfile.mkdtemp(prefix="pygestor-bench-data-")
    try:
        run(Path(tmp), args, groups, m, started)
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


def run(
    root: Path, args: argparse.Namespace, groups: set[str], m: dict[str, str], started: float
) -> None:
    from pygestor.testing.hub import HubServer, LocalHub

    (root / "home").mkdir()
    (root / "catalog").mkdir()
    for name, text in MANIFESTS.items():
        (root / "catalog" / f"{name}.yaml").write_text(text)
    data_dir = root / "data"
    env = {
        **os.environ,
        "HOME": str(root / "home"),
        "XDG_CACHE_HOME": str(root / "home" / ".cache"),
        "XDG_CONFIG_HOME": str(root / "home" / ".config"),
        "PYGESTOR_DATA_DIR": str(data_dir),
        "PYGESTOR_CATALOG": str(root / "catalog"),
        "HF_HOME": str(root / "hf"),
        "HF_DATASETS_CACHE": str(root / "hf" / "datasets"),
        "HF_DATASETS_OFFLINE": "1",
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
        "TQDM_DISABLE": "1",
        "PYTHONHASHSEED": "0",
    }
    for var in ("HF_TOKEN", "HF_HUB_OFFLINE", "PYGESTOR_CONFIG"):
        env.pop(var, None)
    cold = os.access("/proc/sys/vm/drop_caches", os.W_OK) and not args.smoke
    b = Bench(root, env, args.runs, cold, verbose=args.verbose, warmup=not args.smoke)

    print(f"generating data in {root} (seeded; --size-gb {args.size_gb:g})")
    t0 = time.monotonic()
    plain = root / "plain"
    wiki = make_wiki(plain / "wiki", int(args.size_gb * 1e9), b.log)
    tiny = make_tiny(plain / "wiki")
    large = make_large(plain / "large", max(LARGE_MIN, int(args.size_gb * 100e6)))
    mmlu = make_mmlu(plain / "mmlu")
    ranges_size = RANGES_SMOKE if args.smoke else RANGES_SIZE
    one = plain / "one" / "data" / "one.bin"
    one.parent.mkdir(parents=True)
    with one.open("wb") as fh:  # incompressible, seeded
        rng = random.Random(7)
        for _ in range(ranges_size // MIB):
            fh.write(rng.randbytes(MIB))
    wiki_bytes = sum(p.stat().st_size for p in wiki)
    large_total = sum(p.stat().st_size for p in large)
    mmlu_total = sum(p.stat().st_size for p in mmlu)
    hub = LocalHub(root / "hub")
    for repo, folder, paths in (
        (WIKI_REPO, plain / "wiki", wiki + tiny),
        (LARGE_REPO, plain / "large", large),
        (MMLU_REPO, plain / "mmlu", mmlu),
        (RANGES_REPO, plain / "one", [one]),
    ):
        hub.create_repo(
            repo, {p.relative_to(folder).as_posix(): p for p in paths}, message="bench data"
        )
    print(
        f"  tiny {TINY_SUBSET}: {len(tiny)} files; large: {LARGE_FILES} x "
        f"{_size(large_total / LARGE_FILES)}; "
        f"mmlu-like: {len(mmlu)} files, {_size(mmlu_total)}  ({time.monotonic() - t0:.0f} s)"
    )
    data = (
        f"data: wikipedia-like `{WIKI_SUBSET}`, {WIKI_SHARDS} shards, {_size(wiki_bytes)} of "
        "parquet "
        f"(snappy, 1,000-row row groups), generated with a seeded RNG; `{TINY_SUBSET}`: "
        f"{TINY_FILES:,} "
        "files of 5 rows"
    )
    shapes = (
        f"downloads: {LARGE_FILES} parquet files of {_size(large_total / LARGE_FILES)}, and "
        f"{len(mmlu)} of "
        "10-50 kB laid out like cais/mmlu, from the offline Hub on loopback (LFS files redirected "
        "to "
        f"its second origin, as on the Hub), {WORKERS} workers on both sides; kill test: LFS "
        "bodies "
        f"slowed to {SLOW_RATE // 1024} KiB/s per file in {SERVER_PIECE // 1024} KiB pieces"
    )
    cache = (
        (
            "page cache: dropped before each cold case, then 4 GiB written in a throwaway process "
            "(this VM "
            "hands freed memory back to its host, and the first process to take it back pays "
            "seconds of "
            "kernel time)"
        )
        if cold
        else "page cache: could not be dropped"
    )
    ranges = (
        f"ranges: one {_size(ranges_size)} file of random bytes, every connection capped at "
        f"{RANGES_RATE / 1e6:g} MB/s by the offline Hub (`FaultSet.rate`), "
        f"{' and '.join(map(str, RANGES_WORKERS))} workers on both sides"
    )
    setup = [data, shapes, ranges, cache]

    with HubServer(hub) as srv:
        env["HF_ENDPOINT"] = srv.endpoint
        if groups & {"load", "scan", "stream"}:
            print("downloading the wikipedia subsets with pygestor (the real path)")
            out = b.child(
                "pg_download", {"name": WIKI_NAME, "subset": WIKI_SUBSET, "workers": WORKERS}
            )
            tiny_out = b.child(
                "pg_download", {"name": WIKI_NAME, "subset": TINY_SUBSET, "workers": WORKERS}
            )
            print(
                f"  {out['files']} files, {_size(out['bytes'])} in {out['seconds']:.1f} s; "
                f"{tiny_out['files']} tiny files in {tiny_out['seconds']:.1f} s"
            )
            downloaded = out["bytes"] + tiny_out["bytes"]
        print(f"\n  {'what':<58} {'pygestor':>16} {'baseline':>16} {'ratio':>8}  {'target':<22}")
        if "load" in groups:
            bench_load(b, wiki, data_dir, downloaded)
        if "scan" in groups:
            bench_scan(b)
        if "stream" in groups:
            bench_stream(b, wiki)
        if "download" in groups:
            shapes = {
                f"{LARGE_FILES} large files": (
                    LARGE_NAME,
                    LARGE_REPO,
                    {"subset": "train"},
                    ["data/*.parquet"],
                    large_total,
                ),
                f"{len(mmlu)} small files": (
                    MMLU_NAME,
                    MMLU_REPO,
                    {"all": True},
                    ["*/*.parquet"],
                    mmlu_total,
                ),
                f"{len(mmlu)} small files, 50 ms latency": (
                    MMLU_NAME,
                    MMLU_REPO,
                    {"all": True},
                    ["*/*.parquet"],
                    mmlu_total,
                ),
            }
            bench_download(b, srv, shapes)
        if "ranges" in groups:
            bench_ranges(b, srv, ranges_size, args.smoke)
        if "kill" in groups:
            bench_kill(b, srv, {p.name: p.stat().st_size for p in large})

    misses = [f for f in b.figures if f.ok is False]
    print(
        f"\n{sum(f.ok is True for f in b.figures)} PASS, {len(misses)} MISS"
        f"{': ' + '; '.join(f.what.strip() for f in misses) if misses else ''}"
        f"  ({time.monotonic() - started:.0f} s)"
    )
    for note in b.notes:
        print(f"note: {note}")
    if not (args.quick or args.no_write or args.only):
        write_docs(markdown(b, m, args, setup))
        print(f"wrote the '{SECTION}' section of {DOCS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

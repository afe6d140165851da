"""The benchmarks run in CI at tiny sizes (`--smoke`), so they cannot rot: each script must still
run every group end to end against the bundled Hub and print every figure. The figures
themselves mean nothing at these sizes and are not checked (bench/README.md)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _run_smoke(script: str, timeout: float = 420) -> str:
    """Run `bench/<script> --smoke` in a fresh interpreter; its output (stdout and stderr)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "PYGESTOR_"))}
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{script} --smoke exited {proc.returncode}:\n{out[-6000:]}"
    return out


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_bench_data_smoke_runs_every_group_and_writes_nothing() -> None:
    docs = (ROOT / "docs" / "benchmarks.md").read_bytes()
    out = _run_smoke("bench_data.py")
    expected = [
        # load: pygestor against each reader, pandas, the first load, the Arrow copy
        "load(output='arrow'), 2,160 rows, vs the fastest reader",
        "pyarrow.dataset(...).to_table()",
        "duckdb.read_parquet(...).arrow()",
        "polars.read_parquet(...).to_arrow()",
        "load() -> pandas: time",
        "load() -> pandas: peak RSS",
        "first load(output='arrow') vs load_dataset first call",
        "extra bytes on disk after the first load",
        "load(output='arrow') after build_arrow_copy",
        # scan
        "scan() of 20 partitions, first call in a process",
        "read by duckdb",
        # stream, the default (pandas) and Arrow
        "stream(): peak RSS streaming 4x the data (20 vs 5 shards)",
        "stream(): rows/s vs datasets streaming (same files)",
        "stream(): peak RSS vs datasets streaming",
        "stream(output='arrow'): peak RSS streaming 4x the data",
        "stream(output='arrow'): rows/s vs datasets streaming",
        "stream(output='arrow'): peak RSS vs datasets streaming",
        # downloads and the kill test
        "download 8 large files",
        "download 176 small files: ",
        "download 176 small files, 50 ms latency",
        "restart resumed each file (each of its ranges) where its part file ended (Range)",
        # one large file over ranges, from a server capping each connection
        "one 16.0 MiB file, 4 workers",
        "one 16.0 MiB file, 8 workers",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"lines missing from the smoke run: {missing}\n{out[-6000:]}"
    assert re.search(r"^\d+ PASS, \d+ MISS", out, re.MULTILINE), out[-3000:]
    assert "Traceback" not in out, out[-6000:]
    folder = re.search(r"^generating data in (\S+)", out, re.MULTILINE)
    assert folder and not Path(folder.group(1)).exists()  # its temporary folder is gone
    assert (ROOT / "docs" / "benchmarks.md").read_bytes() == docs  # --smoke writes nothing


@pytest.mark.slow
def test_bench_catalog_smoke_runs_every_case() -> None:
    out = _run_smoke("bench_catalog.py", timeout=300)
    assert "2,000 partitions in 10 subsets" in out
    for line in ("pygestor sync ", "pygestor list ", "download -s s0 --dry-run", "Catalog.select"):
        assert line in out, f"{line!r} missing from the smoke run:\n{out[-6000:]}"
    assert "Traceback" not in out, out[-6000:]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_torch_smoke_prints_every_figure() -> None:
    out = _run_smoke("bench_torch.py", timeout=240)
    expected = [
        "stream(output='arrow') (baseline): ",
        "stream(output='arrow'), rows as dicts: ",
        "torch_dataset(), rows, in process: ",
        "DataLoader(torch_dataset(), batch_size=256, num_workers=2): ",
        "  the same, shuffle=True, buffer_size=10000: ",
        "DataLoader(torch_dataset(output='arrow'), batch_size=None, num_workers=2): ",
    ]
    missing = [line for line in expected if line not in out]
    assert not missing, f"lines missing from the smoke run: {missing}\n{out[-4000:]}"
    assert "Traceback" not in out, out[-4000:]
    folder = re.search(r"^generating [\d,]+ rows in (\S+)", out, re.MULTILINE)
    assert folder and not Path(folder.group(1)).exists()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_bench_s3_smoke_prints_every_figure() -> None:
    out = _run_smoke("bench_s3.py", timeout=240)
    for case in (
        "download the subset (8 files, 4 workers): local ",
        "load(output='arrow'), every column: local ",
        "load() to pandas, id and title: local ",
        "stream(output='arrow'), every column: local ",
    ):
        assert re.search(re.escape(case) + r"[\d.]+ s, s3 [\d.]+ s: [\d.]+x", out), out[-4000:]
    assert "Traceback" not in out, out[-4000:]
    folder = re.search(r"^generating [\d,]+ rows in (\S+)", out, re.MULTILINE)
    assert folder and not Path(folder.group(1)).exists()


@pytest.mark.slow
@pytest.mark.timeout(360)
def test_bench_scale_out_smoke_runs_every_case() -> None:
    out = _run_smoke("bench_scale_out.py", timeout=300)
    for line in (
        "to_dask(): row count + text-length sum, vs load()",
        "to_ray(): row count + text-length sum, vs load()",
    ):
        assert line in out, f"{line!r} missing from the smoke run:\n{out[-6000:]}"
    assert "figures differ" not in out, out[-3000:]  # the engines counted what load counted
    assert re.search(r"^\d+ PASS, \d+ MISS", out, re.MULTILINE), out[-3000:]
    assert "Traceback" not in out, out[-6000:]
    folder = re.search(r"^generating data in (\S+)", out, re.MULTILINE)
    assert folder and not Path(folder.group(1)).exists()  # its temporary folder is gone

"""The benchmarks' smoke modes run in CI (tiny sizes), so the benchmarks cannot rot."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"


def test_bench_catalog_smoke() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCH / "bench_catalog.py"), "--smoke"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    assert "2,000 partitions in 10 subsets" in out
    for line in ("pygestor sync ", "pygestor list ", "download -s s0 --dry-run", "Catalog.select"):
        assert line in out

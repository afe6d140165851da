"""Opt-in: the built-in manifests against the real Hugging Face Hub (needs internet).

Run with `python -m pytest -m realhub`; deselected by default (see pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import make_settings
from pygestor.catalog import Catalog


@pytest.mark.realhub
@pytest.mark.parametrize(
    ("name", "subset", "partition"),
    [
        ("mnist", "train", "train-00000-of-00001.parquet"),
        ("wikipedia", "20231101.ab", "train-00000-of-00001.parquet"),
    ],
)
def test_builtin_manifest_syncs_against_the_real_hub(
    tmp_path: Path, name: str, subset: str, partition: str
) -> None:
    catalog = Catalog(make_settings(tmp_path, None))
    [result] = catalog.sync(name)
    assert result.error is None and result.commit and len(result.commit) == 40
    parts = catalog.partition_records(name, subset)
    assert partition in [p["partition"] for p in parts]

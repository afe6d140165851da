"""A 50,000-file repository synced end to end through the paged listing, and listed with 20
manifests."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import REPO_ROOT, make_settings, run_cli, write_manifest
from pygestor.catalog import Catalog
from pygestor.testing import replicas
from pygestor.testing.hub import HubServer

MANY = """
name: {name}
description: synthetic 50,000-file repository
source: {{huggingface: pygestor/many-files}}
subsets:
  - files: "data/{{subset}}/*.parquet"
"""


def test_sync_50000_files_then_list_with_20_manifests(tmp_path: Path, hub: HubServer) -> None:
    replicas.install(hub.hub, replicas.many_files(50_000))
    user = tmp_path / "user-catalog"
    builtin = len(list((REPO_ROOT / "catalog").glob("*.yaml")))
    extra = max(20 - builtin, 1)  # at least 20 manifests in all, one of them a 50,000-file dataset
    for i in range(extra):
        write_manifest(user, f"many{i:02d}", MANY.format(name=f"many{i:02d}"))
    catalog = Catalog(make_settings(tmp_path, hub.endpoint))
    [result] = catalog.sync("many00")
    assert (result.subsets, result.partitions) == (50, 50_000)
    # 50,000 files + 51 folder entries, 1,000 entries a page, one recursive listing
    assert len([r for r in hub.requests if "/tree/" in r.path]) == 51
    subsets = catalog.subset_records("many00")
    assert [s["subset"] for s in subsets[:2]] == ["part-0000", "part-0001"]
    assert all(s["partitions"] == 1000 for s in subsets)

    env = {"PYGESTOR_CATALOG": str(user), "PYGESTOR_DATA_DIR": str(tmp_path / "data")}
    listed = run_cli(["list", "--json"], env=env)
    assert listed.returncode == 0, listed.stderr
    records = {r["name"]: r for r in json.loads(listed.stdout)}
    assert len(records) == builtin + extra >= 20
    assert records["many00"]["partitions"] == 50_000
    assert all(r["partitions"] is None for name, r in records.items() if name != "many00")

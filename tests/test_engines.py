"""`to_dask` / `to_ray` on real engines: a `distributed.LocalCluster` of 2 worker processes and
a local Ray instance, both on 127.0.0.1, each started once for the session. Their results equal
`load` on the same selection: columns, dtypes, rows and order."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import pygestor
from conftest import REPO_ROOT, make_settings, write_manifest
from pygestor.catalog import Catalog
from pygestor.errors import SelectionError
from pygestor.read.engines import to_dask, to_ray
from pygestor.testing.hub import HubServer


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="session")
def ray_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    import ray

    quiet = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
    before = {name: os.environ.get(name) for name in quiet}
    os.environ.update(quiet)  # on loopback, no usage report (read when Ray starts)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=str(tmp_path_factory.mktemp("ray")),
        log_to_driver=False,
    )
    try:
        yield
    finally:
        ray.shutdown()
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _parquet(table: pa.Table, row_group_size: int = 50) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, row_group_size=row_group_size)
    return sink.getvalue()


def _rows(start: int, n: int) -> pa.Table:
    ids = list(range(start, start + n))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "text": [f"row {i} " + "x" * (i % 13) for i in ids],
            "label": [i % 5 for i in ids],
            "score": [None if i % 7 == 0 else i / 4 for i in ids],
        }
    )


def _catalog(
    tmp_path: Path, hub: HubServer, files: dict[str, bytes], load: str = "", **settings: Any
) -> Catalog:
    hub.hub.create_repo("pygestor/engines", files)
    write_manifest(
        tmp_path / "user-catalog",
        "engines",
        f"""
name: engines
source: {{huggingface: pygestor/engines}}
subsets:
  - files: "{{subset}}/*"
{load}""",
    )
    return Catalog(make_settings(tmp_path, hub.endpoint, include_builtin=False, **settings))


def _parquet_files() -> dict[str, bytes]:
    sizes = [120, 7, 260, 45]
    files, start = {}, 0
    for i, n in enumerate(sizes):
        files[f"train/part-{i}.parquet"] = _parquet(_rows(start, n))
        start += n
    return files


@pytest.fixture
def parquet_catalog(tmp_path: Path, hub: HubServer) -> Catalog:
    """Subset `train`: 4 parquet files of uneven sizes (several row groups each)."""
    return _catalog(tmp_path, hub, _parquet_files(), "load:\n  columns: [id, text, label]\n")


@pytest.fixture
def bucket_catalog(tmp_path: Path, hub: HubServer, seaweed: Any, seaweed_url: str) -> Catalog:
    """The same subset with the data directory in a bucket of the SeaweedFS server."""
    options = {"data_url": seaweed_url, "storage_options": seaweed.options()}
    return _catalog(
        tmp_path, hub, _parquet_files(), "load:\n  columns: [id, text, label]\n", **options
    )


def test_both_engines_read_a_data_dir_in_a_bucket(
    bucket_catalog: Catalog, dask_client: Any, ray_session: None
) -> None:
    """The workers (other processes) read the files through the bucket's pyarrow filesystem."""
    how: dict[str, Any] = {"columns": "all", "filters": [("label", "in", [1, 3])]}
    want = bucket_catalog.load("engines", "train", **how)
    assert bucket_catalog.storage.url.startswith("s3://") and len(want) > 0
    selection = bucket_catalog.readable("engines", "train", None, True)
    _same(to_dask(selection, **how).compute(), want)
    arrow = bucket_catalog.load("engines", "train", output="arrow", **how)
    assert _ray_arrow(to_ray(selection, **how)).equals(arrow)


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.columns) == list(want.columns)
    assert dict(got.dtypes) == dict(want.dtypes)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want, check_exact=True)


SELECTIONS: list[dict[str, Any]] = [
    {},  # the manifest's load.columns, every file
    {"columns": ["text", "score"]},
    {"columns": "all", "filters": [("label", "in", [1, 3]), ("id", ">", 30)]},
    {"filters": pc.field("score") > 40.0, "partitions": ["part-2.parquet", "part-0.parquet"]},
    {"dtypes": {"label": "int8", "text": "large_string"}},
]


@pytest.mark.parametrize("how", SELECTIONS, ids=["default", "columns", "filters", "expr", "dtypes"])
def test_to_dask_equals_load_on_parquet(
    parquet_catalog: Catalog, dask_client: Any, how: dict[str, Any]
) -> None:
    partitions = how.pop("partitions", None)
    want = parquet_catalog.load("engines", "train", partitions=partitions, **how)
    selection = parquet_catalog.readable("engines", "train", partitions, True)
    frame = to_dask(selection, **how)
    assert frame.npartitions == len(partitions or range(4))
    got = frame.compute()
    _same(got, want)
    assert len(want) > 0


@pytest.mark.parametrize("how", SELECTIONS, ids=["default", "columns", "filters", "expr", "dtypes"])
def test_to_ray_equals_load_on_parquet(
    parquet_catalog: Catalog, ray_session: None, how: dict[str, Any]
) -> None:
    partitions = how.pop("partitions", None)
    want = parquet_catalog.load("engines", "train", partitions=partitions, **how)
    arrow = parquet_catalog.load("engines", "train", partitions=partitions, output="arrow", **how)
    dataset = to_ray(parquet_catalog.readable("engines", "train", partitions, True), **how)
    assert _ray_arrow(dataset).equals(arrow)
    _same(_ray_pandas(dataset), want)
    assert dataset.count() == len(want)


def _ray_arrow(dataset: Any) -> pa.Table:
    import ray

    return pa.concat_tables(ray.get(dataset.to_arrow_refs()))


def _ray_pandas(dataset: Any) -> pd.DataFrame:
    """`to_pandas()` with Ray's numpy conversion (its default since 2.56 is `pd.ArrowDtype`)."""
    from ray.data import DataContext

    context = DataContext.get_current()
    before = context.enable_arrow_backed_pandas_conversion
    context.enable_arrow_backed_pandas_conversion = False
    try:
        return dataset.to_pandas()
    finally:
        context.enable_arrow_backed_pandas_conversion = before


def _jsonl(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


@pytest.fixture
def jsonl_catalog(tmp_path: Path, hub: HubServer) -> Catalog:
    """Subset `chat`: 3 JSON-lines files, the second without a `tag` field, one empty."""
    a = [{"id": i, "prompt": f"q{i} ünï", "tag": "a" if i % 2 else None} for i in range(40)]
    b = [{"id": 100 + i, "prompt": f"b{i}"} for i in range(9)]
    files = {"chat/a.jsonl": _jsonl(a), "chat/b.jsonl": _jsonl(b), "chat/c.jsonl": b""}
    return _catalog(tmp_path, hub, files)


def test_engines_equal_load_on_jsonl(
    jsonl_catalog: Catalog, dask_client: Any, ray_session: None
) -> None:
    want = jsonl_catalog.load("engines", "chat")
    assert len(want) == 49 and list(want.columns) == ["id", "prompt", "tag"]
    selection = jsonl_catalog.readable("engines", "chat", None, True)
    _same(to_dask(selection).compute(), want)
    _same(_ray_pandas(to_ray(selection)), want)
    assert _ray_arrow(to_ray(selection)).equals(
        jsonl_catalog.load("engines", "chat", output="arrow")
    )
    only = jsonl_catalog.load("engines", "chat", filters=[("id", ">=", 35)], columns=["prompt"])
    _same(to_dask(selection, filters=[("id", ">=", 35)], columns=["prompt"]).compute(), only)
    _same(_ray_pandas(to_ray(selection, filters=[("id", ">=", 35)], columns=["prompt"])), only)


def test_mixed_formats_unify_as_load_does(
    tmp_path: Path, hub: HubServer, dask_client: Any, ray_session: None
) -> None:
    # a parquet file (score: double) then JSON lines (score: int64, no `text`): two runs
    rows = [{"id": 900 + i, "label": i, "score": i} for i in range(5)]
    files = {"mix/a.parquet": _parquet(_rows(0, 30)), "mix/b.jsonl": _jsonl(rows)}
    catalog = _catalog(tmp_path, hub, files)
    want = catalog.load("engines", "mix")
    assert len(want) == 35 and want["text"].isna().sum() == 5
    selection = catalog.readable("engines", "mix", None, True)
    _same(to_dask(selection).compute(), want)
    assert _ray_arrow(to_ray(selection)).equals(catalog.load("engines", "mix", output="arrow"))


def test_only_empty_files_give_no_rows(
    tmp_path: Path, hub: HubServer, dask_client: Any, ray_session: None
) -> None:
    catalog = _catalog(tmp_path, hub, {"chat/a.jsonl": b"", "chat/b.jsonl": b""})
    want = catalog.load("engines", "chat", columns=["id"])
    assert len(want) == 0
    selection = catalog.readable("engines", "chat", None, True)
    assert len(to_dask(selection, columns=["id"]).compute()) == 0
    assert to_ray(selection, columns=["id"]).count() == 0


def test_facade_downloads_then_reads(
    parquet_catalog: Catalog,
    dask_client: Any,
    ray_session: None,
    tmp_path: Path,
    hub: HubServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYGESTOR_CATALOG", str(tmp_path / "user-catalog"))
    monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
    frame = pygestor.to_dask("engines", "train", columns=["id"], filters=[("id", "<", 10)])
    assert frame.compute()["id"].tolist() == list(range(10))
    assert pygestor.partitions("engines", "train")["state"].tolist() == ["local"] * 4
    dataset = pygestor.to_ray("engines", "train", columns=["id"], filters=[("id", ">=", 420)])
    assert [row["id"] for row in dataset.take_all()] == list(range(420, 432))


def test_equal_to_load_from_the_arrow_copy(parquet_catalog: Catalog, dask_client: Any) -> None:
    # `load` of a whole subset reads its Arrow copy when there is one; the engines read the files
    parquet_catalog.load("engines", "train")  # downloads
    parquet_catalog.build_arrow_copy("engines", "train")
    want = parquet_catalog.load("engines", "train", filters=[("label", "=", 2)])
    selection = parquet_catalog.readable("engines", "train", None, True)
    _same(to_dask(selection, filters=[("label", "=", 2)]).compute(), want)
    assert len(want) == 432 // 5 + (432 % 5 > 2)


def test_a_categorical_column_with_an_all_null_file(
    jsonl_catalog: Catalog, dask_client: Any
) -> None:
    # b.jsonl has no `tag`: its partition's categories are empty, typed as a's for the concat
    selection = jsonl_catalog.readable("engines", "chat", None, True)
    want = jsonl_catalog.load("engines", "chat", dtypes={"tag": "category"})
    frame = to_dask(selection, dtypes={"tag": "category"})
    assert frame.dtypes["tag"] == "category"
    _same(frame.compute(), want)
    assert want["tag"].cat.categories.tolist() == ["a"]


def test_a_wrong_column_is_one_error_before_any_task(parquet_catalog: Catalog) -> None:
    selection = parquet_catalog.readable("engines", "train", None, True)
    with pytest.raises(SelectionError, match=r"no column 'txt'.*did you mean 'text'"):
        to_dask(selection, columns=["txt"])
    with pytest.raises(SelectionError, match="no column 'txt'"):
        to_ray(selection, columns=["txt"])


@pytest.mark.parametrize("engine", ["dask", "ray"])
def test_a_missing_engine_names_the_extra(engine: str, tmp_path: Path) -> None:
    # a fresh interpreter where the engine's package is not found, as when it is not installed
    code = (
        "import sys\n"
        "class Missing:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.partition('.')[0] == {engine!r}:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Missing())\n"
        "from pygestor.read.engines import engine\n"
        f"engine({engine!r})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 1
    module = {"dask": "dask.dataframe", "ray": "ray.data"}[engine]
    assert last == (
        f"pygestor.errors.PygestorError: to_{engine} needs {module}, which cannot be imported "
        f"(No module named {engine!r}); "
        f"install it with: pip install 'pygestor[{engine}]'"
    )

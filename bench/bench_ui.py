"""Web-UI benchmark (issue 10): the server time of the catalog page with 1,000 datasets, of a
subset page with 5,000 partitions, and what a preview of a remote partition costs.

    .venv/bin/python bench/bench_ui.py [--datasets 1000] [--partitions 5000] [--runs 11]
    [--only catalog subset preview]

Needs the `ui` extra (FastAPI, Jinja2; `httpx` for the test client). Never run in CI. In one
temporary folder, removed at the end, it writes the generated catalog of
`pygestor.testing.big_catalog` (varied modality, license and tags) and serves its repos from the
offline Hub, then times in this process, as medians of `--runs` after one warm-up call:

- catalog: `Catalog.dataset_records()` (the baseline: the bare listing), `views.datasets_page`
  (first page; a search), GET /api/datasets and GET / (the page) through FastAPI's TestClient,
  each with no dataset synced and with all of them synced; "cold" is the same page with the
  manifest cache emptied before each call (every manifest parsed, as before the cache);
- subset: `Catalog.partition_records()` (baseline), `views.partitions_page` (first page, page 50,
  a state filter), `views.dataset_detail`, GET /api/.../partitions, GET of the subset page, with
  three `.part` files in the subset's folder; "stat per partition" is the page with the walk
  turned off (`selection.PARTIAL_STATS` raised), as before;
- preview: `Catalog.preview` of a remote partition of a large-image replica (incompressible PNGs,
  first row group far over the cap) at the default cap: bytes fetched (from the Hub's request
  log) against the file's size, and its wall time against downloading the file.

Routes that are not on this branch yet (GET / before the pages land) are printed as skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from pygestor.catalog import Catalog
from pygestor.index import selection
from pygestor.manifest import cache
from pygestor.settings import Settings
from pygestor.testing import big_catalog, replicas
from pygestor.testing.hub import HubServer, LocalHub
from pygestor.ui import views

TARGET_CATALOG_S = 0.300
IMAGE_REPO, IMAGE_NAME = "pygestor-bench/large-images", "bench-images"
IMAGE_MANIFEST = f"""name: {IMAGE_NAME}
description: Large incompressible images, a row group far over the preview's cap.
modality: [image]
source: {{huggingface: {IMAGE_REPO}}}
subsets:
  - files: "data/{{subset}}-*.parquet"
format: parquet
"""


class Report:
    """One line per figure; a markdown table at the end (for docs/benchmarks.md)."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str]] = []

    def add(self, what: str, figure: str, target: str = "") -> None:
        self.rows.append((what, figure, target))
        print(f"  {what:<62} {figure:<34} {target}", flush=True)

    def timing(
        self,
        what: str,
        seconds: float | None,
        *,
        baseline: float | None = None,
        target: float | None = None,
    ) -> None:
        if seconds is None:
            self.add(what, "skipped: the route is not on this branch")
            return
        figure = f"{seconds * 1000:.1f} ms"
        if baseline:
            figure += f" ({seconds / baseline:.2f}x baseline)"
        verdict = ""
        if target is not None:
            verdict = f"< {target * 1000:.0f} ms " + ("PASS" if seconds < target else "MISS")
        self.add(what, figure, verdict)

    def markdown(self) -> str:
        lines = ["| what | figure | target |", "|---|---|---|"]
        lines += [f"| {w} | {f} | {t or '—'} |" for w, f, t in self.rows]
        return "\n".join(lines)


def median_time(
    fn: Callable[[], Any], runs: int, *, before: Callable[[], Any] | None = None
) -> float:
    """The median wall time of `fn()` over `runs` calls, after one untimed warm-up call;
    `before` runs (untimed) before each call."""
    if before:
        before()
    fn()
    times = []
    for _ in range(runs):
        if before:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def route_time(client: Any, url: str, runs: int, **kw: Any) -> float | None:
    """`median_time` of GET `url` through the test client; None when the route is missing."""
    response = client.get(url, **kw)
    if response.status_code == 404 and "not found" in response.text.lower():
        return None
    assert response.status_code == 200, (url, response.status_code, response.text[:300])

    def get() -> None:
        assert client.get(url, **kw).status_code == 200

    return median_time(get, runs)


@contextlib.contextmanager
def ui_client(catalog: Catalog) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from pygestor.ui.app import create_app

    with TestClient(create_app(catalog), base_url="http://127.0.0.1") as client:
        yield client


# ---- catalog: 1,000 datasets -----------------------------------------------------------------
def bench_catalog(root: Path, n: int, runs: int, report: Report) -> None:
    hub = LocalHub(root / "hub")
    big_catalog.install_small_repo(hub)
    user = root / "user-catalog"
    generated = big_catalog.write_catalog(user, n)
    print(f"\ncatalog: {n:,} generated manifests in {user}", flush=True)
    synced_dir = root / "data-synced"
    with HubServer(hub) as server:
        start = time.perf_counter()
        Catalog(
            Settings(data_dir=synced_dir, user_catalog_dir=user, hf_endpoint=server.endpoint)
        ).sync([g.name for g in generated])
        print(f"  synced {n:,} datasets in {time.perf_counter() - start:.1f} s", flush=True)
    time.sleep(cache.RACY_SECONDS)  # the manifests just written are cached from now on
    for label, data_dir in (
        ("none synced", root / "data-empty"),
        (f"all {n:,} synced", synced_dir),
    ):
        catalog = Catalog(Settings(data_dir=data_dir, user_catalog_dir=user))
        print(f" {label}:")
        base = median_time(catalog.dataset_records, runs)
        report.timing(f"{label}: Catalog.dataset_records() (baseline)", base)
        page = median_time(lambda c=catalog: views.datasets_page(c), runs)  # type: ignore[misc]
        report.timing(f"{label}: views.datasets_page, first page", page, baseline=base)
        search = median_time(lambda c=catalog: views.datasets_page(c, q="speech"), runs)  # type: ignore[misc]
        report.timing(f"{label}: views.datasets_page, q=speech", search, baseline=base)
        cold = median_time(
            lambda c=catalog: views.datasets_page(c),  # type: ignore[misc]
            max(3, runs // 3),
            before=cache.CACHE.clear,
        )
        report.timing(
            f"{label}: the same, manifest cache emptied each call (cold)", cold, baseline=base
        )
        with ui_client(catalog) as client:
            api = route_time(client, "/api/datasets", runs)
            report.timing(
                f"{label}: GET /api/datasets", api, baseline=base, target=TARGET_CATALOG_S
            )
            api_q = route_time(client, "/api/datasets", runs, params={"q": "speech"})
            report.timing(
                f"{label}: GET /api/datasets?q=speech",
                api_q,
                baseline=base,
                target=TARGET_CATALOG_S,
            )
            filt = route_time(
                client, "/api/datasets", runs, params={"modality": "audio", "page": 3}
            )
            report.timing(f"{label}: GET /api/datasets?modality=audio&page=3", filt, baseline=base)
            html = route_time(client, "/", runs)
            report.timing(
                f"{label}: GET / (the catalog page)", html, baseline=base, target=TARGET_CATALOG_S
            )
            typed = route_time(client, "/fragments/datasets", runs, params={"q": "speech"})
            report.timing(
                f"{label}: GET /fragments/datasets?q=speech (search as you type)",
                typed,
                baseline=base,
                target=TARGET_CATALOG_S,
            )


# ---- subset: 5,000 partitions ----------------------------------------------------------------
def bench_subset(root: Path, n: int, runs: int, report: Report) -> None:
    hub = LocalHub(root / "hub-wide")
    big_catalog.install_wide_repo(hub, n)
    user = root / "user-wide"
    user.mkdir()
    (user / "wide.yaml").write_text(big_catalog.WIDE_MANIFEST, encoding="utf-8")
    data = root / "data-wide"
    with HubServer(hub) as server:
        catalog = Catalog(
            Settings(data_dir=data, user_catalog_dir=user, hf_endpoint=server.endpoint)
        )
        catalog.sync("wide")
    train = data / "wide" / "train"
    train.mkdir(parents=True)
    for i in (7, n // 2, n - 1):  # downloads in progress: the subset's folder exists
        (train / f".part-{i:05d}.parquet.part").write_bytes(b"x" * 1000)
    print(f"\nsubset: 'wide/train', {n:,} partitions (3 partial)", flush=True)
    catalog = Catalog(Settings(data_dir=data, user_catalog_dir=user))
    first = views.partitions_page(catalog, "wide", "train")
    assert first["states"]["partial"] == 3 and first["total"] == n, first["states"]
    base = median_time(lambda: catalog.partition_records("wide", "train"), runs)
    report.timing(f"{n:,} partitions: Catalog.partition_records() (baseline)", base)
    page = median_time(lambda: views.partitions_page(catalog, "wide", "train"), runs)
    report.timing(f"{n:,} partitions: views.partitions_page, first page", page, baseline=base)
    last = views.Paging(page=n // 100, per_page=100, sort="partition")
    deep = median_time(lambda: views.partitions_page(catalog, "wide", "train", paging=last), runs)
    report.timing(
        f"{n:,} partitions: views.partitions_page, page {n // 100} of 100 rows", deep, baseline=base
    )
    state = median_time(
        lambda: views.partitions_page(catalog, "wide", "train", state="partial"), runs
    )
    report.timing(f"{n:,} partitions: views.partitions_page, state=partial", state, baseline=base)
    detail = median_time(lambda: views.dataset_detail(catalog, "wide"), runs)
    report.timing(f"{n:,} partitions: views.dataset_detail (state counts)", detail, baseline=base)
    saved = selection.PARTIAL_STATS
    selection.PARTIAL_STATS = 10 * n
    try:
        stat_each = median_time(lambda: views.partitions_page(catalog, "wide", "train"), runs)
    finally:
        selection.PARTIAL_STATS = saved
    report.timing(
        f"{n:,} partitions: first page with a stat per partition (before)", stat_each, baseline=base
    )
    with ui_client(catalog) as client:
        url = "/api/datasets/wide/subsets/train/partitions"
        report.timing(f"{n:,} partitions: GET {url}", route_time(client, url, runs), baseline=base)
        report.timing(
            f"{n:,} partitions: GET ...partitions?page={n // 100}&per_page=100",
            route_time(client, url, runs, params={"page": n // 100, "per_page": 100}),
            baseline=base,
        )
        report.timing(
            f"{n:,} partitions: GET /datasets/wide/subsets/train (the page)",
            route_time(client, "/datasets/wide/subsets/train", runs),
            baseline=base,
        )


# ---- preview: a remote partition of large images ---------------------------------------------
def image_parquet(rows: int, side: int, row_group: int) -> bytes:
    """`rows` incompressible side x side RGB PNGs with a caption and a label, `row_group` rows
    per row group, Hugging Face `Image` features."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(10)
    records = [
        {
            "image": {
                "bytes": replicas.png_bytes(side, side, rng.randbytes(side * side * 3), channels=3),
                "path": f"{i:05d}.png",
            },
            "caption": f"picture {i}",
            "label": i % 10,
        }
        for i in range(rows)
    ]
    schema = pa.schema(
        [
            ("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
            ("caption", pa.string()),
            ("label", pa.int64()),
        ]
    )
    features = {
        "image": {"_type": "Image"},
        "caption": replicas.hf_value("string"),
        "label": replicas.hf_value("int64"),
    }
    table = replicas.table(records, schema, features)
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group, compression="snappy")
    return out.getvalue()


def bench_preview(root: Path, runs: int, report: Report) -> None:
    if not hasattr(Catalog, "preview"):
        report.add(
            "preview of a remote large-image partition",
            "skipped: Catalog.preview is not on this branch",
        )
        return
    data = image_parquet(rows=160, side=256, row_group=40)
    hub = LocalHub(root / "hub-images")
    files = {".gitattributes": replicas.gitattributes(), "data/train-0.parquet": data}
    replicas.install(hub, replicas.Replica(IMAGE_REPO, files))
    user = root / "user-images"
    user.mkdir()
    (user / f"{IMAGE_NAME}.yaml").write_text(IMAGE_MANIFEST, encoding="utf-8")
    print(f"\npreview: one remote partition of {len(data) / 2**20:.1f} MiB of PNGs", flush=True)
    with HubServer(hub) as server:
        settings = Settings(
            data_dir=root / "data-images", user_catalog_dir=user, hf_endpoint=server.endpoint
        )
        catalog = Catalog(settings)
        catalog.sync(IMAGE_NAME)
        got = catalog.preview(IMAGE_NAME)
        assert got["location"] == "remote", got["location"]
        seconds = median_time(lambda: catalog.preview(IMAGE_NAME), runs)
        served = _served_bytes(server, lambda: catalog.preview(IMAGE_NAME))
        left_out = [s["column"] for s in got["skipped"]]
        shown = f"{len(got['rows'])} rows, capped={got['capped']}, left out {left_out}"

        def download() -> None:
            catalog.download(IMAGE_NAME)

        def remove() -> None:
            catalog.remove(IMAGE_NAME, all_subsets=True)

        fetched = median_time(download, max(3, runs // 3), before=remove)
    report.add(
        "preview, default cap: bytes fetched (reported; served by the Hub)",
        f"{got['bytes_fetched']:,} B; {served:,} B of {len(data):,} B ({served / len(data):.1%})",
        "bounded by the cap (4 MiB)",
    )
    report.timing("preview, default cap: wall time", seconds, baseline=fetched)
    report.timing("download of the same partition (baseline)", fetched)
    report.add("preview, default cap: what it shows", shown)


def _served_bytes(server: HubServer, fn: Callable[[], Any]) -> int:
    """The body bytes the Hub (and its LFS origin) sent while `fn` ran."""
    server.requests.clear()
    fn()
    return sum(r.bytes_sent for r in server.requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--partitions", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--only", nargs="+", choices=("catalog", "subset", "preview"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    groups = set(args.only or ("catalog", "subset", "preview"))
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}; "
        f"medians of {args.runs} runs"
    )
    root = Path(tempfile.mkdtemp(prefix="pygestor-bench-ui-"))
    report = Report()
    try:
        if "catalog" in groups:
            bench_catalog(root, args.datasets, args.runs, report)
        if "subset" in groups:
            bench_subset(root, args.partitions, args.runs, report)
        if "preview" in groups:
            bench_preview(root, args.runs, report)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    print("\n" + report.markdown())
    sys.stdout.flush()


if __name__ == "__main__":
    main()

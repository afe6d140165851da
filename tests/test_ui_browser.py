"""The web UI end to end, in headless Chromium (Debian's `chromium`, driven by Playwright's sync
API with `executable_path`: Playwright's own browser download cannot work here).

One browser and one UI server (uvicorn in a thread, `tests/ui_server.py`) serve the whole module,
over the bundled Hub with the replicas of the built-in datasets; each test opens its own browser
context. Screenshots of the main pages are saved under the test output
(`<pytest's base temp>/screenshots/`).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = next(
    (
        p
        for p in (os.environ.get("PYGESTOR_CHROMIUM"), "/usr/bin/chromium")
        if p and os.path.exists(p)
    ),
    shutil.which("chromium"),
)
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no chromium executable (apt-get install chromium): the browser tests drive one",
    ),
    pytest.mark.timeout(180),
]

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402
from ui_server import NEW_REPO, UiServer, World, ui_world  # noqa: E402

from pygestor.testing.hub import Fault  # noqa: E402
from pygestor.ui import views  # noqa: E402
from pygestor.ui.app import create_app  # noqa: E402

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EN = "20231101.en"
#: a throttled Hub: every LFS body in 512-byte pieces, 0.1 s apart (a 3 kB file takes ~0.6 s)
THROTTLE = {"origin": "lfs", "chunk_size": 512, "chunk_delay": 0.1, "times": None}
expect.set_options(timeout=15_000)  # 2 cores running a server, a Hub and a browser


# ---- the module's world: one Hub, one catalog, one server, one browser --------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = ui_world(tmp_path_factory.mktemp("ui-world"))
    built.catalog.sync(["wikipedia", "wit_base", "mnist", "notes", "voices", "photos"])
    try:
        yield built
    finally:
        built.hub.stop()


@pytest.fixture(scope="module")
def server(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiServer]:
    app = create_app(world.catalog, jobs_dir=tmp_path_factory.mktemp("ui-jobs"))
    with UiServer(app) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def context(browser: Browser, server: UiServer) -> Iterator[BrowserContext]:
    ctx = browser.new_context(
        base_url=server.url, viewport={"width": 1400, "height": 900}, locale="en-US"
    )
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    opened.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    yield opened
    assert not problems, problems  # no script error, nothing the CSP had to refuse


@pytest.fixture
def throttled(world: World) -> Iterator[None]:
    world.hub.faults.add(Fault(**THROTTLE))  # type: ignore[arg-type]
    try:
        yield
    finally:
        world.hub.faults.clear()


def names_shown(page: Page) -> list[str]:
    return page.locator("table.datasets tbody tr[data-name]").evaluate_all(
        "rows => rows.map(r => r.dataset.name)"
    )


def open_subset(page: Page, dataset: str, subset: str) -> None:
    page.goto(f"/datasets/{dataset}/subsets/{subset}")
    expect(page.locator("h1")).to_have_text(f"{dataset} / {subset}")


def job_in_strip(page: Page, job_id: str) -> str:
    return f'#jobs-strip [data-job-id="{job_id}"]'


def start_download(page: Page, button: str) -> str:
    """Click a download button; the id of the job it started (the newest in the strip)."""
    with page.expect_response(
        lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST"
    ) as answer:
        page.click(button)
    assert answer.value.status == 201, answer.value.text()
    job_id: str = answer.value.json()["id"]
    expect(page.locator(job_in_strip(page, job_id))).to_be_visible()
    return job_id


def partition_state(page: Page, partition: str) -> str:
    return page.locator(f'tr[data-partition="{partition}"]').get_attribute("data-state") or ""


# ---- the catalog ------------------------------------------------------------------------------
def test_catalog_search_sort_filter_and_open_a_dataset(
    page: Page, world: World, shots: Path
) -> None:
    page.goto("/")
    expect(page.locator("table.datasets")).to_be_visible()
    everything = views.datasets_page(world.catalog, paging=views.Paging(per_page=100))
    assert names_shown(page) == [r["name"] for r in everything["items"][:10]]
    expect(page.locator(".pager .count")).to_have_text(f"1\N{EN DASH}10 of {everything['total']}")
    page.screenshot(path=str(shots / "catalog.png"), full_page=True)

    # search as you type: the table follows each keystroke (debounced), the address bar too
    page.locator("#q").press_sequentially("wiki", delay=30)
    expected = [r["name"] for r in views.datasets_page(world.catalog, q="wiki")["items"]]
    assert "wikipedia" in expected and "mnist" not in expected
    expect(page.locator("table.datasets tbody tr[data-name]")).to_have_count(len(expected))
    assert names_shown(page) == expected
    assert page.url.endswith("/?q=wiki")

    # sorting by a header, then a filter keeps the sort
    page.click("th button[data-sort=name]")  # sorted by name already: now descending
    expect(page.locator("th[aria-sort=descending] button[data-sort=name]")).to_be_visible()
    assert names_shown(page) == sorted(expected, reverse=True)
    page.select_option("select[name=modality]", "image")
    images = views.datasets_page(
        world.catalog, q="wiki", modality="image", paging=views.Paging(order="desc")
    )
    expect(page.locator("table.datasets tbody tr[data-name]")).to_have_count(images["total"])
    assert names_shown(page) == [r["name"] for r in images["items"]] == ["wit_base"]
    assert "order=desc" in page.url and "modality=image" in page.url

    # a reload shows the same table; clearing the search and "local only" finds nothing local
    page.reload()
    assert names_shown(page) == ["wit_base"]
    page.fill("#q", "")
    page.select_option("select[name=modality]", "")
    page.select_option("select[name=per_page]", "25")
    expect(page.locator("table.datasets tbody tr[data-name]")).to_have_count(everything["total"])
    page.screenshot(path=str(shots / "catalog-all.png"), full_page=True)
    wiki = page.locator('tr[data-name="wikipedia"] td')
    expect(wiki.nth(5)).to_have_text("0 / 43")  # partitions local/total
    expect(wiki.nth(6)).to_have_text(re.compile(r"^0 B / \d+\.\d kB$"))
    page.click("tr[data-name=wikipedia] a")
    expect(page.locator("h1")).to_contain_text("wikipedia")
    expect(page.locator("#subsets tbody tr")).to_have_count(3)
    expect(page.locator('#subsets tr[data-subset="20231101.en"] td').nth(3)).to_have_text("0 / 41")
    page.screenshot(path=str(shots / "dataset.png"), full_page=True)


def test_a_fragment_error_is_a_message_in_the_page(page: Page) -> None:
    page.goto("/")
    page.evaluate("htmx.ajax('GET', '/fragments/datasets?sort=size', '#datasets')")
    expect(page.locator("#errors .error")).to_contain_text("sort must be one of name, modality")
    expect(page.locator("table.datasets")).to_be_visible()  # the table stays as it was
    page.goto("/datasets/no-such-thing")
    expect(page.locator("main .error")).to_contain_text("no-such-thing")


# ---- preview and schema, without downloading ----------------------------------------------------
def test_preview_of_a_remote_partition_reads_only_byte_ranges(
    page: Page, world: World, shots: Path
) -> None:
    open_subset(page, "wikipedia", EN)
    first = "train-00000-of-00041.parquet"
    size = next(
        r["size"]
        for r in world.catalog.partition_records("wikipedia", EN)
        if r["partition"] == first
    )
    world.hub.requests.clear()
    page.click("button:has-text('Preview')")
    table = page.locator("#preview table.preview")
    expect(table).to_be_visible()
    expect(table.locator("thead th")).to_have_text(["id", "url", "title", "text"])
    expect(table.locator("tbody tr")).to_have_count(3)  # the replica's shards hold 3 rows
    fetched = int(page.locator("#preview .bytes-fetched").get_attribute("data-bytes") or -1)
    assert 0 < fetched <= size

    blob = [r for r in world.hub.requests if r.origin == "lfs" or first in r.path]
    assert blob, "the preview fetched nothing from the Hub"
    for record in blob:
        if record.method == "GET" and record.origin == "lfs":
            assert record.range is not None and re.fullmatch(r"bytes=\d+-\d+", record.range), record
    assert sum(r.bytes_sent for r in blob if r.origin == "lfs") <= size
    assert partition_state(page, first) == "remote"  # nothing was downloaded
    assert not (world.data_dir / "wikipedia" / EN / first).exists()

    # field chips and the rows slider, then Refresh
    page.uncheck("#preview-form input[name=columns][value=text]")
    page.uncheck("#preview-form input[name=columns][value=url]")
    page.locator("#preview-form input[type=range]").fill("2")
    expect(page.locator("#rows-shown")).to_have_text("2")
    page.click("#preview-form button[type=submit]")
    expect(table.locator("thead th")).to_have_text(["id", "title"])
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(page.locator("#preview-form input[name=columns][value=text]")).not_to_be_checked()
    page.screenshot(path=str(shots / "preview.png"), full_page=True)


def test_schema_of_a_remote_partition(page: Page) -> None:
    open_subset(page, "wikipedia", "20231101.fr")
    page.click("button:has-text('Show schema')")
    rows = page.locator("#schema table.schema tbody tr td.name")
    expect(rows).to_have_text(["id", "url", "title", "text"])
    expect(page.locator("#schema .summary")).to_contain_text("remote")


def test_an_image_column_shows_as_images(page: Page, shots: Path) -> None:
    open_subset(page, "wit_base", "train")
    page.click("button:has-text('Preview')")
    images = page.locator("#preview table.preview td img")
    expect(images).to_have_count(2)  # two rows per shard, one image each
    assert images.first.get_attribute("src", timeout=5000).startswith("data:image/png;base64,")  # type: ignore[union-attr]
    widths = images.evaluate_all("imgs => imgs.map(i => i.naturalWidth)")
    assert all(w > 0 for w in widths), widths  # the browser decoded them
    page.screenshot(path=str(shots / "preview-images.png"), full_page=True)


def test_a_preview_stops_at_the_byte_cap_and_says_so(page: Page, world: World) -> None:
    open_subset(page, "photos", "train")  # one 6 MB row group of images
    world.hub.requests.clear()
    page.click("button:has-text('Preview')")
    expect(page.locator("#preview .cap")).to_contain_text("stopped at the cap of 4,194,304 bytes")
    expect(page.locator("#preview .skipped")).to_contain_text("image: not shown")
    captions = page.locator("#preview table.preview td.kind-text")
    expect(captions).to_have_text([f"photo {i}" for i in range(6)])
    fetched = int(page.locator("#preview .bytes-fetched").get_attribute("data-bytes") or -1)
    sent = sum(r.bytes_sent for r in world.hub.requests if r.origin == "lfs")
    assert 0 < fetched <= 4 * 2**20 and sent <= 4 * 2**20

    # a smaller cap, chosen in the page: the next read stays under it
    world.hub.requests.clear()
    page.select_option("#preview-form select[name=max_bytes]", str(256 * 1024))
    page.click("#preview-form button:has-text('Refresh')")
    expect(page.locator("#preview .cap")).to_contain_text("stopped at the cap of 262,144 bytes")
    expect(page.locator("#preview-form select[name=max_bytes]")).to_have_value(str(256 * 1024))
    fetched = int(page.locator("#preview .bytes-fetched").get_attribute("data-bytes") or -1)
    sent = sum(r.bytes_sent for r in world.hub.requests if r.origin == "lfs")
    assert 0 < fetched <= 256 * 1024 and sent <= 256 * 1024


def test_an_audio_column_shows_as_players(page: Page) -> None:
    open_subset(page, "voices", "train")
    page.click("button:has-text('Preview')")
    players = page.locator("#preview table.preview td audio[controls]")
    expect(players).to_have_count(2)
    assert (players.first.get_attribute("src") or "").startswith("data:audio/wav;base64,")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#preview audio')].every(a => a.duration > 0.2)"
    )  # the browser read them: a quarter of a second each
    expect(page.locator("#preview table.preview td.kind-text")).to_have_text(["yes", "no"])


# ---- downloads as jobs ----------------------------------------------------------------------
def test_download_a_selection_and_watch_it_complete(page: Page, world: World) -> None:
    open_subset(page, "wikipedia", "20231101.fr")
    (partition,) = [
        r["partition"] for r in world.catalog.partition_records("wikipedia", "20231101.fr")
    ]
    page.check(f'tr[data-partition="{partition}"] input.select-one')
    expect(page.locator("#selection-bar .selected-count")).to_have_text("1 partition selected")
    job_id = start_download(page, "[data-action=download-selection]")
    expect(page.locator(job_in_strip(page, job_id))).to_have_attribute("data-state", "done")
    expect(page.locator(f'tr[data-partition="{partition}"]')).to_have_attribute(
        "data-state", "local"
    )
    expect(page.locator(job_in_strip(page, job_id))).to_contain_text("1/1 files")
    assert (world.data_dir / "wikipedia" / "20231101.fr" / partition).exists()


def test_a_reload_mid_download_shows_it_going_on(
    page: Page, world: World, throttled: None, shots: Path
) -> None:
    open_subset(page, "wikipedia", EN)
    job_id = start_download(page, "#selection-bar [data-action=download-subset]")
    strip = page.locator(job_in_strip(page, job_id))
    expect(strip).to_have_attribute("data-state", "running")
    page.wait_for_function("id => (window.pygestor.jobs.get(id) || {}).bytes_done > 0", arg=job_id)
    before = page.evaluate("id => window.pygestor.jobs.get(id).bytes_done", job_id)
    page.reload()
    strip = page.locator(job_in_strip(page, job_id))
    expect(strip).to_have_attribute("data-state", "running")  # the same job, still going
    page.wait_for_function(
        "([id, before]) => (window.pygestor.jobs.get(id) || {}).bytes_done > before",
        arg=[job_id, before],
    )
    page.goto("/jobs")
    row = page.locator(f'#jobs-body tr[data-job-id="{job_id}"]')
    expect(row).to_be_visible()
    page.screenshot(path=str(shots / "jobs.png"), full_page=True)
    expect(row).to_have_attribute("data-state", "done", timeout=45_000)
    expect(row.locator(".files")).to_have_text("41/41")
    local = [r for r in world.catalog.partition_records("wikipedia", EN) if r["state"] == "local"]
    assert len(local) == 41


def test_a_download_a_stopped_server_left_resumes_after_a_restart(
    page: Page, world: World, tmp_path: Path
) -> None:
    world.hub.faults.add(Fault(origin="lfs", chunk_size=256, chunk_delay=0.2, times=None))
    jobs_dir = tmp_path / "jobs"
    try:
        with UiServer(create_app(world.catalog, jobs_dir=jobs_dir)) as first:
            page.goto(f"{first.url}/datasets/voices/subsets/train")
            job_id = start_download(page, "#selection-bar [data-action=download-subset]")
            page.wait_for_function(
                "id => (window.pygestor.jobs.get(id) || {}).bytes_done > 0", arg=job_id
            )
            page.goto("about:blank")  # the event stream closes; then the server stops
        world.hub.faults.clear()
        with UiServer(create_app(world.catalog, jobs_dir=jobs_dir)) as second:
            page.goto(f"{second.url}/jobs")
            row = page.locator(f'#jobs-body tr[data-job-id="{job_id}"]')
            expect(row).to_have_attribute("data-state", "interrupted")
            row.locator("[data-action=resume-job]").click()
            expect(row).to_have_attribute("data-state", "done")
            expect(row.locator(".files")).to_have_text("1/1")
    finally:
        world.hub.faults.clear()
    (record,) = world.catalog.partition_records("voices", "train")
    assert record["state"] == "local"


def test_cancel_a_download_then_resume_it(page: Page, world: World, throttled: None) -> None:
    open_subset(page, "wit_base", "train")
    job_id = start_download(page, "#selection-bar [data-action=download-subset]")
    strip = page.locator(job_in_strip(page, job_id))
    expect(strip).to_have_attribute("data-state", "running")
    strip.locator("[data-action=cancel-job]").click()
    expect(strip).to_have_attribute("data-state", "cancelled")
    states = {r["state"] for r in world.catalog.partition_records("wit_base", "train")}
    assert "local" not in states or len(states) > 1  # stopped before the end
    world.hub.faults.clear()
    strip.locator("[data-action=resume-job]").click()
    expect(strip).to_have_attribute("data-state", "done", timeout=30_000)
    states = {r["state"] for r in world.catalog.partition_records("wit_base", "train")}
    assert states == {"local"}


def test_remove_a_selection_shows_the_bytes_it_frees(page: Page, world: World) -> None:
    world.catalog.download("wikipedia", "20231101.ab")
    (record,) = world.catalog.partition_records("wikipedia", "20231101.ab")
    on_disk = world.data_dir / "wikipedia" / "20231101.ab" / record["partition"]
    assert on_disk.stat().st_size == record["size"]
    open_subset(page, "wikipedia", "20231101.ab")
    assert partition_state(page, record["partition"]) == "local"
    page.check("table.partitions input.select-page")  # select all on this page
    expect(
        page.locator(f'tr[data-partition="{record["partition"]}"] input.select-one')
    ).to_be_checked()
    page.click("[data-action=remove-selection]")
    dialog = page.locator("#remove-dialog")
    expect(dialog.locator(".frees")).to_have_text(
        f"This frees {views_bytes(record['size'])} ({record['size']:,} bytes): 1 file deleted."
    )
    dialog.locator("button[data-confirm]").click()
    expect(page.locator("main > .flash")).to_contain_text("Removed 1 file")
    expect(page.locator(f'tr[data-partition="{record["partition"]}"]')).to_have_attribute(
        "data-state", "remote"
    )
    assert not on_disk.exists()


def views_bytes(n: int) -> str:
    from pygestor.cli.output import human_bytes

    return human_bytes(n)


# ---- snippets and the clipboard -----------------------------------------------------------------
def test_copy_a_snippet_to_the_browsers_clipboard(
    context: BrowserContext, page: Page, world: World, server: UiServer
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_subset(page, "wikipedia", EN)
    picked = ["train-00001-of-00041.parquet", "train-00002-of-00041.parquet"]
    for name in picked:
        page.check(f'tr[data-partition="{name}"] input.select-one')
    page.click("[data-action=snippets]")
    dialog = page.locator("#snippets-dialog")
    expected = views.snippets(world.catalog, "wikipedia", EN, picked)
    expect(dialog.locator("#snippet-code")).to_have_text(expected["load"])
    dialog.locator("[role=tab][data-tab=cli]").click()
    expect(dialog.locator("#snippet-code")).to_have_text(expected["cli"])
    dialog.locator("[data-action=copy-snippet]").click()
    expect(dialog.locator(".copied")).to_have_text("Copied to the clipboard.")
    assert page.evaluate("navigator.clipboard.readText()") == expected["cli"]
    assert expected["cli"].startswith("pygestor download wikipedia -s 20231101.en -p train-00001")


# ---- the manifests ----------------------------------------------------------------------------
def test_edit_a_user_manifest_keeps_its_comments(page: Page, world: World) -> None:
    path = world.user_catalog / "notes.yaml"
    before = path.read_text(encoding="utf-8")
    page.goto("/datasets/notes")
    form = page.locator("#manifest-form")
    expect(form).to_be_visible()
    # a value the validator refuses is a clear message, and the file is left alone
    form.locator("input[name=modality]").fill("text, smell")
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-error")).to_contain_text("modality")
    assert path.read_text(encoding="utf-8") == before

    form.locator("input[name=modality]").fill("text, tabular")
    form.locator("textarea[name=description]").fill(
        "Meeting notes of the team, one subset per year."
    )
    form.locator("input[name=tags]").fill("internal, notes")
    form.locator("button[type=submit]").click()
    expect(page.locator("main > .flash")).to_contain_text("Saved the manifest of notes")
    expect(page.locator("dl.meta dd.description")).to_have_text(
        "Meeting notes of the team, one subset per year."
    )
    after = path.read_text(encoding="utf-8")
    for comment in ("# Team notes: keep this comment", "# our mirror", "# one folder per year"):
        assert comment in after
    assert "Meeting notes of the team, one subset per year." in after
    keys = [line.split(":")[0] for line in after.splitlines() if re.match(r"^[a-z]+:", line)]
    assert keys == [
        "name",
        "description",
        "modality",
        "license",
        "tags",
        "source",
        "subsets",
        "format",
    ]
    assert list(world.catalog.manifest("notes").modality) == ["text", "tabular"]


def test_a_built_in_manifest_is_read_only(page: Page) -> None:
    page.goto("/datasets/mnist")
    expect(page.locator("#manifest-form")).to_have_count(0)
    expect(page.locator(".side .note")).to_contain_text("A built-in manifest is read-only")


def test_add_a_dataset_through_the_form_and_sync_it(page: Page, world: World, shots: Path) -> None:
    page.goto("/add")
    # only the configured Hub endpoint is contacted: another host is one clear line
    page.fill("#propose-form input[name=repo]", f"https://example.org/datasets/{NEW_REPO}")
    page.click("#propose-form button[type=submit]")
    expect(page.locator("#errors .error")).to_contain_text("only the configured Hub endpoint")
    page.fill("#propose-form input[name=repo]", f"{world.hub.endpoint}/datasets/{NEW_REPO}")
    page.click("#propose-form button[type=submit]")
    editor = page.locator("#manifest-text")
    expect(editor).to_be_visible()
    expect(editor).to_have_value(re.compile(r"huggingface: lab/fresh-corpus"))
    expect(page.locator("#problems li.ok")).to_have_text("The manifest is valid.")
    text = editor.input_value()

    # a typo is reported with its line, live; fixing it clears the message
    broken = text.replace("format: parquet", "format: parquett")
    assert broken != text
    line = broken.splitlines().index("format: parquett") + 1
    editor.fill(broken)
    expect(page.locator("#problems li.problem").first).to_contain_text(f"line {line}")
    editor.fill(text)
    expect(page.locator("#problems li.ok")).to_have_text("The manifest is valid.")
    page.screenshot(path=str(shots / "add.png"), full_page=True)

    page.click("[data-action=save-manifest]")
    page.wait_for_url(re.compile(r"/datasets/fresh-corpus$"))
    expect(page.locator("main > .flash")).to_contain_text("synced: 1 subset, 1 partition")
    expect(page.locator("#subsets tbody tr")).to_have_count(1)
    saved = world.user_catalog / "fresh-corpus.yaml"
    assert saved.read_text(encoding="utf-8") == text

    # forget it, deleting the manifest file too: back to the catalog, which no longer has it
    page.click("[data-action=open-dialog][data-dialog=forget-dialog]")
    page.check("#forget-dialog input[name=manifest]")
    page.locator("#forget-dialog button[data-confirm]").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page.locator("main > .flash")).to_contain_text(
        f"Forgot fresh-corpus and deleted its manifest {saved}"
    )
    expect(page.locator("tr[data-name=fresh-corpus]")).to_have_count(0)
    assert not saved.exists()


def test_check_for_updates_fetch_what_changed_then_forget(page: Page, world: World) -> None:
    page.goto("/datasets/mnist")
    page.click("button:has-text('Check for updates')")
    expect(page.locator("#updates .ok")).to_contain_text("Up to date")
    world.catalog.download("mnist", "test")
    data = world.hub.hub.read("ylecun/mnist", "mnist/train-00000-of-00001.parquet")
    world.hub.hub.commit(
        "ylecun/mnist", add={"mnist/test-00000-of-00001.parquet": data}, message="new test file"
    )
    page.click("button:has-text('Check for updates')")
    row = page.locator("#updates tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(2)).to_have_text("changed")
    with page.expect_response(
        lambda r: r.url.endswith("/api/jobs") and r.request.method == "POST"
    ) as answer:
        page.click("[data-action=fetch-updates]")
    job = answer.value.json()
    assert job["update"] is True
    expect(page.locator(job_in_strip(page, job["id"]))).to_have_attribute("data-state", "done")
    local = world.data_dir / "mnist" / "test" / "test-00000-of-00001.parquet"
    assert local.read_bytes() == data

    page.click("[data-action=open-dialog][data-dialog=forget-dialog]")
    page.locator("#forget-dialog button[data-confirm]").click()
    expect(page.locator("main > .flash")).to_contain_text("Forgot mnist")
    expect(page.locator("#subsets .empty")).to_contain_text("Not synced yet")
    assert local.exists()  # forgetting keeps the downloaded files


def test_a_server_with_a_token_works_from_its_url(page: Page, world: World) -> None:
    app = create_app(world.catalog, token="s3cret", jobs_dir=world.data_dir / ".jobs-token")
    with UiServer(app) as guarded:
        page.goto(f"{guarded.url}/datasets/wikipedia")
        expect(page.locator("body")).to_contain_text("a token is required")
        page.goto(f"{guarded.url}/datasets/wikipedia?token=s3cret")  # the URL 'pygestor ui' prints
        assert page.url == f"{guarded.url}/datasets/wikipedia"  # the token left the address bar
        page.click("[data-action=sync]")  # a POST: the cookie and the X-Pygestor header
        expect(page.locator("main > .flash")).to_contain_text("Synced wikipedia: 3 subsets")
        assert page.evaluate("window.pygestor.api('GET', '/api/jobs')") == []
        page.goto("about:blank")


def test_the_pages_stay_fast(page: Page, shots: Path) -> None:
    start = time.perf_counter()
    for url in ("/", f"/datasets/wikipedia/subsets/{EN}", "/datasets/wikipedia", "/jobs", "/add"):
        page.goto(url)
    assert time.perf_counter() - start < 10
    # the README's picture (docs/ui-catalog.png): the catalog after the downloads above
    page.goto("/?sort=bytes&order=desc")
    expect(page.locator("tr[data-name=wikipedia] td").nth(5)).to_have_text("42 / 43")
    page.screenshot(path=str(shots / "catalog-readme.png"))

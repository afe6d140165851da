"""The JSON API fuzzed from its own OpenAPI description (schemathesis, in-process): whatever a
client sends that the description allows, or nearly allows, the server never answers 5xx.

Every route is exercised, the state-changing ones too: the app runs over a throwaway data dir
and user catalog (this test's tmp_path) with `mnist` synced and one partition downloaded, and
every request carries the UI's `X-Pygestor` header and a loopback Host, so POSTs, PATCHes and
DELETEs reach their handlers. A bounded number of examples per route keeps it under a minute;
`derandomize` makes a failure reproducible.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from conftest import make_settings
from pygestor.catalog import Catalog
from pygestor.ui.app import create_app
from pygestor.ui.jobs import JobManager

HEADERS = {"Host": "127.0.0.1:8765", "X-Pygestor": "1"}
EXAMPLES = 12  # per route, besides schemathesis's own edge cases

# The schema is loaded when the module is (schemathesis's lazy `from_fixture` does not run on
# pytest 9): from an app over an empty placeholder catalog, whose catalog and jobs each test then
# replaces with its own (the routes read them from `app.state` on every request).
APP = create_app(Catalog(make_settings(Path(tempfile.mkdtemp(prefix="pygestor-fuzz-")))))
schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP, headers=HEADERS)


@pytest.fixture(autouse=True)
def throwaway_catalog(catalog: Catalog, tmp_path: Path) -> Iterator[None]:
    catalog.download("mnist", "train")
    jobs = JobManager(catalog, tmp_path / "jobs")
    APP.state.catalog, APP.state.jobs = catalog, jobs
    yield
    jobs.shutdown()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_route_answers_a_server_error(case: Any) -> None:
    from schemathesis.checks import not_a_server_error

    # the event stream never ends by itself: read what it sends in half a second
    timeout = 0.5 if case.path == "/api/jobs/events" else 30
    case.call_and_validate(headers=HEADERS, checks=[not_a_server_error], timeout=timeout)

"""`pygestor ui`: where it listens, when it needs a token, and what it says without its extra."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from pygestor.errors import PygestorError
from pygestor.ui.hosts import host_name, is_loopback
from pygestor.ui.serve import plan


def test_loopback_needs_no_token_and_prints_a_plain_url() -> None:
    chosen = plan("127.0.0.1", 8765)
    assert (chosen.token, chosen.loopback, chosen.url) == (None, True, "http://127.0.0.1:8765/")


def test_beyond_loopback_always_has_a_token_in_its_url() -> None:
    chosen = plan("0.0.0.0", 9000)
    assert chosen.token is not None and len(chosen.token) >= 24
    assert not chosen.loopback
    assert chosen.url == f"http://127.0.0.1:9000/?token={chosen.token}"
    assert plan("10.1.2.3", 9000, "mine").url == "http://10.1.2.3:9000/?token=mine"
    assert plan("::1", 80).url == "http://[::1]:80/"


def test_a_bad_port_is_one_line() -> None:
    with pytest.raises(PygestorError, match=r"^--port must be between 0 and 65535, not 70000$"):
        plan("127.0.0.1", 70000)


@pytest.mark.parametrize(
    ("header", "host", "loopback"),
    [
        ("127.0.0.1:8765", "127.0.0.1", True),
        ("localhost", "localhost", True),
        ("[::1]:8765", "[::1]", True),
        ("evil.example:8765", "evil.example", False),
        ("127.0.0.1.evil.example", "127.0.0.1.evil.example", False),
        ("127.9.9.9:1", "127.9.9.9", True),
    ],
)
def test_host_headers(header: str, host: str, loopback: bool) -> None:
    assert host_name(header) == host
    # a name that merely starts with "127." is not an address: refused unless it is one
    assert is_loopback(host) is loopback


def test_without_the_extra_it_says_how_to_install_it(tmp_path: Path) -> None:
    """A hidden fastapi stands for an install without the `ui` extra."""
    code = (
        "import sys\n"
        "sys.modules['fastapi'] = None  # import fastapi now fails as if it were not installed\n"
        "from pygestor.cli.app import main\n"
        "main(['ui'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .endswith("the web UI needs its extra: pip install 'pygestor[ui]' (fastapi not installed)")
    )
    assert "Traceback" not in done.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_command_serves_the_api_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port = _free_port()
    exe = Path(sys.executable).with_name("pygestor")
    proc = subprocess.Popen(
        [str(exe), "ui", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        body = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
                    body = json.load(r)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        assert body is not None and body["ok"] is True
        # an open event stream (every page holds one) must not keep Ctrl-C waiting
        stream = urllib.request.urlopen(f"http://127.0.0.1:{port}/api/jobs/events", timeout=30)
        assert stream.headers["content-type"].startswith("text/event-stream")
    finally:
        proc.send_signal(2)
        started = time.monotonic()
        _, err = proc.communicate(timeout=20)
    stopped_in = time.monotonic() - started
    assert stopped_in < 4, stopped_in
    stream.close()
    assert f"pygestor UI on http://127.0.0.1:{port}/" in err
    assert "Traceback" not in err

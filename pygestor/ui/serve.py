"""`pygestor ui`: choose the token, build the app, run it with uvicorn."""

from __future__ import annotations

import secrets
import threading
import webbrowser
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import PygestorError
from .hosts import is_loopback

if TYPE_CHECKING:
    from ..catalog import Catalog

INSTALL_HINT = "the web UI needs its extra: pip install 'pygestor[ui]'"


@dataclass(frozen=True)
class Plan:
    """Where the server listens and the URL that opens it (with the token, when one is used)."""

    host: str
    port: int
    token: str | None

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "[::]") else host
        return f"http://{shown}:{self.port}/" + (f"?token={self.token}" if self.token else "")


def plan(host: str = "127.0.0.1", port: int = 8765, token: str | None = None) -> Plan:
    """Bound beyond loopback, a token is always used (a random one unless given)."""
    if not 0 <= port <= 65535:
        raise PygestorError(f"--port must be between 0 and 65535, not {port}")
    if token is None and not is_loopback(host):
        token = secrets.token_urlsafe(24)
    return Plan(host, port, token or None)


def check_installed() -> None:
    """Raise one clear line when the `ui` extra is missing."""
    import importlib

    missing = []
    for module in ("fastapi", "uvicorn", "jinja2"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise PygestorError(f"{INSTALL_HINT} ({', '.join(missing)} not installed)")


def serve(chosen: Plan, catalog: Catalog, *, open_browser: bool = False) -> None:
    """Run the server over `catalog` until Ctrl-C."""
    check_installed()
    import uvicorn

    from .app import create_app

    app = create_app(catalog, token=chosen.token, loopback=chosen.loopback)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(chosen.url,)).start()

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: object) -> None:
            app.state.jobs.end_streams()  # open event streams would hold the shutdown
            super().handle_exit(sig, frame)  # type: ignore[arg-type]

    config = uvicorn.Config(
        app,
        host=chosen.host,
        port=chosen.port,
        log_level="warning",
        timeout_graceful_shutdown=5,  # a stream that still does not close
    )
    Server(config).run()

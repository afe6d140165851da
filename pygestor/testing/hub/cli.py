"""The test Hub's command line, run as `python -m pygestor.testing.hub` (see `main`).

It lives here rather than in `__main__` so that the package can re-export `main` without importing
`__main__` (runpy warns when `python -m` finds that module imported already).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from .model import LocalHub
from .server import HubServer


def main(argv: Sequence[str] | None = None) -> int:
    """`serve --root DIR [--port N] [--rate BYTES_PER_S] [--ignore-range]`: print the endpoint
    (first line), serve until stopped.
    `import --root DIR REPO FOLDER`: commit a folder's files as a dataset repo."""
    parser = argparse.ArgumentParser(
        prog="python -m pygestor.testing.hub",
        description="A Hugging Face Hub look-alike on loopback.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve an existing LocalHub root")
    serve.add_argument("--root", type=Path, required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0)
    serve.add_argument("--lfs-port", type=int, default=0)
    serve.add_argument(
        "--rate",
        type=float,
        default=0.0,
        metavar="BYTES_PER_S",
        help="cap every response body at this many bytes a second (per connection)",
    )
    serve.add_argument(
        "--ignore-range",
        action="store_true",
        help="answer ranged requests with 200 and the whole body (a server without ranges)",
    )
    serve.add_argument("-v", "--verbose", action="store_true", help="log every request")
    imp = sub.add_parser("import", help="commit the files of a folder as a dataset repo")
    imp.add_argument("--root", type=Path, required=True)
    imp.add_argument("--revision", default="main")
    imp.add_argument("repo_id")
    imp.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    if args.command == "import":
        _say(LocalHub(args.root).import_folder(args.repo_id, args.folder, revision=args.revision))
        return 0
    if not (args.root / "datasets").is_dir():
        parser.error(f"{args.root} is not a LocalHub root (no datasets/ folder)")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING)
    if args.rate < 0:
        parser.error(f"--rate {args.rate:g} is negative; give bytes a second, or 0 for no cap")
    server = HubServer(LocalHub(args.root), host=args.host, port=args.port, lfs_port=args.lfs_port)
    server.faults.rate, server.faults.ignore_range = args.rate, args.ignore_range
    return _serve(server)


def _say(line: str) -> None:
    """CLI output: one line on stdout, flushed at once (a parent process reads it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _serve(server: HubServer) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    hub = server.hub
    with server as srv:
        _say(srv.endpoint)
        _say(f"lfs {srv.lfs_endpoint}")
        for repo_id in hub.repos():
            _say(f"dataset {repo_id}")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0

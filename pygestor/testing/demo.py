"""The main job end to end, offline: `python -m pygestor.testing.demo` (sync -> download -> load).

Starts the bundled Hub look-alike on loopback serving a generated replica of wikimedia/wikipedia
(the real layout: 41 English shards, single-shard Abkhaz and French), points `HF_ENDPOINT` at it
and runs the real `pygestor` commands against it, printing each command and its output. Nothing
touches the internet or your own data dir: everything lives in a temporary folder (or `--workdir`).

`--ui` instead serves the web UI (`pip install 'pygestor[ui]'`) over the same offline Hub, with
replicas of wikipedia, wit_base (images), mnist and dolly synced, until Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from . import replicas
from .hub import HubServer, LocalHub

STEPS = [
    ["validate"],
    ["sync", "wikipedia"],
    ["list", "wikipedia"],
    ["download", "wikipedia", "-s", "20231101.en", "--workers", "4"],
    ["list", "wikipedia"],
]
LOAD = """
import pygestor
df = pygestor.load("wikipedia", subset="20231101.en", columns=["id", "title", "text"])
print(f"{len(df):,} rows x {len(df.columns)} columns")
print(df.head(5).to_string(max_colwidth=48))
"""


UI_REPLICAS = (replicas.wikipedia, replicas.wit_base, replicas.mnist, replicas.databricks_dolly)
UI_DATASETS = ["wikipedia", "wit_base", "mnist", "dolly"]


def _env(workdir: Path, endpoint: str) -> dict[str, str]:
    return {
        **os.environ,
        "HF_ENDPOINT": endpoint,
        "PYGESTOR_DATA_DIR": str(workdir / "data"),
        "HF_HOME": str(workdir / "hf-home"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_XET": "1",
    }


def serve_ui(workdir: Path, port: int) -> int:
    """Sync the replicas, then run `pygestor ui` over the offline Hub until Ctrl-C."""
    hub = LocalHub(workdir / "hub")
    for build in UI_REPLICAS:
        replica = build()
        if not hub.exists(replica.repo_id):
            replicas.install(hub, replica)
    with HubServer(hub) as server:
        env = _env(workdir, server.endpoint)
        pygestor = [sys.executable, "-m", "pygestor"]
        done = subprocess.run([*pygestor, "sync", *UI_DATASETS], env=env, check=False)
        if done.returncode != 0:
            return done.returncode
        try:
            return subprocess.run([*pygestor, "ui", "--port", str(port)], env=env).returncode
        except KeyboardInterrupt:
            return 0


def run(workdir: Path) -> int:
    hub = LocalHub(workdir / "hub")
    if not hub.exists("wikimedia/wikipedia"):
        replicas.install(hub, replicas.wikipedia())
    with HubServer(hub) as server:
        env = _env(workdir, server.endpoint)
        print(f"# offline Hub at {server.endpoint}, data dir {workdir / 'data'}\n", flush=True)
        for args in STEPS:
            print(f"$ pygestor {shlex.join(args)}", flush=True)
            done = subprocess.run([sys.executable, "-m", "pygestor", *args], env=env, check=False)
            print(flush=True)
            if done.returncode != 0:
                print(
                    f"demo failed: 'pygestor {shlex.join(args)}' exited {done.returncode}",
                    file=sys.stderr,
                )
                return done.returncode
        print(
            '$ python -c \'import pygestor; pygestor.load("wikipedia", subset="20231101.en")\'',
            flush=True,
        )
        done = subprocess.run(
            [sys.executable, "-c", LOAD], env={**env, "HF_HUB_OFFLINE": "1"}, check=False
        )
        if done.returncode != 0:
            print(f"demo failed: loading exited {done.returncode}", file=sys.stderr)
            return done.returncode
    print(
        "\ndemo complete: sync -> download -> load of wikipedia from the offline Hub (loaded "
        "offline)"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pygestor.testing.demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--workdir", type=Path, help="keep the hub and data here (default: a temporary folder)"
    )
    parser.add_argument(
        "--ui", action="store_true", help="serve the web UI over the offline Hub (until Ctrl-C)"
    )
    parser.add_argument("--port", type=int, default=8765, help="the UI's port (with --ui)")
    args = parser.parse_args(argv)

    def job(workdir: Path) -> int:
        return serve_ui(workdir, args.port) if args.ui else run(workdir)

    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        return job(args.workdir)
    with tempfile.TemporaryDirectory(prefix="pygestor-demo-") as tmp:
        return job(Path(tmp))


if __name__ == "__main__":
    sys.exit(main())

"""Soak test of the data directory's guarantees: kills, server faults, concurrent processes.

Not part of CI (minutes, and random by design, with a printed seed). Every scenario runs the real
CLI in real processes against the offline Hub (`pygestor.testing.hub`) and then checks the same
invariants, which are the promises of docs/reliability.md:

- no partition is ever *falsely complete*: every partition the index calls `local` has exactly
  the bytes the Hub serves (compared byte for byte, not by the record's hash);
- a rerun without faults always finishes, and then every byte is identical;
- nothing is left behind: no temporary file, no `.part` of a finished file, valid JSON in every
  index file;
- nothing outside the data directory changes (a sentinel folder beside it is compared at the end).

    python bench/soak.py                 # the full soak (~5-10 min on 2 cores)
    python bench/soak.py --quick         # a few rounds of each (~1-2 min)
    python bench/soak.py --seed 7 --only kill faults

It prints one table (scenario, rounds, failures seen, falsely complete, healed by rerun, bytes
identical) and exits 1 when any invariant broke.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pygestor.testing.hub import Fault, HubServer, LocalHub

REPO = "soak/files"
MANIFEST = f"""
name: soak
source: {{huggingface: {REPO}}}
subsets:
  - files: "data/{{subset}}/*.bin"
"""
SUBSETS = ("a", "b")
SCENARIOS = ("kill", "faults", "processes", "locks", "links", "index", "listing")


@dataclass
class Row:
    scenario: str
    rounds: int = 0
    errors_seen: int = 0  # runs that exited non-zero (expected under faults and kills)
    tracebacks: int = 0  # runs whose stderr held a Python traceback (never expected)
    falsely_complete: int = 0
    healed: int = 0  # rounds whose final, fault-free rerun finished with every byte identical
    notes: list[str] = field(default_factory=list)
    info: str = ""  # a figure shown whatever the outcome

    @property
    def ok(self) -> bool:
        return not self.falsely_complete and not self.tracebacks and self.healed == self.rounds


class Rig:
    """One Hub with a repo of random files, and a fresh data dir per round."""

    def __init__(self, root: Path, rng: random.Random, files: int, size: int) -> None:
        self.root, self.rng = root, rng
        self.files = {
            f"data/{s}/f{i:02d}.bin": hashlib.shake_256(f"{s}{i}".encode()).digest(
                size + rng.randrange(size)
            )
            for s in SUBSETS
            for i in range(files)
        }
        self.hub = LocalHub(root / "hub")
        self.hub.create_repo(REPO, self.files)
        catalog = root / "catalog"
        catalog.mkdir()
        (catalog / "soak.yaml").write_text(MANIFEST, encoding="utf-8")
        self.catalog = catalog
        self.outside = root / "outside"  # a sentinel beside the data dirs: must never change
        self.outside.mkdir()
        (self.outside / "keep.txt").write_bytes(b"not pygestor's\n")
        self.round = 0

    def fresh(self) -> Path:
        self.round += 1
        return self.root / f"data-{self.round}"

    def env(self, server: HubServer, data: Path) -> dict[str, str]:
        home = self.root / "home"
        home.mkdir(exist_ok=True)
        return {
            **os.environ,
            "HOME": str(home),
            "HF_HOME": str(self.root / "hf"),
            "HF_ENDPOINT": server.endpoint,
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DISABLE_XET": "1",
            "PYGESTOR_DATA_DIR": str(data),
            "PYGESTOR_CATALOG": str(self.catalog),
        }

    def start(self, server: HubServer, data: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "pygestor", *args],
            env=self.env(server, data),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def run(self, server: HubServer, data: Path, *args: str, timeout: float = 300) -> Run:
        proc = self.start(server, data, *args)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            return Run(-9, "timed out: " + err)
        return Run(proc.returncode, err)

    def check(self, server: HubServer, data: Path, row: Row) -> tuple[int, bool]:
        """(partitions falsely complete, every file present and identical)."""
        states = []
        for subset in SUBSETS:
            listed = subprocess.run(
                [sys.executable, "-m", "pygestor", "list", "soak", "-s", subset, "--json"],
                env=self.env(server, data),
                capture_output=True,
                text=True,
                check=False,
            )
            states += json.loads(listed.stdout or "[]")
        false = 0
        complete = bool(states)
        for p in states:
            path = data / "soak" / p["subset"] / p["partition"]
            want = self.files[p["path"]]
            same = path.is_file() and path.read_bytes() == want
            if p["state"] == "local" and not same:
                false += 1
            complete = complete and p["state"] == "local" and same
        leftovers = [
            str(f.relative_to(data))
            for f in data.rglob("*")
            if f.name.startswith(".tmp-") or (f.name.endswith(".part") and complete)
        ]
        for f in (data / ".pygestor").rglob("*.json"):
            try:
                json.loads(f.read_bytes())
            except ValueError:
                leftovers.append(f"{f.relative_to(data)} (not JSON)")
        if leftovers:
            row.notes.append("left behind: " + ", ".join(leftovers[:3]))
            complete = False
        return false, complete

    def outside_unchanged(self) -> bool:
        return [p.name for p in self.outside.iterdir()] == ["keep.txt"] and (
            self.outside / "keep.txt"
        ).read_bytes() == b"not pygestor's\n"


@dataclass
class Run:
    code: int
    stderr: str

    @property
    def traceback(self) -> bool:
        return "Traceback (most recent call last)" in self.stderr


def _tally(row: Row, run: Run) -> None:
    row.errors_seen += run.code != 0
    if run.traceback:
        row.tracebacks += 1
        row.notes.append(run.stderr.strip().splitlines()[-1][:120])


def _finish(rig: Rig, server: HubServer, data: Path, row: Row) -> None:
    """The fault-free rerun every round ends with, and the invariants after it."""
    server.faults.clear()
    false, _ = rig.check(server, data, row)
    row.falsely_complete += false
    run = rig.run(server, data, "download", "soak", "--all")
    _tally(row, run)
    false, complete = rig.check(server, data, row)
    row.falsely_complete += false
    row.healed += complete and run.code == 0
    row.rounds += 1


def scenario_kill(rig: Rig, server: HubServer, rounds: int) -> Row:
    """`kill -9` of a download at a random moment, several times into the same data dir."""
    row = Row("kill -9 during download")
    for _ in range(rounds):
        data = rig.fresh()
        rig.run(server, data, "sync", "soak")
        server.faults.add(Fault(origin="lfs", method="GET", chunk_delay=0.01, times=None))
        for _kill in range(rig.rng.randint(1, 4)):
            proc = rig.start(server, data, "download", "soak", "--all")
            time.sleep(rig.rng.uniform(0.2, 2.5))
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            false, _ = rig.check(server, data, row)
            row.falsely_complete += false
        _finish(rig, server, data, row)
    return row


FAULTS: dict[str, Callable[[], Fault]] = {
    "500 on data": lambda: Fault(status=500, origin="lfs", method="GET", times=2),
    "502 on data": lambda: Fault(status=502, origin="lfs", method="GET", times=1),
    "503 on resolve": lambda: Fault(status=503, origin="main", path="/resolve/", times=1),
    "429 Retry-After": lambda: Fault(
        status=429, headers={"Retry-After": "1"}, origin="lfs", method="GET", times=1
    ),
    "404 on data": lambda: Fault(status=404, origin="lfs", method="GET", times=1),
    "403 on data": lambda: Fault(status=403, origin="lfs", method="GET", times=1),
    "drop (data)": lambda: Fault(drop=True, origin="lfs", method="GET", times=2),
    "drop (resolve)": lambda: Fault(drop=True, origin="main", path="/resolve/", times=1),
    "drop (tree)": lambda: Fault(drop=True, origin="main", path="/tree/", times=1),
    "500 (tree)": lambda: Fault(status=500, origin="main", path="/tree/", times=1),
    "truncate": lambda: Fault(truncate_after=300_000, origin="lfs", method="GET", times=2),
    "truncate early": lambda: Fault(truncate_after=17, origin="lfs", method="GET", times=3),
    "slow body": lambda: Fault(chunk_delay=0.05, origin="lfs", method="GET", times=3),
    "latency": lambda: Fault(latency=0.5, origin="main", times=4),
    "body past the listed size": lambda: Fault(
        extra_bytes=50_000, origin="lfs", method="GET", times=1
    ),
    "no Content-Length, longer body": lambda: Fault(
        extra_bytes=10, content_length="none", origin="lfs", method="GET", times=1
    ),
}
# a server that resumes badly: the first answer is cut, the resume (a Range request) goes wrong
RESUME_FAULTS: dict[str, Callable[[], Fault]] = {
    "Range answered 200": lambda: Fault(ignore_range=True, origin="lfs", times=1),
    "206 at a wrong offset": lambda: Fault(range_shift=1000, origin="lfs", times=1),
    "206 shorter than asked": lambda: Fault(range_limit=5000, origin="lfs", times=2),
    "206 with wrong bytes": lambda: Fault(corrupt=True, origin="lfs", times=1),
}


def scenario_faults(rig: Rig, server: HubServer, rounds: int) -> list[Row]:
    """Each fault kind alone (sync + download under it), then rounds of three mixed at random."""
    rows = []
    for name, make in FAULTS.items():
        row = Row(f"fault: {name}")
        data = rig.fresh()
        server.faults.add(make())
        _tally(row, rig.run(server, data, "sync", "soak"))
        _tally(row, rig.run(server, data, "download", "soak", "--all"))
        _finish(rig, server, data, row)
        rows.append(row)
    for name, make in RESUME_FAULTS.items():
        row = Row(f"cut, then resume: {name}")
        data = rig.fresh()
        rig.run(server, data, "sync", "soak")
        server.faults.add(Fault(truncate_after=100_000, origin="lfs", method="GET", times=1))
        server.faults.add(make())
        _tally(row, rig.run(server, data, "download", "soak", "--all"))
        _finish(rig, server, data, row)
        rows.append(row)
    mixed = Row("faults: 3 kinds mixed")
    for _ in range(rounds):
        data = rig.fresh()
        for name in rig.rng.sample(sorted(FAULTS), 3):
            server.faults.add(FAULTS[name]())
        _tally(mixed, rig.run(server, data, "download", "soak", "--all"))
        _finish(rig, server, data, mixed)
    rows.append(mixed)
    return rows


def scenario_processes(rig: Rig, server: HubServer, rounds: int) -> Row:
    """Rounds of 4-6 processes at once on one data dir: sync, download, list, remove, verify."""
    row = Row("4-6 mixed processes at once")
    commands = [
        ("sync", "soak"),
        ("download", "soak", "-s", "a"),
        ("download", "soak", "-s", "b"),
        ("download", "soak", "--all"),
        ("list", "soak", "-s", "a"),
        ("verify", "soak", "-s", "a"),
        ("remove", "soak", "-s", "b", "--yes"),
    ]
    for _ in range(rounds):
        data = rig.fresh()
        rig.run(server, data, "sync", "soak")
        server.faults.add(Fault(origin="lfs", method="GET", chunk_delay=0.002, times=None))
        procs = [
            rig.start(server, data, *rig.rng.choice(commands)) for _ in range(rig.rng.randint(4, 6))
        ]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            # verify exits 1 while another process is still downloading: that is not a failure
            _tally(row, Run(proc.returncode, err))
        _finish(rig, server, data, row)
    return row


LINK_KINDS = ("part", "subset folder", "records folder", "partition file", "listings folder")


def _plant(data: Path, kind: str, outside: Path) -> None:
    """A symbolic link into `outside` where pygestor would write (what any member of a
    group-writable data dir can do). The dataset folder itself is left out: a link there made by
    the data dir's owner (this script runs as that owner) is the documented exception."""
    sub = data / "soak" / "a"
    index = data / ".pygestor" / "datasets" / "soak"
    target = outside / "keep.txt"
    where = {
        "part": (sub / ".f00.bin.part", target),
        "subset folder": (sub, outside),
        "records folder": (index / "segments", outside),
        "partition file": (sub / "f00.bin", target),
        "listings folder": (index / "listings", outside),
    }[kind]
    link, to = where
    if link.is_dir() and not link.is_symlink():
        import shutil

        shutil.rmtree(link)
    elif link.exists() or link.is_symlink():
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(to)


def scenario_links(rig: Rig, server: HubServer, rounds: int) -> Row:
    """A link planted where pygestor writes, then download, sync and remove --all --yes: the
    folder outside must not change (checked at the end), and no command may show a traceback."""
    row = Row("planted links (5 kinds)")
    for r in range(rounds):
        data = rig.fresh()
        rig.run(server, data, "sync", "soak")
        kind = LINK_KINDS[r % len(LINK_KINDS)]
        _plant(data, kind, rig.outside)
        for args in (
            ("download", "soak", "--all"),
            ("sync", "soak"),
            ("remove", "soak", "--all", "--yes"),
        ):
            _tally(row, rig.run(server, data, *args))
        if not rig.outside_unchanged():
            row.falsely_complete += 1  # counted as a broken promise
            row.notes.append(f"{kind}: the folder outside changed")
        row.rounds += 1
        row.healed += rig.outside_unchanged()  # "healed" here: outside untouched
    return row


DAMAGES: dict[str, Callable[[Path], None]] = {
    "empty": lambda f: f.write_bytes(b""),
    "truncated": lambda f: f.write_bytes(f.read_bytes()[: max(1, f.stat().st_size // 2)]),
    "garbage": lambda f: f.write_bytes(b"\x00\xff garbage \x80"),
    "a list": lambda f: f.write_text("[]"),
    "an empty object": lambda f: f.write_text("{}"),
    "format only": lambda f: f.write_text('{"format": 1}'),
    "size is text": lambda f: f.write_text(
        f.read_text().replace('"size": ', '"size": "abc", "_": ', 1)
    ),
    "a folder": lambda f: (f.unlink(), f.mkdir()),
    "deleted": lambda f: f.unlink(),
}


def scenario_index(rig: Rig, server: HubServer, rounds: int) -> Row:
    """A random index file (pointer, listing or record) damaged a random way after a download:
    list, download and sync must each be one line or work; `sync --repair` must heal it."""
    row = Row("damaged index files")
    for _ in range(rounds):
        data = rig.fresh()
        rig.run(server, data, "download", "soak", "--all")
        index = data / ".pygestor" / "datasets" / "soak"
        files = [index / "current.json", *sorted((index / "listings").glob("*.json"))]
        files += sorted((index / "partitions").glob("*.json"))  # subsets' partitions (format 2)
        files += sorted((index / "segments").rglob("*.json"))  # records, one file per batch
        victim = rig.rng.choice(files)
        damage = rig.rng.choice(sorted(DAMAGES))
        try:
            DAMAGES[damage](victim)
        except (OSError, UnicodeDecodeError):
            DAMAGES["garbage"](victim)
        for args in (("list", "soak"), ("list", "soak", "-s", "a"), ("download", "soak", "--all")):
            _tally(row, rig.run(server, data, *args))
        _tally(row, rig.run(server, data, "sync", "soak", "--repair"))
        _finish(rig, server, data, row)
    return row


def scenario_deleted_locks(rig: Rig, server: HubServer, rounds: int) -> Row:
    """Two downloaders into one data dir while a third process deletes every lock file it sees:
    no crash, and (checked in the notes) how many times each file was fetched."""
    row = Row("lock files deleted under 2 downloaders")
    cleaner = (
        "import os, sys, time\n"
        "end = time.monotonic() + 60\n"
        "while time.monotonic() < end:\n"
        "    for d, _, fs in os.walk(sys.argv[1]):\n"
        "        for f in fs:\n"
        "            if f.endswith('.lock') or f == 'lock':\n"
        "                try: os.unlink(os.path.join(d, f))\n"
        "                except OSError: pass\n"
        "    time.sleep(0.002)\n"
    )
    extra = 0
    for _ in range(rounds):
        data = rig.fresh()
        rig.run(server, data, "sync", "soak")
        server.faults.add(Fault(origin="lfs", method="GET", chunk_delay=0.005, times=None))
        server.requests.clear()
        sweeper = subprocess.Popen([sys.executable, "-c", cleaner, str(data / ".pygestor")])
        procs = [rig.start(server, data, "download", "soak", "--all") for _ in range(2)]
        for proc in procs:
            _, err = proc.communicate(timeout=600)
            _tally(row, Run(proc.returncode, err))
        sweeper.kill()
        sweeper.wait()
        gets: dict[str, int] = {}
        for r in server.requests.filter(method="GET", origin="lfs"):
            gets[r.path] = gets.get(r.path, 0) + 1
        extra += sum(n - 1 for n in gets.values())
        _finish(rig, server, data, row)
    row.info = f"{extra} GETs beyond one per file, over {rounds * len(rig.files)} files"
    return row


HOSTILE_PATHS = (
    "../escape.bin",
    "data/a/../../etc/passwd.bin",
    "data/a/%2e%2e/x.bin",
    "data/a/%2E%2e/y.bin",
    "data/a/a%2Fb.bin",
    "data\\a\\c.bin",
    "data/a/n\n.bin",
    "data/a/\x7f.bin",
)


def scenario_hostile_listing(rig: Rig, server: HubServer, rounds: int) -> Row:
    """A repo whose tree lists hostile paths and sizes beside good files: sync skips them with
    notes, nothing of them is ever requested, the good files download."""
    row = Row("hostile listing entries")
    repo = "soak/hostile"
    rig.hub.create_repo(repo, {"data/a/good.bin": b"good bytes\n"})
    entries = [{"path": p} for p in HOSTILE_PATHS]
    entries += [{"path": "data/a/nosize.bin", "size": None}, {"path": "data/a/neg.bin", "size": -5}]
    entries += [{"path": "data/a/text.bin", "size": "abc"}]
    rig.hub.add_raw_entries(repo, entries)
    (rig.catalog / "hostile.yaml").write_text(
        MANIFEST.replace("name: soak", "name: hostile").replace(REPO, repo), encoding="utf-8"
    )
    for _ in range(rounds):
        data = rig.fresh()
        server.requests.clear()
        for args in (("sync", "hostile"), ("download", "hostile", "--all")):
            _tally(row, rig.run(server, data, *args))
        asked = [r.target for r in server.requests]
        bad = [
            t for t in asked if any(x in t for x in ("escape", "passwd", "%2e", "%2E", "nosize"))
        ]
        good = (data / "hostile" / "a" / "good.bin").is_file()
        row.falsely_complete += bool(bad)
        if bad:
            row.notes.append(f"requested: {bad[0]}")
        row.rounds += 1
        row.healed += good and not bad
    (rig.catalog / "hostile.yaml").unlink()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds of each scenario")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=None)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON too")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    only = set(args.only or SCENARIOS)
    kills, mixed, procs = (4, 3, 2) if args.quick else (20, 10, 5)
    hostile = 5 if args.quick else 20
    print(f"soak: seed {seed} ({'quick' if args.quick else 'full'})", flush=True)
    rows: list[Row] = []
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pygestor-soak-") as tmp:
        rig = Rig(Path(tmp), rng, files=4, size=400_000)
        with HubServer(rig.hub) as server:
            if "kill" in only:
                rows.append(scenario_kill(rig, server, kills))
            if "faults" in only:
                rows += scenario_faults(rig, server, mixed)
            if "processes" in only:
                rows.append(scenario_processes(rig, server, procs))
            if "locks" in only:
                rows.append(scenario_deleted_locks(rig, server, procs))
            if "links" in only:
                rows.append(scenario_links(rig, server, hostile))
            if "index" in only:
                rows.append(scenario_index(rig, server, hostile))
            if "listing" in only:
                rows.append(scenario_hostile_listing(rig, server, 2))
        outside = rig.outside_unchanged()
    width = max(len(r.scenario) for r in rows)
    print(
        f"{'scenario':<{width}}  rounds  non-zero exits  tracebacks  falsely complete"
        "  healed by rerun"
    )
    for r in rows:
        print(
            f"{r.scenario:<{width}}  {r.rounds:>6}  {r.errors_seen:>14}  {r.tracebacks:>10}  "
            f"{r.falsely_complete:>16}  {r.healed:>7}/{r.rounds:<7}"
            + (f"  ({r.info})" if r.info else "")
            + ("" if r.ok else "  <-- " + "; ".join(r.notes[:2]))
        )
    print(f"outside the data dirs unchanged: {'yes' if outside else 'NO'}")
    print(f"{time.monotonic() - start:.0f} s")
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=1))
    return 0 if outside and all(r.ok for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""A mutation audit of pygestor's core: small deliberate bugs, one at a time, each run against the
tests that should catch it. Reproducible, never part of CI.

    .venv/bin/python bench/mutants.py                  # every mutant (~23 min on 2 cores)
    .venv/bin/python bench/mutants.py --list           # the mutants, nothing run
    .venv/bin/python bench/mutants.py --only F02 H01   # some of them
    .venv/bin/python bench/mutants.py --json out.json  # also write the results as JSON
    .venv/bin/python bench/mutants.py --only S05 --tests tests/test_guards.py  # other tests

Each mutant names a file, an exact snippet of its current text, the replacement, one line saying
what bug it plants, and the test files to run for it. The script copies the repository (without
`.git`, `.venv` and caches) into a temporary folder once, and for each mutant writes the mutated
file there, runs `pytest -x -q` on the named test files with that copy first on `PYTHONPATH`
(subprocess CLI tests inherit it), restores the file, and moves on; the working tree is never
touched. A snippet that is not found exactly once is reported as `NOT FOUND` / `AMBIGUOUS` (the
code moved: update the mutant), never counted as caught. Before the mutants, each distinct test
selection is run once on the unmutated copy (`--no-clean-check` skips it): a selection that fails
already would "catch" everything, so its mutants are reported `DIRTY` instead.

Outcomes: `caught` (a test failed: the first failing test is named), `TIMEOUT` (counted as
caught: the bug hangs the tests), `SURVIVED`, `equivalent` (not run: the mutant cannot change
observable behaviour, the reason is given; not counted), `NOT FOUND`, `AMBIGUOUS`, `DIRTY`.
The score is caught / (caught + survived).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "*.egg-info", ".pytest_cache", ".mypy_cache", ".ruff_cache"
)


@dataclass(frozen=True)
class Mutant:
    id: str
    file: str  # below the repository root
    old: str  # exact snippet, must occur once
    new: str
    what: str  # the bug, in one line
    tests: tuple[str, ...]  # test files (or node ids) to run, in order
    equivalent: str | None = None  # why it cannot change behaviour (then it is not run)


G = "tests/test_guards.py"
DL = "tests/test_download.py"
IDX = "tests/test_index.py"
MAN = "tests/test_manage.py"
PAT = "tests/test_patterns.py"
RES = "tests/test_resolve.py"
STO = "tests/test_storage.py"
SYN = "tests/test_sync.py"
CON = "tests/test_concurrency.py"
MFT = "tests/test_manifest.py"
LNK = "tests/test_links.py"
HSRC = "tests/test_hostile_sources.py"
HMAN = "tests/test_hostile_manifests.py"
DMG = "tests/test_damaged_index.py"
TIER = "tests/test_tiers.py"
TEAM = "tests/test_team_dir.py"

FETCH = "pygestor/fetch.py"
HTTP = "pygestor/sources/http.py"
STORE = "pygestor/index/store.py"
PRUNE = "pygestor/index/prune.py"
SEL = "pygestor/index/selection.py"
REMOVE = "pygestor/maintain/remove.py"
REPAIR = "pygestor/maintain/repair.py"
PATTERNS = "pygestor/manifest/patterns.py"
RESOLVE = "pygestor/resolve.py"
LOCAL = "pygestor/storage/local.py"
DIGEST = "pygestor/index/digest.py"
RECORDS = "pygestor/index/records.py"
SYNC = "pygestor/index/sync.py"
TIERS = "pygestor/index/tiers.py"
DISCOVERY = "pygestor/manifest/discovery.py"

M = Mutant
# fmt: off
MUTANTS: tuple[Mutant, ...] = (
    # ---- fetch.py: adoption, verification, resume offsets, rename, plan ----------------------
    M("F01", FETCH,
      "        if mismatch(storage, target, item.file) is None:\n"
      "            self._record(item, parquet_rows(storage, target))",
      "        if True:\n"
      "            self._record(item, parquet_rows(storage, target))",
      "a file at the final path with the right size and no record is adopted without re-hashing",
      (G, DL)),
    M("F02", FETCH,
      "        if found is None or found.size != item.file.size:\n            return False",
      "        if found is None:\n            return False",
      "a target of the wrong size (truncated) with a matching record counts as already done",
      (G, DL)),
    M("F03", FETCH,
      "        if record is not None and record.matches(item.file):\n            return True",
      "        if record is not None:\n            return True",
      "any record of a same-size file counts as done, even of an older version (update skipped)",
      (G, DL)),
    M("F04", FETCH,
      "                if wrong is None:\n                    break",
      "                if True:\n                    break",
      "downloaded bytes are not verified (size and hash) before the rename",
      (DL, G)),
    M("F05", FETCH,
      "                self._empty_partial()\n                raise Transient(",
      "                raise Transient(",
      "a body that failed its hash is kept as the partial file (resumed, never fixed)",
      (DL, G)),
    M("F06", FETCH,
      "        if offset > size:  # not this file's bytes: start over",
      "        if offset > size + 1:  # not this file's bytes: start over",
      "a partial file one byte longer than the file is resumed instead of discarded",
      (G, DL)),
    M("F07", FETCH,
      "        if found is not None and offset == size:\n            return",
      "        if False:\n            return",
      "a complete partial file (killed before the rename) is asked for again from its end",
      (G, DL)),
    M("F08", FETCH,
      "                self._write(body, body.start)",
      "                self._write(body, offset)",
      "the body is written at the offset asked for, not where the server says it starts",
      (G, DL)),
    M("F09", FETCH,
      "with self.storage.append(self.partial, new=offset == 0) as fh:",
      "with self.storage.append(self.partial, new=False) as fh:",
      "a body starting at byte 0 is appended to the old partial bytes instead of replacing them",
      (G, DL)),
    M("F10", FETCH,
      "        if offset + received < size:\n            raise Transient(",
      "        if False:\n            raise Transient(",
      "a body that ends early is not retried from where it stopped",
      (DL, G)),
    M("F11", FETCH,
      "                if attempt > limit:",
      "                if attempt > limit + 2:",
      "more retries than asked for before giving up",
      (DL, G)),
    M("F12", FETCH,
      "delay = retry.delay if retry.delay is not None else _backoff(attempt)",
      "delay = _backoff(attempt)",
      "a server's Retry-After is ignored",
      (G, DL)),
    M("F13", FETCH,
      '        elif sel.state == "stale" and not update:',
      '        elif sel.state == "stale" and update:',
      "update=True keeps stale partitions and a plain download refetches them",
      (DL,)),
    M("F14", FETCH,
      "                    partial.size if partial else 0,",
      "                    0,",
      "the plan ignores the bytes of an interrupted download (bytes to fetch overstated)",
      (DL, G)),
    M("F15", FETCH,
      "        if free is not None and self.bytes_to_fetch > free:",
      "        if False:",
      "no free-space check before a download starts",
      (DL,)),
    M("F16", FETCH,
      '        if sel.state == "local" or selection.in_place:',
      '        if sel.state == "local":',
      "a local-folder source is planned as something to download",
      (DL,),
      equivalent="states() already gives every partition of a local source the state 'local' "
      "(the same test, manifest.source.kind == 'local'), so the second test never decides"),
    M("F17", FETCH,
      "            except LockTimeout:\n                if timeout == 0:\n"
      "                    return True",
      "            except LockTimeout:\n                if timeout == 0:\n"
      "                    return False",
      "a partition another process is fetching is dropped instead of waited for",
      (DL, G)),
    M("F18", FETCH,
      "        record = Record.of(item.file, commit=self.plan.commit, rows=rows)",
      "        record = Record.of(item.file, commit=None, rows=rows)",
      "records do not say which commit their bytes came from",
      (DL,)),
    # ---- sources/http.py: range guards, retries, redirects ----------------------------------
    M("H01", HTTP,
      "        if offset and response.status_code == 206:",
      "        if offset:",
      "a 200 (whole body) answer to a Range request is refused instead of taken from byte 0",
      (G, DL)),
    M("H02", HTTP,
      "        start = 0\n        if offset and response.status_code == 206:",
      "        start = offset\n        if offset and response.status_code == 206:",
      "a 200 (whole body) answer to a Range request is appended as if it were the rest",
      (G, DL)),
    M("H03", HTTP,
      "            if start != offset:\n                raise Transient(",
      "            if False:\n                raise Transient(",
      "a 206 starting at another byte than asked for is taken as the rest of the file",
      (G, DL)),
    M("H04", HTTP,
      '        headers = {**headers, "Range": f"bytes={offset}-"}',
      "        pass",
      "resumes ask for the whole file again (no Range header)",
      (DL, G)),
    M("H05", HTTP,
      "                    if _origin(url) != origin:",
      "                    if False:",
      "the token follows a redirect to another origin (the LFS storage)",
      (DL,)),
    M("H06", HTTP,
      "    if status >= 500 or status == 408:",
      "    if status > 500 or status == 408:",
      "a 500 answer is final instead of retried",
      (DL, G)),
    M("H07", HTTP,
      "    if status == 429:",
      "    if status == 4290:",
      "a 429 (rate limited) answer is final instead of retried",
      (DL, G)),
    M("H08", HTTP,
      "        return min(max(float(value), 0.0), MAX_RETRY_AFTER)",
      "        return max(float(value), 0.0)",
      "a huge Retry-After is obeyed uncapped (a download sleeps for hours)",
      (G, DL)),
    M("H09", HTTP,
      '        return int(value[len("bytes ") :].split("-", 1)[0])',
      '        return int(value[len("bytes ") :].split("/", 1)[0])',
      "Content-Range is misparsed, so no resume ever matches its offset",
      (DL, G)),
    M("H10", HTTP,
      "            raise Transient(exc.__class__.__name__) from None",
      "            raise",
      "a body that breaks off mid-transfer is a crash, not a retry",
      (DL, G)),
    M("H11", HTTP,
      "                    response.read()  # drain the (tiny) body so the connection is reused",
      "                    pass",
      "redirect bodies are not drained before the next request",
      (DL,),
      equivalent="only connection reuse changes: the client closes an undrained response on "
      "exit from its context, so every request still gets its answer"),
    # ---- index/store.py: listings, pointer, records, locks, forget --------------------------
    M("S01", STORE,
      "        with self.lock(listing.dataset):\n"
      "            with self._writing(target, listing.dataset):",
      '        with __import__("contextlib").nullcontext():\n'
      "            with self._writing(target, listing.dataset):",
      "save_listing moves the pointer without the per-dataset lock",
      (G, IDX, SYN)),
    M("S02", STORE,
      "                # pruned by a concurrent sync between our write and the lock\n"
      "                self.storage.create(target, text)",
      "                # pruned by a concurrent sync between our write and the lock\n"
      "                pass",
      "a listing pruned by a concurrent sync before the lock is not written again",
      (G, IDX)),
    M("S03", STORE,
      '            found = self.storage.remove(f"{folder}/current.json")',
      '            found = self.storage.remove(f"{folder}/current.json")\n'
      "            for key in list(self.storage.walk(folder)):\n"
      "                self.storage.remove(key)\n"
      "            for key in list(self.storage.walk(dataset)):\n"
      "                self.storage.remove(key)",
      "forget also wipes the records and the downloaded data files",
      (SYN, G, IDX)),
    M("S04", STORE,
      "            if found is not None and found.size == rec.size:",
      "            if found is not None:",
      "a recorded file truncated on disk still counts as local",
      (G, IDX)),
    M("S05", PRUNE,
      "    for entry in listings[KEEP_LISTINGS:]:",
      "    for entry in listings[1:]:",
      "only the newest listing is kept (the previous ones pruned at once)",
      (IDX, G)),
    M("S06", PRUNE,
      "        if entry.key.rsplit(\"/\", 1)[-1][: -len(\".json\")] not in keep:",
      "        if True:",
      "pruning may delete the listing the pointer names as previous",
      (IDX, G)),
    M("S07", STORE,
      "                previous = old.previous if old.listing == listing_id else old.listing",
      "                previous = old.listing",
      "re-syncing the same listing makes it its own previous (the one before is lost)",
      (IDX, G)),
    M("S08", PRUNE,
      "startswith(TEMP_PREFIX) and entry.mtime < cutoff:",
      "startswith(TEMP_PREFIX):",
      "a sync deletes temporary files of writes still in flight (not only hour-old ones)",
      (G, IDX)),
    M("S09", RECORDS,
      '    if data.get("format") != FORMAT_VERSION or type(data["format"]) is not int:\n'
      "        check_format(data, where, dataset)",
      "    if False:\n        check_format(data, where, dataset)",
      "a record (or pointer, or listing) of another format version is read as if it were this one",
      (IDX, G)),
    M("S10", STORE,
      '            if not name.endswith(".json") or "/." in f"/{name}" or "/" not in name:',
      '            if not name.endswith(".json") or "/" not in name:',
      "a temporary record file (.tmp-...) of a write in flight counts as a record",
      (G, IDX)),
    M("S11", STORE,
      "            old = self.pointer(listing.dataset)\n            if old is None:",
      "            old = None\n            if old is None:",
      "the pointer forgets the listing before it",
      (IDX, G)),
    # ---- storage/local.py: atomic writes, create-only, keys, containment -----------------
    M("L01", LOCAL,
      "            fh.write(data)\n            fh.close()\n"
      "            self._rename(tmp, self._abs(key))\n\n    def create",
      "            fh.close()\n            with open(self._abs(key), \"wb\") as out:\n"
      "                out.write(data)\n\n    def create",
      "write() is an in-place rewrite, not a temporary file renamed into place",
      (G, STO)),
    M("L02", LOCAL,
      "                os.link(tmp, self._abs(key))",
      "                os.replace(tmp, self._abs(key))",
      "create() overwrites an existing file (not create-only)",
      (STO, G)),
    M("L03", LOCAL,
      'or "/../" in framed or',
      'or False or',
      "a key with '..' escapes the storage root",
      (STO, G)),
    M("L04", LOCAL,
      '        return real == root or real.startswith(root.rstrip("/") + "/")',
      "        return real == root or real.startswith(root)",
      "a sibling folder sharing a name prefix (ds-other for ds) counts as inside",
      (G, STO)),
    M("L05", LOCAL,
      "            st = os.stat(self._abs(key)) if follow else os.lstat(self._abs(key))",
      "            st = os.stat(self._abs(key))",
      "info() follows symbolic links even when not asked (a link looks like its target)",
      (STO, G)),
    M("L06", LOCAL,
      "            if new:\n"
      "                os.ftruncate(fd, 0)  # the same file: a claim on it stays",
      "            if False:\n"
      "                os.ftruncate(fd, 0)  # the same file: a claim on it stays",
      "append(new=True) keeps the old bytes",
      (STO, G)),
    M("L07", LOCAL,
      "            os.fsync(fd)\n            if (\n                self.file_mode is not None",
      "            pass\n            if (\n                self.file_mode is not None",
      "the partial file is renamed into place without fsync",
      (STO,),
      equivalent="durability before a rename is only observable after a power loss or kernel "
      "crash, which no test can cause"),
    M("L08", LOCAL,
      "        if os.path.islink(path):\n            return False\n"
      "        self._check_folder(key)\n        try:\n            os.rmdir(path)",
      "        self._check_folder(key)\n        try:\n            os.rmdir(path)",
      "remove_dir() no longer refuses a symbolic link itself",
      (STO,),
      equivalent="os.rmdir on a symbolic link fails with ENOTDIR and never touches its target, "
      "so the result (False, nothing removed) is the same; _check_folder checks the link's "
      "folder either way"),
    M("L09", LOCAL,
      "        if os.path.islink(base) or not os.path.isdir(base):\n            return",
      "        if not os.path.isdir(base):\n            return",
      "walk() follows a folder that is itself a symbolic link",
      (G, STO)),
    M("L10", LOCAL,
      "            os.fchmod(fd, self.file_mode)  # ours: we just made it",
      "            pass",
      "files pygestor creates (atomic writes, new partial files) ignore the shared file_mode",
      (DL, STO, G)),
    # ---- index/selection.py: states ------------------------------------------------------
    M("T01", SEL,
      '                if rec.matches(p.file):\n                    best = ("local", rec, i)',
      '                if True:\n                    best = ("local", rec, i)',
      "a partition changed upstream counts as local, not stale",
      (IDX, G)),
    M("T02", SEL,
      '            found.setdefault(key, ("gone", rec, i))',
      "            pass",
      "local partitions no longer listed upstream vanish instead of showing as gone",
      (IDX, G)),
    M("T03", SEL,
      "    only = chosen[0].name if len(chosen) == 1 else None",
      "    only = chosen[0].name",
      "a selection of several subsets reads only the first subset's records",
      (G, IDX)),
    M("T04", SEL,
      '            elif check_partial and info(store.listed_partial_key(name, s.name, p.name)) '
      "is not None:",
      "            elif False:",
      "an interrupted download never shows as partial",
      (IDX, G)),
    M("T05", SEL,
      "        if all_subsets or len(known) <= 1:",
      "        if all_subsets or len(known) < 1:",
      "a dataset with one subset needs it named",
      (IDX, G)),
    M("T06", SEL,
      '        by_name.setdefault(f"{key[0]}/{key[1]}", []).append(key)',
      "        pass",
      "partitions cannot be chosen as subset/partition",
      (IDX, G)),
    # ---- maintain/remove.py ----------------------------------------------------------------
    M("R01", REMOVE,
      "                if key in self.records:\n                    self.store.drop_record(",
      "                if False:\n                    self.store.drop_record(",
      "remove deletes files but keeps their records",
      (MAN, G)),
    M("R02", REMOVE,
      "            if info is None or _refusal(self.store, info, base) is not None:"
      "  # checked again",
      "            if info is None:  # checked again",
      "no check just before each delete: a link swapped in after the plan is deleted, not left "
      "alone",
      (G, MAN)),
    M("R03", REMOVE,
      "                if not free:\n                    busy.append(key)\n"
      "                    continue",
      "                if not free:\n                    busy.append(key)",
      "a partition another process is downloading is removed anyway",
      (MAN, G)),
    M("R04", REMOVE,
      '            ("partial", store.partial_key(name, subset, partition)),',
      "",
      "removing a partition leaves its .part download behind",
      (G, MAN)),
    M("R05", REMOVE,
      "    if partitions is None:\n        taken = ",
      "    if False:\n        taken = ",
      "removing a whole subset leaves its Arrow copy and folder behind",
      (MAN, G)),
    M("R06", REMOVE,
      '    if manifest.source.kind == "local":\n        raise PygestorError(\n'
      '            f"dataset {name!r} is read in place',
      '    if False:\n        raise PygestorError(\n'
      '            f"dataset {name!r} is read in place',
      "remove would delete a local-folder source's own files",
      (MAN,)),
    M("R07", REMOVE,
      "            if info is None or info.kind == \"link\" or not storage.inside(current, root):",
      "            if info is None or not storage.inside(current, root):",
      "empty-folder pruning treats a linked folder like one of ours",
      (G, MAN),
      equivalent="remove_dir refuses links itself (and os.rmdir fails on one), so a link "
      "reaching this check is never removed either way"),
    M("R08", REMOVE,
      "        if not found and (s, p) not in records:",
      "        if not found:",
      "a recorded partition whose file is gone is reported as not local (and its record kept?)",
      (MAN, G)),
    # ---- maintain/repair.py -----------------------------------------------------------------
    M("P01", REPAIR,
      "    if c.record is not None:\n        store.drop_record(name, c.subset, c.partition)\n"
      '    return "mismatched"',
      '    return "mismatched"',
      "repair keeps a record for a file matching neither its record nor the listing",
      (G, MAN)),
    M("P02", REPAIR,
      "    if c.listed is not None and same(c.listed, got):",
      "    if c.listed is not None:",
      "repair records a file as the listed one without checking its hash",
      (MAN, G)),
    M("P03", REPAIR,
      '    if c.record is not None and same(c.record.file, got):\n        return "kept"',
      '    if c.record is not None:\n        return "kept"',
      "repair keeps any existing record without checking the file against it",
      (G, MAN)),
    M("P04", REPAIR,
      "        elif key in records:\n            store.drop_record(name, *key)",
      "        elif False:\n            store.drop_record(name, *key)",
      "repair keeps records whose file is missing",
      (MAN, G)),
    M("P05", REPAIR,
      "        with store.partition_lock(name, subset, partition, timeout=0):\n"
      "            store.storage.remove(key)",
      '        with __import__("contextlib").nullcontext():\n            store.storage.remove(key)',
      "repair deletes the .part file of a download that is running",
      (G, MAN)),
    M("P06", REPAIR,
      "            if info is not None and info.mtime < cutoff:",
      "            if info is not None:",
      "repair deletes temporary files of writes in flight (not only hour-old ones)",
      (G, MAN)),
    # ---- manifest/patterns.py ---------------------------------------------------------------
    M("N01", PATTERNS,
      '        if self.slash_regex and any("/" in value for value in captures.values()):\n'
      "            return None",
      "        if False:\n            return None",
      "a capture containing '/' (from {d:[a-z/]+}) is accepted",
      (PAT, G, RES)),
    M("N02", PATTERNS,
      "            return f\"[^{''.join(positive)}/]\" if negated else f\"[{''.join(positive)}]\"",
      "            return f\"[^{''.join(positive)}]\" if negated else f\"[{''.join(positive)}]\"",
      "a negated class inside a placeholder may match '/' (RE2 form)",
      (PAT, G)),
    M("N03", PATTERNS,
      '            return f"[^{negative[0]}/]"',
      '            return f"[^{negative[0]}]"',
      "\\S, \\W or \\D inside a placeholder may match '/' (RE2 form)",
      (PAT, G)),
    M("N04", PATTERNS,
      '            return f"[^{_re2_literal(av)}/]"',
      '            return f"[^{_re2_literal(av)}]"',
      "a one-character negated class ([^x]) inside a placeholder may match '/' (RE2 form)",
      (PAT, G)),
    M("N05", PATTERNS,
      '                slash = slash or av == ord("/")',
      "                pass",
      "a '/' listed in a placeholder's class is not flagged, so a capture holding '/' is kept",
      (PAT, G)),
    M("N06", PATTERNS,
      '        if op is k.ANY:\n            return "[^/]"',
      '        if op is k.ANY:\n            return "."',
      "'.' inside a placeholder may match '/' (RE2 form, which runs with (?s))",
      (PAT, G)),
    M("N07", PATTERNS,
      '    if text.startswith("/") or re.match(r"[A-Za-z]:", text):',
      '    if text.startswith("/") or re.match(r"[A-Z]:", text):',
      "a lowercase drive letter (c:/x) is accepted as a relative pattern",
      (PAT, G, MFT)),
    M("N08", PATTERNS,
      '        return i, "[^/]*"',
      '        return i, ".*"',
      "'*' matches across folders",
      (PAT, RES)),
    M("N09", PATTERNS,
      '            parts.append("[^/]")',
      '            parts.append(".")',
      "'?' matches '/'",
      (PAT, G)),
    M("N10", PATTERNS,
      '        return f"(?P<{name}>[^/]+?)", f"(?P<{name}>[^/]+?)"',
      '        return f"(?P<{name}>[^/]+?)", f"(?P<{name}>[^/]+)"',
      "{name} captures the longest text, not the shortest",
      (PAT, RES)),
    M("N11", PATTERNS,
      '    return after, "(?:[^/]+/)*"  # consumes the following',
      '    return after, "(?:[^/]+/)+"  # consumes the following',
      "'**/' needs at least one folder",
      (PAT, RES)),
    M("N12", PATTERNS,
      '    cleaned = _UNSAFE_RUN.sub("_", value).lstrip(".-")',
      '    cleaned = _UNSAFE_RUN.sub("_", value).lstrip(".")',
      "a captured value starting with '-' gives a name starting with '-'",
      (PAT, RES, G)),
    M("N13", PATTERNS,
      '    rf"(?:[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}/)*"\n'
      '    rf"[A-Za-z0-9_][A-Za-z0-9._-]{{0,{MAX_NAME_LENGTH - 1}}}"',
      '    r"(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*"\n    r"[A-Za-z0-9_][A-Za-z0-9._-]*"',
      "over-long path segments count as safe names",
      (PAT, RES, G)),
    M("N14", PATTERNS,
      'SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")',
      'SAFE_NAME = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9._-]*")',
      "'..' and hidden names count as safe names",
      (PAT, IDX, G)),
    M("N15", PATTERNS,
      '        if segment in (".", ".."):',
      '        if segment == "..":',
      "a '.' path segment is accepted in a pattern",
      (PAT, G)),
    M("N16", PATTERNS,
      "    if _NAMED_GROUP.search(user_regex):",
      "    if False:",
      "a placeholder regex may define its own named groups",
      (PAT, G)),
    M("N17", PATTERNS,
      "    if not SAFE_NAME.fullmatch(literal):",
      "    if False:",
      "a name template with unsafe literal text is accepted",
      (PAT, G)),
    M("N18", PATTERNS,
      '    if "\\\\" in skeleton:',
      "    if False:",
      "a backslash in a pattern is accepted",
      (PAT, G)),
    # ---- resolve.py -------------------------------------------------------------------------
    M("V01", RESOLVE,
      "                if not path.startswith(pattern.prefix):\n                    continue",
      "                if not path.startswith(pattern.prefix):\n                    break",
      "a rule's later patterns are not tried when the first one's prefix does not fit",
      (RES, G)),
    M("V02", RESOLVE,
      "                if captures is None:\n                    continue",
      "                if captures is None:\n                    break",
      "a rule's later patterns are not tried when the first one does not match",
      (RES, G)),
    M("V03", RESOLVE,
      "                break  # excluded from this rule; later rules may still take it",
      "                return None",
      "a file excluded from one rule is not offered to the later rules",
      (RES, G)),
    M("V04", RESOLVE,
      "        first = seen.setdefault(name.casefold(), name)",
      "        first = seen.setdefault(name, name)",
      "subset names differing only by case are both kept",
      (RES, G)),
    M("V05", RESOLVE,
      "        if len({n.casefold() for n in names}) == len(names):\n            break",
      "        if len(set(names)) == len(names):\n            break",
      "partition names differing only by case (d/x/A, d/y/a) are kept as A and a",
      (G, RES)),
    M("V06", RESOLVE,
      "        first = folded.setdefault(name.casefold(), name)",
      "        first = folded.setdefault(name, name)",
      "two partitions whose names differ only by case are both kept",
      (RES, G)),
    M("V07", RESOLVE,
      "        lambda hit: hit.file.path[len(hit.pattern.prefix) :],",
      "        lambda hit: hit.file.path,",
      "clashing partitions are named by their whole path, not the path below the prefix",
      (RES, G)),
    M("V08", RESOLVE,
      "        empty_rules=tuple(i for i, n in enumerate(hits) if n == 0),",
      "        empty_rules=(),",
      "rules that matched nothing are not reported",
      (RES, G)),
    M("V09", RESOLVE,
      "rule.template, rule.format or default_format)",
      "rule.template, default_format)",
      "a rule's own format is ignored",
      (RES, G)),
    # ---- index/digest.py: the one verification --------------------------------------------
    M("D01", DIGEST,
      "    if want.sha256:\n        return want.sha256 == got.sha256",
      "    if want.sha256:\n        return True",
      "a file with the right size but another sha256 counts as the same (repair, verify)",
      (MAN, G)),
    M("D02", DIGEST,
      "    return want.blob_id == got.blob_id if want.blob_id else True",
      "    return True",
      "a small file with the right size but another git blob id counts as the same",
      (MAN, G)),
    # ---- issue 9 guards: links, team dirs, hostile sources and manifests, damaged index -----
    M("F19", FETCH,
      "                if timeout == 0:\n"
      "                    return True  # come back when that process is done",
      "                if timeout == 0:\n"
      "                    return False  # come back when that process is done",
      "a partition whose .part another process writes (its lock file deleted) is dropped, "
      "not waited for",
      (TEAM,)),
    M("F20", FETCH,
      "                    if len(chunk) > room - received:",
      "                    if False:",
      "a body longer than the listed size is written whole (no cap at the listed size)",
      (HSRC, DL)),
    M("F21", FETCH,
      "            with self.store.storage.claim(partial):"
      "  # the one writer, even without lock files",
      '            with __import__("contextlib").nullcontext():',
      "a download does not claim its .part file: with lock files deleted two processes write it",
      (TEAM,)),
    M("S12", RECORDS,
      "                and size >= 0\n                and _text_or_none(data[\"sha256\"])",
      "                and _text_or_none(data[\"sha256\"])",
      "a record (as pygestor writes it, every key) with a negative size is read as valid",
      (DMG,)),
    M("S13", RECORDS,
      "        if not known[0](value):\n            raise _Bad(",
      "        if False:\n            raise _Bad(",
      "an index file's value of the wrong type (a size 'abc') is accepted when a key is missing",
      (DMG,)),
    M("S14", STORE,
      '        if found is not None and found.kind == "link":'
      "  # planted: neither followed nor replaced",
      "        if False:",
      "a link planted in place of an index file is not named as index damage before the write",
      (DMG, LNK)),
    M("L11", LOCAL,
      "_NOFOLLOW = os.O_NOFOLLOW | os.O_CLOEXEC",
      "_NOFOLLOW = os.O_CLOEXEC",
      "opens follow symbolic links (no O_NOFOLLOW): a linked .part file is renamed into place, "
      "a linked lock file locked through",
      (STO, LNK)),
    M("L12", LOCAL,
      "        if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):\n"
      "            os.close(fd)\n            return None",
      "        if False:\n            os.close(fd)\n            return None",
      "a lock taken on a lock file deleted meanwhile counts as held (two holders, no inode check)",
      (STO, TEAM)),
    M("R09", REMOVE,
      '                why = "not written by pygestor"',
      "                pass",
      "removing a whole subset deletes a foreign file beside the partitions",
      (LNK, MAN)),
    M("R10", REMOVE,
      "            elif record.size != info.size:",
      "            elif False:",
      "remove deletes a data file that does not match its record (someone else's bytes)",
      (LNK, MAN)),
    M("R11", REMOVE,
      "                held.enter_context(store.storage.claim(partial))",
      "                pass",
      "remove deletes the .part file of a download whose lock file a cleanup script deleted",
      (TEAM, MAN)),
    M("N19", PATTERNS,
      "    if _unique_match(text):",
      "    if True:",
      "every pattern runs on Python's backtracking re (a catastrophic regex hangs a sync)",
      (HMAN,)),
    M("Y01", DISCOVERY,
      "                if added <= MAX_ALIAS_EXPANSION:",
      "                if True:",
      "YAML aliases may expand a manifest without limit (the billion-laughs shape is accepted)",
      (HMAN,)),
    M("U01", SYNC,
      "        why = unsafe_path(file.path) or bad_size(file.size)",
      "        why = bad_size(file.size)",
      "a listed path with '..', a backslash or a control character is kept as a partition",
      (HSRC,)),
    M("W01", TIERS,
      "    if not os.access(probe, os.W_OK | os.X_OK):",
      "    if False:",
      "no up-front ReadOnlyDataDir check: a read-only data dir fails only at the first write",
      (TIER,)),
)
# fmt: on


# The tests that catch each mutant (found by the audit, or written for it): run instead of the
# whole files they are in, so an audit costs minutes rather than an hour on a busy machine. A
# mutant without an entry runs its `tests` files whole; the files of its `tests` that hold none of
# its catchers still run whole, after them. `--whole-files` ignores this table.
# Entries are "FILE::TEST" for tests/test_FILE.py::TEST, or a whole node id ("tests/...").
CATCHERS: dict[str, tuple[str, ...]] = {
    "F01": (
        "guards::test_a_file_at_the_final_path_with_the_right_size_but_other_bytes_is_fetched_again",
    ),
    "F02": ("guards::test_a_recorded_file_truncated_on_disk_is_not_local_and_is_fetched_again",),
    "F03": ("guards::test_update_refetches_a_changed_file_of_the_same_size",),
    "F04": (
        "guards::test_a_206_with_wrong_bytes_fails_the_hash_and_is_fetched_again_whole",
        "download::test_corrupt_bytes_are_discarded_and_fetched_again",
    ),
    "F05": (
        "guards::test_a_206_with_wrong_bytes_fails_the_hash_and_is_fetched_again_whole",
        "download::test_corrupt_bytes_are_discarded_and_fetched_again",
    ),
    "F06": ("guards::test_a_partial_file_one_byte_too_long_is_discarded_not_resumed",),
    "F07": ("guards::test_a_complete_partial_file_is_verified_and_renamed_without_a_request",),
    "F08": (
        "guards::test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial",
    ),
    "F09": (
        "guards::test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial",
    ),
    "F10": ("guards::test_a_206_with_less_than_asked_is_resumed_from_where_it_stopped",),
    "F11": ("guards::test_a_failing_server_is_asked_exactly_retries_plus_one_times",),
    "F12": ("download::test_faults_are_survived",),
    "F13": ("download::test_stale_partitions_are_kept_until_update",),
    "F14": (
        "guards::test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial",
    ),
    "F15": ("download::test_not_enough_space_fails_before_anything_starts",),
    "F17": ("download::test_two_processes_fetch_each_file_once",),
    "F18": ("download::test_download_gives_identical_files_and_records",),
    "H01": (
        "guards::test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial",
    ),
    "H02": (
        "guards::test_a_server_ignoring_range_sends_the_whole_file_which_replaces_the_partial",
    ),
    "H03": (
        "guards::test_a_206_at_another_offset_than_asked_is_refused_and_the_resume_asked_again",
    ),
    "H04": ("download::test_resume_after_kill_9_asks_for_a_range",),
    "H05": ("download::test_gated_repo_needs_a_token_that_never_reaches_the_lfs_origin",),
    "H06": ("download::test_faults_are_survived",),
    "H07": ("download::test_faults_are_survived",),
    "H08": ("guards::test_retry_after_is_capped_and_never_negative",),
    "H09": ("download::test_resume_after_kill_9_asks_for_a_range",),
    "H10": ("guards::test_a_body_cut_off_is_retried_from_the_bytes_received_and_says_how_many",),
    "S01": ("guards::test_save_listing_moves_the_pointer_only_under_the_dataset_lock",),
    "S02": ("guards::test_a_listing_pruned_while_waiting_for_the_lock_is_written_again",),
    "S03": ("sync::test_forget_drops_the_index_but_keeps_records",),
    "S04": ("index::test_records_count_as_local_only_with_their_file",),
    "S05": ("guards::test_the_three_newest_listings_are_kept",),
    "S06": ("guards::test_pruning_keeps_the_previous_listing_even_when_it_is_the_oldest",),
    "S07": ("index::test_listings_are_content_addressed_and_the_pointer_keeps_one_before",),
    "S08": ("guards::test_a_sync_removes_only_temporary_files_older_than_an_hour",),
    "S09": ("guards::test_a_record_of_another_format_version_counts_as_no_record",),
    "S10": ("guards::test_a_temporary_record_file_is_not_a_record",),
    "S11": ("index::test_listings_are_content_addressed_and_the_pointer_keeps_one_before",),
    "L01": (
        "guards::test_write_renames_a_new_file_into_place_so_a_reader_keeps_whole_old_bytes",
        "tests/test_storage.py::TestSharedLocalStorage::test_modes_of_what_it_creates",
    ),
    "L02": ("tests/test_storage.py::TestLocalStorage::test_create_is_create_only",),
    "L03": ("tests/test_storage.py::TestLocalStorage::test_unclean_keys_are_refused",),
    "L04": ("guards::test_a_sibling_folder_sharing_a_name_prefix_is_not_inside",),
    "L05": ("tests/test_storage.py::TestLocalStorage::test_links_are_entries_never_followed",),
    "L06": ("tests/test_storage.py::TestLocalStorage::test_append_then_replace",),
    "L09": ("guards::test_walk_of_a_folder_that_is_a_link_yields_nothing",),
    "L10": (
        "guards::test_index_files_take_the_shared_file_mode_whatever_the_umask",
        "tests/test_storage.py::TestSharedLocalStorage::test_modes_of_what_it_creates",
    ),
    "T01": ("index::test_states_are_derived_from_records_and_the_listing",),
    "T02": ("index::test_states_are_derived_from_records_and_the_listing",),
    "T03": (
        "guards::test_a_selection_of_two_subsets_sees_the_records_of_both",
        "index::test_select_chooses_and_names_files",
    ),
    "T04": ("index::test_states_are_derived_from_records_and_the_listing",),
    "T05": ("index::test_choosing_subsets_and_partitions_errors",),
    "T06": ("index::test_select_chooses_and_names_files",),
    "R01": ("manage::test_remove_frees_exactly_the_recorded_bytes_and_keeps_the_listing",),
    "R02": ("guards::test_a_link_planted_after_the_removal_plan_is_refused_at_delete_time",),
    "R03": ("manage::test_partitions_being_downloaded_are_left_alone",),
    "R04": ("guards::test_removing_one_partition_deletes_its_partial_download_too",),
    "R05": ("manage::test_remove_frees_exactly_the_recorded_bytes_and_keeps_the_listing",),
    "R06": ("manage::test_remove_never_deletes_a_local_source",),
    "R08": ("guards::test_a_removal_plan_drops_the_record_of_a_file_already_gone",),
    "P01": ("guards::test_repair_drops_the_record_of_a_file_matching_neither_record_nor_listing",),
    "P02": ("manage::test_repair_rebuilds_records_after_the_index_is_deleted",),
    "P03": ("guards::test_repair_drops_the_record_of_a_file_matching_neither_record_nor_listing",),
    "P04": ("manage::test_repair_rebuilds_records_after_the_index_is_deleted",),
    "P05": (
        "guards::test_repair_leaves_the_partial_file_of_a_running_download",
        "manage::test_partitions_being_downloaded_are_left_alone",
    ),
    "P06": ("guards::test_repair_removes_only_temporary_files_older_than_an_hour",),
    "N01": ("guards::test_a_capture_that_would_hold_a_slash_is_refused",),
    "N02": ("guards::test_placeholder_regexes_stay_inside_one_folder",),
    "N03": ("guards::test_placeholder_regexes_stay_inside_one_folder",),
    "N04": ("guards::test_placeholder_regexes_stay_inside_one_folder",),
    "N05": ("guards::test_a_capture_that_would_hold_a_slash_is_refused",),
    "N06": (
        "guards::test_placeholder_regexes_stay_inside_one_folder",
        "patterns::test_regex_placeholder_before_double_star_stays_in_its_segment",
    ),
    "N07": ("guards::test_absolute_patterns_are_refused_whatever_the_drive_letter_case",),
    "N08": ("patterns::test_regex_placeholder_keeps_validation_out",),
    "N09": ("patterns::test_question_mark_is_one_character_other_than_slash",),
    "N10": ("patterns::test_placeholder_is_lazy",),
    "N11": ("patterns::test_double_star_matches_zero_or_more_folders",),
    "N12": ("patterns::test_safe_name",),
    "N13": ("patterns::test_unsafe_relpaths",),
    "N14": ("patterns::test_unsafe_literal_in_template_is_rejected",),
    "N15": ("patterns::test_rejected_patterns",),
    "N16": ("patterns::test_rejected_patterns",),
    "N17": ("patterns::test_unsafe_literal_in_template_is_rejected",),
    "N18": ("patterns::test_rejected_patterns",),
    "V01": (
        "guards::test_every_pattern_of_a_rule_is_tried_after_the_first_fails",
        "resolve::test_exclude_applies_to_every_pattern_of_its_rule",
    ),
    "V02": ("guards::test_every_pattern_of_a_rule_is_tried_after_the_first_fails",),
    "V03": ("resolve::test_exclude_only_keeps_the_file_out_of_that_rule",),
    "V04": ("resolve::test_subset_names_differing_only_by_case_are_refused",),
    "V05": ("guards::test_a_case_only_clash_across_folders_names_partitions_by_their_folder",),
    "V06": ("resolve::test_partition_names_differing_only_by_case_are_refused",),
    "V07": ("resolve::test_partitions_named_by_path_below_the_prefix_when_file_names_repeat",),
    "V08": ("resolve::test_first_rule_wins",),
    "V09": ("resolve::test_rule_format_overrides_the_manifest_format",),
    "D01": ("manage::test_repair_rebuilds_records_after_the_index_is_deleted",),
    "D02": ("guards::test_repair_checks_a_small_file_by_its_git_blob_id",),
    "F19": ("team_dir::test_deleted_lock_files_do_not_fetch_twice_or_crash",),
    "F21": ("team_dir::test_deleted_lock_files_do_not_fetch_twice_or_crash",),
    "S14": ("damaged_index::test_every_command_is_one_line_or_works",),
    "W01": ("tiers::test_every_write_to_a_read_only_data_dir_is_one_line",),
    "F20": ("hostile_sources::test_a_body_longer_than_listed_is_cut_at_the_listed_size",),
    "L11": ("tests/test_storage.py::TestLocalStorage::test_writes_never_follow_a_link_out",),
    "L12": (
        "tests/test_storage.py::test_a_lock_file_replaced_between_open_and_flock_is_not_held_twice",
    ),
    "N19": ("hostile_manifests::test_unique_match_shapes_run_on_python_and_the_rest_on_re2",),
    "Y01": ("hostile_manifests::test_alias_bomb_is_refused_in_one_line_at_once",),
    "U01": ("hostile_sources::test_hostile_listing_entries_are_skipped_and_never_requested",),
    "R09": ("links::test_remove_all_keeps_a_foreign_file_beside_the_partitions",),
    "R10": ("links::test_remove_keeps_a_data_file_that_does_not_match_its_record",),
    "R11": ("team_dir::test_remove_leaves_a_partial_file_being_written_alone_without_lock_files",),
    "S12": ("damaged_index::test_every_command_is_one_line_or_works",),
    "S13": ("damaged_index::test_each_kind_of_file_is_parsed_with_its_message",),
}


@dataclass
class Result:
    id: str
    file: str
    what: str
    outcome: str  # caught, TIMEOUT, SURVIVED, equivalent, NOT FOUND, AMBIGUOUS, DIRTY
    detail: str = ""  # the first failing test, or why
    seconds: float = 0.0


def _copy_repo(src: Path) -> Path:
    dest = Path(tempfile.mkdtemp(prefix="pygestor-mutants-")) / "repo"
    # traversable by others: tests that run pygestor as another user (test_tiers.py, as
    # `nobody`) must import the mutated copy, not fall back to the installed checkout
    dest.parent.chmod(0o755)
    shutil.copytree(src, dest, ignore=IGNORE, symlinks=True)
    return dest


def _env(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(copy), env.get("PYTHONPATH", "")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _pytest(copy: Path, tests: list[str], timeout: float) -> tuple[int | None, str, float]:
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd,
            cwd=copy,
            env=_env(copy),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - start
    return proc.returncode, proc.stdout + proc.stderr, time.monotonic() - start


def _first_failure(output: str) -> str:
    for line in output.splitlines():
        match = re.match(r"(FAILED|ERROR) (\S+)", line)
        if match:
            return match.group(2)
    return "collection or import error" if "rror" in output else "a test failed"


def _existing(copy: Path, tests: tuple[str, ...]) -> list[str]:
    return [t for t in tests if (copy / t.split("::", 1)[0]).exists()]


def selection(m: Mutant) -> tuple[str, ...]:
    """What to run for `m`: its catchers first, then its files that hold none of them (pytest
    would merge a file given twice into file order)."""
    nodes = [
        c
        if c.startswith("tests/")
        else f"tests/test_{c.split('::', 1)[0]}.py::{c.split('::', 1)[1]}"
        for c in CATCHERS.get(m.id, ())
    ]
    files = {n.split("::", 1)[0] for n in nodes}
    return (*nodes, *(t for t in m.tests if t not in files))


def run(mutants: list[Mutant], *, timeout: float, clean_check: bool, verbose: bool) -> list[Result]:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the temporary copy is removed
    copy = _copy_repo(REPO)
    try:
        check = subprocess.run(
            [sys.executable, "-c", "import pygestor; print(pygestor.__file__)"],
            cwd=copy,
            env=_env(copy),
            capture_output=True,
            text=True,
            check=True,
        )
        if not check.stdout.strip().startswith(str(copy)):
            sys.exit(f"the copy is not the pygestor imported ({check.stdout.strip()}); stopping")
        dirty: dict[tuple[str, ...], str] = {}
        if clean_check:
            selections = {tuple(_existing(copy, m.tests)) for m in mutants if not m.equivalent}
            for selection in sorted(s for s in selections if s):
                code, out, secs = _pytest(copy, list(selection), timeout * 2)
                print(f"  clean run {' '.join(selection)}: exit {code} ({secs:.0f} s)", flush=True)
                if code != 0:
                    dirty[selection] = _first_failure(out) if code else "timeout"
        results = []
        for m in mutants:
            results.append(_run_one(copy, m, timeout, dirty, verbose))
            r = results[-1]
            print(f"  {r.id}  {r.outcome:<10} {r.detail}  ({r.seconds:.0f} s)", flush=True)
        return results
    finally:
        shutil.rmtree(copy.parent, ignore_errors=True)


def _run_one(
    copy: Path, m: Mutant, timeout: float, dirty: dict[tuple[str, ...], str], verbose: bool
) -> Result:
    if m.equivalent:
        return Result(m.id, m.file, m.what, "equivalent", m.equivalent)
    path = copy / m.file
    original = path.read_text(encoding="utf-8")
    count = original.count(m.old)
    if count != 1:
        outcome = "NOT FOUND" if count == 0 else "AMBIGUOUS"
        return Result(m.id, m.file, m.what, outcome, f"snippet found {count} times in {m.file}")
    tests = _existing(copy, m.tests)
    if not tests:
        return Result(m.id, m.file, m.what, "NOT FOUND", f"none of {', '.join(m.tests)} exists")
    if tuple(tests) in dirty:
        return Result(m.id, m.file, m.what, "DIRTY", f"fails unmutated: {dirty[tuple(tests)]}")
    path.write_text(original.replace(m.old, m.new), encoding="utf-8")
    try:
        code, out, secs = _pytest(copy, tests, timeout)
    finally:
        path.write_text(original, encoding="utf-8")
    if verbose and code:
        print(out[-3000:])
    if code is None:
        return Result(m.id, m.file, m.what, "TIMEOUT", f"over {timeout:.0f} s", secs)
    if code == 0:
        return Result(m.id, m.file, m.what, "SURVIVED", " ".join(tests), secs)
    if code == 5:
        return Result(m.id, m.file, m.what, "SURVIVED", "no tests collected", secs)
    return Result(m.id, m.file, m.what, "caught", _first_failure(out), secs)


def summary(results: list[Result]) -> dict[str, object]:
    caught = sum(r.outcome in ("caught", "TIMEOUT") for r in results)
    survived = [r.id for r in results if r.outcome == "SURVIVED"]
    counted = caught + len(survived)
    return {
        "mutants": len(results),
        "caught": caught,
        "survived": survived,
        "equivalent": [r.id for r in results if r.outcome == "equivalent"],
        "not_run": [r.id for r in results if r.outcome in ("NOT FOUND", "AMBIGUOUS", "DIRTY")],
        "score": round(100 * caught / counted, 1) if counted else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per mutant")
    parser.add_argument("--no-clean-check", action="store_true", help="skip the unmutated runs")
    parser.add_argument("-v", "--verbose", action="store_true", help="show failing output")
    parser.add_argument(
        "--whole-files", action="store_true", help="run each mutant's test files whole"
    )
    parser.add_argument(
        "--tests", nargs="+", metavar="PATH", help="run these tests instead of each mutant's own"
    )
    args = parser.parse_args(argv)
    ids = [m.id for m in MUTANTS]
    if len(set(ids)) != len(ids):
        sys.exit("duplicate mutant ids")
    chosen = list(MUTANTS)
    if args.only:
        unknown = set(args.only) - set(ids)
        if unknown:
            sys.exit(f"unknown mutant ids: {', '.join(sorted(unknown))}")
        chosen = [m for m in MUTANTS if m.id in args.only]
    if args.tests:
        chosen = [replace(m, tests=tuple(args.tests)) for m in chosen]
    elif not args.whole_files:
        chosen = [replace(m, tests=selection(m)) for m in chosen]
    if args.list:
        for m in chosen:
            mark = f"  [equivalent: {m.equivalent}]" if m.equivalent else ""
            print(f"{m.id}  {m.file:<32} {m.what}{mark}\n      tests: {' '.join(m.tests)}")
        print(f"{len(chosen)} mutants")
        return 0
    print(f"{len(chosen)} mutants on a copy of {REPO}", flush=True)
    results = run(
        chosen, timeout=args.timeout, clean_check=not args.no_clean_check, verbose=args.verbose
    )
    print(f"\n{'id':<5} {'outcome':<10} {'file':<30} caught by / note")
    for r in results:
        print(f"{r.id:<5} {r.outcome:<10} {r.file:<30} {r.detail}")
    totals = summary(results)
    print(
        f"\ncaught {totals['caught']} of {totals['caught'] + len(totals['survived'])} "  # type: ignore[operator]
        f"non-equivalent mutants run: {totals['score']} %; survived: "
        f"{', '.join(totals['survived']) or 'none'}; equivalent: "  # type: ignore[arg-type]
        f"{len(totals['equivalent'])}; not run: {', '.join(totals['not_run']) or 'none'}"  # type: ignore[arg-type]
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"summary": totals, "results": [asdict(r) for r in results]}, indent=1),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

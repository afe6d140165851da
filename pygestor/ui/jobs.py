"""Background downloads of the web UI: one `Job` per request, run by `Catalog.download` in a
worker thread, kept as one JSON file each, with live progress, cancel and resume.

    manager = JobManager(catalog, folder)       # recovers the jobs an earlier server left
    job = manager.start(JobSpec("wikipedia", subsets=("20231101.en",)))
    manager.cancel(job.id)                      # -> cancelling -> cancelled (partial files kept)
    manager.resume(job.id)                      # the same id runs again; `.part` files resume
    sub = manager.subscribe()                   # in the event loop: ("job", job JSON) items

States: `queued` (waiting for one of `max_running` slots) -> `running` -> `done` or `failed`;
`cancel` goes through `cancelling` to `cancelled`. A server that shuts down stops its jobs the
same way, and they become `interrupted`; so does a job whose record says queued or running but
whose process is gone (a server killed, a machine rebooted), when the next server starts.
`cancelled`, `interrupted` and `failed` jobs resume on request.

Starting a job identical to an active one (same dataset, subsets, partitions, flags) returns the
active one instead of a second copy (`submit` says which); overlapping jobs are allowed, the
download locks keep each partition fetched once.

Files (`folder`, by default `<data dir>/.pygestor/jobs/`): `<id>.json`, written atomically (a
temporary file, fsync, rename) on every state change and at most once a second while a job
runs. Subscribers get every state change and progress at most `PUBLISH_EVERY` apart per job,
published from the worker threads with `loop.call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DownloadInterrupted, PygestorError
from ..index.records import utc_now

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..fetch import DownloadPlan, ProgressEvent
    from ..storage.local import LocalStorage

log = logging.getLogger(__name__)

JobState = Literal["queued", "running", "cancelling", "cancelled", "interrupted", "failed", "done"]
STATES: tuple[JobState, ...] = (
    "queued",
    "running",
    "cancelling",
    "cancelled",
    "interrupted",
    "failed",
    "done",
)
ACTIVE = frozenset({"queued", "running", "cancelling"})
RESUMABLE = frozenset({"cancelled", "interrupted", "failed"})
FINISHED = frozenset({"cancelled", "interrupted", "failed", "done"})
MAX_RUNNING = 2  # jobs downloading at once; more wait `queued`
SAVE_EVERY = 1.0  # seconds between writes of a running job's file
PUBLISH_EVERY = 0.25  # seconds between progress events of one job to subscribers
RATE_WINDOW = 5.0  # seconds of transfer the rate is measured over
QUEUE_SIZE = 1000  # events a slow subscriber may fall behind by (the oldest are dropped)
SLOT_POLL = 0.1  # seconds between looks at the cancel event while a job waits for a slot
JOB_ID = re.compile(r"[0-9a-f]{12}")


class JobNotFound(PygestorError):
    """No job of that id."""

    http_status = 404

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"no job {job_id!r}; GET /api/jobs lists them")


class JobStateError(PygestorError):
    """The job's state does not allow what was asked (resume a running job, delete an active
    one, cancel one that another server runs)."""

    http_status = 409


@dataclass(frozen=True)
class JobSpec:
    """What a job downloads: the arguments of `Catalog.download`."""

    dataset: str
    subsets: tuple[str, ...] = ()
    partitions: tuple[str, ...] = ()
    all: bool = False
    update: bool = False
    workers: int | None = None

    @property
    def key(self) -> tuple[Any, ...]:
        """What makes two jobs the same download (the order of names does not matter)."""
        return (
            self.dataset,
            tuple(sorted(set(self.subsets))),
            tuple(sorted(set(self.partitions))),
            self.all,
            self.update,
        )

    def selection(self) -> dict[str, Any]:
        """The keyword arguments of `Catalog.plan_download` (and `download`) after the name."""
        subset: str | list[str] | None = None
        if len(self.subsets) == 1:
            subset = self.subsets[0]
        elif self.subsets:
            subset = list(self.subsets)
        return {
            "subset": subset,
            "partitions": list(self.partitions) or None,
            "all_subsets": self.all,
            "update": self.update,
        }


@dataclass
class Job:
    """One background download and its progress (`to_json` is what the API returns; the
    OpenAPI describes this dataclass)."""

    id: str
    dataset: str
    subsets: list[str]
    partitions: list[str]
    all: bool
    update: bool
    workers: int | None
    state: JobState
    host: str
    pid: int
    created_at: str
    updated_at: str
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    bytes_done: int = 0
    bytes_total: int = 0
    files_done: int = 0
    files_total: int = 0
    rate: float = 0.0  # bytes per second over the last RATE_WINDOW seconds of transfer
    fetched: int = 0  # partitions fetched, over every run of the job
    skipped: int = 0  # partitions found local (or fetched meanwhile by another process)

    @property
    def spec(self) -> JobSpec:
        return JobSpec(
            self.dataset,
            tuple(self.subsets),
            tuple(self.partitions),
            self.all,
            self.update,
            self.workers,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Job:
        """A job from its file; ValueError when the file is not a job's."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in fields(cls)}
        try:
            job = cls(**{k: v for k, v in data.items() if k in names})
        except TypeError as exc:
            raise ValueError(str(exc)) from None
        if not JOB_ID.fullmatch(str(job.id)) or job.state not in STATES:
            raise ValueError(f"id {job.id!r} or state {job.state!r} is not a job's")
        return job


@dataclass
class _Run:
    """One run of a job in this process: its thread, its cancel event and its counters."""

    cancel: threading.Event = field(default_factory=threading.Event)
    user_cancel: bool = False  # cancelled on request (else a shutdown stopped it: interrupted)
    base_bytes: int = 0  # what earlier runs (and partial files) already hold
    base_files: int = 0
    fetched0: int = 0
    skipped0: int = 0
    network: int = 0  # bytes this run received
    samples: deque[tuple[float, int]] = field(default_factory=deque)
    saved: float = 0.0
    published: float = 0.0
    thread: threading.Thread | None = None

    def rate(self, now: float) -> float:
        self.samples.append((now, self.network))
        while len(self.samples) > 2 and now - self.samples[0][0] > RATE_WINDOW:
            self.samples.popleft()
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        return round((b1 - b0) / (t1 - t0), 1) if t1 > t0 else 0.0


class Subscription:
    """One listener's queue of `(event, data)` items, filled from any thread; `None` ends it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue(QUEUE_SIZE)

    def offer(self, item: tuple[str, dict[str, Any]] | None) -> bool:
        """Queue `item` from any thread; False when the listener's loop is gone."""
        try:
            self.loop.call_soon_threadsafe(self._put, item)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _put(self, item: tuple[str, dict[str, Any]] | None) -> None:
        if self.queue.full():  # a listener this far behind loses the oldest progress
            self.queue.get_nowait()
        self.queue.put_nowait(item)

    async def get(self) -> tuple[str, dict[str, Any]] | None:
        return await self.queue.get()


class JobManager:
    """The jobs of one server over one Catalog, kept in `folder`."""

    def __init__(
        self, catalog: Catalog, folder: str | os.PathLike[str], *, max_running: int = MAX_RUNNING
    ) -> None:
        from ..storage.local import LocalStorage

        self.catalog = catalog
        self.folder = Path(folder)
        self.storage: LocalStorage = LocalStorage(self.folder)
        self.host, self.pid = socket.gethostname(), os.getpid()
        # jobs, runs, subscribers and the job files: a change is saved and published before
        # anyone can see it (a write is a few ms, at most once a second per running job)
        self._lock = threading.RLock()
        self._submit = threading.Lock()  # one start or resume plans at a time
        self._jobs: dict[str, Job] = {}
        self._runs: dict[str, _Run] = {}
        self._subscribers: set[Subscription] = set()
        self._seen: dict[str, tuple[int, int]] = {}  # job files read: (size, mtime_ns)
        self._slots = threading.Semaphore(max_running)
        self._closed = False
        self.recover()

    # ---- reading -----------------------------------------------------------------------------
    def jobs(self) -> list[Job]:
        """Every job, oldest first (copies)."""
        with self._lock:
            jobs = sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id))
            return [Job(**asdict(j)) for j in jobs]

    def get(self, job_id: str) -> Job:
        """A copy of the job (JobNotFound when there is none)."""
        with self._lock:
            return Job(**asdict(self._job(job_id)))

    def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFound(job_id)
        return job

    # ---- starting, stopping ------------------------------------------------------------------
    def start(self, spec: JobSpec) -> Job:
        """Start downloading `spec` in the background (or return the identical active job)."""
        return self.submit(spec)[0]

    def submit(self, spec: JobSpec) -> tuple[Job, bool]:
        """`start`, saying whether the job is new (False: an identical active job returned).
        The selection is planned here, so a bad one raises its error before any job exists."""
        with self._submit:
            with self._lock:
                self._require_open()
                same = [
                    j for j in self._jobs.values() if j.state in ACTIVE and j.spec.key == spec.key
                ]
                if same:
                    return Job(**asdict(same[0])), False
            plan = self._plan(spec)
            now = utc_now()
            job = Job(
                id=secrets.token_hex(6),
                dataset=spec.dataset,
                subsets=list(spec.subsets),
                partitions=list(spec.partitions),
                all=spec.all,
                update=spec.update,
                workers=spec.workers,
                state="queued",
                host=self.host,
                pid=self.pid,
                created_at=now,
                updated_at=now,
            )
            with self._lock:
                self._jobs[job.id] = job
                self._launch(job, plan)
        return self.get(job.id), True

    def resume(self, job_id: str) -> Job:
        """Run a cancelled, interrupted or failed job again, with the same id."""
        with self._submit:
            with self._lock:
                self._require_open()
                job = self._job(job_id)
                if job.state not in RESUMABLE:
                    raise JobStateError(
                        f"job {job_id} is {job.state}: only a cancelled, interrupted or failed "
                        "job can be resumed"
                    )
                spec = job.spec
            plan = self._plan(spec)
            with self._lock:
                job.state, job.error, job.finished_at = "queued", None, None
                job.host, job.pid, job.rate = self.host, self.pid, 0.0
                job.updated_at = utc_now()
                self._launch(job, plan)
        return self.get(job_id)

    def cancel(self, job_id: str) -> Job:
        """Ask a queued or running job to stop: `cancelling`, then `cancelled` once the download
        has stopped (its partial files stay, for `resume`)."""
        with self._lock:
            job = self._job(job_id)
            if job.state in FINISHED:
                raise JobStateError(
                    f"job {job_id} is {job.state}: only a queued or running job can be cancelled"
                )
            run = self._runs.get(job_id)
            if run is None:
                raise self._foreign(job)
            run.user_cancel = True
            run.cancel.set()
            if job.state != "cancelling":
                job.state, job.updated_at = "cancelling", utc_now()
                self._changed(job_id)
            return Job(**asdict(job))

    def delete(self, job_id: str) -> None:
        """Forget a finished job (its file goes; downloaded and partial files stay)."""
        with self._lock:
            job = self._job(job_id)
            if job.state not in FINISHED:
                raise JobStateError(
                    f"job {job_id} is {job.state}: cancel it first (only a finished job can be "
                    "deleted)"
                )
            del self._jobs[job_id]
            self.storage.remove(f"{job_id}.json")
            self._publish("deleted", {"id": job_id})

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop every job of this process (they become `interrupted`, resumable by the next
        server) and end every subscription."""
        with self._lock:
            self._closed = True
            runs = dict(self._runs)
            for run in runs.values():
                run.cancel.set()
        deadline = time.monotonic() + timeout
        for job_id, run in runs.items():
            if run.thread is not None:
                run.thread.join(max(0.0, deadline - time.monotonic()))
            if run.thread is not None and run.thread.is_alive():  # stuck: recorded as stopped
                log.warning("job %s did not stop within %.0f s", job_id, timeout)
                self._finish(job_id, run, "cancelled" if run.user_cancel else "interrupted")
        self.end_streams()

    def end_streams(self) -> None:
        """End every subscription (their event streams close), e.g. when the server is asked to
        stop: open streams would otherwise hold its shutdown until they time out."""
        with self._lock:
            subscribers, self._subscribers = list(self._subscribers), set()
        for sub in subscribers:
            sub.offer(None)

    def _require_open(self) -> None:
        if self._closed:
            raise JobStateError("the server is shutting down: no new jobs")

    def _foreign(self, job: Job) -> JobStateError:
        return JobStateError(
            f"job {job.id} is run by process {job.pid} on {job.host}, not this server; "
            "cancel it there"
        )

    def _plan(self, spec: JobSpec) -> DownloadPlan:
        """Plan the download (the selection's errors are raised here, to the caller)."""
        return self.catalog.plan_download(spec.dataset, **spec.selection())

    def _launch(self, job: Job, plan: DownloadPlan) -> None:
        """Set the job's totals from `plan`, save it and start its thread (the lock is held)."""
        if job.files_total == 0:  # the first run: the totals are what it will fetch
            job.bytes_total = sum(i.file.size for i in plan.fetch)
            job.files_total = len(plan.fetch)
        run = _Run(
            base_bytes=max(job.bytes_total - plan.bytes_to_fetch, 0),
            base_files=max(job.files_total - len(plan.fetch), 0),
            fetched0=job.fetched,
            skipped0=job.skipped,
        )
        job.bytes_done, job.files_done = run.base_bytes, run.base_files
        self._runs[job.id] = run
        self._changed(job.id)
        run.thread = threading.Thread(
            target=self._work, args=(job.id, run), name=f"pygestor-job-{job.id}", daemon=True
        )
        run.thread.start()

    # ---- the worker thread -------------------------------------------------------------------
    def _work(self, job_id: str, run: _Run) -> None:
        while not self._slots.acquire(timeout=SLOT_POLL):
            if run.cancel.is_set():
                self._finish(job_id, run, "cancelled" if run.user_cancel else "interrupted")
                return
        try:
            self._download(job_id, run)
        finally:
            self._slots.release()

    def _download(self, job_id: str, run: _Run) -> None:
        with self._lock:
            job = self._jobs[job_id]
            spec = job.spec
            if not run.cancel.is_set():
                job.state, job.updated_at = "running", utc_now()
                job.started_at = job.started_at or job.updated_at
                self._changed(job_id)
        if run.cancel.is_set():
            self._finish(job_id, run, "cancelled" if run.user_cancel else "interrupted")
            return
        try:
            report = self.catalog.download(
                spec.dataset,
                **spec.selection(),
                workers=spec.workers,
                progress=lambda event: self._progress(job_id, run, event),
                cancel=run.cancel,
            )
        except DownloadInterrupted:
            self._finish(job_id, run, "cancelled" if run.user_cancel else "interrupted")
        except PygestorError as exc:
            self._finish(job_id, run, "failed", str(exc))
        except Exception as exc:  # a bug: recorded on the job, not lost in a thread
            log.exception("job %s failed", job_id)
            self._finish(job_id, run, "failed", f"{type(exc).__name__}: {exc}")
        else:
            with self._lock:
                job.fetched = run.fetched0 + len(report.fetched)
                job.skipped = run.skipped0 + len(report.skipped)
                job.bytes_done, job.files_done = job.bytes_total, job.files_total
            self._finish(job_id, run, "done")

    def _progress(self, job_id: str, run: _Run, event: ProgressEvent) -> None:
        """The download's callback (called from its worker threads, one at a time)."""
        now = time.monotonic()
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or self._runs.get(job_id) is not run:
                return
            job.bytes_done = min(run.base_bytes + event.bytes_done, job.bytes_total)
            job.files_done = min(run.base_files + event.files_done, job.files_total)
            if event.kind == "done":
                job.fetched += 1
            elif event.kind == "skipped":
                job.skipped += 1
            elif event.kind == "bytes":
                run.network += event.delta
            job.rate = run.rate(now)
            job.updated_at = utc_now()
            if now - run.saved >= SAVE_EVERY:
                run.saved = now
                self._save(job_id)
            if event.kind != "bytes" or now - run.published >= PUBLISH_EVERY:
                run.published = now
                self._publish_job(job_id)

    def _finish(self, job_id: str, run: _Run, state: JobState, error: str | None = None) -> None:
        with self._lock:
            if self._runs.get(job_id) is not run:  # already finished (a shutdown gave up on it)
                return
            del self._runs[job_id]
            job = self._jobs[job_id]
            job.state, job.error, job.rate = state, error, 0.0
            job.finished_at = job.updated_at = utc_now()
            self._changed(job_id)

    # ---- files and subscribers ---------------------------------------------------------------
    def _changed(self, job_id: str) -> None:
        """A state change: saved and published now (the lock is held)."""
        self._save(job_id)
        self._publish_job(job_id)

    def _save(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                return
            data = json.dumps(job.to_json(), indent=1, sort_keys=True).encode("utf-8")
            try:
                self.storage.write(f"{job_id}.json", data)
                info = self.storage.info(f"{job_id}.json")
            except OSError as exc:  # a read-only data dir: the job still runs, unsaved
                log.warning("could not save job %s in %s: %s", job_id, self.folder, exc)
                return
            if info is not None:  # what we wrote is known: `refresh` need not read it back
                self._seen[job_id] = (info.size, info.mtime_ns)

    def _publish_job(self, job_id: str) -> None:
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None:
                self._publish("job", job.to_json())

    def _publish(self, event: str, data: dict[str, Any]) -> None:
        """Queue an event for every subscriber, under the lock, so every subscriber sees the
        snapshots in the order they were taken."""
        with self._lock:
            gone = [sub for sub in self._subscribers if not sub.offer((event, data))]
            self._subscribers.difference_update(gone)

    def subscribe(self) -> Subscription:
        """A queue of `("job", job JSON)` (and `("deleted", {"id"})`) items for the running event
        loop; `None` when the server shuts down. `unsubscribe` it when done."""
        sub = Subscription(asyncio.get_running_loop())
        with self._lock:
            if self._closed:
                sub.queue.put_nowait(None)
            else:
                self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subscribers.discard(sub)

    # ---- start-up ----------------------------------------------------------------------------
    def recover(self) -> list[str]:
        """Read the jobs in the folder; a job left queued, running or cancelling by a process
        that is gone becomes `interrupted`. Returns the ids of those."""
        return self._read_folder()[1]

    def refresh(self) -> list[str]:
        """Read again the job files other servers sharing the folder have changed, added or
        deleted since the last look (their progress, their new jobs), publishing each change;
        this process's own jobs are never re-read. Returns the ids that changed."""
        return self._read_folder()[0]

    def _read_folder(self) -> tuple[list[str], list[str]]:
        """(changed, interrupted) ids after one listing of the folder (a stat per file; a file
        is parsed only when its size or mtime changed)."""
        changed, interrupted, seen = [], [], set()
        for info in self.storage.list(""):
            job_id, dot, ext = info.key.rpartition(".")
            if info.kind != "file" or (dot, ext) != (".", "json") or not JOB_ID.fullmatch(job_id):
                continue
            seen.add(job_id)
            with self._lock:
                if job_id in self._runs or self._seen.get(job_id) == (info.size, info.mtime_ns):
                    continue  # ours (we wrote it), or unchanged since the last look
                self._seen[job_id] = (info.size, info.mtime_ns)
            try:
                job = Job.from_json(json.loads(self.storage.read(info.key) or b""))
            except ValueError as exc:  # JSONDecodeError too: skipped, left for a person to see
                log.warning("skipping the unreadable job file %s: %s", info.key, exc)
                continue
            with self._lock:
                if job_id in self._runs:  # started here meanwhile: ours is the truth
                    continue
                self._jobs[job.id] = job
                changed.append(job.id)
                if job.state in ACTIVE and not self._alive(job):
                    job.state, job.rate = "interrupted", 0.0
                    job.finished_at = job.updated_at = utc_now()
                    interrupted.append(job.id)
        with self._lock:
            gone = [j for j in self._jobs if j not in seen and j not in self._runs]
            for job_id in gone:
                del self._jobs[job_id]
                self._seen.pop(job_id, None)
        for job_id in interrupted:
            self._save(job_id)
        for job_id in changed:
            self._publish_job(job_id)
        for job_id in gone:
            self._publish("deleted", {"id": job_id})
        return changed + gone, interrupted

    def _alive(self, job: Job) -> bool:
        """The job's process still runs (this one, or another on this host)."""
        if job.host != self.host or job.pid <= 0:
            return False
        if job.pid == self.pid:
            return True
        try:
            os.kill(job.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process of that pid
            return True
        except OSError:
            return False
        return True

"""One background-job interface for long work (imports, matching rounds, decisions by selection).

A job is a row in the ``job`` table (kind, payload, progress, message, result), so any app process can
show its progress bar. Where it runs is configuration:

- no ``REDIS_URL``: in-process, as an asyncio task of the process that enqueued it;
- ``REDIS_URL`` set: on a SAQ queue (through litestar-saq's worker), run by ``jitu worker`` processes.
  SAQ acknowledges each job (it moves to the queue's active set), stops it after ``JOB_TIMEOUT``, and a
  job whose worker died (no heartbeat for ``JOB_HEARTBEAT`` s) is swept by a live worker and retried, up to
  ``JOB_ATTEMPTS`` attempts, then marked failed. The ``job`` row follows every one of these steps.

Handlers are registered by name with ``@job_handler("kind")`` and receive a ``JobContext``. A handler that
writes should do so in transactions (``unit_of_work``), so a job killed mid-way leaves nothing half-written
and can simply run again. A handler that raises is not retried: its error is the user's answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast

from marketplace.settings import Settings, get_settings
from marketplace.vocabulary import JobStatus
from storage.tables import Job

if TYPE_CHECKING:
    from saq.types import Context, PartialTimersDict

log = logging.getLogger("jitu.jobs")
TASK = "jitu.run_job"
"""The one SAQ function: it runs a ``job`` row by id; the row's kind picks the handler."""
LOST_MESSAGE = "Pekerja latar berhenti di tengah pekerjaan"
SWEEP_SETTLE = 2.0  # seconds a just-dequeued job is given to be marked active before a sweep takes it for lost
# SAQ's sweep script (saq/queue/redis.py): take the sweep lock, then read the active list with each job
_SWEEP_SCRIPT = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


@dataclass
class JobContext:
    job_id: int
    payload: dict[str, Any]

    async def progress(self, percent: int, message: str = "") -> None:
        await Job.update({Job.progress: max(0, min(100, int(percent))), Job.message: message}).where(
            Job.id == self.job_id
        )


Handler = Callable[[JobContext], Awaitable[dict[str, Any] | None]]
_HANDLERS: dict[str, Handler] = {}
_TASKS: set[asyncio.Task[None]] = set()


def job_handler(kind: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        _HANDLERS[kind] = func
        return func

    return register


class JobQueue(Protocol):
    async def enqueue(self, kind: str, payload: dict[str, Any], created_by: int | None = None) -> int: ...


async def _create(kind: str, payload: dict[str, Any], created_by: int | None) -> int:
    if kind not in _HANDLERS:
        raise LookupError(f"no handler for job kind {kind!r}")
    rows = await Job.insert(Job(kind=kind, payload=payload, created_by=created_by)).returning(Job.id)
    return int(rows[0]["id"])


async def _end(job_id: int, status: str, message: str | None = None, result: dict[str, Any] | None = None) -> None:
    values: dict[Any, Any] = {Job.status: status, Job.finished_at: datetime.now(UTC)}
    if message is not None:
        values[Job.message] = message
    if status == JobStatus.DONE:
        values[Job.progress] = 100
        values[Job.result] = result or {}
    await Job.update(values).where(Job.id == job_id)


async def run_job(job_id: int, timeout: float | None = None) -> None:
    """Run one queued job to its end, recording success or failure (never raises but on cancellation).

    ``timeout`` (default ``JOB_TIMEOUT``) bounds the handler: past it the job is stopped and failed.
    """
    row = await Job.select().where(Job.id == job_id).first()
    if row is None or row["status"] != JobStatus.QUEUED:
        return
    await Job.update({Job.status: JobStatus.RUNNING, Job.started_at: datetime.now(UTC)}).where(Job.id == job_id)
    payload = row["payload"] if isinstance(row["payload"], dict) else _loads(row["payload"])
    limit = get_settings().job_timeout if timeout is None else timeout
    try:
        async with asyncio.timeout(limit):
            result = await _HANDLERS[row["kind"]](JobContext(job_id, payload))
    except TimeoutError:
        log.error("job %s (%s) stopped after %s s", job_id, row["kind"], limit)
        await _end(job_id, JobStatus.FAILED, f"Pekerjaan dihentikan: melebihi batas waktu {limit:.0f} detik")
        return
    except Exception as exc:
        log.error("job %s (%s) failed: %s", job_id, row["kind"], traceback.format_exc())
        await _end(job_id, JobStatus.FAILED, _user_message(exc))
        return
    await _end(job_id, JobStatus.DONE, result=result)


def _user_message(exc: Exception) -> str:
    # Domain errors carry an Indonesian message for the user; anything else stays in the log.
    if isinstance(exc, ValueError):
        return str(exc)
    return "Pekerjaan gagal karena kesalahan sistem; sudah dicatat di log."


def _loads(value: Any) -> dict[str, Any]:
    return dict(json.loads(value)) if value else {}


class InProcessQueue:
    """Runs jobs as tasks of the current event loop (the default, needs no server)."""

    async def enqueue(self, kind: str, payload: dict[str, Any], created_by: int | None = None) -> int:
        job_id = await _create(kind, payload, created_by)
        task = asyncio.get_running_loop().create_task(run_job(job_id))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)
        return job_id


# ------------------------------------------------------------------------------------------ SAQ on Redis


def _saq_queue_class() -> type[Any]:
    from saq import Status
    from saq.queue.redis import RedisQueue

    class TrackedRedisQueue(RedisQueue):  # type: ignore[misc]
        """SAQ's Redis queue, mirroring retries and failures of our jobs into the ``job`` table.

        Every path that ends or re-queues a job goes through ``retry``/``finish``: a handler's time limit,
        a cancelled task, and the sweep of a job whose worker died (run by another, live worker).
        """

        async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
            """SAQ's sweep, except for a job that was only just dequeued.

            A worker moves a job to the active list first (BLMOVE) and marks it active a moment later; SAQ's
            sweep takes any job in the active list that is not marked active for a lost one. A worker that
            starts while jobs wait sweeps and dequeues at the same instant, so the job it was about to run
            was aborted or run twice (seen in tests/storage/test_jobs.py, one start in five). Such a job is
            read again after ``SWEEP_SETTLE`` seconds and swept only if it is still not active."""
            id_jobs = await self._sweep_candidates(lock)
            waiting = [job_id for job_id, job in id_jobs if job is not None and job.status != Status.ACTIVE]
            if waiting:
                await asyncio.sleep(SWEEP_SETTLE)
                again = dict(zip(waiting, await self.redis.mget(waiting), strict=True))
                id_jobs = [(job_id, self.deserialize(again[job_id]) if job_id in again else job)
                           for job_id, job in id_jobs]
                active = set(await self.redis.lrange(self._active, 0, -1))
                id_jobs = [(job_id, job) for job_id, job in id_jobs if job_id in active]
            swept = []
            for job_id, job in id_jobs:
                if job is None:
                    swept.append(job_id)
                    async with self.redis.pipeline(transaction=True) as pipe:
                        pipe.lrem(self._active, 0, job_id.decode("utf-8"))
                        pipe.zrem(self._incomplete, job_id)
                        await pipe.execute()
                    log.info("swept missing job %s", job_id)
                    continue
                if job.status == Status.ACTIVE and not job.stuck:
                    continue
                swept.append(job_id)
                log.info("sweeping job %s", job.info())
                await self.abort(job, error=self.swept_error_message)
                with contextlib.suppress(asyncio.TimeoutError):
                    await job.refresh(abort)
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
            return [job_id.decode("utf-8") for job_id in swept]

        async def _sweep_candidates(self, lock: int) -> list[tuple[bytes, Any]]:
            """The active list with each job, read atomically with the sweep lock taken (SAQ's own script: one
            worker sweeps per ``lock`` seconds)."""
            if not self._cleanup_script:
                self._cleanup_script = self.redis.register_script(_SWEEP_SCRIPT)
            id_jobs = await self._cleanup_script(keys=[self._sweep, self._active], args=[lock], client=self.redis)
            return [(job_id, self.deserialize(job_bytes)) for job_id, job_bytes in id_jobs]

        async def retry(self, job: Any, error: str | None) -> None:
            job_id = _row_id(job)
            if job_id is not None:  # before SAQ re-queues it, so the next attempt finds the row queued
                log.warning("job %s lost, retried: %s", job_id, (error or "")[-500:])
                await Job.update({Job.status: JobStatus.QUEUED, Job.progress: 0,
                                  Job.message: f"{LOST_MESSAGE}; diulang (percobaan {job.attempts + 1} "
                                               f"dari {job.retries})"}).where(
                    (Job.id == job_id) & Job.status.is_in([JobStatus.QUEUED, JobStatus.RUNNING]))
            await super().retry(job, error)

        async def finish(self, job: Any, status: Any, *, result: Any = None, error: str | None = None,
                         **kwargs: Any) -> None:
            await super().finish(job, status, result=result, error=error, **kwargs)
            job_id = _row_id(job)
            if job_id is not None and status in (Status.FAILED, Status.ABORTED):
                log.error("job %s lost: %s", job_id, (error or "")[-500:])
                await Job.update({Job.status: JobStatus.FAILED, Job.finished_at: datetime.now(UTC),
                                  Job.message: f"{LOST_MESSAGE}; gagal setelah {job.attempts} percobaan. "
                                               "Jalankan lagi."}).where(
                    (Job.id == job_id) & Job.status.is_in([JobStatus.QUEUED, JobStatus.RUNNING]))

    return TrackedRedisQueue


def _row_id(saq_job: Any) -> int | None:
    if saq_job.function != TASK:
        return None
    value = (saq_job.kwargs or {}).get("job_id")
    return int(value) if value is not None else None


def make_saq_queue(settings: Settings | None = None) -> Any:
    from redis.asyncio import from_url

    settings = settings or get_settings()
    return _saq_queue_class()(from_url(settings.redis_url), name=settings.job_queue,
                              swept_error_message=LOST_MESSAGE)


async def _run_task(ctx: Context, *, job_id: int) -> None:
    """The SAQ function: runs the row, touching SAQ's heartbeat while the handler works."""
    saq_job = ctx["job"]  # type: ignore[typeddict-item]
    every = max(1.0, (saq_job.heartbeat or 60) / 3)

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            with contextlib.suppress(Exception):
                await saq_job.update()

    beating = asyncio.create_task(beat())
    try:
        await run_job(job_id)
    finally:
        beating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beating


async def _scheduled_round(ctx: Context) -> None:
    """The monthly matching round (``ROUND_SCHEDULE``), as an ordinary job the round pages show."""
    from storage.registry import current_period

    await SaqQueue(ctx["worker"].queue).enqueue("match.round", {"period": current_period(), "actor": "jadwal"})


async def _scheduled_reminders(ctx: Context) -> None:
    """The reminder run (``REMINDER_SCHEDULE``), as an ordinary job; sending twice sends nothing new."""
    await SaqQueue(ctx["worker"].queue).enqueue("reminders.send", {"actor": "jadwal"})


async def _worker_startup(ctx: Context) -> None:
    from piccolo.engine import engine_finder

    from storage.engine import POOL_OPTIONS

    engine = engine_finder()
    if get_settings().is_postgres and get_settings().db_pool and engine is not None:
        await engine.start_connection_pool(max_size=4, **POOL_OPTIONS)  # type: ignore[call-arg]


async def _worker_shutdown(ctx: Context) -> None:
    from piccolo.engine import engine_finder

    engine = engine_finder()
    if get_settings().is_postgres and get_settings().db_pool and engine is not None:
        await engine.close_connection_pool()


class SaqQueue:
    """Creates the job row, then enqueues it on SAQ with its time limit, heartbeat and attempts."""

    def __init__(self, queue: Any = None, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.queue = queue or make_saq_queue(self.settings)

    async def enqueue(self, kind: str, payload: dict[str, Any], created_by: int | None = None) -> int:
        job_id = await _create(kind, payload, created_by)
        s = self.settings
        await self.queue.enqueue(TASK, key=f"jitu-job-{job_id}", job_id=job_id, timeout=s.job_timeout + 60,
                                 heartbeat=s.job_heartbeat, retries=s.job_attempts, ttl=86400)
        return job_id


def make_worker(settings: Settings | None = None, queue: Any = None) -> Any:
    """A litestar-saq worker for our queue (``jitu worker``; tests run it in-process or as a subprocess)."""
    from litestar_saq import CronJob, Worker

    settings = settings or get_settings()
    cron = [CronJob(function=_scheduled_round, cron=settings.round_schedule, timeout=300)] if (
        settings.round_schedule) else []
    if settings.reminder_schedule:
        cron.append(CronJob(function=_scheduled_reminders, cron=settings.reminder_schedule, timeout=300))
    return Worker(queue or make_saq_queue(settings), [(TASK, _run_task)], concurrency=settings.job_concurrency,
                  cron_jobs=cron, startup=_worker_startup, shutdown=_worker_shutdown,
                  timers=cast("PartialTimersDict", {"sweep": settings.job_sweep, "schedule": 5}),
                  enable_heartbeat_manager=False, separate_process=True)


async def work(stop: asyncio.Event | None = None, settings: Settings | None = None) -> None:
    """Run a worker until ``stop`` is set (or SIGTERM/SIGINT when ``stop`` is None)."""
    worker = make_worker(settings)
    stop = stop or _signal_event()
    await worker.queue.connect()
    running = asyncio.create_task(worker.start())
    waiting = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait([running, waiting], return_when=asyncio.FIRST_COMPLETED)
        if running.done():
            running.result()
    finally:
        waiting.cancel()
        await worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await worker.queue.disconnect()


def _signal_event() -> asyncio.Event:
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, event.set)
    return event


def job_queue() -> JobQueue:
    settings = get_settings()
    return SaqQueue(_shared_queue(settings), settings) if settings.redis_url else InProcessQueue()


_QUEUES: dict[tuple[str, str, int], Any] = {}


def _shared_queue(settings: Settings) -> Any:
    """One SAQ queue (and Redis connection pool) per process, event loop and settings."""
    key = (settings.redis_url, settings.job_queue, id(asyncio.get_running_loop()))
    if key not in _QUEUES:
        _QUEUES[key] = make_saq_queue(settings)
    return _QUEUES[key]


async def wait_for(job_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll a job until it ends (for the CLI and tests)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        row = await Job.select().where(Job.id == job_id).first()
        if row and row["status"] in (JobStatus.DONE, JobStatus.FAILED):
            return dict(row)
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"job {job_id} still running after {timeout} s")
        await asyncio.sleep(0.05)

"""One background-job interface for long work (imports, matching rounds).

A job is a row in the ``job`` table (kind, payload, progress, message, result), so any app process can
show its progress bar. Where it runs is configuration:

- no ``REDIS_URL``: in-process, as an asyncio task of the process that enqueued it;
- ``REDIS_URL`` set: pushed on a Redis list and run by ``jitu worker`` processes.

Handlers are registered by name with ``@job_handler("kind")`` and receive a ``JobContext``.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from marketplace.settings import get_settings
from marketplace.vocabulary import JobStatus
from storage.tables import Job

log = logging.getLogger("jitu.jobs")
QUEUE_KEY = "jitu:jobs"


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


async def run_job(job_id: int) -> None:
    """Run one job to its end, recording success or failure (never raises)."""
    row = await Job.select().where(Job.id == job_id).first()
    if row is None or row["status"] != JobStatus.QUEUED:
        return
    await Job.update({Job.status: JobStatus.RUNNING, Job.started_at: datetime.now(UTC)}).where(Job.id == job_id)
    payload = row["payload"] if isinstance(row["payload"], dict) else _loads(row["payload"])
    try:
        result = await _HANDLERS[row["kind"]](JobContext(job_id, payload))
    except Exception as exc:
        log.error("job %s (%s) failed: %s", job_id, row["kind"], traceback.format_exc())
        await Job.update({Job.status: JobStatus.FAILED, Job.message: _user_message(exc),
                          Job.finished_at: datetime.now(UTC)}).where(Job.id == job_id)
        return
    await Job.update({Job.status: JobStatus.DONE, Job.progress: 100, Job.result: result or {},
                      Job.finished_at: datetime.now(UTC)}).where(Job.id == job_id)


def _user_message(exc: Exception) -> str:
    # Domain errors carry an Indonesian message for the user; anything else stays in the log.
    if isinstance(exc, ValueError):
        return str(exc)
    return "Pekerjaan gagal karena kesalahan sistem; sudah dicatat di log."


def _loads(value: Any) -> dict[str, Any]:
    import json

    return dict(json.loads(value)) if value else {}


class InProcessQueue:
    """Runs jobs as tasks of the current event loop (the default, needs no server)."""

    async def enqueue(self, kind: str, payload: dict[str, Any], created_by: int | None = None) -> int:
        job_id = await _create(kind, payload, created_by)
        task = asyncio.get_running_loop().create_task(run_job(job_id))
        _TASKS.add(task)
        task.add_done_callback(_TASKS.discard)
        return job_id


class RedisQueue:
    """Pushes job ids on a Redis list; ``jitu worker`` pops and runs them."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)

    async def enqueue(self, kind: str, payload: dict[str, Any], created_by: int | None = None) -> int:
        job_id = await _create(kind, payload, created_by)
        await self.redis.lpush(QUEUE_KEY, str(job_id))
        return job_id

    async def work(self, stop: asyncio.Event | None = None, poll_seconds: int = 2) -> None:
        while stop is None or not stop.is_set():
            item = await self.redis.brpop([QUEUE_KEY], timeout=poll_seconds)
            if item is not None:
                await run_job(int(item[1]))


def job_queue() -> JobQueue:
    settings = get_settings()
    return RedisQueue(settings.redis_url) if settings.redis_url else InProcessQueue()


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

"""Background jobs: in-process by default, over a real Redis queue when configured."""

import asyncio
import os

import pytest

from storage.jobs import InProcessQueue, RedisQueue, job_handler, run_job, wait_for
from storage.tables import Job


@job_handler("test.count")
async def _count(ctx):
    for i in range(3):
        await ctx.progress(i * 30, f"langkah {i}")
    return {"total": ctx.payload["n"] * 2}


@job_handler("test.fail")
async def _fail(ctx):
    raise ValueError("Berkas tidak valid")


@job_handler("test.crash")
async def _crash(ctx):
    raise RuntimeError("secret internals")


async def test_in_process_job_runs_and_reports(db):
    job_id = await InProcessQueue().enqueue("test.count", {"n": 21})
    row = await wait_for(job_id, timeout=20)
    assert row["status"] == "done" and row["progress"] == 100
    result = row["result"] if isinstance(row["result"], dict) else __import__("json").loads(row["result"])
    assert result == {"total": 42}


async def test_failed_job_keeps_the_user_message_and_hides_internals(db):
    first = await wait_for(await InProcessQueue().enqueue("test.fail", {}), timeout=20)
    assert first["status"] == "failed" and first["message"] == "Berkas tidak valid"
    second = await wait_for(await InProcessQueue().enqueue("test.crash", {}), timeout=20)
    assert second["status"] == "failed" and "secret" not in second["message"]


async def test_unknown_job_kind_is_refused(db):
    with pytest.raises(LookupError):
        await InProcessQueue().enqueue("test.nothing", {})
    assert await Job.count() == 0


async def test_redis_queue_hands_jobs_to_a_worker(db):
    url = os.environ.get("JITU_TEST_REDIS", "redis://127.0.0.1:6379/15")
    queue = RedisQueue(url)
    await queue.redis.delete("jitu:jobs")
    job_id = await queue.enqueue("test.count", {"n": 5})
    assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "queued"
    stop = asyncio.Event()
    worker = asyncio.create_task(queue.work(stop, poll_seconds=1))
    row = await wait_for(job_id, timeout=20)
    stop.set()
    await worker
    assert row["status"] == "done"
    await run_job(job_id)  # running a finished job again does nothing
    assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "done"

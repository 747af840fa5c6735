"""Background jobs: in-process by default, over a real SAQ queue on Redis when configured, and a worker
killed mid-job (its job is retried or ends failed, and nothing it half-wrote stays)."""

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace.settings import Settings
from storage.jobs import InProcessQueue, SaqQueue, job_handler, make_saq_queue, run_job, wait_for, work
from storage.tables import Job, WebSession
from tests.storage import job_worker

REDIS = os.environ.get("JITU_TEST_REDIS", "redis://127.0.0.1:6379/15")
ROOT = Path(__file__).resolve().parents[2]


@job_handler("test.fail")
async def _fail(ctx):
    raise ValueError("Berkas tidak valid")


@job_handler("test.crash")
async def _crash(ctx):
    raise RuntimeError("secret internals")


@job_handler("test.slow")
async def _slow(ctx):
    await asyncio.sleep(30)


def _result(row):
    return row["result"] if isinstance(row["result"], dict) else json.loads(row["result"])


def _settings(**extra) -> Settings:
    """A queue of our own on the shared Redis (eight engineers' tests use it at once)."""
    values = {"redis_url": REDIS, "job_queue": f"jitu-test-{os.getpid()}-{secrets.token_hex(4)}",
              "job_heartbeat": 2, "job_sweep": 1, "job_attempts": 2, **extra}
    return Settings(**values)


async def _forget(settings: Settings) -> None:
    queue = make_saq_queue(settings)
    keys = [k async for k in queue.redis.scan_iter(f"saq:*{settings.job_queue}*")]
    if keys:
        await queue.redis.delete(*keys)
    await queue.redis.aclose()


async def test_in_process_job_runs_and_reports(db):
    job_id = await InProcessQueue().enqueue("test.count", {"n": 21})
    row = await wait_for(job_id, timeout=20)
    assert row["status"] == "done" and row["progress"] == 100
    assert _result(row) == {"total": 42}


async def test_failed_job_keeps_the_user_message_and_hides_internals(db):
    first = await wait_for(await InProcessQueue().enqueue("test.fail", {}), timeout=20)
    assert first["status"] == "failed" and first["message"] == "Berkas tidak valid"
    second = await wait_for(await InProcessQueue().enqueue("test.crash", {}), timeout=20)
    assert second["status"] == "failed" and "secret" not in second["message"]


async def test_a_job_past_its_time_limit_is_stopped_and_failed(db):
    rows = await Job.insert(Job(kind="test.slow", payload={})).returning(Job.id)
    await run_job(rows[0]["id"], timeout=0.3)
    row = await Job.select().where(Job.id == rows[0]["id"]).first()
    assert row["status"] == "failed" and "batas waktu" in row["message"]


async def test_unknown_job_kind_is_refused(db):
    with pytest.raises(LookupError):
        await InProcessQueue().enqueue("test.nothing", {})
    assert await Job.count() == 0


async def test_saq_queue_hands_jobs_to_a_worker(db):
    settings = _settings()
    queue = SaqQueue(settings=settings)
    try:
        job_id = await queue.enqueue("test.count", {"n": 5})
        assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "queued"
        saq_job = await queue.queue.job(f"jitu-job-{job_id}")
        assert saq_job is not None and saq_job.retries == 2 and saq_job.heartbeat == 2
        stop = asyncio.Event()
        worker = asyncio.create_task(work(stop, settings))
        row = await wait_for(job_id, timeout=20)
        assert row["status"] == "done" and _result(row) == {"total": 10}
        failed = await wait_for(await queue.enqueue("test.fail", {}), timeout=20)
        assert failed["status"] == "failed" and failed["message"] == "Berkas tidak valid"
        stop.set()
        await worker
        saq_job = await queue.queue.job(f"jitu-job-{job_id}")
        assert saq_job.status == "complete"  # acknowledged and finished on the queue too
        await run_job(job_id)  # running a finished job again does nothing
        assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "done"
    finally:
        await _forget(settings)


async def test_a_just_dequeued_job_is_not_swept_but_one_left_unmarked_is(db, monkeypatch):
    """The sweep racing a dequeue: a job moved to the active list and marked active a moment later is
    left alone (SAQ's own sweep aborted it); one never marked active (its worker died in between) is
    taken for lost and re-queued."""
    from saq import Status
    from saq.utils import now

    import storage.jobs

    monkeypatch.setattr(storage.jobs, "SWEEP_SETTLE", 0.5)
    settings = _settings()
    queue = SaqQueue(settings=settings).queue
    try:
        await queue.connect()
        first = await SaqQueue(queue, settings).enqueue("test.count", {"n": 1})
        taken = await queue.dequeue(timeout=1)  # what a worker does first: onto the active list, still queued

        async def mark_active_soon() -> None:
            await asyncio.sleep(0.1)
            taken.started, taken.attempts = now(), taken.attempts + 1  # as saq.Worker.process does
            await taken.update(status=Status.ACTIVE)

        marking = asyncio.create_task(mark_active_soon())
        assert await queue.sweep(lock=1) == []
        await marking
        assert (await queue.job(f"jitu-job-{first}")).status == Status.ACTIVE
        assert (await Job.select(Job.status).where(Job.id == first).first())["status"] == "queued"  # untouched

        await queue.finish(taken, Status.COMPLETE)
        second = await SaqQueue(queue, settings).enqueue("test.count", {"n": 2})
        await queue.dequeue(timeout=1)  # and never marked active
        await asyncio.sleep(1.1)  # the sweep lock of the first sweep expires
        assert await queue.sweep(lock=1, abort=0.1) == [f"saq:job:{settings.job_queue}:jitu-job-{second}"]
        row = await Job.select(Job.status, Job.message).where(Job.id == second).first()
        assert row["status"] == "queued" and "berhenti di tengah" in row["message"]  # re-queued for a retry
    finally:
        await queue.disconnect()
        await _forget(settings)


def _worker_log() -> str:
    path = Path(os.environ["JITU_VAR_DIR"] + "-worker.log")
    return path.read_text(errors="replace")[-6000:] if path.exists() else "(no worker log)"


def _start_worker(settings: Settings) -> subprocess.Popen:
    env = {**os.environ, "REDIS_URL": settings.redis_url, "JOB_QUEUE": settings.job_queue,
           "JOB_HEARTBEAT": str(settings.job_heartbeat), "JOB_SWEEP": str(settings.job_sweep),
           "JOB_ATTEMPTS": str(settings.job_attempts)}
    with open(os.environ["JITU_VAR_DIR"] + "-worker.log", "ab") as log:  # the child keeps its own descriptor
        return subprocess.Popen([sys.executable, "-m", "tests.storage.job_worker"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


async def _kill_mid_job(settings: Settings, tmp_path: Path) -> tuple[int, str]:
    """Start a worker process, give it test.halfway, SIGKILL it once it has written half its rows."""
    marker = tmp_path / "half-way"
    prefix = f"halfway-{secrets.token_hex(4)}"
    process = _start_worker(settings)
    try:
        job_id = await SaqQueue(settings=settings).enqueue("test.halfway", {"marker": str(marker), "prefix": prefix})
        # a deadline, not a count of sleeps: a fresh worker process imports the whole app first, which on a
        # loaded two-core CI machine took over a minute once
        deadline = asyncio.get_running_loop().time() + float(os.environ.get('JITU_TEST_WORKER_WAIT', 240))
        while not marker.exists() and asyncio.get_running_loop().time() < deadline:
            assert process.poll() is None, "the worker process ended by itself: " + _worker_log()
            await asyncio.sleep(0.05)
        if not marker.exists() and process.poll() is None:
            process.send_signal(signal.SIGUSR1)  # its stacks go to the worker log
            await asyncio.sleep(1)
        assert marker.exists(), "the worker never reached the middle of the job: " + _worker_log()
        assert (await Job.select(Job.status).where(Job.id == job_id).first())["status"] == "running"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert await WebSession.count().where(WebSession.key.like(f"{prefix}-%")) == 0  # nothing half-written
    return job_id, prefix


async def test_a_worker_killed_mid_job_is_retried_by_another_and_nothing_is_half_written(db, tmp_path):
    settings = _settings(job_attempts=2)
    try:
        job_id, prefix = await _kill_mid_job(settings, tmp_path)
        stop = asyncio.Event()
        survivor = asyncio.create_task(work(stop, settings))  # sweeps the lost job and runs it again
        row = await wait_for(job_id, timeout=60)
        stop.set()
        await survivor
        assert row["status"] == "done" and _result(row) == {"rows": job_worker.ROWS}
        assert await WebSession.count().where(WebSession.key.like(f"{prefix}-%")) == job_worker.ROWS
    finally:
        await _forget(settings)


async def test_a_worker_killed_mid_job_without_attempts_left_ends_failed(db, tmp_path):
    settings = _settings(job_attempts=1)
    try:
        job_id, prefix = await _kill_mid_job(settings, tmp_path)
        stop = asyncio.Event()
        survivor = asyncio.create_task(work(stop, settings))
        row = await wait_for(job_id, timeout=60)
        stop.set()
        await survivor
        assert row["status"] == "failed" and "berhenti di tengah" in row["message"]
        assert await WebSession.count().where(WebSession.key.like(f"{prefix}-%")) == 0
    finally:
        await _forget(settings)


async def test_the_monthly_round_can_be_scheduled(db):
    from croniter import croniter

    from storage.jobs import make_worker

    worker = make_worker(_settings(round_schedule="0 1 1 * *", reminder_schedule=""))
    assert [job.cron for job in worker.cron_jobs] == ["0 1 1 * *"]
    assert croniter.is_valid("0 1 1 * *")
    assert make_worker(_settings(reminder_schedule="")).cron_jobs == []
    # the daily reminder run is scheduled by default (REMINDER_SCHEDULE), beside the round when both are set
    both = make_worker(_settings(round_schedule="0 1 1 * *"))
    assert [job.cron for job in both.cron_jobs] == ["0 1 1 * *", "0 1 * * *"]
    assert [job.function.__name__ for job in both.cron_jobs] == ["_scheduled_round", "_scheduled_reminders"]
    with pytest.raises(ValueError):
        make_worker(_settings(round_schedule="tiap bulan"))

"""Job handlers for the queue tests, and a worker process to run them: ``python -m tests.storage.job_worker``.

``test.halfway`` writes its rows in one transaction and, on its first attempt, stops half-way (after
writing some rows, before committing) until it is killed; so a test can kill a real worker mid-job.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from storage.jobs import JobContext, job_handler, work
from storage.tables import WebSession
from storage.uow import unit_of_work

ROWS = 20


@job_handler("test.count")
async def count(ctx: JobContext) -> dict[str, int]:
    for i in range(3):
        await ctx.progress(i * 30, f"langkah {i}")
    return {"total": ctx.payload["n"] * 2}


@job_handler("test.halfway")
async def halfway(ctx: JobContext) -> dict[str, int]:
    marker = Path(ctx.payload["marker"])
    first = not marker.exists()
    await ctx.progress(10, "menulis")
    async with unit_of_work():
        for i in range(ROWS):
            await WebSession.insert(WebSession(key=f"{ctx.payload['prefix']}-{i}", value=str(ctx.job_id)))
            if first and i == ROWS // 2:
                marker.write_text("half-way")  # the test kills this process now
                await asyncio.sleep(3600)
    return {"rows": ROWS}


if __name__ == "__main__":
    import faulthandler
    import signal

    faulthandler.register(signal.SIGUSR1)  # the test asks for every thread's stack when the worker seems stuck
    logging.basicConfig(level=logging.INFO)
    asyncio.run(work())

"""Two use cases writing at once: the second waits for the first instead of failing, and a failure
leaves nothing written."""

import asyncio

import pytest

from storage.tables import Job
from storage.uow import unit_of_work


async def test_a_transaction_that_reads_first_waits_for_a_concurrent_writer(db):
    async def long_writer() -> None:
        async with unit_of_work():
            await Job.insert(Job(kind="first"))
            await asyncio.sleep(0.5)

    async def reads_then_writes() -> None:
        await asyncio.sleep(0.1)  # starts while the first holds the write lock
        async with unit_of_work():
            await Job.count()
            await Job.insert(Job(kind="second"))

    async def session_write_meanwhile() -> None:  # what every web request does to its session
        await asyncio.sleep(0.2)
        await Job.insert(Job(kind="third"))

    await asyncio.gather(long_writer(), reads_then_writes(), session_write_meanwhile())
    assert sorted(r["kind"] for r in await Job.select(Job.kind)) == ["first", "second", "third"]


async def test_a_failed_unit_of_work_writes_nothing(db):
    with pytest.raises(RuntimeError):
        async with unit_of_work():
            await Job.insert(Job(kind="half"))
            raise RuntimeError("fails mid-way")
    assert await Job.count() == 0

"""The audit chain detects an edited, deleted or re-ordered row, on both engines."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from piccolo.engine import engine_finder

from marketplace.audit import AuditEvent as Event
from storage.audit import SQLITE_NO_UPDATE, verify
from storage.tables import AuditEvent, AuditHead
from storage.uow import unit_of_work


async def _record(n: int) -> None:
    for i in range(n):
        async with unit_of_work() as uow:
            await uow.record(Event("admin", "need.verify", "need", str(i), {"status": "assessed"},
                                   {"status": "verified", "i": i}))


async def _tamper(sql: str, *args: object) -> None:
    """What an attacker with database access would do: lift the append-only guard, change a row."""
    engine = engine_finder()
    if engine.engine_type == "postgres":
        await AuditEvent.raw("ALTER TABLE audit_event DISABLE TRIGGER audit_event_no_change")
        await AuditEvent.raw(sql, *args)
        await AuditEvent.raw("ALTER TABLE audit_event ENABLE TRIGGER audit_event_no_change")
    else:
        await AuditEvent.raw("DROP TRIGGER audit_event_no_update")
        await AuditEvent.raw("DROP TRIGGER audit_event_no_delete")
        await AuditEvent.raw(sql, *args)
        await AuditEvent.raw(SQLITE_NO_UPDATE)
        await AuditEvent.raw("CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
                             "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END")


async def test_intact_chain_verifies(db):
    await _record(5)
    report = await verify()
    assert report.ok and report.checked == 5


async def test_edited_row_is_named(db):
    await _record(5)
    await _tamper("UPDATE audit_event SET after = {} WHERE id = 3", '{"status": "rejected", "i": 2}')
    report = await verify()
    assert not report.ok
    assert report.first_bad_id == 3


async def test_edited_actor_is_named(db):
    await _record(4)
    await _tamper("UPDATE audit_event SET actor = 'someone' WHERE id = 2")
    report = await verify()
    assert (report.ok, report.first_bad_id) == (False, 2)


async def test_deleted_middle_row_is_detected(db):
    await _record(5)
    await _tamper("DELETE FROM audit_event WHERE id = 3")
    report = await verify()
    assert (report.ok, report.first_bad_id) == (False, 4)


async def test_deleted_newest_row_is_detected_by_the_head(db):
    await _record(5)
    await _tamper("DELETE FROM audit_event WHERE id = 5")
    report = await verify()
    assert not report.ok
    assert "kepala" in report.problem


async def test_recomputed_hash_without_the_key_is_detected(db):
    """Rewriting a row and a plain SHA-256 of it is not enough: the chain is keyed."""
    import hashlib

    await _record(3)
    fake = hashlib.sha256(b"forged").hexdigest()
    await _tamper(f"UPDATE audit_event SET actor = 'x', hash = '{fake}' WHERE id = 3")
    await AuditHead.update({AuditHead.last_hash: fake}).where(AuditHead.id == 1)
    report = await verify()
    assert (report.ok, report.first_bad_id) == (False, 3)


async def test_concurrent_appends_keep_one_linear_chain(db):
    import asyncio

    async def one(i: int) -> None:
        async with unit_of_work() as uow:
            await uow.record(Event("u", "x", "e", str(i)))

    if engine_finder().engine_type == "postgres":
        await asyncio.gather(*(one(i) for i in range(20)))
    else:  # SQLite serialises writers; run them one after another
        for i in range(20):
            await one(i)
    report = await verify()
    assert report.ok and report.checked == 20


def _jitu(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("jitu")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, env=dict(os.environ), timeout=120)


@pytest.mark.parametrize("tampered", [False, True])
async def test_jitu_audit_verify_command(db, tampered):
    await _record(3)
    if tampered:
        await _tamper("UPDATE audit_event SET entity_id = '99' WHERE id = 2")
    result = _jitu("audit", "verify")
    if tampered:
        assert result.returncode == 1 and "#2" in result.stderr
    else:
        assert result.returncode == 0 and "3 peristiwa" in result.stdout


def _events(n: int, start: int = 0) -> list[Event]:
    return [Event("admin", "allocation.approve", "allocation", str(i), {"status": "proposed"},
                  {"status": "approved", "i": i}) for i in range(start, start + n)]


async def test_record_many_of_ten_thousand_events_keeps_one_chain(db):
    """One call with more events than one statement may bind (PostgreSQL: 32,767 parameters, 11 a row):
    the rows go in several inserts, chained across them, with the head at the last event."""
    from storage.audit import record_many

    await _record(2)
    async with unit_of_work():
        ids = await record_many(_events(10_000))
    await _record(1)
    assert ids == list(range(3, 10_003))
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    assert head["last_id"] == 10_003
    report = await verify()
    assert report.ok, report
    assert report.checked == 10_003


async def test_record_many_is_undone_with_the_callers_transaction(db):
    from storage.audit import record_many

    await _record(1)
    before = await AuditHead.select().where(AuditHead.id == 1).first()
    with pytest.raises(RuntimeError):
        async with unit_of_work():
            await record_many(_events(5_000))
            raise RuntimeError("the change the events describe failed")
    assert await AuditEvent.count() == 1
    assert await AuditHead.select().where(AuditHead.id == 1).first() == before
    report = await verify()
    assert report.ok and report.checked == 1


async def test_record_many_outside_a_transaction_is_still_one(db):
    """Called without a transaction it opens one: the chunks and the head are kept together."""
    from storage.audit import record_many

    ids = await record_many(_events(3_500))
    assert len(ids) == 3_500
    report = await verify()
    assert report.ok and report.checked == 3_500

"""The audit trail kept in the database: append inside the caller's transaction, verify the chain."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from marketplace.audit import (
    GENESIS,
    AuditEvent,
    ChainReport,
    Seam,
    StoredEvent,
    canonical,
    chain_hash,
    verify_chain,
)
from storage.crypto import vault
from storage.tables import AuditEvent as AuditRow
from storage.tables import AuditHead

_LOCK_ID = 727301  # PostgreSQL advisory lock serialising appends to the chain
SQLITE_NO_UPDATE = """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
    WHEN NEW.id IS NOT OLD.id OR NEW.occurred_at IS NOT OLD.occurred_at OR NEW.actor IS NOT OLD.actor
      OR NEW.action IS NOT OLD.action OR NEW.entity IS NOT OLD.entity OR NEW.entity_id IS NOT OLD.entity_id
      OR NEW.before IS NOT OLD.before OR NEW.after IS NOT OLD.after
    BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
"""SQLite's guard (migration 2026-12-02T07:10): an event's content never changes; a key rotation may
re-chain its hash columns."""


def _is_postgres() -> bool:
    engine = engine_finder()
    return engine is not None and engine.engine_type == "postgres"


async def record(event: AuditEvent) -> int:
    """Append one event; call inside the transaction of the change it describes."""
    return (await record_many([event]))[0]


INSERT_ROWS = 1000
"""Events per INSERT statement: each row binds 11 parameters and PostgreSQL refuses a statement with more
than 32,767 (one multi-row insert failed above 2,978 events); SQLite's limit is 32,766."""


async def record_many(events: Sequence[AuditEvent]) -> list[int]:
    """Append events in order with one lock, one head read, inserts of ``INSERT_ROWS`` rows and one head
    update (bulk decisions).

    All of it runs in the caller's transaction (or in one of its own when there is none), so the chain
    and its head move together or not at all. On PostgreSQL an advisory transaction lock serialises
    appenders so the chain stays linear; SQLite serialises writers by itself.
    """
    if not events:
        return []
    engine = engine_finder()
    assert engine is not None, "PICCOLO_CONF names no engine"
    if engine.transaction_exists():
        return await _append(events)
    # SQLite: IMMEDIATE takes the write lock before the head is read (as storage.uow does)
    tx = (engine.transaction(transaction_type=TransactionType.immediate) if isinstance(engine, SQLiteEngine)
          else engine.transaction())
    async with tx:
        return await _append(events)


async def _append(events: Sequence[AuditEvent]) -> list[int]:
    if _is_postgres():
        await AuditRow.raw("SELECT pg_advisory_xact_lock({})", _LOCK_ID)
    head = await AuditHead.select().where(AuditHead.id == 1).first()
    prev_id, prev_hash = (head["last_id"], head["last_hash"]) if head else (0, GENESIS)
    active = vault().active
    key = active.audit_key
    ids: list[int] = []
    for start in range(0, len(events), INSERT_ROWS):
        rows: list[AuditRow] = []
        for event in events[start:start + INSERT_ROWS]:
            occurred_at = event.occurred_at or datetime.now(UTC)
            prev_id += 1
            digest = chain_hash(key, prev_hash, canonical(prev_id, occurred_at, event))
            rows.append(AuditRow(
                id=prev_id, occurred_at=occurred_at, actor=event.actor, action=event.action, entity=event.entity,
                entity_id=event.entity_id, before=_plain(event.before), after=_plain(event.after),
                prev_hash=prev_hash, hash=digest, key_id=active.key_id,
            ))
            prev_hash = digest
        await AuditRow.insert(*rows)
        ids.extend(row.id for row in rows)
    if head:
        await AuditHead.update({AuditHead.last_id: prev_id, AuditHead.last_hash: prev_hash}).where(AuditHead.id == 1)
    else:
        await AuditHead.insert(AuditHead(id=1, last_id=prev_id, last_hash=prev_hash))
    return ids


def _plain(value: Any) -> Any:
    return None if value is None else dict(value)


def stored_event(row: dict[str, Any]) -> StoredEvent:
    at = row["occurred_at"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    event = AuditEvent(
        actor=row["actor"], action=row["action"], entity=row["entity"], entity_id=row["entity_id"],
        before=_json(row["before"]), after=_json(row["after"]),
    )
    return StoredEvent(row["id"], at.astimezone(UTC), event, row["prev_hash"], row["hash"], row["key_id"])


async def _stored_events(batch: int = 5000) -> AsyncIterator[StoredEvent]:
    last = 0
    while True:
        rows = await AuditRow.select().where(AuditRow.id > last).order_by(AuditRow.id).limit(batch)
        if not rows:
            return
        for row in rows:
            yield stored_event(row)
        last = rows[-1]["id"]


def _json(value: Any) -> Any:
    import json

    if value is None or isinstance(value, dict):
        return value
    return json.loads(value)


async def verify() -> ChainReport:
    """Check the whole chain with each event's own key, across a rotation's seam if one is under way."""
    from storage.keys import current_seam

    for _ in range(10):  # a rotation batch committed while reading moves the seam: read again
        seam: Seam | None = await current_seam()
        events = [e async for e in _stored_events()]
        head = await AuditHead.select().where(AuditHead.id == 1).first()
        if await current_seam() == seam:
            break
    return verify_chain(vault().audit_keys, events, (head["last_id"], head["last_hash"]) if head else None, seam)

"""The unit of work: one database transaction in which a use case changes state and leaves its audit
events. Use cases get it through the ``marketplace`` ports; adapters open it with ``async with``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine import engine_finder
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from marketplace.audit import AuditEvent
from storage import audit


class UnitOfWork:
    """Records audit events inside the open transaction; nothing is kept if the block fails."""

    async def record(self, event: AuditEvent) -> None:
        await audit.record(event)


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[UnitOfWork]:
    engine = engine_finder()
    assert engine is not None, "PICCOLO_CONF names no engine"
    if isinstance(engine, SQLiteEngine):
        # IMMEDIATE takes the write lock at BEGIN, waiting (busy timeout) for another writer. A deferred
        # transaction that has read first fails at once with "database is locked" when it must upgrade.
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield UnitOfWork()
        return
    async with engine.transaction():
        yield UnitOfWork()

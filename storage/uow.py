"""The unit of work: one database transaction in which a use case changes state and leaves its audit
events. Use cases get it through the ``marketplace`` ports; adapters open it with ``async with``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

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
    async with _transaction(engine):
        yield UnitOfWork()


@asynccontextmanager
async def _transaction(engine: Any) -> AsyncIterator[None]:
    """Piccolo's PostgreSQL transaction, made safe when the connection dies under it: if its rollback or
    commit fails (the server restarted), Piccolo neither releases the connection nor clears the "current
    transaction" of the task, so every later unit of work in that task would reuse the dead connection.
    Here the task is always cleared and a connection in an unknown state is terminated (the pool then
    opens a fresh one)."""
    tx = engine.transaction()
    if getattr(tx, "_parent", None) is not None:  # inside an outer transaction: it owns the connection
        async with tx:
            yield
        return
    await tx.__aenter__()
    failure: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        failure = exc
        raise
    finally:
        try:
            await tx.__aexit__(type(failure) if failure else None, failure,
                               failure.__traceback__ if failure else None)
        finally:
            if engine.current_transaction.get() is tx:  # Piccolo's clean-up did not finish
                engine.current_transaction.reset(tx.context)
                connection = getattr(tx, "connection", None)
                if connection is not None and not connection.is_closed():
                    connection.terminate()

"""The unit of work: one database transaction in which a use case changes state and leaves its audit
events. Use cases get it through the ``marketplace`` ports; adapters open it with ``async with``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from piccolo.engine import engine_finder

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
    async with engine.transaction():
        yield UnitOfWork()

"""LKS fund ledgers: entries written inside the caller's transaction; the balance is their sum."""

from __future__ import annotations

from typing import Any

from piccolo.engine import engine_finder
from piccolo.query.functions.aggregate import Sum

from marketplace.audit import AuditEvent
from marketplace.ledger import Entry, adjustment, allocation_out
from storage.counting import count_rows
from storage.tables import LedgerEntry
from storage.uow import unit_of_work

PAGE_SIZE = 50


def is_postgres() -> bool:
    engine = engine_finder()
    return engine is not None and engine.engine_type == "postgres"


async def balance(lks_id: int) -> int:
    row = await LedgerEntry.select(Sum(LedgerEntry.amount).as_alias("total")).where(LedgerEntry.lks == lks_id).first()
    return int(row["total"] or 0) if row else 0


async def write(lks_id: int, entries: list[Entry]) -> None:
    """Append entries; call inside the transaction of the change they record."""
    if entries:
        await LedgerEntry.insert(*[
            LedgerEntry(lks=lks_id, entry_type=str(e.entry_type), amount=e.amount, donation=e.donation_id,
                        allocation=e.allocation_id, memo=e.memo)
            for e in entries
        ])


async def record_allocation_out(lks_id: int, allocation_id: int, amount: int) -> None:
    """The money of an approved allocation leaves the LKS's ledger; once per allocation (a repeated call
    changes nothing). Runs inside the caller's transaction (the approval service's)."""
    entry = allocation_out(allocation_id, amount)
    if await LedgerEntry.exists().where(
        (LedgerEntry.allocation == allocation_id) & (LedgerEntry.entry_type == "allocation")
    ):
        return
    await write(lks_id, [entry])


async def record_adjustment(lks_id: int, amount: int, memo: str, actor: str) -> None:
    entry = adjustment(amount, memo)
    async with unit_of_work() as uow:
        await write(lks_id, [entry])
        await uow.record(AuditEvent(actor, "ledger.adjust", "lks", str(lks_id), None,
                                    {"amount": amount, "memo": entry.memo}))


async def entries(lks_id: int, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    total = await count_rows(LedgerEntry, LedgerEntry.lks == lks_id)
    rows = await (LedgerEntry.select().where(LedgerEntry.lks == lks_id).order_by(LedgerEntry.id, ascending=False)
                  .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total

"""Offers: create, publish (only a verified LKS, within its funds, not paused for overdue reports), close,
and commit capacity."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Sum

from marketplace.audit import AuditEvent
from marketplace.lks import LksError, may_publish
from marketplace.offers import (
    CapacityExceeded,
    OfferError,
    OfferInput,
    OfferStatus,
    check_commit,
    check_fund_offer,
    transition,
)
from storage import ledger
from storage.lks_reports.deadlines import check_offers_allowed
from storage.tables import Lks, Offer
from storage.uow import unit_of_work


class OfferNotFound(LookupError):
    pass


async def create_offer(lks_id: int, data: OfferInput, actor: str) -> int:
    async with unit_of_work() as uow:
        if not await Lks.exists().where(Lks.id == lks_id):
            raise OfferNotFound(lks_id)
        await check_offers_allowed(lks_id)
        rows = await Offer.insert(Offer(
            lks=lks_id, title=data.title, period=data.period, kind=data.kind, is_goods=data.is_goods,
            unit=data.unit, unit_value=data.unit_value, capacity=data.capacity, remaining=data.capacity,
            areas=data.areas, ppks=data.ppks, max_per_need=data.max_per_need, status=OfferStatus.DRAFT,
        )).returning(Offer.id)
        offer_id = int(rows[0]["id"])
        await uow.record(AuditEvent(actor, "offer.create", "offer", str(offer_id), None,
                                    {"lks": lks_id, "kind": data.kind, "is_goods": data.is_goods,
                                     "capacity": data.capacity, "period": data.period}))
    return offer_id


async def get_offer(offer_id: int, lks_id: int | None) -> dict[str, Any]:
    """One offer; with ``lks_id`` only if it belongs to that LKS (otherwise as if it did not exist)."""
    where: Any = Offer.id == offer_id
    if lks_id is not None:
        where = where & (Offer.lks == lks_id)
    row = await Offer.select().where(where).first()
    if row is None:
        raise OfferNotFound(offer_id)
    return row


async def offers_of(lks_id: int) -> list[dict[str, Any]]:
    return await Offer.select().where(Offer.lks == lks_id).order_by(Offer.id, ascending=False)


async def committed_fund_offers(lks_id: int, except_offer: int | None = None) -> int:
    """Rupiah the LKS's open (published) fund offers still commit."""
    where = (Offer.lks == lks_id) & (Offer.status == OfferStatus.PUBLISHED) & (Offer.is_goods == False)  # noqa: E712
    if except_offer is not None:
        where = where & (Offer.id != except_offer)
    row = await Offer.select(Sum(Offer.remaining).as_alias("total")).where(where).first()
    return int(row["total"] or 0) if row else 0


async def _lock_lks(lks_id: int) -> None:
    """Serialise publications of one LKS (PostgreSQL); SQLite serialises writers by itself."""
    if ledger.is_postgres():
        await Lks.raw("SELECT id FROM lks WHERE id = {} FOR UPDATE", lks_id)


async def publish_offer(offer_id: int, lks_id: int, actor: str) -> None:
    async with unit_of_work() as uow:
        await _lock_lks(lks_id)
        offer = await get_offer(offer_id, lks_id)
        lks = await Lks.select(Lks.status, Lks.annual_budget).where(Lks.id == lks_id).first()
        assert lks is not None
        may_publish(lks["status"])
        await check_offers_allowed(lks_id)
        new_status = transition(offer["status"], "publish")
        if not offer["is_goods"]:
            check_fund_offer(offer["remaining"], await ledger.balance(lks_id), int(lks["annual_budget"]),
                             await committed_fund_offers(lks_id, except_offer=offer_id))
        await Offer.update({Offer.status: new_status}).where(Offer.id == offer_id)
        await uow.record(AuditEvent(actor, "offer.publish", "offer", str(offer_id),
                                    {"status": offer["status"]}, {"status": new_status}))


async def close_offer(offer_id: int, lks_id: int, actor: str) -> None:
    async with unit_of_work() as uow:
        offer = await get_offer(offer_id, lks_id)
        new_status = transition(offer["status"], "close")
        await Offer.update({Offer.status: new_status}).where(Offer.id == offer_id)
        await uow.record(AuditEvent(actor, "offer.close", "offer", str(offer_id),
                                    {"status": offer["status"]}, {"status": new_status}))


async def commit_capacity(offer_id: int, amount: int) -> int:
    """Take ``amount`` (rupiah for funds, units for goods) off the offer's remaining capacity, atomically,
    inside the caller's transaction; returns what remains. Raises ``CapacityExceeded`` (nothing changed)
    when the offer has less than ``amount`` left, however many approvals race: the condition and the
    decrement are one statement, so the database re-checks it under the row lock."""
    check_commit(amount)
    rows = await Offer.update({Offer.remaining: Offer.remaining - amount}).where(
        (Offer.id == offer_id) & (Offer.remaining >= amount)
    ).returning(Offer.remaining)
    if not rows:
        raise CapacityExceeded(offer_id, amount)
    return int(rows[0]["remaining"])


__all__ = ["CapacityExceeded", "LksError", "OfferError", "OfferNotFound", "close_offer", "commit_capacity",
           "create_offer", "get_offer", "offers_of", "publish_offer"]

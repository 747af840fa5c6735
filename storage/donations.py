"""Donations, campaigns and donors: pending checkouts, Stripe events (idempotent, order-safe), recorded
bank transfers, and what a donor sees of their own donations."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from typing import Any

from piccolo.query.functions.aggregate import Sum

from marketplace import clock
from marketplace.audit import AuditEvent
from marketplace.donations import DonationError, DonorInput, TransferInput, slugify
from marketplace.ledger import DonationState, EntryType, on_completed, on_failed, on_refunded, receipt_number
from marketplace.payments import EventKind, PaymentEvent
from marketplace.vocabulary import DonationStatus, LksStatus
from storage import ledger
from storage.counting import count_rows
from storage.engine import ilike
from storage.tables import Campaign, Donation, Donor, LedgerEntry, Lks, StripeEvent
from storage.uow import unit_of_work

log = logging.getLogger("jitu.donations")
PAGE_SIZE = 50


class DonationNotFound(LookupError):
    pass


class NotYetKnown(LookupError):
    """A refund names no donation we can find yet (its charge carries no metadata and the completion that
    tells us the payment intent has not arrived): nothing is recorded, so the provider delivers it again."""


# --- campaigns -------------------------------------------------------------------------------------

async def create_campaign(lks_id: int, title: str, description: str, target_amount: int, kecamatan_code: str,
                          actor: str) -> str:
    title = title.strip()
    if not 5 <= len(title) <= 200:
        raise DonationError("Judul kampanye wajib diisi (5–200 karakter).")
    if target_amount < 0:
        raise DonationError("Target dana tidak boleh negatif.")
    async with unit_of_work() as uow:
        lks = await Lks.select(Lks.status).where(Lks.id == lks_id).first()
        if lks is None or lks["status"] != LksStatus.VERIFIED:
            raise DonationError("Hanya LKS terverifikasi yang dapat membuat kampanye.")
        base = slugify(title)
        slug = base
        while await Campaign.exists().where(Campaign.slug == slug):
            slug = f"{base}-{uuid.uuid4().hex[:5]}"
        rows = await Campaign.insert(Campaign(lks=lks_id, slug=slug, title=title, description=description.strip(),
                                              target_amount=target_amount, kecamatan_code=kecamatan_code)
                                     ).returning(Campaign.id)
        await uow.record(AuditEvent(actor, "campaign.create", "campaign", str(rows[0]["id"]), None,
                                    {"lks": lks_id, "slug": slug, "target_amount": target_amount}))
    return slug


async def campaigns_of(lks_id: int, active_only: bool = False) -> list[dict[str, Any]]:
    where: Any = Campaign.lks == lks_id
    if active_only:
        where = where & (Campaign.active == True)  # noqa: E712
    return await Campaign.select().where(where).order_by(Campaign.id, ascending=False)


async def public_campaign(slug: str) -> dict[str, Any]:
    row = await Campaign.select(*Campaign.all_columns(), Campaign.lks.name.as_alias("lks_name")).where(
        (Campaign.slug == slug) & (Campaign.active == True) & (Campaign.lks.status == LksStatus.VERIFIED)  # noqa: E712
    ).first()
    if row is None:
        raise DonationNotFound(slug)
    return row


async def raised(lks_id: int | None = None, campaign_id: int | None = None) -> int:
    """Rupiah received net of refunds, from the donations themselves."""
    where: Any = Donation.status.is_in([DonationStatus.COMPLETED, DonationStatus.REFUNDED])
    if lks_id is not None:
        where = where & (Donation.lks == lks_id)
    if campaign_id is not None:
        where = where & (Donation.campaign == campaign_id)
    row = await Donation.select(Sum(Donation.amount).as_alias("given"),
                                Sum(Donation.refunded_amount).as_alias("back")).where(where).first()
    return int((row or {}).get("given") or 0) - int((row or {}).get("back") or 0)


# --- online donations --------------------------------------------------------------------------------

async def create_pending(lks_id: int, campaign_id: int | None, donor: DonorInput, account_id: int | None) -> int:
    """A donation waiting for the payment provider; it counts for nothing until the payment completes."""
    async with unit_of_work() as uow:
        lks = await Lks.select(Lks.status).where(Lks.id == lks_id).first()
        if lks is None or lks["status"] != LksStatus.VERIFIED:
            raise DonationError("LKS ini tidak menerima donasi.")
        if campaign_id is not None and not await Campaign.exists().where(
            (Campaign.id == campaign_id) & (Campaign.lks == lks_id) & (Campaign.active == True)  # noqa: E712
        ):
            raise DonationError("Kampanye tidak ditemukan.")
        donor_id = await _donor(donor.name, donor.email, donor.anonymous, account_id)
        rows = await Donation.insert(Donation(donor=donor_id, lks=lks_id, campaign=campaign_id, amount=donor.amount,
                                              method="stripe", status=DonationStatus.PENDING)).returning(Donation.id)
        donation_id = int(rows[0]["id"])
        await uow.record(AuditEvent(f"donor:{donor_id}", "donation.start", "donation", str(donation_id), None,
                                    {"lks": lks_id, "campaign": campaign_id, "amount": donor.amount}))
    return donation_id


async def _donor(name: str, email: str, anonymous: bool, account_id: int | None) -> int:
    rows = await Donor.insert(Donor(account=account_id, name=name, email=email, anonymous=anonymous)
                              ).returning(Donor.id)
    return int(rows[0]["id"])


async def checkout_not_started(donation_id: int) -> None:
    """The provider could not open a checkout: the pending donation is marked failed (nothing was paid)."""
    async with unit_of_work() as uow:
        await Donation.update({Donation.status: DonationStatus.FAILED}).where(
            (Donation.id == donation_id) & (Donation.status == DonationStatus.PENDING))
        await uow.record(AuditEvent("system", "donation.checkout_failed", "donation", str(donation_id),
                                    {"status": "pending"}, {"status": "failed"}))


async def attach_session(donation_id: int, session_id: str) -> None:
    await Donation.update({Donation.stripe_session_id: session_id}).where(Donation.id == donation_id)


async def _find(event: PaymentEvent) -> dict[str, Any] | None:
    candidates = []
    if event.donation_id is not None:
        candidates.append(Donation.id == event.donation_id)
    if event.session_id:
        candidates.append(Donation.stripe_session_id == event.session_id)
    if event.payment_intent:
        candidates.append(Donation.stripe_payment_intent == event.payment_intent)
    for where in candidates:
        row = await Donation.select().where(where & (Donation.method == "stripe")).first()
        if row is not None:
            return row
    return None


async def _lock_donation(donation_id: int) -> None:
    """Events about one donation are applied one after another (PostgreSQL row lock)."""
    if ledger.is_postgres():
        await Donation.raw("SELECT id FROM donation WHERE id = {} FOR UPDATE", donation_id)


async def _state(row: dict[str, Any]) -> DonationState:
    entries = await LedgerEntry.select(LedgerEntry.entry_type, LedgerEntry.amount).where(
        LedgerEntry.donation == row["id"])
    counted_in = sum(e["amount"] for e in entries if e["entry_type"] == EntryType.DONATION)
    counted_refund = -sum(e["amount"] for e in entries if e["entry_type"] == EntryType.REFUND)
    return DonationState(row["id"], int(row["amount"]), row["status"], int(row["refunded_amount"]),
                         counted_in, counted_refund)


async def apply_payment_event(event: PaymentEvent) -> str:
    """Apply one provider event in one transaction with the record of its id: a replayed event changes
    nothing ("duplicate"); events may arrive in any order (see ``marketplace/ledger.py``)."""
    try:
        return await _apply(event)
    except NotYetKnown:
        return "retry"
    except Exception:
        # A concurrent delivery of the same event id won the insert: that one counts, this one not.
        if await StripeEvent.exists().where(StripeEvent.event_id == event.event_id):
            return "duplicate"
        raise


async def _apply(event: PaymentEvent) -> str:
    async with unit_of_work() as uow:
        if await StripeEvent.exists().where(StripeEvent.event_id == event.event_id):
            return "duplicate"
        await StripeEvent.insert(StripeEvent(event_id=event.event_id, type=event.type))
        if event.kind == EventKind.IGNORED:
            return "ignored"
        row = await _find(event)
        if row is None and event.kind == EventKind.REFUNDED:
            raise NotYetKnown(event.event_id)
        if row is None:
            log.warning("stripe event %s (%s) names no known donation", event.event_id, event.type)
            return "unknown"
        await _lock_donation(row["id"])
        row = await Donation.select().where(Donation.id == row["id"]).first()
        assert row is not None
        before = await _state(row)
        values: dict[Any, Any] = {}
        if event.kind == EventKind.COMPLETED:
            if event.amount and event.amount != before.amount:
                log.warning("donation %s: paid %s but %s was asked", row["id"], event.amount, before.amount)
            after, entries = on_completed(before)
            if row["completed_at"] is None:
                values[Donation.completed_at] = datetime.now(UTC)
            if row["receipt_number"] is None:
                values[Donation.receipt_number] = receipt_number(clock.today().year, row["id"])
        elif event.kind == EventKind.REFUNDED:
            after, entries = on_refunded(before, event.amount_refunded)
        else:
            after, entries = on_failed(before), []
        if event.payment_intent and not row["stripe_payment_intent"]:
            values[Donation.stripe_payment_intent] = event.payment_intent
        values[Donation.status] = after.status
        values[Donation.refunded_amount] = after.refunded_reported
        await Donation.update(values).where(Donation.id == row["id"])
        await ledger.write(row["lks"], entries)
        await uow.record(AuditEvent("stripe", f"donation.{event.kind}", "donation", str(row["id"]),
                                    {"status": before.status, "refunded": before.refunded_reported},
                                    {"status": after.status, "refunded": after.refunded_reported,
                                     "event": event.event_id, "ledger": [e.amount for e in entries]}))
    return "applied"


# --- offline: bank transfers recorded by the LKS --------------------------------------------------------

async def record_transfer(lks_id: int, data: TransferInput, proof_key: str, account_id: int, actor: str) -> int:
    """A bank transfer the LKS received: a completed donation with its receipt and its ledger entry."""
    async with unit_of_work() as uow:
        lks = await Lks.select(Lks.status).where(Lks.id == lks_id).first()
        if lks is None or lks["status"] != LksStatus.VERIFIED:
            raise DonationError("Hanya LKS terverifikasi yang dapat mencatat donasi.")
        donor_id = await _donor(data.donor_name, data.donor_email, False, None)
        received = datetime(data.received_on.year, data.received_on.month, data.received_on.day, tzinfo=UTC)
        rows = await Donation.insert(Donation(
            donor=donor_id, lks=lks_id, amount=data.amount, method="transfer", status=DonationStatus.PENDING,
            transfer_proof_key=proof_key, recorded_by=account_id, completed_at=received,
        )).returning(Donation.id)
        donation_id = int(rows[0]["id"])
        after, entries = on_completed(DonationState(donation_id, data.amount))
        await Donation.update({Donation.status: after.status,
                               Donation.receipt_number: receipt_number(data.received_on.year, donation_id)}
                              ).where(Donation.id == donation_id)
        await ledger.write(lks_id, entries)
        await uow.record(AuditEvent(actor, "donation.transfer_recorded", "donation", str(donation_id), None,
                                    {"lks": lks_id, "amount": data.amount,
                                     "received_on": data.received_on.isoformat()}))
    return donation_id


async def transfers(q: str = "", page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """Recorded bank transfers of every LKS (for Dinsos)."""
    where: Any = Donation.method == "transfer"
    if q:
        where = where & (ilike(Donation.lks.name, f"%{q}%") | ilike(Donation.donor.name, f"%{q}%"))
    total = await count_rows(Donation, where)
    rows = await (Donation.select(*Donation.all_columns(), Donation.lks.name.as_alias("lks_name"),
                                  Donation.donor.name.as_alias("donor_name"),
                                  Donation.recorded_by.username.as_alias("recorded_by_name"))
                  .where(where).order_by(Donation.id, ascending=False).limit(PAGE_SIZE)
                  .offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total


async def donations_of_lks(lks_id: int, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    where = Donation.lks == lks_id
    total = await count_rows(Donation, where)
    rows = await (Donation.select(*Donation.all_columns(), Donation.donor.name.as_alias("donor_name"),
                                  Donation.donor.anonymous.as_alias("donor_anonymous"),
                                  Donation.campaign.title.as_alias("campaign_title"))
                  .where(where).order_by(Donation.id, ascending=False).limit(PAGE_SIZE)
                  .offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total


async def get_transfer(donation_id: int, lks_id: int | None) -> dict[str, Any]:
    where = (Donation.id == donation_id) & (Donation.method == "transfer")
    if lks_id is not None:
        where = where & (Donation.lks == lks_id)
    row = await Donation.select().where(where).first()
    if row is None:
        raise DonationNotFound(donation_id)
    return row


# --- the donor's own donations -----------------------------------------------------------------------

async def donations_of_account(account_id: int, page_no: int = 1,
                               size: int = 50) -> tuple[list[dict[str, Any]], int]:
    """One page of the account's donations, newest first, and how many there are: a regular donor's list
    grows every month (the city bench's donor has 260), so it is paged like every other long list."""
    mine = Donation.donor.account == account_id
    total = await count_rows(Donation, mine)
    rows = await (Donation.select(Donation.id, Donation.created_at, Donation.amount, Donation.status,
                                  Donation.receipt_number, Donation.lks.name.as_alias("lks_name"),
                                  Donation.campaign.title.as_alias("campaign_title"))
                  .where(mine).order_by(Donation.id, ascending=False).limit(size).offset((page_no - 1) * size))
    return rows, total


async def receipt(donation_id: int, account_id: int) -> dict[str, Any]:
    """A receipt of the account's own completed donation; anything else is as if it did not exist."""
    row = await (Donation.select(*Donation.all_columns(), Donation.lks.name.as_alias("lks_name"),
                                 Donation.lks.address.as_alias("lks_address"),
                                 Donation.donor.name.as_alias("donor_name"),
                                 Donation.campaign.title.as_alias("campaign_title"))
                 .where((Donation.id == donation_id) & (Donation.donor.account == account_id)
                        & Donation.receipt_number.is_not_null()).first())
    if row is None:
        raise DonationNotFound(donation_id)
    return row


def today() -> date:
    return clock.today()

"""Stripe delivers the same signed webhook 100 times, ten at a time (issue 13 item 6): one donation completed,
one ledger entry, the ledger balanced, one event record, one audit event, and the audit chain intact."""

from __future__ import annotations

import asyncio

from storage import ledger
from storage.audit import verify
from storage.tables import AuditEvent, Donation, LedgerEntry, StripeEvent
from tests.portal.test_webhook_stripe import completed_event, pending, send, stripe_client  # noqa: F401 (fixture)


async def test_a_webhook_delivered_100_times_counts_once(stripe_client) -> None:  # noqa: F811
    lks_id, donation_id = await pending(125_000)
    event = completed_event("evt_100x", donation_id, 125_000)
    statuses: list[int] = []
    for _ in range(10):  # concurrent deliveries race for the same event id
        responses = await asyncio.gather(*[send(stripe_client, event) for _ in range(10)])
        statuses += [r.status_code for r in responses]
    assert statuses == [200] * 100  # every delivery acknowledged, so Stripe stops retrying

    row = await Donation.select(Donation.status, Donation.receipt_number).where(Donation.id == donation_id).first()
    assert row["status"] == "completed" and row["receipt_number"]
    entries = await LedgerEntry.select(LedgerEntry.amount, LedgerEntry.entry_type).where(LedgerEntry.lks == lks_id)
    assert [(e["entry_type"], e["amount"]) for e in entries] == [("donation", 125_000)]
    assert await ledger.balance(lks_id) == sum(e["amount"] for e in entries) == 125_000
    assert await StripeEvent.count().where(StripeEvent.event_id == "evt_100x") == 1
    completed = (AuditEvent.entity == "donation") & AuditEvent.action.like("donation.complete%")
    assert await AuditEvent.count().where(completed) == 1
    assert (await verify()).ok

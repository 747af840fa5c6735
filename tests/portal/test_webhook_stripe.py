"""POST /webhooks/stripe: Stripe's own signing scheme, no network. Valid, bad signature, wrong secret,
stale timestamp, replay, and a refund that arrives before its completion."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import stripe
from litestar.testing import AsyncTestClient

from marketplace.donations import DonorInput
from marketplace.settings import Settings
from portal.app import create_app
from storage import ledger
from storage.donations import create_pending
from storage.tables import Donation, LedgerEntry, StripeEvent
from tests.dbutil import make_lks

SECRET = "whsec_test_jitu_secret"


@pytest.fixture
async def stripe_client(db: None) -> AsyncIterator[Any]:
    app = create_app(Settings(stripe_secret_key="sk_test_jitu", stripe_webhook_secret=SECRET,
                              stripe_api_base="http://127.0.0.1:9"))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        yield client


async def pending(amount: int = 50_000) -> tuple[int, int]:
    lks_id = await make_lks()
    donation_id = await create_pending(lks_id, None, DonorInput("Budi", "budi@example.id", False, amount), None)
    await Donation.update({Donation.stripe_session_id: f"cs_test_{donation_id}"}).where(Donation.id == donation_id)
    return lks_id, donation_id


def completed_event(event_id: str, donation_id: int, amount: int, type_: str = "checkout.session.completed",
                    payment_status: str = "paid") -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": type_, "data": {"object": {
        "id": f"cs_test_{donation_id}", "object": "checkout.session", "amount_total": amount * 100,
        "currency": "idr", "payment_status": payment_status, "payment_intent": f"pi_{donation_id}",
        "client_reference_id": str(donation_id), "metadata": {"donation_id": str(donation_id)}}}}


def refund_event(event_id: str, donation_id: int, amount: int, refunded: int) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": "charge.refunded", "data": {"object": {
        "id": f"ch_{donation_id}", "object": "charge", "amount": amount * 100, "amount_refunded": refunded * 100,
        "currency": "idr", "payment_intent": f"pi_{donation_id}", "refunded": refunded >= amount,
        "metadata": {"donation_id": str(donation_id)}}}}


def failed_event(event_id: str, donation_id: int) -> dict[str, Any]:
    return {"id": event_id, "object": "event", "type": "payment_intent.payment_failed", "data": {"object": {
        "id": f"pi_{donation_id}", "object": "payment_intent", "metadata": {"donation_id": str(donation_id)}}}}


async def send(client: Any, event: dict[str, Any], secret: str = SECRET, *, tamper: bool = False,
               timestamp: int | None = None) -> Any:
    payload = json.dumps(event)
    header = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    if tamper:
        payload = payload.replace('"currency": "idr"', '"currency": "usd"')
    return await client.post("/webhooks/stripe", content=payload.encode(),
                             headers={"Stripe-Signature": header, "Content-Type": "application/json"})


async def state(donation_id: int) -> tuple[str, int]:
    row = await Donation.select(Donation.status, Donation.lks).where(Donation.id == donation_id).first()
    return row["status"], await ledger.balance(row["lks"])


async def test_a_signed_completion_completes_the_donation_and_credits_the_ledger(stripe_client):
    lks_id, donation_id = await pending(50_000)
    response = await send(stripe_client, completed_event("evt_1", donation_id, 50_000))
    assert response.status_code == 200, response.text
    row = await Donation.select().where(Donation.id == donation_id).first()
    assert row["status"] == "completed" and row["stripe_payment_intent"] == f"pi_{donation_id}"
    assert row["receipt_number"].startswith("JITU-RCPT-") and row["receipt_number"].endswith(f"{donation_id:06d}")
    assert await ledger.balance(lks_id) == 50_000
    assert await StripeEvent.exists().where(StripeEvent.event_id == "evt_1")


async def test_a_bad_signature_is_refused_and_changes_nothing(stripe_client):
    _, donation_id = await pending()
    response = await send(stripe_client, completed_event("evt_bad", donation_id, 50_000), tamper=True)
    assert response.status_code == 400
    assert await state(donation_id) == ("pending", 0)
    assert await StripeEvent.count() == 0


async def test_a_missing_signature_is_refused(stripe_client):
    _, donation_id = await pending()
    response = await stripe_client.post("/webhooks/stripe", content=json.dumps(
        completed_event("evt_nosig", donation_id, 50_000)).encode())
    assert response.status_code == 400
    assert await state(donation_id) == ("pending", 0)


async def test_a_payload_signed_with_another_secret_is_refused(stripe_client):
    _, donation_id = await pending()
    response = await send(stripe_client, completed_event("evt_other", donation_id, 50_000), secret="whsec_other")
    assert response.status_code == 400
    assert await state(donation_id) == ("pending", 0)


async def test_a_stale_signature_is_refused(stripe_client):
    _, donation_id = await pending()
    response = await send(stripe_client, completed_event("evt_old", donation_id, 50_000),
                          timestamp=int(time.time()) - 3600)
    assert response.status_code == 400
    assert await state(donation_id) == ("pending", 0)


async def test_a_replayed_event_never_counts_twice(stripe_client):
    lks_id, donation_id = await pending(75_000)
    event = completed_event("evt_replay", donation_id, 75_000)
    for _ in range(3):
        assert (await send(stripe_client, event)).status_code == 200
    assert await ledger.balance(lks_id) == 75_000
    assert await LedgerEntry.count() == 1
    # Another event about the same payment (a different id) does not count it again either.
    await send(stripe_client, completed_event("evt_async", donation_id, 75_000,
                                              "checkout.session.async_payment_succeeded"))
    assert await ledger.balance(lks_id) == 75_000


async def test_a_refund_before_its_completion_is_remembered_not_counted_negative(stripe_client):
    lks_id, donation_id = await pending(100_000)
    assert (await send(stripe_client, refund_event("evt_r1", donation_id, 100_000, 100_000))).status_code == 200
    assert await ledger.balance(lks_id) == 0 and await LedgerEntry.count() == 0
    assert (await send(stripe_client, completed_event("evt_c1", donation_id, 100_000))).status_code == 200
    status, balance = await state(donation_id)
    assert (status, balance) == ("refunded", 0)
    types = sorted(e["entry_type"] for e in await LedgerEntry.select(LedgerEntry.entry_type))
    assert types == ["donation", "refund"]
    # replays of both, in any order, change nothing
    await send(stripe_client, completed_event("evt_c1", donation_id, 100_000))
    await send(stripe_client, refund_event("evt_r1", donation_id, 100_000, 100_000))
    assert await state(donation_id) == ("refunded", 0)
    assert await LedgerEntry.count() == 2


async def test_a_refund_that_names_no_donation_yet_is_asked_again_later(stripe_client):
    lks_id, donation_id = await pending(100_000)
    refund = refund_event("evt_r_nometa", donation_id, 100_000, 40_000)
    refund["data"]["object"]["metadata"] = {}  # a charge without the checkout's metadata
    first = await send(stripe_client, refund)
    assert first.status_code == 409  # not 2xx: Stripe will deliver it again
    assert not await StripeEvent.exists().where(StripeEvent.event_id == "evt_r_nometa")
    await send(stripe_client, completed_event("evt_c_meta", donation_id, 100_000))  # links pi_… to the donation
    assert (await send(stripe_client, refund)).status_code == 200
    assert await state(donation_id) == ("completed", 60_000)
    assert await ledger.balance(lks_id) == 60_000


async def test_partial_refunds_are_cumulative_and_never_exceed_the_donation(stripe_client):
    _lks_id, donation_id = await pending(100_000)
    await send(stripe_client, completed_event("evt_c", donation_id, 100_000))
    await send(stripe_client, refund_event("evt_r30", donation_id, 100_000, 30_000))
    assert await state(donation_id) == ("completed", 70_000)
    # a later cumulative report arriving before an older one: the older one changes nothing
    await send(stripe_client, refund_event("evt_r80", donation_id, 100_000, 80_000))
    await send(stripe_client, refund_event("evt_r50", donation_id, 100_000, 50_000))
    assert await state(donation_id) == ("completed", 20_000)
    await send(stripe_client, refund_event("evt_r100", donation_id, 100_000, 100_000))
    assert await state(donation_id) == ("refunded", 0)


async def test_a_failed_payment_marks_the_pending_donation_failed(stripe_client):
    _, donation_id = await pending()
    assert (await send(stripe_client, failed_event("evt_f", donation_id))).status_code == 200
    assert await state(donation_id) == ("failed", 0)
    await send(stripe_client, completed_event("evt_after", donation_id, 50_000,
                                              "checkout.session.async_payment_failed"))
    assert await state(donation_id) == ("failed", 0)


async def test_an_unpaid_completion_waits_for_the_async_outcome(stripe_client):
    _lks_id, donation_id = await pending()
    await send(stripe_client, completed_event("evt_unpaid", donation_id, 50_000, payment_status="unpaid"))
    assert await state(donation_id) == ("pending", 0)
    await send(stripe_client, completed_event("evt_paid", donation_id, 50_000,
                                              "checkout.session.async_payment_succeeded"))
    assert await state(donation_id) == ("completed", 50_000)


async def test_unknown_event_types_are_acknowledged_and_ignored(stripe_client):
    response = await send(stripe_client, {"id": "evt_x", "object": "event", "type": "customer.created",
                                          "data": {"object": {"id": "cus_1"}}})
    assert response.status_code == 200
    assert await LedgerEntry.count() == 0


async def test_without_stripe_the_webhook_is_not_there(client):
    response = await client.post("/webhooks/stripe", content=b"{}", headers={"Stripe-Signature": "t=1,v1=x"})
    assert response.status_code == 404

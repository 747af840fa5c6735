"""The stored ledger under random Stripe event sequences (hypothesis, on the engine of this run): replays
never count twice, a refund before its completion never drives the ledger negative, refunds never exceed
what was donated, and the balance is the sum of the entries and equals what the events justify."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.donations import DonorInput
from marketplace.payments import EventKind, PaymentEvent
from storage import ledger
from storage.donations import apply_payment_event, create_pending, record_transfer
from storage.tables import Donation, LedgerEntry, StripeEvent
from tests.dbutil import clean_database, make_lks

EVENTS = st.lists(
    st.tuples(st.sampled_from(["completed", "refunded", "failed"]), st.integers(0, 2),
              st.integers(min_value=0, max_value=400_000), st.integers(0, 14)),
    min_size=1, max_size=25,
)


def _event(n: int, kind: str, donation_id: int, refunded: int) -> PaymentEvent:
    event_id = f"evt_{n}"
    if kind == "completed":
        return PaymentEvent(event_id, "checkout.session.completed", EventKind.COMPLETED, donation_id,
                            f"cs_{donation_id}", f"pi_{donation_id}")
    if kind == "refunded":
        return PaymentEvent(event_id, "charge.refunded", EventKind.REFUNDED, donation_id, None, f"pi_{donation_id}",
                            amount_refunded=refunded)
    return PaymentEvent(event_id, "payment_intent.payment_failed", EventKind.FAILED, donation_id)


async def _scenario(amounts: list[int], events: list[tuple[str, int, int, int]]) -> None:
    await clean_database()
    lks_id = await make_lks()
    ids = [await create_pending(lks_id, None, DonorInput("Donatur", "", False, a), None) for a in amounts]
    sent: dict[int, PaymentEvent] = {}
    for kind, which, refunded, replay_of in events:
        # sometimes re-deliver an event already sent (same id): it must change nothing
        if replay_of in sent and replay_of % 3 == 0:
            event = sent[replay_of]
        else:
            event = _event(len(sent), kind, ids[which % len(ids)], refunded)
            sent[len(sent)] = event
        await apply_payment_event(event)
    # replay everything once more, in reverse
    for event in reversed(list(sent.values())):
        assert await apply_payment_event(event) == "duplicate"

    entries = await LedgerEntry.select()
    assert await ledger.balance(lks_id) == sum(e["amount"] for e in entries)
    expected_total = 0
    for donation_id, amount in zip(ids, amounts, strict=True):
        mine = [e for e in entries if e["donation"] == donation_id]
        ins = [e["amount"] for e in mine if e["entry_type"] == "donation"]
        outs = [-e["amount"] for e in mine if e["entry_type"] == "refund"]
        events_of = [e for e in sent.values() if e.donation_id == donation_id]
        completed = any(e.kind == EventKind.COMPLETED for e in events_of)
        refunded = max([e.amount_refunded for e in events_of if e.kind == EventKind.REFUNDED], default=0)
        assert len(ins) == (1 if completed else 0)
        assert sum(outs) <= sum(ins)
        net = amount - min(refunded, amount) if completed else 0
        assert sum(ins) - sum(outs) == net
        expected_total += net
        row = await Donation.select().where(Donation.id == donation_id).first()
        assert row["refunded_amount"] == min(refunded, amount)
    assert await ledger.balance(lks_id) == expected_total >= 0
    assert await StripeEvent.count() == len(sent)


@given(st.lists(st.integers(min_value=10_000, max_value=300_000), min_size=1, max_size=3), EVENTS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_random_event_sequences_on_the_stored_ledger(db, amounts, events):
    asyncio.run(_scenario(amounts, events))


async def test_allocation_out_is_recorded_once(db):
    from piccolo.engine import engine_finder

    from marketplace.vocabulary import DonationStatus
    from storage.tables import Allocation, MatchingRound, Need, Offer

    lks_id = await make_lks()
    donation_id = await create_pending(lks_id, None, DonorInput("Donatur", "", False, 500_000), None)
    await apply_payment_event(_event(1, "completed", donation_id, 0))
    assert (await Donation.select(Donation.status).first())["status"] == DonationStatus.COMPLETED
    # a minimal allocation row to point at
    from storage.tables import Household
    household = (await Household.insert(Household(kk_cipher="x", kk_hash="h", kelurahan_code="32.73.03.1001"))
                 .returning(Household.id))[0]["id"]
    need = (await Need.insert(Need(household=household, ppks=24, kind="tunai", amount=200_000))
            .returning(Need.id))[0]["id"]
    offer = (await Offer.insert(Offer(lks=lks_id, period="2026-12", kind="tunai", capacity=400_000,
                                      remaining=400_000)).returning(Offer.id))[0]["id"]
    round_id = (await MatchingRound.insert(MatchingRound(period="2026-12")).returning(MatchingRound.id))[0]["id"]
    allocation = (await Allocation.insert(Allocation(round=round_id, need=need, offer=offer, lks=lks_id,
                                                     amount=200_000)).returning(Allocation.id))[0]["id"]
    engine = engine_finder()
    assert engine is not None
    async with engine.transaction():
        await ledger.record_allocation_out(lks_id, allocation, 200_000)
        await ledger.record_allocation_out(lks_id, allocation, 200_000)
    assert await ledger.balance(lks_id) == 300_000
    assert await LedgerEntry.count().where(LedgerEntry.entry_type == "allocation") == 1


async def test_a_recorded_transfer_is_a_completed_donation_with_receipt_and_ledger_entry(db):
    from datetime import date

    from marketplace.donations import TransferInput
    from tests.dbutil import make_account

    lks_id = await make_lks()
    account = await make_account("lks_staff", "bendahara", lks_id=lks_id)
    donation_id = await record_transfer(lks_id, TransferInput("Pak Ahmad", "", 1_500_000, date(2026, 11, 20)),
                                        "transfers/1/x.pdf", account, "bendahara")
    row = await Donation.select().where(Donation.id == donation_id).first()
    assert row["status"] == "completed" and row["method"] == "transfer"
    assert row["receipt_number"] == f"JITU-RCPT-2026-{donation_id:06d}"
    assert await ledger.balance(lks_id) == 1_500_000


@pytest.mark.postgres
async def test_concurrent_deliveries_of_one_event_count_once(db):
    lks_id = await make_lks()
    donation_id = await create_pending(lks_id, None, DonorInput("Donatur", "", False, 80_000), None)
    event = _event(1, "completed", donation_id, 0)
    refund = _event(2, "refunded", donation_id, 30_000)
    outcomes = await asyncio.gather(*[apply_payment_event(e) for e in [event] * 6 + [refund] * 6])
    assert outcomes.count("applied") == 2
    assert await ledger.balance(lks_id) == 50_000
    assert await LedgerEntry.count() == 2

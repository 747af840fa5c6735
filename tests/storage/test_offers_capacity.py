"""Offer capacity: commits are atomic conditional updates; racing approvals never over-commit."""

from __future__ import annotations

import asyncio
import random

import pytest
from piccolo.engine import engine_finder

from marketplace.offers import CapacityExceeded, OfferError
from storage.offers import commit_capacity
from storage.tables import Offer
from tests.dbutil import make_lks


async def _offer(capacity: int) -> int:
    lks_id = await make_lks()
    rows = await Offer.insert(Offer(lks=lks_id, period="2026-12", kind="pangan", capacity=capacity,
                                    remaining=capacity, status="published")).returning(Offer.id)
    return int(rows[0]["id"])


async def _remaining(offer_id: int) -> int:
    row = await Offer.select(Offer.remaining).where(Offer.id == offer_id).first()
    assert row is not None
    return int(row["remaining"])


async def test_commit_reduces_remaining_and_refuses_beyond_zero(db):
    offer_id = await _offer(100)
    assert await commit_capacity(offer_id, 60) == 40
    with pytest.raises(CapacityExceeded):
        await commit_capacity(offer_id, 41)
    assert await _remaining(offer_id) == 40
    assert await commit_capacity(offer_id, 40) == 0
    with pytest.raises(CapacityExceeded):
        await commit_capacity(offer_id, 1)
    with pytest.raises(OfferError):
        await commit_capacity(offer_id, 0)
    with pytest.raises(CapacityExceeded):
        await commit_capacity(999_999, 1)


async def test_commit_inside_a_failed_transaction_is_undone(db):
    offer_id = await _offer(100)
    engine = engine_finder()
    assert engine is not None
    with pytest.raises(RuntimeError):
        async with engine.transaction():
            await commit_capacity(offer_id, 30)
            raise RuntimeError("approval failed later")
    assert await _remaining(offer_id) == 100


@pytest.mark.postgres
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_racing_commits_on_separate_transactions_never_over_commit(db, seed):
    capacity = 1_000
    offer_id = await _offer(capacity)
    rng = random.Random(seed)
    amounts = [rng.randint(1, 120) for _ in range(40)]
    engine = engine_finder()
    assert engine is not None

    async def approve(amount: int) -> int:
        try:
            async with engine.transaction():  # its own connection and transaction
                await commit_capacity(offer_id, amount)
                await asyncio.sleep(0.01)  # hold the row lock a little: the others must wait, then re-check
            return amount
        except CapacityExceeded:
            return 0

    committed = await asyncio.gather(*[approve(a) for a in amounts])
    remaining = await _remaining(offer_id)
    assert sum(committed) <= capacity
    assert remaining >= 0
    assert remaining == capacity - sum(committed)
    assert any(c == 0 for c in committed)  # the demand exceeded the capacity: some were refused


@pytest.mark.postgres
async def test_racing_publications_never_offer_more_than_the_funds(db):
    from marketplace.offers import FundsInsufficient, OfferInput
    from storage.offers import create_offer, publish_offer
    from storage.tables import Lks

    lks_id = await make_lks()
    await Lks.update({Lks.annual_budget: 1_000_000}).where(Lks.id == lks_id)
    offers = [await create_offer(lks_id, OfferInput(f"Dana {i}", "2026-12", "tunai", False, "", 0, 300_000,
                                                    ["32.73.03"], [24]), "staf") for i in range(6)]

    async def publish(offer_id: int) -> bool:
        try:
            await publish_offer(offer_id, lks_id, "staf")
            return True
        except FundsInsufficient:
            return False

    published = await asyncio.gather(*[publish(o) for o in offers])
    assert sum(published) == 3  # 3 × 300.000 fits in 1.000.000, a 4th would not
    rows = await Offer.select(Offer.remaining).where((Offer.lks == lks_id) & (Offer.status == "published"))
    assert sum(r["remaining"] for r in rows) <= 1_000_000

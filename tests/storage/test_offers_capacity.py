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

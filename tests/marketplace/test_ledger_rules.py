"""The ledger rules, property-based: whatever sequence of payment events arrives (replays, refunds before
completions, partial and cumulative refunds, failures), the balance is the sum of the entries, a donation
counts in at most once, and refunds never exceed what was donated."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.ledger import (
    DonationState,
    EntryType,
    LedgerError,
    adjustment,
    allocation_out,
    balance,
    on_completed,
    on_failed,
    on_refunded,
    receipt_number,
)

AMOUNTS = st.integers(min_value=10_000, max_value=5_000_000)
EVENT = st.tuples(st.sampled_from(["completed", "refunded", "failed"]), st.integers(0, 4),
                  st.integers(min_value=0, max_value=6_000_000))


def apply(state: DonationState, kind: str, refunded: int) -> tuple[DonationState, list]:
    if kind == "completed":
        return on_completed(state)
    if kind == "refunded":
        return on_refunded(state, refunded)
    return on_failed(state), []


@given(st.lists(AMOUNTS, min_size=1, max_size=5), st.lists(EVENT, max_size=40))
@settings(max_examples=400)
def test_random_event_sequences_keep_the_ledger_sound(amounts, events):
    states = {i: DonationState(i, a) for i, a in enumerate(amounts)}
    entries = []
    completed, refunded_max = set(), {i: 0 for i in states}
    for kind, which, refunded in events:
        i = which % len(amounts)
        states[i], new = apply(states[i], kind, refunded)
        entries += new
        if kind == "completed":
            completed.add(i)
        if kind == "refunded":
            refunded_max[i] = max(refunded_max[i], refunded)
    for i, amount in enumerate(amounts):
        mine = [e for e in entries if e.donation_id == i]
        ins = [e.amount for e in mine if e.entry_type == EntryType.DONATION]
        outs = [-e.amount for e in mine if e.entry_type == EntryType.REFUND]
        assert len(ins) == (1 if i in completed else 0)  # counted once, only after completion
        assert all(o > 0 for o in outs)
        assert sum(outs) <= sum(ins)  # never refunds more than was donated
        expected = amount - min(refunded_max[i], amount) if i in completed else 0
        assert sum(ins) - sum(outs) == expected
        assert states[i].counted_in - states[i].counted_refund == expected
    assert balance(entries) == sum(e.amount for e in entries) >= 0


@given(AMOUNTS, st.lists(EVENT, max_size=12), st.randoms(use_true_random=False))
@settings(max_examples=200)
def test_the_final_ledger_does_not_depend_on_the_order_of_events(amount, events, rnd):
    def run(sequence):
        state, entries = DonationState(1, amount), []
        for kind, _, refunded in sequence:
            state, new = apply(state, kind, refunded)
            entries += new
        return balance(entries)

    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert run(events) == run(shuffled)


@given(AMOUNTS, st.lists(st.integers(0, 6_000_000), max_size=6))
def test_replaying_any_event_changes_nothing(amount, refunds):
    state, entries = on_completed(DonationState(1, amount))
    for r in refunds:
        state, new = on_refunded(state, r)
        entries += new
    again, more = on_completed(state)
    assert more == [] and again == state
    for r in refunds:
        again, more = on_refunded(again, r)
        assert more == []
    assert balance(entries) == amount - min(max(refunds, default=0), amount)


def test_a_full_refund_before_completion_nets_to_zero_when_the_completion_arrives():
    state, entries = on_refunded(DonationState(1, 100_000), 100_000)
    assert entries == [] and state.status == "pending"
    state, entries = on_completed(state)
    assert [e.amount for e in entries] == [100_000, -100_000]
    assert state.status == "refunded"


def test_failure_only_touches_a_pending_donation():
    assert on_failed(DonationState(1, 10_000)).status == "failed"
    completed, _ = on_completed(DonationState(1, 10_000))
    assert on_failed(completed) == completed


def test_allocation_and_adjustment_entries():
    assert allocation_out(9, 250_000).amount == -250_000
    with pytest.raises(LedgerError):
        allocation_out(9, 0)
    assert adjustment(-5_000, "Biaya administrasi bank").amount == -5_000
    with pytest.raises(LedgerError):
        adjustment(5_000, "")
    with pytest.raises(LedgerError):
        on_refunded(DonationState(1, 10_000), -1)


def test_receipt_numbers():
    assert receipt_number(2026, 123) == "JITU-RCPT-2026-000123"

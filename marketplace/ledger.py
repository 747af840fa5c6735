"""An LKS's fund ledger: signed rupiah entries whose sum is the balance (never a separate counter).

How a donation moves the ledger, whatever order the payment provider's events arrive in:

- the payment completes: one ``donation`` entry of +amount (once, however often the event is replayed);
- a refund is reported (Stripe reports the *cumulative* refunded amount): the donation remembers the largest
  amount reported; once the donation is counted in, ``refund`` entries bring the refunded total in the
  ledger up to that amount, never beyond what was donated. A refund reported before the completion is
  therefore only remembered, and the completion that follows counts the donation in and the refund out
  together: the ledger never dips below what the donations justify and never counts anything twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from marketplace.vocabulary import DonationStatus


class EntryType(StrEnum):
    DONATION = "donation"
    ALLOCATION = "allocation"
    REFUND = "refund"
    ADJUSTMENT = "adjustment"


class LedgerError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


@dataclass(frozen=True, slots=True)
class Entry:
    entry_type: EntryType
    amount: int
    """Signed rupiah: in is positive, out negative."""
    donation_id: int | None = None
    allocation_id: int | None = None
    memo: str = ""


def balance(entries: Iterable[Entry]) -> int:
    return sum(e.amount for e in entries)


@dataclass(frozen=True, slots=True)
class DonationState:
    """What the ledger needs to know about one donation; ``counted_*`` are read from its ledger entries."""

    donation_id: int
    amount: int
    status: str = DonationStatus.PENDING
    refunded_reported: int = 0
    counted_in: int = 0
    counted_refund: int = 0


def _reconcile(state: DonationState) -> tuple[DonationState, list[Entry]]:
    if not state.counted_in:
        return state, []
    target = min(state.refunded_reported, state.counted_in)
    delta = target - state.counted_refund
    entries: list[Entry] = []
    if delta > 0:
        entries.append(Entry(EntryType.REFUND, -delta, donation_id=state.donation_id, memo="refund"))
        state = replace(state, counted_refund=state.counted_refund + delta)
    if state.counted_refund >= state.counted_in:
        state = replace(state, status=DonationStatus.REFUNDED)
    return state, entries


def on_completed(state: DonationState) -> tuple[DonationState, list[Entry]]:
    """The payment went through: count the donation in (once) and any refund already reported."""
    entries: list[Entry] = []
    if not state.counted_in:
        entries.append(Entry(EntryType.DONATION, state.amount, donation_id=state.donation_id, memo="donation"))
        state = replace(state, counted_in=state.amount)
    if state.status != DonationStatus.REFUNDED:
        state = replace(state, status=DonationStatus.COMPLETED)
    state, more = _reconcile(state)
    return state, entries + more


def on_refunded(state: DonationState, amount_refunded: int) -> tuple[DonationState, list[Entry]]:
    """The provider reports ``amount_refunded`` refunded so far (cumulative); out-of-order safe."""
    if amount_refunded < 0:
        raise LedgerError("Jumlah refund tidak boleh negatif.")
    reported = max(state.refunded_reported, min(amount_refunded, state.amount))
    state = replace(state, refunded_reported=reported)
    return _reconcile(state)


def on_failed(state: DonationState) -> DonationState:
    """The payment failed: only a pending donation becomes failed; a completed one stays as it is."""
    if state.status == DonationStatus.PENDING:
        return replace(state, status=DonationStatus.FAILED)
    return state


def allocation_out(allocation_id: int, amount: int) -> Entry:
    if amount <= 0:
        raise LedgerError("Jumlah alokasi harus lebih dari nol.")
    return Entry(EntryType.ALLOCATION, -amount, allocation_id=allocation_id, memo="allocation")


def allocation_back(allocation_id: int, amount: int) -> Entry:
    """The money of a cancelled approved allocation comes back to the LKS (same type, opposite sign, so
    what an allocation spent is always the sum of its entries)."""
    if amount <= 0:
        raise LedgerError("Jumlah alokasi harus lebih dari nol.")
    return Entry(EntryType.ALLOCATION, amount, allocation_id=allocation_id, memo="allocation cancelled")


def adjustment(amount: int, memo: str) -> Entry:
    if amount == 0:
        raise LedgerError("Jumlah penyesuaian tidak boleh nol.")
    if len(memo.strip()) < 5:
        raise LedgerError("Keterangan penyesuaian wajib diisi.")
    return Entry(EntryType.ADJUSTMENT, amount, memo=memo.strip())


def receipt_number(year: int, donation_id: int) -> str:
    """Unique because the donation id is: JITU-RCPT-2026-000123."""
    return f"JITU-RCPT-{year}-{donation_id:06d}"

"""Approval of proposed allocations by Dinsos: every rule checked again at the moment of approval.

Between a matching round and its approval the world moves on: other allocations are approved, the
household starts receiving government aid, the need is withdrawn or referred, the LKS closes its offer.
``check_approval`` takes the facts as they are now and refuses, with an Indonesian reason, when any
rule no longer holds. The offer's capacity is re-checked by the database itself (an atomic conditional
decrement), so two officers approving at once never over-commit.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from marketplace.money import rupiah
from marketplace.needs import NeedError, check_transition
from marketplace.vocabulary import AllocationStatus, NeedStatus

APPROVABLE_NEED = frozenset({NeedStatus.VERIFIED, NeedStatus.MATCHED})
CANCELLABLE = frozenset({AllocationStatus.PROPOSED, AllocationStatus.APPROVED})
"""Allocations nothing has been delivered for: revoking the recipient's consent cancels them."""
MIN_REASON = 5


class ApprovalRefused(ValueError):
    """A rule no longer holds; the message is Indonesian and nothing was changed."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True, slots=True)
class ApprovalFacts:
    """What is true now, read inside the approval's transaction. Money is whole rupiah."""

    allocation_id: int
    allocation_status: str
    amount: int
    need_status: str
    need_amount: int
    government_aid: int
    """Aid of the same household, kind and period (summed over programmes)."""
    household_approved: int
    """Other allocations of the household in the period that are approved (or further)."""
    household_cap: int
    offer_status: str
    offer_remaining: int
    """Rupiah for funds, units for goods."""
    unit_value: int
    """Rupiah per unit for goods; 0 for funds."""


def remainder(need_amount: int, government_aid: int) -> int:
    """What is left of a need once government aid is taken off (matching contract v1, rule 1)."""
    return max(need_amount - government_aid, 0)


def capacity_units(amount: int, unit_value: int) -> int:
    """The offer capacity an allocation of ``amount`` rupiah takes: rupiah for funds, whole units for goods."""
    if unit_value <= 0:
        return amount
    return -(-amount // unit_value)


def check_approval(f: ApprovalFacts) -> None:
    """Raise ``ApprovalRefused`` for the first rule that no longer holds."""
    if f.allocation_status != AllocationStatus.PROPOSED:
        raise ApprovalRefused("status", f"Alokasi #{f.allocation_id} sudah diputuskan (status: {f.allocation_status}).")
    if f.need_status not in APPROVABLE_NEED:
        raise ApprovalRefused("need", f"Kebutuhan ini tidak lagi menunggu bantuan (status: {f.need_status}).")
    rest = remainder(f.need_amount, f.government_aid)
    if rest <= 0:
        raise ApprovalRefused("aid", "Kebutuhan ini sudah ditanggung bantuan pemerintah (APBN/APBD) pada periode "
                                     "yang sama; alokasi akan menduplikasi bantuan.")
    if f.amount > rest:
        raise ApprovalRefused("aid", f"Bantuan pemerintah baru mengurangi sisa kebutuhan menjadi {rupiah(rest)}; "
                                     f"alokasi {rupiah(f.amount)} akan menduplikasi bantuan.")
    if f.household_approved + f.amount > f.household_cap:
        raise ApprovalRefused("cap", f"Batas bantuan per keluarga {rupiah(f.household_cap)} per periode akan "
                                     f"terlampaui (sudah disetujui {rupiah(f.household_approved)}).")
    if f.offer_status != "published":
        raise ApprovalRefused("offer", "Penawaran LKS ini tidak lagi terbuka (status: " + f.offer_status + ").")
    if capacity_units(f.amount, f.unit_value) > f.offer_remaining:
        raise ApprovalRefused("capacity", "Sisa kapasitas penawaran LKS tidak cukup untuk alokasi ini.")


def check_rejection(allocation_status: str, reason: str) -> str:
    reason = reason.strip()
    if allocation_status != AllocationStatus.PROPOSED:
        raise ApprovalRefused("status", f"Alokasi sudah diputuskan (status: {allocation_status}).")
    if len(reason) < MIN_REASON:
        raise ApprovalRefused("reason", f"Alasan penolakan wajib diisi (paling sedikit {MIN_REASON} karakter).")
    return reason[:1000]


def end_of_period(period: str) -> date:
    """``2026-11`` → 30 November 2026: the default deliver-by date."""
    year, month = int(period[:4]), int(period[5:7])
    return date(year, month, calendar.monthrange(year, month)[1])



# --- deciding a whole selection ----------------------------------------------------------------------

REFUSAL_LABELS: dict[str, tuple[str, str]] = {
    "need": ("kebutuhan tidak lagi menunggu bantuan", "the need no longer awaits help"),
    "aid": ("sudah ditanggung bantuan pemerintah", "already covered by government aid"),
    "cap": ("batas bantuan per keluarga terlampaui", "household cap exceeded"),
    "offer": ("penawaran LKS tidak lagi terbuka", "the LKS offer is no longer open"),
    "capacity": ("sisa kapasitas penawaran tidak cukup", "not enough capacity left in the offer"),
}
"""Why a row of a selection was refused, by rule (the counts the officer sees)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One allocation of a batch, with the facts about it read (under lock) for the whole batch."""

    allocation_id: int
    allocation_status: str
    household_id: int
    offer_id: int
    amount: int
    need_status: str
    need_amount: int
    government_aid: int


@dataclass(frozen=True, slots=True)
class OfferState:
    status: str
    remaining: int
    unit_value: int
    """Rupiah per unit for goods; 0 for funds."""


@dataclass(frozen=True, slots=True)
class Outcome:
    candidate: Candidate
    result: str
    """``approved`` | ``refused`` | ``skipped`` (already decided)."""
    units: int = 0
    rule: str = ""
    message: str = ""


def decide_batch(candidates: list[Candidate], household_approved: dict[int, int], offers: dict[int, OfferState],
                 household_cap: int) -> list[Outcome]:
    """Approve a batch row by row with the same rules as a single approval, in the order given.

    The running totals make the rows of the batch count against each other: what an earlier row takes of
    an offer or of a household's cap is no longer there for a later one; a refused row takes nothing.
    ``household_approved`` is what each household already has approved in the period (outside the batch).
    """
    approved = dict(household_approved)
    remaining = {oid: o.remaining for oid, o in offers.items()}
    outcomes: list[Outcome] = []
    for c in candidates:
        if c.allocation_status != AllocationStatus.PROPOSED:
            outcomes.append(Outcome(c, "skipped"))
            continue
        offer = offers[c.offer_id]
        facts = ApprovalFacts(
            allocation_id=c.allocation_id, allocation_status=c.allocation_status, amount=c.amount,
            need_status=c.need_status, need_amount=c.need_amount, government_aid=c.government_aid,
            household_approved=approved.get(c.household_id, 0), household_cap=household_cap,
            offer_status=offer.status, offer_remaining=remaining[c.offer_id], unit_value=offer.unit_value,
        )
        try:
            check_approval(facts)
            check_transition(c.need_status, NeedStatus.APPROVED)
        except ApprovalRefused as exc:
            outcomes.append(Outcome(c, "refused", rule=exc.rule, message=str(exc)))
            continue
        except NeedError as exc:  # the registry's state machine: only a matched need is approved
            outcomes.append(Outcome(c, "refused", rule="need", message=str(exc)))
            continue
        units = capacity_units(c.amount, offer.unit_value)
        remaining[c.offer_id] -= units
        approved[c.household_id] = approved.get(c.household_id, 0) + c.amount
        outcomes.append(Outcome(c, "approved", units=units))
    return outcomes


def check_cancellation(status: str) -> None:
    """An allocation is cancelled (the recipient revoked consent) only before anything was delivered:
    proposed (the round's offer, never decided) or approved (capacity and, for funds, money committed,
    which the cancellation gives back)."""
    if status not in CANCELLABLE:
        raise ApprovalRefused("status", f"Alokasi berstatus {status} tidak dapat dibatalkan.")

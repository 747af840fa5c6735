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
from marketplace.vocabulary import AllocationStatus, NeedStatus

APPROVABLE_NEED = frozenset({NeedStatus.VERIFIED, NeedStatus.MATCHED})
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


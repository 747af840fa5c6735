"""Reminders and notices, the pure rules: the kinds a person may choose to receive, in the portal and by
e-mail; what is due soon or overdue; and the key that makes each reminder go out once.

Deliveries are due on their allocation's ``deliver_by`` date (set when Dinsos approves: the end of the
period, ``marketplace.approval.end_of_period``). One reminder per LKS and due date ("5 penyaluran jatuh
tempo 30-11-2026"), not one per household, so a big LKS is not flooded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

DUE_SOON_DAYS = 3


class Kind:
    DELIVERY_DUE = "delivery_due"
    DELIVERY_OVERDUE = "delivery_overdue"
    REPORT_DUE = "report_due"
    DECISION = "decision"


KINDS: dict[str, str] = {
    Kind.DELIVERY_DUE: "Penyaluran jatuh tempo dalam tiga hari",
    Kind.DELIVERY_OVERDUE: "Penyaluran yang terlambat",
    Kind.REPORT_DUE: "Laporan berkala yang jatuh tempo atau terlambat",
    Kind.DECISION: "Keputusan Dinas Sosial (alokasi dan laporan)",
}
CHANNELS = ("portal", "email")


@dataclass(frozen=True, slots=True)
class Choice:
    portal: bool = True
    email: bool = True


def choices(stored: Mapping[str, tuple[bool, bool]]) -> dict[str, Choice]:
    """Every kind, with what the person chose; a kind never chosen is on for both channels."""
    return {kind: Choice(*stored[kind]) if kind in stored else Choice() for kind in KINDS}


def parse_choices(checked: set[str]) -> dict[str, Choice]:
    """From the preferences form: a checkbox named ``KIND:CHANNEL`` per kind and channel."""
    unknown = {c for c in checked if c.partition(":")[0] not in KINDS or c.partition(":")[2] not in CHANNELS}
    if unknown:
        raise ValueError("Pilihan pemberitahuan tidak dikenal.")
    return {kind: Choice(f"{kind}:portal" in checked, f"{kind}:email" in checked) for kind in KINDS}


def delivery_kind(deliver_by: date, today: date) -> str | None:
    """Which reminder an undelivered allocation calls for today, if any."""
    if deliver_by < today:
        return Kind.DELIVERY_OVERDUE
    if deliver_by <= today + timedelta(days=DUE_SOON_DAYS):
        return Kind.DELIVERY_DUE
    return None


def delivery_message(kind: str, count: int, deliver_by: date) -> str:
    if kind == Kind.DELIVERY_OVERDUE:
        return (f"{count} penyaluran melewati batas waktu {deliver_by:%d-%m-%Y} dan belum dicatat. "
                "Salurkan dan catat segera, atau hubungi Dinas Sosial.")
    return f"{count} penyaluran jatuh tempo {deliver_by:%d-%m-%Y}. Catat penyalurannya sebelum tanggal itu."


def report_message(period: str, due: date, overdue: bool, paused: bool) -> str:
    if paused:
        return (f"Laporan berkala periode {period} terlambat sejak {due:%d-%m-%Y}: penawaran baru LKS dihentikan "
                "sementara sampai laporan dikirim.")
    if overdue:
        return f"Laporan berkala periode {period} terlambat (jatuh tempo {due:%d-%m-%Y}). Kirim segera."
    return f"Laporan berkala periode {period} jatuh tempo {due:%d-%m-%Y}."


def report_stage(overdue: bool, paused: bool) -> str:
    """A missing report is reminded of once per stage: due, overdue, paused."""
    return "paused" if paused else "overdue" if overdue else "due"


def decision_message(period: str, approved: bool, note: str) -> str:
    if approved:
        return f"Dinas Sosial menyetujui laporan berkala periode {period}; laporan tampil di halaman publik LKS."
    return f"Dinas Sosial mengembalikan laporan berkala periode {period} untuk diperbaiki: {note}"


def reminder_key(kind: str, *parts: object) -> str:
    """The once-only key of a reminder (the same event never reminds the same person twice)."""
    return ":".join([kind, *(str(p) for p in parts)])[:200]

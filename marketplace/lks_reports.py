"""An LKS's periodic report, the pure rules: per period it states what it delivered, what not and why,
and confirms its fund balance; Dinsos approves or rejects it (with a reason). Minimal by design: issue 14
adds deadlines and pausing an LKS that does not report."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PERIOD_RE = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")


class ReportStatus:
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"


class ReportError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class ReportInvalid(ReportError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class ReportInput:
    period: str
    delivered_summary: str
    not_delivered: str


def parse_report(fields: dict[str, str], today: date) -> ReportInput:
    errors: dict[str, str] = {}
    period = fields.get("period", "").strip()
    if not PERIOD_RE.fullmatch(period):
        errors["period"] = "Periode harus berformat TTTT-BB, misalnya 2026-11."
    elif period > f"{today.year:04d}-{today.month:02d}":
        errors["period"] = "Periode laporan tidak boleh di masa depan."
    delivered = fields.get("delivered_summary", "").strip()
    if not 3 <= len(delivered) <= 2000:
        errors["delivered_summary"] = "Jelaskan apa yang sudah disalurkan (3 sampai 2000 karakter)."
    missing = fields.get("not_delivered", "").strip()
    if len(missing) > 2000:
        errors["not_delivered"] = "Penjelasan yang belum disalurkan paling banyak 2000 karakter."
    if fields.get("balance_confirmed") != "on":
        errors["balance_confirmed"] = "Konfirmasi saldo kas LKS wajib dicentang."
    if errors:
        raise ReportInvalid(errors)
    return ReportInput(period, delivered, missing)


def may_submit(existing_status: str | None) -> None:
    """One report per LKS and period; a rejected one may be sent again, an approved one is final."""
    if existing_status == ReportStatus.APPROVED:
        raise ReportError("Laporan periode ini sudah disetujui Dinas Sosial.")
    if existing_status == ReportStatus.SUBMITTED:
        raise ReportError("Laporan periode ini sudah dikirim dan menunggu keputusan Dinas Sosial.")


def decide(status: str, action: str, note: str) -> tuple[str, str]:
    if status != ReportStatus.SUBMITTED:
        raise ReportError("Laporan ini sudah diputuskan.")
    note = note.strip()
    if action == "approve":
        return ReportStatus.APPROVED, note[:1000]
    if action == "reject":
        if len(note) < 5:
            raise ReportError("Tuliskan alasan penolakan (paling sedikit 5 karakter).")
        return ReportStatus.REJECTED, note[:1000]
    raise ReportError("Keputusan tidak dikenal.")

"""An LKS's periodic report, the pure rules: per period (a month) it states what it delivered, what not and
why, adds up to three photos (no faces, or with the consent of those shown), and confirms its fund balance
against its ledger; Dinsos approves it or returns it (with a reason).

Deadlines (issue 14): the report of a period is due ``REPORT_DUE_DAYS`` days after the period ends; a
returned report is due again that many days after it was returned, if that is later. A report not in by
its due date is *overdue* (flagged to Dinsos); past the grace period Dinsos sets (``ReportPolicy``) the
LKS is *paused*: it may not create or publish offers, and matching rounds leave its offers out, until it
sends the report (a submitted report lifts the pause; it need not be approved yet). Reports are required
from the policy's first period, and never for a period before the LKS was verified."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.approval import end_of_period

PERIOD_RE = re.compile(r"^(20[0-9]{2})-(0[1-9]|1[0-2])$")
MAX_PHOTOS = 3
GRACE_MAX = 90


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


def parse_report(fields: dict[str, str], today: date, photos: int = 0, ledger_balance: int | None = None
                 ) -> ReportInput:
    """``photos``: how many photos come with it; ``ledger_balance``: the ledger's balance now, which must
    still be the one the LKS saw and confirmed (``fund_balance_seen``)."""
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
    elif ledger_balance is not None and fields.get("fund_balance_seen", "").strip() != str(ledger_balance):
        errors["balance_confirmed"] = ("Saldo kas di buku kas LKS berubah sejak halaman ini dibuka; periksa saldo "
                                       "terbaru lalu konfirmasi lagi.")
    if photos > MAX_PHOTOS:
        errors["photos"] = f"Paling banyak {MAX_PHOTOS} foto per laporan."
    elif photos and fields.get("photo_consent") != "on":
        errors["photo_consent"] = ("Centang pernyataan bahwa foto tidak menampilkan wajah, atau orang yang tampak "
                                   "sudah memberi persetujuan.")
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
    if action in ("reject", "return"):
        if len(note) < 5:
            raise ReportError("Tuliskan alasan pengembalian laporan (paling sedikit 5 karakter).")
        return ReportStatus.REJECTED, note[:1000]
    raise ReportError("Keputusan tidak dikenal.")


# --- deadlines and the pause of offers ---------------------------------------------------------------

class OffersPaused(ReportError):
    """Creating or publishing an offer while the LKS's reports are overdue past the grace period."""


@dataclass(frozen=True, slots=True)
class Policy:
    due_days: int
    """Days after a period ends that its report is due (setting ``REPORT_DUE_DAYS``)."""
    grace_days: int
    """Days after the due date before new offers are paused (set by Dinsos)."""
    first_period: str
    """The first period whose report is required."""


@dataclass(frozen=True, slots=True)
class Missing:
    period: str
    due: date
    overdue: bool
    paused: bool


@dataclass(frozen=True, slots=True)
class Standing:
    missing: tuple[Missing, ...]

    @property
    def overdue(self) -> tuple[Missing, ...]:
        return tuple(m for m in self.missing if m.overdue)

    @property
    def paused(self) -> bool:
        return any(m.paused for m in self.missing)

    def pause_message(self) -> str:
        late = [m for m in self.missing if m.paused]
        periods = ", ".join(f"{m.period} (jatuh tempo {m.due:%d-%m-%Y})" for m in late)
        return (f"Penawaran baru LKS ini dihentikan sementara karena laporan berkala terlambat: {periods}. "
                "Kirim laporannya di menu Laporan berkala; setelah itu penawaran bisa dibuat dan diterbitkan lagi.")


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_period(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


def report_due(period: str, due_days: int) -> date:
    return end_of_period(period) + timedelta(days=due_days)


def required_periods(first_period: str, verified_on: date | None, today: date) -> Iterator[str]:
    """The periods that have ended (before ``today``) and need a report: from the policy's first period,
    and from the month the LKS was verified (an unverified LKS reports nothing)."""
    if verified_on is None:
        return
    period = max(first_period, period_of(verified_on))
    while end_of_period(period) < today:
        yield period
        period = next_period(period)


def deadline(period: str, due_days: int, status: str | None, returned_on: date | None) -> date:
    due = report_due(period, due_days)
    if status == ReportStatus.REJECTED and returned_on is not None:
        due = max(due, returned_on + timedelta(days=due_days))
    return due


def standing(policy: Policy, verified_on: date | None, reports: Mapping[str, tuple[str, date | None]],
             today: date) -> Standing:
    """Which reports are missing (``reports``: period → (status, returned or decided on)), which of them
    are overdue, and whether the LKS's offers are paused."""
    missing: list[Missing] = []
    for period in required_periods(policy.first_period, verified_on, today):
        status, decided_on = reports.get(period, (None, None))
        if status in (ReportStatus.SUBMITTED, ReportStatus.APPROVED):
            continue
        due = deadline(period, policy.due_days, status, decided_on)
        missing.append(Missing(period, due, today > due, today > due + timedelta(days=policy.grace_days)))
    return Standing(tuple(missing))


def check_may_offer(state: Standing) -> None:
    if state.paused:
        raise OffersPaused(state.pause_message())


def parse_grace(raw: str) -> int:
    value = raw.strip()
    if not value.isdigit() or not 0 <= int(value) <= GRACE_MAX:
        raise ReportError(f"Masa tenggang harus bilangan bulat 0 sampai {GRACE_MAX} hari.")
    return int(value)

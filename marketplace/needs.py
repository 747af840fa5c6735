"""The status machine of a need, and the rules around it (pure).

submitted → assessed → verified → matched → approved → delivered → confirmed; from submitted,
assessed or verified a need may be rejected (with a reason) or referred to another office. A case
above ``DINSOS_THRESHOLD`` rupiah is referred to Dinsos itself (its hospital route). A referred need
leaves ``referred`` when its referral ends (``marketplace/referrals.py``): resolved when the office
closed it, or back to the status it had before (a verified need back to the matching pool). Illegal
transitions raise ``NeedError`` with an Indonesian message.

When the applicant revokes consent, every need of the request not yet delivered (``UNDELIVERED``, also
matched, approved or referred ones) is stopped: rejected with the reason ``WITHDRAWN_REASON``
(``check_withdrawal``); the allocation or referral it waits on is cancelled by its own feature.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from marketplace.money import rupiah
from marketplace.referrals import OFFICES
from marketplace.vocabulary import SENSITIVE_PPKS, NeedStatus

S = NeedStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ASSESSED, S.REJECTED, S.REFERRED}),
    S.ASSESSED: frozenset({S.VERIFIED, S.REJECTED, S.REFERRED}),
    S.VERIFIED: frozenset({S.MATCHED, S.REJECTED, S.REFERRED}),
    S.MATCHED: frozenset({S.APPROVED, S.VERIFIED}),  # back to verified when Dinsos rejects the allocation
    S.APPROVED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.CONFIRMED}),
    S.CONFIRMED: frozenset(),
    S.REJECTED: frozenset(),
    S.REFERRED: frozenset({S.RESOLVED, S.SUBMITTED, S.ASSESSED, S.VERIFIED}),
    S.RESOLVED: frozenset(),
}
OPEN_STATUSES = frozenset({S.SUBMITTED, S.ASSESSED, S.VERIFIED, S.MATCHED, S.APPROVED})
UNDELIVERED = frozenset({S.SUBMITTED, S.ASSESSED, S.VERIFIED, S.MATCHED, S.APPROVED, S.REFERRED})
"""Needs that revoking consent stops: nothing has been delivered for them yet."""
WITHDRAWN_REASON = "Persetujuan dicabut pemohon"
WITHDRAWN_NOTE = "Dihentikan: persetujuan dicabut pemohon"
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "submitted": ("Diajukan", "Submitted"),
    "assessed": ("Diasesmen pekerja sosial", "Assessed"),
    "verified": ("Diverifikasi Dinas Sosial", "Verified"),
    "matched": ("Dipasangkan dengan LKS", "Matched"),
    "approved": ("Disetujui", "Approved"),
    "delivered": ("Bantuan disalurkan", "Delivered"),
    "confirmed": ("Diterima dan dikonfirmasi", "Confirmed"),
    "rejected": ("Ditolak", "Rejected"),
    "referred": ("Dirujuk", "Referred"),
    "resolved": ("Selesai ditangani instansi rujukan", "Resolved by the referral office"),
}
REFERRAL_OFFICES: dict[str, str] = {o.code: o.name for o in OFFICES}
"""Office code → name; the offices (with their service levels) are in ``marketplace/referrals.py``."""
DINSOS_THRESHOLD = 50_000_000
"""Rupiah above which a case is too large for the kelurahan and goes to Dinsos itself."""
TICKET_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I
TICKET_PREFIX = "JITU-"


class NeedError(ValueError):
    """A user-caused problem with a need; the message is Indonesian."""


def label(status: str, lang: str = "id") -> str:
    pair = STATUS_LABELS.get(status, (status, status))
    return pair[0] if lang == "id" else pair[1]


@dataclass(frozen=True, slots=True)
class Transition:
    from_status: str
    to_status: str
    reason: str = ""
    referral_office: str = ""


def check_transition(current: str, target: str, *, reason: str = "", office: str = "",
                     amount: int = 0) -> Transition:
    if target not in TRANSITIONS:
        raise NeedError(f"Status tidak dikenal: {target}")
    if target not in TRANSITIONS.get(current, frozenset()):
        raise NeedError(f"Perubahan status dari '{label(current)}' ke '{label(target)}' tidak diperbolehkan")
    if target == S.REJECTED and not reason.strip():
        raise NeedError("Alasan penolakan wajib diisi")
    if target == S.REFERRED:
        if office not in REFERRAL_OFFICES:
            raise NeedError("Pilih instansi rujukan yang dikenal")
        if office != "dinsos" and amount > DINSOS_THRESHOLD:
            raise NeedError("Kasus di atas Rp 50.000.000 dirujuk ke Dinas Sosial sendiri")
    return Transition(current, target, reason.strip(), office if target == S.REFERRED else "")


def check_withdrawal(current: str) -> Transition:
    """The applicant revoked consent: a need not yet delivered is stopped (rejected); a delivered,
    confirmed or closed one is history and stays."""
    if current not in UNDELIVERED:
        raise NeedError(f"Kebutuhan berstatus '{label(current)}' tidak lagi dapat dihentikan")
    return Transition(current, S.REJECTED, WITHDRAWN_REASON)


def suggested_referral(amount: int) -> str | None:
    """Cases above the threshold belong to Dinsos itself."""
    return "dinsos" if amount > DINSOS_THRESHOLD else None


def public_note(transition: Transition) -> str:
    """The note on the public timeline: never a name, NIK, address or the reason's free text."""
    if transition.to_status == S.REFERRED:
        return f"Dirujuk ke {REFERRAL_OFFICES[transition.referral_office]}"
    if transition.to_status == S.REJECTED:
        return "Permohonan tidak dapat dilanjutkan; hubungi Puskesos kelurahan Anda"
    return label(transition.to_status)


def public_ppks(ppks: int, names: dict[int, str]) -> str:
    """The PPKS type for the public page, hidden when its mere mention is sensitive."""
    return "(dirahasiakan)" if ppks in SENSITIVE_PPKS else names.get(ppks, str(ppks))


def new_ticket_code() -> str:
    return TICKET_PREFIX + "".join(secrets.choice(TICKET_ALPHABET) for _ in range(10))


def normalise_ticket(text: str) -> str:
    code = text.strip().upper().replace(" ", "")
    if not code.startswith(TICKET_PREFIX):
        code = TICKET_PREFIX + code
    return code


def refuse_second_open_need(open_kinds: Iterable[str], kind: str) -> None:
    if kind in set(open_kinds):
        raise NeedError("Keluarga ini sudah memiliki kebutuhan terbuka dengan jenis intervensi yang sama")


@dataclass(frozen=True, slots=True)
class Coverage:
    """Government aid that already covers a need for its household, kind and period."""

    programs: tuple[tuple[str, int], ...]  # (programme code, rupiah)
    covered: int
    remainder: int

    @property
    def duplicated(self) -> bool:
        return self.covered > 0

    def explain(self) -> str:
        if not self.programs:
            return ""
        parts = ", ".join(f"{code} {rupiah(amount)}" for code, amount in self.programs)
        return f"Sudah ditanggung bantuan pemerintah: {parts}; sisa yang belum tertanggung {rupiah(self.remainder)}"



def coverage(amount: int, aid: Iterable[tuple[str, int]]) -> Coverage:
    """``aid``: (programme, amount) of the same household, kind and period."""
    programs = tuple(sorted(aid))
    covered = sum(a for _, a in programs)
    return Coverage(programs, min(covered, amount), max(amount - covered, 0))

"""Referrals to other offices (SLRT, "one door"): the offices, the least data each may see, and the state
machine of a referral (pure; tested without a database).

A need referred to an office gets one open ``Referral``. The office answers:

    sent ──accept──> accepted ──complete──> completed
      │ └─ask_info─> info_requested ──answer──> (back to sent or accepted)
      └──return──> returned   (also from accepted and info_requested)

    any open referral ──withdraw──> withdrawn   (the applicant revoked consent; the office sees no
                                                 personal data of it any more)

A completed referral either closes the need (``resolved``) or sends it back to where it was before it was
referred (a verified need goes back to the matching pool); a returned one sends it back the same way, so
Dinsos can refer it elsewhere. Every step has a plain-words public note for the requester's tracking page
(never free text, never personal data). The service level (days) runs from sending and pauses while the
office waits for information.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from marketplace.vocabulary import NeedStatus


class ReferralError(ValueError):
    """A user-caused problem with a referral; the message is Indonesian and nothing was changed."""


@dataclass(frozen=True, slots=True)
class OfficeInfo:
    code: str
    short_name: str
    name: str
    service_days: int
    shares: frozenset[str]
    """The personal data shared by default: what this office needs to act, nothing more."""


# Shareable personal data (beyond the kelurahan, the need's kind and amount, which every office sees).
SHAREABLE: dict[str, tuple[str, str]] = {
    "name": ("Nama kepala keluarga", "Name of the household head"),
    "nik": ("NIK kepala keluarga (utuh)", "NIK of the household head (whole)"),
    "birth_date": ("Tanggal lahir kepala keluarga", "Birth date of the household head"),
    "address": ("Alamat, RT/RW", "Address, RT/RW"),
    "phone": ("Nomor telepon", "Phone number"),
    "members": ("Anggota keluarga (nama, umur)", "Household members (name, age)"),
}

OFFICES: tuple[OfficeInfo, ...] = (
    OfficeInfo("kesehatan", "Dinkes", "Dinas Kesehatan (kesehatan dan BPJS)", 7,
               frozenset({"name", "nik", "birth_date", "phone"})),
    OfficeInfo("pppa", "DP3A", "Dinas Pemberdayaan Perempuan dan Perlindungan Anak (DP3A)", 3,
               frozenset({"name", "address", "phone", "members"})),
    OfficeInfo("dukcapil", "Disdukcapil", "Dinas Kependudukan dan Pencatatan Sipil (dokumen kependudukan)", 14,
               frozenset({"name", "nik", "birth_date", "address"})),
    OfficeInfo("perumahan", "Disperkim", "Dinas Perumahan dan Kawasan Permukiman (rutilahu)", 30,
               frozenset({"name", "address", "phone"})),
    OfficeInfo("ketenagakerjaan", "Disnaker", "Dinas Tenaga Kerja (pekerjaan)", 14,
               frozenset({"name", "phone"})),
    OfficeInfo("perhubungan", "Dishub", "Dinas Perhubungan (transportasi)", 14,
               frozenset({"name", "phone"})),
    OfficeInfo("pendidikan", "Disdik", "Dinas Pendidikan (sekolah)", 14,
               frozenset({"name", "members"})),
    OfficeInfo("dinsos", "RS via Dinsos", "Rujukan rumah sakit melalui Dinas Sosial (kasus di atas Rp 50 juta)", 3,
               frozenset({"name", "nik", "birth_date", "phone"})),
)
OFFICE_BY_CODE: dict[str, OfficeInfo] = {o.code: o for o in OFFICES}
MAX_SERVICE_DAYS = 365


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    INFO_REQUESTED = "info_requested"
    COMPLETED = "completed"
    RETURNED = "returned"
    WITHDRAWN = "withdrawn"


R = ReferralStatus
OPEN = frozenset({R.SENT, R.ACCEPTED, R.INFO_REQUESTED})
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "sent": ("Menunggu tanggapan instansi", "Waiting for the office"),
    "accepted": ("Sedang ditangani instansi", "Being handled by the office"),
    "info_requested": ("Instansi meminta keterangan tambahan", "The office asked for more information"),
    "completed": ("Selesai ditangani", "Completed"),
    "returned": ("Dikembalikan ke Dinas Sosial", "Returned to the social office"),
    "withdrawn": ("Dihentikan: persetujuan dicabut pemohon", "Stopped: the applicant revoked consent"),
}


class Action(StrEnum):
    ACCEPT = "accept"
    ASK_INFO = "ask_info"
    ANSWER = "answer"
    COMPLETE = "complete"
    RETURN = "return"


OFFICE_ACTIONS = frozenset({Action.ACCEPT, Action.ASK_INFO, Action.COMPLETE, Action.RETURN})
"""Taken by the staff of the referral's office; ``answer`` is taken by Dinsos or the social worker."""

ALLOWED_FROM: dict[str, frozenset[str]] = {
    Action.ACCEPT: frozenset({R.SENT}),
    Action.ASK_INFO: frozenset({R.SENT, R.ACCEPTED}),
    Action.ANSWER: frozenset({R.INFO_REQUESTED}),
    Action.COMPLETE: frozenset({R.ACCEPTED}),
    Action.RETURN: frozenset({R.SENT, R.ACCEPTED, R.INFO_REQUESTED}),
}


class Resolution(StrEnum):
    CLOSE = "close"
    """The office's help was enough: the need is resolved."""
    POOL = "pool"
    """Still needs help: the need goes back to where it was (a verified need to the matching pool)."""


RESOLUTION_LABELS: dict[str, tuple[str, str]] = {
    "close": ("Kebutuhan selesai (ditutup)", "Need resolved (closed)"),
    "pool": ("Masih perlu bantuan: kembali ke antrean bantuan LKS", "Still needs help: back to the LKS matching pool"),
}


def label(status: str, lang: str = "id") -> str:
    pair = STATUS_LABELS.get(status, (status, status))
    return pair[0] if lang == "id" else pair[1]


def office(code: str) -> OfficeInfo:
    try:
        return OFFICE_BY_CODE[code]
    except KeyError:
        raise ReferralError("Pilih instansi rujukan yang dikenal") from None


def check_service_days(days: int) -> int:
    if not 1 <= days <= MAX_SERVICE_DAYS:
        raise ReferralError(f"Batas layanan harus 1 sampai {MAX_SERVICE_DAYS} hari")
    return days


@dataclass(frozen=True, slots=True)
class NewReferral:
    office: str
    what_needed: str
    reason: str
    shared: tuple[str, ...]
    evidence: tuple[int, ...]


def check_new(office_code: str, what_needed: str, reason: str, shared: list[str] | tuple[str, ...] | None,
              evidence: list[int] | tuple[int, ...], available_evidence: set[int], need_status: str) -> NewReferral:
    """What the referrer writes, checked: the office, what is needed and why, the personal data to share
    (the office's defaults when ``shared`` is None), and evidence files of this need only."""
    info = office(office_code)
    if need_status not in (NeedStatus.SUBMITTED, NeedStatus.ASSESSED, NeedStatus.VERIFIED):
        raise ReferralError("Hanya kebutuhan yang belum dipasangkan yang dapat dirujuk")
    what, why = what_needed.strip(), reason.strip()
    if not 5 <= len(what) <= 1000:
        raise ReferralError("Tuliskan apa yang dibutuhkan dari instansi (5 sampai 1000 karakter)")
    if not 5 <= len(why) <= 2000:
        raise ReferralError("Tuliskan alasan rujukan (5 sampai 2000 karakter)")
    fields = sorted(info.shares if shared is None else set(shared))
    unknown = [f for f in fields if f not in SHAREABLE]
    if unknown:
        raise ReferralError("Data yang dibagikan tidak dikenal: " + ", ".join(unknown))
    files = sorted(set(evidence))
    if any(f not in available_evidence for f in files):
        raise ReferralError("Berkas bukti tidak termasuk kebutuhan ini")
    return NewReferral(info.code, what, why, tuple(fields), tuple(files))


def due_on(sent_on: date, service_days: int) -> date:
    return sent_on + timedelta(days=service_days)


def is_overdue(status: str, due: date, today: date) -> bool:
    """Open past its service level; the office and Dinsos see the flag."""
    return status in OPEN and today > due


def days_left(due: date, today: date) -> int:
    return (due - today).days


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    from_status: str
    to_status: str
    text: str
    """What the office did, its question or its reason, or Dinsos's answer (internal, never public)."""
    resolution: str = ""
    need_to: str = ""
    """The need's new status, or "" when it stays referred."""


def step(status: str, action: str, *, text: str = "", resolution: str = "", accepted: bool = False,
         need_before: str = NeedStatus.VERIFIED) -> Step:
    """One step of the referral state machine, checked; ``accepted``: the office had accepted it before it
    asked for information (so answering takes it back to ``accepted``); ``need_before``: the need's status
    before it was referred."""
    try:
        act = Action(action)
    except ValueError:
        raise ReferralError("Tindakan rujukan tidak dikenal") from None
    if status not in ALLOWED_FROM[act]:
        raise ReferralError(f"Rujukan dengan status '{label(status)}' tidak dapat di-{_verb(act)}")
    text = text.strip()
    back = need_before if need_before in (NeedStatus.SUBMITTED, NeedStatus.ASSESSED, NeedStatus.VERIFIED) \
        else NeedStatus.VERIFIED
    if act == Action.ACCEPT:
        return Step(act, status, R.ACCEPTED, text[:1000])
    if act == Action.ASK_INFO:
        if len(text) < 5:
            raise ReferralError("Tuliskan keterangan yang diminta (paling sedikit 5 karakter)")
        return Step(act, status, R.INFO_REQUESTED, text[:2000])
    if act == Action.ANSWER:
        if len(text) < 2:
            raise ReferralError("Tuliskan jawaban untuk instansi")
        return Step(act, status, R.ACCEPTED if accepted else R.SENT, text[:2000])
    if act == Action.COMPLETE:
        if len(text) < 5:
            raise ReferralError("Tuliskan apa yang sudah dilakukan instansi (paling sedikit 5 karakter)")
        if resolution not in (Resolution.CLOSE, Resolution.POOL):
            raise ReferralError("Pilih apakah kebutuhan selesai atau masih perlu bantuan")
        need_to = NeedStatus.RESOLVED if resolution == Resolution.CLOSE else back
        return Step(act, status, R.COMPLETED, text[:2000], resolution, need_to)
    if len(text) < 5:
        raise ReferralError("Tuliskan alasan pengembalian (paling sedikit 5 karakter)")
    return Step(act, status, R.RETURNED, text[:2000], "", back)


def check_withdrawal(status: str) -> None:
    """Only an open referral is withdrawn; a completed or returned one is history."""
    if status not in OPEN:
        raise ReferralError(f"Rujukan dengan status '{label(status)}' sudah selesai")


def _verb(action: Action) -> str:
    return {"accept": "terima", "ask_info": "mintai keterangan", "answer": "jawab", "complete": "selesaikan",
            "return": "kembalikan"}[action]


def extended_due(due: date, asked_on: date, answered_on: date) -> date:
    """The service level pauses while the office waits for information."""
    return due + timedelta(days=max((answered_on - asked_on).days, 0))


def public_note(action: str, office_short: str, resolution: str = "") -> str:
    """Plain words for the requester's tracking page: the office's short name, never free text."""
    if action == "create":
        return f"Dirujuk ke {office_short}; instansi akan menindaklanjuti"
    if action == Action.ACCEPT:
        return f"Rujukan diterima {office_short} dan sedang ditangani"
    if action == Action.ASK_INFO:
        return f"{office_short} memerlukan keterangan tambahan; petugas akan menghubungi Anda"
    if action == Action.ANSWER:
        return f"Keterangan tambahan sudah dikirim ke {office_short}"
    if action == Action.COMPLETE:
        if resolution == Resolution.CLOSE:
            return f"Selesai ditangani {office_short}; kebutuhan Anda dinyatakan selesai"
        return f"Selesai ditangani {office_short}; kebutuhan Anda dilanjutkan ke antrean bantuan"
    if action == "withdraw":
        return f"Rujukan ke {office_short} dihentikan: persetujuan dicabut pemohon"
    return f"{office_short} mengembalikan rujukan ke Dinas Sosial untuk ditindaklanjuti"

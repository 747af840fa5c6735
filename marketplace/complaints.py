"""Complaints (pengaduan): categories, the state machine Dinsos moves a complaint through, and what the
complainant sees by ticket (pure; tested without a database).

    filed ──triage──> triaged ──assign──> assigned ──answer──> answered ──close──> closed
      │                  │                   ↑  ↺ reassign        │
      └──────close───────┴──(not actionable) └──────reassign──────┘

(An assigned complaint can be passed on again, so one that its office or LKS leaves unanswered is not
stuck there.)

Closing before an answer needs a reason (duplicate, not a complaint, ...) and that reason is the
complainant's answer. Every step has a public note in plain words; the answer is written for the
complainant and shown on the ticket page, so it must not carry anyone's personal data (the form says so).

A complaint assigned to an office or an LKS is answered by that office's or LKS's staff
(``assignee_step``): it becomes ``answered``, and Dinsos reads the answer and closes the complaint (keeping
the answer or writing the final one) or passes it on again. Until Dinsos closes it, the complainant sees
that an answer came but not its text (``public_answer``): what reaches the complainant is Dinsos's word.
The assignee never sees the complainant's name, contact, ticket or attachments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from marketplace.referrals import OFFICE_BY_CODE


class ComplaintError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class ComplaintInvalid(ComplaintError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


CATEGORIES: dict[str, tuple[str, str]] = {
    "pungutan": ("Bantuan dipotong atau dimintai uang", "Aid cut or money asked for"),
    "salah_sasaran": ("Salah sasaran penerima", "Wrong targeting"),
    "tidak_diterima": ("Bantuan tidak diterima", "Delivery not received"),
    "data_salah": ("Data salah", "Data error"),
    "pelayanan": ("Perilaku petugas atau pelayanan", "Service conduct"),
    "lainnya": ("Lainnya", "Other"),
}


class ComplaintStatus(StrEnum):
    FILED = "filed"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    ANSWERED = "answered"
    CLOSED = "closed"


C = ComplaintStatus
STATUS_LABELS: dict[str, tuple[str, str]] = {
    C.FILED: ("Diterima", "Received"),
    C.TRIAGED: ("Diperiksa Dinas Sosial", "Checked by the social office"),
    C.ASSIGNED: ("Sedang ditindaklanjuti", "Being handled"),
    C.ANSWERED: ("Dijawab", "Answered"),
    C.CLOSED: ("Selesai", "Closed"),
}
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "triage": (frozenset({C.FILED}), C.TRIAGED),
    "assign": (frozenset({C.TRIAGED, C.ASSIGNED, C.ANSWERED}), C.ASSIGNED),
    "answer": (frozenset({C.ASSIGNED}), C.ANSWERED),
    "close": (frozenset({C.FILED, C.TRIAGED, C.ANSWERED}), C.CLOSED),
}
ASSIGNEE_KINDS = ("office", "lks", "dinsos")
COMPLAINT_OFFICES = tuple(code for code in OFFICE_BY_CODE if code != "dinsos")
"""Offices a complaint can be passed to; Dinsos itself is the ``dinsos`` assignee, not an office."""
FILE_LIMIT = 10
"""Complaints per client IP per minute."""
MAX_FILES = 3
CONTACT_RE = re.compile(r"^(\+?[0-9]{8,15}|[^@\s]{1,64}@[^@\s]{1,180}\.[A-Za-z]{2,})$")


def label(status: str, lang: str = "id") -> str:
    pair = STATUS_LABELS.get(status, (status, status))
    return pair[0] if lang == "id" else pair[1]


def category_label(code: str, lang: str = "id") -> str:
    pair = CATEGORIES.get(code, (code, code))
    return pair[0] if lang == "id" else pair[1]


@dataclass(frozen=True, slots=True)
class ComplaintInput:
    category: str
    description: str
    anonymous: bool
    name: str
    contact: str
    kelurahan_code: str
    lks_id: int | None


def parse_complaint(fields: dict[str, str], known_kelurahan: set[str], known_lks: set[int]) -> ComplaintInput:
    """Validate the public form; one Indonesian message per field."""
    errors: dict[str, str] = {}
    category = fields.get("category", "").strip()
    if category not in CATEGORIES:
        errors["category"] = "Pilih kategori pengaduan."
    description = fields.get("description", "").strip()
    if not 20 <= len(description) <= 4000:
        errors["description"] = "Ceritakan pengaduan Anda (20 sampai 4000 karakter)."
    anonymous = fields.get("anonymous", "") == "1"
    name = " ".join(fields.get("name", "").split())
    contact = fields.get("contact", "").strip().replace(" ", "")
    if anonymous:
        name, contact = "", ""
    else:
        if not 2 <= len(name) <= 120:
            errors["name"] = "Isi nama Anda, atau pilih mengadu tanpa nama."
        if contact and not CONTACT_RE.match(contact):
            errors["contact"] = "Kontak berupa nomor telepon (8 sampai 15 angka) atau alamat e-mail."
    kel = fields.get("kelurahan", "").strip()
    if kel and kel not in known_kelurahan:
        errors["kelurahan"] = "Pilih kelurahan yang dikenal."
    lks_id: int | None = None
    raw_lks = fields.get("lks", "").strip()
    if raw_lks:
        if not raw_lks.isdigit() or int(raw_lks) not in known_lks:
            errors["lks"] = "Pilih LKS dari daftar."
        else:
            lks_id = int(raw_lks)
    if errors:
        raise ComplaintInvalid(errors)
    return ComplaintInput(category, description, anonymous, name, contact, kel, lks_id)


@dataclass(frozen=True, slots=True)
class Step:
    from_status: str
    to_status: str
    text: str
    public_note: str
    assignee_kind: str = ""
    assignee_office: str = ""
    assignee_lks: int | None = None


def step(status: str, action: str, *, text: str = "", category: str = "", assignee_kind: str = "",
         office: str = "", lks_id: int | None = None, known_lks: set[int] | None = None) -> Step:
    """Dinsos's next step on a complaint; raises ``ComplaintError`` when the step is not allowed."""
    if action not in ACTIONS:
        raise ComplaintError("Tindakan tidak dikenal.")
    allowed, target = ACTIONS[action]
    if status not in allowed:
        raise ComplaintError(f"Pengaduan berstatus '{label(status)}' tidak dapat di-{action}.")
    text = text.strip()[:4000]
    if action == "triage":
        if category and category not in CATEGORIES:
            raise ComplaintError("Pilih kategori pengaduan.")
        return Step(status, target, text, "Pengaduan diperiksa Dinas Sosial")
    if action == "assign":
        if assignee_kind not in ASSIGNEE_KINDS:
            raise ComplaintError("Pilih kepada siapa pengaduan diteruskan: instansi, LKS, atau Dinas Sosial.")
        if assignee_kind == "office":
            if office not in COMPLAINT_OFFICES:
                raise ComplaintError("Pilih instansi yang dikenal.")
            return Step(status, target, text, f"Diteruskan ke {OFFICE_BY_CODE[office].short_name}",
                        "office", office)
        if assignee_kind == "lks":
            if lks_id is None or lks_id not in (known_lks or set()):
                raise ComplaintError("Pilih LKS yang dikenal.")
            return Step(status, target, text, "Diteruskan ke LKS terkait", "lks", assignee_lks=lks_id)
        return Step(status, target, text, "Ditangani Dinas Sosial", "dinsos")
    if action == "answer":
        if len(text) < 10:
            raise ComplaintError("Tulis jawaban untuk pengadu (paling sedikit 10 karakter).")
        return Step(status, target, text, "Pengaduan dijawab")
    if status != C.ANSWERED and len(text) < 10:
        raise ComplaintError("Pengaduan yang belum dijawab ditutup dengan alasan untuk pengadu "
                             "(paling sedikit 10 karakter).")
    if status == C.ANSWERED and 0 < len(text) < 10:
        raise ComplaintError("Jawaban akhir untuk pengadu paling sedikit 10 karakter, atau kosongkan untuk "
                             "memakai jawaban yang ada.")
    return Step(status, target, text, "Pengaduan selesai")


def assignee_step(status: str, text: str, assignee_kind: str, office: str = "") -> Step:
    """The answer of the office or LKS the complaint is assigned to; raises ``ComplaintError``."""
    if assignee_kind not in ("office", "lks"):
        raise ComplaintError("Pengaduan ini tidak diteruskan kepada instansi atau LKS.")
    s = step(status, "answer", text=text)
    who = OFFICE_BY_CODE[office].short_name if assignee_kind == "office" and office in OFFICE_BY_CODE \
        else "LKS terkait"
    return Step(s.from_status, s.to_status, s.text, f"Dijawab {who}; jawaban diperiksa Dinas Sosial")


def public_answer(status: str, answer: str, answered_by_assignee: bool) -> str:
    """The answer the complainant may read: Dinsos's own at once, an office's or LKS's once Dinsos has
    closed the complaint (Dinsos may have replaced it by its final answer)."""
    if status == C.CLOSED or (status == C.ANSWERED and not answered_by_assignee):
        return answer
    return ""

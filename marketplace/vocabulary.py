"""Closed lists of the domain: PPKS types, intervention kinds, roles, statuses (DOMAIN.md)."""

from __future__ import annotations

from enum import StrEnum

PPKS_TYPES: dict[int, str] = {
    1: "Anak balita telantar",
    2: "Anak telantar",
    3: "Anak yang berhadapan dengan hukum",
    4: "Anak jalanan",
    5: "Anak dengan kedisabilitasan",
    6: "Anak korban tindak kekerasan atau diperlakukan salah",
    7: "Anak yang memerlukan perlindungan khusus",
    8: "Lanjut usia telantar",
    9: "Penyandang disabilitas",
    10: "Tuna susila",
    11: "Gelandangan",
    12: "Pengemis",
    13: "Pemulung",
    14: "Kelompok minoritas",
    15: "Bekas warga binaan lembaga pemasyarakatan",
    16: "Orang dengan HIV/AIDS",
    17: "Korban penyalahgunaan NAPZA",
    18: "Korban trafficking",
    19: "Korban tindak kekerasan",
    20: "Pekerja migran bermasalah sosial",
    21: "Korban bencana alam",
    22: "Korban bencana sosial",
    23: "Perempuan rawan sosial ekonomi",
    24: "Fakir miskin",
    25: "Keluarga bermasalah sosial psikologis",
    26: "Komunitas adat terpencil",
}

# PPKS types whose mere mention is sensitive personal data (UU 27/2022: health, disability, HIV,
# violence, legal status): never shown outside Dinsos and the matched LKS.
SENSITIVE_PPKS = frozenset({3, 5, 6, 9, 10, 15, 16, 17, 18, 19})


class Kind(StrEnum):
    """The intervention kind of a need or an offer (matching contract v1)."""

    PANGAN = "pangan"
    KESEHATAN = "kesehatan"
    PENDIDIKAN = "pendidikan"
    PERUMAHAN = "perumahan"
    TUNAI = "tunai"
    ALAT_BANTU = "alat_bantu"
    REHABILITASI = "rehabilitasi"
    PEMBERDAYAAN = "pemberdayaan"


KIND_LABELS: dict[str, tuple[str, str]] = {
    "pangan": ("Pangan", "Food"),
    "kesehatan": ("Kesehatan", "Health"),
    "pendidikan": ("Pendidikan", "Education"),
    "perumahan": ("Perumahan", "Housing"),
    "tunai": ("Bantuan tunai", "Cash"),
    "alat_bantu": ("Alat bantu", "Assistive devices"),
    "rehabilitasi": ("Rehabilitasi", "Rehabilitation"),
    "pemberdayaan": ("Pemberdayaan", "Empowerment"),
}


class Role(StrEnum):
    DINSOS_ADMIN = "dinsos_admin"
    PEKERJA_SOSIAL = "pekerja_sosial"
    OPERATOR_KELURAHAN = "operator_kelurahan"
    LKS_STAFF = "lks_staff"
    DONOR = "donor"
    DPO = "dpo"
    """Data protection officer (UU 27/2022 Pasal 53): reads the access log, changes nothing."""
    OFFICE_STAFF = "office_staff"
    """Staff of one referral office (Dinkes, DP3A, ...): sees and answers only that office's referrals."""


ROLE_LABELS: dict[str, tuple[str, str]] = {
    "dinsos_admin": ("Admin Dinas Sosial", "Social office admin"),
    "pekerja_sosial": ("Pekerja Sosial", "Social worker"),
    "operator_kelurahan": ("Operator Kelurahan", "Kelurahan operator"),
    "lks_staff": ("Staf LKS", "LKS staff"),
    "donor": ("Donatur", "Donor"),
    "dpo": ("Pejabat Pelindungan Data", "Data protection officer"),
    "office_staff": ("Staf Instansi Rujukan", "Referral office staff"),
}

# Roles that may see NIK and No. KK whole (DOMAIN.md, "Only Dinsos sees them whole").
DINSOS_ROLES = frozenset({Role.DINSOS_ADMIN})
STAFF_ROLES = frozenset({Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL, Role.OPERATOR_KELURAHAN})


class NeedStatus(StrEnum):
    SUBMITTED = "submitted"
    ASSESSED = "assessed"
    VERIFIED = "verified"
    MATCHED = "matched"
    APPROVED = "approved"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    REFERRED = "referred"
    RESOLVED = "resolved"
    """Closed by the office it was referred to (a completed referral)."""


class LksStatus(StrEnum):
    APPLIED = "applied"
    VERIFIED = "verified"
    REJECTED = "rejected"


class AllocationStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELIVERED = "delivered"
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


class DonationStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    REFUNDED = "refunded"


class RoundStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PROPOSED = "proposed"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

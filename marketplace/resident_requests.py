"""Requests residents file themselves (or the Puskesos operator files on their behalf): the pure rules.

received → validated (the kelurahan operator linked it to a household, a need is opened) | declined
(with a reason); received or validated → withdrawn when the applicant revokes consent with the ticket.
The applicant agrees to a versioned consent text; the version is kept with the request so what was
agreed to can always be shown again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from marketplace.identity import IdentityError, check_nik
from marketplace.regions import is_kelurahan
from marketplace.vocabulary import PPKS_TYPES, Kind

CONSENT_VERSION = "2026-12-v1"
CONSENT_TEXT = {
    CONSENT_VERSION: (
        "Saya menyetujui Dinas Sosial Kota Bandung, Puskesos kelurahan dan pekerja sosial memproses data "
        "pribadi yang saya isi (nama, tanggal lahir, NIK bila diisi, alamat, telepon dan masalah yang saya "
        "sampaikan) hanya untuk menilai dan menindaklanjuti permohonan bantuan ini, termasuk merujuknya ke "
        "instansi atau LKS yang menanganinya. Persetujuan ini dapat saya cabut kapan saja dengan kode tiket; "
        "setelah dicabut permohonan dihentikan dan data permohonan dihapus."
    ),
}


class RequestStatus:
    RECEIVED = "received"
    VALIDATED = "validated"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


S = RequestStatus
TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.VALIDATED, S.DECLINED, S.WITHDRAWN}),
    S.VALIDATED: frozenset({S.WITHDRAWN}),
    S.DECLINED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
STATUS_LABELS: dict[str, tuple[str, str]] = {
    S.RECEIVED: ("Diterima, menunggu validasi kelurahan", "Received, awaiting the kelurahan's validation"),
    S.VALIDATED: ("Divalidasi kelurahan", "Validated by the kelurahan"),
    S.DECLINED: ("Tidak dapat dilanjutkan; hubungi Puskesos kelurahan Anda",
                 "Cannot proceed; contact your kelurahan's Puskesos"),
    S.WITHDRAWN: ("Dihentikan: persetujuan dicabut pemohon", "Stopped: the applicant revoked consent"),
}
PHONE_RE = re.compile(r"^\+?[0-9]{8,15}$")
RT_RW_RE = re.compile(r"^[0-9]{1,3}$")
REQUEST_LIMIT = 10
"""Public requests per client IP per minute."""


class RequestError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class RequestInvalid(RequestError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def label(status: str, lang: str = "id") -> str:
    pair = STATUS_LABELS.get(status, (status, status))
    return pair[0] if lang == "id" else pair[1]


def check_transition(current: str, target: str, reason: str = "") -> str:
    if target not in TRANSITIONS.get(current, frozenset()):
        raise RequestError(f"Permohonan berstatus '{label(current)}' tidak dapat diubah ke '{label(target)}'.")
    if target == S.DECLINED and len(reason.strip()) < 5:
        raise RequestError("Alasan penolakan wajib diisi (paling sedikit 5 karakter).")
    return reason.strip()[:1000]


@dataclass(frozen=True, slots=True)
class ResidentRequest:
    name: str
    birth_date: date
    sex: str
    nik: str
    kelurahan_code: str
    address: str
    rt: str
    rw: str
    phone: str
    ppks: int | None
    kind: str
    description: str
    consent_version: str


def parse_request(fields: dict[str, str], today: date) -> ResidentRequest:
    """Validate the public form; raise ``RequestInvalid`` with one Indonesian message per field."""
    errors: dict[str, str] = {}
    name = " ".join(fields.get("name", "").split())
    if not 2 <= len(name) <= 120:
        errors["name"] = "Nama wajib diisi (2 sampai 120 karakter)."
    birth = today
    try:
        birth = date.fromisoformat(fields.get("birth_date", "").strip())
    except ValueError:
        errors["birth_date"] = "Tanggal lahir wajib diisi (format TTTT-BB-HH)."
    else:
        if birth > today or birth.year < today.year - 120:
            errors["birth_date"] = "Tanggal lahir tidak masuk akal."
    sex = fields.get("sex", "").strip().upper()
    if sex not in ("L", "P"):
        errors["sex"] = "Pilih jenis kelamin."
    nik = fields.get("nik", "").strip().replace(" ", "")
    if nik and "birth_date" not in errors and "sex" not in errors:
        try:
            nik = check_nik(nik, birth, sex)
        except IdentityError as exc:
            errors["nik"] = str(exc)
    kel = fields.get("kelurahan", "").strip()
    if not is_kelurahan(kel):
        errors["kelurahan"] = "Pilih kelurahan tempat tinggal di Kota Bandung."
    address = " ".join(fields.get("address", "").split())
    if not 5 <= len(address) <= 300:
        errors["address"] = "Alamat wajib diisi (5 sampai 300 karakter)."
    rt, rw = fields.get("rt", "").strip(), fields.get("rw", "").strip()
    if (rt and not RT_RW_RE.match(rt)) or (rw and not RT_RW_RE.match(rw)):
        errors["rt"] = "RT dan RW berupa angka, paling banyak 3 digit."
    phone = fields.get("phone", "").strip().replace(" ", "").replace("-", "")
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = "Nomor telepon 8 sampai 15 angka."
    ppks: int | None = None
    raw_ppks = fields.get("ppks", "").strip()
    if raw_ppks:
        if not raw_ppks.isdigit() or int(raw_ppks) not in PPKS_TYPES:
            errors["ppks"] = "Pilih jenis masalah yang dikenal."
        else:
            ppks = int(raw_ppks)
    kind = fields.get("kind", "").strip()
    if kind and kind not in {k.value for k in Kind}:
        errors["kind"] = "Pilih jenis bantuan yang dikenal."
    description = fields.get("description", "").strip()
    if not 10 <= len(description) <= 2000:
        errors["description"] = "Ceritakan masalah Anda (10 sampai 2000 karakter)."
    version = fields.get("consent_version", "").strip()
    if fields.get("consent", "") != "1":
        errors["consent"] = "Permohonan hanya dapat diproses dengan persetujuan Anda atas pemrosesan data."
    elif version not in CONSENT_TEXT:
        errors["consent"] = "Teks persetujuan sudah diperbarui; baca dan setujui lagi."
    if errors:
        raise RequestInvalid(errors)
    return ResidentRequest(name, birth, sex, nik, kel, address, rt, rw, phone, ppks, kind, description, version)

"""LKS registration and verification: the application's rules, the document check, the status machine.

Plain values in, plain values out; the transaction lives in ``storage/lks.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from marketplace import regions
from marketplace.vocabulary import PPKS_TYPES, LksStatus

LEGAL_TYPES: dict[str, str] = {"yayasan": "Yayasan", "perkumpulan": "Perkumpulan", "csr": "CSR (dunia usaha)"}
DOCUMENT_KINDS: dict[str, str] = {
    "akta": "Akta pendirian",
    "sk_kemenkumham": "SK Kemenkumham",
    "tanda_daftar": "Tanda daftar Dinsos",
    "lainnya": "Lainnya",
}
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
MIN_PASSWORD = 10


class LksError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class ApplicationInvalid(LksError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LksApplication:
    name: str
    legal_type: str
    deed_number: str
    decree_number: str
    dinsos_reg_number: str
    address: str
    kecamatan_code: str
    contact_name: str
    phone: str
    email: str
    bank_name: str
    bank_account: str
    ppks_served: list[int] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    annual_budget: int = 0
    username: str = ""


def _text(form: Mapping[str, object], key: str) -> str:
    return str(form.get(key) or "").strip()


def parse_money(raw: str) -> int | None:
    """"Rp 1.250.000", "1250000" → 1250000; anything else → None (rupiah have no decimals)."""
    cleaned = raw.strip().removeprefix("Rp").removeprefix("rp").strip().replace(".", "").replace(" ", "")
    if not cleaned.isdigit():
        return None
    return int(cleaned)


def parse_application(
    form: Mapping[str, object], ppks: Sequence[str], areas: Sequence[str], password: str
) -> LksApplication:
    """Validate the public registration form; every problem is reported at once, in Indonesian."""
    errors: dict[str, str] = {}
    name = _text(form, "name")
    if not 3 <= len(name) <= 200:
        errors["name"] = "Nama resmi lembaga wajib diisi (3–200 karakter)."
    legal_type = _text(form, "legal_type")
    if legal_type not in LEGAL_TYPES:
        errors["legal_type"] = "Pilih bentuk lembaga: yayasan, perkumpulan, atau CSR."
    for key, label in (("deed_number", "Nomor akta"), ("decree_number", "Nomor SK Kemenkumham")):
        if not 3 <= len(_text(form, key)) <= 100:
            errors[key] = f"{label} wajib diisi."
    if len(_text(form, "dinsos_reg_number")) > 100:
        errors["dinsos_reg_number"] = "Nomor tanda daftar terlalu panjang."
    if not _text(form, "address"):
        errors["address"] = "Alamat wajib diisi."
    kecamatan_code = _text(form, "kecamatan_code")
    if not regions.KECAMATAN_RE.match(kecamatan_code) or kecamatan_code not in regions.by_code():
        errors["kecamatan_code"] = "Pilih kecamatan di Kota Bandung."
    contact_name, phone, email = _text(form, "contact_name"), _text(form, "phone"), _text(form, "email")
    if not contact_name:
        errors["contact_name"] = "Nama narahubung wajib diisi."
    if not re.fullmatch(r"\+?[0-9 ()-]{8,20}", phone):
        errors["phone"] = "Nomor telepon tidak sah."
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        errors["email"] = "Alamat email tidak sah."
    bank_name, bank_account = _text(form, "bank_name"), _text(form, "bank_account")
    if not bank_name or not re.fullmatch(r"[0-9 -]{5,30}", bank_account):
        errors["bank_account"] = "Nama bank dan nomor rekening (angka) wajib diisi."
    ppks_served = sorted({int(p) for p in ppks if str(p).isdigit() and int(p) in PPKS_TYPES})
    if not ppks_served or len(ppks_served) != len(set(ppks)):
        errors["ppks"] = "Pilih jenis PPKS yang dilayani."
    area_codes = sorted(set(areas))
    if not area_codes or any(regions.by_code().get(a) is None or regions.by_code()[a].level == "kota"
                             for a in area_codes):
        errors["areas"] = "Pilih wilayah layanan (kecamatan/kelurahan di Kota Bandung)."
    budget = parse_money(_text(form, "annual_budget") or "0")
    if budget is None or budget > 10**13:
        errors["annual_budget"] = "Anggaran tahunan harus berupa angka rupiah."
    username = _text(form, "username").lower()
    if not USERNAME_RE.match(username):
        errors["username"] = "Nama pengguna 3–80 karakter: huruf kecil, angka, titik, garis bawah, tanda hubung."
    if len(password) < MIN_PASSWORD:
        errors["password"] = f"Kata sandi paling sedikit {MIN_PASSWORD} karakter."
    elif password != str(form.get("password_confirm") or ""):
        errors["password"] = "Konfirmasi kata sandi tidak sama."  # noqa: S105 (a message)
    if errors:
        raise ApplicationInvalid(errors)
    return LksApplication(
        name=name, legal_type=legal_type, deed_number=_text(form, "deed_number"),
        decree_number=_text(form, "decree_number"), dinsos_reg_number=_text(form, "dinsos_reg_number"),
        address=_text(form, "address"), kecamatan_code=kecamatan_code, contact_name=contact_name,
        phone=phone, email=email, bank_name=bank_name, bank_account=bank_account, ppks_served=ppks_served,
        areas=area_codes, annual_budget=budget or 0, username=username,
    )


# Magic bytes of the formats accepted as legal documents and proofs; the browser's claim is ignored.
_SIGNATURES: tuple[tuple[bytes, int, str, str], ...] = (
    (b"%PDF-", 0, "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
)


def sniff_document(data: bytes, max_bytes: int = MAX_DOCUMENT_BYTES) -> tuple[str, str]:
    """The content type and file extension read from the content itself; refuses anything else."""
    if not data:
        raise LksError("Berkas kosong.")
    if len(data) > max_bytes:
        raise LksError(f"Berkas lebih dari {max_bytes // (1024 * 1024)} MB.")
    for magic, offset, content_type, ext in _SIGNATURES:
        if data[offset:offset + len(magic)] == magic:
            return content_type, ext
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", "webp"
    raise LksError("Berkas harus PDF atau gambar (JPEG, PNG, WebP).")


def decide(status: str, decision: str, reason: str = "") -> tuple[str, str]:
    """Dinsos verifies or rejects an application; returns (new status, reason)."""
    if decision == "verify":
        if status == LksStatus.VERIFIED:
            raise LksError("LKS ini sudah terverifikasi.")
        return LksStatus.VERIFIED, ""
    if decision == "reject":
        reason = reason.strip()
        if len(reason) < 5:
            raise LksError("Alasan penolakan wajib diisi.")
        if status == LksStatus.REJECTED:
            raise LksError("LKS ini sudah ditolak.")
        return LksStatus.REJECTED, reason
    raise LksError("Keputusan tidak dikenal.")


def may_publish(status: str) -> None:
    if status != LksStatus.VERIFIED:
        raise LksError("Hanya LKS yang sudah diverifikasi Dinas Sosial yang dapat menerbitkan penawaran.")

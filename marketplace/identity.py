"""Structure of NIK and No. KK (16 digits) and how they are kept: masked for display, keyed hash for lookup.

A NIK is PPKKCC DDMMYY NNNN: province, kota, kecamatan (6 digits), birth date (day + 40 for women),
and a serial. A No. KK starts with the same 6-digit region prefix. Kota Bandung's prefix is ``3273``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import date

from marketplace import clock

BANDUNG_PREFIX = "3273"
_DIGITS16 = re.compile(r"^\d{16}$")


class IdentityError(ValueError):
    """A NIK or No. KK that breaks the structure; the message is Indonesian, for the user."""


def kecamatan_digits(kecamatan_code: str) -> str:
    """``32.73.03`` → ``327303``: the region prefix of NIK and No. KK issued there."""
    return kecamatan_code.replace(".", "")


def check_kk(kk: str) -> str:
    kk = kk.strip()
    if not _DIGITS16.match(kk):
        raise IdentityError("No. KK harus 16 digit angka")
    if not kk.startswith(BANDUNG_PREFIX):
        raise IdentityError("No. KK harus berawalan kode wilayah Kota Bandung (3273)")
    return kk


def birth_date_from_nik(nik: str) -> tuple[date, str]:
    """The birth date and sex (``L``/``P``) encoded in a NIK."""
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "L"
    if day > 40:
        day -= 40
        sex = "P"
    today = clock.today()
    century = 2000 if 2000 + yy <= today.year else 1900
    try:
        return date(century + yy, month, day), sex
    except ValueError as exc:
        raise IdentityError("Tanggal lahir dalam NIK tidak valid") from exc


def check_nik(nik: str, birth_date: date | None = None, sex: str | None = None) -> str:
    nik = nik.strip()
    if not _DIGITS16.match(nik):
        raise IdentityError("NIK harus 16 digit angka")
    if not nik.startswith(BANDUNG_PREFIX):
        raise IdentityError("NIK harus berawalan kode wilayah Kota Bandung (3273)")
    encoded, encoded_sex = birth_date_from_nik(nik)
    if birth_date is not None and (encoded.day, encoded.month, encoded.year % 100) != (
        birth_date.day,
        birth_date.month,
        birth_date.year % 100,
    ):
        raise IdentityError("Tanggal lahir tidak cocok dengan NIK")
    if sex is not None and sex.upper() in ("L", "P") and sex.upper() != encoded_sex:
        raise IdentityError("Jenis kelamin tidak cocok dengan NIK")
    return nik


def make_nik(kecamatan_code: str, birth: date, sex: str, serial: int) -> str:
    day = birth.day + (40 if sex == "P" else 0)
    return f"{kecamatan_digits(kecamatan_code)}{day:02d}{birth.month:02d}{birth.year % 100:02d}{serial:04d}"


def make_kk(kecamatan_code: str, issued: date, serial: int) -> str:
    return f"{kecamatan_digits(kecamatan_code)}{issued.day:02d}{issued.month:02d}{issued.year % 100:02d}{serial:04d}"


def mask(number: str) -> str:
    """``3273031203850001`` → ``3273********0001``: enough to tell records apart, not to identify."""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def lookup_hash(number: str, key: bytes) -> str:
    """Keyed hash for exact lookups of an encrypted NIK or No. KK (HMAC-SHA256, hex)."""
    return hmac.new(key, number.strip().encode(), hashlib.sha256).hexdigest()

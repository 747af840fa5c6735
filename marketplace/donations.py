"""Donations: the amount a donor may give and the details of a donor and of a recorded bank transfer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from marketplace.lks import parse_money

MIN_DONATION = 10_000
MAX_DONATION = 1_000_000_000


class DonationError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


def validate_amount(raw: str | int) -> int:
    amount = raw if isinstance(raw, int) else parse_money(str(raw))
    if amount is None:
        raise DonationError("Jumlah donasi harus berupa angka rupiah tanpa desimal.")
    if amount < MIN_DONATION:
        raise DonationError("Donasi paling sedikit Rp 10.000.")
    if amount > MAX_DONATION:
        raise DonationError("Donasi paling banyak Rp 1.000.000.000 per transaksi.")
    return amount


@dataclass(frozen=True, slots=True)
class DonorInput:
    name: str
    email: str
    anonymous: bool
    amount: int


def parse_donor(form: Mapping[str, object]) -> DonorInput:
    name = str(form.get("name") or "").strip()
    email = str(form.get("email") or "").strip()
    if not 2 <= len(name) <= 120:
        raise DonationError("Nama donatur wajib diisi.")
    if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise DonationError("Alamat email tidak sah.")
    amount = validate_amount(str(form.get("amount") or ""))
    return DonorInput(name, email, bool(form.get("anonymous")), amount)


@dataclass(frozen=True, slots=True)
class TransferInput:
    donor_name: str
    donor_email: str
    amount: int
    received_on: date


def parse_transfer(form: Mapping[str, object], today: date) -> TransferInput:
    donor = parse_donor({"name": form.get("donor_name"), "email": form.get("donor_email"),
                         "amount": form.get("amount")})
    try:
        received_on = date.fromisoformat(str(form.get("received_on") or ""))
    except ValueError:
        raise DonationError("Tanggal transfer diterima tidak sah (TTTT-BB-HH).") from None
    if received_on > today:
        raise DonationError("Tanggal transfer tidak boleh di masa depan.")
    return TransferInput(donor.name, donor.email, donor.amount, received_on)


def slugify(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:100] or "kampanye"

"""Offers of funds (rupiah) or goods (units): the form's rules, the status machine, and the funding rule.

``capacity`` is rupiah for a fund offer and units for a goods offer; ``remaining`` starts at capacity and
only falls, as allocations are approved (``storage.offers.commit_capacity``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from marketplace import regions
from marketplace.lks import parse_money
from marketplace.vocabulary import PPKS_TYPES, Kind

PERIOD_RE = re.compile(r"^(20\d{2})-(0[1-9]|1[0-2])$")


class OfferError(ValueError):
    """A user-caused problem; the message is Indonesian and nothing was changed."""


class OfferInvalid(OfferError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


class CapacityExceeded(OfferError):
    """Committing this amount would take the offer's remaining capacity below zero."""

    def __init__(self, offer_id: int, amount: int) -> None:
        super().__init__(f"Sisa kapasitas penawaran #{offer_id} tidak cukup untuk {amount}.")
        self.offer_id = offer_id
        self.amount = amount


class FundsInsufficient(OfferError):
    def __init__(self, capacity: int, available: int) -> None:
        super().__init__(
            f"Dana yang ditawarkan (Rp {capacity:,}) melebihi dana yang tersedia (Rp {available:,}): saldo buku kas "
            "ditambah anggaran sendiri dikurangi penawaran dana lain yang masih terbuka.".replace(",", ".")
        )
        self.capacity = capacity
        self.available = available


class OfferStatus:
    DRAFT = "draft"
    PUBLISHED = "published"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class OfferInput:
    title: str
    period: str
    kind: str
    is_goods: bool
    unit: str
    unit_value: int
    capacity: int
    areas: list[str] = field(default_factory=list)
    ppks: list[int] = field(default_factory=list)
    max_per_need: int | None = None

    @property
    def value(self) -> int:
        """Rupiah value of the whole offer."""
        return self.capacity * self.unit_value if self.is_goods else self.capacity


def parse_offer(form: Mapping[str, object], areas: Sequence[str], ppks: Sequence[str]) -> OfferInput:
    errors: dict[str, str] = {}

    def text(key: str) -> str:
        return str(form.get(key) or "").strip()

    title = text("title")
    if not 3 <= len(title) <= 200:
        errors["title"] = "Judul penawaran wajib diisi (3–200 karakter)."
    period = text("period")
    if not PERIOD_RE.match(period):
        errors["period"] = "Periode harus berbentuk TTTT-BB, misalnya 2026-12."
    kind = text("kind")
    if kind not in {k.value for k in Kind}:
        errors["kind"] = "Pilih jenis intervensi."
    is_goods = text("offer_type") == "goods"
    unit, unit_value, capacity = "", 0, 0
    if is_goods:
        unit = text("unit")
        if not 2 <= len(unit) <= 60:
            errors["unit"] = "Satuan barang wajib diisi, misalnya \"paket sembako\"."
        quantity = parse_money(text("quantity"))
        if not quantity or quantity > 10**7:
            errors["quantity"] = "Jumlah barang harus bilangan bulat lebih dari nol."
        value = parse_money(text("unit_value"))
        if not value or value > 10**10:
            errors["unit_value"] = "Nilai per satuan (rupiah) harus lebih dari nol."
        capacity, unit_value = quantity or 0, value or 0
    else:
        amount = parse_money(text("amount"))
        if not amount or amount < 10_000 or amount > 10**13:
            errors["amount"] = "Jumlah dana paling sedikit Rp 10.000."
        capacity = amount or 0
    area_codes = sorted(set(areas))
    if not area_codes or any(not _is_area(a) for a in area_codes):
        errors["areas"] = "Pilih wilayah (kecamatan atau kelurahan di Kota Bandung)."
    ppks_types = sorted({int(p) for p in ppks if str(p).isdigit() and int(p) in PPKS_TYPES})
    if not ppks_types or len(ppks_types) != len(set(ppks)):
        errors["ppks"] = "Pilih jenis PPKS yang dilayani."
    max_raw = text("max_per_need")
    max_per_need = None
    if max_raw:
        max_per_need = parse_money(max_raw)
        if not max_per_need or (capacity and max_per_need > capacity):
            errors["max_per_need"] = "Batas per kebutuhan harus lebih dari nol dan tidak melebihi kapasitas."
    if errors:
        raise OfferInvalid(errors)
    return OfferInput(title=title, period=period, kind=kind, is_goods=is_goods, unit=unit, unit_value=unit_value,
                      capacity=capacity, areas=area_codes, ppks=ppks_types, max_per_need=max_per_need)


def _is_area(code: str) -> bool:
    region = regions.by_code().get(code)
    return region is not None and region.level in ("kecamatan", "kelurahan")


def transition(status: str, action: str) -> str:
    """draft → published → closed (a draft may also be closed); anything else is refused."""
    if action == "publish" and status == OfferStatus.DRAFT:
        return OfferStatus.PUBLISHED
    if action == "close" and status in (OfferStatus.DRAFT, OfferStatus.PUBLISHED):
        return OfferStatus.CLOSED
    raise OfferError("Status penawaran tidak dapat diubah dengan cara ini.")


def available_funds(balance: int, annual_budget: int, committed_elsewhere: int) -> int:
    """What an LKS may still offer as funds: its ledger balance plus its declared own budget, minus what
    its other open fund offers still commit."""
    return balance + annual_budget - committed_elsewhere


def check_fund_offer(capacity: int, balance: int, annual_budget: int, committed_elsewhere: int) -> None:
    available = available_funds(balance, annual_budget, committed_elsewhere)
    if capacity > available:
        raise FundsInsufficient(capacity, max(available, 0))


def check_commit(amount: int) -> None:
    if amount <= 0:
        raise OfferError("Jumlah yang dikomit harus lebih dari nol.")

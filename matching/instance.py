"""The matching instance and result (contract ``matching-v1``).

An instance is parsed from a JSON-shaped ``dict`` into frozen dataclasses with full validation; any
breach raises one :class:`InstanceError` whose message names the offending entry, e.g.
``needs[3] (id "N-4"): amount must be a non-negative integer``.

The two rules the rest of the product needs outside the solver live here as plain functions:
:func:`remainders` (rule 1, no duplication with government aid) and :func:`is_eligible` (rule 2).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VERSION = 1

KINDS: tuple[str, ...] = (
    "pangan",
    "kesehatan",
    "pendidikan",
    "perumahan",
    "tunai",
    "alat_bantu",
    "rehabilitasi",
    "pemberdayaan",
)
PPKS_MIN, PPKS_MAX = 1, 26

REASON_COVERED = "covered_by_government"
REASON_NO_OFFER = "no_eligible_offer"
REASON_NOT_SELECTED = "not_selected"
REASONS: tuple[str, ...] = (REASON_COVERED, REASON_NO_OFFER, REASON_NOT_SELECTED)

STATUS_OPTIMAL = "OPTIMAL"
STATUS_FEASIBLE = "FEASIBLE"

KECAMATAN_RE = re.compile(r"32\.73\.\d{2}")
KELURAHAN_RE = re.compile(r"32\.73\.\d{2}\.1\d{3}")
# Amounts may be anything a signed 64-bit integer holds (the solver keeps its sums exact, see
# matching.data); priorities are small numbers from the domain, bounded so that any objective fits too.
MAX_AMOUNT = 2**63 - 1
MAX_PRIORITY = 10**9
PERIOD_RE = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class InstanceError(ValueError):
    """The instance breaks the contract; the message names the offending entry."""


# --------------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Need:
    id: str
    household: str
    kelurahan: str
    ppks: int
    kind: str
    amount: int
    priority: int


@dataclass(frozen=True, slots=True)
class Offer:
    id: str
    lks: str
    kind: str
    capacity: int
    areas: tuple[str, ...] = ()
    ppks: tuple[int, ...] = ()
    max_per_need: int | None = None


@dataclass(frozen=True, slots=True)
class GovernmentAid:
    household: str
    kind: str
    program: str
    amount: int


@dataclass(frozen=True, slots=True)
class Instance:
    period: str
    needs: tuple[Need, ...]
    offers: tuple[Offer, ...]
    government_aid: tuple[GovernmentAid, ...] = ()
    household_cap: int | None = None
    version: int = VERSION

    @classmethod
    def from_json(cls, data: Any) -> Instance:
        return parse_instance(data)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"version": self.version, "period": self.period}
        if self.household_cap is not None:
            out["household_cap"] = self.household_cap
        out["needs"] = [
            {
                "id": n.id,
                "household": n.household,
                "kelurahan": n.kelurahan,
                "ppks": n.ppks,
                "kind": n.kind,
                "amount": n.amount,
                "priority": n.priority,
            }
            for n in self.needs
        ]
        offers = []
        for o in self.offers:
            d: dict[str, Any] = {
                "id": o.id,
                "lks": o.lks,
                "kind": o.kind,
                "capacity": o.capacity,
                "areas": list(o.areas),
                "ppks": list(o.ppks),
            }
            if o.max_per_need is not None:
                d["max_per_need"] = o.max_per_need
            offers.append(d)
        out["offers"] = offers
        out["government_aid"] = [
            {"household": g.household, "kind": g.kind, "program": g.program, "amount": g.amount}
            for g in self.government_aid
        ]
        return out


@dataclass(frozen=True, slots=True)
class Allocation:
    need: str
    offer: str
    amount: int


@dataclass(frozen=True, slots=True)
class Unmatched:
    need: str
    reason: str


@dataclass(frozen=True, slots=True)
class Stats:
    status: str
    objective: int
    bound: int
    seconds: float

    @property
    def gap(self) -> float:
        """Proven optimality gap ``(bound - objective) / bound`` (0 when the bound is 0)."""
        return 0.0 if self.bound <= 0 else (self.bound - self.objective) / self.bound


@dataclass(frozen=True, slots=True)
class Result:
    period: str
    allocations: tuple[Allocation, ...]
    unmatched: tuple[Unmatched, ...]
    stats: Stats
    version: int = VERSION
    # Not part of the JSON form: solver diagnostics (method used, LP value, ...).
    info: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "period": self.period,
            "allocations": [{"need": a.need, "offer": a.offer, "amount": a.amount} for a in self.allocations],
            "unmatched": [{"need": u.need, "reason": u.reason} for u in self.unmatched],
            "stats": {
                "status": self.stats.status,
                "objective": self.stats.objective,
                "bound": self.stats.bound,
                "seconds": round(self.stats.seconds, 3),
            },
        }


# --------------------------------------------------------------------------------------------------
# The two rules, as plain functions
# --------------------------------------------------------------------------------------------------


def aid_totals(government_aid: Sequence[GovernmentAid]) -> dict[tuple[str, str], int]:
    """Government aid summed over programmes, per (household, kind)."""
    totals: dict[tuple[str, str], int] = {}
    for g in government_aid:
        key = (g.household, g.kind)
        totals[key] = totals.get(key, 0) + g.amount
    return totals


def remainder(need: Need, aid: Mapping[tuple[str, str], int]) -> int:
    """Rule 1: the need's amount minus the household's aid of the same kind, floored at 0."""
    return max(0, need.amount - aid.get((need.household, need.kind), 0))


def remainders(instance: Instance) -> list[int]:
    """Rule 1 for every need of the instance, in instance order."""
    aid = aid_totals(instance.government_aid)
    return [remainder(n, aid) for n in instance.needs]


def kecamatan_of(kelurahan: str) -> str:
    """``32.73.03.1001`` -> ``32.73.03``."""
    return kelurahan.rsplit(".", 1)[0]


def area_covers(areas: Sequence[str], kelurahan: str) -> bool:
    """An offer's areas cover a kelurahan: empty = whole city, kecamatan code covers its kelurahan."""
    if not areas:
        return True
    return kelurahan in areas or kecamatan_of(kelurahan) in areas


def ppks_served(offer_ppks: Sequence[int], ppks: int) -> bool:
    return not offer_ppks or ppks in offer_ppks


def is_eligible(need: Need, offer: Offer, need_remainder: int) -> bool:
    """Rule 2: kinds equal, kelurahan in areas, ppks served, remainder within ``max_per_need``."""
    return (
        need.kind == offer.kind
        and area_covers(offer.areas, need.kelurahan)
        and ppks_served(offer.ppks, need.ppks)
        and (offer.max_per_need is None or need_remainder <= offer.max_per_need)
    )


# --------------------------------------------------------------------------------------------------
# Parsing and validation
# --------------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class _Entry:
    """Reads fields of one JSON object, raising errors that name the entry."""

    def __init__(self, where: str, data: Any, label_key: str | None = "id") -> None:
        self.where = where
        if not isinstance(data, dict):
            raise InstanceError(f"{where}: must be an object")
        self.data = data
        if label_key is not None:
            label = data.get(label_key)
            if isinstance(label, str):
                self.where = f'{where} ({label_key} "{label}")'

    def fail(self, message: str) -> InstanceError:
        return InstanceError(f"{self.where}: {message}")

    def require(self, key: str) -> Any:
        if key not in self.data:
            raise self.fail(f"missing field {key!r}")
        return self.data[key]

    def string(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{key} must be a non-empty string")
        return value

    def amount(self, key: str, *, optional: bool = False) -> int | None:
        if optional and self.data.get(key) is None:
            return None
        value = self.require(key)
        if not _is_int(value) or value < 0:
            raise self.fail(f"{key} must be a non-negative integer")
        if value > MAX_AMOUNT:
            raise self.fail(f"{key} must be a non-negative integer at most {MAX_AMOUNT:,}")
        return int(value)

    def kind(self) -> str:
        value = self.require("kind")
        if value not in KINDS:
            raise self.fail(f"unknown kind {value!r} (expected one of {', '.join(KINDS)})")
        return str(value)

    def ppks(self, value: Any, key: str = "ppks") -> int:
        if not _is_int(value) or not PPKS_MIN <= value <= PPKS_MAX:
            raise self.fail(f"{key} must be an integer from {PPKS_MIN} to {PPKS_MAX}, got {value!r}")
        return int(value)


def _parse_need(index: int, data: Any) -> Need:
    e = _Entry(f"needs[{index}]", data)
    need_id = e.string("id")
    household = e.string("household")
    kelurahan = e.require("kelurahan")
    if not isinstance(kelurahan, str) or not KELURAHAN_RE.fullmatch(kelurahan):
        raise e.fail(f"kelurahan must be a kelurahan code like 32.73.KK.1NNN, got {kelurahan!r}")
    ppks = e.ppks(e.require("ppks"))
    kind = e.kind()
    amount = e.amount("amount")
    assert amount is not None
    priority = e.require("priority")
    if not _is_int(priority) or not 0 < priority <= MAX_PRIORITY:
        raise e.fail(f"priority must be a positive integer at most {MAX_PRIORITY:,}, got {priority!r}")
    return Need(need_id, household, kelurahan, ppks, kind, amount, int(priority))


def _parse_offer(index: int, data: Any) -> Offer:
    e = _Entry(f"offers[{index}]", data)
    offer_id = e.string("id")
    lks = e.string("lks")
    kind = e.kind()
    capacity = e.amount("capacity")
    assert capacity is not None
    areas_raw = e.require("areas")
    if not isinstance(areas_raw, list):
        raise e.fail("areas must be a list of kecamatan or kelurahan codes")
    for code in areas_raw:
        if not isinstance(code, str) or not (KECAMATAN_RE.fullmatch(code) or KELURAHAN_RE.fullmatch(code)):
            raise e.fail(f"malformed area code {code!r} (expected 32.73.KK or 32.73.KK.1NNN)")
    ppks_raw = e.require("ppks")
    if not isinstance(ppks_raw, list):
        raise e.fail("ppks must be a list of integers from 1 to 26")
    ppks = tuple(e.ppks(p, "ppks entries") for p in ppks_raw)
    max_per_need = e.amount("max_per_need", optional=True)
    return Offer(offer_id, lks, kind, capacity, tuple(areas_raw), ppks, max_per_need)


def _parse_aid(index: int, data: Any) -> GovernmentAid:
    e = _Entry(f"government_aid[{index}]", data, label_key="household")
    household = e.string("household")
    kind = e.kind()
    program = e.string("program")
    amount = e.amount("amount")
    assert amount is not None
    return GovernmentAid(household, kind, program, amount)


def _list_field(data: dict[str, Any], key: str, *, optional: bool = False) -> list[Any]:
    if key not in data:
        if optional:
            return []
        raise InstanceError(f"missing field {key!r}")
    value = data[key]
    if value is None and optional:
        return []
    if not isinstance(value, list):
        raise InstanceError(f"{key} must be a list")
    return value


def parse_instance(data: Any) -> Instance:
    """Validate a JSON-shaped dict and build an :class:`Instance` (raises :class:`InstanceError`)."""
    if not isinstance(data, dict):
        raise InstanceError("instance must be a JSON object")
    if "version" not in data:
        raise InstanceError("missing field 'version'")
    if not _is_int(data["version"]) or data["version"] != VERSION:
        raise InstanceError(f"version must be {VERSION}, got {data['version']!r}")
    if "period" not in data:
        raise InstanceError("missing field 'period'")
    period = data["period"]
    if not isinstance(period, str) or not PERIOD_RE.fullmatch(period):
        raise InstanceError(f"period must be YYYY-MM, got {period!r}")
    cap = data.get("household_cap")
    if cap is not None and (not _is_int(cap) or not 0 <= cap <= MAX_AMOUNT):
        raise InstanceError(f"household_cap must be a non-negative integer at most {MAX_AMOUNT:,}, got {cap!r}")

    needs = tuple(_parse_need(i, d) for i, d in enumerate(_list_field(data, "needs")))
    offers = tuple(_parse_offer(i, d) for i, d in enumerate(_list_field(data, "offers")))
    aid = tuple(_parse_aid(i, d) for i, d in enumerate(_list_field(data, "government_aid", optional=True)))

    seen: dict[str, int] = {}
    for i, n in enumerate(needs):
        if n.id in seen:
            raise InstanceError(f'needs[{i}] (id "{n.id}"): duplicate id (first at needs[{seen[n.id]}])')
        seen[n.id] = i
    seen = {}
    for i, o in enumerate(offers):
        if o.id in seen:
            raise InstanceError(f'offers[{i}] (id "{o.id}"): duplicate id (first at offers[{seen[o.id]}])')
        seen[o.id] = i
    return Instance(
        period=period,
        needs=needs,
        offers=offers,
        government_aid=aid,
        household_cap=None if cap is None else int(cap),
        version=VERSION,
    )

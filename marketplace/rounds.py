"""A matching round as the domain sees it: the contract instance is built from plain records, solved by
``matching``, and every proposal and every unmatched need is explained in words.

Ids in the instance never carry personal data: needs are ``N-<id>``, households ``KK-<id>`` (the
database id, not the No. KK), offers ``O-<id>``, LKS ``LKS-<id>``. All amounts are whole rupiah: a goods
offer enters with its remaining units times the value per unit, so needs and offers share one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.vocabulary import KIND_LABELS
from matching import Explainer, Instance, Result, SolverSettings, parse_instance, solve


@dataclass(frozen=True, slots=True)
class NeedRecord:
    id: int
    household_id: int
    kelurahan: str
    ppks: int
    kind: str
    amount: int
    priority: int


@dataclass(frozen=True, slots=True)
class OfferRecord:
    id: int
    lks_id: int
    kind: str
    remaining: int
    unit_value: int  # 0 for funds; rupiah per unit for goods
    areas: tuple[str, ...]
    ppks: tuple[int, ...]
    max_per_need: int | None

    @property
    def capacity_rupiah(self) -> int:
        return self.remaining * self.unit_value if self.unit_value else self.remaining

    @property
    def max_per_need_rupiah(self) -> int | None:
        if self.max_per_need is None:
            return None
        return self.max_per_need * self.unit_value if self.unit_value else self.max_per_need


@dataclass(frozen=True, slots=True)
class AidRecord:
    household_id: int
    kind: str
    program: str
    amount: int


def need_key(need_id: int) -> str:
    return f"N-{need_id}"


def offer_key(offer_id: int) -> str:
    return f"O-{offer_id}"


def db_id(key: str) -> int:
    return int(key.split("-", 1)[1])


def build_instance(period: str, household_cap: int | None, needs: Iterable[NeedRecord],
                   offers: Iterable[OfferRecord], aid: Iterable[AidRecord]) -> dict[str, Any]:
    """The contract (matching-v1) instance for these records, in a stable order."""
    need_list = sorted(needs, key=lambda n: n.id)
    households = {n.household_id for n in need_list}
    instance: dict[str, Any] = {
        "version": 1,
        "period": period,
        "needs": [
            {"id": need_key(n.id), "household": f"KK-{n.household_id}", "kelurahan": n.kelurahan, "ppks": n.ppks,
             "kind": n.kind, "amount": n.amount, "priority": max(1, n.priority)}
            for n in need_list
        ],
        "offers": [
            {"id": offer_key(o.id), "lks": f"LKS-{o.lks_id}", "kind": o.kind, "capacity": o.capacity_rupiah,
             "areas": list(o.areas), "ppks": list(o.ppks),
             **({"max_per_need": o.max_per_need_rupiah} if o.max_per_need is not None else {})}
            for o in sorted(offers, key=lambda o: o.id) if o.remaining > 0
        ],
        "government_aid": [
            {"household": f"KK-{a.household_id}", "kind": a.kind, "program": a.program, "amount": a.amount}
            for a in sorted(aid, key=lambda a: (a.household_id, a.kind, a.program)) if a.household_id in households
        ],
    }
    if household_cap:
        instance["household_cap"] = household_cap
    return instance


def solve_instance(instance: dict[str, Any], settings: SolverSettings) -> tuple[Instance, Result]:
    parsed = parse_instance(instance)
    return parsed, solve(parsed, settings)


@dataclass(frozen=True, slots=True)
class Proposal:
    need_id: int
    offer_id: int
    amount: int
    priority: int
    explanation: str


@dataclass(frozen=True, slots=True)
class Refusal:
    need_id: int
    reason: str
    explanation: str


def explain_round(instance: Instance, result: Result, region_names: Mapping[str, str],
                  lks_names: Mapping[int, str]) -> tuple[list[Proposal], list[Refusal]]:
    """Every proposal says why it was made; every unmatched need says which rule stopped it."""
    needs = {n.id: n for n in instance.needs}
    offers = {o.id: o for o in instance.offers}
    explainer = Explainer(instance, result)
    proposals = []
    for alloc in result.allocations:
        need, offer = needs[alloc.need], offers[alloc.offer]
        lks = lks_names.get(db_id(offer.lks), offer.lks)
        kind = KIND_LABELS.get(need.kind, (need.kind, need.kind))[0]
        place = region_names.get(need.kelurahan, need.kelurahan)
        covered = need.amount - alloc.amount
        text = (f"Prioritas {need.priority}. {lks} menawarkan {kind.lower()} untuk Kelurahan {place} "
                f"dan PPKS jenis {need.ppks}; diusulkan Rp{alloc.amount:,}".replace(",", "."))
        if covered > 0:
            text += f" (sisa setelah bantuan pemerintah Rp{covered:,} dikurangkan)".replace(",", ".")
        proposals.append(Proposal(db_id(alloc.need), db_id(alloc.offer), alloc.amount, need.priority, text + "."))
    refusals = [
        Refusal(db_id(u.need), u.reason, explainer.explain(u.need, region_names).id) for u in result.unmatched
    ]
    return proposals, refusals

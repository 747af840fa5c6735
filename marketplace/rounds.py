"""A matching round as the domain sees it: the contract instance is built from plain records, solved by
``matching``, and every proposal and every unmatched need is explained in words.

Ids in the instance never carry personal data: needs are ``N-<id>``, households ``KK-<id>`` (the
database id, not the No. KK), offers ``O-<id>``, LKS ``LKS-<id>``. All amounts are whole rupiah: a goods
offer enters with its remaining units times the value per unit, so needs and offers share one unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from marketplace.approval import capacity_units
from marketplace.vocabulary import KIND_LABELS
from matching import Explainer, Instance, Result, SolverSettings, Unmatched, parse_instance, solve


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


def solve_instance(instance: dict[str, Any], settings: SolverSettings,
                   offers: Iterable[OfferRecord] = ()) -> tuple[Instance, Result]:
    parsed = parse_instance(instance)
    return parsed, fit_whole_units(parsed, solve(parsed, settings), offers)


def fit_whole_units(instance: Instance, result: Result, offers: Iterable[OfferRecord]) -> Result:
    """Keep each goods offer within its whole units, as approval will count them.

    The contract knows one amount per need, so a goods offer enters in rupiah (units × value per unit),
    but approval hands out whole packages: a need of Rp 160.000 takes two packages of Rp 150.000. Where the
    rounded-up units of an offer's proposals exceed its remaining units, the proposals worth the least
    priority per unit are dropped (``not_selected``: the packages went to others) until they fit, so every
    proposal can be approved. Dropping keeps the result feasible for the instance; the objective is
    recounted and ``info["whole_units"]`` says how many were dropped."""
    goods = {offer_key(o.id): o for o in offers if o.unit_value > 0}
    by_offer: dict[str, list[int]] = {}
    for i, a in enumerate(result.allocations):
        if a.offer in goods:
            by_offer.setdefault(a.offer, []).append(i)
    if not by_offer:
        return result
    priority = {n.id: n.priority for n in instance.needs}
    dropped: set[int] = set()
    for key, rows in by_offer.items():
        offer = goods[key]
        units = {i: capacity_units(result.allocations[i].amount, offer.unit_value) for i in rows}
        if sum(units.values()) <= offer.remaining:
            continue
        left = offer.remaining
        # most priority per package first (then the higher priority, then the instance order): a knapsack's
        # greedy, then any that still fit the room left
        for i in sorted(rows, key=lambda i: (-priority[result.allocations[i].need] / units[i],
                                             -priority[result.allocations[i].need], i)):
            if units[i] <= left:
                left -= units[i]
            else:
                dropped.add(i)
    if not dropped:
        return result
    kept = tuple(a for i, a in enumerate(result.allocations) if i not in dropped)
    unmatched = result.unmatched + tuple(Unmatched(result.allocations[i].need, "not_selected")
                                         for i in sorted(dropped))
    objective = sum(priority[a.need] for a in kept)
    stats = replace(result.stats, objective=objective,
                    status="FEASIBLE" if objective < result.stats.bound else result.stats.status)
    info = {**result.info, "whole_units": {"dropped": len(dropped), "objective_before": result.stats.objective}}
    return replace(result, allocations=kept, unmatched=unmatched, stats=stats, info=info)


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
    return (explain_proposals(instance, result, region_names, lks_names),
            explain_refusals(instance, result, region_names))


def explain_proposals(instance: Instance, result: Result, region_names: Mapping[str, str],
                      lks_names: Mapping[int, str]) -> list[Proposal]:
    """Why each proposal was made: priority, the LKS's offer, the place and the PPKS type, aid subtracted."""
    needs = {n.id: n for n in instance.needs}
    offers = {o.id: o for o in instance.offers}
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
    return proposals


def explain_refusals(instance: Instance, result: Result, region_names: Mapping[str, str]) -> list[Refusal]:
    """Which rule stopped each unmatched need (the city's 300,000 take seconds: the store overlaps them)."""
    explainer = Explainer(instance, result)
    return [Refusal(db_id(u.need), u.reason, explainer.explain(u.need, region_names).id) for u in result.unmatched]

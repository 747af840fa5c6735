"""The independent feasibility checker, and the guard every result passes before it leaves the solver.

The rules of matching-v1 are written again here from the contract, on the parsed instance only: nothing
of the model (``data``, ``flow``, ``heuristic``, ``cpsat``) is used, so a bug there cannot hide itself.
:func:`check` lists every breach of a result; :func:`guard` (called by :func:`matching.solve`) checks a
result and, when it breaks a rule (a solver bug), logs an error, repairs it and says so in ``info``:

* allocations of unknown or repeated needs, to unknown or ineligible offers, or of a need whose
  remainder is 0, are dropped; an amount other than the remainder is set to the remainder;
* an over-full offer, then an over-cap household, loses its lowest-priority allocations (the largest
  amount first among equal priorities, then the latest need) until it fits;
* every need then appears once: dropped needs are unmatched with the reason the rules give (normally
  ``not_selected``), and a wrong reason is corrected; objective, bound and status are recomputed.

It is fast enough for a city round (one pass over needs; offers are looked up per kind and place).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from matching.instance import (
    REASON_COVERED,
    REASON_NO_OFFER,
    REASON_NOT_SELECTED,
    REASONS,
    STATUS_FEASIBLE,
    STATUS_OPTIMAL,
    VERSION,
    Allocation,
    Instance,
    Offer,
    Result,
    Stats,
    Unmatched,
)

log = logging.getLogger("matching.checker")

MAX_LISTED = 50  # violations and drops listed one by one in ``info["guard"]``; the rest are counted


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str  # coverage, remainder, eligibility, capacity, household_cap, reason, stats
    entry: str  # the need, offer or household concerned
    message: str


# --------------------------------------------------------------------------------------------------
# The rules again, from the contract
# --------------------------------------------------------------------------------------------------


class Rules:
    """Rules 1, 2 and the "could ever take" test of the reasons, for one instance (built once)."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.cap = instance.household_cap
        aid: dict[tuple[str, str], int] = {}
        for g in instance.government_aid:
            aid[(g.household, g.kind)] = aid.get((g.household, g.kind), 0) + g.amount
        self.rest = {n.id: max(0, n.amount - aid.get((n.household, n.kind), 0)) for n in instance.needs}
        self.needs = {n.id: n for n in instance.needs}
        self.offers = {o.id: o for o in instance.offers}
        self._by_kind: dict[str, list[Offer]] = {}
        for o in instance.offers:
            self._by_kind.setdefault(o.kind, []).append(o)
        self._here: dict[tuple[str, str], list[Offer]] = {}
        self._largest: dict[tuple[str, str, int], int] = {}

    @staticmethod
    def covers(offer: Offer, kelurahan: str) -> bool:
        return not offer.areas or kelurahan in offer.areas or kelurahan[: kelurahan.rfind(".")] in offer.areas

    def eligible(self, need_id: str, offer: Offer) -> bool:
        """Rule 2."""
        need = self.needs[need_id]
        return (
            need.kind == offer.kind
            and self.covers(offer, need.kelurahan)
            and (not offer.ppks or need.ppks in offer.ppks)
            and (offer.max_per_need is None or self.rest[need_id] <= offer.max_per_need)
        )

    def _largest_take(self, kind: str, kelurahan: str, ppks: int) -> int:
        """The largest remainder some offer could ever take here: ``min(max_per_need, capacity)``."""
        key = (kind, kelurahan, ppks)
        if key not in self._largest:
            place = (kind, kelurahan)
            if place not in self._here:
                self._here[place] = [o for o in self._by_kind.get(kind, []) if self.covers(o, kelurahan)]
            takes = [
                o.capacity if o.max_per_need is None else min(o.capacity, o.max_per_need)
                for o in self._here[place]
                if not o.ppks or ppks in o.ppks
            ]
            self._largest[key] = max(takes, default=-1)
        return self._largest[key]

    def reason(self, need_id: str) -> str:
        """The reason an unmatched need must carry."""
        rest = self.rest[need_id]
        if rest == 0:
            return REASON_COVERED
        need = self.needs[need_id]
        if self.cap is not None and rest > self.cap:
            return REASON_NO_OFFER
        if rest > self._largest_take(need.kind, need.kelurahan, need.ppks):
            return REASON_NO_OFFER
        return REASON_NOT_SELECTED


# --------------------------------------------------------------------------------------------------
# Check
# --------------------------------------------------------------------------------------------------


def check(instance: Instance, result: Result, rules: Rules | None = None) -> list[Violation]:
    """Every breach of the contract by ``result`` (empty: the result is feasible and honest)."""
    rules = rules or Rules(instance)
    out: list[Violation] = []
    if result.version != VERSION or result.period != instance.period:
        out.append(Violation("stats", "result", f"version/period {result.version}/{result.period!r} "
                                                f"do not match the instance ({VERSION}/{instance.period!r})"))
    seen: dict[str, int] = {}
    for need_id in [a.need for a in result.allocations] + [u.need for u in result.unmatched]:
        seen[need_id] = seen.get(need_id, 0) + 1
    for need_id, times in seen.items():
        if need_id not in rules.needs:
            out.append(Violation("coverage", need_id, f"need {need_id} is not in the instance"))
        elif times > 1:
            out.append(Violation("coverage", need_id, f"need {need_id} appears {times} times"))
    for need_id in rules.needs:
        if need_id not in seen:
            out.append(Violation("coverage", need_id, f"need {need_id} is missing from the result"))

    used: dict[str, int] = {}
    per_household: dict[str, int] = {}
    objective = 0
    for a in result.allocations:
        if a.need not in rules.needs:
            continue
        offer = rules.offers.get(a.offer)
        need = rules.needs[a.need]
        rest = rules.rest[a.need]
        if offer is None:
            out.append(Violation("eligibility", a.need, f"need {a.need} allocated to unknown offer {a.offer}"))
            continue
        if rest == 0:
            out.append(Violation("remainder", a.need, f"need {a.need} has remainder 0 but is allocated"))
        elif a.amount != rest:
            out.append(Violation("remainder", a.need, f"need {a.need} allocated {a.amount}, its remainder is {rest}"))
        if not rules.eligible(a.need, offer):
            out.append(Violation("eligibility", a.need, f"need {a.need} is not eligible for offer {a.offer}"))
        used[a.offer] = used.get(a.offer, 0) + a.amount
        per_household[need.household] = per_household.get(need.household, 0) + a.amount
        objective += need.priority
    for offer_id, total in used.items():
        if total > rules.offers[offer_id].capacity:
            out.append(Violation("capacity", offer_id, f"offer {offer_id} allocated {total} against a capacity "
                                                       f"of {rules.offers[offer_id].capacity}"))
    if rules.cap is not None:
        for household, total in per_household.items():
            if total > rules.cap:
                out.append(Violation("household_cap", household, f"household {household} allocated {total} "
                                                                 f"against the household cap of {rules.cap}"))
    for u in result.unmatched:
        if u.need in rules.needs and u.reason != (want := rules.reason(u.need)):
            out.append(Violation("reason", u.need, f"need {u.need} unmatched as {u.reason!r}, the rules give {want!r}"))
    s = result.stats
    if s.objective != objective:
        out.append(Violation("stats", "objective", f"objective {s.objective} but the allocations sum to {objective}"))
    if s.bound < s.objective:
        out.append(Violation("stats", "bound", f"bound {s.bound} below the objective {s.objective}"))
    if s.status not in (STATUS_OPTIMAL, STATUS_FEASIBLE) or (s.status == STATUS_OPTIMAL and s.bound != s.objective):
        out.append(Violation("stats", "status", f"status {s.status} with objective {s.objective}, bound {s.bound}"))
    return out


# --------------------------------------------------------------------------------------------------
# Repair and guard
# --------------------------------------------------------------------------------------------------


def _drop_until_fits(
    allocations: dict[str, Allocation], members: Iterable[str], limit: int, rules: Rules, order: Mapping[str, int]
) -> list[str]:
    """Drop the lowest-priority allocations among ``members`` until their amounts fit ``limit``."""
    members = list(members)
    total = sum(allocations[n].amount for n in members)
    dropped = []
    worst_first = sorted(members, key=lambda n: (rules.needs[n].priority, -allocations[n].amount, -order[n]))
    for need_id in worst_first:
        if total <= limit:
            break
        total -= allocations.pop(need_id).amount
        dropped.append(need_id)
    return dropped


def repair(instance: Instance, result: Result, rules: Rules | None = None) -> tuple[Result, list[dict[str, str]]]:
    """A feasible result as close to ``result`` as the rules allow, and what was dropped and why."""
    rules = rules or Rules(instance)
    order = {n.id: i for i, n in enumerate(instance.needs)}
    kept: dict[str, Allocation] = {}
    dropped: list[dict[str, str]] = []

    def drop(a: Allocation, why: str) -> None:
        dropped.append({"need": a.need, "offer": a.offer, "why": why})

    for a in result.allocations:
        if a.need not in rules.needs:
            drop(a, "need not in the instance")
        elif a.need in kept:
            drop(a, "need allocated twice")
        elif a.offer not in rules.offers:
            drop(a, "unknown offer")
        elif rules.rest[a.need] == 0:
            drop(a, "remainder 0 (covered by government aid)")
        elif not rules.eligible(a.need, rules.offers[a.offer]):
            drop(a, "not eligible for the offer")
        else:
            kept[a.need] = Allocation(a.need, a.offer, rules.rest[a.need])
    by_offer: dict[str, list[str]] = {}
    for a in kept.values():
        by_offer.setdefault(a.offer, []).append(a.need)
    for offer_id in sorted(by_offer):
        capacity = rules.offers[offer_id].capacity
        for need_id in _drop_until_fits(kept, by_offer[offer_id], capacity, rules, order):
            drop(Allocation(need_id, offer_id, rules.rest[need_id]), f"capacity of offer {offer_id} exceeded")
    if rules.cap is not None:
        by_household: dict[str, list[str]] = {}
        for a in kept.values():
            by_household.setdefault(rules.needs[a.need].household, []).append(a.need)
        for household in sorted(by_household):
            offer_of = {n: kept[n].offer for n in by_household[household]}
            for need_id in _drop_until_fits(kept, by_household[household], rules.cap, rules, order):
                drop(Allocation(need_id, offer_of[need_id], rules.rest[need_id]),
                     f"household cap of {household} exceeded")  # fmt: skip

    allocations = tuple(sorted(kept.values(), key=lambda a: order[a.need]))
    unmatched = tuple(Unmatched(n.id, rules.reason(n.id)) for n in instance.needs if n.id not in kept)
    objective = sum(rules.needs[a.need].priority for a in allocations)
    bound = result.stats.bound
    if bound < objective:  # the solver's bound is wrong: fall back to one that is trivially valid
        bound = sum(n.priority for n in instance.needs if rules.reason(n.id) != REASON_NO_OFFER and rules.rest[n.id])
    status = STATUS_OPTIMAL if objective == bound else STATUS_FEASIBLE
    fixed = replace(
        result,
        version=VERSION,
        period=instance.period,
        allocations=allocations,
        unmatched=unmatched,
        stats=Stats(status, objective, bound, result.stats.seconds),
    )
    return fixed, dropped


def guard(instance: Instance, result: Result) -> Result:
    """Check ``result``; a breach is a solver bug: log it, repair it and report it in ``info["guard"]``."""
    rules = Rules(instance)
    found = check(instance, result, rules)
    info: dict[str, Any] = dict(result.info)
    if not found:
        info["guard"] = {"violations": 0}
        return replace(result, info=info)
    fixed, dropped = repair(instance, result, rules)
    again = check(instance, fixed, rules)
    if again:  # the repair itself is wrong: never hand out an infeasible result
        raise RuntimeError(f"matching result still infeasible after repair: {again[0].message}")
    by_rule: dict[str, int] = {}
    for v in found:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    log.error(
        "matching result broke the contract (%s); repaired by dropping %d allocation(s). First: %s",
        ", ".join(f"{k} {v}" for k, v in sorted(by_rule.items())), len(dropped), found[0].message,
    )
    info["guard"] = {
        "violations": len(found),
        "by_rule": by_rule,
        "messages": [v.message for v in found[:MAX_LISTED]],
        "dropped": len(dropped),
        "dropped_allocations": dropped[:MAX_LISTED],
        "objective_before": result.stats.objective,
    }
    return replace(fixed, info=info)


# --------------------------------------------------------------------------------------------------
# The JSON form
# --------------------------------------------------------------------------------------------------


def parse_result(data: Any) -> Result:
    """A result dict (the contract's JSON form) as a :class:`Result`; raises ``ValueError`` on a bad form."""
    if not isinstance(data, dict):
        raise ValueError("result must be a JSON object")
    try:
        stats = data["stats"]
        if set(stats) != {"status", "objective", "bound", "seconds"}:
            raise ValueError(f"stats must hold status, objective, bound and seconds, got {sorted(stats)}")
        unmatched = tuple(Unmatched(str(u["need"]), str(u["reason"])) for u in data["unmatched"])
        for u in unmatched:
            if u.reason not in REASONS:
                raise ValueError(f"need {u.need}: unknown reason {u.reason!r}")
        return Result(
            period=str(data["period"]),
            version=int(data["version"]),
            allocations=tuple(
                Allocation(str(a["need"]), str(a["offer"]), int(a["amount"])) for a in data["allocations"]
            ),
            unmatched=unmatched,
            stats=Stats(str(stats["status"]), int(stats["objective"]), int(stats["bound"]), float(stats["seconds"])),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"result does not have the contract's form: {exc!r}") from exc

"""An independent re-implementation of the contract rules, used to check results and brute-force optima.

Deliberately does not import anything from ``matching`` except nothing at all: rules are re-read from
the contract (matching-v1) and written again here, on plain dicts.
"""

from __future__ import annotations

import itertools
from typing import Any


def rest_of(instance: dict[str, Any]) -> dict[str, int]:
    """Rule 1: amount minus the same household's aid of the same kind (all programmes), floored at 0."""
    out = {}
    for need in instance["needs"]:
        aid = sum(
            g["amount"]
            for g in instance.get("government_aid", [])
            if g["household"] == need["household"] and g["kind"] == need["kind"]
        )
        out[need["id"]] = max(0, need["amount"] - aid)
    return out


def may_give(need: dict[str, Any], offer: dict[str, Any], rest: int) -> bool:
    """Rule 2 on plain dicts."""
    if need["kind"] != offer["kind"]:
        return False
    kel = need["kelurahan"]
    kec = ".".join(kel.split(".")[:3])
    if offer["areas"] and kel not in offer["areas"] and kec not in offer["areas"]:
        return False
    if offer["ppks"] and need["ppks"] not in offer["ppks"]:
        return False
    limit = offer.get("max_per_need")
    return limit is None or rest <= limit


def could_ever_take(need: dict[str, Any], offer: dict[str, Any], rest: int, cap: int | None) -> bool:
    return may_give(need, offer, rest) and rest <= offer["capacity"] and (cap is None or rest <= cap)


def check_result(instance: dict[str, Any], result: dict[str, Any]) -> int:
    """Assert every contract rule on ``result``; returns the objective recomputed here."""
    assert result["version"] == 1
    assert result["period"] == instance["period"]
    needs = {n["id"]: n for n in instance["needs"]}
    offers = {o["id"]: o for o in instance["offers"]}
    rest = rest_of(instance)
    cap = instance.get("household_cap")

    seen = [a["need"] for a in result["allocations"]] + [u["need"] for u in result["unmatched"]]
    assert sorted(seen) == sorted(needs), "every need exactly once"
    assert len(seen) == len(set(seen))

    used = dict.fromkeys(offers, 0)
    per_household: dict[str, int] = {}
    objective = 0
    for a in result["allocations"]:
        need, offer = needs[a["need"]], offers[a["offer"]]
        assert rest[need["id"]] > 0, "remainder 0 is never matched"
        assert a["amount"] == rest[need["id"]], "a matched need receives exactly its remainder"
        assert may_give(need, offer, a["amount"]), f"{need['id']} not eligible for {offer['id']}"
        used[offer["id"]] += a["amount"]
        per_household[need["household"]] = per_household.get(need["household"], 0) + a["amount"]
        objective += need["priority"]
    for oid, total in used.items():
        assert total <= offers[oid]["capacity"], f"capacity of {oid}"
    if cap is not None:
        for hh, total in per_household.items():
            assert total <= cap, f"household cap of {hh}"

    for u in result["unmatched"]:
        need = needs[u["need"]]
        r = rest[need["id"]]
        if r == 0:
            assert u["reason"] == "covered_by_government"
        elif any(could_ever_take(need, o, r, cap) for o in instance["offers"]):
            assert u["reason"] == "not_selected"
        else:
            assert u["reason"] == "no_eligible_offer"

    stats = result["stats"]
    assert stats["objective"] == objective
    assert stats["bound"] >= objective
    assert stats["status"] in ("OPTIMAL", "FEASIBLE")
    if stats["status"] == "OPTIMAL":
        assert stats["bound"] == objective
    assert set(stats) == {"status", "objective", "bound", "seconds"}
    return objective


def brute_force(instance: dict[str, Any]) -> int:
    """The optimum by enumerating, for each need, "none" or one eligible offer (tiny instances only)."""
    rest = rest_of(instance)
    cap = instance.get("household_cap")
    needs = [n for n in instance["needs"] if rest[n["id"]] > 0]
    choices = [[None] + [o for o in instance["offers"] if may_give(n, o, rest[n["id"]])] for n in needs]
    best = 0
    for pick in itertools.product(*choices):
        used: dict[str, int] = {}
        hh: dict[str, int] = {}
        value = 0
        ok = True
        for need, offer in zip(needs, pick, strict=True):
            if offer is None:
                continue
            r = rest[need["id"]]
            used[offer["id"]] = used.get(offer["id"], 0) + r
            hh[need["household"]] = hh.get(need["household"], 0) + r
            if used[offer["id"]] > offer["capacity"] or (cap is not None and hh[need["household"]] > cap):
                ok = False
                break
            value += need["priority"]
        if ok:
            best = max(best, value)
    return best

"""The tests' use of the independent checker (``matching.checker``), plus brute-force optima.

``check_result`` reads both sides in their JSON form, so the serialisation is checked too.
"""

from __future__ import annotations

import itertools
from typing import Any

from matching import parse_instance
from matching.checker import check, parse_result


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


def check_result(instance: dict[str, Any], result: dict[str, Any]) -> int:
    """Assert every contract rule on ``result`` (JSON form); returns the objective recomputed here."""
    parsed = parse_instance(instance)
    violations = check(parsed, parse_result(result))
    assert not violations, [v.message for v in violations[:10]]
    rest = rest_of(instance)
    needs = {n["id"]: n for n in instance["needs"]}
    return sum(needs[a["need"]]["priority"] for a in result["allocations"] if rest[a["need"]] > 0)


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

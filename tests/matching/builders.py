"""Small instance builders for the matching tests (plain dicts in the contract's form)."""

from __future__ import annotations

from typing import Any

KEL = "32.73.03.1001"


def need(id: str, amount: int, priority: int = 10, **kw: Any) -> dict[str, Any]:
    d = {
        "id": id,
        "household": kw.pop("household", f"KK-{id}"),
        "kelurahan": kw.pop("kelurahan", KEL),
        "ppks": kw.pop("ppks", 24),
        "kind": kw.pop("kind", "pangan"),
        "amount": amount,
        "priority": priority,
    }
    d.update(kw)
    return d


def offer(id: str, capacity: int, **kw: Any) -> dict[str, Any]:
    d = {
        "id": id,
        "lks": kw.pop("lks", f"LKS-{id}"),
        "kind": kw.pop("kind", "pangan"),
        "capacity": capacity,
        "areas": kw.pop("areas", []),
        "ppks": kw.pop("ppks", []),
    }
    d.update(kw)
    return d


def aid(household: str, amount: int, kind: str = "pangan", program: str = "BPNT") -> dict[str, Any]:
    return {"household": household, "kind": kind, "program": program, "amount": amount}


def instance(
    needs: list[dict[str, Any]],
    offers: list[dict[str, Any]],
    government_aid: list[dict[str, Any]] | None = None,
    household_cap: int | None = None,
) -> dict[str, Any]:
    d: dict[str, Any] = {
        "version": 1,
        "period": "2026-11",
        "needs": needs,
        "offers": offers,
        "government_aid": government_aid or [],
    }
    if household_cap is not None:
        d["household_cap"] = household_cap
    return d

"""The LKS's matched households for the API, paged by allocation id (``WHERE id > after``): the same
scope as the LKS's page (``storage/delivery.py``: its own allocations, approved or later), NIK masked."""

from __future__ import annotations

from typing import Any

from marketplace.approval import end_of_period
from marketplace.identity import mask
from marketplace.regions import name_of
from storage.crypto import vault
from storage.delivery import ASSIGNED, household_columns
from storage.tables import Allocation, Member

MAX_ID = 2**31 - 1


async def households_after(lks_id: int, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    after = min(max(after, 0), MAX_ID)
    limit = max(1, min(limit, 200))
    rows = await Allocation.select(*household_columns()).where(
        (Allocation.lks == lks_id) & Allocation.status.is_in(ASSIGNED) & (Allocation.id > after)).order_by(
        Allocation.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    heads: dict[int, dict[str, Any]] = {}
    ids = sorted({r["household_id"] for r in rows})
    if ids:
        for m in await Member.select(Member.household, Member.name, Member.nik_cipher, Member.relation).where(
                Member.household.is_in(ids)).order_by(Member.id):
            if m["household"] not in heads or (m["relation"] == "kepala"
                                               and heads[m["household"]]["relation"] != "kepala"):
                heads[m["household"]] = m
    ring = vault()  # one key ring for the page, not one stat() per row
    for r in rows:
        head = heads.get(r["household_id"])
        r["head_name"] = head["name"] if head else ""
        r["nik_masked"] = mask(ring.decrypt(head["nik_cipher"])) if head else ""
        r["kelurahan_name"] = name_of(r["kelurahan_code"])
        r["deliver_by"] = r["deliver_by"] or end_of_period(r["period"])
        unit_value = int(r["unit_value"] or 0)
        r["units"] = -(-int(r["amount"]) // unit_value) if r["is_goods"] and unit_value else None
    return rows, (rows[-1]["id"] if more and rows else None)

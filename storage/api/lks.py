"""The LKS's matched households for the API, paged by allocation id (``WHERE id > after``): the same
scope as the LKS's page (``storage/delivery.py``: its own allocations, approved or later), NIK masked."""

from __future__ import annotations

from typing import Any

from marketplace.approval import end_of_period
from marketplace.identity import mask
from marketplace.regions import name_of
from storage.crypto import vault
from storage.delivery import ASSIGNED
from storage.tables import Allocation, Member

MAX_ID = 2**31 - 1


async def households_after(lks_id: int, after: int, limit: int) -> tuple[list[dict[str, Any]], int | None]:
    after = min(max(after, 0), MAX_ID)
    limit = max(1, min(limit, 200))
    rows = await Allocation.select(
        Allocation.id, Allocation.status, Allocation.amount, Allocation.deliver_by,
        Allocation.round._.period.as_alias("period"), Allocation.need._.kind.as_alias("kind"),
        Allocation.offer._.is_goods.as_alias("is_goods"), Allocation.offer._.unit.as_alias("unit"),
        Allocation.offer._.unit_value.as_alias("unit_value"),
        Allocation.need._.household.as_alias("household_id"),
        Allocation.need._.household._.address.as_alias("address"),
        Allocation.need._.household._.rt.as_alias("rt"), Allocation.need._.household._.rw.as_alias("rw"),
        Allocation.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
        Allocation.need._.household._.phone.as_alias("phone"),
    ).where((Allocation.lks == lks_id) & Allocation.status.is_in(ASSIGNED) & (Allocation.id > after)).order_by(
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
    for r in rows:
        head = heads.get(r["household_id"])
        r["head_name"] = head["name"] if head else ""
        r["nik_masked"] = mask(vault().decrypt(head["nik_cipher"])) if head else ""
        r["kelurahan_name"] = name_of(r["kelurahan_code"])
        r["deliver_by"] = r["deliver_by"] or end_of_period(r["period"])
        unit_value = int(r["unit_value"] or 0)
        r["units"] = -(-int(r["amount"]) // unit_value) if r["is_goods"] and unit_value else None
    return rows, (rows[-1]["id"] if more and rows else None)

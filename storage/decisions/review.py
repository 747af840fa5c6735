"""What ``/alokasi`` shows of a round at city scale: a summary (counts and rupiah by kecamatan, LKS and kind
for the current filters) and the rows in review order, paged by key.

The summary groups a whole round (100,000 allocations and more), so it is computed once per state of the
data and kept: its key holds the audit trail's head, and every change to allocations (a round, a decision,
a delivery) appends an audit event, so a kept summary is never stale. Reading the head is one row by
primary key.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from storage.approval import ProposalFilter
from storage.tables import Allocation, AuditHead

PAGE_SIZE = 50
_CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], Summary] = OrderedDict()
_computing: dict[tuple[Any, ...], asyncio.Lock] = {}


@dataclass(frozen=True)
class Summary:
    count: int = 0
    amount: int = 0
    by_kecamatan: list[tuple[str, int, int]] = field(default_factory=list)
    """(kecamatan code, allocations, rupiah), largest first; likewise by LKS id and by kind."""
    by_lks: list[tuple[int, int, int]] = field(default_factory=list)
    by_kind: list[tuple[str, int, int]] = field(default_factory=list)


def _where(round_id: int, f: ProposalFilter) -> tuple[str, list[Any]]:
    where: list[str] = ["a.round = {}"]
    args: list[Any] = [round_id]
    if f.status:
        where.append("a.status = {}")
        args.append(f.status)
    if f.kecamatan:
        where.append("h.kelurahan_code LIKE {}")
        args.append(f.kecamatan + ".%")
    if f.lks_id:
        where.append("a.lks = {}")
        args.append(f.lks_id)
    if f.kind:
        where.append("n.kind = {}")
        args.append(f.kind)
    if f.min_priority is not None:
        where.append("a.priority >= {}")
        args.append(f.min_priority)
    return " AND ".join(where), args


async def _version() -> tuple[int, str]:
    """The audit chain's head (id and hash): it moves with every change and never comes back."""
    head = await AuditHead.select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).first()
    return (int(head["last_id"]), str(head["last_hash"])) if head else (0, "")


async def summary(round_id: int, f: ProposalFilter) -> Summary:
    """The summary of what ``f`` selects in the round (kept until the data changes).

    Computed once per key even when many officers open the page at once (after a decision every open page
    asks for the new state): the others wait for the first one's answer instead of each grouping the round."""
    key = (await _version(), round_id, f)
    kept = _cache.get(key)
    if kept is not None:
        _cache.move_to_end(key)
        return kept
    lock = _computing.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            kept = _cache.get(key)
            if kept is not None:
                return kept
            result = await _summarise(round_id, f)
            _cache[key] = result
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
            return result
    finally:
        if not lock.locked():
            _computing.pop(key, None)


async def _summarise(round_id: int, f: ProposalFilter) -> Summary:
    where, args = _where(round_id, f)
    rows = await Allocation.raw(
        "SELECT substr(h.kelurahan_code, 1, 8) AS kecamatan, a.lks AS lks, n.kind AS kind, "  # noqa: S608
        "COUNT(*) AS n, SUM(a.amount) AS amount FROM allocation a JOIN need n ON n.id = a.need "
        f"JOIN household h ON h.id = n.household WHERE {where} GROUP BY 1, 2, 3", *args)
    kec: dict[str, list[int]] = {}
    lks: dict[int, list[int]] = {}
    kind: dict[str, list[int]] = {}
    for r in rows:
        n, amount = int(r["n"]), int(r["amount"] or 0)
        buckets: list[tuple[dict[Any, list[int]], Any]] = [(kec, r["kecamatan"]), (lks, int(r["lks"])),
                                                           (kind, r["kind"])]
        for bucket, k in buckets:
            cell = bucket.setdefault(k, [0, 0])
            cell[0] += n
            cell[1] += amount

    def ordered(bucket: dict[Any, list[int]]) -> list[Any]:
        return sorted(((k, v[0], v[1]) for k, v in bucket.items()), key=lambda t: (-t[2], str(t[0])))

    return Summary(sum(v[0] for v in kind.values()), sum(v[1] for v in kind.values()),
                   ordered(kec), ordered(lks), ordered(kind))


def parse_after(value: Any) -> tuple[int, int] | None:
    """The key of the last row of the previous page, ``PRIORITY.ID`` (from the query string)."""
    text = str(value or "")
    head, _, tail = text.partition(".")
    if not head.lstrip("-").isdigit() or not tail.isdigit():
        return None
    priority, last_id = int(head), int(tail)
    if not -(2**31) <= priority < 2**31 or not 0 <= last_id < 2**31:
        return None
    return priority, last_id


async def rows(round_id: int, f: ProposalFilter, after: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """One page in review order (priority high to low, then id), after the key of the previous page."""
    where, args = _where(round_id, f)
    if after is not None:
        where += " AND (a.priority < {} OR (a.priority = {} AND a.id > {}))"
        args += [after[0], after[0], after[1]]
    return list(await Allocation.raw(
        "SELECT a.id, a.amount, a.priority, a.status, a.explanation, a.rejection_reason, a.lks AS lks_id, "  # noqa: S608
        "l.name AS lks_name, n.kind, n.ppks, n.id AS need_id, h.kelurahan_code, o.title AS offer_title "
        "FROM allocation a JOIN need n ON n.id = a.need JOIN household h ON h.id = n.household "
        "JOIN lks l ON l.id = a.lks JOIN offer o ON o.id = a.offer "
        f"WHERE {where} ORDER BY a.priority DESC, a.id LIMIT {PAGE_SIZE}", *args))

"""A donor's own impact: each gift traced through its LKS's ledger to the deliveries it funded.

Method (shown on the page): per LKS, periods are taken in order; a gift joins the LKS's pool of unspent
gifts in the month it was received (net of refunds); what the LKS allocated in a period (approved
allocations paid from its ledger) is taken from the pool pro rata to each gift's unspent remainder. A
gift's share of a period's spending is its share of that period's deliveries: the households reached
are that share of the LKS's confirmed deliveries of the period (a suppressed figure stays suppressed).
Other donors' gifts are used only as sums, never shown.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage import setwise
from storage.tables import AuditHead, Donation, LedgerEntry, LksReport


def _period(when: Any) -> str:
    if isinstance(when, datetime):
        return f"{when.year:04d}-{when.month:02d}"
    return str(when)[:7]


@dataclass
class FundedPeriod:
    period: str
    amount: int
    """Rupiah of this gift spent on the period's allocations."""
    share: float
    """This gift's part of what the LKS allocated in the period (0..1)."""


@dataclass
class TracedGift:
    donation_id: int
    lks_id: int
    lks_name: str
    amount: int
    net: int
    received: str
    status: str
    receipt_number: str | None
    funded: list[FundedPeriod] = field(default_factory=list)

    @property
    def unspent(self) -> int:
        return self.net - sum(f.amount for f in self.funded)


def trace(gifts: list[tuple[int, str, int]], spending: dict[str, int]) -> dict[int, list[FundedPeriod]]:
    """``gifts`` (id, period received, net rupiah) of one LKS and its ``spending`` per period → per gift,
    what it funded. Pure: the pro-rata pool described in the module docstring."""
    pool: dict[int, float] = {}
    out: dict[int, list[FundedPeriod]] = defaultdict(list)
    by_period: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for gift_id, period, net in gifts:
        if net > 0:
            by_period[period].append((gift_id, net))
    for period in sorted(set(by_period) | set(spending)):
        for gift_id, net in by_period.get(period, []):
            pool[gift_id] = pool.get(gift_id, 0.0) + net
        spend = spending.get(period, 0)
        available = sum(pool.values())
        if spend <= 0 or available <= 0:
            continue
        taken = min(float(spend), available)
        for gift_id, remaining in list(pool.items()):
            part = taken * remaining / available
            if part <= 0:
                continue
            pool[gift_id] = remaining - part
            out[gift_id].append(FundedPeriod(period, round(part), part / spend))
    return out


def trace_own(pool_in: dict[str, int], spending: dict[str, int],
              own: list[tuple[int, str, int]]) -> dict[int, list[FundedPeriod]]:
    """:func:`trace` for some of the LKS's gifts, from the sums alone: ``pool_in`` is the net rupiah of all
    its gifts (net > 0) received per period. The pro-rata pool takes the same share of every gift's
    remainder in a period, so a gift's remainder is its net times the product of what each period left;
    O(periods) per gift instead of a pass over every other donor's gift."""
    out: dict[int, list[FundedPeriod]] = defaultdict(list)
    steps: list[tuple[str, float, float]] = []  # (period, taken, available) where the LKS spent
    available = 0.0
    joined: dict[str, int] = {}  # period -> index of the first step at or after it
    for period in sorted(set(pool_in) | set(spending)):
        joined[period] = len(steps)
        available += pool_in.get(period, 0)
        spend = spending.get(period, 0)
        if spend <= 0 or available <= 0:
            continue
        taken = min(float(spend), available)
        steps.append((period, taken, available))
        available -= taken
    for gift_id, period, net in own:
        if net <= 0 or period not in joined:
            continue
        remaining = float(net)
        for step_period, taken, available_then in steps[joined[period]:]:
            part = taken * remaining / available_then
            remaining -= part
            if round(part) <= 0:  # float dust of a pool spent to the end: nothing a donor could read
                continue
            out[gift_id].append(FundedPeriod(step_period, round(part), part / spending[step_period]))
    return out


def _month_sql() -> str:
    when = "coalesce(d.completed_at, d.created_at)"
    return f"to_char({when} AT TIME ZONE 'UTC', 'YYYY-MM')" if setwise.is_postgres() else f"substr({when}, 1, 7)"


def _pool_sql(where: str) -> str:
    return (f"SELECT d.lks AS lks, {_month_sql()} AS period, SUM(d.amount - coalesce(d.refunded_amount, 0)) AS net "  # noqa: S608
            f"FROM donation d WHERE {where} AND d.status IN ('completed', 'refunded') "
            "AND d.amount - coalesce(d.refunded_amount, 0) > 0 GROUP BY 1, 2")


def _spending_sql(where: str) -> str:
    return ("SELECT e.lks AS lks, r.period AS period, -SUM(e.amount) AS spent "  # noqa: S608
            "FROM ledger_entry e JOIN allocation a ON a.id = e.allocation JOIN matching_round r ON r.id = a.round "
            f"WHERE {where} AND e.entry_type = 'allocation' GROUP BY 1, 2")


_SUMS: dict[tuple[int, str], tuple[dict[int, dict[str, int]], dict[int, dict[str, int]]]] = {}


async def _ledger_sums() -> tuple[dict[int, dict[str, int]], dict[int, dict[str, int]]]:
    """Per LKS and period: the net gifts received and what its approved allocations spent (two grouped
    queries over the city, about 0.2 s), kept while the audit trail's head stays (every donation, refund
    and approval is audited) and shared by all donors' views."""
    head = await AuditHead.select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).first()
    key = (int(head["last_id"]), str(head["last_hash"])) if head else (0, "")
    kept = _SUMS.get(key)
    if kept is None:
        pools: dict[int, dict[str, int]] = defaultdict(dict)
        for r in await Donation.raw(_pool_sql("d.lks IS NOT NULL")):
            pools[int(r["lks"])][str(r["period"])] = int(r["net"] or 0)
        spending: dict[int, dict[str, int]] = defaultdict(dict)
        for r in await LedgerEntry.raw(_spending_sql("e.lks IS NOT NULL")):
            spending[int(r["lks"])][str(r["period"])] = int(r["spent"] or 0)
        kept = (pools, spending)
        _SUMS.clear()
        _SUMS[key] = kept
    return kept


_TRACED: OrderedDict[tuple[int, int, str], list[TracedGift]] = OrderedDict()
_TRACED_SIZE = 256
_TRACING: dict[tuple[int, int, str], asyncio.Lock] = {}


async def donor_gifts(account_id: int) -> list[TracedGift]:
    """The donor's gifts traced (newest first), computed once per state of the audit trail and kept for the
    last few hundred donors: a donor's page, its next pages and its yearly statements read the same."""
    head = await AuditHead.select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == 1).first()
    key = (account_id, int(head["last_id"]), str(head["last_hash"])) if head else (account_id, 0, "")
    kept = _TRACED.get(key)
    if kept is not None:
        _TRACED.move_to_end(key)
        return kept
    lock = _TRACING.setdefault(key, asyncio.Lock())  # one view traces, the donor's other tabs wait for it
    try:
        async with lock:
            kept = _TRACED.get(key)
            if kept is None:
                kept = _TRACED[key] = await _trace_donor(account_id)
                while len(_TRACED) > _TRACED_SIZE:
                    _TRACED.popitem(last=False)
            return kept
    finally:
        if not lock.locked():
            _TRACING.pop(key, None)


async def _trace_donor(account_id: int) -> list[TracedGift]:
    own = await (Donation.select(Donation.id, Donation.lks, Donation.lks.name.as_alias("lks_name"), Donation.amount,
                                 Donation.refunded_amount, Donation.status, Donation.completed_at,
                                 Donation.created_at, Donation.receipt_number)
                 .where((Donation.donor.account == account_id)
                        & Donation.status.is_in(["completed", "refunded"]))
                 .order_by(Donation.id))
    traced: list[TracedGift] = []
    lks_ids = sorted({int(d["lks"]) for d in own})
    if not lks_ids:
        return traced
    pools, spending = await _ledger_sums()
    by_lks: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for d in own:
        by_lks[int(d["lks"])].append(d)
    for lks_id in lks_ids:
        mine = by_lks[lks_id]
        funded = trace_own(pools[lks_id], spending[lks_id], [
            (int(d["id"]), _period(d["completed_at"] or d["created_at"]),
             int(d["amount"]) - int(d["refunded_amount"] or 0)) for d in mine])
        for d in mine:
            net = int(d["amount"]) - int(d["refunded_amount"] or 0)
            traced.append(TracedGift(int(d["id"]), lks_id, d["lks_name"], int(d["amount"]), max(net, 0),
                                     _period(d["completed_at"] or d["created_at"]), d["status"], d["receipt_number"],
                                     funded.get(int(d["id"]), [])))
    traced.sort(key=lambda g: g.donation_id, reverse=True)
    return traced


async def approved_reports(lks_ids: set[int]) -> dict[tuple[int, str], dict[str, Any]]:
    """The LKS's approved periodic reports, by (LKS, period): what donors are told the LKS did."""
    if not lks_ids:
        return {}
    rows = await LksReport.select(LksReport.id, LksReport.lks, LksReport.period, LksReport.delivered_summary,
                                  LksReport.not_delivered, LksReport.fund_balance).where(
        LksReport.lks.is_in(sorted(lks_ids)) & (LksReport.status == "approved"))
    return {(int(r["lks"]), r["period"]): r for r in rows}

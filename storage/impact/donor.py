"""A donor's own impact: each gift traced through its LKS's ledger to the deliveries it funded.

Method (shown on the page): per LKS, periods are taken in order; a gift joins the LKS's pool of unspent
gifts in the month it was received (net of refunds); what the LKS allocated in a period (approved
allocations paid from its ledger) is taken from the pool pro rata to each gift's unspent remainder. A
gift's share of a period's spending is its share of that period's deliveries: the households reached
are that share of the LKS's confirmed deliveries of the period (a suppressed figure stays suppressed).
Other donors' gifts are used only as sums, never shown.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from storage.tables import Donation, LedgerEntry, LksReport


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


_SPENDING_SQL = """
SELECT r.period AS period, -SUM(e.amount) AS spent
FROM ledger_entry e JOIN allocation a ON a.id = e.allocation JOIN matching_round r ON r.id = a.round
WHERE e.lks = {} AND e.entry_type = 'allocation'
GROUP BY r.period
"""


async def donor_gifts(account_id: int) -> list[TracedGift]:
    own = await (Donation.select(Donation.id, Donation.lks, Donation.lks.name.as_alias("lks_name"), Donation.amount,
                                 Donation.refunded_amount, Donation.status, Donation.completed_at,
                                 Donation.created_at, Donation.receipt_number)
                 .where((Donation.donor.account == account_id)
                        & Donation.status.is_in(["completed", "refunded"]))
                 .order_by(Donation.id))
    traced: list[TracedGift] = []
    for lks_id in sorted({int(d["lks"]) for d in own}):
        all_gifts = await Donation.select(Donation.id, Donation.amount, Donation.refunded_amount,
                                          Donation.completed_at, Donation.created_at).where(
            (Donation.lks == lks_id) & Donation.status.is_in(["completed", "refunded"]))
        spending = {r["period"]: int(r["spent"] or 0) for r in await LedgerEntry.raw(_SPENDING_SQL, lks_id)}
        funded = trace([(int(g["id"]), _period(g["completed_at"] or g["created_at"]),
                         int(g["amount"]) - int(g["refunded_amount"] or 0)) for g in all_gifts], spending)
        for d in own:
            if int(d["lks"]) != lks_id:
                continue
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

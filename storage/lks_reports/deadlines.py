"""Report deadlines from the database: Dinsos's policy (grace period, edited and audited), each LKS's
standing (missing, overdue, paused), and the set of paused LKS that offers and matching rounds consult.
The rules themselves are ``marketplace.lks_reports`` (``standing``)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from marketplace import clock
from marketplace.audit import AuditEvent
from marketplace.lks_reports import Missing, Policy, Standing, check_may_offer, parse_grace, period_of, standing
from marketplace.settings import get_settings
from marketplace.vocabulary import LksStatus
from storage.tables import Lks, LksReport, ReportPolicy
from storage.uow import unit_of_work


def _day(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return clock.local_date(value)
    return value if isinstance(value, date) else None


def _verified_on(value: Any) -> date:
    """A verified LKS without a verification time (imported, or verified before it was kept) reports from
    the policy's first period."""
    return _day(value) or date(2000, 1, 1)


def today() -> date:
    return clock.today()


async def policy() -> Policy:
    """The stored policy; the first read creates it, requiring reports from the current period on (so
    turning the rule on never pauses an LKS for months nobody asked it to report)."""
    row = await ReportPolicy.select().order_by(ReportPolicy.id).first()
    if row is None:
        await ReportPolicy.insert(ReportPolicy(grace_days=14, first_period=period_of(today())))
        row = await ReportPolicy.select().order_by(ReportPolicy.id).first()
        assert row is not None
    return Policy(get_settings().report_due_days, int(row["grace_days"]), str(row["first_period"]))


async def set_grace(raw: str, actor: str, account_id: int | None) -> int:
    """Dinsos sets the grace period (days after the due date before new offers are paused)."""
    grace = parse_grace(raw)
    current = await policy()
    async with unit_of_work() as uow:
        row = await ReportPolicy.select(ReportPolicy.id).order_by(ReportPolicy.id).first()
        assert row is not None
        await ReportPolicy.update({ReportPolicy.grace_days: grace, ReportPolicy.updated_by: account_id,
                                   ReportPolicy.updated_at: datetime.now(UTC)}).where(ReportPolicy.id == row["id"])
        await uow.record(AuditEvent(actor, "report_policy.update", "report_policy", str(row["id"]),
                                    {"grace_days": current.grace_days}, {"grace_days": grace}))
    return grace


ReportsByPeriod = dict[str, tuple[str, date | None]]


async def _reports_by_lks(lks_ids: list[int] | None, first_period: str) -> dict[int, ReportsByPeriod]:
    where: Any = LksReport.period >= first_period
    if lks_ids is not None:
        where = where & LksReport.lks.is_in(lks_ids)
    rows = await LksReport.select(LksReport.lks, LksReport.period, LksReport.status, LksReport.decided_at).where(where)
    out: dict[int, ReportsByPeriod] = defaultdict(dict)
    for r in rows:
        out[int(r["lks"])][r["period"]] = (r["status"], _day(r["decided_at"]))
    return out


async def standing_of(lks_id: int, on: date | None = None) -> Standing:
    rule = await policy()
    lks = await Lks.select(Lks.status, Lks.verified_at).where(Lks.id == lks_id).first()
    if lks is None or lks["status"] != LksStatus.VERIFIED:
        return Standing(())
    reports = (await _reports_by_lks([lks_id], rule.first_period)).get(lks_id, {})
    return standing(rule, _verified_on(lks["verified_at"]), reports, on or today())


async def check_offers_allowed(lks_id: int) -> None:
    """Raises ``OffersPaused`` (an Indonesian message) when the LKS's offers are paused."""
    check_may_offer(await standing_of(lks_id))


@dataclass(frozen=True, slots=True)
class LateLks:
    lks_id: int
    name: str
    missing: tuple[Missing, ...]

    @property
    def paused(self) -> bool:
        return any(m.paused for m in self.missing)


async def all_standings(on: date | None = None) -> list[LateLks]:
    """Every verified LKS with a missing report whose period has ended (two queries, whatever the count)."""
    rule = await policy()
    day = on or today()
    lks_rows = await Lks.select(Lks.id, Lks.name, Lks.verified_at).where(Lks.status == LksStatus.VERIFIED
                                                                         ).order_by(Lks.name)
    reports = await _reports_by_lks(None, rule.first_period)
    out = []
    for row in lks_rows:
        state = standing(rule, _verified_on(row["verified_at"]), reports.get(int(row["id"]), {}), day)
        if state.missing:
            out.append(LateLks(int(row["id"]), row["name"], state.missing))
    return out


async def overdue_lks(on: date | None = None) -> list[LateLks]:
    return [late for late in await all_standings(on) if any(m.overdue for m in late.missing)]


async def paused_lks_ids(on: date | None = None) -> set[int]:
    """LKS whose offers matching rounds must leave out."""
    return {late.lks_id for late in await all_standings(on) if late.paused}

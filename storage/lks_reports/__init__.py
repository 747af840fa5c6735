"""LKS periodic reports: submit (the LKS, with its ledger balance, which it confirms), decide (Dinsos),
and read (approved reports are public). One transaction and one audit event per change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.lks_reports import ReportError, ReportInput, ReportStatus, decide, may_submit
from storage.ledger import balance
from storage.tables import LksReport
from storage.uow import unit_of_work

PAGE_SIZE = 50


class ReportNotFound(ReportError):
    def __init__(self, report_id: int) -> None:
        super().__init__(f"Laporan #{report_id} tidak ada.")


async def submit(lks_id: int, account_id: int | None, data: ReportInput, actor: str) -> int:
    async with unit_of_work() as uow:
        existing = await LksReport.select(LksReport.id, LksReport.status).where(
            (LksReport.lks == lks_id) & (LksReport.period == data.period)).first()
        may_submit(existing["status"] if existing else None)
        fund = await balance(lks_id)
        values = {LksReport.delivered_summary: data.delivered_summary, LksReport.not_delivered: data.not_delivered,
                  LksReport.fund_balance: fund, LksReport.balance_confirmed: True,
                  LksReport.status: ReportStatus.SUBMITTED, LksReport.submitted_by: account_id,
                  LksReport.submitted_at: datetime.now(UTC), LksReport.decided_by: None,
                  LksReport.decided_at: None, LksReport.decision_note: ""}
        if existing:
            report_id = int(existing["id"])
            await LksReport.update(values).where(LksReport.id == report_id)  # type: ignore[arg-type]
        else:
            rows = await LksReport.insert(LksReport(lks=lks_id, period=data.period)).returning(LksReport.id)
            report_id = int(rows[0]["id"])
            await LksReport.update(values).where(LksReport.id == report_id)  # type: ignore[arg-type]
        await uow.record(AuditEvent(actor, "lks_report.submit", "lks_report", str(report_id),
                                    {"status": existing["status"]} if existing else None,
                                    {"status": "submitted", "lks": lks_id, "period": data.period,
                                     "fund_balance": fund}))
    return report_id


async def decide_report(report_id: int, action: str, note: str, actor: str, account_id: int | None) -> str:
    async with unit_of_work() as uow:
        row = await LksReport.select(LksReport.status).where(LksReport.id == report_id).first()
        if row is None:
            raise ReportNotFound(report_id)
        status, clean = decide(row["status"], action, note)
        done = await LksReport.update({LksReport.status: status, LksReport.decision_note: clean,
                                       LksReport.decided_by: account_id, LksReport.decided_at: datetime.now(UTC)}
                                      ).where((LksReport.id == report_id)
                                              & (LksReport.status == ReportStatus.SUBMITTED)).returning(LksReport.id)
        if not done:
            raise ReportError("Laporan ini sudah diputuskan.")
        await uow.record(AuditEvent(actor, f"lks_report.{action}", "lks_report", str(report_id),
                                    {"status": row["status"]}, {"status": status}))
    return status


async def reports_of(lks_id: int, approved_only: bool = False, limit: int = 24) -> list[dict[str, Any]]:
    where: Any = LksReport.lks == lks_id
    if approved_only:
        where = where & (LksReport.status == ReportStatus.APPROVED)
    return await LksReport.select().where(where).order_by(LksReport.period, ascending=False).limit(limit)


async def submitted(page: int = 1) -> tuple[list[dict[str, Any]], int]:
    where = LksReport.status == ReportStatus.SUBMITTED
    total = await LksReport.count().where(where)
    rows = await (LksReport.select(*LksReport.all_columns(), LksReport.lks.name.as_alias("lks_name"))
                  .where(where).order_by(LksReport.id).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total

"""LKS periodic reports: submit (the LKS, with up to three photos and its ledger balance, which it
confirms), decide (Dinsos: approve or return), and read (approved reports are public). One transaction and
one audit event per change. Deadlines and the pause of offers: ``storage.lks_reports.deadlines``."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marketplace import clock
from marketplace.audit import AuditEvent
from marketplace.lks_reports import ReportError, ReportInput, ReportStatus, decide, may_submit, parse_report
from marketplace.ports import ObjectStore
from storage.images import clean_photo
from storage.ledger import balance
from storage.tables import LksReport, LksReportPhoto
from storage.uow import unit_of_work

PAGE_SIZE = 50
LINK_LIFETIME = timedelta(minutes=30)


def photo_key(lks_id: int, period: str, token: str, index: int) -> str:
    """Report photos are kept per LKS and period, under an unguessable token."""
    return f"lks-report/lks-{lks_id}/{period}/{token}-{index}.jpg"


async def submit_with_photos(lks_id: int, account_id: int | None, fields: dict[str, str],
                             photos: Sequence[tuple[str, bytes]], store: ObjectStore, actor: str,
                             today: date | None = None) -> int:
    """Check the form (the balance the LKS confirmed must still be its ledger's) and every photo with the
    delivery photos' checks, store the clean copies, then write the report in one transaction; if that
    fails the stored photos are deleted again. Raises ``ReportInvalid``, ``ReportError``, ``PhotoError``."""
    data = parse_report(fields, today or clock.today(), len(photos), await balance(lks_id))
    clean = [clean_photo(content, name or f"foto {i + 1}") for i, (name, content) in enumerate(photos)]
    token = secrets.token_hex(16)
    written: list[str] = []
    try:
        for i, photo in enumerate(clean, start=1):
            key = photo_key(lks_id, data.period, token, i)
            store.put(key, photo.data, photo.content_type)
            written.append(key)
        return await submit(lks_id, account_id, data, actor, [
            (key, p.content_type, len(p.data), p.width, p.height) for key, p in zip(written, clean, strict=True)],
            int(fields["fund_balance_seen"]))  # parse_report checked it is the ledger's balance as a number
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):  # best effort; the original error matters
                store.delete(key)
        raise


class ReportNotFound(ReportError):
    def __init__(self, report_id: int) -> None:
        super().__init__(f"Laporan #{report_id} tidak ada.")


async def submit(lks_id: int, account_id: int | None, data: ReportInput, actor: str,
                 photos: Sequence[tuple[str, str, int, int, int]] = (), confirmed_balance: int | None = None) -> int:
    """``photos``: (object key, content type, size, width, height) of clean copies already stored;
    ``confirmed_balance``: the balance the LKS confirmed, re-checked against the ledger in the transaction."""
    async with unit_of_work() as uow:
        existing = await LksReport.select(LksReport.id, LksReport.status).where(
            (LksReport.lks == lks_id) & (LksReport.period == data.period)).first()
        may_submit(existing["status"] if existing else None)
        fund = await balance(lks_id)
        if confirmed_balance is not None and confirmed_balance != fund:
            raise ReportError("Saldo kas di buku kas LKS berubah sejak halaman ini dibuka; periksa saldo terbaru "
                              "lalu konfirmasi lagi.")
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
        if photos:  # a report sent again after being returned: its new photos replace the old ones
            await LksReportPhoto.delete().where(LksReportPhoto.report == report_id)
            await LksReportPhoto.insert(*[
                LksReportPhoto(report=report_id, object_key=key, content_type=kind, size=size, width=w, height=h)
                for key, kind, size, w, h in photos])
        await uow.record(AuditEvent(actor, "lks_report.submit", "lks_report", str(report_id),
                                    {"status": existing["status"]} if existing else None,
                                    {"status": "submitted", "lks": lks_id, "period": data.period,
                                     "fund_balance": fund, "photos": len(photos)}))
    return report_id


async def decide_report(report_id: int, action: str, note: str, actor: str, account_id: int | None) -> str:
    """Approve, or return for correction (with a reason); the LKS is told (``storage.reminders``)."""
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


async def photo_links(report_ids: Sequence[int], store: ObjectStore) -> dict[int, list[str]]:
    """Signed, short-lived links to the photos of these reports (callers pass only reports the viewer may
    see: its own LKS's, Dinsos's review, or approved ones, which are public)."""
    if not report_ids:
        return {}
    rows = await LksReportPhoto.select(LksReportPhoto.report, LksReportPhoto.object_key).where(
        LksReportPhoto.report.is_in(list(report_ids))).order_by(LksReportPhoto.id)
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(int(r["report"]), []).append(store.download_url(r["object_key"], LINK_LIFETIME))
    return out

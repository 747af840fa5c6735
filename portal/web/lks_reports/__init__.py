"""LKS periodic reports: the LKS sends one per period (``/lks-saya/laporan``), Dinsos decides
(``/admin/laporan-lks``); approved ones appear on the LKS's public page and in its donors' impact view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.lks_reports import ReportError, ReportInvalid, parse_report
from marketplace.vocabulary import Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import page, page_count, page_number
from storage import lks_reports as store
from storage.ledger import balance

STAFF = roles(Role.LKS_STAFF)
DINSOS = roles(Role.DINSOS_ADMIN)
MAX_ID = 2**31 - 1

menu.add("/lks-saya/laporan", "Laporan berkala", Role.LKS_STAFF)
menu.add("/admin/laporan-lks", "Laporan berkala LKS", Role.DINSOS_ADMIN)


async def _own(request: Request[Any, Any, Any], error: str = "", values: dict[str, str] | None = None,
               status_code: int = 200) -> Template:
    user = await current_user(request)
    assert user is not None and user.lks_id is not None
    today = datetime.now(UTC).date()
    return await page(request, "lks_reports/own.html", status_code=status_code, error=error, values=values or {},
                      reports=await store.reports_of(user.lks_id), fund=await balance(user.lks_id),
                      default_period=f"{today.year:04d}-{today.month:02d}")


@get("/lks-saya/laporan", opt=STAFF)
async def own_reports(request: Request[Any, Any, Any]) -> Template:
    return await _own(request)


@post("/lks-saya/laporan", opt=STAFF)
async def submit_report(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await current_user(request)
    assert user is not None and user.lks_id is not None
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("period", "delivered_summary", "not_delivered", "balance_confirmed")}
    try:
        data = parse_report(fields, datetime.now(UTC).date())
        await store.submit(user.lks_id, user.id, data, user.username)
    except ReportInvalid as exc:
        return await _own(request, " ".join(exc.errors.values()), fields, 400)
    except ReportError as exc:
        return await _own(request, str(exc), fields, 400)
    return Redirect(path="/lks-saya/laporan")


@get("/admin/laporan-lks", opt=DINSOS)
async def pending_reports(request: Request[Any, Any, Any]) -> Template:
    number = page_number(request)
    rows, total = await store.submitted(number)
    return await page(request, "lks_reports/pending.html", rows=rows, total=total, hal=number,
                      pages=page_count(total), error="")


@post("/admin/laporan-lks/{report_id:int}/keputusan", opt=DINSOS)
async def decide(request: Request[Any, Any, Any], report_id: FromPath[int]) -> Template | Redirect:
    if not 0 < report_id <= MAX_ID:
        raise NotFoundException()
    user = await current_user(request)
    assert user is not None
    form = await request.form()
    try:
        await store.decide_report(report_id, str(form.get("action", "")), str(form.get("note", "")),
                                  user.username, user.id)
    except store.ReportNotFound:
        raise NotFoundException() from None
    except ReportError as exc:
        rows, total = await store.submitted(1)
        return await page(request, "lks_reports/pending.html", status_code=400, rows=rows, total=total, hal=1,
                          pages=page_count(total), error=str(exc))
    return Redirect(path="/admin/laporan-lks")


ROUTES = [own_reports, submit_report, pending_reports, decide]

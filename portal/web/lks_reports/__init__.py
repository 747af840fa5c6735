"""LKS periodic reports: the LKS sends one per period (``/lks-saya/laporan``) with up to three photos and
its ledger balance confirmed; Dinsos reviews them, sees which LKS are late and sets the grace period before
a late LKS's new offers are paused (``/admin/laporan-lks``); approved reports appear on the LKS's public
page and in its donors' impact view."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import clock
from marketplace.lks_reports import MAX_PHOTOS, ReportError, ReportInvalid
from marketplace.lks_team import LEDGER
from marketplace.ports import STORE_DOWN_MESSAGE, ObjectStoreUnavailable
from marketplace.vocabulary import Role
from portal.auth import current_user, roles
from portal.web import menu
from portal.web.common import page, page_count, page_number
from storage import lks_reports as store
from storage.images import MAX_PHOTO_BYTES, PhotoError
from storage.ledger import balance
from storage.lks_reports import deadlines
from storage.objects import make_object_store
from storage.reminders import send_report_decision

STAFF = roles(Role.LKS_STAFF, right=LEDGER)
"""Reporting confirms the fund balance: the staff who may see the ledger (``marketplace.lks_team``)."""
DINSOS = roles(Role.DINSOS_ADMIN)
MAX_ID = 2**31 - 1
UPLOAD_LIMIT = (MAX_PHOTOS + 1) * MAX_PHOTO_BYTES
FIELDS = ("period", "delivered_summary", "not_delivered", "balance_confirmed", "fund_balance_seen", "photo_consent")

menu.add("/lks-saya/laporan", "Laporan berkala", Role.LKS_STAFF)
menu.add("/admin/laporan-lks", "Laporan berkala LKS", Role.DINSOS_ADMIN)


async def _own(request: Request[Any, Any, Any], errors: dict[str, str] | None = None,
               values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    user = await current_user(request)
    assert user is not None and user.lks_id is not None
    reports = await store.reports_of(user.lks_id)
    state = await deadlines.standing_of(user.lks_id)
    missing = state.missing
    default = missing[0].period if missing else deadlines.period_of(clock.today())
    return await page(request, "lks_reports/own.html", status_code=status_code, errors=errors or {},
                      values=values or {}, reports=reports, fund=await balance(user.lks_id), default_period=default,
                      missing=missing, paused=state.paused, policy=await deadlines.policy(), max_photos=MAX_PHOTOS,
                      photos=await store.photo_links([int(r["id"]) for r in reports], make_object_store()))


@get("/lks-saya/laporan", opt=STAFF)
async def own_reports(request: Request[Any, Any, Any]) -> Template:
    return await _own(request)


@post("/lks-saya/laporan", opt=STAFF, request_max_body_size=UPLOAD_LIMIT)
async def submit_report(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await current_user(request)
    assert user is not None and user.lks_id is not None
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in FIELDS}
    photos: list[tuple[str, bytes]] = []
    for item in form.getall("photos") if "photos" in form else []:
        if isinstance(item, UploadFile) and item.filename:
            photos.append((item.filename[:100], await item.read()))
    try:
        await store.submit_with_photos(user.lks_id, user.id, fields, photos, make_object_store(), user.username)
    except ReportInvalid as exc:
        return await _own(request, exc.errors, fields, 400)
    except (ReportError, PhotoError) as exc:
        return await _own(request, {"form": str(exc)}, fields, 400)
    except ObjectStoreUnavailable:
        response = await _own(request, {"form": STORE_DOWN_MESSAGE}, fields, 503)
        response.headers["Retry-After"] = "5"
        return response
    return Redirect(path="/lks-saya/laporan", query_params={"terkirim": "1"})


async def _pending(request: Request[Any, Any, Any], error: str = "", status_code: int = 200) -> Template:
    number = page_number(request)
    rows, total = await store.submitted(number)
    return await page(request, "lks_reports/pending.html", status_code=status_code, rows=rows, total=total,
                      hal=number, pages=page_count(total), error=error, late=await deadlines.overdue_lks(),
                      policy=await deadlines.policy(),
                      photos=await store.photo_links([int(r["id"]) for r in rows], make_object_store()))


@get("/admin/laporan-lks", opt=DINSOS)
async def pending_reports(request: Request[Any, Any, Any]) -> Template:
    return await _pending(request)


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
        return await _pending(request, str(exc), 400)
    await send_report_decision(report_id)
    return Redirect(path="/admin/laporan-lks")


@post("/admin/laporan-lks/tenggang", opt=DINSOS)
async def set_grace(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await current_user(request)
    assert user is not None
    form = await request.form()
    try:
        await deadlines.set_grace(str(form.get("grace_days", "")), user.username, user.id)
    except ReportError as exc:
        return await _pending(request, str(exc), 400)
    return Redirect(path="/admin/laporan-lks")


ROUTES = [own_reports, submit_report, pending_reports, decide, set_grace]

"""Complaints (pengaduan): the public page (named or anonymous, attachments), the report from the
tracking page that a recorded delivery never arrived, Dinsos's triage, assignment, answer and close, and
``/pengaduan-masuk`` where the staff of the office or LKS a complaint is passed to read and answer it
(only their own; another's id answers 404; an LKS's staff need its deliveries right)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import complaints as rules
from marketplace.complaints import ComplaintError, ComplaintInvalid
from marketplace.lks_team import DELIVERIES
from marketplace.referrals import OFFICES
from marketplace.regions import kelurahan, name_of
from marketplace.vocabulary import Role
from portal.auth import PUBLIC, provide_user, roles
from portal.web import menu
from portal.web.common import client_ip, page
from storage import complaints as service
from storage import registry
from storage.registry import EVIDENCE_MAX

ADMIN = roles(Role.DINSOS_ADMIN)
ASSIGNEES = roles(Role.OFFICE_STAFF, Role.LKS_STAFF, right=DELIVERIES)
"""An LKS's complaints are about the aid it delivered to its matched households (reading one that names a
household is access-logged): its staff answer them with the deliveries right, the one that already
opens those households; the office staff have no rights inside their office."""
MAX_BODY = 35 * 1024 * 1024
MAX_ID = 2**31 - 1
FIELDS = ("category", "description", "anonymous", "name", "contact", "kelurahan", "lks")

menu.add("/admin/pengaduan", "Pengaduan", Role.DINSOS_ADMIN)
menu.add("/pengaduan-masuk", "Pengaduan untuk dijawab", Role.OFFICE_STAFF, Role.LKS_STAFF)


def _id(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) <= MAX_ID else 0


async def _form_page(request: Request[Any, Any, Any], values: dict[str, str], status_code: int = 200,
                     errors: dict[str, str] | None = None, error: str | None = None,
                     ticket: str | None = None) -> Template:
    return await page(request, "complaints/form.html", status_code=status_code, values=values, errors=errors or {},
                      error=error, ticket=ticket, categories=rules.CATEGORIES, lks_options=await service.verified_lks(),
                      kelurahan_options=[(r.code, r.name) for r in kelurahan()])


@get("/pengaduan", opt=PUBLIC, name="complaint_form")
async def complaint_form(request: Request[Any, Any, Any]) -> Template:
    return await _form_page(request, {"anonymous": "1"})


@post("/pengaduan", opt=PUBLIC, name="complaint_submit", request_max_body_size=MAX_BODY)
async def complaint_submit(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    values = {k: str(form.get(k, ""))[:4000] for k in FIELDS}
    if not await registry.allow_lookup(client_ip(request), rules.FILE_LIMIT, scope="pengaduan"):
        return await _form_page(request, values, 429, error="Terlalu banyak pengaduan dari alamat Anda. Tunggu satu "
                                                            "menit lalu coba lagi.")
    files: list[tuple[str, bytes]] = []
    for item in form.getall("attachment", []) if hasattr(form, "getall") else []:
        if isinstance(item, UploadFile) and item.filename:
            files.append((item.filename[:200], await item.read(EVIDENCE_MAX + 1)))
    try:
        data = rules.parse_complaint(values, {r.code for r in kelurahan()},
                                     {r["id"] for r in await service.verified_lks()})
        ticket = await service.file_complaint(data, files)
    except ComplaintInvalid as exc:
        return await _form_page(request, values, 400, errors=exc.errors, error="Periksa kembali isian yang ditandai.")
    except ComplaintError as exc:
        return await _form_page(request, values, 400, error=str(exc))
    return await _form_page(request, {}, ticket=ticket)


@post("/lacak/belum-diterima", opt=PUBLIC, name="complaint_missing_delivery")
async def missing_delivery(request: Request[Any, Any, Any]) -> Template:
    """From the tracking page: a recorded delivery never arrived. Counted against the tracking limit."""
    if not await registry.allow_lookup(client_ip(request)):
        return await page(request, "tracking/result.html", status_code=429, needs=None,
                          error="Terlalu banyak pencarian dari alamat Anda. Tunggu satu menit lalu coba lagi.")
    form = await request.form()
    try:
        tickets = await service.report_missing_delivery(str(form.get("ticket", ""))[:40],
                                                        str(form.get("description", ""))[:4000])
    except ComplaintError as exc:
        return await page(request, "complaints/reported.html", status_code=400, tickets=[], error=str(exc))
    return await page(request, "complaints/reported.html", tickets=tickets, error=None)


# ------------------------------------------------------------------------------------------------- Dinsos


@get("/admin/pengaduan", opt=ADMIN, name="complaint_list")
async def complaint_list(request: Request[Any, Any, Any]) -> Template:
    q = request.query_params
    status = str(q.get("status", ""))
    status = status if status in rules.STATUS_LABELS else ""
    category = str(q.get("kategori", ""))
    category = category if category in rules.CATEGORIES else ""
    lks_id, after = _id(q.get("lks")), _id(q.get("setelah"))
    rows, total = await service.list_complaints(status, category, lks_id, after)
    return await page(request, "complaints/list.html", rows=rows, total=total, status=status, category=category,
                      lks_id=lks_id, after=after, statuses=rules.STATUS_LABELS, categories=rules.CATEGORIES,
                      label=rules.label, category_label=rules.category_label, name_of=name_of,
                      next_after=rows[-1]["id"] if len(rows) == service.PAGE_SIZE else None)


async def _detail_page(request: Request[Any, Any, Any], complaint_id: int, status_code: int = 200,
                       error: str | None = None) -> Template:
    row = await service.detail(complaint_id)
    if row is None:
        raise NotFoundException("Pengaduan tidak ditemukan")
    return await page(request, "complaints/detail.html", status_code=status_code, error=error, c=row,
                      label=rules.label, category_label=rules.category_label, categories=rules.CATEGORIES,
                      actions=rules.ACTIONS, offices=[o for o in OFFICES if o.code in rules.COMPLAINT_OFFICES],
                      lks_options=await service.verified_lks(), assignee=service.assignee_label(row),
                      name_of=name_of)


@get("/admin/pengaduan/{complaint_id:int}", opt=ADMIN, name="complaint_detail")
async def complaint_detail(request: Request[Any, Any, Any], complaint_id: FromPath[int]) -> Template:
    return await _detail_page(request, complaint_id)


@post("/admin/pengaduan/{complaint_id:int}/langkah", opt=ADMIN, name="complaint_step")
async def complaint_step(request: Request[Any, Any, Any], complaint_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    if await service.detail(complaint_id) is None:
        raise NotFoundException("Pengaduan tidak ditemukan")
    form = await request.form()
    try:
        await service.act(user, complaint_id, str(form.get("action", "")), text=str(form.get("text", ""))[:4000],
                          category=str(form.get("category", "")), assignee_kind=str(form.get("assignee_kind", "")),
                          office=str(form.get("office", "")), lks_id=_id(form.get("lks")) or None)
    except ComplaintError as exc:
        return await _detail_page(request, complaint_id, 400, error=str(exc))
    return Redirect(path=f"/admin/pengaduan/{complaint_id}")


# ----------------------------------------------------------------- the office or LKS a complaint is passed to


@get("/pengaduan-masuk", opt=ASSIGNEES, name="complaint_assigned_list")
async def assigned_list(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    status = str(request.query_params.get("status", ""))
    status = status if status in rules.STATUS_LABELS else ""
    after = _id(request.query_params.get("setelah"))
    rows, total = await service.assigned_to(user, status, after)
    return await page(request, "complaints/assigned_list.html", rows=rows, total=total, status=status, after=after,
                      statuses=rules.STATUS_LABELS, label=rules.label, category_label=rules.category_label,
                      name_of=name_of, next_after=rows[-1]["id"] if len(rows) == service.PAGE_SIZE else None)


async def _assigned_page(request: Request[Any, Any, Any], complaint_id: int, status_code: int = 200,
                         error: str | None = None) -> Template:
    user = await provide_user(request)
    try:
        row = await service.assigned_detail(user, complaint_id)
    except service.NotFound:
        raise NotFoundException("Pengaduan tidak ditemukan") from None
    return await page(request, "complaints/assigned_detail.html", status_code=status_code, error=error, c=row,
                      label=rules.label, category_label=rules.category_label, name_of=name_of)


@get("/pengaduan-masuk/{complaint_id:int}", opt=ASSIGNEES, name="complaint_assigned_detail")
async def assigned_detail(request: Request[Any, Any, Any], complaint_id: FromPath[int]) -> Template:
    return await _assigned_page(request, complaint_id)


@post("/pengaduan-masuk/{complaint_id:int}/jawab", opt=ASSIGNEES, name="complaint_assigned_answer")
async def assigned_answer(request: Request[Any, Any, Any], complaint_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        await service.answer_as_assignee(user, complaint_id, str(form.get("text", ""))[:4000])
    except service.NotFound:
        raise NotFoundException("Pengaduan tidak ditemukan") from None
    except ComplaintError as exc:
        return await _assigned_page(request, complaint_id, 400, error=str(exc))
    return Redirect(path=f"/pengaduan-masuk/{complaint_id}")


ROUTES = [complaint_form, complaint_submit, missing_delivery, complaint_list, complaint_detail, complaint_step,
          assigned_list, assigned_detail, assigned_answer]

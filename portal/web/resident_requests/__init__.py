"""Requests from residents: the public form (also used at the Puskesos desk on a resident's behalf),
revoking consent by ticket, and the kelurahan operator's validation desk with possible duplicates."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import clock
from marketplace import resident_requests as rules
from marketplace.needs import NeedError
from marketplace.regions import kelurahan, name_of
from marketplace.resident_requests import RequestError, RequestInvalid
from marketplace.vocabulary import PPKS_TYPES, Kind, Role
from portal.auth import PUBLIC, current_user, provide_user, roles
from portal.web import menu
from portal.web.common import client_ip, page
from storage import registry
from storage import resident_requests as service
from storage.access import log_access

DESK = roles(Role.OPERATOR_KELURAHAN, Role.DINSOS_ADMIN)
FIELDS = ("name", "birth_date", "sex", "nik", "kelurahan", "address", "rt", "rw", "phone", "ppks", "kind",
          "description", "consent", "consent_version")
MAX_ID = 2**31 - 1

menu.add("/permohonan", "Permohonan warga (formulir publik)", Role.OPERATOR_KELURAHAN)
menu.add("/puskesos/permohonan", "Validasi permohonan warga", Role.OPERATOR_KELURAHAN, Role.DINSOS_ADMIN)


def _int(value: Any) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) <= MAX_ID else 0


def _form_context(values: dict[str, str], errors: dict[str, str] | None = None, ticket: str | None = None,
                  error: str | None = None) -> dict[str, Any]:
    return {"values": values, "errors": errors or {}, "ticket": ticket, "error": error,
            "kelurahan_options": [(r.code, r.name) for r in kelurahan()], "kinds": [k.value for k in Kind],
            "consent_version": rules.CONSENT_VERSION, "consent_text": rules.CONSENT_TEXT[rules.CONSENT_VERSION]}


@get("/permohonan", opt=PUBLIC, name="resident_request_form")
async def request_form(request: Request[Any, Any, Any]) -> Template:
    user = await current_user(request)
    values = {"kelurahan": user.kelurahan_code or ""} if user and user.kelurahan_code else {}
    return await page(request, "resident_requests/form.html", **_form_context(values))


@post("/permohonan", opt=PUBLIC, name="resident_request_submit")
async def request_submit(request: Request[Any, Any, Any]) -> Template:
    user = await current_user(request)
    form = await request.form()
    values = {k: str(form.get(k, ""))[:2000] for k in FIELDS}
    desk_user = user if user and user.role == Role.OPERATOR_KELURAHAN else None
    if desk_user:
        values["kelurahan"] = desk_user.kelurahan_code or ""
    safe = {k: v for k, v in values.items() if k != "nik"}
    if not await registry.allow_lookup(client_ip(request), rules.REQUEST_LIMIT, scope="permohonan"):
        return await page(request, "resident_requests/form.html", status_code=429, **_form_context(
            safe, error="Terlalu banyak permohonan dari alamat Anda. Tunggu satu menit lalu coba lagi."))
    try:
        data = rules.parse_request(values, clock.today())
    except RequestInvalid as exc:
        return await page(request, "resident_requests/form.html", status_code=400,
                          **_form_context(safe, exc.errors, error="Periksa kembali isian yang ditandai."))
    ticket = await service.file_request(data, desk_user)
    return await page(request, "resident_requests/form.html", **_form_context({}, ticket=ticket))


@post("/permohonan/cabut", opt=PUBLIC, name="resident_request_revoke")
async def revoke(request: Request[Any, Any, Any]) -> Template:
    """Revoking consent with the ticket: counted against the tracking page's per-IP limit."""
    if not await registry.allow_lookup(client_ip(request)):
        return await page(request, "tracking/result.html", status_code=429, needs=None,
                          error="Terlalu banyak pencarian dari alamat Anda. Tunggu satu menit lalu coba lagi.")
    form = await request.form()
    if str(form.get("confirm", "")) != "1":
        return await page(request, "resident_requests/revoked.html", status_code=400, done=False,
                          ticket=str(form.get("ticket", ""))[:40],
                          error="Centang pernyataan bahwa Anda ingin mencabut persetujuan.")
    try:
        await service.revoke_consent(str(form.get("ticket", ""))[:40])
    except RequestError as exc:
        return await page(request, "resident_requests/revoked.html", status_code=400, done=False, ticket="",
                          error=str(exc))
    return await page(request, "resident_requests/revoked.html", done=True, ticket="", error=None)


# --------------------------------------------------------------------------------- the kelurahan desk


@get("/puskesos/permohonan", opt=DESK, name="resident_request_desk")
async def desk(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    status = str(request.query_params.get("status", rules.RequestStatus.RECEIVED))
    if status not in rules.STATUS_LABELS:
        status = rules.RequestStatus.RECEIVED
    after = _int(request.query_params.get("setelah"))
    rows, total = await service.received(user, status, after)
    return await page(request, "resident_requests/desk.html", rows=rows, total=total, status=status,
                      statuses=rules.STATUS_LABELS, label=rules.label, name_of=name_of, after=after,
                      next_after=rows[-1]["id"] if len(rows) == service.PAGE_SIZE else None)


async def _detail_page(request: Request[Any, Any, Any], request_id: int, status_code: int = 200,
                       error: str | None = None, message: str | None = None) -> Template:
    user = await provide_user(request)
    req = await service.detail(user, request_id)
    if req is None:
        raise NotFoundException("Permohonan tidak ditemukan")
    await log_access(user, [c.household_id for c in req["candidates"]] + ([req["household"]] if req["household"]
                                                                           else []), "validasi permohonan")
    return await page(request, "resident_requests/detail.html", status_code=status_code, error=error,
                      message=message, req=req, label=rules.label, name_of=name_of, kinds=[k.value for k in Kind],
                      age=service.age_today(req["applicant_birth_date"]), ppks_types=PPKS_TYPES)


@get("/puskesos/permohonan/{request_id:int}", opt=DESK, name="resident_request_detail")
async def detail(request: Request[Any, Any, Any], request_id: FromPath[int]) -> Template:
    if not 0 < request_id <= MAX_ID:
        raise NotFoundException("Permohonan tidak ditemukan")
    return await _detail_page(request, request_id)


def _need(form: Any) -> registry.NeedInput:
    amount = str(form.get("amount", "")).replace(".", "").strip()
    return registry.NeedInput([_int(form.get("ppks"))] if _int(form.get("ppks")) else [], str(form.get("kind", "")),
                              int(amount) if amount.isdigit() and len(amount) <= 12 else 0,
                              str(form.get("notes", ""))[:2000])


async def _act(request: Request[Any, Any, Any], request_id: int, action: str) -> Template | Redirect:
    user = await provide_user(request)
    if not 0 < request_id <= MAX_ID or await service.detail(user, request_id) is None:
        raise NotFoundException("Permohonan tidak ditemukan")
    form = await request.form()
    try:
        if action == "dismiss":
            await service.dismiss_candidate(user, request_id, _int(form.get("member_id")))
            return Redirect(path=f"/puskesos/permohonan/{request_id}")
        if action == "decline":
            await service.decline(user, request_id, str(form.get("reason", ""))[:1000])
            return Redirect(path=f"/puskesos/permohonan/{request_id}")
        if action == "link":
            household_id = _int(form.get("household_id"))
            number = str(form.get("kk", "")).strip()
            if not household_id and number:
                found = await registry.search_households(user, number=number)
                household_id = found[0][0]["id"] if found[0] else 0
            if not household_id:
                raise RequestError("Keluarga dengan No. KK itu tidak ditemukan di kelurahan Anda.")
            await service.link_household(user, request_id, household_id, _need(form))
        else:
            await service.register_household(user, request_id, str(form.get("kk", "")), str(form.get("nik", "")),
                                             _need(form))
    except (RequestError, NeedError) as exc:
        return await _detail_page(request, request_id, 400, error=str(exc))
    return await _detail_page(request, request_id, message="Permohonan divalidasi; kebutuhan menunggu asesmen "
                                                           "pekerja sosial.")


@post("/puskesos/permohonan/{request_id:int}/bukan-duplikat", opt=DESK, name="resident_request_dismiss")
async def dismiss(request: Request[Any, Any, Any], request_id: FromPath[int]) -> Template | Redirect:
    return await _act(request, request_id, "dismiss")


@post("/puskesos/permohonan/{request_id:int}/tautkan", opt=DESK, name="resident_request_link")
async def link(request: Request[Any, Any, Any], request_id: FromPath[int]) -> Template | Redirect:
    return await _act(request, request_id, "link")


@post("/puskesos/permohonan/{request_id:int}/daftarkan", opt=DESK, name="resident_request_register")
async def register(request: Request[Any, Any, Any], request_id: FromPath[int]) -> Template | Redirect:
    return await _act(request, request_id, "register")


@post("/puskesos/permohonan/{request_id:int}/tolak", opt=DESK, name="resident_request_decline")
async def decline(request: Request[Any, Any, Any], request_id: FromPath[int]) -> Template | Redirect:
    return await _act(request, request_id, "decline")



ROUTES = [request_form, request_submit, revoke, desk, detail, dismiss, link, register, decline]

"""Referral pages: the office's work list and answers, Dinsos's overview and answers to questions, the
referral form from a need, and the offices' service levels.

Office staff reach only their own office's referrals (the service filters in the query; another office's
id answers 404). The detail shows only the personal data the referrer shared, and each view is logged.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import referrals as rules
from marketplace.needs import NeedError
from marketplace.referrals import ReferralError
from marketplace.regions import name_of
from marketplace.vocabulary import KIND_LABELS, PPKS_TYPES, Role
from portal.auth import provide_user, roles
from portal.i18n import translator
from portal.web import menu
from portal.web.common import language_of, page, rupiah
from storage.referrals import service
from storage.tables import EvidenceFile, Need

READERS = roles(Role.OFFICE_STAFF, Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL)
REFERRERS = roles(Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL)
ADMIN = roles(Role.DINSOS_ADMIN)

menu.add("/rujukan", "Rujukan instansi", Role.OFFICE_STAFF, Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL)
menu.add("/instansi", "Instansi rujukan dan batas layanan", Role.DINSOS_ADMIN)


def _int(value: Any, default: int = 0, high: int = service.MAX_ID) -> int:
    text = str(value or "").strip()
    return min(int(text), high) if text.isdigit() and len(text) <= 12 else default


def _filter(params: Any) -> service.ReferralFilter:
    status = str(params.get("status", "") or "")
    office = str(params.get("instansi", "") or "")
    return service.ReferralFilter(status=status if status in rules.STATUS_LABELS else "",
                                  office=office if office in rules.OFFICE_BY_CODE else "",
                                  overdue=str(params.get("terlambat", "")) == "1")


@get("/rujukan", opt=READERS, name="referral_list")
async def referral_list(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    f = _filter(request.query_params)
    after = _int(request.query_params.get("setelah"))
    rows, next_after = await service.list_referrals(user, f, after)
    lang = language_of(request)
    translated = translator(lang)
    for r in rows:  # each row's texts made here: a call from the template costs several times more
        kind = KIND_LABELS.get(r["kind"], (r["kind"], r["kind"]))[0 if lang == "id" else 1]
        r["what"] = f"{kind} · {rupiah(r['amount'])}"
        r["status_text"] = translated(rules.label(r["status"]))
        r["due_text"] = r["due_on"].strftime("%d-%m-%Y")
    base = {k: v for k, v in {"status": f.status, "instansi": f.office, "terlambat": "1" if f.overdue else ""
                              }.items() if v}
    return await page(request, "referrals/list.html", rows=rows, f=f, after=after, next_after=next_after,
                      base=base, counts=await service.counts(user), offices=await service.list_offices(),
                      label=rules.label, statuses=rules.STATUS_LABELS)


async def _detail_page(request: Request[Any, Any, Any], referral_id: int, status_code: int = 200,
                       error: str | None = None, message: str | None = None) -> Template:
    user = await provide_user(request)
    try:
        ref = await service.detail(user, referral_id)
    except service.NotFound:
        raise NotFoundException("Rujukan tidak ditemukan") from None
    return await page(request, "referrals/detail.html", status_code=status_code, ref=ref, error=error,
                      message=message, label=rules.label, shareable=rules.SHAREABLE,
                      resolutions=rules.RESOLUTION_LABELS, allowed=rules.ALLOWED_FROM)


@get("/rujukan/{referral_id:int}", opt=READERS, name="referral_detail")
async def referral_detail(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Template:
    return await _detail_page(request, referral_id)


@post("/rujukan/{referral_id:int}/tindakan", opt=READERS, name="referral_act")
async def referral_act(request: Request[Any, Any, Any], referral_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        await service.act(user, referral_id, str(form.get("action", ""))[:20], text=str(form.get("text", ""))[:4000],
                          resolution=str(form.get("resolution", ""))[:10])
    except service.NotFound:
        raise NotFoundException("Rujukan tidak ditemukan") from None
    except ReferralError as exc:
        return await _detail_page(request, referral_id, 400, error=str(exc))
    return Redirect(path=f"/rujukan/{referral_id}")


@get("/rujukan/{referral_id:int}/bukti/{file_id:int}", opt=READERS, name="referral_evidence")
async def referral_evidence(request: Request[Any, Any, Any], referral_id: FromPath[int],
                            file_id: FromPath[int]) -> Redirect:
    user = await provide_user(request)
    try:
        url = await service.evidence_link(user, referral_id, file_id)
    except service.NotFound:
        raise NotFoundException("Berkas tidak ditemukan") from None
    return Redirect(path=url)


# ------------------------------------------------------------------------------------------ referring


async def _form_page(request: Request[Any, Any, Any], need_id: int, status_code: int = 200,
                     error: str | None = None, values: dict[str, Any] | None = None) -> Template:
    await provide_user(request)
    if not 1 <= need_id <= service.MAX_ID:
        raise NotFoundException("Kebutuhan tidak ditemukan")
    need = await Need.select(Need.id, Need.kind, Need.amount, Need.ppks, Need.status, Need.household,
                             Need.household._.kelurahan_code.as_alias("kelurahan_code")
                             ).where(Need.id == need_id).first()
    if need is None:
        raise NotFoundException("Kebutuhan tidak ditemukan")
    files = await EvidenceFile.select(EvidenceFile.id, EvidenceFile.filename).where(EvidenceFile.need == need_id)
    return await page(request, "referrals/form.html", status_code=status_code, need=need, files=files, error=error,
                      values=values or {}, offices=await service.list_offices(), defaults=rules.OFFICE_BY_CODE,
                      shareable=rules.SHAREABLE, ppks_name=PPKS_TYPES.get(need["ppks"], ""), name_of=name_of,
                      history=await service.for_need(need_id), label=rules.label)


@get("/kebutuhan/{need_id:int}/rujuk", opt=REFERRERS, name="referral_form")
async def referral_form(request: Request[Any, Any, Any], need_id: FromPath[int]) -> Template:
    return await _form_page(request, need_id)


@post("/kebutuhan/{need_id:int}/rujuk", opt=REFERRERS, name="referral_create")
async def referral_create(request: Request[Any, Any, Any], need_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()

    def getall(key: str) -> list[Any]:
        return list(form.getall(key, [])) if hasattr(form, "getall") else []

    values = {"office": str(form.get("office", ""))[:16], "what_needed": str(form.get("what_needed", ""))[:1200],
              "reason": str(form.get("reason", ""))[:2200], "share_mode": str(form.get("share_mode", "default"))}
    shared = None if values["share_mode"] != "custom" else [str(v)[:20] for v in getall("shared")][:10]
    evidence = [_int(v, -1) for v in getall("evidence")][:50]
    try:
        referral_id = await service.refer_need(user, need_id, values["office"], values["what_needed"],
                                               values["reason"], shared=shared, evidence=evidence)
    except (ReferralError, NeedError) as exc:
        return await _form_page(request, need_id, 400, error=str(exc), values=values)
    return Redirect(path=f"/rujukan/{referral_id}")


# -------------------------------------------------------------------------------------------- offices


async def _offices_page(request: Request[Any, Any, Any], status_code: int = 200, error: str | None = None) -> Template:
    return await page(request, "referrals/offices.html", status_code=status_code, error=error,
                      offices=await service.list_offices(), defaults=rules.OFFICE_BY_CODE, shareable=rules.SHAREABLE)


@get("/instansi", opt=ADMIN, name="office_list")
async def office_list(request: Request[Any, Any, Any]) -> Template:
    return await _offices_page(request)


@post("/instansi/{code:str}", opt=ADMIN, name="office_service_days")
async def office_service_days(request: Request[Any, Any, Any], code: FromPath[str]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        await service.set_service_days(user, code[:16], _int(form.get("service_days"), 0, 10_000))
    except ReferralError as exc:
        return await _offices_page(request, 400, str(exc))
    return Redirect(path="/instansi")


ROUTES = [referral_list, referral_detail, referral_act, referral_evidence, referral_form, referral_create,
          office_list, office_service_days]

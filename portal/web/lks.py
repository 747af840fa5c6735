"""LKS: public registration, the public list of verified LKS, and Dinsos verification."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import regions
from marketplace.ledger import LedgerError
from marketplace.lks import (
    DOCUMENT_KINDS,
    LEGAL_TYPES,
    MAX_DOCUMENT_BYTES,
    ApplicationInvalid,
    LksError,
    parse_application,
    parse_money,
)
from marketplace.vocabulary import LksStatus, Role
from portal.auth import PUBLIC, current_user, hash_password, roles
from portal.web import menu
from portal.web.common import page, page_count, page_number
from storage import complaints, ledger
from storage import donations as donation_store
from storage import lks as lks_store
from storage.objects import make_object_store

menu.add("/admin/lks", "Verifikasi LKS", Role.DINSOS_ADMIN)
LINK_LIFETIME = timedelta(minutes=10)
REGISTRATION_MAX_BODY = len(DOCUMENT_KINDS) * (MAX_DOCUMENT_BYTES + 64 * 1024) + 1024 * 1024


async def read_upload(value: Any, limit: int = MAX_DOCUMENT_BYTES) -> tuple[str, bytes] | None:
    """(filename, bytes) of an uploaded file, reading at most one byte past the limit; None when empty."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    data = await value.read(limit + 1)
    return value.filename, data


def _form_context(**extra: Any) -> dict[str, Any]:
    return {"legal_types": LEGAL_TYPES, "document_kinds": DOCUMENT_KINDS, "kecamatan": regions.kecamatan(),
            "kelurahan": regions.kelurahan(), **extra}


@get("/lks/daftar", opt=PUBLIC)
async def register_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "lks/register.html", **_form_context(errors={}, values={}, ppks=[], areas=[]))


@post("/lks/daftar", opt=PUBLIC, request_max_body_size=REGISTRATION_MAX_BODY)
async def register_submit(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and "password" not in k}
    ppks, areas = form.getall("ppks", []), form.getall("areas", [])
    uploads: list[lks_store.Upload] = []
    errors: dict[str, str] = {}
    try:
        application = parse_application(form, [str(p) for p in ppks], [str(a) for a in areas],
                                         str(form.get("password") or ""))
        for kind in DOCUMENT_KINDS:
            got = await read_upload(form.get(f"doc_{kind}"))
            if got:
                uploads.append(lks_store.Upload(kind, got[0], got[1]))
        lks_id = await lks_store.register(application, hash_password(str(form.get("password"))), uploads,
                                          make_object_store(request.app.state["settings"]))
    except ApplicationInvalid as exc:
        errors = exc.errors
    except LksError as exc:
        errors = {"form": str(exc)}
    if errors:
        return await page(request, "lks/register.html", status_code=400,
                          **_form_context(errors=errors, values=values, ppks=[str(p) for p in ppks],
                                          areas=[str(a) for a in areas]))
    return await page(request, "lks/registered.html", lks_id=lks_id, username=application.username)


@get("/admin/lks", opt=roles(Role.DINSOS_ADMIN))
async def admin_list(request: Request[Any, Any, Any]) -> Template:
    q = request.query_params.get("q", "").strip()[:100]
    status = request.query_params.get("status", "")
    status = status if status in {s.value for s in LksStatus} else ""
    number = page_number(request)
    rows, total = await lks_store.list_applications(q, status, number)
    return await page(request, "lks/admin_list.html", rows=rows, total=total, q=q, status=status, hal=number,
                      pages=page_count(total), region_name=regions.name_of)


@get("/admin/lks/{lks_id:int}", opt=roles(Role.DINSOS_ADMIN))
async def admin_detail(request: Request[Any, Any, Any], lks_id: FromPath[int]) -> Template:
    return await _detail(request, lks_id)


async def _detail(request: Request[Any, Any, Any], lks_id: int, error: str = "", status_code: int = 200) -> Template:
    try:
        row = await lks_store.get_lks(lks_id)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    documents = await lks_store.documents_of(lks_id)
    return await page(request, "lks/admin_detail.html", status_code=status_code, lks=row, documents=documents,
                      document_kinds=DOCUMENT_KINDS, legal_types=LEGAL_TYPES, region_name=regions.name_of,
                      error=error, balance=await ledger.balance(lks_id),
                      complaints=await complaints.counts_for_lks(lks_id))


@get("/admin/lks/{lks_id:int}/dokumen/{document_id:int}", opt=roles(Role.DINSOS_ADMIN))
async def admin_document(
    request: Request[Any, Any, Any], lks_id: FromPath[int], document_id: FromPath[int]
) -> Redirect:
    try:
        doc = await lks_store.get_document(lks_id, document_id)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    store = make_object_store(request.app.state["settings"])
    return Redirect(path=store.download_url(doc["object_key"], LINK_LIFETIME, doc["filename"]))


@post("/admin/lks/{lks_id:int}/keputusan", opt=roles(Role.DINSOS_ADMIN))
async def admin_decide(request: Request[Any, Any, Any], lks_id: FromPath[int]) -> Template | Redirect:
    form = await request.form()
    user = await current_user(request)
    assert user is not None
    decision = str(form.get("decision", ""))
    try:
        await lks_store.decide_application(lks_id, decision, str(form.get("reason", "")), user.username)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    except LksError as exc:
        return await _detail(request, lks_id, str(exc), 400)
    return Redirect(path=f"/admin/lks/{lks_id}")


@post("/admin/lks/{lks_id:int}/penyesuaian", opt=roles(Role.DINSOS_ADMIN))
async def admin_adjust(request: Request[Any, Any, Any], lks_id: FromPath[int]) -> Template | Redirect:
    """A correction of an LKS's fund ledger by Dinsos: a signed entry with its reason, audited."""
    form = await request.form()
    user = await current_user(request)
    assert user is not None
    try:
        await lks_store.get_lks(lks_id)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    raw = str(form.get("amount", "")).strip()
    sign = -1 if raw.startswith("-") else 1
    amount = parse_money(raw.lstrip("-"))
    try:
        if amount is None:
            raise LedgerError("Jumlah penyesuaian harus berupa angka rupiah (boleh diawali tanda minus).")
        await ledger.record_adjustment(lks_id, sign * amount, str(form.get("memo", "")), user.username)
    except LedgerError as exc:
        return await _detail(request, lks_id, str(exc), 400)
    return Redirect(path=f"/admin/lks/{lks_id}")


async def lks_track_record(lks_id: int) -> dict[str, Any]:
    """The public track record (issue 11): suppressed figures from the impact snapshot, approved reports."""
    from storage.impact.figures import fig_from
    from storage.impact.snapshot import figures
    from storage.lks_reports import photo_links, reports_of
    from storage.objects import make_object_store

    track = (await figures("public"))["track"].get(str(lks_id), {})
    reports = await reports_of(lks_id, approved_only=True, limit=6)
    return {"track": {**track, **{k: fig_from(track.get(k)) for k in ("confirmed", "pending", "disputed")}},
            "lks_reports": reports,
            "report_photos": await photo_links([int(r["id"]) for r in reports], make_object_store())}


@get("/lks", opt=PUBLIC)
async def public_list(request: Request[Any, Any, Any]) -> Template:
    q = request.query_params.get("q", "").strip()[:100]
    number = page_number(request)
    rows, total = await lks_store.verified_lks(q, number)
    return await page(request, "lks/public_list.html", rows=rows, total=total, q=q, hal=number,
                      pages=page_count(total), region_name=regions.name_of)


@get("/lks/{lks_id:int}", opt=PUBLIC)
async def public_detail(request: Request[Any, Any, Any], lks_id: FromPath[int]) -> Template:
    try:
        row = await lks_store.get_lks(lks_id, verified_only=True)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    return await render_public_detail(request, row)


async def render_public_detail(request: Request[Any, Any, Any], lks: dict[str, Any], *, error: str = "",
                               values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    """The public LKS page, also re-rendered by the donation form with its error: one place for its context."""
    return await page(request, "lks/public_detail.html", status_code=status_code, lks=lks,
                      campaigns=await donation_store.campaigns_of(lks["id"], active_only=True),
                      raised=await donation_store.raised(lks_id=lks["id"]),
                      online=bool(request.app.state["settings"].stripe_secret_key),
                      region_name=regions.name_of, error=error, values=values or {},
                      **await lks_track_record(lks["id"]))


ROUTES = [register_form, register_submit, admin_list, admin_detail, admin_document, admin_decide, admin_adjust,
          public_list, public_detail]

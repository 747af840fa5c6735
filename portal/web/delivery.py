"""LKS staff: their matched households (list, Excel, PDF) and delivery with photo proof. Dinsos: confirm or
dispute deliveries. The requester: confirm receipt from the tracking page (``POST /lacak/konfirmasi``).

An LKS only ever reaches its own allocations: every query filters on the account's LKS, and another
LKS's allocation answers 404. Photos are shown through signed links that expire.
"""

from __future__ import annotations

import io
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import clock
from marketplace.delivery import MAX_PHOTOS, DeliveryError, DeliveryInvalid
from marketplace.identity import mask
from marketplace.lks_team import DELIVERIES, RightMissing
from marketplace.ports import STORE_DOWN_MESSAGE, ObjectStoreUnavailable
from marketplace.vocabulary import KIND_LABELS, Role
from portal.auth import PUBLIC, current_user, roles
from portal.i18n import translator
from portal.web import menu, searches
from portal.web.common import client_ip, language_of, page, page_number, rupiah
from storage import delivery, registry
from storage.access import log_access
from storage.accounts import CurrentUser
from storage.crypto import vault
from storage.images import MAX_PHOTO_BYTES, PhotoError
from storage.objects import make_object_store
from storage.tables import Household, Member, Region

LKS = roles(Role.LKS_STAFF, right=DELIVERIES)
LKS_OR_DINSOS = roles(Role.LKS_STAFF, Role.DINSOS_ADMIN, right=DELIVERIES)
DINSOS = roles(Role.DINSOS_ADMIN)
UPLOAD_LIMIT = 55 * 1024 * 1024
NO_STORE = {"Cache-Control": "private, no-store"}
STATUS_LABELS = {"approved": "Belum disalurkan", "delivered": "Sudah disalurkan", "confirmed": "Dikonfirmasi",
                 "disputed": "Disanggah", "recorded": "Menunggu konfirmasi"}

menu.add("/lks-saya/keluarga", "Keluarga dampingan", Role.LKS_STAFF)
menu.add("/konfirmasi-penyaluran", "Konfirmasi penyaluran", Role.DINSOS_ADMIN)


async def _user(request: Request[Any, Any, Any]) -> CurrentUser:
    user = await current_user(request)
    assert user is not None  # the guard refused anonymous requests
    return user


SEARCH_WORDS = ("q",)


def _filters(params: Any) -> delivery.HouseholdFilter:
    kind = str(params.get("kind", "") or "")
    status = str(params.get("status", "") or "")
    due = str(params.get("due", "") or "")
    return delivery.HouseholdFilter(
        search=str(params.get("q", "") or "").strip()[:80],
        kelurahan=str(params.get("kelurahan", "") or "")[:16],
        kind=kind if kind in KIND_LABELS else "",
        status=status if status in delivery.ASSIGNED else "",
        due=due if due in delivery.DUE_CHOICES else "",
    )


def _search_filters(request: Request[Any, Any, Any]) -> delivery.HouseholdFilter:
    return _filters(searches.params(request, SEARCH_WORDS))


def _what(row: dict[str, Any]) -> str:
    kind = KIND_LABELS.get(row["kind"], (row["kind"], row["kind"]))[0]
    if row.get("units") is not None:
        return f"{kind}: {row['units']} {row['unit'] or 'unit'}"
    return f"{kind}: {rupiah(row['amount'])}"


def _tel(phone: str | None) -> str:
    """A ``tel:`` target from a typed phone number (``0812-3456 789`` → ``08123456789``); empty when the
    number has too few digits to call."""
    text = str(phone or "").strip()
    digits = "".join(c for c in text if c.isdigit())
    return ("+" if text.startswith("+") else "") + digits if len(digits) >= 6 else ""


def _badge(row: dict[str, Any], translated: Any) -> tuple[str, str]:
    """The due-date badge of a card: (class, text); no text when not yet near."""
    if row["overdue"]:
        return "late", translated("Terlambat {n} hari", n=-row["days_left"])
    if row["status"] == "approved" and row["days_left"] == 0:
        return "soon", translated("Hari ini")
    if row["status"] == "approved" and row["days_left"] <= 7:
        return "soon", translated("{n} hari lagi", n=row["days_left"])
    return "", ""


# --- the LKS's households ---------------------------------------------------------------------------

@get("/lks-saya/keluarga", opt=LKS, name="lks_households")
async def lks_households(request: Request[Any, Any, Any]) -> Template:
    user = await _user(request)
    assert user.lks_id is not None
    f = _search_filters(request)
    page_no = page_number(request)
    today = clock.today()
    rows, total = await delivery.assigned_households(user.lks_id, f, page_no, today=today)
    await log_access(user, [r["household_id"] for r in rows], "lks: daftar keluarga dampingan")
    lang = language_of(request)
    translated = translator(lang)
    for r in rows:  # each card's texts made here: a call or an output in the template costs several times more
        r["what"], r["call"] = _what(r), _tel(r["phone"])
        r["call_aria"] = translated("Telepon {name}", name=r["head_name"])
        r["status_text"] = translated(STATUS_LABELS.get(r["status"], r["status"]))
        r["due_iso"], r["due_text"] = r["deliver_by"].isoformat(), r["deliver_by"].strftime("%d-%m-%Y")
        r["badge_class"], r["badge"] = _badge(r, translated)
        r["where"] = f"{r['address']}, RT {r['rt']}/RW {r['rw']}, {r['kelurahan_name']}"
    filters = {"kelurahan": f.kelurahan, "kind": f.kind, "status": f.status, "due": f.due}
    query = searches.query_string(request, filters)
    due_links = {due: searches.query_string(request, {**filters, "due": due, "status": ""})
                 for due in ("", *delivery.DUE_CHOICES)}
    pages = max((total + delivery.PAGE_SIZE - 1) // delivery.PAGE_SIZE, 1)
    return await page(request, "delivery/households.html", rows=rows, total=total, f=f, page_no=page_no,
                      pages=pages, query=query, due_links=due_links,
                      kelurahan=await delivery.kelurahan_options(user.lks_id), status_labels=STATUS_LABELS,
                      week_end=delivery.week_end(today), lang=lang)


@post("/lks-saya/keluarga", opt=LKS, name="lks_households_search")
async def lks_households_search(request: Request[Any, Any, Any]) -> Redirect:
    """Names and addresses are searched by POST, never in a URL (``portal.web.searches``)."""
    return await searches.redirect(request, "/lks-saya/keluarga", SEARCH_WORDS,
                                   ("kelurahan", "kind", "status", "due"))


COLUMNS = ["No", "Kepala keluarga", "NIK (disamarkan)", "Alamat", "RT", "RW", "Kelurahan", "Telepon",
           "Bantuan", "Batas waktu", "Status", "Alokasi"]


def _cells(i: int, r: dict[str, Any]) -> list[Any]:
    return [i, r["head_name"], r["nik_masked"], r["address"], r["rt"], r["rw"], r["kelurahan_name"], r["phone"],
            _what(r), r["deliver_by"].strftime("%d-%m-%Y"), STATUS_LABELS.get(r["status"], r["status"]), r["id"]]


@get("/lks-saya/keluarga.xlsx", opt=LKS, name="lks_households_xlsx")
async def lks_households_xlsx(request: Request[Any, Any, Any]) -> Response[bytes]:
    from openpyxl import Workbook

    user = await _user(request)
    assert user.lks_id is not None
    rows, _ = await delivery.assigned_households(user.lks_id, _search_filters(request), page=None)
    await log_access(user, [r["household_id"] for r in rows], "lks: unduh daftar keluarga (Excel)")
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Keluarga dampingan"
    sheet.append(COLUMNS)
    for i, r in enumerate(rows, start=1):
        sheet.append([_safe_cell(c) for c in _cells(i, r)])
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="keluarga-dampingan.xlsx"'})


def _safe_cell(value: Any) -> Any:
    """No formula injection: a text starting like a formula is kept as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


@get("/lks-saya/keluarga.pdf", opt=LKS, name="lks_households_pdf")
async def lks_households_pdf(request: Request[Any, Any, Any]) -> Response[bytes]:
    from fpdf import FPDF

    user = await _user(request)
    assert user.lks_id is not None
    rows, _ = await delivery.assigned_households(user.lks_id, _search_filters(request), page=None)
    await log_access(user, [r["household_id"] for r in rows], "lks: cetak daftar keluarga (PDF)")
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=10)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, _latin(f"Daftar keluarga dampingan - dicetak {clock.today():%d-%m-%Y}"),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=7)
    widths = (8, 34, 26, 50, 8, 8, 26, 24, 40, 18, 22, 13)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4) as table:
        head = table.row()
        for c in COLUMNS:
            head.cell(c)
        for i, r in enumerate(rows, start=1):
            row = table.row()
            for c in _cells(i, r):
                row.cell(_latin(str(c)))
    pdf.ln(4)
    pdf.cell(0, 5, _latin("Data pribadi: hanya untuk penyaluran bantuan. Jangan disebarkan (UU 27/2022)."))
    return Response(bytes(pdf.output()), media_type="application/pdf",
                    headers={**NO_STORE, "Content-Disposition": 'inline; filename="keluarga-dampingan.pdf"'})


def _latin(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


# --- one allocation: details, delivery form, photos ---------------------------------------------------

async def _household_card(household_id: int, user: CurrentUser) -> dict[str, Any]:
    hh = await Household.select(Household.id, Household.address, Household.rt, Household.rw, Household.phone,
                                Household.kelurahan_code).where(Household.id == household_id).first()
    assert hh is not None
    members = await Member.select(Member.name, Member.nik_cipher, Member.relation).where(
        Member.household == household_id).order_by(Member.id)
    head = next((m for m in members if m["relation"] == "kepala"), members[0] if members else None)
    region = await Region.select(Region.name).where(Region.code == hh["kelurahan_code"]).first()
    hh["kelurahan_name"] = region["name"] if region else hh["kelurahan_code"]
    hh["head_name"] = head["name"] if head else "-"
    nik = vault().decrypt(head["nik_cipher"]) if head else ""
    hh["nik"] = nik if user.role == Role.DINSOS_ADMIN else mask(nik)
    return hh


async def _allocation_page(request: Request[Any, Any, Any], allocation_id: int, status_code: int = 200,
                           errors: dict[str, str] | None = None, form: dict[str, str] | None = None) -> Template:
    user = await _user(request)
    try:
        alloc = await delivery.allocation_for(allocation_id, user)
    except delivery.NotFound:
        raise NotFoundException() from None
    household = await _household_card(int(alloc["household_id"]), user)
    await log_access(user, [household["id"]], "penyaluran: rincian alokasi")
    photos = []
    if alloc["delivery"]:
        photos = await delivery.photo_links(alloc["delivery"]["id"], user, make_object_store())
    unit_value = int(alloc["unit_value"] or 0)
    alloc["units"] = -(-int(alloc["amount"]) // unit_value) if alloc["is_goods"] and unit_value else None
    return await page(request, "delivery/allocation.html", status_code=status_code, alloc=alloc,
                      household=household, photos=photos, errors=errors or {}, form=form or {},
                      today=clock.today().isoformat(), max_photos=MAX_PHOTOS,
                      max_mb=MAX_PHOTO_BYTES // (1024 * 1024), status_labels=STATUS_LABELS, what=_what, tel=_tel,
                      overdue=_days_overdue(alloc))


def _days_overdue(alloc: dict[str, Any]) -> int:
    """Days past the due date of an allocation not yet delivered; 0 when on time or delivered."""
    if alloc["status"] != "approved":
        return 0
    return max((clock.today() - alloc["deliver_by"]).days, 0)


@get("/penyaluran/{allocation_id:int}", opt=LKS_OR_DINSOS, name="delivery_detail")
async def delivery_detail(request: Request[Any, Any, Any], allocation_id: FromPath[int]) -> Template:
    return await _allocation_page(request, allocation_id)


@post("/penyaluran/{allocation_id:int}", opt=LKS, name="delivery_record", request_max_body_size=UPLOAD_LIMIT)
async def delivery_record(request: Request[Any, Any, Any], allocation_id: FromPath[int]) -> Template | Redirect:
    user = await _user(request)
    form = await request.form()
    fields = {k: str(form.get(k, "")) for k in ("delivered_on", "what_given", "received_by")}
    photos: list[tuple[str, bytes]] = []
    for item in form.getall("photos") if "photos" in form else []:
        if isinstance(item, UploadFile) and item.filename:
            photos.append((item.filename[:100], await item.read()))
    try:
        await delivery.record_delivery(allocation_id, user, fields, photos, make_object_store())
    except delivery.NotFound:
        raise NotFoundException() from None
    except RightMissing as exc:  # the right was taken away since this request's guard looked
        raise PermissionDeniedException(str(exc)) from None
    except DeliveryInvalid as exc:
        return await _allocation_page(request, allocation_id, 400, exc.errors, fields)
    except (DeliveryError, PhotoError) as exc:
        return await _allocation_page(request, allocation_id, 400, {"form": str(exc)}, fields)
    except ObjectStoreUnavailable:
        # nothing recorded (the photos already stored were removed again): the form comes back filled in
        response = await _allocation_page(request, allocation_id, 503, {"form": STORE_DOWN_MESSAGE}, fields)
        response.headers["Retry-After"] = "5"
        return response
    return Redirect(path=f"/penyaluran/{allocation_id}", query_params={"tercatat": "1"})


# --- Dinsos: confirm or dispute -------------------------------------------------------------------------

async def _confirm_page(request: Request[Any, Any, Any], status_code: int = 200, error: str = "") -> Template:
    status = str(request.query_params.get("status", "recorded"))
    status = status if status in ("recorded", "confirmed", "disputed", "") else "recorded"
    page_no = page_number(request)
    rows, total = await delivery.list_deliveries(status, page_no)
    pages = max((total + delivery.PAGE_SIZE - 1) // delivery.PAGE_SIZE, 1)
    return await page(request, "delivery/confirm_list.html", status_code=status_code, rows=rows, total=total,
                      status=status, page_no=page_no, pages=pages, error=error, status_labels=STATUS_LABELS)


@get("/konfirmasi-penyaluran", opt=DINSOS, name="delivery_confirm_list")
async def delivery_confirm_list(request: Request[Any, Any, Any]) -> Template:
    return await _confirm_page(request)


@post("/konfirmasi-penyaluran/{delivery_id:int}", opt=DINSOS, name="delivery_decide")
async def delivery_decide(request: Request[Any, Any, Any], delivery_id: FromPath[int]) -> Template | Redirect:
    user = await _user(request)
    form = await request.form()
    action = str(form.get("action", ""))
    try:
        await delivery.decide_delivery(delivery_id, action, str(form.get("reason", "")), user.username, user.id)
    except delivery.NotFound:
        raise NotFoundException() from None
    except DeliveryError as exc:
        return await _confirm_page(request, 400, str(exc))
    return Redirect(path="/konfirmasi-penyaluran")


# --- the requester confirms receipt -------------------------------------------------------------------

@post("/lacak/konfirmasi", opt=PUBLIC, name="tracking_confirm")
async def tracking_confirm(request: Request[Any, Any, Any]) -> Template:
    # Shares the tracking page's per-IP limit: ticket codes must not be guessable here either.
    if not await registry.allow_lookup(client_ip(request)):
        return await page(request, "delivery/requester_confirm.html", status_code=429, ok=False, ticket="",
                          message="Terlalu banyak percobaan dari alamat Anda. Tunggu satu menit lalu coba lagi.")
    form = await request.form()
    ticket = str(form.get("ticket", ""))[:40]
    try:
        count = await delivery.confirm_by_requester(ticket)
    except DeliveryError as exc:
        return await page(request, "delivery/requester_confirm.html", status_code=400, ok=False, message=str(exc),
                          ticket="")
    return await page(request, "delivery/requester_confirm.html", ok=True, count=count, message="", ticket="")


ROUTES = [lks_households, lks_households_search, lks_households_xlsx, lks_households_pdf, delivery_detail,
          delivery_record, delivery_confirm_list, delivery_decide, tracking_confirm]

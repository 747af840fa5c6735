"""Donations: campaign pages and giving (Stripe Checkout, or bank transfer recorded by the LKS), the LKS's
donations, campaigns and fund ledger, Dinsos's list of recorded transfers, and the donor's own receipts."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

from fpdf import FPDF
from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import regions
from marketplace.donations import DonationError, parse_donor, parse_transfer
from marketplace.lks import LksError, parse_money, sniff_document
from marketplace.lks_team import LEDGER
from marketplace.payments import CheckoutRequest, PaymentError
from marketplace.vocabulary import Role
from portal.auth import PUBLIC, current_user, hash_password, roles
from portal.payments import make_gateway
from portal.web import menu, searches
from portal.web.common import PAGE_SIZE, page, page_count, page_number, rupiah
from portal.web.lks import read_upload, render_public_detail
from portal.web.offers import staff_lks
from storage import donations as store
from storage import ledger
from storage import lks as lks_store
from storage import offers as offer_store
from storage.accounts import AccountError, create_account
from storage.objects import make_object_store

log = logging.getLogger("jitu.donations")
STAFF = roles(Role.LKS_STAFF, right=LEDGER)  # donations, transfers, campaigns, buku kas
LINK_LIFETIME = timedelta(minutes=10)

menu.add("/lks-saya/donasi", "Donasi diterima", Role.LKS_STAFF)
menu.add("/lks-saya/buku-kas", "Buku kas", Role.LKS_STAFF)
menu.add("/lks-saya/kampanye", "Kampanye", Role.LKS_STAFF)
menu.add("/admin/donasi/transfer", "Transfer donasi tercatat", Role.DINSOS_ADMIN)
menu.add("/donasi-saya", "Donasi saya", Role.DONOR)


def _online(request: Request[Any, Any, Any]) -> bool:
    return bool(request.app.state["settings"].stripe_secret_key)


# --- public: campaigns and giving ---------------------------------------------------------------------

@get("/kampanye/{slug:str}", opt=PUBLIC)
async def campaign_page(request: Request[Any, Any, Any], slug: FromPath[str]) -> Template:
    return await _campaign(request, slug)


async def _campaign(request: Request[Any, Any, Any], slug: str, error: str = "", values: dict[str, str] | None = None,
                    status_code: int = 200) -> Template:
    try:
        campaign = await store.public_campaign(slug)
        lks = await lks_store.get_lks(campaign["lks"], verified_only=True)
    except (store.DonationNotFound, lks_store.LksNotFound):
        raise NotFoundException() from None
    raised = await store.raised(campaign_id=campaign["id"])
    return await page(request, "donations/campaign.html", status_code=status_code, campaign=campaign, lks=lks,
                      raised=raised, online=_online(request), error=error, values=values or {},
                      region_name=regions.name_of)


@post("/donasi", opt=PUBLIC)
async def donate(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await request.form()
    raw_lks, raw_campaign = str(form.get("lks_id", "")), str(form.get("campaign_id", ""))
    if not raw_lks.isdigit() or (raw_campaign and not raw_campaign.isdigit()):
        raise NotFoundException()
    lks_id, campaign_id = int(raw_lks), int(raw_campaign) if raw_campaign else None
    try:
        lks = await lks_store.get_lks(lks_id, verified_only=True)
    except lks_store.LksNotFound:
        raise NotFoundException() from None
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    gateway = make_gateway(request.app.state["settings"])
    user = await current_user(request)
    try:
        if not gateway.online:
            raise DonationError("Pembayaran daring belum tersedia. Silakan transfer ke rekening lembaga.")
        donor = parse_donor(form)
        donation_id = await store.create_pending(lks_id, campaign_id, donor,
                                                 user.id if user and user.role == Role.DONOR else None)
    except DonationError as exc:
        return await _giving_page(request, lks, campaign_id, str(exc), values)
    base = str(request.base_url).rstrip("/")
    try:
        session = await gateway.start_checkout(CheckoutRequest(
            donation_id=donation_id, lks_id=lks_id, campaign_id=campaign_id, amount=donor.amount,
            description=f"Donasi untuk {lks['name']}", donor_email=donor.email,
            success_url=f"{base}/donasi/terima-kasih?d={donation_id}",
            cancel_url=f"{base}/lks/{lks_id}#donasi",
        ))
    except PaymentError:
        log.exception("checkout for donation %s failed", donation_id)
        await store.checkout_not_started(donation_id)
        return await _giving_page(request, lks, campaign_id,
                                  "Layanan pembayaran sedang tidak dapat dihubungi. Silakan coba lagi nanti.", values,
                                  status_code=503)
    await store.attach_session(donation_id, session.session_id)
    return Redirect(path=session.url, status_code=303)


async def _giving_page(request: Request[Any, Any, Any], lks: dict[str, Any], campaign_id: int | None, error: str,
                       values: dict[str, str], status_code: int = 400) -> Template:
    if campaign_id is not None:
        for campaign in await store.campaigns_of(lks["id"], active_only=True):
            if campaign["id"] == campaign_id:
                return await _campaign(request, campaign["slug"], error, values, status_code)
    return await render_public_detail(request, lks, error=error, values=values, status_code=status_code)


@get("/donasi/terima-kasih", opt=PUBLIC)
async def thanks(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "donations/thanks.html")


# --- donors ---------------------------------------------------------------------------------------------

@get("/donatur/daftar", opt=PUBLIC)
async def donor_signup_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "donations/signup.html", error="", values={})


@post("/donatur/daftar", opt=PUBLIC)
async def donor_signup(request: Request[Any, Any, Any]) -> Template | Redirect:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str) and "password" not in k}
    username = values.get("username", "").strip().lower()
    password = str(form.get("password") or "")
    error = ""
    if len(password) < 10:
        error = "Kata sandi paling sedikit 10 karakter."
    elif not values.get("full_name", "").strip():
        error = "Nama lengkap wajib diisi."
    else:
        try:
            await create_account(username=username, password_hash=hash_password(password), role=Role.DONOR,
                                 full_name=values["full_name"].strip(), email=values.get("email", "").strip(),
                                 actor=username or "-")
        except AccountError as exc:
            error = str(exc)
    if error:
        return await page(request, "donations/signup.html", status_code=400, error=error, values=values)
    return Redirect(path="/masuk?next=/donasi-saya")


@get("/donasi-saya", opt=roles(Role.DONOR))
async def my_donations(request: Request[Any, Any, Any]) -> Template:
    user = await current_user(request)
    assert user is not None
    page_no = page_number(request)
    rows, total = await store.donations_of_account(user.id, page_no, PAGE_SIZE)
    return await page(request, "donations/mine.html", rows=rows, total=total, page_no=page_no,
                      pages=page_count(total))


async def _my_receipt(request: Request[Any, Any, Any], donation_id: int) -> dict[str, Any]:
    user = await current_user(request)
    assert user is not None
    try:
        return await store.receipt(donation_id, user.id)
    except store.DonationNotFound:
        raise NotFoundException() from None


@get("/donasi-saya/{donation_id:int}/kuitansi", opt=roles(Role.DONOR))
async def receipt_html(request: Request[Any, Any, Any], donation_id: FromPath[int]) -> Template:
    return await page(request, "donations/receipt.html", d=await _my_receipt(request, donation_id))


@get("/donasi-saya/{donation_id:int}/kuitansi.pdf", opt=roles(Role.DONOR))
async def receipt_pdf(request: Request[Any, Any, Any], donation_id: FromPath[int]) -> Response[bytes]:
    d = await _my_receipt(request, donation_id)
    return Response(receipt_document(d), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{d["receipt_number"]}.pdf"'})


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def receipt_document(d: dict[str, Any]) -> bytes:
    pdf = FPDF(format=(148, 210), orientation="landscape")  # A5 in mm (the name "A5" makes fpdf2 warn)
    pdf.set_title(str(d["receipt_number"]))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "KUITANSI DONASI", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    when = d["completed_at"] or d["created_at"]
    status = {"completed": "Diterima", "refunded": "Dikembalikan (refund)"}.get(d["status"], d["status"])
    for label, value in (
        ("Nomor kuitansi", d["receipt_number"]),
        ("Tanggal", when.strftime("%Y-%m-%d")),
        ("Donatur", d["donor_name"]),
        ("Penerima", d["lks_name"]),
        ("Kampanye", d.get("campaign_title") or "-"),
        ("Jumlah", rupiah(d["amount"])),
        ("Cara bayar", "Kartu/daring (Stripe)" if d["method"] == "stripe" else "Transfer bank"),
        ("Status", status),
    ):
        pdf.cell(45, 8, _latin1(label))
        pdf.cell(0, 8, _latin1(str(value)), new_x="LMARGIN", new_y="NEXT")
    if d.get("refunded_amount"):
        pdf.cell(45, 8, "Dikembalikan")
        pdf.cell(0, 8, _latin1(rupiah(d["refunded_amount"])), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 9)
    pdf.multi_cell(0, 5, _latin1("Dicatat oleh jitu, Dinas Sosial Kota Bandung. Terima kasih atas kepedulian Anda."))
    return bytes(pdf.output())


# --- LKS staff: donations, ledger, campaigns, recorded transfers -----------------------------------------

@get("/lks-saya/donasi", opt=STAFF)
async def lks_donations(request: Request[Any, Any, Any]) -> Template:
    _, lks = await staff_lks(request)
    number = page_number(request)
    rows, total = await store.donations_of_lks(lks["id"], number)
    return await page(request, "donations/lks_list.html", lks=lks, rows=rows, total=total, hal=number,
                      pages=page_count(total), online=_online(request))


@get("/lks-saya/buku-kas", opt=STAFF)
async def lks_ledger(request: Request[Any, Any, Any]) -> Template:
    _, lks = await staff_lks(request)
    number = page_number(request)
    rows, total = await ledger.entries(lks["id"], number)
    balance = await ledger.balance(lks["id"])
    committed = await offer_store.committed_fund_offers(lks["id"])
    return await page(request, "donations/ledger.html", lks=lks, rows=rows, total=total, hal=number,
                      pages=page_count(total), balance=balance, committed=committed)


@get("/lks-saya/kampanye", opt=STAFF)
async def lks_campaigns(request: Request[Any, Any, Any]) -> Template:
    return await _campaigns(request)


async def _campaigns(request: Request[Any, Any, Any], error: str = "", values: dict[str, str] | None = None,
                     status_code: int = 200) -> Template:
    _, lks = await staff_lks(request)
    return await page(request, "donations/campaigns.html", status_code=status_code, lks=lks,
                      rows=await store.campaigns_of(lks["id"]), error=error, values=values or {},
                      kecamatan=regions.kecamatan())


@post("/lks-saya/kampanye", opt=STAFF)
async def lks_campaign_create(request: Request[Any, Any, Any]) -> Template | Redirect:
    user, lks = await staff_lks(request)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    target = parse_money(values.get("target_amount", "") or "0")
    kecamatan = values.get("kecamatan_code", "")
    try:
        if target is None:
            raise DonationError("Target dana harus berupa angka rupiah.")
        if kecamatan and kecamatan not in {r.code for r in regions.kecamatan()}:
            raise DonationError("Pilih kecamatan di Kota Bandung.")
        slug = await store.create_campaign(lks["id"], values.get("title", ""), values.get("description", ""),
                                           target, kecamatan, user.username)
    except DonationError as exc:
        return await _campaigns(request, str(exc), values, 400)
    return Redirect(path=f"/kampanye/{slug}")


@get("/lks-saya/donasi/transfer", opt=STAFF)
async def transfer_form(request: Request[Any, Any, Any]) -> Template:
    _, lks = await staff_lks(request)
    return await page(request, "donations/transfer_form.html", lks=lks, error="", values={})


@post("/lks-saya/donasi/transfer", opt=STAFF)
async def transfer_record(request: Request[Any, Any, Any]) -> Template | Redirect:
    user, lks = await staff_lks(request)
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    object_store = make_object_store(request.app.state["settings"])
    key = ""
    try:
        data = parse_transfer(form, store.today())
        upload = await read_upload(form.get("proof"))
        if upload is None:
            raise DonationError("Bukti transfer wajib diunggah.")
        try:
            content_type, ext = sniff_document(upload[1])
        except LksError as exc:
            raise DonationError(f"Bukti transfer: {exc}") from None
        key = f"transfers/{lks['id']}/{uuid.uuid4().hex}.{ext}"
        object_store.put(key, upload[1], content_type)
        await store.record_transfer(lks["id"], data, key, user.id, user.username)
    except DonationError as exc:
        if key:
            object_store.delete(key)
        return await page(request, "donations/transfer_form.html", status_code=400, lks=lks, error=str(exc),
                          values=values)
    return Redirect(path="/lks-saya/donasi")


@get("/lks-saya/donasi/{donation_id:int}/bukti", opt=STAFF)
async def lks_transfer_proof(request: Request[Any, Any, Any], donation_id: FromPath[int]) -> Redirect:
    _, lks = await staff_lks(request)
    return await _proof(request, donation_id, lks["id"])


async def _proof(request: Request[Any, Any, Any], donation_id: int, lks_id: int | None) -> Redirect:
    try:
        row = await store.get_transfer(donation_id, lks_id)
    except store.DonationNotFound:
        raise NotFoundException() from None
    if not row["transfer_proof_key"]:
        raise NotFoundException()
    object_store = make_object_store(request.app.state["settings"])
    return Redirect(path=object_store.download_url(row["transfer_proof_key"], LINK_LIFETIME))


# --- Dinsos: recorded transfers ---------------------------------------------------------------------------

@get("/admin/donasi/transfer", opt=roles(Role.DINSOS_ADMIN))
async def admin_transfers(request: Request[Any, Any, Any]) -> Template:
    q = searches.params(request, ("q",)).get("q", "").strip()[:100]
    number = page_number(request)
    rows, total = await store.transfers(q, number)
    return await page(request, "donations/admin_transfers.html", rows=rows, total=total, q=q, hal=number,
                      pages=page_count(total), query=searches.query_string(request, {}))


@post("/admin/donasi/transfer", opt=roles(Role.DINSOS_ADMIN), name="admin_transfers_search")
async def admin_transfers_search(request: Request[Any, Any, Any]) -> Redirect:
    """Donor names are searched by POST, never in a URL (``portal.web.searches``)."""
    return await searches.redirect(request, "/admin/donasi/transfer", ("q",), ())


@get("/admin/donasi/transfer/{donation_id:int}/bukti", opt=roles(Role.DINSOS_ADMIN))
async def admin_transfer_proof(request: Request[Any, Any, Any], donation_id: FromPath[int]) -> Redirect:
    return await _proof(request, donation_id, None)


ROUTES = [campaign_page, donate, thanks, donor_signup_form, donor_signup, my_donations, receipt_html, receipt_pdf,
          lks_donations, lks_ledger, lks_campaigns, lks_campaign_create, transfer_form, transfer_record,
          lks_transfer_proof, admin_transfers, admin_transfers_search, admin_transfer_proof]

"""Log-in, log-out, language, and the role-aware home page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from marketplace.audit import AuditEvent
from marketplace.second_factor import second_step
from marketplace.vocabulary import Role
from portal.auth import ANY_ROLE, PUBLIC, current_user, hash_password, verify_password
from portal.i18n import LANGUAGES, translate
from portal.web import menu
from portal.web.common import client_ip, language_of, page
from portal.web.logins.flow import begin_second_step, complete_login, required_roles
from storage import logins
from storage.accounts import find_by_username
from storage.counting import count_rows
from storage.logins import second_factor
from storage.registry import need_status_is, needs_in_kelurahan
from storage.reminders import notifications_for
from storage.tables import Account, Allocation, Donation, Household, Lks, Need
from storage.uow import unit_of_work

# Compared against when the username is unknown, so both paths take as long (no user enumeration).
_DUMMY_HASH = hash_password("jitu-timing-equaliser")


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/beranda"


@get("/", opt=PUBLIC, name="index")
async def index(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "index.html")


@get("/healthz", opt=PUBLIC, name="health")
async def health() -> dict[str, str]:
    await Account.count()
    return {"status": "ok"}


@get("/masuk", opt=PUBLIC, name="login")
async def login_form(request: Request[Any, Any, Any]) -> Template:
    target = _safe_next(request.query_params.get("next"))
    return await page(request, "login.html", next=target, error=None, username="")


WRONG = "Nama pengguna atau kata sandi salah."
LOCKED = ("Masuk dengan nama ini atau dari alamat ini dikunci karena terlalu banyak percobaan yang gagal. "
          "Hubungi admin Dinas Sosial untuk membukanya.")
WAIT = "Terlalu banyak percobaan yang gagal. Coba lagi dalam {n} detik."


@post("/masuk", opt=PUBLIC, name="login_submit")
async def login_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Same answer for an unknown name and a wrong password; throttled per name and per address."""
    form = await request.form()
    username = str(form.get("username", "")).strip()[:80]
    password = str(form.get("password", ""))[:1024]
    target = _safe_next(str(form.get("next", "")))
    address = client_ip(request)
    verdict = await logins.check(username, address)
    if not verdict.allowed:
        async with unit_of_work() as uow:
            await uow.record(AuditEvent(username or "-", "auth.login_throttled", "account", username or "-", None,
                                        {"address": address, "locked": verdict.locked}))
        error = LOCKED if verdict.locked else translate(WAIT, language_of(request)).format(n=verdict.wait_seconds)
        return await page(request, "login.html", status_code=429, next=target, username=username, error=error)
    row = await find_by_username(username) if username else None
    ok = verify_password(row["password_hash"] if row else _DUMMY_HASH, password) and bool(row and row["active"])
    if not ok or row is None:
        await logins.record_failure(username, address)
        async with unit_of_work() as uow:
            await uow.record(AuditEvent(username or "-", "auth.login_failed", "account", username or "-"))
        return await page(request, "login.html", status_code=401, next=target, username=username, error=WRONG)
    step = second_step(row["role"], await second_factor.is_enrolled(row["id"]), required_roles(request))
    if step.needed:
        async with unit_of_work() as uow:
            await uow.record(AuditEvent(row["username"], "auth.password_ok", "account", str(row["id"]), None,
                                        {"next_step": "enrol" if step.enrol else "code"}))
        return Redirect(path=begin_second_step(request, row, target, step))
    await complete_login(request, row, "none")
    return Redirect(path=target)


@post("/keluar", opt=ANY_ROLE, name="logout")
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    user = await current_user(request)
    if user:
        async with unit_of_work() as uow:
            await uow.record(AuditEvent(user.username, "auth.logout", "account", str(user.id)))
    sid = request.session.get("sid")
    if isinstance(sid, str):
        await logins.forget_session(sid)
    request.clear_session()
    return Redirect(path="/masuk")


@post("/bahasa", opt=PUBLIC, name="set_language")
async def set_language(request: Request[Any, Any, Any]) -> Redirect:
    form = await request.form()
    lang = str(form.get("lang", "id"))
    if lang not in LANGUAGES:
        lang = "id"
    back = _safe_next(str(form.get("next", "/")))
    user = await current_user(request)
    if user:
        request.session["lang"] = lang
        await Account.update({Account.language: lang}).where(Account.id == user.id)
    response = Redirect(path=back)
    response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@get("/beranda", opt=ANY_ROLE, name="home")
async def home(request: Request[Any, Any, Any]) -> Template:
    user = await current_user(request)
    assert user is not None
    figures: dict[str, Any] = {}
    if user.role in (Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL, Role.DPO):
        figures["households"] = await count_rows(Household)
        figures["needs_submitted"] = await count_rows(Need, need_status_is("submitted", "assessed"))
        figures["needs_verified"] = await count_rows(Need, need_status_is("verified"))
        figures["lks_applied"] = await count_rows(Lks, Lks.status == "applied")
        figures["allocations_proposed"] = await count_rows(Allocation, Allocation.status == "proposed")
    elif user.role == Role.OPERATOR_KELURAHAN:
        figures["households"] = await count_rows(Household, Household.kelurahan_code == user.kelurahan_code)
        figures["needs_submitted"] = await count_rows(
            Need, needs_in_kelurahan(user.kelurahan_code or "-") & need_status_is("submitted"))
    elif user.role == Role.LKS_STAFF:
        lks = await Lks.select(Lks.name, Lks.status).where(Lks.id == user.lks_id).first()
        figures["lks"] = lks
        figures["allocations_approved"] = await count_rows(
            Allocation, (Allocation.lks == user.lks_id) & (Allocation.status == "approved"))
        figures["allocations_delivered"] = await count_rows(
            Allocation, (Allocation.lks == user.lks_id) & (Allocation.status.is_in(["delivered", "confirmed"])))
    elif user.role == Role.DONOR:
        figures["donations"] = await count_rows(Donation, Donation.donor.account == user.id)
    notifications, _total = await notifications_for(user.id, user.lks_id, 1, 5)
    return await page(request, "home.html", figures=figures, notifications=notifications,
                      menu=menu.for_user(request.app, user))


ROUTES = [index, health, login_form, login_submit, logout, set_language, home]

"""An account's own sessions and password; Dinsos admin's page of log-in locks (issue 13, ASVS 2.2, 3.3).
The second factor's pages are in ``second_factor.py``, the log-in's session steps in ``flow.py``."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.audit import AuditEvent
from marketplace.vocabulary import Role
from portal.auth import ANY_ROLE, hash_password, provide_user, roles, verify_password
from portal.web import menu
from portal.web.common import page
from portal.web.logins.second_factor import ROUTES as second_factor_routes
from storage import logins
from storage.tables import Account
from storage.uow import unit_of_work

ADMIN = roles(Role.DINSOS_ADMIN)
MIN_PASSWORD = 12
for _role in Role:
    menu.add("/akun/sesi", "Sesi masuk saya", _role)
    menu.add("/akun/kata-sandi", "Ganti kata sandi", _role)
menu.add("/admin/kunci-masuk", "Kunci masuk", Role.DINSOS_ADMIN)


def _sid(request: Request[Any, Any, Any]) -> str:
    return str(request.session.get("sid") or "")


@get("/akun/sesi", opt=ANY_ROLE, name="my_sessions")
async def my_sessions(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    return await page(request, "logins/sessions.html", sessions=await logins.sessions_of(user.id),
                      current=_sid(request))


@post("/akun/sesi/{session_id:int}/akhiri", opt=ANY_ROLE, name="my_session_end")
async def my_session_end(request: Request[Any, Any, Any], session_id: FromPath[int]) -> Redirect:
    user = await provide_user(request)
    await logins.end_session(user.username, user.id, session_id)
    return Redirect(path="/akun/sesi")


@post("/akun/sesi/akhiri-lainnya", opt=ANY_ROLE, name="my_sessions_end_others")
async def my_sessions_end_others(request: Request[Any, Any, Any]) -> Redirect:
    user = await provide_user(request)
    await logins.end_sessions(user.username, user.id, _sid(request), "ended by the account")
    return Redirect(path="/akun/sesi")


@get("/akun/kata-sandi", opt=ANY_ROLE, name="password_form")
async def password_form(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "logins/password.html", error=None, done=False, minimum=MIN_PASSWORD)


def password_problem(new: str, again: str, username: str) -> str | None:
    """ASVS 2.1: at least 12 characters, at most 128, any characters, not the user name."""
    if len(new) < MIN_PASSWORD:
        return "Kata sandi baru paling sedikit 12 karakter."
    if len(new) > 128:
        return "Kata sandi baru paling banyak 128 karakter."
    if new != again:
        return "Kedua isian kata sandi baru tidak sama."
    if username.lower() in new.lower():
        return "Kata sandi baru tidak boleh memuat nama pengguna."
    return None


@post("/akun/kata-sandi", opt=ANY_ROLE, name="password_change")
async def password_change(request: Request[Any, Any, Any]) -> Template:
    """A new password ends every other session of the account (ASVS 3.3.3)."""
    user = await provide_user(request)
    form = await request.form()
    current, new, again = (str(form.get(k, ""))[:1024] for k in ("current", "new", "again"))
    row = await Account.select(Account.password_hash).where(Account.id == user.id).first()
    error = None if row and verify_password(row["password_hash"], current) else "Kata sandi sekarang salah."
    error = error or password_problem(new, again, user.username)
    if error:
        return await page(request, "logins/password.html", status_code=400, error=error, done=False,
                          minimum=MIN_PASSWORD)
    async with unit_of_work() as uow:
        await Account.update({Account.password_hash: hash_password(new)}).where(Account.id == user.id)
        await uow.record(AuditEvent(user.username, "auth.password_change", "account", str(user.id)))
    await logins.end_sessions(user.username, user.id, _sid(request), "password changed")
    return await page(request, "logins/password.html", error=None, done=True, minimum=MIN_PASSWORD)


@get("/admin/kunci-masuk", opt=ADMIN, name="login_locks")
async def login_locks(request: Request[Any, Any, Any]) -> Template:
    return await page(request, "logins/locks.html", rows=await logins.locks())


@post("/admin/kunci-masuk/{throttle_id:int}/buka", opt=ADMIN, name="login_unlock")
async def login_unlock(request: Request[Any, Any, Any], throttle_id: FromPath[int]) -> Redirect:
    user = await provide_user(request)
    await logins.unlock(user.username, throttle_id)
    return Redirect(path="/admin/kunci-masuk")


ROUTES = [my_sessions, my_session_end, my_sessions_end_others, password_form, password_change, login_locks,
          login_unlock, *second_factor_routes]

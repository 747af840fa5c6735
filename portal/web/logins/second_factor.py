"""The second factor's pages (issue 13): the code asked after the password, the enrolment forced on
roles that require one, the account page where anyone enrols, replaces, regenerates or (when the role
allows) switches it off, and the Dinsos admin's reset for a lost phone.

Every code typed here goes through the log-in throttle (``storage.logins``: per account name and per
client address, growing delays, then a lock), exactly as a password does.
"""

from __future__ import annotations

from typing import Any

import segno
from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.audit import AuditEvent
from marketplace.second_factor import may_disable, required_for, show_recovery_code
from marketplace.vocabulary import Role
from portal.auth import ANY_ROLE, PUBLIC, provide_user, roles, verify_password
from portal.i18n import translate
from portal.web import menu
from portal.web.common import PAGE_SIZE, client_ip, language_of, page, page_count, page_number
from portal.web.logins.flow import (
    CODE_PAGE,
    ENROL_PAGE,
    PENDING,
    complete_login,
    pending,
    pending_account,
    required_roles,
)
from storage import logins
from storage.accounts import CurrentUser, load_user
from storage.logins import second_factor
from storage.logins.second_factor import Outcome
from storage.tables import Account
from storage.uow import unit_of_work

ADMIN = roles(Role.DINSOS_ADMIN)
NEW_SECRET = "mfa_new_secret"  # noqa: S105  (a session key, not a secret)
"""Session key of a secret being enrolled from the account page (sealed by the vault)."""
for _role in Role:
    menu.add("/akun", "Akun saya", _role)
menu.add("/admin/faktor-kedua", "Faktor kedua akun", Role.DINSOS_ADMIN)

WRONG_CODE = "Kode salah, kedaluwarsa atau sudah dipakai."
LOCKED = ("Masuk dengan nama ini atau dari alamat ini dikunci karena terlalu banyak percobaan yang gagal. "
          "Hubungi admin Dinas Sosial untuk membukanya.")
WAIT = "Terlalu banyak percobaan yang gagal. Coba lagi dalam {n} detik."
WRONG_PASSWORD = "Kata sandi salah."  # noqa: S105  (a message)


async def _throttled(request: Request[Any, Any, Any], username: str) -> str | None:
    """The throttle's refusal (audited), or None when a code may be tried now."""
    address = client_ip(request)
    verdict = await logins.check(username, address)
    if verdict.allowed:
        return None
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(username, "auth.login_throttled", "account", username, None,
                                    {"address": address, "locked": verdict.locked, "step": "second_factor"}))
    return LOCKED if verdict.locked else translate(WAIT, language_of(request)).format(n=verdict.wait_seconds)


async def _failed(request: Request[Any, Any, Any], username: str, account_id: int, where: str,
                  outcome: Outcome = Outcome.WRONG) -> None:
    await logins.record_failure(username, client_ip(request))
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(username, "auth.mfa_failed", "account", str(account_id), None,
                                    {"where": where, "replay": outcome is Outcome.REPLAY}))


async def _ok(username: str, account_id: int, outcome: Outcome, where: str) -> None:
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(username, "auth.mfa_ok", "account", str(account_id), None,
                                    {"where": where, "method": "recovery" if outcome is Outcome.RECOVERY else "totp"}))


def _code(form: Any) -> str:
    return str(form.get("code", ""))[:64]


def _enrol_context(secret: str, username: str, action: str, cancel: str) -> dict[str, Any]:
    uri = second_factor.provisioning_uri(secret, username)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    return {"secret": grouped, "uri": uri, "qr": qr, "action": action, "cancel": cancel}


async def _codes_page(request: Request[Any, Any, Any], user: CurrentUser | None, codes: list[str],
                      target: str) -> Template:
    return await page(request, "logins/recovery_codes.html", user=user,
                      codes=[show_recovery_code(c) for c in codes], next=target)


# --- the second step of log-in -----------------------------------------------------------------------

@get(CODE_PAGE, opt=PUBLIC, name="second_step")
async def second_step_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    state = pending(request)
    if state is None:
        return Redirect(path="/masuk")
    if state["enrol"]:
        return Redirect(path=ENROL_PAGE)
    return await page(request, "logins/second_step.html", error=None)


@post(CODE_PAGE, opt=PUBLIC, name="second_step_submit")
async def second_step_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    state = pending(request)
    if state is None or state["enrol"]:
        return Redirect(path="/masuk" if state is None else ENROL_PAGE)
    row = await pending_account(state)
    if row is None:
        request.clear_session()
        return Redirect(path="/masuk")
    username = row["username"]
    refusal = await _throttled(request, username)
    if refusal:
        return await page(request, "logins/second_step.html", status_code=429, error=refusal)
    outcome = await second_factor.verify(username, row["id"], _code(await request.form()))
    if not outcome.accepted:
        await _failed(request, username, row["id"], "login", outcome)
        return await page(request, "logins/second_step.html", status_code=401, error=WRONG_CODE)
    await _ok(username, row["id"], outcome, "login")
    await complete_login(request, row, outcome.value)
    return Redirect(path=str(state.get("next") or "/beranda"))


@get(ENROL_PAGE, opt=PUBLIC, name="second_step_enrol")
async def enrol_form(request: Request[Any, Any, Any]) -> Template | Redirect:
    state = pending(request)
    if state is None:
        return Redirect(path="/masuk")
    if not state["enrol"]:
        return Redirect(path=CODE_PAGE)
    if not state.get("secret"):
        # one secret per waiting log-in (reloading the page must not change what the phone scanned)
        state["secret"] = second_factor.seal(second_factor.new_secret(), state["account_id"])
        request.set_session({**request.session, PENDING: state})
    secret = second_factor.unseal(state["secret"], state["account_id"])
    return await page(request, "logins/enrol.html", error=None, required=True,
                      **_enrol_context(secret, state["username"], ENROL_PAGE, "/masuk/faktor-kedua/batal"))


@post(ENROL_PAGE, opt=PUBLIC, name="second_step_enrol_submit")
async def enrol_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    state = pending(request)
    if state is None or not state["enrol"] or not state.get("secret"):
        return Redirect(path="/masuk" if state is None else ENROL_PAGE)
    row = await pending_account(state)
    if row is None:
        request.clear_session()
        return Redirect(path="/masuk")
    username = row["username"]
    secret = second_factor.unseal(state["secret"], row["id"])
    context = _enrol_context(secret, username, ENROL_PAGE, "/masuk/faktor-kedua/batal")
    refusal = await _throttled(request, username)
    if refusal:
        return await page(request, "logins/enrol.html", status_code=429, error=refusal, required=True, **context)
    step = second_factor.confirms(secret, _code(await request.form()))
    if step is None:
        await _failed(request, username, row["id"], "enrol")
        return await page(request, "logins/enrol.html", status_code=401, error=WRONG_CODE, required=True, **context)
    codes = await second_factor.enrol(username, row["id"], secret, step)
    await complete_login(request, row, "enrol")
    return await _codes_page(request, await load_user(row["id"]), codes, str(state.get("next") or "/beranda"))


@post("/masuk/faktor-kedua/batal", opt=PUBLIC, name="second_step_cancel")
async def second_step_cancel(request: Request[Any, Any, Any]) -> Redirect:
    """Leaves a waiting log-in (the only way out of it besides finishing it)."""
    state = pending(request)
    if state is not None and "account_id" not in request.session:
        async with unit_of_work() as uow:
            await uow.record(AuditEvent(state["username"], "auth.mfa_cancel", "account", str(state["account_id"])))
        request.clear_session()
    return Redirect(path="/masuk")


# --- the account page --------------------------------------------------------------------------------

async def _account_page(request: Request[Any, Any, Any], user: CurrentUser, status_code: int = 200,
                        error: str | None = None, notice: str | None = None) -> Template:
    required = required_for(user.role, required_roles(request))
    return await page(request, "logins/account.html", status_code=status_code, error=error, notice=notice,
                      status=await second_factor.status(user.id), required=required,
                      may_disable=may_disable(user.role, required_roles(request)))


async def _password_ok(user: CurrentUser, password: str) -> bool:
    row = await Account.select(Account.password_hash).where(Account.id == user.id).first()
    return bool(row and verify_password(row["password_hash"], password[:1024]))


@get("/akun", opt=ANY_ROLE, name="my_account")
async def my_account(request: Request[Any, Any, Any]) -> Template:
    return await _account_page(request, await provide_user(request))


@post("/akun/faktor-kedua/mulai", opt=ANY_ROLE, name="mfa_start")
async def mfa_start(request: Request[Any, Any, Any]) -> Template:
    """Enrol (or move to a new phone): the password, and the current code when one is enrolled."""
    user = await provide_user(request)
    form = await request.form()
    refusal = await _throttled(request, user.username)
    if refusal:
        return await _account_page(request, user, 429, error=refusal)
    if not await _password_ok(user, str(form.get("password", ""))):
        await _failed(request, user.username, user.id, "account:start")
        return await _account_page(request, user, 401, error=WRONG_PASSWORD)
    if await second_factor.is_enrolled(user.id):
        outcome = await second_factor.verify(user.username, user.id, _code(form))
        if not outcome.accepted:
            await _failed(request, user.username, user.id, "account:start", outcome)
            return await _account_page(request, user, 401, error=WRONG_CODE)
        await _ok(user.username, user.id, outcome, "account:start")
    secret = second_factor.new_secret()
    request.session[NEW_SECRET] = second_factor.seal(secret, user.id)
    return await page(request, "logins/enrol.html", error=None, required=False,
                      **_enrol_context(secret, user.username, "/akun/faktor-kedua/konfirmasi", "/akun"))


@post("/akun/faktor-kedua/konfirmasi", opt=ANY_ROLE, name="mfa_confirm")
async def mfa_confirm(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await provide_user(request)
    sealed = request.session.get(NEW_SECRET)
    if not isinstance(sealed, str):
        return Redirect(path="/akun")
    secret = second_factor.unseal(sealed, user.id)
    context = _enrol_context(secret, user.username, "/akun/faktor-kedua/konfirmasi", "/akun")
    refusal = await _throttled(request, user.username)
    if refusal:
        return await page(request, "logins/enrol.html", status_code=429, error=refusal, required=False, **context)
    step = second_factor.confirms(secret, _code(await request.form()))
    if step is None:
        await _failed(request, user.username, user.id, "account:enrol")
        return await page(request, "logins/enrol.html", status_code=401, error=WRONG_CODE, required=False,
                          **context)
    request.session.pop(NEW_SECRET, None)
    codes = await second_factor.enrol(user.username, user.id, secret, step)
    return await _codes_page(request, user, codes, "/akun")


@post("/akun/faktor-kedua/kode-pemulihan", opt=ANY_ROLE, name="mfa_regenerate")
async def mfa_regenerate(request: Request[Any, Any, Any]) -> Template:
    """New recovery codes (the old ones stop working), against a current code."""
    user = await provide_user(request)
    if not await second_factor.is_enrolled(user.id):
        return await _account_page(request, user, 400, error="Faktor kedua belum dipasang.")
    refusal = await _throttled(request, user.username)
    if refusal:
        return await _account_page(request, user, 429, error=refusal)
    outcome = await second_factor.verify(user.username, user.id, _code(await request.form()))
    if not outcome.accepted:
        await _failed(request, user.username, user.id, "account:regenerate", outcome)
        return await _account_page(request, user, 401, error=WRONG_CODE)
    await _ok(user.username, user.id, outcome, "account:regenerate")
    return await _codes_page(request, user, await second_factor.regenerate_codes(user.username, user.id), "/akun")


@post("/akun/faktor-kedua/matikan", opt=ANY_ROLE, name="mfa_disable")
async def mfa_disable(request: Request[Any, Any, Any]) -> Template:
    """Switches the second factor off: password and code, and only for a role that does not require it."""
    user = await provide_user(request)
    if not may_disable(user.role, required_roles(request)):
        return await _account_page(request, user, 403, error="Faktor kedua wajib untuk peran Anda dan tidak dapat "
                                                             "dimatikan. Untuk pindah ke ponsel baru, pasang ulang.")
    if not await second_factor.is_enrolled(user.id):
        return await _account_page(request, user, 400, error="Faktor kedua belum dipasang.")
    form = await request.form()
    refusal = await _throttled(request, user.username)
    if refusal:
        return await _account_page(request, user, 429, error=refusal)
    if not await _password_ok(user, str(form.get("password", ""))):
        await _failed(request, user.username, user.id, "account:disable")
        return await _account_page(request, user, 401, error=WRONG_PASSWORD)
    outcome = await second_factor.verify(user.username, user.id, _code(form))
    if not outcome.accepted:
        await _failed(request, user.username, user.id, "account:disable", outcome)
        return await _account_page(request, user, 401, error=WRONG_CODE)
    await second_factor.disable(user.username, user.id)
    return await _account_page(request, user, notice="Faktor kedua dimatikan.")


# --- Dinsos admin: reset a lost factor --------------------------------------------------------------

@get("/admin/faktor-kedua", opt=ADMIN, name="mfa_admin")
async def mfa_admin(request: Request[Any, Any, Any]) -> Template:
    number = page_number(request, "hal")
    rows, total = await second_factor.enrolled_accounts((number - 1) * PAGE_SIZE, PAGE_SIZE)
    return await page(request, "logins/mfa_admin.html", rows=rows, total=total, number=number,
                      pages=page_count(total), missing=await second_factor.missing_required(required_roles(request)),
                      error=None)


@post("/admin/faktor-kedua/{account_id:int}/reset", opt=ADMIN, name="mfa_admin_reset")
async def mfa_admin_reset(request: Request[Any, Any, Any],
                          account_id: FromPath[int]) -> Template | Redirect:
    """For a lost phone: the factor and recovery codes go, every session of the account ends, and the
    account enrols again at its next log-in (audited with the reason, notified to the account)."""
    user = await provide_user(request)
    reason = str((await request.form()).get("reason", "")).strip()[:300]
    error = None
    if account_id == user.id:
        error = ("Faktor kedua Anda sendiri hanya dapat direset oleh admin lain "
                 "(atau dengan perintah jitu user reset-mfa).")
    elif len(reason) < 5:
        error = "Tuliskan alasannya (mis. ponsel hilang, dikonfirmasi lewat telepon kantor)."
    elif not await second_factor.reset(user.username, account_id, reason):
        error = "Akun ini tidak memakai faktor kedua."
    if error:
        rows, total = await second_factor.enrolled_accounts(0, PAGE_SIZE)
        return await page(request, "logins/mfa_admin.html", status_code=400, rows=rows, total=total, number=1,
                          pages=page_count(total), error=error,
                          missing=await second_factor.missing_required(required_roles(request)))
    await logins.end_sessions(user.username, account_id, None, "second factor reset")
    return Redirect(path="/admin/faktor-kedua")


ROUTES = [second_step_form, second_step_submit, enrol_form, enrol_submit, second_step_cancel, my_account,
          mfa_start, mfa_confirm, mfa_regenerate, mfa_disable, mfa_admin, mfa_admin_reset]

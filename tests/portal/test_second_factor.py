"""The second factor (issue 13, ASVS 2.5, 2.6, 2.8): TOTP with recovery codes, required for Dinsos admin
and the data protection officer, optional for everyone else."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pyotp
from click.testing import CliRunner

from storage import logins
from storage.logins import second_factor
from storage.tables import (
    AccountSession,
    AccountTotp,
    AuditEvent,
    LoginThrottle,
    Notification,
    RecoveryCode,
    WebSession,
)
from tests.dbutil import PASSWORD, TOTP_SECRETS, csrf, enrol_totp, login, make_account

CODE_PAGE = "/masuk/faktor-kedua"
ENROL_PAGE = "/masuk/faktor-kedua/daftar"
PROTECTED = [("GET", "/beranda"), ("GET", "/akun"), ("GET", "/akun/sesi"), ("GET", "/registri/keluarga"),
             ("GET", "/admin/kunci-masuk"), ("GET", "/admin/faktor-kedua"), ("GET", "/privasi/akses"),
             ("POST", "/akun/faktor-kedua/matikan"), ("POST", "/akun/kata-sandi"), ("POST", "/keluar")]


async def _plain_account(role, username):
    """An account of a required role that has no second factor yet (``make_account`` would enrol one)."""
    from portal.auth import hash_password
    from storage.accounts import create_account

    return await create_account(username=username, password_hash=hash_password(PASSWORD), role=role)


async def _password(client, username, password=PASSWORD):
    await client.get("/masuk")
    return await client.post("/masuk", data={"username": username, "password": password,
                                             "_csrf_token": csrf(client)}, follow_redirects=False)


async def _code(client, code, path=CODE_PAGE):
    return await client.post(path, data={"code": code, "_csrf_token": csrf(client)}, follow_redirects=False)


def _now_code(secret, offset=0):
    return pyotp.TOTP(secret).generate_otp(second_factor.now_step() + offset)


def _secret_on(page_text):
    return re.search(r'data-secret="([A-Z2-7]+)"', page_text).group(1)


def _codes_on(page_text):
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page_text)


async def _logout(client):
    await client.post("/keluar", data={"_csrf_token": csrf(client)}, follow_redirects=False)


async def _walk(client):
    """Where each protected route sends the session (anything but the second-factor page is a leak)."""
    found = {}
    for method, path in PROTECTED:
        if method == "GET":
            response = await client.get(path, follow_redirects=False)
        else:
            response = await client.post(path, data={"_csrf_token": csrf(client), "password": PASSWORD,
                                                     "code": "000000"}, follow_redirects=False)
        found[f"{method} {path}"] = (response.status_code, response.headers.get("location"))
    return found


async def test_a_required_role_enrols_after_its_password_and_reaches_nothing_before(client):
    await _plain_account("dpo", "pejabat")
    client.cookies.set("jitu_session", "planted-0123456789abcdef", domain="testserver.local")
    response = await _password(client, "pejabat")
    assert response.status_code == 302 and response.headers["location"] == ENROL_PAGE
    waiting = client.cookies.get("jitu_session")
    assert waiting and waiting != "planted-0123456789abcdef"
    assert set((await _walk(client)).values()) == {(302, CODE_PAGE)}
    assert await AccountSession.count() == 0  # no authenticated session exists yet
    assert (await client.get("/api/v1/referrals")).status_code == 401  # nor does the API take the cookie

    page = await client.get(ENROL_PAGE)
    assert page.status_code == 200 and 'src="data:image/svg+xml' in page.text and "otpauth://totp/" in page.text
    secret = _secret_on(page.text)
    assert _secret_on((await client.get(ENROL_PAGE)).text) == secret  # a reload keeps what the phone scanned
    assert (await _code(client, "000000", ENROL_PAGE)).status_code == 401
    done = await _code(client, _now_code(secret), ENROL_PAGE)
    assert done.status_code == 200
    codes = _codes_on(done.text)
    assert len(codes) == 10
    assert client.cookies.get("jitu_session") not in (None, waiting)  # a new id once authenticated
    assert not await WebSession.exists().where(WebSession.key == waiting)
    assert (await client.get("/beranda")).status_code == 200
    assert await AccountSession.count() == 1

    row = await AccountTotp.select().first()
    assert secret not in row["secret"] and second_factor.unseal(row["secret"], row["account"]) == secret
    hashes = [r["code_hash"] for r in await RecoveryCode.select(RecoveryCode.code_hash)]
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(c.replace("-", "") in h for c in codes for h in hashes)
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert {"auth.password_ok", "auth.mfa_failed", "auth.mfa_enrol", "auth.login"} <= set(actions)


async def test_a_waiting_log_in_can_only_finish_or_cancel(client):
    await make_account("dinsos_admin", "admin-a")
    assert (await _password(client, "admin-a")).headers["location"] == CODE_PAGE
    assert set((await _walk(client)).values()) == {(302, CODE_PAGE)}
    assert (await client.get(ENROL_PAGE, follow_redirects=False)).headers["location"] == CODE_PAGE
    cancelled = await client.post("/masuk/faktor-kedua/batal", data={"_csrf_token": csrf(client)},
                                  follow_redirects=False)
    assert cancelled.headers["location"] == "/masuk"
    assert (await client.get(CODE_PAGE, follow_redirects=False)).headers["location"] == "/masuk"
    assert (await _code(client, _now_code(TOTP_SECRETS["admin-a"]))).headers["location"] == "/masuk"
    assert (await client.get("/beranda", follow_redirects=False)).headers["location"].startswith("/masuk?next=")


async def test_other_roles_log_in_with_the_password_alone_and_may_enrol_from_their_account(client):
    await make_account("donor", "donatur")
    await login(client, "donatur")
    assert await AccountTotp.count() == 0
    account = await client.get("/akun")
    assert account.status_code == 200 and "Belum dipasang" in account.text
    wrong = await client.post("/akun/faktor-kedua/mulai", data={"password": "salah", "_csrf_token": csrf(client)})
    assert wrong.status_code == 401 and await AccountTotp.count() == 0
    start = await client.post("/akun/faktor-kedua/mulai", data={"password": PASSWORD, "_csrf_token": csrf(client)})
    assert start.status_code == 200
    secret = _secret_on(start.text)
    done = await _code(client, _now_code(secret), "/akun/faktor-kedua/konfirmasi")
    assert done.status_code == 200 and len(_codes_on(done.text)) == 10
    assert "Kode pemulihan tersisa: 10" in (await client.get("/akun")).text
    assert await Notification.exists().where(Notification.message.like("%Faktor kedua%dipasang%"))
    await _logout(client)
    assert (await _password(client, "donatur")).headers["location"] == CODE_PAGE
    assert (await _code(client, _now_code(secret, +1))).headers["location"] == "/beranda"


async def test_wrong_codes_are_counted_by_the_log_in_throttle(client):
    await make_account("dinsos_admin", "admin-b")
    secret = TOTP_SECRETS["admin-b"]
    await _password(client, "admin-b")
    for _ in range(logins.FREE):
        assert (await _code(client, "123456" if _now_code(secret) != "123456" else "654321")).status_code == 401
    row = await LoginThrottle.select().where(LoginThrottle.key == "account:admin-b").first()
    assert row["failures"] == logins.FREE
    assert await AuditEvent.count().where(AuditEvent.action == "auth.mfa_failed") == logins.FREE
    # a right password again does not wipe the count (else password, guess, password, guess… is free)
    await LoginThrottle.update({LoginThrottle.wait_until: datetime.now(UTC) - timedelta(seconds=1)}, force=True)
    assert (await _password(client, "admin-b")).headers["location"] == CODE_PAGE
    assert (await LoginThrottle.select().where(LoginThrottle.key == "account:admin-b").first())["failures"] == 3
    await LoginThrottle.update({LoginThrottle.wait_until: datetime.now(UTC) + timedelta(minutes=5)}, force=True)
    too_soon = await _code(client, _now_code(secret))
    assert too_soon.status_code == 429 and "Coba lagi dalam" in too_soon.text
    # at the lock even the right code is refused
    await LoginThrottle.update({LoginThrottle.failures: logins.LOCK_ACCOUNT - 1,
                                LoginThrottle.wait_until: datetime.now(UTC) - timedelta(seconds=1)}, force=True)
    assert (await _code(client, "000000" if _now_code(secret) != "000000" else "111111")).status_code == 401
    locked = await _code(client, _now_code(secret))
    assert locked.status_code == 429 and "dikunci" in locked.text
    assert await AccountSession.count() == 0


async def test_a_code_is_accepted_once(client):
    """ASVS 2.8.4/2.8.5: the same code again, even at once and by its owner, is refused, logged, notified."""
    await make_account("dpo", "dpo-a")
    secret = TOTP_SECRETS["dpo-a"]
    await _password(client, "dpo-a")
    code = _now_code(secret)
    assert (await _code(client, code)).headers["location"] == "/beranda"
    await _logout(client)
    await _password(client, "dpo-a")
    again = await _code(client, code)
    assert again.status_code == 401 and "sudah dipakai" in again.text
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.mfa_replay")
    assert await Notification.exists().where(Notification.message.like("%sudah dipakai%"))
    assert (await LoginThrottle.select().where(LoginThrottle.key == "account:dpo-a").first())["failures"] == 1
    assert (await _code(client, _now_code(secret, +1))).headers["location"] == "/beranda"


async def test_recovery_codes_are_single_use_counted_and_audited(client):
    await _plain_account("dinsos_admin", "admin-c")
    await _password(client, "admin-c")
    secret = _secret_on((await client.get(ENROL_PAGE)).text)
    codes = _codes_on((await _code(client, _now_code(secret), ENROL_PAGE)).text)
    await _logout(client)
    await _password(client, "admin-c")
    assert (await _code(client, codes[0].upper())).headers["location"] == "/beranda"
    assert "Kode pemulihan tersisa: 9" in (await client.get("/akun")).text
    used = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "auth.recovery_used").first()
    assert used is not None and "9" in str(used["after"])
    assert await Notification.exists().where(Notification.message.like("%kode pemulihan dipakai%"))
    await _logout(client)
    await _password(client, "admin-c")
    assert (await _code(client, codes[0])).status_code == 401  # spent
    assert (await _code(client, codes[1])).headers["location"] == "/beranda"


async def test_new_recovery_codes_replace_the_old_ones(client):
    account_id = await make_account("dpo", "dpo-c")
    secret = TOTP_SECRETS["dpo-c"]
    old = await second_factor.enrol("test", account_id, secret, second_factor.now_step() - 2)
    await login(client, "dpo-c")
    renewed = await client.post("/akun/faktor-kedua/kode-pemulihan",
                                data={"code": _now_code(secret, +1), "_csrf_token": csrf(client)})
    fresh = _codes_on(renewed.text)
    assert renewed.status_code == 200 and len(fresh) == 10 and not {c.replace("-", "") for c in fresh} & set(old)
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.recovery_regenerate")
    await _logout(client)
    await _password(client, "dpo-c")
    assert (await _code(client, old[0])).status_code == 401  # replaced
    assert (await _code(client, fresh[0])).headers["location"] == "/beranda"


async def test_switching_off_needs_password_and_code_and_only_where_not_required(client):
    await make_account("pekerja_sosial", "peksos")
    secret = await enrol_totp(await _id("peksos"), "peksos")
    await login(client, "peksos")

    async def off(password, code):
        return await client.post("/akun/faktor-kedua/matikan", data={"password": password, "code": code,
                                                                     "_csrf_token": csrf(client)})

    assert (await off("salah-salah", _now_code(secret, +1))).status_code == 401
    assert (await off(PASSWORD, "000000" if _now_code(secret, +1) != "000000" else "111111")).status_code == 401
    assert await AccountTotp.count() == 1
    done = await off(PASSWORD, _now_code(secret, +1))
    assert done.status_code == 200 and "Faktor kedua dimatikan" in done.text and await AccountTotp.count() == 0
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.mfa_disable")
    await _logout(client)
    assert (await _password(client, "peksos")).headers["location"] == "/beranda"

    await make_account("dinsos_admin", "admin-d")
    await _logout(client)
    await login(client, "admin-d")
    refused = await client.post("/akun/faktor-kedua/matikan", data={
        "password": PASSWORD, "code": _now_code(TOTP_SECRETS["admin-d"], +1), "_csrf_token": csrf(client)})
    assert refused.status_code == 403 and await AccountTotp.count() == 1


async def _id(username):
    from storage.tables import Account

    return (await Account.select(Account.id).where(Account.username == username).first())["id"]


async def test_dinsos_admin_resets_a_lost_factor(client):
    from tests.portal.test_login_hardening import _second_device

    await make_account("dinsos_admin", "admin-e")
    await make_account("dpo", "dpo-hilang")
    phone_lost = await _second_device("dpo-hilang")
    try:
        await login(client, "admin-e")
        listing = await client.get("/admin/faktor-kedua")
        assert listing.status_code == 200 and "dpo-hilang" in listing.text
        target = await _id("dpo-hilang")
        no_reason = await client.post(f"/admin/faktor-kedua/{target}/reset", data={"reason": "",
                                                                                   "_csrf_token": csrf(client)})
        assert no_reason.status_code == 400 and await AccountTotp.count() == 2
        own = await client.post(f"/admin/faktor-kedua/{await _id('admin-e')}/reset",
                                data={"reason": "ponsel hilang", "_csrf_token": csrf(client)})
        assert own.status_code == 400
        done = await client.post(f"/admin/faktor-kedua/{target}/reset", follow_redirects=False,
                                 data={"reason": "ponsel hilang, dicek lewat telepon", "_csrf_token": csrf(client)})
        assert done.status_code == 302
        reset = await AuditEvent.select().where(AuditEvent.action == "auth.mfa_reset").first()
        assert reset["actor"] == "admin-e" and "ponsel hilang" in str(reset["after"])
        assert (await phone_lost.get("/beranda", follow_redirects=False)).status_code == 302  # its sessions ended
        assert "dpo-hilang" in (await client.get("/admin/faktor-kedua")).text  # now listed as not enrolled
        await _logout(client)
        assert (await _password(client, "dpo-hilang")).headers["location"] == ENROL_PAGE
    finally:
        await phone_lost.__aexit__(None, None, None)


async def test_only_dinsos_admin_may_reset(client):
    await make_account("dpo", "dpo-b")
    await login(client, "dpo-b")
    refused = await client.post(f"/admin/faktor-kedua/{await _id('dpo-b')}/reset",
                                data={"reason": "ponsel hilang", "_csrf_token": csrf(client)})
    assert refused.status_code == 403 and await AccountTotp.count() == 1


async def test_without_required_roles_admin_logs_in_with_the_password(client):
    """The demo's setting (``JITU_MFA_REQUIRED_ROLES=``): nobody is forced, an enrolled account is still
    asked; and a session opened that way is worthless once the requirement is on (``client``'s app)."""
    from litestar.testing import AsyncTestClient

    from marketplace.settings import Settings
    from portal.app import create_app

    await _plain_account("dinsos_admin", "admin-demo")
    await make_account("donor", "donor-demo")
    await enrol_totp(await _id("donor-demo"), "donor-demo")
    app = create_app(Settings(JITU_MFA_REQUIRED_ROLES=""))
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as demo:
        assert (await _password(demo, "admin-demo")).headers["location"] == "/beranda"
        assert (await demo.get("/beranda")).status_code == 200
        client.cookies.set("jitu_session", demo.cookies.get("jitu_session"), domain="testserver.local")
        assert (await client.get("/beranda", follow_redirects=False)).headers["location"].startswith("/masuk")
        demo.cookies.clear()
        assert (await _password(demo, "donor-demo")).headers["location"] == CODE_PAGE


def test_jitu_user_reset_mfa(db):
    import asyncio

    runner = CliRunner()
    from portal.cli import cli

    made = runner.invoke(cli, ["user", "create", "admin-cli", "--role", "dinsos_admin", "--password", PASSWORD])
    assert made.exit_code == 0, made.output
    asyncio.run(enrol_totp(asyncio.run(_id("admin-cli")), "admin-cli"))
    result = runner.invoke(cli, ["user", "reset-mfa", "admin-cli", "--reason", "satu-satunya admin, ponsel hilang"])
    assert result.exit_code == 0 and "dihapus" in result.output, result.output
    assert asyncio.run(AccountTotp.count().run()) == 0
    assert asyncio.run(AuditEvent.exists().where(
        (AuditEvent.action == "auth.mfa_reset") & (AuditEvent.actor == "cli")).run())


async def test_moving_to_a_new_phone_needs_password_and_current_code(client):
    await make_account("dinsos_admin", "admin-f")
    old_secret = TOTP_SECRETS["admin-f"]
    await login(client, "admin-f")
    refused = await client.post("/akun/faktor-kedua/mulai", data={"password": PASSWORD, "code": "",
                                                                 "_csrf_token": csrf(client)})
    assert refused.status_code == 401
    start = await client.post("/akun/faktor-kedua/mulai", data={
        "password": PASSWORD, "code": _now_code(old_secret, +1), "_csrf_token": csrf(client)})
    new_secret = _secret_on(start.text)
    assert start.status_code == 200 and new_secret != old_secret
    done = await _code(client, _now_code(new_secret), "/akun/faktor-kedua/konfirmasi")
    assert done.status_code == 200 and len(_codes_on(done.text)) == 10
    enrolled = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "auth.mfa_enrol").order_by(
        AuditEvent.id, ascending=False).first()
    after = json.loads(enrolled["after"]) if isinstance(enrolled["after"], str) else enrolled["after"]
    assert after["replaced"] is True
    await _logout(client)
    await _password(client, "admin-f")
    assert (await _code(client, _now_code(old_secret, +1))).status_code == 401  # the old phone no longer works
    assert (await _code(client, _now_code(new_secret, +1))).headers["location"] == "/beranda"

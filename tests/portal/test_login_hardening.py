"""Sessions and log-in (issue 13): fixation, throttling and locks, the sessions registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import logins
from storage.tables import AccountSession, AuditEvent, LoginThrottle, WebSession
from tests.dbutil import PASSWORD, csrf, login, make_account


async def _hold(key_like):
    """The delay set by the last failure is seconds long; a slow test machine could outlive it, so it is
    stretched here to stand for 'the next attempt comes at once'."""
    later = datetime.now(UTC) + timedelta(minutes=5)
    await LoginThrottle.update({LoginThrottle.wait_until: later}).where(
        LoginThrottle.key.like(key_like) & (LoginThrottle.wait_until > LoginThrottle.last_failure_at))


async def _try(client, username, password):
    await client.get("/masuk")
    return await client.post("/masuk", data={"username": username, "password": password,
                                             "_csrf_token": csrf(client)}, follow_redirects=False)


async def test_a_session_id_planted_before_log_in_is_worthless_after_it(client):
    """ASVS 3.2.1: the attacker plants an id; the victim logs in; the attacker's id opens nothing."""
    await make_account("dinsos_admin", "korban")
    client.cookies.set("jitu_session", "planted-by-attacker-0123456789", domain="testserver.local")
    await login(client, "korban")
    issued = client.cookies.get("jitu_session")
    assert issued and issued != "planted-by-attacker-0123456789"
    assert not await WebSession.exists().where(WebSession.key == "planted-by-attacker-0123456789")
    assert (await client.get("/beranda")).status_code == 200
    client.cookies.set("jitu_session", "planted-by-attacker-0123456789", domain="testserver.local")
    assert (await client.get("/beranda", follow_redirects=False)).status_code == 302


async def test_an_anonymous_session_id_is_replaced_at_log_in(client):
    await make_account("donor", "don")
    await client.get("/masuk")
    token = csrf(client)
    await client.post("/bahasa", data={"lang": "id", "next": "/masuk", "_csrf_token": token})
    before = client.cookies.get("jitu_session")
    await login(client, "don")
    after = client.cookies.get("jitu_session")
    assert after and after != before
    if before and before != "null":
        assert not await WebSession.exists().where(WebSession.key == before)


async def test_wrong_user_and_wrong_password_answer_alike(client):
    await make_account("donor", "ada")
    wrong_password = await _try(client, "ada", "salah")
    wrong_user = await _try(client, "tidak-ada", "salah")
    assert wrong_password.status_code == wrong_user.status_code == 401
    assert "Nama pengguna atau kata sandi salah." in wrong_password.text
    assert wrong_password.text.replace("ada", "X").count("salah") == wrong_user.text.replace("tidak-ada", "X").count(
        "salah")


async def test_failures_bring_growing_delays_then_a_lock_even_for_the_right_password(client):
    """ASVS 2.2.1: the issue's probe (25 wrong, then right) no longer logs in."""
    await make_account("pekerja_sosial", "sasaran")
    statuses = []
    for attempt in range(25):
        # let the delay pass (as a patient attacker would) so each attempt really counts
        await LoginThrottle.update({LoginThrottle.wait_until: datetime.now(UTC) - timedelta(seconds=1)}, force=True)
        statuses.append((await _try(client, "sasaran", f"tebakan-{attempt}")).status_code)
    assert statuses[:logins.LOCK_ACCOUNT] == [401] * logins.LOCK_ACCOUNT
    assert set(statuses[logins.LOCK_ACCOUNT:]) == {429}
    right = await _try(client, "sasaran", PASSWORD)
    assert right.status_code == 429 and "dikunci" in right.text
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.lock")


async def test_the_delay_grows_between_failures(client):
    await make_account("donor", "lambat")
    for _ in range(logins.FREE):
        assert (await _try(client, "lambat", "salah")).status_code == 401
    await _hold("account:lambat")
    too_soon = await _try(client, "lambat", PASSWORD)
    assert too_soon.status_code == 429 and "Coba lagi dalam" in too_soon.text
    row = await LoginThrottle.select().where(LoginThrottle.key == "account:lambat").first()
    assert row["failures"] == logins.FREE and not row["locked"]


async def test_unknown_names_are_throttled_the_same_way(client):
    for _ in range(logins.FREE):
        await _try(client, "hantu", "salah")
    await _hold("account:hantu")
    assert (await _try(client, "hantu", "salah")).status_code == 429


async def test_a_client_address_is_throttled_across_names(client):
    for i in range(logins.FREE):
        await _try(client, f"nama-{i}", "salah")
    row = await LoginThrottle.select().where(LoginThrottle.key.like("ip:%")).first()
    assert row["failures"] == logins.FREE
    await _hold("ip:%")
    assert (await _try(client, "nama-baru", "salah")).status_code == 429


async def test_log_in_opens_a_registered_session_and_log_out_ends_it(client):
    await make_account("donor", "sesi")
    await login(client, "sesi")
    assert await AccountSession.count() == 1
    await client.post("/keluar", data={"_csrf_token": csrf(client)}, follow_redirects=False)
    assert await AccountSession.count() == 0


async def test_a_session_whose_registry_row_is_gone_is_ended(client):
    await make_account("donor", "dicabut")
    await login(client, "dicabut")
    await AccountSession.delete(force=True)
    assert (await client.get("/beranda", follow_redirects=False)).status_code == 302


async def _second_device(username):
    from litestar.testing import AsyncTestClient

    from portal.app import create_app

    other = AsyncTestClient(app=create_app(), base_url="http://testserver.local")
    await other.__aenter__()
    await login(other, username)
    return other


async def test_sessions_are_listed_and_one_can_be_ended(client):
    """ASVS 3.3.4: the account sees its sessions and ends one (the other device is logged out)."""
    await make_account("lks_staff", "dua-hp")
    await login(client, "dua-hp")
    other = await _second_device("dua-hp")
    try:
        listing = await client.get("/akun/sesi")
        assert listing.status_code == 200 and "Sesi ini" in listing.text and "Akhiri" in listing.text
        rows = await AccountSession.select(AccountSession.id, AccountSession.sid)
        assert len(rows) == 2
        mine = [r for r in rows if f"/akun/sesi/{r['id']}/akhiri" not in listing.text]
        theirs = [r for r in rows if f"/akun/sesi/{r['id']}/akhiri" in listing.text]
        assert len(mine) == len(theirs) == 1
        await client.post(f"/akun/sesi/{theirs[0]['id']}/akhiri", data={"_csrf_token": csrf(client)})
        assert (await other.get("/beranda", follow_redirects=False)).status_code == 302
        assert (await client.get("/beranda")).status_code == 200
        assert await AuditEvent.exists().where(AuditEvent.action == "auth.session_end")
    finally:
        await other.__aexit__(None, None, None)


async def test_a_password_change_ends_every_other_session(client):
    await make_account("pekerja_sosial", "ganti")
    await login(client, "ganti")
    other = await _second_device("ganti")
    try:
        await client.get("/akun/kata-sandi")
        short = await client.post("/akun/kata-sandi", data={"current": PASSWORD, "new": "pendek", "again": "pendek",
                                                            "_csrf_token": csrf(client)})
        assert short.status_code == 400 and "paling sedikit 12" in short.text
        wrong = await client.post("/akun/kata-sandi", data={"current": "salah", "new": "x" * 14, "again": "x" * 14,
                                                            "_csrf_token": csrf(client)})
        assert wrong.status_code == 400 and "sekarang salah" in wrong.text
        new = "kuda-lumping-biru-77"
        done = await client.post("/akun/kata-sandi", data={"current": PASSWORD, "new": new, "again": new,
                                                           "_csrf_token": csrf(client)})
        assert done.status_code == 200 and "Kata sandi diganti" in done.text
        assert (await other.get("/beranda", follow_redirects=False)).status_code == 302
        assert (await client.get("/beranda")).status_code == 200
        client.cookies.clear()
        await login(client, "ganti", new)
    finally:
        await other.__aexit__(None, None, None)


async def test_dinsos_admin_lifts_a_lock_and_both_are_audited(client):
    await make_account("donor", "terkunci")
    await make_account("dinsos_admin", "admin")
    for _ in range(logins.LOCK_ACCOUNT):
        await LoginThrottle.update({LoginThrottle.wait_until: datetime.now(UTC) - timedelta(seconds=1)}, force=True)
        await _try(client, "terkunci", "salah")
    await LoginThrottle.delete().where(LoginThrottle.key.like("ip:%"))
    await login(client, "admin")
    locks = await client.get("/admin/kunci-masuk")
    assert locks.status_code == 200 and "account:terkunci" in locks.text
    row = await LoginThrottle.select().where(LoginThrottle.key == "account:terkunci").first()
    assert row["locked"]
    await client.post(f"/admin/kunci-masuk/{row['id']}/buka", data={"_csrf_token": csrf(client)})
    assert not await LoginThrottle.exists().where(LoginThrottle.key == "account:terkunci")
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.unlock")
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.lock")
    client.cookies.clear()
    await login(client, "terkunci")


async def test_other_roles_cannot_see_the_locks_page(client):
    await make_account("dpo", "dpo")
    await login(client, "dpo")
    assert (await client.get("/admin/kunci-masuk")).status_code == 403


async def test_a_change_of_role_ends_the_session(client):
    """The session was opened for one role; when the account's role changes it must log in again, and
    that log-in issues a new session id."""
    from storage.tables import Account

    account_id = await make_account("pekerja_sosial", "berganti")
    await login(client, "berganti")
    before = client.cookies.get("jitu_session")
    await Account.update({Account.role: "dpo"}).where(Account.id == account_id)
    assert (await client.get("/beranda", follow_redirects=False)).status_code == 302
    await login(client, "berganti")
    assert client.cookies.get("jitu_session") != before
    assert (await client.get("/privasi/akses")).status_code == 200

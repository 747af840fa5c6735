"""CSRF on every form, and sessions kept in the database so any app process serves any user."""

from litestar.testing import AsyncTestClient

from portal.app import create_app
from storage.tables import AuditEvent, WebSession
from tests.dbutil import PASSWORD, login, make_account


async def test_form_without_csrf_token_is_refused_and_changes_nothing(client):
    await make_account("dinsos_admin", "admin")
    await client.get("/masuk")
    response = await client.post("/masuk", data={"username": "admin", "password": PASSWORD})
    assert response.status_code == 403
    assert "Formulir kedaluwarsa" in response.text
    assert await WebSession.count() <= 1
    assert not await AuditEvent.exists().where(AuditEvent.action == "auth.login")


async def test_form_with_a_forged_csrf_token_is_refused(client):
    await make_account("dinsos_admin", "admin")
    await client.get("/masuk")
    response = await client.post("/masuk", data={"username": "admin", "password": PASSWORD,
                                                 "_csrf_token": "0" * 64})
    assert response.status_code == 403


async def test_logout_needs_csrf_too(client):
    await make_account("donor", "don")
    await login(client, "don")
    response = await client.post("/keluar", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert (await client.get("/beranda")).status_code == 200


async def test_wrong_password_is_refused_and_audited(client):
    await make_account("dinsos_admin", "admin")
    await client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    response = await client.post("/masuk", data={"username": "admin", "password": "salah",
                                                 "_csrf_token": token})
    assert response.status_code == 401
    assert "salah" in response.text
    assert await AuditEvent.exists().where(AuditEvent.action == "auth.login_failed")


async def test_session_lives_in_the_database_and_serves_another_process(client):
    await make_account("pekerja_sosial", "peksos")
    await login(client, "peksos")
    assert await WebSession.count() >= 1
    cookie = client.cookies.get("jitu_session")
    other_process = create_app()  # a second app instance shares nothing with the first but the database
    async with AsyncTestClient(app=other_process, base_url="http://testserver.local") as other:
        other.cookies.set("jitu_session", cookie, domain="testserver.local")
        response = await other.get("/beranda")
    assert response.status_code == 200
    assert "pekerja_sosial" in response.text or "Pekerja Sosial" in response.text


async def test_logout_ends_the_session(client):
    await make_account("donor", "don")
    await login(client, "don")
    token = client.cookies.get("jitu_csrf")
    await client.post("/keluar", data={"_csrf_token": token}, follow_redirects=False)
    response = await client.get("/beranda", follow_redirects=False)
    assert response.status_code == 302


async def test_open_redirect_after_login_is_refused(client):
    await make_account("donor", "don")
    await client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    response = await client.post("/masuk", data={"username": "don", "password": PASSWORD, "_csrf_token": token,
                                                 "next": "//evil.example/x"}, follow_redirects=False)
    assert response.headers["location"] == "/beranda"


async def test_english_is_available(client):
    await client.get("/masuk")
    token = client.cookies.get("jitu_csrf")
    await client.post("/bahasa", data={"lang": "en", "next": "/masuk", "_csrf_token": token})
    response = await client.get("/masuk")
    assert "Log in" in response.text and 'lang="en"' in response.text


async def test_home_page_per_role(client):
    for role in ("dinsos_admin", "pekerja_sosial", "operator_kelurahan", "lks_staff", "donor", "dpo"):
        await make_account(role, f"h-{role}")
    for role in ("dinsos_admin", "pekerja_sosial", "operator_kelurahan", "lks_staff", "donor", "dpo"):
        client.cookies.clear()
        await login(client, f"h-{role}")
        response = await client.get("/beranda")
        assert response.status_code == 200, role
        assert "Selamat datang" in response.text


async def test_errors_are_clean_pages_not_tracebacks(client):
    response = await client.get("/tidak-ada")
    assert response.status_code == 404
    assert "Traceback" not in response.text and "Halaman tidak ditemukan" in response.text


async def test_a_page_view_that_changes_nothing_writes_no_session_but_keeps_it_alive(client):
    """A city's page views are reads: the session row is written only when its data changes, and its
    expiry at most once a minute (a 20-user load made two writes and commits per view before)."""
    from datetime import timedelta

    await make_account("pekerja_sosial", "peksos")
    await login(client, "peksos")
    key = client.cookies.get("jitu_session")
    before = await WebSession.select().where(WebSession.key == key).first()
    for _ in range(3):
        response = await client.get("/beranda")
        assert response.status_code == 200 and "jitu_session=" in response.headers.get("set-cookie", "")
    after = await WebSession.select().where(WebSession.key == key).first()
    assert after == before  # neither its data nor its expiry was written
    lagging = before["expires_at"] - timedelta(minutes=5)
    await WebSession.update({WebSession.expires_at: lagging}).where(WebSession.key == key)
    assert (await client.get("/beranda")).status_code == 200
    renewed = await WebSession.select().where(WebSession.key == key).first()
    assert renewed["expires_at"] > lagging + timedelta(minutes=4) and renewed["value"] == before["value"]
    await client.post("/bahasa", data={"lang": "en", "next": "/beranda",  # kept in the session: written
                                       "_csrf_token": client.cookies.get("jitu_csrf")})
    changed = await WebSession.select().where(WebSession.key == key).first()
    assert '"lang":"en"' in changed["value"] and '"lang":"id"' in before["value"]


def test_the_served_app_freezes_its_startup_heap() -> None:
    """``portal.asgi`` (what ``jitu serve`` runs) moves what exists at start-up out of the collector's reach."""
    import asyncio
    import gc

    from portal import asgi

    assert asgi.freeze_startup_heap in asgi.app.on_startup
    gc.unfreeze()
    try:
        before = gc.get_freeze_count()
        asyncio.run(asgi.freeze_startup_heap())
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()

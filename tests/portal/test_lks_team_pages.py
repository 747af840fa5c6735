"""The LKS team's pages and the rights they guard (issue 14 item 2): every route that needs an LKS right
refuses a staff member without it (403, in Indonesian) and opens for one with it; the menu shows only
what a person may do; the admin invites by one-time link, sets rights and deactivates; another LKS's
staff are 404; the API's token needs the deliveries right too. The guarded routes are read from the
app's route table, so a route added later with a right is checked without touching this file."""

from __future__ import annotations

import re
from typing import Any

from marketplace.lks_team import ADMIN, ALL_RIGHTS, DELIVERIES, LEDGER, OFFERS, RIGHTS
from portal.auth import NO_RIGHT
from storage.lks_team.rights import as_columns
from storage.tables import Account, AccountSession, AuditEvent, LksInvite, LksMember
from tests.dbutil import PASSWORD, csrf, login, make_account, make_lks
from tests.portal.test_guards import _call, _concrete, _handlers

EXPECTED = {
    DELIVERIES: {"/lks-saya/keluarga", "/lks-saya/keluarga.xlsx", "/lks-saya/keluarga.pdf", "/penyaluran/1",
                 "/api/v1/households", "/api/v1/allocations/1/delivery", "/pengaduan-masuk", "/pengaduan-masuk/1",
                 "/pengaduan-masuk/1/jawab"},
    OFFERS: {"/lks-saya/penawaran", "/lks-saya/penawaran/baru", "/lks-saya/penawaran/1",
             "/lks-saya/penawaran/1/terbitkan", "/lks-saya/penawaran/1/tutup"},
    LEDGER: {"/lks-saya/donasi", "/lks-saya/buku-kas", "/lks-saya/kampanye", "/lks-saya/donasi/transfer",
             "/lks-saya/donasi/1/bukti"},
    ADMIN: {"/lks-saya/tim", "/lks-saya/tim/undang", "/lks-saya/tim/1", "/lks-saya/tim/1/hak",
            "/lks-saya/tim/1/nonaktifkan", "/lks-saya/tim/1/aktifkan", "/lks-saya/tim/undangan/1/batal"},
}


def _guarded() -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {r: [] for r in RIGHTS}
    for method, path, handler in _handlers():
        if handler.opt.get("lks_right"):
            found[handler.opt["lks_right"]].append((method, _concrete(path)))
    return found


def test_every_lks_staff_route_of_a_guarded_feature_names_its_right():
    guarded = _guarded()
    for right, paths in EXPECTED.items():
        assert paths <= {p for _, p in guarded[right]}, right
    staff_routes = {(m, _concrete(p)) for m, p, h in _handlers() if "lks_staff" in h.opt.get("roles", [])
                    and (p.startswith(("/lks-saya/penawaran", "/lks-saya/donasi", "/lks-saya/buku-kas",
                                       "/lks-saya/kampanye", "/lks-saya/keluarga", "/lks-saya/tim",
                                       "/penyaluran", "/pengaduan-masuk")) or p.startswith("/api/v1/allocations")
                         or p.startswith("/api/v1/households"))}
    assert staff_routes <= {mp for paths in guarded.values() for mp in paths}


async def _staff(lks_id: int, username: str, rights: frozenset[str]) -> int:
    account_id = await make_account("lks_staff", username, lks_id=lks_id)
    await LksMember.update(as_columns(rights)).where(LksMember.account == account_id)
    return account_id


async def test_each_right_is_enforced_on_every_route_that_needs_it(client):
    lks_id = await make_lks()
    await _staff(lks_id, "boss", ALL_RIGHTS)
    guarded = _guarded()
    for right in (DELIVERIES, OFFERS, LEDGER, ADMIN):
        await _staff(lks_id, f"tanpa-{right}", ALL_RIGHTS - {right})
        await login(client, f"tanpa-{right}")
        for method, path in guarded[right]:
            if path.startswith("/api/"):
                continue  # the API authenticates by token (below)
            response = await _call(client, method, path)
            assert response.status_code == 403, (right, method, path, response.status_code)
            assert NO_RIGHT[right] in response.text, (right, path)
        home = await client.get("/beranda")
        menu_paths = set(re.findall(r'<li><a href="([^"]+)"', home.text))
        assert not menu_paths & EXPECTED[right], right
        for other in {DELIVERIES, OFFERS, LEDGER, ADMIN} - {right}:
            first = sorted(p for m, p in guarded[other] if m == "GET" and p in EXPECTED[other]
                           and "1" not in p and not p.endswith((".xlsx", ".pdf")))[0]
            assert (await client.get(first)).status_code == 200, (right, other, first)
        await client.post("/keluar", data={"_csrf_token": csrf(client)})


async def test_a_member_with_one_right_sees_only_its_menu_entries(client):
    lks_id = await make_lks()
    await _staff(lks_id, "boss", ALL_RIGHTS)
    await _staff(lks_id, "kurir", frozenset({DELIVERIES}))
    await login(client, "kurir")
    menu_paths = set(re.findall(r'<li><a href="([^"]+)"', (await client.get("/beranda")).text))
    assert "/lks-saya/keluarga" in menu_paths
    assert not menu_paths & {"/lks-saya/penawaran", "/lks-saya/donasi", "/lks-saya/buku-kas", "/lks-saya/kampanye",
                             "/lks-saya/tim"}
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    await login(client, "boss")
    menu_paths = set(re.findall(r'<li><a href="([^"]+)"', (await client.get("/beranda")).text))
    assert {"/lks-saya/keluarga", "/lks-saya/penawaran", "/lks-saya/buku-kas", "/lks-saya/tim"} <= menu_paths


async def test_admin_invites_by_link_the_invitee_joins_and_is_deactivated(client):
    lks_id = await make_lks("Yayasan Tim")
    await _staff(lks_id, "boss", ALL_RIGHTS)
    await login(client, "boss")
    page = await client.get("/lks-saya/tim")
    assert page.status_code == 200 and "Undang staf" in page.text
    bad = await client.post("/lks-saya/tim/undang", data={"_csrf_token": csrf(client), "email": "bukan-email"})
    assert bad.status_code == 400
    assert "Alamat email tidak sah." in bad.text and "Pilih paling sedikit satu hak akses" in bad.text
    odd = await client.post("/lks-saya/tim/undang", data={"_csrf_token": csrf(client), "rights": ["root"]})
    assert odd.status_code == 400 and "Hak akses tidak dikenal: root" in odd.text
    assert await LksInvite.count() == 0

    made = await client.post("/lks-saya/tim/undang", data={"_csrf_token": csrf(client), "full_name": "Relawan Budi",
                                                           "rights": ["deliveries"]})
    assert made.status_code == 200
    link = re.search(r'value="(http://testserver.local/undangan\?token=[A-Za-z0-9_-]+)"', made.text)
    assert link, made.text
    path = link.group(1).removeprefix("http://testserver.local")
    again = await client.get("/lks-saya/tim")
    assert path not in again.text and "Menunggu" in again.text  # shown once
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    form = await client.get(path)
    assert form.status_code == 200 and "Yayasan Tim" in form.text and "Mencatat penyaluran" in form.text
    token = path.split("token=")[1]
    weak = await _accept(client, token, "budi", "pendek")
    assert weak.status_code == 400 and "Kata sandi paling sedikit 10 karakter." in weak.text
    taken = await _accept(client, token, "boss")
    assert taken.status_code == 400 and "sudah dipakai" in taken.text
    done = await _accept(client, token, "budi")
    assert done.status_code == 200 and "Akun budi sudah dibuat" in done.text
    reused = await client.get(path)
    assert reused.status_code == 404 and "sudah dipakai" in reused.text
    replay = await _accept(client, token, "lain")
    assert replay.status_code == 400 and not await Account.exists().where(Account.username == "lain")

    await login(client, "budi")
    assert (await client.get("/lks-saya/keluarga")).status_code == 200
    assert (await client.get("/lks-saya/buku-kas")).status_code == 403
    budi = (await Account.select(Account.id).where(Account.username == "budi").first())["id"]

    from litestar.testing import AsyncTestClient

    from portal.app import create_app
    async with AsyncTestClient(app=create_app(), base_url="http://testserver.local") as admin:
        await login(admin, "boss")
        detail = await admin.get(f"/lks-saya/tim/{budi}")
        assert detail.status_code == 200 and "Nonaktifkan akun" in detail.text
        changed = await admin.post(f"/lks-saya/tim/{budi}/hak", data={"_csrf_token": csrf(admin),
                                                                      "rights": ["deliveries", "ledger"]},
                                   follow_redirects=False)
        assert changed.status_code == 302
        assert (await client.get("/lks-saya/buku-kas")).status_code == 200  # takes effect at once
        off = await admin.post(f"/lks-saya/tim/{budi}/nonaktifkan", data={"_csrf_token": csrf(admin)},
                               follow_redirects=False)
        assert off.status_code == 302 and off.headers["location"] == "/lks-saya/tim?e=nonaktif"
    # budi's open session ended: the next request is sent to log in
    gone = await client.get("/lks-saya/keluarga", follow_redirects=False)
    assert gone.status_code in (302, 303) and "/masuk" in gone.headers["location"]
    assert await AccountSession.count().where(AccountSession.account == budi) == 0
    await client.get("/masuk")
    refused = await client.post("/masuk", data={"username": "budi", "password": PASSWORD,
                                                "_csrf_token": csrf(client)}, follow_redirects=False)
    assert refused.status_code == 401
    actions = {e["action"] for e in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action.like("lks_team.%"))}
    assert actions >= {"lks_team.invite", "lks_team.invite_accept", "lks_team.rights", "lks_team.deactivate"}


async def test_the_admin_cannot_demote_or_deactivate_themselves_into_no_admin(client):
    lks_id = await make_lks()
    boss = await _staff(lks_id, "boss", ALL_RIGHTS)
    await login(client, "boss")
    demote = await client.post(f"/lks-saya/tim/{boss}/hak", data={"_csrf_token": csrf(client),
                                                                   "rights": ["deliveries"]})
    assert demote.status_code == 400 and "tidak dapat mencabut hak admin Anda sendiri" in demote.text
    leave = await client.post(f"/lks-saya/tim/{boss}/nonaktifkan", data={"_csrf_token": csrf(client)})
    assert leave.status_code == 400 and "satu-satunya admin" in leave.text
    assert (await client.get("/lks-saya/tim")).status_code == 200  # still logged in, still admin


async def test_another_lks_staff_are_not_found(client):
    a, b = await make_lks("Yayasan A"), await make_lks("Yayasan B")
    await _staff(a, "boss-a", ALL_RIGHTS)
    await _staff(b, "boss-b", ALL_RIGHTS)
    staff_b = await _staff(b, "staf-b", frozenset({DELIVERIES}))
    rows = await LksInvite.insert(LksInvite(lks=b, token_hash="0" * 64, expires_at=_later())).returning(LksInvite.id)
    await login(client, "boss-a")
    assert (await client.get(f"/lks-saya/tim/{staff_b}")).status_code == 404
    for action in ("hak", "nonaktifkan", "aktifkan"):
        response = await client.post(f"/lks-saya/tim/{staff_b}/{action}", data={"_csrf_token": csrf(client),
                                                                                  "rights": ["ledger"]})
        assert response.status_code == 404, action
    revoke = await client.post(f"/lks-saya/tim/undangan/{rows[0]['id']}/batal", data={"_csrf_token": csrf(client)})
    assert revoke.status_code == 404
    listing = await client.get("/lks-saya/tim?cari=staf")
    assert "staf-b" not in listing.text
    member = await LksMember.select().where(LksMember.account == staff_b).first()
    assert member["deliveries"] and not member["ledger"]
    assert (await Account.select(Account.active).where(Account.id == staff_b).first())["active"]
    assert (await LksInvite.select(LksInvite.revoked_at).first())["revoked_at"] is None


async def _accept(client: Any, token: str, username: str, password: str = PASSWORD) -> Any:
    return await client.post("/undangan", data={"_csrf_token": csrf(client), "token": token, "full_name": "Budi",
                                                "username": username, "password": password,
                                                "password_confirm": password})


def _later() -> Any:
    from datetime import UTC, datetime, timedelta

    return datetime.now(UTC) + timedelta(days=1)


async def test_an_unknown_or_expired_invite_link_says_so_in_indonesian(client):
    page = await client.get("/undangan?token=" + "a" * 43)
    assert page.status_code == 404 and "Tautan undangan tidak dikenal" in page.text
    assert (await client.get("/undangan")).status_code == 404


async def test_an_invite_of_a_deactivated_admin_says_why_in_both_languages(client):
    from storage.accounts import load_user
    from storage.lks_team import team

    lks_id = await make_lks()
    boss = await load_user(await _staff(lks_id, "boss", ALL_RIGHTS))
    assert boss is not None
    _, token = await team.create_invite(boss, "", "Budi", frozenset({DELIVERIES}))
    assert (await client.get("/undangan?token=" + token)).status_code == 200
    await Account.update({Account.active: False}).where(Account.id == boss.id)
    page = await client.get("/undangan?token=" + token)
    assert page.status_code == 404 and "admin LKS yang mengundang Anda sudah dinonaktifkan" in page.text
    refused = await _accept(client, token, "budi")
    assert refused.status_code == 400 and "Minta undangan baru kepada admin LKS Anda" in refused.text
    assert not await Account.exists().where(Account.username == "budi")
    client.cookies.set("lang", "en")
    english = await client.get("/undangan?token=" + token)
    assert "the LKS admin who invited you has been deactivated or is no longer an admin" in english.text


async def test_the_api_token_needs_the_deliveries_right(client):
    from storage.accounts import load_user
    from storage.api.tokens import create_token

    lks_id = await make_lks()
    dinsos = await load_user(await make_account("dinsos_admin", "dinsos"))
    assert dinsos is not None
    _, token = await create_token(dinsos, "Aplikasi lapangan", lks_id=lks_id)
    headers = {"authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/households", headers=headers)).status_code == 200
    await LksMember.update({LksMember.deliveries: False}).where(LksMember.lks == lks_id)
    refused = await client.get("/api/v1/households", headers=headers)
    assert refused.status_code == 403 and NO_RIGHT[DELIVERIES] in refused.text

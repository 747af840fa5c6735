"""/api/v1 with real tokens: offices answer their referrals, LKS read their households and post deliveries;
the same isolation as the pages, tokens shown once and stored hashed, revocation, rate limit, audit."""

from __future__ import annotations

import base64
import hashlib

from marketplace import clock
from marketplace.settings import get_settings
from storage.accounts import load_user
from storage.api import tokens
from storage.referrals import service
from storage.tables import ApiToken, AuditEvent, DataAccess, Need, Referral
from tests.dbutil import csrf, login, make_account
from tests.portal.test_referral_pages import _verified_need
from tests.storage.test_delivery import approved_world
from tests.storage.test_images import jpeg_with_gps


async def _admin():
    return await load_user(await make_account("dinsos_admin", "admin"))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_office_token_lists_and_answers_its_referrals(client):
    need_id, ticket = await _verified_need()
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    rid = await service.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis",
                                   shared=["name"])
    admin = await _admin()
    _, dinkes = await tokens.create_token(admin, "SIMRS Dinkes", office_code="kesehatan")
    _, disdik = await tokens.create_token(admin, "Dapodik", office_code="pendidikan")
    stored = await ApiToken.select(ApiToken.token_hash, ApiToken.prefix).where(
        ApiToken.label == "SIMRS Dinkes").first()
    assert stored["token_hash"] == hashlib.sha256(dinkes.encode()).hexdigest() and dinkes not in str(stored)

    me = await client.get("/api/v1/me", headers=_auth(dinkes))
    assert me.status_code == 200 and me.json()["office"] == "kesehatan"
    page = (await client.get("/api/v1/referrals", headers=_auth(dinkes))).json()
    assert [r["id"] for r in page["items"]] == [rid] and page["next_after"] is None
    detail = (await client.get(f"/api/v1/referrals/{rid}", headers=_auth(dinkes))).json()
    assert detail["person"]["name"] == "Ibu Wulan" and detail["person"]["nik"] is None
    assert await DataAccess.exists().where(DataAccess.username.like("api-kesehatan-%"))

    assert (await client.get("/api/v1/referrals", headers=_auth(disdik))).json()["items"] == []
    for guess in (rid, rid + 1, 2**31 - 1):
        assert (await client.get(f"/api/v1/referrals/{guess}", headers=_auth(disdik))).status_code == 404
        assert (await client.post(f"/api/v1/referrals/{guess}/actions", json={"action": "accept"},
                                  headers=_auth(disdik))).status_code == 404
    assert (await client.get("/api/v1/referrals/99999999999", headers=_auth(dinkes))).status_code == 400

    refused = await client.post(f"/api/v1/referrals/{rid}/actions", json={"action": "complete", "text": "Terdaftar",
                                                                        "resolution": "close"}, headers=_auth(dinkes))
    assert refused.status_code == 409 and "tidak dapat" in refused.json()["detail"]
    ok = await client.post(f"/api/v1/referrals/{rid}/actions", json={"action": "accept"}, headers=_auth(dinkes))
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    done = await client.post(f"/api/v1/referrals/{rid}/actions", headers=_auth(dinkes),
                             json={"action": "complete", "text": "Terdaftar PBI JK", "resolution": "close"})
    assert done.json()["status"] == "completed"
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "resolved"
    actors = {r["actor"] for r in await AuditEvent.select(AuditEvent.actor).where(AuditEvent.entity == "referral")}
    assert any(a.startswith("api-kesehatan-") for a in actors)
    await client.get("/")
    tracking = await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})
    assert "Selesai ditangani Dinkes" in tracking.text


async def test_tokens_are_the_only_way_in_and_can_be_revoked(client):
    admin = await _admin()
    token_id, token = await tokens.create_token(admin, "SIMRS Dinkes", office_code="kesehatan")
    assert (await client.get("/api/v1/referrals")).status_code == 401
    assert (await client.get("/api/v1/referrals", headers=_auth("jitu_salah"))).status_code == 401
    assert (await client.get("/api/v1/referrals", headers={"Authorization": token})).status_code == 401
    await make_account("office_staff", "dinkes", office_code="kesehatan")
    await login(client, "dinkes")  # a page session never opens the API
    assert (await client.get("/api/v1/referrals")).status_code == 401
    assert (await client.get("/api/v1/households", headers=_auth(token))).status_code == 403
    await tokens.revoke_token(admin, token_id)
    assert (await client.get("/api/v1/referrals", headers=_auth(token))).status_code == 401
    assert await AuditEvent.count().where(AuditEvent.action.like("api_token.%")) == 2


async def test_rate_limit_per_token(client):
    admin = await _admin()
    _, one = await tokens.create_token(admin, "Token A", office_code="kesehatan")
    _, two = await tokens.create_token(admin, "Token B", office_code="kesehatan")
    settings = get_settings()
    old = settings.api_rate_limit
    settings.api_rate_limit = 3
    try:
        codes = [(await client.get("/api/v1/me", headers=_auth(one))).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert (await client.get("/api/v1/me", headers=_auth(two))).status_code == 200
    finally:
        settings.api_rate_limit = old


async def test_lks_token_reads_its_households_and_posts_a_delivery(client):
    w = await approved_world(2)
    admin = await _admin()
    _, token = await tokens.create_token(admin, "Sistem LKS", lks_id=w.lks_id)
    page = (await client.get("/api/v1/households?limit=1", headers=_auth(token))).json()
    assert len(page["items"]) == 1 and page["next_after"] == page["items"][0]["allocation_id"]
    rest = (await client.get(f"/api/v1/households?after={page['next_after']}", headers=_auth(token))).json()
    ids = [h["allocation_id"] for h in page["items"] + rest["items"]]
    assert sorted(ids) == sorted(w.allocations) and rest["next_after"] is None
    assert all("*" in h["nik_masked"] for h in page["items"] + rest["items"])
    assert (await client.get("/api/v1/referrals", headers=_auth(token))).status_code == 403
    photo = base64.b64encode(jpeg_with_gps()).decode()
    body = {"delivered_on": clock.today().isoformat(), "what_given": "Paket sembako 10 kg", "received_by": "Ibu Siti",
            "photos": [{"filename": "a.jpg", "content_base64": photo}]}
    bad = await client.post(f"/api/v1/allocations/{ids[0]}/delivery", headers=_auth(token),
                            json={**body, "photos": [{"filename": "x.jpg", "content_base64": base64.b64encode(
                                b"<svg/>").decode()}]})
    assert bad.status_code == 400
    assert (await client.post(f"/api/v1/allocations/{ids[0]}/delivery", headers=_auth(token),
                              json={**body, "photos": []})).status_code == 400
    ok = await client.post(f"/api/v1/allocations/{ids[0]}/delivery", headers=_auth(token), json=body)
    assert ok.status_code == 201, ok.text
    again = await client.post(f"/api/v1/allocations/{ids[0]}/delivery", headers=_auth(token), json=body)
    assert again.status_code == 409
    _, other = await tokens.create_token(admin, "LKS lain", lks_id=await _other_lks())
    assert (await client.post(f"/api/v1/allocations/{ids[1]}/delivery", headers=_auth(other),
                              json=body)).status_code == 404
    assert (await client.get("/api/v1/households", headers=_auth(other))).json()["items"] == []
    assert await Referral.count() == 0


async def _other_lks() -> int:
    from tests.dbutil import make_lks

    return await make_lks("Yayasan Lain")


async def test_schema_documents_the_api_only(client):
    schema = (await client.get("/api/v1/schema/openapi.json")).json()
    paths = set(schema["paths"])
    assert paths and all(p.startswith("/api/v1/") for p in paths)
    assert {"/api/v1/referrals", "/api/v1/households", "/api/v1/allocations/{allocation_id}/delivery"} <= paths
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


async def test_dinsos_creates_and_revokes_tokens_in_the_portal(client):
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    page = await client.post("/admin/token-api", data={"label": "SIMRS Dinkes", "owner": "office:kesehatan",
                                                       "_csrf_token": csrf(client)})
    assert page.status_code == 200 and "hanya ditampilkan sekali" in page.text
    token = page.text.split("<code>", 1)[1].split("</code>", 1)[0]
    assert token.startswith("jitu_")
    assert token not in (await client.get("/admin/token-api")).text
    assert (await client.get("/api/v1/me", headers=_auth(token))).status_code == 200
    bad = await client.post("/admin/token-api", data={"label": "x", "owner": "office:bulan",
                                                      "_csrf_token": csrf(client)})
    assert bad.status_code == 400
    token_id = (await ApiToken.select(ApiToken.id).first())["id"]
    await client.post(f"/admin/token-api/{token_id}/cabut", data={"_csrf_token": csrf(client)})
    assert (await client.get("/api/v1/me", headers=_auth(token))).status_code == 401

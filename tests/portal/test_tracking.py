from datetime import date

from marketplace.identity import make_kk, make_nik
from storage import registry
from storage.accounts import load_user
from tests.dbutil import csrf, make_account

KK = make_kk("32.73.03", date(2021, 1, 1), 9)
NIK = make_nik("32.73.03", date(1990, 1, 5), "P", 9)


async def _ticket(ppks=16):
    op = await load_user(await make_account("operator_kelurahan", "op"))
    applicant = registry.Applicant(KK, NIK, "Ibu Rahasia", date(1990, 1, 5), "P", "32.73.03.1001", "Jl. Melati 99")
    need_id, ticket = await registry.register_request(op, applicant, registry.NeedInput([ppks], "kesehatan", 900_000))
    await registry.transition_need(need_id, "referred", "dinsos", office="kesehatan")
    return ticket


async def test_tracking_shows_timeline_without_personal_data(client):
    ticket = await _ticket()
    await client.get("/")
    response = await client.post("/lacak", data={"ticket": ticket.lower(), "_csrf_token": csrf(client)})
    assert response.status_code == 200
    html = response.text
    assert "Diajukan" in html and "Dinas Kesehatan" in html
    for secret in ("Ibu Rahasia", NIK, KK, "Jl. Melati 99", "HIV"):
        assert secret not in html
    assert "?" not in str(response.url) and ticket not in str(response.url)


async def test_unknown_ticket_404(client):
    await client.get("/")
    response = await client.post("/lacak", data={"ticket": "JITU-AAAAAAAAAA", "_csrf_token": csrf(client)})
    assert response.status_code == 404 and "tidak ditemukan" in response.text


async def test_rate_limited_per_ip(client, rate_window_held):
    await client.get("/")
    codes = [(await client.post("/lacak", data={"ticket": "JITU-X", "_csrf_token": csrf(client)})).status_code
             for _ in range(11)]
    assert codes[:10] == [404] * 10 and codes[10] == 429
    last = await client.post("/lacak", data={"ticket": "JITU-X", "_csrf_token": csrf(client)})
    assert "Terlalu banyak" in last.text


async def test_delivered_need_offers_confirmation_form(client):
    op = await load_user(await make_account("operator_kelurahan", "op"))
    applicant = registry.Applicant(KK, NIK, "Ibu Rahasia", date(1990, 1, 5), "P", "32.73.03.1001", "Jl. Melati 99")
    need_id, ticket = await registry.register_request(op, applicant, registry.NeedInput([24], "pangan", 100_000))
    for status in ("assessed", "verified", "matched", "approved", "delivered"):
        await registry.transition_need(need_id, status, "uji")
    await client.get("/")
    html = (await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})).text
    assert 'action="/lacak/konfirmasi"' in html and "Bantuan disalurkan" in html

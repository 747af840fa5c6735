"""Referral pages end to end: refer from a need, the office answers through its pages, Dinsos sees it,
the requester's tracking page says it in plain words; another office gets 404 for every guessed id."""

from datetime import date

from marketplace.identity import make_kk, make_nik
from storage import registry
from storage.accounts import load_user
from storage.tables import DataAccess, Referral
from tests.dbutil import csrf, login, make_account

KK = make_kk("32.73.03", date(2021, 1, 1), 5)
NIK = make_nik("32.73.03", date(1979, 6, 2), "P", 5)


async def _verified_need():
    op = await load_user(await make_account("operator_kelurahan", "op"))
    applicant = registry.Applicant(KK, NIK, "Ibu Wulan", date(1979, 6, 2), "P", "32.73.03.1001", "Jl. Dahlia 3",
                                   phone="0812-999")
    need_id, ticket = await registry.register_request(op, applicant, registry.NeedInput([24], "kesehatan", 700_000))
    for s in ("assessed", "verified"):
        await registry.transition_need(need_id, s, "uji")
    return need_id, ticket


async def _post(client, path, **data):
    return await client.post(path, data={"_csrf_token": csrf(client), **data}, follow_redirects=False)


async def test_referral_loop_through_the_pages(client):
    need_id, ticket = await _verified_need()
    await make_account("pekerja_sosial", "peksos")
    await make_account("office_staff", "dinkes", office_code="kesehatan")
    await login(client, "peksos")
    form = await client.get(f"/kebutuhan/{need_id}/rujuk")
    assert form.status_code == 200 and "Dinkes" in form.text
    bad = await _post(client, f"/kebutuhan/{need_id}/rujuk", office="kesehatan", what_needed="x", reason="y")
    assert bad.status_code == 400 and await Referral.count() == 0
    sent = await _post(client, f"/kebutuhan/{need_id}/rujuk", office="kesehatan", what_needed="Daftarkan PBI JK",
                       reason="Sakit kronis tanpa BPJS", share_mode="custom", shared=["name", "phone"])
    assert sent.status_code in (302, 303)
    rid = int(sent.headers["location"].rsplit("/", 1)[1])
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    await login(client, "dinkes")
    listing = await client.get("/rujukan")
    assert f'href="/rujukan/{rid}"' in listing.text and "Ibu Wulan" not in listing.text
    detail = await client.get(f"/rujukan/{rid}")
    assert "Ibu Wulan" in detail.text and "0812-999" in detail.text
    assert NIK not in detail.text and "Jl. Dahlia" not in detail.text
    assert await DataAccess.exists().where(DataAccess.username == "dinkes")
    assert (await _post(client, f"/rujukan/{rid}/tindakan", action="complete", text="Terdaftar",
                        resolution="close")).status_code == 400
    assert (await _post(client, f"/rujukan/{rid}/tindakan", action="accept")).status_code in (302, 303)
    done = await _post(client, f"/rujukan/{rid}/tindakan", action="complete", text="Terdaftar PBI JK",
                       resolution="close")
    assert done.status_code in (302, 303)
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    await client.get("/")
    tracking = await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})
    assert "Selesai ditangani Dinkes; kebutuhan Anda dinyatakan selesai" in tracking.text
    assert "Terdaftar PBI JK" not in tracking.text and "Ibu Wulan" not in tracking.text


async def test_office_staff_see_only_their_office_even_with_guessed_ids(client):
    need_id, _ = await _verified_need()
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    from storage.referrals import service

    rid = await service.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis")
    await make_account("office_staff", "disdik", office_code="pendidikan")
    await login(client, "disdik")
    assert f"/rujukan/{rid}" not in (await client.get("/rujukan")).text
    for guess in (rid, rid + 1, 2**31, 10**12, 0):
        assert (await client.get(f"/rujukan/{guess}")).status_code == 404
        assert (await _post(client, f"/rujukan/{guess}/tindakan", action="accept")).status_code == 404
        assert (await client.get(f"/rujukan/{guess}/bukti/1")).status_code == 404
    assert (await client.get("/rujukan?setelah=99999999999999999999&status=zzz")).status_code == 200
    assert (await Referral.select(Referral.status).first())["status"] == "sent"
    assert not await DataAccess.exists().where(DataAccess.username == "disdik")


async def test_dinsos_edits_service_levels(client):
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    assert "Disperkim" in (await client.get("/instansi")).text
    assert (await _post(client, "/instansi/perumahan", service_days="45")).status_code in (302, 303)
    assert (await _post(client, "/instansi/perumahan", service_days="0")).status_code == 400
    assert (await _post(client, "/instansi/bulan", service_days="5")).status_code == 400
    assert "45" in (await client.get("/instansi")).text


async def test_revoked_consent_withdraws_the_referral_from_the_office_pages_and_api(client):
    """The applicant revokes consent while Dinkes holds the referral: its page and the API still answer
    (status withdrawn) but show none of the shared data, and the tracking page says it stopped."""
    from datetime import UTC, datetime

    from storage.api import tokens
    from storage.referrals import service
    from storage.tables import ServiceRequest

    need_id, ticket = await _verified_need()
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    rid = await service.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis",
                                   shared=["name", "phone"])
    await ServiceRequest.update({ServiceRequest.consent_version: "2026-12-v1",
                                 ServiceRequest.consent_at: datetime.now(UTC)}).where(ServiceRequest.id > 0)
    await make_account("office_staff", "dinkes", office_code="kesehatan")
    await login(client, "dinkes")
    assert "Ibu Wulan" in (await client.get(f"/rujukan/{rid}")).text
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    await client.get("/lacak")
    revoked = await client.post("/permohonan/cabut", data={"ticket": ticket, "confirm": "1",
                                                           "_csrf_token": csrf(client)})
    assert revoked.status_code == 200, revoked.text
    tracked = await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})
    assert "Dihentikan: persetujuan dicabut pemohon" in tracked.text

    await login(client, "dinkes")
    page = await client.get(f"/rujukan/{rid}")
    assert page.status_code == 200 and "Dihentikan: persetujuan dicabut pemohon" in page.text
    assert "Ibu Wulan" not in page.text and "0812-999" not in page.text
    assert "Dihentikan" in (await client.get("/rujukan?status=withdrawn")).text
    assert (await _post(client, f"/rujukan/{rid}/tindakan", action="accept")).status_code == 400
    admin = await load_user(await make_account("dinsos_admin", "admin"))
    _, token = await tokens.create_token(admin, "SIMRS Dinkes", office_code="kesehatan")
    auth = {"Authorization": f"Bearer {token}"}
    listed = (await client.get("/api/v1/referrals?status=withdrawn", headers=auth)).json()
    assert [(r["id"], r["status"]) for r in listed["items"]] == [(rid, "withdrawn")]
    detail = await client.get(f"/api/v1/referrals/{rid}", headers=auth)
    assert detail.status_code == 200 and detail.json()["person"]["name"] is None

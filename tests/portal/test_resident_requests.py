"""A resident's request: public form with consent → the kelurahan validates (possible duplicates linked or
dismissed) → a social worker assesses; operators see only their kelurahan; consent revocable by ticket."""

import re
from datetime import date

from marketplace.identity import make_kk, make_nik
from storage.crypto import vault
from storage.tables import AuditEvent, DataAccess, DuplicateDismissal, Household, Member, Need, ServiceRequest
from tests.dbutil import csrf, login, make_account

KEL = "32.73.03.1001"
NEIGHBOUR = "32.73.03.1002"  # same kecamatan
FAR = "32.73.04.1001"  # another kecamatan
BORN = date(1985, 3, 7)


async def registered(name: str, born: date, kel: str, serial: int) -> int:
    keys = vault()
    kk = make_kk(kel[:8], date(2020, 1, 1), serial)
    nik = make_nik(kel[:8], born, "L", serial)
    rows = await Household.insert(Household(kk_cipher=keys.encrypt(kk), kk_hash=keys.hash(kk), kelurahan_code=kel,
                                            desil=2)).returning(Household.id)
    await Member.insert(Member(household=rows[0]["id"], nik_cipher=keys.encrypt(nik), nik_hash=keys.hash(nik),
                               name=name, birth_date=born, sex="L", relation="kepala"))
    return int(rows[0]["id"])


def form(**over):
    data = {"name": "Muhamad Rizki Hidayat", "birth_date": "1985-07-03", "sex": "L", "kelurahan": KEL,
            "address": "Jl. Babakan Ciparay No. 5", "rt": "1", "rw": "2", "phone": "081234567890", "ppks": "24",
            "kind": "pangan", "description": "Suami sakit, tidak bisa bekerja dua bulan ini.", "consent": "1",
            "consent_version": "2026-12-v1"}
    data.update(over)
    return data


async def file(client, **over) -> str:
    await client.get("/permohonan")
    response = await client.post("/permohonan", data={**form(**over), "_csrf_token": csrf(client)})
    assert response.status_code == 200, response.text
    match = re.search(r'id="ticket">(JITU-[A-Z0-9]+)<', response.text)
    assert match
    return match.group(1)


async def track(client, ticket):
    await client.get("/lacak")
    return await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})


async def test_public_form_checks_input_and_writes_nothing_on_error(client):
    page = await client.get("/permohonan")
    assert page.status_code == 200 and "2026-12-v1" in page.text and 'name="consent"' in page.text
    bad = await client.post("/permohonan", data={**form(consent="", name="", birth_date="2099-01-01",
                                                         kelurahan="99.99", nik="123"),
                                                 "_csrf_token": csrf(client)})
    assert bad.status_code == 400
    for message in ("Nama wajib diisi", "Tanggal lahir tidak masuk akal", "Pilih kelurahan",
                    "hanya dapat diproses dengan persetujuan"):
        assert message in bad.text
    assert await ServiceRequest.count() == 0
    stale = await client.post("/permohonan", data={**form(consent_version="2020-old"), "_csrf_token": csrf(client)})
    assert stale.status_code == 400 and "sudah diperbarui" in stale.text
    assert await ServiceRequest.count() == 0


async def test_request_validated_by_linking_a_duplicate_then_assessed_shows_on_tracking(client):
    hid = await registered("Muhammad Rizki Hidayat", BORN, NEIGHBOUR, 1)  # same person, day/month swapped
    await registered("Muhammad Rizki Hidayat", BORN, FAR, 2)  # another kecamatan: not a candidate
    ticket = await file(client)
    req = await ServiceRequest.select().first()
    assert req["status"] == "received" and req["household"] is None and req["channel"] == "warga"
    assert req["consent_version"] == "2026-12-v1" and req["consent_at"] is not None
    tracked = await track(client, ticket)
    assert tracked.status_code == 200 and "menunggu validasi kelurahan" in tracked.text
    assert "Rizki" not in tracked.text and "0812" not in tracked.text

    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    desk = await client.get("/puskesos/permohonan")
    assert desk.status_code == 200 and f"/puskesos/permohonan/{req['id']}" in desk.text
    detail = await client.get(f"/puskesos/permohonan/{req['id']}")
    assert detail.status_code == 200 and detail.text.count('class="candidate"') == 1
    assert "hari/bulan tertukar" in detail.text
    assert await DataAccess.count().where(DataAccess.household_id == hid) == 1
    linked = await client.post(f"/puskesos/permohonan/{req['id']}/tautkan", data={
        "household_id": str(hid), "ppks": "24", "kind": "pangan", "amount": "400000", "_csrf_token": csrf(client)})
    assert linked.status_code == 200 and "divalidasi" in linked.text
    req = await ServiceRequest.select().first()
    assert req["status"] == "validated" and req["household"] == hid
    need = await Need.select().where(Need.request == req["id"]).first()
    assert need["status"] == "submitted" and need["household"] == hid
    again = await client.post(f"/puskesos/permohonan/{req['id']}/tautkan", data={
        "household_id": str(hid), "ppks": "24", "kind": "pangan", "amount": "1", "_csrf_token": csrf(client)})
    assert again.status_code == 400 and await Need.count() == 1

    await make_account("pekerja_sosial", "ps")
    await login(client, "ps")
    await client.get(f"/registri/keluarga/{hid}")
    assessed = await client.post(f"/registri/keluarga/{hid}/asesmen", data={
        "need_id": str(need["id"]), "ppks": "24", "kind": "pangan", "amount": "350000", "_csrf_token": csrf(client)})
    assert assessed.status_code == 200 and ticket in assessed.text
    tracked = await track(client, ticket)
    assert "Divalidasi kelurahan" in tracked.text and "Diasesmen pekerja sosial" in tracked.text
    actions = {r["action"] for r in await AuditEvent.select(AuditEvent.action)}
    assert {"request.received", "request.validated", "need.submitted", "need.assessed"} <= actions


async def test_new_household_only_after_duplicates_are_dismissed(client):
    await registered("Muhammad Rizki Hidayat", BORN, KEL, 1)
    ticket = await file(client)
    req = await ServiceRequest.select().first()
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    await client.get(f"/puskesos/permohonan/{req['id']}")
    kk, nik = make_kk("32.73.03", date(2021, 5, 5), 9), make_nik("32.73.03", date(1985, 7, 3), "L", 9)
    data = {"kk": kk, "nik": nik, "ppks": "24", "kind": "pangan", "amount": "300000", "_csrf_token": csrf(client)}
    refused = await client.post(f"/puskesos/permohonan/{req['id']}/daftarkan", data=data)
    assert refused.status_code == 400 and "Masih ada calon duplikat" in refused.text
    assert await Household.count() == 1
    member = await Member.select(Member.id).first()
    wrong = await client.post(f"/puskesos/permohonan/{req['id']}/bukan-duplikat",
                              data={"member_id": "999999", "_csrf_token": csrf(client)})
    assert wrong.status_code == 400 and await DuplicateDismissal.count() == 0
    await client.post(f"/puskesos/permohonan/{req['id']}/bukan-duplikat",
                      data={"member_id": str(member["id"]), "_csrf_token": csrf(client)})
    assert await DuplicateDismissal.count() == 1
    page = await client.get(f"/puskesos/permohonan/{req['id']}")
    assert 'id="no-candidates"' in page.text
    bad_nik = await client.post(f"/puskesos/permohonan/{req['id']}/daftarkan", data={**data, "nik": "3273030101900001"})
    assert bad_nik.status_code == 400 and await Household.count() == 1
    ok = await client.post(f"/puskesos/permohonan/{req['id']}/daftarkan", data=data)
    assert ok.status_code == 200, ok.text
    hh = await Household.select().where(Household.source == "request").first()
    assert hh["legal_basis"] == "consent" and hh["kelurahan_code"] == KEL
    assert (await ServiceRequest.select().first())["household"] == hh["id"]
    assert await Need.count().where(Need.household == hh["id"]) == 1
    assert ticket


async def test_operators_see_only_their_kelurahan_guessed_ids_too(client):
    await file(client)
    req = await ServiceRequest.select().first()
    await make_account("operator_kelurahan", "other", kelurahan_code=NEIGHBOUR)
    await login(client, "other")
    desk = await client.get("/puskesos/permohonan")
    assert f"/puskesos/permohonan/{req['id']}" not in desk.text
    assert (await client.get(f"/puskesos/permohonan/{req['id']}")).status_code == 404
    assert (await client.get("/puskesos/permohonan/99999999999")).status_code in (400, 404)
    for action in ("tautkan", "daftarkan", "bukan-duplikat", "tolak"):
        response = await client.post(f"/puskesos/permohonan/{req['id']}/{action}",
                                     data={"reason": "bukan warga sini", "_csrf_token": csrf(client)})
        assert response.status_code == 404, action
    assert (await ServiceRequest.select().first())["status"] == "received"
    assert "Rizki" not in desk.text


async def test_decline_with_reason_shows_on_tracking(client):
    ticket = await file(client)
    req = await ServiceRequest.select().first()
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    await client.get("/puskesos/permohonan")
    short = await client.post(f"/puskesos/permohonan/{req['id']}/tolak",
                              data={"reason": "x", "_csrf_token": csrf(client)})
    assert short.status_code == 400
    await client.post(f"/puskesos/permohonan/{req['id']}/tolak",
                      data={"reason": "Tinggal di luar Kota Bandung", "_csrf_token": csrf(client)})
    assert (await ServiceRequest.select().first())["status"] == "declined"
    tracked = await track(client, ticket)
    assert "Tidak dapat dilanjutkan" in tracked.text and "luar Kota" not in tracked.text


async def test_operator_files_at_the_desk_for_their_kelurahan(client):
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    await file(client, kelurahan=FAR)
    req = await ServiceRequest.select().first()
    assert req["channel"] == "puskesos" and req["kelurahan_code"] == KEL and req["submitted_by"] is not None


async def test_consent_revoked_by_ticket_stops_and_erases(client):
    hid = await registered("Muhammad Rizki Hidayat", BORN, KEL, 1)
    ticket = await file(client)
    req = await ServiceRequest.select().first()
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    await client.get("/puskesos/permohonan")
    await client.post(f"/puskesos/permohonan/{req['id']}/tautkan", data={
        "household_id": str(hid), "ppks": "24", "kind": "pangan", "amount": "400000", "_csrf_token": csrf(client)})
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    tracked = await track(client, ticket)
    assert "Cabut persetujuan" in tracked.text
    unconfirmed = await client.post("/permohonan/cabut", data={"ticket": ticket, "_csrf_token": csrf(client)})
    assert unconfirmed.status_code == 400 and (await ServiceRequest.select().first())["consent_revoked_at"] is None
    unknown = await client.post("/permohonan/cabut", data={"ticket": "JITU-2222222222", "confirm": "1",
                                                          "_csrf_token": csrf(client)})
    assert unknown.status_code == 400
    done = await client.post("/permohonan/cabut", data={"ticket": ticket, "confirm": "1", "_csrf_token": csrf(client)})
    assert done.status_code == 200 and "sudah dicabut" in done.text
    req = await ServiceRequest.select().first()
    assert req["status"] == "withdrawn" and req["consent_revoked_at"] is not None
    assert req["applicant_name"] == "" and req["phone"] == "" and req["applicant_birth_date"] is None
    assert (await Need.select().first())["status"] == "rejected"
    assert "dicabut pemohon" in (await track(client, ticket)).text
    twice = await client.post("/permohonan/cabut", data={"ticket": ticket, "confirm": "1", "_csrf_token": csrf(client)})
    assert twice.status_code == 400


async def test_public_form_is_rate_limited(client, rate_window_held):
    await client.get("/permohonan")
    codes = []
    for _ in range(11):
        response = await client.post("/permohonan", data={**form(), "_csrf_token": csrf(client)})
        codes.append(response.status_code)
    assert codes[:10] == [200] * 10 and codes[10] == 429
    assert await ServiceRequest.count() == 10


async def test_operator_registering_a_new_household_sees_possible_duplicates_first(client):
    await registered("Muhammad Rizki Hidayat", BORN, NEIGHBOUR, 1)
    await make_account("operator_kelurahan", "op", kelurahan_code=KEL)
    await login(client, "op")
    await client.get("/registri/permohonan")
    data = {"kk": make_kk("32.73.03", date(2021, 5, 5), 9), "nik": make_nik("32.73.03", date(1985, 7, 3), "L", 9),
            "name": "Moh. Rizki Hidayat", "birth_date": "1985-07-03", "sex": "L", "address": "Jl. Uji 1",
            "ppks": "24", "kind": "pangan", "amount": "300000", "_csrf_token": csrf(client)}
    first = await client.post("/registri/permohonan", data=data)
    assert first.status_code == 400 and 'class="candidate"' in first.text and "Kemungkinan" in first.text
    assert await Household.count() == 1 and await DataAccess.count() == 1
    second = await client.post("/registri/permohonan", data={**data, "bukan_duplikat": "1"})
    assert second.status_code == 200 and 'id="ticket"' in second.text
    assert await Household.count() == 2

import asyncio
import csv
import io
import re
from datetime import date

import pytest

from marketplace import dtks
from marketplace.identity import make_kk, make_nik, mask
from storage.registry_import import import_dtks
from storage.tables import DataAccess, GovernmentProgram, Household, Job
from tests.dbutil import csrf, login, make_account

KEL = "32.73.03.1001"
KK = make_kk("32.73.03", date(2020, 1, 1), 1)
NIK = make_nik("32.73.03", date(1985, 3, 12), "L", 1)


def export_bytes():
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(dtks.TEMPLATE_HEADER)
    w.writerow([KK, NIK, "Budi Santoso", "1985-03-12", "L", "kepala", "", "Jl. Mawar 7", "1", "2", KEL, "2", "Ya"])
    w.writerow(["1", "2", "x", "", "", "", "", "", "", "", KEL, "2", ""])
    return out.getvalue().encode()


async def seed(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(export_bytes())
    await import_dtks(path, "t")


@pytest.mark.parametrize(("role", "whole"), [("dinsos_admin", True), ("pekerja_sosial", False),
                                             ("operator_kelurahan", False)])
async def test_masking_per_role_and_access_log(client, tmp_path, role, whole):
    await seed(tmp_path)
    await make_account(role, "u")
    await login(client, "u")
    hid = (await Household.select(Household.id).first())["id"]
    detail = await client.get(f"/registri/keluarga/{hid}")
    assert detail.status_code == 200
    listing = await client.get("/registri/keluarga")
    for text in (detail.text, listing.text):
        assert (NIK in text) == whole if text is detail.text else True
        assert (KK in text) == whole
        if not whole:
            assert mask(KK) in text
    assert (mask(NIK) in detail.text) != whole
    assert await DataAccess.count().where(DataAccess.household_id == hid) >= 2


async def test_search_by_nik_is_a_post_and_finds_through_hash(client, tmp_path):
    await seed(tmp_path)
    await make_account("pekerja_sosial", "ps")
    await login(client, "ps")
    await client.get("/registri/keluarga")
    found = await client.post("/registri/keluarga", data={"nomor": NIK, "_csrf_token": csrf(client)})
    assert found.status_code == 200 and "Budi Santoso" in found.text and NIK not in found.text
    none = await client.post("/registri/keluarga", data={"nomor": "3273000000000000", "_csrf_token": csrf(client)})
    assert "Budi Santoso" not in none.text
    by_name = await client.post("/registri/keluarga", data={"nama": "budi", "_csrf_token": csrf(client)})
    assert "Budi Santoso" in by_name.text


async def test_upload_import_runs_job_and_templates(client):
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    page = await client.get("/registri/impor")
    assert page.status_code == 200
    for name in ("dtks.csv", "dtks.xlsx", "bantuan.csv", "bantuan.xlsx"):
        assert (await client.get(f"/registri/templat/{name}")).status_code == 200
    response = await client.post("/registri/impor/dtks", files={"file": ("dtks.csv", export_bytes(), "text/csv")},
                                 data={"_csrf_token": csrf(client)})
    assert response.status_code == 200 and "/static/progress.js" in response.text and "data-job=" in response.text
    for _ in range(100):
        job = await Job.select().first()
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    status = (await client.get(f"/api/jobs/{job['id']}")).json()
    assert status["status"] == "done", status
    result = status["result"] if isinstance(status["result"], dict) else __import__("json").loads(status["result"])
    assert result["imported"] == 1 and result["rejected"] == 1
    assert result["rejections"][0]["row"] == 3


async def test_operator_cannot_import(client):
    await make_account("operator_kelurahan", "op")
    await login(client, "op")
    assert (await client.get("/registri/impor")).status_code == 403


async def test_programmes_add_and_deactivate(client):
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    await client.get("/registri/program")
    r = await client.post("/registri/program", data={"code": "BLT", "name": "BLT Kota", "budget_source": "APBD",
                                                     "kind": "tunai", "desil_max": "3", "_csrf_token": csrf(client)},
                          follow_redirects=False)
    assert r.status_code in (302, 303)
    await client.post("/registri/program/PKH/aktif", data={"active": "0", "_csrf_token": csrf(client)})
    rows = {r["code"]: r["active"] for r in await GovernmentProgram.select()}
    # programmes are reference data the cleaning fixture keeps: restore them for the other tests
    await GovernmentProgram.update({GovernmentProgram.active: True}).where(GovernmentProgram.code == "PKH")
    await GovernmentProgram.delete().where(GovernmentProgram.code == "BLT")
    assert rows["BLT"] and not rows["PKH"]
    bad = await client.post("/registri/program", data={"code": "", "name": "", "kind": "tunai", "desil_max": "3",
                                                       "_csrf_token": csrf(client)})
    assert bad.status_code == 400


async def test_operator_registers_request_and_gets_ticket(client):
    await make_account("operator_kelurahan", "op")
    await login(client, "op")
    await client.get("/registri/permohonan")
    nik = make_nik("32.73.03", date(1990, 1, 5), "P", 9)
    data = {"kk": make_kk("32.73.03", date(2021, 1, 1), 9), "nik": nik, "name": "Ibu Pemohon",
            "birth_date": "1990-01-05", "sex": "P", "address": "Jl. X", "ppks": "23", "kind": "pangan",
            "amount": "400000", "_csrf_token": csrf(client)}
    ok = await client.post("/registri/permohonan", data=data)
    assert ok.status_code == 200 and "JITU-" in ok.text
    again = await client.post("/registri/permohonan", data=data)
    assert again.status_code == 400 and "sudah memiliki" in again.text
    bad = await client.post("/registri/permohonan", data={**data, "birth_date": "1990-01-06"})
    assert bad.status_code == 400 and "tidak cocok" in bad.text and nik not in bad.text


async def test_assessment_form_then_verification_by_dinsos_only(client, tmp_path):
    from storage.tables import EvidenceFile, Need

    await seed(tmp_path)
    await make_account("pekerja_sosial", "ps")
    await login(client, "ps")
    hid = (await Household.select(Household.id).first())["id"]
    await client.get(f"/registri/keluarga/{hid}")
    bad = await client.post(f"/registri/keluarga/{hid}/asesmen", data={
        "ppks": "24", "kind": "pangan", "amount": "300000", "_csrf_token": csrf(client)},
        files={"evidence": ("x.pdf", b"not a pdf", "application/pdf")})
    assert bad.status_code == 400 and "bukan PDF" in bad.text
    ok = await client.post(f"/registri/keluarga/{hid}/asesmen", data={
        "ppks": "24", "kind": "pangan", "amount": "300000", "_csrf_token": csrf(client)},
        files={"evidence": ("x.png", b"\x89PNG\r\n\x1a\n....", "image/png")})
    assert ok.status_code == 200 and "JITU-" in ok.text
    need = await Need.select().first()
    assert need["status"] == "assessed" and await EvidenceFile.count() == 1
    refused = await client.post(f"/registri/kebutuhan/{need['id']}/status", data={
        "to": "verified", "household_id": str(hid), "_csrf_token": csrf(client)})
    assert refused.status_code == 400 and "tidak berhak" in refused.text
    # posted from the needs list (no household): the same refusal as a 400 page, never a 500
    bare = await client.post(f"/registri/kebutuhan/{need['id']}/status", data={"_csrf_token": csrf(client)})
    assert bare.status_code == 400 and "tidak berhak" in bare.text
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    await client.get("/registri/kebutuhan?status=assessed")
    done = await client.post(f"/registri/kebutuhan/{need['id']}/status", data={
        "to": "verified", "household_id": str(hid), "_csrf_token": csrf(client)}, follow_redirects=False)
    assert done.status_code in (302, 303)
    assert (await Need.select(Need.status).first())["status"] == "verified"


async def test_operator_needs_queue_and_home_count_are_their_kelurahan_only(client):
    """The operator's queue reads its kelurahan's needs through an array of household ids (the city-scale
    plan): it must list and count exactly the needs of that kelurahan and status, nothing of the next one."""
    from storage.tables import Need

    own, other = [], []
    for i, code in enumerate([KEL, KEL, KEL, "32.73.03.1002", "32.73.03.1002"]):
        [hh] = await Household.insert(Household(kk_cipher="x", kk_hash=f"hash-{i}", kelurahan_code=code))
        for status in ("submitted", "verified"):
            [need] = await Need.insert(Need(household=hh["id"], ppks=23, kind="pangan", amount=100_000 + i,
                                            status=status))
            if status == "submitted":
                (own if code == KEL else other).append(need["id"])
    await make_account("operator_kelurahan", "op")  # kelurahan KEL
    await login(client, "op")
    queue = await client.get("/registri/kebutuhan?status=submitted")
    assert queue.status_code == 200 and "3 kebutuhan" in queue.text
    listed = {int(n) for n in re.findall(r"<tr><td>(\d+)</td>", queue.text)}
    assert listed == set(own) and not listed & set(other)
    home = await client.get("/beranda")
    assert home.status_code == 200 and "<b>3</b><span>Permohonan menunggu asesmen" in home.text
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    await Need.update({Need.status: "assessed"}).where(Need.id == own[0])
    await make_account("pekerja_sosial", "ps")  # the whole city, statuses as literals
    await login(client, "ps")
    home = await client.get("/beranda")
    assert "<b>5</b><span>Kebutuhan menunggu asesmen/verifikasi" in home.text
    assert "<b>5</b><span>Kebutuhan terverifikasi" in home.text
    assessed = await client.get("/registri/kebutuhan?status=assessed")
    assert "1 kebutuhan" in assessed.text and f"<tr><td>{own[0]}</td>" in assessed.text


async def test_a_common_name_lists_a_bounded_number_and_asks_for_a_narrower_search(client, tmp_path, monkeypatch):
    from storage import registry as registry_store

    await seed(tmp_path)
    monkeypatch.setattr(registry_store, "NAME_COUNT_UP_TO", 0)  # every match is "more than" the bound
    await make_account("pekerja_sosial", "ps")
    await login(client, "ps")
    await client.get("/registri/keluarga")
    found = await client.post("/registri/keluarga", data={"nama": "budi", "_csrf_token": csrf(client)})
    assert "lebih dari 0 keluarga" in found.text and "Persempit pencarian" in found.text
    monkeypatch.setattr(registry_store, "NAME_COUNT_UP_TO", 200)
    found = await client.post("/registri/keluarga", data={"nama": "budi", "_csrf_token": csrf(client)})
    assert "Budi Santoso" in found.text and "Persempit pencarian" not in found.text


async def test_the_household_list_offers_every_kelurahan_and_keeps_the_chosen_one_selected(client, tmp_path):
    from marketplace.regions import kelurahan

    await seed(tmp_path)
    await make_account("pekerja_sosial", "ps")
    await login(client, "ps")
    every = await client.get("/registri/keluarga")
    options = re.findall(r'<option value="([^"]*)" (selected)?>', every.text)
    assert [code for code, _ in options] == [r.code for r in kelurahan()] and not any(s for _, s in options)
    chosen = await client.get(f"/registri/keluarga?kelurahan={KEL}")
    assert re.findall(r'<option value="([^"]*)" selected>', chosen.text) == [KEL] and "Budi Santoso" in chosen.text
    odd = await client.get("/registri/keluarga?kelurahan=%3Cb%3E")  # not a kelurahan: nothing selected, no HTML
    assert odd.status_code == 200 and "<b>" not in odd.text and " selected>" not in odd.text


async def test_operator_needs_queue_pages_in_id_order_with_the_whole_count(client, monkeypatch):
    """The operator's queue reads its kelurahan's ids once: each page is the next ids, the count all of them."""
    from storage import registry as registry_store
    from storage.accounts import load_user
    from storage.tables import Need

    own = []
    for i, code in enumerate([KEL, "32.73.03.1002", KEL, KEL, KEL, KEL]):
        [hh] = await Household.insert(Household(kk_cipher="x", kk_hash=f"page-{i}", kelurahan_code=code))
        [need] = await Need.insert(Need(household=hh["id"], ppks=23, kind="pangan", amount=1_000, status="submitted"))
        if code == KEL:
            own.append(need["id"])
    user = await load_user(await make_account("operator_kelurahan", "op"))
    assert user is not None
    monkeypatch.setattr(registry_store, "PAGE_SIZE", 2)
    seen = []
    for page in (1, 2, 3, 4):
        rows, total = await registry_store.needs_queue(user, "submitted", page)
        assert total == 5
        seen += [r["id"] for r in rows]
    assert seen == sorted(own)

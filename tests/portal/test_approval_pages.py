from __future__ import annotations

from storage.tables import Allocation, Notification
from tests.dbutil import csrf, login, make_account
from tests.storage.test_approval import add_allocation, build


async def test_admin_reviews_filters_and_decides(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(3, capacity=700_000)
    await add_allocation(w, kind="kesehatan", kelurahan="32.73.01.1001", priority=5)
    await login(client, "admin")
    page = await client.get(f"/alokasi?round={w.round_id}")
    assert page.status_code == 200
    assert "Prioritas 80. Diusulkan" in page.text and "Budi" not in page.text  # explanation, no names
    filtered = await client.get(f"/alokasi?round={w.round_id}&kind=kesehatan")
    assert filtered.text.count('name="ids"') == 1
    assert (await client.get(f"/alokasi?round={w.round_id}&priority=50")).text.count('name="ids"') == 3
    assert (await client.get(f"/alokasi?round={w.round_id}&kecamatan=32.73.01")).text.count('name="ids"') == 1
    token = csrf(client)
    one = await client.post("/alokasi/keputusan", data={"_csrf_token": token, "round": w.round_id,
                                                        "approve_one": w.allocations[0]})
    assert one.status_code == 200 and "Disetujui" in one.text
    bulk = await client.post("/alokasi/keputusan", data={
        "_csrf_token": token, "round": w.round_id, "action": "approve", "ids": [w.allocations[1], w.allocations[2]]})
    assert "kapasitas" in bulk.text  # 700.000: room for two of three
    no_reason = await client.post("/alokasi/keputusan", data={
        "_csrf_token": token, "round": w.round_id, "action": "reject", "ids": [w.allocations[3]], "reason": ""})
    assert no_reason.status_code == 400 and "Alasan penolakan wajib" in no_reason.text
    rejected = await client.post("/alokasi/keputusan", data={
        "_csrf_token": token, "round": w.round_id, "action": "reject", "ids": [w.allocations[3]],
        "reason": "Bukan wilayah layanan"})
    assert rejected.status_code == 200
    statuses = [r["status"] for r in await Allocation.select(Allocation.status).order_by(Allocation.id)]
    assert statuses == ["approved", "approved", "proposed", "rejected"]
    assert await Notification.count() == 2


async def test_only_dinsos_admin(client) -> None:
    await make_account("lks_staff", "staf")
    w = await build(1)
    await login(client, "staf")
    assert (await client.get(f"/alokasi?round={w.round_id}")).status_code == 403
    response = await client.post("/alokasi/keputusan", data={"_csrf_token": csrf(client), "round": w.round_id,
                                                             "approve_one": w.allocations[0]})
    assert response.status_code == 403
    assert (await Allocation.select(Allocation.status).first())["status"] == "proposed"


async def test_without_csrf_refused(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(1)
    await login(client, "admin")
    response = await client.post("/alokasi/keputusan", data={"round": w.round_id, "approve_one": w.allocations[0]})
    assert response.status_code == 403


async def test_summary_and_keyset_pages(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(0, capacity=100_000_000)
    for i in range(53):
        await add_allocation(w, amount=100_000, priority=100 - (i % 5))
    await add_allocation(w, kind="kesehatan", kelurahan="32.73.01.1001", amount=250_000, priority=1)
    await login(client, "admin")
    first = await client.get(f"/alokasi?round={w.round_id}")
    assert first.status_code == 200
    assert "54 alokasi" in first.text and "Rp5.550.000" in first.text.replace(" ", "")
    assert first.text.count('name="ids"') == 50 and 'rel="next"' in first.text
    after = first.text.split('&amp;after=')[1].split('"')[0]
    second = await client.get(f"/alokasi?round={w.round_id}&after={after}")
    assert second.text.count('name="ids"') == 4 and 'rel="next"' not in second.text
    assert "Halaman pertama" in second.text
    health = await client.get(f"/alokasi?round={w.round_id}&kind=kesehatan")
    assert "1 alokasi" in health.text and "Rp250.000" in health.text.replace(" ", "")
    for bad in ("after=abc", "after=99999999999.1", "round=99999999999", "lks=-5", "priority=1e9", "kecamatan=%27"):
        assert (await client.get(f"/alokasi?round={w.round_id}&{bad}")).status_code == 200, bad


async def test_approve_everything_selected_confirms_count_and_rupiah_then_runs_as_a_job(client) -> None:
    from storage.jobs import wait_for

    await make_account("dinsos_admin", "admin")
    w = await build(3, capacity=700_000)  # room for two of the three in 32.73.03
    other = await add_allocation(w, kelurahan="32.73.01.1001", amount=100_000)
    await login(client, "admin")
    token = csrf(client)
    form = {"_csrf_token": token, "round": w.round_id, "kecamatan": "32.73.03", "action": "approve",
            "lks": "", "kind": "", "priority": ""}
    confirm = await client.post("/alokasi/pilihan", data=form)
    assert confirm.status_code == 200
    assert "menyetujui 3 alokasi senilai Rp" in confirm.text and "900.000" in confirm.text
    assert await Allocation.count().where(Allocation.status == "approved") == 0  # nothing changed yet
    started = await client.post("/alokasi/pilihan/jalankan", data=form, follow_redirects=False)
    assert started.status_code == 303
    job_url = started.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])
    job = await wait_for(job_id)
    assert job["status"] == "done", job
    done = await client.get(job_url)
    assert "2 alokasi disetujui" in done.text and "1 tidak lolos pemeriksaan" in done.text
    assert "sisa kapasitas penawaran tidak cukup: 1" in done.text
    statuses = {r["id"]: r["status"] for r in await Allocation.select(Allocation.id, Allocation.status)}
    assert statuses[other] == "proposed" and sorted(statuses.values()).count("approved") == 2
    assert await Notification.count() == 1
    # rejecting needs a reason; a wrong selection is refused with a message, never a crash
    no_reason = await client.post("/alokasi/pilihan", data={**form, "action": "reject", "reason": ""})
    assert no_reason.status_code == 400 and "Alasan penolakan wajib" in no_reason.text
    for bad in ({"round": "x"}, {"round": "99999999999"}, {"kecamatan": "99.99"}, {"kind": "senjata"},
                {"lks": "-1"}, {"action": "hapus"}, {"round": "424242"}):
        response = await client.post("/alokasi/pilihan", data={**form, **bad})
        assert response.status_code == 400, bad
        response = await client.post("/alokasi/pilihan/jalankan", data={**form, **bad})
        assert response.status_code == 400, bad
    assert (await client.get("/alokasi/pekerjaan/99999999999")).status_code == 404
    assert (await client.get("/alokasi/pekerjaan/424242")).status_code == 404
    rejected = await client.post("/alokasi/pilihan/jalankan", data={**form, "kecamatan": "", "action": "reject",
                                                                     "reason": "Anggaran dialihkan"},
                                 follow_redirects=False)
    job = await wait_for(int(rejected.headers["location"].rsplit("/", 1)[1]))
    assert job["status"] == "done"
    assert "2 alokasi ditolak" in (await client.get(rejected.headers["location"])).text


async def test_selection_pages_only_for_dinsos_admin(client) -> None:
    await make_account("lks_staff", "staf")
    w = await build(1)
    await login(client, "staf")
    data = {"_csrf_token": csrf(client), "round": w.round_id, "action": "approve"}
    assert (await client.post("/alokasi/pilihan", data=data)).status_code == 403
    assert (await client.post("/alokasi/pilihan/jalankan", data=data)).status_code == 403
    assert (await client.get("/alokasi/pekerjaan/1")).status_code == 403
    assert (await Allocation.select(Allocation.status).first())["status"] == "proposed"

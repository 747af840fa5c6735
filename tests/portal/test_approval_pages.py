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

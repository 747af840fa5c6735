"""From a round's proposal to a confirmed delivery through the portal, and LKS isolation by URL."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from PIL import Image

from marketplace import clock
from storage.tables import Allocation, DataAccess, Delivery, DeliveryPhoto, Need
from tests.dbutil import csrf, login, make_account
from tests.storage.test_approval import add_allocation, build
from tests.storage.test_images import jpeg_with_gps

TODAY = clock.today().isoformat()


def fields(token: str) -> dict[str, str]:
    return {"_csrf_token": token, "delivered_on": TODAY, "what_given": "Paket sembako 10 kg",
            "received_by": "Ibu Siti"}


async def approve_all(client, w) -> None:
    await login(client, "admin")
    await client.get("/alokasi")
    response = await client.post("/alokasi/keputusan", data={"_csrf_token": csrf(client), "round": w.round_id,
                                                              "action": "approve", "ids": w.allocations})
    assert response.status_code == 200, response.text
    await client.post("/keluar", data={"_csrf_token": csrf(client)})


async def test_full_flow_from_proposal_to_confirmed_delivery(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(0)
    await add_allocation(w, name="Siti Aminah")
    await make_account("lks_staff", "staf-a", lks_id=w.lks_id)
    await approve_all(client, w)
    alloc = w.allocations[0]

    await login(client, "staf-a")
    listing = await client.get("/lks-saya/keluarga")
    assert listing.status_code == 200 and "Siti Aminah" in listing.text
    full_nik = await _nik_of(w.households[0])
    assert full_nik not in listing.text and full_nik[:4] + "********" + full_nik[-4:] in listing.text
    assert "30-11-2026" in listing.text
    xlsx = await client.get("/lks-saya/keluarga.xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["cache-control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["B2"].value == "Siti Aminah" and full_nik not in str(list(sheet.values))
    pdf = await client.get("/lks-saya/keluarga.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert await DataAccess.count().where(DataAccess.household_id == w.households[0]) >= 3

    form = await client.get(f"/penyaluran/{alloc}")
    assert 'capture="environment"' in form.text and 'accept="image/*"' in form.text
    response = await client.post(f"/penyaluran/{alloc}", data=fields(csrf(client)),
                                 files=[("photos", ("gps.jpg", jpeg_with_gps(), "image/jpeg"))],
                                 follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    assert (await Allocation.select(Allocation.status).first())["status"] == "delivered"
    detail = await client.get(f"/penyaluran/{alloc}")
    links = re.findall(r'src="(/berkas/[^"]+)"', detail.text)
    assert len(links) == 1
    photo = await client.get(links[0].replace("&amp;", "&"))
    assert photo.status_code == 200 and photo.headers["cache-control"] == "private, no-store"
    with Image.open(io.BytesIO(photo.content)) as image:
        assert not image.getexif() and "exif" not in image.info
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    await login(client, "admin")
    queue = await client.get("/konfirmasi-penyaluran")
    assert "Paket sembako 10 kg" in queue.text
    delivery_id = (await Delivery.select(Delivery.id).first())["id"]
    admin_view = await client.get(f"/penyaluran/{alloc}")
    assert "/berkas/" in admin_view.text and full_nik in admin_view.text  # Dinsos sees it whole
    done = await client.post(f"/konfirmasi-penyaluran/{delivery_id}", data={"_csrf_token": csrf(client),
                                                                          "action": "confirm"},
                             follow_redirects=False)
    assert done.status_code in (302, 303)
    assert (await Allocation.select(Allocation.status).first())["status"] == "confirmed"
    assert (await Need.select(Need.status).first())["status"] == "confirmed"
    for status, listed in (("", False), ("?status=confirmed", True), ("?status=disputed", False)):  # per status
        assert ("Paket sembako 10 kg" in (await client.get(f"/konfirmasi-penyaluran{status}")).text) == listed
    impact = await client.get("/dampak")  # one household: counted, but shown only as "< 5" (issue 11)
    assert "&lt; 5" in impact.text and "Rp 300.000" not in impact.text and "Siti" not in impact.text


async def _nik_of(household_id: int) -> str:
    from storage.crypto import vault
    from storage.tables import Member

    row = await Member.select(Member.nik_cipher).where(Member.household == household_id).first()
    return vault().decrypt(row["nik_cipher"])


async def test_lks_b_never_sees_or_touches_lks_a(client) -> None:
    await make_account("dinsos_admin", "admin")
    a = await build(1, lks_name="Yayasan A")
    b = await build(1, lks_name="Yayasan B")
    await make_account("lks_staff", "staf-a", lks_id=a.lks_id)
    await make_account("lks_staff", "staf-b", lks_id=b.lks_id)
    b_alloc = b.allocations[0]
    await Allocation.update({Allocation.round: a.round_id}).where(Allocation.id == b_alloc)
    a.allocations.append(b_alloc)
    await approve_all(client, a)
    a_alloc = a.allocations[0]

    await login(client, "staf-a")
    response = await client.post(f"/penyaluran/{a_alloc}", data=fields(csrf(client)),
                                 files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))], follow_redirects=False)
    assert response.status_code in (302, 303)
    a_link = re.findall(r'src="(/berkas/[^"]+)"', (await client.get(f"/penyaluran/{a_alloc}")).text)[0]
    await client.post("/keluar", data={"_csrf_token": csrf(client)})

    await login(client, "staf-b")
    listing = await client.get("/lks-saya/keluarga")
    assert f"/penyaluran/{b_alloc}" in listing.text and f"/penyaluran/{a_alloc}" not in listing.text
    assert (await client.get(f"/penyaluran/{a_alloc}")).status_code == 404
    response = await client.post(f"/penyaluran/{a_alloc}", data=fields(csrf(client)),
                                 files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))])
    assert response.status_code == 404
    assert await Delivery.count() == 1
    xlsx = load_workbook(io.BytesIO((await client.get("/lks-saya/keluarga.xlsx")).content)).active
    assert [row[-1] for row in xlsx.iter_rows(min_row=2, values_only=True)] == [b_alloc]
    # photo URL guessing: the key without a valid signature, or a signature for another key, is refused
    key = (await DeliveryPhoto.select(DeliveryPhoto.object_key).first())["object_key"]
    assert (await client.get(f"/berkas/{key}")).status_code == 403
    assert (await client.get(f"/berkas/{key}?e=9999999999&s=forged")).status_code == 403
    sig = a_link.replace("&amp;", "&").split("?", 1)[1]
    other = key.replace(f"lks-{a.lks_id}", f"lks-{b.lks_id}")
    assert (await client.get(f"/berkas/{other}?{sig}")).status_code == 403
    assert (await client.get("/konfirmasi-penyaluran")).status_code == 403
    assert (await client.post("/konfirmasi-penyaluran/1", data={"_csrf_token": csrf(client),
                                                                 "action": "confirm"})).status_code == 403
    assert (await Delivery.select(Delivery.status).first())["status"] == "recorded"


async def test_upload_validation_over_http(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(1)
    await make_account("lks_staff", "staf-a", lks_id=w.lks_id)
    await approve_all(client, w)
    await login(client, "staf-a")
    await client.get("/lks-saya/keluarga")
    alloc = w.allocations[0]
    truncated = jpeg_with_gps((300, 200))
    cases = [
        ("foto.jpg", b"<html><body><script>alert(1)</script></body></html>", "image/jpeg", "bukan foto"),
        ("foto.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "image/jpeg", "bukan foto"),
        ("besar.jpg", jpeg_with_gps() + b"\x00" * (10 * 1024 * 1024 + 1), "image/jpeg", "10 MB"),
        ("potong.jpg", truncated[: len(truncated) // 2], "image/jpeg", "rusak"),
    ]
    for name, data, ctype, words in cases:
        response = await client.post(f"/penyaluran/{alloc}", data=fields(csrf(client)),
                                     files=[("photos", ("ok.jpg", jpeg_with_gps(), "image/jpeg")),
                                            ("photos", (name, data, ctype))])
        assert response.status_code == 400, name
        assert words in response.text, name
    none = await client.post(f"/penyaluran/{alloc}", data=fields(csrf(client)))
    assert none.status_code == 400 and "foto bukti" in none.text
    assert await Delivery.count() == 0 and await DeliveryPhoto.count() == 0
    assert (await Allocation.select(Allocation.status).first())["status"] == "approved"


async def test_requester_confirms_on_tracking_page(client) -> None:
    await make_account("dinsos_admin", "admin")
    w = await build(1)
    await make_account("lks_staff", "staf-a", lks_id=w.lks_id)
    await approve_all(client, w)
    await login(client, "staf-a")
    await client.get("/lks-saya/keluarga")
    await client.post(f"/penyaluran/{w.allocations[0]}", data=fields(csrf(client)),
                      files=[("photos", ("a.jpg", jpeg_with_gps(), "image/jpeg"))])
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    await client.get("/")
    assert (await client.post("/lacak/konfirmasi", data={"ticket": w.tickets[0]})).status_code == 403
    wrong = await client.post("/lacak/konfirmasi", data={"_csrf_token": csrf(client), "ticket": "SALAH"})
    assert wrong.status_code == 400
    ok = await client.post("/lacak/konfirmasi", data={"_csrf_token": csrf(client), "ticket": w.tickets[0]})
    assert ok.status_code == 200 and "sudah dikonfirmasi" in ok.text
    assert (await Delivery.select(Delivery.status).first())["status"] == "confirmed"
    impact = (await client.get("/dampak")).text  # counted, and suppressed: one household
    assert "&lt; 5" in impact and "Rp 300.000" not in impact


async def test_requester_confirmation_is_rate_limited_like_tracking(client, rate_window_held):
    from storage.registry import TRACK_LIMIT

    await client.get("/")
    statuses = []
    for _ in range(TRACK_LIMIT + 2):
        response = await client.post("/lacak/konfirmasi", data={"ticket": "JITU-TEBAKAN00",
                                                                "_csrf_token": client.cookies.get("jitu_csrf")})
        statuses.append(response.status_code)
    assert 429 not in statuses[:TRACK_LIMIT]
    assert statuses[-1] == 429

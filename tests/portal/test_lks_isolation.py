"""An LKS's staff see and change only their own LKS: guessing another LKS's offer, donation or proof URL
gets the same 404 as a missing one, and changes nothing."""

from __future__ import annotations

from typing import Any

from storage.tables import Campaign, Donation, Donor, Offer
from tests.dbutil import csrf, login, make_account, make_lks


async def _setup() -> dict[str, Any]:
    a = await make_lks("Yayasan A")
    b = await make_lks("Yayasan B")
    await make_account("lks_staff", "staf-a", lks_id=a)
    await make_account("lks_staff", "staf-b", lks_id=b)
    offer_b = (await Offer.insert(Offer(lks=b, title="Penawaran B", period="2026-12", kind="pangan", capacity=10,
                                        remaining=10, is_goods=True, unit="paket", unit_value=100_000))
               .returning(Offer.id))[0]["id"]
    donor = (await Donor.insert(Donor(name="Donatur Rahasia B")).returning(Donor.id))[0]["id"]
    donation_b = (await Donation.insert(Donation(lks=b, donor=donor, amount=123_456, method="transfer",
                                                 status="completed", transfer_proof_key="transfers/b/proof.pdf"))
                  .returning(Donation.id))[0]["id"]
    await Campaign.insert(Campaign(lks=b, slug="kampanye-b", title="Kampanye B rahasia"))
    return {"a": a, "b": b, "offer_b": offer_b, "donation_b": donation_b}


async def test_staff_of_one_lks_cannot_see_or_change_another_lks(client):
    ids = await _setup()
    await login(client, "staf-a")
    offer_b, donation_b = ids["offer_b"], ids["donation_b"]
    assert (await client.get(f"/lks-saya/penawaran/{offer_b}")).status_code == 404
    for action in ("terbitkan", "tutup"):
        response = await client.post(f"/lks-saya/penawaran/{offer_b}/{action}", data={"_csrf_token": csrf(client)})
        assert response.status_code == 404
    assert (await Offer.select(Offer.status).where(Offer.id == offer_b).first())["status"] == "draft"
    assert (await client.get(f"/lks-saya/donasi/{donation_b}/bukti", follow_redirects=False)).status_code == 404
    for path in ("/lks-saya/penawaran", "/lks-saya/donasi", "/lks-saya/buku-kas", "/lks-saya/kampanye"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "Yayasan A" in page.text
        assert "Penawaran B" not in page.text and "Donatur Rahasia B" not in page.text
        assert "123.456" not in page.text and "Kampanye B rahasia" not in page.text


async def test_staff_cannot_reach_dinsos_pages(client):
    ids = await _setup()
    await login(client, "staf-a")
    for path in ("/admin/lks", f"/admin/lks/{ids['b']}", "/admin/donasi/transfer",
                 f"/admin/donasi/transfer/{ids['donation_b']}/bukti"):
        assert (await client.get(path, follow_redirects=False)).status_code == 403
    response = await client.post(f"/admin/lks/{ids['a']}/keputusan",
                                 data={"decision": "verify", "_csrf_token": csrf(client)})
    assert response.status_code == 403


async def test_a_donor_sees_only_their_own_receipts(client):
    ids = await _setup()
    await make_account("donor", "donatur-1")
    other = await make_account("donor", "donatur-2")
    donor = (await Donor.insert(Donor(name="Donatur Dua", account=other)).returning(Donor.id))[0]["id"]
    theirs = (await Donation.insert(Donation(lks=ids["a"], donor=donor, amount=50_000, method="stripe",
                                             status="completed", receipt_number="JITU-RCPT-2026-000777"))
              .returning(Donation.id))[0]["id"]
    await login(client, "donatur-1")
    assert "JITU-RCPT-2026-000777" not in (await client.get("/donasi-saya")).text
    assert (await client.get(f"/donasi-saya/{theirs}/kuitansi")).status_code == 404
    assert (await client.get(f"/donasi-saya/{theirs}/kuitansi.pdf")).status_code == 404
    assert (await client.get(f"/donasi-saya/{ids['donation_b']}/kuitansi")).status_code == 404


async def test_complaints_passed_to_one_office_or_lks_stay_out_of_others_reach(client):
    """A complaint assigned to Yayasan B or to Dinkes: Yayasan A's staff and Disdik's staff find it nowhere
    (list empty, the id and guessed ids 404, an answer refused with 404 and nothing written)."""
    from datetime import UTC, datetime

    from storage.tables import Complaint

    ids = await _setup()
    await make_account("office_staff", "dinkes", office_code="kesehatan")
    await make_account("office_staff", "disdik", office_code="pendidikan")
    now = datetime.now(UTC)
    made = {}
    for name, kind, office, lks in (("lks", "lks", "", ids["b"]), ("office", "office", "kesehatan", None)):
        rows = await Complaint.insert(Complaint(
            ticket_code=f"JITU-ISOLASI{name.upper()}"[:24], category="pungutan", status="assigned",
            description=f"Pengaduan rahasia untuk {name}", assignee_kind=kind, assignee_office=office,
            assignee_lks=lks, created_at=now, updated_at=now)).returning(Complaint.id)
        made[name] = int(rows[0]["id"])
    for outsider in ("staf-a", "disdik"):
        await login(client, outsider)
        listing = await client.get("/pengaduan-masuk")
        assert listing.status_code == 200 and "Pengaduan rahasia" not in listing.text
        assert "/pengaduan-masuk/" not in listing.text
        for cid in (*made.values(), max(made.values()) + 1, 2**31 - 1):
            assert (await client.get(f"/pengaduan-masuk/{cid}")).status_code == 404
            response = await client.post(f"/pengaduan-masuk/{cid}/jawab", data={
                "text": "Jawaban dari yang tidak berhak.", "_csrf_token": csrf(client)})
            assert response.status_code == 404
        assert (await client.get("/admin/pengaduan", follow_redirects=False)).status_code == 403
    assert {r["status"] for r in await Complaint.select(Complaint.status)} == {"assigned"}
    for owner, name in (("staf-b", "lks"), ("dinkes", "office")):  # the owners do see theirs
        await login(client, owner)
        assert "Pengaduan rahasia untuk " + name in (await client.get(f"/pengaduan-masuk/{made[name]}")).text
        other = made["office" if name == "lks" else "lks"]
        assert (await client.get(f"/pengaduan-masuk/{other}")).status_code == 404

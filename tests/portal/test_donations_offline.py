"""Offline mode (no Stripe): the LKS records bank transfers it received, Dinsos sees them, the ledger
counts them; donors sign up, see their donations and print receipts (HTML and PDF)."""

from __future__ import annotations

from typing import Any

from storage import ledger
from storage.objects import make_object_store
from storage.tables import AuditEvent, Campaign, Donation, Donor
from tests.dbutil import csrf, login, make_account, make_lks

PDF = b"%PDF-1.4\n%%EOF\n"


async def _record(client: Any, **overrides: Any) -> Any:
    await client.get("/lks-saya/donasi/transfer")
    data = {"donor_name": "Pak Ahmad", "donor_email": "", "amount": "1.500.000", "received_on": "2026-11-20",
            "_csrf_token": csrf(client), **overrides}
    return await client.post("/lks-saya/donasi/transfer", data=data,
                             files={"proof": ("bukti.pdf", PDF, "application/pdf")}, follow_redirects=False)


async def test_lks_records_a_transfer_and_dinsos_sees_it(client):
    lks_id = await make_lks("Yayasan Peduli")
    await make_account("lks_staff", "bendahara", lks_id=lks_id)
    await login(client, "bendahara")
    response = await _record(client)
    assert response.status_code in (302, 303), response.text
    donation = await Donation.select().first()
    assert donation["status"] == "completed" and donation["method"] == "transfer" and donation["amount"] == 1_500_000
    assert donation["receipt_number"] == f"JITU-RCPT-2026-{donation['id']:06d}"
    assert make_object_store().get(donation["transfer_proof_key"]) == PDF
    assert await ledger.balance(lks_id) == 1_500_000
    assert await AuditEvent.exists().where(AuditEvent.action == "donation.transfer_recorded")
    listing = await client.get("/lks-saya/donasi")
    assert "Pak Ahmad" in listing.text and "Rp 1.500.000" in listing.text
    kas = await client.get("/lks-saya/buku-kas")
    assert "Rp 1.500.000" in kas.text

    client.cookies.clear()
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    transfers = await client.get("/admin/donasi/transfer")
    assert "Yayasan Peduli" in transfers.text and "Pak Ahmad" in transfers.text and "bendahara" in transfers.text
    proof = await client.get(f"/admin/donasi/transfer/{donation['id']}/bukti", follow_redirects=False)
    assert proof.status_code in (302, 303, 307) and donation["transfer_proof_key"] in proof.headers["location"]


async def test_bad_transfers_are_refused_and_nothing_is_kept(client):
    lks_id = await make_lks()
    await make_account("lks_staff", "bendahara", lks_id=lks_id)
    await login(client, "bendahara")
    for overrides, message in (({"amount": "5000"}, "Rp 10.000"), ({"received_on": "2999-01-01"}, "masa depan"),
                               ({"donor_name": ""}, "Nama donatur")):
        response = await _record(client, **overrides)
        assert response.status_code == 400 and message in response.text
    await client.get("/lks-saya/donasi/transfer")
    bad_proof = await client.post("/lks-saya/donasi/transfer", data={
        "donor_name": "Pak Ahmad", "amount": "50000", "received_on": "2026-11-20", "_csrf_token": csrf(client)},
        files={"proof": ("bukti.pdf", b"<html>not a pdf</html>", "application/pdf")})
    assert bad_proof.status_code == 400
    assert await Donation.count() == 0 and await ledger.balance(lks_id) == 0


async def test_an_unverified_lks_cannot_record_transfers(client):
    lks_id = await make_lks(status="applied")
    await make_account("lks_staff", "bendahara", lks_id=lks_id)
    await login(client, "bendahara")
    response = await _record(client)
    assert response.status_code == 400
    assert await Donation.count() == 0


async def test_donor_signs_up_and_prints_receipts(client):
    await client.get("/donatur/daftar")
    response = await client.post("/donatur/daftar", data={
        "full_name": "Sari Dewi", "email": "sari@example.id", "username": "sari",
        "password": "kata-sandi-panjang", "_csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    await login(client, "sari", "kata-sandi-panjang")
    from storage.tables import Account

    account = await Account.select().where(Account.username == "sari").first()
    assert account["role"] == "donor"
    lks_id = await make_lks("Yayasan Peduli")
    donor = (await Donor.insert(Donor(name="Sari Dewi", account=account["id"])).returning(Donor.id))[0]["id"]
    donation = (await Donation.insert(Donation(lks=lks_id, donor=donor, amount=250_000, method="stripe",
                                               status="completed", receipt_number="JITU-RCPT-2026-000042"))
                .returning(Donation.id))[0]["id"]
    mine = await client.get("/donasi-saya")
    assert "JITU-RCPT-2026-000042" in mine.text and "Yayasan Peduli" in mine.text
    html = await client.get(f"/donasi-saya/{donation}/kuitansi")
    assert html.status_code == 200 and "Rp 250.000" in html.text and "/static/print.js" in html.text
    pdf = await client.get(f"/donasi-saya/{donation}/kuitansi.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and b"JITU-RCPT-2026-000042" in pdf.content


async def test_a_donors_long_list_is_paged_newest_first(client):
    account = await make_account("donor", "rutin")
    lks_id = await make_lks("Yayasan Peduli")
    donor = (await Donor.insert(Donor(name="Donatur Rutin", account=account)).returning(Donor.id))[0]["id"]
    other = (await Donor.insert(Donor(name="Orang Lain")).returning(Donor.id))[0]["id"]
    await Donation.insert(*[Donation(lks=lks_id, donor=donor, amount=10_000 * (i + 1), method="transfer",
                                     status="completed", receipt_number=f"JITU-RCPT-2026-{i:06d}")
                            for i in range(60)],
                          Donation(lks=lks_id, donor=other, amount=99_000, method="transfer", status="completed",
                                   receipt_number="JITU-RCPT-2026-999999"))
    await login(client, "rutin")
    first = await client.get("/donasi-saya")
    assert "60 donasi" in first.text and "Halaman 1 dari 2" in first.text
    assert first.text.count("/kuitansi.pdf") == 50 and "JITU-RCPT-2026-000059" in first.text
    assert "JITU-RCPT-2026-999999" not in first.text  # another donor's gift is never listed
    second = await client.get("/donasi-saya", params={"page": "2"})
    assert second.text.count("/kuitansi.pdf") == 10 and "JITU-RCPT-2026-000000" in second.text
    assert "JITU-RCPT-2026-000059" not in second.text
    assert (await client.get("/donasi-saya", params={"page": "0"})).status_code == 400


async def test_lks_creates_a_campaign_with_a_public_page(client):
    lks_id = await make_lks("Yayasan Peduli")
    await make_account("lks_staff", "staf", lks_id=lks_id)
    await login(client, "staf")
    await client.get("/lks-saya/kampanye")
    response = await client.post("/lks-saya/kampanye", data={
        "title": "Paket sembako untuk Babakan Ciparay", "description": "Seratus paket", "target_amount": "15.000.000",
        "kecamatan_code": "32.73.03", "_csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code in (302, 303)
    campaign = await Campaign.select().first()
    assert campaign["slug"] == "paket-sembako-untuk-babakan-ciparay" and campaign["target_amount"] == 15_000_000
    client.cookies.clear()
    public = await client.get(response.headers["location"])
    assert public.status_code == 200 and "Paket sembako untuk Babakan Ciparay" in public.text
    assert "Yayasan Peduli" in (await client.get("/lks")).text
    assert "Paket sembako untuk Babakan Ciparay" in (await client.get(f"/lks/{lks_id}")).text

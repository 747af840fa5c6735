"""Registration → verification → a published offer; rejected and unverified LKS cannot publish; documents
are checked by content, kept in object storage and reached by Dinsos through expiring links."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

from marketplace.settings import get_settings
from storage.objects import LocalObjectStore, make_object_store
from storage.tables import Account, AuditEvent, Lks, LksDocument, Offer
from tests.dbutil import csrf, login, make_account

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def application(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "Yayasan Peduli Babakan", "legal_type": "yayasan", "deed_number": "AKTA-12/2019",
        "decree_number": "AHU-0012345.AH.01.04.2019", "dinsos_reg_number": "463/123-Dinsos",
        "address": "Jl. Babakan Ciparay No. 1", "kecamatan_code": "32.73.03", "contact_name": "Ibu Sari",
        "phone": "022-1234567", "email": "sari@peduli.or.id", "bank_name": "Bank BJB",
        "bank_account": "0012345678", "ppks": ["24", "8"], "areas": ["32.73.03"], "annual_budget": "200.000.000",
        "username": "peduli.staf", "password": "kata-sandi-lks-123", "password_confirm": "kata-sandi-lks-123",
    }
    form.update(overrides)
    return form


async def register(client: Any, files: dict[str, Any] | None = None, **overrides: Any) -> Any:
    await client.get("/lks/daftar")
    data = application(**overrides)
    data["_csrf_token"] = csrf(client)
    if files is None:
        files = {"doc_akta": ("akta.pdf", PDF, "application/pdf"), "doc_sk_kemenkumham": ("sk.png", PNG, "image/png")}
    return await client.post("/lks/daftar", data=data, files=files)


async def test_landing_page_links_to_registration(client):
    response = await client.get("/")
    assert 'href="/lks/daftar"' in response.text
    assert (await client.get("/lks/daftar")).status_code == 200


async def test_registration_creates_an_applied_lks_with_documents_and_its_staff_account(client):
    response = await register(client)
    assert response.status_code == 200, response.text
    lks = await Lks.select().first()
    assert lks["status"] == "applied" and lks["annual_budget"] == 200_000_000
    assert lks["ppks_served"] in ([8, 24], "[8, 24]")
    docs = await LksDocument.select().where(LksDocument.lks == lks["id"])
    assert {d["kind"] for d in docs} == {"akta", "sk_kemenkumham"}
    assert {d["content_type"] for d in docs} == {"application/pdf", "image/png"}
    store = make_object_store()
    assert store.get(next(d["object_key"] for d in docs if d["kind"] == "akta")) == PDF
    account = await Account.select().where(Account.username == "peduli.staf").first()
    assert account["role"] == "lks_staff" and account["lks"] == lks["id"]
    assert await AuditEvent.exists().where(AuditEvent.action == "lks.apply")


async def test_a_document_is_judged_by_its_content_not_its_name(client):
    fake = {"doc_akta": ("akta.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")}
    response = await register(client, files=fake)
    assert response.status_code == 400
    assert "PDF atau gambar" in response.text
    assert await Lks.count() == 0 and await Account.count() == 0


async def test_a_document_over_10_mb_is_refused(client):
    big = {"doc_akta": ("akta.pdf", PDF + b"0" * (10 * 1024 * 1024), "application/pdf")}
    response = await register(client, files=big)
    assert response.status_code == 400
    assert "10 MB" in response.text
    assert await Lks.count() == 0


async def test_invalid_fields_are_reported_in_indonesian_and_nothing_is_kept(client):
    response = await register(client, name="", phone="abc", password_confirm="lain")
    assert response.status_code == 400
    assert "Nama resmi lembaga wajib diisi" in response.text and "Nomor telepon tidak sah" in response.text
    assert await Lks.count() == 0


async def test_a_taken_username_is_refused_and_leaves_no_files(client):
    await make_account("donor", "peduli.staf")
    response = await register(client)
    assert response.status_code == 400
    assert "sudah dipakai" in response.text
    assert await Lks.count() == 0


async def _admin(client: Any) -> None:
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")


async def test_dinsos_lists_searches_opens_and_verifies_an_application(client):
    await register(client)
    for i in range(3):
        await Lks.insert(Lks(name=f"Perkumpulan Lain {i}", legal_type="perkumpulan", status="applied"))
    client.cookies.clear()
    await _admin(client)
    listing = await client.get("/admin/lks", params={"q": "peduli"})
    assert "Yayasan Peduli Babakan" in listing.text and "Perkumpulan Lain" not in listing.text
    lks_id = (await Lks.select(Lks.id).where(Lks.name == "Yayasan Peduli Babakan").first())["id"]
    detail = await client.get(f"/admin/lks/{lks_id}")
    assert "AHU-0012345" in detail.text
    doc = await LksDocument.select().where(LksDocument.kind == "akta").first()
    link = await client.get(f"/admin/lks/{lks_id}/dokumen/{doc['id']}", follow_redirects=False)
    assert link.status_code in (301, 302, 303, 307)
    target = urlparse(link.headers["location"])
    query = parse_qs(target.query)
    store = make_object_store()
    assert isinstance(store, LocalObjectStore)
    assert target.path.endswith(doc["object_key"])
    assert store.check_signature(doc["object_key"], int(query["e"][0]), query["s"][0])
    assert not store.check_signature(doc["object_key"], int(query["e"][0]) - 10**6, query["s"][0])
    downloaded = await client.get(link.headers["location"])
    assert downloaded.status_code == 200 and downloaded.content == PDF

    response = await client.post(f"/admin/lks/{lks_id}/keputusan",
                                 data={"decision": "verify", "_csrf_token": csrf(client)}, follow_redirects=False)
    assert response.status_code in (302, 303)
    row = await Lks.select().where(Lks.id == lks_id).first()
    assert row["status"] == "verified" and row["verified_at"] is not None
    assert await AuditEvent.exists().where((AuditEvent.action == "lks.verify") & (AuditEvent.actor == "admin"))


async def test_rejection_needs_a_reason_and_is_audited(client):
    await register(client)
    client.cookies.clear()
    await _admin(client)
    lks_id = (await Lks.select(Lks.id).first())["id"]
    refused = await client.post(f"/admin/lks/{lks_id}/keputusan",
                                data={"decision": "reject", "reason": "", "_csrf_token": csrf(client)})
    assert refused.status_code == 400 and "Alasan penolakan wajib diisi" in refused.text
    assert (await Lks.select(Lks.status).first())["status"] == "applied"
    await client.post(f"/admin/lks/{lks_id}/keputusan",
                      data={"decision": "reject", "reason": "Akta tidak terbaca", "_csrf_token": csrf(client)})
    row = await Lks.select().first()
    assert row["status"] == "rejected" and row["rejection_reason"] == "Akta tidak terbaca"
    event = await AuditEvent.select().where(AuditEvent.action == "lks.reject").first()
    assert event is not None and "Akta tidak terbaca" in str(event["after"])


FUNDS_OFFER = {"title": "Bantuan sembako Desember", "period": "2026-12", "kind": "pangan", "offer_type": "goods",
               "unit": "paket sembako", "quantity": "200", "unit_value": "150000", "areas": ["32.73.03"],
               "ppks": ["24"], "max_per_need": "2"}


async def _create_offer(client: Any, **overrides: Any) -> Any:
    await client.get("/lks-saya/penawaran/baru")
    data = {**FUNDS_OFFER, **overrides, "_csrf_token": csrf(client)}
    return await client.post("/lks-saya/penawaran/baru", data=data, follow_redirects=False)


async def test_registration_then_verification_then_a_published_offer(client):
    await register(client)
    lks_id = (await Lks.select(Lks.id).first())["id"]
    client.cookies.clear()
    await login(client, "peduli.staf", "kata-sandi-lks-123")
    created = await _create_offer(client)
    assert created.status_code in (302, 303), created.text
    offer_id = (await Offer.select(Offer.id).first())["id"]
    refused = await client.post(f"/lks-saya/penawaran/{offer_id}/terbitkan", data={"_csrf_token": csrf(client)})
    assert refused.status_code == 400 and "diverifikasi" in refused.text
    assert (await Offer.select(Offer.status).first())["status"] == "draft"

    client.cookies.clear()
    await _admin(client)
    await client.post(f"/admin/lks/{lks_id}/keputusan", data={"decision": "verify", "_csrf_token": csrf(client)})
    client.cookies.clear()
    await login(client, "peduli.staf", "kata-sandi-lks-123")
    published = await client.post(f"/lks-saya/penawaran/{offer_id}/terbitkan", data={"_csrf_token": csrf(client)},
                                  follow_redirects=False)
    assert published.status_code in (302, 303)
    offer = await Offer.select().first()
    assert offer["status"] == "published" and offer["capacity"] == offer["remaining"] == 200
    assert offer["is_goods"] and offer["unit_value"] == 150_000 and offer["max_per_need"] == 2
    assert "Terbit" in (await client.get("/lks-saya/penawaran")).text


async def test_a_rejected_lks_cannot_publish(client):
    lks_id = (await Lks.insert(Lks(name="Yayasan Ditolak", legal_type="yayasan", status="rejected",
                                   annual_budget=10**9)).returning(Lks.id))[0]["id"]
    await make_account("lks_staff", "ditolak", lks_id=lks_id)
    await login(client, "ditolak")
    await _create_offer(client)
    offer_id = (await Offer.select(Offer.id).first())["id"]
    refused = await client.post(f"/lks-saya/penawaran/{offer_id}/terbitkan", data={"_csrf_token": csrf(client)})
    assert refused.status_code == 400
    assert (await Offer.select(Offer.status).first())["status"] == "draft"


async def test_settings_default_to_local_objects():
    assert get_settings().object_store == "local"


async def test_dinsos_adjusts_a_ledger_with_a_reason(client):
    from storage import ledger

    lks_id = (await Lks.insert(Lks(name="Yayasan Kas", legal_type="yayasan", status="verified"))
              .returning(Lks.id))[0]["id"]
    await _admin(client)
    await client.get(f"/admin/lks/{lks_id}")
    ok = await client.post(f"/admin/lks/{lks_id}/penyesuaian", data={
        "amount": "250.000", "memo": "Saldo awal dari kas lama", "_csrf_token": csrf(client)}, follow_redirects=False)
    assert ok.status_code in (302, 303)
    await client.post(f"/admin/lks/{lks_id}/penyesuaian", data={
        "amount": "-50000", "memo": "Biaya administrasi bank", "_csrf_token": csrf(client)})
    assert await ledger.balance(lks_id) == 200_000
    refused = await client.post(f"/admin/lks/{lks_id}/penyesuaian", data={
        "amount": "10000", "memo": "", "_csrf_token": csrf(client)})
    assert refused.status_code == 400 and "Keterangan penyesuaian wajib diisi" in refused.text
    assert await ledger.balance(lks_id) == 200_000
    assert await AuditEvent.count().where(AuditEvent.action == "ledger.adjust") == 2
    assert "Rp 200.000" in (await client.get(f"/admin/lks/{lks_id}")).text

"""Complaints: filed anonymously (with an attachment, naming an LKS) → triaged → assigned → answered →
closed, followed by ticket without personal data; a requester's report that a delivery never arrived
disputes it; Dinsos only; counted on the LKS's page."""

import re

from marketplace import clock
from storage.tables import (
    Allocation,
    AuditEvent,
    Complaint,
    ComplaintEvent,
    ComplaintFile,
    Delivery,
    Need,
    ServiceRequest,
)
from tests.dbutil import csrf, login, make_account, make_lks
from tests.storage.test_approval import add_allocation, build

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(**over):
    data = {"category": "pungutan", "description": "Petugas meminta uang Rp 50.000 sebelum bantuan diberikan.",
            "anonymous": "1", "name": "Ibu Rahasia", "contact": "081299998888", "kelurahan": "32.73.03.1001"}
    data.update(over)
    return data


async def file(client, files=None, **over):
    await client.get("/pengaduan")
    return await client.post("/pengaduan", data={**form(**over), "_csrf_token": csrf(client)}, files=files)


async def track(client, ticket):
    await client.get("/lacak")
    return await client.post("/lacak", data={"ticket": ticket, "_csrf_token": csrf(client)})


async def step(client, cid, **data):
    return await client.post(f"/admin/pengaduan/{cid}/langkah", data={**data, "_csrf_token": csrf(client)},
                             follow_redirects=False)


async def test_anonymous_complaint_from_filing_to_close(client):
    lks_id = await make_lks("Yayasan Diadukan")
    response = await file(client, files=[("attachment", ("bukti.png", PNG, "image/png"))], lks=str(lks_id))
    assert response.status_code == 200, response.text
    ticket = re.search(r'id="ticket">(JITU-[A-Z0-9]+)<', response.text).group(1)
    c = await Complaint.select().first()
    assert c["anonymous"] and c["complainant_name"] == "" and c["contact_cipher"] == "" and c["lks"] == lks_id
    assert await ComplaintFile.count() == 1
    tracked = await track(client, ticket)
    assert tracked.status_code == 200 and "Diterima" in tracked.text and "Yayasan Diadukan" not in tracked.text

    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    listing = await client.get("/admin/pengaduan")
    assert listing.status_code == 200 and f"/admin/pengaduan/{c['id']}" in listing.text
    detail = await client.get(f"/admin/pengaduan/{c['id']}")
    assert "Tanpa nama" in detail.text and "bukti.png" in detail.text
    refused = await step(client, c["id"], action="answer", text="Terlalu cepat dijawab")
    assert refused.status_code == 400 and (await Complaint.select().first())["status"] == "filed"
    assert (await step(client, c["id"], action="triage", category="pungutan")).status_code == 302
    bad_office = await step(client, c["id"], action="assign", assignee_kind="office", office="tidak-ada")
    assert bad_office.status_code == 400
    assert (await step(client, c["id"], action="assign", assignee_kind="office", office="kesehatan")).status_code == 302
    short = await step(client, c["id"], action="answer", text="ok")
    assert short.status_code == 400
    answer = "Petugas sudah diperiksa dan ditegur; bantuan Anda diberikan utuh bulan ini."
    assert (await step(client, c["id"], action="answer", text=answer)).status_code == 302
    assert (await step(client, c["id"], action="close")).status_code == 302
    c = await Complaint.select().first()
    assert c["status"] == "closed" and c["assignee_office"] == "kesehatan" and c["closed_at"] is not None
    assert [e["to_status"] for e in await ComplaintEvent.select().order_by(ComplaintEvent.id)] == [
        "filed", "triaged", "assigned", "answered", "closed"]
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.entity == "complaint").order_by(AuditEvent.id)]
    assert actions == ["complaint.filed", "complaint.triage", "complaint.assign", "complaint.answer",
                       "complaint.close"]
    lks_page = await client.get(f"/admin/lks/{lks_id}")
    assert 'id="lks-complaints"' in lks_page.text and "1 pengaduan" in lks_page.text

    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    tracked = await track(client, ticket)
    assert "Selesai" in tracked.text and answer in tracked.text and "Dinkes" in tracked.text
    assert "Petugas meminta uang" not in tracked.text  # the complaint's own text is not echoed publicly


async def test_named_complaint_keeps_contact_encrypted_for_dinsos_only(client):
    response = await file(client, anonymous="")
    assert response.status_code == 200
    c = await Complaint.select().first()
    assert not c["anonymous"] and c["complainant_name"] == "Ibu Rahasia" and "0812" not in c["contact_cipher"]
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    assert "081299998888" in (await client.get(f"/admin/pengaduan/{c['id']}")).text


async def test_bad_input_writes_nothing(client):
    bad = await file(client, files=[("attachment", ("x.pdf", b"not a pdf", "application/pdf"))])
    assert bad.status_code == 400 and "bukan PDF" in bad.text
    nameless = await file(client, anonymous="", name="")
    assert nameless.status_code == 400 and "Isi nama Anda" in nameless.text
    for over in ({"category": "x"}, {"description": "pendek"}, {"lks": "999999"}, {"kelurahan": "1"},
                 {"anonymous": "", "contact": "bukan kontak"}):
        assert (await file(client, **over)).status_code == 400, over
    assert await Complaint.count() == 0 and await ComplaintFile.count() == 0


async def test_only_dinsos_handles_complaints_and_guessed_ids_are_404(client):
    await file(client)
    c = await Complaint.select().first()
    await make_account("operator_kelurahan", "op")
    await login(client, "op")
    assert (await client.get("/admin/pengaduan")).status_code == 403
    assert (await client.get(f"/admin/pengaduan/{c['id']}")).status_code == 403
    assert (await step(client, c["id"], action="triage")).status_code == 403
    await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    assert (await client.get("/admin/pengaduan/99999")).status_code == 404
    assert (await client.get("/admin/pengaduan/99999999999")).status_code in (400, 404)
    assert (await step(client, 99999, action="triage")).status_code == 404
    assert (await client.get("/admin/pengaduan?setelah=99999999999999&lks=abc&status=x")).status_code == 200


async def test_requester_reports_a_recorded_delivery_never_arrived(client):
    w = await build(0)
    alloc = await add_allocation(w, need_status="delivered")
    ticket = "JITU-ABCDEFGHJK"
    await ServiceRequest.update({ServiceRequest.ticket_code: ticket}).where(ServiceRequest.id > 0)
    await Allocation.update({Allocation.status: "delivered"}).where(Allocation.id == alloc)
    await Delivery.insert(Delivery(allocation=alloc, delivered_on=clock.today(), what_given="Paket sembako",
                                   received_by="Ibu Siti"))
    tracked = await track(client, ticket)
    assert 'action="/lacak/belum-diterima"' in tracked.text
    response = await client.post("/lacak/belum-diterima", data={"ticket": ticket, "description": "Tidak ada yang "
                                                                "datang ke rumah.", "_csrf_token": csrf(client)})
    assert response.status_code == 200, response.text
    complaint_ticket = re.search(r'class="complaint-ticket">(JITU-[A-Z0-9]+)<', response.text).group(1)
    delivery = await Delivery.select().first()
    assert delivery["status"] == "disputed" and complaint_ticket in delivery["dispute_reason"]
    assert (await Allocation.select().where(Allocation.id == alloc).first())["status"] == "disputed"
    assert (await Need.select().first())["status"] == "delivered"
    c = await Complaint.select().first()
    assert c["delivery"] == delivery["id"] and c["category"] == "tidak_diterima" and c["lks"] == w.lks_id
    assert c["household"] == w.households[0]
    again = await client.post("/lacak/belum-diterima", data={"ticket": ticket, "_csrf_token": csrf(client)})
    assert again.status_code == 400 and await Complaint.count() == 1
    unknown = await client.post("/lacak/belum-diterima", data={"ticket": "JITU-2222222222",
                                                              "_csrf_token": csrf(client)})
    assert unknown.status_code == 400 and "Tidak ada penyaluran" in unknown.text
    assert "Diterima" in (await track(client, complaint_ticket)).text
    assert {"delivery.requester_dispute", "complaint.filed"} <= {
        r["action"] for r in await AuditEvent.select(AuditEvent.action)}


async def test_filing_is_rate_limited(client, rate_window_held):
    codes = [(await file(client)).status_code for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429 and await Complaint.count() == 10


async def _assigned(client, *, kind: str, office: str = "", lks_id: int | None = None, **over) -> tuple[dict, str]:
    """A named complaint filed, then triaged and passed on by Dinsos (logged in as ``admin`` afterwards);
    returns its row and ticket."""
    response = await file(client, anonymous="", **over)
    ticket = re.search(r'id="ticket">(JITU-[A-Z0-9]+)<', response.text).group(1)
    c = await Complaint.select().where(Complaint.ticket_code == ticket).first()
    if not await _has("admin"):
        await make_account("dinsos_admin", "admin")
    await login(client, "admin")
    assert (await step(client, c["id"], action="triage")).status_code == 302
    assign = {"assignee_kind": kind, "office": office, "lks": str(lks_id or ""),
              "text": "Mohon periksa petugas penyalur di kelurahan ini."}
    assert (await step(client, c["id"], action="assign", **assign)).status_code == 302
    return c, ticket


async def _has(username: str) -> bool:
    from storage.tables import Account

    return await Account.exists().where(Account.username == username)


async def answer(client, cid, text):
    return await client.post(f"/pengaduan-masuk/{cid}/jawab", data={"text": text, "_csrf_token": csrf(client)},
                             follow_redirects=False)


async def test_office_answers_the_complaint_passed_to_it_and_dinsos_closes(client):
    from storage.tables import Notification

    await make_account("office_staff", "dinkes", office_code="kesehatan")
    await make_account("office_staff", "disdik", office_code="pendidikan")
    c, ticket = await _assigned(client, kind="office", office="kesehatan")
    assert "Dinkes" in (await client.get(f"/admin/pengaduan/{c['id']}")).text
    dinkes_id = await login_id("dinkes")
    assert await Notification.exists().where((Notification.account == dinkes_id)
                                             & (Notification.link == f"/pengaduan-masuk/{c['id']}"))

    await login(client, "dinkes")
    listing = await client.get("/pengaduan-masuk")
    assert listing.status_code == 200 and f"/pengaduan-masuk/{c['id']}" in listing.text
    detail = await client.get(f"/pengaduan-masuk/{c['id']}")
    assert detail.status_code == 200 and "Petugas meminta uang" in detail.text
    assert "Mohon periksa petugas penyalur" in detail.text  # Dinsos's note reaches the office
    for secret in ("Ibu Rahasia", "081299998888", ticket):  # never who complained, nor the ticket
        assert secret not in detail.text and secret not in listing.text
    assert (await answer(client, c["id"], "pendek")).status_code == 400
    reply = "Petugas penyalur sudah kami periksa; potongan dikembalikan minggu ini."
    assert (await answer(client, c["id"], reply)).status_code == 302
    assert (await answer(client, c["id"], reply)).status_code == 400  # answered once; Dinsos decides next
    row = await Complaint.select().where(Complaint.id == c["id"]).first()
    assert row["status"] == "answered" and row["assignee_answer"] == reply and row["assignee_answered_by"] == dinkes_id
    audit = await AuditEvent.select().where(AuditEvent.action == "complaint.assignee_answer").first()
    assert audit["actor"] == "dinkes" and audit["entity_id"] == str(c["id"])

    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    tracked = await track(client, ticket)  # an answer came, but not yet its text: Dinsos reads it first
    assert "Dijawab Dinkes" in tracked.text and reply not in tracked.text and "diperiksa Dinas Sosial" in tracked.text

    await login(client, "admin")
    assert reply in (await client.get(f"/admin/pengaduan/{c['id']}")).text
    assert (await step(client, c["id"], action="close", text="x")).status_code == 400
    assert (await step(client, c["id"], action="close")).status_code == 302
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    tracked = await track(client, ticket)
    assert "Selesai" in tracked.text and reply in tracked.text

    await login(client, "dinkes")  # still in the office's list, closed, read only
    closed = await client.get(f"/pengaduan-masuk/{c['id']}")
    assert closed.status_code == 200 and 'action="/pengaduan-masuk' not in closed.text


async def login_id(username: str) -> int:
    from storage.tables import Account

    return int((await Account.select(Account.id).where(Account.username == username).first())["id"])


async def test_dinsos_may_replace_the_lks_answer_or_pass_the_complaint_on(client):
    lks_id = await make_lks("Yayasan Penyalur")
    await make_account("lks_staff", "staf-penyalur", lks_id=lks_id)
    c, ticket = await _assigned(client, kind="lks", lks_id=lks_id, lks=str(lks_id), category="tidak_diterima")
    await login(client, "staf-penyalur")
    assert f"/pengaduan-masuk/{c['id']}" in (await client.get("/pengaduan-masuk")).text
    assert (await answer(client, c["id"], "Paket sudah kami antar tanggal 3, diterima tetangga.")).status_code == 302

    await login(client, "admin")
    assert (await step(client, c["id"], action="assign", assignee_kind="dinsos")).status_code == 302
    await login(client, "staf-penyalur")  # passed on elsewhere: no longer the LKS's
    assert (await client.get(f"/pengaduan-masuk/{c['id']}")).status_code == 404
    assert (await answer(client, c["id"], "Jawaban setelah dialihkan.")).status_code == 404
    await login(client, "admin")
    assert (await step(client, c["id"], action="assign", assignee_kind="lks", lks=str(lks_id))).status_code == 302
    await login(client, "staf-penyalur")
    assert (await answer(client, c["id"], "Kami antar ulang paketnya besok pagi ke rumah.")).status_code == 302
    await login(client, "admin")
    final = "Paket diantar ulang oleh LKS; mohon kabari bila belum sampai."
    assert (await step(client, c["id"], action="close", text=final)).status_code == 302
    row = await Complaint.select().where(Complaint.id == c["id"]).first()
    assert row["answer"] == final and row["assignee_answer"].startswith("Kami antar ulang")
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    tracked = await track(client, ticket)
    assert final in tracked.text and "antar ulang paketnya" not in tracked.text


async def test_incoming_complaints_need_an_lks_staff_member_with_the_deliveries_right(client):
    """``/pengaduan-masuk`` opens for office staff and for an LKS's staff who record its deliveries; an
    LKS account with other rights only gets 403 (in Indonesian), every other role 403, a visitor log-in."""
    from marketplace.lks_team import DELIVERIES, LEDGER, OFFERS
    from portal.auth import NO_RIGHT
    from storage.lks_team.rights import as_columns
    from storage.tables import LksMember

    lks_id = await make_lks("Yayasan Penyalur")
    await make_account("lks_staff", "boss", lks_id=lks_id)  # the LKS's admin, every right
    kas = await make_account("lks_staff", "staf-kas", lks_id=lks_id)
    await LksMember.update(as_columns(frozenset({LEDGER, OFFERS}))).where(LksMember.account == kas)
    kurir = await make_account("lks_staff", "kurir", lks_id=lks_id)
    await LksMember.update(as_columns(frozenset({DELIVERIES}))).where(LksMember.account == kurir)
    c, _ = await _assigned(client, kind="lks", lks_id=lks_id, lks=str(lks_id), category="tidak_diterima")
    paths = ["/pengaduan-masuk", f"/pengaduan-masuk/{c['id']}"]

    await login(client, "staf-kas")
    for path in paths:
        refused = await client.get(path, follow_redirects=False)
        assert refused.status_code == 403 and NO_RIGHT[DELIVERIES] in refused.text, path
    assert (await answer(client, c["id"], "Jawaban dari staf tanpa hak penyaluran.")).status_code == 403
    assert "/pengaduan-masuk" not in (await client.get("/beranda")).text
    assert (await Complaint.select(Complaint.status).where(Complaint.id == c["id"]).first())["status"] == "assigned"

    await login(client, "kurir")
    assert f"/pengaduan-masuk/{c['id']}" in (await client.get("/pengaduan-masuk")).text
    assert "/pengaduan-masuk" in (await client.get("/beranda")).text
    assert (await answer(client, c["id"], "Paket sudah kami antar tanggal 3, diterima tetangga.")).status_code == 302

    for role in ("donor", "pekerja_sosial", "operator_kelurahan", "dpo", "dinsos_admin"):
        if not await _has(f"u-{role}"):
            await make_account(role, f"u-{role}")
        await login(client, f"u-{role}")
        for path in paths:
            assert (await client.get(path, follow_redirects=False)).status_code == 403, (role, path)
    await client.post("/keluar", data={"_csrf_token": csrf(client)})
    for path in paths:
        away = await client.get(path, follow_redirects=False)
        assert away.status_code == 302 and away.headers["location"].startswith("/masuk"), path

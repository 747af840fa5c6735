"""Periodic reports, the pause of offers and reminders in the portal: who may see and do what, the
Indonesian messages, English, photos with a report, the grace period Dinsos sets, the notification page
and the person's choices, and ``jitu reminders send``."""

from __future__ import annotations

import asyncio
from typing import Any

from click.testing import CliRunner

from marketplace.reminders import Kind
from portal.cli import cli
from storage.lks_reports import deadlines
from storage.tables import (
    AuditEvent,
    LksReport,
    LksReportPhoto,
    Notification,
    NotificationPreference,
    Offer,
    ReportPolicy,
)
from tests.dbutil import csrf, login, make_account
from tests.storage.test_lks_report_deadlines import _photo, late_lks

OFFER = {"title": "Dana", "period": "2026-12", "kind": "tunai", "offer_type": "funds", "areas": ["32.73.03"],
         "ppks": ["24"], "amount": "100.000"}


async def _logout(client: Any) -> None:
    await client.post("/keluar", data={"_csrf_token": csrf(client)})


async def test_a_late_lks_is_told_its_offers_are_paused_and_resumes_after_reporting(client):
    lks_id = await late_lks("Yayasan Lambat", months_ago=2)
    await make_account("lks_staff", "staf-lambat", lks_id=lks_id)
    await login(client, "staf-lambat")
    own = await client.get("/lks-saya/laporan")
    assert own.status_code == 200 and 'id="reports-paused"' in own.text and "Laporan yang belum dikirim" in own.text
    assert 'id="offers-paused"' in (await client.get("/lks-saya/penawaran")).text
    await client.get("/lks-saya/penawaran/baru")
    refused = await client.post("/lks-saya/penawaran/baru", data={**OFFER, "_csrf_token": csrf(client)})
    assert refused.status_code == 400 and "Penawaran baru LKS ini dihentikan sementara" in refused.text
    assert await Offer.count() == 0

    missing = (await deadlines.standing_of(lks_id)).missing
    for i, m in enumerate(missing):
        data = {"period": m.period, "delivered_summary": "Sembako tersalurkan ke 10 keluarga.",
                "not_delivered": "Dua keluarga pindah.", "balance_confirmed": "on", "fund_balance_seen": "0",
                "photo_consent": "on", "_csrf_token": csrf(client)}
        files = {"photos": ("kegiatan.jpg", _photo(), "image/jpeg")} if i == 0 else None
        sent = await client.post("/lks-saya/laporan", data=data, files=files, follow_redirects=False)
        assert sent.status_code in (302, 303), sent.text
    assert await LksReportPhoto.count() == 1
    page = await client.get("/lks-saya/laporan?terkirim=1")
    assert "Laporan terkirim" in page.text and 'id="reports-paused"' not in page.text
    created = await client.post("/lks-saya/penawaran/baru", data={**OFFER, "_csrf_token": csrf(client)},
                                follow_redirects=False)
    assert created.status_code in (302, 303) and await Offer.count() == 1


async def test_report_form_errors_are_indonesian_and_change_nothing(client):
    lks_id = await late_lks(months_ago=1)
    await make_account("lks_staff", "staf-salah", lks_id=lks_id)
    await login(client, "staf-salah")
    await client.get("/lks-saya/laporan")
    base = {"period": "2026-10", "delivered_summary": "Sembako.", "balance_confirmed": "on", "fund_balance_seen": "0",
            "_csrf_token": csrf(client)}
    no_consent = await client.post("/lks-saya/laporan", data=base,
                                   files={"photos": ("a.jpg", _photo(), "image/jpeg")})
    assert no_consent.status_code == 400 and "tidak menampilkan wajah" in no_consent.text
    fake = await client.post("/lks-saya/laporan", data={**base, "photo_consent": "on"},
                             files={"photos": ("a.jpg", b"<svg onload=alert(1)>", "image/jpeg")})
    assert fake.status_code == 400 and "bukan foto JPEG, PNG atau WebP" in fake.text
    stale = await client.post("/lks-saya/laporan", data={**base, "fund_balance_seen": "999"})
    assert stale.status_code == 400 and "Saldo kas di buku kas LKS berubah" in stale.text
    too_many = await client.post("/lks-saya/laporan", data={**base, "photo_consent": "on"},
                                 files=[("photos", (f"{i}.jpg", _photo(), "image/jpeg")) for i in range(4)])
    assert too_many.status_code == 400 and "Paling banyak 3 foto" in too_many.text
    assert await LksReport.count() == 0 and await LksReportPhoto.count() == 0


async def test_dinsos_sees_late_lks_sets_the_grace_period_and_decides(client):
    lks_id = await late_lks("Yayasan Terlambat", months_ago=4)  # 2026-10 is sent, earlier months are not
    staff = await make_account("lks_staff", "staf-t", lks_id=lks_id)
    await make_account("dinsos_admin", "admin-t")
    await login(client, "staf-t")
    assert (await client.get("/admin/laporan-lks")).status_code == 403
    await client.get("/lks-saya/laporan")
    assert (await client.post("/admin/laporan-lks/tenggang", data={"grace_days": "1", "_csrf_token": csrf(client)}
                              )).status_code == 403
    await client.post("/lks-saya/laporan", data={
        "period": "2026-10", "delivered_summary": "Sembako tersalurkan.", "balance_confirmed": "on",
        "fund_balance_seen": "0", "_csrf_token": csrf(client)})
    await _logout(client)

    await login(client, "admin-t")
    review = await client.get("/admin/laporan-lks")
    assert review.status_code == 200 and 'id="reports-late"' in review.text and "Yayasan Terlambat" in review.text
    assert "Dihentikan sementara" in review.text
    command = await client.get("/pusat-komando")
    assert "LKS dengan laporan berkala terlambat" in command.text
    bad = await client.post("/admin/laporan-lks/tenggang", data={"grace_days": "abc", "_csrf_token": csrf(client)})
    assert bad.status_code == 400 and "Masa tenggang harus bilangan bulat 0 sampai 90 hari." in bad.text
    ok = await client.post("/admin/laporan-lks/tenggang", data={"grace_days": "30", "_csrf_token": csrf(client)},
                           follow_redirects=False)
    assert ok.status_code in (302, 303)
    assert (await ReportPolicy.select(ReportPolicy.grace_days).first())["grace_days"] == 30
    assert await AuditEvent.count().where(AuditEvent.action == "report_policy.update") == 1

    report_id = (await LksReport.select(LksReport.id).first())["id"]
    returned = await client.post(f"/admin/laporan-lks/{report_id}/keputusan", data={
        "action": "return", "note": "Tambahkan jumlah keluarga.", "_csrf_token": csrf(client)}, follow_redirects=False)
    assert returned.status_code in (302, 303)
    assert (await LksReport.select(LksReport.status).first())["status"] == "rejected"
    notice = await Notification.select().where((Notification.account == staff) & (Notification.kind == Kind.DECISION)
                                               ).first()
    assert notice is not None and "Tambahkan jumlah keluarga." in notice["message"]
    await _logout(client)
    await login(client, "staf-t")
    listing = await client.get("/pemberitahuan")
    assert listing.status_code == 200 and "Tambahkan jumlah keluarga." in listing.text
    assert await Notification.count().where(Notification.read_at.is_null() & (Notification.account == staff)) == 0


async def test_notification_choices_page_saves_and_refuses_unknown_choices(client):
    account = await make_account("donor", "donatur-pilih")
    assert (await client.get("/pemberitahuan/pilihan", follow_redirects=False)).status_code in (302, 303, 401)
    await login(client, "donatur-pilih")
    form = await client.get("/pemberitahuan/pilihan")
    assert form.status_code == 200 and 'value="decision:email"' in form.text and "checked" in form.text
    saved = await client.post("/pemberitahuan/pilihan", data={"choice": ["decision:portal", "report_due:email"],
                                                              "_csrf_token": csrf(client)}, follow_redirects=False)
    assert saved.status_code in (302, 303)
    rows = {r["kind"]: (r["portal"], r["email"]) for r in await NotificationPreference.select().where(
        NotificationPreference.account == account)}
    assert rows[Kind.DECISION] == (True, False) and rows[Kind.DELIVERY_DUE] == (False, False)
    bad = await client.post("/pemberitahuan/pilihan", data={"choice": ["decision:sms"], "_csrf_token": csrf(client)})
    assert bad.status_code == 400 and "Pilihan pemberitahuan tidak dikenal." in bad.text
    assert (await client.get("/pemberitahuan/pilihan?tersimpan=1")).text.count("Pilihan pemberitahuan tersimpan") == 1
    await client.post("/bahasa", data={"lang": "en", "next": "/pemberitahuan/pilihan", "_csrf_token": csrf(client)})
    english = await client.get("/pemberitahuan/pilihan")
    assert "Choose the notifications you receive" in english.text and "Deliveries due within three days" in english.text


async def test_approved_report_photos_are_public_without_personal_data(client):
    lks_id = await late_lks("Yayasan Terbuka", months_ago=1)
    await make_account("lks_staff", "staf-o", lks_id=lks_id)
    await make_account("dinsos_admin", "admin-o")
    await login(client, "staf-o")
    await client.get("/lks-saya/laporan")
    await client.post("/lks-saya/laporan", data={
        "period": "2026-10", "delivered_summary": "Paket sembako untuk lansia.", "balance_confirmed": "on",
        "fund_balance_seen": "0", "photo_consent": "on", "_csrf_token": csrf(client)},
        files={"photos": ("a.jpg", _photo(), "image/jpeg")})
    await _logout(client)
    public = await client.get(f"/lks/{lks_id}")
    assert "Paket sembako untuk lansia." not in public.text  # not approved yet
    await login(client, "admin-o")
    report_id = (await LksReport.select(LksReport.id).first())["id"]
    await client.post(f"/admin/laporan-lks/{report_id}/keputusan",
                      data={"action": "approve", "_csrf_token": csrf(client)})
    await _logout(client)
    public = await client.get(f"/lks/{lks_id}")
    assert "Paket sembako untuk lansia." in public.text and "Foto 1" in public.text
    photo_url = public.text.split('Foto 1')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    photo = await client.get(photo_url)
    assert photo.status_code == 200 and photo.content.startswith(b"\xff\xd8")


async def test_jitu_reminders_send_twice_sends_once(client):
    lks_id = await late_lks(months_ago=2)
    await make_account("lks_staff", "staf-cli", lks_id=lks_id)
    runner = CliRunner()
    first = await asyncio.to_thread(runner.invoke, cli, ["reminders", "send"])
    assert first.exit_code == 0, first.output
    assert "Laporan berkala yang jatuh tempo atau terlambat: 0 orang" not in first.output
    second = await asyncio.to_thread(runner.invoke, cli, ["reminders", "send"])
    assert second.exit_code == 0 and "Laporan berkala yang jatuh tempo atau terlambat: 0 orang" in second.output


async def test_reports_need_the_ledger_right(client):
    from storage.tables import LksMember

    lks_id = await late_lks(months_ago=1)
    await make_account("lks_staff", "staf-utama", lks_id=lks_id)
    courier = await make_account("lks_staff", "staf-kurir", lks_id=lks_id)
    await LksMember.update({LksMember.ledger: False}).where(LksMember.account == courier)
    await login(client, "staf-kurir")
    refused = await client.get("/lks-saya/laporan")
    assert refused.status_code == 403
    assert "/lks-saya/laporan" not in (await client.get("/beranda")).text

"""Referrals through the real database: the loop, office isolation, least data and the access log."""

from datetime import date, timedelta

import pytest

from marketplace import clock
from marketplace.identity import make_kk, make_nik
from marketplace.referrals import ReferralError
from storage import registry
from storage.accounts import load_user
from storage.referrals import service as referrals
from storage.tables import AuditEvent, DataAccess, Need, Notification, Referral
from tests.dbutil import make_account

KK = make_kk("32.73.03", date(2021, 1, 1), 7)
NIK = make_nik("32.73.03", date(1985, 3, 4), "P", 7)


async def _need(status="verified"):
    op = await load_user(await make_account("operator_kelurahan", "op"))
    applicant = registry.Applicant(KK, NIK, "Ibu Sari", date(1985, 3, 4), "P", "32.73.03.1001", "Jl. Kenanga 7",
                                   "01", "02", "08123")
    need_id, ticket = await registry.register_request(op, applicant, registry.NeedInput([24], "kesehatan", 900_000))
    chain = {"submitted": [], "assessed": ["assessed"], "verified": ["assessed", "verified"]}[status]
    for s in chain:
        await registry.transition_need(need_id, s, "uji")
    return need_id, ticket


async def _users():
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    dinkes = await load_user(await make_account("office_staff", "dinkes", office_code="kesehatan"))
    disdik = await load_user(await make_account("office_staff", "disdik", office_code="pendidikan"))
    return peksos, dinkes, disdik


async def test_referral_loop_accepted_completed_and_tracking_shows_it(db):
    need_id, ticket = await _need()
    peksos, dinkes, _ = await _users()
    rid = await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis, tanpa BPJS")
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "referred"
    assert await Notification.exists().where(Notification.account == dinkes.id)
    assert await referrals.act(dinkes, rid, "accept") == "accepted"
    assert await referrals.act(dinkes, rid, "complete", text="Terdaftar PBI JK", resolution="close") == "completed"
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "resolved"
    timeline = await registry.track(ticket)
    notes = [e["public_note"] for e in timeline[0].events]
    assert "Rujukan diterima Dinkes dan sedang ditangani" in notes
    assert notes[-1] == "Selesai ditangani Dinkes; kebutuhan Anda dinyatakan selesai"
    assert timeline[0].status == "resolved"
    assert not any("Terdaftar PBI JK" in n or "Ibu Sari" in n for n in notes)
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.entity == "referral").order_by(AuditEvent.id)]  # in the order they happened, not heap order
    assert actions == ["referral.create", "referral.accept", "referral.complete"]
    assert await Notification.exists().where(Notification.account == peksos.id)


async def test_other_offices_see_nothing_even_with_guessed_ids(db):
    need_id, _ = await _need()
    peksos, dinkes, disdik = await _users()
    rid = await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis")
    rows, _ = await referrals.list_referrals(disdik, referrals.ReferralFilter())
    assert rows == []
    assert (await referrals.counts(disdik))["sent"] == 0
    for guess in (rid, rid + 1, 0, -1, 2**31):
        with pytest.raises(referrals.NotFound):
            await referrals.detail(disdik, guess)
        with pytest.raises(referrals.NotFound):
            await referrals.act(disdik, guess, "accept")
    with pytest.raises(referrals.NotFound):  # the referrer cannot act as the office
        await referrals.act(peksos, rid, "accept")
    with pytest.raises(referrals.NotFound):  # and the office cannot answer for Dinsos
        await referrals.act(dinkes, rid, "answer", text="jawab")
    assert not await DataAccess.exists().where(DataAccess.username == "disdik")
    assert (await Referral.select(Referral.status).first())["status"] == "sent"
    rows, _ = await referrals.list_referrals(dinkes, referrals.ReferralFilter())
    assert [r["id"] for r in rows] == [rid]


async def test_office_sees_only_the_shared_data_and_each_view_is_logged(db):
    need_id, _ = await _need()
    peksos, dinkes, _ = await _users()
    rid = await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis",
                                     shared=["name", "nik"])
    d = await referrals.detail(dinkes, rid)
    assert d["person"] == {"name": "Ibu Sari", "nik": NIK}
    assert "address" not in d["person"] and "phone" not in d["person"]
    logged = await DataAccess.select().where(DataAccess.username == "dinkes")
    assert len(logged) == 1 and logged[0]["household_id"] == d["household_id"] and f"#{rid}" in logged[0]["purpose"]
    await referrals.detail(dinkes, rid)
    assert await DataAccess.count().where(DataAccess.username == "dinkes") == 2


async def test_returned_and_pooled_referrals_send_the_need_back(db):
    need_id, _ = await _need("assessed")
    peksos, dinkes, _ = await _users()
    rid = await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis")
    assert await referrals.act(dinkes, rid, "return", text="Sudah punya BPJS mandiri") == "returned"
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "assessed"
    await registry.transition_need(need_id, "verified", "uji")
    rid2 = await referrals.refer_need(peksos, need_id, "kesehatan", "Bantu iuran", "Tunggakan BPJS")
    await referrals.act(dinkes, rid2, "accept")
    await referrals.act(dinkes, rid2, "complete", text="Iuran dibayar 3 bulan", resolution="pool")
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "verified"
    with pytest.raises(ReferralError, match="tidak dapat"):
        await referrals.act(dinkes, rid2, "accept")


async def test_info_request_pauses_the_service_level_and_overdue_is_flagged(db):
    need_id, _ = await _need()
    peksos, dinkes, _ = await _users()
    start = clock.today() - timedelta(days=20)
    rid = await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis", today=start)
    due = (await Referral.select(Referral.due_on).first())["due_on"]
    assert due == start + timedelta(days=7)
    assert (await referrals.counts(dinkes))["overdue"] == 1
    rows, _ = await referrals.list_referrals(peksos, referrals.ReferralFilter(overdue=True))
    assert rows[0]["overdue"] and rows[0]["id"] == rid
    await referrals.act(dinkes, rid, "ask_info", text="Mohon surat keterangan dokter")
    await referrals.act(peksos, rid, "answer", text="Terlampir", today=clock.today() + timedelta(days=2))
    assert (await Referral.select(Referral.due_on, Referral.status).first()) == {
        "due_on": due + timedelta(days=2), "status": "sent"}


async def test_refusals_write_nothing(db):
    need_id, _ = await _need()
    peksos, dinkes, _ = await _users()
    for kwargs in ({"office_code": "bulan"}, {"what_needed": ""}, {"evidence": [99]}):
        args = {"office_code": "kesehatan", "what_needed": "Daftarkan PBI", "reason": "Sakit kronis", **kwargs}
        with pytest.raises(ReferralError):
            await referrals.refer_need(peksos, need_id, args["office_code"], args["what_needed"], args["reason"],
                                       evidence=args.get("evidence"))
    with pytest.raises(ReferralError):
        await referrals.refer_need(dinkes, need_id, "kesehatan", "Daftarkan PBI", "Sakit kronis")
    assert await Referral.count() == 0
    assert (await Need.select(Need.status).where(Need.id == need_id).first())["status"] == "verified"


async def test_keyset_pages_and_service_level_edit(db):
    peksos, dinkes, _ = await _users()
    admin = await load_user(await make_account("dinsos_admin", "admin"))
    op = await load_user(await make_account("operator_kelurahan", "op"))
    ids = []
    for i in range(5):
        kk = make_kk("32.73.03", date(2021, 1, 1), 100 + i)
        nik = make_nik("32.73.03", date(1980, 1, 1), "L", 100 + i)
        need_id, _ = await registry.register_request(op, registry.Applicant(
            kk, nik, f"Warga {i}", date(1980, 1, 1), "L", "32.73.03.1001", "Jl. X"),
            registry.NeedInput([24], "kesehatan", 100_000))
        ids.append(await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI", "Sakit kronis"))
    page1, nxt = await referrals.list_referrals(dinkes, referrals.ReferralFilter(), limit=3)
    page2, end = await referrals.list_referrals(dinkes, referrals.ReferralFilter(), after=nxt, limit=3)
    assert [r["id"] for r in page1 + page2] == ids and end is None
    await referrals.set_service_days(admin, "kesehatan", 10)
    assert [o["service_days"] for o in await referrals.list_offices() if o["code"] == "kesehatan"] == [10]
    with pytest.raises(ReferralError):
        await referrals.set_service_days(admin, "kesehatan", 0)
    with pytest.raises(ReferralError):
        await referrals.set_service_days(peksos, "kesehatan", 5)


async def test_demo_referrals_show_the_loop_once(db):
    from storage.referrals.demo import ensure_demo_referrals

    for i in range(6):
        await _need_n(i)
    await make_account("office_staff", "dinkes", office_code="kesehatan")
    assert await ensure_demo_referrals("32.73.03.1001") == 5
    assert await ensure_demo_referrals("32.73.03.1001") == 0
    statuses = sorted(r["status"] for r in await Referral.select(Referral.status))
    assert statuses == ["accepted", "completed", "sent", "sent", "sent"]
    peksos = await load_user(await make_account("pekerja_sosial", "peksos"))
    assert (await referrals.counts(peksos))["overdue"] == 1


async def _need_n(i):
    op = await load_user(await make_account("operator_kelurahan", f"op{i}"))
    kk = make_kk("32.73.03", date(2021, 1, 1), 200 + i)
    nik = make_nik("32.73.03", date(1980, 1, 1), "L", 200 + i)
    need_id, _ = await registry.register_request(op, registry.Applicant(
        kk, nik, f"Warga {i}", date(1980, 1, 1), "L", "32.73.03.1001", "Jl. X"),
        registry.NeedInput([24], "kesehatan", 100_000))
    await registry.transition_need(need_id, "assessed", "uji")
    return need_id


async def test_counts_are_bounded_and_scoped(db, monkeypatch):
    """Each status count stops at the bound (then says "more than"); an office counts only its own."""
    peksos, dinkes, disdik = await _users()
    need_id, _ = await _need()
    await referrals.refer_need(peksos, need_id, "kesehatan", "Daftarkan PBI JK", "Sakit kronis")
    await Referral.insert(*[Referral(need=need_id, office="kesehatan", status="completed") for _ in range(3)])
    monkeypatch.setattr(referrals, "EXACT_UP_TO", 2)
    mine = await referrals.counts(peksos)
    assert mine["sent"] == 1 and not mine["sent"].at_least
    assert mine["completed"] == 2 and mine["completed"].at_least
    assert mine["accepted"] == 0 and mine["overdue"] == 0
    assert (await referrals.counts(dinkes))["completed"].at_least
    assert (await referrals.counts(disdik))["completed"] == 0

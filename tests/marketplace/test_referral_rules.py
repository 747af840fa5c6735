"""The referral state machine and least-data rules, without a database."""

from datetime import date

import pytest

from marketplace import referrals as r
from marketplace.needs import REFERRAL_OFFICES, check_transition
from marketplace.referrals import ReferralError


def test_offices_cover_the_one_door_and_the_need_codes():
    shorts = {o.short_name for o in r.OFFICES}
    assert {"Dinkes", "DP3A", "Disdukcapil", "Disperkim", "Disnaker", "Dishub", "Disdik"} <= shorts
    assert set(REFERRAL_OFFICES) == set(r.OFFICE_BY_CODE)
    assert all(o.shares <= set(r.SHAREABLE) and o.service_days > 0 for o in r.OFFICES)


def test_new_referral_checks_and_defaults_to_the_office_least_data():
    new = r.check_new("dukcapil", "Perbaikan KK", "Nama salah di KK", None, [], set(), "verified")
    assert set(new.shared) == set(r.OFFICE_BY_CODE["dukcapil"].shares) and "phone" not in new.shared
    chosen = r.check_new("kesehatan", "BPJS PBI", "Sakit kronis", ["name"], [3], {3, 4}, "assessed")
    assert chosen.shared == ("name",) and chosen.evidence == (3,)
    for args, message in [
        (("bulan", "Perbaikan KK", "alasan x", None, [], set(), "verified"), "instansi"),
        (("dukcapil", "x", "alasan x", None, [], set(), "verified"), "dibutuhkan"),
        (("dukcapil", "Perbaikan KK", "", None, [], set(), "verified"), "alasan"),
        (("dukcapil", "Perbaikan KK", "alasan x", ["nik", "gaji"], [], set(), "verified"), "tidak dikenal"),
        (("dukcapil", "Perbaikan KK", "alasan x", None, [9], {3}, "verified"), "Berkas"),
        (("dukcapil", "Perbaikan KK", "alasan x", None, [], set(), "matched"), "belum dipasangkan"),
    ]:
        with pytest.raises(ReferralError, match=message):
            r.check_new(*args)


def test_the_loop_accept_ask_answer_complete():
    s = r.step("sent", "accept")
    assert s.to_status == "accepted" and s.need_to == ""
    s = r.step("accepted", "ask_info", text="Mohon fotokopi KTP")
    assert s.to_status == "info_requested"
    assert r.step("info_requested", "answer", text="Sudah dikirim", accepted=True).to_status == "accepted"
    assert r.step("info_requested", "answer", text="Sudah dikirim", accepted=False).to_status == "sent"
    done = r.step("accepted", "complete", text="Didaftarkan PBI JK", resolution="close")
    assert (done.to_status, done.need_to) == ("completed", "resolved")
    pool = r.step("accepted", "complete", text="Sebagian saja", resolution="pool", need_before="verified")
    assert pool.need_to == "verified"
    back = r.step("sent", "return", text="Bukan kewenangan kami", need_before="assessed")
    assert (back.to_status, back.need_to) == ("returned", "assessed")


@pytest.mark.parametrize(("status", "action", "kwargs", "message"), [
    ("sent", "complete", {"text": "selesai", "resolution": "close"}, "tidak dapat"),
    ("completed", "accept", {}, "tidak dapat"),
    ("returned", "return", {"text": "lagi lagi"}, "tidak dapat"),
    ("accepted", "accept", {}, "tidak dapat"),
    ("sent", "answer", {"text": "jawab"}, "tidak dapat"),
    ("accepted", "complete", {"text": "x", "resolution": "close"}, "apa yang sudah"),
    ("accepted", "complete", {"text": "Didaftarkan", "resolution": ""}, "Pilih"),
    ("accepted", "return", {"text": ""}, "alasan"),
    ("sent", "ask_info", {"text": "?"}, "keterangan"),
    ("sent", "terbang", {}, "tidak dikenal"),
])
def test_illegal_steps_are_refused(status, action, kwargs, message):
    with pytest.raises(ReferralError, match=message):
        r.step(status, action, **kwargs)


def test_need_statuses_follow_the_referral():
    for target in ("resolved", "verified", "assessed", "submitted"):
        assert check_transition("referred", target).to_status == target


def test_service_level_overdue_and_pause():
    due = r.due_on(date(2026, 11, 1), 7)
    assert due == date(2026, 11, 8)
    assert not r.is_overdue("sent", due, date(2026, 11, 8))
    assert r.is_overdue("accepted", due, date(2026, 11, 9))
    assert not r.is_overdue("completed", due, date(2026, 12, 9))
    assert r.extended_due(due, date(2026, 11, 3), date(2026, 11, 6)) == date(2026, 11, 11)
    with pytest.raises(ReferralError):
        r.check_service_days(0)
    assert r.check_service_days(30) == 30


def test_public_notes_are_plain_words_without_free_text():
    notes = [r.public_note(a, "Dinkes", res) for a, res in
             [("accept", ""), ("ask_info", ""), ("answer", ""), ("complete", "close"), ("complete", "pool"),
              ("return", "")]]
    assert all("Dinkes" in n for n in notes)
    assert len(set(notes)) == len(notes)


def test_only_an_open_referral_is_withdrawn():
    for status in ("sent", "accepted", "info_requested"):
        r.check_withdrawal(status)
    for status in ("completed", "returned", "withdrawn"):
        with pytest.raises(r.ReferralError):
            r.check_withdrawal(status)
    assert r.label("withdrawn") == "Dihentikan: persetujuan dicabut pemohon"
    assert not r.is_overdue("withdrawn", date(2020, 1, 1), date(2026, 1, 1))

import pytest

from marketplace import complaints as c
from marketplace.delivery import DeliveryError, requester_reports_missing

KEL = {"32.73.03.1001"}


def test_anonymous_drops_name_and_contact():
    data = c.parse_complaint({"category": "pungutan", "description": "x" * 30, "anonymous": "1", "name": "Budi",
                              "contact": "0812"}, KEL, set())
    assert data.anonymous and data.name == "" and data.contact == "" and data.lks_id is None


def test_named_contact_is_phone_or_email():
    ok = c.parse_complaint({"category": "lainnya", "description": "x" * 30, "name": "Budi", "contact": "b@x.id"},
                           KEL, {3})
    assert ok.contact == "b@x.id"
    with pytest.raises(c.ComplaintInvalid) as exc:
        c.parse_complaint({"category": "lainnya", "description": "x" * 30, "name": "Budi", "contact": "abc"}, KEL, {3})
    assert "contact" in exc.value.errors


def test_the_state_machine_walks_and_refuses():
    s = c.step("filed", "triage")
    assert s.to_status == "triaged"
    with pytest.raises(c.ComplaintError):
        c.step("filed", "answer", text="jawaban panjang")
    a = c.step("triaged", "assign", assignee_kind="lks", lks_id=4, known_lks={4})
    assert a.assignee_lks == 4 and "LKS" in a.public_note
    with pytest.raises(c.ComplaintError):
        c.step("triaged", "assign", assignee_kind="lks", lks_id=5, known_lks={4})
    assert c.step("assigned", "answer", text="Sudah ditindaklanjuti.").to_status == "answered"
    assert c.step("answered", "assign", assignee_kind="dinsos").to_status == "assigned"  # reopened
    assert c.step("answered", "close").to_status == "closed"
    with pytest.raises(c.ComplaintError):
        c.step("triaged", "close", text="")  # closing unanswered needs a reason for the complainant
    with pytest.raises(c.ComplaintError):
        c.step("closed", "triage")
    with pytest.raises(c.ComplaintError):
        c.step("filed", "hapus")


def test_requester_reports_only_a_recorded_delivery():
    assert requester_reports_missing("recorded") == "disputed"
    for status in ("disputed", "confirmed"):
        with pytest.raises(DeliveryError):
            requester_reports_missing(status)


def test_dinsos_is_an_assignee_not_an_office():
    with pytest.raises(c.ComplaintError):
        c.step("triaged", "assign", assignee_kind="office", office="dinsos")
    assert c.step("triaged", "assign", assignee_kind="office", office="pppa").assignee_office == "pppa"


def test_the_assignee_answers_and_dinsos_has_the_last_word():
    s = c.assignee_step("assigned", "Sudah kami periksa di lapangan.", "office", "kesehatan")
    assert s.to_status == "answered" and s.public_note == "Dijawab Dinkes; jawaban diperiksa Dinas Sosial"
    assert "LKS" in c.assignee_step("assigned", "Sudah kami antar ulang.", "lks").public_note
    for status, kind, text in (("answered", "office", "Jawaban kedua kali."), ("assigned", "dinsos", "Jawaban."),
                               ("assigned", "lks", "pendek"), ("closed", "lks", "Jawaban setelah tutup.")):
        with pytest.raises(c.ComplaintError):
            c.assignee_step(status, text, kind, "kesehatan")
    assert c.step("assigned", "assign", assignee_kind="dinsos").to_status == "assigned"  # an unanswered one moves on
    with pytest.raises(c.ComplaintError):
        c.step("answered", "close", text="ok")  # a final answer replacing the assignee's is a real answer
    assert c.step("answered", "close", text="Jawaban akhir Dinas Sosial.").text == "Jawaban akhir Dinas Sosial."
    # the complainant reads an office's or LKS's answer only once Dinsos has closed the complaint
    assert c.public_answer("answered", "Jawaban", answered_by_assignee=True) == ""
    assert c.public_answer("answered", "Jawaban", answered_by_assignee=False) == "Jawaban"
    assert c.public_answer("closed", "Jawaban", answered_by_assignee=True) == "Jawaban"
    assert c.public_answer("assigned", "Jawaban lama", answered_by_assignee=False) == ""

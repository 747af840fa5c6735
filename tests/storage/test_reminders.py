"""Reminders: deliveries due in three days and overdue, reports due and late, Dinsos's decisions; each
sent once however often the run goes; each person's choices honoured; e-mail through a real SMTP server
(aiosmtpd on a local port), and a dead SMTP server never undoes the notifications."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from marketplace import clock
from marketplace.lks_reports import ReportInput
from marketplace.reminders import Choice, Kind, choices
from marketplace.settings import Settings
from storage import approval, lks_reports, reminders
from storage.jobs import InProcessQueue, wait_for
from storage.tables import Account, Allocation, AuditEvent, Notification, ReminderSent
from tests.dbutil import make_account
from tests.storage.test_approval import build
from tests.storage.test_lks_report_deadlines import late_lks


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Settings]]:
    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="jitu@dinsos.test")
    finally:
        controller.stop()


async def _staff(lks_id: int, name: str, email: str) -> int:
    account = await make_account("lks_staff", name, lks_id=lks_id)
    await Account.update({Account.email: email}).where(Account.id == account)
    return account


async def _approved(w, deliver_by: date) -> None:
    await Allocation.update({Allocation.status: "approved", Allocation.deliver_by: deliver_by}).where(
        Allocation.id.is_in(w.allocations))


async def test_deliveries_due_and_overdue_are_reminded_once_each(db, smtp):
    inbox, settings = smtp
    today = clock.today()
    w = await build(3)
    a, b = await _staff(w.lks_id, "staf-a", "a@lks.test"), await _staff(w.lks_id, "staf-b", "b@lks.test")
    await Allocation.update({Allocation.status: "approved", Allocation.deliver_by: today + timedelta(days=2)}).where(
        Allocation.id.is_in(w.allocations[:2]))
    await Allocation.update({Allocation.status: "approved", Allocation.deliver_by: today - timedelta(days=1)}).where(
        Allocation.id == w.allocations[2])

    first = await reminders.send_due(settings=settings)
    assert first.notified[Kind.DELIVERY_DUE] == 2 and first.notified[Kind.DELIVERY_OVERDUE] == 2
    notes = await Notification.select().where(Notification.account == a).order_by(Notification.id)
    assert {n["kind"] for n in notes} == {Kind.DELIVERY_DUE, Kind.DELIVERY_OVERDUE}
    assert any("2 penyaluran jatuh tempo" in n["message"] for n in notes)
    assert first.emailed == 4 and len(inbox.messages) == 4
    assert {m["To"] for m in inbox.messages} == {"a@lks.test", "b@lks.test"}
    assert all("tidak memuat data pribadi" in m.get_payload() for m in inbox.messages)
    assert await ReminderSent.count().where(ReminderSent.emailed_at.is_null()) == 0

    again = await reminders.send_due(settings=settings)  # a second run sends nothing new
    assert sum(again.notified.values()) == 0 and again.emailed == 0 and len(inbox.messages) == 4
    assert await Notification.count().where(Notification.account.is_in([a, b])) == 4


async def test_each_person_chooses_what_they_receive_and_how(db, smtp):
    inbox, settings = smtp
    w = await build(1)
    await _approved(w, clock.today() + timedelta(days=1))
    quiet = await _staff(w.lks_id, "staf-sepi", "sepi@lks.test")
    mail_only = await _staff(w.lks_id, "staf-surel", "surel@lks.test")
    await reminders.save_preferences(quiet, {**choices({}), Kind.DELIVERY_DUE: Choice(False, False)}, "staf-sepi")
    await reminders.save_preferences(mail_only, {**choices({}), Kind.DELIVERY_DUE: Choice(False, True)}, "staf-surel")
    assert (await reminders.preferences(quiet))[Kind.DELIVERY_DUE] == Choice(False, False)
    assert await AuditEvent.count().where(AuditEvent.action == "notification_preference.update") == 2

    await reminders.send_due(settings=settings)
    assert await Notification.count().where(Notification.account.is_in([quiet, mail_only])) == 0
    assert [m["To"] for m in inbox.messages] == ["surel@lks.test"]
    # turning portal notices of decisions off also hides the LKS-wide ones of that kind
    await Notification.insert(Notification(lks=w.lks_id, message="Alokasi disetujui", kind=Kind.DECISION),
                              Notification(lks=w.lks_id, message="Alokasi dibatalkan"))
    await reminders.save_preferences(quiet, {**choices({}), Kind.DECISION: Choice(False, True)}, "staf-sepi")
    rows, total = await reminders.notifications_for(quiet, w.lks_id)
    assert [r["message"] for r in rows] == ["Alokasi dibatalkan"] and total == 1
    # and an e-mail about an allocation decision no longer goes to the person who declined it
    await reminders.save_preferences(mail_only, {**choices({}), Kind.DECISION: Choice(True, False)}, "staf-surel")
    _name, to = await approval.lks_recipients(w.lks_id)
    assert "surel@lks.test" not in to and "sepi@lks.test" in to


async def test_reports_due_overdue_and_paused_reach_the_lks_and_dinsos_once(db):
    lks_id = await late_lks(months_ago=2)
    staff = await _staff(lks_id, "staf-lapor", "")
    admin = await make_account("dinsos_admin", "admin-lapor")
    tally = await reminders.send_due(settings=Settings(smtp_host=""))
    assert tally.notified[Kind.REPORT_DUE] >= 2 and tally.emailed == 0
    mine = [n["message"] for n in await Notification.select().where(Notification.account == staff)]
    assert any("penawaran baru LKS dihentikan sementara" in m for m in mine)
    assert any("Yayasan Lambat" in n["message"] for n in await Notification.select().where(
        Notification.account == admin))
    before = await Notification.count()
    await reminders.send_due(settings=Settings(smtp_host=""))
    assert await Notification.count() == before


async def test_a_decision_on_a_report_is_sent_once_even_if_the_run_follows(db, smtp):
    inbox, settings = smtp
    lks_id = await late_lks(months_ago=1)
    staff = await _staff(lks_id, "staf-putusan", "putusan@lks.test")
    report_id = await lks_reports.submit(lks_id, None, ReportInput("2026-10", "Tersalurkan.", ""), "staf")
    await lks_reports.decide_report(report_id, "return", "Lengkapi angka penyaluran.", "admin", None)
    first = await reminders.send_report_decision(report_id, settings)
    assert first.notified[Kind.DECISION] == 1 and len(inbox.messages) == 1
    assert "Lengkapi angka penyaluran." in inbox.messages[0].get_payload()
    await reminders.send_due(settings=settings)
    decisions = await Notification.count().where((Notification.account == staff)
                                                 & (Notification.kind == Kind.DECISION))
    assert decisions == 1 and sum("mengembalikan" in m.get_payload() for m in inbox.messages) == 1


async def test_a_dead_smtp_server_leaves_the_notifications(db):
    w = await build(1)
    await _approved(w, clock.today())
    await _staff(w.lks_id, "staf-x", "x@lks.test")
    tally = await reminders.send_due(settings=Settings(smtp_host="127.0.0.1", smtp_port=_free_port()))
    assert tally.notified[Kind.DELIVERY_DUE] == 1 and tally.emailed == 0 and tally.email_failed == 1
    assert await Notification.count().where(Notification.kind == Kind.DELIVERY_DUE) == 1
    assert await ReminderSent.count().where(ReminderSent.emailed_at.is_null()) == 1


async def test_the_reminder_run_is_a_job(db):
    w = await build(1)
    await _approved(w, clock.today() + timedelta(days=3))
    await _staff(w.lks_id, "staf-job", "")
    job_id = await InProcessQueue().enqueue(reminders.JOB_KIND, {"actor": "jadwal"})
    job = await wait_for(job_id, 30)
    assert job["status"] == "done", job["message"]
    result = job["result"] if isinstance(job["result"], dict) else json.loads(job["result"])
    assert result["notified"][Kind.DELIVERY_DUE] == 1


async def test_reminders_follow_the_team_rights(db):
    from storage.tables import LksMember

    lks_id = await late_lks(months_ago=2)
    await _staff(lks_id, "staf-admin", "")  # the first account: every right
    courier = await _staff(lks_id, "staf-kurir", "")
    await LksMember.update({LksMember.ledger: False, LksMember.offers: False}).where(LksMember.account == courier)
    w = await build(1)
    await Allocation.update({Allocation.lks: lks_id}).where(Allocation.id.is_in(w.allocations))
    await _approved(w, clock.today() + timedelta(days=1))
    await reminders.send_due(settings=Settings(smtp_host=""))
    kinds = {n["kind"] for n in await Notification.select().where(Notification.account == courier)}
    assert kinds == {Kind.DELIVERY_DUE}  # the courier records deliveries; reports need the ledger right


async def test_the_daily_run_counts_late_on_bandungs_date(db, monkeypatch):
    """``jitu reminders send`` at 23:30 UTC on day D (06:30 on D+1 in Bandung): a delivery due on D is
    overdue, one due on D+4 is due within three days. (D is a month ahead: the machine's date cannot pass.)"""
    from datetime import time

    day = datetime.now(UTC).date() + timedelta(days=30)
    monkeypatch.setattr(clock, "_utc_now", lambda: datetime.combine(day, time(23, 30), tzinfo=UTC))
    w = await build(2)
    staff = await _staff(w.lks_id, "staf-malam", "")
    await Allocation.update({Allocation.status: "approved", Allocation.deliver_by: day}).where(
        Allocation.id == w.allocations[0])
    await Allocation.update({Allocation.status: "approved", Allocation.deliver_by: day + timedelta(days=4)}).where(
        Allocation.id == w.allocations[1])
    tally = await reminders.send_due(settings=Settings(smtp_host=""))
    assert tally.notified[Kind.DELIVERY_OVERDUE] == 1 and tally.notified[Kind.DELIVERY_DUE] == 1
    kinds = {n["kind"] for n in await Notification.select().where(Notification.account == staff)}
    assert kinds == {Kind.DELIVERY_OVERDUE, Kind.DELIVERY_DUE}


async def test_a_failed_email_is_tried_again_by_the_next_run(db, smtp):
    """The SMTP server was down: the next ``jitu reminders send`` e-mails the reminder (once), without a
    second notification in the portal."""
    inbox, settings = smtp
    w = await build(1)
    await _approved(w, clock.today() + timedelta(days=1))
    staff = await _staff(w.lks_id, "staf-x", "x@lks.test")
    down = await reminders.send_due(settings=Settings(smtp_host="127.0.0.1", smtp_port=_free_port()))
    assert down.notified[Kind.DELIVERY_DUE] == 1 and down.email_failed == 1 and down.emailed == 0
    row = await ReminderSent.select().first()
    assert row["emailed_at"] is None and row["email_attempts"] == 1 and row["email_claimed_at"] is None

    back = await reminders.send_due(settings=settings)
    assert back.emailed == 1 and back.email_failed == 0 and sum(back.notified.values()) == 0
    assert [m["To"] for m in inbox.messages] == ["x@lks.test"]
    assert "jatuh tempo" in inbox.messages[0].get_payload()
    assert await Notification.count().where(Notification.account == staff) == 1
    assert (await ReminderSent.select().first())["emailed_at"] is not None

    again = await reminders.send_due(settings=settings)
    assert again.emailed == 0 and len(inbox.messages) == 1


async def test_a_failing_email_is_tried_a_limited_number_of_runs(db):
    w = await build(1)
    await _approved(w, clock.today())
    await _staff(w.lks_id, "staf-x", "x@lks.test")
    dead = Settings(smtp_host="127.0.0.1", smtp_port=_free_port())
    failed = [(await reminders.send_due(settings=dead)).email_failed for _ in range(reminders.EMAIL_ATTEMPTS + 2)]
    assert failed == [1] * reminders.EMAIL_ATTEMPTS + [0, 0]
    assert (await ReminderSent.select().first())["email_attempts"] == reminders.EMAIL_ATTEMPTS


async def test_an_email_another_run_is_sending_is_left_to_it(db, smtp):
    """An overlapping run has claimed the e-mail: this run does not send it too, until the claim lapses
    (the run that claimed it died)."""
    inbox, settings = smtp
    w = await build(1)
    await _approved(w, clock.today())
    await _staff(w.lks_id, "staf-x", "x@lks.test")
    await reminders.send_due(settings=Settings(smtp_host="127.0.0.1", smtp_port=_free_port()))
    await ReminderSent.update({ReminderSent.email_claimed_at: datetime.now(UTC)}).where(ReminderSent.id > 0)
    busy = await reminders.send_due(settings=settings)
    assert busy.emailed == 0 and inbox.messages == []
    await ReminderSent.update({ReminderSent.email_claimed_at: datetime.now(UTC) - reminders.EMAIL_CLAIM
                               - timedelta(seconds=1)}).where(ReminderSent.id > 0)
    lapsed = await reminders.send_due(settings=settings)
    assert lapsed.emailed == 1 and len(inbox.messages) == 1

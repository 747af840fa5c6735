"""Reminders: in-portal notifications and, when SMTP is configured, e-mail, for deliveries due in three
days, overdue deliveries, reports due (or overdue, or offers paused), and decisions by Dinsos on a report.

Each person chooses per kind and channel (``NotificationPreference``; nothing chosen: everything). Each
reminder is sent once: it has a key (``marketplace.reminders.reminder_key``) and one ``ReminderSent`` row
per person, unique on that key, written in the same transaction as the notification, so running
``jitu reminders send`` (or the worker's scheduled job, ``REMINDER_SCHEDULE``) twice sends nothing new,
even when two runs overlap. E-mail goes after the commit; a mail failure is logged and never undoes the
notification: the row's ``emailed_at`` stays empty and the next run, if the reminder is still due, tries
the e-mail again (not the notification), up to ``EMAIL_ATTEMPTS`` runs.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from piccolo.query.functions.aggregate import Count

from marketplace.audit import AuditEvent
from marketplace.lks_reports import ReportStatus
from marketplace.lks_team import DELIVERIES, LEDGER
from marketplace.reminders import (
    DUE_SOON_DAYS,
    KINDS,
    Choice,
    Kind,
    choices,
    decision_message,
    delivery_kind,
    delivery_message,
    reminder_key,
    report_message,
    report_stage,
)
from marketplace.settings import Settings, get_settings
from marketplace.vocabulary import AllocationStatus, Role
from storage.jobs import job_handler
from storage.lks_reports.deadlines import all_standings, today
from storage.tables import (
    Account,
    Allocation,
    LksMember,
    LksReport,
    Notification,
    NotificationPreference,
    ReminderSent,
)
from storage.uow import unit_of_work

log = logging.getLogger("jitu.reminders")
JOB_KIND = "reminders.send"
DECISION_WINDOW = timedelta(days=30)
"""Report decisions older than this are not reminded of any more (the catch-up of a failed send)."""


# --- preferences -----------------------------------------------------------------------------------

async def preferences(account_id: int) -> dict[str, Choice]:
    rows = await NotificationPreference.select().where(NotificationPreference.account == account_id)
    return choices({r["kind"]: (bool(r["portal"]), bool(r["email"])) for r in rows})


async def save_preferences(account_id: int, chosen: dict[str, Choice], actor: str) -> None:
    before = await preferences(account_id)
    async with unit_of_work() as uow:
        await NotificationPreference.delete().where(NotificationPreference.account == account_id)
        await NotificationPreference.insert(*[
            NotificationPreference(account=account_id, kind=kind, portal=c.portal, email=c.email)
            for kind, c in chosen.items()])
        await uow.record(AuditEvent(actor, "notification_preference.update", "account", str(account_id),
                                    {k: [c.portal, c.email] for k, c in before.items()},
                                    {k: [c.portal, c.email] for k, c in chosen.items()}))


async def _choices_of(account_ids: Iterable[int]) -> dict[int, dict[str, Choice]]:
    ids = sorted(set(account_ids))
    stored: dict[int, dict[str, tuple[bool, bool]]] = {i: {} for i in ids}
    if ids:
        for r in await NotificationPreference.select().where(NotificationPreference.account.is_in(ids)):
            stored[int(r["account"])][r["kind"]] = (bool(r["portal"]), bool(r["email"]))
    return {i: choices(s) for i, s in stored.items()}


async def hidden_kinds(account_id: int) -> list[str]:
    """Kinds this person switched off in the portal (LKS-wide notices of those kinds are not shown)."""
    return [k for k, c in (await preferences(account_id)).items() if not c.portal]


# --- recipients ------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Person:
    account_id: int
    email: str


async def lks_staff(lks_ids: Iterable[int], right: str) -> dict[int, list[Person]]:
    """Active staff of these LKS who hold ``right`` in their team (``marketplace.lks_team``): delivery
    reminders go to those who record deliveries, report ones to those who may see the ledger."""
    ids = sorted(set(lks_ids))
    out: dict[int, list[Person]] = {i: [] for i in ids}
    if ids:
        rows = await LksMember.select(LksMember.account, LksMember.lks, LksMember.account.email.as_alias("email")
                                      ).where(
            LksMember.lks.is_in(ids) & (getattr(LksMember, right) == True)  # noqa: E712
            & (LksMember.account.role == Role.LKS_STAFF) & (LksMember.account.active == True)  # noqa: E712
        ).order_by(LksMember.account)
        for r in rows:
            out[int(r["lks"])].append(Person(int(r["account"]), r["email"] or ""))
    return out


async def dinsos_admins() -> list[Person]:
    rows = await Account.select(Account.id, Account.email).where(
        (Account.role == Role.DINSOS_ADMIN) & (Account.active == True)).order_by(Account.id)  # noqa: E712
    return [Person(int(r["id"]), r["email"] or "") for r in rows]


# --- sending ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Reminder:
    kind: str
    key: str
    message: str
    link: str
    to: Sequence[Person]


@dataclass
class Tally:
    notified: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    emailed: int = 0
    email_failed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"notified": self.notified, "emailed": self.emailed, "email_failed": self.email_failed}


def _email(to: str, message: str, link: str, settings: Settings) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = "jitu: pengingat dari Dinas Sosial Kota Bandung"
    email["From"] = settings.smtp_from
    email["To"] = to
    email.set_content(f"{message}\n\nBuka portal jitu: {link}\n\nSurel ini tidak memuat data pribadi. Atur "
                      "pemberitahuan yang Anda terima di portal, menu \"Pemberitahuan\".\n\n"
                      "Dinas Sosial Kota Bandung\n")
    return email


def _send(emails: list[EmailMessage], settings: Settings) -> list[bool]:
    """One SMTP connection for the whole batch; each message succeeds or fails on its own."""
    results: list[bool] = []
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            for email in emails:
                try:
                    smtp.send_message(email)
                    results.append(True)
                except smtplib.SMTPException:
                    log.exception("reminder e-mail to %s refused", email["To"])
                    results.append(False)
    except (OSError, smtplib.SMTPException):
        log.exception("SMTP server %s:%s unreachable", settings.smtp_host, settings.smtp_port)
    return results + [False] * (len(emails) - len(results))


async def send(reminders: Sequence[Reminder], settings: Settings | None = None, tally: Tally | None = None) -> Tally:
    """Send each reminder to each of its people who wants it and has not had it yet; e-mail the ones whose
    e-mail is still owed (a new reminder, or one whose e-mail failed on an earlier run)."""
    settings = settings or get_settings()
    tally = tally or Tally()
    wanted = await _choices_of(p.account_id for r in reminders for p in r.to)
    owed: list[tuple[int, EmailMessage]] = []
    for r in reminders:
        people = [p for p in r.to if (c := wanted[p.account_id][r.kind]).portal or c.email]
        keys = {p.account_id: reminder_key(r.key, "a", p.account_id) for p in people}
        if not keys:
            continue
        mailed = {p.account_id for p in people if settings.smtp_host and p.email and wanted[p.account_id][r.kind].email}
        async with unit_of_work():
            had = {row["key"]: row for row in await ReminderSent.select(
                ReminderSent.id, ReminderSent.key, ReminderSent.emailed_at, ReminderSent.email_attempts).where(
                ReminderSent.key.is_in(list(keys.values())))}
            fresh = [p for p in people if keys[p.account_id] not in had]
            rows: dict[str, int] = {}
            if fresh:
                inserted = await ReminderSent.insert(*[
                    ReminderSent(key=keys[p.account_id], account=p.account_id, kind=r.kind) for p in fresh
                ]).on_conflict(target=ReminderSent.key, action="DO NOTHING").returning(ReminderSent.id,
                                                                                        ReminderSent.key)
                # a run overlapping this one may have taken some keys between our read and our insert
                rows = {row["key"]: int(row["id"]) for row in inserted}
                fresh = [p for p in fresh if keys[p.account_id] in rows]
                portal = [p for p in fresh if wanted[p.account_id][r.kind].portal]
                if portal:
                    await Notification.insert(*[Notification(account=p.account_id, kind=r.kind, message=r.message,
                                                             link=r.link) for p in portal])
                tally.notified[r.kind] += len(fresh)
        retry = [p for p in people if p.account_id in mailed and (row := had.get(keys[p.account_id])) is not None
                 and row["emailed_at"] is None and row["email_attempts"] < EMAIL_ATTEMPTS]
        owed += [(rows[keys[p.account_id]], _email(p.email, r.message, r.link, settings))
                 for p in fresh if p.account_id in mailed]
        owed += [(int(had[keys[p.account_id]]["id"]), _email(p.email, r.message, r.link, settings)) for p in retry]
    if owed:
        once = dict(owed)  # one e-mail per row, even if a reminder came twice
        claimed = await _claim(list(once))
        outbox = [(row_id, email) for row_id, email in once.items() if row_id in claimed]
        results = await asyncio.to_thread(_send, [e for _, e in outbox], settings) if outbox else []
        ok = [row_id for (row_id, _), sent in zip(outbox, results, strict=True) if sent]
        if ok:
            await ReminderSent.update({ReminderSent.emailed_at: datetime.now(UTC)}).where(ReminderSent.id.is_in(ok))
        failed = [row_id for row_id, _ in outbox if row_id not in set(ok)]
        if failed:  # free at once for the next run (the claim only keeps an overlapping run away)
            await ReminderSent.update({ReminderSent.email_claimed_at: None}).where(ReminderSent.id.is_in(failed))
        tally.emailed += len(ok)
        tally.email_failed += len(failed)
    return tally


EMAIL_ATTEMPTS = 5
"""Runs that try one reminder's e-mail before giving up on it (an address the server always refuses)."""
EMAIL_CLAIM = timedelta(minutes=15)
"""How long a run's claim on an e-mail keeps an overlapping run from sending it too."""


async def _claim(row_ids: Sequence[int]) -> set[int]:
    """Takes the e-mails still owed among these rows for this run, counting the attempt, in one statement:
    a run overlapping this one (or a second ``jitu reminders send``) finds them taken. A run that died
    while sending leaves its claim to lapse after ``EMAIL_CLAIM``; the e-mail is then tried again."""
    now = datetime.now(UTC)
    async with unit_of_work():
        taken = await ReminderSent.update({
            ReminderSent.email_claimed_at: now, ReminderSent.email_attempts: ReminderSent.email_attempts + 1,
        }).where(
            ReminderSent.id.is_in(list(row_ids)) & ReminderSent.emailed_at.is_null()
            & (ReminderSent.email_attempts < EMAIL_ATTEMPTS)
            & (ReminderSent.email_claimed_at.is_null() | (ReminderSent.email_claimed_at < now - EMAIL_CLAIM))
        ).returning(ReminderSent.id)
    return {int(row["id"]) for row in taken}


# --- what is due -----------------------------------------------------------------------------------

async def delivery_reminders(on: date) -> list[Reminder]:
    """One per LKS and due date of approved allocations not yet delivered, due within three days or late."""
    rows = await Allocation.select(Allocation.lks, Allocation.deliver_by, Count(Allocation.id, alias="n")).where(
        (Allocation.status == AllocationStatus.APPROVED) & Allocation.deliver_by.is_not_null()
        & (Allocation.deliver_by <= on + timedelta(days=DUE_SOON_DAYS))
    ).group_by(Allocation.lks, Allocation.deliver_by)
    staff = await lks_staff((int(r["lks"]) for r in rows), DELIVERIES)
    out = []
    for r in rows:
        deliver_by = r["deliver_by"] if isinstance(r["deliver_by"], date) else date.fromisoformat(str(r["deliver_by"]))
        kind = delivery_kind(deliver_by, on)
        if kind is None:
            continue
        out.append(Reminder(kind, reminder_key(kind, "lks", r["lks"], deliver_by.isoformat()),
                            delivery_message(kind, int(r["n"]), deliver_by), "/lks-saya/keluarga",
                            staff[int(r["lks"])]))
    return out


async def report_reminders(on: date) -> list[Reminder]:
    """Each missing report, once per stage (due, overdue, paused) to the LKS's staff; Dinsos is told once
    when an LKS's offers are paused."""
    late = await all_standings(on)
    staff = await lks_staff((x.lks_id for x in late), LEDGER)
    admins = await dinsos_admins() if any(x.paused for x in late) else []
    out = []
    for x in late:
        for m in x.missing:
            stage = report_stage(m.overdue, m.paused)
            out.append(Reminder(Kind.REPORT_DUE, reminder_key(Kind.REPORT_DUE, "lks", x.lks_id, m.period, stage),
                                report_message(m.period, m.due, m.overdue, m.paused), "/lks-saya/laporan",
                                staff[x.lks_id]))
            if m.paused:
                out.append(Reminder(
                    Kind.REPORT_DUE, reminder_key(Kind.REPORT_DUE, "dinsos", x.lks_id, m.period, "paused"),
                    f"{x.name}: laporan berkala periode {m.period} terlambat sejak {m.due:%d-%m-%Y}; penawaran "
                    "barunya dihentikan sementara sampai laporan dikirim.", "/admin/laporan-lks", admins))
    return out


async def decision_reminders(report_ids: Sequence[int] | None = None, now: datetime | None = None) -> list[Reminder]:
    """Dinsos's decisions on reports (the given ones, or every one of the last 30 days) to the LKS's staff."""
    where: Any = LksReport.status.is_in([ReportStatus.APPROVED, ReportStatus.REJECTED])
    if report_ids is not None:
        where = where & LksReport.id.is_in(list(report_ids) or [0])
    else:
        where = where & (LksReport.decided_at >= (now or datetime.now(UTC)) - DECISION_WINDOW)
    rows = await LksReport.select(LksReport.id, LksReport.lks, LksReport.period, LksReport.status,
                                  LksReport.decision_note, LksReport.decided_at).where(where)
    staff = await lks_staff((int(r["lks"]) for r in rows), LEDGER)
    return [Reminder(Kind.DECISION,
                     reminder_key(Kind.DECISION, "lks_report", r["id"], r["status"],
                                  r["decided_at"].isoformat() if r["decided_at"] else ""),
                     decision_message(r["period"], r["status"] == ReportStatus.APPROVED, r["decision_note"]),
                     "/lks-saya/laporan", staff[int(r["lks"])]) for r in rows]


async def send_due(on: date | None = None, settings: Settings | None = None) -> Tally:
    """Everything due today, each once: the whole run of ``jitu reminders send``."""
    day = on or today()
    reminders = [*await delivery_reminders(day), *await report_reminders(day), *await decision_reminders()]
    return await send(reminders, settings)


async def send_report_decision(report_id: int, settings: Settings | None = None) -> Tally:
    """Right after Dinsos decides a report (the daily run catches up if this one failed)."""
    return await send(await decision_reminders([report_id]), settings)


@job_handler(JOB_KIND)
async def _run(ctx: Any) -> dict[str, Any]:
    return (await send_due()).as_dict()


# --- the person's notifications --------------------------------------------------------------------

async def _addressed(account_id: int, lks_id: int | None) -> Any:
    """Addressed to the person, or to their LKS as a whole unless of a kind they switched off."""
    mine: Any = Notification.account == account_id
    if lks_id:
        hidden = await hidden_kinds(account_id)
        to_lks: Any = Notification.lks == lks_id
        if hidden:
            to_lks = to_lks & Notification.kind.not_in(hidden)
        mine = mine | to_lks
    return mine


async def notifications_for(account_id: int, lks_id: int | None, page: int = 1, size: int = 50
                            ) -> tuple[list[dict[str, Any]], int]:
    where = await _addressed(account_id, lks_id)
    total = await Notification.count().where(where)
    rows = await Notification.select().where(where).order_by(Notification.id, ascending=False).limit(size).offset(
        (max(page, 1) - 1) * size)
    return rows, total


async def mark_read(account_id: int, ids: Sequence[int]) -> None:
    """The person's own notifications shown to them are read (LKS-wide ones are shared: left as they are)."""
    if ids:
        await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
            Notification.id.is_in(list(ids)) & (Notification.account == account_id)
            & Notification.read_at.is_null())

"""Referral services: refer a need, the office's answers, Dinsos's view, least-data detail, service levels.

Every function an office account calls filters on the account's office in the query itself: another
office's referral is "not found", never "forbidden", so ids cannot be probed. The detail an office sees
holds only the personal data the referrer chose to share (``Referral.shared``) and the evidence files it
chose; each view writes an access-log row. Each step is one transaction: the referral, its event, the
need's public timeline (plain words, ``marketplace.referrals.public_note``) and an audit event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from marketplace import clock
from marketplace import referrals as rules
from marketplace.audit import AuditEvent
from marketplace.needs import NeedError
from marketplace.referrals import Action, ReferralError, ReferralStatus
from marketplace.regions import name_of
from marketplace.vocabulary import PPKS_TYPES, NeedStatus, Role
from storage.access import log_access
from storage.accounts import CurrentUser
from storage.counting import EXACT_UP_TO, Total
from storage.crypto import vault
from storage.registry import transition_need
from storage.tables import (
    Account,
    EvidenceFile,
    Household,
    Member,
    Need,
    NeedEvent,
    Notification,
    Office,
    Referral,
    ReferralEvent,
)
from storage.uow import unit_of_work

PAGE_SIZE = 50
LINK_LIFETIME = timedelta(minutes=10)
REFERRERS = frozenset({Role.DINSOS_ADMIN, Role.PEKERJA_SOSIAL})
"""Who refers needs, answers an office's questions, and sees every referral."""


class NotFound(LookupError):
    """Absent, or not the caller's: the same answer for both."""


MAX_ID = 2**31 - 1


def _check_id(value: int) -> None:
    """Ids are int4: a larger guess is simply not found (never an overflow in the driver)."""
    if not 1 <= value <= MAX_ID:
        raise NotFound(value)


def _ids(value: Any) -> list[Any]:
    """A JSON list column as a list (drivers hand it back as text)."""
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return list(value or [])


def _today() -> date:
    return clock.today()


def _scope(user: CurrentUser) -> Any:
    """The referrals this account may see at all."""
    if user.role in REFERRERS:
        return Referral.id > 0
    if user.role == Role.OFFICE_STAFF and user.office_code:
        return Referral.office == user.office_code
    return Referral.id < 0


# ------------------------------------------------------------------------------------------- offices


async def list_offices() -> list[dict[str, Any]]:
    return await Office.select().order_by(Office.code)


async def set_service_days(user: CurrentUser, code: str, days: int) -> None:
    """Dinsos edits an office's service level; referrals already sent keep their due date."""
    if user.role != Role.DINSOS_ADMIN:
        raise ReferralError("Hanya Dinas Sosial yang mengubah batas layanan instansi")
    rules.check_service_days(days)
    async with unit_of_work() as uow:
        row = await Office.select(Office.service_days).where(Office.code == code).first()
        if row is None:
            raise ReferralError("Instansi tidak dikenal")
        await Office.update({Office.service_days: days}).where(Office.code == code)
        await uow.record(AuditEvent(user.username, "office.service_days", "office", code,
                                    {"service_days": row["service_days"]}, {"service_days": days}))


# ------------------------------------------------------------------------------------------- referring


async def refer_need(user: CurrentUser | str, need_id: int, office_code: str, what_needed: str, reason: str,
                     shared: list[str] | None = None, evidence: list[int] | None = None,
                     today: date | None = None) -> int:
    """Refer a need (submitted, assessed or verified) to an office: the need becomes ``referred`` and the
    office's staff are notified. Raises ``ReferralError`` / ``NeedError`` (Indonesian), writing nothing."""
    actor = user if isinstance(user, str) else user.username
    if not isinstance(user, str) and user.role not in REFERRERS:
        raise ReferralError("Hanya Dinas Sosial atau pekerja sosial yang merujuk kebutuhan")
    today = today or _today()
    async with unit_of_work() as uow:
        need = await Need.select(Need.id, Need.status, Need.amount).where(Need.id == need_id).first()
        if need is None:
            raise ReferralError("Kebutuhan tidak ditemukan")
        files = {int(r["id"]) for r in await EvidenceFile.select(EvidenceFile.id).where(EvidenceFile.need == need_id)}
        new = rules.check_new(office_code, what_needed, reason, shared, evidence or [], files, need["status"])
        office = await Office.select().where((Office.code == new.office) & (Office.active == True)).first()  # noqa: E712
        if office is None:
            raise ReferralError("Instansi rujukan tidak aktif")
        await transition_need(need_id, NeedStatus.REFERRED, actor, note=f"rujukan ke {new.office}",
                              office=new.office)
        now = datetime.now(UTC)
        rows = await Referral.insert(Referral(
            need=need_id, office=new.office, status=ReferralStatus.SENT, what_needed=new.what_needed,
            reason=new.reason, shared=list(new.shared), evidence=list(new.evidence),
            need_status_before=need["status"], due_on=rules.due_on(today, int(office["service_days"])),
            created_by=None if isinstance(user, str) else user.id, created_at=now, updated_at=now,
        )).returning(Referral.id)
        referral_id = int(rows[0]["id"])
        await ReferralEvent.insert(ReferralEvent(referral=referral_id, action="create", to_status=ReferralStatus.SENT,
                                                 actor=actor, text=new.what_needed, occurred_at=now))
        staff = await Account.select(Account.id).where((Account.office == new.office) & (Account.active == True))  # noqa: E712
        if staff:
            await Notification.insert(*[Notification(
                account=s["id"], message=f"Rujukan baru #{referral_id} untuk {office['short_name']}",
                link=f"/rujukan/{referral_id}") for s in staff])
        await uow.record(AuditEvent(actor, "referral.create", "referral", str(referral_id), None, {
            "need": need_id, "office": new.office, "shared": list(new.shared), "evidence": list(new.evidence),
            "due_on": rules.due_on(today, int(office["service_days"])).isoformat()}))
    return referral_id


# ------------------------------------------------------------------------------------------- answering


async def act(user: CurrentUser, referral_id: int, action: str, text: str = "", resolution: str = "",
              today: date | None = None) -> str:
    """One step: the office accepts, asks for information, completes or returns; Dinsos or the social
    worker answers a question. Returns the new status. ``NotFound`` for a referral the account may not
    act on; ``ReferralError`` (Indonesian) when the step is refused; nothing is written then."""
    _check_id(referral_id)
    if action in rules.OFFICE_ACTIONS:
        if user.role != Role.OFFICE_STAFF or not user.office_code:
            raise NotFound(referral_id)
        where: Any = (Referral.id == referral_id) & (Referral.office == user.office_code)
    elif action == Action.ANSWER:
        if user.role not in REFERRERS:
            raise NotFound(referral_id)
        where = Referral.id == referral_id
    else:
        raise ReferralError("Tindakan rujukan tidak dikenal")
    today = today or _today()
    async with unit_of_work() as uow:
        ref = await Referral.select(*Referral.all_columns(), Referral.office._.short_name.as_alias("office_short"),
                                    Referral.need._.status.as_alias("need_status")).where(where).first()
        if ref is None:
            raise NotFound(referral_id)
        s = rules.step(ref["status"], action, text=text, resolution=resolution,
                       accepted=ref["accepted_at"] is not None, need_before=ref["need_status_before"])
        now = datetime.now(UTC)
        values: dict[Any, Any] = {Referral.status: s.to_status, Referral.updated_at: now}
        if s.action == Action.ACCEPT:
            values[Referral.accepted_at] = now
        elif s.action == Action.ASK_INFO:
            values |= {Referral.info_question: s.text, Referral.info_asked_at: now, Referral.info_answer: ""}
        elif s.action == Action.ANSWER:
            values[Referral.info_answer] = s.text
            asked = ref["info_asked_at"]
            if asked is not None:
                values[Referral.due_on] = rules.extended_due(ref["due_on"], clock.local_date(asked), today)
        elif s.action == Action.COMPLETE:
            values |= {Referral.outcome: s.text, Referral.resolution: s.resolution, Referral.closed_at: now}
        else:
            values |= {Referral.return_reason: s.text, Referral.closed_at: now}
        done = await Referral.update(values).where(
            (Referral.id == referral_id) & (Referral.status == ref["status"])).returning(Referral.id)
        if not done:
            raise ReferralError("Rujukan ini baru saja diubah orang lain; muat ulang halaman.")
        await ReferralEvent.insert(ReferralEvent(referral=referral_id, action=s.action, from_status=s.from_status,
                                                 to_status=s.to_status, actor=user.username, text=s.text,
                                                 occurred_at=now))
        public = rules.public_note(s.action, ref["office_short"], s.resolution)
        if s.need_to and ref["need_status"] == NeedStatus.REFERRED:
            try:
                await transition_need(int(ref["need"]), s.need_to, user, note=f"rujukan #{referral_id}: {s.action}",
                                      public=public)
            except NeedError as exc:
                raise ReferralError(str(exc)) from exc
        else:
            await NeedEvent.insert(NeedEvent(need=ref["need"], from_status=NeedStatus.REFERRED,
                                             to_status=NeedStatus.REFERRED, public_note=public, occurred_at=now))
        await _notify(ref, s, referral_id)
        await uow.record(AuditEvent(user.username, f"referral.{s.action}", "referral", str(referral_id),
                                    {"status": s.from_status},
                                    {"status": s.to_status, "resolution": s.resolution, "need": s.need_to,
                                     "text": s.text[:200]}))
    return s.to_status


async def withdraw_in(uow: Any, referral_id: int, actor: str) -> bool:
    """Stop an open referral because the applicant revoked consent, inside the caller's unit of work: the
    office's staff are told, and from now on the office sees none of the personal data it was shared
    (``detail``). The need is the caller's to move. Returns False when it was no longer open."""
    ref = await Referral.select(Referral.id, Referral.status, Referral.need, Referral.office,
                                Referral.office._.short_name.as_alias("office_short")).where(
        Referral.id == referral_id).first()
    if ref is None:
        return False
    try:
        rules.check_withdrawal(ref["status"])
    except ReferralError:
        return False
    now = datetime.now(UTC)
    done = await Referral.update({Referral.status: ReferralStatus.WITHDRAWN, Referral.updated_at: now,
                                  Referral.closed_at: now}).where(
        (Referral.id == referral_id) & (Referral.status == ref["status"])).returning(Referral.id)
    if not done:
        return False
    await ReferralEvent.insert(ReferralEvent(referral=referral_id, action="withdraw", from_status=ref["status"],
                                             to_status=ReferralStatus.WITHDRAWN, actor=actor,
                                             text="Persetujuan dicabut pemohon", occurred_at=now))
    staff = await Account.select(Account.id).where((Account.office == ref["office"]) & (Account.active == True))  # noqa: E712
    if staff:
        await Notification.insert(*[Notification(
            account=s["id"], message=f"Rujukan #{referral_id} dihentikan: pemohon mencabut persetujuannya",
            link=f"/rujukan/{referral_id}") for s in staff])
    await uow.record(AuditEvent(actor, "referral.withdraw", "referral", str(referral_id),
                                {"status": ref["status"]}, {"status": ReferralStatus.WITHDRAWN}))
    return True


async def _notify(ref: dict[str, Any], s: rules.Step, referral_id: int) -> None:
    link = f"/rujukan/{referral_id}"
    if s.action == Action.ANSWER:
        staff = await Account.select(Account.id).where((Account.office == ref["office"]) & (Account.active == True))  # noqa: E712
        targets = [int(a["id"]) for a in staff]
        message = f"Keterangan tambahan untuk rujukan #{referral_id} sudah dijawab"
    else:
        targets = [int(ref["created_by"])] if ref["created_by"] else []
        message = f"Rujukan #{referral_id} ({ref['office_short']}): {rules.label(s.to_status)}"
    if targets:
        await Notification.insert(*[Notification(account=t, message=message, link=link) for t in targets])


# ------------------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class ReferralFilter:
    status: str = ""
    office: str = ""
    overdue: bool = False


def _filter_where(user: CurrentUser, f: ReferralFilter, today: date) -> Any:
    where = _scope(user)
    if f.status in rules.STATUS_LABELS:
        where &= Referral.status == f.status
    if f.office and user.role in REFERRERS:
        where &= Referral.office == f.office
    if f.overdue:
        where &= Referral.status.is_in(list(rules.OPEN)) & (Referral.due_on < today)
    return where


async def list_referrals(user: CurrentUser, f: ReferralFilter, after: int = 0, limit: int = PAGE_SIZE,
                         today: date | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """A page of referrals (no personal data: office, kind, kelurahan, status, due date), keyed by id:
    ``after`` is the last id of the previous page; returns the rows and the next ``after`` (or None)."""
    today = today or _today()
    limit = max(1, min(limit, 200))
    after = min(max(after, 0), MAX_ID)
    where = _filter_where(user, f, today) & (Referral.id > after)
    rows = await Referral.select(
        Referral.id, Referral.status, Referral.due_on, Referral.created_at, Referral.updated_at,
        Referral.resolution, Referral.need, Referral.office, Referral.office._.short_name.as_alias("office_short"),
        Referral.need._.kind.as_alias("kind"), Referral.need._.amount.as_alias("amount"),
        Referral.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
    ).where(where).order_by(Referral.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    for r in rows:
        r["overdue"] = rules.is_overdue(r["status"], r["due_on"], today)
        r["days_left"] = rules.days_left(r["due_on"], today)
        r["kelurahan_name"] = name_of(r["kelurahan_code"])
    return rows, (rows[-1]["id"] if more and rows else None)


async def counts(user: CurrentUser, today: date | None = None) -> dict[str, int]:
    """Referrals by status for this account's scope, and how many open ones are overdue: one query of
    bounded counts (``storage.counting.EXACT_UP_TO`` index entries each, index-only on ``(status, due_on)``
    or ``(office, status, due_on)``), so the cost does not grow with years of closed referrals; beyond the
    bound a figure is a ``Total`` the page shows as "lebih dari 10.000"."""
    today = today or _today()
    # the referrers' scope is every referral: no condition (``id > 0`` would send each count to the heap)
    scope = None if user.role in REFERRERS else _scope(user)

    def bounded(condition: Any) -> Any:
        where = condition if scope is None else scope & condition
        return Referral.select(Referral.id).where(where).limit(EXACT_UP_TO + 1).querystrings[0]

    statuses = [s.value for s in ReferralStatus]
    parts = [bounded(Referral.status == s) for s in statuses]
    parts.append(bounded(Referral.status.is_in(sorted(rules.OPEN)) & (Referral.due_on < today)))
    names = [*statuses, "overdue"]
    # only numbered aliases are formatted in; every value travels as a parameter of its part
    sql = "SELECT " + ", ".join(f"(SELECT count(*) FROM ({{}}) AS c{i}) AS n{i}"  # noqa: S608
                                for i in range(len(parts)))
    [row] = await Referral.raw(sql, *parts)
    out: dict[str, int] = {}
    for i, name in enumerate(names):
        seen = int(row[f"n{i}"])
        out[name] = Total(EXACT_UP_TO, at_least=True) if seen > EXACT_UP_TO else Total(seen)
    return out


async def detail(user: CurrentUser, referral_id: int, today: date | None = None) -> dict[str, Any]:
    """One referral with the least data its office may see; the view is access-logged."""
    _check_id(referral_id)
    today = today or _today()
    ref = await Referral.select(
        *Referral.all_columns(), Referral.office._.name.as_alias("office_name"),
        Referral.office._.short_name.as_alias("office_short"),
        Referral.need._.kind.as_alias("kind"), Referral.need._.amount.as_alias("amount"),
        Referral.need._.ppks.as_alias("ppks"), Referral.need._.status.as_alias("need_status"),
        Referral.need._.household.as_alias("household_id"),
        Referral.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
        Referral.need._.request._.ticket_code.as_alias("ticket"),
    ).where(_scope(user) & (Referral.id == referral_id)).first()
    if ref is None:
        raise NotFound(referral_id)
    household_id = int(ref["household_id"])
    ref["overdue"] = rules.is_overdue(ref["status"], ref["due_on"], today)
    ref["days_left"] = rules.days_left(ref["due_on"], today)
    ref["kelurahan_name"] = name_of(ref["kelurahan_code"])
    ref["ppks_name"] = PPKS_TYPES.get(ref["ppks"], str(ref["ppks"]))
    withdrawn = ref["status"] == ReferralStatus.WITHDRAWN  # consent revoked: no personal data any more
    ref["shared"] = [] if withdrawn else [str(f) for f in _ids(ref["shared"])]
    ref["evidence"] = ids = [] if withdrawn else [int(i) for i in _ids(ref["evidence"])]
    ref["person"] = await _shared_data(household_id, ref["shared"])
    ref["evidence_files"] = await EvidenceFile.select(EvidenceFile.id, EvidenceFile.filename, EvidenceFile.size).where(
        EvidenceFile.id.is_in(ids or [0]) & (EvidenceFile.need == ref["need"])).order_by(EvidenceFile.id)
    ref["events"] = await ReferralEvent.select().where(ReferralEvent.referral == referral_id).order_by(ReferralEvent.id)
    if user.role != Role.OFFICE_STAFF:
        ref.pop("ticket")
    await log_access(user, [household_id], f"rujukan #{referral_id}: " + ", ".join(ref["shared"] or ["-"]))
    return ref


async def _shared_data(household_id: int, shared: list[str]) -> dict[str, Any]:
    """Only the fields in ``shared``; NIK whole only when shared (masked never leaks more than asked)."""
    out: dict[str, Any] = {}
    if not shared:
        return out
    members = await Member.select(Member.name, Member.nik_cipher, Member.birth_date, Member.relation).where(
        Member.household == household_id).order_by(Member.id)
    head = next((m for m in members if m["relation"] == "kepala"), members[0] if members else None)
    if head is not None:
        if "name" in shared:
            out["name"] = head["name"]
        if "nik" in shared:
            out["nik"] = vault().decrypt(head["nik_cipher"])
        if "birth_date" in shared:
            out["birth_date"] = head["birth_date"]
    if "members" in shared:
        today = _today()
        out["members"] = [{"name": m["name"], "relation": m["relation"],
                           "age": today.year - m["birth_date"].year
                           - ((today.month, today.day) < (m["birth_date"].month, m["birth_date"].day))}
                          for m in members]
    if "address" in shared or "phone" in shared:
        hh = await Household.select(Household.address, Household.rt, Household.rw, Household.phone).where(
            Household.id == household_id).first()
        if hh is not None:
            if "address" in shared:
                out["address"] = f"{hh['address']} RT {hh['rt']} / RW {hh['rw']}".strip()
            if "phone" in shared:
                out["phone"] = hh["phone"]
    return out


async def evidence_link(user: CurrentUser, referral_id: int, file_id: int) -> str:
    """A signed, short-lived link to an evidence file this referral shares; the opening is access-logged."""
    from storage.objects import make_object_store

    _check_id(referral_id)
    _check_id(file_id)
    ref = await Referral.select(Referral.evidence, Referral.need,
                                Referral.need._.household.as_alias("household_id")).where(
        _scope(user) & (Referral.id == referral_id) & (Referral.status != ReferralStatus.WITHDRAWN)).first()
    if ref is None or file_id not in [int(i) for i in _ids(ref["evidence"])]:
        raise NotFound(file_id)
    f = await EvidenceFile.select(EvidenceFile.object_key, EvidenceFile.filename).where(
        (EvidenceFile.id == file_id) & (EvidenceFile.need == ref["need"])).first()
    if f is None:
        raise NotFound(file_id)
    await log_access(user, [int(ref["household_id"])], f"rujukan #{referral_id}: berkas bukti #{file_id}")
    return make_object_store().download_url(f["object_key"], LINK_LIFETIME, f["filename"])


async def for_need(need_id: int) -> list[dict[str, Any]]:
    """The referrals of one need, newest first (no personal data), for the household and Puskesos views."""
    return await Referral.select(
        Referral.id, Referral.status, Referral.due_on, Referral.resolution, Referral.created_at,
        Referral.office, Referral.office._.short_name.as_alias("office_short"),
    ).where(Referral.need == need_id).order_by(Referral.id, ascending=False)


async def for_household(household_id: int, today: date | None = None) -> list[dict[str, Any]]:
    """Every referral of a household's needs (no personal data), newest first, with the overdue flag."""
    today = today or _today()
    rows = await Referral.select(
        Referral.id, Referral.need, Referral.status, Referral.due_on, Referral.resolution, Referral.created_at,
        Referral.office, Referral.office._.short_name.as_alias("office_short"),
        Referral.need._.kind.as_alias("kind"),
    ).where(Referral.need._.household == household_id).order_by(Referral.id, ascending=False)
    for r in rows:
        r["overdue"] = rules.is_overdue(r["status"], r["due_on"], today)
    return rows

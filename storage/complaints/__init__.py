"""Complaints: filing (named or anonymous, attachments checked like evidence and kept in the object
store), a requester's report that a recorded delivery never arrived (the delivery becomes disputed),
Dinsos's steps through ``marketplace/complaints.py``, the answers of the office or LKS a complaint is
assigned to, the complainant's view by ticket, and the count per LKS for Dinsos's LKS page. One
transaction and one audit event per step.

An office's or LKS's staff reach only the complaints assigned to their office or LKS: the filter is in
the query itself, so another's complaint (or a guessed id) is "not found", never "forbidden". They see
what they need to act (category, text, kelurahan, Dinsos's note), never the complainant's name, contact,
ticket or attachments.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace import complaints as rules
from marketplace.audit import AuditEvent
from marketplace.complaints import ComplaintError, ComplaintInput, ComplaintStatus
from marketplace.delivery import DeliveryError, allocation_status_for, requester_reports_missing
from marketplace.lks_team import DELIVERIES
from marketplace.needs import normalise_ticket
from marketplace.referrals import OFFICE_BY_CODE
from marketplace.vocabulary import Role
from storage import registry
from storage.access import log_access
from storage.accounts import CurrentUser
from storage.counting import count_rows
from storage.crypto import vault
from storage.objects import make_object_store
from storage.reminders import lks_staff
from storage.tables import (
    Account,
    Allocation,
    Complaint,
    ComplaintEvent,
    ComplaintFile,
    Delivery,
    Lks,
    Notification,
    ServiceRequest,
)
from storage.uow import unit_of_work

PAGE_SIZE = 50
LINK_LIFETIME = timedelta(minutes=10)
MAX_ID = 2**31 - 1
C = ComplaintStatus


async def verified_lks() -> list[dict[str, Any]]:
    return await Lks.select(Lks.id, Lks.name).where(Lks.status == "verified").order_by(Lks.name)


def check_files(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes, str]]:
    """The same checks as evidence (PDF, JPEG, PNG by content, 10 MB each), at most ``MAX_FILES``."""
    if len(files) > rules.MAX_FILES:
        raise ComplaintError(f"Lampirkan paling banyak {rules.MAX_FILES} berkas.")
    try:
        return [(name, data, registry.check_evidence(name, data)) for name, data in files]
    except registry.NeedError as exc:
        raise ComplaintError(str(exc)) from None


async def _insert(uow: Any, data: ComplaintInput, actor: str, *, delivery_id: int | None = None,
                  household_id: int | None = None, files: list[tuple[str, bytes, str]] | None = None) -> str:
    ticket = await registry.new_ticket()
    now = datetime.now(UTC)
    rows = await Complaint.insert(Complaint(
        ticket_code=ticket, category=data.category, status=C.FILED, anonymous=data.anonymous,
        complainant_name=data.name, contact_cipher=vault().encrypt(data.contact) if data.contact else "",
        description=data.description, kelurahan_code=data.kelurahan_code, lks=data.lks_id, delivery=delivery_id,
        household=household_id, created_at=now, updated_at=now)).returning(Complaint.id)
    complaint_id = int(rows[0]["id"])
    await ComplaintEvent.insert(ComplaintEvent(complaint=complaint_id, to_status=C.FILED,
                                               public_note="Pengaduan diterima", occurred_at=now))
    if files:
        store = make_object_store()
        for index, (name, blob, content_type) in enumerate(files):
            key = f"complaints/{complaint_id}/{secrets.token_hex(8)}-{index}"
            store.put(key, blob, content_type)
            uow.written.append(key)
            await ComplaintFile.insert(ComplaintFile(complaint=complaint_id, object_key=key, filename=name[:255],
                                                     content_type=content_type, size=len(blob)))
    await uow.record(AuditEvent(actor, "complaint.filed", "complaint", str(complaint_id), None,
                                {"category": data.category, "anonymous": data.anonymous, "lks": data.lks_id,
                                 "delivery": delivery_id, "files": len(files or [])}))
    return ticket


class _Written:
    """Object keys put during a transaction, removed again when it fails."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow
        self.written: list[str] = []

    async def record(self, event: AuditEvent) -> None:
        await self.uow.record(event)


async def file_complaint(data: ComplaintInput, files: list[tuple[str, bytes]] | None = None) -> str:
    """A complaint from the public page; returns its ticket. Attachments are checked before anything is written."""
    checked = check_files(files or [])
    holder: _Written | None = None
    try:
        async with unit_of_work() as uow:
            holder = _Written(uow)
            return await _insert(holder, data, "pengadu", files=checked)
    except BaseException:
        store = make_object_store()
        for key in holder.written if holder else []:
            with contextlib.suppress(Exception):  # best effort; the original error matters
                store.delete(key)
        raise


async def report_missing_delivery(ticket: str, description: str) -> list[str]:
    """The requester says a recorded delivery never arrived: each such delivery of the ticket becomes
    disputed (delivery domain) and gets a complaint linked to it. Returns the complaint tickets. The same
    message for an unknown ticket as for one without such a delivery, so codes cannot be probed."""
    nothing = ComplaintError("Tidak ada penyaluran tercatat yang dapat dilaporkan untuk kode tiket ini.")
    code = normalise_ticket(ticket)[:24]
    text = description.strip()[:4000] or "Pemohon melaporkan bantuan yang tercatat disalurkan belum diterima."
    async with unit_of_work() as uow:
        request = await ServiceRequest.select(ServiceRequest.id).where(ServiceRequest.ticket_code == code).first()
        if request is None:
            raise nothing
        rows = await Delivery.select(
            Delivery.id, Delivery.status, Delivery.allocation, Delivery.allocation._.lks.as_alias("lks"),
            Delivery.allocation._.need._.household.as_alias("household"),
            Delivery.allocation._.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
        ).where((Delivery.allocation._.need._.request == request["id"]) & Delivery.requester_confirmed_at.is_null()
                & (Delivery.status == "recorded"))
        if not rows:
            raise nothing
        tickets = []
        holder = _Written(uow)
        for row in rows:
            try:
                new_status = requester_reports_missing(row["status"])
            except DeliveryError as exc:
                raise ComplaintError(str(exc)) from None
            data = ComplaintInput("tidak_diterima", text, True, "", "", row["kelurahan_code"], int(row["lks"]))
            complaint_ticket = await _insert(holder, data, "pemohon", delivery_id=row["id"],
                                             household_id=row["household"])
            await Delivery.update({Delivery.status: new_status,
                                   Delivery.dispute_reason: f"Pemohon melaporkan belum diterima ({complaint_ticket})",
                                   Delivery.decided_at: datetime.now(UTC)}).where(
                (Delivery.id == row["id"]) & (Delivery.status == row["status"]))
            await Allocation.update({Allocation.status: allocation_status_for(new_status)}).where(
                Allocation.id == row["allocation"])
            await Notification.insert(Notification(
                lks=int(row["lks"]), message=f"Penyaluran alokasi #{row['allocation']} dilaporkan belum diterima "
                                             "oleh penerima; Dinas Sosial menindaklanjuti.",
                link=f"/penyaluran/{row['allocation']}"))
            await uow.record(AuditEvent("pemohon", "delivery.requester_dispute", "delivery", str(row["id"]),
                                        {"status": row["status"]}, {"status": new_status,
                                                                    "complaint": complaint_ticket}))
            tickets.append(complaint_ticket)
    return tickets


# --------------------------------------------------------------------------------------- the complainant


async def public_status(ticket: str) -> dict[str, Any] | None:
    """What the complainant sees: category, status, plain-words steps, the answer; never a name or contact."""
    row = await Complaint.select(Complaint.id, Complaint.category, Complaint.status, Complaint.answer,
                                 Complaint.assignee_answered_at, Complaint.created_at).where(
        Complaint.ticket_code == normalise_ticket(ticket)).first()
    if row is None:
        return None
    row["events"] = await ComplaintEvent.select(ComplaintEvent.to_status, ComplaintEvent.public_note,
                                                ComplaintEvent.occurred_at).where(
        ComplaintEvent.complaint == row.pop("id")).order_by(ComplaintEvent.id)
    row["answer"] = rules.public_answer(row["status"], row["answer"], row.pop("assignee_answered_at") is not None)
    row["answer_pending"] = row["status"] == C.ANSWERED and not row["answer"]
    return row


# ------------------------------------------------------------------------------------------------- Dinsos


async def list_complaints(status: str = "", category: str = "", lks_id: int = 0, after: int = 0
                          ) -> tuple[list[dict[str, Any]], int]:
    where: Any = Complaint.id > 0
    if status:
        where &= Complaint.status == status
    if category:
        where &= Complaint.category == category
    if lks_id:
        where &= Complaint.lks == lks_id
    total = await count_rows(Complaint, where)
    rows = await Complaint.select(
        Complaint.id, Complaint.ticket_code, Complaint.category, Complaint.status, Complaint.anonymous,
        Complaint.kelurahan_code, Complaint.created_at, Complaint.updated_at, Complaint.lks._.name.as_alias("lks_name"),
        Complaint.delivery,
    ).where(where & (Complaint.id > after)).order_by(Complaint.id).limit(PAGE_SIZE)
    return rows, total


async def detail(complaint_id: int) -> dict[str, Any] | None:
    if not 0 < complaint_id <= MAX_ID:
        return None
    row = await Complaint.select(*Complaint.all_columns(), Complaint.lks._.name.as_alias("lks_name"),
                                 Complaint.assignee_lks._.name.as_alias("assignee_lks_name"),
                                 Complaint.assignee_answered_by._.username.as_alias("assignee_answered_by_name")
                                 ).where(Complaint.id == complaint_id).first()
    if row is None:
        return None
    cipher = row.pop("contact_cipher")
    row["contact"] = vault().decrypt(cipher) if cipher else ""
    row["events"] = await ComplaintEvent.select().where(ComplaintEvent.complaint == complaint_id).order_by(
        ComplaintEvent.id)
    store = make_object_store()
    row["files"] = [{**f, "url": store.download_url(f["object_key"], LINK_LIFETIME, f["filename"])}
                    for f in await ComplaintFile.select().where(ComplaintFile.complaint == complaint_id)]
    return row


async def act(user: CurrentUser, complaint_id: int, action: str, *, text: str = "", category: str = "",
              assignee_kind: str = "", office: str = "", lks_id: int | None = None) -> str:
    """One Dinsos step; returns the new status. Concurrent steps: the second one is refused."""
    async with unit_of_work() as uow:
        row = await Complaint.select(Complaint.status, Complaint.category).where(Complaint.id == complaint_id).first()
        if row is None:
            raise ComplaintError("Pengaduan tidak ditemukan.")
        known = {r["id"] for r in await verified_lks()} if assignee_kind == "lks" else set()
        s = rules.step(row["status"], action, text=text, category=category, assignee_kind=assignee_kind,
                       office=office, lks_id=lks_id, known_lks=known)
        now = datetime.now(UTC)
        values: dict[Any, Any] = {Complaint.status: s.to_status, Complaint.updated_at: now}
        if action == "triage" and category:
            values[Complaint.category] = category
        if action == "assign":  # a fresh assignment: the previous assignee's answer no longer stands
            values.update({Complaint.assignee_kind: s.assignee_kind, Complaint.assignee_office: s.assignee_office,
                           Complaint.assignee_lks: s.assignee_lks, Complaint.assignee_note: s.text[:500],
                           Complaint.assignee_answer: "", Complaint.assignee_answered_by: None,
                           Complaint.assignee_answered_at: None})
        if action == "answer" or (action == "close" and s.text):
            # Dinsos's own answer, a reason for closing unanswered, or its final answer replacing the assignee's
            values[Complaint.answer] = s.text
        if action == "answer":
            values[Complaint.assignee_answered_at] = None
        if s.to_status == C.CLOSED:
            values[Complaint.closed_at] = now
        done = await Complaint.update(values).where((Complaint.id == complaint_id)
                                                    & (Complaint.status == row["status"])).returning(Complaint.id)
        if not done:
            raise ComplaintError("Pengaduan ini baru saja diubah orang lain; muat ulang halaman.")
        await ComplaintEvent.insert(ComplaintEvent(complaint=complaint_id, from_status=s.from_status,
                                                   to_status=s.to_status, public_note=s.public_note, occurred_at=now))
        link = f"/pengaduan-masuk/{complaint_id}"
        if s.assignee_kind == "lks" and s.assignee_lks:  # to the staff who may open it, not the whole LKS
            answerers = (await lks_staff([s.assignee_lks], DELIVERIES))[s.assignee_lks]
            if answerers:
                await Notification.insert(*[Notification(
                    account=p.account_id, message=f"Dinas Sosial meneruskan pengaduan #{complaint_id} kepada LKS "
                                                  "Anda untuk dijawab.", link=link) for p in answerers])
        if s.assignee_kind == "office":
            staff = await Account.select(Account.id).where(
                (Account.office == s.assignee_office) & (Account.active == True))  # noqa: E712
            if staff:
                await Notification.insert(*[Notification(
                    account=a["id"], message=f"Dinas Sosial meneruskan pengaduan #{complaint_id} kepada instansi "
                                             "Anda untuk dijawab.", link=link) for a in staff])
        await uow.record(AuditEvent(user.username, f"complaint.{action}", "complaint", str(complaint_id),
                                    {"status": s.from_status, "category": row["category"]},
                                    {"status": s.to_status, "category": category or row["category"],
                                     "assignee": s.assignee_kind, "office": s.assignee_office,
                                     "lks": s.assignee_lks, "text": s.text[:200]}))
    return s.to_status


# ------------------------------------------------------------------------- the office or LKS it is passed to


class NotFound(LookupError):
    """Absent, or not assigned to the caller's office or LKS: the same answer for both."""


def _assigned_scope(user: CurrentUser) -> Any:
    """The complaints this account's office or LKS is (or was last) assigned; an LKS's only to its staff
    with the deliveries right (as the route's guard asks), none to the others."""
    if user.role == Role.OFFICE_STAFF and user.office_code:
        return (Complaint.assignee_kind == "office") & (Complaint.assignee_office == user.office_code)
    if user.role == Role.LKS_STAFF and user.lks_id and DELIVERIES in user.lks_rights:
        return (Complaint.assignee_kind == "lks") & (Complaint.assignee_lks == user.lks_id)
    return Complaint.id < 0


ASSIGNEE_COLUMNS = (Complaint.id, Complaint.category, Complaint.status, Complaint.kelurahan_code,
                    Complaint.created_at, Complaint.updated_at, Complaint.assignee_answered_at)


async def assigned_to(user: CurrentUser, status: str = "", after: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The complaints assigned to the account's office or LKS, oldest first, keyset-paged (no personal data)."""
    where = _assigned_scope(user)
    if status:
        where &= Complaint.status == status
    total = await count_rows(Complaint, where)
    rows = await Complaint.select(*ASSIGNEE_COLUMNS).where(where & (Complaint.id > min(max(after, 0), MAX_ID))
                                                           ).order_by(Complaint.id).limit(PAGE_SIZE)
    return rows, total


async def assigned_detail(user: CurrentUser, complaint_id: int) -> dict[str, Any]:
    """One complaint as its assignee sees it: what is needed to act, never who complained or how to reach
    them. A complaint about a delivery names the allocation only to the LKS that made it; reading a
    complaint linked to a household is access-logged."""
    if not 0 < complaint_id <= MAX_ID:
        raise NotFound(complaint_id)
    row = await Complaint.select(
        *ASSIGNEE_COLUMNS, Complaint.description, Complaint.assignee_kind, Complaint.assignee_office,
        Complaint.assignee_note, Complaint.assignee_answer, Complaint.household, Complaint.lks._.name.as_alias(
            "lks_name"), Complaint.delivery._.allocation.as_alias("allocation"),
        Complaint.delivery._.allocation._.lks.as_alias("allocation_lks"),
    ).where(_assigned_scope(user) & (Complaint.id == complaint_id)).first()
    if row is None:
        raise NotFound(complaint_id)
    if row.pop("allocation_lks") != user.lks_id or user.role != Role.LKS_STAFF:
        row["allocation"] = None
    row["events"] = await ComplaintEvent.select(ComplaintEvent.to_status, ComplaintEvent.public_note,
                                                ComplaintEvent.occurred_at).where(
        ComplaintEvent.complaint == complaint_id).order_by(ComplaintEvent.id)
    household = row.pop("household")
    if household is not None:
        await log_access(user, [int(household)], f"pengaduan #{complaint_id}")
    return row


async def answer_as_assignee(user: CurrentUser, complaint_id: int, text: str) -> str:
    """The assigned office's or LKS's answer: the complaint becomes ``answered`` for Dinsos to read and
    close. ``NotFound`` when it is not assigned to the caller; ``ComplaintError`` (nothing written) when
    the step is refused."""
    if not 0 < complaint_id <= MAX_ID:
        raise NotFound(complaint_id)
    async with unit_of_work() as uow:
        row = await Complaint.select(Complaint.status, Complaint.assignee_kind, Complaint.assignee_office).where(
            _assigned_scope(user) & (Complaint.id == complaint_id)).first()
        if row is None:
            raise NotFound(complaint_id)
        s = rules.assignee_step(row["status"], text, row["assignee_kind"], row["assignee_office"])
        now = datetime.now(UTC)
        done = await Complaint.update({
            Complaint.status: s.to_status, Complaint.updated_at: now, Complaint.answer: s.text,
            Complaint.assignee_answer: s.text, Complaint.assignee_answered_by: user.id,
            Complaint.assignee_answered_at: now,
        }).where(_assigned_scope(user) & (Complaint.id == complaint_id) & (Complaint.status == row["status"])
                 ).returning(Complaint.id)
        if not done:
            raise ComplaintError("Pengaduan ini baru saja diubah orang lain; muat ulang halaman.")
        await ComplaintEvent.insert(ComplaintEvent(complaint=complaint_id, from_status=s.from_status,
                                                   to_status=s.to_status, public_note=s.public_note, occurred_at=now))
        await uow.record(AuditEvent(user.username, "complaint.assignee_answer", "complaint", str(complaint_id),
                                    {"status": s.from_status},
                                    {"status": s.to_status, "assignee": row["assignee_kind"],
                                     "office": row["assignee_office"], "lks": user.lks_id, "text": s.text[:200]}))
    return s.to_status


def assignee_label(row: dict[str, Any]) -> str:
    """Who a complaint is passed to, for Dinsos's pages."""
    if row.get("assignee_kind") == "office":
        info = OFFICE_BY_CODE.get(row.get("assignee_office", ""))
        return info.short_name if info else str(row.get("assignee_office", ""))
    if row.get("assignee_kind") == "lks":
        return str(row.get("assignee_lks_name") or "LKS")
    return "Dinas Sosial" if row.get("assignee_kind") == "dinsos" else ""


async def counts_for_lks(lks_id: int) -> dict[str, int]:
    """Complaints naming the LKS, by status, and in total (for Dinsos's LKS page)."""
    rows = await Complaint.raw(
        "SELECT status, COUNT(*) AS n FROM complaint WHERE lks = {} GROUP BY status", lks_id)
    out = {r["status"]: int(r["n"]) for r in rows}
    out["total"] = sum(out.values())
    out["open"] = out["total"] - out.get(C.CLOSED, 0)
    return out


async def for_household(household_id: int) -> list[dict[str, Any]]:
    """Complaints linked to a household (through a delivery it received), for the Puskesos view."""
    return await Complaint.select(Complaint.id, Complaint.ticket_code, Complaint.category, Complaint.status,
                                  Complaint.created_at).where(Complaint.household == household_id).order_by(
        Complaint.id)

"""Approval of a round's proposed allocations by Dinsos: list, approve, reject, in bulk.

``approve`` re-checks every rule inside one transaction (``marketplace.approval.check_approval``) and
lets the database have the last word on the offer's capacity: ``storage.offers.commit_capacity`` is one
conditional UPDATE, and the table refuses ``remaining < 0``. On PostgreSQL the household row is locked
for the transaction so two approvals for the same household cannot both slip under the cap. A refusal
raises ``ApprovalRefused`` (Indonesian reason) and leaves nothing changed.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from piccolo.engine import engine_finder
from piccolo.query.functions.aggregate import Sum

from marketplace.approval import (
    ApprovalFacts,
    ApprovalRefused,
    capacity_units,
    check_approval,
    check_cancellation,
    check_rejection,
    end_of_period,
)
from marketplace.audit import AuditEvent
from marketplace.money import rupiah
from marketplace.needs import NeedError
from marketplace.reminders import Kind
from marketplace.settings import Settings, get_settings
from marketplace.vocabulary import KIND_LABELS, AllocationStatus, NeedStatus
from storage.registry import transition_need
from storage.tables import (
    Account,
    Allocation,
    GovernmentAid,
    Household,
    Lks,
    MatchingRound,
    Notification,
    NotificationPreference,
    Offer,
)
from storage.uow import unit_of_work

log = logging.getLogger("jitu.approval")
PAGE_SIZE = 50
COUNTED = [AllocationStatus.APPROVED, AllocationStatus.DELIVERED, AllocationStatus.CONFIRMED,
           AllocationStatus.DISPUTED]


@dataclass(frozen=True, slots=True)
class ProposalFilter:
    kecamatan: str = ""
    lks_id: int | None = None
    kind: str = ""
    min_priority: int | None = None
    status: str = AllocationStatus.PROPOSED


@dataclass(frozen=True, slots=True)
class Decision:
    allocation_id: int
    ok: bool
    message: str


class AllocationNotFound(LookupError):
    pass


def _is_postgres() -> bool:
    engine = engine_finder()
    return engine is not None and engine.engine_type == "postgres"


# --- listing ---------------------------------------------------------------------------------------

def _where(round_id: int, f: ProposalFilter) -> Any:
    cond: Any = Allocation.round == round_id
    if f.status:
        cond = cond & (Allocation.status == f.status)
    if f.kecamatan:
        cond = cond & Allocation.need._.household._.kelurahan_code.like(f.kecamatan + ".%")
    if f.lks_id:
        cond = cond & (Allocation.lks == f.lks_id)
    if f.kind:
        cond = cond & (Allocation.need.kind == f.kind)
    if f.min_priority is not None:
        cond = cond & (Allocation.priority >= f.min_priority)
    return cond


async def list_proposals(round_id: int, f: ProposalFilter, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """A round's allocations for review: no personal data (no names, NIK or addresses), only what decides."""
    where = _where(round_id, f)
    total = await Allocation.count().where(where)
    rows = await (
        Allocation.select(
            Allocation.id, Allocation.amount, Allocation.priority, Allocation.status, Allocation.explanation,
            Allocation.rejection_reason, Allocation.lks.name.as_alias("lks_name"), Allocation.lks.id.as_alias("lks_id"),
            Allocation.need.kind.as_alias("kind"), Allocation.need.ppks.as_alias("ppks"),
            Allocation.need.id.as_alias("need_id"),
            Allocation.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
            Allocation.offer.title.as_alias("offer_title"),
        )
        .where(where)
        .order_by(Allocation.priority, ascending=False)
        .order_by(Allocation.id)
        .limit(PAGE_SIZE)
        .offset((max(page, 1) - 1) * PAGE_SIZE)
    )
    return rows, total


async def get_round(round_id: int) -> dict[str, Any] | None:
    return await MatchingRound.select().where(MatchingRound.id == round_id).first()


async def latest_round_id() -> int | None:
    row = await MatchingRound.select(MatchingRound.id).order_by(MatchingRound.id, ascending=False).first()
    return int(row["id"]) if row else None


# --- approving -------------------------------------------------------------------------------------

async def _household_approved(household_id: int, period: str, exclude: int) -> int:
    row = await Allocation.select(Sum(Allocation.amount).as_alias("total")).where(
        (Allocation.need.household == household_id) & (Allocation.round.period == period)
        & Allocation.status.is_in(COUNTED) & (Allocation.id != exclude)
    ).first()
    return int(row["total"] or 0) if row else 0


async def _government_aid(household_id: int, kind: str, period: str) -> int:
    row = await GovernmentAid.select(Sum(GovernmentAid.amount).as_alias("total")).where(
        (GovernmentAid.household == household_id) & (GovernmentAid.kind == kind) & (GovernmentAid.period == period)
    ).first()
    return int(row["total"] or 0) if row else 0


async def _commit_capacity(offer_id: int, units: int) -> None:
    """The marketplace's atomic decrement if it is there; the same conditional UPDATE otherwise."""
    try:
        from storage.offers import commit_capacity
    except ImportError:
        rows = await Offer.update({Offer.remaining: Offer.remaining - units}).where(
            (Offer.id == offer_id) & (Offer.remaining >= units)).returning(Offer.id)
        if not rows:
            raise ApprovalRefused("capacity", "Sisa kapasitas penawaran LKS tidak cukup untuk alokasi ini.") from None
        return
    try:
        await commit_capacity(offer_id, units)
    except ValueError as exc:  # CapacityExceeded (an OfferError)
        raise ApprovalRefused("capacity", "Sisa kapasitas penawaran LKS tidak cukup untuk alokasi ini.") from exc


async def _ledger_out(lks_id: int, allocation_id: int, amount: int) -> None:
    try:
        from storage.ledger import record_allocation_out
    except ImportError:
        from storage.tables import LedgerEntry

        await LedgerEntry.insert(LedgerEntry(lks=lks_id, entry_type="allocation", amount=-amount,
                                             allocation=allocation_id, memo=f"Alokasi #{allocation_id}"))
        return
    await record_allocation_out(lks_id, allocation_id, amount)


async def move_need(need_id: int, to_status: str, actor: str, note: str) -> None:
    """A need's status step through the registry's state machine (one place for its rules), inside the
    caller's transaction; the registry's refusal (Indonesian) refuses this decision and changes nothing."""
    try:
        await transition_need(need_id, to_status, actor, note)
    except NeedError as exc:
        raise ApprovalRefused("need", str(exc)) from exc


async def approve(allocation_id: int, actor: str, decided_by: int | None = None,
                  settings: Settings | None = None) -> dict[str, Any]:
    """Approve one proposed allocation, re-checking every rule now; raises ``ApprovalRefused``."""
    settings = settings or get_settings()
    async with unit_of_work() as uow:
        # take the allocation first (a write: SQLite takes its write lock, PostgreSQL the row lock), so a
        # second officer approving the same allocation waits and then finds it decided
        now = datetime.now(UTC)
        taken = await Allocation.update({Allocation.decided_at: now}).where(
            Allocation.id == allocation_id).returning(Allocation.id)
        if not taken:
            raise AllocationNotFound(allocation_id)
        a = await Allocation.select(
            *Allocation.all_columns(),
            Allocation.round.period.as_alias("period"),
            Allocation.need.status.as_alias("need_status"), Allocation.need.amount.as_alias("need_amount"),
            Allocation.need.kind.as_alias("need_kind"), Allocation.need.household.as_alias("household_id"),
            Allocation.offer.status.as_alias("offer_status"), Allocation.offer.remaining.as_alias("offer_remaining"),
            Allocation.offer.is_goods.as_alias("is_goods"), Allocation.offer.unit_value.as_alias("unit_value"),
            Allocation.offer.unit.as_alias("unit"),
        ).where(Allocation.id == allocation_id).first()
        assert a is not None
        household_id, period = int(a["household_id"]), str(a["period"])
        if _is_postgres():  # serialise approvals for one household: the cap is a sum over rows
            await Household.raw("SELECT id FROM household WHERE id = {} FOR UPDATE", household_id)
        unit_value = int(a["unit_value"] or 0) if a["is_goods"] else 0
        facts = ApprovalFacts(
            allocation_id=allocation_id, allocation_status=a["status"], amount=int(a["amount"]),
            need_status=a["need_status"], need_amount=int(a["need_amount"]),
            government_aid=await _government_aid(household_id, a["need_kind"], period),
            household_approved=await _household_approved(household_id, period, allocation_id),
            household_cap=settings.household_cap, offer_status=a["offer_status"],
            offer_remaining=int(a["offer_remaining"]), unit_value=unit_value,
        )
        check_approval(facts)
        units = capacity_units(facts.amount, unit_value)
        await _commit_capacity(int(a["offer"]), units)
        deliver_by = a["deliver_by"] or end_of_period(period)
        done = await Allocation.update({
            Allocation.status: AllocationStatus.APPROVED, Allocation.decided_by: decided_by,
            Allocation.decided_at: now, Allocation.deliver_by: deliver_by, Allocation.rejection_reason: "",
        }).where((Allocation.id == allocation_id) & (Allocation.status == AllocationStatus.PROPOSED)
                 ).returning(Allocation.id)
        if not done:
            raise ApprovalRefused("status", f"Alokasi #{allocation_id} sudah diputuskan.")
        if not a["is_goods"]:
            await _ledger_out(int(a["lks"]), allocation_id, facts.amount)
        await move_need(int(a["need"]), NeedStatus.APPROVED, actor,
                        "Disetujui Dinas Sosial; menunggu penyaluran oleh LKS")
        kind = KIND_LABELS.get(a["need_kind"], (a["need_kind"], ""))[0]
        what = f"{units} {a['unit'] or 'unit'}" if a["is_goods"] else rupiah(facts.amount)
        message = (f"Alokasi #{allocation_id} disetujui: {kind.lower()} {what}, "
                   f"salurkan paling lambat {deliver_by:%d-%m-%Y}.")
        await Notification.insert(Notification(lks=int(a["lks"]), message=message, link="/lks-saya/keluarga",
                                               kind=Kind.DECISION))
        await uow.record(AuditEvent(actor, "allocation.approve", "allocation", str(allocation_id),
                                    {"status": a["status"]},
                                    {"status": "approved", "amount": facts.amount, "offer": a["offer"],
                                     "units": units, "deliver_by": deliver_by.isoformat()}))
    await notify_lks_by_email(int(a["lks"]), message, settings)
    return {"id": allocation_id, "lks": int(a["lks"]), "units": units, "message": message}


async def reject(allocation_id: int, reason: str, actor: str, decided_by: int | None = None) -> None:
    async with unit_of_work() as uow:
        row = await Allocation.select(Allocation.status, Allocation.need, Allocation.need.status.as_alias("need_status")
                                      ).where(Allocation.id == allocation_id).first()
        if row is None:
            raise AllocationNotFound(allocation_id)
        clean = check_rejection(row["status"], reason)
        done = await Allocation.update({
            Allocation.status: AllocationStatus.REJECTED, Allocation.rejection_reason: clean,
            Allocation.decided_by: decided_by, Allocation.decided_at: datetime.now(UTC),
        }).where((Allocation.id == allocation_id) & (Allocation.status == AllocationStatus.PROPOSED)
                 ).returning(Allocation.id)
        if not done:
            raise ApprovalRefused("status", f"Alokasi #{allocation_id} sudah diputuskan.")
        if row["need_status"] == NeedStatus.MATCHED:  # back in the pool for the next round
            await move_need(int(row["need"]), NeedStatus.VERIFIED, actor,
                            "Usulan bantuan tidak disetujui; menunggu ronde berikutnya")
        await uow.record(AuditEvent(actor, "allocation.reject", "allocation", str(allocation_id),
                                    {"status": row["status"]}, {"status": "rejected", "reason": clean}))


async def cancel_in(uow: Any, allocation_id: int, reason: str, actor: str) -> bool:
    """Cancel an allocation nothing was delivered for (the recipient revoked consent), inside the caller's
    unit of work: it becomes rejected with ``reason``; an approved one gives its capacity back to the offer
    and, for funds, its money back to the LKS's ledger, and the LKS is told not to deliver. The need is
    the caller's to move. Returns False when the allocation was no longer cancellable (delivered meanwhile)."""
    a = await Allocation.select(Allocation.id, Allocation.status, Allocation.amount, Allocation.offer, Allocation.lks,
                                Allocation.offer.is_goods.as_alias("is_goods"),
                                Allocation.offer.unit_value.as_alias("unit_value")).where(
        Allocation.id == allocation_id).first()
    if a is None:
        return False
    try:
        check_cancellation(a["status"])
    except ApprovalRefused:
        return False
    done = await Allocation.update({
        Allocation.status: AllocationStatus.REJECTED, Allocation.rejection_reason: reason,
        Allocation.decided_at: datetime.now(UTC),
    }).where((Allocation.id == allocation_id) & (Allocation.status == a["status"])).returning(Allocation.id)
    if not done:
        return False
    after: dict[str, Any] = {"status": "rejected", "reason": reason}
    if a["status"] == AllocationStatus.APPROVED:
        units = capacity_units(int(a["amount"]), int(a["unit_value"] or 0) if a["is_goods"] else 0)
        await Offer.update({Offer.remaining: Offer.remaining + units}).where(Offer.id == a["offer"])
        after["capacity_back"] = units
        if not a["is_goods"]:
            from marketplace.ledger import allocation_back
            from storage.ledger import write

            await write(int(a["lks"]), [allocation_back(allocation_id, int(a["amount"]))])
            after["ledger_back"] = int(a["amount"])
        await Notification.insert(Notification(
            lks=int(a["lks"]), message=f"Alokasi #{allocation_id} dibatalkan: penerima mencabut persetujuannya. "
                                       "Jangan salurkan bantuan ini.", link="/lks-saya/keluarga"))
    await uow.record(AuditEvent(actor, "allocation.cancel", "allocation", str(allocation_id),
                                {"status": a["status"]}, after))
    return True


async def decide_many(ids: list[int], action: str, reason: str, actor: str, decided_by: int | None = None,
                      settings: Settings | None = None) -> list[Decision]:
    """Bulk: each allocation in its own transaction, so one refusal does not undo the others."""
    results: list[Decision] = []
    for allocation_id in ids:
        try:
            if action == "approve":
                await approve(allocation_id, actor, decided_by, settings)
                results.append(Decision(allocation_id, True, "Disetujui"))
            else:
                await reject(allocation_id, reason, actor, decided_by)
                results.append(Decision(allocation_id, True, "Ditolak"))
        except ApprovalRefused as exc:
            results.append(Decision(allocation_id, False, str(exc)))
        except AllocationNotFound:
            results.append(Decision(allocation_id, False, "Alokasi tidak ditemukan."))
    return results


# --- e-mail to the LKS ------------------------------------------------------------------------------

def build_lks_email(to: list[str], lks_name: str, message: str, settings: Settings) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = "jitu: alokasi bantuan disetujui Dinas Sosial"
    email["From"] = settings.smtp_from
    email["To"] = ", ".join(to)
    email.set_content(
        f"Yth. {lks_name},\n\n{message}\n\nDaftar keluarga yang harus dilayani ada di portal jitu, "
        "menu \"Keluarga dampingan\". Surel ini tidak memuat data pribadi.\n\nDinas Sosial Kota Bandung\n"
    )
    return email


async def lks_recipients(lks_id: int) -> tuple[str, list[str]]:
    lks = await Lks.select(Lks.name, Lks.email).where(Lks.id == lks_id).first()
    staff = await Account.select(Account.id, Account.email).where(
        (Account.lks == lks_id) & (Account.active == True) & (Account.email != "")  # noqa: E712
    )
    declined = {int(r["account"]) for r in await NotificationPreference.select(NotificationPreference.account).where(
        NotificationPreference.account.is_in([int(s["id"]) for s in staff] or [0])
        & (NotificationPreference.kind == Kind.DECISION) & (NotificationPreference.email == False))}  # noqa: E712
    emails = [lks["email"]] if lks and lks["email"] else []
    emails += [s["email"] for s in staff if s["email"] not in emails and int(s["id"]) not in declined]
    return (lks["name"] if lks else ""), emails


def send_email(email: EmailMessage, settings: Settings) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        smtp.send_message(email)


async def notify_lks_by_email(lks_id: int, message: str, settings: Settings) -> bool:
    """Send when SMTP is configured; a mail failure is logged, never undoes the approval."""
    if not settings.smtp_host:
        return False
    name, to = await lks_recipients(lks_id)
    if not to:
        return False
    try:
        await asyncio.to_thread(send_email, build_lks_email(to, name, message, settings), settings)
    except (OSError, smtplib.SMTPException):
        log.exception("e-mail to LKS %s failed", lks_id)
        return False
    return True


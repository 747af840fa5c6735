"""The retention schedule (docs/dpia.md §4) applied: expired sessions deleted, households whose
consent was withdrawn anonymised. Anonymised households keep kelurahan and desil for statistics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from marketplace.audit import AuditEvent
from storage.tables import Household, Member, WebSession
from storage.uow import unit_of_work


@dataclass(frozen=True)
class RetentionReport:
    sessions_deleted: int
    households_anonymised: int


async def apply_retention(actor: str = "system") -> RetentionReport:
    now = datetime.now(UTC)
    expired = await WebSession.count().where(WebSession.expires_at < now)
    await WebSession.delete().where(WebSession.expires_at < now)
    withdrawn = await Household.select(Household.id).where(
        (Household.legal_basis == "consent") & Household.consent_withdrawn_at.is_not_null()
        & Household.kk_hash.not_like("anon-%")
    )
    for row in withdrawn:
        await anonymise_household(row["id"], actor)
    return RetentionReport(expired, len(withdrawn))


async def anonymise_household(household_id: int, actor: str) -> None:
    async with unit_of_work() as uow:
        members = await Member.select(Member.id).where(Member.household == household_id)
        for member in members:
            await Member.update({Member.name: "(dianonimkan)", Member.nik_cipher: "",
                                 Member.nik_hash: f"anon-{member['id']}", Member.disability: ""}
                                ).where(Member.id == member["id"])
        await Household.update({Household.kk_cipher: "", Household.kk_hash: f"anon-hh-{household_id}",
                                Household.address: "", Household.phone: "", Household.rt: "", Household.rw: ""}
                               ).where(Household.id == household_id)
        await uow.record(AuditEvent(actor, "household.anonymise", "household", str(household_id), None,
                                    {"members": len(members), "reason": "consent_withdrawn"}))

"""The Puskesos view of one household: aid received (government programmes and LKS allocations by
period), open needs, referrals, complaints, and programmes it may still be eligible for. A handful of
queries per household, none per row. Operators see only households of their own kelurahan."""

from __future__ import annotations

from typing import Any

from marketplace import puskesos as rules
from marketplace.needs import OPEN_STATUSES
from marketplace.vocabulary import Role
from storage import complaints, registry
from storage.accounts import CurrentUser
from storage.referrals import service as referrals
from storage.tables import Allocation, GovernmentAid, GovernmentProgram, Household, Member, Need

LKS_AID_STATUSES = ["approved", "delivered", "confirmed", "disputed"]


async def overview(user: CurrentUser, household_id: int) -> dict[str, Any] | None:
    where: Any = Household.id == household_id
    if user.role == Role.OPERATOR_KELURAHAN:
        where &= Household.kelurahan_code == (user.kelurahan_code or "-")
    hh = await Household.select(Household.id, Household.kk_cipher, Household.kelurahan_code, Household.rt,
                                Household.rw, Household.desil, Household.extreme_poor, Household.source).where(
        where).first()
    if hh is None:
        return None
    hh["kk"] = registry.show_identifier(user, hh.pop("kk_cipher"))
    members = await Member.select(Member.name, Member.relation, Member.birth_date, Member.sex,
                                  Member.disability).where(Member.household == household_id).order_by(Member.id)
    gov = await GovernmentAid.select(GovernmentAid.period, GovernmentAid.program, GovernmentAid.kind,
                                     GovernmentAid.amount, GovernmentAid.program.name.as_alias("program_name")).where(
        GovernmentAid.household == household_id).order_by(GovernmentAid.program)
    lks = await Allocation.select(
        Allocation.id, Allocation.amount, Allocation.status, Allocation.offer.period.as_alias("period"),
        Allocation.offer.title.as_alias("offer_title"), Allocation.lks.name.as_alias("lks_name"),
        Allocation.need.kind.as_alias("kind"),
    ).where((Allocation.need.household == household_id) & Allocation.status.is_in(LKS_AID_STATUSES)).order_by(
        Allocation.id)
    needs = await Need.select(Need.id, Need.ppks, Need.kind, Need.amount, Need.status, Need.priority,
                              Need.submitted_at, Need.request.ticket_code.as_alias("ticket")).where(
        (Need.household == household_id) & Need.status.is_in([*OPEN_STATUSES, "referred"])).order_by(Need.id)
    current = registry.current_period()
    recent = set(rules.recent_periods(current))
    received = {str(r["program"]) for r in gov if r["period"] in recent}
    programmes = [rules.Programme(p["code"], p["name"], p["kind"], p["desil_max"], p["active"])
                  for p in await GovernmentProgram.select()]
    return {
        "household": hh, "members": members, "government": rules.by_period(gov), "lks_aid": rules.by_period(lks),
        "needs": needs, "referrals": await referrals.for_household(household_id),
        "complaints": await complaints.for_household(household_id),
        "eligible": rules.still_eligible(hh["desil"], programmes, received), "current_period": current,
        "recent_periods": rules.RECENT_PERIODS,
    }

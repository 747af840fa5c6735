"""The Puskesos view: a household of the operator's kelurahan at a glance (aid received by period, open
needs, referrals, complaints, programmes it may still be eligible for). Every opening is access-logged."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from marketplace import complaints as complaint_rules
from marketplace import needs as need_rules
from marketplace import referrals as referral_rules
from marketplace.regions import name_of
from marketplace.vocabulary import Role
from portal.auth import provide_user, roles
from portal.web.common import page
from storage import puskesos
from storage.access import log_access

VIEWERS = roles(Role.OPERATOR_KELURAHAN, Role.PEKERJA_SOSIAL, Role.DINSOS_ADMIN)
MAX_ID = 2**31 - 1


@get("/puskesos/keluarga/{household_id:int}", opt=VIEWERS, name="puskesos_household")
async def household(request: Request[Any, Any, Any], household_id: FromPath[int]) -> Template:
    user = await provide_user(request)
    view = await puskesos.overview(user, household_id) if 0 < household_id <= MAX_ID else None
    if view is None:
        raise NotFoundException("Keluarga tidak ditemukan")
    await log_access(user, [household_id], "puskesos: ringkasan keluarga")
    return await page(request, "puskesos/household.html", name_of=name_of, need_label=need_rules.label,
                      referral_label=referral_rules.label, complaint_label=complaint_rules.label,
                      category_label=complaint_rules.category_label, **view)


ROUTES = [household]

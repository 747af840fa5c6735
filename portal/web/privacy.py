"""The data protection officer's view of the access log (UU 27/2022 Pasal 46 and 53): who read whose
personal data, and when. Read-only: no route changes the log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from litestar import Request, get
from litestar.response import Template

from marketplace.vocabulary import Role
from portal.auth import roles
from portal.web import menu
from portal.web.common import PAGE_SIZE, page, page_count, page_number, parse_id
from storage.access import households_read_by
from storage.counting import count_rows
from storage.tables import DataAccess

menu.add("/privasi/akses", "Log akses data pribadi", Role.DPO, Role.DINSOS_ADMIN)


def _parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@get("/privasi/akses", opt=roles(Role.DPO, Role.DINSOS_ADMIN), name="access_log")
async def access_log(request: Request[Any, Any, Any]) -> Template:
    q = request.query_params
    username = (q.get("username") or "").strip()
    household = (q.get("household") or "").strip()
    start, end = _parse_date(q.get("dari")), _parse_date(q.get("sampai"))
    page_no = page_number(request)
    where = []
    if username:
        where.append(DataAccess.username == username)
    if parse_id(household) is not None:
        where.append(DataAccess.household_id == parse_id(household))
    if start:
        where.append(DataAccess.occurred_at >= datetime.combine(start, time.min))
    if end:
        where.append(DataAccess.occurred_at < datetime.combine(end + timedelta(days=1), time.min))
    condition: Any = None
    for clause in where:
        condition = clause if condition is None else condition & clause
    total = await count_rows(DataAccess, condition)
    # ids first, then their rows: the ids come from an index alone ((username, id) for one account), where
    # selecting whole rows made PostgreSQL walk the whole log backwards past every other account's newer rows
    # (33 ms at city scale) to find one account's newest 50
    ids = DataAccess.select(DataAccess.id)
    ids = ids.where(condition) if condition is not None else ids
    picked = [r["id"] for r in await ids.order_by(DataAccess.id, ascending=False).limit(PAGE_SIZE)
              .offset((page_no - 1) * PAGE_SIZE)]
    rows = await DataAccess.select(DataAccess.occurred_at, DataAccess.username, DataAccess.role,
                                   DataAccess.household_id, DataAccess.purpose).where(
        DataAccess.id.is_in(picked)).order_by(DataAccess.id, ascending=False) if picked else []
    # the Pasal 46 question: whose data could this account read? (kept per account, storage.access)
    households = await households_read_by(username) if username else None
    return await page(request, "privacy/access_log.html", rows=rows, total=total, page_no=page_no,
                      pages=page_count(total), username=username, household=household,
                      dari=q.get("dari") or "", sampai=q.get("sampai") or "", households=households)


ROUTES = [access_log]

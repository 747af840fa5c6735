"""The person's notifications (``/pemberitahuan``) and the kinds of reminder they receive, in the portal
and by e-mail (``/pemberitahuan/pilihan``). Sending them: ``storage.reminders`` (``jitu reminders send``)."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from marketplace.reminders import CHANNELS, KINDS, parse_choices
from marketplace.settings import get_settings
from marketplace.vocabulary import Role
from portal.auth import ANY_ROLE, provide_user
from portal.web import menu
from portal.web.common import page, page_count, page_number
from storage import reminders

for _role in Role:
    menu.add("/pemberitahuan", "Pemberitahuan", _role)


@get("/pemberitahuan", opt=ANY_ROLE)
async def notification_list(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    number = page_number(request)
    rows, total = await reminders.notifications_for(user.id, user.lks_id, number)
    response = await page(request, "reminders/list.html", rows=rows, total=total, hal=number,
                          pages=page_count(total))
    await reminders.mark_read(user.id, [int(r["id"]) for r in rows])
    return response


async def _choices_page(request: Request[Any, Any, Any], error: str = "", status_code: int = 200,
                        saved: bool = False) -> Template:
    user = await provide_user(request)
    return await page(request, "reminders/choices.html", status_code=status_code, error=error, saved=saved,
                      kinds=KINDS, channels=CHANNELS, chosen=await reminders.preferences(user.id),
                      email_on=bool(get_settings().smtp_host))


@get("/pemberitahuan/pilihan", opt=ANY_ROLE)
async def choices_form(request: Request[Any, Any, Any]) -> Template:
    return await _choices_page(request, saved=bool(request.query_params.get("tersimpan")))


@post("/pemberitahuan/pilihan", opt=ANY_ROLE)
async def choices_save(request: Request[Any, Any, Any]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        chosen = parse_choices({str(v) for v in form.getall("choice", [])} if "choice" in form else set())
    except ValueError as exc:
        return await _choices_page(request, str(exc), 400)
    await reminders.save_preferences(user.id, chosen, user.username)
    return Redirect(path="/pemberitahuan/pilihan", query_params={"tersimpan": "1"})


ROUTES = [notification_list, choices_form, choices_save]

"""The LKS's team (issue 14 item 2): the LKS admin's pages (``/lks-saya/tim``: invite by one-time link
or e-mail, set rights, deactivate and reactivate) and the invitee's page (``/undangan``).

The invitation token travels in the query string (``/undangan?token=…``): the access log replaces every
query value it does not know by ``…`` (``portal/accesslog.py``), so the token never reaches a log, and
``Referrer-Policy: no-referrer`` keeps it from other sites.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.lks_team import (
    ADMIN,
    INVITE_LIFETIME,
    INVITE_STATES,
    RIGHTS,
    TeamError,
    check_acceptance,
    check_invite,
    parse_rights,
)
from marketplace.vocabulary import Role
from portal.auth import PUBLIC, hash_password, provide_user, roles
from portal.web import menu
from portal.web.common import MAX_ID, page, page_count, page_number
from storage.lks_team import team
from storage.tables import Lks

ADMINS = roles(Role.LKS_STAFF, right=ADMIN)
menu.add("/lks-saya/tim", "Tim LKS", Role.LKS_STAFF)
HOURS = int(INVITE_LIFETIME.total_seconds() // 3600)


def _id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFoundException()
    return value


async def _team_page(request: Request[Any, Any, Any], *, status_code: int = 200, errors: dict[str, str] | None = None,
                     values: dict[str, Any] | None = None, link: str = "", sent_to: str = "",
                     notice: str = "") -> Template:
    user = await provide_user(request)
    q = request.query_params.get("cari", "").strip()[:100]
    number = page_number(request, "hal")
    rows, total = await team.team_of(user, q, number)
    lks = await Lks.select(Lks.name).where(Lks.id == user.lks_id).first()
    return await page(request, "lks_team/team.html", status_code=status_code, rows=rows, total=total, q=q,
                      hal=number, pages=page_count(total), invites=await team.invites_of(user),
                      lks_name=lks["name"] if lks else "", RIGHTS=RIGHTS, INVITE_STATES=INVITE_STATES,
                      errors=errors or {}, values=values or {"rights": sorted(RIGHTS.keys() - {ADMIN})},
                      link=link, sent_to=sent_to, notice=notice, hours=HOURS)


@get("/lks-saya/tim", opt=ADMINS, name="lks_team")
async def team_list(request: Request[Any, Any, Any]) -> Template:
    notice = {"nonaktif": "Akun dinonaktifkan; sesi masuknya sudah diakhiri.", "aktif": "Akun diaktifkan kembali.",
              "hak": "Hak akses disimpan.", "batal": "Undangan dibatalkan."}.get(request.query_params.get("e", ""), "")
    return await _team_page(request, notice=notice)


@post("/lks-saya/tim/undang", opt=ADMINS, name="lks_team_invite")
async def invite(request: Request[Any, Any, Any]) -> Template:
    """The link is shown once, here, unless it went out by e-mail (SMTP configured and an address given)."""
    user = await provide_user(request)
    form = await request.form()
    email = str(form.get("email", "")).strip().lower()
    full_name = " ".join(str(form.get("full_name", "")).split())
    chosen = [str(v) for v in form.getall("rights", [])]
    values = {"email": email, "full_name": full_name, "rights": chosen}
    try:
        rights = parse_rights(chosen)
    except TeamError as exc:
        return await _team_page(request, status_code=400, errors={"rights": str(exc)}, values=values)
    errors = check_invite(email, full_name, rights)
    if errors:
        return await _team_page(request, status_code=400, errors=errors, values=values)
    try:
        invite_id, token = await team.create_invite(user, email, full_name, rights)
    except TeamError as exc:
        return await _team_page(request, status_code=400, errors={"form": str(exc)}, values=values)
    link = f"{str(request.base_url).rstrip('/')}/undangan?token={token}"
    if await team.send_invite(invite_id, user, link, request.app.state["settings"]):
        return await _team_page(request, sent_to=email)
    return await _team_page(request, link=link, sent_to="")


@post("/lks-saya/tim/undangan/{invite_id:int}/batal", opt=ADMINS, name="lks_team_invite_revoke")
async def invite_revoke(request: Request[Any, Any, Any], invite_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    try:
        await team.revoke_invite(user, _id(invite_id))
    except team.TeamNotFound:
        raise NotFoundException() from None
    except TeamError as exc:
        return await _team_page(request, status_code=400, errors={"form": str(exc)})
    return Redirect(path="/lks-saya/tim?e=batal")


async def _member_page(request: Request[Any, Any, Any], account_id: int, *, status_code: int = 200,
                       error: str = "") -> Template:
    user = await provide_user(request)
    try:
        member = await team.member_of(user, _id(account_id))
    except team.TeamNotFound:
        raise NotFoundException() from None
    return await page(request, "lks_team/member.html", status_code=status_code, member=member, RIGHTS=RIGHTS,
                      error=error, is_self=member["account_id"] == user.id)


@get("/lks-saya/tim/{account_id:int}", opt=ADMINS, name="lks_team_member")
async def member_detail(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Template:
    return await _member_page(request, account_id)


@post("/lks-saya/tim/{account_id:int}/hak", opt=ADMINS, name="lks_team_rights")
async def member_rights(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    form = await request.form()
    try:
        await team.set_rights(user, _id(account_id), parse_rights(str(v) for v in form.getall("rights", [])))
    except team.TeamNotFound:
        raise NotFoundException() from None
    except TeamError as exc:
        return await _member_page(request, account_id, status_code=400, error=str(exc))
    return Redirect(path="/lks-saya/tim?e=hak")


async def _set_active(request: Request[Any, Any, Any], account_id: int, active: bool) -> Template | Redirect:
    user = await provide_user(request)
    try:
        await team.set_active(user, _id(account_id), active)
    except team.TeamNotFound:
        raise NotFoundException() from None
    except TeamError as exc:
        return await _member_page(request, account_id, status_code=400, error=str(exc))
    if not active and account_id == user.id:  # the admin deactivated themselves (another admin remains)
        request.clear_session()
        return Redirect(path="/masuk")
    return Redirect(path="/lks-saya/tim?e=" + ("aktif" if active else "nonaktif"))


@post("/lks-saya/tim/{account_id:int}/nonaktifkan", opt=ADMINS, name="lks_team_deactivate")
async def member_deactivate(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Template | Redirect:
    return await _set_active(request, account_id, False)


@post("/lks-saya/tim/{account_id:int}/aktifkan", opt=ADMINS, name="lks_team_activate")
async def member_activate(request: Request[Any, Any, Any], account_id: FromPath[int]) -> Template | Redirect:
    return await _set_active(request, account_id, True)


# --- the invitee --------------------------------------------------------------------------------------

async def _invite_page(request: Request[Any, Any, Any], token: str, *, status_code: int = 200,
                       errors: dict[str, str] | None = None, values: dict[str, str] | None = None) -> Template:
    try:
        found = await team.open_invite(token)
    except TeamError as exc:
        return await page(request, "lks_team/invite_invalid.html", status_code=404 if status_code == 200 else
                          status_code, message=str(exc))
    return await page(request, "lks_team/accept.html", status_code=status_code, invite=found, token=token,
                      RIGHTS=RIGHTS, errors=errors or {},
                      values=values or {"full_name": found["full_name"], "username": ""})


@get("/undangan", opt=PUBLIC, name="lks_team_accept_form")
async def accept_form(request: Request[Any, Any, Any]) -> Template:
    return await _invite_page(request, request.query_params.get("token", "")[:200])


@post("/undangan", opt=PUBLIC, name="lks_team_accept")
async def accept(request: Request[Any, Any, Any]) -> Template:
    form = await request.form()
    token = str(form.get("token", ""))[:200]
    full_name = " ".join(str(form.get("full_name", "")).split())
    username = str(form.get("username", "")).strip().lower()
    password = str(form.get("password", ""))[:2048]
    values = {"full_name": full_name, "username": username}
    errors = check_acceptance(full_name, username, password, str(form.get("password_confirm", ""))[:2048])
    if errors:
        return await _invite_page(request, token, status_code=400, errors=errors, values=values)
    try:
        await team.accept_invite(token, full_name, username, hash_password(password))
    except team.InviteInvalid as exc:
        return await page(request, "lks_team/invite_invalid.html", status_code=400, message=str(exc))
    except TeamError as exc:
        return await _invite_page(request, token, status_code=400, errors={"username": str(exc)}, values=values)
    return await page(request, "lks_team/accepted.html", username=username)


ROUTES = [team_list, invite, invite_revoke, member_detail, member_rights, member_deactivate, member_activate,
          accept_form, accept]

"""Dinsos's page for API tokens: create one per office or LKS (shown once), list, revoke."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace.vocabulary import Role
from portal.auth import provide_user, roles
from portal.web import menu
from portal.web.common import page
from storage.api import tokens
from storage.referrals.service import list_offices
from storage.tables import Lks

ADMIN = roles(Role.DINSOS_ADMIN)
menu.add("/admin/token-api", "Token API", Role.DINSOS_ADMIN)


async def _page(request: Request[Any, Any, Any], status_code: int = 200, error: str | None = None,
                created: str | None = None) -> Template:
    lks = await Lks.select(Lks.id, Lks.name).where(Lks.status == "verified").order_by(Lks.name).limit(500)
    return await page(request, "api_tokens/list.html", status_code=status_code, error=error, created=created,
                      tokens=await tokens.list_tokens(), offices=await list_offices(), lks=lks)


@get("/admin/token-api", opt=ADMIN, name="api_tokens")
async def token_list(request: Request[Any, Any, Any]) -> Template:
    return await _page(request)


@post("/admin/token-api", opt=ADMIN, name="api_token_create")
async def token_create(request: Request[Any, Any, Any]) -> Template:
    user = await provide_user(request)
    form = await request.form()
    owner = str(form.get("owner", ""))[:30]
    office_code = owner.removeprefix("office:") if owner.startswith("office:") else ""
    lks_text = owner.removeprefix("lks:") if owner.startswith("lks:") else ""
    try:
        _, token = await tokens.create_token(user, str(form.get("label", ""))[:200], office_code=office_code,
                                             lks_id=int(lks_text) if lks_text.isdigit() and len(lks_text) < 11 else 0)
    except tokens.TokenError as exc:
        return await _page(request, 400, error=str(exc))
    return await _page(request, created=token)


@post("/admin/token-api/{token_id:int}/cabut", opt=ADMIN, name="api_token_revoke")
async def token_revoke(request: Request[Any, Any, Any], token_id: FromPath[int]) -> Template | Redirect:
    user = await provide_user(request)
    try:
        await tokens.revoke_token(user, token_id)
    except tokens.TokenError as exc:
        return await _page(request, 404, error=str(exc))
    return Redirect(path="/admin/token-api")


ROUTES = [token_list, token_create, token_revoke]

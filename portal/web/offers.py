"""LKS staff manage their offers; every page is scoped to the staff member's own LKS."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from marketplace import regions
from marketplace.lks import LksError
from marketplace.lks_reports import OffersPaused
from marketplace.lks_team import OFFERS
from marketplace.offers import OfferError, OfferInvalid, parse_offer
from marketplace.vocabulary import KIND_LABELS, Role
from portal.auth import provide_user, roles
from portal.web import menu
from portal.web.common import language_of, page
from portal.web.where_needed import staff_context
from storage import lks as lks_store
from storage import offers as offer_store
from storage.accounts import CurrentUser
from storage.lks_reports.deadlines import standing_of

menu.add("/lks-saya/penawaran", "Penawaran bantuan", Role.LKS_STAFF)
STAFF = roles(Role.LKS_STAFF, right=OFFERS)


async def staff_lks(request: Request[Any, Any, Any]) -> tuple[CurrentUser, dict[str, Any]]:
    """The logged-in staff member and their own LKS (the only one they can see or change)."""
    user = await provide_user(request)
    if user.lks_id is None:
        raise NotFoundException()
    return user, await lks_store.get_lks(user.lks_id)


async def _own_offer(user: CurrentUser, offer_id: int) -> dict[str, Any]:
    try:
        return await offer_store.get_offer(offer_id, user.lks_id)
    except offer_store.OfferNotFound:
        raise NotFoundException() from None  # another LKS's offer looks exactly like a missing one


def _form_context(**extra: Any) -> dict[str, Any]:
    return {"kinds": KIND_LABELS, "kecamatan": regions.kecamatan(), "kelurahan": regions.kelurahan(), **extra}


@get("/lks-saya/penawaran", opt=STAFF)
async def offer_list(request: Request[Any, Any, Any]) -> Template:
    _user, lks = await staff_lks(request)
    rows = await offer_store.offers_of(lks["id"])
    state = await standing_of(lks["id"])
    return await page(request, "offers/list.html", lks=lks, rows=rows,
                      paused=state.pause_message() if state.paused else "")


@get("/lks-saya/penawaran/baru", opt=STAFF)
async def offer_form(request: Request[Any, Any, Any]) -> Template:
    _user, lks = await staff_lks(request)
    return await page(request, "offers/form.html", **_form_context(lks=lks, errors={}, values={}, areas=[], ppks=[]),
                      **await staff_context(language_of(request)))


@post("/lks-saya/penawaran/baru", opt=STAFF)
async def offer_create(request: Request[Any, Any, Any]) -> Template | Redirect:
    user, lks = await staff_lks(request)
    form = await request.form()
    areas = [str(a) for a in form.getall("areas", [])]
    ppks = [str(p) for p in form.getall("ppks", [])]
    try:
        data = parse_offer(form, areas, ppks)
    except OfferInvalid as exc:
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return await page(request, "offers/form.html", status_code=400,
                          **_form_context(lks=lks, errors=exc.errors, values=values, areas=areas, ppks=ppks),
                          **await staff_context(language_of(request)))
    try:
        offer_id = await offer_store.create_offer(lks["id"], data, user.username)
    except OffersPaused as exc:
        values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
        return await page(request, "offers/form.html", status_code=400,
                          **_form_context(lks=lks, errors={"form": str(exc)}, values=values, areas=areas, ppks=ppks),
                          **await staff_context(language_of(request)))
    return Redirect(path=f"/lks-saya/penawaran/{offer_id}")


@get("/lks-saya/penawaran/{offer_id:int}", opt=STAFF)
async def offer_detail(request: Request[Any, Any, Any], offer_id: FromPath[int]) -> Template:
    return await _detail(request, offer_id)


async def _detail(request: Request[Any, Any, Any], offer_id: int, error: str = "", status_code: int = 200) -> Template:
    user, lks = await staff_lks(request)
    offer = await _own_offer(user, offer_id)
    return await page(request, "offers/detail.html", status_code=status_code, lks=lks, offer=offer, error=error,
                      region_name=regions.name_of)


@post("/lks-saya/penawaran/{offer_id:int}/terbitkan", opt=STAFF)
async def offer_publish(request: Request[Any, Any, Any], offer_id: FromPath[int]) -> Template | Redirect:
    user, _ = await staff_lks(request)
    await _own_offer(user, offer_id)
    try:
        await offer_store.publish_offer(offer_id, user.lks_id or 0, user.username)
    except (OfferError, LksError, OffersPaused) as exc:
        return await _detail(request, offer_id, str(exc), 400)
    return Redirect(path=f"/lks-saya/penawaran/{offer_id}")


@post("/lks-saya/penawaran/{offer_id:int}/tutup", opt=STAFF)
async def offer_close(request: Request[Any, Any, Any], offer_id: FromPath[int]) -> Template | Redirect:
    user, _ = await staff_lks(request)
    await _own_offer(user, offer_id)
    try:
        await offer_store.close_offer(offer_id, user.lks_id or 0, user.username)
    except OfferError as exc:
        return await _detail(request, offer_id, str(exc), 400)
    return Redirect(path=f"/lks-saya/penawaran/{offer_id}")


ROUTES = [offer_list, offer_form, offer_create, offer_detail, offer_publish, offer_close]

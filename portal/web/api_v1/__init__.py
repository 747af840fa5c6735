"""``/api/v1``: the versioned JSON API for other systems, documented at ``/api/v1/schema`` (OpenAPI).

Authentication is by token only (``Authorization: Bearer jitu_...``; Dinsos creates and revokes tokens in
the portal), each token acting through its own office or LKS service account, so every route declares its
roles like a page and the same services do the work: offices list and answer their referrals (least data,
access-logged), LKS read their matched households (NIK masked, access-logged) and post deliveries with
photos (the delivery feature's validation and photo cleaning). Requests are rate-limited per token; every
change is audited by the domain. Lists are paged by key: ``after`` is the ``next_after`` of the previous page.

The schemas are written out (DESIGN.md: no generated models).
"""

from __future__ import annotations

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Any, Literal

from litestar import Request, Router, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException, ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from pydantic import BaseModel, Field

from marketplace.delivery import MAX_PHOTOS, DeliveryError, DeliveryInvalid
from marketplace.lks_team import DELIVERIES, RightMissing
from marketplace.referrals import ReferralError
from marketplace.settings import get_settings
from marketplace.vocabulary import Role
from portal.auth import current_user, provide_user, roles
from storage import delivery
from storage.access import log_access
from storage.accounts import CurrentUser
from storage.api.lks import households_after
from storage.images import MAX_PHOTO_BYTES, PhotoError
from storage.objects import make_object_store
from storage.referrals import service

OFFICE = roles(Role.OFFICE_STAFF)
LKS = roles(Role.LKS_STAFF, right=DELIVERIES)
ANY_TOKEN = roles(Role.OFFICE_STAFF, Role.LKS_STAFF)
MAX_ID = 2**31 - 1
DELIVERY_MAX_BODY = MAX_PHOTOS * (MAX_PHOTO_BYTES * 4 // 3 + 1024) + 64 * 1024

After = Annotated[int, Parameter(ge=0, le=MAX_ID, description="`next_after` of the previous page (0: first page)")]
Limit = Annotated[int, Parameter(ge=1, le=200, description="Rows per page")]
Id = Annotated[int, Parameter(ge=1, le=MAX_ID)]


class TooManyRequests(HTTPException):
    status_code = 429


async def rate_limit(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Per token, after the role guard has accepted it (a public route is not counted)."""
    from storage.api.tokens import allow_request

    await current_user(connection)
    token_id = connection.scope.get("state", {}).get("jitu_token")
    if token_id is not None and not await allow_request(int(token_id), get_settings().api_rate_limit):
        raise TooManyRequests("Terlalu banyak permintaan untuk token ini; coba lagi sebentar lagi")


# --------------------------------------------------------------------------------------------- schemas


class Problem(BaseModel):
    status_code: int
    detail: str


class Me(BaseModel):
    username: str
    role: Literal["office_staff", "lks_staff"]
    office: str | None = Field(None, description="Office code of an office token")
    lks_id: int | None = Field(None, description="LKS id of an LKS token")


class ReferralSummary(BaseModel):
    id: int
    status: Literal["sent", "accepted", "info_requested", "completed", "returned", "withdrawn"]
    office: str
    kind: str
    amount: int = Field(description="Rupiah")
    kelurahan_code: str
    kelurahan_name: str
    due_on: date
    overdue: bool
    created_at: datetime


class ReferralPage(BaseModel):
    items: list[ReferralSummary]
    next_after: int | None = Field(description="Pass as `after` for the next page; null on the last page")


class SharedPerson(BaseModel):
    """Only the fields the referrer shared with the office; absent fields were not shared."""

    name: str | None = None
    nik: str | None = None
    birth_date: date | None = None
    address: str | None = None
    phone: str | None = None
    members: list[dict[str, str | int]] | None = None


class ReferralEventOut(BaseModel):
    action: str
    from_status: str
    to_status: str
    actor: str
    text: str
    occurred_at: datetime


class ReferralDetail(ReferralSummary):
    what_needed: str
    reason: str
    ppks: int
    ppks_name: str
    shared: list[str]
    person: SharedPerson
    evidence_file_ids: list[int]
    info_question: str
    info_answer: str
    outcome: str
    resolution: str
    return_reason: str
    events: list[ReferralEventOut]


class ReferralAction(BaseModel):
    action: Literal["accept", "ask_info", "complete", "return"]
    text: str = Field("", max_length=4000, description="What was done, the question, or the reason")
    resolution: Literal["", "close", "pool"] = Field(
        "", description="For `complete`: close the need, or send it back to the pool")


class HouseholdOut(BaseModel):
    allocation_id: int
    status: Literal["approved", "delivered", "confirmed", "disputed"]
    kind: str
    amount: int = Field(description="Rupiah")
    units: int | None
    unit: str
    deliver_by: date
    head_name: str
    nik_masked: str
    address: str
    rt: str
    rw: str
    kelurahan_code: str
    kelurahan_name: str
    phone: str


class HouseholdPage(BaseModel):
    items: list[HouseholdOut]
    next_after: int | None


class PhotoIn(BaseModel):
    filename: str = Field("foto.jpg", max_length=200)
    content_base64: str = Field(max_length=MAX_PHOTO_BYTES * 4 // 3 + 8, description="JPEG or PNG, base64")


class DeliveryIn(BaseModel):
    delivered_on: str = Field(max_length=10, description="YYYY-MM-DD, not in the future")
    what_given: str = Field(max_length=2000)
    received_by: str = Field(max_length=120)
    photos: list[PhotoIn] = Field(max_length=MAX_PHOTOS)


class DeliveryOut(BaseModel):
    delivery_id: int
    allocation_id: int
    status: str


# ------------------------------------------------------------------------------------------- common

_ERRORS = {400: "Bad input", 401: "No valid token", 403: "Not for this token", 404: "Not found (or not yours)",
           409: "The step is refused in the current state", 429: "Rate limit",
           503: "Database or object store briefly unavailable: nothing was changed, try again (Retry-After)"}


def _responses() -> dict[int, Any]:
    from litestar.openapi.datastructures import ResponseSpec

    return {code: ResponseSpec(data_container=Problem, description=text) for code, text in _ERRORS.items()}


RESPONSES = _responses()



def _summary(r: dict[str, Any]) -> ReferralSummary:
    return ReferralSummary(id=r["id"], status=r["status"], office=r["office"], kind=r["kind"], amount=r["amount"],
                           kelurahan_code=r["kelurahan_code"], kelurahan_name=r["kelurahan_name"], due_on=r["due_on"],
                           overdue=r["overdue"], created_at=r["created_at"])


def _detail(r: dict[str, Any]) -> ReferralDetail:
    person = r["person"]
    return ReferralDetail(
        **_summary(r).model_dump(), what_needed=r["what_needed"], reason=r["reason"], ppks=r["ppks"],
        ppks_name=r["ppks_name"], shared=r["shared"], evidence_file_ids=r["evidence"],
        person=SharedPerson(name=person.get("name"), nik=person.get("nik"), birth_date=person.get("birth_date"),
                            address=person.get("address"), phone=person.get("phone"),
                            members=person.get("members")),
        info_question=r["info_question"], info_answer=r["info_answer"], outcome=r["outcome"],
        resolution=r["resolution"], return_reason=r["return_reason"],
        events=[ReferralEventOut(action=e["action"], from_status=e["from_status"], to_status=e["to_status"],
                                 actor=e["actor"], text=e["text"], occurred_at=e["occurred_at"]) for e in r["events"]])


@get("/me", opt=ANY_TOKEN, name="api_me", responses=RESPONSES, summary="Who this token acts as")
async def me(request: Request[Any, Any, Any]) -> Me:
    user = await provide_user(request)
    return Me(username=user.username, role=user.role, office=user.office_code, lks_id=user.lks_id)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------- referrals


@get("/referrals", opt=OFFICE, name="api_referrals", responses=RESPONSES,
     summary="The office's referrals, oldest first")
async def referrals_list(request: Request[Any, Any, Any], after: After = 0, limit: Limit = 50,
                         status: FromQuery[Literal["", "sent", "accepted", "info_requested", "completed",
                                               "returned", "withdrawn"]] = "",
                         overdue: FromQuery[bool] = False) -> ReferralPage:
    user = await provide_user(request)
    rows, next_after = await service.list_referrals(user, service.ReferralFilter(status=status, overdue=overdue),
                                                    after, limit)
    return ReferralPage(items=[_summary(r) for r in rows], next_after=next_after)


async def _referral(user: CurrentUser, referral_id: int) -> dict[str, Any]:
    try:
        return await service.detail(user, referral_id)
    except service.NotFound:
        raise NotFoundException("Rujukan tidak ditemukan") from None


@get("/referrals/{referral_id:int}", opt=OFFICE, name="api_referral", responses=RESPONSES,
     summary="One referral with the data shared with the office (the view is access-logged)")
async def referral_get(request: Request[Any, Any, Any], referral_id: FromPath[Id]) -> ReferralDetail:
    return _detail(await _referral(await provide_user(request), referral_id))


@post("/referrals/{referral_id:int}/actions", opt=OFFICE, name="api_referral_act", responses=RESPONSES, status_code=200,
      summary="Accept, ask for information, complete or return a referral")
async def referral_act(request: Request[Any, Any, Any], referral_id: FromPath[Id], data: JSONBody[ReferralAction]
                       ) -> ReferralDetail:
    user = await provide_user(request)
    try:
        await service.act(user, referral_id, data.action, text=data.text, resolution=data.resolution)
    except service.NotFound:
        raise NotFoundException("Rujukan tidak ditemukan") from None
    except ReferralError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return _detail(await _referral(user, referral_id))


# ---------------------------------------------------------------------------------------------- LKS


def _household(r: dict[str, Any]) -> HouseholdOut:
    return HouseholdOut(allocation_id=r["id"], status=r["status"], kind=r["kind"], amount=r["amount"],
                        units=r["units"], unit=r["unit"] or "", deliver_by=r["deliver_by"], head_name=r["head_name"],
                        nik_masked=r["nik_masked"], address=r["address"], rt=r["rt"], rw=r["rw"],
                        kelurahan_code=r["kelurahan_code"], kelurahan_name=r["kelurahan_name"], phone=r["phone"])


@get("/households", opt=LKS, name="api_households", responses=RESPONSES,
     summary="The LKS's matched households (approved allocations and later), NIK masked; access-logged")
async def households(request: Request[Any, Any, Any], after: After = 0, limit: Limit = 50) -> HouseholdPage:
    user = await provide_user(request)
    assert user.lks_id is not None
    rows, next_after = await households_after(user.lks_id, after, limit)
    await log_access(user, [r["household_id"] for r in rows], "api: keluarga dampingan LKS")
    return HouseholdPage(items=[_household(r) for r in rows], next_after=next_after)


@post("/allocations/{allocation_id:int}/delivery", opt=LKS, name="api_delivery", responses=RESPONSES, status_code=201,
      request_max_body_size=DELIVERY_MAX_BODY,
      summary="Record the delivery of an approved allocation with 1 to 5 photos (JPEG/PNG, base64)")
async def delivery_post(request: Request[Any, Any, Any], allocation_id: FromPath[Id], data: JSONBody[DeliveryIn]
                        ) -> DeliveryOut:
    user = await provide_user(request)
    photos: list[tuple[str, bytes]] = []
    for i, p in enumerate(data.photos, start=1):
        try:
            photos.append((p.filename or f"foto {i}", base64.b64decode(p.content_base64, validate=True)))
        except (binascii.Error, ValueError):
            raise ValidationException(f"Foto {i} bukan base64 yang sah") from None
    fields = {"delivered_on": data.delivered_on, "what_given": data.what_given, "received_by": data.received_by}
    try:
        delivery_id = await delivery.record_delivery(allocation_id, user, fields, photos, make_object_store())
    except delivery.NotFound:
        raise NotFoundException("Alokasi tidak ditemukan") from None
    except RightMissing as exc:
        raise PermissionDeniedException(str(exc)) from None
    except (DeliveryInvalid, PhotoError) as exc:
        raise ValidationException(str(exc)) from None
    except DeliveryError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return DeliveryOut(delivery_id=delivery_id, allocation_id=allocation_id, status="recorded")


api_router = Router(
    path="/api/v1", guards=[rate_limit], tags=["jitu API v1"],
    route_handlers=[me, referrals_list, referral_get, referral_act, households, delivery_post],
)

ROUTES = [api_router]

"""Delivery with proof, its confirmation, the LKS's own households, and the public impact figures.

Every function that an LKS account calls takes the caller's ``lks_id`` and filters on it in the query
itself: an allocation, household or photo of another LKS is "not found", never "forbidden", so ids
cannot be probed. Photo links are signed and short-lived, issued only to the owning LKS and Dinsos.
"""

from __future__ import annotations

import contextlib
import functools
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from marketplace import clock
from marketplace.approval import ApprovalRefused, end_of_period
from marketplace.audit import AuditEvent
from marketplace.delivery import (
    DeliveryError,
    DeliveryStatus,
    allocation_status_for,
    check_may_record,
    decide,
    parse_delivery,
    photo_key,
    requester_confirms,
)
from marketplace.identity import mask
from marketplace.lks_team import DELIVERIES
from marketplace.ports import ObjectStore
from marketplace.reminders import Kind
from marketplace.vocabulary import AllocationStatus, NeedStatus, Role
from storage.accounts import CurrentUser
from storage.approval import move_need
from storage.counting import bounded_count, count_rows, total_of
from storage.crypto import vault
from storage.engine import fetch_planned_once, ilike
from storage.images import clean_photo
from storage.lks_team.rights import require_right
from storage.tables import (
    Allocation,
    Delivery,
    DeliveryPhoto,
    Member,
    Need,
    Notification,
    Region,
    ServiceRequest,
)
from storage.uow import UnitOfWork, unit_of_work

PAGE_SIZE = 50
LINK_LIFETIME = timedelta(minutes=10)
ASSIGNED = [AllocationStatus.APPROVED, AllocationStatus.DELIVERED, AllocationStatus.CONFIRMED,
            AllocationStatus.DISPUTED]


class NotFound(LookupError):
    """Absent, or not the caller's: the same answer for both."""


DUE_OVERDUE = "overdue"
DUE_WEEK = "week"
DUE_CHOICES = (DUE_WEEK, DUE_OVERDUE)


@dataclass(frozen=True, slots=True)
class HouseholdFilter:
    search: str = ""
    kelurahan: str = ""
    kind: str = ""
    status: str = ""
    due: str = ""
    """``week``: not yet delivered and due by the end of this week (Sunday), overdue ones included;
    ``overdue``: not yet delivered and past its due date."""


def week_end(today: date) -> date:
    """The Sunday that ends ``today``'s week (Monday to Sunday, as in Indonesia)."""
    return today + timedelta(days=6 - today.weekday())


# --- the LKS's households --------------------------------------------------------------------------
# The due date is ``Allocation.deliver_by``: set when Dinsos approves the allocation (the last day of the
# round's period, ``marketplace.approval.end_of_period``), and the same date the LKS is told in its
# notification, the command center counts late deliveries against, and the Excel/PDF list prints.

def _scope(lks_id: int, f: HouseholdFilter, today: date) -> Any:
    cond: Any = (Allocation.lks == lks_id) & Allocation.status.is_in(ASSIGNED)
    if f.due == DUE_OVERDUE:
        cond = cond & (Allocation.status == AllocationStatus.APPROVED) & (Allocation.deliver_by < today)
    elif f.due == DUE_WEEK:
        cond = cond & (Allocation.status == AllocationStatus.APPROVED) & (Allocation.deliver_by <= week_end(today))
    if f.kelurahan:
        cond = cond & (Allocation.need._.household._.kelurahan_code == f.kelurahan)
    if f.kind:
        cond = cond & (Allocation.need._.kind == f.kind)
    if f.status:
        cond = cond & (Allocation.status == f.status)
    if f.search:
        like = f"%{f.search.strip()[:80]}%"
        names = Member.select(Member.household).where(ilike(Member.name, like))
        cond = cond & (ilike(Allocation.need._.household._.address, like)
                       | Allocation.need._.household.is_in(names))
    return cond


async def assigned_households(lks_id: int, f: HouseholdFilter, page: int | None = 1, today: date | None = None
                              ) -> tuple[list[dict[str, Any]], int]:
    """The households matched to this LKS (approved allocations and later), with what to deliver and by
    when; NIK masked. Overdue deliveries first, then the ones still to deliver by due date, then those
    already delivered (latest due first). ``page=None`` returns every row (for the Excel and PDF downloads)."""
    today = today or clock.today()
    where = _scope(lks_id, f, today)
    if page is None:
        total = await count_rows(Allocation, where)
        rows = await _in_order(Allocation.select(*household_columns()).where(where), today)
    else:
        # The order needs only the allocation's own columns: the page is cut from the allocations alone
        # (a subquery) and only its 50 are joined. Joined first, every allocation of the LKS was read
        # through four joins to be sorted (176 for the bench's LKS, 5,221 for the city's largest: 2 ms
        # and 20 ms). One statement, so one snapshot; the join is written out because building it with
        # Piccolo's join traversal cost more CPU per view than PostgreSQL's work for it.
        cut = _in_order(Allocation.select(Allocation.id).where(where), today).limit(PAGE_SIZE).offset(
            (max(page, 1) - 1) * PAGE_SIZE)
        # the count comes in the same statement (a scalar subquery run once): one round trip less per view
        page_query = QueryString(_PAGE_JOINED, bounded_count(Allocation, where), cut.querystrings[0],
                                 *_order_args(today))
        # without a name search the statement's plan never depends on its values: planned once per connection
        rows = await (fetch_planned_once(Allocation, page_query) if not f.search
                      else Allocation.raw("{}", page_query))
        total = await (total_of(int(rows[0]["total"]), Allocation, where) if rows else count_rows(Allocation, where))
    if page is None:
        await _add_heads_and_names(rows)
    ring = vault()  # one key ring for the page, not one stat() per row
    for r in rows:
        r.pop("total", None)
        has_head = r.pop("head_id") is not None
        cipher = r.pop("head_nik")
        r["head_name"] = r["head_name"] if has_head else "-"
        r["nik_masked"] = mask(ring.decrypt(cipher)) if has_head else "-"
        r["kelurahan_name"] = r["kelurahan_code"] if r["kelurahan_name"] is None else r["kelurahan_name"]
        r["deliver_by"] = r["deliver_by"] or end_of_period(r["period"])
        r["overdue"] = r["status"] == AllocationStatus.APPROVED and r["deliver_by"] < today
        r["days_left"] = (r["deliver_by"] - today).days
        unit_value = int(r["unit_value"] or 0)
        r["units"] = -(-int(r["amount"]) // unit_value) if r["is_goods"] and unit_value else None
    return rows, total


# Overdue first, then still to deliver by due date (soonest first), then delivered (latest due first).
_LATE_FIRST = "CASE WHEN allocation.status <> {} THEN 2 WHEN allocation.deliver_by < {} THEN 0 ELSE 1 END"
_SOONEST = "CASE WHEN allocation.status = {} THEN allocation.deliver_by END"  # delivered: NULL, by the next key


async def _add_heads_and_names(rows: list[dict[str, Any]]) -> None:
    """Each row's head of household (its first member who is ``kepala``, else its first member) and
    kelurahan name, as ``_PAGE_JOINED`` reads them for one page: for the downloads' full list."""
    households = sorted({r["household_id"] for r in rows})
    heads: dict[int, dict[str, Any]] = {}
    if households:
        for m in await Member.select(Member.id, Member.household, Member.name, Member.nik_cipher,
                                     Member.relation).where(Member.household.is_in(households)).order_by(Member.id):
            if m["household"] not in heads or (m["relation"] == "kepala"
                                               and heads[m["household"]]["relation"] != "kepala"):
                heads[m["household"]] = m
    names = await _region_names({r["kelurahan_code"] for r in rows})
    for r in rows:
        head = heads.get(r["household_id"])
        r["head_id"], r["head_name"], r["head_nik"] = (head["id"], head["name"], head["nik_cipher"]) if head \
            else (None, None, None)
        r["kelurahan_name"] = names.get(r["kelurahan_code"])


def _order_args(today: date) -> tuple[Any, ...]:
    return AllocationStatus.APPROVED.value, today, AllocationStatus.APPROVED.value


def _in_order(query: Any, today: date) -> Any:
    status, day, _ = _order_args(today)
    return (
        query
        .order_by(QueryString(_LATE_FIRST, status, day))
        .order_by(QueryString(_SOONEST, status))
        .order_by(Allocation.deliver_by, ascending=False)
        .order_by(Allocation.id)
    )


# household_columns(), for one page cut by the subquery, in _in_order's order, with the scope's bounded count
# (constants only: the values are parameters)
_PAGE_JOINED = (
    'SELECT allocation.id, allocation.status, allocation.amount, allocation.deliver_by, r.period AS period, '  # noqa: S608
    'n.kind AS kind, n.ppks AS ppks, o.is_goods AS is_goods, o.unit_value AS unit_value, o.unit AS unit, '
    'n.household AS household_id, h.address AS address, h.rt AS rt, h.rw AS rw, '
    'h.kelurahan_code AS kelurahan_code, h.phone AS phone, g.name AS kelurahan_name, '
    'hd.id AS head_id, hd.name AS head_name, hd.nik_cipher AS head_nik, {} AS total '
    'FROM ({}) AS page JOIN allocation ON allocation.id = page.id '
    'LEFT JOIN matching_round r ON r.id = allocation."round" LEFT JOIN need n ON n.id = allocation.need '
    'LEFT JOIN offer o ON o.id = allocation.offer LEFT JOIN household h ON h.id = n.household '
    'LEFT JOIN region g ON g.code = h.kelurahan_code '
    # the head of household: its first member who is kepala, else its first member
    "LEFT JOIN member hd ON hd.id = (SELECT m.id FROM member m WHERE m.household = n.household "
    "ORDER BY CASE WHEN m.relation = 'kepala' THEN 0 ELSE 1 END, m.id LIMIT 1) "
    f'ORDER BY {_LATE_FIRST}, {_SOONEST}, allocation.deliver_by DESC, allocation.id'
)


@functools.cache
def household_columns() -> tuple[Any, ...]:
    """The columns of an LKS's matched households through the joins (its page here, ``storage/api/lks.py``
    for the API), built once: Piccolo's join traversal cost more per view than the query itself."""
    return (
        Allocation.id, Allocation.status, Allocation.amount, Allocation.deliver_by,
        Allocation.round._.period.as_alias("period"),
        Allocation.need._.kind.as_alias("kind"), Allocation.need._.ppks.as_alias("ppks"),
        Allocation.offer._.is_goods.as_alias("is_goods"), Allocation.offer._.unit_value.as_alias("unit_value"),
        Allocation.offer._.unit.as_alias("unit"),
        Allocation.need._.household.as_alias("household_id"),
        Allocation.need._.household._.address.as_alias("address"),
        Allocation.need._.household._.rt.as_alias("rt"), Allocation.need._.household._.rw.as_alias("rw"),
        Allocation.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
        Allocation.need._.household._.phone.as_alias("phone"),
    )


async def _region_names(codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    rows = await Region.select(Region.code, Region.name).where(Region.code.is_in(sorted(codes)))
    return {r["code"]: r["name"] for r in rows}


_KELURAHAN_CHOICES = (
    "SELECT DISTINCT g.code AS code, g.name AS name FROM allocation a JOIN need n ON n.id = a.need "
    "JOIN household h ON h.id = n.household JOIN region g ON g.code = h.kelurahan_code "
    "WHERE a.lks = {} AND a.status IN ({}, {}, {}, {})"
)


async def kelurahan_choices(lks_id: int) -> list[dict[str, str]]:
    """The kelurahan of the LKS's assigned households that are known regions, by name: one statement
    (it was the codes through Piccolo's joins, then their names)."""
    rows = await Allocation.raw(_KELURAHAN_CHOICES, lks_id, *(str(s) for s in ASSIGNED))
    return sorted(({"code": r["code"], "name": r["name"]} for r in rows), key=lambda x: (x["name"], x["code"]))


CHOICES_KEPT_SECONDS = 60.0
_choices: dict[int, tuple[float, list[dict[str, str]]]] = {}


async def kelurahan_options(lks_id: int) -> list[dict[str, str]]:
    """``kelurahan_choices`` for the households page's filter, kept a minute per LKS in this process: the
    options, never the list itself (always read fresh), so a kelurahan newly matched to the LKS is offered
    within a minute. Read on every view, the choices joined each of the LKS's allocations to its household:
    at city scale about a fifth of the page's PostgreSQL time. One entry per LKS, so the dict stays small."""
    now = time.monotonic()
    kept = _choices.get(lks_id)
    if kept is None or now - kept[0] > CHOICES_KEPT_SECONDS:
        kept = (now, await kelurahan_choices(lks_id))
        _choices[lks_id] = kept
    return kept[1]


def forget_kelurahan_options() -> None:
    """Drop the kept options (tests: a new database reuses LKS ids)."""
    _choices.clear()


async def allocation_for(allocation_id: int, user: CurrentUser) -> dict[str, Any]:
    """One assigned allocation, if the user may see it (its own LKS, or Dinsos)."""
    cond: Any = (Allocation.id == allocation_id) & Allocation.status.is_in(ASSIGNED)
    if user.role != Role.DINSOS_ADMIN:
        if user.lks_id is None:
            raise NotFound(allocation_id)
        cond = cond & (Allocation.lks == user.lks_id)
    row = await Allocation.select(
        Allocation.id, Allocation.status, Allocation.amount, Allocation.lks, Allocation.deliver_by,
        Allocation.round._.period.as_alias("period"), Allocation.need._.kind.as_alias("kind"),
        Allocation.need._.household.as_alias("household_id"),
        Allocation.offer._.is_goods.as_alias("is_goods"), Allocation.offer._.unit.as_alias("unit"),
        Allocation.offer._.unit_value.as_alias("unit_value"), Allocation.lks._.name.as_alias("lks_name"),
    ).where(cond).first()
    if row is None:
        raise NotFound(allocation_id)
    row["deliver_by"] = row["deliver_by"] or end_of_period(row["period"])
    row["delivery"] = await Delivery.select().where(Delivery.allocation == allocation_id).first()
    return row


# --- recording a delivery --------------------------------------------------------------------------

async def record_delivery(allocation_id: int, user: CurrentUser, fields: dict[str, str],
                          photos: Sequence[tuple[str, bytes]], store: ObjectStore,
                          today: date | None = None) -> int:
    """Validate everything, store the re-encoded photos, then write the rows in one transaction; if the
    transaction fails the stored photos are deleted. Raises ``DeliveryError``, ``PhotoError``, ``NotFound``,
    and ``RightMissing`` when the staff member does not hold the deliveries right of their LKS (checked
    before the photos are handled and again in the transaction that writes)."""
    if user.role != Role.LKS_STAFF or user.lks_id is None:
        raise NotFound(allocation_id)
    alloc = await allocation_for(allocation_id, user)
    await require_right(user.id, user.lks_id, DELIVERIES)
    check_may_record(alloc["status"], alloc["delivery"] is not None)
    data = parse_delivery(fields, len(photos), today or clock.today())
    clean = [clean_photo(content, name or f"foto {i + 1}") for i, (name, content) in enumerate(photos)]
    token = secrets.token_hex(16)
    written: list[str] = []
    try:
        for i, photo in enumerate(clean, start=1):
            key = photo_key(user.lks_id, allocation_id, token, i)
            store.put(key, photo.data, photo.content_type)
            written.append(key)
        async with unit_of_work() as uow:
            await require_right(user.id, user.lks_id, DELIVERIES)
            moved = await Allocation.update({Allocation.status: AllocationStatus.DELIVERED}).where(
                (Allocation.id == allocation_id) & (Allocation.lks == user.lks_id)
                & (Allocation.status == AllocationStatus.APPROVED)).returning(Allocation.need)
            if not moved:
                raise DeliveryError("Penyaluran untuk alokasi ini sudah dicatat.")
            rows = await Delivery.insert(Delivery(
                allocation=allocation_id, delivered_on=data.delivered_on, what_given=data.what_given,
                received_by=data.received_by, recorded_by=user.id, status=DeliveryStatus.RECORDED,
            )).returning(Delivery.id)
            delivery_id = int(rows[0]["id"])
            await DeliveryPhoto.insert(*[
                DeliveryPhoto(delivery=delivery_id, object_key=key, content_type=p.content_type, size=len(p.data),
                              width=p.width, height=p.height)
                for key, p in zip(written, clean, strict=True)
            ])
            await _step_need(uow, int(moved[0]["need"]), NeedStatus.APPROVED, NeedStatus.DELIVERED, user.username,
                             "Bantuan sudah disalurkan LKS; menunggu konfirmasi")
            await uow.record(AuditEvent(user.username, "delivery.record", "allocation", str(allocation_id),
                                        {"status": "approved"},
                                        {"status": "delivered", "delivery": delivery_id, "photos": len(written),
                                         "delivered_on": data.delivered_on.isoformat()}))
    except BaseException:
        for key in written:
            with contextlib.suppress(Exception):  # best effort; the original error matters
                store.delete(key)
        raise
    return delivery_id


async def _step_need(uow: UnitOfWork, need_id: int, from_status: str, to_status: str, actor: str, note: str) -> None:
    row = await Need.select(Need.status).where(Need.id == need_id).first()
    if row and row["status"] == from_status:
        try:
            await move_need(need_id, to_status, actor, note)
        except ApprovalRefused as exc:
            raise DeliveryError(str(exc)) from exc


async def photo_links(delivery_id: int, user: CurrentUser, store: ObjectStore) -> list[dict[str, Any]]:
    """Signed, short-lived links to a delivery's photos, for its own LKS and Dinsos only."""
    delivery = await Delivery.select(Delivery.allocation, Delivery.allocation._.lks.as_alias("lks")).where(
        Delivery.id == delivery_id).first()
    if delivery is None or not _may_see(user, int(delivery["lks"])):
        raise NotFound(delivery_id)
    photos = await DeliveryPhoto.select().where(DeliveryPhoto.delivery == delivery_id).order_by(DeliveryPhoto.id)
    return [{"url": store.download_url(p["object_key"], LINK_LIFETIME), "width": p["width"], "height": p["height"]}
            for p in photos]


def _may_see(user: CurrentUser, lks_id: int) -> bool:
    return user.role == Role.DINSOS_ADMIN or (user.role == Role.LKS_STAFF and user.lks_id == lks_id)


# --- confirmation ------------------------------------------------------------------------------------

_STATUSES = (DeliveryStatus.RECORDED, DeliveryStatus.CONFIRMED, DeliveryStatus.DISPUTED)


def _status_is(status: str) -> Any:
    """``delivery.status = 'recorded'`` written as a literal (one of three fixed words), not a parameter.

    The statuses are far from even (in the city the recorded deliveries are the newest 29,000 of 97,000):
    as a parameter, PostgreSQL's generic plan for the prepared query assumes a third of each and walks
    the deliveries by id from the first, skipping 68,000 confirmed ones (24 ms under load). With the
    literal every plan sees the real share and reads ``delivery_status_id`` (under 1 ms)."""
    if status not in _STATUSES:
        return Delivery.status == status  # matches nothing; stays a parameter
    return WhereRaw(f"\"delivery\".\"status\" = '{status}'")


@functools.cache
def _delivery_columns() -> tuple[Any, ...]:
    """A delivery with its LKS, amount, kind and kelurahan through the joins, built once: Piccolo copies
    every column on each step of a join (a quarter of the confirmation page's view)."""
    return (
        *Delivery.all_columns(), Delivery.allocation._.lks._.name.as_alias("lks_name"),
        Delivery.allocation._.amount.as_alias("amount"), Delivery.allocation._.need._.kind.as_alias("kind"),
        Delivery.allocation._.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
    )


async def list_deliveries(status: str = DeliveryStatus.RECORDED, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """For Dinsos: deliveries to confirm (no personal data beyond what the LKS wrote)."""
    where = _status_is(status) if status else Delivery.id > 0
    total = await count_rows(Delivery, where)
    rows = await (Delivery.select(*_delivery_columns()).where(where).order_by(Delivery.id)
                  .limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total


async def decide_delivery(delivery_id: int, action: str, reason: str, actor: str, decided_by: int | None) -> str:
    """Dinsos confirms or disputes (with a reason) a recorded delivery."""
    async with unit_of_work() as uow:
        row = await Delivery.select(Delivery.status, Delivery.allocation,
                                    Delivery.allocation._.need.as_alias("need"),
                                    Delivery.allocation._.lks.as_alias("lks")).where(Delivery.id == delivery_id).first()
        if row is None:
            raise NotFound(delivery_id)
        new_status, clean = decide(row["status"], action, reason)
        done = await Delivery.update({
            Delivery.status: new_status, Delivery.dispute_reason: clean, Delivery.decided_by: decided_by,
            Delivery.decided_at: datetime.now(UTC),
        }).where((Delivery.id == delivery_id) & (Delivery.status == row["status"])).returning(Delivery.id)
        if not done:
            raise DeliveryError("Penyaluran ini baru saja diputuskan orang lain; muat ulang halaman.")
        await Allocation.update({Allocation.status: allocation_status_for(new_status)}).where(
            Allocation.id == row["allocation"])
        if new_status == DeliveryStatus.CONFIRMED:
            await _step_need(uow, int(row["need"]), NeedStatus.DELIVERED, NeedStatus.CONFIRMED, actor,
                             "Penyaluran bantuan dikonfirmasi Dinas Sosial")
        else:
            await Notification.insert(Notification(
                lks=int(row["lks"]), message=f"Penyaluran alokasi #{row['allocation']} disanggah Dinas Sosial: {clean}",
                link=f"/penyaluran/{row['allocation']}", kind=Kind.DECISION))
        await uow.record(AuditEvent(actor, f"delivery.{action}", "delivery", str(delivery_id),
                                    {"status": row["status"]}, {"status": new_status, "reason": clean}))
    return new_status


async def confirm_by_requester(ticket_code: str) -> int:
    """The requester confirms receipt with their ticket code; returns how many deliveries it confirmed.
    Raises ``DeliveryError`` when the ticket has no recorded delivery (the same message for an unknown
    ticket, so codes cannot be probed)."""
    ticket_code = ticket_code.strip().upper()[:24]
    nothing = DeliveryError("Belum ada penyaluran yang dapat dikonfirmasi untuk kode tiket ini.")
    if not ticket_code:
        raise nothing
    async with unit_of_work() as uow:
        request = await ServiceRequest.select(ServiceRequest.id).where(
            ServiceRequest.ticket_code == ticket_code).first()
        if request is None:
            raise nothing
        rows = await Delivery.select(Delivery.id, Delivery.status, Delivery.allocation,
                                     Delivery.allocation._.need.as_alias("need")).where(
            (Delivery.allocation._.need._.request == request["id"]) & Delivery.requester_confirmed_at.is_null())
        if not rows:
            raise nothing
        now = datetime.now(UTC)
        for row in rows:
            new_status = requester_confirms(row["status"])
            await Delivery.update({Delivery.status: new_status, Delivery.requester_confirmed_at: now}).where(
                Delivery.id == row["id"])
            if new_status != row["status"]:
                await Allocation.update({Allocation.status: allocation_status_for(new_status)}).where(
                    Allocation.id == row["allocation"])
                await _step_need(uow, int(row["need"]), NeedStatus.DELIVERED, NeedStatus.CONFIRMED, "pemohon",
                                 "Penerima mengonfirmasi bantuan sudah diterima")
            await uow.record(AuditEvent("pemohon", "delivery.requester_confirm", "delivery", str(row["id"]),
                                        {"status": row["status"]}, {"status": new_status}))
    return len(rows)


# --- public impact ----------------------------------------------------------------------------------

async def impact_report() -> dict[str, Any]:
    """Confirmed deliveries aggregated by kecamatan, kind and LKS: counts and rupiah, no personal data."""
    rows = await Delivery.select(
        Delivery.allocation._.need._.household._.kelurahan_code.as_alias("kelurahan_code"),
        Delivery.allocation._.need._.kind.as_alias("kind"),
        Delivery.allocation._.lks._.name.as_alias("lks_name"),
        Delivery.allocation._.amount.as_alias("amount"),
    ).where(Delivery.status == DeliveryStatus.CONFIRMED)
    kecamatan_names = await _region_names({".".join(r["kelurahan_code"].split(".")[:3]) for r in rows})

    def group(key: str) -> list[dict[str, Any]]:
        acc: dict[str, dict[str, Any]] = {}
        for r in rows:
            entry = acc.setdefault(r[key], {"key": r[key], "count": 0, "amount": 0})
            entry["count"] += 1
            entry["amount"] += int(r["amount"])
        return sorted(acc.values(), key=lambda e: (-e["count"], str(e["key"])))

    for r in rows:
        code = ".".join(r["kelurahan_code"].split(".")[:3])
        r["kecamatan"] = kecamatan_names.get(code, code)
    return {
        "total_count": len(rows),
        "total_amount": sum(int(r["amount"]) for r in rows),
        "by_kecamatan": group("kecamatan"),
        "by_kind": group("kind"),
        "by_lks": group("lks_name"),
    }


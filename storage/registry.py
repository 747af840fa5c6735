"""Registry services: needs (request, assessment, verification, transitions), duplication with government
aid, tracking by ticket, household search and detail. The bulk imports are in ``storage/registry_import.py``.

Every need transition goes through ``marketplace.needs.check_transition`` and is written with a
``NeedEvent`` (public note without personal data) and an audit event, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.columns.combination import WhereRaw

from marketplace import clock
from marketplace import needs as rules
from marketplace.audit import AuditEvent
from marketplace.identity import IdentityError, check_kk, check_nik, mask
from marketplace.needs import NeedError
from marketplace.priority import SEVERITY, priority
from marketplace.regions import is_kelurahan
from marketplace.vocabulary import DINSOS_ROLES, PPKS_TYPES, Kind
from storage import positions
from storage.accounts import CurrentUser
from storage.counting import Total, count_rows
from storage.crypto import vault
from storage.tables import (
    Complaint,
    EvidenceFile,
    GovernmentAid,
    GovernmentProgram,
    Household,
    Member,
    Need,
    NeedEvent,
    ServiceRequest,
    WebSession,
)
from storage.uow import unit_of_work

PAGE_SIZE = 50
EVIDENCE_MAX = 10 * 1024 * 1024
TRACK_LIMIT = 10
"""Ticket look-ups per client IP per minute."""
NAME_COUNT_UP_TO = 200
"""A name search lists at most this many households (four pages): more asks for a narrower search."""


def current_period(today: date | None = None) -> str:
    today = today or clock.today()
    return f"{today.year:04d}-{today.month:02d}"


def _actor(user: CurrentUser | str) -> str:
    return user if isinstance(user, str) else user.username


# ---------------------------------------------------------------------------------------- transitions


async def _transition(need: dict[str, Any], to_status: str, actor: CurrentUser | str, *, reason: str = "",
                      office: str = "", note: str = "", extra: dict[Any, Any] | None = None,
                      uow: Any = None, public: str = "", withdrawal: bool = False) -> None:
    t = rules.check_withdrawal(need["status"]) if withdrawal else rules.check_transition(
        need["status"], to_status, reason=reason, office=office, amount=need["amount"])
    now = datetime.now(UTC)
    values: dict[Any, Any] = {Need.status: to_status, Need.updated_at: now, **(extra or {})}
    if t.to_status == "rejected":
        values[Need.rejection_reason] = t.reason
    if t.to_status == "referred":
        values[Need.referral_office] = t.referral_office
    await Need.update(values).where((Need.id == need["id"]) & (Need.status == need["status"]))
    public = public or rules.public_note(t)
    await NeedEvent.insert(NeedEvent(need=need["id"], from_status=t.from_status, to_status=t.to_status,
                                     public_note=public, occurred_at=now))
    await uow.record(AuditEvent(_actor(actor), f"need.{to_status}", "need", str(need["id"]),
                                {"status": t.from_status},
                                {"status": t.to_status, "note": note[:200], "office": t.referral_office}))


async def transition_need(need_id: int, to_status: str, actor: CurrentUser | str, note: str = "",
                          *, reason: str = "", office: str = "", public: str = "") -> None:
    """Move a need to ``to_status`` (matching, approval, delivery and referrals call this). ``public``
    replaces the default public note (it must hold no personal data). Raises ``NeedError`` (Indonesian)
    if the domain refuses."""
    async with unit_of_work() as uow:
        need = await Need.select().where(Need.id == need_id).first()
        if need is None:
            raise NeedError(f"Kebutuhan #{need_id} tidak ditemukan")
        extra: dict[Any, Any] = {}
        if to_status == "verified" and need["status"] == "assessed":
            hh = await Household.select(Household.desil, Household.extreme_poor).where(
                Household.id == need["household"]).first()
            assert hh is not None
            submitted = need["submitted_at"]
            extra = {Need.priority: priority(desil=hh["desil"], extreme_poor=hh["extreme_poor"], ppks=need["ppks"],
                                             submitted_on=clock.local_date(submitted), today=clock.today()),
                     Need.verified_at: datetime.now(UTC)}
            if not isinstance(actor, str):
                extra[Need.verified_by] = actor.id
        await _transition(need, to_status, actor, reason=reason, office=office, note=note, extra=extra, uow=uow,
                          public=public)


# ------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class NeedInput:
    ppks: list[int]
    kind: str
    amount: int
    notes: str = ""

    def check(self) -> None:
        if not self.ppks or any(p not in PPKS_TYPES for p in self.ppks):
            raise NeedError("Pilih minimal satu jenis PPKS yang dikenal")
        if self.kind not in {k.value for k in Kind}:
            raise NeedError("Pilih jenis intervensi yang dikenal")
        if self.amount <= 0:
            raise NeedError("Nilai kebutuhan harus lebih dari 0 rupiah")

    @property
    def main_ppks(self) -> int:
        """The most severe of the PPKS types (the others are kept in the notes)."""
        return sorted(self.ppks, key=lambda p: (-SEVERITY.get(p, 2), p))[0]

    def full_notes(self) -> str:
        others = [PPKS_TYPES[p] for p in self.ppks if p != self.main_ppks]
        return self.notes + (("\nPPKS lain: " + ", ".join(others)) if others else "")


async def _open_kinds(household_id: int) -> list[str]:
    rows = await Need.select(Need.kind).where(
        (Need.household == household_id) & Need.status.is_in(list(rules.OPEN_STATUSES)))
    return [r["kind"] for r in rows]


async def new_ticket() -> str:
    """A ticket code not used by any request or complaint (one look-up page answers both)."""
    while True:
        code = rules.new_ticket_code()
        if not (await ServiceRequest.exists().where(ServiceRequest.ticket_code == code)
                or await Complaint.exists().where(Complaint.ticket_code == code)):
            return code


_new_ticket = new_ticket
open_kinds = _open_kinds


@dataclass(frozen=True, slots=True)
class Applicant:
    kk: str
    nik: str
    name: str
    birth_date: date
    sex: str
    kelurahan_code: str
    address: str
    rt: str = ""
    rw: str = ""
    phone: str = ""


async def register_request(user: CurrentUser, applicant: Applicant, need: NeedInput,
                           description: str = "") -> tuple[int, str]:
    """A kelurahan operator registers someone (maybe not yet in DTKS): household source "request" if new,
    a service request with a ticket, and a need in ``submitted``. Returns (need id, ticket)."""
    need.check()
    try:
        kk = check_kk(applicant.kk)
        nik = check_nik(applicant.nik, applicant.birth_date, applicant.sex)
    except IdentityError as exc:
        raise NeedError(str(exc)) from None
    if not is_kelurahan(applicant.kelurahan_code):
        raise NeedError("Kelurahan tidak dikenal")
    if not applicant.name.strip():
        raise NeedError("Nama pemohon wajib diisi")
    keys = vault()
    async with unit_of_work() as uow:
        hh = await Household.select(Household.id).where(Household.kk_hash.is_in(keys.lookup_hashes(kk))).first()
        if hh is None:
            rows = await Household.insert(Household(
                kk_cipher=keys.encrypt(kk), kk_hash=keys.hash(kk), kelurahan_code=applicant.kelurahan_code,
                address=applicant.address, rt=applicant.rt, rw=applicant.rw, phone=applicant.phone, desil=10,
                source="request",
            )).returning(Household.id)
            household_id = int(rows[0]["id"])
        else:
            household_id = int(hh["id"])
        member = await Member.select(Member.household).where(Member.nik_hash.is_in(keys.lookup_hashes(nik))).first()
        if member is None:
            await Member.insert(Member(household=household_id, nik_cipher=keys.encrypt(nik), nik_hash=keys.hash(nik),
                                       name=applicant.name.strip()[:120], birth_date=applicant.birth_date,
                                       sex=applicant.sex, relation="kepala"))
        elif member["household"] != household_id:
            raise NeedError("NIK pemohon terdaftar pada KK lain")
        rules.refuse_second_open_need(await _open_kinds(household_id), need.kind)
        ticket = await _new_ticket()
        req = await ServiceRequest.insert(ServiceRequest(
            ticket_code=ticket, household=household_id, kelurahan_code=applicant.kelurahan_code, channel="puskesos",
            description=description, submitted_by=user.id)).returning(ServiceRequest.id)
        need_id = await _insert_need(household_id, int(req[0]["id"]), need, uow, user)
    return need_id, ticket


async def _insert_need(household_id: int, request_id: int, need: NeedInput, uow: Any, user: CurrentUser) -> int:
    rows = await Need.insert(Need(household=household_id, request=request_id, ppks=need.main_ppks, kind=need.kind,
                                  amount=need.amount, notes=need.full_notes())).returning(Need.id)
    need_id = int(rows[0]["id"])
    await NeedEvent.insert(NeedEvent(need=need_id, from_status="", to_status="submitted",
                                     public_note=rules.label("submitted")))
    await uow.record(AuditEvent(user.username, "need.submitted", "need", str(need_id), None,
                                {"household": household_id, "kind": need.kind, "amount": need.amount}))
    return need_id


insert_need = _insert_need


async def transition_in(uow: Any, need: dict[str, Any], to_status: str, actor: CurrentUser | str, *,
                        reason: str = "", note: str = "") -> None:
    """A need transition inside the caller's unit of work (``need`` is the loaded row)."""
    await _transition(need, to_status, actor, reason=reason, note=note, uow=uow)


async def withdraw_in(uow: Any, need: dict[str, Any], actor: CurrentUser | str, note: str = "") -> None:
    """Stop a need not yet delivered because the applicant revoked consent (``rules.check_withdrawal``),
    inside the caller's unit of work; the caller cancels what the need was waiting on."""
    await _transition(need, rules.S.REJECTED, actor, note=note, uow=uow, public=rules.WITHDRAWN_NOTE,
                      withdrawal=True)


async def possible_duplicates(applicant: Applicant) -> list[Any]:
    """People already registered who may be this applicant, when their No. KK is not yet registered (a new
    household is about to be created): similar name, same or swapped birth date, same kecamatan."""
    from storage.duplicates import find_candidates

    try:
        kk = check_kk(applicant.kk)
    except IdentityError:
        return []
    if await Household.exists().where(Household.kk_hash.is_in(vault().lookup_hashes(kk))):
        return []
    return await find_candidates(applicant.name, applicant.birth_date, applicant.kelurahan_code)


def check_evidence(filename: str, data: bytes) -> str:
    """The content type of an evidence file, judged by its content (PDF, JPEG, PNG; at most 10 MB)."""
    if len(data) > EVIDENCE_MAX:
        raise NeedError(f"Berkas {filename} lebih dari 10 MB")
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    raise NeedError(f"Berkas {filename} bukan PDF, JPEG atau PNG")


async def record_assessment(user: CurrentUser, household_id: int, need: NeedInput,
                            evidence: list[tuple[str, bytes]] | None = None,
                            need_id: int | None = None) -> tuple[int, str]:
    """A social worker's assessment: of a submitted need (``need_id``) or a new need of a DTKS household.

    Evidence is checked by content before anything is written. Returns (need id, ticket code).
    """
    need.check()
    files = [(name, data, check_evidence(name, data)) for name, data in evidence or []]
    async with unit_of_work() as uow:
        if not await Household.exists().where(Household.id == household_id):
            raise NeedError("Keluarga tidak ditemukan")
        if need_id is None:
            rules.refuse_second_open_need(await _open_kinds(household_id), need.kind)
            hh = await Household.select(Household.kelurahan_code).where(Household.id == household_id).first()
            assert hh is not None
            ticket = await _new_ticket()
            req = await ServiceRequest.insert(ServiceRequest(
                ticket_code=ticket, household=household_id, kelurahan_code=hh["kelurahan_code"],
                channel="pekerja_sosial", submitted_by=user.id)).returning(ServiceRequest.id)
            need_id = await _insert_need(household_id, int(req[0]["id"]), need, uow, user)
        row = await Need.select().where((Need.id == need_id) & (Need.household == household_id)).first()
        if row is None:
            raise NeedError("Kebutuhan tidak ditemukan")
        if row["kind"] != need.kind:
            others = [k for k in await _open_kinds(household_id)]
            others.remove(row["kind"])
            rules.refuse_second_open_need(others, need.kind)
        await _transition(row, "assessed", user, note="asesmen", uow=uow, extra={
            Need.ppks: need.main_ppks, Need.kind: need.kind, Need.amount: need.amount, Need.notes: need.full_notes(),
            Need.assessed_by: user.id})
        req_row = await ServiceRequest.select(ServiceRequest.ticket_code).where(
            ServiceRequest.id == row["request"]).first()
        ticket = req_row["ticket_code"] if req_row else ""
        if files:
            from storage.objects import make_object_store

            store = make_object_store()
            for index, (name, data, content_type) in enumerate(files):
                key = f"evidence/{need_id}/{datetime.now(UTC):%Y%m%d%H%M%S}-{index}"
                store.put(key, data, content_type)
                await EvidenceFile.insert(EvidenceFile(need=need_id, object_key=key, filename=name[:255],
                                                       content_type=content_type, size=len(data), uploaded_by=user.id))
    return need_id, ticket


# ---------------------------------------------------------------------------------------- duplication


async def coverage_of(need: dict[str, Any], period: str | None = None) -> rules.Coverage:
    rows = await GovernmentAid.select(GovernmentAid.program, GovernmentAid.amount).where(
        (GovernmentAid.household == need["household"]) & (GovernmentAid.kind == need["kind"])
        & (GovernmentAid.period == (period or current_period())))
    return rules.coverage(need["amount"], [(r["program"], r["amount"]) for r in rows])


# ------------------------------------------------------------------------------------------- tracking


def _rate_clock() -> datetime:
    """The rate limiter's clock (its own name, so a test can hold one window still)."""
    return datetime.now(UTC)


async def allow_lookup(ip: str, limit: int = TRACK_LIMIT, scope: str = "lacak") -> bool:
    """A fixed one-minute window per client IP, counted in the session table (shared by all processes).

    Insert-if-absent then an atomic increment, so simultaneous lookups neither lose counts nor collide.
    """
    now = _rate_clock()
    key = f"ratelimit:{scope}:{ip}:{now:%Y%m%d%H%M}"
    await WebSession.insert(WebSession(key=key, value="0", expires_at=now + timedelta(minutes=2))).on_conflict(
        action="DO NOTHING")
    rows = await WebSession.raw(
        "UPDATE web_session SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = {} RETURNING value", key)
    return int(rows[0]["value"]) <= limit


@dataclass(frozen=True, slots=True)
class PublicNeed:
    kind: str
    ppks: str
    status: str
    events: list[dict[str, Any]]


async def track(ticket: str) -> list[PublicNeed] | None:
    """The public timeline of a ticket: status steps only, no personal data."""
    req = await ServiceRequest.select(ServiceRequest.id).where(
        ServiceRequest.ticket_code == rules.normalise_ticket(ticket)).first()
    if req is None:
        return None
    out = []
    for need in await Need.select(Need.id, Need.kind, Need.ppks, Need.status).where(Need.request == req["id"]):
        events = await NeedEvent.select(NeedEvent.to_status, NeedEvent.public_note, NeedEvent.occurred_at).where(
            NeedEvent.need == need["id"]).order_by(NeedEvent.id)
        out.append(PublicNeed(need["kind"], rules.public_ppks(need["ppks"], PPKS_TYPES), need["status"], events))
    return out


# ------------------------------------------------------------------------------------ households


def shows_whole(user: CurrentUser) -> bool:
    return user.role in DINSOS_ROLES


def _show(user: CurrentUser, cipher: str) -> str:
    plain = vault().decrypt(cipher)
    return plain if shows_whole(user) else mask(plain)


show_identifier = _show
"""A decrypted NIK / No. KK, whole for Dinsos, masked for everyone else."""


async def search_households(user: CurrentUser, *, number: str = "", name: str = "", kelurahan: str = "",
                            page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """Households by NIK or No. KK (through the hash), by member name, by kelurahan; 50 a page.

    An operator sees only their own kelurahan."""
    where: Any = Household.id > 0
    # only the whole list has anchors for its deep pages (storage/positions.py); a filtered one pages by offset
    filtered = user.role == "operator_kelurahan" or bool(kelurahan or number.strip() or name.strip())
    if user.role == "operator_kelurahan":
        where &= Household.kelurahan_code == (user.kelurahan_code or "-")
    if kelurahan:
        where &= Household.kelurahan_code == kelurahan
    number = number.strip()
    if number:
        hashes = vault().lookup_hashes(number)  # one per readable key: a rotation may be under way
        by_member = await Member.select(Member.household).where(Member.nik_hash.is_in(hashes))
        ids = [r["household"] for r in by_member]
        where &= Household.kk_hash.is_in(hashes) | Household.id.is_in(ids or [0])
    if name.strip():
        engine = Member._meta.db
        pattern = f"%{name.strip()}%"
        match = (WhereRaw('lower("member"."name") LIKE lower({})', pattern) if engine.engine_type == "postgres"
                 else Member.name.like(pattern))
        # a semi-join the planner runs either way round (a common name: households in order until the page
        # is full; a rare one: the trigram index first), and no cut at 5,000 members that dropped households
        where &= Household.id.is_in(Member.select(Member.household).where(match))
    start = (max(page, 1) - 1) * PAGE_SIZE
    page_ids: list[int] | None = None
    if name.strip():
        # a name search counts up to NAME_COUNT_UP_TO households, then says "lebih dari" (a common name is in
        # 100,000 and its count cost a quarter of a second; the planner's estimate for it is meaningless).
        # The first NAME_COUNT_UP_TO + 1 matching ids in list order are the count and, for the pages within
        # it (all a search shows), the page too: one walk through the matches instead of a bounded count
        # and then the same walk again for the page (for "Siti" in the city: 14 + 4 ms, now the 14 ms once)
        first = [r["id"] for r in await Household.select(Household.id).where(where).order_by(Household.id)
                 .limit(NAME_COUNT_UP_TO + 1)]
        total = (Total(NAME_COUNT_UP_TO, at_least=True) if len(first) > NAME_COUNT_UP_TO else Total(len(first)))
        if len(first) <= NAME_COUNT_UP_TO or start + PAGE_SIZE <= NAME_COUNT_UP_TO:
            page_ids = first[start:start + PAGE_SIZE]
    else:
        total = await count_rows(Household, where)
    if page_ids is None and not filtered:
        page_ids = await positions.household_page_ids(start, PAGE_SIZE)  # a deep page of the whole list
    if page_ids is None:
        # the page's ids first (an index-only scan, however deep the page), then only those 50 rows: an offset
        # over whole rows read 165,000 of them from the heap for page 3,305 of the city
        page_ids = [r["id"] for r in await Household.select(Household.id).where(where).order_by(Household.id)
                    .limit(PAGE_SIZE).offset(start)]
    rows = await Household.select(
        Household.id, Household.kk_cipher, Household.kelurahan_code, Household.rt, Household.rw, Household.desil,
        Household.extreme_poor, Household.source,
    ).where(Household.id.is_in(page_ids or [0])).order_by(Household.id)
    heads = {r["household"]: r["name"] for r in await Member.select(Member.household, Member.name).where(
        Member.household.is_in([r["id"] for r in rows] or [0]) & (Member.relation == "kepala"))}
    ring, whole = vault(), shows_whole(user)  # one key ring for the page, not one stat() per row
    for r in rows:
        plain = ring.decrypt(r.pop("kk_cipher"))
        r["kk"] = plain if whole else mask(plain)
        r["head"] = heads.get(r["id"], "")
    return rows, total


async def household_detail(user: CurrentUser, household_id: int) -> dict[str, Any] | None:
    where: Any = Household.id == household_id
    if user.role == "operator_kelurahan":
        where &= Household.kelurahan_code == (user.kelurahan_code or "-")
    hh = await Household.select().where(where).first()
    if hh is None:
        return None
    hh["kk"] = _show(user, hh.pop("kk_cipher"))
    hh.pop("kk_hash")
    members = await Member.select().where(Member.household == household_id).order_by(Member.id)
    for m in members:
        m["nik"] = _show(user, m.pop("nik_cipher"))
        m.pop("nik_hash")
    need_rows = await Need.select(*Need.all_columns(), Need.request.ticket_code.as_alias("ticket")).where(
        Need.household == household_id).order_by(Need.id)
    # one query per kind of detail for all the household's needs, not one per need
    need_ids = [n["id"] for n in need_rows] or [0]
    events: dict[int, list[dict[str, Any]]] = {}
    for e in await NeedEvent.select().where(NeedEvent.need.is_in(need_ids)).order_by(NeedEvent.id):
        events.setdefault(e["need"], []).append(e)
    evidence: dict[int, list[dict[str, Any]]] = {}
    for f in await EvidenceFile.select(EvidenceFile.need, EvidenceFile.filename, EvidenceFile.size).where(
            EvidenceFile.need.is_in(need_ids)).order_by(EvidenceFile.id):
        evidence.setdefault(f["need"], []).append({"filename": f["filename"], "size": f["size"]})
    aid = await GovernmentAid.select(*GovernmentAid.all_columns(), GovernmentAid.program.name.as_alias("program_name")
                                     ).where(GovernmentAid.household == household_id).order_by(
        GovernmentAid.period, ascending=False)
    period = current_period()
    for n in need_rows:
        n["coverage"] = rules.coverage(n["amount"], [(a["program"], a["amount"]) for a in aid
                                                     if a["kind"] == n["kind"] and a["period"] == period])
        n["events"] = events.get(n["id"], [])
        n["evidence"] = evidence.get(n["id"], [])
    return {"household": hh, "members": members, "needs": need_rows, "aid": aid}


def need_status_is(*statuses: str) -> Any:
    """``need.status = 'assessed'`` (or ``IN (...)``) written as literals, not parameters.

    Needs are far from even across statuses (the city's newest needs are the submitted and assessed ones),
    and a prepared query's generic plan assumes each status is as common as any other: for the bounded
    count of the queues and the home page it reads ``need`` from the first page until 10,001 rows match
    (60-120 ms), where the plan for the real share takes them from ``need_status`` (about 10 ms). The
    statuses are the fixed words of ``marketplace.needs.STATUS_LABELS``; anything else stays a parameter
    (and matches nothing)."""
    if not statuses or any(s not in rules.STATUS_LABELS for s in statuses):
        return Need.status.is_in(list(statuses)) if len(statuses) != 1 else Need.status == statuses[0]
    words = ", ".join(f"'{s}'" for s in statuses)
    return WhereRaw(f'"need"."status" IN ({words})')


def needs_in_kelurahan(code: str) -> Any:
    """Needs of the households of one kelurahan: ``need.kelurahan_code``, which the database keeps equal to
    the household's (migration 2026-12-06T23:00), over ``need (kelurahan_code, status, id)``. Read through
    the household, each of the kelurahan's households was looked up in ``need`` (4,588 lookups at city
    scale, 6-8 ms a view)."""
    return Need.kelurahan_code == code


async def needs_queue(user: CurrentUser, status: str, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    where: Any = need_status_is(status)
    columns = (Need.id, Need.household, Need.ppks, Need.kind, Need.amount, Need.priority, Need.status,
               Need.submitted_at, Need.kelurahan_code)
    if user.role == "operator_kelurahan":
        where &= needs_in_kelurahan(user.kelurahan_code or "-")
    total = await count_rows(Need, where)
    rows = await Need.select(*columns).where(where).order_by(Need.id).limit(PAGE_SIZE).offset(
        (max(page, 1) - 1) * PAGE_SIZE)
    return rows, total


# --------------------------------------------------------------------------------------- programmes


async def list_programs() -> list[dict[str, Any]]:
    return await GovernmentProgram.select().order_by(GovernmentProgram.code)


async def save_program(user: CurrentUser, code: str, name: str, budget_source: str, kind: str,
                       desil_max: int) -> None:
    code = code.strip().upper()
    if not code or len(code) > 20 or not name.strip():
        raise NeedError("Kode (paling banyak 20 karakter) dan nama program wajib diisi")
    if kind not in {k.value for k in Kind}:
        raise NeedError("Pilih jenis intervensi yang dikenal")
    if not 1 <= desil_max <= 10:
        raise NeedError("Batas desil harus 1 sampai 10")
    async with unit_of_work() as uow:
        if await GovernmentProgram.exists().where(GovernmentProgram.code == code):
            raise NeedError(f"Program {code} sudah ada")
        await GovernmentProgram.insert(GovernmentProgram(code=code, name=name.strip(), budget_source=budget_source,
                                                         kind=kind, desil_max=desil_max))
        await uow.record(AuditEvent(user.username, "program.create", "government_program", code, None,
                                    {"name": name, "kind": kind, "desil_max": desil_max}))


async def set_program_active(user: CurrentUser, code: str, active: bool) -> bool:
    """False, with nothing written or audited, when no programme has that code."""
    async with unit_of_work() as uow:
        if not await GovernmentProgram.exists().where(GovernmentProgram.code == code):
            return False
        await GovernmentProgram.update({GovernmentProgram.active: active}).where(GovernmentProgram.code == code)
        await uow.record(AuditEvent(user.username, "program.activate" if active else "program.deactivate",
                                    "government_program", code))
    return True

"""Requests residents file themselves, or the Puskesos operator files for them: filing with consent,
the kelurahan's validation (link to a registered household or register a new one, after the possible
duplicates were linked or dismissed), decline, and revocation of consent by ticket.

They are ``ServiceRequest`` rows like the operator's and social worker's requests
(``storage/registry.py``); validation opens a ``Need`` in ``submitted`` through the registry, so
assessment, verification and tracking work on them unchanged.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marketplace import clock
from marketplace import referrals as referral_rules
from marketplace import resident_requests as rules
from marketplace.approval import CANCELLABLE
from marketplace.audit import AuditEvent
from marketplace.identity import IdentityError, check_kk, check_nik, mask
from marketplace.needs import UNDELIVERED, WITHDRAWN_REASON, NeedError
from marketplace.resident_requests import RequestError, RequestStatus, ResidentRequest
from marketplace.vocabulary import DINSOS_ROLES, Role
from storage import approval, registry
from storage.accounts import CurrentUser
from storage.counting import count_rows
from storage.crypto import vault
from storage.duplicates import find_candidates
from storage.referrals import service as referrals
from storage.tables import Allocation, DuplicateDismissal, Household, Member, Need, Referral, ServiceRequest
from storage.uow import unit_of_work

PAGE_SIZE = 50
S = RequestStatus


def _actor(user: CurrentUser | None) -> str:
    return user.username if user else "warga"


async def file_request(data: ResidentRequest, user: CurrentUser | None = None) -> str:
    """Store a request from the public form (``user`` is the operator when filed at the Puskesos desk).
    Returns its ticket."""
    keys = vault()
    now = datetime.now(UTC)
    async with unit_of_work() as uow:
        ticket = await registry.new_ticket()
        rows = await ServiceRequest.insert(ServiceRequest(
            ticket_code=ticket, household=None, kelurahan_code=data.kelurahan_code,
            channel="puskesos" if user else "warga", description=data.description,
            submitted_by=user.id if user else None, status=S.RECEIVED, applicant_name=data.name,
            applicant_nik_cipher=keys.encrypt(data.nik) if data.nik else "", applicant_birth_date=data.birth_date,
            applicant_sex=data.sex, address=data.address, rt=data.rt, rw=data.rw, phone=data.phone,
            ppks=data.ppks, kind=data.kind, consent_version=data.consent_version, consent_at=now,
        )).returning(ServiceRequest.id)
        await uow.record(AuditEvent(_actor(user), "request.received", "service_request", str(rows[0]["id"]), None,
                                    {"kelurahan": data.kelurahan_code, "channel": "puskesos" if user else "warga",
                                     "consent_version": data.consent_version}))
    return ticket


async def public_status(ticket: str) -> dict[str, Any] | None:
    """What the tracking page shows of the request itself (no personal data)."""
    row = await ServiceRequest.select(ServiceRequest.id, ServiceRequest.status, ServiceRequest.created_at,
                                      ServiceRequest.consent_version, ServiceRequest.consent_revoked_at).where(
        ServiceRequest.ticket_code == registry.rules.normalise_ticket(ticket)).first()
    if row is None:
        return None
    row["revocable"] = bool(row["consent_version"]) and row["consent_revoked_at"] is None and row["status"] in (
        S.RECEIVED, S.VALIDATED)
    return row


async def revoke_consent(ticket: str) -> None:
    """The applicant revokes consent: processing stops, the request's personal data is erased, and a
    household registered on this consent is marked for anonymisation (retention). Every need of the
    request not yet delivered is stopped (``marketplace.needs.check_withdrawal``) together with what it
    waits on: its proposed or approved allocation is cancelled (capacity and money back to the LKS, the
    LKS told not to deliver) and its open referral withdrawn (the office told, its view of the personal
    data closed). Delivered or confirmed needs are history and stay. One transaction, each step audited."""
    code = registry.rules.normalise_ticket(ticket)[:24]
    async with unit_of_work() as uow:
        req = await ServiceRequest.select().where(ServiceRequest.ticket_code == code).first()
        if req is None or not req["consent_version"] or req["consent_revoked_at"] is not None:
            raise RequestError("Tidak ada persetujuan yang dapat dicabut untuk kode tiket ini.")
        rules.check_transition(req["status"], S.WITHDRAWN)
        now = datetime.now(UTC)
        await ServiceRequest.update({
            ServiceRequest.status: S.WITHDRAWN, ServiceRequest.consent_revoked_at: now,
            ServiceRequest.applicant_name: "", ServiceRequest.applicant_nik_cipher: "",
            ServiceRequest.applicant_birth_date: None, ServiceRequest.address: "", ServiceRequest.rt: "",
            ServiceRequest.rw: "", ServiceRequest.phone: "", ServiceRequest.description: "",
        }).where(ServiceRequest.id == req["id"])
        await DuplicateDismissal.delete().where(DuplicateDismissal.request == req["id"])
        stopped = []
        for need in await Need.select().where((Need.request == req["id"])
                                              & Need.status.is_in(sorted(UNDELIVERED))):
            for a in await Allocation.select(Allocation.id).where(
                    (Allocation.need == need["id"]) & Allocation.status.is_in(sorted(CANCELLABLE))):
                await approval.cancel_in(uow, int(a["id"]), WITHDRAWN_REASON, "pemohon")
            for r in await Referral.select(Referral.id).where(
                    (Referral.need == need["id"]) & Referral.status.is_in(sorted(referral_rules.OPEN))):
                await referrals.withdraw_in(uow, int(r["id"]), "pemohon")
            await registry.withdraw_in(uow, need, "pemohon", note="persetujuan dicabut")
            stopped.append(int(need["id"]))
        if req["household"] is not None:
            await Household.update({Household.consent_withdrawn_at: now}).where(
                (Household.id == req["household"]) & (Household.legal_basis == "consent"))
        await uow.record(AuditEvent("pemohon", "request.consent_revoked", "service_request", str(req["id"]),
                                    {"status": req["status"]}, {"status": S.WITHDRAWN, "needs_stopped": stopped}))


# ----------------------------------------------------------------------------------- the kelurahan desk


def _scope(user: CurrentUser) -> Any:
    if user.role == Role.OPERATOR_KELURAHAN:
        return ServiceRequest.kelurahan_code == (user.kelurahan_code or "-")
    return ServiceRequest.id > 0


async def received(user: CurrentUser, status: str = S.RECEIVED, after: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Requests from residents of the user's kelurahan (all for Dinsos) by status, oldest first, keyset-paged."""
    where = _scope(user) & (ServiceRequest.status == status) & (ServiceRequest.channel.is_in(["warga", "puskesos"]))
    where &= ServiceRequest.consent_version != ""
    total = await count_rows(ServiceRequest, where)
    rows = await ServiceRequest.select(
        ServiceRequest.id, ServiceRequest.ticket_code, ServiceRequest.kelurahan_code, ServiceRequest.applicant_name,
        ServiceRequest.channel, ServiceRequest.created_at, ServiceRequest.kind, ServiceRequest.ppks,
    ).where(where & (ServiceRequest.id > after)).order_by(ServiceRequest.id).limit(PAGE_SIZE)
    return rows, total


async def detail(user: CurrentUser, request_id: int) -> dict[str, Any] | None:
    """A request of the user's kelurahan with its possible duplicates (None when not theirs: 404)."""
    req = await ServiceRequest.select().where(_scope(user) & (ServiceRequest.id == request_id)
                                              & (ServiceRequest.consent_version != "")).first()
    if req is None:
        return None
    nik = vault().decrypt(req.pop("applicant_nik_cipher")) if req["applicant_nik_cipher"] else ""
    req["nik"] = nik if user.role in DINSOS_ROLES or not nik else mask(nik)
    req["candidates"] = []
    if req["status"] == S.RECEIVED and req["applicant_birth_date"] is not None:
        req["candidates"] = await find_candidates(req["applicant_name"], req["applicant_birth_date"],
                                                  req["kelurahan_code"], request_id=request_id)
    return req


async def _load(uow: Any, user: CurrentUser, request_id: int) -> dict[str, Any]:
    req = await ServiceRequest.select().where(_scope(user) & (ServiceRequest.id == request_id)
                                              & (ServiceRequest.consent_version != "")).first()
    if req is None:
        raise RequestError("Permohonan tidak ditemukan.")
    return req


async def dismiss_candidate(user: CurrentUser, request_id: int, member_id: int) -> None:
    """The operator judged this registered person not to be the applicant."""
    async with unit_of_work() as uow:
        req = await _load(uow, user, request_id)
        if req["status"] != S.RECEIVED:
            raise RequestError("Permohonan ini sudah diproses.")
        candidates = await find_candidates(req["applicant_name"], req["applicant_birth_date"],
                                           req["kelurahan_code"], request_id=request_id)
        if member_id not in {c.member_id for c in candidates}:
            raise RequestError("Orang ini bukan calon duplikat permohonan ini.")
        await DuplicateDismissal.insert(DuplicateDismissal(request=request_id, member=member_id,
                                                           dismissed_by=user.id))
        await uow.record(AuditEvent(user.username, "request.duplicate_dismissed", "service_request",
                                    str(request_id), None, {"member": member_id}))


async def link_household(user: CurrentUser, request_id: int, household_id: int, need: registry.NeedInput) -> int:
    """Validate the request by linking it to a registered household: of the operator's kelurahan, or one
    shown as a possible duplicate. Opens the need in ``submitted``; returns the need id."""
    need.check()
    async with unit_of_work() as uow:
        req = await _load(uow, user, request_id)
        hh = await Household.select(Household.id, Household.kelurahan_code).where(
            Household.id == household_id).first()
        if hh is None:
            raise RequestError("Keluarga tidak ditemukan.")
        if user.role == Role.OPERATOR_KELURAHAN and hh["kelurahan_code"] != user.kelurahan_code:
            candidates = await find_candidates(req["applicant_name"], req["applicant_birth_date"],
                                               req["kelurahan_code"], request_id=request_id)
            if household_id not in {c.household_id for c in candidates}:
                raise RequestError("Keluarga ini bukan dari kelurahan Anda.")
        return await _validate(uow, user, req, household_id, need, "linked")


async def register_household(user: CurrentUser, request_id: int, kk: str, nik: str,
                             need: registry.NeedInput) -> int:
    """Validate the request by registering the applicant's household (legal basis: their consent). Refused
    while possible duplicates are neither linked nor dismissed. Returns the need id."""
    need.check()
    keys = vault()
    async with unit_of_work() as uow:
        req = await _load(uow, user, request_id)
        if req["status"] != S.RECEIVED:
            rules.check_transition(req["status"], S.VALIDATED)
        if await find_candidates(req["applicant_name"], req["applicant_birth_date"], req["kelurahan_code"],
                                 request_id=request_id):
            raise RequestError("Masih ada calon duplikat: tautkan permohonan ke keluarga itu atau nyatakan "
                               "bukan orang yang sama sebelum mendaftarkan keluarga baru.")
        try:
            kk = check_kk(kk)
            nik = check_nik(nik, req["applicant_birth_date"], req["applicant_sex"])
        except IdentityError as exc:
            raise RequestError(str(exc)) from None
        if await Household.exists().where(Household.kk_hash.is_in(keys.lookup_hashes(kk))):
            raise RequestError("No. KK ini sudah terdaftar: cari keluarganya dan tautkan permohonan ke sana.")
        if await Member.exists().where(Member.nik_hash.is_in(keys.lookup_hashes(nik))):
            raise RequestError("NIK ini sudah terdaftar pada keluarga lain.")
        rows = await Household.insert(Household(
            kk_cipher=keys.encrypt(kk), kk_hash=keys.hash(kk), kelurahan_code=req["kelurahan_code"],
            address=req["address"], rt=req["rt"], rw=req["rw"], phone=req["phone"], desil=10, source="request",
            legal_basis="consent", consent_given_at=req["consent_at"])).returning(Household.id)
        household_id = int(rows[0]["id"])
        await Member.insert(Member(household=household_id, nik_cipher=keys.encrypt(nik), nik_hash=keys.hash(nik),
                                   name=req["applicant_name"], birth_date=req["applicant_birth_date"],
                                   sex=req["applicant_sex"], relation="kepala"))
        await uow.record(AuditEvent(user.username, "household.register", "household", str(household_id), None,
                                    {"source": "request", "request": request_id}))
        return await _validate(uow, user, req, household_id, need, "registered")


async def _validate(uow: Any, user: CurrentUser, req: dict[str, Any], household_id: int,
                    need: registry.NeedInput, how: str) -> int:
    rules.check_transition(req["status"], S.VALIDATED)
    try:
        registry.rules.refuse_second_open_need(await registry.open_kinds(household_id), need.kind)
    except NeedError as exc:
        raise RequestError(str(exc)) from None
    done = await ServiceRequest.update({
        ServiceRequest.status: S.VALIDATED, ServiceRequest.household: household_id,
        ServiceRequest.validated_by: user.id, ServiceRequest.validated_at: datetime.now(UTC),
    }).where((ServiceRequest.id == req["id"]) & (ServiceRequest.status == S.RECEIVED)).returning(ServiceRequest.id)
    if not done:
        raise RequestError("Permohonan ini baru saja diproses orang lain; muat ulang halaman.")
    need_id = await registry.insert_need(household_id, int(req["id"]), need, uow, user)
    await uow.record(AuditEvent(user.username, "request.validated", "service_request", str(req["id"]),
                                {"status": S.RECEIVED}, {"status": S.VALIDATED, "household": household_id,
                                                         "how": how, "need": need_id}))
    return need_id


async def decline(user: CurrentUser, request_id: int, reason: str) -> None:
    async with unit_of_work() as uow:
        req = await _load(uow, user, request_id)
        clean = rules.check_transition(req["status"], S.DECLINED, reason)
        await ServiceRequest.update({ServiceRequest.status: S.DECLINED, ServiceRequest.decline_reason: clean}).where(
            ServiceRequest.id == request_id)
        await uow.record(AuditEvent(user.username, "request.declined", "service_request", str(request_id),
                                    {"status": req["status"]}, {"status": S.DECLINED, "reason": clean}))


def age_today(born: date | None) -> int | None:
    if born is None:
        return None
    today = clock.today()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

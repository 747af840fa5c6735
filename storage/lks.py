"""LKS registration (with its legal documents and first staff account, the LKS's admin) and Dinsos verification."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.lks import DOCUMENT_KINDS, LksApplication, LksError, decide, sniff_document
from marketplace.lks_team import ALL_RIGHTS
from marketplace.ports import ObjectStore
from marketplace.vocabulary import LksStatus, Role
from storage.engine import ilike
from storage.lks_team.rights import add_member
from storage.tables import Account, Lks, LksDocument
from storage.uow import unit_of_work

PAGE_SIZE = 50


class LksNotFound(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class Upload:
    kind: str
    filename: str
    data: bytes


def check_uploads(uploads: list[Upload]) -> list[tuple[Upload, str, str]]:
    """Each document read by its content; refuses the whole application on the first bad one."""
    checked = []
    for upload in uploads:
        if upload.kind not in DOCUMENT_KINDS:
            raise LksError("Jenis dokumen tidak dikenal.")
        try:
            content_type, ext = sniff_document(upload.data)
        except LksError as exc:
            raise LksError(f"{DOCUMENT_KINDS[upload.kind]}: {exc}") from None
        checked.append((upload, content_type, ext))
    if not any(u.kind == "akta" for u, _, _ in checked):
        raise LksError("Akta pendirian wajib diunggah.")
    return checked


async def register(application: LksApplication, password_hash: str, uploads: list[Upload],
                   store: ObjectStore) -> int:
    """The LKS (status ``applied``), its documents and its first staff account, in one transaction; the
    files go to object storage first and are removed again if the transaction fails."""
    checked = check_uploads(uploads)
    if await Account.exists().where(Account.username == application.username):
        raise LksError(f"Nama pengguna {application.username!r} sudah dipakai.")
    folder = f"lks/{uuid.uuid4().hex}"
    stored: list[tuple[Upload, str, str, int]] = []
    try:
        for upload, content_type, ext in checked:
            key = f"{folder}/{upload.kind}-{uuid.uuid4().hex[:8]}.{ext}"
            obj = store.put(key, upload.data, content_type)
            stored.append((upload, key, content_type, obj.size))
        async with unit_of_work() as uow:
            rows = await Lks.insert(Lks(
                name=application.name, legal_type=application.legal_type, deed_number=application.deed_number,
                decree_number=application.decree_number, dinsos_reg_number=application.dinsos_reg_number,
                address=application.address, kecamatan_code=application.kecamatan_code,
                contact_name=application.contact_name, phone=application.phone, email=application.email,
                bank_name=application.bank_name, bank_account=application.bank_account,
                ppks_served=application.ppks_served, areas=application.areas,
                annual_budget=application.annual_budget, status=LksStatus.APPLIED,
            )).returning(Lks.id)
            lks_id = int(rows[0]["id"])
            for upload, key, content_type, size in stored:
                await LksDocument.insert(LksDocument(lks=lks_id, kind=upload.kind, object_key=key,
                                                    filename=_safe_name(upload.filename), content_type=content_type,
                                                    size=size))
            if await Account.exists().where(Account.username == application.username):
                raise LksError(f"Nama pengguna {application.username!r} sudah dipakai.")
            account = await Account.insert(Account(
                username=application.username, password_hash=password_hash, role=Role.LKS_STAFF,
                full_name=application.contact_name, email=application.email, lks=lks_id,
            )).returning(Account.id)
            await add_member(int(account[0]["id"]), lks_id, ALL_RIGHTS)  # the registering account: its admin
            actor = application.username
            await uow.record(AuditEvent(actor, "lks.apply", "lks", str(lks_id), None,
                                        {"name": application.name, "legal_type": application.legal_type,
                                         "documents": len(stored)}))
            await uow.record(AuditEvent(actor, "account.create", "account", str(account[0]["id"]), None,
                                        {"username": application.username, "role": "lks_staff", "lks": lks_id,
                                         "lks_rights": sorted(ALL_RIGHTS)}))
    except BaseException:
        for _, key, _, _ in stored:
            store.delete(key)
        raise
    return lks_id


def _safe_name(filename: str) -> str:
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(c for c in name if c.isprintable())[:200] or "dokumen"


async def list_applications(q: str = "", status: str = "", page: int = 1) -> tuple[list[dict[str, Any]], int]:
    where: Any = Lks.id > 0
    if q:
        where = where & (ilike(Lks.name, f"%{q}%") | ilike(Lks.dinsos_reg_number, f"%{q}%"))
    if status:
        where = where & (Lks.status == status)
    total = await Lks.count().where(where)
    rows = await (Lks.select(Lks.id, Lks.name, Lks.legal_type, Lks.kecamatan_code, Lks.status, Lks.created_at)
                  .where(where).order_by(Lks.id, ascending=False).limit(PAGE_SIZE)
                  .offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total


async def get_lks(lks_id: int, *, verified_only: bool = False) -> dict[str, Any]:
    where: Any = Lks.id == lks_id
    if verified_only:
        where = where & (Lks.status == LksStatus.VERIFIED)
    row = await Lks.select().where(where).first()
    if row is None:
        raise LksNotFound(lks_id)
    return row


async def documents_of(lks_id: int) -> list[dict[str, Any]]:
    return await LksDocument.select().where(LksDocument.lks == lks_id).order_by(LksDocument.id)


async def get_document(lks_id: int, document_id: int) -> dict[str, Any]:
    row = await LksDocument.select().where((LksDocument.id == document_id) & (LksDocument.lks == lks_id)).first()
    if row is None:
        raise LksNotFound(document_id)
    return row


async def decide_application(lks_id: int, decision: str, reason: str, actor: str) -> str:
    async with unit_of_work() as uow:
        row = await get_lks(lks_id)
        status, reason = decide(row["status"], decision, reason)
        values: dict[Any, Any] = {Lks.status: status, Lks.rejection_reason: reason}
        if status == LksStatus.VERIFIED:
            values[Lks.verified_at] = datetime.now(UTC)
        await Lks.update(values).where(Lks.id == lks_id)
        await uow.record(AuditEvent(actor, f"lks.{decision}", "lks", str(lks_id), {"status": row["status"]},
                                    {"status": status, "reason": reason}))
    return status


async def verified_lks(q: str = "", page: int = 1) -> tuple[list[dict[str, Any]], int]:
    where: Any = Lks.status == LksStatus.VERIFIED
    if q:
        where = where & ilike(Lks.name, f"%{q}%")
    total = await Lks.count().where(where)
    rows = await (Lks.select(Lks.id, Lks.name, Lks.legal_type, Lks.kecamatan_code, Lks.ppks_served)
                  .where(where).order_by(Lks.name).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    return rows, total

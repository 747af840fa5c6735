"""Accounts: create and find, every creation audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.vocabulary import Role
from storage.lks_team.rights import add_member, rights_of
from storage.tables import Account, Lks, Office
from storage.uow import UnitOfWork, unit_of_work


class AccountError(ValueError):
    """A user-caused problem with an account; the message is Indonesian."""


@dataclass(frozen=True, slots=True)
class CurrentUser:
    id: int
    username: str
    full_name: str
    role: str
    lks_id: int | None
    kelurahan_code: str | None
    language: str
    office_code: str | None = None
    """The referral office of an ``office_staff`` account."""
    lks_rights: frozenset[str] = frozenset()
    """An ``lks_staff`` account's rights in its LKS (``marketplace/lks_team.py``)."""

    @classmethod
    def from_row(cls, row: dict[str, Any], lks_rights: frozenset[str] = frozenset()) -> CurrentUser:
        return cls(row["id"], row["username"], row["full_name"], row["role"], row["lks"],
                   row["kelurahan_code"], row["language"], row.get("office"), lks_rights)


async def create_account(
    *, username: str, password_hash: str, role: str, full_name: str = "", email: str = "",
    lks_id: int | None = None, kelurahan_code: str | None = None, office_code: str | None = None,
    actor: str = "system", lks_rights: frozenset[str] | None = None,
) -> int:
    """``lks_rights``: an ``lks_staff`` account's rights in its LKS; by default the LKS's first account is
    its admin with every right and later ones get the working rights (``storage/lks_team/rights.py``)."""
    if role not in {r.value for r in Role}:
        raise AccountError(f"Peran tidak dikenal: {role}")
    if role == Role.LKS_STAFF and lks_id is None:
        raise AccountError("Staf LKS harus terhubung ke satu LKS")
    if role != Role.LKS_STAFF and lks_id is not None:
        raise AccountError("Hanya staf LKS yang terhubung ke LKS")
    if role == Role.OFFICE_STAFF and not office_code:
        raise AccountError("Staf instansi harus terhubung ke satu instansi rujukan")
    if role != Role.OFFICE_STAFF and office_code:
        raise AccountError("Hanya staf instansi yang terhubung ke instansi rujukan")
    if role == Role.OPERATOR_KELURAHAN and not kelurahan_code:
        raise AccountError("Operator kelurahan harus terhubung ke satu kelurahan")
    if not username or len(username) > 80:
        raise AccountError("Nama pengguna wajib diisi (paling banyak 80 karakter)")
    async with unit_of_work() as uow:
        return await insert_account(uow, username=username, password_hash=password_hash, role=role,
                                    full_name=full_name, email=email, lks_id=lks_id, kelurahan_code=kelurahan_code,
                                    office_code=office_code, actor=actor, lks_rights=lks_rights)


async def insert_account(
    uow: UnitOfWork, *, username: str, password_hash: str, role: str, full_name: str, email: str,
    lks_id: int | None, kelurahan_code: str | None, office_code: str | None, actor: str,
    lks_rights: frozenset[str] | None,
) -> int:
    """The account (and an LKS staff member's rights) inside the caller's transaction, audited."""
    if await Account.exists().where(Account.username == username):
        raise AccountError(f"Nama pengguna {username!r} sudah dipakai")
    if lks_id is not None and not await Lks.exists().where(Lks.id == lks_id):
        raise AccountError(f"LKS #{lks_id} tidak ada")
    if office_code and not await Office.exists().where(Office.code == office_code):
        raise AccountError(f"Instansi {office_code!r} tidak dikenal")
    rows = await Account.insert(
        Account(username=username, password_hash=password_hash, role=role, full_name=full_name,
                email=email, lks=lks_id, kelurahan_code=kelurahan_code, office=office_code)
    ).returning(Account.id)
    account_id = int(rows[0]["id"])
    after: dict[str, Any] = {"username": username, "role": role, "lks": lks_id,
                             "kelurahan_code": kelurahan_code, "office": office_code}
    if role == Role.LKS_STAFF and lks_id is not None:
        after["lks_rights"] = sorted(await add_member(account_id, lks_id, lks_rights))
    await uow.record(AuditEvent(actor, "account.create", "account", str(account_id), None, after))
    return account_id


async def find_by_username(username: str) -> dict[str, Any] | None:
    return await Account.select().where(Account.username == username).first()


async def load_user(account_id: int) -> CurrentUser | None:
    row = await Account.select().where((Account.id == account_id) & (Account.active == True)).first()  # noqa: E712
    if row is None:
        return None
    return CurrentUser.from_row(row, await rights_of(account_id) if row["role"] == Role.LKS_STAFF else frozenset())

"""The LKS's team: invitations by one-time link, rights, deactivation. One transaction and audit events
per change; every look-up is bound to the acting admin's LKS, so another LKS's staff and invitations are
simply not found (the portal answers 404).

Invitation tokens are 32 random bytes (``secrets.token_urlsafe``), shown once in the link and kept only as
their SHA-256 (a random token needs no slow hash, as with API tokens); an invitation is used at most once
(a conditional update claims it inside the transaction that creates the account), expires after
``INVITE_LIFETIME``, and holds only while the admin who made it is an active admin.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.lks_team import (
    ADMIN,
    INVITE_LIFETIME,
    RIGHTS,
    Member,
    TeamError,
    check_change,
    invite_state,
)
from marketplace.settings import Settings
from marketplace.vocabulary import Role
from storage.accounts import AccountError, CurrentUser, insert_account
from storage.api.tokens import UNUSABLE_PASSWORD
from storage.engine import ilike
from storage.lks_team.rights import as_columns, from_row
from storage.tables import Account, AccountSession, LksInvite, LksMember
from storage.uow import UnitOfWork, unit_of_work

log = logging.getLogger(__name__)
PAGE_SIZE = 50
_RIGHT_COLUMNS = [getattr(LksMember, r) for r in RIGHTS]


class TeamNotFound(LookupError):
    """Not in the acting admin's LKS (or not at all): the portal answers 404."""


class InviteInvalid(TeamError):
    """The link is unknown, used, revoked or expired; the message says which, in Indonesian."""


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _people(lks_id: int) -> Any:
    """The LKS's members who are people: an API token's service account is Dinsos's, not the team's."""
    return (LksMember.lks == lks_id) & (LksMember.account.password_hash != UNUSABLE_PASSWORD)


def _lks_of(actor: CurrentUser) -> int:
    if actor.role != Role.LKS_STAFF or actor.lks_id is None:
        raise TeamNotFound()
    return actor.lks_id


# --- reading ----------------------------------------------------------------------------------------

async def team_of(actor: CurrentUser, q: str = "", page: int = 1) -> tuple[list[dict[str, Any]], int]:
    """The admin's own LKS's people, searchable by name, username or e-mail, 50 a page."""
    where = _people(_lks_of(actor))
    if q:
        pattern = f"%{q}%"
        where = where & (ilike(LksMember.account.username, pattern) | ilike(LksMember.account.full_name, pattern)
                         | ilike(LksMember.account.email, pattern))
    total = await LksMember.count().where(where)
    rows = await (LksMember.select(
        LksMember.account.as_alias("account_id"), LksMember.account.username.as_alias("username"),
        LksMember.account.full_name.as_alias("full_name"), LksMember.account.email.as_alias("email"),
        LksMember.account.active.as_alias("active"), LksMember.account.last_login_at.as_alias("last_login_at"),
        *_RIGHT_COLUMNS,
    ).where(where).order_by(LksMember.account.id).limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE))
    for row in rows:
        row["rights"] = from_row(row)
    return rows, total


async def member_of(actor: CurrentUser, account_id: int) -> dict[str, Any]:
    rows = await LksMember.select(
        LksMember.account.as_alias("account_id"), LksMember.account.username.as_alias("username"),
        LksMember.account.full_name.as_alias("full_name"), LksMember.account.email.as_alias("email"),
        LksMember.account.active.as_alias("active"), LksMember.account.last_login_at.as_alias("last_login_at"),
        LksMember.account.created_at.as_alias("created_at"), *_RIGHT_COLUMNS,
    ).where(_people(_lks_of(actor)) & (LksMember.account == account_id))
    if not rows:
        raise TeamNotFound()
    rows[0]["rights"] = from_row(rows[0])
    return rows[0]


async def _active_admins(lks_id: int) -> set[int]:
    """The accounts that are active admins of the LKS now: only their invitations still hold."""
    rows = await LksMember.select(LksMember.account).where(
        (LksMember.lks == lks_id) & (LksMember.admin == True) & (LksMember.account.active == True))  # noqa: E712
    return {int(r["account"]) for r in rows}


async def _lapse_invites(uow: UnitOfWork, actor: CurrentUser, account_id: int, lks_id: int, why: str) -> None:
    """Revokes the open invitations ``account_id`` made, in the transaction that deactivates them or takes
    away their admin right: reactivating the account later does not bring those links back."""
    now = _now()
    lapsed = await LksInvite.update({LksInvite.revoked_at: now}).where(
        (LksInvite.lks == lks_id) & (LksInvite.created_by == account_id) & LksInvite.used_at.is_null()
        & LksInvite.revoked_at.is_null() & (LksInvite.expires_at > now)).returning(LksInvite.id)
    for row in lapsed:
        await uow.record(AuditEvent(actor.username, "lks_team.invite_revoke", "lks_invite", str(row["id"]),
                                    {"state": "open"}, {"state": "revoked", "lks": lks_id, "reason": why,
                                                        "inviter": account_id}))


async def _members(lks_id: int) -> list[Member]:
    rows = await LksMember.select(LksMember.account, LksMember.account.active.as_alias("active"),
                                  *_RIGHT_COLUMNS).where(_people(lks_id))
    return [Member(int(r["account"]), from_row(r), bool(r["active"])) for r in rows]


# --- changing rights and deactivating ---------------------------------------------------------------

async def set_rights(actor: CurrentUser, account_id: int, rights: frozenset[str]) -> None:
    lks_id = _lks_of(actor)
    async with unit_of_work() as uow:
        team = await _members(lks_id)
        before = next((m for m in team if m.account_id == account_id), None)
        if before is None:
            raise TeamNotFound()
        check_change(actor.id, team, account_id, rights=rights)
        if before.rights == rights:
            return
        await LksMember.update({**as_columns(rights), LksMember.updated_at: _now()}).where(
            (LksMember.account == account_id) & (LksMember.lks == lks_id))
        if ADMIN in before.rights and ADMIN not in rights:
            await _lapse_invites(uow, actor, account_id, lks_id, "inviter_lost_admin")
        await uow.record(AuditEvent(actor.username, "lks_team.rights", "account", str(account_id),
                                    {"lks": lks_id, "rights": sorted(before.rights)},
                                    {"lks": lks_id, "rights": sorted(rights)}))


async def set_active(actor: CurrentUser, account_id: int, active: bool) -> int:
    """Deactivates (its sessions end at once: their rows go, and a deactivated account loads as nobody)
    or reactivates an account; returns the number of sessions ended."""
    lks_id = _lks_of(actor)
    async with unit_of_work() as uow:
        team = await _members(lks_id)
        before = next((m for m in team if m.account_id == account_id), None)
        if before is None:
            raise TeamNotFound()
        check_change(actor.id, team, account_id, active=active)
        if before.active == active:
            return 0
        await Account.update({Account.active: active}).where((Account.id == account_id) & (Account.lks == lks_id))
        ended = [] if active else await AccountSession.delete().where(
            AccountSession.account == account_id).returning(AccountSession.id)
        if not active:
            await _lapse_invites(uow, actor, account_id, lks_id, "inviter_deactivated")
        await uow.record(AuditEvent(actor.username, "lks_team.activate" if active else "lks_team.deactivate",
                                    "account", str(account_id), {"lks": lks_id, "active": before.active},
                                    {"lks": lks_id, "active": active, "sessions_ended": len(ended)}))
    return len(ended)


# --- invitations ------------------------------------------------------------------------------------

async def create_invite(actor: CurrentUser, email: str, full_name: str, rights: frozenset[str]) -> tuple[int, str]:
    """Returns (invitation id, the token in clear): shown once, never stored. Only an active admin invites."""
    lks_id = _lks_of(actor)
    token = secrets.token_urlsafe(32)
    async with unit_of_work() as uow:
        if not any(m.is_admin and m.account_id == actor.id for m in await _members(lks_id)):
            raise TeamError("Hanya admin LKS yang dapat mengundang staf.")
        rows = await LksInvite.insert(LksInvite(
            {getattr(LksInvite, r): r in rights for r in RIGHTS}, lks=lks_id, token_hash=_digest(token),
            email=email, full_name=full_name, created_by=actor.id, expires_at=_now() + INVITE_LIFETIME,
        )).returning(LksInvite.id)
        invite_id = int(rows[0]["id"])
        await uow.record(AuditEvent(actor.username, "lks_team.invite", "lks_invite", str(invite_id), None,
                                    {"lks": lks_id, "email": email, "rights": sorted(rights),
                                     "expires_in_hours": int(INVITE_LIFETIME.total_seconds() // 3600)}))
    return invite_id, token


async def invites_of(actor: CurrentUser, limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """The LKS's latest invitations with their state (open, used, revoked, expired)."""
    rows = await (LksInvite.select(
        LksInvite.id, LksInvite.email, LksInvite.full_name, LksInvite.created_at, LksInvite.expires_at,
        LksInvite.used_at, LksInvite.revoked_at, LksInvite.used_by.username.as_alias("used_by_username"),
        LksInvite.created_by, *(getattr(LksInvite, r) for r in RIGHTS),
    ).where(LksInvite.lks == _lks_of(actor)).order_by(LksInvite.id, ascending=False).limit(limit))
    now = _now()
    admins = await _active_admins(_lks_of(actor))
    for row in rows:
        row["rights"] = from_row(row)
        row["state"] = invite_state(_aware(row["expires_at"]), row["used_at"], row["revoked_at"], now,
                                    row["created_by"] in admins)
    return rows


async def revoke_invite(actor: CurrentUser, invite_id: int) -> None:
    lks_id = _lks_of(actor)
    async with unit_of_work() as uow:
        row = await LksInvite.select(LksInvite.expires_at, LksInvite.used_at, LksInvite.revoked_at,
                                     LksInvite.created_by).where(
            (LksInvite.id == invite_id) & (LksInvite.lks == lks_id)).first()
        if row is None:
            raise TeamNotFound()
        state = invite_state(_aware(row["expires_at"]), row["used_at"], row["revoked_at"], _now(),
                             row["created_by"] in await _active_admins(lks_id))
        if state != "open":
            raise TeamError("Undangan ini sudah tidak berlaku, tidak perlu dibatalkan.")
        await LksInvite.update({LksInvite.revoked_at: _now()}).where(LksInvite.id == invite_id)
        await uow.record(AuditEvent(actor.username, "lks_team.invite_revoke", "lks_invite", str(invite_id),
                                    {"state": "open"}, {"state": "revoked", "lks": lks_id}))


_INVALID = {
    "used": "Tautan undangan ini sudah dipakai. Setiap tautan hanya berlaku satu kali; silakan masuk, atau "
            "minta undangan baru kepada admin LKS Anda.",
    "revoked": "Undangan ini sudah dibatalkan oleh admin LKS. Minta undangan baru bila masih diperlukan.",
    "expired": "Tautan undangan ini sudah kedaluwarsa. Minta undangan baru kepada admin LKS Anda.",
    "unknown": "Tautan undangan tidak dikenal. Periksa kembali tautan yang Anda terima.",
    "lapsed": "Undangan ini tidak berlaku lagi: admin LKS yang mengundang Anda sudah dinonaktifkan atau tidak "
              "lagi menjadi admin. Minta undangan baru kepada admin LKS Anda.",
}


async def open_invite(token: str) -> dict[str, Any]:
    """The invitation behind a link (with its LKS's name), or ``InviteInvalid`` saying why it is not open."""
    if not 20 <= len(token) <= 100:
        raise InviteInvalid(_INVALID["unknown"])
    row = await LksInvite.select(
        LksInvite.id, LksInvite.lks, LksInvite.lks.name.as_alias("lks_name"), LksInvite.email,
        LksInvite.full_name, LksInvite.expires_at, LksInvite.used_at, LksInvite.revoked_at, LksInvite.created_by,
        *(getattr(LksInvite, r) for r in RIGHTS),
    ).where(LksInvite.token_hash == _digest(token)).first()
    if row is None:
        raise InviteInvalid(_INVALID["unknown"])
    state = invite_state(_aware(row["expires_at"]), row["used_at"], row["revoked_at"], _now(),
                         row["created_by"] in await _active_admins(int(row["lks"])))
    if state != "open":
        raise InviteInvalid(_INVALID[state])
    row["rights"] = from_row(row)
    return row


async def accept_invite(token: str, full_name: str, username: str, password_hash: str) -> int:
    """The invitee's own account with the invitation's rights; the invitation is claimed in the same
    transaction (a second use, even at the same moment, finds it used), and only while the admin who
    made it is still an active admin. Returns the account id."""
    invite = await open_invite(token)
    now = _now()
    async with unit_of_work() as uow:
        claimed = await LksInvite.update({LksInvite.used_at: now}).where(
            (LksInvite.id == invite["id"]) & LksInvite.used_at.is_null() & LksInvite.revoked_at.is_null()
            & (LksInvite.expires_at > now)).returning(LksInvite.id)
        if not claimed:
            raise InviteInvalid(_INVALID["used"])
        if invite["created_by"] not in await _active_admins(int(invite["lks"])):  # changed since it was opened
            raise InviteInvalid(_INVALID["lapsed"])
        try:
            account_id = await insert_account(
                uow, username=username, password_hash=password_hash, role=Role.LKS_STAFF, full_name=full_name,
                email=invite["email"], lks_id=int(invite["lks"]), kelurahan_code=None, office_code=None,
                actor=username, lks_rights=invite["rights"])
        except AccountError as exc:
            raise TeamError(str(exc).replace("'", "") + ". Pilih nama pengguna lain.") from None
        await LksInvite.update({LksInvite.used_by: account_id}).where(LksInvite.id == invite["id"])
        await uow.record(AuditEvent(username, "lks_team.invite_accept", "lks_invite", str(invite["id"]),
                                    {"state": "open"}, {"state": "used", "account": account_id,
                                                        "lks": int(invite["lks"])}))
    return account_id


# --- e-mail -----------------------------------------------------------------------------------------

def invite_email(to: str, lks_name: str, link: str, rights: frozenset[str], settings: Settings) -> EmailMessage:
    email = EmailMessage()
    email["Subject"] = f"jitu: undangan bergabung dengan tim {lks_name}"
    email["From"] = settings.smtp_from
    email["To"] = to
    hours = int(INVITE_LIFETIME.total_seconds() // 3600)
    granted = "\n".join(f"- {RIGHTS[r]}" for r in RIGHTS if r in rights)
    email.set_content(
        f"Anda diundang bergabung dengan tim {lks_name} di portal jitu Dinas Sosial Kota Bandung.\n\n"
        f"Buka tautan ini untuk membuat nama pengguna dan kata sandi Anda sendiri (berlaku {hours} jam, "
        f"satu kali pakai):\n{link}\n\nHak akses Anda:\n{granted}\n\n"
        "Bila Anda tidak mengenal undangan ini, abaikan surel ini.\n\nDinas Sosial Kota Bandung\n")
    return email


async def send_invite(invite_id: int, actor: CurrentUser, link: str, settings: Settings) -> bool:
    """Sends the link to the invitation's e-mail when SMTP is configured; False when not sent (no SMTP, no
    address, or the mail server failed: the portal then shows the link to the admin instead)."""
    row = await LksInvite.select(LksInvite.email, LksInvite.lks.name.as_alias("lks_name"),
                                 *(getattr(LksInvite, r) for r in RIGHTS)).where(
        (LksInvite.id == invite_id) & (LksInvite.lks == _lks_of(actor))).first()
    if not settings.smtp_host or row is None or not row["email"]:
        return False
    from storage.approval import send_email

    try:
        await asyncio.to_thread(send_email, invite_email(row["email"], row["lks_name"], link, from_row(row),
                                                         settings), settings)
    except (OSError, smtplib.SMTPException):
        log.exception("invitation e-mail %s failed", invite_id)
        return False
    async with unit_of_work() as uow:
        await uow.record(AuditEvent(actor.username, "lks_team.invite_email", "lks_invite", str(invite_id), None,
                                    {"email": row["email"]}))
    return True


__all__ = ["ADMIN", "InviteInvalid", "TeamError", "TeamNotFound", "accept_invite", "create_invite",
           "invites_of", "member_of", "open_invite", "revoke_invite", "send_invite", "set_active", "set_rights",
           "team_of"]

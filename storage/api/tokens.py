"""API tokens: one per office or per LKS, created and revoked by Dinsos, shown once, kept as SHA-256.

A token acts through a service account of its own (role ``office_staff`` bound to the office, or
``lks_staff`` bound to the LKS; no usable password), so the API goes through exactly the guards, queries,
access log and audit trail the pages use. Requests are counted per token in one-minute windows in the
database (shared by every app process).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.lks_team import API_RIGHTS
from marketplace.vocabulary import Role
from storage.accounts import AccountError, CurrentUser, create_account, load_user
from storage.tables import Account, ApiToken, Lks, Office, WebSession
from storage.uow import unit_of_work

PREFIX = "jitu_"
UNUSABLE_PASSWORD = "!api-token-account"  # noqa: S105  (not an argon2 hash: no password ever matches it)


class TokenError(ValueError):
    """A user-caused problem with a token; the message is Indonesian."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_token(user: CurrentUser, label: str, *, office_code: str = "", lks_id: int = 0) -> tuple[int, str]:
    """Returns (token id, the token in clear): shown once, never stored."""
    if user.role != Role.DINSOS_ADMIN:
        raise TokenError("Hanya Dinas Sosial yang membuat token API")
    label = label.strip()
    if not 3 <= len(label) <= 120:
        raise TokenError("Nama token wajib diisi (3 sampai 120 karakter)")
    if bool(office_code) == bool(lks_id):
        raise TokenError("Pilih satu instansi atau satu LKS untuk token ini")
    if office_code and not await Office.exists().where(Office.code == office_code):
        raise TokenError("Instansi tidak dikenal")
    if lks_id and not (1 <= lks_id < 2**31 and await Lks.exists().where((Lks.id == lks_id)
                                                                         & (Lks.status == "verified"))):
        raise TokenError("LKS tidak dikenal atau belum terverifikasi")
    token = PREFIX + secrets.token_urlsafe(32)
    username = f"api-{office_code or f'lks{lks_id}'}-{secrets.token_hex(4)}"
    try:
        account_id = await create_account(
            username=username, password_hash=UNUSABLE_PASSWORD, full_name=f"API: {label}"[:120],
            role=Role.OFFICE_STAFF if office_code else Role.LKS_STAFF, office_code=office_code or None,
            lks_id=lks_id or None, actor=user.username, lks_rights=API_RIGHTS if lks_id else None)
    except AccountError as exc:
        raise TokenError(str(exc)) from exc
    async with unit_of_work() as uow:
        rows = await ApiToken.insert(ApiToken(
            account=account_id, label=label, prefix=token[:12], token_hash=_digest(token),
            office=office_code or None, lks=lks_id or None, created_by=user.id,
        )).returning(ApiToken.id)
        token_id = int(rows[0]["id"])
        await uow.record(AuditEvent(user.username, "api_token.create", "api_token", str(token_id), None,
                                    {"label": label, "office": office_code, "lks": lks_id, "account": username}))
    return token_id, token


async def revoke_token(user: CurrentUser, token_id: int) -> None:
    if user.role != Role.DINSOS_ADMIN:
        raise TokenError("Hanya Dinas Sosial yang mencabut token API")
    if not 1 <= token_id < 2**31:
        raise TokenError("Token tidak ditemukan")
    async with unit_of_work() as uow:
        row = await ApiToken.select(ApiToken.account, ApiToken.revoked_at).where(ApiToken.id == token_id).first()
        if row is None:
            raise TokenError("Token tidak ditemukan")
        if row["revoked_at"] is not None:
            return
        await ApiToken.update({ApiToken.revoked_at: datetime.now(UTC)}).where(ApiToken.id == token_id)
        await Account.update({Account.active: False}).where(Account.id == row["account"])
        await uow.record(AuditEvent(user.username, "api_token.revoke", "api_token", str(token_id),
                                    {"revoked": False}, {"revoked": True}))


async def list_tokens() -> list[dict[str, Any]]:
    return await ApiToken.select(
        ApiToken.id, ApiToken.label, ApiToken.prefix, ApiToken.office, ApiToken.lks,
        ApiToken.lks._.name.as_alias("lks_name"), ApiToken.created_at, ApiToken.revoked_at, ApiToken.last_used_at,
    ).order_by(ApiToken.id, ascending=False)


async def authenticate(header: str | None) -> tuple[int, CurrentUser] | None:
    """(token id, its account) for ``Authorization: Bearer <token>``, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token.startswith(PREFIX) or len(token) > 100:
        return None
    row = await ApiToken.select(ApiToken.id, ApiToken.account, ApiToken.last_used_at).where(
        (ApiToken.token_hash == _digest(token)) & ApiToken.revoked_at.is_null()).first()
    if row is None:
        return None
    user = await load_user(int(row["account"]))
    if user is None:
        return None
    now = datetime.now(UTC)
    last = row["last_used_at"]
    if last is None or (last.replace(tzinfo=last.tzinfo or UTC) < now - timedelta(minutes=1)):
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["id"])
    return int(row["id"]), user


async def allow_request(token_id: int, limit: int) -> bool:
    """A fixed one-minute window per token, counted atomically in the session table."""
    now = datetime.now(UTC)
    key = f"ratelimit:api:{token_id}:{now:%Y%m%d%H%M}"
    await WebSession.insert(WebSession(key=key, value="0", expires_at=now + timedelta(minutes=2))).on_conflict(
        action="DO NOTHING")
    rows = await WebSession.raw(
        "UPDATE web_session SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = {} RETURNING value", key)
    return int(rows[0]["value"]) <= limit

"""Log-in hardening: the per-account session registry and the log-in throttle (issue 13).

Throttle (ASVS 2.2.1): failures are counted per account name (known or not, so a wrong user and a
wrong password behave alike) and per client address. After ``FREE`` failures each further attempt
must wait a growing delay (1 s, 2 s, 4 s … capped); at ``LOCK_ACCOUNT`` failures the name is locked,
at ``LOCK_ADDRESS`` the address is, until a Dinsos admin lifts the lock. A success resets the account's
count. Locks and unlocks leave audit records.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace.audit import AuditEvent
from marketplace.lks_team import RIGHTS
from marketplace.vocabulary import Role
from storage.accounts import CurrentUser
from storage.lks_team.rights import from_row as rights_from_row
from storage.tables import AccountSession, LoginThrottle
from storage.uow import unit_of_work

FREE = 3
LOCK_ACCOUNT = 10
LOCK_ADDRESS = 50
MAX_DELAY = 300
FORGET_AFTER = timedelta(hours=24)
SEEN_EVERY = timedelta(minutes=1)


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(at: datetime | None) -> datetime | None:
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def account_key(username: str) -> str:
    return "account:" + username.strip().lower()[:140]


def address_key(address: str) -> str:
    return "ip:" + address[:64]


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    locked: bool = False
    wait_seconds: int = 0


async def check(username: str, address: str) -> Verdict:
    """May this name, from this address, try a password now?"""
    rows = await LoginThrottle.select().where(LoginThrottle.key.is_in([account_key(username), address_key(address)]))
    now, wait = _now(), 0
    for row in rows:
        if row["locked"]:
            return Verdict(False, locked=True)
        until = _aware(row["wait_until"])
        if until and until > now:
            wait = max(wait, int((until - now).total_seconds()) + 1)
    return Verdict(wait == 0, wait_seconds=wait)


def _delay(failures: int) -> int:
    return 0 if failures < FREE else min(2 ** (failures - FREE), MAX_DELAY)


async def record_failure(username: str, address: str) -> None:
    """Counts a failed attempt on both keys; locks a key that reaches its limit (audited)."""
    now = _now()
    async with unit_of_work() as uow:
        for key, limit in ((account_key(username), LOCK_ACCOUNT), (address_key(address), LOCK_ADDRESS)):
            row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
            last = _aware(row["last_failure_at"]) if row else None
            failures = 1 if row is None or (last and now - last > FORGET_AFTER) else int(row["failures"]) + 1
            lock = failures >= limit and not (row and row["locked"])
            values: dict[Any, Any] = {LoginThrottle.failures: failures, LoginThrottle.last_failure_at: now,
                      LoginThrottle.wait_until: now + timedelta(seconds=_delay(failures))}
            if lock:
                values.update({LoginThrottle.locked: True, LoginThrottle.locked_at: now})
            if row is None:
                await LoginThrottle.insert(LoginThrottle({LoginThrottle.key: key, **values}))
            else:
                await LoginThrottle.update(values).where(LoginThrottle.id == row["id"])
            if lock:
                await uow.record(AuditEvent("system", "auth.lock", "login_throttle", key, None,
                                            {"failures": failures}))


async def record_success(username: str) -> None:
    await LoginThrottle.delete().where(
        (LoginThrottle.key == account_key(username)) & (LoginThrottle.locked == False)  # noqa: E712
    )


async def locks() -> list[dict[str, Any]]:
    """Locked and currently delayed keys, newest first (for the Dinsos admin page)."""
    now = _now()
    return await LoginThrottle.select().where(
        (LoginThrottle.locked == True) | (LoginThrottle.wait_until > now)  # noqa: E712
    ).order_by(LoginThrottle.last_failure_at, ascending=False).limit(500)


async def unlock(actor: str, throttle_id: int) -> bool:
    async with unit_of_work() as uow:
        row = await LoginThrottle.select().where(LoginThrottle.id == throttle_id).first()
        if row is None:
            return False
        await LoginThrottle.delete().where(LoginThrottle.id == throttle_id)
        await uow.record(AuditEvent(actor, "auth.unlock", "login_throttle", row["key"],
                                    {"failures": row["failures"], "locked": row["locked"]}, None))
    return True


# --- sessions ---------------------------------------------------------------------------------------

async def open_session(account_id: int, ip: str, user_agent: str) -> str:
    sid = secrets.token_urlsafe(24)
    await AccountSession.insert(AccountSession(account=account_id, sid=sid, ip=ip[:64], user_agent=user_agent[:200]))
    return sid


_SESSION_USER = (
    "SELECT a.id, a.username, a.full_name, a.role, a.lks, a.kelurahan_code, a.language, a.office, "  # noqa: S608
    + ", ".join(f"m.{r} AS {r}" for r in RIGHTS)
    + ", s.id AS session_row, s.last_seen_at AS session_seen FROM account a "
    "JOIN account_session s ON s.account = a.id AND s.sid = {} "
    "LEFT JOIN lks_member m ON m.account = a.id WHERE a.id = {} AND a.active = {}"
)


async def session_user(account_id: int, sid: str) -> CurrentUser | None:
    """The active account of a live session (its row not ended), with its LKS rights; None otherwise.
    One statement for what every page needs first: the account, its rights and the session row were
    three round trips on each request. Refreshes ``last_seen_at`` at most once a minute."""
    rows = await AccountSession.raw(_SESSION_USER, sid, account_id, True)
    if not rows:
        return None
    row = rows[0]
    await _seen(int(row["session_row"]), row["session_seen"])
    rights = rights_from_row(row) if row["role"] == Role.LKS_STAFF else frozenset()
    return CurrentUser.from_row(row, rights)


async def _seen(session_row: int, last_seen_at: datetime | None) -> None:
    seen = _aware(last_seen_at)
    if seen is None or _now() - seen > SEEN_EVERY:
        await AccountSession.update({AccountSession.last_seen_at: _now()}).where(AccountSession.id == session_row)


IDLE = timedelta(hours=8)
"""The portal's session lifetime: a row not seen for longer belongs to an expired session."""


async def sessions_of(account_id: int) -> list[dict[str, Any]]:
    await AccountSession.delete().where(AccountSession.last_seen_at < _now() - IDLE)
    return await AccountSession.select().where(AccountSession.account == account_id).order_by(
        AccountSession.last_seen_at, ascending=False)


async def end_session(actor: str, account_id: int, session_id: int) -> bool:
    async with unit_of_work() as uow:
        gone = await AccountSession.delete().where(
            (AccountSession.id == session_id) & (AccountSession.account == account_id)).returning(AccountSession.id)
        if gone:
            await uow.record(AuditEvent(actor, "auth.session_end", "account", str(account_id), None,
                                        {"session": session_id}))
    return bool(gone)


async def end_sessions(actor: str, account_id: int, keep_sid: str | None, reason: str) -> int:
    """Ends every session of the account but ``keep_sid`` (password change, "end the others")."""
    async with unit_of_work() as uow:
        where: Any = AccountSession.account == account_id
        if keep_sid:
            where = where & (AccountSession.sid != keep_sid)
        gone = await AccountSession.delete().where(where).returning(AccountSession.id)
        await uow.record(AuditEvent(actor, "auth.sessions_end", "account", str(account_id), None,
                                    {"ended": len(gone), "reason": reason}))
    return len(gone)


async def forget_session(sid: str) -> None:
    await AccountSession.delete().where(AccountSession.sid == sid)

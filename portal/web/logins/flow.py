"""The log-in's session steps: a password-checked session waiting for its second factor, and the
authenticated session opened at the end (issue 13, ASVS 2.8, 3.2.1).

A waiting ("pending") session holds no ``account_id``, so ``portal.auth.current_user`` sees nobody and
every guarded route refuses it (the refusal sends it back to the second-factor page); only the
second-factor pages, which read the pending state themselves, and the public pages answer it. The
session id is renewed when the password is accepted and again when the session becomes authenticated.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from litestar import Request

from marketplace.audit import AuditEvent
from marketplace.second_factor import PENDING_SECONDS, SecondStep
from portal.sessions import rotate_session
from portal.web.common import client_ip
from storage import logins
from storage.tables import Account
from storage.uow import unit_of_work

PENDING = "mfa_pending"
CODE_PAGE = "/masuk/faktor-kedua"
ENROL_PAGE = "/masuk/faktor-kedua/daftar"


def required_roles(request: Request[Any, Any, Any]) -> frozenset[str]:
    return request.app.state["settings"].mfa_required_roles  # type: ignore[no-any-return]


async def start_session(request: Request[Any, Any, Any], row: dict[str, Any], second_factor: str) -> None:
    """A fresh session id (ASVS 3.2.1) and a registry row the account can see and end (ASVS 3.3).
    ``second_factor`` (``totp``, ``recovery``, ``enrol`` or ``none``) stays in the session: a role that
    requires one never holds a session opened without it (``portal.auth.current_user``)."""
    sid = await logins.open_session(row["id"], client_ip(request), request.headers.get("user-agent", ""))
    request.clear_session()
    request.set_session({"account_id": row["id"], "role": row["role"], "sid": sid, "lang": row["language"] or "id",
                         "second_factor": second_factor})
    rotate_session(request)


async def complete_login(request: Request[Any, Any, Any], row: dict[str, Any], second_factor: str) -> None:
    """The account is authenticated: the throttle forgets its failures, a new session is opened."""
    await logins.record_success(row["username"])
    await start_session(request, row, second_factor)
    async with unit_of_work() as uow:
        await Account.update({Account.last_login_at: datetime.now(UTC)}).where(Account.id == row["id"])
        await uow.record(AuditEvent(row["username"], "auth.login", "account", str(row["id"]), None,
                                    {"second_factor": second_factor}))


def begin_second_step(request: Request[Any, Any, Any], row: dict[str, Any], target: str, step: SecondStep) -> str:
    """The password was right; the session waits for a code (or an enrolment). Returns where to go.

    The throttle's count is not reset here but at ``complete_login``: otherwise someone who knows the
    password could alternate it with code guesses and never be slowed down."""
    request.clear_session()
    request.set_session({PENDING: {"account_id": row["id"], "username": row["username"], "role": row["role"],
                                   "next": target, "at": int(time.time()), "enrol": step.enrol},
                         "lang": row["language"] or "id"})
    rotate_session(request)
    return ENROL_PAGE if step.enrol else CODE_PAGE


def pending(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """The waiting log-in of this session, if any and not expired."""
    session = request.scope.get("session")
    state = session.get(PENDING) if isinstance(session, dict) else None
    if not isinstance(state, dict) or not isinstance(state.get("account_id"), int):
        return None
    if time.time() - float(state.get("at", 0)) > PENDING_SECONDS:
        return None
    return state


def is_pending(scope_session: Any) -> bool:
    return isinstance(scope_session, dict) and PENDING in scope_session and "account_id" not in scope_session


async def pending_account(state: dict[str, Any]) -> dict[str, Any] | None:
    """The waiting account, still active and still of the role it had when its password was checked."""
    row = await Account.select().where(Account.id == state["account_id"]).first()
    if row is None or not row["active"] or row["role"] != state.get("role"):
        return None
    return row

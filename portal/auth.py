"""Log-in, passwords and the role guard.

Every route declares who may use it in its ``opt``: ``{"public": True}`` or ``{"roles": [...]}``.
The app-wide guard refuses anything else (deny by default), so a route that forgets to say is closed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from marketplace.lks_team import NO_RIGHT, RIGHTS
from marketplace.vocabulary import Role
from storage import logins
from storage.accounts import CurrentUser

_hasher = PasswordHasher()
API_PREFIX = "/api/v1/"
"""Routes under this prefix authenticate by ``Authorization: Bearer`` token (``storage/api/tokens.py``)."""
ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def roles(*allowed: str | Role, right: str | None = None) -> dict[str, Any]:
    """``opt`` for a route open to these roles only; ``right``: an LKS staff member also needs this right
    in their LKS (``marketplace/lks_team.py``; other roles are not concerned)."""
    opt: dict[str, Any] = {"roles": [str(r) for r in allowed]}
    if right is not None:
        if right not in RIGHTS:
            raise ValueError(f"unknown LKS right {right!r}")
        opt["lks_right"] = right
    return opt


def may(user: CurrentUser | None, opt: dict[str, Any]) -> bool:
    """Whether the route's LKS right (if any) is held: the menu shows only what a person may open."""
    right = opt.get("lks_right")
    return user is None or right is None or user.role != Role.LKS_STAFF or right in user.lks_rights


PUBLIC: dict[str, Any] = {"public": True}
ANY_ROLE: dict[str, Any] = roles(*ALL_ROLES)


async def current_user(connection: ASGIConnection[Any, Any, Any, Any]) -> CurrentUser | None:
    """The logged-in account, loaded once per request from the session (no state in the process)."""
    state = connection.scope.setdefault("state", {})
    if "jitu_user" in state:
        return state["jitu_user"]  # type: ignore[no-any-return]
    user = None
    if str(connection.scope.get("path", "")).startswith(API_PREFIX):
        # the API knows tokens only (never the session cookie), so no page's session can be ridden there
        from storage.api.tokens import authenticate

        found = await authenticate(connection.headers.get("authorization"))
        state["jitu_token"] = found[0] if found else None
        state["jitu_user"] = found[1] if found else None
        return state["jitu_user"]  # type: ignore[no-any-return]
    session = connection.scope.get("session")
    account_id = session.get("account_id") if isinstance(session, dict) else None
    if isinstance(account_id, int) and isinstance(session, dict):
        sid = session.get("sid")
        # a session ended from the sessions page, by a password change, or opened for another role
        user = await logins.session_user(account_id, sid) if isinstance(sid, str) else None
        if user is None or session.get("role") != user.role or _second_factor_missing(connection, session, user.role):
            user = None
            session.clear()
    state["jitu_user"] = user
    return user


def _second_factor_missing(connection: ASGIConnection[Any, Any, Any, Any], session: dict[str, Any], role: str) -> bool:
    """A session of a role that requires a second factor, opened without one (before the requirement was
    switched on, say) is ended: the account logs in again and enrols."""
    settings = connection.scope["app"].state.get("settings")
    required = settings.mfa_required_roles if settings is not None else frozenset()
    return role in required and session.get("second_factor") in (None, "none")


async def role_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    opt = handler.opt
    user = await current_user(connection)
    if opt.get("public"):
        return
    allowed: Iterable[str] | None = opt.get("roles")
    if allowed is None:
        raise PermissionDeniedException("Rute ini belum menyatakan peran yang boleh membukanya")
    if user is None:
        raise NotAuthorizedException("Silakan masuk terlebih dahulu")
    if user.role not in allowed:
        raise PermissionDeniedException("Anda tidak berhak membuka halaman ini")
    if not may(user, opt):
        raise PermissionDeniedException(NO_RIGHT[opt["lks_right"]])


async def provide_user(request: Any) -> CurrentUser:
    """Dependency for guarded routes: the guard has already refused anonymous requests."""
    user = await current_user(request)
    if user is None:
        raise NotAuthorizedException("Silakan masuk terlebih dahulu")
    return user
